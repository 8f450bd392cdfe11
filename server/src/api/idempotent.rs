//! The request flow shared by every idempotent POST: key, fingerprint, fault, claim, effect,
//! stored response or replay.
//!
//! Endpoints only parse their body and describe their effect; everything the draft asks of a
//! server happens here, in one order for all of them.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rusqlite::Transaction;
use sendonce::core::key::validate_key;

use crate::clock::now_ms;
use crate::faults::{Fault, RequestKind};
use crate::idem::{self, Claim, EffectContext, IdemRequest, StoredResponse};
use crate::log::{LogEntry, Outcome};
use crate::problem::{internal, problem};
use crate::server::CloseConnection;
use crate::state::SharedState;
use crate::trace::{payload_text, Decision, Note};

/// The header a client uses to name one action.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header a replay carries.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// The test header that asks for a fault on the first request with its key.
pub const FAULT_HEADER: &str = "x-sendonce-fault";

/// A side effect: writes its rows in the given transaction and describes the response.
///
/// It is an `Fn` behind an `Arc` because the `duplicate` fault delivers a request twice.
pub type Effect = Arc<
    dyn Fn(&Transaction<'_>, EffectContext<'_>) -> rusqlite::Result<StoredResponse> + Send + Sync,
>;

/// Reads and validates the `Idempotency-Key` header, or answers 400.
///
/// Two `Idempotency-Key` fields in one request are a 400 too: the draft defines one key per
/// request, and picking either one (as a proxy in front might pick the other) could run one
/// action under two keys.
pub fn require_key(headers: &HeaderMap) -> Result<String, Response> {
    if headers.get_all(IDEMPOTENCY_KEY).iter().nth(1).is_some() {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "multiple-keys",
            "More than one Idempotency-Key",
            "the request has more than one Idempotency-Key header; send exactly one",
        ));
    }
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "missing-key",
            "Idempotency-Key is missing",
            "this endpoint is idempotent and needs an Idempotency-Key header",
        ));
    };
    let text = value.to_str().map_err(|_| {
        problem(
            StatusCode::BAD_REQUEST,
            "invalid-key",
            "Idempotency-Key is invalid",
            "the key must be visible ASCII",
        )
    })?;
    // The draft's examples quote the key as a structured-field string; accept both spellings.
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    validate_key(text)
        .map(|key| key.as_str().to_string())
        .map_err(|err| {
            problem(
                StatusCode::BAD_REQUEST,
                "invalid-key",
                "Idempotency-Key is invalid",
                format!("{err} ({})", err.code()),
            )
        })
}

/// Reads the `X-Sendonce-Fault` header, or answers 400 for a name the server does not know.
pub fn fault_header(headers: &HeaderMap) -> Result<Option<Fault>, Response> {
    let Some(value) = headers.get(FAULT_HEADER) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    Fault::parse(&text).map(Some).map_err(|why| {
        problem(
            StatusCode::BAD_REQUEST,
            "unknown-fault",
            "Unknown fault",
            why,
        )
    })
}

/// Everything about the request the flow needs, taken from the endpoint.
pub struct IdempotentCall<'a> {
    /// The request headers (content type, fault header).
    pub headers: &'a HeaderMap,
    /// The request path, which with the method scopes the key.
    pub path: &'a str,
    /// The validated key (see [`require_key`]).
    pub key: String,
    /// The raw body, fingerprinted as sent.
    pub body: &'a [u8],
    /// The payload's business reference (see [`super::body::business_ref`]).
    pub reference: Option<String>,
}

/// The fingerprint of a request body. A `multipart/form-data` body is fingerprinted by its
/// parts (file parts by name, size, type and content hash), not by its bytes: the browser
/// writes a new boundary on every attempt of the same submission.
fn body_fingerprint(headers: &HeaderMap, content_type: Option<&str>, body: &[u8]) -> String {
    use sendonce::core::fingerprint::fingerprint_body;
    if super::body::body_kind(content_type) == Some(super::body::BodyKind::Multipart) {
        if let Ok(parts) = super::body::json_body(headers, body, false) {
            return fingerprint_body(Some("application/json"), parts.to_string().as_bytes());
        }
    }
    fingerprint_body(content_type, body)
}

/// Runs one idempotent request and answers it.
pub async fn run(state: &SharedState, call: IdempotentCall<'_>, effect: Effect) -> Response {
    let fault_from_header = match fault_header(call.headers) {
        Ok(f) => f,
        Err(response) => return response,
    };
    let content_type = call
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    // `--quirks` may scope keys globally or fingerprint differently (see `quirks.rs`).
    let req = IdemRequest {
        scope: state.quirks.scope(format!("POST {}", call.path)),
        fingerprint: state.quirks.fingerprint(call.body, || {
            body_fingerprint(call.headers, content_type, call.body)
        }),
        key: call.key,
        reference: call.reference,
    };
    let text = payload_text(call.body);
    let once_id = format!("{} {}", req.scope, req.key);
    let fault = state.faults.pick(
        RequestKind::Idempotent,
        call.path,
        &once_id,
        fault_from_header,
    );

    let (mut response, replayed) = match fault {
        Some(Fault::Reset) => (StatusCode::NO_CONTENT.into_response(), false),
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let detail = format!("fault {code} injected on purpose; nothing was stored, retry");
            (
                problem(status, "injected-fault", "Injected failure", detail),
                false,
            )
        }
        Some(Fault::TooManyRequests(secs)) => {
            let mut r = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "injected-fault",
                "Too many requests",
                format!("fault 429 injected on purpose; retry after {secs} s"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            (r, false)
        }
        Some(Fault::Duplicate) => {
            // The first delivery's answer goes nowhere, as when a proxy gives up on it and
            // retries; the client gets the second, which finds the first one's record.
            let first = deliver(state, req.clone(), 0, Arc::clone(&effect), text.clone()).await;
            state.log.push(LogEntry {
                seq: 0,
                at: 0,
                method: "POST".into(),
                path: call.path.to_string(),
                key: Some(req.key.clone()),
                status: first.0.status().as_u16(),
                fault: Some(Fault::Duplicate.to_string()),
                replayed: first.1,
                internal: true,
            });
            deliver(state, req, 0, effect, text).await
        }
        Some(Fault::Delay(ms)) => deliver(state, req, ms, effect, text).await,
        Some(Fault::Drop) | Some(Fault::Cut) | None => deliver(state, req, 0, effect, text).await,
    };
    if matches!(fault, Some(Fault::Drop | Fault::Reset)) {
        response.extensions_mut().insert(CloseConnection);
    }
    response.extensions_mut().insert(Outcome {
        fault: fault.map(|f| f.to_string()),
        replayed,
    });
    response
}

/// Runs the claim-effect-store sequence in its own task, so a client that hangs up (a
/// timeout, a `drop` on another attempt) cannot cancel it half way: the effect either runs
/// and its record is stored, or the key is released. Returns the answer and whether it is a
/// replay.
async fn deliver(
    state: &SharedState,
    req: IdemRequest,
    delay_ms: u64,
    effect: Effect,
    text: Option<String>,
) -> (Response, bool) {
    let task = tokio::spawn(execute(Arc::clone(state), req, delay_ms, effect, text));
    match task.await {
        Ok(answer) => answer,
        Err(err) => (internal(err), false),
    }
}

async fn execute(
    state: SharedState,
    req: IdemRequest,
    delay_ms: u64,
    effect: Effect,
    text: Option<String>,
) -> (Response, bool) {
    let retention = state.retention_ms;
    // A reset while this runs (a test's end) means its effect belongs to what was forgotten.
    let begun = state.log.epoch();
    // One trace line per decision, with the key and the payload's free text (masked there).
    let trace = |decision: Decision, response: &Response, detail: &str| {
        let note = Note {
            status: Some(response.status().as_u16()),
            detail: detail.to_string(),
            text: text.clone(),
            ..Note::default()
        };
        state.trace.record(&req.key, decision, &req.scope, note);
    };
    let now = now_ms();
    let claim_req = req.clone();
    let claim = state
        .db
        .call(move |conn| Ok(idem::claim(conn, &claim_req, now, retention)?))
        .await;
    let since = match claim {
        Err(err) => return (internal(err), false),
        Ok(Claim::Mismatch) => {
            let response = state.quirks.mismatch(mismatch(&req.key));
            trace(
                Decision::Conflict,
                &response,
                "key reused with another payload",
            );
            return (response, false);
        }
        Ok(Claim::InFlight) => {
            let response = state.quirks.in_flight(in_flight(&req.key));
            trace(
                Decision::InFlight,
                &response,
                "an earlier request is running",
            );
            return (response, false);
        }
        Ok(Claim::Done(stored)) => {
            let response = state.quirks.replay(stored_response(stored, true));
            trace(
                Decision::Replay,
                &response,
                "answered from the stored result",
            );
            return (response, true);
        }
        Ok(Claim::Fresh { since }) => since,
    };
    if delay_ms > 0 {
        // The key is held in flight during the wait, so a retry meanwhile gets a 409.
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    let (trace_log, request_log) = (Arc::clone(&state.trace), Arc::clone(&state.log));
    let outcome = state
        .db
        .call(move |conn| {
            // The reset moves the epoch on the database's thread, so this check and the
            // reset's deletions cannot interleave.
            if request_log.epoch() != begun {
                let _ = idem::release(conn, &req, since);
                return Ok(None);
            }
            let done = idem::complete(conn, &req, since, now_ms(), retention, |tx, ctx| {
                effect(tx, ctx)
            });
            if done.is_err() {
                // Nothing committed: free the key so a retry can run the effect.
                let _ = idem::release(conn, &req, since);
            }
            let (stored, after_commit) = done?;
            // Written before the effect's after-commit work (a job's `enqueued` line).
            let note = Note {
                status: Some(stored.status),
                detail: "ran the effect and stored its answer".into(),
                text,
                ..Note::default()
            };
            trace_log.record(&req.key, Decision::New, &req.scope, note);
            // Committed: what the effect left for now (a job into the queue, with its own
            // line) runs before the answer leaves, so a retry's line always comes after it.
            after_commit.run();
            Ok(Some(stored))
        })
        .await;
    match outcome {
        Ok(Some(stored)) => (stored_response(stored, false), false),
        Ok(None) => (
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "reset",
                "Reset while running",
                "the server was reset while this request ran; nothing was done, retry",
            ),
            false,
        ),
        Err(err) => (internal(err), false),
    }
}

/// Turns a stored response into an answer; a replay says so in `Idempotent-Replayed`.
fn stored_response(stored: StoredResponse, replayed: bool) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    if let Ok(ct) = HeaderValue::from_str(&stored.content_type) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    if let Some(location) = stored.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

fn in_flight(key: &str) -> Response {
    let mut r = problem(
        StatusCode::CONFLICT,
        "request-in-flight",
        "A request with this key is still being processed",
        format!("the request with Idempotency-Key {key:?} has not finished; retry shortly"),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

fn mismatch(key: &str) -> Response {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "key-reused",
        "Idempotency-Key reused with a different payload",
        format!(
            "Idempotency-Key {key:?} was already used with a different request body; \
             use a new key for a new action"
        ),
    )
}

/// A response to store: JSON with the given status.
pub fn json_response(status: u16, value: &serde_json::Value) -> StoredResponse {
    StoredResponse {
        status,
        content_type: "application/json".into(),
        body: value.to_string().into_bytes(),
        location: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(IDEMPOTENCY_KEY, HeaderValue::from_str(key).unwrap());
        h
    }

    #[test]
    fn key_rules() {
        assert_eq!(require_key(&headers("abc")).unwrap(), "abc");
        assert_eq!(require_key(&headers("\"abc\"")).unwrap(), "abc");
        assert_eq!(require_key(&HeaderMap::new()).unwrap_err().status(), 400);
        assert_eq!(
            require_key(&headers(&"k".repeat(256)))
                .unwrap_err()
                .status(),
            400
        );
        assert!(require_key(&headers(&"k".repeat(255))).is_ok());
        let mut two = headers("a");
        two.append(IDEMPOTENCY_KEY, HeaderValue::from_static("b"));
        assert_eq!(require_key(&two).unwrap_err().status(), 400);
    }

    #[test]
    fn unknown_fault_header_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(FAULT_HEADER, HeaderValue::from_static("explode"));
        assert_eq!(fault_header(&h).unwrap_err().status(), 400);
        h.insert(FAULT_HEADER, HeaderValue::from_static("429=3"));
        assert_eq!(fault_header(&h).unwrap(), Some(Fault::TooManyRequests(3)));
    }
}
