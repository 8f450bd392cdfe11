#![cfg(not(target_arch = "wasm32"))]
//! Chat outbox decisions: delivery order, statuses, echoes by id, the same body on every
//! attempt, and the reply stream parser resuming after a drop.

mod sim;

use sendonce::core::action::{ActionConfig, ActionMachine, Input};
use sendonce::core::chat::*;
use sendonce::core::fingerprint::sha256_hex;
use sendonce::core::json::Value;
use sendonce::core::key::validate_key;
use sendonce::core::record::StoredRequest;
use sendonce::core::record::{OutboxEntry, OutboxStatus};
use sendonce::core::retry::RetryPolicy;
use sendonce::core::status::StatusCode;
use sendonce::core::window::{ActionKind, Window};
use sim::{Driver, Fault, Server, KEY_HEADER, T0};

fn entry(id: &str, seq: u64, status: OutboxStatus) -> OutboxEntry {
    OutboxEntry {
        conversation_id: "c-42".into(),
        id: validate_key(id).unwrap(),
        seq,
        text: format!("text {seq}"),
        extra: Value::Null,
        status,
        code: None,
        at: 1000 + seq,
        url: "/api/conversations/c-42/messages".into(),
    }
}

#[test]
fn messages_go_out_in_seq_order_one_at_a_time() {
    let mut outbox = vec![
        entry("m3", 3, OutboxStatus::Sending),
        entry("m1", 1, OutboxStatus::Delivered),
        entry("m2", 2, OutboxStatus::Sending),
    ];
    assert_eq!(next_seq(&outbox), 4);
    assert_eq!(next_to_send(&outbox).unwrap().id.as_str(), "m2");
    sort_outbox(&mut outbox);
    let seqs: Vec<u64> = outbox.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    outbox[1].status = OutboxStatus::Error;
    // An error does not block the next message.
    assert_eq!(next_to_send(&outbox).unwrap().id.as_str(), "m3");
    outbox[2].status = OutboxStatus::Delivered;
    assert!(next_to_send(&outbox).is_none());
}

#[test]
fn a_settled_send_maps_to_a_bubble_status() {
    for code in [
        StatusCode::Done,
        StatusCode::AlreadyReceived,
        StatusCode::Accepted,
    ] {
        assert_eq!(status_after(code), (OutboxStatus::Delivered, None));
    }
    for code in [
        StatusCode::Offline,
        StatusCode::Failed,
        StatusCode::Rejected,
        StatusCode::Changed,
    ] {
        assert_eq!(
            status_after(code),
            (OutboxStatus::Error, Some(code.as_str().to_string()))
        );
    }
}

#[test]
fn the_body_is_the_same_bytes_every_time_and_extra_cannot_override_id_or_text() {
    let mut e = entry("m1", 1, OutboxStatus::Sending);
    e.extra = Value::object([("id", Value::from("evil")), ("lang", Value::from("en"))]);
    let a = message_body(&e).to_json();
    assert_eq!(a, message_body(&e.clone()).to_json());
    assert_eq!(a, r#"{"id":"m1","text":"text 1","lang":"en"}"#);
    assert!(valid_extra(&Value::Null));
    assert!(!valid_extra(&Value::from("x")));
}

#[test]
fn an_echo_merges_by_id_and_never_makes_a_second_bubble() {
    let outbox = vec![entry("m1", 1, OutboxStatus::Sending)];
    assert_eq!(merge_echo(&outbox, &[], "m1"), Echo::Own(0));
    assert_eq!(merge_echo(&outbox, &[], "x"), Echo::Foreign);
    assert_eq!(merge_echo(&outbox, &["x".into()], "x"), Echo::Known);
    let inbound = vec![MessageView {
        id: "x".into(),
        text: "hi".into(),
        status: OutboxStatus::Delivered,
        code: None,
        at: 1000,
    }];
    let shown = view(&outbox, &inbound);
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0].id, "x");
}

#[test]
fn the_stream_parser_handles_split_pieces_and_resumes_after_a_drop() {
    let mut p = SseParser::new(None);
    assert!(p.push("id: 1\nda").is_empty());
    let ev = p.push("ta: Hel\n\nid: 2\r\ndata: lo\r\n\r\n");
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].data, "Hel");
    assert_eq!(ev[1].id.as_deref(), Some("2"));
    // The connection breaks in the middle of event 3: the half event is dropped.
    assert!(p.push("id: 3\ndata: par").is_empty());
    p.reset_partial();
    assert_eq!(
        p.last_id(),
        Some("2"),
        "a half event does not move the resume point"
    );
    let ev = p.push(": comment\nevent: done\ndata:\n\n");
    assert_eq!(ev[0].event, "done");
}

#[test]
fn a_stream_line_or_event_that_never_ends_is_dropped_not_kept_in_memory() {
    let mut p = SseParser::new(None);
    assert!(p.push("id: 1\ndata: ok\n\n").len() == 1);
    // A line without an end, fed in 64 KiB pieces: the parser keeps at most about 1 MiB.
    let piece = "x".repeat(64 * 1024);
    assert!(p.push("data: ").is_empty());
    for _ in 0..64 {
        assert!(p.push(&piece).is_empty());
    }
    // Its end comes: the long line and its event are gone; the stream goes on.
    let ev = p.push("tail\n\nid: 2\ndata: next\n\n");
    assert_eq!(
        ev.len(),
        1,
        "{:?}",
        ev.iter().map(|e| e.data.len()).collect::<Vec<_>>()
    );
    assert_eq!(ev[0].data, "next");
    // An event of many short data lines that outgrows the bound is dropped whole.
    let mut big = String::new();
    for _ in 0..20_000 {
        big.push_str("data: 0123456789012345678901234567890123456789012345678901234567890\n");
    }
    assert!(p.push(&big).is_empty());
    let ev = p.push("\ndata: after\n\n");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].data, "after");
    assert_eq!(MAX_EVENT_BYTES, 1 << 20);
}

#[test]
fn reconnects_back_off_and_give_up() {
    assert_eq!(reconnect_delay(1), Some(200));
    assert_eq!(reconnect_delay(2), Some(400));
    assert_eq!(reconnect_delay(10), Some(5_000));
    assert_eq!(reconnect_delay(STREAM_RECONNECTS + 1), None);
}

/// Delivers the outbox the way the chat binding does (one message at a time, lowest `seq`
/// still sending first, each through an action machine keyed by its id, the body built from
/// the entry) against the simulated server on a fake clock. `stop_after` ends the "page"
/// after that many messages settled, like a reload in the middle of the outbox.
fn deliver(outbox: &mut [OutboxEntry], server: Server, stop_after: usize) -> (Server, Vec<String>) {
    let mut server = server;
    let mut sent_keys = Vec::new();
    for _ in 0..stop_after {
        let Some(entry) = next_to_send(outbox).cloned() else {
            break;
        };
        let body = message_body(&entry).to_json();
        let request = StoredRequest {
            url: entry.url.clone(),
            method: "POST".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(body.clone()),
            ..Default::default()
        };
        let cfg = ActionConfig {
            key: entry.id.clone(),
            action: "chat.message".into(),
            kind: ActionKind::Chat,
            fingerprint: sha256_hex(body.as_bytes()),
            window: Window::parse("10s").unwrap(),
            retry: RetryPolicy::default(),
            header_name: KEY_HEADER.into(),
            replay_header: "Idempotent-Replayed".into(),
            headers_hook: false,
            idempotent: true,
            again: false,
        };
        let mut d = Driver::with_machine(ActionMachine::new(cfg, T0), server);
        d.input(Input::Send(Some(request)));
        d.run();
        sent_keys.extend(d.sent.iter().filter_map(|s| s.key.clone()));
        for s in &d.sent {
            assert_eq!(
                s.body.as_deref(),
                Some(body.as_str()),
                "the same bytes every attempt"
            );
        }
        let (status, code) = status_after(d.outcome().code);
        let e = outbox.iter_mut().find(|e| e.id == entry.id).unwrap();
        e.status = status;
        e.code = code;
        server = d.server;
    }
    (server, sent_keys)
}

#[test]
fn a_flaky_server_with_a_reload_mid_outbox_gets_each_message_once_in_order() {
    let mut outbox: Vec<OutboxEntry> = (1..=3)
        .map(|i| entry(&format!("m{i}"), i, OutboxStatus::Sending))
        .collect();
    let script = vec![
        Fault::DropAfterCommit,
        Fault::Status(500),
        Fault::DropBefore,
        Fault::None,
        Fault::Status(503),
    ];
    // The first page delivers one message, then reloads: the outbox (as stored) goes on.
    let (server, mut keys) = deliver(&mut outbox, Server::new(script), 1);
    assert_eq!(outbox[0].status, OutboxStatus::Delivered);
    let (server, more) = deliver(&mut outbox, server, 10);
    keys.extend(more);
    assert!(outbox.iter().all(|e| e.status == OutboxStatus::Delivered));
    for id in ["m1", "m2", "m3"] {
        assert_eq!(server.effects_of(id), 1, "{id} happened once");
    }
    // All attempts of a message go out before the next message: keys grouped in seq order.
    let mut order: Vec<&str> = keys.iter().map(String::as_str).collect();
    order.dedup();
    assert_eq!(order, ["m1", "m2", "m3"]);
}

#[test]
fn a_message_that_is_refused_does_not_block_the_next_one() {
    let mut outbox: Vec<OutboxEntry> = (1..=2)
        .map(|i| entry(&format!("m{i}"), i, OutboxStatus::Sending))
        .collect();
    let (server, _) = deliver(
        &mut outbox,
        Server::new(vec![Fault::Invalid("too long".into())]),
        10,
    );
    assert_eq!(outbox[0].status, OutboxStatus::Error);
    assert_eq!(outbox[0].code.as_deref(), Some("rejected"));
    assert_eq!(outbox[1].status, OutboxStatus::Delivered);
    assert_eq!(server.effects_of("m2"), 1);
}
