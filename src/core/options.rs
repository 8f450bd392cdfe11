//! Option names: every options object a user writes is checked against the names its binding
//! reads, so that a misspelled option (`namspace`) is a clear `invalid_option` error with a
//! suggestion ("did you mean `namespace`?") instead of being silently ignored.
//!
//! The lists of known names live here, next to the check, so that the bindings and the
//! TypeScript types can be compared with one list each. A binding that reads a new option must
//! add its name here, or users get `invalid_option` for it.

use crate::core::error::SendonceError;
use crate::core::text::quoted;

/// `new Sendonce(options)`.
pub const SENDONCE_OPTIONS: &[&str] = &[
    "namespace",
    "storage",
    "locale",
    "messages",
    "showServerReason",
    "headerName",
    "replayHeader",
    "keyFormat",
    "retry",
    "windows",
    "fetch",
    "headers",
    "maxPayloadBytes",
    "leaseMs",
    "autoResume",
    "onEvent",
];

/// The `retry` option of `new Sendonce()`.
pub const RETRY_OPTIONS: &[&str] = &[
    "attempts",
    "baseDelayMs",
    "maxDelayMs",
    "timeoutMs",
    "deadlineMs",
];

/// The `windows` option of `new Sendonce()`.
pub const WINDOWS_OPTIONS: &[&str] = &["default", "form", "chat", "quickReply"];

/// `so.action(name, payload, options)`.
pub const ACTION_OPTIONS: &[&str] = &[
    "window",
    "key",
    "exclude",
    "volatile",
    "idempotent",
    "retry",
    "again",
];

/// `so.chat(options)`.
pub const CHAT_OPTIONS: &[&str] = &["conversationId", "url"];

/// `so.quickReplies(options)`.
pub const QUICK_REPLIES_OPTIONS: &[&str] = &["conversationId", "window"];

/// `so.form(form, options)`.
pub const FORM_OPTIONS: &[&str] = &[
    "action",
    "url",
    "method",
    "button",
    "status",
    "reenableAfterMs",
    "window",
    "exclude",
    "keepDraft",
    "headers",
    "encoding",
    "busyLabel",
];

/// The known name closest to `given`, if it is close enough to be a likely misspelling: at most
/// one edit for names up to four letters, two up to eight, three beyond (case differences are
/// free: `NameSpace` suggests `namespace`).
///
/// ```
/// use sendonce::core::options::{suggest, SENDONCE_OPTIONS};
/// assert_eq!(suggest("namspace", SENDONCE_OPTIONS), Some("namespace"));
/// assert_eq!(suggest("colour", SENDONCE_OPTIONS), None);
/// ```
pub fn suggest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    // ASCII only: option names are ASCII, and Unicode case tables would cost kilobytes of wasm.
    let g: Vec<char> = given.chars().map(|c| c.to_ascii_lowercase()).collect();
    let limit = match g.len() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for &name in known {
        let n: Vec<char> = name.chars().map(|c| c.to_ascii_lowercase()).collect();
        let d = distance(&g, &n);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, name));
        }
    }
    best.map(|(_, name)| name)
}

/// Refuses the first name in `given` that is not in `known`, with `invalid_option`, naming the
/// option as `{prefix}{name}` (`retry.atempts`) and suggesting the closest known name.
///
/// ```
/// use sendonce::core::options::{check_names, SENDONCE_OPTIONS};
/// let err = check_names("", &["namspace".to_string()], SENDONCE_OPTIONS).unwrap_err();
/// assert_eq!(err.code(), "invalid_option");
/// assert!(err.to_string().contains("did you mean `namespace`?"));
/// assert!(check_names("", &["namespace".to_string()], SENDONCE_OPTIONS).is_ok());
/// ```
pub fn check_names(prefix: &str, given: &[String], known: &[&str]) -> Result<(), SendonceError> {
    for name in given {
        if known.contains(&name.as_str()) {
            continue;
        }
        let reason = match suggest(name, known) {
            Some(s) => format!("is not an option here; did you mean `{prefix}{s}`?"),
            None => format!("is not an option here; known: {}", known.join(", ")),
        };
        let shown = if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            format!("{prefix}{name}")
        } else {
            format!("{prefix}{}", quoted(name, '"'))
        };
        return Err(SendonceError::option(&shown, reason));
    }
    Ok(())
}

/// Edit distance (Damerau: an adjacent swap counts as one edit, as in `windwos`).
fn distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    // Names are short: a full table is a few hundred cells at most. Longer inputs are
    // not option names anyone meant; they are compared by length only.
    if n > 64 || m > 64 {
        return n.abs_diff(m).max(4);
    }
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// Longest action name (`so.action(name, ...)` and a form's `action` option), counted in
/// characters (Unicode scalar values), not bytes, so that a name in any script gets the same
/// room: 100 emoji are as good a name as 100 ASCII letters.
pub const MAX_ACTION_NAME_CHARS: usize = 100;

/// The one rule for an action name, for actions and forms alike: given, not empty, at most
/// [`MAX_ACTION_NAME_CHARS`] characters.
///
/// ```
/// use sendonce::core::options::action_name;
/// assert_eq!(action_name(Some("checkout".into())).unwrap(), "checkout");
/// assert!(action_name(Some("😀".repeat(100))).is_ok());
/// assert!(action_name(Some("a".repeat(101))).is_err());
/// assert!(action_name(Some(String::new())).is_err() && action_name(None).is_err());
/// ```
pub fn action_name(name: Option<String>) -> Result<String, SendonceError> {
    name.filter(|n| !n.is_empty() && n.chars().count() <= MAX_ACTION_NAME_CHARS)
        .ok_or_else(|| {
            SendonceError::option(
                "action",
                format!("the action name must be 1..={MAX_ACTION_NAME_CHARS} characters"),
            )
        })
}
