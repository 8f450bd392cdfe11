//! Everything that reads text from a server or from storage takes arbitrary input without
//! panicking: a broken reply or record is a calm status or a skipped record, never a crash.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::json;
use sendonce::core::record::Record;
use sendonce::core::reply::{
    classify_reply, job_state, reason, Reply, ReplyClass, MAX_REASON_CHARS,
};
use sendonce::core::retry::{parse_http_date, parse_retry_after};
use sendonce::core::window::Window;

/// Strings that look a little like what the parsers expect, plus anything at all.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9 ]{0,14}",
        "[A-Za-z]{3}, [0-9]{1,3} [A-Za-z]{3} [0-9+-]{1,6} [0-9:]{1,10} [A-Z]{0,4}",
        r#"[\[\]{}",:0-9a-z\\.eE+-]{0,60}"#,
        "[0-9]{0,14}(ms|s|m|h|d|x|)",
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Content-Type".to_string()),
        Just("content-type".to_string()),
        Just("Location".to_string()),
        Just("Retry-After".to_string()),
        Just("IDEMPOTENT-REPLAYED".to_string()),
        any::<String>(),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_string()),
        Just("application/problem+json".to_string()),
        Just("text/html".to_string()),
        Just("true".to_string()),
        Just(" ".to_string()),
        texty(),
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        texty(),
        Just(r#"{"detail":"x"}"#.to_string()),
        "\\{\"(detail|title|message|error|state|status|statusUrl)\":(\"[^\"]{0,300}\"|[0-9]{1,3}|null|\\[\\]|\\{\\})\\}",
        "\\[{0,200}",
        "\\{\"a\":{0,100}",
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    (
        any::<u16>(),
        prop::collection::vec((header_name(), header_value()), 0..5),
        body(),
    )
        .prop_map(|(status, headers, body)| Reply {
            status,
            headers,
            body,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn retry_after_never_panics(v in texty(), now in any::<u64>()) {
        if let Some(ms) = parse_retry_after(&v, now) {
            // Seconds are whole; a date is measured from now.
            prop_assert!(ms % 1_000 == 0 || parse_http_date(v.trim()).is_some());
        }
    }

    #[test]
    fn http_date_never_panics(v in texty()) {
        if let Some(ms) = parse_http_date(&v) {
            prop_assert!(ms < 253_402_300_800_000 + 86_400_000, "after the year 9999");
        }
    }

    #[test]
    fn classify_reply_never_panics(r in reply(), replay_header in header_name()) {
        match classify_reply(&r, &replay_header) {
            ReplyClass::Rejected { reason: Some(why) } => {
                prop_assert!(why.chars().count() <= MAX_REASON_CHARS + 1);
                prop_assert!(!why.trim().is_empty());
            }
            ReplyClass::Accepted { poll_url: Some(u) } => prop_assert!(!u.trim().is_empty()),
            ReplyClass::Success { .. } => prop_assert!((200..=299).contains(&r.status)),
            _ => {}
        }
        let _ = reason(&r);
        let _ = job_state(&r);
        let _ = r.json();
    }

    #[test]
    fn json_parse_never_panics(text in body()) {
        if let Ok(v) = json::parse(&text) {
            // What parses writes back and parses to the same value.
            prop_assert_eq!(json::parse(&v.to_json()).ok(), Some(v));
        }
    }

    #[test]
    fn window_parse_never_panics(text in texty()) {
        if let Ok(w) = Window::parse(&text) {
            // `0` is no window (local repeats off); any other is 1 s..=24 h.
            prop_assert!(w.ms() == 0 || (1_000..=86_400_000).contains(&w.ms()));
        }
    }

    #[test]
    fn record_decode_never_panics(text in prop_oneof![
        body(),
        r#"\{"v":1,"t":"(action|draft|outbox|quick|seen)"(,"[a-z]{1,2}":("[^"]{0,20}"|[0-9]{1,14}|null|true))*\}"#,
    ], now in any::<u64>()) {
        let _ = Record::decode(&text, now);
    }
}

#[test]
fn deeply_nested_json_is_refused_not_a_stack_overflow() {
    for text in ["[".repeat(100_000), "{\"a\":".repeat(100_000)] {
        assert!(json::parse(&text).is_err());
        let r = Reply {
            status: 400,
            headers: vec![],
            body: text.clone(),
        };
        assert_eq!(
            classify_reply(&r, "Idempotent-Replayed"),
            ReplyClass::Rejected { reason: None }
        );
    }
}

#[test]
fn multibyte_text_is_cut_on_character_boundaries() {
    let r = Reply {
        status: 400,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: "é".repeat(1_000),
    };
    let why = reason(&r).unwrap();
    assert_eq!(why.chars().count(), MAX_REASON_CHARS + 1);
    assert!(why.ends_with('…'));
    for s in [
        "é, 06 Nov 1994 08:49:37 GMT",
        "Sun,é06 Nov 1994 08:49:37 GMT",
        "ééé",
    ] {
        assert_eq!(parse_http_date(s), None);
        assert_eq!(parse_retry_after(s, 0), None);
    }
}
