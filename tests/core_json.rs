//! JSON: payloads and records go through it, so it must give back what it was given and must
//! never crash on what a server or a broken storage hands it.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::json::{parse, Value, MAX_DEPTH};

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |n| n.is_finite())
            .prop_map(Value::Number),
        (-1_000_000i64..1_000_000).prop_map(|n| Value::Number(n as f64)),
        "\\PC*".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8).prop_map(Value::Object),
        ]
    })
}

proptest! {
    #[test]
    fn what_is_written_reads_back_the_same(v in value()) {
        let text = v.to_json();
        prop_assert_eq!(parse(&text).unwrap(), v.clone());
        // The canonical form is stable: read it back and write it again, same text.
        let canonical = v.canonical();
        prop_assert_eq!(parse(&canonical).unwrap().canonical(), canonical);
    }

    /// Short decimals (prices, rates) take the writer's fast path, their neighbouring doubles
    /// mostly the slow one: both spell every double as Rust's `Display` does.
    #[test]
    fn short_decimals_have_displays_spelling(
        m in 1u64..1_000_000_000_000_000,
        d in 1i32..=22,
        step in -2i64..=2,
        neg in any::<bool>(),
    ) {
        let v = m as f64 / 10f64.powi(d);
        let v = f64::from_bits((v.to_bits() as i64 + step) as u64);
        let v = if neg { -v } else { v };
        let mut text = String::new();
        sendonce::core::json::write_number(&mut text, v);
        prop_assert_eq!(text, format!("{v}"));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn json_shaped_garbage_never_panics(s in "[\\[\\]{}\":,0-9eE.+\\-tfnrul\\\\ ]{0,64}") {
        let _ = parse(&s);
    }
}

#[test]
fn nesting_is_bounded_with_a_clear_error() {
    let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(parse(&ok).is_ok());
    let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert_eq!(parse(&deep).unwrap_err().code(), "invalid_json");
    // Far deeper input does not exhaust the stack.
    let abyss = "{\"a\":".repeat(100_000);
    assert_eq!(parse(&abyss).unwrap_err().code(), "invalid_json");
}

#[test]
fn numbers_and_strings_have_one_spelling() {
    for (a, b) in [("1", "1.0"), ("100", "1e2"), ("0", "-0"), ("0.5", "5e-1")] {
        assert_eq!(parse(a).unwrap().canonical(), parse(b).unwrap().canonical());
    }
    assert_eq!(parse("\"\\u00e9\\/\"").unwrap(), Value::from("é/"));
    // A lone surrogate becomes U+FFFD instead of failing, as in browsers.
    assert_eq!(parse("\"\\ud800x\"").unwrap(), Value::from("\u{fffd}x"));
    // Numbers too big for a double read as infinity and are written as null, like JSON.stringify.
    assert_eq!(parse("1e400").unwrap().to_json(), "null");
}

#[test]
fn errors_say_where() {
    let err = parse("{\"a\": tru}").unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    assert!(err.to_string().contains("byte 6"), "{err}");
}
