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
//! finished action with a small JSON reply is 241 bytes (measured in `tests/core_records.rs`).
//! Optional members are left out when empty. Expiry is checked when a record is read
//! ([`Record::decode`]), the way workbox's queue checks it lazily, so nothing needs a timer.

use crate::core::error::SendonceError;
use crate::core::fingerprint::{Fingerprint, FormValue};
use crate::core::json::{self, Value};
use crate::core::key::{validate_key, Key};
use crate::core::status::StatusCode;
use crate::core::window::{ActionKind, MAX_WINDOW_MS};

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

    /// The record as compact JSON, with `"v"` and `"t"` first.
    ///
    /// ```
    /// use sendonce::core::record::{Record, SeenRecord};
    /// let r = Record::Seen(SeenRecord { id_or_hash: "m-1".into(), at: 5, window_ms: 5000 });
    /// assert_eq!(r.encode(), r#"{"v":1,"t":"seen","h":"m-1","a":5,"w":5000}"#);
    /// ```
    pub fn encode(&self) -> String {
        // Written straight into the text, member by member: no `Value` tree of owned names and
        // copied strings is built only to be written out.
        let mut out = String::with_capacity(128);
        let mut w = Members::open(&mut out);
        w.num("v", SCHEMA_VERSION);
        w.str("t", self.type_name());
        match self {
            Record::Action(r) => {
                w.str("k", r.key.as_str());
                w.str("a", &r.action);
                if r.kind != ActionKind::Default {
                    w.str("d", r.kind.as_str());
                }
                w.str("f", r.fingerprint.as_str());
                if let Some(q) = &r.request {
                    encode_request(w.object("q"), q);
                }
                w.str("s", r.status.as_str());
                w.num("n", u64::from(r.attempts));
                w.num("c", r.created_at);
                // The finish time as ms after `c` (a few digits instead of thirteen); a clock
                // that went back between the two is rare and written as it is, under "E".
                match r.finished_at {
                    Some(e) if e >= r.created_at => w.num("e", e - r.created_at),
                    Some(e) => w.num("E", e),
                    None => {}
                }
                w.num("w", r.window_ms);
                if let Some(reply) = &r.reply {
                    encode_reply(w.object("r"), reply);
                }
                if !r.idempotent {
                    w.num("u", 1);
                }
            }
            Record::Draft(r) => {
                w.str("o", &r.form);
                w.str("a", &r.action);
                let out = w.name("x");
                out.push('[');
                for (i, (name, v)) in r.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    json::write_string(out, name);
                    out.push(',');
                    encode_field(out, v);
                    out.push(']');
                }
                out.push(']');
                if let Some(k) = &r.key {
                    w.str("k", k.as_str());
                }
                if let Some(f) = &r.fingerprint {
                    w.str("f", f.as_str());
                }
                w.num("s", r.saved_at);
            }
            Record::Outbox(r) => {
                w.str("c", &r.conversation_id);
                w.str("k", r.id.as_str());
                w.num("q", r.seq);
                w.str("x", &r.text);
                if r.extra != Value::Null {
                    w.value("e", &r.extra);
                }
                w.str("s", r.status.as_str());
                if let Some(code) = &r.code {
                    w.str("o", code);
                }
                w.num("a", r.at);
                // Never the URL's secrets (SPEC 5): the live chat gives them again when it
                // delivers the message (`core::url::live_url`).
                w.str("u", &crate::core::url::storable_url(&r.url).0);
            }
            Record::Quick(r) => {
                w.str("k", r.key.as_str());
                w.str("a", &r.action_key);
                w.str("c", &r.conversation_id);
                w.value("r", &r.result);
                w.num("e", r.finished_at);
                w.num("w", r.window_ms);
            }
            Record::Seen(r) => {
                w.str("h", &r.id_or_hash);
                w.num("a", r.at);
                w.num("w", r.window_ms);
            }
        }
        w.close();
        out
    }

    /// Reads a stored record. `Ok(None)` when it has expired at `now_ms` (the caller removes
    /// it); `Err(CorruptRecord)` for anything that is not a complete record of this schema
    /// version: not JSON, truncated, another type, a member of the wrong type, a key or
    /// fingerprint that does not validate. Never panics. Error messages name members, never
    /// their values, so they can go into events.
    ///
    /// ```
    /// use sendonce::core::record::Record;
    /// let text = r#"{"v":1,"t":"seen","h":"m-1","a":5,"w":5000}"#;
    /// assert!(Record::decode(text, 1000).unwrap().is_some());
    /// assert!(Record::decode(text, 5005).unwrap().is_none());
    /// assert_eq!(Record::decode("{\"v\":2}", 0).unwrap_err().code(), "corrupt_record");
    /// ```
    pub fn decode(text: &str, now_ms: u64) -> Result<Option<Record>, SendonceError> {
        let value = json::parse(text).map_err(|_| corrupt("not JSON"))?;
        let o = Obj::new(&value)?;
        if o.req("v")?.as_u64() != Some(SCHEMA_VERSION) {
            return Err(corrupt("another schema version"));
        }
        o.check(&[("t", Member::Str)])?;
        // Every member is checked before anything is built: building cannot fail, so a
        // record refused halfway has nothing to undo.
        let record = match o.get("t").str() {
            "action" => {
                check_action(&o)?;
                Record::Action(build_action(&o))
            }
            "draft" => {
                check_draft(&o)?;
                Record::Draft(build_draft(&o))
            }
            "outbox" => {
                o.check(&[
                    ("c", Member::Str),
                    ("k", Member::Key),
                    ("q", Member::U64),
                    ("x", Member::Str),
                    ("e", Member::OptValue),
                    ("s", Member::Name(|s| OutboxStatus::parse(s).is_some())),
                    ("o", Member::OptStr),
                    ("a", Member::U64),
                    ("u", Member::Str),
                ])?;
                Record::Outbox(OutboxEntry {
                    conversation_id: o.get("c").string(),
                    id: o.get("k").key(),
                    seq: o.get("q").num(),
                    text: o.get("x").string(),
                    extra: o.opt("e").cloned().unwrap_or(Value::Null),
                    status: OutboxStatus::parse(o.get("s").str()).unwrap_or(OutboxStatus::Error),
                    code: o.get("o").opt_string(),
                    at: o.get("a").num(),
                    url: o.get("u").string(),
                })
            }
            "quick" => {
                o.check(&[
                    ("k", Member::Key),
                    ("a", Member::Str),
                    ("c", Member::Str),
                    ("r", Member::Value),
                    ("e", Member::U64),
                    ("w", Member::Window),
                ])?;
                Record::Quick(QuickReplyRecord {
                    key: o.get("k").key(),
                    action_key: o.get("a").string(),
                    conversation_id: o.get("c").string(),
                    result: o.opt("r").cloned().unwrap_or(Value::Null),
                    finished_at: o.get("e").num(),
                    window_ms: o.get("w").num(),
                })
            }
            "seen" => {
                o.check(&[
                    ("h", Member::Str),
                    ("a", Member::U64),
                    ("w", Member::Window),
                ])?;
                Record::Seen(SeenRecord {
                    id_or_hash: o.get("h").string(),
                    at: o.get("a").num(),
                    window_ms: o.get("w").num(),
                })
            }
            _ => return Err(corrupt("unknown type")),
        };
        Ok((now_ms < record.expires_at()).then_some(record))
    }

    /// [`Record::decode`] for a value found under `storage_key`: also refuses (as
    /// `CorruptRecord`) a key outside namespace `ns` and schema v1, and a record that does not
    /// belong under the key it was found at (a foreign or copied value).
    ///
    /// ```
    /// use sendonce::core::record::{Record, SeenRecord};
    /// let r = Record::Seen(SeenRecord { id_or_hash: "m-1".into(), at: 5, window_ms: 5000 });
    /// let key = r.storage_key("shop");
    /// assert_eq!(Record::decode_stored("shop", &key, &r.encode(), 10).unwrap(), Some(r.clone()));
    /// assert!(Record::decode_stored("blog", &key, &r.encode(), 10).is_err());
    /// ```
    pub fn decode_stored(
        ns: &str,
        storage_key: &str,
        text: &str,
        now_ms: u64,
    ) -> Result<Option<Record>, SendonceError> {
        if !owns(ns, storage_key) {
            return Err(corrupt("storage key outside this namespace or schema"));
        }
        // Decode without the expiry check first, so a misplaced record is reported even when
        // it has also expired.
        let record = match Record::decode(text, 0)? {
            Some(r) => r,
            None => return Ok(None),
        };
        if record.storage_key(ns) != storage_key {
            return Err(corrupt("record does not belong under this storage key"));
        }
        Ok((now_ms < record.expires_at()).then_some(record))
    }
}

fn corrupt(reason: &str) -> SendonceError {
    SendonceError::CorruptRecord(reason.to_string())
}

/// `member "{name}" {what}`. Member names are plain letters, so no quoting is needed.
fn member_error(name: &str, what: &str) -> SendonceError {
    let mut s = String::with_capacity(32);
    s.push_str("member \"");
    s.push_str(name);
    s.push_str("\" ");
    s.push_str(what);
    SendonceError::CorruptRecord(s)
}

fn wrong_type(name: &str) -> SendonceError {
    member_error(name, "has the wrong type")
}

/// Writes the members of one JSON object straight into a text, in order.
struct Members<'o> {
    out: &'o mut String,
    empty: bool,
}

impl<'o> Members<'o> {
    fn open(out: &'o mut String) -> Self {
        out.push('{');
        Members { out, empty: true }
    }

    /// Writes `"name":` and gives the text to write the member's value into. Member names are
    /// plain letters: nothing to escape.
    fn name(&mut self, name: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
        self.out
    }

    fn str(&mut self, name: &str, s: &str) {
        json::write_string(self.name(name), s);
    }

    /// An integer, spelled as `Value::from(n)` writes it.
    fn num(&mut self, name: &str, n: u64) {
        json::write_number(self.name(name), n as f64);
    }

    fn flag(&mut self, name: &str) {
        self.name(name).push_str("true");
    }

    fn value(&mut self, name: &str, v: &Value) {
        json::write_json(self.name(name), v);
    }

    fn object(&mut self, name: &str) -> Members<'_> {
        Members::open(self.name(name))
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn encode_request(mut w: Members, q: &StoredRequest) {
    // The last gate before storage: a URL's secrets never pass it, whoever built the request.
    let (url, secret_url) = crate::core::url::storable_url(&q.url);
    w.str("u", &url);
    w.str("m", &q.method);
    if !q.headers.is_empty() {
        let out = w.name("h");
        out.push('[');
        for (i, (k, v)) in q.headers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            json::write_string(out, k);
            out.push(',');
            json::write_string(out, v);
            out.push(']');
        }
        out.push(']');
    }
    if let Some(b) = &q.body {
        w.str("b", b);
    }
    if q.private_body {
        w.flag("p");
    }
    if q.memory_headers {
        w.flag("x");
    }
    if q.secret_url || secret_url {
        w.flag("s");
    }
    if !q.waiting_for.is_empty() {
        let out = w.name("w");
        out.push('[');
        for (i, item) in q.waiting_for.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_string(out, item);
        }
        out.push(']');
    }
    w.close();
}

/// The content type that a reply stored with `"j"` and without `"c"` has.
const JSON_TYPE: &str = "application/json";

/// A reply body that is JSON written the way [`Value::to_json`] writes it is stored as JSON
/// (`"j"`), not as a string of escaped JSON (`"b"`): it saves the quotes and backslashes, and
/// `application/json` is then implied. Any other body is kept as text, byte for byte, so
/// the reply read back is always exactly the reply stored.
fn encode_reply(mut w: Members, r: &StoredReply) {
    w.num("s", u64::from(r.status));
    let as_json = r
        .content_type
        .as_deref()
        .filter(|ct| crate::core::text::contains(&ct.to_ascii_lowercase(), "json"))
        .and_then(|_| json::parse(&r.body).ok())
        .is_some_and(|v| v.to_json() == r.body);
    match &r.content_type {
        Some(ct) if as_json && ct == JSON_TYPE => {}
        Some(ct) => w.str("c", ct),
        None => {}
    }
    if as_json {
        // The body is that JSON, spelled exactly so: written as it is.
        w.name("j").push_str(&r.body);
    } else {
        w.str("b", &r.body);
    }
    if r.replayed {
        w.flag("p");
    }
    w.close();
}

fn encode_field(out: &mut String, v: &FieldValue) {
    match v {
        FormValue::Text(s) => json::write_string(out, s),
        FormValue::File {
            name,
            mime,
            size,
            last_modified,
        } => {
            let mut w = Members::open(out);
            w.str("n", name);
            w.num("z", *size);
            w.num("m", *last_modified);
            if !mime.is_empty() {
                w.str("t", mime);
            }
            w.close();
        }
    }
}

/// What one member of a stored record must be. Each record type is a table of these, checked
/// in order by one function ([`Obj::check`]), so the five types share one set of checks
/// instead of each carrying its own copy.
#[derive(Clone, Copy)]
enum Member {
    /// A string.
    Str,
    /// A string, or absent.
    OptStr,
    /// One of the names `ok` accepts (a status, a kind).
    Name(fn(&str) -> bool),
    /// [`Member::Name`], or absent.
    OptName(fn(&str) -> bool),
    /// An integer up to 2^53.
    U64,
    /// [`Member::U64`], or absent.
    OptU64,
    /// An integer that fits in a `u32`.
    U32,
    /// An integer that fits in a `u16`.
    U16,
    /// A window: an integer up to 24 h.
    Window,
    /// A valid idempotency key.
    Key,
    /// [`Member::Key`], or absent.
    OptKey,
    /// A fingerprint.
    Fingerprint,
    /// [`Member::Fingerprint`], or absent.
    OptFingerprint,
    /// Any JSON value.
    Value,
    /// Any JSON value, or absent.
    OptValue,
    /// `true` or `false`; false when absent.
    Flag,
    /// A stored request (an action's `"q"`), or absent.
    OptRequest,
    /// A stored reply (an action's `"r"`), or absent.
    OptReply,
}

impl Member {
    fn optional(self) -> bool {
        !matches!(
            self,
            Member::Str
                | Member::Name(_)
                | Member::U64
                | Member::U32
                | Member::U16
                | Member::Window
                | Member::Key
                | Member::Fingerprint
                | Member::Value
        )
    }
}

/// One member, as the builders read it after [`Obj::check`] has accepted the record: the
/// fallbacks of the accessors below are never taken for a checked member.
#[derive(Clone, Copy)]
enum Got<'a> {
    Absent,
    Str(&'a str),
    Num(u64),
    Flag(bool),
    Other,
}

impl<'a> Got<'a> {
    fn opt_str(self) -> Option<&'a str> {
        match self {
            Got::Str(s) => Some(s),
            _ => None,
        }
    }

    fn str(self) -> &'a str {
        self.opt_str().unwrap_or_default()
    }

    fn string(self) -> String {
        self.str().to_string()
    }

    fn opt_string(self) -> Option<String> {
        self.opt_str().map(str::to_string)
    }

    fn opt_num(self) -> Option<u64> {
        match self {
            Got::Num(n) => Some(n),
            _ => None,
        }
    }

    fn num(self) -> u64 {
        self.opt_num().unwrap_or_default()
    }

    fn flag(self) -> bool {
        matches!(self, Got::Flag(true))
    }

    fn key(self) -> Key {
        Key::from_checked(self.str())
    }

    fn fingerprint(self) -> Fingerprint {
        Fingerprint::from_checked(self.str())
    }
}

/// The members of a record object: checked against a table ([`Obj::check`]), then read
/// ([`Obj::get`]). Every failed check is a `CorruptRecord` naming the member, never its value.
struct Obj<'a>(&'a Value);

impl<'a> Obj<'a> {
    fn new(v: &'a Value) -> Result<Self, SendonceError> {
        match v {
            Value::Object(_) => Ok(Obj(v)),
            _ => Err(corrupt("not an object")),
        }
    }

    fn opt(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name)
    }

    fn req(&self, name: &str) -> Result<&'a Value, SendonceError> {
        self.opt(name).ok_or_else(|| member_error(name, "missing"))
    }

    fn get(&self, name: &str) -> Got<'a> {
        match self.opt(name) {
            None => Got::Absent,
            Some(Value::String(s)) => Got::Str(s),
            Some(Value::Bool(b)) => Got::Flag(*b),
            Some(v) => v.as_u64().map_or(Got::Other, Got::Num),
        }
    }

    /// Checks the members of `spec`, in its order: the first that is missing or not what its
    /// [`Member`] says is the error.
    fn check(&self, spec: &[(&'static str, Member)]) -> Result<(), SendonceError> {
        for &(name, member) in spec {
            match self.opt(name) {
                None if member.optional() => {}
                None => return Err(member_error(name, "missing")),
                Some(v) => check_member(v, name, member)?,
            }
        }
        Ok(())
    }
}

fn check_member(v: &Value, name: &str, member: Member) -> Result<(), SendonceError> {
    let bad = || wrong_type(name);
    let text = || v.as_str().ok_or_else(bad);
    match member {
        Member::Str | Member::OptStr => {
            text()?;
        }
        Member::Name(ok) | Member::OptName(ok) => {
            if !ok(text()?) {
                return Err(bad());
            }
        }
        Member::U64 | Member::OptU64 | Member::U32 | Member::U16 | Member::Window => {
            // Integers only: a stored time or count with a fraction, a sign or beyond 2^53
            // (where doubles stop being exact) is corrupt.
            let limit = match member {
                Member::U32 => u64::from(u32::MAX),
                Member::U16 => u64::from(u16::MAX),
                _ => 1 << 53,
            };
            let n = v.as_u64().filter(|n| *n <= limit).ok_or_else(bad)?;
            if matches!(member, Member::Window) && n > MAX_WINDOW_MS {
                return Err(member_error(name, "is longer than 24h"));
            }
        }
        Member::Key | Member::OptKey => {
            if validate_key(text()?).is_err() {
                return Err(member_error(name, "is not a valid key"));
            }
        }
        Member::Fingerprint | Member::OptFingerprint => {
            if !Fingerprint::is_hex(text()?) {
                return Err(bad());
            }
        }
        Member::Value | Member::OptValue => {}
        Member::Flag => {
            v.as_bool().ok_or_else(bad)?;
        }
        Member::OptRequest => check_request(v)?,
        Member::OptReply => check_reply(v)?,
    }
    Ok(())
}

/// Checks a file's metadata in a draft (see [`check_pairs`]).
type CheckFile = fn(&Obj) -> Result<(), SendonceError>;

/// A list of pairs of strings (request headers) or of name and field value (draft fields):
/// `file` checks an object in second place, where there may be one.
fn check_pairs(v: &Value, name: &str, file: Option<CheckFile>) -> Result<(), SendonceError> {
    let Value::Array(items) = v else {
        return Err(wrong_type(name));
    };
    for item in items {
        match item {
            Value::Array(pair) => match (pair.as_slice(), file) {
                ([Value::String(_), Value::String(_)], _) => {}
                ([Value::String(_), second @ Value::Object(_)], Some(check)) => {
                    check(&Obj(second))?
                }
                _ => return Err(wrong_type(name)),
            },
            _ => return Err(wrong_type(name)),
        }
    }
    Ok(())
}

fn check_action(o: &Obj) -> Result<(), SendonceError> {
    o.check(&[
        ("d", Member::OptName(|d| ActionKind::parse(d).is_some())),
        ("q", Member::OptRequest),
        ("r", Member::OptReply),
        ("n", Member::U32),
        ("c", Member::U64),
        ("k", Member::Key),
        ("a", Member::Str),
        ("f", Member::Fingerprint),
        ("s", Member::Name(|s| StatusCode::parse(s).is_some())),
        ("e", Member::OptU64),
        ("E", Member::OptU64),
    ])?;
    match (o.get("e").opt_num(), o.get("E").opt_num()) {
        (Some(after), None) if o.get("c").num().checked_add(after).is_none() => {
            return Err(wrong_type("e"))
        }
        (Some(_), Some(_)) => return Err(wrong_type("E")),
        _ => {}
    }
    o.check(&[("w", Member::Window), ("u", Member::OptU64)])?;
    if o.get("u").opt_num().is_some_and(|u| u > 1) {
        return Err(wrong_type("u"));
    }
    Ok(())
}

fn build_action(o: &Obj) -> ActionRecord {
    let created_at = o.get("c").num();
    ActionRecord {
        key: o.get("k").key(),
        action: o.get("a").string(),
        kind: o
            .get("d")
            .opt_str()
            .and_then(ActionKind::parse)
            .unwrap_or_default(),
        fingerprint: o.get("f").fingerprint(),
        request: o.opt("q").map(build_request),
        status: StatusCode::parse(o.get("s").str()).unwrap_or(StatusCode::Idle),
        attempts: o.get("n").num() as u32,
        created_at,
        finished_at: match (o.get("e").opt_num(), o.get("E").opt_num()) {
            (Some(after), _) => Some(created_at + after),
            (None, at) => at,
        },
        window_ms: o.get("w").num(),
        reply: o.opt("r").map(build_reply),
        idempotent: o.get("u").num() == 0,
    }
}

fn check_request(v: &Value) -> Result<(), SendonceError> {
    let o = Obj::new(v).map_err(|_| wrong_type("q"))?;
    if let Some(h) = o.opt("h") {
        check_pairs(h, "h", None)?;
    }
    o.check(&[
        ("u", Member::Str),
        ("m", Member::Str),
        ("b", Member::OptStr),
        ("p", Member::Flag),
        ("x", Member::Flag),
        ("s", Member::Flag),
    ])?;
    match o.opt("w") {
        None => Ok(()),
        Some(Value::Array(items)) if items.iter().all(|i| i.as_str().is_some()) => Ok(()),
        Some(_) => Err(wrong_type("w")),
    }
}

fn build_request(v: &Value) -> StoredRequest {
    let o = Obj(v);
    StoredRequest {
        url: o.get("u").string(),
        method: o.get("m").string(),
        headers: pairs(o.opt("h"))
            .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        body: o.get("b").opt_string(),
        visible_body: None,
        private_body: o.get("p").flag(),
        memory_headers: o.get("x").flag(),
        secret_url: o.get("s").flag(),
        waiting_for: match o.opt("w") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// The (name, value) pairs of a checked list (see [`check_pairs`]).
fn pairs(v: Option<&Value>) -> impl Iterator<Item = (&str, &Value)> {
    let items = match v {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    items.iter().filter_map(|item| match item {
        Value::Array(pair) => match pair.as_slice() {
            [Value::String(name), value] => Some((name.as_str(), value)),
            _ => None,
        },
        _ => None,
    })
}

fn check_reply(v: &Value) -> Result<(), SendonceError> {
    let o = Obj::new(v).map_err(|_| wrong_type("r"))?;
    o.check(&[("p", Member::Flag), ("c", Member::OptStr)])?;
    match (o.opt("j"), o.opt("b")) {
        (Some(_), None) => {}
        (None, Some(_)) => o.check(&[("b", Member::Str)])?,
        _ => return Err(corrupt("a reply has one body, \"j\" or \"b\"")),
    }
    o.check(&[("s", Member::U16)])
}

fn build_reply(v: &Value) -> StoredReply {
    let o = Obj(v);
    let content_type = o.get("c").opt_string();
    let (content_type, body) = match o.opt("j") {
        Some(j) => (
            content_type.or_else(|| Some(JSON_TYPE.to_string())),
            j.to_json(),
        ),
        None => (content_type, o.get("b").string()),
    };
    StoredReply {
        status: o.get("s").num() as u16,
        content_type,
        body,
        replayed: o.get("p").flag(),
    }
}

fn check_draft(o: &Obj) -> Result<(), SendonceError> {
    check_pairs(
        o.req("x")?,
        "x",
        Some(|file| {
            file.check(&[
                ("n", Member::Str),
                ("t", Member::OptStr),
                ("z", Member::U64),
                ("m", Member::U64),
            ])
        }),
    )?;
    o.check(&[
        ("o", Member::Str),
        ("a", Member::Str),
        ("k", Member::OptKey),
        ("f", Member::OptFingerprint),
        ("s", Member::U64),
    ])
}

fn build_draft(o: &Obj) -> DraftRecord {
    DraftRecord {
        form: o.get("o").string(),
        action: o.get("a").string(),
        fields: pairs(o.opt("x"))
            .map(|(name, v)| {
                let value = match v {
                    Value::String(text) => FormValue::Text(text.clone()),
                    file => {
                        let f = Obj(file);
                        FormValue::File {
                            name: f.get("n").string(),
                            mime: f.get("t").string(),
                            size: f.get("z").num(),
                            last_modified: f.get("m").num(),
                        }
                    }
                };
                (name.to_string(), value)
            })
            .collect(),
        key: o.get("k").opt_str().map(Key::from_checked),
        fingerprint: o.get("f").opt_str().map(Fingerprint::from_checked),
        saved_at: o.get("s").num(),
    }
}

/// The schema part of every storage key.
const SCHEMA_PART: &str = "v1";

/// Escapes one part of a storage key: `%` and `:` (the separator) and control characters
/// become `%XX`, so that parts never run into each other. Everything else is kept as is, so
/// keys stay readable in the browser's storage panel.
///
/// ```
/// use sendonce::core::record::key_part;
/// assert_eq!(key_part("a:b%c"), "a%3Ab%25c");
/// ```
pub fn key_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '%' || c == ':' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push('%');
                out.push(char::from(HEX_UPPER[(b >> 4) as usize]));
                out.push(char::from(HEX_UPPER[(b & 15) as usize]));
            }
        } else {
            out.push(c);
        }
    }
    out
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// `parts` joined into one string. The storage keys are built on every create and every
/// read: without `format!`, whose machinery is slower and larger than copying.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// The prefix of every storage key of namespace `ns` and this schema: `{ns}:v1:`.
pub fn prefix(ns: &str) -> String {
    concat(&[&key_part(ns), ":", SCHEMA_PART, ":"])
}

/// True when `storage_key` belongs to namespace `ns` and this schema version (it starts
/// with `{ns}:v1:`). Keys of other namespaces, other libraries or other schema versions are
/// not ours to read, and not ours to evict.
///
/// ```
/// use sendonce::core::record::owns;
/// assert!(owns("shop", "shop:v1:a:k1"));
/// assert!(!owns("shop", "shop:v2:a:k1"));
/// assert!(!owns("shop", "shopping:v1:a:k1"));
/// ```
pub fn owns(ns: &str, storage_key: &str) -> bool {
    storage_key.starts_with(&prefix(ns))
}

/// The storage key of an action: `{ns}:v1:a:{key}`.
pub fn action_key(ns: &str, key: &Key) -> String {
    concat(&[&prefix(ns), "a:", &key_part(key.as_str())])
}

/// The storage key of the index from an action name and fingerprint to the key of the latest
/// action with that data: `{ns}:v1:i:{action}:{fingerprint}`. Its value is the plain key text.
/// True for the index entries written by [`index_key`]. Their value is a plain key, not a
/// record, so they must not be decoded as records (nor removed as corrupt for failing to).
pub fn is_index_key(ns: &str, storage_key: &str) -> bool {
    storage_key
        .strip_prefix(&prefix(ns))
        .is_some_and(|rest| rest.starts_with("i:"))
}

/// The storage key prefix of all action records of `ns`.
pub fn action_prefix(ns: &str) -> String {
    concat(&[&prefix(ns), "a:"])
}

/// Where the key of the latest action `action` with `fingerprint` is kept.
pub fn index_key(ns: &str, action: &str, fingerprint: &Fingerprint) -> String {
    concat(&[
        &prefix(ns),
        "i:",
        &key_part(action),
        ":",
        fingerprint.as_str(),
    ])
}

/// The Web Lock a tab holds while it decides which key sends the data of `action` with
/// `fingerprint` (another tab's claim, or its own): two tabs with the same data never decide
/// at the same time.
pub fn data_lock_name(ns: &str, action: &str, fingerprint: &Fingerprint) -> String {
    concat(&[
        "sendonce:",
        ns,
        ":d:",
        &key_part(action),
        ":",
        fingerprint.as_str(),
    ])
}

/// The start of a claim lock's name: a tab that sends the data of `action` with `fingerprint`
/// holds `{prefix}{key}`, so another tab reads the key from the lock's name.
pub fn claim_lock_prefix(ns: &str, action: &str, fingerprint: &Fingerprint) -> String {
    concat(&[
        "sendonce:",
        ns,
        ":c:",
        &key_part(action),
        ":",
        fingerprint.as_str(),
        ":",
    ])
}

/// The key a claim lock named `name` carries, if it is a claim under `prefix` and a valid key.
///
/// ```
/// use sendonce::core::record::claimed_key;
/// assert_eq!(claimed_key("p:", "p:k-1").map(|k| k.to_string()), Some("k-1".into()));
/// assert!(claimed_key("p:", "q:k-1").is_none());
/// assert!(claimed_key("p:", "p:").is_none());
/// ```
pub fn claimed_key(prefix: &str, name: &str) -> Option<Key> {
    validate_key(name.strip_prefix(prefix)?).ok()
}

/// The storage key of a form's draft: `{ns}:v1:d:{form}`.
pub fn draft_key(ns: &str, form: &str) -> String {
    concat(&[&prefix(ns), "d:", &key_part(form)])
}

/// The prefix of every outbox entry of a conversation: `{ns}:v1:o:{conversation}:`. List the
/// keys with this prefix and sort them to get the outbox in delivery order.
pub fn outbox_prefix(ns: &str, conversation_id: &str) -> String {
    concat(&[&prefix(ns), "o:", &key_part(conversation_id), ":"])
}

/// The storage key of one chat message: `{ns}:v1:o:{conversation}:{seq:010}`.
///
/// One record per message, not one per conversation: sending a message or updating its
/// status writes one small record instead of rewriting the whole conversation; two tabs
/// writing different messages cannot overwrite each other's; a corrupt record loses one
/// message, not the outbox; and delivered messages can be evicted one by one. The zero-padded
/// `seq` makes the keys sort in delivery order.
pub fn outbox_key(ns: &str, conversation_id: &str, seq: u64) -> String {
    format!("{}{seq:010}", outbox_prefix(ns, conversation_id))
}

/// The storage key of a finished quick reply: `{ns}:v1:q:{key}`.
pub fn quick_key(ns: &str, key: &Key) -> String {
    concat(&[&prefix(ns), "q:", &key_part(key.as_str())])
}

/// The storage key of an inbound message already seen: `{ns}:v1:s:{id or hash}`.
pub fn seen_key(ns: &str, id_or_hash: &str) -> String {
    concat(&[&prefix(ns), "s:", &key_part(id_or_hash)])
}

/// The storage key of the lease (an adapter's atomic claim) on the record at `storage_key`:
/// `{ns}:v1:l:` followed by the rest of that key, e.g. `{ns}:v1:l:q:{key}` for a quick reply
/// run. Leases live under their own letter, so a scan of action or quick-reply records never
/// meets one; their value is a holder's random token, not a record.
///
/// ```
/// use sendonce::core::record::lease_key;
/// assert_eq!(lease_key("bot", "bot:v1:q:k-1"), "bot:v1:l:q:k-1");
/// ```
pub fn lease_key(ns: &str, storage_key: &str) -> String {
    let p = prefix(ns);
    let rest = storage_key.strip_prefix(&p).unwrap_or(storage_key);
    concat(&[&p, "l:", rest])
}

/// The quota of the memory store: 5 MiB of key and value text, the quota of a browser's
/// localStorage per origin, counted the same way ([`stored_size`]). Without it, memory
/// storage kept every finished record for its window: 100,000 actions in one window grew
/// the wasm memory to 115 MiB. A write that would go over it evicts in [`eviction_order`],
/// exactly as a full localStorage does.
pub const MEMORY_QUOTA: usize = 5 * 1024 * 1024;

/// The quota of a storage adapter's in-memory mirror (what a Node bot process keeps of the
/// records it wrote or read, to answer synchronous reads): 1 MiB, counted as
/// [`MEMORY_QUOTA`] is. The adapter holds everything; a record dropped from the mirror is
/// read from the adapter again when needed. Without a bound the mirror kept every record a
/// process ever wrote (0.9 KB per finished action, 26.9 MiB after 30,000).
pub const MIRROR_QUOTA: usize = 1024 * 1024;

/// How far a full store is emptied: to 7/8 of its quota (see [`MEMORY_REFILL_MARK`]).
pub const fn refill_mark(quota: usize) -> usize {
    quota / 8 * 7
}

/// How far a full memory store is emptied: 7/8 of [`MEMORY_QUOTA`]. Listing what to evict
/// decodes every record; emptying an eighth at once does that once per thousand small writes,
/// not on every write once the store is full.
pub const MEMORY_REFILL_MARK: usize = refill_mark(MEMORY_QUOTA);

/// The size of one storage entry as localStorage counts it against its quota: the length of
/// the key plus the length of the value, in UTF-16 code units (JavaScript's `length`).
///
/// ```
/// use sendonce::core::record::stored_size;
/// assert_eq!(stored_size("k", "ab"), 3);
/// assert_eq!(stored_size("é", "😀"), 3);
/// ```
pub fn stored_size(key: &str, value: &str) -> usize {
    key.encode_utf16().count() + value.encode_utf16().count()
}

/// The order in which to remove records when storage is full, most expendable first.
///
/// 1. expired records of any type (they answer nothing any more), earliest expiry first;
/// 2. finished actions, oldest finished first (a repeat of them would then become a new
///    request, which the server still answers as a replay within its retention);
/// 3. delivered chat messages, oldest first;
/// 4. quick-reply results and seen inbound messages, oldest first;
/// 5. stale drafts (not saved for [`STALE_DRAFT_MS`]), oldest first.
///
/// Never listed, expired or not: unfinished actions, recent drafts and chat messages not
/// delivered. Those are the user's words and the keys they are being sent with.
///
/// This puts expired records before live finished actions, where the first plan was "finished
/// actions, then expired ones": evicting a record that has already expired loses nothing,
/// while a live finished action still answers a double click locally. `now_ms` is a parameter
/// because expiry needs the clock and the core has none.
pub fn eviction_order(entries: &[(String, Record)], now_ms: u64) -> Vec<String> {
    let ranked: Vec<(String, EvictionRank)> = entries
        .iter()
        .map(|(k, r)| (k.clone(), r.eviction_rank()))
        .collect();
    eviction_order_ranked(&ranked, now_ms)
}

/// Where one stored record stands in [`eviction_order`], worked out once from the record
/// ([`Record::eviction_rank`]) so that a store can keep it next to the record's text: a full
/// store then orders its records without decoding every one of them on every pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvictionRank {
    /// Never offered before this time: `u64::MAX` for an unfinished action and a chat message
    /// not delivered, a week after its last save for a draft, 0 for everything else.
    pub protected_until: u64,
    /// When the record expires ([`Record::expires_at`]); from then on it goes first.
    pub expires_at: u64,
    /// Its group while it has not expired: 1 finished actions, 2 delivered chat messages, 3
    /// quick-reply results and seen messages, 4 stale drafts.
    pub group: u8,
    /// Its time within the group (finished, delivered, handled, saved).
    pub time: u64,
}

impl EvictionRank {
    /// A value that is not one of our records (corrupt, foreign or expired when read): offered
    /// before anything else.
    pub const GONE: EvictionRank = EvictionRank {
        protected_until: 0,
        expires_at: 0,
        group: 0,
        time: 0,
    };

    /// Where a record of this rank goes in the eviction order at `now_ms`, as (group, time):
    /// smaller goes first, ties broken by storage key; `None` while it is protected. Group 0
    /// holds the expired records, by expiry.
    pub fn position(&self, now_ms: u64) -> Option<(u8, u64)> {
        if now_ms < self.protected_until {
            None
        } else if now_ms >= self.expires_at {
            Some((0, self.expires_at))
        } else {
            Some((self.group, self.time))
        }
    }

    /// The rank of a stored text: its record's, or [`EvictionRank::GONE`] when it does not
    /// decode at `now_ms` (corrupt, of another schema, expired).
    pub fn of_text(text: &str, now_ms: u64) -> EvictionRank {
        match Record::decode(text, now_ms) {
            Ok(Some(r)) => r.eviction_rank(),
            _ => EvictionRank::GONE,
        }
    }
}

impl Record {
    /// Where this record stands in [`eviction_order`] (see [`EvictionRank`]).
    pub fn eviction_rank(&self) -> EvictionRank {
        const NEVER: u64 = u64::MAX;
        let (protected_until, group, time) = match self {
            Record::Action(a) if !a.is_finished() => (NEVER, 1, 0),
            Record::Action(a) => (0, 1, a.finished_at.unwrap_or(0)),
            Record::Outbox(o) if o.status != OutboxStatus::Delivered => (NEVER, 2, o.at),
            Record::Outbox(o) => (0, 2, o.at),
            Record::Quick(q) => (0, 3, q.finished_at),
            Record::Seen(s) => (0, 3, s.at),
            // A draft untouched for a week is stale: it goes after every finished record, but
            // before a pending action is refused (an order in flight outranks it).
            Record::Draft(d) => (d.saved_at.saturating_add(STALE_DRAFT_MS), 4, d.saved_at),
        };
        EvictionRank {
            protected_until,
            expires_at: self.expires_at(),
            group,
            time,
        }
    }
}

/// [`eviction_order`] over ranks kept by a store (see [`EvictionRank`]): the same order,
/// without a record decoded.
pub fn eviction_order_ranked(entries: &[(String, EvictionRank)], now_ms: u64) -> Vec<String> {
    // (group, time) sorts the candidates; the storage key breaks ties so the order is total.
    let mut ranked: Vec<(u8, u64, &str)> = Vec::new();
    for (storage_key, rank) in entries {
        if let Some((group, time)) = rank.position(now_ms) {
            ranked.push((group, time, storage_key));
        }
    }
    crate::core::order::sort_by(&mut ranked, |a, b| a.cmp(b));
    ranked.into_iter().map(|(_, _, k)| k.to_string()).collect()
}

/// Adds the index entries to an eviction order from [`eviction_order`]. `index` holds each
/// entry as (its storage key, the action key it names) and `stored` the storage keys of the
/// records in storage. First come the entries whose action record is gone (they point nowhere), then
/// each remaining entry right after the action record it names, so that evicting a finished
/// action frees its index entry too. An entry whose action stays is never listed.
///
/// ```
/// use sendonce::core::record::evict_with_index;
/// let stored = ["n:v1:a:k1".to_string(), "n:v1:i:x:f1".into(), "n:v1:i:x:f0".into()];
/// let index = [("n:v1:i:x:f1".to_string(), "k1".to_string()), ("n:v1:i:x:f0".into(), "k0".into())];
/// let order = evict_with_index("n", vec!["n:v1:a:k1".into()], &index, &stored);
/// assert_eq!(order, ["n:v1:i:x:f0", "n:v1:a:k1", "n:v1:i:x:f1"]);
/// ```
pub fn evict_with_index(
    ns: &str,
    order: Vec<String>,
    index: &[(String, String)],
    stored: &[String],
) -> Vec<String> {
    // Sorted once and searched, not scanned: a full storage may hold thousands of entries.
    let mut stored: Vec<&str> = stored.iter().map(String::as_str).collect();
    crate::core::order::sort_by(&mut stored, |a, b| a.cmp(b));
    // (the storage key of the action an entry names, the entry), by the first.
    let mut named: Vec<(String, &str)> = index
        .iter()
        .map(|(entry, key)| (concat(&[&prefix(ns), "a:", &key_part(key)]), entry.as_str()))
        .collect();
    crate::core::order::sort_by(&mut named, |a, b| a.0.cmp(&b.0));
    let mut out: Vec<String> = named
        .iter()
        .filter(|(target, _)| stored.binary_search(&target.as_str()).is_err())
        .map(|(_, entry)| entry.to_string())
        .collect();
    for victim in order {
        let first = named.partition_point(|(target, _)| target.as_str() < victim.as_str());
        let entries: Vec<String> = named
            .iter()
            .skip(first)
            .take_while(|(target, _)| *target == victim)
            .map(|(_, entry)| entry.to_string())
            .collect();
        out.push(victim);
        out.extend(entries);
    }
    out
}
