//! What a chaos gate reads: effects per business reference (one order under two keys is a
//! double order), and request totals that are not capped by the log's ring.

mod common;

use common::{Server, TempPath};
use serde_json::json;

#[test]
fn one_order_reference_under_two_keys_is_a_duplicate_by_reference() {
    let db = TempPath::new("by-ref");
    let server = Server::start(&db.path, &[]);
    let order = r#"{"orderRef":"run1-7","item":"tea","qty":2}"#;
    assert_eq!(server.post("/api/orders", "tab-a", order, &[]).status, 201);
    assert_eq!(server.post("/api/orders", "tab-b", order, &[]).status, 201);
    // A retry with the first key is a replay: no third effect.
    assert!(server.post("/api/orders", "tab-a", order, &[]).replayed());
    let other = r#"{"orderRef":"run1-8","item":"tea","qty":1}"#;
    assert_eq!(server.post("/api/orders", "k3", other, &[]).status, 201);
    let unreferenced = r#"{"item":"tea","qty":1}"#;
    assert_eq!(
        server.post("/api/orders", "k4", unreferenced, &[]).status,
        201
    );
    // A quick reply's ticket and a chat message name theirs the same way.
    let ticket = r#"{"ticketRef":"run1-9"}"#;
    assert_eq!(server.post("/api/tickets", "t1", ticket, &[]).status, 201);
    let message = r#"{"text":"hi","messageRef":"run1-10"}"#;
    let path = "/api/conversations/c1/messages";
    assert_eq!(server.post(path, "m1", message, &[]).status, 201);

    let effects = server.get_json("/api/effects");
    // Per key, nothing ran twice: the old gate's figure stays 0.
    assert_eq!(effects["total"], 6);
    assert_eq!(effects["duplicates"], 0);
    let by_ref = &effects["byRef"];
    assert_eq!(by_ref["refs"], 4, "{by_ref}");
    assert_eq!(by_ref["effects"], 5, "{by_ref}");
    assert_eq!(by_ref["duplicates"], 1, "{by_ref}");
    assert_eq!(by_ref["withoutRef"], 1, "{by_ref}");
    assert_eq!(
        by_ref["doubled"],
        json!([{ "scope": "POST /api/orders", "ref": "run1-7", "count": 2, "keys": ["tab-a", "tab-b"] }])
    );

    let all = by_ref["all"].as_array().unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[0],
        json!({ "scope": "POST /api/orders", "ref": "run1-7", "count": 2 })
    );
    assert!(all.iter().any(|r| r["ref"] == "run1-10"
        && r["count"] == 1
        && r["scope"] == "POST /api/conversations/c1/messages"));

    // A reset forgets them.
    assert_eq!(server.request("POST", "/api/reset", &[], "").status, 200);
    let effects = server.get_json("/api/effects");
    assert_eq!(effects["byRef"]["effects"], 0);
    assert_eq!(effects["byRef"]["doubled"], json!([]));
}

#[test]
fn request_counts_go_past_the_log_ring_and_a_page_says_what_it_missed() {
    let db = TempPath::new("counts");
    let server = Server::start(&db.path, &[]);
    let body = r#"{"item":"tea"}"#;
    // 1,100 first attempts and 100 retries of some of them: more than the ring's 1,000.
    for i in 0..1100 {
        let reply = server.post("/api/orders", &format!("k{i}"), body, &[]);
        assert_eq!(reply.status, 201);
    }
    for i in 0..100 {
        assert!(server
            .post("/api/orders", &format!("k{i}"), body, &[])
            .replayed());
    }
    // One request the server delivers twice inside itself: one request, one fault.
    let dup = server.post(
        "/api/orders",
        "dup",
        body,
        &[("X-Sendonce-Fault", "duplicate")],
    );
    assert_eq!(dup.status, 201);
    // And one that fails with 500, then goes through.
    let failed = server.post("/api/orders", "f", body, &[("X-Sendonce-Fault", "500")]);
    assert_eq!(failed.status, 500);
    assert_eq!(server.post("/api/orders", "f", body, &[]).status, 201);

    let counts = server.get_json("/api/log/counts");
    assert_eq!(counts["requests"], 1203, "{counts}");
    assert_eq!(counts["keyed"], 1203, "{counts}");
    assert_eq!(counts["keys"], 1102, "{counts}");
    assert_eq!(counts["retries"], 101, "{counts}");
    assert_eq!(
        counts["replayed"], 101,
        "100 retries and the duplicate's answer: {counts}"
    );
    assert_eq!(counts["faults"], 2, "{counts}");
    assert_eq!(counts["faultsByName"], json!({ "500": 1, "duplicate": 1 }));
    assert_eq!(counts["internalDeliveries"], 1);
    assert_eq!(counts["statuses"]["201"], 1203 - 1);
    assert_eq!(counts["statuses"]["500"], 1);

    let page = server.get_json("/api/log?since=0");
    assert_eq!(page["requests"].as_array().unwrap().len(), 1000);
    // 1,203 requests and 1 internal delivery were logged; 1,000 are kept.
    assert_eq!(page["missed"], 204, "{}", page["missed"]);
    // Reading the counts is not itself counted.
    assert_eq!(server.get_json("/api/log/counts")["requests"], 1203);
}

#[test]
fn a_request_running_across_a_reset_changes_nothing_after_it() {
    // A test's page closed with its request still held by a `delay=` fault: the next test's
    // reset must leave it no order, no effect and no log line to find.
    let db = TempPath::new("reset-mid");
    let server = Server::start(&db.path, &[]);
    let order = r#"{"item":"tea","qty":2}"#;
    let held = server.post_held("/api/orders", "late", order, 1500);
    assert_eq!(server.request("POST", "/api/reset", &[], "").status, 200);
    let late = held.join().unwrap();
    assert_eq!(late.status, 503, "{}", late.text());
    assert_eq!(
        late.json()["type"].as_str().map(|t| t.ends_with("reset")),
        Some(true),
        "{}",
        late.text()
    );
    assert_eq!(server.order_count(), 0);
    assert_eq!(server.effects(), (0, 0));
    let log = server.get_json("/api/log");
    let orders: Vec<_> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/api/orders" && r["method"] == "POST")
        .collect();
    assert!(orders.is_empty(), "{log}");
    // Its retry, after the reset, is a new action like any other.
    assert_eq!(server.post("/api/orders", "late", order, &[]).status, 201);
    assert_eq!(server.order_count(), 1);
}
