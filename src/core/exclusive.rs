//! One key's exclusivity across processes (and tabs), as a sans-IO machine: it performs no I/O
//! whatsoever, has no clock and draws no random numbers. A driver feeds it what happened
//! ([`Input`], with the time on its own clock) and carries out what it asks ([`Output`]): read
//! the stored result, claim or renew the lease in the shared store, release it, wake at a time.
//! The same machine runs a quick reply's handler once, an inbound message's `handleOnce()`, and
//! an action's send across processes; their drivers only differ in what "read" and "run" mean.
//!
//! The protocol, for one key:
//! 1. read: a stored result is adopted ([`Output::Adopt`]), nothing runs;
//! 2. claim the lease (a random token, `ttl` = the lease time). Won: read once more (the
//!    previous holder may have stored its result and let go between the read and the claim),
//!    then [`Output::Run`] while holding it, renewing it every third of the lease time, and
//!    [`Output::Release`] when the driver says the work is [`Input::Finished`]. Lost: tell the
//!    waiting once ([`Output::Waiting`]), wake after [`Config::poll_ms`] and go back to 1, until
//!    [`Config::deadline_ms`] (on this process's clock) has passed: then [`Output::Fail`] or an
//!    unguarded [`Output::Run`], as [`Config::on_deadline`] says.
//!
//! The rules for what goes wrong (tested in `tests/sim`):
//! - **No token, no claim.** Without a random token (the draw failed) the machine never
//!   claims: two holders must never share a token, so there is no fallback token. It is
//!   trouble like a failed claim ([`Config::on_trouble`]): refused ([`Output::Fail`]), or run
//!   unguarded and reported ([`Output::Trouble`]).
//! - **The store's word decides** whether a lease is held: the machine never compares a time of
//!   another process with its own clock (clocks may disagree), only durations on its own clock.
//! - **A holder that stalls past its lease** (a paused process, a renew that came too late):
//!   its next renew is still sent. If the store accepts it nobody took the key meanwhile and
//!   the lease goes on; if the store refuses it (another process holds it, or it lapsed), the
//!   holder is told once ([`Output::LeaseLost`]) and stops renewing. The work it already
//!   started finishes with the same key (one effect per key is the server's key check), and its
//!   release is a compare-and-delete that cannot free the new holder's lease.
//! - **A process that stalls between winning the claim and starting the work** for a whole
//!   lease (on its own clock) does not start on it: it claims again (the lease may have gone to
//!   another process meanwhile).
//! - **A renew answered late** keeps the lease when the store accepted it; the next renew is
//!   due a third of the lease after the late one was sent (at once if that time has passed).
//! - **A renew that fails** (the store did not answer) is tried again at the next renew time;
//!   once a whole lease time has passed on this process's clock since the last renew the store
//!   accepted, the lease is presumed lost ([`Output::LeaseLost`]).
//! - **A store that loses its data** (restarted, evicted): a waiting process finds neither a
//!   result nor a holder and runs the work itself with the same key; the old holder learns at
//!   its next renew that its lease is gone ([`Output::LeaseLost`]).
//! - **A claim or read that fails**: [`Config::on_trouble`] says whether the work is refused
//!   ([`Output::Fail`]) or run without a lease ([`Output::Run`] with `guarded: false`).

use std::collections::VecDeque;

/// How [`Output::Trouble`] ends: what happens next.
const UNGUARDED: &str = "; going on with the same key without a lease";

/// How long a waiting process sleeps between two looks at the store, by default: 100 ms.
pub const POLL_MS: u64 = 100;

/// What the machine does when waiting has gone on too long or the store fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// Refuse: the work is not run here ([`Output::Fail`]).
    Fail,
    /// Run it anyway, unguarded (the server's key check still holds): [`Output::Run`] with
    /// `guarded: false`.
    Proceed,
}

/// The machine's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long a lease lasts unless renewed (its holder renews it every third of that).
    pub lease_ms: u64,
    /// How long to wait for another holder, on this process's clock.
    pub deadline_ms: u64,
    /// How long to sleep between two looks while another process holds the lease.
    pub poll_ms: u64,
    /// When the deadline passes.
    pub on_deadline: Fallback,
    /// When a read or a claim fails.
    pub on_trouble: Fallback,
}

impl Config {
    /// The settings with the default poll interval.
    pub fn new(
        lease_ms: u64,
        deadline_ms: u64,
        on_deadline: Fallback,
        on_trouble: Fallback,
    ) -> Self {
        Config {
            lease_ms: lease_ms.max(1),
            deadline_ms,
            poll_ms: POLL_MS,
            on_deadline,
            on_trouble,
        }
    }

    /// How often a holder renews: every third of the lease.
    pub fn renew_every(&self) -> u64 {
        (self.lease_ms / 3).max(1)
    }
}

/// What happened, as the driver tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The answer to [`Output::Read`]: whether a result is stored (the work is done).
    Read {
        /// A result is stored.
        done: bool,
    },
    /// [`Output::Read`] failed.
    ReadFailed(String),
    /// The answer to [`Output::Claim`]: whether this process holds the lease now.
    Claimed {
        /// This process holds the lease now.
        won: bool,
    },
    /// [`Output::Claim`] failed (the store did not answer).
    ClaimFailed(String),
    /// The answer to [`Output::Renew`]: whether the store still held this lease's token.
    Renewed {
        /// The store still held this lease's token (and extended it).
        held: bool,
    },
    /// [`Output::Renew`] failed (the store did not answer).
    RenewFailed(String),
    /// The work [`Output::Run`] started is over (its result stored when it had one).
    Finished,
    /// The time the machine asked to be woken at ([`Exclusive::poll_timeout`]) has come.
    Tick,
}

/// What the driver carries out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Read the stored result; answer with [`Input::Read`] or [`Input::ReadFailed`].
    Read,
    /// Create the lease entry with this token if absent (`claim(key, token, ttl_ms)`); answer
    /// with [`Input::Claimed`] or [`Input::ClaimFailed`].
    Claim {
        /// This process's random token.
        token: String,
        /// The lease time.
        ttl_ms: u64,
    },
    /// Extend the lease if the store still holds this token; answer with [`Input::Renewed`] or
    /// [`Input::RenewFailed`].
    Renew {
        /// This process's random token.
        token: String,
        /// The lease time.
        ttl_ms: u64,
    },
    /// Delete the lease entry if it still holds this token (no answer needed).
    Release {
        /// This process's random token.
        token: String,
    },
    /// Another process holds the key: this one waits (told once).
    Waiting,
    /// A stored result answers: adopt it, run nothing. `waited`: after waiting for another
    /// holder.
    Adopt {
        /// After waiting for another holder.
        waited: bool,
    },
    /// Do the work now; `guarded`: under this process's lease (else without one, by the
    /// fallback). Answer with [`Input::Finished`] when it is over.
    Run {
        /// Under this process's lease (else without one).
        guarded: bool,
    },
    /// The lease was lost while the work ran (told once): see the module docs.
    LeaseLost(String),
    /// Not run here, for this reason (the machine is over).
    Fail(String),
    /// A problem worth reporting that did not stop the machine (a claim that failed before an
    /// unguarded run).
    Trouble(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not started yet.
    Idle,
    /// Waiting for the answer to a read before claiming.
    Reading,
    /// Waiting for the answer to a claim.
    Claiming,
    /// Holding the lease: reading once more before running.
    Confirming,
    /// Waiting to look again (another process holds the lease).
    Sleeping,
    /// The work runs (`guarded`: under the lease).
    Running { guarded: bool },
    /// A renew is out.
    Renewing,
    /// Over.
    Done,
}

/// One key's exclusivity: see the module docs.
#[derive(Debug)]
pub struct Exclusive {
    config: Config,
    token: Option<String>,
    state: State,
    started: u64,
    waited: bool,
    /// When this process last had the store's word that it holds the lease (own clock).
    held_since: u64,
    /// When the renew that is out (or the last one) was sent (own clock).
    renew_sent: u64,
    /// Whether the lease is still believed held (false once lost, released or never won).
    holding: bool,
    wake: Option<u64>,
    out: VecDeque<Output>,
}

impl Exclusive {
    /// A machine for one key. `token` is the lease's random token; `None` (the random draw
    /// failed) means no claim at [`Exclusive::start`]: a token is never made up.
    pub fn new(config: Config, token: Option<String>) -> Self {
        Exclusive {
            config,
            token: token.filter(|t| !t.is_empty()),
            state: State::Idle,
            started: 0,
            waited: false,
            held_since: 0,
            renew_sent: 0,
            holding: false,
            wake: None,
            out: VecDeque::new(),
        }
    }

    /// Starts at `now` (this process's clock): the first output is a read, or (no token) the
    /// trouble rule's refusal or unguarded run.
    pub fn start(&mut self, now: u64) {
        if self.state != State::Idle {
            return;
        }
        self.started = now;
        if self.token.is_none() {
            // Never a made-up or shared token: no claim at all.
            self.trouble(
                "no random lease token could be drawn, so no claim was made".into(),
                now,
            );
            return;
        }
        self.read();
    }

    /// The next thing to carry out, if any.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to feed [`Input::Tick`] (this process's clock), if the machine waits for a time.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.wake
    }

    /// True once the machine has nothing more to do (adopted, failed, or finished and released).
    pub fn is_over(&self) -> bool {
        self.state == State::Done
    }

    /// True while this process believes it holds the lease.
    pub fn is_holding(&self) -> bool {
        self.holding
    }

    /// Feeds what happened at `now`. Inputs that do not fit the state (a late answer, a tick
    /// that came too early) are ignored.
    pub fn handle(&mut self, input: Input, now: u64) {
        match (self.state, input) {
            (State::Reading, Input::Read { done: true }) => {
                let waited = self.waited;
                self.finish(Output::Adopt { waited });
            }
            (State::Reading, Input::Read { done: false }) => {
                self.state = State::Claiming;
                self.out.push_back(Output::Claim {
                    token: self.token(),
                    ttl_ms: self.config.lease_ms,
                });
            }
            (State::Reading | State::Confirming, Input::ReadFailed(e)) => {
                self.trouble(e, now);
            }
            (State::Claiming, Input::Claimed { won: true }) => {
                self.holding = true;
                self.held_since = now;
                self.state = State::Confirming;
                self.out.push_back(Output::Read);
            }
            (State::Claiming, Input::Claimed { won: false }) => {
                if !self.waited {
                    self.waited = true;
                    self.out.push_back(Output::Waiting);
                }
                if now.saturating_sub(self.started) > self.config.deadline_ms {
                    let reason = format!(
                        "another process has held this key for more than {} ms",
                        self.config.deadline_ms
                    );
                    match self.config.on_deadline {
                        Fallback::Fail => self.finish(Output::Fail(reason)),
                        Fallback::Proceed => {
                            self.out
                                .push_back(Output::Trouble(format!("{reason}{UNGUARDED}")));
                            self.run(false, now);
                        }
                    }
                } else {
                    self.state = State::Sleeping;
                    self.wake = Some(now.saturating_add(self.config.poll_ms));
                }
            }
            (State::Claiming, Input::ClaimFailed(e)) => self.trouble(e, now),
            (State::Confirming, Input::Read { done: true }) => {
                self.release();
                let waited = self.waited;
                self.finish(Output::Adopt { waited });
            }
            (State::Confirming, Input::Read { done: false })
                if now.saturating_sub(self.held_since) >= self.config.lease_ms =>
            {
                // Stalled between the claim and the work for a whole lease: the lease may have
                // lapsed and gone to another process. Claim it again rather than run on it.
                self.release();
                self.state = State::Claiming;
                self.out.push_back(Output::Claim {
                    token: self.token(),
                    ttl_ms: self.config.lease_ms,
                });
            }
            (State::Confirming, Input::Read { done: false }) => self.run(true, now),
            (State::Sleeping, Input::Tick) if self.wake.is_some_and(|w| now >= w) => {
                self.wake = None;
                self.read();
            }
            (State::Running { guarded: true }, Input::Tick)
                if self.wake.is_some_and(|w| now >= w) =>
            {
                self.wake = None;
                self.state = State::Renewing;
                self.renew_sent = now;
                self.out.push_back(Output::Renew {
                    token: self.token(),
                    ttl_ms: self.config.lease_ms,
                });
            }
            (State::Renewing, Input::Renewed { held: true }) => {
                // The store extended it at some moment after the renew left: counted from
                // then, and the next renew is due a third of the lease after that, not after
                // the (maybe late) answer.
                self.held_since = self.renew_sent;
                self.state = State::Running { guarded: true };
                self.wake =
                    Some(now.max(self.renew_sent.saturating_add(self.config.renew_every())));
            }
            (State::Renewing, Input::Renewed { held: false }) => {
                self.lost(
                    "the lease lapsed while its holder was still running (another process may take over with the same key)".into(),
                );
            }
            (State::Renewing, Input::RenewFailed(e)) => {
                if now.saturating_sub(self.held_since) >= self.config.lease_ms {
                    self.lost(format!(
                        "a lease could not be renewed for its whole time ({e}); it is presumed lost"
                    ));
                } else {
                    self.state = State::Running { guarded: true };
                    self.wake =
                        Some(now.max(self.renew_sent.saturating_add(self.config.renew_every())));
                }
            }
            (State::Running { .. } | State::Renewing, Input::Finished) => {
                self.release();
                self.wake = None;
                self.state = State::Done;
            }
            _ => {}
        }
    }

    fn token(&self) -> String {
        self.token.clone().unwrap_or_default()
    }

    fn read(&mut self) {
        self.state = State::Reading;
        self.out.push_back(Output::Read);
    }

    fn run(&mut self, guarded: bool, now: u64) {
        self.state = State::Running { guarded };
        self.wake = guarded.then(|| now.saturating_add(self.config.renew_every()));
        self.out.push_back(Output::Run { guarded });
    }

    fn release(&mut self) {
        if self.holding {
            self.holding = false;
            self.out.push_back(Output::Release {
                token: self.token(),
            });
        }
    }

    fn lost(&mut self, reason: String) {
        self.holding = false;
        self.wake = None;
        self.state = State::Running { guarded: false };
        self.out.push_back(Output::LeaseLost(reason));
    }

    fn trouble(&mut self, e: String, now: u64) {
        match self.config.on_trouble {
            Fallback::Fail => {
                self.release();
                self.finish(Output::Fail(e));
            }
            Fallback::Proceed => {
                self.release();
                self.out
                    .push_back(Output::Trouble(format!("{e}{UNGUARDED}")));
                self.run(false, now);
            }
        }
    }

    fn finish(&mut self, last: Output) {
        self.wake = None;
        self.state = State::Done;
        self.out.push_back(last);
    }
}

/// After waiting for another tab's Web Lock: that tab's record may reach this tab's storage a
/// little after the lock. Read it every `every_ms` for at most `settle_ms`: adopt it as soon as
/// it is there, else go on.
#[derive(Debug)]
pub struct Settle {
    every_ms: u64,
    until: u64,
    wake: Option<u64>,
    out: VecDeque<SettleOutput>,
    over: bool,
}

/// What [`Settle`] asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettleOutput {
    /// Read the stored record; answer with [`Settle::read`].
    Read,
    /// The other tab's result is there: adopt it.
    Adopt,
    /// Stop looking: go on (send, run) with what this tab has.
    GoOn,
}

/// What a settle read found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// A result to adopt.
    Adoptable,
    /// A record that is finished but not adoptable: no point in waiting longer.
    Finished,
    /// Nothing yet.
    Nothing,
}

impl Settle {
    /// Starts looking at `now` for at most `settle_ms`, every `every_ms`.
    pub fn new(now: u64, settle_ms: u64, every_ms: u64) -> Self {
        let mut out = VecDeque::new();
        out.push_back(SettleOutput::Read);
        Settle {
            every_ms: every_ms.max(1),
            until: now.saturating_add(settle_ms),
            wake: None,
            out,
            over: false,
        }
    }

    /// The next thing to carry out.
    pub fn poll(&mut self) -> Option<SettleOutput> {
        self.out.pop_front()
    }

    /// When to call [`Settle::tick`].
    pub fn poll_timeout(&self) -> Option<u64> {
        self.wake
    }

    /// True once adopted or gone on.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// What a read found at `now`.
    pub fn read(&mut self, found: Found, now: u64) {
        if self.over {
            return;
        }
        match found {
            Found::Adoptable => self.end(SettleOutput::Adopt),
            Found::Finished => self.end(SettleOutput::GoOn),
            Found::Nothing if now >= self.until => self.end(SettleOutput::GoOn),
            Found::Nothing => self.wake = Some(now.saturating_add(self.every_ms).min(self.until)),
        }
    }

    /// The time asked for has come.
    pub fn tick(&mut self, now: u64) {
        if self.wake.is_some_and(|w| now >= w) {
            self.wake = None;
            self.out.push_back(SettleOutput::Read);
        }
    }

    fn end(&mut self, last: SettleOutput) {
        self.over = true;
        self.wake = None;
        self.out.push_back(last);
    }
}
