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
use crate::core::text::quoted;
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
}

impl StoredRequest {
    /// The request as it may be written to storage: the allowed headers only, the visible body
    /// instead of one with private values, and flags saying what was left out. The key header
    /// `key_header` is dropped too (it is added per attempt).
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
        StoredRequest {
            url: self.url.clone(),
            method: self.method.clone(),
            memory_headers: self.memory_headers || kept.len() != headers.len(),
            headers: kept,
            body: self.visible_body.clone().or_else(|| self.body.clone()),
            visible_body: None,
            private_body: self.private_body || self.visible_body.is_some(),
        }
    }

    /// True when this request can be sent as it is: nothing private is missing from its body,
    /// and headers left out of storage come from a `headers` hook (`has_headers_hook`).
    ///
    /// ```
    /// use sendonce::core::record::StoredRequest;
    /// let r = StoredRequest { memory_headers: true, ..Default::default() };
    /// assert!(!r.is_complete(false));
    /// assert!(r.is_complete(true));
    /// ```
    pub fn is_complete(&self, has_headers_hook: bool) -> bool {
        !self.private_body && (!self.memory_headers || has_headers_hook)
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
        let mut m: Vec<(String, Value)> = vec![
            ("v".into(), Value::from(SCHEMA_VERSION)),
            ("t".into(), Value::from(self.type_name())),
        ];
        let mut put = |name: &str, v: Value| m.push((name.to_string(), v));
        match self {
            Record::Action(r) => {
                put("k", r.key.as_str().into());
                put("a", r.action.as_str().into());
                if r.kind != ActionKind::Default {
                    put("d", r.kind.as_str().into());
                }
                put("f", r.fingerprint.as_str().into());
                if let Some(q) = &r.request {
                    put("q", encode_request(q));
                }
                put("s", r.status.as_str().into());
                put("n", Value::from(u64::from(r.attempts)));
                put("c", r.created_at.into());
                // The finish time as ms after `c` (a few digits instead of thirteen); a clock
                // that went back between the two is rare and written as it is, under "E".
                match r.finished_at {
                    Some(e) if e >= r.created_at => put("e", (e - r.created_at).into()),
                    Some(e) => put("E", e.into()),
                    None => {}
                }
                put("w", r.window_ms.into());
                if let Some(reply) = &r.reply {
                    put("r", encode_reply(reply));
                }
                if !r.idempotent {
                    put("u", Value::from(1u64));
                }
            }
            Record::Draft(r) => {
                put("o", r.form.as_str().into());
                put("a", r.action.as_str().into());
                put(
                    "x",
                    Value::Array(
                        r.fields
                            .iter()
                            .map(|(name, v)| {
                                Value::Array(vec![name.as_str().into(), encode_field(v)])
                            })
                            .collect(),
                    ),
                );
                if let Some(k) = &r.key {
                    put("k", k.as_str().into());
                }
                if let Some(f) = &r.fingerprint {
                    put("f", f.as_str().into());
                }
                put("s", r.saved_at.into());
            }
            Record::Outbox(r) => {
                put("c", r.conversation_id.as_str().into());
                put("k", r.id.as_str().into());
                put("q", r.seq.into());
                put("x", r.text.as_str().into());
                if r.extra != Value::Null {
                    put("e", r.extra.clone());
                }
                put("s", r.status.as_str().into());
                if let Some(code) = &r.code {
                    put("o", code.as_str().into());
                }
                put("a", r.at.into());
                put("u", r.url.as_str().into());
            }
            Record::Quick(r) => {
                put("k", r.key.as_str().into());
                put("a", r.action_key.as_str().into());
                put("c", r.conversation_id.as_str().into());
                put("r", r.result.clone());
                put("e", r.finished_at.into());
                put("w", r.window_ms.into());
            }
            Record::Seen(r) => {
                put("h", r.id_or_hash.as_str().into());
                put("a", r.at.into());
                put("w", r.window_ms.into());
            }
        }
        Value::Object(m).to_json()
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
        let record = match o.str("t")? {
            "action" => Record::Action(decode_action(&o)?),
            "draft" => Record::Draft(decode_draft(&o)?),
            "outbox" => Record::Outbox(decode_outbox(&o)?),
            "quick" => Record::Quick(QuickReplyRecord {
                key: o.key("k")?,
                action_key: o.str("a")?.to_string(),
                conversation_id: o.str("c")?.to_string(),
                result: o.req("r")?.clone(),
                finished_at: o.u64("e")?,
                window_ms: o.window("w")?,
            }),
            "seen" => Record::Seen(SeenRecord {
                id_or_hash: o.str("h")?.to_string(),
                at: o.u64("a")?,
                window_ms: o.window("w")?,
            }),
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

fn encode_request(q: &StoredRequest) -> Value {
    let mut m = vec![
        ("u".to_string(), Value::from(q.url.as_str())),
        ("m".to_string(), Value::from(q.method.as_str())),
    ];
    if !q.headers.is_empty() {
        let headers = q
            .headers
            .iter()
            .map(|(k, v)| Value::Array(vec![k.as_str().into(), v.as_str().into()]))
            .collect();
        m.push(("h".into(), Value::Array(headers)));
    }
    if let Some(b) = &q.body {
        m.push(("b".into(), b.as_str().into()));
    }
    if q.private_body {
        m.push(("p".into(), Value::Bool(true)));
    }
    if q.memory_headers {
        m.push(("x".into(), Value::Bool(true)));
    }
    Value::Object(m)
}

/// The content type that a reply stored with `"j"` and without `"c"` has.
const JSON_TYPE: &str = "application/json";

/// A reply body that is JSON written the way [`Value::to_json`] writes it is stored as JSON
/// (`"j"`), not as a string of escaped JSON (`"b"`): it saves the quotes and backslashes, and
/// `application/json` is then implied. Any other body is kept as text, byte for byte, so
/// the reply read back is always exactly the reply stored.
fn encode_reply(r: &StoredReply) -> Value {
    let mut m = vec![("s".to_string(), Value::from(u64::from(r.status)))];
    let as_json = r
        .content_type
        .as_deref()
        .filter(|ct| crate::core::text::contains(&ct.to_ascii_lowercase(), "json"))
        .and_then(|_| json::parse(&r.body).ok())
        .filter(|v| v.to_json() == r.body);
    match (&r.content_type, &as_json) {
        (Some(ct), Some(_)) if ct == JSON_TYPE => {}
        (Some(ct), _) => m.push(("c".into(), ct.as_str().into())),
        (None, _) => {}
    }
    match as_json {
        Some(v) => m.push(("j".into(), v)),
        None => m.push(("b".into(), r.body.as_str().into())),
    }
    if r.replayed {
        m.push(("p".into(), true.into()));
    }
    Value::Object(m)
}

fn encode_field(v: &FieldValue) -> Value {
    match v {
        FormValue::Text(s) => s.as_str().into(),
        FormValue::File {
            name,
            mime,
            size,
            last_modified,
        } => {
            let mut m = vec![
                ("n".to_string(), Value::from(name.as_str())),
                ("z".to_string(), Value::from(*size)),
                ("m".to_string(), Value::from(*last_modified)),
            ];
            if !mime.is_empty() {
                m.push(("t".to_string(), Value::from(mime.as_str())));
            }
            Value::Object(m)
        }
    }
}

/// Typed access to the members of a record object; every miss is a `CorruptRecord` naming
/// the member.
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
        self.opt(name)
            .ok_or_else(|| corrupt(&format!("member {} missing", quoted(name, '"'))))
    }

    fn bad(name: &str) -> SendonceError {
        corrupt(&format!("member {} has the wrong type", quoted(name, '"')))
    }

    fn str(&self, name: &str) -> Result<&'a str, SendonceError> {
        self.req(name)?.as_str().ok_or_else(|| Self::bad(name))
    }

    fn opt_str(&self, name: &str) -> Result<Option<&'a str>, SendonceError> {
        self.opt(name)
            .map(|v| v.as_str().ok_or_else(|| Self::bad(name)))
            .transpose()
    }

    fn u64(&self, name: &str) -> Result<u64, SendonceError> {
        as_u64(self.req(name)?, name)
    }

    fn opt_u64(&self, name: &str) -> Result<Option<u64>, SendonceError> {
        self.opt(name).map(|v| as_u64(v, name)).transpose()
    }

    fn window(&self, name: &str) -> Result<u64, SendonceError> {
        let w = self.u64(name)?;
        if w > MAX_WINDOW_MS {
            return Err(corrupt(&format!(
                "member {} is longer than 24h",
                quoted(name, '"')
            )));
        }
        Ok(w)
    }

    fn key(&self, name: &str) -> Result<Key, SendonceError> {
        validate_key(self.str(name)?)
            .map_err(|_| corrupt(&format!("member {} is not a valid key", quoted(name, '"'))))
    }

    fn fingerprint(&self, name: &str) -> Result<Fingerprint, SendonceError> {
        Fingerprint::from_hex(self.str(name)?).ok_or_else(|| Self::bad(name))
    }

    fn array(&self, name: &str) -> Result<&'a [Value], SendonceError> {
        match self.req(name)? {
            Value::Array(items) => Ok(items),
            _ => Err(Self::bad(name)),
        }
    }
}

/// Integers only: a stored time or count with a fraction, a sign or beyond 2^53 (where
/// doubles stop being exact) is corrupt.
fn as_u64(v: &Value, name: &str) -> Result<u64, SendonceError> {
    v.as_u64()
        .filter(|n| *n <= (1u64 << 53))
        .ok_or_else(|| Obj::bad(name))
}

fn decode_action(o: &Obj) -> Result<ActionRecord, SendonceError> {
    let kind = match o.opt_str("d")? {
        None => ActionKind::Default,
        Some(d) => ActionKind::parse(d).ok_or_else(|| Obj::bad("d"))?,
    };
    let request = o.opt("q").map(decode_request).transpose()?;
    let reply = o.opt("r").map(decode_reply).transpose()?;
    let attempts = u32::try_from(o.u64("n")?).map_err(|_| Obj::bad("n"))?;
    let created_at = o.u64("c")?;
    Ok(ActionRecord {
        key: o.key("k")?,
        action: o.str("a")?.to_string(),
        kind,
        fingerprint: o.fingerprint("f")?,
        request,
        status: StatusCode::parse(o.str("s")?).ok_or_else(|| Obj::bad("s"))?,
        attempts,
        created_at,
        finished_at: match (o.opt_u64("e")?, o.opt_u64("E")?) {
            (None, None) => None,
            (Some(after), None) => {
                Some(created_at.checked_add(after).ok_or_else(|| Obj::bad("e"))?)
            }
            (None, Some(at)) => Some(at),
            (Some(_), Some(_)) => return Err(Obj::bad("E")),
        },
        window_ms: o.window("w")?,
        reply,
        idempotent: match o.opt_u64("u")? {
            None | Some(0) => true,
            Some(1) => false,
            Some(_) => return Err(Obj::bad("u")),
        },
    })
}

fn decode_request(v: &Value) -> Result<StoredRequest, SendonceError> {
    let o = Obj::new(v).map_err(|_| Obj::bad("q"))?;
    let headers = match o.opt("h") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|h| match h {
                Value::Array(pair) => match pair.as_slice() {
                    [Value::String(k), Value::String(v)] => Ok((k.clone(), v.clone())),
                    _ => Err(Obj::bad("h")),
                },
                _ => Err(Obj::bad("h")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(Obj::bad("h")),
    };
    Ok(StoredRequest {
        url: o.str("u")?.to_string(),
        method: o.str("m")?.to_string(),
        headers,
        body: o.opt_str("b")?.map(str::to_string),
        visible_body: None,
        private_body: opt_flag(&o, "p")?,
        memory_headers: opt_flag(&o, "x")?,
    })
}

/// An optional boolean member, false when absent.
fn opt_flag(o: &Obj, name: &'static str) -> Result<bool, SendonceError> {
    match o.opt(name) {
        None => Ok(false),
        Some(v) => v.as_bool().ok_or_else(|| Obj::bad(name)),
    }
}

fn decode_reply(v: &Value) -> Result<StoredReply, SendonceError> {
    let o = Obj::new(v).map_err(|_| Obj::bad("r"))?;
    let replayed = match o.opt("p") {
        None => false,
        Some(p) => p.as_bool().ok_or_else(|| Obj::bad("p"))?,
    };
    let content_type = o.opt_str("c")?.map(str::to_string);
    let (content_type, body) = match (o.opt("j"), o.opt("b")) {
        (Some(j), None) => (
            content_type.or_else(|| Some(JSON_TYPE.to_string())),
            j.to_json(),
        ),
        (None, Some(_)) => (content_type, o.str("b")?.to_string()),
        _ => return Err(corrupt("a reply has one body, \"j\" or \"b\"")),
    };
    Ok(StoredReply {
        status: u16::try_from(o.u64("s")?).map_err(|_| Obj::bad("s"))?,
        content_type,
        body,
        replayed,
    })
}

fn decode_draft(o: &Obj) -> Result<DraftRecord, SendonceError> {
    let fields = o
        .array("x")?
        .iter()
        .map(|item| match item {
            Value::Array(pair) => match pair.as_slice() {
                [Value::String(name), Value::String(text)] => {
                    Ok((name.clone(), FormValue::Text(text.clone())))
                }
                [Value::String(name), file @ Value::Object(_)] => {
                    let f = Obj(file);
                    Ok((
                        name.clone(),
                        FormValue::File {
                            name: f.str("n")?.to_string(),
                            mime: f.opt_str("t")?.unwrap_or("").to_string(),
                            size: f.u64("z")?,
                            last_modified: f.u64("m")?,
                        },
                    ))
                }
                _ => Err(Obj::bad("x")),
            },
            _ => Err(Obj::bad("x")),
        })
        .collect::<Result<_, _>>()?;
    Ok(DraftRecord {
        form: o.str("o")?.to_string(),
        action: o.str("a")?.to_string(),
        fields,
        key: o.opt("k").map(|_| o.key("k")).transpose()?,
        fingerprint: o.opt("f").map(|_| o.fingerprint("f")).transpose()?,
        saved_at: o.u64("s")?,
    })
}

fn decode_outbox(o: &Obj) -> Result<OutboxEntry, SendonceError> {
    Ok(OutboxEntry {
        conversation_id: o.str("c")?.to_string(),
        id: o.key("k")?,
        seq: o.u64("q")?,
        text: o.str("x")?.to_string(),
        extra: o.opt("e").cloned().unwrap_or(Value::Null),
        status: OutboxStatus::parse(o.str("s")?).ok_or_else(|| Obj::bad("s"))?,
        code: o.opt_str("o")?.map(str::to_string),
        at: o.u64("a")?,
        url: o.str("u")?.to_string(),
    })
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

/// The prefix of every storage key of namespace `ns` and this schema: `{ns}:v1:`.
pub fn prefix(ns: &str) -> String {
    format!("{}:{SCHEMA_PART}:", key_part(ns))
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
    format!("{}a:{}", prefix(ns), key_part(key.as_str()))
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
    format!("{}a:", prefix(ns))
}

/// Where the key of the latest action `action` with `fingerprint` is kept.
pub fn index_key(ns: &str, action: &str, fingerprint: &Fingerprint) -> String {
    format!(
        "{}i:{}:{}",
        prefix(ns),
        key_part(action),
        fingerprint.as_str()
    )
}

/// The Web Lock a tab holds while it decides which key sends the data of `action` with
/// `fingerprint` (another tab's claim, or its own): two tabs with the same data never decide
/// at the same time.
pub fn data_lock_name(ns: &str, action: &str, fingerprint: &Fingerprint) -> String {
    format!(
        "sendonce:{ns}:d:{}:{}",
        key_part(action),
        fingerprint.as_str()
    )
}

/// The start of a claim lock's name: a tab that sends the data of `action` with `fingerprint`
/// holds `{prefix}{key}`, so another tab reads the key from the lock's name.
pub fn claim_lock_prefix(ns: &str, action: &str, fingerprint: &Fingerprint) -> String {
    format!(
        "sendonce:{ns}:c:{}:{}:",
        key_part(action),
        fingerprint.as_str()
    )
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
    format!("{}d:{}", prefix(ns), key_part(form))
}

/// The prefix of every outbox entry of a conversation: `{ns}:v1:o:{conversation}:`. List the
/// keys with this prefix and sort them to get the outbox in delivery order.
pub fn outbox_prefix(ns: &str, conversation_id: &str) -> String {
    format!("{}o:{}:", prefix(ns), key_part(conversation_id))
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
    format!("{}q:{}", prefix(ns), key_part(key.as_str()))
}

/// The storage key of an inbound message already seen: `{ns}:v1:s:{id or hash}`.
pub fn seen_key(ns: &str, id_or_hash: &str) -> String {
    format!("{}s:{}", prefix(ns), key_part(id_or_hash))
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
    format!("{p}l:{rest}")
}

/// The quota of the memory store: 5 MiB of key and value text, the quota of a browser's
/// localStorage per origin, counted the same way ([`stored_size`]). Without it, memory
/// storage kept every finished record for its window: 100,000 actions in one window grew
/// the wasm memory to 115 MiB. A write that would go over it evicts in [`eviction_order`],
/// exactly as a full localStorage does.
pub const MEMORY_QUOTA: usize = 5 * 1024 * 1024;

/// How far a full memory store is emptied: 7/8 of [`MEMORY_QUOTA`]. Listing what to evict
/// decodes every record; emptying an eighth at once does that once per thousand small writes,
/// not on every write once the store is full.
pub const MEMORY_REFILL_MARK: usize = MEMORY_QUOTA / 8 * 7;

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
    // (group, time) sorts the candidates; the storage key breaks ties so the order is total.
    let mut ranked: Vec<(u8, u64, &str)> = Vec::new();
    for (storage_key, record) in entries {
        let protected = match record {
            Record::Action(a) => !a.is_finished(),
            // A draft untouched for a week is stale: it goes after every finished record, but
            // before a pending action is refused (an order in flight outranks it).
            Record::Draft(d) => now_ms.saturating_sub(d.saved_at) < STALE_DRAFT_MS,
            Record::Outbox(o) => o.status != OutboxStatus::Delivered,
            Record::Quick(_) | Record::Seen(_) => false,
        };
        if protected {
            continue;
        }
        let expires = record.expires_at();
        let rank = if now_ms >= expires {
            (0, expires)
        } else {
            match record {
                Record::Action(a) => (1, a.finished_at.unwrap_or(0)),
                Record::Outbox(o) => (2, o.at),
                Record::Quick(q) => (3, q.finished_at),
                Record::Seen(s) => (3, s.at),
                Record::Draft(d) => (4, d.saved_at),
            }
        };
        ranked.push((rank.0, rank.1, storage_key));
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
        .map(|(entry, key)| (format!("{}a:{}", prefix(ns), key_part(key)), entry.as_str()))
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

/// What to do when an action is started with a payload, given the latest action with the same
/// action name and fingerprint (from the index).
// One plan is made per submission and matched at once, never stored in bulk: boxing the
// record would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionPlan {
    /// A finished, confirmed (done or already received) action with the same fingerprint,
    /// inside its window: answer "already received" with its stored reply, send nothing.
    Repeat(ActionRecord),
    /// An unfinished action with the same fingerprint, within the 24 h retention: continue it
    /// with its key.
    Resume(Key),
    /// Anything else: a new action with a new key.
    New,
}

/// Decides between repeating, resuming and starting anew (SPEC section 1, principles 1, 2
/// and 6). A finished action that was not confirmed (changed, rejected, failed) gives `New`:
/// the server may have stored that failure under the old key, and would replay it.
///
/// ```
/// use sendonce::core::record::{plan_action, ActionPlan};
/// use sendonce::core::fingerprint::sha256_hex;
/// assert_eq!(plan_action(None, &sha256_hex(b"x"), 0), ActionPlan::New);
/// ```
pub fn plan_action(
    existing: Option<&ActionRecord>,
    fingerprint: &Fingerprint,
    now_ms: u64,
) -> ActionPlan {
    let Some(record) = existing.filter(|r| r.fingerprint == *fingerprint) else {
        return ActionPlan::New;
    };
    if now_ms >= record.expires_at() {
        return ActionPlan::New;
    }
    if !record.is_finished() {
        ActionPlan::Resume(record.key.clone())
    } else if record.status.is_confirmed() {
        ActionPlan::Repeat(record.clone())
    } else {
        ActionPlan::New
    }
}

/// What a form does with the key kept in its draft when it is submitted.
// One plan is made per submission and matched at once, never stored in bulk: boxing the
// record would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKeyChoice {
    /// Send with this key: it was never sent, or it was sent with the same data and is not
    /// finished yet.
    Keep(Key),
    /// The same data was confirmed inside the window: show "already received", send nothing.
    Repeat(ActionRecord),
    /// Use a new key: there is none, the data changed after the key was sent, the action was
    /// refused or failed, or its window has passed.
    Rotate,
}

/// Chooses the key of a form submission (SPEC section 6, "Form"): keep the draft's key while
/// the fingerprint is unchanged or the key was never sent; repeat when unchanged, finished,
/// confirmed and inside the window; rotate when the data changed after the key was sent, when
/// the window (or, unfinished, the 24 h retention) has passed, or when the action finished
/// without a confirmation.
///
/// `record_of_that_key` is the action stored under the draft's key, `None` if that key was
/// never sent.
///
/// ```
/// use sendonce::core::record::{form_key, FormKeyChoice};
/// use sendonce::core::{fingerprint::sha256_hex, key::validate_key};
/// let k = validate_key("k-1").unwrap();
/// assert_eq!(form_key(Some(&k), None, &sha256_hex(b"x"), 0), FormKeyChoice::Keep(k));
/// ```
pub fn form_key(
    draft_key: Option<&Key>,
    record_of_that_key: Option<&ActionRecord>,
    fingerprint: &Fingerprint,
    now_ms: u64,
) -> FormKeyChoice {
    let Some(key) = draft_key else {
        return FormKeyChoice::Rotate;
    };
    let Some(record) = record_of_that_key else {
        return FormKeyChoice::Keep(key.clone());
    };
    if record.fingerprint != *fingerprint || now_ms >= record.expires_at() {
        return FormKeyChoice::Rotate;
    }
    if !record.is_finished() {
        FormKeyChoice::Keep(key.clone())
    } else if record.status.is_confirmed() {
        FormKeyChoice::Repeat(record.clone())
    } else {
        FormKeyChoice::Rotate
    }
}
