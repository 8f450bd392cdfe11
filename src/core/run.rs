//! One action's run, step by step: what is carried out next for an [`ActionMachine`], and what
//! each result means for it. The shell (`drive` in `js/platform.js`, through the action
//! driver) and the simulator (`tests/sim`) call [`Run::step`] with what the last command
//! brought back and carry out the [`Command`] it answers with, until [`Command::Rest`]. Every
//! rule of a run is here: the `headers` hook and the request share one attempt's timeout,
//! what a hook that fails or answers nonsense does to the attempt, that a cancelled attempt
//! tells the machine nothing, that a disposed instance sends nothing more but still writes
//! what an attempt under way brought back. Time and randomness are parameters, as everywhere in the core.

use std::collections::VecDeque;

use crate::core::action::{add_hook_headers, ActionMachine, Input, Outcome, Output};
use crate::core::cors::AttemptEnd;
use crate::core::error::SendonceError;
use crate::core::events::{Event, EventKind};
use crate::core::record::{ActionRecord, StoredRequest};
use crate::core::reply::Reply;
use crate::core::status::StatusCode;

/// Why an attempt (or a poll) got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The attempt's timeout fired and the request was aborted.
    Timeout,
    /// The network failed: no HTTP answer, or the body was cut.
    Network,
    /// The run was cancelled (`send(url, { signal })`): the attempt was aborted.
    Aborted,
}

/// What the `headers` hook gave for an attempt.
#[derive(Debug)]
pub enum Hooked {
    /// Its headers (read by the platform layer).
    Headers(Vec<(String, String)>),
    /// It threw or its Promise rejected: why, for people.
    Failed(String),
    /// Its Promise did not settle within the attempt's timeout.
    TimedOut,
    /// It answered something that is not headers: the error that says so.
    Invalid(SendonceError),
}

/// What the last command brought back.
#[derive(Debug)]
pub enum Done {
    /// Nothing: the first step, a command carried out at once, a write, the end of a wait.
    Nothing,
    /// The `headers` hook's answer ([`Command::Hook`]).
    Hooked(Hooked),
    /// The reply to a [`Command::Fetch`] or a [`Command::Poll`].
    Reply(Result<Reply, Failure>),
}

/// What to carry out next.
#[derive(Debug)]
pub enum Command {
    /// Call the `headers` hook for attempt `attempt` of a request to `url` with `method`, for
    /// at most `timeout_ms`; bring back [`Done::Hooked`].
    Hook {
        /// The request's URL.
        url: String,
        /// Its method.
        method: String,
        /// The attempt's number (1 for the first).
        attempt: u32,
        /// The most the hook may take (the attempt's timeout).
        timeout_ms: u64,
    },
    /// Send `request`, byte for byte, abort it after `timeout_ms`; bring back [`Done::Reply`].
    Fetch {
        /// The attempt's number (1 for the first).
        attempt: u32,
        /// The request, with the key and the hook's headers.
        request: StoredRequest,
        /// What is left of the attempt's timeout.
        timeout_ms: u64,
    },
    /// GET the job status `url`, abort it after `timeout_ms`; bring back [`Done::Reply`].
    Poll {
        /// The status URL.
        url: String,
        /// Abort after this many ms.
        timeout_ms: u64,
    },
    /// Write the record (over a storage adapter, wait until it is written: before the request
    /// that follows it leaves).
    Write(ActionRecord),
    /// Wait `ms`, or less when the run is cancelled or the instance disposed.
    Sleep(u64),
    /// Show this status.
    Status {
        /// The new code.
        code: StatusCode,
        /// A reason (for `rejected`).
        reason: Option<String>,
    },
    /// Emit this event.
    Event(Event),
    /// Tell the CORS watch how an attempt to `url` ended (`core::cors`).
    Attempted {
        /// The attempt's URL.
        url: String,
        /// How it ended.
        end: AttemptEnd,
    },
    /// The action came to rest with this outcome: answer the sends waiting on it.
    Settled(Outcome),
    /// Nothing is left to do: the run is over.
    Rest,
}

/// What the last command asked for, so that the next step knows what its result means.
#[derive(Debug, Default)]
enum Doing {
    #[default]
    Nothing,
    /// The hook was called for this attempt.
    Hook(Attempt),
    /// The attempt's request to `url` left at `started`.
    Fetch {
        url: String,
        started: u64,
    },
    Poll,
    Sleep,
}

/// An attempt the machine asked for, waiting for the `headers` hook.
#[derive(Debug)]
struct Attempt {
    request: StoredRequest,
    number: u32,
    timeout_ms: u64,
    /// When the attempt began (the hook was called).
    began: u64,
}

/// One action's run (see the module's docs). The machine stays its owner's: each step borrows
/// it, so that what a command calls (a listener that sends again) finds it free.
#[derive(Debug, Default)]
pub struct Run {
    doing: Doing,
    /// Commands decided before the machine's next output (an event, the CORS note).
    queued: VecDeque<Command>,
}

impl Run {
    /// A run at rest.
    pub fn new() -> Self {
        Run::default()
    }

    /// True when the last command was a [`Command::Hook`]: its result is [`Done::Hooked`].
    pub fn awaits_hook(&self) -> bool {
        matches!(self.doing, Doing::Hook { .. })
    }

    /// True when the last command was a [`Command::Fetch`] or a [`Command::Poll`]: its
    /// result is [`Done::Reply`].
    pub fn awaits_reply(&self) -> bool {
        matches!(self.doing, Doing::Fetch { .. } | Doing::Poll)
    }

    /// Feeds what the last command brought back (`done`) to `m`, and answers the next command.
    /// `random` is asked for a number when an input is fed (backoff jitter). `disposed`: the
    /// instance was disposed; nothing more is sent, and what an attempt under way brought
    /// back is still written.
    pub fn step(
        &mut self,
        m: &mut ActionMachine,
        done: Done,
        now_ms: u64,
        random: impl FnOnce() -> u32,
        disposed: bool,
    ) -> Command {
        let input = match (std::mem::take(&mut self.doing), done) {
            (Doing::Sleep, _) => {
                m.handle_timeout(now_ms);
                None
            }
            (Doing::Hook(at), Done::Hooked(hooked)) => self.hooked(m, hooked, at, now_ms, disposed),
            (Doing::Fetch { url, started }, Done::Reply(reply)) => {
                let input = match reply {
                    Ok(reply) => Some(Input::Reply(reply)),
                    Err(Failure::Timeout) => Some(Input::AttemptTimeout),
                    Err(Failure::Network) => Some(Input::NetworkError),
                    // Cancelled (`Input::Abort` was fed): nothing to tell the machine, nor the
                    // CORS watch.
                    Err(Failure::Aborted) => None,
                };
                if let Some(input) = &input {
                    let end = match input {
                        Input::NetworkError => AttemptEnd::NetworkError {
                            elapsed_ms: now_ms.saturating_sub(started),
                        },
                        Input::AttemptTimeout => AttemptEnd::Timeout,
                        _ => AttemptEnd::Answered,
                    };
                    self.queued.push_back(Command::Attempted { url, end });
                }
                input
            }
            (Doing::Poll, Done::Reply(reply)) => match reply {
                Ok(reply) => Some(Input::PollReply(reply)),
                Err(Failure::Aborted) => None,
                Err(_) => Some(Input::PollFailed),
            },
            // Not the answer to what the run waits for (a command carried out at once, with
            // the request still in flight): it still waits for it.
            (doing, _) => {
                self.doing = doing;
                None
            }
        };
        if let Some(input) = input {
            m.handle(input, now_ms, random());
        }
        while let Some(command) = self.queued.pop_front() {
            // What was carried out since the request was decided (an event's listener) may
            // have disposed the instance or cancelled the send: then it does not leave.
            if let Command::Fetch { attempt, .. } = &command {
                if !m.awaits_attempt(*attempt) {
                    self.doing = Doing::Nothing;
                    continue;
                }
                if disposed {
                    self.doing = Doing::Nothing;
                    m.handle(Input::Unsent, now_ms, 0);
                    continue;
                }
            }
            return command;
        }
        self.next(m, now_ms, disposed)
    }

    /// The hook's answer for an attempt of `request`: the attempt's request with its headers,
    /// or the input that ends the attempt without a request. A hook that throws, rejects (a
    /// token service that is down) or does not settle within the attempt's timeout fails the
    /// attempt unsent (`Unsent`: retried with the same key like a network error, never
    /// `uncertain`), told in a `send.retry` event; one that answers something that is not
    /// headers is a programming error retrying cannot fix (`NotSent`: the action rests
    /// `failed`, the send rejects with `invalid_hook`).
    ///
    /// The attempt is sent only if the machine still waits for it: not when the instance was
    /// disposed while the hook ran (the attempt ends unsent, and the record says so), nor when
    /// the send was cancelled (`Input::Abort`) or a later attempt began meanwhile.
    fn hooked(
        &mut self,
        m: &ActionMachine,
        hooked: Hooked,
        at: Attempt,
        now_ms: u64,
        disposed: bool,
    ) -> Option<Input> {
        if !m.awaits_attempt(at.number) {
            return None;
        }
        if disposed {
            return Some(Input::Unsent);
        }
        let why = match hooked {
            Hooked::Headers(extra) => {
                self.attempt(m, at, extra, now_ms);
                return None;
            }
            Hooked::Invalid(e) => return Some(Input::NotSent(e)),
            Hooked::Failed(why) => why,
            Hooked::TimedOut => format!("did not settle within {} ms", at.timeout_ms),
        };
        self.queued.push_back(Command::Event(
            event(m, EventKind::SendRetry).with_detail(&format!("headers hook failed: {why}")),
        ));
        Some(Input::Unsent)
    }

    /// Queues the attempt's request with the hook's `extra` headers (never the hook's key
    /// header: the action's key is sent, and an event says so). The hook and the request share
    /// the attempt's timeout: an attempt never takes longer than its `timeout_ms`, however
    /// slowly the hook answers.
    fn attempt(
        &mut self,
        m: &ActionMachine,
        at: Attempt,
        extra: Vec<(String, String)>,
        now_ms: u64,
    ) {
        let Attempt {
            mut request,
            number,
            timeout_ms,
            began,
        } = at;
        if add_hook_headers(&mut request, extra, m.key_header()) {
            self.queued.push_back(Command::Event(
                event(m, EventKind::KeyHeaderIgnored).with_detail("from the headers hook"),
            ));
        }
        let left = timeout_ms
            .saturating_sub(now_ms.saturating_sub(began))
            .max(1);
        self.doing = Doing::Fetch {
            url: request.url.clone(),
            started: now_ms,
        };
        self.queued.push_back(Command::Fetch {
            attempt: number,
            request,
            timeout_ms: left,
        });
    }

    /// The machine's next output as a command; a wait for its timer; or the end of the run.
    fn next(&mut self, m: &mut ActionMachine, now_ms: u64, disposed: bool) -> Command {
        loop {
            let out = m.poll();
            if disposed {
                // Nothing more leaves; what an attempt under way brought back is still
                // written, so the next page resumes from the truth.
                match out {
                    Some(Output::Persist(record)) => return Command::Write(record),
                    Some(_) => continue,
                    None => return Command::Rest,
                }
            }
            return match out {
                Some(Output::Transmit {
                    request,
                    timeout_ms,
                    attempt,
                }) => {
                    let at = Attempt {
                        request,
                        number: attempt,
                        timeout_ms,
                        began: now_ms,
                    };
                    if !m.has_headers_hook() {
                        self.attempt(m, at, Vec::new(), now_ms);
                        return self.queued.pop_front().unwrap_or(Command::Rest);
                    }
                    let command = Command::Hook {
                        url: at.request.url.clone(),
                        method: at.request.method.clone(),
                        attempt,
                        timeout_ms,
                    };
                    self.doing = Doing::Hook(at);
                    command
                }
                Some(Output::Poll { url, timeout_ms }) => {
                    self.doing = Doing::Poll;
                    Command::Poll { url, timeout_ms }
                }
                Some(Output::Status { code, reason }) => Command::Status { code, reason },
                Some(Output::Persist(record)) => Command::Write(record),
                Some(Output::Event(note)) => {
                    let mut e = event(m, note.kind);
                    e.attempt = note.attempt;
                    e.status = note.http_status;
                    e.ms = note.ms;
                    Command::Event(e)
                }
                Some(Output::Settled(outcome)) => Command::Settled(outcome),
                None => match m.poll_timeout() {
                    Some(at) => {
                        self.doing = Doing::Sleep;
                        Command::Sleep(at.saturating_sub(now_ms))
                    }
                    None => Command::Rest,
                },
            };
        }
    }
}

/// An event of `kind` about `m`'s action.
fn event(m: &ActionMachine, kind: EventKind) -> Event {
    Event::new(kind)
        .with_key(m.key().as_str())
        .with_action(&m.record().action)
}
