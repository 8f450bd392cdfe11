//! The HTTP rules sendonce applies around a request, in one place for the SDK and for
//! `sendonce check` (the package's bin reads them through the wasm, so the check cannot drift
//! from what the SDK does): the default header names, header-name and method grammar, which
//! header marks a reply as a replay, "the same JSON", and what a browser's CORS answers must
//! allow and expose. Reply classification itself is `core::reply`, the status it leads to
//! `core::action::status_after`, and `Retry-After` is `core::retry::parse_retry_after`.

use crate::core::error::SendonceError;
use crate::core::json;
use crate::core::reply::{truthy, Reply};

/// The request header that carries the key (option `headerName`).
pub const DEFAULT_KEY_HEADER: &str = "Idempotency-Key";

/// The reply header that marks a replay (option `replayHeader`).
pub const DEFAULT_REPLAY_HEADER: &str = "Idempotent-Replayed";

/// Reply headers a page on another origin must be able to read, besides the replay header:
/// `Retry-After` (honoured only when exposed) and `Location` (where a 202 says to poll).
pub const EXPOSED_HEADERS: [&str; 2] = ["Retry-After", "Location"];

/// Methods a browser sends to another origin without the preflight listing them.
pub const SAFELISTED_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

/// True for an HTTP header name (an RFC 9110 `token`: letters, digits and
/// ``!#$%&'*+-.^_`|~``).
///
/// ```
/// use sendonce::core::http::is_header_name;
/// assert!(is_header_name("X-Request-Id"));
/// assert!(!is_header_name("X Request") && !is_header_name(""));
/// ```
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A request method as sendonce sends it: letters only, upper-cased (`post` is `POST`).
///
/// ```
/// use sendonce::core::http::method;
/// assert_eq!(method("patch").unwrap(), "PATCH");
/// assert!(method("PO ST").is_err() && method("").is_err());
/// ```
pub fn method(text: &str) -> Result<String, SendonceError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(SendonceError::option(
            "method",
            "must be an HTTP method like \"POST\"",
        ));
    }
    Ok(text.to_ascii_uppercase())
}

/// Adds `Content-Type: application/json` (a JSON body is what sendonce sends) unless the
/// caller's headers name a content type already.
///
/// ```
/// use sendonce::core::http::json_content_type;
/// let mut h = vec![("Authorization".to_string(), "Bearer x".to_string())];
/// json_content_type(&mut h);
/// assert_eq!(h[1], ("Content-Type".to_string(), "application/json".to_string()));
/// let mut own = vec![("content-type".to_string(), "text/plain".to_string())];
/// json_content_type(&mut own);
/// assert_eq!(own.len(), 1);
/// ```
pub fn json_content_type(headers: &mut Vec<(String, String)>) {
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
}

/// A comma-separated header value as a list: trimmed, lower-cased, without empty items
/// (how `Access-Control-Allow-Headers` and its siblings are read).
pub fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The header that marks this reply as a replay: `replay_header` when its value says so (as
/// `classify_reply` reads it), else the first other header whose name contains "replay" and
/// whose value says so (a server with its own name for the mark, such as `X-Replayed`). The
/// mark counts on any status.
///
/// ```
/// use sendonce::core::http::replay_marker;
/// use sendonce::core::reply::Reply;
/// let r = Reply { status: 201, headers: vec![("X-Replayed".into(), "TRUE".into())], body: String::new() };
/// assert_eq!(replay_marker(&r, "Idempotent-Replayed"), Some("X-Replayed"));
/// ```
pub fn replay_marker<'a>(reply: &'a Reply, replay_header: &str) -> Option<&'a str> {
    let marks = |(k, v): &&(String, String)| truthy(v) && k.eq_ignore_ascii_case(replay_header);
    let named = |(k, v): &&(String, String)| {
        // `text::contains`, not `str::contains`: the standard searcher costs wasm.
        truthy(v) && crate::core::text::contains(&k.to_ascii_lowercase(), "replay")
    };
    reply
        .headers
        .iter()
        .find(marks)
        .or_else(|| reply.headers.iter().find(named))
        .map(|(k, _)| k.as_str())
}

/// Whether two texts are the same JSON: the same canonical form (members in any order, one
/// spelling of numbers and strings), the form the key's fingerprint is taken of. `None` when
/// either text is not JSON.
///
/// ```
/// use sendonce::core::http::same_json;
/// assert_eq!(same_json(r#"{"a":1,"b":"x"}"#, r#"{ "b": "\u0078", "a": 1.0 }"#), Some(true));
/// assert_eq!(same_json("[1,2]", "[2,1]"), Some(false));
/// assert_eq!(same_json("<html>", "{}"), None);
/// ```
pub fn same_json(a: &str, b: &str) -> Option<bool> {
    let canonical = |t: &str| json::canonical_text(t, &|_, _| false).ok();
    Some(canonical(a)? == canonical(b)?)
}

/// The request headers a page's request carries that are not CORS-safelisted, lower case and
/// once each: `Content-Type` (sendonce sends JSON), the key header and the caller's own.
pub fn cors_request_headers(key_header: &str, extra: &[String]) -> Vec<String> {
    let mut out = vec!["content-type".to_string()];
    // Plain loops here and below: iterator chains monomorphise into more wasm.
    let mut add = |h: &str| {
        let h = h.to_ascii_lowercase();
        if !out.contains(&h) {
            out.push(h);
        }
    };
    add(key_header);
    for h in extra {
        add(h);
    }
    out
}

/// Response headers a page on another origin reads without `Access-Control-Expose-Headers`
/// (the CORS-safelisted response header names).
pub const SAFELISTED_RESPONSE_HEADERS: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// The reply as a page on another origin reads it: only the safelisted headers and those
/// `Access-Control-Expose-Headers` lists (every one with `*`). sendonce in that page reads a
/// replay mark or a `Retry-After` only when it is exposed.
///
/// ```
/// use sendonce::core::http::page_view;
/// use sendonce::core::reply::Reply;
/// let h = |k: &str, v: &str| (k.to_string(), v.to_string());
/// let r = Reply { status: 201, body: String::new(), headers: vec![
///     h("Content-Type", "application/json"), h("Idempotent-Replayed", "true"), h("Retry-After", "1"),
///     h("Access-Control-Expose-Headers", "retry-after"),
/// ] };
/// let seen: Vec<_> = page_view(&r).headers.into_iter().map(|(k, _)| k).collect();
/// assert_eq!(seen, ["Content-Type", "Retry-After"]);
/// ```
pub fn page_view(reply: &Reply) -> Reply {
    let exposed = list(reply.header("access-control-expose-headers"));
    let mut headers = Vec::new();
    for (k, v) in &reply.headers {
        let name = k.to_ascii_lowercase();
        if SAFELISTED_RESPONSE_HEADERS.contains(&name.as_str())
            || exposed.iter().any(|x| x == "*" || *x == name)
        {
            headers.push((k.clone(), v.clone()));
        }
    }
    Reply {
        status: reply.status,
        headers,
        body: reply.body.clone(),
    }
}

/// How a browser reads one reply's CORS headers for a page on `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsReading {
    /// `Access-Control-Allow-Origin` names the origin (or is `*`): the page may read it.
    pub origin_allowed: bool,
    /// Request headers (of those asked for) that `Access-Control-Allow-Headers` does not
    /// list: a preflight with any is refused.
    pub headers_missing: Vec<String>,
    /// The method is safelisted or in `Access-Control-Allow-Methods`.
    pub method_allowed: bool,
    /// Of the replay header and [`EXPOSED_HEADERS`], those `Access-Control-Expose-Headers`
    /// does not list (the page cannot read them).
    pub not_exposed: Vec<String>,
}

/// Reads the CORS headers of `reply` (a preflight's answer or the request's own) for a page on
/// `origin` that sends `method` with `request_headers` and wants to read `replay_header`.
///
/// ```
/// use sendonce::core::http::read_cors;
/// use sendonce::core::reply::Reply;
/// let h = |k: &str, v: &str| (k.to_string(), v.to_string());
/// let r = Reply { status: 204, body: String::new(), headers: vec![
///     h("Access-Control-Allow-Origin", "https://shop.example"),
///     h("Access-Control-Allow-Headers", "Content-Type"),
///     h("Access-Control-Expose-Headers", "*"),
/// ] };
/// let c = read_cors(&r, "https://shop.example", "PUT", &["content-type".into(), "idempotency-key".into()], "Idempotent-Replayed");
/// assert!(c.origin_allowed && !c.method_allowed);
/// assert_eq!(c.headers_missing, ["idempotency-key"]);
/// assert!(c.not_exposed.is_empty());
/// ```
pub fn read_cors(
    reply: &Reply,
    origin: &str,
    method: &str,
    request_headers: &[String],
    replay_header: &str,
) -> CorsReading {
    let allow_origin = reply.header("access-control-allow-origin").map(str::trim);
    // A list names `name` (lower case) when it holds it or `*`.
    let names = |header: &str, name: &str| {
        let l = list(reply.header(header));
        l.iter().any(|x| x == "*" || x == name)
    };
    let mut headers_missing = Vec::new();
    for h in request_headers {
        let h = h.to_ascii_lowercase();
        if !names("access-control-allow-headers", &h) {
            headers_missing.push(h);
        }
    }
    let mut not_exposed = Vec::new();
    for h in [replay_header, EXPOSED_HEADERS[0], EXPOSED_HEADERS[1]] {
        if !names("access-control-expose-headers", &h.to_ascii_lowercase()) {
            not_exposed.push(h.to_string());
        }
    }
    CorsReading {
        origin_allowed: allow_origin.is_some_and(|o| o == "*" || o == origin),
        headers_missing,
        method_allowed: SAFELISTED_METHODS.contains(&method)
            || names("access-control-allow-methods", &method.to_ascii_lowercase()),
        not_exposed,
    }
}

/// True for a header value sendonce sends: no control characters but tab (a CR or LF would
/// split the request).
///
/// ```
/// use sendonce::core::http::is_header_value;
/// assert!(is_header_value("Bearer abc\tdef"));
/// assert!(!is_header_value("a\r\nX-Evil: 1"));
/// ```
pub fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}
