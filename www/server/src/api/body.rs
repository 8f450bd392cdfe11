//! Reading request bodies: JSON, or an HTML form's urlencoded fields turned into a JSON
//! object, with a 400 problem for anything else.

use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::problem::bad_body;

/// Parses a body as JSON, or as `application/x-www-form-urlencoded` when the content type
/// says so (a plain HTML form posting to an endpoint still creates its item). An empty body is
/// `{}` when `empty_is_object`, an error otherwise.
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
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok(form_fields(body));
    }
    serde_json::from_slice(body).map_err(|err| bad_body(format!("the body is not JSON: {err}")))
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
