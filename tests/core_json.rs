//! JSON: payloads and records go through it, so it must give back what it was given and must
//! never crash on what a server or a broken storage hands it.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::json::{canonical_text, parse, sorted_members, write_json, Value, MAX_DEPTH};

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

/// The canonical text as the tree gives it (the way fingerprints were made before
/// `canonical_text` wrote them straight from the text): the oracle for that writer.
fn canonical_by_tree(v: &Value, skip: &dyn Fn(&str) -> bool, out: &mut String) {
    match v {
        Value::Object(members) => {
            out.push('{');
            let mut first = true;
            for (k, v) in sorted_members(members) {
                if skip(k) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_json(out, &Value::String(k.to_string()));
                out.push(':');
                canonical_by_tree(v, skip, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_by_tree(item, skip, out);
            }
            out.push(']');
        }
        scalar => write_json(out, scalar),
    }
}

/// `text` with whitespace after every comma and colon, and `\u` escapes for some characters
/// of its strings (what other writers than `JSON.stringify` send).
fn loosen(text: &str, seed: u64) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut x = seed | 1;
    for c in text.chars() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if in_string && !escaped && c != '"' && c != '\\' && x % 3 == 0 && (c as u32) < 0x10000 {
            out.push_str(&format!("\\u{:04x}", c as u32));
            continue;
        }
        out.push(c);
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if (c == ',' || c == ':') && x % 2 == 0 {
            out.push_str(" \n\t");
        }
    }
    out
}

proptest! {
    /// Writing the canonical text straight from JSON text gives what the tree gives, with
    /// repeated and skipped names, escapes and whitespace.
    #[test]
    fn canonical_text_is_the_trees_canonical_form(v in value(), seed in any::<u64>(), skip_name in "[a-c]?") {
        let skip = |name: &str| !skip_name.is_empty() && name.starts_with(skip_name.as_str());
        let mut want = String::new();
        canonical_by_tree(&v, &skip, &mut want);
        let skip = |name: &str, _depth: usize| skip(name);
        let text = v.to_json();
        prop_assert_eq!(canonical_text(&text, &skip).unwrap(), want.clone());
        let loose = loosen(&text, seed);
        prop_assert_eq!(parse(&loose).unwrap(), v.clone(), "{}", loose);
        prop_assert_eq!(canonical_text(&loose, &skip).unwrap(), want);
    }

    /// It accepts and refuses what the parser does, with the same error.
    #[test]
    fn canonical_text_refuses_what_parse_refuses(v in value(), cut in any::<prop::sample::Index>(), junk in "[\\[\\]{}\",:a-z0-9\\\\. -]{0,3}") {
        let text = v.to_json();
        let at = cut.index(text.len() + 1);
        let Some((head, tail)) = text.get(..at).zip(text.get(at..)) else { return Ok(()) };
        for broken in [format!("{head}{junk}{tail}"), format!("{head}{junk}"), junk.clone()] {
            match (parse(&broken), canonical_text(&broken, &|_, _| false)) {
                (Ok(_), Ok(_)) => {}
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "{broken:?}: parse {a:?}, canonical_text {b:?}"),
            }
        }
    }

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

/// The canonical text as the tree gives it, with `skip(name, depth)` as `canonical_text` takes
/// it (depth 0: the members of the top-level object).
fn canonical_by_tree_at(
    v: &Value,
    depth: usize,
    skip: &dyn Fn(&str, usize) -> bool,
    out: &mut String,
) {
    match v {
        Value::Object(members) => {
            out.push('{');
            let mut first = true;
            for (k, v) in sorted_members(members) {
                if skip(k, depth) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_json(out, &Value::String(k.to_string()));
                out.push(':');
                canonical_by_tree_at(v, depth + 1, skip, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_by_tree_at(item, depth + 1, skip, out);
            }
            out.push(']');
        }
        scalar => write_json(out, scalar),
    }
}

/// A JSON number in any spelling the grammar allows: signs, leading `0.`, trailing zeros,
/// exponents, more digits than a double holds, and the cases the canonical form must turn
/// into another spelling (`-0`, `1e21`, `1.50`, `0.1e1`).
fn number_text() -> impl Strategy<Value = String> {
    let spelt = (
        any::<bool>(),
        prop_oneof!["0", "[1-9][0-9]{0,24}"],
        prop::option::of("[0-9]{1,24}"),
        prop::option::of("[eE][+-]?[0-9]{1,3}"),
    )
        .prop_map(|(neg, int, frac, exp)| {
            let mut s = String::new();
            if neg {
                s.push('-');
            }
            s.push_str(&int);
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            s.push_str(exp.as_deref().unwrap_or(""));
            s
        });
    let special = prop::sample::select(vec![
        "0",
        "-0",
        "-0.0",
        "0.0",
        "1e21",
        "1e+21",
        "-1e21",
        "1E21",
        "0.30000000000000004",
        "0.1",
        "0.2",
        "1.5",
        "1.50",
        "10.10",
        "123456789012345",
        "1234567890123456",
        "12345678901234567890",
        "9007199254740993",
        "100000000000000000000000",
        "0.000001",
        "0.0000001",
        "1e-7",
        "5e-324",
        "4.9e-324",
        "1.7976931348623157e308",
        "1e308",
        "1e400",
        "-1e400",
        "0.000000000000000000001",
        "0.0000000000000000000001",
        "999999999999999",
        "999999999999999.9",
        "0.1e1",
        "100",
        "1e2",
        "-120",
        "9.5",
        "19.99",
        "0.00000000000000000000123456789012345",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        spelt,
        special,
        any::<f64>().prop_map(|n| format!("{n:e}")),
        any::<f64>().prop_map(|n| format!("{n}"))
    ]
    .prop_filter("JSON numbers only", |s| {
        !s.contains("inf") && !s.contains("NaN")
    })
}

/// JSON text with numbers in any spelling, escaped and plain strings (lone surrogates, `\/`,
/// astral characters as pairs), repeated names and the volatile names at every depth.
fn json_text() -> impl Strategy<Value = String> {
    let string = prop_oneof![
        "[a-z ]{0,6}".prop_map(|s| format!("\"{s}\"")),
        Just("\"\\u00e9\\/\\n\"".to_string()),
        Just("\"\\ud83d\\ude00\"".to_string()),
        Just("\"\\ud800x\"".to_string()),
        Just("\"caf\u{e9} \u{1f600}\"".to_string()),
        Just("\"\\\"q\\\\\"".to_string()),
    ];
    let leaf = prop_oneof![
        number_text(),
        string.clone(),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
    ];
    let name = prop_oneof![
        prop::sample::select(vec![
            "\"ts\"",
            "\"nonce\"",
            "\"a\"",
            "\"b\"",
            "\"\\u0061\"",
            "\"timestamp\"",
            "\"\u{e9}\""
        ])
        .prop_map(str::to_string),
        string,
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((name.clone(), inner), 0..6).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!("{k} :{v}"))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

proptest! {
    /// Numbers the canonical form copies (already canonical) and numbers it reads and writes
    /// again: the same text as the tree's, which reads every number and writes it.
    #[test]
    fn every_number_spelling_canonicalises_like_the_tree(n in number_text()) {
        let mut want = String::new();
        canonical_by_tree_at(&parse(&n).unwrap(), 0, &|_, _| false, &mut want);
        prop_assert_eq!(canonical_text(&n, &|_, _| false).unwrap(), want, "{}", n);
    }

    /// The fingerprint straight from the text is SHA-256 of the tree's canonical form with the
    /// default volatile names left out of the top-level object only.
    #[test]
    fn the_fingerprint_of_any_json_text_is_the_trees(text in json_text()) {
        use sendonce::core::fingerprint::{fingerprint_action, sha256_hex, VOLATILE_FIELDS};
        let volatile = |name: &str, depth: usize| depth == 0 && VOLATILE_FIELDS.contains(&name);
        let mut want = String::new();
        canonical_by_tree_at(&parse(&text).unwrap(), 0, &volatile, &mut want);
        prop_assert_eq!(canonical_text(&text, &volatile).unwrap(), want.clone(), "{}", text);
        prop_assert_eq!(fingerprint_action(&text, &[], None).unwrap(), sha256_hex(want.as_bytes()));
    }
}
