//! Requests a careless or hostile client sends: a body that never ends, headers that never end,
//! two keys in one request, a body that is not JSON.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Server, TempPath};

const ORDER: &str = r#"{"item":"tea","qty":2}"#;

/// What came back on a raw connection, and when the connection ended.
struct Raw {
    text: String,
    closed_after: Duration,
}

/// Writes `head`, then `trickle` one byte a second (never the whole body), and reads until
/// the server closes the connection (or 30 s pass).
fn slow_request(addr: &str, head: &str, trickle: bool) -> Raw {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    if trickle {
        let mut writer = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            // Until the server hangs up (a write then fails) or 40 s pass.
            for _ in 0..40 {
                std::thread::sleep(Duration::from_secs(1));
                if writer.write_all(b" ").is_err() {
                    break;
                }
            }
        });
    }
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => break,
            // The server closes while bytes are still arriving: keep what came.
            Err(_) => break,
        }
    }
    Raw {
        text: String::from_utf8_lossy(&raw).into_owned(),
        closed_after: started.elapsed(),
    }
}

fn post_head(addr: &str, content_length: usize, first_bytes: &str) -> String {
    format!(
        "POST /api/orders HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Idempotency-Key: slow-1\r\nContent-Length: {content_length}\r\n\r\n{first_bytes}"
    )
}

#[test]
fn a_body_that_trickles_or_never_ends_is_cut_off_with_408_within_seconds() {
    let db = TempPath::new("slow-body");
    let server = Server::start(&db.path, &[]);
    let addr = server.addr.clone();
    let stalled = {
        let addr = addr.clone();
        // Announces 100 bytes, sends 10, then nothing.
        std::thread::spawn(move || {
            slow_request(&addr, &post_head(&addr, 100, "{\"item\":\"t"), false)
        })
    };
    let trickled = {
        let addr = addr.clone();
        // Announces 10,000 bytes and sends one a second.
        std::thread::spawn(move || slow_request(&addr, &post_head(&addr, 10_000, "{"), true))
    };
    for (what, raw) in [
        ("stalled", stalled.join().unwrap()),
        ("trickled", trickled.join().unwrap()),
    ] {
        assert!(
            raw.closed_after < Duration::from_secs(15),
            "{what} body: the connection stayed open {:?}",
            raw.closed_after
        );
        assert!(
            raw.text.starts_with("HTTP/1.1 408"),
            "{what} body: answered {:?}",
            raw.text
        );
        assert!(
            raw.text.contains("application/problem+json"),
            "{what}: {}",
            raw.text
        );
    }
    // Nothing ran, and the key is free for a proper request.
    assert_eq!(server.order_count(), 0);
    assert_eq!(server.post("/api/orders", "slow-1", ORDER, &[]).status, 201);
}

#[test]
fn headers_that_never_end_are_cut_off_within_seconds() {
    let db = TempPath::new("slow-head");
    let server = Server::start(&db.path, &[]);
    let head = format!(
        "POST /api/orders HTTP/1.1\r\nHost: {}\r\nX-Slow: ",
        server.addr
    );
    let raw = slow_request(&server.addr, &head, false);
    assert!(
        raw.closed_after < Duration::from_secs(15),
        "the connection stayed open {:?}",
        raw.closed_after
    );
    assert!(!raw.text.contains("201"), "{}", raw.text);
    assert_eq!(server.order_count(), 0);
}

#[test]
fn two_idempotency_key_headers_are_a_400_problem_and_run_nothing() {
    let db = TempPath::new("two-keys");
    let server = Server::start(&db.path, &[]);
    let reply = server.request(
        "POST",
        "/api/orders",
        &[
            ("Content-Type", "application/json"),
            ("Idempotency-Key", "key-a"),
            ("Idempotency-Key", "key-b"),
        ],
        ORDER,
    );
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert!(reply.json()["detail"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    assert_eq!(server.order_count(), 0);
    assert_eq!(server.effects(), (0, 0));
    // Neither key was taken: each alone is a fresh order later.
    assert_eq!(server.post("/api/orders", "key-a", ORDER, &[]).status, 201);
    assert!(!server.post("/api/orders", "key-b", ORDER, &[]).replayed());
}

#[test]
fn a_text_plain_body_is_refused_with_415_as_the_readme_says() {
    let db = TempPath::new("text-plain");
    let server = Server::start(&db.path, &[]);
    for path in [
        "/api/orders",
        "/api/tickets",
        "/api/jobs",
        "/api/conversations/c1/messages",
    ] {
        let reply = server.request(
            "POST",
            path,
            &[
                ("Content-Type", "text/plain;charset=UTF-8"),
                ("Idempotency-Key", "plain-1"),
            ],
            r#"{"text":"hi","item":"tea"}"#,
        );
        assert_eq!(reply.status, 415, "{path}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert!(
            reply
                .header("accept-post")
                .is_some_and(|v| v.contains("application/json")),
            "{path}: the answer says what is accepted"
        );
    }
    assert_eq!(server.order_count(), 0);
    assert_eq!(server.effects(), (0, 0));
    // What the README promises still works: JSON (also `+json`), and HTML form fields.
    let json = server.request(
        "POST",
        "/api/orders",
        &[
            ("Content-Type", "application/merge-patch+json"),
            ("Idempotency-Key", "json-1"),
        ],
        ORDER,
    );
    assert_eq!(json.status, 201, "{}", json.text());
    let form = server.request(
        "POST",
        "/api/orders",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Idempotency-Key", "form-1"),
        ],
        "item=tea&qty=2",
    );
    assert_eq!(form.status, 201, "{}", form.text());
    assert_eq!(form.json()["order"]["item"], "tea");
}
