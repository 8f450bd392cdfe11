//! Values that are sent but never stored: a form's private fields and credential headers. The
//! stored request says what it lacks, a restored action never goes out without it, and a 401
//! with a `headers` hook repeats the attempt once with the same key. Fake clock, no IO.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sendonce::core::action::{ActionMachine, Input, Output};
use sendonce::core::events::EventKind;
use sendonce::core::record::{Record, StoredRequest};
use sendonce::core::reply::Reply;
use sendonce::core::retry::RetryPolicy;
use sendonce::core::status::StatusCode;
use sim::*;

const FULL: &str = r#"{"user":"ada","password":"pw-1"}"#;
const VISIBLE: &str = r#"{"user":"ada"}"#;

fn login_request() -> StoredRequest {
    StoredRequest {
        url: "/login".into(),
        method: "POST".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-API-Key".into(), "key-1".into()),
        ],
        body: Some(FULL.into()),
        visible_body: Some(VISIBLE.into()),
        ..Default::default()
    }
}

fn outputs(m: &mut ActionMachine) -> Vec<Output> {
    std::iter::from_fn(|| m.poll()).collect()
}

fn transmits(out: &[Output]) -> Vec<StoredRequest> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit { request, .. } => Some(request.clone()),
            _ => None,
        })
        .collect()
}

fn reply(status: u16) -> Reply {
    Reply {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: "{}".into(),
    }
}

/// The machine's stored records, encoded as storage would hold them.
fn stored_texts(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Persist(r) => Some(Record::Action(r.clone()).encode()),
            _ => None,
        })
        .collect()
}

#[test]
fn private_values_are_sent_and_never_persisted() {
    let mut m = ActionMachine::new(config(RetryPolicy::default()), T0);
    m.handle(Input::Send(Some(login_request())), T0, 1);
    let out = outputs(&mut m);
    let sent = transmits(&out);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body.as_deref(), Some(FULL), "the password is sent");
    assert!(sent[0].headers.iter().any(|(k, _)| k == "X-API-Key"));
    let stored = stored_texts(&out);
    assert!(!stored.is_empty());
    for text in stored {
        assert!(!text.contains("pw-1") && !text.contains("key-1"), "{text}");
        let Ok(Some(Record::Action(r))) = Record::decode(&text, T0) else {
            panic!("decodes")
        };
        let q = r.request.unwrap();
        assert!(q.private_body && q.memory_headers);
        assert_eq!(q.body.as_deref(), Some(VISIBLE));
    }
}

/// The record after the first attempt went out and the page went away (a reload).
fn restored(headers_hook: bool) -> ActionMachine {
    let mut m = ActionMachine::new(config(RetryPolicy::default()), T0);
    m.handle(Input::Send(Some(login_request())), T0, 1);
    let rec = m.record().clone();
    let text = Record::Action(rec).encode();
    let Ok(Some(Record::Action(rec))) = Record::decode(&text, T0 + 10) else {
        panic!("decodes")
    };
    let mut cfg = config(RetryPolicy::default());
    cfg.headers_hook = headers_hook;
    ActionMachine::restore(cfg, rec)
}

#[test]
fn a_restored_request_without_its_private_values_is_never_sent_and_never_dropped() {
    let mut m = restored(true);
    m.handle(Input::Send(None), T0 + 20, 1);
    let out = outputs(&mut m);
    assert!(
        transmits(&out).is_empty(),
        "nothing sent without the password"
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Event(n) if n.kind == EventKind::ActionIncomplete)));
    assert!(!m.record().is_finished(), "still pending");
    assert!(m.record().request.is_some(), "its request is kept");
    // The user submits the same visible data again: the same key, the complete body.
    m.handle(Input::Send(Some(login_request())), T0 + 30, 1);
    let sent = transmits(&outputs(&mut m));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body.as_deref(), Some(FULL));
    assert!(sent[0]
        .headers
        .iter()
        .any(|(k, v)| k == KEY_HEADER && v == KEY));
}

#[test]
fn headers_left_out_of_storage_need_the_hook_after_a_reload() {
    let only_headers = || {
        let mut r = login_request();
        r.visible_body = None;
        r
    };
    for hook in [false, true] {
        let mut m = ActionMachine::new(config(RetryPolicy::default()), T0);
        m.handle(Input::Send(Some(only_headers())), T0, 1);
        let text = Record::Action(m.record().clone()).encode();
        let Ok(Some(Record::Action(rec))) = Record::decode(&text, T0) else {
            panic!()
        };
        let mut cfg = config(RetryPolicy::default());
        cfg.headers_hook = hook;
        let mut m = ActionMachine::restore(cfg, rec);
        m.handle(Input::Send(None), T0 + 5, 1);
        assert_eq!(
            transmits(&outputs(&mut m)).len(),
            usize::from(hook),
            "hook {hook}"
        );
    }
}

#[test]
fn a_401_with_a_headers_hook_repeats_the_attempt_once_with_the_same_key() {
    let mut cfg = config(RetryPolicy::default());
    cfg.headers_hook = true;
    let mut m = ActionMachine::new(cfg, T0);
    m.handle(Input::Send(Some(request())), T0, 1);
    assert_eq!(transmits(&outputs(&mut m)).len(), 1);
    m.handle(Input::Reply(reply(401)), T0 + 5, 1);
    let out = outputs(&mut m);
    assert_eq!(
        transmits(&out).len(),
        1,
        "repeated at once, the hook called again"
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Event(n) if n.kind == EventKind::AuthRefresh)));
    // A second 401 in the same run: the token really is refused.
    m.handle(Input::Reply(reply(401)), T0 + 10, 1);
    let out = outputs(&mut m);
    assert!(transmits(&out).is_empty());
    assert_eq!(m.status(), StatusCode::Rejected);
    assert_eq!(m.record().attempts, 2);
}

#[test]
fn a_401_without_a_hook_is_rejected_at_once() {
    let mut m = ActionMachine::new(config(RetryPolicy::default()), T0);
    m.handle(Input::Send(Some(request())), T0, 1);
    outputs(&mut m);
    m.handle(Input::Reply(reply(401)), T0 + 5, 1);
    assert!(transmits(&outputs(&mut m)).is_empty());
    assert_eq!(m.status(), StatusCode::Rejected);
}

/// A confirmed login, as storage holds it, restored for a repeat in the window.
fn confirmed_login(body: &str) -> ActionMachine {
    let mut m = ActionMachine::new(config(RetryPolicy::default()), T0);
    m.handle(Input::Send(Some(login_request())), T0, 1);
    m.handle(
        Input::Reply(Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }),
        T0 + 5,
        1,
    );
    let out = outputs(&mut m);
    let text = stored_texts(&out).pop().expect("persisted");
    assert!(
        !text.contains("tok-1"),
        "a reply to private values is never stored: {text}"
    );
    let Ok(Some(Record::Action(rec))) = Record::decode(&text, T0 + 10) else {
        panic!("decodes")
    };
    assert_eq!(rec.status, StatusCode::Done);
    assert_eq!(rec.reply, None, "no reply kept");
    ActionMachine::restore(config(RetryPolicy::default()), rec)
}

#[test]
fn a_repeat_that_kept_no_reply_asks_the_server_with_the_same_key() {
    let mut m = confirmed_login(r#"{"token":"tok-1"}"#);
    m.handle(Input::Send(Some(login_request())), T0 + 20, 1);
    let sent = transmits(&outputs(&mut m));
    assert_eq!(
        sent.len(),
        1,
        "asked the server, not answered without a body"
    );
    assert!(sent[0]
        .headers
        .iter()
        .any(|(k, v)| k == KEY_HEADER && v == KEY));
    assert_eq!(sent[0].body.as_deref(), Some(FULL), "the same bytes");
    m.handle(
        Input::Reply(Reply {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("idempotent-replayed".into(), "true".into()),
            ],
            body: r#"{"token":"tok-1"}"#.into(),
        }),
        T0 + 25,
        1,
    );
    let out = outputs(&mut m);
    let outcome = out
        .iter()
        .find_map(|o| match o {
            Output::Settled(s) => Some(s.clone()),
            _ => None,
        })
        .expect("settled");
    assert_eq!(outcome.code, StatusCode::AlreadyReceived);
    assert_eq!(
        outcome.reply.unwrap().body,
        r#"{"token":"tok-1"}"#,
        "the token reaches the page"
    );
    // Without a request to send (a bare `retry()`), the status alone answers, as before.
    let mut m = confirmed_login(r#"{"token":"tok-1"}"#);
    m.handle(Input::Send(None), T0 + 20, 1);
    let out = outputs(&mut m);
    assert!(transmits(&out).is_empty());
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Settled(s) if s.code == StatusCode::AlreadyReceived)));
}
