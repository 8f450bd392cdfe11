//! What every handler shares.

use std::path::PathBuf;
use std::sync::Arc;

use crate::db::Db;
use crate::faults::FaultBoard;
use crate::log::RequestLog;
use crate::queue::JobQueue;
use crate::quirks::Quirks;
use crate::trace::TraceLog;

/// The shared state, handed to handlers as `State<SharedState>`.
pub struct AppState {
    /// The SQLite connection.
    pub db: Db,
    /// Armed faults, header memory and the random profile.
    pub faults: Arc<FaultBoard>,
    /// The in-memory request log.
    pub log: Arc<RequestLog>,
    /// How long a finished idempotency record answers repeats.
    pub retention_ms: i64,
    /// Directory served at `/`.
    pub www: PathBuf,
    /// Directory served at `/pkg/`.
    pub pkg: PathBuf,
    /// Directory served at `/test/`, if any (`--test-pages`).
    pub test_pages: Option<PathBuf>,
    /// How this server imitates real ones (`--quirks`); empty is the faithful draft.
    pub quirks: Quirks,
    /// One line per decision about a key, for `GET /api/trace/{key}`.
    pub trace: Arc<TraceLog>,
    /// The job queue the worker reads.
    pub queue: JobQueue,
    /// The one other origin whose pages may call the API (`--cors-origin`).
    pub cors_origin: Option<String>,
    /// Whether the demo reads that list every key are served (`--demo`).
    pub demo: bool,
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;
