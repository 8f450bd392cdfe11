//! Stored records and their schema: what sendonce keeps in storage, how it is encoded, and
//! how a record that does not decode is skipped.
//!
//! Storage keys (all under the namespace prefix `{ns}:v1:`; every part is escaped with
//! [`key_part`] so that a `:` inside a namespace, key or conversation id cannot make one
//! key look like another):
//! - `{ns}:v1:a:{key}`             an action ([`ActionRecord`]), see [`action_key`]
//! - `{ns}:v1:i:{action}:{fp}`     index: action name + fingerprint -> key (plain key text),
//!   see [`index_key`]
//! - `{ns}:v1:d:{form}`            a form draft ([`DraftRecord`]), see [`draft_key`]
//! - `{ns}:v1:o:{conversation}:{seq}` one chat message of the outbox ([`OutboxEntry`]), `seq`
//!   zero-padded to 10 digits so that keys sort in delivery order, see [`outbox_key`]
//! - `{ns}:v1:q:{key}`             a finished quick reply ([`QuickReplyRecord`]), see [`quick_key`]
//! - `{ns}:v1:s:{id or hash}`      an inbound message already handled ([`SeenRecord`]), see
//!   [`seen_key`]
//!
//! Every record is one compact JSON object with `"v": SCHEMA_VERSION` and
//! `"t": "action" | "draft" | "outbox" | "quick" | "seen"`, and one- or two-letter member
//! names: localStorage has about 5 MB per origin and the records of a busy chat add up. A
//! finished action with a small reply is about 250 bytes (measured in `tests/core_records.rs`).
//! Optional members are left out when empty. Expiry is checked when a record is read
//! ([`Record::decode`]), the way workbox's queue checks it lazily, so nothing needs a timer.

use crate::core::fingerprint::Fingerprint;
use crate::core::key::Key;
use crate::core::status::StatusCode;
use crate::core::window::ActionKind;

/// The version written into every record. A record of another version is foreign: skipped,
/// reported and removed.
pub const SCHEMA_VERSION: u64 = 1;

/// How long an unfinished action keeps its key and is offered for resending: 24 h.
pub const PENDING_RETENTION_MS: u64 = 86_400_000;

/// The request an action sends, exactly: the same URL, method, headers and body bytes go out on
/// every attempt. Headers that carry credentials are never stored (see [`stored_headers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    /// Absolute or page-relative URL.
    pub url: String,
    /// HTTP method, upper case.
    pub method: String,
    /// The caller's headers (without the idempotency key header, which is added per attempt).
    pub headers: Vec<(String, String)>,
    /// The body text, if any.
    pub body: Option<String>,
}

/// The server's answer kept with a finished action, so that a repeat within the window gets it
/// back without a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReply {
    /// HTTP status (0 when there was no HTTP answer).
    pub status: u16,
    /// `Content-Type` of the body, if known.
    pub content_type: Option<String>,
    /// Body text, bounded in size.
    pub body: String,
    /// Whether the server marked it as a replay.
    pub replayed: bool,
}

/// One action: its key, what it is, where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    /// The idempotency key.
    pub key: Key,
    /// The action's name (`"createOrder"`).
    pub action: String,
    /// Where it comes from (decides the default window).
    pub kind: ActionKind,
    /// Fingerprint of the payload.
    pub fingerprint: Fingerprint,
    /// The request, kept until the action is confirmed so that it can be resent after a reload.
    pub request: Option<StoredRequest>,
    /// Last status.
    pub status: StatusCode,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the key was born (ms since the Unix epoch).
    pub created_at: u64,
    /// When the action got its final status, if it did.
    pub finished_at: Option<u64>,
    /// The window that applies once finished (ms).
    pub window_ms: u64,
    /// The stored reply of a finished action.
    pub reply: Option<StoredReply>,
}

impl ActionRecord {
    /// When this record stops mattering: `finished_at + window` for a finished action,
    /// `created_at + 24 h` for an unfinished one.
    pub fn expires_at(&self) -> u64 {
        match self.finished_at {
            Some(t) => t.saturating_add(self.window_ms),
            None => self.created_at.saturating_add(PENDING_RETENTION_MS),
        }
    }

    /// True when the action has a final status.
    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }
}

/// Header names that must never be written to storage: credentials stay in memory.
pub const PRIVATE_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization", "x-csrf-token"];

/// The caller's headers that may be stored: all but [`PRIVATE_HEADERS`] (any letter case).
pub fn stored_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| !PRIVATE_HEADERS.iter().any(|p| k.eq_ignore_ascii_case(p)))
        .cloned()
        .collect()
}
