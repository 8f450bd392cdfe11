//! The reply stream: one GET of a server-sent-events URL through `fetch` with a streamed body
//! (works in pages and in Node >= 20, where `EventSource` does not exist), read piece by
//! piece into the core's [`SseParser`]. Reconnecting, and what to do with events, is the
//! caller's: this reads one connection until `event: done` or until it breaks.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{get, global, set, storage::describe};
use crate::core::chat::{SseEvent, SseParser};
use crate::core::error::SendonceError;

/// How one connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The server sent `event: done`: the reply is complete.
    Done,
    /// The connection broke or ended without `done`: reconnect with `Last-Event-ID`.
    Dropped,
}

/// Reads one connection of the stream at `url`, sending `Last-Event-ID` when the parser has
/// one, and hands every event but `done` to `on_event`. `Err` is an answer that is not a
/// stream, where reconnecting would not help: an HTTP error status (`http_error`), a reply
/// without a readable body (`network`), or no `fetch` at all (`invalid_option`, the `fetch`
/// option). Never a bad-input code for what the server or the network did.
pub async fn read_once(
    fetch: &JsValue,
    url: &str,
    parser: &mut SseParser,
    on_event: &mut dyn FnMut(&SseEvent),
) -> Result<StreamEnd, SendonceError> {
    let init = Object::new();
    set(&init, "method", &JsValue::from_str("GET"));
    set(&init, "cache", &JsValue::from_str("no-store"));
    let headers = Object::new();
    set(&headers, "Accept", &JsValue::from_str("text/event-stream"));
    if let Some(id) = parser.last_id() {
        set(&headers, "Last-Event-ID", &JsValue::from_str(id));
    }
    set(&init, "headers", &headers);
    let f: Function =
        if fetch.is_function() {
            fetch.clone().unchecked_into()
        } else {
            match get(&global(), "fetch").dyn_into() {
                Ok(f) => f,
                Err(_) => return Err(SendonceError::option(
                    "fetch",
                    "there is no fetch() here to read the reply stream: pass one in the options",
                )),
            }
        };
    let called = match super::invoke(&f, &JsValue::NULL, &[&JsValue::from_str(url), &init]) {
        Ok(p) => p,
        Err(_) => return Ok(StreamEnd::Dropped),
    };
    let response = match JsFuture::from(Promise::resolve(&called)).await {
        Ok(r) => r,
        Err(_) => return Ok(StreamEnd::Dropped),
    };
    let status = get(&response, "status").as_f64().unwrap_or(0.0) as u16;
    if status >= 500 || status == 429 || status == 408 {
        return Ok(StreamEnd::Dropped);
    }
    if !(200..300).contains(&status) {
        return Err(SendonceError::Http {
            what: "the reply stream".into(),
            status,
        });
    }
    let body = get(&response, "body");
    let reader = match call0(&body, "getReader") {
        Some(r) => r,
        None => {
            return Err(SendonceError::Network(
                "the reply stream has no readable body".into(),
            ))
        }
    };
    let decoder = new_text_decoder()
        .ok_or_else(|| SendonceError::Network("there is no TextDecoder here".into()))?;
    let stream_opt = Object::new();
    set(&stream_opt, "stream", &JsValue::TRUE);
    loop {
        let chunk = match call0(&reader, "read") {
            Some(p) => JsFuture::from(Promise::resolve(&p)).await,
            None => return Ok(StreamEnd::Dropped),
        };
        let Ok(chunk) = chunk else {
            parser.reset_partial();
            return Ok(StreamEnd::Dropped);
        };
        if get(&chunk, "done").as_bool().unwrap_or(true) {
            parser.reset_partial();
            return Ok(StreamEnd::Dropped);
        }
        let text = get(&decoder, "decode")
            .dyn_into::<Function>()
            .ok()
            .and_then(|d| super::invoke(&d, &decoder, &[&get(&chunk, "value"), &stream_opt]).ok())
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        for event in parser.push(&text) {
            if event.event == "done" {
                let _ = call0(&reader, "cancel");
                return Ok(StreamEnd::Done);
            }
            on_event(&event);
        }
    }
}

/// `obj[name]()`, `None` when it is missing or throws.
fn call0(obj: &JsValue, name: &str) -> Option<JsValue> {
    let f: Function = get(obj, name).dyn_into().ok()?;
    super::invoke(&f, obj, &[]).ok()
}

/// A `new TextDecoder()` (UTF-8, byte order mark dropped, bad bytes replaced, as
/// `Response.text()` decodes).
pub(crate) fn new_text_decoder() -> Option<JsValue> {
    let ctor: Function = get(&global(), "TextDecoder").dyn_into().ok()?;
    Reflect::construct(&ctor, &Array::new())
        .map_err(|e| describe(&e))
        .ok()
}
