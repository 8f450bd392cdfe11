//! The decision log (`onEvent`) and the counters built from it (`stats()`), SPEC section 7.
//!
//! An event says what sendonce decided and why, never what the user sent: it has the key, the
//! action's name, numbers and a status code, and at most a free-text `detail`. Every text in
//! it goes through [`mask`] on its way out: the detail, the action's name, and the key
//! (sendonce's own UUID keys pass as they are, see [`mask_key`]; a caller's own key may hold
//! an email).

use crate::core::json::Value;
use crate::core::mask::{mask, mask_key};
use crate::core::status::StatusCode;

/// What happened. The stable names ([`EventKind::as_str`]) are the `type` of the JS event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `action.new`: an action got a new key.
    ActionNew,
    /// `action.repeat`: a repeat inside the window was answered from the stored result.
    ActionRepeat,
    /// `action.resume`: an unfinished action was continued with its key (after a reload, or
    /// the same data sent again).
    ActionResume,
    /// `click.suppressed`: a click while the action was in flight joined it.
    ClickSuppressed,
    /// `send.attempt`: a request went out (every attempt, the first included).
    SendAttempt,
    /// `send.retry`: a retry was scheduled with the same key (`ms` is the delay).
    SendRetry,
    /// `reply.replayed`: the server answered with a stored reply (replay header).
    ReplyReplayed,
    /// `reply.conflict`: 409 in progress, or 422/417 the key reused with other data.
    ReplyConflict,
    /// `key.rotated`: the data changed after a key was sent, or its window passed: new key.
    KeyRotated,
    /// `storage.fallback`: the configured storage failed; records are kept in memory.
    StorageFallback,
    /// `record.corrupt`: a stored record did not decode; it was skipped and removed.
    RecordCorrupt,
    /// `status`: an action's status changed (`code`).
    Status,
    /// `offline`: the browser went offline.
    Offline,
    /// `online`: the browser is back online.
    Online,
    /// `elsewhere`: another tab holds this key's lock; this tab waits for its result.
    Elsewhere,
    /// `action.incomplete`: a restored action lacks values that are never stored (a form's
    /// private fields, headers without a `headers` hook): it waits, unsent and kept.
    ActionIncomplete,
    /// `auth.refresh`: a 401; the `headers` hook is called again and the attempt repeated
    /// with the same key.
    AuthRefresh,
    /// `key.adopted`: another tab was already sending the same data (same action name and
    /// fingerprint): this action took that tab's key instead of sending under its own.
    KeyAdopted,
    /// `cors.suspect`: requests to another origin fail at once, the way a browser refuses a
    /// cross-origin request; `detail` says which headers the server must allow and expose.
    CorsSuspect,
    /// `key.header_ignored`: a key header (`headerName`, any letter case) came from somewhere
    /// else than sendonce (the `headers` hook, `send()`'s init, a form's options): it was not
    /// sent; the action's own key was.
    KeyHeaderIgnored,
    /// `send.aborted`: the caller's `AbortSignal` cancelled the send (`send(url, { signal })`):
    /// the attempts left were not made; the action keeps its key (`attempt`: attempts so far).
    SendAborted,
}

/// Every event kind, in the SPEC's order.
pub const ALL_KINDS: [EventKind; 21] = [
    EventKind::ActionNew,
    EventKind::ActionRepeat,
    EventKind::ActionResume,
    EventKind::ClickSuppressed,
    EventKind::SendAttempt,
    EventKind::SendRetry,
    EventKind::ReplyReplayed,
    EventKind::ReplyConflict,
    EventKind::KeyRotated,
    EventKind::StorageFallback,
    EventKind::RecordCorrupt,
    EventKind::Status,
    EventKind::Offline,
    EventKind::Online,
    EventKind::Elsewhere,
    EventKind::ActionIncomplete,
    EventKind::AuthRefresh,
    EventKind::KeyAdopted,
    EventKind::CorsSuspect,
    EventKind::KeyHeaderIgnored,
    EventKind::SendAborted,
];

impl EventKind {
    /// The stable name: `"action.new"`, `"send.retry"`, `"status"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ActionNew => "action.new",
            EventKind::ActionRepeat => "action.repeat",
            EventKind::ActionResume => "action.resume",
            EventKind::ClickSuppressed => "click.suppressed",
            EventKind::SendAttempt => "send.attempt",
            EventKind::SendRetry => "send.retry",
            EventKind::ReplyReplayed => "reply.replayed",
            EventKind::ReplyConflict => "reply.conflict",
            EventKind::KeyRotated => "key.rotated",
            EventKind::StorageFallback => "storage.fallback",
            EventKind::RecordCorrupt => "record.corrupt",
            EventKind::Status => "status",
            EventKind::Offline => "offline",
            EventKind::Online => "online",
            EventKind::Elsewhere => "elsewhere",
            EventKind::ActionIncomplete => "action.incomplete",
            EventKind::AuthRefresh => "auth.refresh",
            EventKind::KeyAdopted => "key.adopted",
            EventKind::CorsSuspect => "cors.suspect",
            EventKind::KeyHeaderIgnored => "key.header_ignored",
            EventKind::SendAborted => "send.aborted",
        }
    }

    /// Reads a name written by [`EventKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        ALL_KINDS.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry of the decision log. Build it with [`Event::new`] and the `with_*` methods.
/// It carries no payload value; `detail` is masked by [`Event::with_detail`], and
/// [`Event::to_value`] masks every text (detail, action, key) again, so even a field set
/// directly never leaves unmasked.
///
/// ```
/// use sendonce::core::events::{Event, EventKind};
/// let e = Event::new(EventKind::SendRetry).with_attempt(2).with_ms(600)
///     .with_detail("timeout calling ana@example.com");
/// assert_eq!(e.detail.as_deref(), Some("timeout calling [email]"));
/// assert_eq!(e.to_value().to_json(),
///     r#"{"type":"send.retry","attempt":2,"ms":600,"detail":"timeout calling [email]"}"#);
/// let k = Event::new(EventKind::ActionNew).with_key("order:ana@example.com").with_action("create");
/// assert_eq!(k.to_value().to_json(), r#"{"type":"action.new","key":"order:[email]","action":"create"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The idempotency key concerned, if any (as sent; [`Event::to_value`] masks it).
    pub key: Option<String>,
    /// The action's name, if any (masked by [`Event::to_value`]).
    pub action: Option<String>,
    /// The attempt number (1 for the first request).
    pub attempt: Option<u32>,
    /// The HTTP status of a reply.
    pub status: Option<u16>,
    /// The action's status code (for `status` events, and the outcome of others).
    pub code: Option<StatusCode>,
    /// A duration: a retry delay, a request's time, a window.
    pub ms: Option<u64>,
    /// Free text for people (an error message), masked.
    pub detail: Option<String>,
}

impl Event {
    /// An event of `kind` with nothing else set.
    pub fn new(kind: EventKind) -> Self {
        Event {
            kind,
            key: None,
            action: None,
            attempt: None,
            status: None,
            code: None,
            ms: None,
            detail: None,
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: &str) -> Self {
        self.key = Some(key.to_string());
        self
    }

    /// Sets the action's name.
    pub fn with_action(mut self, action: &str) -> Self {
        self.action = Some(action.to_string());
        self
    }

    /// Sets the attempt number.
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = Some(attempt);
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the status code.
    pub fn with_code(mut self, code: StatusCode) -> Self {
        self.code = Some(code);
        self
    }

    /// Sets the duration in ms.
    pub fn with_ms(mut self, ms: u64) -> Self {
        self.ms = Some(ms);
        self
    }

    /// Sets the free text, masked with [`mask`].
    pub fn with_detail(mut self, detail: &str) -> Self {
        self.detail = Some(mask(detail));
        self
    }

    /// The event as the JS `onEvent` callback gets it: `{ type, key, action, attempt, status,
    /// code, ms, detail }`, members that are not set left out, every text masked (`key` with
    /// [`mask_key`], `action` and `detail` with [`mask`]).
    pub fn to_value(&self) -> Value {
        let mut m: Vec<(&str, Value)> = vec![("type", self.kind.as_str().into())];
        if let Some(k) = &self.key {
            m.push(("key", mask_key(k).into()));
        }
        if let Some(a) = &self.action {
            m.push(("action", mask(a).into()));
        }
        if let Some(a) = self.attempt {
            m.push(("attempt", u64::from(a).into()));
        }
        if let Some(s) = self.status {
            m.push(("status", u64::from(s).into()));
        }
        if let Some(c) = self.code {
            m.push(("code", c.as_str().into()));
        }
        if let Some(ms) = self.ms {
            m.push(("ms", ms.into()));
        }
        if let Some(d) = &self.detail {
            m.push(("detail", mask(d).into()));
        }
        Value::object(m)
    }
}

/// How many keys [`Stats`] remembers as currently failed, to count each failed action once.
/// Beyond it the oldest is forgotten (its failure stays counted).
const MAX_TRACKED_FAILURES: usize = 256;

/// The counters of `so.stats()`, built from the events with [`Stats::record`].
///
/// Which event bumps which counter:
///
/// | counter | events |
/// |---|---|
/// | `actions` | `action.new` (a resumed action is the same action, not a new one) |
/// | `sends` | `send.attempt`: every request that went out, retries included |
/// | `retries` | `send.retry` |
/// | `clicks_suppressed` | `click.suppressed` |
/// | `local_repeats` | `action.repeat` |
/// | `server_replays` | `reply.replayed` |
/// | `conflicts` | `reply.conflict` |
/// | `rotations` | `key.rotated` |
/// | `failures` | `status` with code `failed` or `offline` |
///
/// `failures` counts actions whose latest status is `failed` or `offline`: the same key
/// reported offline twice counts once, and an action that comes back (a later `status` of
/// that key that is neither a failure nor a new attempt, e.g. `done` after the network
/// returned) is taken off again.
/// A failure event without a key always counts. The other events (`offline`, `online`,
/// `elsewhere`, `storage.fallback`, `record.corrupt`, `action.resume`) count nothing.
///
/// ```
/// use sendonce::core::events::{Event, EventKind, Stats};
/// use sendonce::core::status::StatusCode;
/// let mut s = Stats::default();
/// s.record(&Event::new(EventKind::ActionNew).with_key("k1"));
/// s.record(&Event::new(EventKind::Status).with_key("k1").with_code(StatusCode::Offline));
/// assert_eq!(s.failures, 1);
/// s.record(&Event::new(EventKind::Status).with_key("k1").with_code(StatusCode::Done));
/// assert_eq!((s.actions, s.failures), (1, 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Actions started with a new key.
    pub actions: u64,
    /// Requests sent.
    pub sends: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Clicks that joined an action in flight instead of sending again.
    pub clicks_suppressed: u64,
    /// Repeats answered locally from a stored result.
    pub local_repeats: u64,
    /// Replies the server marked as replayed.
    pub server_replays: u64,
    /// 409 / 422 / 417 conflicts.
    pub conflicts: u64,
    /// Keys rotated because the data changed or the window passed.
    pub rotations: u64,
    /// Actions whose latest status is `failed` or `offline`.
    pub failures: u64,
    /// Keys currently counted in `failures`, oldest first.
    failing: Vec<String>,
}

impl Stats {
    /// Counts one event (see the table on [`Stats`]).
    pub fn record(&mut self, e: &Event) {
        match e.kind {
            EventKind::ActionNew => self.actions += 1,
            EventKind::ActionRepeat => self.local_repeats += 1,
            EventKind::ClickSuppressed => self.clicks_suppressed += 1,
            EventKind::SendAttempt => self.sends += 1,
            EventKind::SendRetry => self.retries += 1,
            EventKind::ReplyReplayed => self.server_replays += 1,
            EventKind::ReplyConflict => self.conflicts += 1,
            EventKind::KeyRotated => self.rotations += 1,
            EventKind::Status => self.record_status(e),
            EventKind::ActionResume
            | EventKind::StorageFallback
            | EventKind::RecordCorrupt
            | EventKind::Offline
            | EventKind::Online
            | EventKind::Elsewhere
            | EventKind::ActionIncomplete
            | EventKind::AuthRefresh
            | EventKind::KeyAdopted
            | EventKind::CorsSuspect
            | EventKind::KeyHeaderIgnored
            | EventKind::SendAborted => {}
        }
    }

    fn record_status(&mut self, e: &Event) {
        let Some(code) = e.code else { return };
        let failed = matches!(code, StatusCode::Failed | StatusCode::Offline);
        let Some(key) = &e.key else {
            if failed {
                self.failures += 1;
            }
            return;
        };
        let pos = self.failing.iter().position(|k| k == key);
        match (failed, pos) {
            (true, None) => {
                self.failures += 1;
                if self.failing.len() == MAX_TRACKED_FAILURES {
                    self.failing.remove(0);
                }
                self.failing.push(key.clone());
            }
            // Sending again after a failure is not yet a recovery: it may fail again, and
            // then it must not count twice. A final or waiting status ends the failure.
            (false, Some(i))
                if !matches!(
                    code,
                    StatusCode::Idle | StatusCode::Sending | StatusCode::Retrying
                ) =>
            {
                self.failures = self.failures.saturating_sub(1);
                self.failing.remove(i);
            }
            _ => {}
        }
    }

    /// The counters as the JS object of `so.stats()`, in camelCase:
    /// `{ actions, sends, retries, clicksSuppressed, localRepeats, serverReplays, conflicts,
    /// rotations, failures }`.
    pub fn to_value(&self) -> Value {
        Value::object([
            ("actions", self.actions.into()),
            ("sends", self.sends.into()),
            ("retries", self.retries.into()),
            ("clicksSuppressed", self.clicks_suppressed.into()),
            ("localRepeats", self.local_repeats.into()),
            ("serverReplays", self.server_replays.into()),
            ("conflicts", self.conflicts.into()),
            ("rotations", self.rotations.into()),
            ("failures", self.failures.into()),
        ])
    }
}
