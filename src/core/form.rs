//! Pure decisions of `so.form(...)`: which fields are private, what a submission sends, and
//! which key a submission uses. The DOM binding (`src/bindings/form.rs`) only reads the
//! fields and calls these; `FormConfig::normalize` turns its options into complete ones.

use crate::core::action::{plan_action, ActionPlan};
use crate::core::fingerprint::{fingerprint_form, sha256_hex, Fingerprint, FormValue};
use crate::core::json::{self, Value};
use crate::core::key::Key;
use crate::core::record::ActionRecord;
use sha2::{Digest, Sha256};

/// `autocomplete` field names whose fields are sent but never stored or put in an event:
/// passwords (a sign-up form's "show password" makes a `new-password` field a text field),
/// one-time codes, card numbers, codes and expiry dates.
pub const PRIVATE_AUTOCOMPLETE: &[&str] = &[
    "current-password",
    "new-password",
    "one-time-code",
    "cc-number",
    "cc-csc",
    "cc-exp",
    "cc-exp-month",
    "cc-exp-year",
];

/// What the binding knows about one form control, enough to decide whether it is private.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldInfo {
    /// The control's `name`.
    pub name: String,
    /// Its `type` (`"password"`, `"text"`, `"select-one"`...), lower case.
    pub kind: String,
    /// Its `autocomplete` attribute, as written.
    pub autocomplete: String,
    /// True when it carries `data-sendonce-private`.
    pub marked_private: bool,
}

/// True when the field must never leave the page through sendonce: passwords, card numbers,
/// card codes and expiry dates, one-time codes, fields marked `data-sendonce-private`, names
/// in `exclude`.
///
/// `autocomplete` is read the way HTML reads it: a list of tokens separated by ASCII
/// whitespace, compared without regard to ASCII letter case, where the field name comes after
/// an optional `section-*` token, an optional `shipping` / `billing` and an optional contact
/// kind, and may be followed by `webauthn` (`"section-pay billing cc-exp"`,
/// `"username new-password webauthn"`). Any token that names a private field counts, also in a
/// list HTML would call invalid: leaving a value out of storage is always the safe mistake.
///
/// ```
/// use sendonce::core::form::{is_private, FieldInfo};
/// let f = FieldInfo { name: "pw".into(), kind: "password".into(), ..Default::default() };
/// assert!(is_private(&f, &[]));
/// let shown = FieldInfo { name: "pw".into(), kind: "text".into(), autocomplete: "section-a billing New-Password".into(), ..Default::default() };
/// assert!(is_private(&shown, &[]));
/// ```
pub fn is_private(field: &FieldInfo, exclude: &[String]) -> bool {
    field.kind.eq_ignore_ascii_case("password")
        || field.marked_private
        || exclude.contains(&field.name)
        || private_autocomplete(&field.autocomplete)
}

/// True when an `autocomplete` attribute names a private field (see [`is_private`]).
///
/// ```
/// use sendonce::core::form::private_autocomplete;
/// assert!(private_autocomplete("section-x shipping cc-number"));
/// assert!(private_autocomplete("\tCC-EXP-MONTH\n"));
/// assert!(!private_autocomplete("cc-name"));
/// ```
pub fn private_autocomplete(autocomplete: &str) -> bool {
    // ASCII whitespace as HTML defines it: space, tab, LF, FF, CR (`split_ascii_whitespace`).
    autocomplete.split_ascii_whitespace().any(|t| {
        PRIVATE_AUTOCOMPLETE
            .iter()
            .any(|p| t.eq_ignore_ascii_case(p))
    })
}

/// The JSON body a form sends: one member per field name in DOM order; a name with one value
/// gives a string, a name with several values (checkboxes, multiple selects, repeated inputs)
/// gives an array in DOM order. Fields named in `numbers` (`type=number` and `type=range`
/// inputs) give JSON numbers, and `null` when empty; a value that is not a number stays a
/// string. Files are `{ file, size, type, lastModified }` metadata here: a form with files is
/// sent as `multipart/form-data` instead (see the form binding).
///
/// ```
/// use sendonce::core::form::form_body;
/// use sendonce::core::fingerprint::FormValue;
/// let t = |s: &str| FormValue::Text(s.into());
/// let body = form_body(&[("a".into(), t("1")), ("b".into(), t("x")), ("b".into(), t("y"))], &[]);
/// assert_eq!(body.to_json(), r#"{"a":"1","b":["x","y"]}"#);
/// let typed = form_body(&[("qty".into(), t("2")), ("price".into(), t("")), ("n".into(), t("abc"))],
///     &["qty".into(), "price".into(), "n".into()]);
/// assert_eq!(typed.to_json(), r#"{"qty":2,"price":null,"n":"abc"}"#);
/// ```
pub fn form_body(fields: &[(String, FormValue)], numbers: &[String]) -> Value {
    let mut members: Vec<(String, Vec<Value>)> = Vec::new();
    for (name, value) in fields {
        let v = match value {
            FormValue::Text(t) if numbers.contains(name) => number_value(t),
            other => other.to_value(),
        };
        match members.iter_mut().find(|(k, _)| k == name) {
            Some((_, values)) => values.push(v),
            None => members.push((name.clone(), vec![v])),
        }
    }
    Value::Object(
        members
            .into_iter()
            .map(|(k, mut vs)| {
                let v = if vs.len() == 1 {
                    vs.remove(0)
                } else {
                    Value::Array(vs)
                };
                (k, v)
            })
            .collect(),
    )
}

/// The body of a form sent as `application/x-www-form-urlencoded`, the way a browser writes
/// it (the URL standard's serializer: space as `+`, `*-._` and ASCII letters and digits as
/// they are, every other byte of the UTF-8 text as `%XX`). Files are sent by name only, as a
/// plain HTML form without `enctype` would.
///
/// ```
/// use sendonce::core::form::form_urlencoded;
/// use sendonce::core::fingerprint::FormValue;
/// let t = |s: &str| FormValue::Text(s.into());
/// assert_eq!(form_urlencoded(&[("q".into(), t("tea & cake")), ("n".into(), t("ü"))]), "q=tea+%26+cake&n=%C3%BC");
/// ```
pub fn form_urlencoded(fields: &[(String, FormValue)]) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        if !out.is_empty() {
            out.push('&');
        }
        let text = match value {
            FormValue::Text(t) => t.as_str(),
            FormValue::File { name, .. } => name.as_str(),
        };
        percent_encode(name, &mut out);
        out.push('=');
        percent_encode(text, &mut out);
    }
    out
}

fn percent_encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(b as char)
            }
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

/// The `multipart/form-data` boundary of the action with key `key`: chosen once per action
/// (derived from its key), so every attempt, and a resend after a reload with the same data
/// and files, carries the same bytes (SPEC section 5). Browsers pick a new boundary for every
/// `fetch` of a `FormData`, and a server that fingerprints the raw body then answers 422 to the
/// retry of an order it placed. 32 hex digits of SHA-256 never occur in a text by accident.
///
/// ```
/// use sendonce::core::form::multipart_boundary;
/// use sendonce::core::key::validate_key;
/// let b = multipart_boundary(&validate_key("k-1").unwrap());
/// assert_eq!(b, multipart_boundary(&validate_key("k-1").unwrap()));
/// assert!(b.starts_with("----sendonce-") && b.len() == 45);
/// ```
pub fn multipart_boundary(key: &Key) -> String {
    let digest = sha256_hex(key.as_str().as_bytes());
    // `get`, not `[..32]`: the digest is 64 hex digits, and a range index would link the
    // standard library's str slicing panic (its message formats chars with `Debug`, which
    // brings the Unicode printable tables): 1.4 KB of wasm for a case that cannot happen.
    let hex = digest.as_str();
    let mut out = String::with_capacity(45);
    out.push_str("----sendonce-");
    out.push_str(hex.get(..32).unwrap_or(hex));
    out
}

/// The `Content-Type` of a multipart body with `boundary`.
pub fn multipart_content_type(boundary: &str) -> String {
    format!("multipart/form-data; boundary={boundary}")
}

/// Line breaks as CRLF, the way HTML's multipart/form-data encoding writes names and values.
fn crlf(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                out.push_str("\r\n");
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// A name or file name in a `Content-Disposition` header, escaped as HTML does: LF as `%0A`,
/// CR as `%0D`, `"` as `%22`.
fn disposition_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            '"' => out.push_str("%22"),
            c => out.push(c),
        }
    }
    out
}

/// One text part of a multipart body, with its delimiter and closing line break.
///
/// ```
/// use sendonce::core::form::multipart_text_part;
/// assert_eq!(multipart_text_part("B", "note", "a\nb"),
///     "--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\na\r\nb\r\n");
/// ```
pub fn multipart_text_part(boundary: &str, name: &str, value: &str) -> String {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n",
        disposition_text(&crlf(name)),
        crlf(value)
    )
}

/// The head of one file part (the file's bytes follow, then [`MULTIPART_PART_END`]).
///
/// ```
/// use sendonce::core::form::multipart_file_head;
/// assert_eq!(multipart_file_head("B", "f", "a\"b.txt", ""),
///     "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a%22b.txt\"\r\nContent-Type: application/octet-stream\r\n\r\n");
/// ```
pub fn multipart_file_head(boundary: &str, name: &str, file_name: &str, mime: &str) -> String {
    let mime = if mime.is_empty() {
        "application/octet-stream"
    } else {
        mime
    };
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {mime}\r\n\r\n",
        disposition_text(&crlf(name)),
        disposition_text(file_name)
    )
}

/// What follows a file's bytes.
pub const MULTIPART_PART_END: &str = "\r\n";

/// The closing delimiter of a multipart body.
pub fn multipart_end(boundary: &str) -> String {
    format!("--{boundary}--\r\n")
}

/// A number input's value as JSON: a number, `null` when empty, the text when it is not a
/// number (HTML's `.5` and `-.5` spellings included).
fn number_value(text: &str) -> Value {
    let t = text.trim();
    if t.is_empty() {
        return Value::Null;
    }
    let fixed = match t.strip_prefix('-') {
        Some(rest) if rest.starts_with('.') => format!("-0{rest}"),
        _ if t.starts_with('.') => format!("0{t}"),
        _ => t.to_string(),
    };
    match crate::core::json::parse(&fixed) {
        Ok(n @ Value::Number(_)) => n,
        _ => Value::String(text.to_string()),
    }
}

/// HMAC-SHA256 of `message` under `key` (RFC 2104), as 64 lowercase hex digits.
fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    let mut hex = String::with_capacity(64);
    for b in outer.iter() {
        hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    hex
}

/// The keyed digest of a form's private values (passwords, card numbers...), or `None` when
/// none holds a value (a blank password holds no secret). `secret` is random, made once per
/// page life and kept only in memory: the digest lets the form tell "the same password" from
/// "another password" while the page lives, and it is useless to anyone who reads storage (it
/// cannot be checked against guesses without the secret, which is never stored or sent).
///
/// ```
/// use sendonce::core::form::private_digest;
/// use sendonce::core::fingerprint::FormValue;
/// let pw = |s: &str| vec![("password".to_string(), FormValue::Text(s.into()))];
/// let secret = [7u8; 32];
/// assert_eq!(private_digest(&secret, &pw("")), None);
/// assert_ne!(private_digest(&secret, &pw("a")), private_digest(&secret, &pw("b")));
/// assert_ne!(private_digest(&secret, &pw("a")), private_digest(&[8u8; 32], &pw("a")));
/// ```
pub fn private_digest(secret: &[u8], private: &[(String, FormValue)]) -> Option<String> {
    let mut message = String::new();
    for (name, value) in private {
        if matches!(value, FormValue::Text(t) if t.is_empty()) {
            continue;
        }
        json::write_string(&mut message, name);
        message.push(':');
        message.push_str(&value.to_value().to_json());
        message.push('\n');
    }
    (!message.is_empty()).then(|| hmac_sha256_hex(secret, message.as_bytes()))
}

/// Who a form submission is: the fingerprint of its visible fields, the same without file
/// entries, the names of the attached files and of the private fields that hold a value, and
/// the action's fingerprint, which is the visible one when nothing private holds a value and
/// otherwise mixes in the keyed digest of the private values ([`private_digest`]): another
/// password is another action, and the fingerprint in storage reveals nothing of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormIdentity {
    /// The action's fingerprint (stored with its record, used for its index and claims).
    pub fingerprint: Fingerprint,
    /// The fingerprint of the visible fields (files as metadata).
    pub visible: Fingerprint,
    /// The fingerprint of the visible fields without their files.
    pub without_files: Fingerprint,
    /// The attached files' names, in DOM order.
    pub files: Vec<String>,
    /// The names of the private fields that hold a value.
    pub private_names: Vec<String>,
}

/// The [`FormIdentity`] of a submission: `visible` fields (as stored and restored), the names
/// of the private fields holding a value, and the digest of their values.
///
/// ```
/// use sendonce::core::form::{form_identity, private_digest};
/// use sendonce::core::fingerprint::FormValue;
/// let visible = vec![("user".to_string(), FormValue::Text("ada".into()))];
/// let pw = |s: &str| vec![("password".to_string(), FormValue::Text(s.into()))];
/// let plain = form_identity(&visible, &[], None);
/// assert_eq!(plain.fingerprint, plain.visible);
/// let a = form_identity(&visible, &["password".into()], private_digest(&[1; 32], &pw("a")).as_deref());
/// let b = form_identity(&visible, &["password".into()], private_digest(&[1; 32], &pw("b")).as_deref());
/// assert_eq!(a.visible, b.visible);
/// assert_ne!(a.fingerprint, b.fingerprint);
/// ```
pub fn form_identity(
    visible: &[(String, FormValue)],
    private_names: &[String],
    digest: Option<&str>,
) -> FormIdentity {
    let visible_fp = fingerprint_form(visible, &[]);
    let without: Vec<(String, FormValue)> = visible
        .iter()
        .filter(|(_, v)| matches!(v, FormValue::Text(_)))
        .cloned()
        .collect();
    let files = visible
        .iter()
        .filter_map(|(_, v)| match v {
            FormValue::File { name, .. } => Some(name.clone()),
            FormValue::Text(_) => None,
        })
        .collect();
    let fingerprint = match digest {
        Some(d) => sha256_hex(format!("{visible_fp}\n{d}").as_bytes()),
        None => visible_fp.clone(),
    };
    FormIdentity {
        fingerprint,
        visible: visible_fp,
        without_files: fingerprint_form(&without, &[]),
        files,
        private_names: private_names.to_vec(),
    }
}

/// What a form's stored request waits for after a reload, by name (see
/// `StoredRequest::waiting_for`): `"file:{name}"` for each file among the `visible` fields,
/// `"field:{name}"` for each private field that held a value.
///
/// ```
/// use sendonce::core::form::waiting_for;
/// use sendonce::core::fingerprint::FormValue;
/// let f = vec![("receipt".to_string(), FormValue::File { name: "r.pdf".into(), mime: String::new(), size: 1, last_modified: 0 })];
/// assert_eq!(waiting_for(&f, &["pin".into()]), ["file:r.pdf", "field:pin"]);
/// ```
pub fn waiting_for(visible: &[(String, FormValue)], private_names: &[String]) -> Vec<String> {
    let files = visible.iter().filter_map(|(_, v)| match v {
        FormValue::File { name, .. } => Some(format!("file:{name}")),
        FormValue::Text(_) => None,
    });
    let fields = private_names.iter().map(|n| format!("field:{n}"));
    files.chain(fields).collect()
}

/// The draft a form restored when it was bound (after a reload): its key's action was made in
/// an earlier page life, so its private part (if any) cannot be checked any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierLife {
    /// The fingerprint of the restored draft's visible fields.
    pub visible: Fingerprint,
    /// The same without file entries.
    pub without_files: Fingerprint,
}

impl EarlierLife {
    /// From the restored draft's fields.
    pub fn of(fields: &[(String, FormValue)]) -> EarlierLife {
        let id = form_identity(fields, &[], None);
        EarlierLife {
            visible: id.visible,
            without_files: id.without_files,
        }
    }
}

/// The user words for what a waiting request needs (`"file:r.pdf"` -> `"r.pdf"`,
/// `"field:password"` -> `"password"`), joined for a status text.
///
/// ```
/// use sendonce::core::form::missing_text;
/// assert_eq!(missing_text(&["file:r.pdf".into(), "field:password".into()]), "r.pdf, password");
/// ```
pub fn missing_text(missing: &[String]) -> String {
    let words: Vec<&str> = missing
        .iter()
        .map(|m| {
            m.strip_prefix("file:")
                .or_else(|| m.strip_prefix("field:"))
                .unwrap_or(m)
        })
        .collect();
    words.join(", ")
}

/// What a submission does.
// Made once per submission and matched at once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Send with the draft's key (never sent, or sent with the same data and unfinished).
    Send(Key),
    /// Continue this unfinished action, restored after a reload, with its key: the visible
    /// data is unchanged and the user supplied again what is never stored. The record carries
    /// the submission's fingerprint (its private part is this page life's).
    Continue(ActionRecord),
    /// The unfinished action of the draft's key, restored after a reload, still lacks what is
    /// never stored (`missing`, as in `StoredRequest::waiting_for`) and the rest of the data is
    /// unchanged: nothing is sent, the key is kept, the user is told what to add.
    Wait {
        /// The draft's key.
        key: Key,
        /// What the user must add again.
        missing: Vec<String>,
    },
    /// The same data was confirmed inside the window: answer "already received" locally.
    Repeat(ActionRecord),
    /// Send with a new key. `rotated` is true when the draft's key had already been sent with
    /// other data (or its action ended unconfirmed, or its window passed): a `key.rotated`
    /// event is due.
    NewKey {
        /// The draft's old key had been used.
        rotated: bool,
    },
}

/// Plans a submission whose identity is `identity` ([`form_identity`]), given the draft's key,
/// whether that key was used (sent: the draft keeps the fingerprint it was sent with), the
/// stored action of that key, the latest action of this form's action name with the same
/// fingerprint (from the index; `None` if none), and, when the draft's key comes from an
/// earlier page life (a reload), that draft ([`EarlierLife`]).
///
/// The index matters when the draft's key is new: after a confirmed success the draft is
/// cleared, so a reload starts a draft with a new key; the same data submitted again inside the
/// window must still be "already received", and an unfinished send of it continues with its
/// own key (see `action::plan_action`).
///
/// After a reload the private part of an action cannot be checked (the digest's secret lived
/// in the page that is gone). An unfinished action that waits for what is never stored keeps
/// its key when the visible data is unchanged and the user supplied it again (SPEC section 6;
/// if the password differs, the server's 422 is the backstop), and waits, sending nothing,
/// while a file or private value it needs is missing and the rest is unchanged. A finished
/// action of an earlier page life with private values is never repeated locally: its
/// fingerprint cannot match, so the same login after a reload is a new one.
///
/// ```
/// use sendonce::core::form::{form_identity, plan_submission, Submission};
/// use sendonce::core::key::validate_key;
/// let k = validate_key("k-1").unwrap();
/// let plan = plan_submission(&form_identity(&[], &[], None), Some(&k), false, None, None, None, 0);
/// assert_eq!(plan, Submission::Send(k));
/// ```
pub fn plan_submission(
    identity: &FormIdentity,
    draft_key: Option<&Key>,
    draft_key_used: bool,
    record_of_that_key: Option<&ActionRecord>,
    indexed: Option<&ActionRecord>,
    earlier: Option<&EarlierLife>,
    now_ms: u64,
) -> Submission {
    if let (Some(key), Some(rec), Some(earlier)) = (draft_key, record_of_that_key, earlier) {
        let waits = rec.key == *key
            && !rec.is_finished()
            && now_ms < rec.expires_at()
            && rec.request.as_ref().is_some_and(|r| r.private_body);
        if waits {
            let needed = rec
                .request
                .as_ref()
                .map(|r| r.waiting_for.as_slice())
                .unwrap_or_default();
            let missing: Vec<String> = needed
                .iter()
                .filter(
                    |n| match (n.strip_prefix("file:"), n.strip_prefix("field:")) {
                        (Some(file), _) => !identity.files.iter().any(|f| f == file),
                        (_, Some(field)) => !identity.private_names.iter().any(|f| f == field),
                        _ => false,
                    },
                )
                .cloned()
                .collect();
            if !missing.is_empty() && identity.without_files == earlier.without_files {
                return Submission::Wait {
                    key: key.clone(),
                    missing,
                };
            }
            if missing.is_empty() && identity.visible == earlier.visible {
                let mut rec = rec.clone();
                rec.fingerprint = identity.fingerprint.clone();
                return Submission::Continue(rec);
            }
        }
    }
    let fingerprint = &identity.fingerprint;
    let draft_key_sent = draft_key.is_some() && (record_of_that_key.is_some() || draft_key_used);
    // A key the draft says was sent, whose action is gone from storage (its window passed, or
    // its 24 h retention), is done with: never reused, whatever data comes now. Reusing it
    // sent a corrected form under a refused key (the server's 422, "This request changed").
    let draft_key = draft_key.filter(|_| record_of_that_key.is_some() || !draft_key_used);
    match form_key(draft_key, record_of_that_key, fingerprint, now_ms) {
        FormKeyChoice::Repeat(r) => Submission::Repeat(r),
        // The draft's own key, sent with this data and unfinished: continue it.
        FormKeyChoice::Keep(k) if draft_key_sent => Submission::Send(k),
        choice => match plan_action(indexed, fingerprint, now_ms) {
            ActionPlan::Repeat(r) => Submission::Repeat(r),
            ActionPlan::Resume(k) => Submission::Send(k),
            ActionPlan::New => match choice {
                FormKeyChoice::Keep(k) => Submission::Send(k),
                _ => Submission::NewKey {
                    rotated: draft_key_sent,
                },
            },
        },
    }
}

/// How a form's body is written (option `encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json`: one member per field (the default without file inputs).
    Json,
    /// `application/x-www-form-urlencoded`, as a plain HTML form posts.
    Urlencoded,
    /// `multipart/form-data` (the default with a file input): the files themselves.
    Multipart,
}

/// How long after a submission starts the button is enabled again while it is still pending
/// (a click then joins it), unless `reenableAfterMs` says otherwise.
pub const DEFAULT_REENABLE_AFTER_MS: u32 = 2_000;

/// The method of a form without a `method` option.
pub const DEFAULT_FORM_METHOD: &str = "POST";

/// The options of `so.form(form, options)` as written, with what the binding read from the
/// form element: `None` where nothing was given. Numbers are already checked finite and
/// `>= 0`, windows already read from their number or text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FormInput {
    /// `action`.
    pub action: Option<String>,
    /// `url`.
    pub url: Option<String>,
    /// The form's `action` attribute.
    pub action_attribute: Option<String>,
    /// `method`.
    pub method: Option<String>,
    /// `window`.
    pub window: Option<crate::core::window::Window>,
    /// `exclude`.
    pub exclude: Vec<String>,
    /// `keepDraft`.
    pub keep_draft: Option<bool>,
    /// `busyLabel`.
    pub busy_label: Option<String>,
    /// `encoding`.
    pub encoding: Option<String>,
    /// The form has a file input.
    pub has_file_input: bool,
    /// `reenableAfterMs`.
    pub reenable_after_ms: Option<f64>,
    /// The form element's `id`.
    pub form_id: Option<String>,
    /// The form element's `name` attribute.
    pub form_name: Option<String>,
}

/// A form's complete options: every default applied, every value checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FormConfig {
    /// The action's name (the one rule of `core::options::action_name`).
    pub action: String,
    /// Where to send: the `url` option, else the form's `action` attribute.
    pub url: String,
    /// The method, upper-cased (default `POST`).
    pub method: String,
    /// The repeat window (default: the instance's `windows.form`).
    pub window: crate::core::window::Window,
    /// Field names sent but never stored.
    pub exclude: Vec<String>,
    /// Keep the draft after a confirmed success (default false).
    pub keep_draft: bool,
    /// The button's label while a submission is under way.
    pub busy_label: Option<String>,
    /// How the body is written (default JSON, or multipart for a form with a file input).
    pub encoding: Encoding,
    /// When the button is enabled again while pending (default
    /// [`DEFAULT_REENABLE_AFTER_MS`]).
    pub reenable_after_ms: u32,
    /// The draft's identity: the form's `id`, else its `name`, else the action's name. Two
    /// forms with the same identity share a draft (and its key).
    pub draft_id: String,
}

impl FormConfig {
    /// Turns the loose options into the form's complete options, or the `invalid_option`
    /// error of the first bad one. `form_window` is the instance's `windows.form`.
    ///
    /// ```
    /// use sendonce::core::form::{Encoding, FormConfig, FormInput};
    /// use sendonce::core::window::Window;
    /// let input = FormInput { action: Some("signup".into()), url: Some("/api".into()),
    ///     has_file_input: true, ..Default::default() };
    /// let c = FormConfig::normalize(input, Window::parse("10m").unwrap()).unwrap();
    /// assert_eq!((c.method.as_str(), c.encoding, c.draft_id.as_str()), ("POST", Encoding::Multipart, "signup"));
    /// ```
    pub fn normalize(
        input: FormInput,
        form_window: crate::core::window::Window,
    ) -> Result<FormConfig, crate::core::error::SendonceError> {
        use crate::core::error::SendonceError;
        let action = crate::core::options::action_name(input.action)?;
        let url = input
            .url
            .filter(|u| !u.is_empty())
            .or(input.action_attribute.filter(|a| !a.is_empty()))
            .ok_or_else(|| {
                SendonceError::option("url", "is required (or an action attribute on the form)")
            })?;
        crate::core::url::check_url(&url, "url")?;
        let method =
            crate::core::http::method(input.method.as_deref().unwrap_or(DEFAULT_FORM_METHOD))?;
        let encoding = match input.encoding.as_deref() {
            Some("json") => Encoding::Json,
            Some("urlencoded") => Encoding::Urlencoded,
            Some("multipart") => Encoding::Multipart,
            // A form with a file input uploads its files: multipart, as the browser would.
            None if input.has_file_input => Encoding::Multipart,
            None => Encoding::Json,
            Some(_) => {
                return Err(SendonceError::option(
                    "encoding",
                    "must be \"json\", \"urlencoded\" or \"multipart\"",
                ))
            }
        };
        let reenable_after_ms = input
            .reenable_after_ms
            .map_or(DEFAULT_REENABLE_AFTER_MS, |n| {
                n.min(f64::from(u32::MAX)) as u32
            });
        let draft_id = [input.form_id, input.form_name]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| action.clone());
        Ok(FormConfig {
            action,
            url,
            method,
            window: input.window.unwrap_or(form_window),
            exclude: input.exclude,
            keep_draft: input.keep_draft.unwrap_or(false),
            busy_label: input.busy_label,
            encoding,
            reenable_after_ms,
            draft_id,
        })
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
/// use sendonce::core::form::{form_key, FormKeyChoice};
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
