//! Static files: `/pkg/*` from the wasm-pack output, `/test/*` from the test pages when
//! `--test-pages` names a directory, everything else from the site directory.
//!
//! Written out instead of pulling in a file-serving crate because the rules are few and must
//! be exact: `application/wasm` (browsers refuse streaming compilation otherwise),
//! `text/javascript` for modules, and `Cache-Control: no-store` so a rebuilt package is never
//! hidden behind a cached one during development.
//!
//! What is served stays inside its directory and is meant to be public ([`locate`]): a path is
//! resolved with every symlink followed and must still lie inside the (equally resolved)
//! root, so a link to `..` or `/etc` serves nothing; and hidden names (`.env`, `.git`) are
//! never served. Everything refused is a plain 404. This server's own crate lives beside the
//! served directories (in `server/`, the demo in `www/`, the test pages in `tests/pages/`),
//! never inside them, so keeping its sources private needs no rule of its own.

use std::path::{Component, Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::problem::not_found;
use crate::state::{AppState, SharedState};

/// The content type for a file name, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" | "md" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Decodes `%XX` escapes; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Maps a URL path under `root` to a file path, refusing anything that could leave `root`
/// (`..`, absolute parts, backslashes, NUL).
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return None;
    }
    let mut path = root.to_path_buf();
    for part in decoded.split('/').filter(|p| !p.is_empty()) {
        let mut components = Path::new(part).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(name)), None) => path.push(name),
            _ => return None,
        }
    }
    Some(path)
}

/// Where the file for `candidate` (from [`resolve`]) really is, or `None` when it must not be
/// served: missing, outside `root` once symlinks are followed, or hidden. A directory means
/// its `index.html`.
pub async fn locate(root: &Path, candidate: &Path) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(root).await.ok()?;
    let mut file = tokio::fs::canonicalize(candidate).await.ok()?;
    if tokio::fs::metadata(&file).await.ok()?.is_dir() {
        file = tokio::fs::canonicalize(file.join("index.html"))
            .await
            .ok()?;
    }
    let inside = file.strip_prefix(&root).ok()?;
    let hidden = inside
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    if hidden || !tokio::fs::metadata(&file).await.ok()?.is_file() {
        return None;
    }
    Some(file)
}

/// The directory a URL path is served from, and the path inside it: `/pkg/` the package,
/// `/test/` the test pages (when there are any), the site for everything else.
fn root_for<'a>(state: &'a AppState, url_path: &'a str) -> (&'a Path, &'a str) {
    if let Some(rest) = url_path.strip_prefix("/pkg/") {
        return (&state.pkg, rest);
    }
    if let (Some(pages), Some(rest)) = (&state.test_pages, url_path.strip_prefix("/test/")) {
        return (pages, rest);
    }
    (&state.www, url_path)
}

/// Fallback handler: serves a file for GET and HEAD, 404 otherwise.
pub async fn serve(State(state): State<SharedState>, req: Request) -> Response {
    let url_path = req.uri().path();
    if url_path.starts_with("/api/") || url_path == "/api" {
        return not_found(format!("no API endpoint {url_path}"));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let (root, rest) = root_for(&state, url_path);
    let Some(candidate) = resolve(root, rest) else {
        return plain(StatusCode::BAD_REQUEST, "bad path");
    };
    let Some(file) = locate(root, &candidate).await else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    // Read the resolved path (no links left in it), not the one asked for.
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut response = (StatusCode::OK, bytes).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&file)),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = (status, text).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_browsers_insist_on() {
        assert_eq!(
            content_type(Path::new("a/sendonce_bg.wasm")),
            "application/wasm"
        );
        assert_eq!(content_type(Path::new("sendonce.js")), "text/javascript");
        assert_eq!(content_type(Path::new("x.MJS")), "text/javascript");
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
    }

    #[test]
    fn paths_cannot_leave_the_root() {
        let root = Path::new("site");
        assert_eq!(resolve(root, "/a/b.js"), Some(root.join("a").join("b.js")));
        assert_eq!(resolve(root, "/a%20b.txt"), Some(root.join("a b.txt")));
        assert_eq!(resolve(root, "/"), Some(root.to_path_buf()));
        assert_eq!(resolve(root, "/../secret"), None);
        assert_eq!(resolve(root, "/a/%2e%2e/%2e%2e/secret"), None);
        assert_eq!(resolve(root, "/a\\..\\b"), None);
        assert_eq!(resolve(root, "/%zz"), None);
    }
}
