//! `--cors-origin ORIGIN`: lets a page on that one origin call the API, as a shop front on
//! another host would. Off by default (the demo pages are served by this server).
//!
//! A page needs three things from the server (what `sendonce check --origin` tests): the
//! preflight must allow the `Idempotency-Key` request header, and the answers must expose
//! `Idempotent-Replayed` (without it the page cannot tell a replay), `Retry-After` (the 409 and
//! 429 wait) and `Location` (where a 202 job is polled), none of which a browser shows a page
//! by default. The admin endpoints (faults, reset) and the demo reads that list keys stay
//! same-origin.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::SharedState;

/// Request headers a page may send: the key, the body's type, and the demo's fault header.
pub const ALLOW_HEADERS: &str = "content-type, idempotency-key, x-sendonce-fault";
/// Answer headers a page may read.
pub const EXPOSE_HEADERS: &str = "idempotent-replayed, retry-after, location";

/// Checks `--cors-origin`: `http(s)://host[:port]`, nothing after it.
///
/// ```
/// use sendonce_server::cors::parse_origin;
/// assert_eq!(parse_origin("http://localhost:5173/").unwrap(), "http://localhost:5173");
/// assert!(parse_origin("localhost:5173").is_err());
/// assert!(parse_origin("https://shop.example/cart").is_err());
/// ```
pub fn parse_origin(text: &str) -> Result<String, String> {
    let origin = text.trim().trim_end_matches('/');
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| format!("--cors-origin wants http(s)://host[:port], got {text:?}"))?;
    if rest.is_empty()
        || rest.contains(['/', '?', '#', ' '])
        || HeaderValue::from_str(origin).is_err()
    {
        return Err(format!(
            "--cors-origin wants http(s)://host[:port] and nothing after it, got {text:?}"
        ));
    }
    Ok(origin.to_string())
}

/// Admin endpoints and the demo reads that list every key: same-origin only, never shared
/// with `--cors-origin`.
fn is_admin(path: &str) -> bool {
    path.starts_with("/api/faults")
        || path == "/api/reset"
        || path == "/api/effects"
        || path.starts_with("/api/log")
        || path.starts_with("/api/trace/")
}

/// Middleware: answers preflights and marks answers for the one allowed origin.
pub async fn cors(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let Some(allowed) = state.cors_origin.as_deref() else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    let from_allowed = req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == allowed.as_bytes());
    if !from_allowed || !path.starts_with("/api/") || is_admin(path) {
        return next.run(req).await;
    }
    let origin = HeaderValue::from_str(allowed).unwrap_or(HeaderValue::from_static("null"));
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return (
            StatusCode::NO_CONTENT,
            [
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
                (
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST"),
                ),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOW_HEADERS),
                ),
                (
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                ),
                (header::VARY, HeaderValue::from_static("Origin")),
            ],
        )
            .into_response();
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}
