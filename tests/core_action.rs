//! The action state machine on a fake clock against a simulated idempotency-key server: one
//! test per behaviour and status of SPEC section 5, and properties over arbitrary fault scripts.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use proptest::prelude::*;
use sendonce::core::action::{ActionMachine, Input};
use sendonce::core::events::EventKind;
use sendonce::core::record::{ActionRecord, StoredReply};
use sendonce::core::reply::Reply;
use sendonce::core::retry::{RetryPolicy, MAX_RETRY_AFTER_MS, MIN_ATTEMPT_MS};
use sendonce::core::status::StatusCode::{self, *};
use sim::*;

fn policy() -> RetryPolicy {
    RetryPolicy::default()
}

fn run(script: Vec<Fault>) -> Driver {
    let mut d = Driver::new(policy(), Server::new(script));
    d.send();
    d
}

/// Every request of the run carries the one key and the same url, method and body bytes.
fn assert_same_bytes(d: &Driver) {
    let first = &d.sent[0];
    for s in &d.sent {
        assert_eq!(s.key.as_deref(), Some(KEY));
        assert_eq!(
            (&s.url, &s.method, &s.body, &s.headers),
            (&first.url, &first.method, &first.body, &first.headers)
        );
    }
}

#[test]
fn first_success_is_sending_then_done() {
    let d = run(vec![]);
    assert_eq!(d.statuses(), vec![Sending, Done]);
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.server.effects_of(KEY), 1);
    let o = d.outcome();
    assert_eq!((o.code, o.attempts, o.replayed), (Done, 1, false));
    assert_eq!(o.reply.unwrap().status, 201);
    assert_eq!(d.settled().len(), 1);
}

#[test]
fn lost_answer_after_commit_is_retried_with_same_key_and_bytes_and_one_effect() {
    let d = run(vec![Fault::DropAfterCommit]);
    assert_eq!(d.sent.len(), 2);
    assert_same_bytes(&d);
    assert_eq!(d.server.effects_of(KEY), 1);
    assert_eq!(d.statuses(), vec![Sending, Retrying, AlreadyReceived]);
    let o = d.outcome();
    assert!(o.replayed);
    // The replay keeps the original status (201).
    assert_eq!(o.reply.unwrap().status, 201);
    assert!(d.events().contains(&"reply.replayed"));
}

#[test]
fn timeout_after_commit_is_retried_and_answered_as_already_received() {
    let d = run(vec![Fault::TimeoutAfterCommit]);
    assert_eq!(d.sent.len(), 2);
    assert_same_bytes(&d);
    // The retry waited for the per-attempt timeout first.
    assert!(d.sent[1].at - d.sent[0].at >= policy().timeout_ms);
    assert_eq!(d.outcome().code, AlreadyReceived);
    assert_eq!(d.server.effects_of(KEY), 1);
}

#[test]
fn replay_without_replay_header_is_done() {
    let cfg = ServerConfig {
        replay_header: None,
        ..Default::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![Fault::DropAfterCommit]));
    d.send();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.server.effects_of(KEY), 1);
}

#[test]
fn replay_header_in_odd_letter_case_is_already_received() {
    let cfg = ServerConfig {
        replay_header: Some(("iDEMPOTENT-rEPLAYED".into(), "TRUE".into())),
        ..Default::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![Fault::DropAfterCommit]));
    d.send();
    assert_eq!(d.outcome().code, AlreadyReceived);
}

#[test]
fn server_error_then_success_is_done() {
    let d = run(vec![Fault::Status(500)]);
    assert_eq!(d.sent.len(), 2);
    assert_same_bytes(&d);
    assert_eq!(d.statuses(), vec![Sending, Retrying, Done]);
    assert_eq!(d.outcome().attempts, 2);
    assert_eq!(d.server.effects_of(KEY), 1);
}

#[test]
fn every_retryable_status_is_retried() {
    for s in [408, 429, 500, 502, 503, 504] {
        let d = run(vec![Fault::Status(s)]);
        assert_eq!(d.outcome().code, Done, "status {s}");
        assert_eq!(d.sent.len(), 2, "status {s}");
    }
}

#[test]
fn attempts_limit_gives_failed() {
    let p = RetryPolicy {
        attempts: 3,
        ..policy()
    };
    let mut d = Driver::new(p, Server::new(vec![Fault::Status(503); 10]));
    d.send();
    assert_eq!(d.sent.len(), 3);
    assert_eq!(d.outcome().code, Failed);
    assert_eq!(d.outcome().attempts, 3);
    assert_eq!(d.server.effects_of(KEY), 0);
    // A failed action keeps its request and key: the server may still have done it.
    let rec = d.machine.record();
    assert!(rec.request.is_some());
    assert_eq!(rec.finished_at, None);
}

#[test]
fn deadline_limit_gives_failed_for_server_errors() {
    let p = RetryPolicy {
        attempts: 100,
        deadline_ms: 5_000,
        timeout_ms: 1_000,
        ..policy()
    };
    let mut d = Driver::new(p, Server::new(vec![Fault::Status(500); 200]));
    d.send();
    assert_eq!(d.outcome().code, Failed);
    let last = d.sent.last().unwrap().at;
    assert!(last - T0 < 5_000, "an attempt started after the deadline");
    assert!(d.sent.len() < 100);
}

#[test]
fn the_last_attempt_is_cut_to_the_deadline() {
    let p = RetryPolicy {
        attempts: 100,
        deadline_ms: 25_000,
        timeout_ms: 10_000,
        ..policy()
    };
    let mut d = Driver::new(p, Server::new(vec![Fault::Timeout; 200]));
    d.send();
    assert_eq!(d.outcome().code, Offline);
    assert!(d.sent.len() >= 3, "{} attempts", d.sent.len());
    // Every attempt timed out; the last one was cut so the action rests close to the deadline,
    // not a whole `timeoutMs` after it.
    let rest = d.now - T0;
    assert!(
        rest <= 25_000 + MIN_ATTEMPT_MS,
        "came to rest {rest} ms after the start"
    );
}

#[test]
fn deadline_limit_gives_offline_for_timeouts() {
    let p = RetryPolicy {
        attempts: 100,
        deadline_ms: 5_000,
        timeout_ms: 1_000,
        ..policy()
    };
    let mut d = Driver::new(p, Server::new(vec![Fault::Timeout; 200]));
    d.send();
    assert_eq!(d.outcome().code, Offline);
    assert!(d.sent.last().unwrap().at - T0 < 5_000);
}

#[test]
fn network_errors_exhausted_go_offline_then_online_resumes_same_key() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.network_down = true;
    d.send();
    assert_eq!(d.sent.len(), policy().attempts as usize);
    assert_eq!(d.outcome().code, Offline);
    assert_eq!(d.machine.status(), Offline);
    assert!(!d.machine.is_busy());
    assert!(d.machine.record().request.is_some(), "the draft is kept");

    d.network_down = false;
    d.input(Input::Online);
    d.run();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.sent.len(), policy().attempts as usize + 1);
    assert_same_bytes(&d);
    assert_eq!(d.server.effects_of(KEY), 1);
    assert!(d.events().contains(&"online"));
}

#[test]
fn offline_before_send_rests_offline_without_a_request_then_sends_online() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::Offline);
    d.send();
    assert!(d.sent.is_empty());
    assert_eq!(d.outcome().code, Offline);
    // The key and request are stored so that nothing typed is lost.
    assert!(d.persisted().last().unwrap().request.is_some());
    d.input(Input::Online);
    d.run();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.sent.len(), 1);
}

#[test]
fn online_held_waits_offline_for_the_drivers_send_then_sends_once() {
    // Back online while another context may resume the same key (a service worker's sync, a
    // tab): no request until the driver holds the key's lease and feeds `Send`.
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::Offline);
    d.send();
    assert_eq!(d.outcome().code, Offline);
    d.input(Input::OnlineHeld);
    d.run();
    assert!(
        d.sent.is_empty(),
        "nothing leaves before the driver holds the lease"
    );
    assert_eq!(d.machine.status(), Offline);
    assert!(!d.machine.is_busy());
    assert!(d.events().contains(&"online"));
    d.input(Input::Send(None));
    d.run();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.sent.len(), 1);
    assert_same_bytes(&d);
}

#[test]
fn going_offline_while_waiting_to_retry_pauses() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.network_down = true;
    d.input(Input::Send(Some(request())));
    // Answer the first attempt only.
    while let Some(o) = d.machine.poll() {
        if let sendonce::core::action::Output::Transmit { .. } = o {
            d.input(Input::NetworkError);
        }
    }
    assert!(d.machine.poll_timeout().is_some());
    d.input(Input::Offline);
    d.run();
    assert_eq!(d.machine.status(), Offline);
    d.network_down = false;
    d.input(Input::Online);
    d.run();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.sent.len(), 1);
}

#[test]
fn in_progress_409_is_accepted_then_done_without_using_attempts() {
    let p = RetryPolicy {
        attempts: 2,
        ..policy()
    };
    let busy = Fault::InProgress {
        retry_after: Some("1".into()),
        html: false,
    };
    let mut d = Driver::new(p, Server::new(vec![busy.clone(), busy.clone(), busy]));
    d.send();
    assert_eq!(d.sent.len(), 4);
    assert_same_bytes(&d);
    assert_eq!(d.statuses(), vec![Sending, Accepted, Done]);
    assert_eq!(d.outcome().code, Done);
    // Retry-After: 1 was honoured.
    for w in d.sent.windows(2) {
        assert!(w[1].at - w[0].at >= 1_000);
    }
    assert!(d.events().contains(&"reply.conflict"));
}

#[test]
fn html_409_is_in_progress() {
    let busy = Fault::InProgress {
        retry_after: None,
        html: true,
    };
    let d = run(vec![busy]);
    assert_eq!(d.statuses(), vec![Sending, Accepted, Done]);
}

#[test]
fn in_progress_without_retry_after_does_not_hammer_the_server() {
    let p = RetryPolicy {
        deadline_ms: 10_000,
        ..policy()
    };
    let busy = Fault::InProgress {
        retry_after: Some("0".into()),
        html: false,
    };
    let mut d = Driver::new(p, Server::new(vec![busy; 10_000]));
    d.rng = Random::Fixed(0);
    d.send();
    // Still in progress at the deadline: the server has it, so it rests as accepted.
    assert_eq!(d.outcome().code, Accepted);
    assert!(
        d.sent.len() <= 40,
        "{} requests in 10 s for one in-progress action",
        d.sent.len()
    );
}

#[test]
fn key_reused_with_other_data_is_changed_for_422_and_417() {
    for mismatch in [422, 417] {
        let cfg = ServerConfig {
            mismatch_status: mismatch,
            ..Default::default()
        };
        let mut server = Server::with(cfg, vec![]);
        // Someone already used this key with other data.
        let mut other = request();
        other.body = Some(r#"{"item":"coffee"}"#.into());
        other.headers.push((KEY_HEADER.into(), KEY.into()));
        server.handle(&other);
        let mut d = Driver::new(policy(), server);
        d.send();
        assert_eq!(d.outcome().code, Changed, "status {mismatch}");
        assert_eq!(d.sent.len(), 1, "not retried");
        assert_eq!(d.outcome().reply.unwrap().status, mismatch);
    }
}

#[test]
fn replayed_server_error_fails_at_once() {
    // The server stored a 500 for the key; the answer was lost, the retry gets the replay.
    let d = run(vec![Fault::StoredFailure(500), Fault::None]);
    // The first 500 (not marked) is retried once; the replayed one stops.
    assert_eq!(d.sent.len(), 2);
    assert_eq!(d.outcome().code, Failed);
    assert!(d.outcome().replayed);

    // A replayed 5xx on the first attempt: one attempt, failed.
    let mut server = Server::new(vec![Fault::StoredFailure(503)]);
    let mut warm = request();
    warm.headers.push((KEY_HEADER.into(), KEY.into()));
    server.handle(&warm);
    let mut d = Driver::new(policy(), server);
    d.send();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.outcome().code, Failed);
    assert_eq!(d.outcome().attempts, 1);
}

#[test]
fn retry_after_seconds_is_honoured() {
    let d = run(vec![Fault::RetryAfter(429, "2".into())]);
    assert_eq!(d.sent.len(), 2);
    let answered = d.sent[0].at + LATENCY_MS;
    assert!(d.sent[1].at - answered >= 2_000);
    assert_eq!(d.outcome().code, Done);
    let wait = d
        .notes()
        .iter()
        .find(|n| n.kind == EventKind::SendRetry)
        .unwrap()
        .ms;
    assert_eq!(wait, Some(2_000));
}

#[test]
fn retry_after_http_date_is_honoured() {
    // T0 is 07:27:50; the server asks to come back at 07:27:55.
    let d = run(vec![Fault::RetryAfter(
        503,
        "Wed, 21 Oct 2015 07:27:55 GMT".into(),
    )]);
    assert_eq!(d.sent.len(), 2);
    assert!(d.sent[1].at >= T0 + 5_000);
    assert!(d.sent[1].at <= T0 + 5_000 + LATENCY_MS);
    assert_eq!(d.outcome().code, Done);
}

#[test]
fn huge_retry_after_is_capped_at_60_seconds() {
    let p = RetryPolicy {
        deadline_ms: 300_000,
        ..policy()
    };
    let mut d = Driver::new(p, Server::new(vec![Fault::RetryAfter(429, "86400".into())]));
    d.send();
    assert_eq!(d.sent.len(), 2);
    let answered = d.sent[0].at + LATENCY_MS;
    assert_eq!(d.sent[1].at - answered, MAX_RETRY_AFTER_MS);
    assert_eq!(d.outcome().code, Done);
}

#[test]
fn retry_after_of_two_minutes_waits_instead_of_failing_at_once() {
    // The default 60 s deadline: the wait is cut to the deadline and the last attempt goes
    // out just before it; the server then answers and the action is done, not `failed`.
    for value in ["60", "120", "Wed, 21 Oct 2015 07:30:00 GMT"] {
        let mut d = Driver::new(
            policy(),
            Server::new(vec![Fault::RetryAfter(503, value.into())]),
        );
        d.send();
        assert_eq!(d.sent.len(), 2, "{value}");
        assert_eq!(d.outcome().code, Done, "{value}");
        let answered = d.sent[0].at + LATENCY_MS;
        let waited = d.sent[1].at - answered;
        assert!(
            (59_000..60_000).contains(&waited),
            "{value}: waited {waited} ms"
        );
        assert!(d.statuses().contains(&Retrying));
    }
    // A server that keeps asking for two minutes: one wait, one last try, then `failed`.
    let mut d = Driver::new(
        policy(),
        Server::new(vec![Fault::RetryAfter(503, "120".into()); 10]),
    );
    d.send();
    assert_eq!(d.sent.len(), 2);
    assert_eq!(d.outcome().code, Failed);
}

#[test]
fn a_server_answering_409_for_ever_gets_about_one_request_a_second() {
    // With a tiny base delay and `Retry-After: 0` (or none, and jitter drawing 0), the floor
    // of in-progress waits used to be 100 ms: ~50 requests in 5 s.
    for retry_after in [Some("0".to_string()), None] {
        let p = RetryPolicy {
            base_delay_ms: 1,
            max_delay_ms: 10,
            timeout_ms: 1_000,
            deadline_ms: 5_000,
            ..policy()
        };
        let busy = Fault::InProgress {
            retry_after: retry_after.clone(),
            html: false,
        };
        let mut d = Driver::new(p, Server::new(vec![busy; 1_000]));
        d.rng = Random::Fixed(0);
        d.send();
        assert!(
            d.sent.len() <= 6,
            "{} requests in 5 s ({retry_after:?})",
            d.sent.len()
        );
        for w in d.sent.windows(2) {
            assert!(w[1].at - w[0].at >= 1_000);
        }
        assert_eq!(d.outcome().code, Accepted);
    }
}

#[test]
fn full_jitter_backoff_stays_within_bounds() {
    let p = RetryPolicy {
        attempts: 8,
        base_delay_ms: 100,
        max_delay_ms: 1_000,
        ..policy()
    };
    for seed in 1..50u64 {
        let mut d = Driver::new(p, Server::new(vec![Fault::Status(500); 7]));
        d.rng = Random::Xorshift(seed);
        d.send();
        assert_eq!(d.sent.len(), 8);
        for (i, w) in d.sent.windows(2).enumerate() {
            let wait = w[1].at - (w[0].at + LATENCY_MS);
            let ceiling = (100u64 << i).min(1_000);
            assert!(
                wait <= ceiling,
                "wait {wait} before attempt {} > {ceiling}",
                i + 2
            );
        }
    }
    // The largest random number reaches the ceiling, the smallest waits nothing.
    for (r, expect) in [(u32::MAX, 100), (0, 0)] {
        let mut d = Driver::new(p, Server::new(vec![Fault::Status(500)]));
        d.rng = Random::Fixed(r);
        d.send();
        assert_eq!(d.sent[1].at - d.sent[0].at - LATENCY_MS, expect);
    }
}

#[test]
fn accepted_job_is_polled_until_done() {
    let cfg = ServerConfig {
        job: Some(vec!["accepted", "in_progress", "in_progress", "done"]),
        ..Default::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![]));
    d.send();
    assert_eq!(d.statuses(), vec![Sending, Accepted, Done]);
    assert_eq!(d.polls(), 4);
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.outcome().code, Done);
    assert!(
        matches!(&d.steps.iter().find(|s| matches!(s, Step::Poll(_))), Some(Step::Poll(u)) if u == "/jobs/1")
    );
}

#[test]
fn accepted_job_url_from_status_url_field() {
    let cfg = ServerConfig {
        job: Some(vec!["in_progress", "done"]),
        job_url_in_body: true,
        ..Default::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![]));
    d.send();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.polls(), 2);
}

#[test]
fn job_error_is_failed_with_reason() {
    let cfg = ServerConfig {
        job: Some(vec!["accepted", "error"]),
        ..Default::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![]));
    d.send();
    let o = d.outcome();
    assert_eq!(o.code, Failed);
    assert_eq!(o.reason.as_deref(), Some("The card was declined"));
}

#[test]
fn job_that_never_finishes_rests_accepted_at_the_deadline() {
    let cfg = ServerConfig {
        job: Some(vec!["in_progress"]),
        ..Default::default()
    };
    let p = RetryPolicy {
        deadline_ms: 20_000,
        ..policy()
    };
    let mut d = Driver::new(p, Server::with(cfg, vec![]));
    d.send();
    assert_eq!(d.outcome().code, Accepted);
    assert!(d.now - T0 <= 20_000 + p.max_delay_ms + LATENCY_MS);
}

#[test]
fn polls_that_fail_in_the_network_keep_polling() {
    let cfg = ServerConfig {
        job: Some(vec!["done"]),
        ..Default::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![]));
    d.input(Input::Send(Some(request())));
    // Let the 202 come back, then make the first polls fail.
    while let Some(o) = d.machine.poll() {
        if let sendonce::core::action::Output::Transmit { request, .. } = o {
            let NetResult::Reply(r) = d.server.handle(&request) else {
                unreachable!()
            };
            d.input(Input::Reply(r));
        }
    }
    d.network_down = true;
    let t = d.machine.poll_timeout().unwrap();
    d.now = t;
    d.machine.handle_timeout(t);
    while let Some(o) = d.machine.poll() {
        if let sendonce::core::action::Output::Poll { .. } = o {
            d.input(Input::PollFailed);
        }
    }
    d.network_down = false;
    d.run();
    assert_eq!(d.outcome().code, Done);
}

#[test]
fn offline_while_polling_a_job_pauses_the_polls_and_online_resumes_them() {
    let cfg = ServerConfig {
        job: Some(vec!["in_progress", "done"]),
        ..Default::default()
    };
    let p = RetryPolicy {
        deadline_ms: 20_000,
        ..policy()
    };
    let mut d = Driver::new(p, Server::with(cfg, vec![]));
    d.input(Input::Send(Some(request())));
    while !d.statuses().contains(&Accepted) {
        assert!(d.step());
    }
    let polls = |d: &Driver| {
        d.steps
            .iter()
            .filter(|s| matches!(s, Step::Poll(_)))
            .count()
    };
    let before = polls(&d);
    d.network_down = true;
    d.input(Input::Offline);
    assert_eq!(
        d.machine.poll_timeout(),
        None,
        "no poll is scheduled while offline"
    );
    d.run();
    assert_eq!(polls(&d), before, "no poll while offline");
    // Offline for longer than the deadline: still waiting for the job, not given up.
    d.now += 10 * 60_000;
    d.network_down = false;
    d.input(Input::Online);
    d.run();
    assert_eq!(d.outcome().code, Done);
    assert!(polls(&d) > before);
    assert_eq!(
        d.sent.len(),
        1,
        "the job is polled, the request is not sent again"
    );
}

#[test]
fn send_while_in_flight_joins_without_a_second_transmit() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::Send(Some(request())));
    let mut transmits = 0;
    let mut other = request();
    other.body = Some("different bytes".into());
    d.input(Input::Send(Some(other)));
    d.input(Input::Send(None));
    assert!(d.machine.is_busy());
    let mut outs = vec![];
    while let Some(o) = d.machine.poll() {
        if matches!(o, sendonce::core::action::Output::Transmit { .. }) {
            transmits += 1;
        }
        outs.push(o);
    }
    assert_eq!(transmits, 1);
    // Joined sends also do not start anything while waiting to retry.
    for o in outs {
        if let sendonce::core::action::Output::Transmit { request, .. } = o {
            assert_eq!(request.body, sim::request().body);
            d.input(Input::Reply(problem(503, "busy")));
        }
    }
    assert!(d.machine.poll_timeout().is_some());
    d.input(Input::Send(Some(request())));
    assert!(!std::iter::from_fn(|| d.machine.poll())
        .any(|o| matches!(o, sendonce::core::action::Output::Transmit { .. })));
    d.run();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.server.requests, 1);
}

fn confirmed_record() -> ActionRecord {
    ActionRecord {
        key: key(),
        action: "createOrder".into(),
        kind: sendonce::core::window::ActionKind::Default,
        fingerprint: config(policy()).fingerprint,
        request: None,
        status: Done,
        attempts: 1,
        created_at: T0 - 5_000,
        finished_at: Some(T0 - 4_000),
        window_ms: 60_000,
        reply: Some(StoredReply {
            status: 201,
            content_type: Some("application/json".into()),
            body: r#"{"id":7}"#.into(),
            replayed: false,
        }),
        idempotent: true,
    }
}

#[test]
fn local_repeat_of_confirmed_action_is_already_received_without_a_request() {
    let m = ActionMachine::restore(config(policy()), confirmed_record());
    let mut d = Driver::with_machine(m, Server::new(vec![]));
    d.send();
    assert!(d.sent.is_empty());
    let o = d.outcome();
    assert_eq!(o.code, AlreadyReceived);
    assert!(o.replayed);
    assert_eq!(o.reply.unwrap().body, r#"{"id":7}"#);
    assert!(d.events().contains(&"action.repeat"));
}

#[test]
fn restored_pending_action_resends_with_its_key() {
    let mut rec = confirmed_record();
    rec.status = Offline;
    rec.finished_at = None;
    rec.reply = None;
    rec.request = Some(request());
    let mut cfg = config(policy());
    cfg.key = sendonce::core::key::validate_key("another-key").unwrap();
    let m = ActionMachine::restore(cfg, rec);
    let mut d = Driver::with_machine(m, Server::new(vec![]));
    d.input(Input::Send(None));
    d.run();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].key.as_deref(), Some(KEY));
    assert_eq!(d.outcome().code, Done);
    // Not the first attempt of this key.
    assert_eq!(d.statuses()[0], Retrying);
}

#[test]
fn intent_stores_the_request_before_the_lock_so_a_reload_can_resume_it() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::Intend(Some(request())));
    d.run();
    // Stored at once, with its request, and nothing sent yet (the lock is not granted).
    let stored = d.persisted();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].request.is_some());
    assert!(!stored[0].status.is_final());
    assert!(d.sent.is_empty());
    // The page reloads here: the restored machine resumes with the same key and bytes.
    let m = ActionMachine::restore(config(policy()), stored[0].clone());
    let mut after = Driver::with_machine(m, Server::new(vec![]));
    after.input(Input::Send(None));
    after.run();
    assert_eq!(after.sent.len(), 1);
    assert_eq!(after.sent[0].key.as_deref(), Some(KEY));
    assert_eq!(after.outcome().code, Done);
}

#[test]
fn intent_while_in_flight_stores_nothing_new() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::Send(Some(request())));
    let before = d.machine.record().clone();
    d.input(Input::Intend(Some(request())));
    assert_eq!(d.machine.record(), &before);
    d.run();
    assert_eq!(d.sent.len(), 1);
}

#[test]
fn locked_elsewhere_then_finished_elsewhere_adopts_the_status() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::LockedElsewhere);
    d.run();
    assert_eq!(d.machine.status(), Elsewhere);
    assert!(d.machine.is_busy());
    let mut rec = confirmed_record();
    rec.status = Done;
    d.input(Input::ElsewhereFinished(rec));
    d.run();
    assert_eq!(d.statuses(), vec![Elsewhere, Done]);
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.outcome().reply.unwrap().status, 201);
    assert!(d.sent.is_empty());
}

#[test]
fn lock_released_without_a_result_lets_this_tab_send_with_the_same_key() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::LockedElsewhere);
    d.run();
    assert!(d.sent.is_empty());
    // The driver sends only once it holds the lock.
    d.send();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].key.as_deref(), Some(KEY));
    assert_eq!(d.statuses(), vec![Elsewhere, Sending, Done]);
}

#[test]
fn adopted_status_carries_no_stale_reason() {
    let mut d = run(vec![Fault::Invalid("bad email".into())]);
    assert_eq!(d.machine.reason(), Some("bad email"));
    d.input(Input::LockedElsewhere);
    d.input(Input::ElsewhereFinished(confirmed_record()));
    d.run();
    let o = d.outcome();
    assert_eq!((o.code, o.reason), (Done, None));
    assert_eq!(d.machine.reason(), None);
}

#[test]
fn finished_elsewhere_for_another_key_is_ignored() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::LockedElsewhere);
    let mut rec = confirmed_record();
    rec.key = sendonce::core::key::validate_key("other").unwrap();
    d.input(Input::ElsewhereFinished(rec));
    d.run();
    assert_eq!(d.machine.status(), Elsewhere);
}

#[test]
fn key_is_persisted_before_the_first_transmit() {
    let d = run(vec![]);
    let first_transmit = d
        .steps
        .iter()
        .position(|s| matches!(s, Step::Transmit(_)))
        .unwrap();
    let persisted = d.steps[..first_transmit].iter().find_map(|s| match s {
        Step::Persist(r) => Some(r),
        _ => None,
    });
    let rec = persisted.expect("no Persist before the first Transmit");
    assert_eq!(rec.key.as_str(), KEY);
    assert_eq!(rec.request, Some(request()));
}

#[test]
fn confirmed_record_drops_its_request_and_keeps_the_reply() {
    let d = run(vec![]);
    let last = d.persisted().pop().unwrap();
    assert_eq!(last.status, Done);
    assert_eq!(last.request, None);
    assert!(last.finished_at.is_some());
    assert_eq!(last.reply.unwrap().status, 201);
    // Nor does a stored request ever carry the key header (it is added per attempt).
    for r in d.persisted() {
        if let Some(req) = r.request {
            assert!(!req
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(KEY_HEADER)));
        }
    }
}

#[test]
fn rejected_with_problem_detail_is_not_retried() {
    let d = run(vec![Fault::Invalid(
        "The email address is not valid".into(),
    )]);
    assert_eq!(d.sent.len(), 1);
    let o = d.outcome();
    assert_eq!(o.code, Rejected);
    assert_eq!(o.reason.as_deref(), Some("The email address is not valid"));
    assert_eq!(
        d.steps.iter().rev().find_map(|s| match s {
            Step::Status(c, r) => Some((*c, r.clone())),
            _ => None,
        }),
        Some((Rejected, Some("The email address is not valid".into())))
    );
    // The draft is kept: the request stays in the record.
    assert!(d.machine.record().request.is_some());
}

#[test]
fn late_reply_after_rest_is_ignored() {
    let mut d = run(vec![]);
    let before = d.steps.len();
    d.input(Input::Reply(Reply {
        status: 500,
        ..Default::default()
    }));
    d.input(Input::NetworkError);
    d.input(Input::PollReply(Reply::default()));
    d.input(Input::PollFailed);
    d.run();
    assert_eq!(d.steps.len(), before);
    assert_eq!(d.machine.status(), Done);
}

// ---- properties over arbitrary fault scripts ----

fn retry_policy() -> impl Strategy<Value = RetryPolicy> {
    (
        1u32..8,
        0u64..2_000,
        0u64..20_000,
        100u64..5_000,
        0u64..120_000,
    )
        .prop_map(
            |(attempts, base, extra, timeout, deadline_extra)| RetryPolicy {
                attempts,
                base_delay_ms: base,
                max_delay_ms: base + extra,
                timeout_ms: timeout,
                deadline_ms: timeout + deadline_extra,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn one_key_same_bytes_rest_within_limits_one_effect(
        script in prop::collection::vec(fault(), 0..30),
        p in retry_policy(),
        job in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let cfg = ServerConfig {
            job: job.then(|| vec!["accepted", "in_progress", "done"]),
            ..Default::default()
        };
        let mut d = Driver::new(p.validate().unwrap(), Server::with(cfg, script));
        d.rng = Random::Xorshift(seed);
        d.max_steps = 20_000;
        d.send();

        // It came to rest, with one Settled per Send.
        prop_assert!(!d.machine.is_busy());
        prop_assert_eq!(d.machine.poll_timeout(), None);
        prop_assert_eq!(d.settled().len(), 1);
        let code = d.outcome().code;
        prop_assert!(code.is_final() || code == Offline || code == Accepted, "rested in {:?}", code);

        // One key, the same bytes every time.
        prop_assert!(!d.sent.is_empty());
        let first = d.sent[0].clone();
        for s in &d.sent {
            prop_assert_eq!(s.key.as_deref(), Some(KEY));
            prop_assert_eq!(&s.url, &first.url);
            prop_assert_eq!(&s.method, &first.method);
            prop_assert_eq!(&s.body, &first.body);
            prop_assert_eq!(&s.headers, &first.headers);
        }
        // Within the deadline: no attempt starts after it.
        for s in &d.sent {
            prop_assert!(s.at - T0 < p.deadline_ms.max(1), "attempt at +{} ms", s.at - T0);
        }
        // Within attempts: failures that count never exceed the policy.
        let counted = d.sent.iter().filter(|s| match &s.result {
            NetResult::Reply(r) => !matches!(r.status, 409 | 425),
            _ => true,
        }).count();
        prop_assert!(counted <= p.attempts as usize, "{} counted attempts > {}", counted, p.attempts);
        // Never more than one effect for the key.
        prop_assert!(d.server.effects_of(KEY) <= 1);
        for n in d.server.effects.values() {
            prop_assert!(*n <= 1);
        }
        // Statuses: no code shown twice in a row, and every Settled says the status shown.
        let mut shown: Option<StatusCode> = None;
        for step in &d.steps {
            match step {
                Step::Status(c, _) => {
                    prop_assert_ne!(Some(*c), shown);
                    shown = Some(*c);
                }
                Step::Settled(o) => prop_assert_eq!(Some(o.code), shown),
                _ => {}
            }
        }
        prop_assert_eq!(d.statuses().first().copied(), Some(Sending));
        // Statuses follow what the server said.
        if code == Done || code == AlreadyReceived {
            prop_assert_eq!(d.server.effects_of(KEY), 1);
        }
    }

    #[test]
    fn a_resumed_action_never_changes_key(
        script in prop::collection::vec(fault(), 0..20),
        seed in any::<u64>(),
    ) {
        let mut d = Driver::new(policy(), Server::new(script));
        d.rng = Random::Xorshift(seed);
        d.send();
        for _ in 0..3 {
            d.input(Input::Online);
            d.run();
            d.send();
        }
        prop_assert!(d.sent.iter().all(|s| s.key.as_deref() == Some(KEY)));
        prop_assert!(d.server.effects_of(KEY) <= 1);
        let status: StatusCode = d.machine.status();
        prop_assert!(status != Sending && status != Retrying && status != Idle);
    }
}

#[test]
fn server_error_that_retrying_cannot_fix_is_failed_not_rejected() {
    for s in [501, 505, 507] {
        let d = run(vec![Fault::Status(s)]);
        assert_eq!(d.sent.len(), 1, "status {s} retried");
        assert_eq!(d.outcome().code, Failed, "status {s}");
    }
}

#[test]
fn other_client_errors_are_rejected_not_retried() {
    for s in [400, 401, 403, 404, 410, 413] {
        let d = run(vec![Fault::Status(s)]);
        assert_eq!(d.sent.len(), 1, "status {s} retried");
        assert_eq!(d.outcome().code, Rejected, "status {s}");
    }
}

#[test]
fn unfinished_record_from_another_tab_is_not_adopted() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::LockedElsewhere);
    let mut rec = confirmed_record();
    rec.status = Sending;
    rec.finished_at = None;
    rec.reply = None;
    d.input(Input::ElsewhereFinished(rec));
    d.run();
    assert_eq!(d.machine.status(), Elsewhere);
    assert!(d.settled().is_empty());
    // This tab takes over once it holds the lock.
    d.send();
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.sent.len(), 1);
}

#[test]
fn a_stray_poll_failure_does_not_delay_the_next_poll() {
    let cfg = ServerConfig {
        job: Some(vec!["in_progress", "done"]),
        ..Default::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![]));
    d.input(Input::Send(Some(request())));
    while d.machine.poll_timeout().is_none() {
        assert!(d.step());
    }
    let due = d.machine.poll_timeout().unwrap();
    for _ in 0..5 {
        d.input(Input::PollFailed);
    }
    assert_eq!(d.machine.poll_timeout(), Some(due));
}

#[derive(Debug, Clone)]
enum Op {
    Send,
    Intend,
    Offline,
    Online,
    Step(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Send),
        1 => Just(Op::Intend),
        1 => Just(Op::Offline),
        1 => Just(Op::Online),
        4 => (1u8..20).prop_map(Op::Step),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Sends, intents to send, offline and online events arriving at any point: one key, one set of bytes, no
    /// request while the browser is offline, and at most one effect.
    #[test]
    fn interleaved_sends_and_connectivity(
        script in prop::collection::vec(fault(), 0..20),
        ops in prop::collection::vec(op(), 1..40),
        seed in any::<u64>(),
    ) {
        let mut d = Driver::new(policy(), Server::new(script));
        d.rng = Random::Xorshift(seed);
        let mut online = true;
        // Requests that left during the current offline spell.
        let mut sent_offline = 0;
        for op in ops {
            match op {
                Op::Send => d.input(Input::Send(Some(request()))),
                Op::Intend => d.input(Input::Intend(Some(request()))),
                Op::Offline => {
                    online = false;
                    sent_offline = 0;
                    d.network_down = true;
                    d.input(Input::Offline);
                }
                Op::Online => {
                    online = true;
                    d.network_down = false;
                    d.input(Input::Online);
                }
                Op::Step(n) => {
                    for _ in 0..n {
                        let before = d.sent.len();
                        if !d.step() {
                            break;
                        }
                        if !online {
                            sent_offline += d.sent.len() - before;
                        }
                        // One request may have been handed out just before the browser went
                        // offline; nothing after it.
                        prop_assert!(sent_offline <= 1, "a request left while offline");
                    }
                }
            }
        }
        // Back online, asked once more: it comes to rest.
        d.network_down = false;
        d.input(Input::Online);
        d.send();
        prop_assert!(!d.machine.is_busy());
        prop_assert!(!d.settled().is_empty());
        prop_assert!(d.sent.iter().all(|s| s.key.as_deref() == Some(KEY)));
        prop_assert!(d.sent.iter().all(|s| s.body == request().body && s.url == request().url));
        prop_assert!(d.server.effects_of(KEY) <= 1);
    }
}

#[test]
fn credentials_are_sent_but_never_persisted() {
    let mut req = request();
    req.headers
        .push(("Authorization".into(), "Bearer secret".into()));
    req.headers.push(("cookie".into(), "sid=1".into()));
    let mut d = Driver::new(policy(), Server::new(vec![Fault::Status(503)]));
    d.input(Input::Offline);
    d.input(Input::Send(Some(req.clone())));
    d.input(Input::Online);
    d.run();
    assert_eq!(d.outcome().code, Done);
    for s in &d.sent {
        assert!(s
            .headers
            .contains(&("Authorization".into(), "Bearer secret".into())));
    }
    for r in d.persisted() {
        if let Some(stored) = r.request {
            assert!(
                !stored.headers.iter().any(|(k, _)| {
                    k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie")
                }),
                "{stored:?}"
            );
        }
    }
}

#[test]
fn a_key_header_from_the_caller_is_replaced_by_the_action_key() {
    let mut req = request();
    req.headers
        .push(("idempotency-key".into(), "someone-else".into()));
    let mut d = Driver::new(policy(), Server::new(vec![Fault::Status(500)]));
    d.input(Input::Send(Some(req.clone())));
    // A second send of the same request joins: told once.
    d.input(Input::Send(Some(req)));
    d.run();
    assert_eq!(d.sent.len(), 2);
    for s in &d.sent {
        let keys: Vec<_> = s
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(KEY_HEADER))
            .collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].1, KEY);
    }
    let told = d
        .events()
        .iter()
        .filter(|e| **e == "key.header_ignored")
        .count();
    assert_eq!(told, 1);
    for stored in d.persisted().into_iter().filter_map(|r| r.request) {
        assert!(!stored.headers.iter().any(|(_, v)| v == "someone-else"));
    }
}

/// Runs a machine to rest as the driver does with a `headers` hook: every `Transmit` gets
/// the hook's headers (`hook(call)`) through `add_hook_headers` before it leaves. Returns the
/// requests as the server saw them and how many times the hook's key was ignored.
fn run_with_hook(
    m: &mut ActionMachine,
    server: &mut Server,
    key_header: &str,
    hook: impl Fn(usize) -> Vec<(String, String)>,
) -> (Vec<sendonce::core::record::StoredRequest>, usize) {
    use sendonce::core::action::{add_hook_headers, Output};
    let mut now = T0;
    let mut seen = Vec::new();
    let mut ignored = 0;
    for _ in 0..10_000 {
        match m.poll() {
            Some(Output::Transmit { mut request, .. }) => {
                if add_hook_headers(&mut request, hook(seen.len()), key_header) {
                    ignored += 1;
                }
                let input = match server.handle(&request) {
                    NetResult::Reply(r) => Input::Reply(r),
                    NetResult::NetworkError => Input::NetworkError,
                    NetResult::Timeout => Input::AttemptTimeout,
                };
                seen.push(request);
                now += LATENCY_MS;
                m.handle(input, now, 0);
            }
            Some(_) => {}
            None => match m.poll_timeout() {
                Some(at) => {
                    now = now.max(at);
                    m.handle_timeout(now);
                }
                None => return (seen, ignored),
            },
        }
    }
    panic!("the machine never came to rest");
}

#[test]
fn a_headers_hook_that_stamps_its_own_key_never_replaces_the_action_key() {
    // Issue 19 item 1: a shared API client's hook returns a fresh `Idempotency-Key` (in any
    // letter case) on every call. With one dropped answer that made two orders.
    for name in ["Idempotency-Key", "idempotency-key", "IDEMPOTENCY-KEY"] {
        let mut cfg = config(policy());
        cfg.headers_hook = true;
        let mut m = ActionMachine::new(cfg, T0);
        let mut server = Server::new(vec![Fault::DropAfterCommit]);
        m.handle(Input::Send(Some(request())), T0, 0);
        let (seen, ignored) = run_with_hook(&mut m, &mut server, KEY_HEADER, |call| {
            vec![
                (name.to_string(), format!("client-key-{call}")),
                ("Authorization".into(), "Bearer t".into()),
            ]
        });
        assert_eq!(seen.len(), 2, "{name}");
        assert_eq!(server.effects_of(KEY), 1, "{name}: one order");
        assert_eq!(server.effects.values().sum::<u32>(), 1, "{name}");
        for r in &seen {
            let keys: Vec<_> = r
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(KEY_HEADER))
                .collect();
            assert_eq!(keys.len(), 1, "{name}");
            assert_eq!(keys[0].1, KEY, "{name}: the key sent is action.key");
            assert!(r
                .headers
                .contains(&("Authorization".into(), "Bearer t".into())));
        }
        assert_eq!(ignored, 2, "{name}: told on every attempt");
        assert_eq!(m.status(), AlreadyReceived);
    }
}

#[test]
fn a_configured_header_name_is_the_one_protected() {
    let mut cfg = config(policy());
    cfg.header_name = "X-Request-Key".into();
    let mut m = ActionMachine::new(cfg, T0);
    let mut server = Server::new(vec![]);
    let mut req = request();
    req.headers
        .push(("x-request-key".into(), "from-init".into()));
    m.handle(Input::Send(Some(req)), T0, 0);
    let (seen, ignored) = run_with_hook(&mut m, &mut server, "X-Request-Key", |_| {
        vec![("X-REQUEST-KEY".into(), "from-hook".into())]
    });
    assert_eq!(ignored, 1);
    let keys: Vec<_> = seen[0]
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("x-request-key"))
        .collect();
    assert_eq!(keys, vec![&("X-Request-Key".to_string(), KEY.to_string())]);
}

#[test]
fn an_attempt_that_could_not_be_made_is_failed_uncounted_and_says_why() {
    // A `headers` hook that returned something that is not headers (issue 19 item 22): a
    // programming error, not "Connection lost". Nothing was sent.
    use sendonce::core::action::Output;
    use sendonce::core::error::SendonceError;
    let mut cfg = config(policy());
    cfg.idempotent = false;
    let mut m = ActionMachine::new(cfg, T0);
    m.handle(Input::Send(Some(request())), T0, 0);
    let mut transmits = 0;
    while let Some(o) = m.poll() {
        transmits += usize::from(matches!(o, Output::Transmit { .. }));
    }
    assert_eq!(transmits, 1);
    let err = SendonceError::InvalidHook("the `headers` hook returned a number".into());
    m.handle(Input::NotSent(err.clone()), T0 + 1, 0);
    let mut settled = None;
    let mut transmits = 0;
    while let Some(o) = m.poll() {
        match o {
            Output::Settled(out) => settled = Some(out),
            Output::Transmit { .. } => transmits += 1,
            _ => {}
        }
    }
    assert_eq!(transmits, 0, "no retry of a programming error");
    let out = settled.expect("settled");
    assert_eq!(out.code, Failed);
    assert_eq!(out.error.as_ref().map(|e| e.code()), Some("invalid_hook"));
    assert_eq!(out.attempts, 0, "nothing left");
    assert_eq!(m.record().attempts, 0);
    // Restored after a restart it is not taken for an attempt cut off mid-flight.
    let restored = ActionMachine::restore(config(policy()), m.record().clone());
    assert_eq!(restored.status(), Failed);
    // Once fixed, `retry()` sends with the same key; the error is not reported again.
    let mut d = Driver::with_machine(m, Server::new(vec![]));
    d.input(Input::Send(None));
    d.run();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].key.as_deref(), Some(KEY));
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.outcome().error, None);
}

// ---- `uncertain`: targets that honour no key (`{ idempotent: false }`) ----

fn not_idempotent() -> Driver {
    let mut cfg = config(policy());
    cfg.idempotent = false;
    Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(vec![]))
}

#[test]
fn not_idempotent_timeout_after_commit_rests_uncertain_without_a_second_request() {
    let mut d = not_idempotent();
    d.server = Server::new(vec![Fault::TimeoutAfterCommit]);
    d.send();
    assert_eq!(d.sent.len(), 1, "no blind retry");
    assert_eq!(d.outcome().code, Uncertain);
    assert_eq!(d.server.effects_of(KEY), 1);
    // The record keeps it uncertain, with its key and request, unfinished (24 h retention).
    let rec = d.persisted().pop().unwrap();
    assert_eq!(rec.status, Uncertain);
    assert!(!rec.idempotent);
    assert!(rec.request.is_some());
    assert_eq!(rec.finished_at, None);
}

#[test]
fn not_idempotent_reset_after_commit_rests_uncertain() {
    let mut d = not_idempotent();
    d.server = Server::new(vec![Fault::DropAfterCommit]);
    d.send();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.statuses(), vec![Sending, Uncertain]);
}

#[test]
fn idempotent_default_still_retries_the_same_timeout() {
    let mut d = Driver::new(policy(), Server::new(vec![Fault::TimeoutAfterCommit]));
    d.send();
    assert_eq!(d.sent.len(), 2);
    assert_eq!(d.outcome().code, AlreadyReceived);
}

#[test]
fn not_idempotent_replies_that_prove_nothing_happened_are_retried() {
    // 429 (a rate limiter refused it) and 409/425 (refused for now) prove the target did not
    // do it: a retry with the same bytes cannot make a second effect.
    for fault in [
        Fault::Status(429),
        Fault::RetryAfter(429, "1".into()),
        Fault::InProgress {
            retry_after: None,
            html: false,
        },
    ] {
        let mut d = not_idempotent();
        d.server = Server::new(vec![fault.clone()]);
        d.send();
        assert_eq!(d.sent.len(), 2, "{fault:?}");
        assert_eq!(d.outcome().code, Done, "{fault:?}");
    }
}

#[test]
fn not_idempotent_5xx_and_408_rest_uncertain_after_one_request() {
    // Issue 19 item 3: each of these was sent four times to a target that honours no key. A
    // 504 is the classic "it may have happened"; so is every 5xx (a proxy's 503 after the
    // request was forwarded included, Retry-After or not) and 408.
    let faults = [
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Status(504),
        Fault::Status(408),
        Fault::Status(501),
        Fault::RetryAfter(503, "2".into()),
        Fault::StoredFailure(500),
    ];
    for fault in faults {
        let mut d = not_idempotent();
        d.server = Server::new(vec![fault.clone(), fault.clone(), fault.clone()]);
        d.send();
        assert_eq!(d.sent.len(), 1, "{fault:?}: no blind retry");
        assert_eq!(d.statuses(), vec![Sending, Uncertain], "{fault:?}");
        let o = d.outcome();
        assert_eq!(o.code, Uncertain, "{fault:?}");
        assert!(
            o.reply.is_some(),
            "{fault:?}: the reply is handed to the caller"
        );
        // Kept unfinished with its key and request: listed in pending() after a restart,
        // never resent on its own.
        let rec = d.persisted().pop().unwrap();
        assert_eq!(rec.status, Uncertain);
        assert!(rec.request.is_some() && rec.finished_at.is_none());
        // The same send again (a handler run again) sends nothing; `retry()` does, same key.
        d.send();
        assert_eq!(d.sent.len(), 1, "{fault:?}");
        d.input(Input::Send(None));
        d.run();
        assert_eq!(d.sent.len(), 2, "{fault:?}");
        assert_eq!(d.sent[1].key.as_deref(), Some(KEY));
    }
}

#[test]
fn not_idempotent_4xx_is_rejected_after_one_request() {
    let mut d = not_idempotent();
    d.server = Server::new(vec![Fault::Invalid("bad card".into())]);
    d.send();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.outcome().code, Rejected);
}

#[test]
fn idempotent_actions_still_retry_every_retryable_status() {
    for s in [408, 500, 502, 503, 504] {
        let d = run(vec![Fault::Status(s)]);
        assert_eq!(d.sent.len(), 2, "{s}");
        assert_eq!(d.outcome().code, Done, "{s}");
    }
}

#[test]
fn an_uncertain_record_restored_after_a_restart_is_not_resent_by_the_same_send() {
    let mut d = not_idempotent();
    d.server = Server::new(vec![Fault::TimeoutAfterCommit]);
    d.send();
    let rec = d.persisted().pop().unwrap();
    // Round trip through storage, as a restart does.
    let text = sendonce::core::record::Record::Action(rec).encode();
    let Some(sendonce::core::record::Record::Action(back)) =
        sendonce::core::record::Record::decode(&text, T0 + 60_000).unwrap()
    else {
        panic!("the record did not come back")
    };
    assert!(!back.idempotent);
    assert!(back.status.is_final(), "resumePending skips it");
    let mut restored = Driver::with_machine(
        ActionMachine::restore(config(policy()), back),
        Server::new(vec![]),
    );
    restored.send();
    assert!(
        restored.sent.is_empty(),
        "the same send again sends nothing"
    );
    assert_eq!(restored.outcome().code, Uncertain);
    // The user's decision (`retry()`: a send without a request) sends, with the same key.
    restored.input(Input::Send(None));
    restored.run();
    assert_eq!(restored.sent.len(), 1);
    assert_eq!(restored.sent[0].key.as_deref(), Some(KEY));
    assert_eq!(restored.outcome().code, Done);
}

#[test]
fn a_not_idempotent_action_killed_mid_attempt_is_restored_uncertain() {
    let mut cfg = config(policy());
    cfg.idempotent = false;
    let mut m = ActionMachine::new(cfg, T0);
    m.handle(Input::Send(Some(request())), T0, 0);
    // The record written before the request left, as a restarted process reads it.
    let mut last = None;
    while let Some(out) = m.poll() {
        if let sendonce::core::action::Output::Persist(r) = out {
            last = Some(r);
        }
    }
    let rec = last.unwrap();
    assert_eq!(rec.status, Sending);
    assert_eq!(rec.attempts, 1);
    let restored = ActionMachine::restore(config(policy()), rec.clone());
    assert_eq!(restored.status(), Uncertain);
    // An idempotent one in the same spot is resent with its key.
    let mut idem = rec;
    idem.idempotent = true;
    assert_eq!(
        ActionMachine::restore(config(policy()), idem).status(),
        Sending
    );
}

// ---- Adopting another process's action with the same data ----

#[test]
fn a_fresh_action_adopts_a_confirmed_action_of_another_process_and_sends_nothing() {
    let mut cfg = config(policy());
    cfg.key = sendonce::core::key::validate_key("k-mine").unwrap();
    let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(vec![]));
    let other = confirmed_record();
    d.input(Input::Adopt {
        key: other.key.clone(),
        record: Some(other.clone()),
        vouched: false,
    });
    assert_eq!(d.machine.key(), &other.key);
    d.send();
    assert!(d.sent.is_empty(), "answered locally");
    assert_eq!(d.outcome().code, AlreadyReceived);
}

#[test]
fn a_fresh_action_never_adopts_an_action_that_is_done_with() {
    // Refused (a wrong password's 401), or confirmed with its window over (`window: 0`): the
    // same data now is a new action, even while that action's claim is still held.
    let mut refused = confirmed_record();
    refused.status = Rejected;
    let mut over = confirmed_record();
    over.window_ms = 0;
    for other in [refused, over] {
        let mut cfg = config(policy());
        cfg.key = sendonce::core::key::validate_key("k-mine").unwrap();
        let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(vec![]));
        d.input(Input::Adopt {
            key: other.key.clone(),
            record: Some(other.clone()),
            vouched: false,
        });
        assert_eq!(d.machine.key().as_str(), "k-mine", "{:?}", other.status);
        d.send();
        assert_eq!(d.sent.len(), 1);
        assert_eq!(d.sent[0].key.as_deref(), Some("k-mine"));
    }
}

#[test]
fn a_record_the_shared_store_vouches_for_is_adopted_whatever_this_clock_says() {
    // Another process confirmed it; this process's clock runs 2 min ahead of that one's, so by
    // its own clock the 1 min window has passed. The store still keeps the record (it expires
    // what is past the window), so it is inside its window: one key, no second request.
    // The same record from this tab's own storage is judged by this clock: a new action.
    // One that ended refused is never taken over, vouched or not.
    let mut ahead = confirmed_record();
    ahead.created_at = T0 - 125_000;
    ahead.finished_at = Some(T0 - 120_000);
    let mut refused = ahead.clone();
    refused.status = Rejected;
    for (other, vouched, adopted) in [
        (ahead.clone(), true, true),
        (ahead, false, false),
        (refused, true, false),
    ] {
        let mut cfg = config(policy());
        cfg.key = sendonce::core::key::validate_key("k-mine").unwrap();
        let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(vec![]));
        d.input(Input::Adopt {
            key: other.key.clone(),
            record: Some(other.clone()),
            vouched,
        });
        d.send();
        if adopted {
            assert_eq!(d.machine.key(), &other.key);
            assert!(
                d.sent.is_empty(),
                "answered from the other process's result"
            );
            assert_eq!(d.outcome().code, AlreadyReceived);
        } else {
            assert_eq!(
                d.machine.key().as_str(),
                "k-mine",
                "{vouched} {:?}",
                other.status
            );
            assert_eq!(d.sent.len(), 1);
        }
    }
}

#[test]
fn a_fresh_action_adopts_the_key_of_an_unfinished_action_and_sends_with_it() {
    let mut cfg = config(policy());
    cfg.key = sendonce::core::key::validate_key("k-mine").unwrap();
    let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(vec![]));
    d.input(Input::Adopt {
        key: key(),
        record: None,
        vouched: false,
    });
    d.send();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].key.as_deref(), Some(KEY));
}

#[test]
fn an_action_that_already_sent_never_changes_its_key() {
    let mut d = run(vec![]);
    d.input(Input::Adopt {
        key: sendonce::core::key::validate_key("k-other").unwrap(),
        record: None,
        vouched: false,
    });
    assert_eq!(d.machine.key().as_str(), KEY);
}

#[test]
fn adopting_a_not_idempotent_action_cut_off_mid_attempt_rests_uncertain_and_sends_nothing() {
    let mut cfg = config(policy());
    cfg.idempotent = false;
    let mut first = ActionMachine::new(cfg.clone(), T0);
    first.handle(Input::Send(Some(request())), T0, 0);
    let mut rec = None;
    while let Some(out) = first.poll() {
        if let sendonce::core::action::Output::Persist(r) = out {
            rec = Some(r);
        }
    }
    // Another process, same data, never sent: it adopts that record.
    cfg.key = sendonce::core::key::validate_key("k-second").unwrap();
    let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), Server::new(vec![]));
    d.input(Input::Adopt {
        key: key(),
        record: rec,
        vouched: false,
    });
    d.send();
    assert!(d.sent.is_empty());
    assert_eq!(d.outcome().code, Uncertain);
}

#[test]
fn an_attempt_never_made_is_retried_even_without_a_key_and_never_uncertain() {
    // A `headers` hook that threw or did not settle: no request left, so even a target that
    // honours no key is safe to ask again (before, a not-idempotent action rested `uncertain`
    // without ever having sent anything).
    use sendonce::core::action::Output;
    let mut cfg = config(policy());
    cfg.idempotent = false;
    let mut m = ActionMachine::new(cfg, T0);
    m.handle(Input::Send(Some(request())), T0, 0);
    while m.poll().is_some() {}
    m.handle(Input::Unsent, T0 + 5, 0);
    let mut outs = Vec::new();
    while let Some(o) = m.poll() {
        outs.push(o);
    }
    assert!(
        !outs.iter().any(|o| matches!(
            o,
            Output::Status {
                code: Uncertain,
                ..
            }
        )),
        "{outs:?}"
    );
    assert_eq!(m.status(), Retrying);
    let mut d = Driver::with_machine(m, Server::new(vec![]));
    d.run();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.outcome().code, Done);
    assert_eq!(d.server.effects_of(KEY), 1);
}

// ---- Abort (`send(url, { signal })`): the caller cancels the attempts left ----

/// Runs outputs until the machine hands out a `Transmit` (returned, not answered): an attempt
/// in flight.
fn until_transmit(d: &mut Driver) -> sendonce::core::record::StoredRequest {
    loop {
        match d.machine.poll() {
            Some(sendonce::core::action::Output::Transmit { request, .. }) => return request,
            Some(sendonce::core::action::Output::Status { code, reason }) => {
                d.steps.push(Step::Status(code, reason))
            }
            Some(sendonce::core::action::Output::Event(n)) => d.steps.push(Step::Event(n)),
            Some(sendonce::core::action::Output::Persist(r)) => d.steps.push(Step::Persist(r)),
            Some(sendonce::core::action::Output::Settled(o)) => d.steps.push(Step::Settled(o)),
            Some(other) => panic!("unexpected output {other:?}"),
            None => match d.machine.poll_timeout() {
                Some(at) => {
                    d.now = d.now.max(at);
                    d.machine.handle_timeout(d.now);
                }
                None => panic!("no attempt was handed out"),
            },
        }
    }
}

fn key_of(r: &sendonce::core::record::StoredRequest) -> Option<String> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(KEY_HEADER))
        .map(|(_, v)| v.clone())
}

#[test]
fn abort_during_an_attempt_rests_idle_keeps_the_key_and_a_later_send_resumes_it() {
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::Send(Some(request())));
    let first = until_transmit(&mut d);
    d.now += 5;
    d.input(Input::Abort);
    d.run();
    // A late answer to the aborted attempt changes nothing.
    d.input(Input::NetworkError);
    d.run();
    assert_eq!(d.machine.status(), Idle);
    assert!(!d.machine.is_busy());
    assert_eq!(d.machine.poll_timeout(), None, "no retry is left waiting");
    let o = d.outcome();
    assert_eq!(o.code, Idle);
    assert_eq!(o.error.as_ref().map(|e| e.code()), Some("aborted"));
    assert!(d.events().contains(&"send.aborted"));
    // Stored unfinished with its key and request: the same data later resumes it.
    let stored = d.persisted().pop().unwrap();
    assert_eq!(stored.key.as_str(), KEY);
    assert_eq!(stored.status, Idle);
    assert!(stored.request.is_some() && stored.finished_at.is_none());
    assert!(matches!(
        sendonce::core::action::plan_action(Some(&stored), &stored.fingerprint, d.now),
        sendonce::core::action::ActionPlan::Resume(_)
    ));
    // A later send: one request, the same key and the same bytes.
    d.input(Input::Send(Some(request())));
    d.run();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].key, key_of(&first));
    assert_eq!(d.sent[0].body, first.body);
    assert_eq!(d.machine.status(), Done);
    assert_eq!(d.outcome().error, None);
}

#[test]
fn abort_during_a_retry_wait_cancels_the_retries_left() {
    let mut d = Driver::new(policy(), Server::new(vec![Fault::Status(503); 10]));
    d.input(Input::Send(Some(request())));
    // The first attempt is answered 503; the machine waits to retry.
    let _ = d.step();
    while d.machine.poll_timeout().is_none() {
        assert!(d.step());
    }
    assert_eq!(d.sent.len(), 1);
    d.input(Input::Abort);
    d.run();
    assert_eq!(d.sent.len(), 1, "no attempt after the abort");
    assert_eq!(d.machine.status(), Idle);
    assert_eq!(d.outcome().error.map(|e| e.code()), Some("aborted"));
    assert_eq!(d.machine.key().as_str(), KEY);
}

#[test]
fn abort_in_flight_of_a_target_that_honours_no_key_is_uncertain_like_a_lost_connection() {
    let mut cfg = config(policy());
    cfg.idempotent = false;
    let mut d = Driver::with_machine(
        sendonce::core::action::ActionMachine::new(cfg, T0),
        Server::new(vec![]),
    );
    d.input(Input::Send(Some(request())));
    let _ = until_transmit(&mut d);
    d.input(Input::Abort);
    d.run();
    assert_eq!(d.machine.status(), Uncertain);
    assert_eq!(d.outcome().error.map(|e| e.code()), Some("aborted"));
    // A send of the same request is not sent blindly.
    d.input(Input::Send(Some(request())));
    d.run();
    assert!(d.sent.is_empty());
}

#[test]
fn abort_while_polling_a_job_stops_the_polls_and_rests_accepted() {
    let cfg = ServerConfig {
        job: Some(vec!["in_progress"]),
        ..ServerConfig::default()
    };
    let mut d = Driver::new(policy(), Server::with(cfg, vec![]));
    d.input(Input::Send(Some(request())));
    while d.polls() < 2 {
        assert!(d.step());
    }
    d.input(Input::Abort);
    d.run();
    assert_eq!(d.polls(), 2);
    assert_eq!(d.machine.status(), Accepted);
    assert_eq!(d.outcome().error.map(|e| e.code()), Some("aborted"));
}

#[test]
fn abort_of_an_action_at_rest_changes_nothing() {
    let mut d = run(vec![]);
    let before = d.steps.len();
    d.input(Input::Abort);
    d.run();
    assert_eq!(d.steps.len(), before);
    assert_eq!(d.machine.status(), Done);
}

// ---- "Buy again": { again: true } is a new action on purpose ----

#[test]
fn again_plans_a_new_action_even_over_a_confirmed_one_inside_its_window() {
    use sendonce::core::action::{plan_action, plan_action_for, ActionPlan};
    let d = run(vec![]);
    let done = d.persisted().pop().unwrap();
    assert_eq!(done.status, Done);
    let fp = done.fingerprint.clone();
    // Without `again`, the same data inside the window is answered from the stored result.
    assert!(matches!(
        plan_action(Some(&done), &fp, d.now + 1),
        ActionPlan::Repeat(_)
    ));
    assert_eq!(
        plan_action_for(true, Some(&done), &fp, d.now + 1),
        ActionPlan::New
    );
    // An unfinished one with the same data is not resumed by `again` either.
    let mut pending = done.clone();
    pending.status = Offline;
    pending.finished_at = None;
    assert_eq!(
        plan_action_for(true, Some(&pending), &fp, d.now + 1),
        ActionPlan::New
    );
    assert_eq!(
        plan_action_for(false, Some(&pending), &fp, d.now + 1),
        ActionPlan::Resume(pending.key.clone())
    );
}

#[test]
fn an_again_action_never_takes_another_actions_key() {
    let other = sendonce::core::key::validate_key("k-other-tab").unwrap();
    let mut cfg = config(policy());
    cfg.again = true;
    let mut d = Driver::with_machine(
        sendonce::core::action::ActionMachine::new(cfg, T0),
        Server::new(vec![]),
    );
    d.input(Input::Adopt {
        key: other.clone(),
        record: None,
        vouched: false,
    });
    assert_eq!(d.machine.key().as_str(), KEY);
    d.input(Input::Send(Some(request())));
    d.run();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].key.as_deref(), Some(KEY));
    // The same input to an action without `again` takes the other key (one user input, one
    // key across tabs).
    let mut d = Driver::new(policy(), Server::new(vec![]));
    d.input(Input::Adopt {
        key: other.clone(),
        record: None,
        vouched: false,
    });
    assert_eq!(d.machine.key(), &other);
}
