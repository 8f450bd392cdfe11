//! Windows: how long a finished action answers "already received" to a repeat.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sendonce::core::window::{ActionKind, Window, Windows, MAX_WINDOW_MS, MIN_WINDOW_MS};

#[test]
fn every_unit_is_read() {
    for (text, ms) in [
        ("1500ms", 1_500),
        ("1000", 1_000),
        ("1s", 1_000),
        ("10s", 10_000),
        ("5m", 300_000),
        ("2h", 7_200_000),
        ("1d", 86_400_000),
        (" 10s ", 10_000),
    ] {
        assert_eq!(Window::parse(text).unwrap().ms(), ms, "{text}");
    }
}

#[test]
fn windows_are_between_one_second_and_one_day() {
    assert_eq!(MIN_WINDOW_MS, 1_000);
    assert_eq!(MAX_WINDOW_MS, 86_400_000);
    for refused in ["999", "999ms", "500ms", "1", "1ms", "86400001", "25h", "2d"] {
        assert_eq!(
            Window::parse(refused).unwrap_err().code(),
            "invalid_window",
            "{refused}"
        );
    }
    for accepted in ["1000ms", "24h", "1440m", "86400000"] {
        assert!(Window::parse(accepted).is_ok(), "{accepted}");
    }
    // `0`: no local repeats (a login form).
    for zero in ["0", "0s", "0ms", "0m"] {
        assert_eq!(Window::parse(zero).unwrap().ms(), 0, "{zero}");
    }
    assert_eq!(Window::from_ms(0.0).unwrap().ms(), 0);
    assert!(Window::from_ms(999.0).is_err());
    assert_eq!(Window::from_ms(1_000.0).unwrap().ms(), 1_000);
    assert_eq!(Window::from_ms(86_400_000.0).unwrap().ms(), 86_400_000);
    assert!(Window::from_ms(86_400_001.0).is_err());
    for bad in [f64::NAN, f64::INFINITY, -1_000.0, 1_500.5] {
        assert_eq!(Window::from_ms(bad).unwrap_err().code(), "invalid_window");
    }
}

#[test]
fn garbage_is_a_clear_error() {
    for bad in [
        "",
        " ",
        "s",
        "ms",
        "10 s",
        "1.5s",
        "-1s",
        "+1s",
        "10sec",
        "2 days",
        "1e3",
        "10s5",
        "99999999999999",
        "999999999999d",
        "١٠s",
        "10ｓ",
    ] {
        let err = Window::parse(bad).unwrap_err();
        assert_eq!(err.code(), "invalid_window", "{bad:?}");
        assert!(!err.to_string().is_empty());
    }
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = Window::parse(&s);
    }

    #[test]
    fn arbitrary_numbers_never_panic(n in any::<f64>()) {
        let _ = Window::from_ms(n);
    }
}

#[test]
fn each_kind_has_its_default() {
    let w = Windows::default();
    assert_eq!(w.for_kind(ActionKind::Form).ms(), 600_000);
    assert_eq!(w.for_kind(ActionKind::Chat).ms(), 10_000);
    assert_eq!(w.for_kind(ActionKind::QuickReply).ms(), 5_000);
    assert_eq!(w.for_kind(ActionKind::Default).ms(), 60_000);
    for kind in [
        ActionKind::Default,
        ActionKind::Form,
        ActionKind::Chat,
        ActionKind::QuickReply,
    ] {
        assert_eq!(ActionKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(ActionKind::parse("button"), None);
}
