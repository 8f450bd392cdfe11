//! Transport: one HTTP attempt through `fetch` (the caller's, or `globalThis.fetch`), with a
//! per-attempt timeout that aborts the request (`AbortController`) and is raced with every
//! step, so it fires even when a fetch ignores its signal; reply headers and body are read
//! within the bounds of `core::reply`. The same URL, method, headers and body bytes
//! go out on every attempt: the request comes from the core, already complete. Nothing here
//! waits: [`send`] and [`get_url`] build the command the JS shell carries out
//! (`drive` in `js/platform.js`), and [`reply`] reads what it brought back.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{get, set};
use crate::core::record::StoredRequest;
use crate::core::reply::{
    truncation_note, HeaderBudget, Reply, MAX_BODY_BYTES, MAX_HEADERS, TRUNCATED_HEADER,
};
use crate::core::run::Failure;

/// The shell's command for one attempt (`drive` in `js/platform.js` carries it out with
/// `attempt`, which races the timeout with every step and reads at most the core's
/// limits); its result goes to [`reply`]. `form_data` (a form's multipart body, a `Blob`
/// written once with the action's boundary, whose `Content-Type` is among the request's
/// headers) is sent instead of the request's text body. A `FormData` is sent as it is, without
/// a `Content-Type`: the browser writes its boundary (a new one on every attempt). `cancel`
/// aborts the attempt (its fetch included) when it aborts: [`Failure::Aborted`].
pub fn send(
    fetch: &JsValue,
    request: &StoredRequest,
    form_data: Option<&JsValue>,
    timeout_ms: u64,
    cancel: Option<&web_sys::AbortSignal>,
) -> JsValue {
    let init = Object::new();
    if let Some(signal) = cancel {
        set(&init, "signal", signal);
    }
    set(&init, "method", &JsValue::from_str(&request.method));
    let headers = Object::new();
    let browser_boundary = form_data.is_some_and(|fd| get(fd, "append").is_function());
    for (k, v) in &request.headers {
        if browser_boundary && k.eq_ignore_ascii_case("content-type") {
            continue;
        }
        set(&headers, k, &JsValue::from_str(v));
    }
    set(&init, "headers", &headers);
    match (form_data, &request.body) {
        (Some(fd), _) => set(&init, "body", fd),
        (None, Some(body)) => set(&init, "body", &JsValue::from_str(body)),
        (None, None) => {}
    }
    command(fetch, &request.url, &init, timeout_ms)
}

/// The shell's command for a GET (job status polls); `cancel` as for [`send`].
pub fn get_url(
    fetch: &JsValue,
    url: &str,
    timeout_ms: u64,
    cancel: Option<&web_sys::AbortSignal>,
) -> JsValue {
    let init = Object::new();
    if let Some(signal) = cancel {
        set(&init, "signal", signal);
    }
    set(&init, "method", &JsValue::from_str("GET"));
    command(fetch, url, &init, timeout_ms)
}

/// `["fetch", fetch, url, init, timeoutMs, maxBody, maxHeaders]`.
fn command(fetch: &JsValue, url: &str, init: &Object, timeout_ms: u64) -> JsValue {
    super::command(
        "fetch",
        &[
            fetch.clone(),
            JsValue::from_str(url),
            init.into(),
            JsValue::from_f64(timeout_ms as f64),
            JsValue::from_f64(MAX_BODY_BYTES as f64),
            JsValue::from_f64((4 * MAX_HEADERS) as f64),
        ],
    )
}

/// What an attempt's command brought back (`{ status, headers, body, cut }` or
/// `{ failure }`), read within the core's bounds; the header budget is applied here, while
/// copying.
pub fn reply(done: &JsValue) -> Result<Reply, Failure> {
    if !done.is_object() {
        return Err(Failure::Network);
    }
    match get(done, "failure").as_string().as_deref() {
        Some("timeout") => return Err(Failure::Timeout),
        Some("aborted") => return Err(Failure::Aborted),
        Some(_) => return Err(Failure::Network),
        None => {}
    }
    let status = get(done, "status").as_f64().unwrap_or(0.0) as u16;
    let mut headers = Vec::new();
    let mut budget = HeaderBudget::default();
    let list: Array = get(done, "headers").dyn_into().unwrap_or_default();
    let mut i = 0;
    while i + 1 < list.length() {
        let (k, v) = (list.get(i), list.get(i + 1));
        i += 2;
        // Lengths first: a header is copied only once it is known to fit.
        let len = |s: &JsValue| s.unchecked_ref::<js_sys::JsString>().length() as usize;
        if k.is_string() && v.is_string() && budget.admit(len(&k), len(&v)) {
            if let (Some(k), Some(v)) = (k.as_string(), v.as_string()) {
                headers.push((k, v));
            }
        }
    }
    let mut body = get(done, "body").as_string().unwrap_or_default();
    let mut cut = get(done, "cut").as_bool().unwrap_or(false);
    if body.len() > MAX_BODY_BYTES {
        cut = true;
        let mut at = MAX_BODY_BYTES;
        while !body.is_char_boundary(at) {
            at -= 1;
        }
        body.truncate(at);
    }
    if let Some(note) = truncation_note(cut, budget.dropped) {
        headers.push((TRUNCATED_HEADER.to_string(), note));
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}
