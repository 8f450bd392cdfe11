//! `classifyReply`: the SDK's own reading of one server reply, as a free function for
//! `sendonce check` (the package's bin), so the check says what sendonce will show users of
//! the server it probes. Conversion only: the decision is `core::reply::classify_reply`, the
//! status it leads to is the one `core::action` rests in, and the text is the locale's.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::convert::{js, status_object};
use crate::core::error::SendonceError;
use crate::core::reply::{classify_reply, Reply, ReplyClass};
use crate::core::status::{Locale, Messages, StatusCode};
use crate::platform::set;

#[wasm_bindgen(typescript_custom_section)]
const CHECK_TYPES: &'static str = r#"
/** How sendonce reads one server reply (see `classifyReply`). */
export interface ReplyClassification {
  kind: "success" | "accepted" | "in_progress" | "changed" | "retryable"
    | "replayed_failure" | "server_failure" | "rejected";
  /** The reply carries the replay header with a true value (any letter case). */
  replayed: boolean;
  /** Where a 202 says to poll, if anywhere. */
  pollUrl: string | null;
  /** The server's reason, for a rejected reply. */
  reason: string | null;
  /** The status a person sees after this reply (English text). "retrying" and "accepted"
   * for 409 mean sendonce asks again with the same key. */
  status: Status;
}
"#;

/// Classifies one reply as the SDK does: `status`, headers as `[name, value]` pairs (as Node's
/// `rawHeaders` give them), the body text and the replay header's name (default `Idempotent-Replayed`).
/// Bad arguments throw a `SendonceError` (`invalid_option`).
#[wasm_bindgen(js_name = classifyReply, unchecked_return_type = "ReplyClassification")]
pub fn classify_reply_js(
    #[wasm_bindgen(unchecked_param_type = "number")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Array<[string, string]>")] headers: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] body: JsValue,
    #[wasm_bindgen(js_name = replayHeader)] replay_header: Option<String>,
) -> Result<JsValue, JsValue> {
    js(classify(status, headers, body, replay_header))
}

fn classify(
    status: JsValue,
    headers: JsValue,
    body: JsValue,
    replay_header: Option<String>,
) -> Result<JsValue, SendonceError> {
    let status = status
        .as_f64()
        .filter(|s| s.fract() == 0.0 && (100.0..=599.0).contains(s))
        .ok_or_else(|| SendonceError::option("status", "must be an HTTP status, 100..=599"))?
        as u16;
    let body = if body.is_undefined() || body.is_null() {
        String::new()
    } else {
        body.as_string()
            .ok_or_else(|| SendonceError::option("body", "must be a string"))?
    };
    let reply = Reply {
        status,
        headers: header_pairs(&headers)?,
        body,
    };
    let class = classify_reply(
        &reply,
        replay_header.as_deref().unwrap_or("Idempotent-Replayed"),
    );
    // The status `core::action` moves to on this reply (`on_reply`).
    let (kind, shown, reason, poll_url, replayed) = match class {
        ReplyClass::Success { replayed: true } => {
            ("success", StatusCode::AlreadyReceived, None, None, true)
        }
        ReplyClass::Success { replayed: false } => ("success", StatusCode::Done, None, None, false),
        ReplyClass::Accepted { poll_url } => {
            ("accepted", StatusCode::Accepted, None, poll_url, false)
        }
        ReplyClass::InProgress => ("in_progress", StatusCode::Accepted, None, None, false),
        ReplyClass::Changed => ("changed", StatusCode::Changed, None, None, false),
        ReplyClass::Retryable => ("retryable", StatusCode::Retrying, None, None, false),
        ReplyClass::ReplayedFailure => ("replayed_failure", StatusCode::Failed, None, None, true),
        ReplyClass::ServerFailure => ("server_failure", StatusCode::Failed, None, None, false),
        ReplyClass::Rejected { reason } => ("rejected", StatusCode::Rejected, reason, None, false),
    };
    let o = Object::new();
    set(&o, "kind", &JsValue::from_str(kind));
    set(&o, "replayed", &JsValue::from_bool(replayed));
    let text = |v: Option<String>| v.map_or(JsValue::NULL, |s| JsValue::from_str(&s));
    set(&o, "pollUrl", &text(poll_url));
    set(&o, "reason", &text(reason.clone()));
    let messages = Messages::new(Locale::parse("en"));
    set(
        &o,
        "status",
        &status_object(&messages, shown, reason.as_deref()),
    );
    Ok(o.into())
}

/// `[[name, value], ...]` as pairs; anything else is a clear error.
fn header_pairs(headers: &JsValue) -> Result<Vec<(String, String)>, SendonceError> {
    let bad = || SendonceError::option("headers", "must be an array of [name, value] strings");
    if !Array::is_array(headers) {
        return Err(bad());
    }
    let entries: &Array = headers.unchecked_ref();
    let mut out = Vec::with_capacity(entries.length() as usize);
    for entry in entries.iter() {
        let pair = || -> Option<(String, String)> {
            if !Array::is_array(&entry) {
                return None;
            }
            let pair: &Array = entry.unchecked_ref();
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        };
        out.push(pair().ok_or_else(bad)?);
    }
    Ok(out)
}
