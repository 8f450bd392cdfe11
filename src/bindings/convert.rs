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

/// A JS payload as a core JSON value; see [`to_json`].
pub fn to_value(v: &JsValue, what: &str, max_bytes: usize) -> Result<Value, SendonceError> {
    to_json(v, what, max_bytes).map(|(value, _)| value)
}

/// A JS payload as a core JSON value, with the `JSON.stringify` text it was read from (a
/// request body as a hand-written `fetch` would send it).
///
/// Strict where `JSON.stringify` is silent, so that two different payloads never become the
/// same bytes: a Map, Set, typed array, function, symbol, BigInt, NaN or Infinity, a string
/// with a lone surrogate, a cycle or nesting deeper than [`json::MAX_DEPTH`] is an
/// `invalid_payload` error naming its JSON path (`$.items[2].price`). `toJSON` applies (a
/// `Date` becomes its ISO text) and `undefined` members are left out, as in `JSON.stringify`.
/// A payload over `max_bytes` of JSON is `payload_too_large`, found while walking it (a lower
/// bound of its size), before any text is made from it.
pub fn to_json(
    v: &JsValue,
    what: &str,
    max_bytes: usize,
) -> Result<(Value, String), SendonceError> {
    if v.is_undefined() {
        return Ok((Value::Null, "null".into()));
    }
    let mut walk = Walk::new(what, max_bytes);
    walk.value(v, &JsValue::from_str(""), 0, true)?;
    let text = js_sys::JSON::stringify(v).map_err(|e| {
        SendonceError::InvalidPayload(format!(
            "{what} cannot be written as JSON ({})",
            crate::platform::storage::describe(&e)
        ))
    })?;
    // UTF-8 takes at least one byte per UTF-16 unit: check before copying the text.
    json::check_payload_size(text.length() as usize, max_bytes)?;
    let text = text.as_string().unwrap_or_else(|| "null".into());
    json::check_payload_size(text.len(), max_bytes)?;
    Ok((json::parse(&text)?, text))
}

/// One step of a JSON path, kept as JS values until an error needs the path written out.
enum Step {
    Member(JsValue),
    Index(u32),
}

/// The strict walk of [`to_json`] over a JS value: checks types, cycles, depth and a lower
/// bound of the JSON size, without copying anything into wasm.
struct Walk<'a> {
    what: &'a str,
    max_bytes: usize,
    /// JSON bytes counted so far (a lower bound).
    size: usize,
    /// The objects and arrays around the current value (cycle detection).
    ancestors: Vec<JsValue>,
    path: Vec<Step>,
    object_keys: Option<Function>,
    to_string_tag: Option<Function>,
    is_array: Option<Function>,
    is_well_formed: Option<Function>,
}

impl<'a> Walk<'a> {
    fn new(what: &'a str, max_bytes: usize) -> Self {
        let global = crate::platform::global();
        let object = get(&global, "Object");
        let prototype = |ctor: &str| get(&get(&global, ctor), "prototype");
        let function = |v: JsValue| v.dyn_into::<Function>().ok();
        Walk {
            what,
            max_bytes,
            size: 0,
            ancestors: Vec::new(),
            path: Vec::new(),
            object_keys: function(get(&object, "keys")),
            to_string_tag: function(get(&prototype("Object"), "toString")),
            is_array: function(get(&get(&global, "Array"), "isArray")),
            is_well_formed: function(get(&prototype("String"), "isWellFormed")),
        }
    }

    /// The JSON path of the current value, written out.
    fn path(&self) -> String {
        let mut p = String::from("$");
        for step in &self.path {
            match step {
                Step::Member(k) => {
                    json::push_path_member(&mut p, &k.as_string().unwrap_or_default())
                }
                Step::Index(i) => json::push_path_index(&mut p, *i),
            }
        }
        p
    }

    fn invalid(&self, found: &str, why: &str) -> SendonceError {
        SendonceError::InvalidPayload(format!(
            "{} has {found} at {}: {why}",
            self.what,
            self.path()
        ))
    }

    /// [`Walk::invalid`] for a JS operation on the payload that threw `e` (a getter, a proxy).
    fn threw(&self, found: &str, doing: &str, e: &JsValue) -> SendonceError {
        self.invalid(
            found,
            &format!("{doing} threw {}", crate::platform::storage::describe(e)),
        )
    }

    fn add(&mut self, bytes: usize) -> Result<(), SendonceError> {
        self.size = self.size.saturating_add(bytes);
        json::check_payload_size(self.size, self.max_bytes)
    }

    fn string(&mut self, s: &JsValue) -> Result<(), SendonceError> {
        let js: &js_sys::JsString = s.unchecked_ref();
        self.add(js.length() as usize + 2)?;
        let well_formed = match &self.is_well_formed {
            Some(f) => f.call0(s).ok().and_then(|r| r.as_bool()).unwrap_or(false),
            None => js.is_valid_utf16(),
        };
        if !well_formed {
            return Err(self.invalid(
                "a string with a lone surrogate",
                "it is not valid Unicode and would be sent as U+FFFD (two different strings, the same bytes)",
            ));
        }
        Ok(())
    }

    /// Checks `v`, found under `key` ("" at the top), `depth` containers deep.
    fn value(
        &mut self,
        v: &JsValue,
        key: &JsValue,
        depth: usize,
        to_json: bool,
    ) -> Result<(), SendonceError> {
        if depth >= json::MAX_DEPTH {
            return Err(self.invalid(
                "nesting deeper than 64",
                "flatten the payload (deeper JSON is refused)",
            ));
        }
        if v.is_null() || v.is_undefined() {
            return self.add(4);
        }
        if v.is_string() {
            return self.string(v);
        }
        if let Some(n) = v.as_f64() {
            if !n.is_finite() {
                return Err(self.invalid(
                    "NaN or Infinity",
                    "JSON has no such number (JSON.stringify would send null)",
                ));
            }
            return self.add(1);
        }
        if v.as_bool().is_some() {
            return self.add(4);
        }
        if v.is_bigint() {
            return Err(self.invalid("a BigInt", "JSON has no BigInt; send it as a string"));
        }
        if v.is_symbol() {
            return Err(self.invalid("a symbol", "a symbol is not data"));
        }
        if v.is_function() {
            return Err(self.invalid("a function", "a function is not data"));
        }
        if !v.is_object() {
            return Err(self.invalid("a value of an unknown type", "it is not JSON"));
        }
        if to_json {
            let f = js_sys::Reflect::get(v, &JsValue::from_str("toJSON"))
                .map_err(|e| self.threw("a property", "reading it", &e))?;
            if let Ok(f) = f.dyn_into::<Function>() {
                let replaced = f
                    .call1(v, key)
                    .map_err(|e| self.threw("a toJSON()", "reading it", &e))?;
                return self.value(&replaced, key, depth, false);
            }
        }
        let tag = self
            .to_string_tag
            .as_ref()
            .and_then(|f| f.call0(v).ok())
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        let kind = tag
            .strip_prefix("[object ")
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or("Object");
        match kind {
            // Boxed primitives: JSON.stringify unboxes them.
            "Number" | "String" | "Boolean" => {
                let value_of = js_sys::Reflect::get(v, &JsValue::from_str("valueOf"))
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok())
                    .and_then(|f| f.call0(v).ok())
                    .unwrap_or(JsValue::NULL);
                if value_of.is_object() {
                    return Err(self.invalid("a boxed value", "it does not unbox"));
                }
                return self.value(&value_of, key, depth, false);
            }
            "Map" | "Set" | "WeakMap" | "WeakSet" | "WeakRef" | "ArrayBuffer"
            | "SharedArrayBuffer" | "DataView" | "Promise" | "RegExp" | "Error" | "Symbol"
            | "BigInt" | "Blob" | "File" | "FormData" | "URLSearchParams" | "Headers"
            | "Request" | "Response" => {
                return Err(self.invalid(
                    &format!("a {kind}"),
                    "JSON.stringify would send it as {} or lose it; send a plain object or array",
                ));
            }
            k if k.ends_with("Array") && k != "Array" => {
                return Err(self.invalid(
                    &format!("a {k}"),
                    "JSON.stringify would send it as an object of indices; send an array",
                ));
            }
            _ => {}
        }
        if self.ancestors.iter().any(|a| a == v) {
            return Err(self.invalid("a cycle", "the value contains itself"));
        }
        let is_array = self
            .is_array
            .as_ref()
            .and_then(|f| f.call1(&JsValue::NULL, v).ok())
            .and_then(|b| b.as_bool())
            .unwrap_or(false);
        self.ancestors.push(v.clone());
        let result = if is_array {
            self.array(v, depth)
        } else {
            self.object(v, depth)
        };
        self.ancestors.pop();
        result
    }

    fn array(&mut self, v: &JsValue, depth: usize) -> Result<(), SendonceError> {
        let len = get(v, "length").as_f64().unwrap_or(0.0);
        // Each item takes at least one byte and a comma: refuse a huge length before looking.
        self.add(2)?;
        if len > self.max_bytes as f64 {
            return Err(SendonceError::PayloadTooLarge {
                size: len as u64,
                limit: self.max_bytes as u64,
            });
        }
        for i in 0..len as u32 {
            let item = js_sys::Reflect::get_u32(v, i);
            self.path.push(Step::Index(i));
            let r = match item {
                Ok(item) => {
                    let key = JsValue::from_str(&i.to_string());
                    self.add(1)
                        .and_then(|_| self.value(&item, &key, depth + 1, true))
                }
                Err(e) => Err(self.threw("an item", "reading it", &e)),
            };
            self.path.pop();
            r?;
        }
        Ok(())
    }

    fn object(&mut self, v: &JsValue, depth: usize) -> Result<(), SendonceError> {
        self.add(2)?;
        let keys = match self
            .object_keys
            .as_ref()
            .map(|f| f.call1(&JsValue::NULL, v))
        {
            Some(Ok(keys)) => keys.unchecked_into::<js_sys::Array>(),
            Some(Err(e)) => return Err(self.threw("an object", "listing its keys", &e)),
            None => js_sys::Array::new(),
        };
        for key in keys.iter() {
            let item = js_sys::Reflect::get(v, &key);
            self.path.push(Step::Member(key.clone()));
            let r = match item {
                // Left out, as JSON.stringify does.
                Ok(item) if item.is_undefined() => Ok(()),
                Ok(item) => self
                    .string(&key)
                    .and_then(|_| self.add(2))
                    .and_then(|_| self.value(&item, &key, depth + 1, true)),
                Err(e) => Err(self.threw("a member", "reading it", &e)),
            };
            self.path.pop();
            r?;
        }
        Ok(())
    }
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
    if !js.is_valid_utf16() {
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
    Ok(url)
}

/// `Object.entries(v)`, as a clear error naming `name` when it throws (a getter or a proxy
/// that throws): js-sys's binding would let the exception run through the wasm.
pub fn entries(v: &JsValue, name: &str) -> Result<js_sys::Array, SendonceError> {
    let f = get(&get(&crate::platform::global(), "Object"), "entries");
    let f: Function = f
        .dyn_into()
        .map_err(|_| SendonceError::option(name, "cannot be read here"))?;
    f.call1(&JsValue::NULL, v)
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
        .and_then(|f| f.call1(&JsValue::NULL, v).ok())
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
    let entries = entries(v, "headers")?;
    if entries.length() as usize > MAX_REQUEST_HEADERS {
        return Err(too_many());
    }
    for entry in entries.iter() {
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
