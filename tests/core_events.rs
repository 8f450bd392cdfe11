//! Events and stats: what `onEvent` and `so.stats()` tell an app about its users' actions.
#![cfg(not(target_arch = "wasm32"))]

use sendonce::core::events::{Event, EventKind, Stats, ALL_KINDS};
use sendonce::core::json::Value;
use sendonce::core::status::StatusCode;

#[test]
fn event_types_have_the_spec_names() {
    let names: Vec<&str> = ALL_KINDS.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "action.new",
            "action.repeat",
            "action.resume",
            "click.suppressed",
            "send.attempt",
            "send.retry",
            "reply.replayed",
            "reply.conflict",
            "key.rotated",
            "storage.fallback",
            "record.corrupt",
            "status",
            "offline",
            "online",
            "elsewhere",
            "action.incomplete",
            "auth.refresh",
            "key.adopted",
            "cors.suspect",
            "key.header_ignored",
            "send.aborted",
        ]
    );
    for k in ALL_KINDS {
        assert_eq!(EventKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(EventKind::parse("action.deleted"), None);
}

#[test]
fn events_carry_decisions_never_personal_data() {
    let e = Event::new(EventKind::Status)
        .with_key("k-1")
        .with_action("createOrder")
        .with_attempt(3)
        .with_status(400)
        .with_code(StatusCode::Rejected)
        .with_ms(120)
        .with_detail("Email ana@example.com is taken; call +55 11 98765-4321");
    assert_eq!(
        e.to_value().to_json(),
        r#"{"type":"status","key":"k-1","action":"createOrder","attempt":3,"status":400,"code":"rejected","ms":120,"detail":"Email [email] is taken; call [phone]"}"#
    );
    // A detail set directly, bypassing with_detail, is still masked on the way out.
    let raw = Event {
        detail: Some("card 4111 1111 1111 1111".into()),
        ..Event::new(EventKind::RecordCorrupt)
    };
    assert_eq!(
        raw.to_value().get("detail"),
        Some(&Value::from("card [card]"))
    );
    // Nothing set: only the type.
    assert_eq!(
        Event::new(EventKind::Online).to_value().to_json(),
        r#"{"type":"online"}"#
    );
}

fn ev(kind: EventKind, key: &str) -> Event {
    Event::new(kind).with_key(key)
}

fn status(key: &str, code: StatusCode) -> Event {
    ev(EventKind::Status, key).with_code(code)
}

#[test]
fn counters_follow_a_day_of_events() {
    let mut s = Stats::default();
    let log = [
        // A double-clicked order: one action, one click joined it, one request.
        ev(EventKind::ActionNew, "a"),
        status("a", StatusCode::Sending),
        ev(EventKind::SendAttempt, "a").with_attempt(1),
        ev(EventKind::ClickSuppressed, "a"),
        status("a", StatusCode::Done),
        // The same order again inside the window: answered locally.
        ev(EventKind::ActionRepeat, "a"),
        status("a", StatusCode::AlreadyReceived),
        // A flaky network: two retries, then the server says it already had it.
        ev(EventKind::ActionNew, "b"),
        ev(EventKind::SendAttempt, "b").with_attempt(1),
        ev(EventKind::SendRetry, "b").with_ms(300),
        ev(EventKind::SendAttempt, "b").with_attempt(2),
        ev(EventKind::ReplyConflict, "b").with_status(409),
        ev(EventKind::SendRetry, "b").with_ms(700),
        ev(EventKind::SendAttempt, "b").with_attempt(3),
        ev(EventKind::ReplyReplayed, "b").with_status(201),
        status("b", StatusCode::AlreadyReceived),
        // The user edits the form after sending: new key.
        ev(EventKind::KeyRotated, "c"),
        ev(EventKind::ActionNew, "c"),
        ev(EventKind::SendAttempt, "c"),
        status("c", StatusCode::Failed),
        // Noise that counts nothing.
        Event::new(EventKind::Offline),
        Event::new(EventKind::Online),
        Event::new(EventKind::StorageFallback),
        Event::new(EventKind::RecordCorrupt),
        ev(EventKind::Elsewhere, "d"),
        ev(EventKind::ActionResume, "b"),
    ];
    for e in &log {
        s.record(e);
    }
    assert_eq!(
        s.to_value().to_json(),
        r#"{"actions":3,"sends":5,"retries":2,"clicksSuppressed":1,"localRepeats":1,"serverReplays":1,"conflicts":1,"rotations":1,"failures":1}"#
    );
}

#[test]
fn a_failure_counts_once_per_action_and_is_taken_back_when_it_recovers() {
    let mut s = Stats::default();
    s.record(&status("k", StatusCode::Offline));
    s.record(&status("k", StatusCode::Retrying));
    s.record(&status("k", StatusCode::Offline));
    assert_eq!(
        s.failures, 1,
        "the same action offline twice is one failure"
    );
    s.record(&status("other", StatusCode::Failed));
    assert_eq!(s.failures, 2);
    s.record(&status("k", StatusCode::Done));
    assert_eq!(s.failures, 1, "it came back online and was sent");
    // Events without a key cannot be matched later: each counts.
    s.record(&Event::new(EventKind::Status).with_code(StatusCode::Failed));
    s.record(&Event::new(EventKind::Status).with_code(StatusCode::Failed));
    assert_eq!(s.failures, 3);
    // Statuses that are not failures never count, and a status without a code is ignored.
    s.record(&status("z", StatusCode::Rejected));
    s.record(&Event::new(EventKind::Status).with_key("z"));
    assert_eq!(s.failures, 3);
}

#[test]
fn many_failing_actions_stay_counted() {
    let mut s = Stats::default();
    for i in 0..1000 {
        s.record(&status(&format!("k{i}"), StatusCode::Offline));
    }
    assert_eq!(s.failures, 1000);
}
