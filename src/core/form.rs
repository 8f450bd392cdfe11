//! Pure decisions of `so.form(...)`: which fields are private, what a submission sends, and
//! which key a submission uses. The DOM binding (`src/bindings/form.rs`) only reads the
//! fields and calls these.

use crate::core::fingerprint::{Fingerprint, FormValue};
use crate::core::json::Value;
use crate::core::key::Key;
use crate::core::record::{form_key, plan_action, ActionPlan, ActionRecord, FormKeyChoice};

/// `autocomplete` tokens whose fields are never stored, fingerprinted or sent in the body.
pub const PRIVATE_AUTOCOMPLETE: &[&str] = &["cc-number", "cc-csc", "one-time-code"];

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
/// card codes, one-time codes, fields marked `data-sendonce-private`, names in `exclude`.
/// `autocomplete` may hold several tokens (`"section-pay cc-number"`); any private token counts.
///
/// ```
/// use sendonce::core::form::{is_private, FieldInfo};
/// let f = FieldInfo { name: "pw".into(), kind: "password".into(), ..Default::default() };
/// assert!(is_private(&f, &[]));
/// ```
pub fn is_private(field: &FieldInfo, exclude: &[String]) -> bool {
    field.kind.eq_ignore_ascii_case("password")
        || field.marked_private
        || exclude.contains(&field.name)
        || field.autocomplete.split_ascii_whitespace().any(|t| {
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

/// What a submission does.
// Made once per submission and matched at once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Send with the draft's key (never sent, or sent with the same data and unfinished).
    Send(Key),
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

/// Plans a submission whose fields (already without private fields) have `fingerprint`
/// ([`fingerprint_form`]), given the draft's key, the stored action of that key, and the
/// latest action of this form's action name with the same fingerprint (from the index; `None`
/// if none).
///
/// [`fingerprint_form`]: crate::core::fingerprint::fingerprint_form
///
/// The index matters when the draft's key is new: after a confirmed success the draft is
/// cleared, so a reload starts a draft with a new key; the same data submitted again inside the
/// window must still be "already received", and an unfinished send of it continues with its
/// own key (see `record::plan_action`).
///
/// ```
/// use sendonce::core::fingerprint::fingerprint_form;
/// use sendonce::core::form::{plan_submission, Submission};
/// use sendonce::core::key::validate_key;
/// let k = validate_key("k-1").unwrap();
/// let plan = plan_submission(&fingerprint_form(&[], &[]), Some(&k), None, None, 0);
/// assert_eq!(plan, Submission::Send(k));
/// ```
pub fn plan_submission(
    fingerprint: &Fingerprint,
    draft_key: Option<&Key>,
    record_of_that_key: Option<&ActionRecord>,
    indexed: Option<&ActionRecord>,
    now_ms: u64,
) -> Submission {
    let draft_key_sent = draft_key.is_some() && record_of_that_key.is_some();
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
