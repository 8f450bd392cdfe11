//! One action's run (`core::run`), the command sequence the JS shell carries out in pages and
//! Node, driven here on a fake clock against the simulated server: the `headers` hook and the
//! request share an attempt's timeout, what a hook that fails or answers nonsense does, a
//! cancelled attempt tells the machine nothing, a disposed instance sends nothing more; and
//! random interleavings of hooks, faults, aborts and disposal keep the promise.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use proptest::prelude::*;
use sendonce::core::action::{ActionMachine, Input};
use sendonce::core::retry::RetryPolicy;
use sendonce::core::run::{Command, Done, Failure, Run};
use sendonce::core::status::StatusCode::*;
use sim::*;

/// A driver whose page has a `headers` hook answering `hook` attempt after attempt.
fn with_hook(p: RetryPolicy, script: Vec<Fault>, hook: Vec<HookAnswer>) -> Driver {
    let mut cfg = config(p);
    cfg.headers_hook = true;
    let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(script));
    d.hook_script = hook;
    d
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_hook_is_called_before_every_attempt_and_its_key_header_never_replaces_the_actions() {
    // A shared API client that stamps a fresh key on everything it sends.
    let stamp = |n: u32| {
        HookAnswer::Headers(
            vec![
                ("idempotency-KEY".into(), format!("client-{n}")),
                ("Authorization".into(), format!("Bearer t{n}")),
            ],
            5,
        )
    };
    let mut d = with_hook(
        RetryPolicy::default(),
        vec![Fault::DropAfterCommit],
        vec![stamp(1), stamp(2)],
    );
    d.send();
    assert_eq!(d.sent.len(), 2);
    for (i, s) in d.sent.iter().enumerate() {
        assert_eq!(s.key.as_deref(), Some(KEY), "attempt {}", i + 1);
        let keys = s
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(KEY_HEADER))
            .count();
        assert_eq!(keys, 1);
        assert_eq!(
            header(&s.headers, "authorization"),
            Some(format!("Bearer t{}", i + 1).as_str())
        );
    }
    assert_eq!(d.server.effects_of(KEY), 1);
    assert_eq!(d.machine.status(), AlreadyReceived);
    let ignored = d
        .events()
        .iter()
        .filter(|e| **e == "key.header_ignored")
        .count();
    assert_eq!(
        ignored, 2,
        "one event per attempt that carried the hook's key"
    );
    let hooks: Vec<_> = d
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Hook(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(hooks, [1, 2]);
}

#[test]
fn a_slow_hook_and_the_request_share_one_attempts_timeout() {
    let p = RetryPolicy {
        timeout_ms: 10_000,
        ..RetryPolicy::default()
    };
    let mut d = with_hook(p, vec![], vec![HookAnswer::Headers(vec![], 3_000)]);
    d.send();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].timeout_ms, 7_000, "what the hook left of 10 s");
    assert_eq!(d.machine.status(), Done);
}

#[test]
fn a_hook_that_throws_fails_the_attempt_unsent_and_the_retry_sends_with_the_same_key() {
    let mut d = with_hook(
        RetryPolicy::default(),
        vec![],
        vec![HookAnswer::Throws, HookAnswer::Headers(vec![], 0)],
    );
    d.send();
    assert_eq!(d.sent.len(), 1, "nothing left on the failed attempt");
    assert_eq!(d.sent[0].key.as_deref(), Some(KEY));
    assert_eq!(d.machine.status(), Done);
    assert!(d.events().contains(&"send.retry"));
}

#[test]
fn a_hook_that_never_settles_never_leaves_the_action_sending() {
    let p = RetryPolicy {
        attempts: 3,
        timeout_ms: 1_000,
        ..RetryPolicy::default()
    };
    let mut d = with_hook(p, vec![], vec![HookAnswer::Hangs; 10]);
    d.send();
    assert!(d.sent.is_empty());
    assert_eq!(d.machine.status(), Offline, "rests, waiting for a retry");
    let hooks = d
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Hook(_)))
        .count();
    assert_eq!(hooks, 3, "one call per attempt, no more");
}

#[test]
fn a_hook_that_answers_nonsense_is_a_programming_error_and_nothing_is_sent() {
    let mut d = with_hook(RetryPolicy::default(), vec![], vec![HookAnswer::Nonsense]);
    d.send();
    assert!(d.sent.is_empty());
    assert_eq!(d.machine.status(), Failed);
    assert_eq!(
        d.outcome().error.map(|e| e.code()),
        Some("invalid_hook"),
        "the send rejects, saying so"
    );
}

#[test]
fn a_cancelled_attempt_tells_the_machine_nothing_and_nothing_more_is_sent() {
    let mut m = ActionMachine::new(config(RetryPolicy::default()), T0);
    let mut run = Run::new();
    m.handle(Input::Send(Some(request())), T0, 0);
    let mut fetches = 0;
    let mut done = Done::Nothing;
    loop {
        match run.step(&mut m, done, T0 + 10, || 0, false) {
            Command::Fetch { .. } => {
                fetches += 1;
                // The page's signal aborts while the request is in flight.
                m.handle(Input::Abort, T0 + 10, 0);
                done = Done::Reply(Err(Failure::Aborted));
            }
            Command::Attempted { .. } => panic!("an aborted attempt is not noted"),
            Command::Rest => break,
            _ => done = Done::Nothing,
        }
    }
    assert_eq!(fetches, 1);
    assert_eq!(m.status(), Idle, "the action keeps its key, unsent");
    assert_eq!(m.key().as_str(), KEY);
}

#[test]
fn a_disposed_instance_sends_nothing_more_but_writes_what_the_attempt_brought_back() {
    // Disposed while a request is in flight: its reply (201) is written for the next page,
    // and nothing is shown or sent any more.
    let mut d = Driver::new(RetryPolicy::default(), Server::new(vec![]));
    d.input(Input::Send(Some(request())));
    while d.sent.is_empty() {
        assert!(d.step());
    }
    d.disposed = true;
    let shown = d.statuses().len();
    d.run();
    assert_eq!(d.sent.len(), 1);
    let last = d.persisted().last().cloned().expect("a record");
    assert_eq!(last.status, Done, "the server's answer is in storage");
    assert_eq!(d.statuses().len(), shown, "nothing shown after dispose");

    // Disposed during a retry's wait: no further request.
    let mut d = Driver::new(
        RetryPolicy::default(),
        Server::new(vec![Fault::Status(503), Fault::None]),
    );
    d.input(Input::Send(Some(request())));
    while d.machine.poll_timeout().is_none() {
        assert!(d.step());
    }
    d.disposed = true;
    d.run();
    assert_eq!(d.sent.len(), 1, "no retry after dispose");
    assert_eq!(d.server.effects_of(KEY), 0);
}

/// What happens to the run at random points.
#[derive(Debug, Clone)]
enum Twist {
    /// Carry out this many commands.
    Steps(u8),
    /// The page cancels the send (its signal aborts).
    Abort,
    /// The user clicks again (`retry()`, or the same data sent again).
    Send,
    /// The instance is disposed.
    Dispose,
    Offline,
    Online,
}

fn twist() -> impl Strategy<Value = Twist> {
    prop_oneof![
        6 => (1u8..8).prop_map(Twist::Steps),
        1 => Just(Twist::Abort),
        2 => Just(Twist::Send),
        1 => Just(Twist::Dispose),
        1 => Just(Twist::Offline),
        1 => Just(Twist::Online),
    ]
}

fn hook_answer() -> impl Strategy<Value = HookAnswer> {
    prop_oneof![
        4 => (0u64..3_000).prop_map(|ms| HookAnswer::Headers(
            vec![("Idempotency-Key".into(), "from-the-hook".into())],
            ms
        )),
        1 => Just(HookAnswer::Throws),
        1 => Just(HookAnswer::Hangs),
        1 => Just(HookAnswer::Nonsense),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Hooks that answer, throw, hang or answer nonsense; servers that drop, time out, fail
    /// and replay; the page cancelling, clicking again, going offline and disposing, at any
    /// point: every request carries the action's key (never the hook's) and the same bytes,
    /// no attempt is given more than its timeout, nothing leaves after dispose, the server
    /// does the action at most once, and the run always comes to rest.
    #[test]
    fn the_run_keeps_the_promise_under_random_interleavings(
        hook in prop::option::of(prop::collection::vec(hook_answer(), 0..12)),
        script in prop::collection::vec(fault(), 0..12),
        twists in prop::collection::vec(twist(), 1..24),
        idempotent in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let p = RetryPolicy {
            attempts: 4,
            base_delay_ms: 100,
            max_delay_ms: 2_000,
            timeout_ms: 2_000,
            deadline_ms: 30_000,
        };
        let mut cfg = config(p);
        cfg.headers_hook = hook.is_some();
        cfg.idempotent = idempotent;
        let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(script));
        d.hook_script = hook.unwrap_or_default();
        d.rng = Random::Xorshift(seed);
        d.input(Input::Send(Some(request())));
        let mut sent_after_dispose = 0;
        // The user asked to send again (`retry()`): the one way a target that honours no key
        // is sent a second request after an attempt that may have reached it.
        let mut resent = false;
        // Requests that left after the send was cancelled, before the user sent again.
        let mut aborted = false;
        let mut sent_after_abort = 0;
        for t in twists {
            match t {
                Twist::Steps(n) => {
                    for _ in 0..n {
                        let before = d.sent.len();
                        if !d.step() {
                            break;
                        }
                        if d.disposed {
                            sent_after_dispose += d.sent.len() - before;
                        }
                        if aborted {
                            sent_after_abort += d.sent.len() - before;
                        }
                    }
                }
                Twist::Abort => {
                    // The driver cancels a run under way (a send that already settled, say
                    // `offline`, has no caller left to cancel: it resumes when online).
                    if d.machine.is_busy() {
                        aborted = true;
                        d.input(Input::Abort);
                    }
                }
                Twist::Send => {
                    if !d.disposed {
                        resent = true;
                        aborted = false;
                        d.input(Input::Send(None));
                    }
                }
                Twist::Dispose => d.disposed = true,
                Twist::Offline => {
                    d.network_down = true;
                    d.input(Input::Offline);
                }
                Twist::Online => {
                    d.network_down = false;
                    d.input(Input::Online);
                }
            }
        }
        d.network_down = false;
        let before = d.sent.len();
        d.run();
        if d.disposed {
            sent_after_dispose += d.sent.len() - before;
        }
        if aborted {
            sent_after_abort += d.sent.len() - before;
        }
        prop_assert_eq!(sent_after_dispose, 0, "a request left after dispose");
        prop_assert_eq!(sent_after_abort, 0, "a request left after the send was cancelled");
        let first = d.sent.first().cloned();
        for s in &d.sent {
            prop_assert_eq!(s.key.as_deref(), Some(KEY));
            let keys = s.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(KEY_HEADER)).count();
            prop_assert_eq!(keys, 1);
            let f = first.as_ref().unwrap();
            prop_assert_eq!((&s.url, &s.method, &s.body), (&f.url, &f.method, &f.body));
            prop_assert!(s.timeout_ms >= 1 && s.timeout_ms <= p.timeout_ms);
        }
        prop_assert!(d.server.effects_of(KEY) <= 1);
        if !idempotent && !resent {
            // A target that honours no key: never a blind second request after one that
            // may have reached it.
            prop_assert!(d.sent.len() <= 1 || d.sent[..d.sent.len() - 1].iter().all(|s| matches!(s.result, NetResult::Reply(_))));
        }
        if d.machine.status().is_confirmed() {
            prop_assert_eq!(d.server.effects_of(KEY), 1, "confirmed, but the server has nothing");
        }
    }
}
