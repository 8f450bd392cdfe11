//! The request log: the last [`CAPACITY`] API requests, kept in memory for `GET /api/log`,
//! and counts of every request since the last reset (never capped) for `GET /api/log/counts`.
//!
//! Demos poll it to show each attempt, its fault and whether it was a replay, next to what the
//! browser saw. A run longer than the ring reads its totals from the counts, and a pager of
//! the log learns from `missed` when entries fell off before it read them.

use std::collections::{BTreeMap, HashSet, VecDeque};
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
    /// A delivery made inside the server, not a request a client sent (the first of the two
    /// deliveries of the `duplicate` fault).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

/// Totals since the last reset, over every logged request (not only those still in the ring).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Requests clients sent (internal deliveries not included).
    pub requests: u64,
    /// Of those, requests with an `Idempotency-Key`.
    pub keyed: u64,
    /// Distinct method + path + key among the keyed requests.
    pub keys: u64,
    /// Keyed requests beyond the first of their key: `keyed - keys`.
    pub retries: u64,
    /// Keyed requests answered with a replay.
    pub replayed: u64,
    /// Client requests that got a fault, in total and by fault name.
    pub faults: u64,
    /// Client requests that got a fault, by fault name (`drop`, `500`, `delay=300`, ...).
    pub faults_by_name: BTreeMap<String, u64>,
    /// Keyed requests by the status the server produced.
    pub statuses: BTreeMap<u16, u64>,
    /// Deliveries made inside the server (the `duplicate` fault's first delivery).
    pub internal_deliveries: u64,
    /// Sequence number of the last request counted.
    pub last_seq: u64,
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
    /// Highest sequence number that fell off the ring.
    evicted_through: u64,
    /// The last sequence number before the last reset: entries up to it are gone on purpose.
    cleared_through: u64,
    counts: Counts,
    /// Method + path + key of every keyed request since the last reset.
    keys_seen: HashSet<String>,
    /// How many resets there have been.
    resets: u64,
}

/// Entries after `since`, and how many of those fell off the ring before they were read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    /// The entries still kept, oldest first.
    pub requests: Vec<LogEntry>,
    /// Entries after `since` (and after the last reset) that are no longer kept.
    pub missed: u64,
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
                ..Ring::default()
            }),
            quiet,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an entry, giving it the next sequence number and the current time.
    pub fn push(&self, entry: LogEntry) {
        let epoch = self.epoch();
        self.push_begun(epoch, entry);
    }

    /// Which reset the log is at: what a request reads when it begins, for [`Self::push_begun`].
    pub fn epoch(&self) -> u64 {
        self.lock().resets
    }

    /// Adds the entry of a request that began at `epoch`. One that began before the last
    /// reset is printed but not kept or counted: its test (or demo run) is over, and the next
    /// one must not see it (a late request of a closed page, answered after the reset).
    pub fn push_begun(&self, epoch: u64, mut entry: LogEntry) {
        let mut ring = self.lock();
        entry.seq = ring.next_seq;
        entry.at = now_ms();
        ring.next_seq += 1;
        if !self.quiet {
            // The path and a client's key may hold personal data: masked, as trace lines are.
            eprintln!(
                "#{} {} {} -> {}{}{}{}",
                entry.seq,
                entry.method,
                sendonce::core::mask::mask(&entry.path),
                entry.status,
                entry
                    .key
                    .as_deref()
                    .map(|k| format!(" key={}", sendonce::core::mask::mask_key(k)))
                    .unwrap_or_default(),
                entry
                    .fault
                    .as_deref()
                    .map(|f| format!(" fault={f}"))
                    .unwrap_or_default(),
                if entry.replayed { " replayed" } else { "" },
            );
        }
        if epoch != ring.resets {
            return;
        }
        count(&mut ring, &entry);
        if ring.entries.len() == CAPACITY {
            if let Some(old) = ring.entries.pop_front() {
                ring.evicted_through = old.seq;
            }
        }
        ring.entries.push_back(entry);
    }

    /// Entries with a sequence number above `since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<LogEntry> {
        self.page(since).requests
    }

    /// Entries with a sequence number above `since`, and how many of them were missed.
    pub fn page(&self, since: u64) -> Page {
        let ring = self.lock();
        Page {
            requests: ring
                .entries
                .iter()
                .filter(|e| e.seq > since)
                .cloned()
                .collect(),
            missed: ring
                .evicted_through
                .saturating_sub(since.max(ring.cleared_through)),
        }
    }

    /// The totals since the last reset.
    pub fn counts(&self) -> Counts {
        self.lock().counts.clone()
    }

    /// Forgets all entries and totals (sequence numbers keep counting).
    pub fn clear(&self) {
        let mut ring = self.lock();
        ring.entries.clear();
        ring.cleared_through = ring.next_seq.saturating_sub(1);
        ring.counts = Counts {
            last_seq: ring.cleared_through,
            ..Counts::default()
        };
        ring.keys_seen = HashSet::new();
        ring.resets += 1;
    }
}

fn count(ring: &mut Ring, entry: &LogEntry) {
    let counts = &mut ring.counts;
    counts.last_seq = entry.seq;
    if entry.internal {
        counts.internal_deliveries += 1;
        return;
    }
    counts.requests += 1;
    if let Some(fault) = &entry.fault {
        counts.faults += 1;
        *counts.faults_by_name.entry(fault.clone()).or_default() += 1;
    }
    let Some(key) = &entry.key else {
        return;
    };
    counts.keyed += 1;
    *counts.statuses.entry(entry.status).or_default() += 1;
    if entry.replayed {
        counts.replayed += 1;
    }
    if ring
        .keys_seen
        .insert(format!("{} {} {key}", entry.method, entry.path))
    {
        counts.keys += 1;
    }
    counts.retries = counts.keyed - counts.keys;
}

/// Middleware: logs every `/api/*` request except `/api/log` and `/api/log/counts` (polling
/// them would drown everything else).
pub async fn log_requests(
    State(log): State<Arc<RequestLog>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if !path.starts_with("/api/") || path == "/api/log" || path.starts_with("/api/log/") {
        return next.run(req).await;
    }
    // A reset's own entry is the first of the log it starts; any other request that began
    // before a reset is left out of the log after it.
    let begun = (path != "/api/reset").then(|| log.epoch());
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
    let entry = LogEntry {
        seq: 0,
        at: 0,
        method,
        path,
        key,
        status: response.status().as_u16(),
        fault: outcome.fault,
        replayed: outcome.replayed,
        internal: false,
    };
    match begun {
        Some(epoch) => log.push_begun(epoch, entry),
        None => log.push(entry),
    }
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
            internal: false,
        }
    }

    #[test]
    fn counts_cover_every_request_and_pages_say_what_they_missed() {
        let log = RequestLog::new(true);
        let keyed = |key: &str, fault: Option<&str>, internal: bool| LogEntry {
            key: Some(key.into()),
            fault: fault.map(str::to_string),
            internal,
            ..entry("/api/orders")
        };
        for i in 0..1500 {
            log.push(keyed(&format!("k{}", i % 1200), None, false));
        }
        log.push(keyed("k1", Some("duplicate"), true));
        log.push(keyed("k1", Some("duplicate"), false));
        log.push(entry("/api/effects"));
        let counts = log.counts();
        assert_eq!(counts.requests, 1502, "the internal delivery is no request");
        assert_eq!(counts.keyed, 1501);
        assert_eq!(counts.keys, 1200);
        assert_eq!(counts.retries, 301);
        assert_eq!(counts.faults, 1);
        assert_eq!(counts.faults_by_name["duplicate"], 1);
        assert_eq!(counts.internal_deliveries, 1);
        let page = log.page(0);
        assert_eq!(page.requests.len(), CAPACITY);
        assert_eq!(page.missed, 1503 - CAPACITY as u64);
        assert_eq!(log.page(1000).missed, 0);
        log.clear();
        assert_eq!(log.counts().requests, 0);
        assert_eq!(log.page(0).missed, 0, "a reset is not a miss");
        log.push(keyed("k1", None, false));
        assert_eq!(
            log.counts().keys,
            1,
            "keys are counted afresh after a reset"
        );
    }

    #[test]
    fn a_request_that_began_before_a_reset_is_not_in_the_log_after_it() {
        let log = RequestLog::new(true);
        let late = log.epoch();
        log.push(entry("/api/orders"));
        log.clear();
        let now = log.epoch();
        log.push_begun(late, entry("/api/late"));
        log.push_begun(now, entry("/api/fresh"));
        let paths: Vec<_> = log.since(0).into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/api/fresh"]);
        assert_eq!(log.counts().requests, 1);
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
