//! The SQLite file: how it is opened, its schema, and the one shared connection.
//!
//! One connection behind a mutex is enough for a demo server and makes every transaction
//! strictly serial, which is the simplest way to make "insert in flight" atomic. Work runs on
//! tokio's blocking pool so a slow disk never stalls the async workers.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// Bumped when the tables below change shape; stored in SQLite's `user_version`.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS idempotency (
    scope        TEXT    NOT NULL,           -- method + path, e.g. 'POST /api/orders'
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('in_flight', 'done')),
    status       INTEGER,
    content_type TEXT,
    body         BLOB,
    location     TEXT,                       -- kept so a replayed 202 still points at its job
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at);

CREATE TABLE IF NOT EXISTS orders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    row_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT    NOT NULL,
    message_id      TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    text            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE INDEX IF NOT EXISTS messages_by_id ON messages (conversation_id, message_id);
CREATE TABLE IF NOT EXISTS jobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    fail       INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
-- How many times a side effect ran per idempotency record (one retention window of one key).
-- Anything above 1 is the bug this server exists to show never happens.
CREATE TABLE IF NOT EXISTS effects (
    scope TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    since INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (scope, key, since)
);
-- One row per side effect whose payload names its business reference (see
-- `api::body::business_ref`): how many effects one user action caused, whatever keys they came
-- under. Two rows for one (scope, ref) are a double order even when each key ran once.
CREATE TABLE IF NOT EXISTS business_effects (
    scope TEXT    NOT NULL,
    ref   TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS business_effects_by_ref ON business_effects (scope, ref);
";

/// Opens (or creates) the database file, applies pragmas and the schema.
///
/// Records left `in_flight` by a previous process are removed: their effect and their `done`
/// state commit in one transaction, so an in-flight record after a restart means the effect
/// never happened and a retry must be allowed to run it.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL lets readers and the writer overlap; NORMAL is durable across process crashes in WAL
    // mode (only a power loss can drop the last commits), which is what a restart test needs.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(SCHEMA)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    conn.execute("DELETE FROM idempotency WHERE state = 'in_flight'", [])?;
    Ok(conn)
}

/// The shared connection. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

/// Why a database call did not produce a result.
#[derive(Debug)]
pub enum DbError {
    /// SQLite refused or failed.
    Sqlite(rusqlite::Error),
    /// The blocking task died before answering.
    Unavailable(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Sqlite(e) => write!(f, "database error: {e}"),
            DbError::Unavailable(why) => write!(f, "database unavailable: {why}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

impl Db {
    /// Wraps an open connection.
    pub fn new(conn: Connection) -> Self {
        Db {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Runs `work` with the connection on the blocking pool.
    ///
    /// The work runs to the end even if the caller's future is dropped (for example when the
    /// client hangs up), so a transaction is never left half done by a disconnect.
    pub async fn call<R, F>(&self, work: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, DbError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier query rolled its transaction back when it unwound, so the
            // connection itself is still sound: keep serving rather than failing forever.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| DbError::Unavailable(e.to_string()))?
    }
}
