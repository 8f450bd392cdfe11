//! The stored records: what sendonce keeps, their expiry and the storage key of each.

use crate::core::fingerprint::{Fingerprint, FormValue};
use crate::core::json::Value;
use crate::core::key::Key;
use crate::core::status::StatusCode;
use crate::core::window::ActionKind;

use super::keys::{action_key, draft_key, outbox_key, quick_key, seen_key};

/// The version written into every record. A record of another version is foreign: skipped,
/// reported and removed.
pub const SCHEMA_VERSION: u64 = 1;

/// How long an unfinished action keeps its key and is offered for resending: 24 h.
pub const PENDING_RETENTION_MS: u64 = 86_400_000;

/// The request an action sends, exactly: the same URL, method, headers and body bytes go out on
/// every attempt. Only the headers of [`STORED_HEADERS`] are ever stored, and a form's private
/// values (passwords, card numbers) are sent but never stored: the request written to storage
/// says what it lacks (`private_body`, `memory_headers`), so that a page after a reload never
/// sends it without them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredRequest {
    /// Absolute or page-relative URL.
    pub url: String,
    /// HTTP method, upper case.
    pub method: String,
    /// The caller's headers (without the idempotency key header, which is added per attempt).
    pub headers: Vec<(String, String)>,
    /// The body text, if any.
    pub body: Option<String>,
    /// In memory only, never encoded: the body to store instead of `body` when `body` holds
    /// private values (a form's password or card number). Storing it sets `private_body`.
    pub visible_body: Option<String>,
    /// The stored body lacks private values: only the user (submitting the form again) can
    /// complete it, so it is never resent on its own after a reload.
    pub private_body: bool,
    /// Headers outside [`STORED_HEADERS`] were left out of storage: after a reload they come
    /// from the `headers` hook, or the request waits.
    pub memory_headers: bool,
    /// Secret query parameters of `url` (`access_token`, `api_key`...) were left out of
    /// storage (see [`crate::core::url::storable_url`]): the stored URL is not the one sent,
    /// so a request restored from it waits for the page to send the action again.
    pub secret_url: bool,
    /// What a form's request needs that is never stored, by name, so that a page after a
    /// reload can say what it waits for: `"file:receipt.pdf"` for each attached file,
    /// `"field:password"` for each private field that held a value. Names only, never values.
    pub waiting_for: Vec<String>,
}

impl StoredRequest {
    /// The request as it may be written to storage: the allowed headers only, the visible body
    /// instead of one with private values, the URL without its fragment and secret query
    /// parameters, and flags saying what was left out. The key header `key_header` is dropped
    /// too (it is added per attempt).
    ///
    /// ```
    /// use sendonce::core::record::StoredRequest;
    /// let r = StoredRequest {
    ///     url: "/login".into(), method: "POST".into(),
    ///     headers: vec![("X-API-Key".into(), "s3cret".into()), ("Accept".into(), "*/*".into())],
    ///     body: Some(r#"{"user":"a","password":"pw"}"#.into()),
    ///     visible_body: Some(r#"{"user":"a"}"#.into()),
    ///     ..Default::default()
    /// };
    /// let s = r.storable("Idempotency-Key");
    /// assert_eq!(s.headers, vec![("Accept".to_string(), "*/*".to_string())]);
    /// assert_eq!(s.body.as_deref(), Some(r#"{"user":"a"}"#));
    /// assert!(s.private_body && s.memory_headers);
    /// ```
    pub fn storable(&self, key_header: &str) -> StoredRequest {
        let headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(key_header))
            .cloned()
            .collect();
        let kept = stored_headers(&headers);
        let (url, secret_url) = crate::core::url::storable_url(&self.url);
        StoredRequest {
            url,
            method: self.method.clone(),
            memory_headers: self.memory_headers || kept.len() != headers.len(),
            headers: kept,
            body: self.visible_body.clone().or_else(|| self.body.clone()),
            visible_body: None,
            private_body: self.private_body || self.visible_body.is_some(),
            secret_url: self.secret_url || secret_url,
            waiting_for: self.waiting_for.clone(),
        }
    }

    /// True when this request can be sent as it is: nothing private is missing from its body
    /// or its URL, and headers left out of storage come from a `headers` hook
    /// (`has_headers_hook`).
    ///
    /// ```
    /// use sendonce::core::record::StoredRequest;
    /// let r = StoredRequest { memory_headers: true, ..Default::default() };
    /// assert!(!r.is_complete(false));
    /// assert!(r.is_complete(true));
    /// ```
    pub fn is_complete(&self, has_headers_hook: bool) -> bool {
        !self.private_body && !self.secret_url && (!self.memory_headers || has_headers_hook)
    }

    /// What this request waits for before it can be sent again (empty when it is complete):
    /// the files and private fields of [`StoredRequest::waiting_for`], and `"headers"` when
    /// headers were left out of storage and there is no `headers` hook, `"url"` when secret
    /// query parameters of its URL were left out. A request that lacks
    /// private values but does not know which (stored by an older version) says
    /// `"private values"`.
    ///
    /// ```
    /// use sendonce::core::record::StoredRequest;
    /// let r = StoredRequest { private_body: true, memory_headers: true,
    ///     waiting_for: vec!["file:receipt.pdf".into()], ..Default::default() };
    /// assert_eq!(r.waits_for(false), ["file:receipt.pdf", "headers"]);
    /// assert_eq!(r.waits_for(true), ["file:receipt.pdf"]);
    /// ```
    pub fn waits_for(&self, has_headers_hook: bool) -> Vec<String> {
        let mut out = Vec::new();
        if self.private_body {
            if self.waiting_for.is_empty() {
                out.push("private values".to_string());
            }
            out.extend(self.waiting_for.iter().cloned());
        }
        if self.secret_url {
            out.push("url".to_string());
        }
        if self.memory_headers && !has_headers_hook {
            out.push("headers".to_string());
        }
        out
    }
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
    /// False for an action whose target honours no key (`{ idempotent: false }`): a timeout
    /// or a lost connection after its request may have left makes it `uncertain` instead of
    /// retrying it, also after a restart. Written as `"u": 1` only when false.
    pub idempotent: bool,
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

/// The only request headers ever written to storage (an allow-list: a deny-list of credential
/// names misses `X-API-Key`, `X-Auth-Token`, `X-XSRF-TOKEN` and whatever a team invents).
/// Every other header lives in the page's memory, or comes from the `headers` hook.
pub const STORED_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "accept-language",
    "content-language",
];

/// The caller's headers that may be stored: those of [`STORED_HEADERS`] (any letter case).
///
/// ```
/// use sendonce::core::record::stored_headers;
/// let h = vec![("X-Auth-Token".to_string(), "t".to_string()), ("Content-Type".into(), "application/json".into())];
/// assert_eq!(stored_headers(&h), vec![("Content-Type".to_string(), "application/json".to_string())]);
/// ```
pub fn stored_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| STORED_HEADERS.iter().any(|p| k.eq_ignore_ascii_case(p)))
        .cloned()
        .collect()
}

/// How long a delivered chat message stays in the outbox: 24 h, the server's retention of its
/// id. Until then a late echo of it still merges by id instead of showing a second bubble.
/// Messages that are not delivered never expire: they are the user's words.
pub const DELIVERED_RETENTION_MS: u64 = 86_400_000;

/// One value of a saved form field: text, or a file by its metadata (its bytes are never
/// stored). The same type the form fingerprint reads, so a restored draft fingerprints exactly
/// as the form it came from.
pub type FieldValue = FormValue;

/// A form's draft: what the user typed, kept until the server confirmed it (SPEC principle 5).
/// Private fields (passwords, card numbers, one-time codes, `exclude`d names) never get here:
/// the form binding leaves them out before building the draft.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRecord {
    /// The form's id (its `id`, `name` or the id the caller gave).
    pub form: String,
    /// The action the form sends (`"createOrder"`).
    pub action: String,
    /// Field name -> value, in DOM order; repeated names appear once per value.
    pub fields: Vec<(String, FieldValue)>,
    /// The key born with the draft, kept while the data does not change.
    pub key: Option<Key>,
    /// The fingerprint of `fields` when `key` was last used, if it was.
    pub fingerprint: Option<Fingerprint>,
    /// When the draft was saved (ms since the Unix epoch).
    pub saved_at: u64,
}

/// A draft not saved for this long (7 days) is stale: when storage is full it may be evicted,
/// after every finished record, to make room for a pending action.
pub const STALE_DRAFT_MS: u64 = 7 * 86_400_000;

impl DraftRecord {
    /// Drafts never expire on their own (`u64::MAX`): they are the user's words and are
    /// removed only when the server confirmed them, or by the user.
    pub fn expires_at(&self) -> u64 {
        u64::MAX
    }
}

/// Where a chat message stands, as the bubble shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Being sent, or waiting to be resent with the same id.
    Sending,
    /// The server confirmed it.
    Delivered,
    /// It could not be sent; the user can retry or discard it.
    Error,
}

impl OutboxStatus {
    /// `"sending"`, `"delivered"` or `"error"`, as in the JS API.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Sending => "sending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Error => "error",
        }
    }

    /// Reads a name written by [`OutboxStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sending" => OutboxStatus::Sending,
            "delivered" => OutboxStatus::Delivered,
            "error" => OutboxStatus::Error,
            _ => return None,
        })
    }
}

/// One chat message in the outbox: persisted as soon as `chat.send()` returns its id, so it
/// survives a reload and is resent with the same id.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// The message id, which is also its idempotency key.
    pub id: Key,
    /// Position in the conversation's outbox: messages are delivered in `seq` order.
    pub seq: u64,
    /// The message text.
    pub text: String,
    /// The caller's extra fields, sent with the text (`Value::Null` when none).
    pub extra: Value,
    /// Where it stands.
    pub status: OutboxStatus,
    /// The status code behind an `error` (`"rejected"`, `"offline"`...), if any.
    pub code: Option<String>,
    /// When the message was written (ms since the Unix epoch).
    pub at: u64,
    /// Where it is sent.
    pub url: String,
}

impl OutboxEntry {
    /// `at + 24 h` once delivered; never (`u64::MAX`) while not delivered.
    pub fn expires_at(&self) -> u64 {
        match self.status {
            OutboxStatus::Delivered => self.at.saturating_add(DELIVERED_RETENTION_MS),
            _ => u64::MAX,
        }
    }
}

/// The stored result of a finished bot quick reply: a repeat tap inside the window gets it back
/// without calling the handler again.
#[derive(Debug, Clone, PartialEq)]
pub struct QuickReplyRecord {
    /// The deterministic key (`bot_key`).
    pub key: Key,
    /// The quick reply's action key (`"createTicket|orderId=123"`).
    pub action_key: String,
    /// The conversation it was tapped in.
    pub conversation_id: String,
    /// What the handler returned.
    pub result: Value,
    /// When the handler finished (ms since the Unix epoch).
    pub finished_at: u64,
    /// The window (ms).
    pub window_ms: u64,
}

impl QuickReplyRecord {
    /// `finished_at + window`.
    pub fn expires_at(&self) -> u64 {
        self.finished_at.saturating_add(self.window_ms)
    }
}

/// An inbound message already handled (`qr.seen`), by id or by content hash, so that a
/// channel's retry of it is recognised within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRecord {
    /// The message id, or a hash of its content.
    pub id_or_hash: String,
    /// When it was first seen (ms since the Unix epoch).
    pub at: u64,
    /// The window (ms).
    pub window_ms: u64,
}

impl SeenRecord {
    /// `at + window`.
    pub fn expires_at(&self) -> u64 {
        self.at.saturating_add(self.window_ms)
    }
}

/// Any stored record. Encoded with [`Record::encode`], read back with [`Record::decode`] or,
/// better, [`Record::decode_stored`], which also checks the storage key it was found under.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// `"t": "action"`.
    Action(ActionRecord),
    /// `"t": "draft"`.
    Draft(DraftRecord),
    /// `"t": "outbox"`.
    Outbox(OutboxEntry),
    /// `"t": "quick"`.
    Quick(QuickReplyRecord),
    /// `"t": "seen"`.
    Seen(SeenRecord),
}

impl Record {
    /// The record's type tag, as written in `"t"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Record::Action(_) => "action",
            Record::Draft(_) => "draft",
            Record::Outbox(_) => "outbox",
            Record::Quick(_) => "quick",
            Record::Seen(_) => "seen",
        }
    }

    /// When the record stops mattering (ms since the Unix epoch); `u64::MAX` for never. A
    /// record is expired when `now_ms >= expires_at()`.
    pub fn expires_at(&self) -> u64 {
        match self {
            Record::Action(r) => r.expires_at(),
            Record::Draft(r) => r.expires_at(),
            Record::Outbox(r) => r.expires_at(),
            Record::Quick(r) => r.expires_at(),
            Record::Seen(r) => r.expires_at(),
        }
    }

    /// The storage key this record lives under in namespace `ns`.
    pub fn storage_key(&self, ns: &str) -> String {
        match self {
            Record::Action(r) => action_key(ns, &r.key),
            Record::Draft(r) => draft_key(ns, &r.form),
            Record::Outbox(r) => outbox_key(ns, &r.conversation_id, r.seq),
            Record::Quick(r) => quick_key(ns, &r.key),
            Record::Seen(r) => seen_key(ns, &r.id_or_hash),
        }
    }
}
