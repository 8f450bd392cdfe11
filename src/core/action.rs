//! The action state machine, sans-IO (in the manner of quinn-proto): inputs come in through
//! [`ActionMachine::handle`] and [`ActionMachine::handle_timeout`], outputs are pulled with
//! [`ActionMachine::poll`], and [`ActionMachine::poll_timeout`] says when to wake it. It never
//! reads a clock, never draws randomness and never does IO, so every transition is tested
//! natively on a fake clock.
//!
//! One machine is one action: one key for its whole life. Nothing in here can create another.

use std::collections::VecDeque;

use crate::core::error::SendonceError;
use crate::core::events::EventKind;
use crate::core::fingerprint::Fingerprint;
use crate::core::key::Key;
use crate::core::record::{ActionRecord, StoredReply, StoredRequest};
use crate::core::reply::{
    classify_reply, job_state, may_have_happened, reason, JobState, Reply, ReplyClass,
};
use crate::core::retry::{decide, parse_retry_after, Decision, RetryPolicy};
use crate::core::status::StatusCode;
use crate::core::window::{ActionKind, Window};

/// Largest reply body kept in storage with a finished action. Bigger bodies are still returned
/// to the caller, but no reply is kept: a later repeat asks the server with the same key.
pub const MAX_STORED_BODY: usize = 2_048;

/// What an action is, fixed at birth.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionConfig {
    /// The idempotency key, for every attempt of this action.
    pub key: Key,
    /// The action's name (`"createOrder"`).
    pub action: String,
    /// Where it comes from.
    pub kind: ActionKind,
    /// The payload's fingerprint.
    pub fingerprint: Fingerprint,
    /// How long a finished action answers repeats locally.
    pub window: Window,
    /// Retry limits.
    pub retry: RetryPolicy,
    /// The header that carries the key (`Idempotency-Key`).
    pub header_name: String,
    /// The header that marks replays (`Idempotent-Replayed`).
    pub replay_header: String,
    /// The page has a `headers` hook: it is called before every attempt (so a request whose
    /// headers were left out of storage can be resent after a reload), and a 401 calls it once
    /// more and repeats the attempt with the same key (a token refresh).
    pub headers_hook: bool,
    /// False when the target honours no key (`{ idempotent: false }`, e.g. a chat API's
    /// `sendMessage`): the server cannot tell a retry from a new request, so one request is
    /// made, and every ending that does not prove the target did nothing rests `uncertain`
    /// (SPEC section 5): a timeout, a lost connection, 408 and every 5xx (see
    /// [`may_have_happened`]). Replies that prove it did nothing are handled as usual: 429
    /// and 409/425 are retried with the same bytes, other 4xx are `rejected`.
    pub idempotent: bool,
    /// Started with `{ again: true }` ("buy again"): the user sends the same data once more
    /// on purpose, as a new action ([`plan_action_for`] gives it a new key). It never takes
    /// another action's key ([`Input::Adopt`] is ignored): not the finished one with the same
    /// data, nor one another tab or process is sending.
    pub again: bool,
}

/// Something that happened to the action.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The user (or `retry()`, or `resumePending()`) asked to send. The request is taken from the
    /// first `Send` that carries one; later ones are joined to the same bytes.
    Send(Option<StoredRequest>),
    /// The user asked to send, but the driver must first take the cross-tab lock (which is
    /// asynchronous). The request goes into the stored record now, so that a reload before the
    /// lock is granted still finds the action and resumes it with its key. Nothing is sent
    /// until the `Send` that follows.
    Intend(Option<StoredRequest>),
    /// The reply to the attempt in flight.
    Reply(Reply),
    /// The attempt in flight failed in the network (no HTTP answer, or the body was cut).
    NetworkError,
    /// The attempt in flight timed out and was aborted.
    AttemptTimeout,
    /// The attempt handed out with `Transmit` was not made, for a reason that may pass: the
    /// `headers` hook threw, rejected or did not settle within the attempt's timeout (a token
    /// service that is down). Nothing left, so it is retried like a network failure (and
    /// comes to rest `offline`), and never ends `uncertain`, even for a target that honours
    /// no key.
    Unsent,
    /// The attempt handed out with `Transmit` could not be made, for a reason that retrying
    /// cannot fix: a programming error of the page, such as a `headers` hook that returned
    /// something that is not headers. Nothing was sent, so the attempt does not count; the
    /// action rests `failed` (a `retry()` after the fix sends with the same key) and the
    /// sends waiting on it get this error ([`Outcome::error`]).
    NotSent(SendonceError),
    /// The caller cancelled the run (`send(url, { signal })` whose signal aborted, and no
    /// other caller waits on the run): the attempts left are not made, and the action keeps
    /// its key and its request, so that a later `Send` resumes it with the same key and the
    /// same bytes. Where it rests (see [`ActionMachine::handle`]'s `Abort` arm):
    /// - a retry's wait, or before the first attempt (waiting for the cross-tab lock, or
    ///   another tab): `idle`, as before a send: nothing is under way;
    /// - an attempt in flight (the driver aborts its fetch): `idle` too for an action whose
    ///   target honours its key (the server answers the later send with what it stored, if
    ///   the request had arrived); for `{ idempotent: false }` the request may have reached a
    ///   target that honours no key, so it rests `uncertain`, exactly as for a lost
    ///   connection ([`Input::NetworkError`]);
    /// - a job poll (the server has the action): `accepted`, polls stopped.
    ///
    /// The waiting sends settle with [`SendonceError::Aborted`] ([`Outcome::error`]). An
    /// action at rest (nothing under way) is left as it is.
    Abort,
    /// The reply to a job status poll.
    PollReply(Reply),
    /// A job status poll failed in the network.
    PollFailed,
    /// The browser went offline.
    Offline,
    /// The browser came back online.
    Online,
    /// The browser came back online, and this action's next request must first take its key's
    /// lock (other tabs) or lease (other processes, a service worker): online again, but at
    /// rest `offline` until the driver, holding it, feeds `Send`. A tab and a worker that
    /// both resume on the connection's return then send the key once.
    OnlineHeld,
    /// Another tab holds this key's lock: it is sending this action.
    LockedElsewhere,
    /// The other tab finished; this is its stored record.
    ElsewhereFinished(ActionRecord),
    /// Another process (sharing a storage adapter) already has an action with the same name
    /// and data, under `key`: one user input is one key, so this action, never sent yet,
    /// takes that key, and that action's record when there is one (a confirmed one then
    /// answers the send locally). Ignored once this action has sent anything.
    Adopt {
        /// The other action's key.
        key: Key,
        /// Its record, when it could be read (same fingerprint).
        record: Option<ActionRecord>,
        /// The record was read from a shared store that expires what is past its window
        /// (another process's): the store's keeping it vouches that it is inside its window,
        /// so this process's clock, which may disagree, does not judge that (SPEC section 4).
        /// False for a record of this tab's own storage, judged by its clock.
        vouched: bool,
    },
}

/// A decision log entry for `onEvent`. It never carries payload values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// What happened: the machine's events are `send.attempt`, `send.retry`, `auth.refresh`,
    /// `reply.replayed`, `reply.conflict`, `action.repeat`, `action.incomplete`, `offline`,
    /// `online`, `elsewhere`, `key.header_ignored` and `send.aborted`.
    pub kind: EventKind,
    /// Attempt number, when it concerns an attempt.
    pub attempt: Option<u32>,
    /// HTTP status, when it concerns a reply.
    pub http_status: Option<u16>,
    /// A duration in ms (the wait before a retry).
    pub ms: Option<u64>,
}

/// How a send ended, for the callers waiting on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The status the action rests in.
    pub code: StatusCode,
    /// A reason for `rejected`, from the server's body.
    pub reason: Option<String>,
    /// The last HTTP reply, if there was one (for a local repeat: the stored one).
    pub reply: Option<Reply>,
    /// The answer came from a stored result (server replay or local repeat).
    pub replayed: bool,
    /// Attempts made so far.
    pub attempts: u32,
    /// Set when the send ended on a programming error of the page ([`Input::NotSent`]): the
    /// waiting sends reject with it instead of resolving with a reply.
    pub error: Option<SendonceError>,
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this request now and feed back `Reply`, `NetworkError` or `AttemptTimeout`.
    /// `headers` already carry the key.
    Transmit {
        /// Attempt number (1 for the first).
        attempt: u32,
        /// The request, byte for byte the same on every attempt.
        request: StoredRequest,
        /// Abort the attempt after this many ms.
        timeout_ms: u64,
    },
    /// GET this job status URL and feed back `PollReply` or `PollFailed`.
    Poll {
        /// The status URL.
        url: String,
        /// Abort after this many ms.
        timeout_ms: u64,
    },
    /// The status changed: show it.
    Status {
        /// The new code.
        code: StatusCode,
        /// A reason (for `rejected`).
        reason: Option<String>,
    },
    /// Write this record to storage (before any `Transmit` that follows it).
    Persist(ActionRecord),
    /// Log this decision.
    Event(Note),
    /// The action came to rest (final, offline, or accepted): resolve waiting `send()`s.
    Settled(Outcome),
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    InFlight,
    Waiting {
        until: u64,
    },
    Polling {
        url: String,
        until: u64,
        in_flight: bool,
    },
    Elsewhere,
    Offline,
    Resting(StatusCode),
}

/// One action's state machine.
#[derive(Debug, Clone)]
pub struct ActionMachine {
    cfg: ActionConfig,
    record: ActionRecord,
    request: Option<StoredRequest>,
    phase: Phase,
    /// Attempts in this run (since the last `Send` that started one).
    run_attempts: u32,
    /// Failed attempts in this run that count against `retry.attempts`.
    failures: u32,
    run_started_at: u64,
    online: bool,
    status: StatusCode,
    reason: Option<String>,
    last_reply: Option<Reply>,
    replayed: bool,
    /// This run already repeated an attempt after a 401 with refreshed headers.
    auth_refreshed: bool,
    /// The programming error that ended the attempt in flight, for the next `Settled`.
    error: Option<SendonceError>,
    outputs: VecDeque<Output>,
}

impl ActionMachine {
    /// A new action, idle, born at `now_ms`.
    pub fn new(cfg: ActionConfig, now_ms: u64) -> Self {
        let record = ActionRecord {
            key: cfg.key.clone(),
            action: cfg.action.clone(),
            kind: cfg.kind,
            fingerprint: cfg.fingerprint.clone(),
            request: None,
            status: StatusCode::Idle,
            attempts: 0,
            created_at: now_ms,
            finished_at: None,
            window_ms: cfg.window.ms(),
            reply: None,
            idempotent: cfg.idempotent,
        };
        Self::from_parts(cfg, record)
    }

    /// An action restored from storage (after a reload, or a repeat inside the window). A
    /// confirmed record answers `Send` locally; an unconfirmed one resends its stored request
    /// with its key.
    ///
    /// A non-idempotent action (see [`ActionConfig::idempotent`]) restored unconfirmed after
    /// an attempt had started may have reached its target before the process or page went
    /// away: it is restored as `uncertain`, never resent on its own.
    pub fn restore(cfg: ActionConfig, record: ActionRecord) -> Self {
        let mut cfg = cfg;
        let mut record = record;
        cfg.key = record.key.clone();
        cfg.idempotent = cfg.idempotent && record.idempotent;
        record.idempotent = cfg.idempotent;
        record.status = restored_status(&record);
        Self::from_parts(cfg, record)
    }

    fn from_parts(cfg: ActionConfig, record: ActionRecord) -> Self {
        let status = record.status;
        let phase = if record.status.is_final() {
            Phase::Resting(record.status)
        } else {
            Phase::Idle
        };
        let last_reply = record.reply.as_ref().map(reply_from_stored);
        ActionMachine {
            request: record.request.clone(),
            replayed: record.reply.as_ref().is_some_and(|r| r.replayed),
            cfg,
            record,
            phase,
            run_attempts: 0,
            failures: 0,
            run_started_at: 0,
            online: true,
            status,
            reason: None,
            last_reply,
            auth_refreshed: false,
            error: None,
            outputs: VecDeque::new(),
        }
    }

    /// The key. It never changes.
    pub fn key(&self) -> &Key {
        &self.cfg.key
    }

    /// The name of the header the key is sent in.
    pub fn key_header(&self) -> &str {
        &self.cfg.header_name
    }

    /// True when the page has a `headers` hook, called before every attempt.
    pub fn has_headers_hook(&self) -> bool {
        self.cfg.headers_hook
    }

    /// The current status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason that goes with a `rejected` status.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The record as it stands.
    pub fn record(&self) -> &ActionRecord {
        &self.record
    }

    /// True while a send is under way (in flight, waiting to retry, polling a job, or waiting
    /// for another tab): a new `Send` joins it instead of starting another.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.phase,
            Phase::InFlight | Phase::Waiting { .. } | Phase::Polling { .. } | Phase::Elsewhere
        )
    }

    /// True while the machine waits for the answer to attempt `attempt` (the last
    /// `Transmit`): not once that attempt was cancelled, timed out or answered.
    pub fn awaits_attempt(&self, attempt: u32) -> bool {
        self.phase == Phase::InFlight && self.record.attempts == attempt
    }

    /// Replaces the retry policy (`so.action(name, payload, { retry })` for an action that is
    /// already live). Ignored while a send is under way: a run keeps the policy it started
    /// with (its deadline and attempts are counted under it); the next run uses the new one.
    pub fn set_retry(&mut self, retry: RetryPolicy) {
        if !self.is_busy() {
            self.cfg.retry = retry;
        }
    }

    /// Started with `{ again: true }` (see [`ActionConfig::again`]).
    pub fn is_again(&self) -> bool {
        self.cfg.again
    }

    /// The next output, if any.
    pub fn poll(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to call [`ActionMachine::handle_timeout`] next, if at all.
    pub fn poll_timeout(&self) -> Option<u64> {
        match &self.phase {
            Phase::Waiting { until } => Some(*until),
            // Polls wait while the browser is offline (`Online` resumes them).
            Phase::Polling {
                until,
                in_flight: false,
                ..
            } if self.online => Some(*until),
            _ => None,
        }
    }

    /// Time passed: start the next attempt or poll if its time has come.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        match &mut self.phase {
            Phase::Waiting { until } if now_ms >= *until => self.transmit(now_ms),
            Phase::Polling {
                url,
                until,
                in_flight,
            } if self.online && !*in_flight && now_ms >= *until => {
                *in_flight = true;
                let url = url.clone();
                self.outputs.push_back(Output::Poll {
                    url,
                    timeout_ms: self.cfg.retry.timeout_ms,
                });
            }
            _ => {}
        }
    }

    /// Feeds one input. `random` is a fresh random number, used for backoff jitter.
    pub fn handle(&mut self, input: Input, now_ms: u64, random: u32) {
        match input {
            Input::Send(request) => self.on_send(request, now_ms),
            Input::Intend(request) => {
                if self.keep_request(request) {
                    self.persist();
                }
            }
            Input::Reply(reply) if self.phase == Phase::InFlight => {
                self.on_reply(reply, now_ms, random)
            }
            Input::NetworkError | Input::AttemptTimeout if self.phase == Phase::InFlight => {
                self.on_network_failure(now_ms, random, true)
            }
            Input::Unsent if self.phase == Phase::InFlight => {
                self.on_network_failure(now_ms, random, false)
            }
            Input::NotSent(error) if self.phase == Phase::InFlight => {
                // Nothing left: the attempt is not counted (a non-idempotent action restored
                // later is not taken for one cut off mid-attempt).
                self.run_attempts = self.run_attempts.saturating_sub(1);
                self.record.attempts = self.record.attempts.saturating_sub(1);
                self.error = Some(error);
                self.finish(StatusCode::Failed, None, now_ms);
            }
            Input::Abort => self.on_abort(now_ms),
            Input::PollReply(reply) => self.on_poll_reply(reply, now_ms, random),
            // Only the poll in flight can fail; a stray failure must not push the next poll back.
            Input::PollFailed
                if matches!(
                    self.phase,
                    Phase::Polling {
                        in_flight: true,
                        ..
                    }
                ) =>
            {
                self.schedule_poll(now_ms, random)
            }
            Input::PollFailed => {}
            Input::Offline => {
                self.online = false;
                if let Phase::Waiting { .. } = self.phase {
                    self.go_offline();
                }
            }
            Input::OnlineHeld => {
                self.online = true;
                if self.phase == Phase::Offline {
                    self.note(EventKind::Online, None, None, None);
                }
            }
            Input::Online => {
                self.online = true;
                if self.phase == Phase::Offline {
                    self.note(EventKind::Online, None, None, None);
                    self.start_run(now_ms);
                } else if let Phase::Polling { until, .. } = &mut self.phase {
                    // Polls paused while offline: the next one now, and the time spent offline
                    // does not count against the deadline.
                    *until = now_ms;
                    self.run_started_at = now_ms;
                    self.note(EventKind::Online, None, None, None);
                }
            }
            Input::LockedElsewhere => {
                if matches!(self.phase, Phase::Idle | Phase::Resting(_) | Phase::Offline) {
                    self.phase = Phase::Elsewhere;
                    self.note(EventKind::Elsewhere, None, None, None);
                    self.set_status(StatusCode::Elsewhere, None);
                }
            }
            Input::ElsewhereFinished(record) => {
                // Only an answer is adopted. A record the other tab left unfinished (it
                // vanished mid-send, or paused offline) would leave this tab resting in
                // "sending" with nobody sending: it stays `elsewhere` until the driver, holding
                // the lock, sends here with the same key.
                if self.phase == Phase::Elsewhere
                    && record.key == self.cfg.key
                    && record.status.is_final()
                {
                    self.last_reply = record.reply.as_ref().map(reply_from_stored);
                    self.replayed = true;
                    let code = record.status;
                    self.record = record;
                    self.phase = Phase::Resting(code);
                    // Through `set_status`, so that a reason left from an earlier run does
                    // not travel with the adopted status.
                    self.status = StatusCode::Elsewhere;
                    self.set_status(code, None);
                    self.settle();
                }
            }
            Input::Adopt {
                key,
                record,
                vouched,
            } => self.adopt(key, record, now_ms, vouched),
            // A late reply or failure for an attempt that is no longer in flight.
            Input::Reply(_)
            | Input::NetworkError
            | Input::AttemptTimeout
            | Input::Unsent
            | Input::NotSent(_) => {}
        }
    }

    fn on_abort(&mut self, now_ms: u64) {
        self.error = Some(SendonceError::Aborted(
            "the send was cancelled by its signal; the action keeps its key, and a later send \
             resumes it with the same key and bytes"
                .into(),
        ));
        // A request or poll handed out but not carried out yet (the abort came in the same
        // task as the send) never leaves: the attempt is not counted, and nothing may have
        // reached the target.
        let before = self.outputs.len();
        self.outputs
            .retain(|o| !matches!(o, Output::Transmit { .. } | Output::Poll { .. }));
        let unsent = self.phase == Phase::InFlight && self.outputs.len() < before;
        if unsent {
            self.run_attempts = self.run_attempts.saturating_sub(1);
            self.record.attempts = self.record.attempts.saturating_sub(1);
        }
        if self.is_busy() || self.phase == Phase::Idle {
            self.note(
                EventKind::SendAborted,
                Some(self.record.attempts),
                None,
                None,
            );
        }
        match self.phase {
            Phase::InFlight if !self.cfg.idempotent && !unsent => {
                // The request may have left for a target that honours no key: the same as a
                // lost connection (`on_network_failure`).
                self.finish(StatusCode::Uncertain, None, now_ms);
            }
            Phase::Polling { .. } => {
                // The server has it: polls stop, the action shows it was accepted.
                self.phase = Phase::Resting(StatusCode::Accepted);
                self.set_status(StatusCode::Accepted, None);
                self.persist();
                self.settle();
            }
            Phase::InFlight | Phase::Waiting { .. } | Phase::Elsewhere | Phase::Idle => {
                // Nothing more is under way here: the key and the request stay in the record
                // (unfinished, so the same data later resumes this action), shown as before a
                // send.
                self.phase = Phase::Idle;
                self.set_status(StatusCode::Idle, None);
                self.persist();
                self.settle();
            }
            Phase::Offline | Phase::Resting(_) => {
                self.error = None;
            }
        }
    }

    fn adopt(&mut self, key: Key, record: Option<ActionRecord>, now_ms: u64, vouched: bool) {
        let fresh = self.phase == Phase::Idle && self.record.attempts == 0;
        if self.cfg.again || !fresh || (key == self.cfg.key && record.is_none()) {
            return;
        }
        let record = record.filter(|r| r.key == key && r.fingerprint == self.cfg.fingerprint);
        // A finished action that is done with (its window passed, at once with `window: 0`, or
        // it ended refused or changed) is not taken over: the same data now is a new action
        // with its own key (SPEC section 4, [`plan_action`]), even while its data claim
        // is still held a moment after it settled. A record the shared store vouches for is
        // judged as of its own time: only how it ended counts, never another clock.
        if record.as_ref().is_some_and(|r| {
            let as_of = if vouched { r.created_at } else { now_ms };
            r.is_finished() && plan_action(Some(r), &self.cfg.fingerprint, as_of) == ActionPlan::New
        }) {
            return;
        }
        self.cfg.key = key.clone();
        self.record.key = key;
        let Some(rec) = record else {
            return;
        };
        if self.request.is_none() {
            self.request = rec.request.clone();
        }
        let mut rec = rec;
        self.cfg.idempotent = self.cfg.idempotent && rec.idempotent;
        rec.idempotent = self.cfg.idempotent;
        rec.status = restored_status(&rec);
        self.last_reply = rec.reply.as_ref().map(reply_from_stored);
        self.replayed = rec.reply.as_ref().is_some_and(|r| r.replayed);
        let code = rec.status;
        self.record = rec;
        if code.is_final() {
            self.phase = Phase::Resting(code);
            self.set_status(code, None);
        }
    }

    /// Takes the first request offered and, while nothing runs, writes it into the record
    /// (without credentials or key header). True when the record changed.
    ///
    /// Every request a caller offers enters here, whatever it comes from (`send()`'s init, a
    /// form's options, a chat message): a key header in it is dropped, with a
    /// `key.header_ignored` event. The key header is sendonce's alone (SPEC section 4): a
    /// restored request was stored without it (`StoredRequest::storable`), each attempt adds
    /// the action's key (`transmit`), and the `headers` hook's go through
    /// [`add_hook_headers`].
    fn keep_request(&mut self, request: Option<StoredRequest>) -> bool {
        // A request restored from storage that lacks private values or headers is replaced by
        // the complete one of the user's next submission (the same visible data, same key).
        let incomplete = self
            .request
            .as_ref()
            .is_some_and(|r| !r.is_complete(self.cfg.headers_hook));
        let mut request = request;
        let taken = self.request.is_none() || incomplete;
        if let Some(r) = &mut request {
            // Told once per request taken (a joined send's copy is not).
            if drop_key_header(&mut r.headers, &self.cfg.header_name) && taken {
                self.note(EventKind::KeyHeaderIgnored, None, None, None);
            }
        }
        if self.request.is_none() || (incomplete && request.is_some()) {
            if incomplete && request.is_some() && self.record.request.is_some() {
                self.record.request = None;
            }
            self.request = request;
        }
        let idle = matches!(
            self.phase,
            Phase::Idle | Phase::Resting(_) | Phase::Offline | Phase::Elsewhere
        );
        if !idle || self.record.request.is_some() {
            return false;
        }
        self.record.request = self
            .request
            .as_ref()
            .map(|r| r.storable(&self.cfg.header_name));
        self.record.request.is_some()
    }

    fn on_send(&mut self, request: Option<StoredRequest>, now_ms: u64) {
        let request_given = request.is_some();
        // The request goes into the record now, not at the first attempt: an action that
        // pauses offline before its first attempt must still be resendable after a reload.
        self.keep_request(request);
        match self.phase.clone() {
            Phase::InFlight | Phase::Waiting { .. } | Phase::Polling { .. } => {}
            // A repeat of a confirmed action that kept no reply (its body was private or too
            // large to store): a local answer would have no body (a login without its token),
            // so the server is asked with the same key and answers with its stored result
            // (SPEC section 4). Without a request to send, the status alone answers.
            Phase::Resting(code)
                if code.is_confirmed() && self.last_reply.is_none() && self.request.is_some() =>
            {
                self.start_run(now_ms);
            }
            Phase::Resting(code) if code.is_confirmed() => {
                // A repeat of a confirmed action: the stored result, no request.
                self.note(EventKind::ActionRepeat, None, None, None);
                self.replayed = true;
                self.set_status(StatusCode::AlreadyReceived, None);
                self.settle();
            }
            // An uncertain action is sent again only on the user's decision (`retry()`, a
            // `Send` without a request); the same send repeated (a handler run again after a
            // restart, a second click) gets the uncertain status back, no request.
            Phase::Resting(StatusCode::Uncertain) if request_given => self.settle(),
            // From `Elsewhere` a `Send` means the other tab let go of the lock without an
            // answer (the driver sends only once it holds the lock): this tab takes over, with
            // the same key.
            Phase::Idle | Phase::Resting(_) | Phase::Offline | Phase::Elsewhere => {
                if self.request.is_none() {
                    // Nothing to send: a restored record without its request.
                    self.set_status(StatusCode::Rejected, Some("nothing to send".into()));
                    self.settle();
                } else if self
                    .request
                    .as_ref()
                    .is_some_and(|r| !r.is_complete(self.cfg.headers_hook))
                {
                    // Restored without values that are never stored (a form's password, a
                    // credential header and no `headers` hook): never sent without them, never
                    // dropped. It waits for the user's next submission.
                    self.note(EventKind::ActionIncomplete, None, None, None);
                    self.settle();
                } else if !self.online {
                    self.go_offline();
                } else {
                    self.start_run(now_ms);
                }
            }
        }
    }

    fn start_run(&mut self, now_ms: u64) {
        self.auth_refreshed = false;
        self.run_attempts = 0;
        self.failures = 0;
        self.run_started_at = now_ms;
        self.replayed = false;
        self.record.finished_at = None;
        self.transmit(now_ms);
    }

    fn transmit(&mut self, now_ms: u64) {
        let Some(mut request) = self.request.clone() else {
            return;
        };
        self.run_attempts += 1;
        self.record.attempts = self.record.attempts.saturating_add(1);
        let attempt = self.record.attempts;
        let code = if self.run_attempts == 1 && attempt == 1 {
            StatusCode::Sending
        } else {
            StatusCode::Retrying
        };
        if self.status != StatusCode::Accepted || code == StatusCode::Sending {
            self.set_status(code, None);
        }
        self.phase = Phase::InFlight;
        self.record.request = Some(request.storable(&self.cfg.header_name));
        // The key is in storage before the request leaves.
        self.persist();
        request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&self.cfg.header_name));
        request
            .headers
            .push((self.cfg.header_name.clone(), self.cfg.key.to_string()));
        self.note(EventKind::SendAttempt, Some(attempt), None, None);
        let elapsed = now_ms.saturating_sub(self.run_started_at);
        self.outputs.push_back(Output::Transmit {
            attempt,
            request,
            timeout_ms: self.cfg.retry.attempt_timeout_ms(elapsed),
        });
    }

    fn on_reply(&mut self, reply: Reply, now_ms: u64, random: u32) {
        if !self.cfg.idempotent && may_have_happened(reply.status) {
            // No key the target honours: a 504, a 500 or a 408 may come after the action was
            // done, and a retry could do it twice. One request, then a person decides.
            self.last_reply = Some(reply);
            self.finish(StatusCode::Uncertain, None, now_ms);
            return;
        }
        if reply.status == 401 && self.cfg.headers_hook && !self.auth_refreshed {
            // A token that expired: the `headers` hook is called again before the repeated
            // attempt (same key, same bytes), once per run.
            self.auth_refreshed = true;
            self.note(
                EventKind::AuthRefresh,
                Some(self.record.attempts),
                Some(401),
                None,
            );
            self.last_reply = Some(reply);
            self.transmit(now_ms);
            return;
        }
        let class = classify_reply(&reply, &self.cfg.replay_header);
        let shown = status_after(&class);
        let status = reply.status;
        let retry_after = reply
            .header("retry-after")
            .and_then(|v| parse_retry_after(v, now_ms));
        self.last_reply = Some(reply);
        match class {
            ReplyClass::Success { replayed } => {
                self.replayed = replayed;
                if replayed {
                    self.note(
                        EventKind::ReplyReplayed,
                        Some(self.record.attempts),
                        Some(status),
                        None,
                    );
                }
                self.finish(shown, None, now_ms);
            }
            ReplyClass::Accepted { poll_url } => {
                self.set_status(shown, None);
                match poll_url {
                    Some(url) => {
                        self.phase = Phase::Polling {
                            url,
                            until: now_ms,
                            in_flight: false,
                        };
                        self.persist();
                        self.schedule_poll(now_ms, random);
                    }
                    None => {
                        self.phase = Phase::Resting(StatusCode::Accepted);
                        self.persist();
                        self.settle();
                    }
                }
            }
            ReplyClass::InProgress => {
                self.note(
                    EventKind::ReplyConflict,
                    Some(self.record.attempts),
                    Some(status),
                    None,
                );
                self.set_status(shown, None);
                self.retry_or(now_ms, random, retry_after, false, StatusCode::Accepted);
            }
            ReplyClass::Changed => {
                self.note(
                    EventKind::ReplyConflict,
                    Some(self.record.attempts),
                    Some(status),
                    None,
                );
                self.finish(shown, None, now_ms);
            }
            ReplyClass::Retryable => {
                self.failures += 1;
                self.retry_or(now_ms, random, retry_after, true, StatusCode::Failed);
            }
            ReplyClass::ReplayedFailure => {
                self.replayed = true;
                self.note(
                    EventKind::ReplyReplayed,
                    Some(self.record.attempts),
                    Some(status),
                    None,
                );
                self.finish(shown, None, now_ms);
            }
            ReplyClass::ServerFailure => self.finish(shown, None, now_ms),
            ReplyClass::Rejected { reason } => self.finish(shown, reason, now_ms),
        }
    }

    /// An attempt ended without an answer; `may_have_left` is false when it was never made
    /// (see [`Input::Unsent`]).
    fn on_network_failure(&mut self, now_ms: u64, random: u32, may_have_left: bool) {
        self.failures += 1;
        if !self.cfg.idempotent && may_have_left {
            // The request may have reached a target that honours no key: another attempt
            // could do it twice. Rest here, keep the key (24 h, like `failed`) and let a
            // person decide.
            self.finish(StatusCode::Uncertain, None, now_ms);
            return;
        }
        if !self.online {
            self.go_offline();
            return;
        }
        self.retry_or(now_ms, random, None, true, StatusCode::Offline);
    }

    /// Retries after the policy's wait, or comes to rest with `give_up` when the attempts or
    /// the deadline are used up.
    fn retry_or(
        &mut self,
        now_ms: u64,
        random: u32,
        retry_after: Option<u64>,
        counts: bool,
        give_up: StatusCode,
    ) {
        let elapsed = now_ms.saturating_sub(self.run_started_at);
        // "Still in progress" answers do not use up attempts, but their backoff still grows
        // with every answer in this run (and `decide` gives them a floor), so a server that
        // keeps answering 409 with `Retry-After: 0` is not asked again in a tight loop.
        let attempt_no = if counts {
            self.failures
        } else {
            self.run_attempts
        };
        match decide(
            &self.cfg.retry,
            attempt_no.max(1),
            elapsed,
            retry_after,
            random,
            counts,
        ) {
            Decision::Retry(ms) => {
                self.note(
                    EventKind::SendRetry,
                    Some(self.record.attempts),
                    None,
                    Some(ms),
                );
                if give_up != StatusCode::Accepted {
                    self.set_status(StatusCode::Retrying, None);
                }
                self.phase = Phase::Waiting {
                    until: now_ms.saturating_add(ms),
                };
                if !self.online {
                    self.go_offline();
                }
            }
            Decision::Stop(_) => match give_up {
                StatusCode::Offline => self.go_offline(),
                StatusCode::Accepted => {
                    // The server still has it in progress past our deadline: it has the
                    // request, so say so rather than "failed".
                    self.phase = Phase::Resting(StatusCode::Accepted);
                    self.set_status(StatusCode::Accepted, None);
                    self.persist();
                    self.settle();
                }
                code => self.finish(code, None, now_ms),
            },
        }
    }

    fn go_offline(&mut self) {
        self.phase = Phase::Offline;
        self.note(EventKind::Offline, Some(self.record.attempts), None, None);
        self.set_status(StatusCode::Offline, None);
        self.persist();
        self.settle();
    }

    fn on_poll_reply(&mut self, reply: Reply, now_ms: u64, random: u32) {
        if !matches!(
            self.phase,
            Phase::Polling {
                in_flight: true,
                ..
            }
        ) {
            return;
        }
        match job_state(&reply) {
            Some(JobState::Done) => {
                self.last_reply = Some(reply);
                self.finish(StatusCode::Done, None, now_ms);
            }
            Some(JobState::Error) => {
                let why = reason(&reply);
                self.last_reply = Some(reply);
                self.finish(StatusCode::Failed, why, now_ms);
            }
            _ => self.schedule_poll(now_ms, random),
        }
    }

    fn schedule_poll(&mut self, now_ms: u64, random: u32) {
        let elapsed = now_ms.saturating_sub(self.run_started_at);
        let polls = self.run_attempts;
        if let Phase::Polling {
            until, in_flight, ..
        } = &mut self.phase
        {
            if elapsed >= self.cfg.retry.deadline_ms {
                self.phase = Phase::Resting(StatusCode::Accepted);
                self.persist();
                self.settle();
                return;
            }
            // Poll with a gentle backoff: at least the base delay, growing to the maximum.
            let wait = self
                .cfg
                .retry
                .backoff_ms(polls.saturating_add(2), random)
                .max(self.cfg.retry.base_delay_ms);
            *until = now_ms.saturating_add(wait);
            *in_flight = false;
            self.run_attempts = self.run_attempts.saturating_add(1);
        }
    }

    fn finish(&mut self, code: StatusCode, reason: Option<String>, now_ms: u64) {
        self.phase = Phase::Resting(code);
        self.set_status(code, reason);
        // Confirmed, rejected and changed actions are finished: their key is done with.
        // A failed one is not: the server may have done it, so it keeps its key for 24 h.
        if code != StatusCode::Failed && code != StatusCode::Uncertain {
            self.record.finished_at = Some(now_ms);
        }
        // A reply to a request that carried private values (a form's password) may echo
        // them or carry a token, and a big one does not fit: such a reply is not kept, and a
        // repeat asks the server with the same key instead of answering without a body.
        let private = self
            .request
            .as_ref()
            .is_some_and(|r| r.visible_body.is_some() || r.private_body);
        self.record.reply = self
            .last_reply
            .as_ref()
            .filter(|r| r.body.len() <= MAX_STORED_BODY && !private)
            .map(|r| StoredReply {
                status: r.status,
                content_type: r.header("content-type").map(str::to_string),
                body: r.body.clone(),
                replayed: self.replayed,
            });
        if code.is_confirmed() {
            // The request is no longer needed to resend anything.
            self.record.request = None;
        }
        self.persist();
        self.settle();
    }

    fn set_status(&mut self, code: StatusCode, reason: Option<String>) {
        if self.status == code && self.reason == reason {
            return;
        }
        self.status = code;
        self.reason = reason.clone();
        self.record.status = code;
        self.outputs.push_back(Output::Status { code, reason });
    }

    fn persist(&mut self) {
        self.outputs.push_back(Output::Persist(self.record.clone()));
    }

    fn settle(&mut self) {
        self.outputs.push_back(Output::Settled(Outcome {
            code: self.status,
            reason: self.reason.clone(),
            reply: self.last_reply.clone(),
            replayed: self.replayed,
            attempts: self.record.attempts,
            error: self.error.take(),
        }));
    }

    fn note(
        &mut self,
        kind: EventKind,
        attempt: Option<u32>,
        http_status: Option<u16>,
        ms: Option<u64>,
    ) {
        self.outputs.push_back(Output::Event(Note {
            kind,
            attempt,
            http_status,
            ms,
        }));
    }
}

/// Drops every header named `key_header` (in any letter case) from `headers`; true when one
/// was there. The key header is sendonce's alone: only [`ActionMachine`] adds it, with the
/// action's key, to each attempt.
///
/// ```
/// use sendonce::core::action::drop_key_header;
/// let mut h = vec![("IDEMPOTENCY-KEY".to_string(), "mine".to_string()), ("Accept".into(), "*/*".into())];
/// assert!(drop_key_header(&mut h, "Idempotency-Key"));
/// assert_eq!(h, vec![("Accept".to_string(), "*/*".to_string())]);
/// ```
pub fn drop_key_header(headers: &mut Vec<(String, String)>, key_header: &str) -> bool {
    let before = headers.len();
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(key_header));
    headers.len() != before
}

/// Adds the `headers` hook's headers to an attempt's request (its `Transmit`, key included):
/// a hook header replaces the request's header of the same name (in any letter case), except
/// the key header, which is sendonce's alone (SPEC section 4): the hook's is dropped and the
/// action's key is sent. True when the hook tried to set the key header (the driver tells
/// the page with a `key.header_ignored` event). A shared API client that stamps every request
/// with its own `Idempotency-Key` would otherwise send a new key on every attempt.
///
/// ```
/// use sendonce::core::action::add_hook_headers;
/// use sendonce::core::record::StoredRequest;
/// let mut r = StoredRequest {
///     headers: vec![("Idempotency-Key".into(), "k-action".into())],
///     ..Default::default()
/// };
/// let hook = vec![
///     ("idempotency-key".to_string(), "k-client".to_string()),
///     ("Authorization".to_string(), "Bearer t".to_string()),
/// ];
/// assert!(add_hook_headers(&mut r, hook, "Idempotency-Key"));
/// assert_eq!(r.headers[0], ("Idempotency-Key".to_string(), "k-action".to_string()));
/// assert_eq!(r.headers.len(), 2);
/// ```
pub fn add_hook_headers(
    request: &mut StoredRequest,
    hook: Vec<(String, String)>,
    key_header: &str,
) -> bool {
    let mut hook = hook;
    let ignored = drop_key_header(&mut hook, key_header);
    for (k, v) in hook {
        request.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(&k));
        request.headers.push((k, v));
    }
    ignored
}

/// The status an action shows right after a reply of this class: the one mapping from a
/// server's answer to what a person sees, used by the machine ([`ActionMachine`]) and by
/// `sendonce check` (through `classifyReply`). A retryable reply shows "retrying" while
/// attempts remain (and `failed` once they are spent); "still in progress" shows `accepted`
/// while sendonce asks again with the same key.
///
/// ```
/// use sendonce::core::action::status_after;
/// use sendonce::core::reply::ReplyClass;
/// use sendonce::core::status::StatusCode;
/// assert_eq!(status_after(&ReplyClass::Success { replayed: true }), StatusCode::AlreadyReceived);
/// assert_eq!(status_after(&ReplyClass::InProgress), StatusCode::Accepted);
/// ```
pub fn status_after(class: &ReplyClass) -> StatusCode {
    match class {
        ReplyClass::Success { replayed: true } => StatusCode::AlreadyReceived,
        ReplyClass::Success { replayed: false } => StatusCode::Done,
        ReplyClass::Accepted { .. } | ReplyClass::InProgress => StatusCode::Accepted,
        ReplyClass::Changed => StatusCode::Changed,
        ReplyClass::Retryable => StatusCode::Retrying,
        ReplyClass::ReplayedFailure | ReplyClass::ServerFailure => StatusCode::Failed,
        ReplyClass::Rejected { .. } => StatusCode::Rejected,
    }
}

/// The status a stored record stands in once read back (after a restart, or from another
/// process): a non-idempotent action whose attempt may have left without an answer is
/// `uncertain` (never resent on its own); anything else keeps its status.
pub fn restored_status(record: &ActionRecord) -> StatusCode {
    if !record.idempotent
        && record.attempts > 0
        && !record.status.is_final()
        && record.status != StatusCode::Accepted
    {
        StatusCode::Uncertain
    } else {
        record.status
    }
}

/// What to do when an action is started with a payload, given the latest action with the same
/// action name and fingerprint (from the index).
// One plan is made per submission and matched at once, never stored in bulk: boxing the
// record would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionPlan {
    /// A finished, confirmed (done or already received) action with the same fingerprint,
    /// inside its window: answer "already received" with its stored reply, send nothing.
    Repeat(ActionRecord),
    /// An unfinished action with the same fingerprint, within the 24 h retention: continue it
    /// with its key.
    Resume(Key),
    /// Anything else: a new action with a new key.
    New,
}

/// [`plan_action`], or, for an action started with `{ again: true }` ("buy again": the user
/// sends the same data once more on purpose), always [`ActionPlan::New`]: a new key, whatever
/// the same data's latest action is (confirmed inside its window, which would answer "We
/// already received this request" without a request; or unfinished, which would be resumed).
/// The action after it with the same data, not marked `again`, is planned against this new
/// one: a double click on "buy again" is one request.
///
/// ```
/// use sendonce::core::action::{plan_action_for, ActionPlan};
/// use sendonce::core::fingerprint::sha256_hex;
/// assert_eq!(plan_action_for(true, None, &sha256_hex(b"x"), 0), ActionPlan::New);
/// ```
pub fn plan_action_for(
    again: bool,
    existing: Option<&ActionRecord>,
    fingerprint: &Fingerprint,
    now_ms: u64,
) -> ActionPlan {
    if again {
        ActionPlan::New
    } else {
        plan_action(existing, fingerprint, now_ms)
    }
}

/// Decides between repeating, resuming and starting anew (SPEC section 1, principles 1, 2
/// and 6). A finished action that was not confirmed (changed, rejected, failed) gives `New`:
/// the server may have stored that failure under the old key, and would replay it.
///
/// ```
/// use sendonce::core::action::{plan_action, ActionPlan};
/// use sendonce::core::fingerprint::sha256_hex;
/// assert_eq!(plan_action(None, &sha256_hex(b"x"), 0), ActionPlan::New);
/// ```
pub fn plan_action(
    existing: Option<&ActionRecord>,
    fingerprint: &Fingerprint,
    now_ms: u64,
) -> ActionPlan {
    let Some(record) = existing.filter(|r| r.fingerprint == *fingerprint) else {
        return ActionPlan::New;
    };
    if now_ms >= record.expires_at() {
        return ActionPlan::New;
    }
    if !record.is_finished() {
        ActionPlan::Resume(record.key.clone())
    } else if record.status.is_confirmed() {
        ActionPlan::Repeat(record.clone())
    } else {
        ActionPlan::New
    }
}

/// How a stored action stands after a reload (or in another process): what `pending()` shows
/// and whether `resumePending()` / `autoResume` may send it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingView {
    /// The status it is restored in ([`restored_status`]): a non-idempotent action cut off
    /// mid-attempt is `uncertain`.
    ///
    pub status: StatusCode,
    /// Its request needs values that are never stored (a form's files and private fields,
    /// secret query parameters of its URL, headers without a `headers` hook): it waits for
    /// the user.
    pub incomplete: bool,
    /// What it waits for, by name ([`StoredRequest::waits_for`]); empty when complete.
    pub waiting_for: Vec<String>,
    /// Sent again by `resumePending()` and `autoResume`: complete, and not resting in a status
    /// that only a person may end (`uncertain`: the target may have done it and honours no
    /// key; `failed`: the server answered with a failure, it is sent again when the user
    /// submits or retries).
    pub resend: bool,
}

/// Which stored actions are pending, and which of them may be resent on their own (SPEC
/// section 3, `pending()`, and section 5, `{ idempotent: false }`). Every action with a key
/// still in use is listed, so that a page after a reload can show it: sending, retrying,
/// accepted, offline, failed and uncertain. A finished action (done, already received,
/// changed, rejected: nothing more will happen to its key) and one without a request (nothing
/// to send) are not. `has_headers_hook`: the instance has a `headers` hook, so headers left
/// out of storage can be supplied again.
///
/// ```
/// use sendonce::core::action::pending_view;
/// use sendonce::core::record::{ActionRecord, StoredRequest};
/// use sendonce::core::{fingerprint::sha256_hex, key::validate_key, status::StatusCode};
/// use sendonce::core::window::ActionKind;
/// let mut r = ActionRecord {
///     key: validate_key("k-1").unwrap(), action: "sendMessage".into(), kind: ActionKind::Default,
///     fingerprint: sha256_hex(b"x"), request: Some(StoredRequest::default()),
///     status: StatusCode::Uncertain, attempts: 1, created_at: 0, finished_at: None,
///     window_ms: 60_000, reply: None, idempotent: false,
/// };
/// let v = pending_view(&r, false).unwrap();
/// assert_eq!((v.status, v.resend), (StatusCode::Uncertain, false));
/// r.status = StatusCode::Offline;
/// r.idempotent = true;
/// assert!(pending_view(&r, false).unwrap().resend);
/// ```
pub fn pending_view(record: &ActionRecord, has_headers_hook: bool) -> Option<PendingView> {
    let request = record.request.as_ref()?;
    let status = restored_status(record);
    if record.is_finished() || status.is_confirmed() {
        return None;
    }
    let incomplete = !request.is_complete(has_headers_hook);
    Some(PendingView {
        status,
        incomplete,
        waiting_for: request.waits_for(has_headers_hook),
        // `is_final` here is `failed` or `uncertain`: nothing more is sent on its own.
        resend: !incomplete && !status.is_final(),
    })
}

fn reply_from_stored(r: &StoredReply) -> Reply {
    Reply {
        status: r.status,
        headers: r
            .content_type
            .iter()
            .map(|ct| ("content-type".to_string(), ct.clone()))
            .collect(),
        body: r.body.clone(),
    }
}

/// After another tab released the lock on a key: adopt its result when its action was
/// confirmed; else send here with the same key (the other tab vanished mid-send, or its
/// action ended unconfirmed, and the server answers a resend with what it stored).
pub fn adopt_elsewhere(record: Option<&ActionRecord>) -> bool {
    record.is_some_and(|r| r.is_finished() && r.status.is_confirmed())
}
