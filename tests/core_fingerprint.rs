//! Fingerprints: the same meaning gives the same fingerprint (so a repeat is recognised),
//! a meaningful change gives another (so changed data gets a new key).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::fingerprint::{
    canonical, fingerprint_action, fingerprint_body, fingerprint_form, fingerprint_json,
    fingerprint_value, sha256_hex, FormValue, VOLATILE_FIELDS,
};
use sendonce::core::json::{parse, Value};

fn fp(v: &Value) -> String {
    fingerprint_value(v, &[]).to_string()
}

/// An object with distinct member names (repeated names mean "the last one wins", which a
/// reordering would change).
fn members() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::btree_map(
        "[a-z]{1,6}".prop_filter("not volatile", |k| !VOLATILE_FIELDS.contains(&k.as_str())),
        prop_oneof![
            any::<i32>().prop_map(|n| Value::Number(n.into())),
            "\\PC{0,8}".prop_map(Value::String),
            any::<bool>().prop_map(Value::Bool),
            prop::collection::vec(any::<i16>().prop_map(|n| Value::Number(n.into())), 0..4)
                .prop_map(Value::Array),
        ],
        1..8,
    )
    .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn field_order_never_changes_a_fingerprint(
        (m, shuffled) in members().prop_flat_map(|m| (Just(m.clone()), Just(m).prop_shuffle()))
    ) {
        let nested = |m: Vec<(String, Value)>| Value::object([("order", Value::Object(m))]);
        prop_assert_eq!(fp(&Value::Object(m.clone())), fp(&Value::Object(shuffled.clone())));
        prop_assert_eq!(fp(&nested(m)), fp(&nested(shuffled)));
    }

    #[test]
    fn a_changed_value_or_name_changes_it(m in members(), idx in any::<prop::sample::Index>()) {
        let i = idx.index(m.len());
        let original = fp(&Value::Object(m.clone()));
        let mut changed = m.clone();
        changed[i].1 = Value::String(format!("{}!", changed[i].1.to_json()));
        prop_assert_ne!(&original, &fp(&Value::Object(changed)));
        let mut renamed = m.clone();
        renamed[i].0.push('_');
        prop_assert_ne!(&original, &fp(&Value::Object(renamed)));
    }

    #[test]
    fn volatile_fields_do_not_count(m in members(), stamp in any::<u32>()) {
        let mut with = m.clone();
        for name in VOLATILE_FIELDS {
            with.push((name.to_string(), Value::Number(stamp.into())));
        }
        prop_assert_eq!(fp(&Value::Object(m)), fp(&Value::Object(with)));
    }

    #[test]
    fn body_bytes_fingerprint_like_the_payload(m in members()) {
        let v = Value::Object(m.clone());
        let body = v.to_json();
        prop_assert_eq!(fingerprint_body(Some("application/json"), body.as_bytes()), fp(&v));
        prop_assert_eq!(fingerprint_body(None, body.as_bytes()), fp(&v));
        // With spaces and the members the other way round: the server computes the same thing.
        let spaced: Vec<String> = m
            .iter()
            .rev()
            .map(|(k, v)| format!("{} : {}", Value::from(k.as_str()).to_json(), v.to_json()))
            .collect();
        let spaced = format!(" {{ {} }} ", spaced.join(" ,\n "));
        let ct = Some("application/json; charset=utf-8");
        prop_assert_eq!(fingerprint_body(ct, spaced.as_bytes()), fp(&v));
    }
}

#[test]
fn array_order_and_types_matter() {
    let a = parse(r#"{"items":["tea","cake"]}"#).unwrap();
    let b = parse(r#"{"items":["cake","tea"]}"#).unwrap();
    assert_ne!(fp(&a), fp(&b));
    assert_ne!(
        fp(&parse(r#"{"qty":1}"#).unwrap()),
        fp(&parse(r#"{"qty":"1"}"#).unwrap())
    );
    assert_ne!(
        fp(&parse(r#"{"x":null}"#).unwrap()),
        fp(&parse(r#"{}"#).unwrap())
    );
}

#[test]
fn one_and_one_point_zero_agree() {
    let base = fp(&parse(r#"{"qty":1,"price":250}"#).unwrap());
    for same in [
        r#"{"qty":1.0,"price":250}"#,
        r#"{"price":2.5e2,"qty":1}"#,
        r#"{"qty":1E0,"price":250.000}"#,
        r#"{ "qty" : 1 , "price" : 250 , "ts" : 1700000000 }"#,
    ] {
        assert_eq!(fp(&parse(same).unwrap()), base, "{same}");
    }
}

#[test]
fn excluded_fields_do_not_count_at_any_depth() {
    let a = parse(r#"{"name":"Ana","captcha":"x1","meta":{"captcha":"a"}}"#).unwrap();
    let b = parse(r#"{"name":"Ana","captcha":"y2","meta":{"captcha":"b"}}"#).unwrap();
    let exclude = ["captcha".to_string()];
    assert_eq!(
        fingerprint_value(&a, &exclude),
        fingerprint_value(&b, &exclude)
    );
    assert_ne!(fingerprint_value(&a, &[]), fingerprint_value(&b, &[]));
}

/// Issue 19 item 4: `{room: 1, slot: {ts: "10:00"}}` then `"11:00"` were one fingerprint, so
/// the second booking was answered "already received" and never sent. Volatile names are
/// left out of the top-level object only.
#[test]
fn nested_volatile_names_are_data_at_every_depth() {
    let fp = |text: &str| fingerprint_json(text, &[]).unwrap();
    assert_ne!(
        fp(r#"{"room":1,"slot":{"ts":"10:00"}}"#),
        fp(r#"{"room":1,"slot":{"ts":"11:00"}}"#)
    );
    for name in VOLATILE_FIELDS {
        for (one, other) in [
            // In an object, deeper, in an array of objects, and a top-level array.
            (r#"{"a":{"N":1}}"#, r#"{"a":{"N":2}}"#),
            (r#"{"a":{"b":{"N":1}}}"#, r#"{"a":{"b":{"N":2}}}"#),
            (r#"{"items":[{"N":1}]}"#, r#"{"items":[{"N":2}]}"#),
            (r#"[{"N":1}]"#, r#"[{"N":2}]"#),
        ] {
            let (one, other) = (one.replace('N', name), other.replace('N', name));
            assert_ne!(fp(&one), fp(&other), "{one} vs {other}");
            // The tree and the text agree, and so does a server reading the body.
            let v = parse(&one).unwrap();
            assert_eq!(fingerprint_value(&v, &[]), fp(&one));
            assert_eq!(
                fingerprint_body(Some("application/json"), one.as_bytes()),
                fp(&one).to_string()
            );
        }
        // At the top level the name is a client's stamp: left out.
        let top = |n: u32| format!(r#"{{"room":1,"{name}":{n}}}"#);
        assert_eq!(fp(&top(1)), fp(&top(2)));
        assert_eq!(fp(&top(1)), fp(r#"{"room":1}"#));
    }
}

#[test]
fn an_action_can_turn_volatile_names_off_or_name_its_own() {
    let fp =
        |text: &str, volatile: Option<&[String]>| fingerprint_action(text, &[], volatile).unwrap();
    let (ten, eleven) = (r#"{"room":1,"ts":"10:00"}"#, r#"{"room":1,"ts":"11:00"}"#);
    // Default: the top-level `ts` is left out.
    assert_eq!(fp(ten, None), fp(eleven, None));
    assert_eq!(fp(ten, None), fingerprint_json(ten, &[]).unwrap());
    // `volatile: []`: every field counts.
    assert_ne!(fp(ten, Some(&[])), fp(eleven, Some(&[])));
    assert_eq!(fp(ten, Some(&[])), sha256_hex(ten.as_bytes()));
    // An own list replaces the defaults, top level only.
    let own = ["clientTime".to_string()];
    assert_eq!(
        fp(r#"{"a":1,"clientTime":5}"#, Some(&own)),
        fp(r#"{"a":1,"clientTime":6}"#, Some(&own))
    );
    assert_ne!(
        fp(r#"{"a":{"clientTime":5}}"#, Some(&own)),
        fp(r#"{"a":{"clientTime":6}}"#, Some(&own))
    );
    assert_ne!(fp(ten, Some(&own)), fp(eleven, Some(&own)));
    // `exclude` still reaches every depth, whatever `volatile` says.
    let exclude = ["captcha".to_string()];
    assert_eq!(
        fingerprint_action(r#"{"a":{"captcha":1}}"#, &exclude, Some(&[])).unwrap(),
        fingerprint_action(r#"{"a":{"captcha":2}}"#, &exclude, Some(&[])).unwrap()
    );
}

fn text(name: &str, v: &str) -> (String, FormValue) {
    (name.to_string(), FormValue::Text(v.to_string()))
}

fn file(name: &str, file: &str, size: u64, last_modified: u64) -> (String, FormValue) {
    (
        name.to_string(),
        FormValue::File {
            name: file.to_string(),
            mime: "image/png".into(),
            size,
            last_modified,
        },
    )
}

#[test]
fn forms_keep_dom_order_of_repeated_names_and_read_files_by_metadata() {
    let f = |fields: &[(String, FormValue)]| fingerprint_form(fields, &[]).to_string();
    let base = [
        text("name", "Ana"),
        text("tag", "a"),
        text("tag", "b"),
        file("cv", "cv.pdf", 1000, 5),
    ];
    // Other names may move; repeated names keep their order.
    let moved = [
        file("cv", "cv.pdf", 1000, 5),
        text("tag", "a"),
        text("name", "Ana"),
        text("tag", "b"),
    ];
    assert_eq!(f(&base), f(&moved));
    let swapped = [
        text("name", "Ana"),
        text("tag", "b"),
        text("tag", "a"),
        file("cv", "cv.pdf", 1000, 5),
    ];
    assert_ne!(f(&base), f(&swapped));
    // A file is its name, size and lastModified: the same metadata is the same file.
    for other in [
        file("cv", "cv2.pdf", 1000, 5),
        file("cv", "cv.pdf", 1001, 5),
        file("cv", "cv.pdf", 1000, 6),
    ] {
        let mut changed = base.clone();
        changed[3] = other;
        assert_ne!(f(&base), f(&changed));
    }
    // Volatile and excluded names are not part of it.
    let mut noisy = base.to_vec();
    noisy.push(text("ts", "123"));
    noisy.push(text("captcha", "zz"));
    assert_eq!(
        fingerprint_form(&base, &["captcha".to_string()]),
        fingerprint_form(&noisy, &["captcha".to_string()])
    );
}

#[test]
fn non_json_bodies_are_fingerprinted_by_their_bytes() {
    let a = fingerprint_body(Some("text/plain"), b"{\"a\":1}");
    let b = fingerprint_body(Some("text/plain"), b"{ \"a\": 1 }");
    assert_ne!(a, b);
    assert_eq!(a.len(), 64);
    // Broken JSON claimed as JSON: bytes, no panic.
    assert_eq!(
        fingerprint_body(Some("application/json"), b"{\"a\":").len(),
        64
    );
    assert_eq!(fingerprint_body(None, &[0xff, 0xfe, 0x00]).len(), 64);
}

/// The fingerprint is SHA-256 of the canonical text at every size, from the tree and straight
/// from the JSON text (what a create does) alike.
#[test]
fn the_fingerprint_is_sha256_of_the_canonical_text_at_every_size() {
    assert_eq!(
        fp(&parse(r#"{"b":[true,null,"x"],"a":1}"#).unwrap()),
        // sha256 of {"a":1,"b":[true,null,"x"]}
        "eca8cfb31ab74533e1eb2f4c74d2d55dfe3c79ac704787e54be8647ea7777eb1"
    );
    for n in [0, 1, 10, 100, 300, 1000, 5000] {
        let items: Vec<Value> = (0..n)
            .map(|i| {
                Value::object([
                    ("sku", Value::from(format!("SKU-{i}").as_str())),
                    ("qty", Value::from(i as f64 + 0.5)),
                    ("ts", Value::from(i as f64)),
                ])
            })
            .collect();
        let note = "é\"x".repeat(n * 3);
        let v = Value::object([
            ("note", Value::from(note.as_str())),
            ("items", Value::Array(items)),
        ]);
        let text = canonical(&v, &[]);
        assert_eq!(fp(&v), sha256_hex(text.as_bytes()).to_string(), "{n} items");
        let json = v.to_json();
        assert_eq!(
            fingerprint_json(&json, &[]).unwrap().to_string(),
            fp(&v),
            "{n} items"
        );
    }
}
