//! Bot quick-reply decisions: validating a conversation id, what a tap does (run the handler,
//! join the run in flight, or repeat the stored result), and the identities an inbound message
//! is deduplicated by (its id, and a hash of its content). Pure: no clock, no storage.
//!
//! Who judges a window ([`Expiry`]): in one page (its tabs share one clock) the record's own
//! times against the clock; across processes sharing a storage adapter, the store itself. A
//! process never compares another process's timestamps with its own clock: two bot servers
//! whose clocks differ by more than a window would each think the other's result had expired
//! and run the same tap again under a new key (SPEC 4).

use crate::core::error::SendonceError;
use crate::core::fingerprint::sha256_hex;
use crate::core::json::Value;
use crate::core::key::{bot_key, Key};
use crate::core::record::{QuickReplyRecord, SeenRecord};

/// Longest conversation id accepted (it becomes part of keys and storage keys).
pub const MAX_CONVERSATION_ID: usize = 255;

/// Checks a conversation id: 1..=255 bytes, no newline (the bot key joins its parts with
/// `\n`, so a newline would let two different conversations share keys), no other control
/// characters.
///
/// ```
/// use sendonce::core::quick::validate_conversation_id;
/// assert!(validate_conversation_id("c-42").is_ok());
/// assert_eq!(validate_conversation_id("a\nb").unwrap_err().code(), "invalid_option");
/// ```
pub fn validate_conversation_id(id: &str) -> Result<(), SendonceError> {
    if id.is_empty() || id.len() > MAX_CONVERSATION_ID {
        return Err(SendonceError::option(
            "conversationId",
            format!("must be 1..={MAX_CONVERSATION_ID} characters"),
        ));
    }
    if id.contains(['\n', '\r']) {
        return Err(SendonceError::option(
            "conversationId",
            "must not contain a newline: keys are derived from namespace, conversation and action joined by newlines",
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(SendonceError::option(
            "conversationId",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Longest action key accepted, in bytes: room for a composite key of a Slack button (message
/// ts, block id, action id and a value of up to 2000 characters) encoded as a JSON array.
pub const MAX_ACTION_KEY: usize = 16 * 1024;

/// Checks an action key of a quick reply: non-empty, at most [`MAX_ACTION_KEY`] bytes, no newline (the bot
/// key joins namespace, conversation and action key with `\n`, so `"a\nb"/c/d` and
/// `"a"/b/"c\nd"` would share a key).
///
/// ```
/// use sendonce::core::quick::validate_action_key;
/// assert!(validate_action_key("createTicket|orderId=123").is_ok());
/// assert_eq!(validate_action_key("c\nd").unwrap_err().code(), "invalid_option");
/// ```
pub fn validate_action_key(action_key: &str) -> Result<(), SendonceError> {
    if action_key.is_empty() || action_key.len() > MAX_ACTION_KEY {
        return Err(SendonceError::option(
            "actionKey",
            format!("must be 1..={MAX_ACTION_KEY} bytes"),
        ));
    }
    if action_key.contains(['\n', '\r']) {
        return Err(SendonceError::option(
            "actionKey",
            "must not contain a newline: keys are derived from namespace, conversation and action joined by newlines",
        ));
    }
    Ok(())
}

/// What a tap on a quick reply does.
#[derive(Debug, Clone, PartialEq)]
pub enum QuickPlan {
    /// The same quick reply is running: wait for its result, do not call the handler.
    Join,
    /// It finished inside the window: give back the stored result, do not call the handler.
    Repeat(Value),
    /// Call the handler with the key and store its result.
    Run,
}

/// Who decides whether a stored record is still inside its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This page's clock, now (ms since the Unix epoch): memory, local and session storage,
    /// whose every reader shares the clock that wrote the record. Inside while
    /// `now < expires_at()`.
    Clock(u64),
    /// The shared store (a storage adapter, e.g. Redis): what marks a window was written with
    /// the window as its time to live, so the store expires it, on its own clock; a mark the
    /// store still returns is inside its window. No process's clock is read, so processes
    /// whose clocks disagree still agree on every window.
    Store,
}

impl Expiry {
    /// True when a record that expires at `expires_at` (by the clock of whoever wrote it) and
    /// that the store returned is still inside its window.
    ///
    /// ```
    /// use sendonce::core::quick::Expiry;
    /// assert!(Expiry::Clock(999).inside(1000));
    /// assert!(!Expiry::Clock(1000).inside(1000));
    /// // A store that still returns it has not expired it: whatever the writer's clock said.
    /// assert!(Expiry::Store.inside(0));
    /// ```
    pub fn inside(self, expires_at: u64) -> bool {
        match self {
            Expiry::Clock(now) => now < expires_at,
            Expiry::Store => true,
        }
    }
}

/// Decides a tap (SPEC section 6, "Quick replies"). `stored` is the record of the latest run,
/// if any; `marked` says whether the store still holds that run's window mark (see
/// [`window_mark`]; only read with [`Expiry::Store`]). With [`Expiry::Clock`] a record at or
/// past `finished_at + window` runs again; with [`Expiry::Store`] a record whose mark the store
/// has expired runs again.
///
/// ```
/// use sendonce::core::quick::{plan_quick, Expiry, QuickPlan};
/// assert_eq!(plan_quick(None, false, false, Expiry::Clock(0)), QuickPlan::Run);
/// assert_eq!(plan_quick(None, false, true, Expiry::Store), QuickPlan::Join);
/// ```
pub fn plan_quick(
    stored: Option<&QuickReplyRecord>,
    marked: bool,
    in_flight: bool,
    expiry: Expiry,
) -> QuickPlan {
    if in_flight {
        return QuickPlan::Join;
    }
    match (stored, expiry) {
        (Some(r), Expiry::Clock(now)) if now < r.expires_at() => {
            QuickPlan::Repeat(r.result.clone())
        }
        (Some(r), Expiry::Store) if marked => QuickPlan::Repeat(r.result.clone()),
        _ => QuickPlan::Run,
    }
}

/// The identity of the window mark of the quick-reply run whose key is `key`: over a storage
/// adapter, each finished run also writes a [`SeenRecord`] under this identity with the window
/// as its time to live, and the run answers repeats while the store still has it. The record
/// of the run itself lives for [`QUICK_RETENTION_MS`] (the next run's key is derived from it),
/// so its presence says nothing about the window. Named after the run's key, a mark of an
/// earlier run never vouches for a later one. (No inbound identity starts with `q\n`: they
/// start with `id\n` or `h`.)
///
/// ```
/// use sendonce::core::quick::window_mark;
/// use sendonce::core::key::bot_key;
/// let k = bot_key("ns", "c", "a");
/// assert_eq!(window_mark(&k), format!("q\n{}", k.as_str()));
/// ```
pub fn window_mark(key: &Key) -> String {
    format!("q\n{}", key.as_str())
}

/// The identity of an inbound message handled with `handleOnce()`: its id when it has one,
/// else its content; the first of `identities` ([`seen_by_id`], then [`seen_by_content`]).
/// Its lease and its key are derived from it, so every delivery of the message agrees on them.
///
/// The key passed to the handler: `bot_key(namespace, conversationId, "inbound\n" + identity)`,
/// the same on every delivery and in every process.
///
/// ```
/// use sendonce::core::quick::{inbound_key, seen_by_id};
/// let a = inbound_key("ns", "c", &seen_by_id("c", "m-1"));
/// assert_eq!(a, inbound_key("ns", "c", &seen_by_id("c", "m-1")));
/// assert_ne!(a, inbound_key("ns", "c", &seen_by_id("c", "m-2")));
/// ```
pub fn inbound_key(namespace: &str, conversation_id: &str, identity: &str) -> Key {
    bot_key(namespace, conversation_id, &format!("inbound\n{identity}"))
}

/// The key a run of a quick reply passes to its handler. The first run of a quick reply in a
/// conversation gets `bot_key(namespace, conversationId, actionKey)`, the same in every tab and
/// on the server. A run after the previous one's window has passed is a new action on purpose
/// (SPEC principle 2), so it must not be answered with the server's replay of the previous key:
/// it gets `bot_key(namespace, conversationId, actionKey + "\n" + previousKey)`, still
/// deterministic (a server that knows the previous key derives the next one).
///
/// ```
/// use sendonce::core::quick::run_key;
/// use sendonce::core::key::bot_key;
/// assert_eq!(run_key("ns", "c", "a", None), bot_key("ns", "c", "a"));
/// ```
pub fn run_key(
    namespace: &str,
    conversation_id: &str,
    action_key: &str,
    previous: Option<&QuickReplyRecord>,
) -> Key {
    match previous {
        None => bot_key(namespace, conversation_id, action_key),
        Some(p) => bot_key(
            namespace,
            conversation_id,
            &format!("{action_key}\n{}", p.key.as_str()),
        ),
    }
}

/// How long a quick reply's record is kept in storage: 24 h, like the server keeps a key.
/// Its window decides repeats; the longer life lets the next run know the previous key
/// ([`run_key`]).
pub const QUICK_RETENTION_MS: u64 = 86_400_000;

/// The identity of an inbound message by id, scoped to its conversation.
pub fn seen_by_id(conversation_id: &str, message_id: &str) -> String {
    format!("id\n{conversation_id}\n{message_id}")
}

/// The identity of an inbound message by content: SHA-256 over the conversation and the text
/// with surrounding whitespace trimmed and inner runs of whitespace made one space, so a
/// channel's retry that re-wraps the text is still recognised. `None` for an empty text (an
/// empty text says nothing about being a duplicate).
///
/// ```
/// use sendonce::core::quick::seen_by_content;
/// assert_eq!(seen_by_content("c", " hi  there\n"), seen_by_content("c", "hi there"));
/// assert_ne!(seen_by_content("c", "hi"), seen_by_content("d", "hi"));
/// assert_eq!(seen_by_content("c", "  "), None);
/// ```
pub fn seen_by_content(conversation_id: &str, text: &str) -> Option<String> {
    let normal: Vec<&str> = text.split_whitespace().collect();
    if normal.is_empty() {
        return None;
    }
    let input = format!("{conversation_id}\n{}", normal.join(" "));
    Some(format!("h{}", sha256_hex(input.as_bytes()).as_str()))
}

/// True when any of the records found for an inbound message's identities is still inside its
/// window: the message was already handled. Over a storage adapter ([`Expiry::Store`]) a record
/// the store returns is inside (it was written with the window as its time to live).
///
/// ```
/// use sendonce::core::quick::{is_seen, Expiry};
/// use sendonce::core::record::SeenRecord;
/// let r = SeenRecord { id_or_hash: "m".into(), at: 1000, window_ms: 1000 };
/// assert!(is_seen(&[Some(r.clone())], Expiry::Clock(1999)));
/// assert!(!is_seen(&[Some(r.clone())], Expiry::Clock(2000)));
/// assert!(is_seen(&[Some(r)], Expiry::Store));
/// assert!(!is_seen(&[None], Expiry::Store));
/// ```
pub fn is_seen(found: &[Option<SeenRecord>], expiry: Expiry) -> bool {
    found
        .iter()
        .flatten()
        .any(|r| expiry.inside(r.expires_at()))
}
