//! Error answers as `application/problem+json` (RFC 9457), the format the idempotency draft
//! uses in its examples.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem answer: `type` is `urn:sendonce:problem:<slug>` (a name, not a page to fetch),
/// `title` is fixed per kind of problem, `detail` tells about this occurrence.
///
/// ```
/// use axum::http::StatusCode;
/// let r = sendonce_server::problem::problem(StatusCode::BAD_REQUEST, "missing-key", "Missing key", "x");
/// assert_eq!(r.headers()["content-type"], "application/problem+json");
/// ```
pub fn problem(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Response {
    let body = json!({
        "type": format!("urn:sendonce:problem:{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
        body.to_string(),
    )
        .into_response()
}

/// A 400 for a body that is not what the endpoint takes.
pub fn bad_body(detail: impl Into<String>) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "invalid-body",
        "Invalid request body",
        detail,
    )
}

/// A 404 for an API path or record that does not exist.
pub fn not_found(detail: impl Into<String>) -> Response {
    problem(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
}

/// A 500 for a storage failure; the detail is logged, not sent, as a real server would.
pub fn internal(err: impl std::fmt::Display) -> Response {
    eprintln!("sendonce-server: internal error: {err}");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal server error",
        "the server could not complete the request; it is safe to retry with the same key",
    )
}
