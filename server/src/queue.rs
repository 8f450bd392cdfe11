//! The job queue and its worker, carrying the idempotency key from the request to the work.
//!
//! `POST /api/jobs` puts a [`JobTicket`] (job id, key, masked-later free text) into the queue
//! once the effect's transaction has committed, before the answer leaves: a job whose
//! transaction rolled back never enters it, and a committed one runs once. Each step writes a
//! trace line with the key (`enqueued` when the ticket goes in, `worker_started`,
//! `worker_finished`), so one key shows one chain from the click to the worker, in order: the
//! `enqueued` line comes right after `new` and before any retry's `replay`.
//!
//! The job's state (`GET /api/jobs/{id}`) is still computed from its age, so it survives a
//! restart; the worker keeps to the same timetable. Tickets waiting in memory are lost on a
//! restart (their jobs still report `done` on time, without worker lines).

use std::time::Duration;

use tokio::sync::mpsc;

use crate::api::jobs::{ACCEPTED_MS, FINISHED_MS};
use crate::clock::now_ms;
use crate::state::SharedState;
use crate::trace::{Decision, Note, TraceLog};

/// What the worker needs to run a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTicket {
    /// The job's row id.
    pub id: i64,
    /// The idempotency key of the request that created it.
    pub key: String,
    /// Whether the job is meant to fail.
    pub fail: bool,
    /// Creation time of the job, milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The payload's free text (masked when written to a trace line).
    pub text: Option<String>,
}

/// The sending end of the queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct JobQueue {
    tx: mpsc::UnboundedSender<JobTicket>,
}

impl JobQueue {
    /// A queue and the receiver [`run_worker`] reads.
    pub fn new() -> (JobQueue, mpsc::UnboundedReceiver<JobTicket>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (JobQueue { tx }, rx)
    }

    /// Puts a ticket into the queue and writes its `enqueued` line. Called once the job's
    /// transaction has committed.
    pub fn push(&self, trace: &TraceLog, ticket: JobTicket) {
        trace.record(
            &ticket.key,
            Decision::Enqueued,
            "queue",
            note(&ticket, format!("job {} is in the queue", ticket.id)),
        );
        // The receiver lives as long as the server; after shutdown nothing needs to run.
        let _ = self.tx.send(ticket);
    }
}

/// Takes tickets off the queue and runs each job on its own task, so that jobs keep the
/// timetable `GET /api/jobs/{id}` reports whatever else is queued.
pub async fn run_worker(state: SharedState, mut rx: mpsc::UnboundedReceiver<JobTicket>) {
    while let Some(ticket) = rx.recv().await {
        tokio::spawn(run_job(state.clone(), ticket));
    }
}

async fn sleep_until(at_ms: i64) {
    let wait = at_ms.saturating_sub(now_ms()).max(0);
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
}

/// A trace line's note for a step of the ticket's job.
fn note(ticket: &JobTicket, detail: String) -> Note {
    Note {
        job: Some(ticket.id),
        detail,
        text: ticket.text.clone(),
        ..Note::default()
    }
}

async fn run_job(state: SharedState, ticket: JobTicket) {
    sleep_until(ticket.created_at + ACCEPTED_MS).await;
    state.trace.record(
        &ticket.key,
        Decision::WorkerStarted,
        "worker",
        note(&ticket, format!("the worker took job {}", ticket.id)),
    );
    sleep_until(ticket.created_at + FINISHED_MS).await;
    let outcome = if ticket.fail { "error" } else { "done" };
    state.trace.record(
        &ticket.key,
        Decision::WorkerFinished,
        "worker",
        note(&ticket, format!("job {} finished: {outcome}", ticket.id)),
    );
}
