//! Admin requests come from this server's own pages or from scripts, never from another site.
//!
//! The admin endpoints (`/api/faults*`, `/api/reset`) change what the server does for every
//! client: a page on another site could otherwise arm faults or wipe the data with a form
//! post or a `fetch` the victim's browser sends to loopback. A state-changing admin request is
//! refused with 403 when
//!
//! - its `Origin` is not this server's own (scheme `http`/`https`, same host and port as the
//!   `Host` header; `Origin: null` is refused too), or
//! - it has no `Origin` but `Sec-Fetch-Site` says `cross-site` or `same-site`, or
//! - its `Host` is not a loopback name (`localhost`, `*.localhost`, `127.x.y.z`, `[::1]`): a
//!   page on a name that was made to resolve to loopback (DNS rebinding) sends its own name
//!   both as `Origin` and `Host`, and would otherwise pass as same-origin.
//!
//! A request with no `Origin` and no `Sec-Fetch-Site` (curl, Node's `fetch`, the test
//! harness) is allowed: browsers always send `Origin` on a cross-site POST or DELETE.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::problem::problem;
use crate::state::SharedState;

/// Why a request is not taken as coming from this server's own origin, or `None` if it is.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue};
/// use sendonce_server::origin::cross_site_reason;
/// let mut h = HeaderMap::new();
/// h.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
/// assert_eq!(cross_site_reason(&h), None);
/// h.insert("origin", HeaderValue::from_static("http://127.0.0.1:8080"));
/// assert_eq!(cross_site_reason(&h), None);
/// h.insert("origin", HeaderValue::from_static("http://evil.example"));
/// assert!(cross_site_reason(&h).is_some());
/// ```
pub fn cross_site_reason(headers: &HeaderMap) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
    };
    let host = text(header::HOST.as_str());
    if let Some(host) = &host {
        if !is_loopback_host(host) {
            return Some(format!(
                "Host {host:?} is not a loopback name; admin endpoints answer only on loopback"
            ));
        }
    }
    match text(header::ORIGIN.as_str()) {
        Some(origin) => {
            let same = host
                .as_deref()
                .is_some_and(|host| same_authority(&origin, host));
            (!same).then(|| format!("Origin {origin:?} is not this server's origin"))
        }
        None => match text("sec-fetch-site").as_deref() {
            Some(site @ ("cross-site" | "same-site")) => {
                Some(format!("Sec-Fetch-Site says {site}"))
            }
            _ => None,
        },
    }
}

/// Splits `host[:port]` (IPv6 in brackets) into the host and the port, if any.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host, Some(port))),
        Some(_) => None,
        None => Some((authority, None)),
    }
}

/// Whether `Host` names this machine's loopback interface.
fn is_loopback_host(host: &str) -> bool {
    let Some((name, _)) = split_host_port(host) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `origin` (`scheme://host[:port]`) has the same host and port as `host`.
fn same_authority(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false; // "null" and anything else that is not an origin
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let (Some((o_name, o_port)), Some((h_name, h_port))) =
        (split_host_port(authority), split_host_port(host))
    else {
        return false;
    };
    o_name.eq_ignore_ascii_case(h_name)
        && o_port.unwrap_or(default_port) == h_port.unwrap_or(default_port)
}

/// Middleware for the admin routes: lets reads through, refuses a state-changing request from
/// another site with a 403 problem.
pub async fn same_origin_admin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match cross_site_reason(req.headers()) {
        None => next.run(req).await,
        Some(why) => problem(
            StatusCode::FORBIDDEN,
            "cross-site-admin",
            "Cross-site admin request refused",
            format!(
                "{why}; admin endpoints take requests from this server's own pages or from scripts"
            ),
        ),
    }
}

/// Middleware for the demo reads (`/api/effects`, `/api/log*`, `/api/trace/{key}`, the order
/// and ticket lists): they list every key and what it carried, so they are served only with
/// `--demo` (404 otherwise, as if they did not exist), and then only under the admin guard,
/// reads included: to this server's own pages and to scripts, never to another site (a page
/// on a rebound name, or one let in by `--cors-origin`). Requests other than GET and HEAD
/// (the POSTs that share a path with a list) pass untouched.
pub async fn demo_reads(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    if !state.demo {
        return problem(
            StatusCode::NOT_FOUND,
            "demo-only",
            "Demo-only read",
            "this read lists every key; the server serves it only when started with --demo",
        );
    }
    match cross_site_reason(req.headers()) {
        None => next.run(req).await,
        Some(why) => problem(
            StatusCode::FORBIDDEN,
            "cross-site-admin",
            "Cross-site admin request refused",
            format!("{why}; demo reads answer this server's own pages and scripts only"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn reason(host: Option<&'static str>, origin: Option<&'static str>) -> Option<String> {
        let mut h = HeaderMap::new();
        if let Some(host) = host {
            h.insert(header::HOST, HeaderValue::from_static(host));
        }
        if let Some(origin) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_static(origin));
        }
        cross_site_reason(&h)
    }

    #[test]
    fn own_origin_passes_in_every_spelling() {
        for (host, origin) in [
            ("127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("localhost:8080", "http://LOCALHOST:8080"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("localhost", "http://localhost:80"),
            ("app.localhost:3000", "http://app.localhost:3000"),
        ] {
            assert_eq!(reason(Some(host), Some(origin)), None, "{host} {origin}");
        }
        assert_eq!(reason(Some("127.0.0.1:8080"), None), None);
        assert_eq!(reason(None, None), None);
    }

    #[test]
    fn other_origins_and_rebound_hosts_are_refused() {
        for (host, origin) in [
            (Some("127.0.0.1:8080"), Some("http://127.0.0.1:8081")),
            (Some("127.0.0.1:8080"), Some("http://localhost:8080")),
            (Some("127.0.0.1:8080"), Some("null")),
            (Some("127.0.0.1:8080"), Some("file://")),
            (Some("evil.example:8080"), Some("http://evil.example:8080")),
            (Some("evil.example:8080"), None),
            (None, Some("http://127.0.0.1:8080")),
        ] {
            assert!(reason(host, origin).is_some(), "{host:?} {origin:?}");
        }
    }
}
