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
    assert_eq!(plan_quick(None, false, 0), QuickPlan::Run);
    assert_eq!(plan_quick(None, true, 0), QuickPlan::Join);
    let r = record(5000);
    assert_eq!(plan_quick(Some(&r), true, 5500), QuickPlan::Join);
    assert_eq!(
        plan_quick(Some(&r), false, 5999),
        QuickPlan::Repeat(Value::from("ticket-1"))
    );
    assert_eq!(plan_quick(Some(&r), false, 6000), QuickPlan::Run);
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
    assert!(!is_seen(&[None, None], 1500));
    assert!(is_seen(&[None, Some(rec.clone())], 1999));
    assert!(!is_seen(&[Some(rec)], 2000));
}
