//! The draft's rules as a client sees them: one effect per key, 409 while in flight, 422 for
//! a different payload, replays with the original status and body, 400 for bad keys.

mod common;

use std::sync::{Arc, Barrier};

use common::{Server, TempPath};

const ORDER: &str = r#"{"item":"tea","qty":2}"#;

#[test]
fn fifty_concurrent_posts_with_one_key_run_the_effect_once() {
    let db = TempPath::new("concurrent");
    let server = Arc::new(Server::start(&db.path, &[]));
    let barrier = Arc::new(Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let server = Arc::clone(&server);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                server.post("/api/orders", "same-key", ORDER, &[])
            })
        })
        .collect();
    let replies: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    let fresh = replies
        .iter()
        .filter(|r| r.status == 201 && !r.replayed())
        .count();
    assert_eq!(fresh, 1, "exactly one request runs the effect");
    for r in &replies {
        match r.status {
            201 => assert_eq!(r.json()["id"], 1, "every 201 shows the one order"),
            409 => assert_eq!(r.header("retry-after"), Some("1")),
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    assert_eq!(server.order_count(), 1);
    assert_eq!(server.effects(), (1, 0));
    let effects = server.get_json("/api/effects");
    assert_eq!(effects["effects"][0]["key"], "same-key");
    assert_eq!(effects["effects"][0]["count"], 1);
}

#[test]
fn same_key_with_a_different_payload_is_422_and_changes_nothing() {
    let db = TempPath::new("mismatch");
    let server = Server::start(&db.path, &[]);
    assert_eq!(server.post("/api/orders", "k1", ORDER, &[]).status, 201);
    let reply = server.post("/api/orders", "k1", r#"{"item":"tea","qty":3}"#, &[]);
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let problem = reply.json();
    for field in ["type", "title", "detail"] {
        assert!(problem[field].is_string(), "problem has {field}: {problem}");
    }
    assert_eq!(server.order_count(), 1);
    assert_eq!(server.effects(), (1, 0));
}

#[test]
fn reordered_fields_and_volatile_fields_still_replay_the_original() {
    let db = TempPath::new("replay");
    let server = Server::start(&db.path, &[]);
    let first = server.post(
        "/api/orders",
        "k1",
        r#"{"item":"tea","qty":2,"timestamp":1}"#,
        &[],
    );
    assert_eq!(first.status, 201);
    assert!(!first.replayed());

    let again = server.post(
        "/api/orders",
        "k1",
        r#"{"qty":2,"nonce":"x9","item":"tea","timestamp":99}"#,
        &[],
    );
    assert_eq!(again.status, 201, "a replay keeps the original 201");
    assert!(again.replayed());
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("content-type"), Some("application/json"));
    assert_eq!(server.order_count(), 1);
}

#[test]
fn keys_are_scoped_per_endpoint() {
    let db = TempPath::new("scope");
    let server = Server::start(&db.path, &[]);
    assert_eq!(server.post("/api/orders", "k1", ORDER, &[]).status, 201);
    let ticket = server.post("/api/tickets", "k1", ORDER, &[]);
    assert_eq!(ticket.status, 201);
    assert!(!ticket.replayed());
    assert_eq!(ticket.json()["ticket"]["item"], "tea");
    assert_eq!(server.get_json("/api/tickets")["count"], 1);
    assert_eq!(server.effects(), (2, 0));
}

#[test]
fn missing_or_overlong_keys_are_400_and_nothing_is_stored() {
    let db = TempPath::new("badkey");
    let server = Server::start(&db.path, &[]);
    let missing = server.request(
        "POST",
        "/api/orders",
        &[("Content-Type", "application/json")],
        ORDER,
    );
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    assert!(missing.json()["detail"].is_string());

    let long_key = "k".repeat(256);
    let too_long = server.post("/api/orders", &long_key, ORDER, &[]);
    assert_eq!(too_long.status, 400);
    assert!(too_long.json()["title"].is_string());

    let with_space = server.post("/api/orders", "has space", ORDER, &[]);
    assert_eq!(with_space.status, 400);

    assert_eq!(server.order_count(), 0);
    assert_eq!(server.effects(), (0, 0));
    // 255 characters is still a key.
    assert_eq!(
        server
            .post("/api/orders", &"k".repeat(255), ORDER, &[])
            .status,
        201
    );
}

#[test]
fn bad_bodies_are_400_and_do_not_burn_the_key() {
    let db = TempPath::new("badbody");
    let server = Server::start(&db.path, &[]);
    assert_eq!(
        server.post("/api/orders", "k1", "{not json", &[]).status,
        400
    );
    assert_eq!(server.order_count(), 0);
    let ok = server.post("/api/orders", "k1", ORDER, &[]);
    assert_eq!(ok.status, 201);
    assert!(!ok.replayed());
}

#[test]
fn chat_messages_get_one_bubble_each_in_order() {
    let db = TempPath::new("chat");
    let server = Server::start(&db.path, &[]);
    let path = "/api/conversations/c1/messages";
    let first = server.post(path, "m1", r#"{"id":"m1","text":"hello"}"#, &[]);
    assert_eq!(first.status, 201);
    let body = first.json();
    assert_eq!(body["seq"], 1);
    assert_eq!(body["id"], "m1");
    assert_eq!(body["conversationId"], "c1");
    assert_eq!(body["text"], "hello");

    let resent = server.post(path, "m1", r#"{"text":"hello","id":"m1","attempt":2}"#, &[]);
    assert!(resent.replayed());
    assert_eq!(resent.json()["seq"], 1);
    assert_eq!(
        server
            .post(path, "m2", r#"{"id":"m2","text":"again"}"#, &[])
            .json()["seq"],
        2
    );

    let list = server.get_json(path);
    let texts: Vec<_> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["hello", "again"]);
    assert!(
        server.get_json("/api/conversations/other/messages")["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn reset_forgets_everything() {
    let db = TempPath::new("reset");
    let server = Server::start(&db.path, &[]);
    server.post("/api/orders", "k1", ORDER, &[]);
    server.request("POST", "/api/faults", &[], r#"{"faults":["500"]}"#);
    assert_eq!(server.request("POST", "/api/reset", &[], "").status, 200);
    assert_eq!(server.order_count(), 0);
    assert_eq!(server.effects(), (0, 0));
    assert!(server.get_json("/api/faults")["armed"]
        .as_array()
        .unwrap()
        .is_empty());
    let again = server.post("/api/orders", "k1", ORDER, &[]);
    assert_eq!((again.status, again.replayed()), (201, false));
    assert_eq!(again.json()["id"], 1, "ids start over");
}

#[test]
fn a_plain_html_form_post_creates_one_order_too() {
    let db = TempPath::new("form");
    let server = Server::start(&db.path, &[]);
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Idempotency-Key", "f1"),
    ];
    let first = server.request("POST", "/api/orders", &headers, "item=tea&qty=2");
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["order"]["item"], "tea");
    let again = server.request("POST", "/api/orders", &headers, "item=tea&qty=2");
    assert!(again.replayed());
    assert_eq!(server.order_count(), 1);
}
