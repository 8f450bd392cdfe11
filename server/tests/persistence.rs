//! What survives a restart and what expires.

mod common;

use std::time::Duration;

use common::{Server, TempPath};

const ORDER: &str = r#"{"item":"tea","qty":2}"#;

#[test]
fn a_repeat_after_a_crash_and_restart_is_still_a_replay() {
    let db = TempPath::new("restart");
    let server = Server::start(&db.path, &[]);
    let first = server.post("/api/orders", "k1", ORDER, &[]);
    assert_eq!(first.status, 201);

    let server = server.crash_and_restart();
    let again = server.post("/api/orders", "k1", ORDER, &[]);
    assert_eq!(again.status, 201);
    assert!(again.replayed());
    assert_eq!(again.body, first.body);
    assert_eq!(server.order_count(), 1);
    assert_eq!(server.effects(), (1, 0));
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let db = TempPath::new("sigterm");
    let server = Server::start(&db.path, &[]);
    assert_eq!(server.post("/api/orders", "k1", ORDER, &[]).status, 201);
    assert!(server.terminate(), "exit status 0 after SIGTERM");
}

#[test]
fn a_key_past_its_retention_runs_again() {
    let db = TempPath::new("expiry");
    let server = Server::start(&db.path, &["--retention", "300"]);
    assert_eq!(server.post("/api/orders", "k1", ORDER, &[]).status, 201);
    assert!(server.post("/api/orders", "k1", ORDER, &[]).replayed());

    std::thread::sleep(Duration::from_millis(450));
    let later = server.post("/api/orders", "k1", ORDER, &[]);
    assert_eq!(later.status, 201);
    assert!(!later.replayed(), "an expired key is a new action");
    assert_eq!(server.order_count(), 2);
    // Each retention window counts on its own: still no duplicate.
    assert_eq!(server.effects(), (2, 0));
}
