//! The "missing CORS header" pattern. A cross-origin server that does not allow the
//! `Idempotency-Key` request header (or does not answer the preflight) makes the browser fail
//! every attempt at once with a bare network error, which looks like a lost connection: the
//! user would read "Connection lost. Retry?" and the developer would see nothing else. Three
//! fast network failures in a row on a cross-origin URL, while the browser is online, are
//! reported once with a `cors.suspect` event that says what the server must send.

/// An attempt that fails within this many ms never reached a server that was slow: the
/// browser refused it (CORS), or nothing listens there.
pub const FAST_FAILURE_MS: u64 = 1500;

/// How many fast network failures in a row on cross-origin URLs make the pattern.
pub const FAST_FAILURES: u32 = 3;

/// Counts fast network failures on cross-origin URLs; one per `Sendonce` instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsWatch {
    fast_in_a_row: u32,
    told: bool,
}

/// How one attempt ended, as the watch needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// An HTTP answer (any status): CORS let it through.
    Answered,
    /// A network error (fetch rejected) after `elapsed_ms`.
    NetworkError {
        /// How long the attempt took.
        elapsed_ms: u64,
    },
    /// The attempt timed out: slow, not refused.
    Timeout,
}

impl CorsWatch {
    /// Notes an attempt to a URL (`cross_origin`: another origin than the page's; `online`:
    /// the browser says it is online). True exactly once per watch: when the pattern is seen
    /// for the first time, the moment to emit `cors.suspect`.
    ///
    /// ```
    /// use sendonce::core::cors::{AttemptEnd, CorsWatch};
    /// let mut w = CorsWatch::default();
    /// let fast = AttemptEnd::NetworkError { elapsed_ms: 20 };
    /// assert!(!w.attempt(true, true, fast));
    /// assert!(!w.attempt(true, true, fast));
    /// assert!(w.attempt(true, true, fast));
    /// assert!(!w.attempt(true, true, fast));
    /// ```
    pub fn attempt(&mut self, cross_origin: bool, online: bool, end: AttemptEnd) -> bool {
        match end {
            AttemptEnd::NetworkError { elapsed_ms }
                if cross_origin && online && elapsed_ms <= FAST_FAILURE_MS =>
            {
                self.fast_in_a_row += 1;
            }
            // A network error while offline says nothing about CORS; keep the count.
            AttemptEnd::NetworkError { .. } if !online => {}
            _ => self.fast_in_a_row = 0,
        }
        if self.fast_in_a_row >= FAST_FAILURES && !self.told {
            self.told = true;
            return true;
        }
        false
    }
}

/// The origin (`scheme://host[:port]`, lower case) of an absolute http(s) URL, or None for a
/// relative URL (same origin as the page) or another scheme.
///
/// ```
/// use sendonce::core::cors::origin_of;
/// assert_eq!(origin_of("https://API.example.com/v1/orders?x=1").as_deref(), Some("https://api.example.com"));
/// assert_eq!(origin_of("/api/orders"), None);
/// ```
pub fn origin_of(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| lower.strip_prefix("http://").map(|r| ("http://", r)))?;
    let (scheme, rest) = rest;
    // `split` and `str::get`, not slicing: slicing brings its panic path (with `char` Debug
    // and Unicode tables) into the wasm.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in the URL are not part of the origin.
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.is_empty() {
        return None;
    }
    // The default port is the same origin as no port.
    let host = match (scheme, host.strip_suffix(":443"), host.strip_suffix(":80")) {
        ("https://", Some(h), _) => h,
        ("http://", _, Some(h)) => h,
        _ => host,
    };
    Some(format!("{scheme}{host}"))
}

/// True when `url` is on another origin than `page_origin` (the page's `location.origin`).
/// A relative URL is same-origin.
pub fn is_cross_origin(page_origin: &str, url: &str) -> bool {
    match (origin_of(url), origin_of(page_origin)) {
        (Some(u), Some(p)) => u != p,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// What the `cors.suspect` event says (its `detail`): the headers the server must allow and
/// expose for sendonce to work across origins.
pub fn advice(origin: &str, header_name: &str, replay_header: &str) -> String {
    format!(
        "requests to {origin} failed at once {FAST_FAILURES} times in a row, the way a browser refuses a cross-origin request: if the server is up, its CORS answers must allow the {header_name} request header (Access-Control-Allow-Headers, on the preflight too) and expose {replay_header}, Retry-After and Location (Access-Control-Expose-Headers)"
    )
}
