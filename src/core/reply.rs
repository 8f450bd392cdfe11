//! Reading server replies the way the IETF draft "The Idempotency-Key HTTP Header Field"
//! (draft-ietf-httpapi-idempotency-key-header-07) describes, and tolerantly, the way real
//! servers answer: replays keep their original status (201, not 200), the replay header may be
//! missing or in any letter case, 409 bodies may be HTML, a key mismatch may be 422 or 417,
//! some servers cache and replay a 5xx.

use crate::core::json::{self, Value};

/// Longest reason text taken from a server body into a status text.
pub const MAX_REASON_CHARS: usize = 200;

/// Largest reply body kept, in bytes; the rest is not read (replies are statuses, not
/// downloads) and the reply carries [`TRUNCATED_HEADER`].
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Most reply headers kept.
pub const MAX_HEADERS: usize = 100;

/// Most bytes of reply header names and values kept, all headers together.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The header sendonce adds to a reply it did not keep whole: its value says what was cut.
pub const TRUNCATED_HEADER: &str = "Sendonce-Truncated";

/// The bounds on a reply's headers, applied while they are read (before a header is copied),
/// so that a response with endless or huge headers cannot exhaust memory.
///
/// ```
/// use sendonce::core::reply::{HeaderBudget, MAX_HEADERS};
/// let mut b = HeaderBudget::default();
/// assert!(b.admit(12, 16));
/// assert!(!b.admit(10, 1 << 20));
/// for _ in 0..MAX_HEADERS { b.admit(1, 1); }
/// assert!(!b.admit(1, 1) && b.dropped > 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderBudget {
    /// Headers kept so far.
    pub kept: usize,
    /// Bytes of names and values kept so far.
    pub bytes: usize,
    /// Headers left out.
    pub dropped: usize,
}

impl HeaderBudget {
    /// True if a header with a name and value of these lengths (in bytes, or UTF-16 units
    /// before copying) is kept; counts it either way.
    pub fn admit(&mut self, name_len: usize, value_len: usize) -> bool {
        let size = name_len.saturating_add(value_len);
        if self.kept >= MAX_HEADERS || self.bytes.saturating_add(size) > MAX_HEADER_BYTES {
            self.dropped += 1;
            return false;
        }
        self.kept += 1;
        self.bytes += size;
        true
    }

    /// True once so many headers were seen that reading more is pointless (an endless
    /// header list): the reader stops.
    pub fn exhausted(&self) -> bool {
        self.kept + self.dropped >= 4 * MAX_HEADERS
    }
}

/// The note a cut reply carries in [`TRUNCATED_HEADER`], or `None` when nothing was cut.
///
/// ```
/// use sendonce::core::reply::truncation_note;
/// assert_eq!(truncation_note(true, 0).as_deref(), Some("body cut at 1048576 bytes"));
/// assert_eq!(truncation_note(false, 3).as_deref(), Some("3 headers left out"));
/// assert_eq!(truncation_note(false, 0), None);
/// ```
pub fn truncation_note(body_cut: bool, headers_dropped: usize) -> Option<String> {
    let body = body_cut.then(|| format!("body cut at {MAX_BODY_BYTES} bytes"));
    let headers = match headers_dropped {
        0 => None,
        1 => Some("1 header left out".to_string()),
        n => Some(format!("{n} headers left out")),
    };
    match (body, headers) {
        (Some(b), Some(h)) => Some(format!("{b}; {h}")),
        (b, h) => b.or(h),
    }
}

/// An HTTP reply as the core sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers (names in any letter case).
    pub headers: Vec<(String, String)>,
    /// Body text (already size-bounded by the transport).
    pub body: String,
}

impl Reply {
    /// The first header named `name`, compared without regard to letter case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        let looks_json = self
            .header("content-type")
            .is_none_or(|ct| crate::core::text::contains(&ct.to_ascii_lowercase(), "json"));
        if looks_json {
            json::parse(&self.body).ok()
        } else {
            None
        }
    }
}

/// What a reply means for an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyClass {
    /// 2xx (but 202): the action happened. `replayed` when the server says it is a replay.
    Success {
        /// The server answered from its stored result.
        replayed: bool,
    },
    /// 202 Accepted: the server has it; poll `poll_url` (from `Location` or a `statusUrl`
    /// field) when given.
    Accepted {
        /// Where to ask about the job.
        poll_url: Option<String>,
    },
    /// 409 (or 425): a request with this key is still being processed. Wait and ask again.
    InProgress,
    /// 422 or 417: the key was already used with other data.
    Changed,
    /// 408, 429, 500, 502, 503, 504: try again with the same key.
    Retryable,
    /// A 5xx marked as a replay: the server stored a failure for this key. Retrying is useless.
    ReplayedFailure,
    /// A 5xx that retrying will not fix (501, 505, 507, 511, ...): the server failed, so the
    /// action is `failed` ("Retry?"), not `rejected` (which is for the caller's 4xx).
    ServerFailure,
    /// Any other status (4xx, and the odd 1xx or 3xx): not retried. `reason` is short text for the person, from the body
    /// (`detail`, `title`, `message` or `error`) when it has one.
    Rejected {
        /// Why, in the server's words, bounded.
        reason: Option<String>,
    },
}

/// True when the header value says "replayed": `true`, `1`, `yes` or `?1`, in any letter case.
pub fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "?1"
    )
}

/// Classifies a reply. `replay_header` is the header that marks replays (option
/// `replayHeader`, default `Idempotent-Replayed`); its absence never turns a success into an
/// error.
///
/// ```
/// use sendonce::core::reply::{classify_reply, Reply, ReplyClass};
/// let r = Reply { status: 201, headers: vec![("idempotent-replayed".into(), "TRUE".into())], body: "{}".into() };
/// assert_eq!(classify_reply(&r, "Idempotent-Replayed"), ReplyClass::Success { replayed: true });
/// let html_409 = Reply { status: 409, headers: vec![], body: "<html>Conflict</html>".into() };
/// assert_eq!(classify_reply(&html_409, "Idempotent-Replayed"), ReplyClass::InProgress);
/// ```
pub fn classify_reply(reply: &Reply, replay_header: &str) -> ReplyClass {
    let replayed = reply.header(replay_header).is_some_and(truthy);
    match reply.status {
        202 => ReplyClass::Accepted {
            // A blank `Location` falls through to the body's `statusUrl`.
            poll_url: reply
                .header("location")
                .filter(|u| !u.trim().is_empty())
                .map(|u| u.trim().to_string())
                .or_else(|| {
                    reply.json().and_then(|v| {
                        v.get("statusUrl")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                })
                .filter(|u| !u.trim().is_empty()),
        },
        200..=299 => ReplyClass::Success { replayed },
        409 | 425 => ReplyClass::InProgress,
        422 | 417 => ReplyClass::Changed,
        500..=599 if replayed => ReplyClass::ReplayedFailure,
        408 | 429 | 500 | 502 | 503 | 504 => ReplyClass::Retryable,
        500..=599 => ReplyClass::ServerFailure,
        _ => ReplyClass::Rejected {
            reason: reason(reply),
        },
    }
}

/// True when a reply leaves open whether the request was carried out: 408 and every 5xx. A
/// gateway answers 504 or 502 when the application took too long or broke off, often after
/// it did the work; a 500 can come after the effect was written; 503 comes from proxies that
/// lost the connection after forwarding the request (Envoy's "upstream reset"), Retry-After
/// or not; some proxies answer 408 for a request they already forwarded.
///
/// With an idempotency key this does not matter (the retry is answered from the stored
/// result). For a target that honours no key (`{ idempotent: false }`) such a reply ends the
/// action `uncertain`, never retried blindly. The replies that prove the request was not
/// carried out, and so are safe to send again without a key: 429 (a rate limiter refused it),
/// 409 and 425 (the server refused to process it now); other 4xx are final (`rejected`).
///
/// ```
/// use sendonce::core::reply::may_have_happened;
/// assert!(may_have_happened(504) && may_have_happened(500) && may_have_happened(408));
/// assert!(may_have_happened(503));
/// assert!(!may_have_happened(429) && !may_have_happened(201) && !may_have_happened(400));
/// ```
pub fn may_have_happened(status: u16) -> bool {
    status == 408 || (500..=599).contains(&status)
}

/// A short reason from a problem+json or JSON error body, or from a short plain-text body.
pub fn reason(reply: &Reply) -> Option<String> {
    let text = match reply.json() {
        Some(v) => ["detail", "title", "message", "error"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_str).map(str::to_string))?,
        None => {
            let ct = reply
                .header("content-type")
                .unwrap_or("")
                .to_ascii_lowercase();
            let body = reply.body.trim();
            // HTML error pages are not reasons a person should read, and neither is JSON that
            // did not parse (a body marked JSON, or one that starts like JSON): raw brackets
            // and quotes in a status line only confuse.
            if crate::core::text::contains(&ct, "html")
                || crate::core::text::contains(&ct, "json")
                || body.starts_with(['<', '{', '['])
                || body.is_empty()
            {
                return None;
            }
            body.to_string()
        }
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut out: String = text.chars().take(MAX_REASON_CHARS).collect();
    if text.chars().count() > MAX_REASON_CHARS {
        out.push('…');
    }
    Some(out)
}

/// Reads a job status body (`{"state": "accepted" | "in_progress" | "done" | "error"}`, with
/// `status` accepted as a synonym of `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Queued.
    Accepted,
    /// Running.
    InProgress,
    /// Finished well.
    Done,
    /// Finished badly.
    Error,
}

/// The job state in a poll reply, if the body says one. Only a 2xx reply describes the job:
/// a 404 or 500 from the status endpoint is about the endpoint (its body may well say
/// `"status": "error"`), so it gives `None` and the caller polls again.
pub fn job_state(reply: &Reply) -> Option<JobState> {
    if !(200..=299).contains(&reply.status) {
        return None;
    }
    let v = reply.json()?;
    let s = v.get("state").or_else(|| v.get("status"))?.as_str()?;
    Some(match s.to_ascii_lowercase().as_str() {
        "accepted" | "queued" | "pending" => JobState::Accepted,
        "in_progress" | "running" | "processing" => JobState::InProgress,
        "done" | "succeeded" | "completed" => JobState::Done,
        "error" | "failed" => JobState::Error,
        _ => return None,
    })
}
