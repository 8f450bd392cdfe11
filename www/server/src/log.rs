//! The request log: the last [`CAPACITY`] API requests, kept in memory for `GET /api/log`.
//!
//! Demos poll it to show each attempt, its fault and whether it was a replay, next to what the
//! browser saw.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::clock::now_ms;

/// How many entries are kept; older ones fall off.
pub const CAPACITY: usize = 1000;

/// One logged request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    /// Increases by one per entry and never restarts, even after a reset, so `since` polling
    /// cannot miss entries.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The `Idempotency-Key`, if one was sent.
    pub key: Option<String>,
    /// The status the server produced (for `drop`, the one the client never received).
    pub status: u16,
    /// The fault applied, by name.
    pub fault: Option<String>,
    /// Whether the answer was a replay of a stored response.
    pub replayed: bool,
}

/// What a handler tells the log about its answer, attached as a response extension.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The fault applied, by name.
    pub fault: Option<String>,
    /// Whether the answer was a replay.
    pub replayed: bool,
}

#[derive(Default)]
struct Ring {
    entries: VecDeque<LogEntry>,
    next_seq: u64,
}

/// The shared log.
pub struct RequestLog {
    ring: Mutex<Ring>,
    quiet: bool,
}

impl RequestLog {
    /// An empty log; unless `quiet`, each entry is also printed to stderr.
    pub fn new(quiet: bool) -> Self {
        RequestLog {
            ring: Mutex::new(Ring {
                entries: VecDeque::with_capacity(CAPACITY),
                next_seq: 1,
            }),
            quiet,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an entry, giving it the next sequence number and the current time.
    pub fn push(&self, mut entry: LogEntry) {
        let mut ring = self.lock();
        entry.seq = ring.next_seq;
        entry.at = now_ms();
        ring.next_seq += 1;
        if !self.quiet {
            eprintln!(
                "#{} {} {} -> {}{}{}{}",
                entry.seq,
                entry.method,
                entry.path,
                entry.status,
                entry
                    .key
                    .as_deref()
                    .map(|k| format!(" key={k}"))
                    .unwrap_or_default(),
                entry
                    .fault
                    .as_deref()
                    .map(|f| format!(" fault={f}"))
                    .unwrap_or_default(),
                if entry.replayed { " replayed" } else { "" },
            );
        }
        if ring.entries.len() == CAPACITY {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    /// Entries with a sequence number above `since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<LogEntry> {
        self.lock()
            .entries
            .iter()
            .filter(|e| e.seq > since)
            .cloned()
            .collect()
    }

    /// Forgets all entries (sequence numbers keep counting).
    pub fn clear(&self) {
        self.lock().entries.clear();
    }
}

/// Middleware: logs every `/api/*` request except `/api/log` itself (polling it would drown
/// everything else).
pub async fn log_requests(
    State(log): State<Arc<RequestLog>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if !path.starts_with("/api/") || path == "/api/log" {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let key = req.headers().get("idempotency-key").map(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .chars()
            .take(300)
            .collect()
    });
    let response = next.run(req).await;
    let outcome = response
        .extensions()
        .get::<Outcome>()
        .cloned()
        .unwrap_or_default();
    log.push(LogEntry {
        seq: 0,
        at: 0,
        method,
        path,
        key,
        status: response.status().as_u16(),
        fault: outcome.fault,
        replayed: outcome.replayed,
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> LogEntry {
        LogEntry {
            seq: 0,
            at: 0,
            method: "POST".into(),
            path: path.into(),
            key: None,
            status: 201,
            fault: None,
            replayed: false,
        }
    }

    #[test]
    fn keeps_the_last_entries_and_counts_on_after_clear() {
        let log = RequestLog::new(true);
        for _ in 0..CAPACITY + 5 {
            log.push(entry("/api/orders"));
        }
        let all = log.since(0);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].seq, 6);
        assert_eq!(log.since(CAPACITY as u64 + 3).len(), 2);
        log.clear();
        log.push(entry("/api/orders"));
        assert_eq!(log.since(0)[0].seq, CAPACITY as u64 + 6);
    }
}
