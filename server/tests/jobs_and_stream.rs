//! Jobs that finish later, and the bot's reply stream: resumable, and cut on purpose.

mod common;

use std::time::{Duration, Instant};

use common::{events, Server, TempPath};

fn wait_for_final_state(server: &Server, url: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let state = server.get_json(url)["state"].as_str().unwrap().to_string();
        if seen.last() != Some(&state) {
            seen.push(state.clone());
        }
        if state == "done" || state == "error" {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("job never finished: {seen:?}");
}

#[test]
fn a_job_is_accepted_then_moves_to_done() {
    let db = TempPath::new("jobs");
    let server = Server::start(&db.path, &[]);
    let accepted = server.post("/api/jobs", "j1", r#"{"report":"monthly"}"#, &[]);
    assert_eq!(accepted.status, 202);
    let body = accepted.json();
    assert_eq!(body["state"], "accepted");
    let url = body["statusUrl"].as_str().unwrap().to_string();
    assert_eq!(accepted.header("location"), Some(url.as_str()));

    let replay = server.post("/api/jobs", "j1", r#"{"report":"monthly"}"#, &[]);
    assert_eq!(replay.status, 202, "a replay keeps the original 202");
    assert!(replay.replayed());
    assert_eq!(replay.header("location"), Some(url.as_str()));

    let seen = wait_for_final_state(&server, &url);
    assert_eq!(seen.last().map(String::as_str), Some("done"));
    assert!(seen.len() >= 2, "the state moved: {seen:?}");

    let failing = server
        .post("/api/jobs", "j2", r#"{"fail":true}"#, &[])
        .json();
    let seen = wait_for_final_state(&server, failing["statusUrl"].as_str().unwrap());
    assert_eq!(seen.last().map(String::as_str), Some("error"));
    assert_eq!(server.get("/api/jobs/999").status, 404);
    assert_eq!(server.get("/api/jobs/abc").status, 404);
}

const MESSAGES: &str = "/api/conversations/c1/messages";
const REPLY: &str = "/api/conversations/c1/messages/m1/reply";

fn chat(db: &TempPath) -> Server {
    let server = Server::start(&db.path, &[]);
    let posted = server.post(MESSAGES, "m1", r#"{"id":"m1","text":"hello"}"#, &[]);
    assert_eq!(posted.status, 201);
    server
}

fn ids(events: &[common::Event]) -> Vec<String> {
    events.iter().filter_map(|e| e.id.clone()).collect()
}

fn numbers(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|n| n.to_string()).collect()
}

#[test]
fn the_reply_streams_in_pieces_and_ends_with_done() {
    let db = TempPath::new("stream");
    let server = chat(&db);
    let reply = server.get(REPLY);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    assert!(reply.complete);
    let evs = events(&reply.text());
    assert_eq!(ids(&evs), numbers(1..=10));
    assert_eq!(evs.last().unwrap().event.as_deref(), Some("done"));
    let text: String = evs
        .iter()
        .filter(|e| e.event.is_none())
        .map(|e| e.data.as_str())
        .collect();
    assert!(text.starts_with("You said: hello."), "{text}");
    // Reading the reply never creates a message.
    assert_eq!(
        server.get_json(MESSAGES)["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        server
            .get("/api/conversations/c1/messages/nope/reply")
            .status,
        404
    );
}

#[test]
fn a_reconnect_with_last_event_id_resumes_after_it() {
    let db = TempPath::new("resume");
    let server = chat(&db);
    let full = events(&server.get(REPLY).text());
    let resumed = server.request("GET", REPLY, &[("Last-Event-ID", "4")], "");
    let evs = events(&resumed.text());
    assert_eq!(ids(&evs), numbers(5..=10));
    assert_eq!(evs.last().unwrap().event.as_deref(), Some("done"));
    assert_eq!(evs[0].data, full[4].data, "the same words continue");
}

#[test]
fn cut_ends_the_stream_early_and_the_resume_finishes_it() {
    let db = TempPath::new("cut");
    let server = chat(&db);
    let cut = server.request("GET", REPLY, &[("X-Sendonce-Fault", "cut")], "");
    assert!(!cut.complete, "the stream broke off");
    let evs = events(&cut.text());
    assert!(evs.iter().all(|e| e.event.as_deref() != Some("done")));
    let last = ids(&evs).last().cloned().expect("some pieces arrived");
    assert!(last.parse::<u32>().unwrap() < 10);

    // EventSource reconnects with the last id it saw (and the test sends the fault again:
    // it is honoured only once).
    let rest = server.request(
        "GET",
        REPLY,
        &[
            ("Last-Event-ID", last.as_str()),
            ("X-Sendonce-Fault", "cut"),
        ],
        "",
    );
    assert!(rest.complete);
    let rest_evs = events(&rest.text());
    let next: u32 = last.parse::<u32>().unwrap() + 1;
    assert_eq!(ids(&rest_evs), numbers(next..=10));
    assert_eq!(rest_evs.last().unwrap().event.as_deref(), Some("done"));
    assert_eq!(
        server.get_json(MESSAGES)["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
