//! Keys: what goes into the `Idempotency-Key` header, and which keys a caller may bring.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::key::{
    bot_key, check_random, new_key, validate_key, validate_namespace, KeyFormat, MAX_KEY_LEN,
};
use sendonce::core::quick::{validate_action_key, validate_conversation_id};

fn is_uuid_shape(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

#[test]
fn v4_keys_are_random_uuids_with_their_version_and_variant() {
    let k = new_key(KeyFormat::UuidV4, [0xff; 16], 0);
    let s = k.as_str();
    assert!(is_uuid_shape(s), "{s}");
    assert_eq!(&s[14..15], "4");
    assert!("89ab".contains(&s[19..20]), "{s}");
    // Different random bytes, different keys; the clock plays no part in v4.
    assert_ne!(
        new_key(KeyFormat::UuidV4, [1; 16], 5),
        new_key(KeyFormat::UuidV4, [2; 16], 5)
    );
    assert_eq!(
        new_key(KeyFormat::UuidV4, [1; 16], 5),
        new_key(KeyFormat::UuidV4, [1; 16], 9)
    );
    // Every key born on the client passes the caller-key validation.
    assert!(validate_key(s).is_ok());
}

#[test]
fn v7_keys_carry_the_time_and_sort_by_it() {
    let t = 1_700_000_000_000u64;
    let k = new_key(KeyFormat::UuidV7, [0; 16], t);
    let s = k.as_str();
    assert!(is_uuid_shape(s), "{s}");
    assert_eq!(&s[14..15], "7");
    assert!("89ab".contains(&s[19..20]), "{s}");
    // The first 48 bits are the Unix milliseconds.
    let ms = u64::from_str_radix(&s[..13].replace('-', ""), 16).unwrap();
    assert_eq!(ms, t);
    assert_eq!(KeyFormat::parse("uuid-v7").unwrap(), KeyFormat::UuidV7);
    assert_eq!(KeyFormat::parse("uuid-v4").unwrap(), KeyFormat::UuidV4);
    assert_eq!(KeyFormat::parse("v7").unwrap_err().code(), "invalid_option");
}

proptest! {
    #[test]
    fn later_v7_keys_sort_after_earlier_ones(
        t in 0u64..(1 << 47), dt in 1u64..1_000_000,
        a in any::<[u8; 16]>(), b in any::<[u8; 16]>(),
    ) {
        let first = new_key(KeyFormat::UuidV7, a, t);
        let later = new_key(KeyFormat::UuidV7, b, t + dt);
        prop_assert!(first.as_str() < later.as_str(), "{} !< {}", first, later);
    }
}

#[test]
fn bot_keys_are_deterministic_and_scoped() {
    let k = bot_key("shop", "c-42", "createTicket|orderId=123");
    assert_eq!(k, bot_key("shop", "c-42", "createTicket|orderId=123"));
    assert_eq!(&k.as_str()[14..15], "5", "UUID v5");
    assert_ne!(k, bot_key("shop", "c-43", "createTicket|orderId=123"));
    assert_ne!(k, bot_key("shop", "c-42", "createTicket|orderId=124"));
    assert_ne!(k, bot_key("blog", "c-42", "createTicket|orderId=123"));
}

#[test]
fn bot_key_parts_with_newlines_are_refused_so_splits_cannot_collide() {
    // The SPEC's derivation joins the parts with "\n": "a\nb"/c/d and "a"/b/"c\nd" are the
    // same text. Every part a caller gives is checked, so such keys are never made.
    assert_eq!(bot_key("a\nb", "c", "d"), bot_key("a", "b", "c\nd"));
    for (ns, conv, action) in [("a\nb", "c", "d"), ("a", "b", "c\nd"), ("a", "b\nc", "d")] {
        let refused = validate_namespace(ns)
            .and_then(|_| validate_conversation_id(conv))
            .and_then(|_| validate_action_key(action))
            .unwrap_err();
        assert_eq!(refused.code(), "invalid_option");
        assert!(refused.to_string().contains("newline"), "{refused}");
    }
    for bad in ["", "a:b", "a\rb", "a\u{0}b", &"n".repeat(65)] {
        assert_eq!(
            validate_namespace(bad).unwrap_err().code(),
            "invalid_option"
        );
    }
    assert!(validate_namespace("shop-é").is_ok());
    assert_eq!(
        validate_action_key("x\ry").unwrap_err().code(),
        "invalid_option"
    );
}

#[test]
fn a_random_source_that_returns_zeros_or_repeats_itself_makes_no_key() {
    let zeros = [0u8; 16];
    let err = check_random(&zeros, None).unwrap_err();
    assert_eq!(err.code(), "weak_random");
    // What a no-op `crypto.getRandomValues` polyfill would give every user.
    assert_eq!(
        new_key(KeyFormat::UuidV4, zeros, 0).as_str(),
        "00000000-0000-4000-8000-000000000000"
    );
    assert_eq!(
        check_random(&[0xff; 16], None).unwrap_err().code(),
        "weak_random"
    );
    let a: [u8; 16] = *b"\x8f\x12\xa0\x33\x01\xfe\x77\x5d\xc4\x09\x61\xb2\x3e\xd8\x40\x1a";
    let mut b = a;
    b[15] ^= 1;
    assert!(check_random(&a, None).is_ok());
    assert!(check_random(&b, Some(&a)).is_ok());
    assert_eq!(
        check_random(&a, Some(&a)).unwrap_err().code(),
        "weak_random"
    );
}

#[test]
fn bot_key_known_vector_never_changes() {
    // A Node bot, a browser and a Rust server must agree on this key forever: if this test
    // fails, the derivation changed and every stored quick-reply key would break. The value
    // was checked against an independent UUID v5 implementation (namespace
    // 5e2d0c3a-8f61-4b1e-9a47-0d53656e6431, name "sendonce\nc-42\ncreateTicket|orderId=123").
    assert_eq!(
        bot_key("sendonce", "c-42", "createTicket|orderId=123").as_str(),
        "36815d1b-9bd0-5dcb-9f28-f9cf46c190b1"
    );
}

#[test]
fn explicit_keys_are_one_to_255_visible_ascii_characters() {
    let long = "k".repeat(MAX_KEY_LEN);
    let too_long = "k".repeat(MAX_KEY_LEN + 1);
    assert_eq!(MAX_KEY_LEN, 255);
    for ok in ["a", "!", "~", "order-123:retry/2", long.as_str()] {
        assert_eq!(validate_key(ok).unwrap().as_str(), ok);
    }
    for bad in [
        "",
        too_long.as_str(),
        "has space",
        " lead",
        "trail ",
        "tab\there",
        "line\nbreak",
        "nul\0",
        "del\x7f",
        "café",
        "ключ",
        "emoji😀",
        "\u{a0}nbsp",
    ] {
        let err = validate_key(bad).unwrap_err();
        assert_eq!(err.code(), "invalid_key", "{bad:?}");
        assert!(!err.to_string().is_empty());
    }
    // 255 characters of a multi-byte letter are refused for the letter, not the length.
    assert_eq!(
        validate_key(&"é".repeat(200)).unwrap_err().code(),
        "invalid_key"
    );
}

proptest! {
    #[test]
    fn any_string_is_validated_without_panicking(s in "\\PC*") {
        let ok = !s.is_empty() && s.len() <= 255 && s.chars().all(|c| c.is_ascii_graphic());
        prop_assert_eq!(validate_key(&s).is_ok(), ok);
    }
}
