//! An action's life across reloads and restarts, decided by the core: which stored actions
//! `pending()` lists and which `resumePending()` / `autoResume` may send again on their own
//! (an `uncertain` one never), and the eviction ranks a full store keeps next to its records.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sendonce::core::action::pending_view;
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

/// A seeded world for the lifecycle simulation: a fault on some of the first 40 requests.
fn world(seed: u64) -> sim::Lifecycle {
    let mut w = sim::Lifecycle::new(seed, Vec::new());
    let faults = [
        Fault::DropBefore,
        Fault::DropAfterCommit,
        Fault::Status(503),
        Fault::TimeoutAfterCommit,
    ];
    w.server.script = (0..40)
        .map(|_| match w.below(8) {
            n @ 0..=3 => faults[n as usize].clone(),
            _ => Fault::None,
        })
        .collect();
    w
}

/// Runs one seed: random clicks, reloads (with and without `autoResume`), disposes,
/// offline/online and `resumePending()`, then a last calm page that resumes what is left.
fn run_seed(seed: u64) -> sim::Lifecycle {
    let mut w = world(seed);
    for _ in 0..200 {
        match w.below(100) {
            0..=14 if w.actions.len() < 8 => {
                let idempotent = w.below(4) != 0;
                w.new_action(idempotent);
            }
            15..=21 => {
                let auto_resume = w.below(2) == 0;
                w.new_page(auto_resume);
            }
            22..=25 => w.page_gone(),
            26..=33 => {
                let offline = !w.offline;
                w.set_offline(offline);
            }
            34..=37 => w.resume_pending(),
            _ => {
                w.step();
            }
        }
    }
    // The network is back and calm; two more pages with `autoResume`.
    w.server.script.clear();
    w.set_offline(false);
    w.settle();
    for _ in 0..2 {
        w.new_page(true);
        w.settle();
    }
    w
}

#[test]
fn reloads_auto_resume_offline_and_dispose_keep_one_effect_per_action_and_lose_nothing() {
    let mut resent = 0;
    let mut uncertain = 0;
    for seed in 1..=400u64 {
        let w = run_seed(seed);
        for (_, key, idempotent) in &w.actions {
            let effects = w.server.effects_of(key);
            assert!(effects <= 1, "seed {seed}: {effects} effects for {key}");
            let rec = w
                .store
                .get(key)
                .unwrap_or_else(|| panic!("seed {seed}: {key} was lost from storage"));
            let listed = pending_view(rec, false);
            match (rec.status.is_confirmed(), listed) {
                // Confirmed: done once.
                (true, _) => assert_eq!(effects, 1, "seed {seed}: {key} confirmed without effect"),
                // Not confirmed: still listed, where only a person may end it.
                (false, Some(v)) => {
                    assert!(
                        !v.resend,
                        "seed {seed}: {key} left {:?} after the calm pages",
                        v.status
                    );
                    if *idempotent {
                        assert_eq!(v.status, StatusCode::Failed, "seed {seed}: {key}");
                    } else {
                        assert!(
                            matches!(v.status, StatusCode::Uncertain | StatusCode::Failed),
                            "seed {seed}: {key} {:?}",
                            v.status
                        );
                    }
                }
                (false, None) => panic!(
                    "seed {seed}: {key} ({:?}) is neither confirmed nor listed",
                    rec.status
                ),
            }
            if w.requests.get(key).copied().unwrap_or(0) > 1 {
                resent += 1;
            }
        }
        uncertain += w.uncertain.len();
    }
    // The runs did exercise resends and uncertain actions.
    assert!(resent > 50, "{resent} actions were resent");
    assert!(uncertain > 20, "{uncertain} uncertain actions");
}
