//! One id through the chain: a structured line per decision the server takes about a key
//! (new, replay, conflict, in flight, enqueued, worker started, worker finished), kept in
//! memory for `GET /api/trace/{key}` and printed to stderr as JSON (unless `--quiet`).
//!
//! Lines carry the key and free text that went through `sendonce::core::mask` first, so that
//! an email, a phone number, a card number or a national id typed by a user never reaches a
//! log (the UX brief: "the logs preserve the request id without exposing personal data"). The
//! key and the scope (its request path) are masked too when a line is written out: a client's
//! key or a path may hold an email (`/api/users/ana@example.com/orders`). Free text is masked
//! first and cut after: cut first, an address split at the cut is no longer recognised.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;

use sendonce::core::mask::{mask, mask_cut, mask_key};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::clock::now_ms;

/// How many lines are kept; older ones fall off.
pub const CAPACITY: usize = 5000;

/// Longest piece of a payload's free text copied (masked) into a line.
pub const MAX_TEXT_CHARS: usize = 120;

/// The payload fields whose (masked) value describes an action in a line, in this order.
pub const TEXT_FIELDS: [&str; 5] = ["title", "text", "note", "message", "report"];

/// What happened to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// First request with the key: the effect ran and its answer is stored.
    New,
    /// The key finished before: the stored answer went out again.
    Replay,
    /// The key came back with another payload: refused.
    Conflict,
    /// The key is still being processed by an earlier request: 409.
    InFlight,
    /// The effect's job is in the queue (its transaction committed).
    Enqueued,
    /// The worker took the job.
    WorkerStarted,
    /// The worker finished the job (`done` or `error` in the detail).
    WorkerFinished,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::New => "new",
            Decision::Replay => "replay",
            Decision::Conflict => "conflict",
            Decision::InFlight => "in_flight",
            Decision::Enqueued => "enqueued",
            Decision::WorkerStarted => "worker_started",
            Decision::WorkerFinished => "worker_finished",
        })
    }
}

/// One line of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceLine {
    /// Increases by one per line and never restarts.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The idempotency key the line is about (masked when written out; kept as sent, so that
    /// [`TraceLog::chain`] finds it).
    #[serde(serialize_with = "masked_key")]
    pub key: String,
    /// The decision.
    pub event: Decision,
    /// Where: the key's scope (`POST /api/jobs`), or `worker` / `queue` (masked when written
    /// out: a path may hold personal data).
    #[serde(serialize_with = "masked")]
    pub scope: String,
    /// The HTTP status answered, for request decisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The job id, for queue and worker lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<i64>,
    /// What the server did, in words (masked).
    pub detail: String,
    /// A piece of the payload's free text (masked), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

fn masked_key<S: Serializer>(key: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mask_key(key))
}

fn masked<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mask(text))
}

/// What a caller says about a decision; [`TraceLog::record`] adds the rest.
#[derive(Debug, Clone, Default)]
pub struct Note {
    /// The HTTP status answered.
    pub status: Option<u16>,
    /// The job id.
    pub job: Option<i64>,
    /// Free text about the decision (masked before it is kept).
    pub detail: String,
    /// A piece of the payload's free text (masked before it is kept).
    pub text: Option<String>,
}

#[derive(Default)]
struct Ring {
    lines: VecDeque<TraceLine>,
    next_seq: u64,
}

/// The shared trace.
pub struct TraceLog {
    ring: Mutex<Ring>,
    quiet: bool,
}

impl TraceLog {
    /// An empty trace; unless `quiet`, each line is also printed to stderr as JSON.
    pub fn new(quiet: bool) -> Self {
        TraceLog {
            ring: Mutex::new(Ring {
                lines: VecDeque::new(),
                next_seq: 1,
            }),
            quiet,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes one line: masks the free text, numbers and time-stamps it.
    pub fn record(&self, key: &str, event: Decision, scope: &str, note: Note) -> TraceLine {
        let mut ring = self.lock();
        let line = TraceLine {
            seq: ring.next_seq,
            at: now_ms(),
            key: key.to_string(),
            event,
            scope: scope.to_string(),
            status: note.status,
            job: note.job,
            detail: mask(&note.detail),
            text: note.text.as_deref().map(|t| mask_cut(t, MAX_TEXT_CHARS)),
        };
        ring.next_seq += 1;
        if !self.quiet {
            if let Ok(json) = serde_json::to_string(&line) {
                eprintln!("trace {json}");
            }
        }
        if ring.lines.len() == CAPACITY {
            ring.lines.pop_front();
        }
        ring.lines.push_back(line.clone());
        line
    }

    /// Every kept line about `key`, oldest first.
    pub fn chain(&self, key: &str) -> Vec<TraceLine> {
        self.lock()
            .lines
            .iter()
            .filter(|l| l.key == key)
            .cloned()
            .collect()
    }

    /// Forgets all lines (sequence numbers keep counting).
    pub fn clear(&self) {
        self.lock().lines.clear();
    }
}

/// The free text a payload carries (the first of [`TEXT_FIELDS`] that is a string), whole.
/// Not masked or cut yet: [`TraceLog::record`] masks it, then cuts it to [`MAX_TEXT_CHARS`].
pub fn payload_text(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = TEXT_FIELDS
        .iter()
        .find_map(|f| value.get(f).and_then(Value::as_str))?;
    Some(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_masked_and_found_by_key() {
        let log = TraceLog::new(true);
        let text = payload_text(br#"{"title":"Report for ana@example.com, +55 11 98765-4321"}"#);
        log.record(
            "k1",
            Decision::New,
            "POST /api/jobs",
            Note {
                status: Some(202),
                detail: "ran for ana@example.com".into(),
                text,
                ..Note::default()
            },
        );
        log.record("k2", Decision::Replay, "POST /api/jobs", Note::default());
        let chain = log.chain("k1");
        assert_eq!(chain.len(), 1);
        assert_eq!(chain[0].detail, "ran for [email]");
        assert_eq!(
            chain[0].text.as_deref(),
            Some("Report for [email], [phone]")
        );
        let json = serde_json::to_string(&chain[0]).unwrap();
        assert!(json.contains(r#""event":"new""#), "{json}");
        assert!(!json.contains("ana@"), "{json}");
        log.clear();
        assert!(log.chain("k1").is_empty());
        assert_eq!(
            log.record("k1", Decision::Enqueued, "queue", Note::default())
                .seq,
            3
        );
    }

    #[test]
    fn payload_text_takes_the_first_text_field_and_bounds_it() {
        assert_eq!(payload_text(br#"{"qty":1}"#), None);
        assert_eq!(payload_text(b"not json"), None);
        assert_eq!(
            payload_text(br#"{"note":"b","title":"a"}"#).as_deref(),
            Some("a")
        );
        let long = format!(r#"{{"text":"{}"}}"#, "x".repeat(500));
        let line = TraceLog::new(true).record(
            "k",
            Decision::New,
            "POST /api/x",
            Note {
                text: payload_text(long.as_bytes()),
                ..Note::default()
            },
        );
        assert_eq!(line.text.unwrap().chars().count(), MAX_TEXT_CHARS + 1);
    }

    /// Issue 19 item 15: the text was cut at 120 characters before masking, so an address
    /// across the cut showed as `ana.silva@example.c...`; the key and the path were never
    /// masked.
    #[test]
    fn text_is_masked_before_the_cut_and_key_and_path_are_masked() {
        let log = TraceLog::new(true);
        for pad in 100..MAX_TEXT_CHARS + 5 {
            let body = format!(
                r#"{{"title":"{} ana.silva@example.com +55 11 98765-4321 4111 1111 1111 1111"}}"#,
                "x".repeat(pad)
            );
            let line = log.record(
                "order:ana.silva@example.com",
                Decision::New,
                "POST /api/users/ana.silva@example.com/cards/4111111111111111",
                Note {
                    text: payload_text(body.as_bytes()),
                    ..Note::default()
                },
            );
            let json = serde_json::to_string(&line).unwrap();
            for personal in ["ana.", "silva", "98765", "4321", "1111"] {
                assert!(!json.contains(personal), "{personal} in {json}");
            }
            assert!(json.contains(r#""key":"order:[email]""#), "{json}");
            assert!(
                json.contains(r#""scope":"POST /api/users/[email]/cards/[card]""#),
                "{json}"
            );
        }
        // The key as sent still finds its chain.
        assert!(!log.chain("order:ana.silva@example.com").is_empty());
        // sendonce's own keys (UUIDs) are written as they are.
        let uuid = "12345678-1234-4123-8123-123456789012";
        let line = log.record(uuid, Decision::New, "POST /api/x", Note::default());
        let json = serde_json::to_string(&line).unwrap();
        assert!(json.contains(uuid), "{json}");
    }
}
