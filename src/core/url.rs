//! Credentials in URLs (SPEC section 5: "Credentials in a URL ... are never stored").
//!
//! - A URL with a user name or password in it (`https://user:pw@host/`, `//user@host/`) is
//!   refused with `invalid_option` before anything is stored or sent: fetch refuses such a URL
//!   too, so an action with it could only ever rest "offline", with the password in storage.
//!   Credentials go in a header (the `headers` hook), which is never stored.
//! - Secret query parameters (`access_token`, `api_key`, `token`, a session id, a signature,
//!   see [`is_secret_name`]) are sent, never stored: the stored URL leaves them out and says so
//!   ([`storable_url`]); a request restored from it lacks them and waits for the page to send
//!   the action again (the user's next submission, same key), like a form's private fields.
//! - The fragment (`#token=...`) never goes to the server (fetch leaves it out): it is simply
//!   not stored.
//!
//! No URL crate: the parsing needed here is small and a URL library would weigh on the wasm.
//! Like the WHATWG URL parser, tabs and newlines inside a URL are ignored and `\` counts as
//! `/` before the authority of a web URL, so `http:\\user@host` is caught as well.

use crate::core::error::SendonceError;

/// Schemes whose URLs always have an authority (the WHATWG "special" schemes fetch can use).
const WEB_SCHEMES: [&str; 5] = ["http", "https", "ws", "wss", "ftp"];

/// Refuses a URL with credentials in its authority (`user:password@` or `user@`), naming the
/// option it came from. Nothing else is checked here (fetch reports a malformed URL).
///
/// ```
/// use sendonce::core::url::check_url;
/// assert!(check_url("https://api.example.com/orders?email=a@b.com", "url").is_ok());
/// assert!(check_url("/api/orders", "url").is_ok());
/// let e = check_url("https://ana:s3cret@api.example.com/orders", "url").unwrap_err();
/// assert_eq!(e.code(), "invalid_option");
/// assert!(!e.to_string().contains("s3cret"));
/// assert!(check_url("//ana@api.example.com/", "url").is_err());
/// ```
pub fn check_url(url: &str, option: &str) -> Result<(), SendonceError> {
    if has_userinfo(url) {
        return Err(SendonceError::option(
            option,
            "has a user name or password in it (user:password@host): sendonce never stores \
             credentials and fetch refuses such URLs; send them in a header (the `headers` \
             hook) instead",
        ));
    }
    Ok(())
}

/// True when the URL's authority carries a user name or password.
fn has_userinfo(url: &str) -> bool {
    // Tabs and newlines anywhere are dropped by URL parsers; leading and trailing spaces and
    // control characters too.
    let clean: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let clean = clean.trim_matches(|c: char| c <= ' ');
    let slash = |c: char| c == '/' || c == '\\';
    let after_scheme = scheme_of(clean).and_then(|scheme| {
        let rest = clean.get(scheme.len() + 1..)?;
        if WEB_SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s)) {
            // `http:user@host`, `http:/user@host` and `http:\\user@host` all have `user@host`
            // as their authority.
            Some(rest.trim_start_matches(slash))
        } else {
            rest.strip_prefix("//")
        }
    });
    let authority_and_more = match after_scheme {
        Some(rest) => rest,
        // No scheme: only a protocol-relative URL (`//host`, `\\host`) has an authority.
        None if scheme_of(clean).is_none() && clean.starts_with(slash) => {
            let rest = clean.trim_start_matches(slash);
            if clean.len() - rest.len() < 2 {
                return false;
            }
            rest
        }
        None => return false,
    };
    let authority = authority_and_more
        .split(['/', '\\', '?', '#'])
        .next()
        .unwrap_or_default();
    authority.contains('@')
}

/// The scheme of an absolute URL (`https` of `https://...`), if it has one.
fn scheme_of(url: &str) -> Option<&str> {
    let scheme = url.split(':').next()?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && url.len() > scheme.len();
    valid.then_some(scheme)
}

/// The URL as it may be stored: without its fragment (never sent) and without secret query
/// parameters ([`is_secret_name`]); the flag is true when a query parameter was left out, so
/// that the stored URL alone is not the one sent (a request restored from it waits for the
/// page to give it again). A URL with nothing secret comes back unchanged, fragment aside.
///
/// ```
/// use sendonce::core::url::storable_url;
/// assert_eq!(storable_url("/api/orders?page=2"), ("/api/orders?page=2".into(), false));
/// assert_eq!(
///     storable_url("https://api.example.com/v1/orders?access_token=abc&page=2#token=xyz"),
///     ("https://api.example.com/v1/orders?page=2".into(), true)
/// );
/// assert_eq!(storable_url("/orders?api%5Fkey=abc"), ("/orders".into(), true));
/// ```
pub fn storable_url(url: &str) -> (String, bool) {
    let without_fragment = url.split('#').next().unwrap_or_default();
    let mut parts = without_fragment.splitn(2, '?');
    let base = parts.next().unwrap_or_default();
    let Some(query) = parts.next() else {
        return (without_fragment.to_string(), false);
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !secret_bytes(&decode_name(pair.split('=').next().unwrap_or_default())))
        .collect();
    if kept.len() == query.split('&').count() {
        return (without_fragment.to_string(), false);
    }
    let kept: Vec<&str> = kept.into_iter().filter(|p| !p.is_empty()).collect();
    let mut out = base.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    (out, true)
}

/// A query parameter's name, percent-decoded (`+` is a space), as bytes: only its ASCII
/// letters and digits matter to [`secret_bytes`], so it is never decoded as UTF-8.
fn decode_name(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
        match bytes.get(i) {
            Some(b'%') => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            Some(b'+') => out.push(b' '),
            Some(b) => out.push(*b),
            None => break,
        }
        i += 1;
    }
    out
}

/// Parameter names (letters and digits only, lower case) that are secrets whole.
const SECRET_NAMES: [&str; 10] = [
    "key", "sig", "sid", "pwd", "pass", "jwt", "otp", "auth", "ticket", "code",
];

/// Parts of parameter names (letters and digits only, lower case) that mark a secret.
const SECRET_PARTS: [&str; 19] = [
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "session",
    "sessid",
    "apikey",
    "accesskey",
    "privatekey",
    "clientkey",
    "consumerkey",
    "signature",
    "credential",
    "authorization",
    "authkey",
    "csrf",
    "xsrf",
    "cookie",
];

/// True when a query parameter named `name` carries a credential: the name, lower-cased and
/// with everything but ASCII letters and digits removed (`api_key`, `api-key` and `apiKey`
/// are one name), is one of a few short secret names (`key`, `sig`, `sid`, `auth`, `code`,
/// ...) or contains a secret word (`token`, `secret`, `password`, `session`, `signature`,
/// `credential`, `apikey`, ...). It errs on the side of a secret: a parameter taken for one
/// by mistake is still sent; only a request resumed from storage then waits for the page.
///
/// ```
/// use sendonce::core::url::is_secret_name;
/// for n in ["access_token", "api_key", "apiKey", "X-Amz-Signature", "PHPSESSID", "key", "client_secret"] {
///     assert!(is_secret_name(n), "{n}");
/// }
/// for n in ["item", "qty", "author", "keyword", "page"] {
///     assert!(!is_secret_name(n), "{n}");
/// }
/// ```
pub fn is_secret_name(name: &str) -> bool {
    secret_bytes(name.as_bytes())
}

/// [`is_secret_name`] over a name's bytes (UTF-8 or not: only ASCII letters and digits count).
fn secret_bytes(name: &[u8]) -> bool {
    let n: String = name
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect();
    SECRET_NAMES.contains(&n.as_str())
        || SECRET_PARTS
            .iter()
            .any(|p| crate::core::text::contains(&n, p))
}

/// The URL to send a stored request to: `live` (the URL the page gives now, secrets
/// included) when `stored` is what storage kept of it, else `stored` as it is. A chat message
/// written before a reload is stored without its URL's secrets and delivered with the live
/// chat's URL.
///
/// ```
/// use sendonce::core::url::live_url;
/// assert_eq!(live_url("/api/messages", "/api/messages?session=s1"), "/api/messages?session=s1");
/// assert_eq!(live_url("/api/other", "/api/messages?session=s1"), "/api/other");
/// ```
pub fn live_url(stored: &str, live: &str) -> String {
    if stored == live || storable_url(live).0 == stored {
        live.to_string()
    } else {
        stored.to_string()
    }
}
