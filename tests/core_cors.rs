//! The "missing CORS header" pattern: what users otherwise only see as "Connection lost".

use sendonce::core::cors::{advice, is_cross_origin, origin_of, AttemptEnd, CorsWatch};

const FAST: AttemptEnd = AttemptEnd::NetworkError { elapsed_ms: 30 };

#[test]
fn three_fast_failures_across_origins_are_told_once() {
    let mut w = CorsWatch::default();
    let told: Vec<bool> = (0..6).map(|_| w.attempt(true, true, FAST)).collect();
    assert_eq!(told, [false, false, true, false, false, false]);
}

#[test]
fn same_origin_slow_offline_or_answered_attempts_are_not_the_pattern() {
    let mut w = CorsWatch::default();
    for _ in 0..5 {
        assert!(!w.attempt(false, true, FAST), "same origin");
    }
    let slow = AttemptEnd::NetworkError { elapsed_ms: 5_000 };
    for _ in 0..5 {
        assert!(
            !w.attempt(true, true, slow),
            "slow: a server that was reached"
        );
        assert!(!w.attempt(true, true, AttemptEnd::Timeout));
    }
    for _ in 0..5 {
        assert!(!w.attempt(true, false, FAST), "offline");
    }
    // An answer in between breaks the run.
    let mut w = CorsWatch::default();
    assert!(!w.attempt(true, true, FAST));
    assert!(!w.attempt(true, true, FAST));
    assert!(!w.attempt(true, true, AttemptEnd::Answered));
    assert!(!w.attempt(true, true, FAST));
    assert!(!w.attempt(true, true, FAST));
    assert!(w.attempt(true, true, FAST));
}

#[test]
fn origins_are_compared_the_way_browsers_do() {
    assert!(!is_cross_origin("http://127.0.0.1:8080", "/api/orders"));
    assert!(!is_cross_origin(
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080/api"
    ));
    assert!(is_cross_origin(
        "http://127.0.0.1:8080",
        "http://127.0.0.1:9090/api"
    ));
    assert!(is_cross_origin(
        "http://127.0.0.1:8080",
        "http://localhost:8080/api"
    ));
    assert!(is_cross_origin(
        "https://shop.example",
        "http://shop.example/api"
    ));
    assert!(!is_cross_origin(
        "https://shop.example",
        "https://SHOP.example:443/api"
    ));
    assert!(is_cross_origin("null", "https://api.example/x"));
    assert_eq!(
        origin_of("http://user:pw@host:81/x").as_deref(),
        Some("http://host:81")
    );
    assert_eq!(origin_of("ftp://host/x"), None);
    assert_eq!(origin_of("https:///x"), None);
}

#[test]
fn the_advice_names_the_headers_to_allow_and_expose() {
    let text = advice(
        "https://api.example",
        "Idempotency-Key",
        "Idempotent-Replayed",
    );
    for needed in [
        "https://api.example",
        "Access-Control-Allow-Headers",
        "Idempotency-Key",
        "Access-Control-Expose-Headers",
        "Idempotent-Replayed",
        "Retry-After",
        "Location",
    ] {
        assert!(text.contains(needed), "{needed}: {text}");
    }
}
