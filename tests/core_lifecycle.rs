//! An action's life across reloads and restarts, decided by the core: which stored actions
//! `pending()` lists and which `resumePending()` / `autoResume` may send again on their own
//! (an `uncertain` one never), and the eviction ranks a full store keeps next to its records.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sendonce::core::action::{ActionMachine, Input, Output};
use sendonce::core::fingerprint::sha256_hex;
use sendonce::core::key::validate_key;
use sendonce::core::record::*;
use sendonce::core::retry::RetryPolicy;
use sendonce::core::status::StatusCode;
use sendonce::core::window::ActionKind;
use sim::{Driver, Fault, Server};

const T0: u64 = 1_700_000_000_000;

fn record(status: StatusCode) -> ActionRecord {
    ActionRecord {
        key: validate_key("k-1").unwrap(),
        action: "createOrder".into(),
        kind: ActionKind::Default,
        fingerprint: sha256_hex(b"order"),
        request: Some(sim::request()),
        status,
        attempts: 1,
        created_at: T0,
        finished_at: None,
        window_ms: 60_000,
        reply: None,
        idempotent: true,
    }
}

fn view(r: &ActionRecord) -> Option<(StatusCode, bool, bool)> {
    pending_view(r, false).map(|v| (v.status, v.incomplete, v.resend))
}

#[test]
fn pending_lists_every_action_whose_key_is_still_in_use() {
    use StatusCode::*;
    // Waiting to be sent again: listed and resent.
    for s in [Sending, Retrying, Offline, Accepted, Elsewhere] {
        assert_eq!(view(&record(s)), Some((s, false, true)), "{s:?}");
    }
    // A person decides: listed, never resent on their own.
    assert_eq!(view(&record(Failed)), Some((Failed, false, false)));
    let uncertain = ActionRecord {
        idempotent: false,
        ..record(Uncertain)
    };
    assert_eq!(view(&uncertain), Some((Uncertain, false, false)));
    // Not idempotent and cut off mid-attempt (the page or process went away): uncertain.
    let cut = ActionRecord {
        idempotent: false,
        ..record(Sending)
    };
    assert_eq!(view(&cut), Some((Uncertain, false, false)));
    // Needs values that are never stored: listed as incomplete, waits for the user.
    let mut private = record(Offline);
    private.request.as_mut().unwrap().private_body = true;
    assert_eq!(view(&private), Some((Offline, true, false)));
    // Finished (nothing more happens to the key), or nothing to send: not listed.
    for s in [Done, AlreadyReceived, Changed, Rejected] {
        let r = ActionRecord {
            finished_at: Some(T0 + 5),
            ..record(s)
        };
        assert_eq!(view(&r), None, "{s:?}");
    }
    let empty = ActionRecord {
        request: None,
        ..record(Offline)
    };
    assert_eq!(view(&empty), None);
}

#[test]
fn an_uncertain_action_is_listed_after_a_restart_and_never_resent_on_its_own() {
    // `{ idempotent: false }`: the answer is lost after the server did it.
    let retry = RetryPolicy::default();
    let mut cfg = sim::config(retry);
    cfg.idempotent = false;
    let mut d = Driver::with_machine(
        ActionMachine::new(cfg.clone(), sim::T0),
        Server::new(vec![Fault::DropAfterCommit]),
    );
    d.send();
    assert_eq!(d.outcome().code, StatusCode::Uncertain);
    assert_eq!(d.server.requests, 1);
    // What storage holds after the page or process went away.
    let stored = d.persisted().pop().unwrap();
    let v = pending_view(&stored, false).expect("listed in pending() after a restart");
    assert_eq!((v.status, v.resend), (StatusCode::Uncertain, false));
    // The same action submitted again after the restart: its status, no request.
    let mut again = Driver::with_machine(ActionMachine::restore(cfg, stored), d.server.clone());
    again.input(Input::Send(Some(sim::request())));
    again.run();
    assert_eq!(again.outcome().code, StatusCode::Uncertain);
    assert_eq!(
        again.server.requests, 1,
        "never resent without a person's decision"
    );
    // `retry()` (a person decided): sent again with the same key.
    again.input(Input::Send(None));
    again.run();
    assert_eq!(again.server.requests, 2);
    assert!(again
        .sent
        .iter()
        .all(|s| s.key.as_deref() == Some(sim::KEY)));
}

#[test]
fn a_store_keeps_ranks_that_order_records_as_decoding_them_does() {
    let done = ActionRecord {
        finished_at: Some(T0 + 5),
        status: StatusCode::Done,
        ..record(StatusCode::Done)
    };
    let offline = record(StatusCode::Offline);
    for r in [Record::Action(done.clone()), Record::Action(offline)] {
        assert_eq!(EvictionRank::of_text(&r.encode(), T0), r.eviction_rank());
    }
    // Corrupt, foreign or expired when read: offered first.
    assert_eq!(EvictionRank::of_text("{not json", T0), EvictionRank::GONE);
    let expired = Record::Action(done.clone()).encode();
    assert_eq!(
        EvictionRank::of_text(&expired, done.expires_at()),
        EvictionRank::GONE
    );
    // An unfinished action is never offered, even long after.
    let rank = Record::Action(record(StatusCode::Offline)).eviction_rank();
    let entries = vec![("p".to_string(), rank)];
    assert!(eviction_order_ranked(&entries, u64::MAX - 1).is_empty());
}

#[test]
fn a_restored_machine_with_outputs_sends_nothing_for_an_uncertain_record() {
    let mut cfg = sim::config(RetryPolicy::default());
    cfg.idempotent = false;
    let rec = ActionRecord {
        key: sim::key(),
        idempotent: false,
        ..record(StatusCode::Sending)
    };
    let mut m = ActionMachine::restore(cfg, rec);
    assert_eq!(m.status(), StatusCode::Uncertain);
    m.handle(Input::Online, T0, 0);
    while let Some(out) = m.poll() {
        assert!(!matches!(out, Output::Transmit { .. }), "{out:?}");
    }
}
