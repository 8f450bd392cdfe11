//! Reading request bodies: JSON, or an HTML form's urlencoded fields turned into a JSON
//! object; 415 for any other media type, 400 for a body that does not parse.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::problem::{bad_body, problem};

/// The media types a body may have, as listed in a 415 answer's `Accept-Post`.
pub const ACCEPTED_TYPES: &str =
    "application/json, application/x-www-form-urlencoded, multipart/form-data";

/// How a body is to be read, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json`, any `+json` type, or no `Content-Type` at all (a script that
    /// forgot it still sends JSON).
    Json,
    /// `application/x-www-form-urlencoded`: an HTML form.
    Form,
    /// `multipart/form-data` with its boundary: an HTML form with files.
    Multipart,
}

/// The kind of body a `Content-Type` announces, or `None` for one this server does not take
/// (`text/plain`, `multipart/form-data` without a boundary, ...).
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
        "multipart/form-data" if boundary(content_type).is_some() => Some(BodyKind::Multipart),
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
            "a body of type {content_type:?} is not read here; send JSON (application/json), \
             form fields (application/x-www-form-urlencoded) or multipart/form-data"
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
        Some(BodyKind::Multipart) => {
            let b = content_type
                .as_deref()
                .and_then(boundary)
                .unwrap_or_default();
            multipart_fields(body, &b)
                .ok_or_else(|| bad_body("the body is not multipart/form-data with that boundary"))
        }
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
        add_field(
            &mut object,
            name.into_owned(),
            Value::String(value.into_owned()),
        );
    }
    Value::Object(object)
}

fn add_field(object: &mut Map<String, Value>, name: String, value: Value) {
    match object.get_mut(&name) {
        None => {
            object.insert(name, value);
        }
        Some(Value::Array(values)) => values.push(value),
        Some(first) => {
            let first = first.take();
            object.insert(name, Value::Array(vec![first, value]));
        }
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// The parts of a `multipart/form-data` body as a JSON object, like [`form_fields`]: a text
/// part is its string, a file part `{ "file", "size", "type", "sha256" }` (its bytes are
/// counted and hashed, not kept). `None` when the body is not multipart with `boundary`.
fn multipart_fields(body: &[u8], boundary: &str) -> Option<Value> {
    let delimiter = format!("--{boundary}");
    let mut object = Map::new();
    let mut rest = body.strip_prefix(delimiter.as_bytes())?;
    loop {
        if rest.starts_with(b"--") {
            return Some(Value::Object(object));
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end_of_headers = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..end_of_headers]).ok()?;
        let content = &rest[end_of_headers + 4..];
        let next = find(content, format!("\r\n{delimiter}").as_bytes())?;
        let data = &content[..next];
        rest = &content[next + 2 + delimiter.len()..];
        let mut name = None;
        let mut filename = None;
        let mut mime = String::new();
        for line in head.split("\r\n") {
            let (k, v) = line.split_once(':')?;
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                for param in v.split(';').skip(1) {
                    let (pk, pv) = param.split_once('=')?;
                    let pv = pv.trim().trim_matches('"').to_string();
                    match pk.trim() {
                        "name" => name = Some(pv),
                        "filename" => filename = Some(pv),
                        _ => {}
                    }
                }
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                mime = v.trim().to_string();
            }
        }
        let value = match filename {
            Some(file) => serde_json::json!({
                "file": file,
                "size": data.len(),
                "type": mime,
                "sha256": sendonce::core::fingerprint::sha256_hex(data).as_str(),
            }),
            None => Value::String(String::from_utf8_lossy(data).into_owned()),
        };
        add_field(&mut object, name?, value);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
            "multipart/form-data",
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
    fn multipart_parts_become_an_object_with_file_metadata() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=----b7"),
        );
        let body = "------b7\r\nContent-Disposition: form-data; name=\"item\"\r\n\r\ntea\r\n\
            ------b7\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.txt\"\r\n\
            Content-Type: text/plain\r\n\r\nhello\r\n------b7--\r\n";
        let v = json_body(&h, body.as_bytes(), false).unwrap();
        assert_eq!(v["item"], "tea");
        assert_eq!(v["photo"]["file"], "a.txt");
        assert_eq!(v["photo"]["size"], 5);
        assert_eq!(v["photo"]["type"], "text/plain");
        assert!(json_body(&h, b"not multipart", false).is_err());
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
