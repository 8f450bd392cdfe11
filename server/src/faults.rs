//! Failing on purpose: the fault names, and the board that decides which request gets one.
//!
//! Three sources, asked in this order for each request:
//! 1. the `X-Sendonce-Fault` header, honoured once per key and fault so a retry goes through;
//! 2. the armed queue (`POST /api/faults`), consumed front to back by matching requests;
//! 3. the random profile (`--chaos`/`--seed` or `POST /api/faults/profile`).

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;

use crate::rng::XorShift;

/// Default wait of a bare `delay`.
pub const DEFAULT_DELAY_MS: u64 = 1500;
/// Longest accepted `delay=MS`, so a typo cannot park a request for hours.
pub const MAX_DELAY_MS: u64 = 120_000;
/// Longest accepted `429=SECS`.
pub const MAX_RETRY_AFTER_S: u64 = 3600;

/// One way to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Commit the effect and its record, then close the connection without answering.
    Drop,
    /// Close the connection before doing anything.
    Reset,
    /// Hold the key in flight for this many ms before running the effect.
    Delay(u64),
    /// Answer this 5xx status (500 or 503) without running the effect.
    Status(u16),
    /// Answer 429 with `Retry-After` in seconds, without running the effect.
    TooManyRequests(u64),
    /// Deliver the request twice, as a retrying proxy would; the second is a replay.
    Duplicate,
    /// End a reply stream mid-way (reply streams only).
    Cut,
}

/// The faults the random profile picks from (`cut` is added for reply streams).
pub const RANDOM_FAULTS: [Fault; 7] = [
    Fault::Drop,
    Fault::Reset,
    Fault::Delay(300),
    Fault::Status(500),
    Fault::Status(503),
    Fault::TooManyRequests(1),
    Fault::Duplicate,
];

impl Fault {
    /// Reads a fault name: `drop`, `reset`, `delay`, `delay=MS`, `500`, `503`, `429`,
    /// `429=SECS`, `duplicate`, `cut`.
    ///
    /// ```
    /// use sendonce_server::faults::Fault;
    /// assert_eq!(Fault::parse("delay=300"), Ok(Fault::Delay(300)));
    /// assert_eq!(Fault::parse("429").map(|f| f.to_string()), Ok("429=1".to_string()));
    /// ```
    pub fn parse(text: &str) -> Result<Fault, String> {
        let text = text.trim();
        let (name, arg) = match text.split_once('=') {
            Some((n, a)) => (n, Some(a)),
            None => (text, None),
        };
        let number = |max: u64| -> Result<Option<u64>, String> {
            arg.map(|a| {
                a.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= max)
                    .ok_or_else(|| format!("fault {text:?}: wants a number up to {max}"))
            })
            .transpose()
        };
        let fault = match name.to_ascii_lowercase().as_str() {
            "drop" => Fault::Drop,
            "reset" => Fault::Reset,
            "duplicate" => Fault::Duplicate,
            "cut" => Fault::Cut,
            "delay" => Fault::Delay(number(MAX_DELAY_MS)?.unwrap_or(DEFAULT_DELAY_MS)),
            "500" => Fault::Status(500),
            "503" => Fault::Status(503),
            "429" => Fault::TooManyRequests(number(MAX_RETRY_AFTER_S)?.unwrap_or(1)),
            _ => {
                return Err(format!(
                    "unknown fault {text:?}; known: drop, reset, delay[=MS], 500, 503, \
                     429[=SECS], duplicate, cut"
                ))
            }
        };
        if arg.is_some() && !matches!(fault, Fault::Delay(_) | Fault::TooManyRequests(_)) {
            return Err(format!("fault {text:?} takes no value"));
        }
        Ok(fault)
    }

    /// Whether this fault means anything for `kind` of request.
    pub fn applies_to(self, kind: RequestKind) -> bool {
        match self {
            Fault::Cut => kind == RequestKind::ReplyStream,
            _ => kind == RequestKind::Idempotent,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Drop => f.write_str("drop"),
            Fault::Reset => f.write_str("reset"),
            Fault::Delay(ms) => write!(f, "delay={ms}"),
            Fault::Status(code) => write!(f, "{code}"),
            Fault::TooManyRequests(secs) => write!(f, "429={secs}"),
            Fault::Duplicate => f.write_str("duplicate"),
            Fault::Cut => f.write_str("cut"),
        }
    }
}

/// Which kind of request is asking for a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A POST that carries an `Idempotency-Key`.
    Idempotent,
    /// A bot reply stream (server-sent events).
    ReplyStream,
}

/// A fault waiting in the queue for a request whose path starts with `path`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmedFault {
    /// Path prefix to match; `None` matches any request the fault applies to.
    pub path: Option<String>,
    /// The fault to apply.
    pub fault: Fault,
}

/// The random profile as set: a rate and the seed it started from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Fraction of requests that get a fault.
    pub rate: f64,
    /// The seed the generator started from.
    pub seed: u64,
}

#[derive(Default)]
struct Board {
    queue: VecDeque<ArmedFault>,
    /// (once-id, fault) pairs already served from a header.
    header_seen: HashSet<(String, Fault)>,
    profile: Option<(Profile, XorShift)>,
}

/// Past this many remembered header faults the memory starts over; a test suite never gets
/// near it, and a forgotten entry only means one more fault on a very old key.
const MAX_HEADER_MEMORY: usize = 100_000;

/// The in-memory fault state shared by all requests.
#[derive(Default)]
pub struct FaultBoard {
    board: Mutex<Board>,
}

impl FaultBoard {
    /// A board with the random profile set (rate 0 means none).
    pub fn new(rate: f64, seed: u64) -> Self {
        let board = FaultBoard::default();
        board.set_profile(rate, seed);
        board
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        // The board holds no invariant a panic could break half way; keep going.
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `faults` for the next requests matching `path`, after those already queued.
    pub fn arm(&self, path: Option<String>, faults: &[Fault]) {
        let mut board = self.lock();
        for fault in faults {
            board.queue.push_back(ArmedFault {
                path: path.clone(),
                fault: *fault,
            });
        }
    }

    /// The queue as it stands, front first.
    pub fn armed(&self) -> Vec<ArmedFault> {
        self.lock().queue.iter().cloned().collect()
    }

    /// Empties the queue and forgets which header faults were served.
    pub fn clear(&self) {
        let mut board = self.lock();
        board.queue.clear();
        board.header_seen.clear();
    }

    /// Sets the random profile; a rate of 0 (or less) turns it off.
    pub fn set_profile(&self, rate: f64, seed: u64) {
        let mut board = self.lock();
        board.profile = (rate > 0.0).then(|| {
            (
                Profile {
                    rate: rate.min(1.0),
                    seed,
                },
                XorShift::new(seed),
            )
        });
    }

    /// The random profile, if one is on.
    pub fn profile(&self) -> Option<Profile> {
        self.lock().profile.as_ref().map(|(p, _)| *p)
    }

    /// Decides the fault for one request, consuming it from its source.
    ///
    /// `once_id` names what a header fault is remembered by (scope and key for idempotent
    /// requests, the path for a reply stream). When a header is present it alone decides, so
    /// a test that sends one fault header gets exactly that, once.
    pub fn pick(
        &self,
        kind: RequestKind,
        path: &str,
        once_id: &str,
        header: Option<Fault>,
    ) -> Option<Fault> {
        let mut board = self.lock();
        if let Some(fault) = header {
            if !fault.applies_to(kind) {
                return None;
            }
            if board.header_seen.len() >= MAX_HEADER_MEMORY {
                board.header_seen.clear();
            }
            return board
                .header_seen
                .insert((once_id.to_string(), fault))
                .then_some(fault);
        }
        let queued = board.queue.iter().position(|armed| {
            armed.fault.applies_to(kind)
                && armed.path.as_deref().is_none_or(|p| path.starts_with(p))
        });
        if let Some(index) = queued {
            return board.queue.remove(index).map(|armed| armed.fault);
        }
        let (profile, rng) = board.profile.as_mut()?;
        if rng.next_f64() >= profile.rate {
            return None;
        }
        Some(match kind {
            RequestKind::Idempotent => RANDOM_FAULTS[rng.below(RANDOM_FAULTS.len())],
            RequestKind::ReplyStream => Fault::Cut,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "drop",
            "reset",
            "delay=1500",
            "500",
            "503",
            "429=1",
            "429=7",
            "duplicate",
            "cut",
        ] {
            assert_eq!(Fault::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(
            Fault::parse("delay").unwrap(),
            Fault::Delay(DEFAULT_DELAY_MS)
        );
        assert!(Fault::parse("explode").is_err());
        assert!(Fault::parse("drop=1").is_err());
        assert!(Fault::parse("delay=forever").is_err());
    }

    #[test]
    fn header_fault_is_served_once_per_key() {
        let board = FaultBoard::default();
        let pick = |key: &str| {
            board.pick(
                RequestKind::Idempotent,
                "/api/orders",
                key,
                Some(Fault::Drop),
            )
        };
        assert_eq!(pick("k1"), Some(Fault::Drop));
        assert_eq!(pick("k1"), None);
        assert_eq!(pick("k2"), Some(Fault::Drop));
    }

    #[test]
    fn queue_is_consumed_in_order_by_matching_requests() {
        let board = FaultBoard::default();
        board.arm(
            Some("/api/orders".into()),
            &[Fault::Drop, Fault::Status(500)],
        );
        board.arm(None, &[Fault::Cut]);
        let idem = |path: &str| board.pick(RequestKind::Idempotent, path, "k", None);
        assert_eq!(idem("/api/tickets"), None);
        assert_eq!(idem("/api/orders"), Some(Fault::Drop));
        assert_eq!(
            board.pick(
                RequestKind::ReplyStream,
                "/api/conversations/c/messages/m/reply",
                "x",
                None
            ),
            Some(Fault::Cut)
        );
        assert_eq!(idem("/api/orders"), Some(Fault::Status(500)));
        assert_eq!(idem("/api/orders"), None);
    }

    #[test]
    fn random_profile_hits_about_its_rate_and_replays_from_its_seed() {
        let run = || {
            let board = FaultBoard::new(0.3, 7);
            (0..1000)
                .map(|_| board.pick(RequestKind::Idempotent, "/api/orders", "k", None))
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|f| f.is_some()).count();
        assert!((230..370).contains(&hits), "{hits}");
        assert!(first.iter().flatten().all(|f| RANDOM_FAULTS.contains(f)));
        assert_eq!(FaultBoard::new(0.0, 7).profile(), None);
    }
}
