//! The rules `sendonce check` (the package's bin) applies, as free functions over the core, so
//! the check says what sendonce will do with the server it probes and holds no rule of its
//! own: `classifyReply` (the SDK's reading of one reply: `core::reply::classify_reply`, the
//! status `core::action::status_after`, `Retry-After` by `core::retry::parse_retry_after`, the
//! replay mark by `core::http::replay_marker`, the body's canonical JSON, and for a page on
//! another origin `core::http::read_cors`) and `checkRequest` (method and header grammar,
//! default header names, size limits). Conversion only; two exports, not one per rule, since
//! each costs wasm.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::convert::{arg, is_array, js, opt_string, options_object, status_object, string_arg};
use crate::core::action::status_after;
use crate::core::error::SendonceError;
use crate::core::http::{self, DEFAULT_KEY_HEADER, DEFAULT_REPLAY_HEADER};
use crate::core::json::{self, DEFAULT_MAX_PAYLOAD_BYTES};
use crate::core::reply::{classify_reply, Reply, ReplyClass, MAX_BODY_BYTES};
use crate::core::retry::parse_retry_after;
use crate::core::status::{Locale, Messages, StatusCode};
use crate::platform::{get, now_ms, set};

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
  /** How long the reply's Retry-After asks to wait, in ms (seconds or an HTTP date), if it
   * asks; sendonce honours it up to its own limit. */
  retryAfterMs: number | null;
  /** The header that marks this reply as a replay: the replay header, or another whose
   * name contains "replay" with a true value; null when none does. */
  marker: string | null;
  /** The body as canonical JSON (members sorted, one spelling of numbers and strings), the
   * form fingerprints are taken of: two bodies are the same JSON when these are equal; null
   * when the body is not JSON. */
  canonicalBody: string | null;
  /** With `page`: how the browser reads this reply's CORS headers for that page. */
  cors?: CorsReading;
}

/** A page on another origin, for `classifyReply`'s CORS reading. */
export interface ReplyPage {
  origin: string;
  /** The method the page sends. */
  method: string;
  /** The request headers it sends that a preflight must allow (`checkRequest().corsHeaders`). */
  requestHeaders: string[];
}

/** A request as sendonce sends it (see `checkRequest`). */
export interface CheckedRequest {
  /** The method, upper case. */
  method: string;
  /** The headers sent with a JSON body: the caller's, and `Content-Type: application/json`
   * unless they name one (the key header comes on top). */
  headers: Array<[string, string]>;
  /** The default key header (`Idempotency-Key`) and replay header (`Idempotent-Replayed`). */
  headerName: string;
  replayHeader: string;
  /** What sendonce reads of a reply body, and the largest payload it sends by default. */
  maxBodyBytes: number;
  maxPayloadBytes: number;
  /** The request headers a page's request carries that a CORS preflight must allow. */
  corsHeaders: string[];
}

/** How a browser reads one reply's CORS headers for a page (see `classifyReply`). */
export interface CorsReading {
  originAllowed: boolean;
  /** Request headers the reply does not allow (a preflight with any is refused). */
  headersMissing: string[];
  methodAllowed: boolean;
  /** Of the replay header, Retry-After and Location, those the page cannot read. */
  notExposed: string[];
  /** The status sendonce in that page shows after this reply: read without the headers the
   * page cannot read (a replay mark that is not exposed is not seen). */
  pageStatus: Status;
}
"#;

/// The optional replay header name: typed as a string, checked at run time like the rest
/// (a number, a Symbol or a Proxy given here is a clear error, never a copy into the wasm).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "string")]
    pub type ReplayHeaderArg;

    /// The optional page of `classifyReply` (`ReplyPage`), checked at run time.
    #[wasm_bindgen(typescript_type = "ReplyPage")]
    pub type ReplyPageArg;
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
/// `Idempotent-Replayed`); with `page` (`{ origin, method, requestHeaders }`), also how a
/// browser reads the reply's CORS headers for a page on that origin. Bad arguments of any
/// type throw a `SendonceError` (`invalid_option`), never a trap.
#[wasm_bindgen(js_name = classifyReply, unchecked_return_type = "ReplyClassification")]
pub fn classify_reply_js(
    #[wasm_bindgen(unchecked_param_type = "number")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Array<[string, string]>")] headers: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] body: JsValue,
    #[wasm_bindgen(js_name = replayHeader)] replay_header: Option<ReplayHeaderArg>,
    page: Option<ReplyPageArg>,
) -> Result<JsValue, JsValue> {
    js(classify(
        status,
        headers,
        body,
        arg(replay_header),
        arg(page),
    ))
}

fn classify(
    status: JsValue,
    headers: JsValue,
    body: JsValue,
    replay_header: JsValue,
    page: JsValue,
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
        DEFAULT_REPLAY_HEADER.to_string()
    } else {
        string_arg(&replay_header, "replayHeader", MAX_HEADER_CHARS)?
    };
    let reply = Reply {
        status,
        headers: header_pairs(&headers)?,
        body,
    };
    let class = classify_reply(&reply, &replay_header);
    let shown = status_after(&class);
    let retry_after = reply
        .header("retry-after")
        .and_then(|v| parse_retry_after(v, now_ms()));
    let marker = http::replay_marker(&reply, &replay_header).map(str::to_string);
    let (kind, reason, poll_url, replayed) = match class {
        ReplyClass::Success { replayed } => ("success", None, None, replayed),
        ReplyClass::Accepted { poll_url } => ("accepted", None, poll_url, false),
        ReplyClass::InProgress => ("in_progress", None, None, false),
        ReplyClass::Changed => ("changed", None, None, false),
        ReplyClass::Retryable => ("retryable", None, None, false),
        ReplyClass::ReplayedFailure => ("replayed_failure", None, None, true),
        ReplyClass::ServerFailure => ("server_failure", None, None, false),
        ReplyClass::Rejected { reason } => ("rejected", reason, None, false),
    };
    let o = Object::new();
    set(&o, "kind", &JsValue::from_str(kind));
    set(&o, "replayed", &JsValue::from_bool(replayed));
    let text = |v: Option<String>| v.map_or(JsValue::NULL, |s| JsValue::from_str(&s));
    set(&o, "pollUrl", &text(poll_url));
    set(&o, "reason", &text(reason.clone()));
    set(&o, "marker", &text(marker));
    set(
        &o,
        "canonicalBody",
        &text(json::canonical_text(&reply.body, &|_, _| false).ok()),
    );
    if !page.is_undefined() && !page.is_null() {
        set(&o, "cors", &cors(&reply, &page, &replay_header)?);
    }
    set(
        &o,
        "retryAfterMs",
        &retry_after.map_or(JsValue::NULL, |ms| JsValue::from_f64(ms as f64)),
    );
    let messages = Messages::new(Locale::parse("en"));
    set(
        &o,
        "status",
        &status_object(&messages, shown, reason.as_deref()),
    );
    Ok(o.into())
}

/// Checks a request the way sendonce sends one: `method` (letters only, any case) and extra
/// `headers` as `[name, value]` pairs (names are HTTP tokens, values hold no control
/// characters, and the key header is sendonce's own). Returns the method upper case, the
/// default header names, the size limits and the request headers a CORS preflight must allow;
/// anything else throws a `SendonceError` (`invalid_option`).
#[wasm_bindgen(js_name = checkRequest, unchecked_return_type = "CheckedRequest")]
pub fn check_request_js(
    #[wasm_bindgen(unchecked_param_type = "string")] method: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Array<[string, string]>")] headers: JsValue,
) -> Result<JsValue, JsValue> {
    js(check_request(method, headers))
}

fn check_request(method: JsValue, headers: JsValue) -> Result<JsValue, SendonceError> {
    let method = http::method(&string_arg(&method, "method", 64)?)?;
    let headers = header_pairs(&headers)?;
    for (name, value) in &headers {
        if !http::is_header_name(name) {
            return Err(SendonceError::option(
                "headers",
                format!(
                    "{} is not a valid HTTP header name",
                    crate::core::text::quoted(name, '"')
                ),
            ));
        }
        if !http::is_header_value(value) {
            return Err(SendonceError::option(
                "headers",
                format!("the value of {name} holds a control character"),
            ));
        }
        if name.eq_ignore_ascii_case(DEFAULT_KEY_HEADER) {
            return Err(SendonceError::option(
                "headers",
                format!("{name} is sendonce's own: it makes the keys"),
            ));
        }
    }
    let mut names = Vec::new();
    let sent = Array::new();
    for (k, _) in &headers {
        names.push(k.clone());
    }
    let mut headers = headers;
    http::json_content_type(&mut headers);
    for (k, v) in &headers {
        sent.push(&Array::of2(&JsValue::from_str(k), &JsValue::from_str(v)));
    }
    let o = Object::new();
    set(&o, "method", &JsValue::from_str(&method));
    set(&o, "headers", &sent);
    set(&o, "headerName", &JsValue::from_str(DEFAULT_KEY_HEADER));
    set(
        &o,
        "replayHeader",
        &JsValue::from_str(DEFAULT_REPLAY_HEADER),
    );
    set(
        &o,
        "maxBodyBytes",
        &JsValue::from_f64(MAX_BODY_BYTES as f64),
    );
    set(
        &o,
        "maxPayloadBytes",
        &JsValue::from_f64(DEFAULT_MAX_PAYLOAD_BYTES as f64),
    );
    set(
        &o,
        "corsHeaders",
        &strings(&http::cors_request_headers(DEFAULT_KEY_HEADER, &names)),
    );
    Ok(o.into())
}

/// The CORS reading of `reply` for `page` (`{ origin, method, requestHeaders }`).
fn cors(reply: &Reply, page: &JsValue, replay_header: &str) -> Result<JsValue, SendonceError> {
    let page = options_object(page, "page")?;
    let origin = opt_string(&page, "origin")?
        .ok_or_else(|| SendonceError::option("page.origin", "must be a string"))?;
    let method = http::method(&opt_string(&page, "method")?.unwrap_or_default())?;
    let bad = || SendonceError::option("page.requestHeaders", "must be an array of header names");
    let list = get(&page, "requestHeaders");
    if !is_array(&list) {
        return Err(bad());
    }
    let list = Array::from(&list);
    if list.length() > MAX_HEADER_PAIRS {
        return Err(bad());
    }
    let mut wanted = Vec::new();
    for i in 0..list.length() {
        wanted.push(
            string_arg(&list.get(i), "page.requestHeaders", MAX_HEADER_CHARS).map_err(|_| bad())?,
        );
    }
    let c = http::read_cors(reply, &origin, &method, &wanted, replay_header);
    let o = Object::new();
    set(&o, "originAllowed", &JsValue::from_bool(c.origin_allowed));
    set(&o, "headersMissing", &strings(&c.headers_missing));
    set(&o, "methodAllowed", &JsValue::from_bool(c.method_allowed));
    set(&o, "notExposed", &strings(&c.not_exposed));
    // What sendonce in that page shows: the reply without the headers the page cannot read.
    let view = http::page_view(reply);
    let (shown, reason) = match classify_reply(&view, replay_header) {
        ReplyClass::Rejected { reason } => (StatusCode::Rejected, reason),
        class => (status_after(&class), None),
    };
    let messages = Messages::new(Locale::parse("en"));
    set(
        &o,
        "pageStatus",
        &status_object(&messages, shown, reason.as_deref()),
    );
    Ok(o.into())
}

fn strings(list: &[String]) -> JsValue {
    list.iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
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
