//! Imitating real servers: `--quirks a,b,...` makes the reference server answer the way some
//! real idempotency middlewares do (SPEC section 8), so that `sendonce check` and the demos
//! can be tried against each deviation. The default (no quirks) is the faithful draft.
//!
//! Every quirk is a small change at one point of the request flow in `api/idempotent.rs`:
//! how the key is scoped, how the body is fingerprinted, and how a replay, an in-flight
//! conflict or a key mismatch is answered.

use std::fmt;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::problem::problem;

/// One way a real server deviates from the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quirk {
    /// Replays carry no `Idempotent-Replayed` header (most middlewares send none).
    NoReplayHeader,
    /// Repeats of a finished key get a stored 500 marked as a replay instead of the original
    /// answer, as a middleware that cached the failure of a step after the effect does.
    Replay5xx,
    /// A key reused with another payload is answered 417 instead of 422.
    Mismatch417,
    /// A request whose key is still in flight gets a 409 with an HTML page and no
    /// `Retry-After`, as from a framework's default error page.
    Html409,
    /// A key reused with another payload replays the first answer: the server never compares
    /// payloads.
    MismatchSilentReplay,
    /// Keys are global, not scoped per method and path: the same key on another endpoint
    /// finds the first endpoint's record.
    GlobalKeys,
    /// The payload fingerprint is the raw body bytes, so the same JSON with its fields in
    /// another order counts as a different payload.
    OrderSensitive,
}

/// Every quirk, in the order `--help` lists them.
pub const ALL: [Quirk; 7] = [
    Quirk::NoReplayHeader,
    Quirk::Replay5xx,
    Quirk::Mismatch417,
    Quirk::Html409,
    Quirk::MismatchSilentReplay,
    Quirk::GlobalKeys,
    Quirk::OrderSensitive,
];

impl Quirk {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Quirk::NoReplayHeader => "no-replay-header",
            Quirk::Replay5xx => "replay-5xx",
            Quirk::Mismatch417 => "mismatch-417",
            Quirk::Html409 => "html-409",
            Quirk::MismatchSilentReplay => "mismatch-silent-replay",
            Quirk::GlobalKeys => "global-keys",
            Quirk::OrderSensitive => "order-sensitive",
        }
    }
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of quirks the server runs with; empty means faithful.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks(Vec<Quirk>);

impl Quirks {
    /// Reads `a,b,...` (spaces ignored, an empty list is faithful mode).
    ///
    /// ```
    /// use sendonce_server::quirks::{Quirk, Quirks};
    /// let q = Quirks::parse("html-409, global-keys").unwrap();
    /// assert!(q.has(Quirk::Html409) && q.has(Quirk::GlobalKeys));
    /// assert!(Quirks::parse("nope").unwrap_err().contains("no-replay-header"));
    /// ```
    pub fn parse(text: &str) -> Result<Quirks, String> {
        let mut set = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let quirk = ALL
                .iter()
                .copied()
                .find(|q| q.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    let known: Vec<&str> = ALL.iter().map(|q| q.name()).collect();
                    format!("unknown quirk {name:?}; known: {}", known.join(", "))
                })?;
            if !set.contains(&quirk) {
                set.push(quirk);
            }
        }
        Ok(Quirks(set))
    }

    /// Whether `quirk` is on.
    pub fn has(&self, quirk: Quirk) -> bool {
        self.0.contains(&quirk)
    }

    /// True in faithful mode.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, comma-separated.
    pub fn names(&self) -> String {
        self.0
            .iter()
            .map(|q| q.name())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The scope a key lives in: method and path, or one global scope.
    pub fn scope(&self, method_and_path: String) -> String {
        if self.has(Quirk::GlobalKeys) {
            "*".to_string()
        } else {
            method_and_path
        }
    }

    /// The payload fingerprint: the canonical JSON form (faithful), the raw bytes
    /// (`order-sensitive`), or nothing at all (`mismatch-silent-replay`).
    pub fn fingerprint(&self, body: &[u8], faithful: impl FnOnce() -> String) -> String {
        if self.has(Quirk::MismatchSilentReplay) {
            return String::new();
        }
        if self.has(Quirk::OrderSensitive) {
            // Not JSON for the core: the bytes as they came.
            return sendonce::core::fingerprint::sha256_hex(body).to_string();
        }
        faithful()
    }

    /// The answer to a repeat of a finished key, from the faithful replay.
    pub fn replay(&self, faithful: Response) -> Response {
        let mut response = if self.has(Quirk::Replay5xx) {
            let mut r = problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
                "the stored result of this key is an error",
            );
            r.headers_mut().insert(
                crate::api::idempotent::IDEMPOTENT_REPLAYED,
                HeaderValue::from_static("true"),
            );
            r
        } else {
            faithful
        };
        if self.has(Quirk::NoReplayHeader) {
            response
                .headers_mut()
                .remove(crate::api::idempotent::IDEMPOTENT_REPLAYED);
        }
        response
    }

    /// The answer to a request whose key is still in flight, from the faithful 409.
    pub fn in_flight(&self, faithful: Response) -> Response {
        if !self.has(Quirk::Html409) {
            return faithful;
        }
        (
            StatusCode::CONFLICT,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            "<!doctype html><html><head><title>409 Conflict</title></head>\
             <body><h1>Conflict</h1><p>The request could not be completed.</p></body></html>",
        )
            .into_response()
    }

    /// The answer to a key reused with another payload, from the faithful 422.
    pub fn mismatch(&self, faithful: Response) -> Response {
        if !self.has(Quirk::Mismatch417) {
            return faithful;
        }
        problem(
            StatusCode::EXPECTATION_FAILED,
            "key-reused",
            "Idempotency-Key reused with a different payload",
            "this key was already used with a different request body",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faithful_by_default_and_every_name_reads_back() {
        assert!(Quirks::parse("").unwrap().is_empty());
        for q in ALL {
            assert!(Quirks::parse(q.name()).unwrap().has(q));
        }
        let all = ALL.iter().map(|q| q.name()).collect::<Vec<_>>().join(",");
        assert_eq!(Quirks::parse(&all).unwrap().names(), all);
    }

    #[test]
    fn fingerprints_follow_the_quirk() {
        let a = br#"{"a":1,"b":2}"#;
        let b = br#"{"b":2,"a":1}"#;
        let ct = Some("application/json");
        let fp = |q: &Quirks, body: &[u8]| {
            q.fingerprint(body, || {
                sendonce::core::fingerprint::fingerprint_body(ct, body)
            })
        };
        let faithful = Quirks::default();
        assert_eq!(fp(&faithful, a), fp(&faithful, b));
        let order = Quirks::parse("order-sensitive").unwrap();
        assert_ne!(fp(&order, a), fp(&order, b));
        let silent = Quirks::parse("mismatch-silent-replay").unwrap();
        assert_eq!(fp(&silent, a), fp(&silent, b"{}"));
    }

    #[test]
    fn global_keys_share_one_scope() {
        assert_eq!(Quirks::default().scope("POST /x".into()), "POST /x");
        assert_eq!(
            Quirks::parse("global-keys")
                .unwrap()
                .scope("POST /x".into()),
            "*"
        );
    }
}
