//! Reading request bodies: JSON, or an HTML form's urlencoded fields turned into a JSON
//! object; 415 for any other media type, 400 for a body that does not parse.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::problem::{bad_body, problem};

/// The media types a body may have, as listed in a 415 answer's `Accept-Post`.
pub const ACCEPTED_TYPES: &str = "application/json, application/x-www-form-urlencoded";

/// How a body is to be read, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json`, any `+json` type, or no `Content-Type` at all (a script that
    /// forgot it still sends JSON).
    Json,
    /// `application/x-www-form-urlencoded`: an HTML form.
    Form,
}

/// The kind of body a `Content-Type` announces, or `None` for one this server does not take
/// (`text/plain`, `multipart/form-data`, ...).
///
/// ```
/// use sendonce_server::api::body::{body_kind, BodyKind};
/// assert_eq!(body_kind(Some("application/json; charset=utf-8")), Some(BodyKind::Json));
/// assert_eq!(body_kind(Some("application/problem+json")), Some(BodyKind::Json));
/// assert_eq!(body_kind(None), Some(BodyKind::Json));
/// assert_eq!(body_kind(Some("text/plain;charset=UTF-8")), None);
/// ```
pub fn body_kind(content_type: Option<&str>) -> Option<BodyKind> {
    let Some(content_type) = content_type else {
        return Some(BodyKind::Json);
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Some(BodyKind::Json),
        "application/x-www-form-urlencoded" => Some(BodyKind::Form),
        e if e.starts_with("application/") && e.ends_with("+json") => Some(BodyKind::Json),
        _ => None,
    }
}

/// The 415 answer for a body of a media type this server does not read.
pub fn unsupported_type(content_type: &str) -> Response {
    let mut response = problem(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        format!(
            "a body of type {content_type:?} is not read here; send JSON (application/json) \
             or form fields (application/x-www-form-urlencoded)"
        ),
    );
    response
        .headers_mut()
        .insert("accept-post", HeaderValue::from_static(ACCEPTED_TYPES));
    response
}

/// Parses a body as JSON, or as `application/x-www-form-urlencoded` when the content type
/// says so (a plain HTML form posting to an endpoint still creates its item). Any other
/// content type is a 415, whatever the body holds: a `text/plain` body is not JSON even when
/// its bytes parse as JSON (it is also what a cross-site form or `fetch` may send without a
/// preflight). An empty body is `{}` when `empty_is_object`, an error otherwise.
pub fn json_body(
    headers: &HeaderMap,
    body: &[u8],
    empty_is_object: bool,
) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if empty_is_object {
            Ok(Value::Object(Map::new()))
        } else {
            Err(bad_body("the body is empty; send JSON"))
        };
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match body_kind(content_type.as_deref()) {
        Some(BodyKind::Form) => Ok(form_fields(body)),
        Some(BodyKind::Json) => serde_json::from_slice(body)
            .map_err(|err| bad_body(format!("the body is not JSON: {err}"))),
        None => Err(unsupported_type(content_type.as_deref().unwrap_or(""))),
    }
}

/// Longest business reference kept; a longer one is cut to this many characters.
pub const MAX_REF_CHARS: usize = 255;

/// The business reference a payload names: a top-level string field called `ref` or ending
/// in `Ref` (`orderRef`, `ticketRef`, `messageRef`), the first by name if there are several.
/// The server counts effects per reference (`GET /api/effects`, `byRef`), so the same order
/// placed under two keys is seen as a double order.
///
/// ```
/// use serde_json::json;
/// use sendonce_server::api::body::business_ref;
/// assert_eq!(business_ref(&json!({"orderRef": "o-7", "qty": 1})).as_deref(), Some("o-7"));
/// assert_eq!(business_ref(&json!({"ref": "r", "orderRef": "o"})).as_deref(), Some("o"));
/// assert_eq!(business_ref(&json!({"prefix": "x", "orderRef": 7})), None);
/// ```
pub fn business_ref(payload: &Value) -> Option<String> {
    let object = payload.as_object()?;
    let mut names: Vec<&String> = object
        .iter()
        .filter(|(name, value)| {
            (name.as_str() == "ref" || name.ends_with("Ref")) && value.is_string()
        })
        .map(|(name, _)| name)
        .collect();
    names.sort();
    let text = object.get(*names.first()?)?.as_str()?;
    (!text.is_empty()).then(|| text.chars().take(MAX_REF_CHARS).collect())
}

/// The start of every idempotent POST: the validated `Idempotency-Key` (400 without one),
/// then the body as JSON (see [`json_body`]).
pub fn keyed_json(
    headers: &HeaderMap,
    body: &[u8],
    empty_is_object: bool,
) -> Result<(String, Value), Response> {
    let key = super::idempotent::require_key(headers)?;
    Ok((key, json_body(headers, body, empty_is_object)?))
}

/// Form fields as a JSON object; a repeated name (checkboxes) becomes an array of its values.
fn form_fields(body: &[u8]) -> Value {
    let mut object = Map::new();
    for (name, value) in form_urlencoded::parse(body) {
        let value = Value::String(value.into_owned());
        match object.get_mut(name.as_ref()) {
            None => {
                object.insert(name.into_owned(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => {
                let first = first.take();
                object.insert(name.into_owned(), Value::Array(vec![first, value]));
            }
        }
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::json_body;
    use axum::http::{header, HeaderMap, HeaderValue};
    use serde_json::json;

    #[test]
    fn empty_and_broken_bodies() {
        let h = HeaderMap::new();
        assert_eq!(json_body(&h, b"", true).unwrap(), json!({}));
        assert_eq!(json_body(&h, b" ", false).unwrap_err().status(), 400);
        assert_eq!(json_body(&h, b"{oops", true).unwrap_err().status(), 400);
        assert_eq!(json_body(&h, br#"{"a":1}"#, false).unwrap()["a"], 1);
    }

    #[test]
    fn other_media_types_are_415_even_when_the_bytes_are_json() {
        for ct in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "multipart/form-data; boundary=x",
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
            assert_eq!(
                json_body(&h, br#"{"a":1}"#, false).unwrap_err().status(),
                415
            );
        }
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert_eq!(json_body(&h, br#"{"a":1}"#, false).unwrap()["a"], 1);
    }

    #[test]
    fn form_fields_become_an_object() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=UTF-8"),
        );
        assert_eq!(
            json_body(&h, b"item=green+tea&size=l&size=xl&note=%C3%A9", false).unwrap(),
            json!({"item": "green tea", "size": ["l", "xl"], "note": "é"})
        );
    }
}
