//! Conversions between JS values and core types, and core errors as JS `Error`s.

use js_sys::{Function, Object};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::error::SendonceError;
use crate::core::json::{self, Value};
use crate::core::reply::Reply;
use crate::core::status::{Messages, StatusCode};
use crate::platform::{get, set};

/// A core error as a real JS `Error` with `name = "SendonceError"` and a stable `code`, an
/// instance of the package's exported `SendonceError` class.
pub fn js_error(e: &SendonceError) -> JsValue {
    super::error::to_js(e)
}

/// `Result<T, SendonceError>` -> `Result<T, JsValue>`.
pub fn js<T>(r: Result<T, SendonceError>) -> Result<T, JsValue> {
    r.map_err(|e| js_error(&e))
}

/// A JS value (anything `JSON.stringify` accepts) as a core JSON value. Functions and
/// `undefined` members vanish and `toJSON` applies, exactly as in `JSON.stringify`.
pub fn to_value(v: &JsValue, what: &str) -> Result<Value, SendonceError> {
    to_json(v, what).map(|(value, _)| value)
}

/// [`to_value`], with the `JSON.stringify` text it was read from (a request body as a
/// hand-written `fetch` would send it, without writing the value out again).
pub fn to_json(v: &JsValue, what: &str) -> Result<(Value, String), SendonceError> {
    if v.is_undefined() {
        return Ok((Value::Null, "null".into()));
    }
    let text = js_sys::JSON::stringify(v)
        .map_err(|e| {
            SendonceError::InvalidPayload(format!(
                "{what} cannot be written as JSON ({})",
                crate::platform::storage::describe(&e)
            ))
        })?
        .as_string()
        .unwrap_or_else(|| "null".into());
    Ok((json::parse(&text)?, text))
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

// Optional trailing parameters with precise TypeScript types: wasm-bindgen writes an
// `Option<T>` of an imported type as `name?: T | null`, where `unchecked_param_type` would
// make the parameter required. The values are checked at run time like any other input.
#[wasm_bindgen]
extern "C" {
    /// `SendonceOptions`, optional.
    #[wasm_bindgen(typescript_type = "SendonceOptions")]
    pub type OptionsArg;
    /// A JSON object of extra fields, optional.
    #[wasm_bindgen(typescript_type = "Record<string, unknown>")]
    pub type ExtraArg;
    /// A streamed-reply callback, optional.
    #[wasm_bindgen(typescript_type = "((chunk: ReplyChunk) => void)")]
    pub type OnChunkArg;
}

/// The value of an optional parameter, `undefined` when it was left out.
pub fn arg<T: Into<JsValue>>(v: Option<T>) -> JsValue {
    v.map_or(JsValue::UNDEFINED, Into::into)
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

/// `{ code, text }` for a status.
pub fn status_object(messages: &Messages, code: StatusCode, reason: Option<&str>) -> JsValue {
    let o = Object::new();
    set(&o, "code", &JsValue::from_str(code.as_str()));
    set(&o, "text", &JsValue::from_str(&messages.text(code, reason)));
    o.into()
}

/// The reply object `send()` resolves with.
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
    set(&o, "attempts", &JsValue::from_f64(attempts as f64));
    set(&o, "key", &JsValue::from_str(key));
    o.into()
}

/// Headers from a `HeadersInit`-like value: a plain object, an array of pairs, or a `Headers`.
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
    let iterable = js_sys::Array::is_array(v)
        || get(v, "entries").is_function() && !v.has_type::<Object>()
        || get(v, "forEach").is_function();
    if iterable {
        if let Ok(Some(iter)) = js_sys::try_iter(v) {
            for pair in iter.flatten() {
                let k = js_sys::Reflect::get_u32(&pair, 0)
                    .ok()
                    .and_then(|x| x.as_string())
                    .ok_or_else(bad)?;
                let val = js_sys::Reflect::get_u32(&pair, 1)
                    .ok()
                    .and_then(|x| x.as_string())
                    .ok_or_else(bad)?;
                out.push((k, val));
            }
            return Ok(out);
        }
    }
    if !v.is_object() {
        return Err(bad());
    }
    for entry in Object::entries(v.unchecked_ref()).iter() {
        let k = js_sys::Reflect::get_u32(&entry, 0)
            .ok()
            .and_then(|x| x.as_string())
            .ok_or_else(bad)?;
        let val = js_sys::Reflect::get_u32(&entry, 1)
            .ok()
            .and_then(|x| x.as_string())
            .ok_or_else(bad)?;
        out.push((k, val));
    }
    Ok(out)
}
