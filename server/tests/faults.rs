//! Failing on purpose, as a client sees it: each fault shows what it should, and a client
//! that retries with the same key always ends with exactly one effect.

mod common;

use std::time::Duration;

use common::{Server, TempPath};

const ORDER: &str = r#"{"item":"tea","qty":2}"#;

fn faults_in_log(server: &Server) -> Vec<String> {
    server.get_json("/api/log")["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["fault"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn drop_commits_the_order_but_the_client_gets_no_response() {
    let db = TempPath::new("drop");
    let server = Server::start(&db.path, &[]);
    let lost = server.try_post("/api/orders", "k1", ORDER, &[("X-Sendonce-Fault", "drop")]);
    assert!(
        lost.is_err(),
        "the connection closes with no response: {lost:?}"
    );
    assert_eq!(server.order_count(), 1, "the order exists anyway");

    // The retry carries the same fault header: it is honoured once per key, so this goes through.
    let retry = server.post("/api/orders", "k1", ORDER, &[("X-Sendonce-Fault", "drop")]);
    assert_eq!(retry.status, 201);
    assert!(retry.replayed());
    assert_eq!(retry.json()["id"], 1);
    assert_eq!(server.order_count(), 1);
    assert_eq!(server.effects(), (1, 0));
    assert_eq!(faults_in_log(&server), ["drop"]);
}

#[test]
fn reset_closes_before_anything_runs() {
    let db = TempPath::new("reset");
    let server = Server::start(&db.path, &[]);
    let lost = server.try_post("/api/orders", "k1", ORDER, &[("X-Sendonce-Fault", "reset")]);
    assert!(lost.is_err());
    assert_eq!(server.order_count(), 0);
    let retry = server.post("/api/orders", "k1", ORDER, &[]);
    assert_eq!((retry.status, retry.replayed()), (201, false));
    assert_eq!(server.order_count(), 1);
}

#[test]
fn a_500_stores_nothing_so_the_retry_runs_once() {
    let db = TempPath::new("500");
    let server = Server::start(&db.path, &[]);
    let failed = server.post("/api/orders", "k1", ORDER, &[("X-Sendonce-Fault", "500")]);
    assert_eq!(failed.status, 500);
    assert_eq!(
        failed.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(server.order_count(), 0);

    let retry = server.post("/api/orders", "k1", ORDER, &[("X-Sendonce-Fault", "500")]);
    assert_eq!((retry.status, retry.replayed()), (201, false));
    let again = server.post("/api/orders", "k1", ORDER, &[]);
    assert!(again.replayed());
    assert_eq!(server.order_count(), 1);
    assert_eq!(server.effects(), (1, 0));
}

#[test]
fn a_429_says_when_to_come_back() {
    let db = TempPath::new("429");
    let server = Server::start(&db.path, &[]);
    let plain = server.post("/api/orders", "k1", ORDER, &[("X-Sendonce-Fault", "429")]);
    assert_eq!(plain.status, 429);
    assert_eq!(plain.header("retry-after"), Some("1"));
    let longer = server.post("/api/orders", "k2", ORDER, &[("X-Sendonce-Fault", "429=3")]);
    assert_eq!(longer.header("retry-after"), Some("3"));
    assert_eq!(server.order_count(), 0);
    assert_eq!(faults_in_log(&server), ["429=1", "429=3"]);
}

#[test]
fn a_retry_during_a_slow_request_gets_409_then_the_replay() {
    let db = TempPath::new("delay");
    let server = Server::start(&db.path, &[]);
    let slow = server.post_held("/api/orders", "k1", ORDER, 800);
    let busy = server.post("/api/orders", "k1", ORDER, &[]);
    assert_eq!(busy.status, 409);
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert_eq!(
        busy.header("content-type"),
        Some("application/problem+json")
    );

    let first = slow.join().unwrap();
    assert_eq!((first.status, first.replayed()), (201, false));
    assert!(server.post("/api/orders", "k1", ORDER, &[]).replayed());
    assert_eq!(server.order_count(), 1);
}

#[test]
fn a_duplicate_delivery_still_makes_one_order() {
    let db = TempPath::new("duplicate");
    let server = Server::start(&db.path, &[]);
    let reply = server.post(
        "/api/orders",
        "k1",
        ORDER,
        &[("X-Sendonce-Fault", "duplicate")],
    );
    assert_eq!(reply.status, 201);
    assert!(
        reply.replayed(),
        "the client gets the second delivery's answer"
    );
    assert_eq!(server.order_count(), 1);
    assert_eq!(server.effects(), (1, 0));
    assert_eq!(faults_in_log(&server), ["duplicate", "duplicate"]);
}

#[test]
fn armed_faults_apply_in_order_to_matching_paths() {
    let db = TempPath::new("queue");
    let server = Server::start(&db.path, &[]);
    let armed = server.request(
        "POST",
        "/api/faults",
        &[("Content-Type", "application/json")],
        r#"{"path":"/api/orders","faults":["503","drop"]}"#,
    );
    assert_eq!(armed.status, 200);
    assert_eq!(armed.json()["armed"].as_array().unwrap().len(), 2);

    // Another path is not affected.
    assert_eq!(server.post("/api/tickets", "t1", ORDER, &[]).status, 201);
    assert_eq!(server.post("/api/orders", "k1", ORDER, &[]).status, 503);
    assert!(server.try_post("/api/orders", "k1", ORDER, &[]).is_err());
    let third = server.post("/api/orders", "k1", ORDER, &[]);
    assert!(third.replayed());
    assert_eq!(server.order_count(), 1);
    assert_eq!(faults_in_log(&server), ["503", "drop"]);

    let bad = server.request("POST", "/api/faults", &[], r#"{"faults":["explode"]}"#);
    assert_eq!(bad.status, 400);
    server.request("POST", "/api/faults", &[], r#"{"faults":["500"]}"#);
    assert_eq!(server.request("DELETE", "/api/faults", &[], "").status, 200);
    assert_eq!(server.post("/api/orders", "k2", ORDER, &[]).status, 201);
}

/// A client that retries like sendonce: same key, again after a network error, 409, 429 or
/// 5xx, until it gets an answer.
fn send_until_answered(server: &Server, key: &str, body: &str) -> u16 {
    for _ in 0..40 {
        match server.try_post("/api/orders", key, body, &[]) {
            Ok(r) if r.status == 201 => return 201,
            Ok(r) if [409, 429, 500, 503].contains(&r.status) => {}
            Ok(r) => panic!("unexpected {}: {}", r.status, r.text()),
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    panic!("key {key} never got through");
}

#[test]
fn under_random_faults_retrying_clients_make_each_order_once() {
    let db = TempPath::new("chaos");
    let server = Server::start(&db.path, &["--chaos", "0.5", "--seed", "7"]);
    for i in 0..20 {
        let body = format!(r#"{{"item":"tea","n":{i}}}"#);
        assert_eq!(
            send_until_answered(&server, &format!("order-{i}"), &body),
            201
        );
    }
    assert_eq!(server.order_count(), 20);
    assert_eq!(server.effects(), (20, 0));
    assert!(
        faults_in_log(&server).len() >= 5,
        "the profile did fail requests"
    );

    // The profile can be switched off at run time.
    let off = server.request("POST", "/api/faults/profile", &[], r#"{"rate":0}"#);
    assert!(off.json()["profile"].is_null());
    let before = faults_in_log(&server).len();
    for i in 0..10 {
        assert_eq!(
            server
                .post("/api/orders", &format!("calm-{i}"), ORDER, &[])
                .status,
            201
        );
    }
    assert_eq!(faults_in_log(&server).len(), before);
}
