//! Test helpers: run the real `sendonce-server` binary on a free port with a throwaway
//! database, and talk to it with a tiny HTTP/1.1 client over a plain `TcpStream`.
//!
//! The client is written out (not reqwest) to keep build times down, and because the tests
//! need to see exactly what a browser would: a connection closed with no response at all, a
//! chunked stream that ends without its last chunk.

#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// A fresh path in the system temp dir; the files (and SQLite's -wal/-shm) go on drop.
pub struct TempPath {
    pub path: PathBuf,
}

impl TempPath {
    pub fn new(label: &str) -> TempPath {
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        let name = format!("sendonce-test-{}-{label}-{n}", std::process::id());
        TempPath {
            path: std::env::temp_dir().join(name),
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}

/// A running server process, stopped on drop.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    db: PathBuf,
    args: Vec<String>,
}

impl Server {
    /// Starts the binary with `--addr 127.0.0.1:0 --db DB --quiet --demo` plus `extra` (the
    /// tests read effects, the log and traces), and reads the URL it prints.
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        let args = std::iter::once("--demo").chain(extra.iter().copied());
        Server::spawn(db, args.map(str::to_string).collect())
    }

    /// Starts the binary as a user would without `--demo`: the reads that list keys are off.
    pub fn start_without_demo(db: &Path, extra: &[&str]) -> Server {
        Server::spawn(db, extra.iter().map(|s| s.to_string()).collect())
    }

    fn spawn(db: &Path, args: Vec<String>) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sendonce-server"))
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--db")
            .arg(db)
            .arg("--quiet")
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn sendonce-server");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the startup line");
        let url = line
            .trim()
            .strip_prefix("sendonce reference server: http://")
            .unwrap_or_else(|| panic!("unexpected startup line {line:?}"));
        let addr = url.trim_end_matches('/').to_string();
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        Server {
            child,
            addr,
            db: db.to_path_buf(),
            args,
        }
    }

    /// Kills the process without warning (as a crash would) and starts a new one on the same
    /// database.
    pub fn crash_and_restart(mut self) -> Server {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let args = std::mem::take(&mut self.args);
        Server::spawn(&self.db, args)
    }

    /// POSTs `body` with `key` on its own thread, held in flight for `ms` by the `delay` fault,
    /// and returns once the server holds the key; join the handle for the request's answer.
    pub fn post_held(
        &self,
        path: &str,
        key: &str,
        body: &str,
        ms: u64,
    ) -> std::thread::JoinHandle<Reply> {
        let (addr, path, key_owned, body) = (
            self.addr.clone(),
            path.to_string(),
            key.to_string(),
            body.to_string(),
        );
        let held = std::thread::spawn(move || {
            let delay = format!("delay={ms}");
            let headers = [
                ("Content-Type", "application/json"),
                ("Idempotency-Key", key_owned.as_str()),
                ("X-Sendonce-Fault", delay.as_str()),
            ];
            request(&addr, "POST", &path, &headers, body.as_bytes())
                .unwrap_or_else(|e| panic!("POST {path} (held): no response: {e}"))
        });
        self.wait_in_flight(key);
        held
    }

    /// Waits until the server holds `key` in flight (its claim is committed to the database),
    /// instead of guessing how long a request takes to get there on a loaded machine.
    pub fn wait_in_flight(&self, key: &str) {
        let conn = rusqlite::Connection::open(&self.db).expect("open the server's database");
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let held: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM idempotency WHERE key = ?1 AND state = 'in_flight'",
                    [key],
                    |row| row.get(0),
                )
                .unwrap_or(0);
            if held > 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{key} never went in flight"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            sent.map(|s| s.success()).unwrap_or(false),
            "kill -TERM failed"
        );
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: no response: {e}"))
    }

    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Reply> {
        request(&self.addr, method, path, headers, body.as_bytes())
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], "")
    }

    pub fn get_json(&self, path: &str) -> Value {
        let reply = self.get(path);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
        reply.json()
    }

    /// POSTs JSON with an `Idempotency-Key` and any extra headers.
    pub fn post(&self, path: &str, key: &str, body: &str, extra: &[(&str, &str)]) -> Reply {
        self.try_post(path, key, body, extra)
            .unwrap_or_else(|e| panic!("POST {path}: no response: {e}"))
    }

    pub fn try_post(
        &self,
        path: &str,
        key: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> std::io::Result<Reply> {
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Idempotency-Key", key),
        ];
        headers.extend_from_slice(extra);
        self.try_request("POST", path, &headers, body)
    }

    /// How many orders exist, as the orders list says.
    pub fn order_count(&self) -> u64 {
        self.get_json("/api/orders")["count"]
            .as_u64()
            .expect("count")
    }

    /// `(total, duplicates)` from `/api/effects`.
    pub fn effects(&self) -> (u64, u64) {
        let e = self.get_json("/api/effects");
        (
            e["total"].as_u64().expect("total"),
            e["duplicates"].as_u64().expect("duplicates"),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// False when a chunked body ended without its final chunk (the stream was cut).
    pub complete: bool,
}

impl Reply {
    /// A header by name, any letter case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn replayed(&self) -> bool {
        self.header("idempotent-replayed") == Some("true")
    }
}

/// One request on a fresh connection (`Connection: close`), read until the server closes.
///
/// An error means no response arrived at all: what a browser reports as a network error.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    // The caller may name another host (as a browser would after a DNS change).
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;

    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A reset after some bytes is how an aborted stream ends; keep what came.
            Err(e) if !raw.is_empty() && e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        }
    }
    if raw.is_empty() {
        return Err(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            "connection closed without a response",
        ));
    }
    parse(&raw)
}

fn parse(raw: &[u8]) -> std::io::Result<Reply> {
    let bad = |what: &str| std::io::Error::new(ErrorKind::InvalidData, what.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad("head is not UTF-8"))?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let (body, complete) = if chunked {
        dechunk(rest)
    } else {
        (rest.to_vec(), true)
    };
    Ok(Reply {
        status,
        headers,
        body,
        complete,
    })
}

/// Decodes a chunked body; `complete` only when the final zero-size chunk arrived.
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let Ok(size) = usize::from_str_radix(size_text.trim(), 16) else {
            return (body, false);
        };
        if size == 0 {
            return (body, true);
        }
        let start = line_end + 2;
        if rest.len() < start + size {
            body.extend_from_slice(&rest[start..]);
            return (body, false);
        }
        body.extend_from_slice(&rest[start..start + size]);
        rest = rest.get(start + size + 2..).unwrap_or(&[]);
    }
}

/// One server-sent event as the tests read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// Splits an event-stream body into events (ignoring `retry:` and comments).
pub fn events(body: &str) -> Vec<Event> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut ev = Event {
                id: None,
                event: None,
                data: String::new(),
            };
            let mut has_data = false;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    ev.id = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    ev.event = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    if has_data {
                        ev.data.push('\n');
                    }
                    ev.data.push_str(v);
                    has_data = true;
                }
            }
            has_data.then_some(ev)
        })
        .collect()
}
