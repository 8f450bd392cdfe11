//! Credentials in URLs (SPEC section 5, issue 19 item 14): refused when they are a user name
//! or password, sent but never stored when they are query parameters, and a request restored
//! without them waits for the page instead of going out without them.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use sendonce::core::action::{ActionMachine, Input, Output};
use sendonce::core::json::Value;
use sendonce::core::record::{OutboxEntry, OutboxStatus, Record, StoredRequest};
use sendonce::core::retry::RetryPolicy;
use sendonce::core::status::StatusCode;
use sendonce::core::url::{check_url, is_secret_name, live_url, storable_url};
use sim::*;

#[test]
fn user_names_and_passwords_in_a_url_are_refused_without_echoing_them() {
    let refused = [
        "http://user:hunter2@host/api/orders",
        "https://hunter2@api.example.com/orders",
        "HTTPS://ana:hunter2@API.example.com:8443/orders?x=1",
        "//ana:hunter2@api.example.com/orders",
        "\\\\ana:hunter2@api.example.com/orders",
        "http:\\\\ana:hunter2@host/orders",
        "http:ana:hunter2@host/orders",
        "  https://ana:hunter2@host/  ",
        "ht\ttps://ana:hunter2@host/",
        "wss://ana:hunter2@host/socket",
    ];
    for url in refused {
        let e = check_url(url, "url").unwrap_err();
        assert_eq!(e.code(), "invalid_option", "{url}");
        assert!(!e.to_string().contains("hunter2"), "{url}: {e}");
    }
    let fine = [
        "/api/orders",
        "/api/orders?email=ana@example.com",
        "https://api.example.com/orders?email=ana@example.com#@x",
        "https://api.example.com/users/@ana",
        "api/orders@2",
        "mailto:ana@example.com",
        "localhost:8080/orders",
    ];
    for url in fine {
        assert!(check_url(url, "url").is_ok(), "{url}");
    }
}

#[test]
fn secret_query_parameters_and_the_fragment_are_not_stored() {
    let cases = [
        ("/api/orders?access_token=S1", "/api/orders"),
        ("/api/orders?api_key=S1&page=2", "/api/orders?page=2"),
        ("/api/orders?page=2&apiKey=S1", "/api/orders?page=2"),
        ("/api/orders?token=S1", "/api/orders"),
        ("/api/orders?session=S1&item=tea", "/api/orders?item=tea"),
        ("/api/orders?PHPSESSID=S1", "/api/orders"),
        (
            "/api/orders?X-Amz-Signature=S1&X-Amz-Credential=S2&X-Amz-Security-Token=S3&a=1",
            "/api/orders?a=1",
        ),
        ("/api/orders?key=S1", "/api/orders"),
        ("/api/orders?client_secret=S1", "/api/orders"),
        ("/api/orders?password=S1", "/api/orders"),
        ("/api/orders?access%5Ftoken=S1", "/api/orders"),
        ("/api/orders?access_token", "/api/orders"),
    ];
    for (url, stored) in cases {
        assert_eq!(storable_url(url), (stored.to_string(), true), "{url}");
    }
    // The fragment never goes to the server: dropped, and nothing is missing.
    assert_eq!(
        storable_url("/api/orders#token=S1"),
        ("/api/orders".to_string(), false)
    );
    assert_eq!(
        storable_url("/api/orders?page=2&item=tea#x"),
        ("/api/orders?page=2&item=tea".to_string(), false)
    );
    for name in ["author", "keyword", "monkey", "item", "qty", "sort"] {
        assert!(!is_secret_name(name), "{name}");
    }
}

fn secret_request() -> StoredRequest {
    StoredRequest {
        url: "https://api.example.com/orders?access_token=SECRET-1&api_key=SECRET-2&page=2#token=SECRET-3"
            .into(),
        ..request()
    }
}

#[test]
fn a_request_with_secrets_in_its_url_sends_them_and_never_stores_them() {
    let mut d = Driver::new(
        RetryPolicy::default(),
        Server::new(vec![Fault::Status(503)]),
    );
    d.input(Input::Send(Some(secret_request())));
    d.run();
    assert_eq!(d.outcome().code, StatusCode::Done);
    for s in &d.sent {
        assert_eq!(
            s.url,
            secret_request().url,
            "sent as given, on every attempt"
        );
    }
    let persisted = d.persisted();
    assert!(!persisted.is_empty());
    for r in persisted {
        let text = Record::Action(r).encode();
        assert!(!text.contains("SECRET"), "{text}");
    }
}

#[test]
fn a_request_restored_without_its_url_secrets_waits_then_goes_out_with_the_users_next_send() {
    // A reload while offline: the record is all that is left.
    let mut first = Driver::new(RetryPolicy::default(), Server::new(vec![]));
    first.input(Input::Offline);
    first.input(Input::Send(Some(secret_request())));
    first.run();
    assert_eq!(first.outcome().code, StatusCode::Offline);
    let text = Record::Action(first.persisted().pop().unwrap()).encode();
    assert!(!text.contains("SECRET"), "{text}");
    let Some(Record::Action(back)) = Record::decode(&text, T0 + 1_000).unwrap() else {
        panic!("the record did not come back");
    };
    let stored = back.request.clone().unwrap();
    assert_eq!(stored.url, "https://api.example.com/orders?page=2");
    assert!(
        stored.secret_url && !stored.is_complete(true),
        "a hook cannot give it back"
    );

    let mut d = Driver::with_machine(
        ActionMachine::restore(config(RetryPolicy::default()), back),
        Server::new(vec![]),
    );
    // `resumePending()` / `retry()`: never sent without the secret, never dropped.
    d.input(Input::Send(None));
    d.run();
    assert!(d.sent.is_empty(), "never sent to the URL without its token");
    assert!(d.events().contains(&"action.incomplete"));
    // The page sends the action again with its URL: same key, the secret goes out.
    d.input(Input::Send(Some(secret_request())));
    d.run();
    assert_eq!(d.sent.len(), 1);
    assert_eq!(d.sent[0].key.as_deref(), Some(KEY));
    assert_eq!(d.sent[0].url, secret_request().url);
    assert_eq!(d.outcome().code, StatusCode::Done);
}

#[test]
fn whoever_builds_the_request_the_record_encoder_leaves_the_url_secrets_out() {
    // A request put into a record without `storable()` (the last gate is the encoder).
    let mut m = ActionMachine::new(config(RetryPolicy::default()), T0);
    m.handle(Input::Send(Some(secret_request())), T0, 0);
    let mut rec = None;
    while let Some(o) = m.poll() {
        if let Output::Persist(r) = o {
            rec = Some(r);
        }
    }
    let mut rec = rec.unwrap();
    rec.request = Some(secret_request());
    let text = Record::Action(rec).encode();
    assert!(!text.contains("SECRET"), "{text}");
    let Some(Record::Action(back)) = Record::decode(&text, T0).unwrap() else {
        panic!()
    };
    assert!(!back.request.unwrap().is_complete(true));
}

#[test]
fn a_chat_outbox_entry_keeps_no_url_secret_and_is_delivered_with_the_live_url() {
    let live = "/api/conversations/c-1/messages?session=SECRET-S";
    let entry = OutboxEntry {
        conversation_id: "c-1".into(),
        id: key(),
        seq: 1,
        text: "hello".into(),
        extra: Value::Null,
        status: OutboxStatus::Sending,
        code: None,
        at: T0,
        url: live.into(),
    };
    let text = Record::Outbox(entry).encode();
    assert!(!text.contains("SECRET"), "{text}");
    let Some(Record::Outbox(back)) = Record::decode(&text, T0).unwrap() else {
        panic!()
    };
    assert_eq!(live_url(&back.url, live), live);
    assert_eq!(live_url(live, live), live);
}
