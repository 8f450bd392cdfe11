//! Bot quick-reply decisions: validating a conversation id, what a tap does (run the handler,
//! join the run in flight, or repeat the stored result), and the identities an inbound message
//! is deduplicated by (its id, and a hash of its content). Pure: no clock, no storage.

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

/// Checks an action key of a quick reply: non-empty, at most 1000 bytes, no newline (the bot
/// key joins namespace, conversation and action key with `\n`, so `"a\nb"/c/d` and
/// `"a"/b/"c\nd"` would share a key).
///
/// ```
/// use sendonce::core::quick::validate_action_key;
/// assert!(validate_action_key("createTicket|orderId=123").is_ok());
/// assert_eq!(validate_action_key("c\nd").unwrap_err().code(), "invalid_option");
/// ```
pub fn validate_action_key(action_key: &str) -> Result<(), SendonceError> {
    if action_key.is_empty() || action_key.len() > 1000 {
        return Err(SendonceError::option(
            "actionKey",
            "must be 1..=1000 characters",
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

/// Decides a tap (SPEC section 6, "Quick replies"). `stored` is the record read under the
/// key, if any; an expired one (`now_ms` at or past `finished_at + window`) runs again.
///
/// ```
/// use sendonce::core::quick::{plan_quick, QuickPlan};
/// assert_eq!(plan_quick(None, false, 0), QuickPlan::Run);
/// assert_eq!(plan_quick(None, true, 0), QuickPlan::Join);
/// ```
pub fn plan_quick(stored: Option<&QuickReplyRecord>, in_flight: bool, now_ms: u64) -> QuickPlan {
    if in_flight {
        return QuickPlan::Join;
    }
    match stored {
        Some(r) if now_ms < r.expires_at() => QuickPlan::Repeat(r.result.clone()),
        _ => QuickPlan::Run,
    }
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
/// window: the message was already handled.
pub fn is_seen(found: &[Option<SeenRecord>], now_ms: u64) -> bool {
    found.iter().flatten().any(|r| now_ms < r.expires_at())
}
