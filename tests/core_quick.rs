#![cfg(not(target_arch = "wasm32"))]
//! Quick-reply decisions: run, join, repeat within the window, the key of a later run, and
//! inbound dedup by id and content hash.

use sendonce::core::json::Value;
use sendonce::core::key::bot_key;
use sendonce::core::quick::*;
use sendonce::core::record::{QuickReplyRecord, SeenRecord};

fn record(finished_at: u64) -> QuickReplyRecord {
    QuickReplyRecord {
        key: bot_key("ns", "c-42", "createTicket"),
        action_key: "createTicket".into(),
        conversation_id: "c-42".into(),
        result: Value::from("ticket-1"),
        finished_at,
        window_ms: 1000,
    }
}

#[test]
fn plan_runs_joins_and_repeats_inside_the_window() {
    let clock = Expiry::Clock;
    assert_eq!(plan_quick(None, false, false, clock(0)), QuickPlan::Run);
    assert_eq!(plan_quick(None, false, true, clock(0)), QuickPlan::Join);
    let r = record(5000);
    assert_eq!(
        plan_quick(Some(&r), false, true, clock(5500)),
        QuickPlan::Join
    );
    assert_eq!(
        plan_quick(Some(&r), false, false, clock(5999)),
        QuickPlan::Repeat(Value::from("ticket-1"))
    );
    assert_eq!(
        plan_quick(Some(&r), false, false, clock(6000)),
        QuickPlan::Run
    );
}

/// Two bot processes share a store; their clocks differ by 6 s, more than the 1 s window of
/// the record. Neither may judge the other's timestamp with its own clock: the store's window
/// mark decides, whatever the reader's clock says.
#[test]
fn over_a_shared_store_the_window_is_the_stores_not_the_readers_clock() {
    let r = record(5000);
    // The mark is still there (the store has not expired it): a repeat, however far ahead or
    // behind the reader's clock is. Expiry::Store reads no clock at all.
    assert_eq!(
        plan_quick(Some(&r), true, false, Expiry::Store),
        QuickPlan::Repeat(Value::from("ticket-1"))
    );
    // The store expired the mark: the window is over, even for a reader whose clock is behind.
    assert_eq!(
        plan_quick(Some(&r), false, false, Expiry::Store),
        QuickPlan::Run
    );
    // Seen marks the same way: present = inside, whatever `at` says.
    let seen = SeenRecord {
        id_or_hash: seen_by_id("c-42", "m-1"),
        at: 0,
        window_ms: 1000,
    };
    assert!(is_seen(&[Some(seen.clone())], Expiry::Store));
    assert!(!is_seen(&[Some(seen)], Expiry::Clock(10_000)));
    assert!(!is_seen(&[None, None], Expiry::Store));
}

#[test]
fn window_marks_and_inbound_keys_are_named_apart() {
    let k = run_key("ns", "c-42", "createTicket", None);
    let mark = window_mark(&k);
    // Never an inbound identity of any message.
    assert!(!mark.starts_with("id\n") && !mark.starts_with('h'));
    assert_ne!(
        window_mark(&run_key("ns", "c-42", "createTicket", Some(&record(5000)))),
        mark
    );
    // The key of an inbound message is the same on every delivery, and differs per message
    // and per conversation.
    let a = inbound_key("ns", "c-42", &seen_by_id("c-42", "m-1"));
    assert_eq!(a, inbound_key("ns", "c-42", &seen_by_id("c-42", "m-1")));
    assert_ne!(a, inbound_key("ns", "c-43", &seen_by_id("c-43", "m-1")));
    assert_ne!(a, inbound_key("ns", "c-42", &seen_by_id("c-42", "m-2")));
    assert_ne!(a, k);
}

#[test]
fn composite_action_keys_of_slack_buttons_fit() {
    // A Slack button value may be 2000 characters; its JSON-encoded composite key fits.
    let long = format!("[\"1.000\",\"b1\",\"approve\",\"{}\"]", "x".repeat(2000));
    assert!(validate_action_key(&long).is_ok());
    assert!(validate_action_key(&"x".repeat(MAX_ACTION_KEY + 1)).is_err());
}

#[test]
fn a_run_after_the_window_gets_a_new_deterministic_key() {
    let first = run_key("ns", "c-42", "createTicket", None);
    assert_eq!(first, bot_key("ns", "c-42", "createTicket"));
    let r = record(5000);
    let second = run_key("ns", "c-42", "createTicket", Some(&r));
    assert_ne!(second, first);
    assert_eq!(second, run_key("ns", "c-42", "createTicket", Some(&r)));
}

#[test]
fn conversation_ids_with_newlines_are_refused() {
    assert!(validate_conversation_id("c-42").is_ok());
    for bad in ["", "a\nb", "a\rb", "a\tb"] {
        assert_eq!(
            validate_conversation_id(bad).unwrap_err().code(),
            "invalid_option"
        );
    }
    assert!(validate_action_key("").is_err());
}

#[test]
fn inbound_dedup_by_id_and_by_content_within_the_window() {
    let by_id = seen_by_id("c-42", "m-1");
    assert_ne!(by_id, seen_by_id("c-43", "m-1"));
    let hash = seen_by_content("c-42", "Hello   there").unwrap();
    assert_eq!(
        Some(hash.clone()),
        seen_by_content("c-42", " Hello there\n")
    );
    let rec = SeenRecord {
        id_or_hash: hash,
        at: 1000,
        window_ms: 1000,
    };
    assert!(!is_seen(&[None, None], Expiry::Clock(1500)));
    assert!(is_seen(&[None, Some(rec.clone())], Expiry::Clock(1999)));
    assert!(!is_seen(&[Some(rec)], Expiry::Clock(2000)));
}
