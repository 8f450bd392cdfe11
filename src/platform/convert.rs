//! Conversions between JS values and core types, and core errors as JS `Error`s: the one
//! place that knows the shapes of the JS values sendonce reads and gives back. A leaf under
//! the drivers and the bindings, so that both use it and neither imports the other's.

use js_sys::{Function, Object};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::error::SendonceError;
use crate::core::json::{self, Value};
use crate::core::reply::Reply;
use crate::core::status::{Messages, StatusCode};
use crate::platform::{get, set};

// The JS class of sendonce's errors. It is defined in JS (`js/error.js`) so that the package
// entry can export the very class the wasm throws: `err instanceof SendonceError` works.
#[wasm_bindgen(module = "/js/error.js")]
extern "C" {
    #[wasm_bindgen(js_name = SendonceError, extends = js_sys::Error)]
    type JsSendonceError;

    #[wasm_bindgen(constructor, js_class = "SendonceError")]
    fn new(code: &str, message: &str) -> JsSendonceError;
}

/// A core error as a real JS `Error` with `name = "SendonceError"` and a stable `code`, an
/// instance of the package's exported `SendonceError` class (`name`, `code`, `message`).
pub fn js_error(e: &SendonceError) -> JsValue {
    JsSendonceError::new(e.code(), &e.to_string()).into()
}

/// `Result<T, SendonceError>` -> `Result<T, JsValue>`.
pub fn js<T>(r: Result<T, SendonceError>) -> Result<T, JsValue> {
    r.map_err(|e| js_error(&e))
}

/// A JS payload as a core JSON value; see [`to_json`].
pub fn to_value(v: &JsValue, what: &str, max_bytes: usize) -> Result<Value, SendonceError> {
    to_json(v, what, max_bytes).map(|(value, _)| value)
}

/// A JS payload as its JSON text, checked as [`to_json`] checks it, without the tree (an
/// action needs only the text and its fingerprint, `core::fingerprint::fingerprint_json`).
pub fn payload_text(v: &JsValue, what: &str, max_bytes: usize) -> Result<String, SendonceError> {
    if v.is_undefined() {
        return Ok("null".into());
    }
    let text = payload_json(v, max_bytes as f64).map_err(|e| stringify_failed(what, &e))?;
    if !text.is_string() {
        return Err(payload_failure(&text, what, max_bytes));
    }
    // UTF-8 takes at least one byte per UTF-16 unit: check before copying the text.
    let units = text.unchecked_ref::<js_sys::JsString>().length() as usize;
    json::check_payload_size(units, max_bytes)?;
    let text = text.as_string().unwrap_or_else(|| "null".into());
    json::check_payload_size(text.len(), max_bytes)?;
    Ok(text)
}

/// A JS payload as a core JSON value, with the `JSON.stringify` text it was read from (a
/// request body as a hand-written `fetch` would send it).
///
/// Strict where `JSON.stringify` is silent, so that two different payloads never become the
/// same bytes: a Map, Set, typed array, function, symbol, BigInt, NaN or Infinity, a string
/// with a lone surrogate, a cycle or nesting deeper than [`json::MAX_DEPTH`] is an
/// `invalid_payload` error naming its JSON path (`$.items[2].price`). `toJSON` applies (a
/// `Date` becomes its ISO text) and `undefined` members are left out, as in `JSON.stringify`.
/// A payload over `max_bytes` of JSON is `payload_too_large`, found while walking it, before
/// any of it is copied into wasm.
///
/// The walk is `js/payload.js`: one call across the boundary for the whole payload, where a
/// walk from here crossed it for every key, item and type check (BENCHMARKS.md, issue 14). It
/// writes the text or says where and why it stopped; the errors are made here.
pub fn to_json(
    v: &JsValue,
    what: &str,
    max_bytes: usize,
) -> Result<(Value, String), SendonceError> {
    let text = payload_text(v, what, max_bytes)?;
    Ok((json::parse(&text)?, text))
}

#[wasm_bindgen(module = "/js/payload.js")]
extern "C" {
    /// The payload as JSON text, or a failure object; see `js/payload.js`. It catches what
    /// the page's code throws; `catch` is for anything else (it must not run through wasm).
    #[wasm_bindgen(catch, js_name = payloadJson)]
    fn payload_json(value: &JsValue, max: f64) -> Result<JsValue, JsValue>;
    /// True when a string has no lone surrogate; see `js/payload.js`.
    #[wasm_bindgen(js_name = wellFormed)]
    fn well_formed(s: &js_sys::JsString) -> bool;
}

fn stringify_failed(what: &str, e: &JsValue) -> SendonceError {
    SendonceError::InvalidPayload(format!(
        "{what} cannot be written as JSON ({})",
        crate::platform::storage::describe(e)
    ))
}

/// The error for a failure object of `payloadJson`: `{ reason, path, kind?, error?, size? }`.
fn payload_failure(f: &JsValue, what: &str, max_bytes: usize) -> SendonceError {
    let reason = get(f, "reason").as_string().unwrap_or_default();
    let error = get(f, "error");
    let kind = get(f, "kind").as_string().unwrap_or_default();
    let threw = |doing: &str| {
        format!(
            "{doing} threw {}",
            crate::platform::storage::describe(&error)
        )
    };
    let (found, why): (&str, String) = match reason.as_str() {
        "too_large" => {
            let size = get(f, "size").as_f64().unwrap_or(0.0);
            return SendonceError::PayloadTooLarge {
                size: size as u64,
                limit: max_bytes as u64,
            };
        }
        "stringify" => return stringify_failed(what, &error),
        "deep" => (
            "nesting deeper than 64",
            "flatten the payload (deeper JSON is refused)".into(),
        ),
        "surrogate" => (
            "a string with a lone surrogate",
            "it is not valid Unicode and would be sent as U+FFFD (two different strings, the same bytes)".into(),
        ),
        "number" => (
            "NaN or Infinity",
            "JSON has no such number (JSON.stringify would send null)".into(),
        ),
        "bigint" => ("a BigInt", "JSON has no BigInt; send it as a string".into()),
        "symbol" => ("a symbol", "a symbol is not data".into()),
        "function" => ("a function", "a function is not data".into()),
        "boxed" => ("a boxed value", "it does not unbox".into()),
        "cycle" => ("a cycle", "the value contains itself".into()),
        "property" => ("a property", threw("reading it")),
        "to_json" => ("a toJSON()", threw("reading it")),
        "item" => ("an item", threw("reading it")),
        "member" => ("a member", threw("reading it")),
        "keys" => ("an object", threw("listing its keys")),
        "refused" | "typed" => {
            let why = if reason == "refused" {
                "JSON.stringify would send it as {} or lose it; send a plain object or array"
            } else {
                "JSON.stringify would send it as an object of indices; send an array"
            };
            return invalid(what, &format!("a {kind}"), f, why);
        }
        _ => ("a value of an unknown type", "it is not JSON".into()),
    };
    invalid(what, found, f, &why)
}

/// `invalid_payload`: "`what` has `found` at `$.path`: `why`".
fn invalid(what: &str, found: &str, failure: &JsValue, why: &str) -> SendonceError {
    let mut path = String::from("$");
    let steps = get(failure, "path");
    if is_array(&steps) {
        for step in steps.unchecked_ref::<js_sys::Array>().iter() {
            match step.as_f64() {
                Some(i) => json::push_path_index(&mut path, i as u32),
                None => json::push_path_member(&mut path, &step.as_string().unwrap_or_default()),
            }
        }
    }
    SendonceError::InvalidPayload(format!("{what} has {found} at {path}: {why}"))
}

/// A required string argument of at most `max_chars` UTF-16 units, checked before it is
/// copied into wasm (a huge or non-string value is a clear error, never a trap or a copy of
/// megabytes). Lone surrogates are refused: they would silently become U+FFFD.
pub fn string_arg(v: &JsValue, name: &str, max_chars: u32) -> Result<String, SendonceError> {
    if !v.is_string() {
        return Err(SendonceError::option(name, "must be a string"));
    }
    let js: &js_sys::JsString = v.unchecked_ref();
    if js.length() > max_chars {
        return Err(SendonceError::option(
            name,
            format!("must be at most {max_chars} characters"),
        ));
    }
    // One call for the whole string (`JsString::is_valid_utf16` crosses into JS once per
    // UTF-16 unit: a URL of 60,000 characters was 60,000 calls on every send).
    if !well_formed(js) {
        return Err(SendonceError::option(
            name,
            "must be valid Unicode (it has a lone surrogate)",
        ));
    }
    Ok(js.as_string().unwrap_or_default())
}

/// A core JSON value as a JS value.
pub fn from_value(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_json()).unwrap_or(JsValue::NULL)
}

/// An optional string option; a non-string is a clear error naming the option.
pub fn opt_string(obj: &JsValue, name: &str) -> Result<Option<String>, SendonceError> {
    let v = get(obj, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| SendonceError::option(name, "must be a string"))
}

/// An optional non-negative number option.
pub fn opt_number(obj: &JsValue, name: &str) -> Result<Option<f64>, SendonceError> {
    let v = get(obj, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(SendonceError::option(name, "must be a finite number >= 0")),
    }
}

/// An optional boolean option.
pub fn opt_bool(obj: &JsValue, name: &str) -> Result<Option<bool>, SendonceError> {
    let v = get(obj, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| SendonceError::option(name, "must be true or false"))
}

/// An optional function option.
pub fn opt_function(obj: &JsValue, name: &str) -> Result<Option<Function>, SendonceError> {
    callback(get(obj, name), name)
}

/// A callback parameter: absent, or a function (anything else is a clear error).
pub fn callback(v: JsValue, name: &str) -> Result<Option<Function>, SendonceError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| SendonceError::option(name, "must be a function"))
}

/// A callback that must be there: a function, anything else is a clear error.
pub fn required_callback(v: JsValue, name: &str) -> Result<Function, SendonceError> {
    callback(v, name)?.ok_or_else(|| SendonceError::option(name, "must be a function"))
}

/// Longest URL accepted, in characters (browsers and servers refuse far shorter ones).
pub const MAX_URL_CHARS: u32 = 65_536;

/// A URL argument: a non-empty string, or a `URL` object (its `href`).
pub fn url_arg(v: &JsValue) -> Result<String, SendonceError> {
    let href = if v.is_object() {
        get(v, "href")
    } else {
        v.clone()
    };
    let url = string_arg(&href, "url", MAX_URL_CHARS)
        .map_err(|_| SendonceError::option("url", "must be a string or a URL"))?;
    if url.is_empty() {
        return Err(SendonceError::option("url", "must not be empty"));
    }
    crate::core::url::check_url(&url, "url")?;
    Ok(url)
}

/// `Object.entries(v)`, as a clear error naming `name` when it throws (a getter or a proxy
/// that throws): js-sys's binding would let the exception run through the wasm.
pub fn entries(v: &JsValue, name: &str) -> Result<js_sys::Array, SendonceError> {
    let f = get(&get(&crate::platform::global(), "Object"), "entries");
    let f: Function = f
        .dyn_into()
        .map_err(|_| SendonceError::option(name, "cannot be read here"))?;
    super::invoke(&f, &JsValue::NULL, &[v])
        .map(|a| a.unchecked_into())
        .map_err(|e| {
            SendonceError::option(
                name,
                format!(
                    "reading it threw {}",
                    crate::platform::storage::describe(&e)
                ),
            )
        })
}

/// `Array.isArray(v)`; false where it throws (a revoked proxy) instead of letting the
/// exception run through the wasm.
pub fn is_array(v: &JsValue) -> bool {
    get(&get(&crate::platform::global(), "Array"), "isArray")
        .dyn_into::<Function>()
        .ok()
        .and_then(|f| super::invoke(&f, &JsValue::NULL, &[v]).ok())
        .and_then(|b| b.as_bool())
        .unwrap_or(false)
}

/// Checks that an options argument is an object (or absent).
pub fn options_object(v: &JsValue, what: &str) -> Result<JsValue, SendonceError> {
    if v.is_undefined() || v.is_null() {
        return Ok(Object::new().into());
    }
    if v.is_object() && !v.is_function() {
        Ok(v.clone())
    } else {
        Err(SendonceError::option(what, "must be an object"))
    }
}

/// `{ code, text, underWay, final }` for a status: what the code means comes with it
/// (`StatusCode::is_under_way`, `StatusCode::is_final`), so that no layer above (the React
/// hooks, the htmx extension, a page) keeps its own list of codes.
pub fn status_object(messages: &Messages, code: StatusCode, reason: Option<&str>) -> JsValue {
    let o = Object::new();
    set(&o, "code", &JsValue::from_str(code.as_str()));
    set(&o, "text", &JsValue::from_str(&messages.text(code, reason)));
    set(&o, "underWay", &JsValue::from_bool(code.is_under_way()));
    set(&o, "final", &JsValue::from_bool(code.is_final()));
    o.into()
}

/// The reply object `send()` resolves with; `confirmed` says whether its outcome confirms
/// that the server has the action (`StatusCode::is_confirmed`).
pub fn reply_object(
    reply: Option<&Reply>,
    code: StatusCode,
    replayed: bool,
    attempts: u32,
    key: &str,
) -> JsValue {
    let o = Object::new();
    let headers = Object::new();
    let (status, body) = match reply {
        Some(r) => {
            for (k, v) in &r.headers {
                set(&headers, &k.to_ascii_lowercase(), &JsValue::from_str(v));
            }
            let body = match r.json() {
                Some(v) => from_value(&v),
                None if r.body.is_empty() => JsValue::NULL,
                None => JsValue::from_str(&r.body),
            };
            (r.status, body)
        }
        None => (0, JsValue::NULL),
    };
    set(&o, "status", &JsValue::from_f64(status as f64));
    set(&o, "headers", &headers);
    set(&o, "body", &body);
    set(&o, "replayed", &JsValue::from_bool(replayed));
    set(&o, "outcome", &JsValue::from_str(code.as_str()));
    set(&o, "confirmed", &JsValue::from_bool(code.is_confirmed()));
    set(&o, "attempts", &JsValue::from_f64(attempts as f64));
    set(&o, "key", &JsValue::from_str(key));
    o.into()
}

/// Most request headers accepted in `send(url, { headers })`.
pub const MAX_REQUEST_HEADERS: usize = 100;

/// Headers from a `HeadersInit`-like value: a plain object, an array of pairs, or a `Headers`
/// (at most [`MAX_REQUEST_HEADERS`]).
pub fn headers_list(v: &JsValue) -> Result<Vec<(String, String)>, SendonceError> {
    let mut out = Vec::new();
    if v.is_undefined() || v.is_null() {
        return Ok(out);
    }
    let bad = || {
        SendonceError::option(
            "headers",
            "must be an object of strings, an array of pairs or a Headers",
        )
    };
    let too_many =
        || SendonceError::option("headers", format!("at most {MAX_REQUEST_HEADERS} headers"));
    let iterable = is_array(v)
        || get(v, "entries").is_function() && !v.has_type::<Object>()
        || get(v, "forEach").is_function();
    if iterable {
        if let Ok(Some(iter)) = js_sys::try_iter(v) {
            for pair in iter.flatten() {
                // An endless iterable would fill the memory: request headers are few.
                if out.len() >= MAX_REQUEST_HEADERS {
                    return Err(too_many());
                }
                let k = get(&pair, "0").as_string().ok_or_else(bad)?;
                let val = get(&pair, "1").as_string().ok_or_else(bad)?;
                out.push((k, val));
            }
            return Ok(out);
        }
    }
    if !v.is_object() {
        return Err(bad());
    }
    let entries = entries(v, "headers")?;
    if entries.length() as usize > MAX_REQUEST_HEADERS {
        return Err(too_many());
    }
    for entry in entries.iter() {
        let k = get(&entry, "0").as_string().ok_or_else(bad)?;
        let val = get(&entry, "1").as_string().ok_or_else(bad)?;
        out.push((k, val));
    }
    Ok(out)
}
