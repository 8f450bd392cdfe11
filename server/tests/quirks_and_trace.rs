//! `--quirks`: each one changes exactly the answer it names, and faithful mode stays the
//! draft. `GET /api/trace/{key}`: one key's chain from the request to the worker, with no
//! personal data in any line.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{Reply, Server, TempPath};
use serde_json::Value;

const ORDER: &str = r#"{"item":"tea","qty":2}"#;
const REORDERED: &str = r#"{"qty":2,"item":"tea"}"#;
const OTHER: &str = r#"{"item":"coffee","qty":2}"#;

fn server(label: &str, quirks: &str) -> (TempPath, Server) {
    let db = TempPath::new(label);
    let server = if quirks.is_empty() {
        Server::start(&db.path, &[])
    } else {
        Server::start(&db.path, &["--quirks", quirks])
    };
    (db, server)
}

/// A first request held in flight for `ms` by the fault header, and a second request with the
/// same key sent while it runs; returns the second one's answer.
fn while_in_flight(server: &Server, path: &str, key: &str, body: &str, ms: u64) -> Reply {
    let first = server.post_held(path, key, body, ms);
    let second = server.post(path, key, body, &[]);
    assert_eq!(first.join().unwrap().status, 201);
    second
}

#[test]
fn faithful_mode_is_the_draft() {
    let (_db, s) = server("faithful", "");
    let first = s.post("/api/orders", "f1", ORDER, &[]);
    assert_eq!(first.status, 201);
    let replay = s.post("/api/orders", "f1", REORDERED, &[]);
    assert_eq!(replay.status, 201, "reordered fields are the same payload");
    assert!(replay.replayed());
    assert_eq!(replay.body, first.body);
    assert_eq!(s.post("/api/orders", "f1", OTHER, &[]).status, 422);
    let busy = while_in_flight(&s, "/api/orders", "f2", ORDER, 900);
    assert_eq!(busy.status, 409);
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert!(busy
        .header("content-type")
        .unwrap()
        .contains("problem+json"));
    // Per-path scope: the same key on another endpoint is a new action there.
    let ticket = s.post("/api/tickets", "f1", ORDER, &[]);
    assert_eq!(ticket.status, 201);
    assert!(!ticket.replayed());
    assert_eq!(s.effects(), (3, 0), "f1 and f2 orders, the f1 ticket");
}

#[test]
fn no_replay_header_drops_only_the_marker() {
    let (_db, s) = server("no-replay-header", "no-replay-header");
    let first = s.post("/api/orders", "k", ORDER, &[]);
    let replay = s.post("/api/orders", "k", ORDER, &[]);
    assert_eq!((replay.status, &replay.body), (201, &first.body));
    assert_eq!(replay.header("idempotent-replayed"), None);
    assert_eq!(s.order_count(), 1);
}

#[test]
fn replay_5xx_answers_repeats_with_a_stored_500() {
    let (_db, s) = server("replay-5xx", "replay-5xx");
    assert_eq!(s.post("/api/orders", "k", ORDER, &[]).status, 201);
    let replay = s.post("/api/orders", "k", ORDER, &[]);
    assert_eq!(replay.status, 500);
    assert!(replay.replayed(), "the 500 is marked as a replay");
    assert_eq!(s.order_count(), 1, "the effect happened once all the same");
}

#[test]
fn mismatch_417_changes_the_status_of_a_reused_key() {
    let (_db, s) = server("mismatch-417", "mismatch-417");
    assert_eq!(s.post("/api/orders", "k", ORDER, &[]).status, 201);
    assert_eq!(s.post("/api/orders", "k", OTHER, &[]).status, 417);
    assert_eq!(s.order_count(), 1);
}

#[test]
fn html_409_answers_in_flight_with_a_page_and_no_retry_after() {
    let (_db, s) = server("html-409", "html-409");
    let busy = while_in_flight(&s, "/api/orders", "k", ORDER, 900);
    assert_eq!(busy.status, 409);
    assert!(busy
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(busy.text().contains("<html>"));
    assert_eq!(busy.header("retry-after"), None);
    assert_eq!(s.order_count(), 1);
}

#[test]
fn mismatch_silent_replay_replays_the_first_answer_for_another_payload() {
    let (_db, s) = server("silent", "mismatch-silent-replay");
    let first = s.post("/api/orders", "k", ORDER, &[]);
    let other = s.post("/api/orders", "k", OTHER, &[]);
    assert_eq!((other.status, &other.body), (201, &first.body));
    assert!(other.replayed());
    assert_eq!(
        s.order_count(),
        1,
        "the coffee order silently never happened"
    );
}

#[test]
fn global_keys_share_one_scope_across_endpoints() {
    let (_db, s) = server("global-keys", "global-keys");
    let order = s.post("/api/orders", "k", ORDER, &[]);
    let ticket = s.post("/api/tickets", "k", ORDER, &[]);
    assert!(ticket.replayed(), "the tickets endpoint replays the order");
    assert_eq!(ticket.body, order.body);
    assert_eq!(s.get_json("/api/tickets")["count"], 0);
}

#[test]
fn order_sensitive_takes_reordered_fields_for_another_payload() {
    let (_db, s) = server("order-sensitive", "order-sensitive");
    assert_eq!(s.post("/api/orders", "k", ORDER, &[]).status, 201);
    assert_eq!(s.post("/api/orders", "k", REORDERED, &[]).status, 422);
    assert!(s.post("/api/orders", "k", ORDER, &[]).replayed());
}

#[test]
fn an_unknown_quirk_is_refused_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_sendonce-server"))
        .args(["--quirks", "html-409,teapot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown quirk \"teapot\""));
}

fn events(chain: &Value) -> Vec<String> {
    chain["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

fn wait_for_event(s: &Server, key: &str, event: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let chain = s.get_json(&format!("/api/trace/{key}"));
        if events(&chain).iter().any(|e| e == event) {
            return chain;
        }
        assert!(Instant::now() < deadline, "no {event}: {chain}");
        thread::sleep(Duration::from_millis(50));
    }
}

const PERSONAL: [&str; 3] = ["ana.silva@example.com", "98765-4321", "4111 1111 1111 1111"];
const JOB: &str = r#"{"title":"Report for ana.silva@example.com, call +55 11 98765-4321, card 4111 1111 1111 1111","fail":false}"#;

#[test]
fn one_key_shows_one_chain_from_the_request_to_the_worker() {
    let (_db, s) = server("trace", "");
    let key = "job-key-1";
    let busy = while_in_flight(&s, "/api/orders", "order-key", ORDER, 600);
    assert_eq!(busy.status, 409);
    let accepted = s.post("/api/jobs", key, JOB, &[]);
    assert_eq!(accepted.status, 202);
    assert!(s.post("/api/jobs", key, JOB, &[]).replayed());
    assert_eq!(
        s.post("/api/jobs", key, r#"{"title":"other"}"#, &[]).status,
        422
    );
    let chain = wait_for_event(&s, key, "worker_finished");
    assert_eq!(
        events(&chain),
        [
            "new",
            "enqueued",
            "replay",
            "conflict",
            "worker_started",
            "worker_finished"
        ]
        .map(String::from)
        .to_vec(),
        "{chain}"
    );
    let lines = chain["events"].as_array().unwrap();
    assert!(lines.iter().all(|l| l["key"] == key));
    assert_eq!(lines[0]["status"], 202);
    assert_eq!(lines[0]["scope"], "POST /api/jobs");
    let job = accepted.json()["id"].clone();
    for i in [1, 4, 5] {
        assert_eq!(lines[i]["job"], job, "{chain}");
    }
    assert!(lines[5]["detail"].as_str().unwrap().ends_with("done"));
    assert!(lines[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Report for [email], call [phone], card [card]"));
    let text = chain.to_string();
    for personal in PERSONAL {
        assert!(!text.contains(personal), "{personal} leaked: {text}");
    }
    // The worker started no earlier than the job said "accepted", and each key has its own chain.
    assert!(lines[4]["at"].as_i64() >= lines[0]["at"].as_i64().map(|t| t + 200));
    let order = s.get_json("/api/trace/order-key");
    assert_eq!(
        events(&order),
        ["in_flight", "new"].map(String::from).to_vec(),
        "the second request met the first in flight: {order}"
    );
    assert_eq!(order["events"][0]["status"], 409);
    assert!(events(&s.get_json("/api/trace/never-seen")).is_empty());
    assert_eq!(
        s.request("POST", "/api/reset", &[], "").status,
        200,
        "reset"
    );
    assert!(events(&s.get_json(&format!("/api/trace/{key}"))).is_empty());
}

#[test]
fn trace_lines_on_stderr_are_json_with_the_key_and_no_personal_data() {
    let db = TempPath::new("trace-stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sendonce-server"))
        .arg("--addr")
        .arg("127.0.0.1:0")
        .arg("--db")
        .arg(&db.path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .trim_start_matches("sendonce reference server: http://")
        .trim_end_matches('/')
        .to_string();
    let stderr = child.stderr.take().unwrap();
    let lines = thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("trace ").map(str::to_string))
            .take(4)
            .collect::<Vec<_>>()
    });
    let post = |body: &str| {
        common::request(
            &addr,
            "POST",
            "/api/jobs",
            &[
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "stderr-key"),
            ],
            body.as_bytes(),
        )
        .unwrap()
    };
    assert_eq!(post(JOB).status, 202);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !lines.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let lines = lines.join().unwrap();
    let decisions: Vec<String> = lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a trace line is JSON");
            assert_eq!(v["key"], "stderr-key", "{l}");
            for personal in PERSONAL {
                assert!(!l.contains(personal), "{personal} leaked: {l}");
            }
            v["event"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        decisions,
        ["new", "enqueued", "worker_started", "worker_finished"]
            .map(String::from)
            .to_vec()
    );
}
