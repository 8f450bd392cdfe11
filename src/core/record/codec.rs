//! The records' compact JSON: [`Record::encode`], and [`Record::decode`] with the schema
//! checks that skip a record that does not decode.

use crate::core::error::SendonceError;
use crate::core::fingerprint::{Fingerprint, FormValue};
use crate::core::json::{self, Value};
use crate::core::key::{validate_key, Key};
use crate::core::status::StatusCode;
use crate::core::window::{ActionKind, MAX_WINDOW_MS};

use super::keys::owns;
use super::types::*;

impl Record {
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
