//! `classifyReply`: the SDK's own reading of one server reply, as a free function for
//! `sendonce check` (the package's bin), so the check says what sendonce will show users of
//! the server it probes. Conversion only: the decision is `core::reply::classify_reply`, the
//! status it leads to is the one `core::action` rests in, and the text is the locale's.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::convert::{arg, is_array, js, status_object, string_arg};
use crate::core::error::SendonceError;
use crate::core::reply::{classify_reply, Reply, ReplyClass, MAX_BODY_BYTES};
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

/// The optional replay header name: typed as a string, checked at run time like the rest
/// (a number, a Symbol or a Proxy given here is a clear error, never a copy into the wasm).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "string")]
    pub type ReplayHeaderArg;
}

/// Most header pairs read (Node keeps at most 2000 raw headers).
const MAX_HEADER_PAIRS: u32 = 2000;
/// Longest header name or value, in UTF-16 units (servers refuse far shorter ones).
const MAX_HEADER_CHARS: u32 = 65_536;
/// Longest body read, in UTF-16 units: the SDK reads at most `MAX_BODY_BYTES` of a reply,
/// and a UTF-8 byte is at least one unit.
const MAX_BODY_CHARS: u32 = MAX_BODY_BYTES as u32;

/// Classifies one reply as the SDK does: `status` (the three digits a server sent, 100..=999:
/// a status no HTTP client should meet, such as 600, is still a reply and is read as sendonce
/// reads it), headers as `[name, value]` pairs (as Node's `rawHeaders` give them), the body
/// text (at most 1 MiB, what sendonce reads of a reply) and the replay header's name (default
/// `Idempotent-Replayed`). Bad arguments of any type throw a `SendonceError`
/// (`invalid_option`), never a trap.
#[wasm_bindgen(js_name = classifyReply, unchecked_return_type = "ReplyClassification")]
pub fn classify_reply_js(
    #[wasm_bindgen(unchecked_param_type = "number")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Array<[string, string]>")] headers: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] body: JsValue,
    #[wasm_bindgen(js_name = replayHeader)] replay_header: Option<ReplayHeaderArg>,
) -> Result<JsValue, JsValue> {
    js(classify(status, headers, body, arg(replay_header)))
}

fn classify(
    status: JsValue,
    headers: JsValue,
    body: JsValue,
    replay_header: JsValue,
) -> Result<JsValue, SendonceError> {
    let status = status
        .as_f64()
        .filter(|s| s.fract() == 0.0 && (100.0..=999.0).contains(s))
        .ok_or_else(|| SendonceError::option("status", "must be a whole number from 100 to 999"))?
        as u16;
    let body = if body.is_undefined() || body.is_null() {
        String::new()
    } else {
        string_arg(&body, "body", MAX_BODY_CHARS)?
    };
    let replay_header = if replay_header.is_undefined() || replay_header.is_null() {
        "Idempotent-Replayed".to_string()
    } else {
        string_arg(&replay_header, "replayHeader", MAX_HEADER_CHARS)?
    };
    let reply = Reply {
        status,
        headers: header_pairs(&headers)?,
        body,
    };
    let class = classify_reply(&reply, &replay_header);
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

/// `[[name, value], ...]` as pairs; anything else (a Proxy that throws, a getter, a Symbol,
/// an endless array) is a clear error: every read goes through `Reflect`, which catches.
fn header_pairs(headers: &JsValue) -> Result<Vec<(String, String)>, SendonceError> {
    let bad = || SendonceError::option("headers", "must be an array of [name, value] strings");
    if !is_array(headers) {
        return Err(bad());
    }
    let length = |v: &JsValue| {
        Reflect::get(v, &JsValue::from_str("length"))
            .ok()
            .and_then(|n| n.as_f64())
            .ok_or_else(bad)
    };
    let count = length(headers)?;
    if count > f64::from(MAX_HEADER_PAIRS) {
        return Err(SendonceError::option(
            "headers",
            format!("at most {MAX_HEADER_PAIRS} pairs"),
        ));
    }
    let count = count as u32;
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let entry = Reflect::get_u32(headers, i).map_err(|_| bad())?;
        if !is_array(&entry) {
            return Err(bad());
        }
        let part = |n| -> Result<String, SendonceError> {
            let v = Reflect::get_u32(&entry, n).map_err(|_| bad())?;
            string_arg(&v, "headers", MAX_HEADER_CHARS).map_err(|_| bad())
        };
        out.push((part(0)?, part(1)?));
    }
    Ok(out)
}
