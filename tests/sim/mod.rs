//! A simulated idempotency-key server and a fake-clock driver for the action state machine.
//!
//! The server follows the IETF draft "The Idempotency-Key HTTP Header Field": the first request
//! with a key executes and stores its response; a request with the same key and other data gets
//! 422 (or 417, like some real middlewares); a repeat gets the stored response with its
//! original status and `Idempotent-Replayed: true`. Faults are scripted per attempt, so a test
//! says exactly what the network and the server do to each request.
//!
//! The driver runs a machine to rest the way quinn-proto's tests do: it pulls outputs, answers
//! `Transmit` and `Poll` through the server, and jumps the clock to `poll_timeout()` instead
//! of sleeping. Everything it sees is recorded for the assertions.
#![allow(dead_code)]

use std::collections::HashMap;

use sendonce::core::action::{ActionConfig, ActionMachine, Input, Note, Outcome, Output};
use sendonce::core::error::SendonceError;
use sendonce::core::fingerprint::sha256_hex;
use sendonce::core::key::{validate_key, Key};
use sendonce::core::record::{ActionRecord, StoredRequest};
use sendonce::core::reply::Reply;
use sendonce::core::retry::RetryPolicy;
use sendonce::core::run::{Command, Done, Failure, Hooked, Run};
use sendonce::core::status::StatusCode;
use sendonce::core::window::{ActionKind, Window};

/// Wed, 21 Oct 2015 07:27:50 GMT: the fake clock starts here, so HTTP dates are easy to write.
pub const T0: u64 = 1_445_412_470_000;
/// How long the simulated network takes to answer.
pub const LATENCY_MS: u64 = 20;
/// The key every test action uses.
pub const KEY: &str = "0f8e1c2a-3b4d-4e5f-8a6b-7c8d9e0f1a2b";
/// The header that carries the key.
pub const KEY_HEADER: &str = "Idempotency-Key";

/// What happens to one attempt, in the order the attempts arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: the server answers as the draft says.
    None,
    /// The connection fails before the server sees the request.
    DropBefore,
    /// The server executes and stores the result, then the answer is lost: the effect happened
    /// but the client sees a network error.
    DropAfterCommit,
    /// The attempt hangs until the client's per-attempt timeout; the server never saw it.
    Timeout,
    /// The server executes, then the client times out before the answer arrives.
    TimeoutAfterCommit,
    /// The server answers this status without executing (500, 502, 503, 504, 408).
    Status(u16),
    /// The server answers this status (429 or 503) with this `Retry-After` value.
    RetryAfter(u16, String),
    /// 409: a request with this key is still being processed elsewhere. The body is HTML
    /// when `html`.
    InProgress {
        /// `Retry-After` value, if any.
        retry_after: Option<String>,
        /// Answer with an HTML page instead of problem+json.
        html: bool,
    },
    /// The server tries to execute, fails with this 5xx and stores the failure: every later
    /// request with the key gets it replayed.
    StoredFailure(u16),
    /// The server refuses the request as invalid: 400 with a problem+json `detail`.
    Invalid(String),
}

/// How the simulated server behaves on the whole.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Status for a key reused with other data: 422 (the draft) or 417.
    pub mismatch_status: u16,
    /// The replay marker the server sends, exactly as spelled; `None` for servers that send none.
    pub replay_header: Option<(String, String)>,
    /// When set, the server answers 202 + `Location` and the job goes through these states,
    /// one per poll (the last one stays).
    pub job: Option<Vec<&'static str>>,
    /// 202 with the job URL in a `statusUrl` body field instead of `Location`.
    pub job_url_in_body: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            mismatch_status: 422,
            replay_header: Some(("Idempotent-Replayed".into(), "true".into())),
            job: None,
            job_url_in_body: false,
        }
    }
}

#[derive(Debug, Clone)]
struct Stored {
    fingerprint: String,
    reply: Reply,
}

/// What the network gave back for a request.
#[derive(Debug, Clone, PartialEq)]
pub enum NetResult {
    /// An HTTP answer.
    Reply(Reply),
    /// No answer: the connection failed.
    NetworkError,
    /// No answer within the attempt's timeout.
    Timeout,
}

/// The simulated server.
#[derive(Debug, Clone, Default)]
pub struct Server {
    /// Behaviour.
    pub config: ServerConfig,
    /// Faults for the 1st, 2nd, ... request; later requests see no fault.
    pub script: Vec<Fault>,
    /// Requests received (or attempted) so far.
    pub requests: usize,
    /// Effects (executions that did the user's action) per key.
    pub effects: HashMap<String, u32>,
    stored: HashMap<String, Stored>,
    /// Polls per job URL.
    pub polls: HashMap<String, usize>,
    next_id: u32,
}

impl Server {
    /// A server with the default behaviour and this fault script.
    pub fn new(script: Vec<Fault>) -> Self {
        Server {
            script,
            ..Default::default()
        }
    }

    /// A server with this behaviour and fault script.
    pub fn with(config: ServerConfig, script: Vec<Fault>) -> Self {
        Server {
            config,
            script,
            ..Default::default()
        }
    }

    /// Effects done for `key`.
    pub fn effects_of(&self, key: &str) -> u32 {
        self.effects.get(key).copied().unwrap_or(0)
    }

    /// Answers one request.
    pub fn handle(&mut self, req: &StoredRequest) -> NetResult {
        let fault = self
            .script
            .get(self.requests)
            .cloned()
            .unwrap_or(Fault::None);
        self.requests += 1;
        let Some(key) = header(&req.headers, KEY_HEADER).map(str::to_string) else {
            return NetResult::Reply(problem(400, "Idempotency-Key is missing"));
        };
        match &fault {
            Fault::DropBefore => return NetResult::NetworkError,
            Fault::Timeout => return NetResult::Timeout,
            Fault::Status(s) => return NetResult::Reply(problem(*s, "try again")),
            Fault::RetryAfter(s, v) => {
                let mut r = problem(*s, "slow down");
                r.headers.push(("Retry-After".into(), v.clone()));
                return NetResult::Reply(r);
            }
            Fault::InProgress { retry_after, html } => {
                let mut r = if *html {
                    Reply {
                        status: 409,
                        headers: vec![("Content-Type".into(), "text/html".into())],
                        body: "<html><body><h1>409 Conflict</h1></body></html>".into(),
                    }
                } else {
                    problem(409, "A request with this key is being processed")
                };
                if let Some(v) = retry_after {
                    r.headers.push(("Retry-After".into(), v.clone()));
                }
                return NetResult::Reply(r);
            }
            Fault::Invalid(detail) => return NetResult::Reply(problem(400, detail)),
            _ => {}
        }
        let fingerprint = format!(
            "{} {} {}",
            req.method,
            req.url,
            req.body.as_deref().unwrap_or("")
        );
        if let Some(stored) = self.stored.get(&key) {
            if stored.fingerprint != fingerprint {
                let s = self.config.mismatch_status;
                return NetResult::Reply(problem(s, "This key was used with other data"));
            }
            let mut r = stored.reply.clone();
            if let Some((name, value)) = &self.config.replay_header {
                r.headers.push((name.clone(), value.clone()));
            }
            return self.after_commit(&fault, r);
        }
        let reply = if let Fault::StoredFailure(s) = fault {
            problem(s, "internal error")
        } else {
            *self.effects.entry(key.clone()).or_insert(0) += 1;
            self.next_id += 1;
            let id = self.next_id;
            match &self.config.job {
                Some(_) => {
                    let url = format!("/jobs/{id}");
                    let mut r = Reply {
                        status: 202,
                        headers: vec![("Content-Type".into(), "application/json".into())],
                        body: format!(r#"{{"statusUrl":"{url}"}}"#),
                    };
                    if !self.config.job_url_in_body {
                        r.headers.push(("Location".into(), url));
                        r.body = "{}".into();
                    }
                    r
                }
                None => Reply {
                    status: 201,
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: format!(r#"{{"id":{id}}}"#),
                },
            }
        };
        self.stored.insert(
            key,
            Stored {
                fingerprint,
                reply: reply.clone(),
            },
        );
        self.after_commit(&fault, reply)
    }

    fn after_commit(&self, fault: &Fault, reply: Reply) -> NetResult {
        match fault {
            Fault::DropAfterCommit => NetResult::NetworkError,
            Fault::TimeoutAfterCommit => NetResult::Timeout,
            _ => NetResult::Reply(reply),
        }
    }

    /// Answers a job status poll: the job's next state.
    pub fn poll(&mut self, url: &str) -> Reply {
        let states = self.config.job.clone().unwrap_or_default();
        let n = self.polls.entry(url.to_string()).or_insert(0);
        let state = states.get(*n).or(states.last()).copied().unwrap_or("done");
        *n += 1;
        let body = if state == "error" {
            r#"{"state":"error","error":"The card was declined"}"#.to_string()
        } else {
            format!(r#"{{"state":"{state}"}}"#)
        };
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
        }
    }
}

/// A problem+json reply.
pub fn problem(status: u16, detail: &str) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/problem+json".into())],
        body: format!(r#"{{"title":"Error","detail":"{detail}"}}"#),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The order request every test sends.
pub fn request() -> StoredRequest {
    StoredRequest {
        url: "/api/orders".into(),
        method: "POST".into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(r#"{"item":"tea","qty":2}"#.into()),
        ..Default::default()
    }
}

/// The key every test action uses.
pub fn key() -> Key {
    validate_key(KEY).unwrap()
}

/// An action config with this retry policy.
pub fn config(retry: RetryPolicy) -> ActionConfig {
    ActionConfig {
        key: key(),
        action: "createOrder".into(),
        kind: ActionKind::Default,
        fingerprint: sha256_hex(request().body.unwrap().as_bytes()),
        window: Window::parse("1m").unwrap(),
        retry,
        header_name: KEY_HEADER.into(),
        replay_header: "Idempotent-Replayed".into(),
        headers_hook: false,
        idempotent: true,
        again: false,
    }
}

/// One request as it left the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// When (fake clock).
    pub at: u64,
    /// Attempt number the machine gave it.
    pub attempt: u32,
    /// The timeout the request was given (what the `headers` hook left of the attempt's).
    pub timeout_ms: u64,
    /// The key header's value.
    pub key: Option<String>,
    /// URL.
    pub url: String,
    /// Method.
    pub method: String,
    /// All headers, key included.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Option<String>,
    /// What came back.
    pub result: NetResult,
}

/// Everything the driver saw, in order.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // a test log, not a hot path
pub enum Step {
    /// A request went out (index into `Driver::sent`).
    Transmit(usize),
    /// A job poll went out.
    Poll(String),
    /// The `headers` hook was called for this attempt.
    Hook(u32),
    /// A record was written.
    Persist(ActionRecord),
    /// A status was shown.
    Status(StatusCode, Option<String>),
    /// A decision was logged.
    Event(Note),
    /// The action came to rest.
    Settled(Outcome),
}

/// Where the driver's random numbers come from.
#[derive(Debug, Clone)]
pub enum Random {
    /// Always this number.
    Fixed(u32),
    /// xorshift64 from this state.
    Xorshift(u64),
}

impl Random {
    fn next(&mut self) -> u32 {
        match self {
            Random::Fixed(n) => *n,
            Random::Xorshift(s) => {
                let mut x = (*s).max(1);
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *s = x;
                (x >> 32) as u32
            }
        }
    }
}

/// Runs one machine against the server on a fake clock.
pub struct Driver {
    /// The fake clock.
    pub now: u64,
    /// The machine under test.
    pub machine: ActionMachine,
    /// The simulated server.
    pub server: Server,
    /// Every request that left.
    pub sent: Vec<Sent>,
    /// Everything, in order.
    pub steps: Vec<Step>,
    /// Random numbers for jitter.
    pub rng: Random,
    /// Network is down: every request fails before reaching the server.
    pub network_down: bool,
    /// Steps taken by the last `run`, to catch a machine that never rests.
    pub max_steps: usize,
    /// The run: what is carried out next (`core::run`, as the JS shell carries it out).
    pub engine: Run,
    /// What the last command brought back, for the next step.
    done: Option<Done>,
    /// What the `headers` hook answers, attempt after attempt (the machine calls it when its
    /// config says the page has one); empty: headers `X-Hook: 1` at once.
    pub hook_script: Vec<HookAnswer>,
    /// The instance was disposed.
    pub disposed: bool,
}

/// What the `headers` hook does for one attempt.
#[derive(Debug, Clone)]
pub enum HookAnswer {
    /// Answers these headers after this many ms.
    Headers(Vec<(String, String)>, u64),
    /// Throws (a token service that is down).
    Throws,
    /// Never settles: the attempt's timeout ends it.
    Hangs,
    /// Answers something that is not headers.
    Nonsense,
}

impl Driver {
    /// A fresh machine at `T0` against `server`.
    pub fn new(retry: RetryPolicy, server: Server) -> Self {
        Driver::with_machine(ActionMachine::new(config(retry), T0), server)
    }

    /// A driver around an existing machine (for example a restored one).
    pub fn with_machine(machine: ActionMachine, server: Server) -> Self {
        Driver {
            now: T0,
            machine,
            server,
            sent: Vec::new(),
            steps: Vec::new(),
            rng: Random::Xorshift(0x9E37_79B9_7F4A_7C15),
            network_down: false,
            max_steps: 100_000,
            engine: Run::new(),
            done: None,
            hook_script: Vec::new(),
            disposed: false,
        }
    }

    /// Feeds one input now.
    pub fn input(&mut self, input: Input) {
        let r = self.rng.next();
        self.machine.handle(input, self.now, r);
    }

    /// Sends the standard request and runs to rest.
    pub fn send(&mut self) -> &mut Self {
        self.input(Input::Send(Some(request())));
        self.run();
        self
    }

    /// Carries out the run's commands (`core::run`, the sequence the JS shell carries out)
    /// and jumps the clock over its waits, until it rests. Panics when it never rests.
    pub fn run(&mut self) {
        let mut steps = 0usize;
        while self.step() {
            steps += 1;
            assert!(
                steps < self.max_steps,
                "the machine did not come to rest after {steps} steps"
            );
        }
    }

    /// Carries out one command of the run; false when it rests.
    pub fn step(&mut self) -> bool {
        let done = self.done.take().unwrap_or(Done::Nothing);
        let rng = &mut self.rng;
        let command = self.engine.step(
            &mut self.machine,
            done,
            self.now,
            || rng.next(),
            self.disposed,
        );
        match command {
            Command::Hook {
                attempt,
                timeout_ms,
                ..
            } => {
                self.steps.push(Step::Hook(attempt));
                let answer = if self.hook_script.is_empty() {
                    HookAnswer::Headers(vec![("X-Hook".into(), "1".into())], 0)
                } else {
                    self.hook_script.remove(0)
                };
                self.done = Some(Done::Hooked(match answer {
                    HookAnswer::Headers(h, ms) => {
                        self.now += ms.min(timeout_ms);
                        if ms >= timeout_ms {
                            Hooked::TimedOut
                        } else {
                            Hooked::Headers(h)
                        }
                    }
                    HookAnswer::Throws => Hooked::Failed("token service down".into()),
                    HookAnswer::Hangs => {
                        self.now += timeout_ms;
                        Hooked::TimedOut
                    }
                    HookAnswer::Nonsense => Hooked::Invalid(SendonceError::InvalidHook(
                        "the `headers` hook returned a number".into(),
                    )),
                }));
            }
            Command::Fetch {
                attempt,
                request,
                timeout_ms,
            } => {
                let result = if self.network_down {
                    NetResult::NetworkError
                } else {
                    self.server.handle(&request)
                };
                self.sent.push(Sent {
                    at: self.now,
                    attempt,
                    timeout_ms,
                    key: header(&request.headers, KEY_HEADER).map(str::to_string),
                    url: request.url.clone(),
                    method: request.method.clone(),
                    headers: request.headers.clone(),
                    body: request.body.clone(),
                    result: result.clone(),
                });
                self.steps.push(Step::Transmit(self.sent.len() - 1));
                self.done = Some(Done::Reply(match result {
                    NetResult::Reply(r) => {
                        self.now += LATENCY_MS;
                        Ok(r)
                    }
                    NetResult::NetworkError => {
                        self.now += LATENCY_MS;
                        Err(Failure::Network)
                    }
                    NetResult::Timeout => {
                        self.now += timeout_ms;
                        Err(Failure::Timeout)
                    }
                }));
            }
            Command::Poll { url, .. } => {
                self.steps.push(Step::Poll(url.clone()));
                self.now += LATENCY_MS;
                self.done = Some(Done::Reply(if self.network_down {
                    Err(Failure::Network)
                } else {
                    Ok(self.server.poll(&url))
                }));
            }
            Command::Write(r) => self.steps.push(Step::Persist(r)),
            Command::Sleep(ms) => self.now += ms,
            Command::Status { code, reason } => self.steps.push(Step::Status(code, reason)),
            Command::Event(e) => self.steps.push(Step::Event(Note {
                kind: e.kind,
                attempt: e.attempt,
                http_status: e.status,
                ms: e.ms,
            })),
            Command::Attempted { .. } => {}
            Command::Settled(o) => self.steps.push(Step::Settled(o)),
            Command::Rest => return false,
        }
        true
    }

    /// The statuses shown, in order.
    pub fn statuses(&self) -> Vec<StatusCode> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Status(c, _) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// The event kinds logged, in order.
    pub fn events(&self) -> Vec<&'static str> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Event(n) => Some(n.kind.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The notes logged, in order.
    pub fn notes(&self) -> Vec<Note> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Event(n) => Some(*n),
                _ => None,
            })
            .collect()
    }

    /// Every outcome settled, in order.
    pub fn settled(&self) -> Vec<Outcome> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Settled(o) => Some(o.clone()),
                _ => None,
            })
            .collect()
    }

    /// The last outcome settled.
    pub fn outcome(&self) -> Outcome {
        self.settled().pop().expect("the action never settled")
    }

    /// The records written, in order.
    pub fn persisted(&self) -> Vec<ActionRecord> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Persist(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    /// Job polls made.
    pub fn polls(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Poll(_)))
            .count()
    }
}

/// One action of a page as the lifecycle simulation keeps it: its machine and the request it
/// was told to send but has not sent yet (a `Transmit` pulled and not answered).
pub struct LiveAction {
    /// The machine.
    pub machine: ActionMachine,
    /// A `Transmit` pulled from the machine, not carried out yet.
    pub transmit: Option<Output>,
}

/// Pages (or processes) one after the other over one storage and one server, on a fake clock,
/// driven by a seed: users create actions, the page reloads (with or without `autoResume`),
/// goes offline and online, is disposed, resumes pending actions by hand, and the network
/// loses requests and answers. The core decides everything (`pending_view`, `restore`,
/// `restored_status`); this only carries out, as the wasm driver does. It checks the
/// invariants as it goes: one key per user action for ever, one effect per key, and an
/// uncertain action never sent again on its own.
pub struct Lifecycle {
    /// The fake clock.
    pub now: u64,
    /// The server every page talks to.
    pub server: Server,
    /// What storage holds: the last record written per key.
    pub store: HashMap<String, ActionRecord>,
    /// The live actions of the current page (none after a dispose, until the next page).
    pub live: Vec<LiveAction>,
    /// The page is offline: requests fail before they leave.
    pub offline: bool,
    /// The user's actions, by body: (key, idempotent).
    pub actions: Vec<(String, String, bool)>,
    /// Keys whose request may have reached a target that honours no key without an answer:
    /// nothing may be sent for them any more (the simulation never presses "Retry").
    pub uncertain: Vec<String>,
    /// Requests sent per key.
    pub requests: HashMap<String, u32>,
    rng: Random,
}

impl Lifecycle {
    /// An empty world at `T0`, with the server's first requests meeting `script`.
    pub fn new(seed: u64, script: Vec<Fault>) -> Self {
        Lifecycle {
            now: T0,
            server: Server::new(script),
            store: HashMap::new(),
            live: Vec::new(),
            offline: false,
            actions: Vec::new(),
            uncertain: Vec::new(),
            requests: HashMap::new(),
            rng: Random::Xorshift(seed.max(1)),
        }
    }

    /// A random number below `n`.
    pub fn below(&mut self, n: u32) -> u32 {
        self.rng.next() % n.max(1)
    }

    fn config(&self, key: &str, idempotent: bool) -> ActionConfig {
        let mut cfg = config(RetryPolicy {
            attempts: 3,
            base_delay_ms: 100,
            max_delay_ms: 1_000,
            timeout_ms: 2_000,
            deadline_ms: 20_000,
        });
        cfg.key = validate_key(key).unwrap();
        cfg.idempotent = idempotent;
        cfg
    }

    /// The user does something new: an action with its own body and a fresh key, sent at once.
    /// Its record is written before anything else happens (the driver writes it in the same
    /// task as the click).
    pub fn new_action(&mut self, idempotent: bool) {
        let n = self.actions.len();
        let key = format!("k-{n}");
        let mut req = request();
        req.body = Some(format!(r#"{{"order":{n}}}"#));
        let body = req.body.clone().unwrap();
        self.actions.push((body, key.clone(), idempotent));
        let mut machine = ActionMachine::new(self.config(&key, idempotent), self.now);
        if self.offline {
            machine.handle(Input::Offline, self.now, 0);
        }
        let r = self.rng.next();
        machine.handle(Input::Send(Some(req)), self.now, r);
        self.live.push(LiveAction {
            machine,
            transmit: None,
        });
        let i = self.live.len() - 1;
        self.drain(i);
    }

    /// Carries out a machine's outputs until its next request (kept in `transmit`).
    fn drain(&mut self, i: usize) {
        while self.live[i].transmit.is_none() {
            let Some(out) = self.live[i].machine.poll() else {
                return;
            };
            match out {
                Output::Persist(r) => {
                    self.store.insert(r.key.to_string(), r);
                }
                Output::Transmit { .. } | Output::Poll { .. } => self.live[i].transmit = Some(out),
                _ => {}
            }
        }
    }

    /// Carries out one request of the page: the network and the server answer it.
    pub fn step(&mut self) -> bool {
        let ready: Vec<usize> = (0..self.live.len())
            .filter(|&i| self.live[i].transmit.is_some())
            .collect();
        if ready.is_empty() {
            return self.advance();
        }
        let i = ready[self.below(ready.len() as u32) as usize];
        let out = self.live[i].transmit.take().unwrap();
        let input = match out {
            Output::Transmit {
                request,
                timeout_ms,
                ..
            } => self.transmit(&request, timeout_ms),
            Output::Poll { url, .. } => {
                self.now += LATENCY_MS;
                Input::PollReply(self.server.poll(&url))
            }
            _ => unreachable!(),
        };
        let r = self.rng.next();
        self.live[i].machine.handle(input, self.now, r);
        self.drain(i);
        true
    }

    fn transmit(&mut self, request: &StoredRequest, timeout_ms: u64) -> Input {
        let key = header(&request.headers, KEY_HEADER).unwrap().to_string();
        let body = request.body.clone().unwrap();
        let (_, own, idempotent) = self
            .actions
            .iter()
            .find(|(b, _, _)| *b == body)
            .cloned()
            .expect("a request of no user action");
        assert_eq!(key, own, "an action was sent under another key");
        assert!(
            !self.uncertain.contains(&key),
            "an uncertain action ({key}) was sent again on its own"
        );
        if self.offline {
            if !idempotent {
                // It may have left: the machine cannot know, and rests uncertain.
                self.uncertain.push(key);
            }
            self.now += LATENCY_MS;
            return Input::NetworkError;
        }
        *self.requests.entry(key.clone()).or_insert(0) += 1;
        let result = self.server.handle(request);
        let failed = !matches!(result, NetResult::Reply(_));
        if failed && !idempotent {
            self.uncertain.push(key.clone());
        }
        assert!(self.server.effects_of(&key) <= 1, "two effects for {key}");
        match result {
            NetResult::Reply(r) => {
                self.now += LATENCY_MS;
                Input::Reply(r)
            }
            NetResult::NetworkError => {
                self.now += LATENCY_MS;
                Input::NetworkError
            }
            NetResult::Timeout => {
                self.now += timeout_ms;
                Input::AttemptTimeout
            }
        }
    }

    /// Time passes to the next timer of a live action. False when nothing is waiting.
    fn advance(&mut self) -> bool {
        let next = (0..self.live.len())
            .filter_map(|i| self.live[i].machine.poll_timeout().map(|t| (t, i)))
            .min();
        let Some((at, i)) = next else { return false };
        self.now = self.now.max(at);
        self.live[i].machine.handle_timeout(self.now);
        self.drain(i);
        true
    }

    /// The page goes away (a reload, a crash, `dispose()`): every live action stops where it
    /// is. A request pulled and not answered may or may not have reached the server.
    pub fn page_gone(&mut self) {
        for i in 0..self.live.len() {
            if let Some(Output::Transmit { request, .. }) = self.live[i].transmit.take() {
                let key = header(&request.headers, KEY_HEADER).unwrap().to_string();
                let idempotent = self.live[i].machine.record().idempotent;
                if self.below(2) == 0 && !self.offline {
                    *self.requests.entry(key.clone()).or_insert(0) += 1;
                    let _ = self.server.handle(&request);
                }
                if !idempotent {
                    self.uncertain.push(key);
                }
            }
        }
        self.live.clear();
    }

    /// A new page over the same storage: `resume` true is `autoResume` (or `resumePending()`
    /// right away): the core's `pending_view` says what is sent again.
    pub fn new_page(&mut self, resume: bool) {
        self.page_gone();
        if resume {
            self.resume_pending();
        }
    }

    /// `resumePending()`: every stored action the core allows is restored and sent again;
    /// those live already are left alone (the driver finds them in its registry).
    pub fn resume_pending(&mut self) {
        let mut records: Vec<ActionRecord> = self.store.values().cloned().collect();
        records.sort_by_key(|r| r.key.to_string());
        for rec in records {
            let view = sendonce::core::action::pending_view(&rec, false);
            if !view.is_some_and(|v| v.resend) {
                continue;
            }
            if self.live.iter().any(|a| a.machine.key() == &rec.key) {
                continue;
            }
            let cfg = self.config(rec.key.as_str(), rec.idempotent);
            let mut machine = ActionMachine::restore(cfg, rec);
            if self.offline {
                machine.handle(Input::Offline, self.now, 0);
            }
            let r = self.rng.next();
            machine.handle(Input::Send(None), self.now, r);
            self.live.push(LiveAction {
                machine,
                transmit: None,
            });
            let i = self.live.len() - 1;
            self.drain(i);
        }
    }

    /// The browser goes offline or comes back (`online` resumes actions paused offline).
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
        let input = if offline {
            Input::Offline
        } else {
            Input::Online
        };
        for i in 0..self.live.len() {
            let r = self.rng.next();
            self.live[i].machine.handle(input.clone(), self.now, r);
            self.drain(i);
        }
    }

    /// Runs the page until nothing is left to do.
    pub fn settle(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the page never came to rest");
    }
}

/// Any fault the server and the network can do to one attempt, for property tests.
pub fn fault() -> impl proptest::strategy::Strategy<Value = Fault> {
    use proptest::prelude::*;
    prop_oneof![
        Just(Fault::None),
        Just(Fault::DropBefore),
        Just(Fault::DropAfterCommit),
        Just(Fault::Timeout),
        Just(Fault::TimeoutAfterCommit),
        prop::sample::select(vec![408u16, 429, 500, 502, 503, 504]).prop_map(Fault::Status),
        (prop::sample::select(vec![429u16, 503]), 0u32..100_000)
            .prop_map(|(s, secs)| Fault::RetryAfter(s, secs.to_string())),
        (prop::option::of(0u32..5), any::<bool>()).prop_map(|(ra, html)| Fault::InProgress {
            retry_after: ra.map(|s| s.to_string()),
            html
        }),
        prop::sample::select(vec![500u16, 503]).prop_map(Fault::StoredFailure),
        Just(Fault::Invalid("bad".into())),
    ]
}
