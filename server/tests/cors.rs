//! `--cors-origin`: a page on that one origin may send keys and read replays; other origins
//! and the admin endpoints get no CORS headers.

mod common;

use common::{Server, TempPath};

const SHOP: &str = "http://shop.example:5173";

fn preflight(s: &Server, path: &str, origin: &str) -> common::Reply {
    s.request(
        "OPTIONS",
        path,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "content-type,idempotency-key",
            ),
        ],
        "",
    )
}

#[test]
fn the_allowed_origin_may_send_keys_and_read_replays() {
    let db = TempPath::new("cors");
    let s = Server::start(&db.path, &["--cors-origin", SHOP]);
    let pre = preflight(&s, "/api/orders", SHOP);
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some(SHOP));
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("idempotency-key"));
    let body = r#"{"item":"tea"}"#;
    s.post("/api/orders", "c1", body, &[("Origin", SHOP)]);
    let replay = s.post("/api/orders", "c1", body, &[("Origin", SHOP)]);
    assert!(replay.replayed());
    assert_eq!(replay.header("access-control-allow-origin"), Some(SHOP));
    let exposed = replay.header("access-control-expose-headers").unwrap();
    for name in ["idempotent-replayed", "retry-after", "location"] {
        assert!(exposed.contains(name), "{exposed}");
    }

    // Another origin, the admin endpoints: nothing.
    let other = preflight(&s, "/api/orders", "http://evil.example");
    assert_eq!(other.header("access-control-allow-origin"), None);
    assert_eq!(
        preflight(&s, "/api/reset", SHOP).header("access-control-allow-origin"),
        None
    );
    assert_eq!(s.order_count(), 1);
}

#[test]
fn without_the_option_no_origin_is_allowed() {
    let db = TempPath::new("cors-off");
    let s = Server::start(&db.path, &[]);
    assert_eq!(
        preflight(&s, "/api/orders", SHOP).header("access-control-allow-origin"),
        None
    );
}
