//! Fingerprints: SHA-256 over the canonical form of what the user sent, so that the same
//! meaning gives the same fingerprint whatever the field order, and a meaningful change gives
//! a different one.

use crate::core::json::{self, Value};
use sha2::{Digest, Sha256};

/// Fields that change on every attempt without changing the meaning of an action (a client's
/// time stamp, a nonce, an attempt counter). They are left out of the payload's top-level
/// object only (SPEC 4): deeper down the same names are data (`{ slot: { ts: "10:00" } }` is
/// the time booked, and a booking of another slot is another action). An action that means
/// its top-level `ts` as data turns them off with `volatile: []`, or names its own.
pub const VOLATILE_FIELDS: &[&str] =
    &["timestamp", "ts", "sentAt", "nonce", "requestId", "attempt"];

/// A fingerprint: 64 lowercase hex digits of SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint as hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps hex text read back from storage. Returns `None` unless it is 64 lowercase hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        Self::is_hex(s).then(|| Fingerprint(s.to_string()))
    }

    /// True for 64 lowercase hex digits: what [`Fingerprint::from_hex`] accepts.
    pub(crate) fn is_hex(s: &str) -> bool {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    /// A fingerprint from text that [`Fingerprint::is_hex`] has accepted already (see
    /// `Key::from_checked`).
    pub(crate) fn from_checked(s: &str) -> Self {
        Fingerprint(s.to_string())
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// SHA-256 of `bytes` as a [`Fingerprint`].
pub fn sha256_hex(bytes: &[u8]) -> Fingerprint {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(char::from(HEX[(b >> 4) as usize]));
        hex.push(char::from(HEX[(b & 15) as usize]));
    }
    Fingerprint(hex)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// True for a member the fingerprint leaves out: an `exclude`d name wherever it is (the caller
/// named it), a volatile one in the top-level object only (`depth` 0). `volatile` is the
/// action's own list; `None` means [`VOLATILE_FIELDS`].
fn skipped(name: &str, depth: usize, exclude: &[String], volatile: Option<&[String]>) -> bool {
    let is_volatile = depth == 0
        && match volatile {
            None => VOLATILE_FIELDS.contains(&name),
            Some(names) => names.iter().any(|v| v == name),
        };
    is_volatile || exclude.iter().any(|e| e == name)
}

/// The canonical text of a payload: the default volatile fields removed from its top-level
/// object, `exclude`d fields removed at any depth, object keys sorted, one spelling of numbers
/// and strings.
///
/// ```
/// use sendonce::core::{fingerprint::canonical, json::parse};
/// let v = parse(r#"{"b":2,"a":1,"nonce":"x9","slot":{"ts":"10:00"}}"#).unwrap();
/// assert_eq!(canonical(&v, &[]), r#"{"a":1,"b":2,"slot":{"ts":"10:00"}}"#);
/// ```
pub fn canonical(value: &Value, exclude: &[String]) -> String {
    json::canonical_of(value, &|name, depth| skipped(name, depth, exclude, None))
}

/// The fingerprint of a JSON-like payload (see [`canonical`]).
///
/// ```
/// use sendonce::core::{fingerprint::fingerprint_value, json::parse};
/// let a = parse(r#"{"item":"tea","qty":2,"ts":1}"#).unwrap();
/// let b = parse(r#"{"qty":2.0,"item":"tea","ts":2}"#).unwrap();
/// assert_eq!(fingerprint_value(&a, &[]), fingerprint_value(&b, &[]));
/// ```
pub fn fingerprint_value(value: &Value, exclude: &[String]) -> Fingerprint {
    sha256_hex(canonical(value, exclude).as_bytes())
}

/// The fingerprint of a payload given as JSON text: the same as [`fingerprint_value`] of the
/// parsed text, without building the tree. Refuses what `json::parse` refuses, with the same
/// error.
///
/// ```
/// use sendonce::core::fingerprint::{fingerprint_json, fingerprint_value};
/// use sendonce::core::json::parse;
/// let text = r#"{"qty":2,"item":"tea","ts":1}"#;
/// assert_eq!(fingerprint_json(text, &[]).unwrap(), fingerprint_value(&parse(text).unwrap(), &[]));
/// assert_eq!(fingerprint_json("{", &[]).unwrap_err().code(), "invalid_json");
/// ```
pub fn fingerprint_json(
    text: &str,
    exclude: &[String],
) -> Result<Fingerprint, crate::core::error::SendonceError> {
    fingerprint_action(text, exclude, None)
}

/// The fingerprint of an action's payload (JSON text) with the action's own volatile names:
/// `None` for the defaults ([`VOLATILE_FIELDS`]), `Some(&[])` to count every field (the
/// `volatile: []` option). Volatile names are left out of the top-level object only;
/// `exclude`d names at any depth.
///
/// ```
/// use sendonce::core::fingerprint::fingerprint_action;
/// let fp = |text, volatile| fingerprint_action(text, &[], volatile).unwrap();
/// // Nested names are data: another slot is another booking.
/// assert_ne!(fp(r#"{"room":1,"slot":{"ts":"10:00"}}"#, None), fp(r#"{"room":1,"slot":{"ts":"11:00"}}"#, None));
/// // A top-level `ts` is a client's stamp, unless the action says otherwise.
/// assert_eq!(fp(r#"{"room":1,"ts":1}"#, None), fp(r#"{"room":1,"ts":2}"#, None));
/// assert_ne!(fp(r#"{"room":1,"ts":1}"#, Some(&[])), fp(r#"{"room":1,"ts":2}"#, Some(&[])));
/// ```
pub fn fingerprint_action(
    text: &str,
    exclude: &[String],
    volatile: Option<&[String]>,
) -> Result<Fingerprint, crate::core::error::SendonceError> {
    let canon = json::canonical_text(text, &|name, depth| skipped(name, depth, exclude, volatile))?;
    Ok(sha256_hex(canon.as_bytes()))
}

/// The fingerprint of a request body as a server sees it: JSON bodies by their canonical form
/// (so the server computes what the browser computed for the payload), anything else by its
/// bytes. Returns hex text. The default volatile names are left out of the top-level object,
/// as the SDK does for an action without a `volatile` option.
///
/// ```
/// use sendonce::core::fingerprint::{fingerprint_body, fingerprint_value};
/// use sendonce::core::json::parse;
/// let body = br#"{"qty":2,"item":"tea"}"#;
/// let payload = parse(r#"{"item":"tea","qty":2}"#).unwrap();
/// assert_eq!(fingerprint_body(Some("application/json"), body), fingerprint_value(&payload, &[]).to_string());
/// ```
pub fn fingerprint_body(content_type: Option<&str>, body: &[u8]) -> String {
    let looks_json =
        content_type.is_none_or(|ct| crate::core::text::contains(&ct.to_ascii_lowercase(), "json"));
    if looks_json {
        if let Ok(text) = std::str::from_utf8(body) {
            if let Ok(fingerprint) = fingerprint_json(text, &[]) {
                return fingerprint.0;
            }
        }
    }
    sha256_hex(body).0
}

/// One value of a form field, as the form fingerprint sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum FormValue {
    /// A text value (inputs, selects, textareas, checked boxes).
    Text(String),
    /// A file, by name, size, type and last modification time (its bytes are not read).
    File {
        /// The file name.
        name: String,
        /// Its MIME type (`File.type`), empty when the browser does not know it.
        mime: String,
        /// Size in bytes.
        size: u64,
        /// `lastModified` in Unix milliseconds.
        last_modified: u64,
    },
}

impl FormValue {
    /// The value as JSON: text as a string, a file as `{ file, size, type, lastModified }`.
    pub fn to_value(&self) -> Value {
        match self {
            FormValue::Text(s) => Value::String(s.clone()),
            FormValue::File {
                name,
                mime,
                size,
                last_modified,
            } => Value::object([
                ("file", Value::from(name.as_str())),
                ("size", Value::from(*size)),
                ("type", Value::from(mime.as_str())),
                ("lastModified", Value::from(*last_modified)),
            ]),
        }
    }
}

/// The canonical value of a form: an object of field name -> array of its values in DOM
/// order (repeated names keep their order), with `exclude`d and volatile names removed (a
/// form's field names are its top level).
pub fn form_value(fields: &[(String, FormValue)], exclude: &[String]) -> Value {
    let mut members: Vec<(String, Value)> = Vec::new();
    for (name, value) in fields {
        if VOLATILE_FIELDS.contains(&name.as_str()) || exclude.iter().any(|e| e == name) {
            continue;
        }
        let v = value.to_value();
        match members.iter_mut().find(|(k, _)| k == name) {
            Some((_, Value::Array(values))) => values.push(v),
            _ => members.push((name.clone(), Value::Array(vec![v]))),
        }
    }
    Value::Object(members)
}

/// The fingerprint of a form's fields (see [`form_value`]).
///
/// ```
/// use sendonce::core::fingerprint::{fingerprint_form, FormValue};
/// let f = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), FormValue::Text(v.to_string()))).collect::<Vec<_>>();
/// assert_eq!(fingerprint_form(&f(&[("a", "1"), ("b", "2")]), &[]), fingerprint_form(&f(&[("b", "2"), ("a", "1")]), &[]));
/// assert_ne!(fingerprint_form(&f(&[("t", "1"), ("t", "2")]), &[]), fingerprint_form(&f(&[("t", "2"), ("t", "1")]), &[]));
/// ```
pub fn fingerprint_form(fields: &[(String, FormValue)], exclude: &[String]) -> Fingerprint {
    fingerprint_value(&form_value(fields, exclude), &[])
}
