//! A small JSON value, parser and writer.
//!
//! sendonce needs JSON in three places: payloads (to fingerprint them and to send the same
//! bytes on every retry), stored records, and server replies. A dedicated ~300-line module
//! costs far less wasm than a general serializer and gives one canonical spelling that the
//! browser and a Rust server share. Parsing is bounded (depth) and never panics.

use crate::core::error::SendonceError;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Deepest nesting the parser and the canonical writer accept. Deeper payloads are refused
/// with a clear error instead of exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// Default of the `maxPayloadBytes` option: 1 MiB of JSON per payload. Bigger payloads are
/// refused with `payload_too_large` before sendonce builds or stores anything from them.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// A JSON value. Objects keep their members in insertion order; [`Value::canonical`] sorts them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` (also what non-finite numbers become, as in `JSON.stringify`).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number; JSON has one number type, a double.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in insertion order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `name` of an object (the last one if repeated), or `None`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string inside a `Value::String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number inside a `Value::Number`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as a non-negative integer, if it is one that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n < 1.8e19 => {
                Some(*n as u64)
            }
            _ => None,
        }
    }

    /// The bool inside a `Value::Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Writes this value as compact JSON, members in insertion order.
    ///
    /// ```
    /// use sendonce::core::json::{parse, Value};
    /// let v = parse(r#"{"b": 1.50, "a": [true, null]}"#).unwrap();
    /// assert_eq!(v.to_json(), r#"{"b":1.5,"a":[true,null]}"#);
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self);
        out
    }

    /// Writes this value in its canonical form: object members sorted by key (the last of
    /// repeated keys wins), numbers and strings in one spelling. Same meaning, same text.
    ///
    /// ```
    /// use sendonce::core::json::parse;
    /// let a = parse(r#"{"b": 1.0, "a": "x"}"#).unwrap();
    /// let b = parse(r#"{"a": "\u0078", "b": 1}"#).unwrap();
    /// assert_eq!(a.canonical(), b.canonical());
    /// ```
    pub fn canonical(&self) -> String {
        canonical_of(self, &|_, _| false)
    }

    /// A shorthand to build an object from pairs.
    pub fn object<I, K>(members: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n as f64)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Appends `v` as compact JSON, as [`Value::to_json`] writes it.
pub fn write_json(out: &mut String, v: &Value) {
    write_value(out, v);
}

/// Writes a number in sendonce's one spelling: integers without a fraction, `-0` as `0`,
/// non-finite numbers as `null` (as `JSON.stringify` does).
pub fn write_number(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
    } else if n == 0.0 {
        out.push('0');
    } else {
        crate::core::number::write_f64(out, n);
    }
}

/// Appends the member `name` to a JSON path such as `$.items[2]`: `.name` when it is an
/// identifier, `["a b"]` otherwise. Error messages use these paths to say where in a payload
/// a problem is, without showing any value.
///
/// ```
/// use sendonce::core::json::{push_path_index, push_path_member};
/// let mut p = String::from("$");
/// push_path_member(&mut p, "items");
/// push_path_index(&mut p, 2);
/// push_path_member(&mut p, "unit price");
/// assert_eq!(p, r#"$.items[2]["unit price"]"#);
/// ```
pub fn push_path_member(path: &mut String, name: &str) {
    let ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident {
        path.push('.');
        path.push_str(name);
    } else {
        path.push('[');
        write_string(path, name);
        path.push(']');
    }
}

/// Appends the array index `i` to a JSON path (`[2]`); see [`push_path_member`].
pub fn push_path_index(path: &mut String, i: u32) {
    let _ = write!(path, "[{i}]");
}

/// The largest `maxPayloadBytes` accepted (256 MiB): beyond it a page runs out of memory
/// before any limit would help.
pub const MAX_PAYLOAD_LIMIT: usize = 1 << 28;

/// The `maxPayloadBytes` option, normalised: absent is [`DEFAULT_MAX_PAYLOAD_BYTES`]; it must
/// be a whole number of bytes from 1 to [`MAX_PAYLOAD_LIMIT`].
///
/// ```
/// use sendonce::core::json::payload_limit;
/// assert_eq!(payload_limit(None).unwrap(), 1_048_576);
/// assert_eq!(payload_limit(Some(4096.0)).unwrap(), 4096);
/// assert_eq!(payload_limit(Some(1.5)).unwrap_err().code(), "invalid_option");
/// ```
pub fn payload_limit(option: Option<f64>) -> Result<usize, SendonceError> {
    match option {
        None => Ok(DEFAULT_MAX_PAYLOAD_BYTES),
        Some(n) if (1.0..=MAX_PAYLOAD_LIMIT as f64).contains(&n) && n.fract() == 0.0 => {
            Ok(n as usize)
        }
        Some(_) => Err(SendonceError::option(
            "maxPayloadBytes",
            format!("must be a whole number of bytes from 1 to {MAX_PAYLOAD_LIMIT}"),
        )),
    }
}

/// Checks a payload's size in bytes against the `maxPayloadBytes` limit.
///
/// ```
/// use sendonce::core::json::check_payload_size;
/// assert!(check_payload_size(1_048_576, 1_048_576).is_ok());
/// assert_eq!(check_payload_size(1_048_577, 1_048_576).unwrap_err().code(), "payload_too_large");
/// ```
pub fn check_payload_size(size: usize, limit: usize) -> Result<(), SendonceError> {
    if size > limit {
        return Err(SendonceError::PayloadTooLarge {
            size: size as u64,
            limit: limit as u64,
        });
    }
    Ok(())
}

/// Writes `s` as a JSON string literal with the minimal escapes.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Copy runs of characters that need no escape at once; every escaped character is ASCII,
    // so the runs end on character boundaries.
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(run_start..i).unwrap_or(""));
        if escape.is_empty() {
            out.push_str("\\u");
            crate::core::text::push_hex(out, u32::from(b), 4);
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(s.get(run_start..).unwrap_or(""));
    out.push('"');
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, *n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

/// Members sorted by key, the last of repeated keys kept (as `JSON.parse` does).
pub fn sorted_members(members: &[(String, Value)]) -> Vec<(&str, &Value)> {
    let mut sorted: Vec<(&str, &Value)> = members.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let kept = sort_by_name(&mut sorted, |m| m.0);
    sorted.truncate(kept);
    sorted
}

/// Sorts `items` by name, stable, and moves the last of each repeated name to the front
/// part it returns the length of (the others follow): the members `JSON.parse` keeps, in
/// canonical order.
fn sort_by_name<T>(items: &mut [T], name: impl Fn(&T) -> &str) -> usize {
    // A stable sort keeps repeated names in their original order, so the last of each run is
    // the one `JSON.parse` keeps. Most objects are small: an insertion sort in place needs no
    // allocation (every create sorts dozens).
    if items.len() <= SMALL_OBJECT {
        for i in 1..items.len() {
            let mut j = i;
            while j > 0 && name(&items[j - 1]) > name(&items[j]) {
                items.swap(j - 1, j);
                j -= 1;
            }
        }
    } else {
        crate::core::order::sort_by(items, |a, b| name(a).cmp(name(b)));
    }
    // Repeated names, in place: each takes the place of the one before it.
    let mut kept = 0;
    for i in 0..items.len() {
        if kept > 0 && name(&items[kept - 1]) == name(&items[i]) {
            items.swap(kept - 1, i);
        } else {
            items.swap(kept, i);
            kept += 1;
        }
    }
    kept
}

/// Objects with at most this many members are sorted by insertion (see [`sort_by_name`]).
const SMALL_OBJECT: usize = 16;

/// The canonical text of the JSON `text`: members of every object sorted by name (the last of
/// repeated names kept) and the members for which `skip(name, depth)` is true left out;
/// numbers and strings in their one spelling. `depth` is how deep the member's object is: 0
/// for the members of the top-level object, 1 for an object inside it (or inside a top-level
/// array), and so on. Written straight from the text, without the tree [`parse`] builds
/// (every create fingerprints its payload: the tree's allocations were most of that).
/// Accepts and refuses exactly what [`parse`] does, with the same errors.
///
/// ```
/// use sendonce::core::json::canonical_text;
/// let text = r#"{"b": [1.0, "\u0078"], "a": {"z": null, "y": true, "ts": 4}, "ts": 5}"#;
/// let canon = canonical_text(text, &|name, depth| depth == 0 && name == "ts").unwrap();
/// assert_eq!(canon, r#"{"a":{"ts":4,"y":true,"z":null},"b":[1,"x"]}"#);
/// assert_eq!(canonical_text("[1,", &|_, _| false).unwrap_err().code(), "invalid_json");
/// ```
pub fn canonical_text(
    text: &str,
    skip: &dyn Fn(&str, usize) -> bool,
) -> Result<String, SendonceError> {
    canonicalize(text, skip, MAX_DEPTH)
}

/// The canonical text of a value (see [`canonical_text`]), at any depth.
pub(crate) fn canonical_of(v: &Value, skip: &dyn Fn(&str, usize) -> bool) -> String {
    let text = v.to_json();
    // `to_json` writes JSON that parses; the error is not reachable.
    canonicalize(&text, skip, usize::MAX).unwrap_or(text)
}

/// [`canonical_text`] with nesting refused from `max_depth` on.
fn canonicalize(
    text: &str,
    skip: &dyn Fn(&str, usize) -> bool,
    max_depth: usize,
) -> Result<String, SendonceError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let mut c = Canon {
        out: String::with_capacity(text.len()),
        members: Vec::new(),
        spare: Vec::new(),
        skip,
        max_depth,
    };
    p.skip_ws();
    p.canonical(0, &mut c)?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return Err(p.err("end of input"));
    }
    Ok(c.out)
}

/// What [`canonical_text`] writes with.
struct Canon<'a, 's> {
    /// The canonical text so far. An object's member values are written here as they come,
    /// then put in order when the object ends.
    out: String,
    /// The members of the objects open now (innermost last): name, and where its value's text
    /// is in `out`.
    members: Vec<(Cow<'a, str>, usize, usize)>,
    /// Buffers an object is put in order in, kept for the next object.
    spare: Vec<String>,
    skip: &'s dyn Fn(&str, usize) -> bool,
    max_depth: usize,
}

impl Canon<'_, '_> {
    /// Puts the object that starts at `start` in `out`, whose members are `members[first..]`,
    /// in canonical order. `depth` is the object's nesting (0 for the top-level value).
    fn close_object(&mut self, first: usize, start: usize, depth: usize) {
        let Some(members) = self.members.get_mut(first..) else {
            return;
        };
        let kept = sort_by_name(members, |m| m.0.as_ref());
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.push('{');
        let mut any = false;
        for (name, from, to) in &members[..kept] {
            if (self.skip)(name, depth) {
                continue;
            }
            if any {
                buf.push(',');
            }
            any = true;
            match name {
                // A name read without escapes has none to write (`Parser::plain_string`).
                Cow::Borrowed(plain) => {
                    buf.push('"');
                    buf.push_str(plain);
                    buf.push_str("\":");
                }
                Cow::Owned(decoded) => {
                    write_string(&mut buf, decoded);
                    buf.push(':');
                }
            }
            buf.push_str(self.out.get(*from..*to).unwrap_or("null"));
        }
        buf.push('}');
        self.out.truncate(start);
        self.out.push_str(&buf);
        self.members.truncate(first);
        self.spare.push(buf);
    }
}

/// Parses JSON text. Whitespace around the value is allowed; anything after it is an error.
/// Nesting deeper than [`MAX_DEPTH`] is refused. Never panics.
///
/// ```
/// use sendonce::core::json::{parse, Value};
/// assert_eq!(parse(" [1, \"a\"] ").unwrap(), Value::Array(vec![1.0.into(), "a".into()]));
/// assert_eq!(parse("[1,").unwrap_err().code(), "invalid_json");
/// ```
pub fn parse(text: &str) -> Result<Value, SendonceError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return Err(p.err("end of input"));
    }
    Ok(v)
}

struct Parser<'a> {
    /// The text, and the same as bytes.
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, expected: &str) -> SendonceError {
        SendonceError::InvalidJson {
            offset: self.pos,
            reason: format!("expected {expected}"),
        }
    }

    // Inlined: the parser asks for every byte, and at opt-level "z" LLVM left this a call
    // (2.4 % of a create in the issue-14 profile, plus the callers' loops around it).
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &str) -> Result<(), SendonceError> {
        // `:` after every member name: one byte compared, not a slice (a `memcmp` call).
        if let [only] = literal.as_bytes() {
            if self.peek() == Some(*only) {
                self.pos += 1;
                return Ok(());
            }
            return Err(self.err(literal));
        }
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            Ok(())
        } else {
            Err(self.err(literal))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, SendonceError> {
        if depth >= MAX_DEPTH {
            return Err(self.err("less nesting"));
        }
        match self.peek() {
            Some(b'n') => self.eat("null").map(|_| Value::Null),
            Some(b't') => self.eat("true").map(|_| Value::Bool(true)),
            Some(b'f') => self.eat("false").map(|_| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    self.skip_ws();
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(self.err("',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("a member name"));
                    }
                    let k = self.string()?;
                    self.skip_ws();
                    self.eat(":")?;
                    self.skip_ws();
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::Object(members));
                        }
                        _ => return Err(self.err("',' or '}'")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            _ => Err(self.err("a value")),
        }
    }

    /// [`Parser::value`]'s twin for [`canonical_text`]: the same checks in the same order (so
    /// the same errors), writing canonical text instead of building a value.
    fn canonical(&mut self, depth: usize, c: &mut Canon<'a, '_>) -> Result<(), SendonceError> {
        if depth >= c.max_depth {
            return Err(self.err("less nesting"));
        }
        match self.peek() {
            Some(b'n') => self.eat("null").map(|_| c.out.push_str("null")),
            Some(b't') => self.eat("true").map(|_| c.out.push_str("true")),
            Some(b'f') => self.eat("false").map(|_| c.out.push_str("false")),
            Some(b'"') => {
                match self.plain_quoted() {
                    // Without escapes the text is its own canonical spelling.
                    Some(s) => c.out.push_str(s),
                    None => write_string(&mut c.out, &self.string()?),
                }
                Ok(())
            }
            Some(b'[') => {
                self.pos += 1;
                c.out.push('[');
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    c.out.push(']');
                    return Ok(());
                }
                loop {
                    self.skip_ws();
                    self.canonical(depth + 1, c)?;
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => {
                            self.pos += 1;
                            c.out.push(',');
                        }
                        Some(b']') => {
                            self.pos += 1;
                            c.out.push(']');
                            return Ok(());
                        }
                        _ => return Err(self.err("',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let (first, start) = (c.members.len(), c.out.len());
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    c.out.push_str("{}");
                    return Ok(());
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("a member name"));
                    }
                    let name = match self.plain_string() {
                        Some(s) => Cow::Borrowed(s),
                        None => Cow::Owned(self.string()?),
                    };
                    self.skip_ws();
                    self.eat(":")?;
                    self.skip_ws();
                    let from = c.out.len();
                    self.canonical(depth + 1, c)?;
                    c.members.push((name, from, c.out.len()));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            c.close_object(first, start, depth);
                            return Ok(());
                        }
                        _ => return Err(self.err("',' or '}'")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let text = self.number_text()?;
                if crate::core::number::is_canonical(text) {
                    // Most numbers of a payload (counts, ids, prices) are spelt canonically
                    // already: copied, not read and written again.
                    c.out.push_str(text);
                } else {
                    write_number(&mut c.out, self.number_of(text)?);
                }
                Ok(())
            }
            _ => Err(self.err("a value")),
        }
    }

    /// The string at `pos` when it has no escape, moving past it. `None`, with `pos` left
    /// where it was, when it has an escape or is not well formed: [`Parser::string`] then
    /// decodes it, or says what is wrong.
    fn plain_string(&mut self) -> Option<&'a str> {
        let quoted = self.plain_quoted()?;
        quoted.get(1..quoted.len().saturating_sub(1))
    }

    /// [`Parser::plain_string`] with its quotes: its own canonical spelling, copied at once.
    fn plain_quoted(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let mut end = start + 1;
        loop {
            match *self.bytes.get(end)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => end += 1,
            }
        }
        // Both ends are ASCII '"': character boundaries of the text, no check of the bytes
        // between needed.
        let s = self.text.get(start..=end)?;
        self.pos = end + 1;
        Some(s)
    }

    fn number(&mut self) -> Result<f64, SendonceError> {
        let text = self.number_text()?;
        self.number_of(text)
    }

    /// The double that `text` (a number [`Parser::number_text`] accepted) reads as.
    fn number_of(&self, text: &str) -> Result<f64, SendonceError> {
        crate::core::number::parse_f64(text).ok_or_else(|| self.err("a number"))
    }

    /// The text of the number at `pos`, checked against JSON's grammar, moving past it.
    fn number_text(&mut self) -> Result<&'a str, SendonceError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos - s
        };
        let int_start = self.pos;
        let int_digits = digits(self);
        if int_digits == 0 || (int_digits > 1 && self.bytes[int_start] == b'0') {
            return Err(self.err("a number"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.err("digits after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("exponent digits"));
            }
        }
        // ASCII digits and signs only: both ends are on character boundaries.
        self.text
            .get(start..self.pos)
            .ok_or_else(|| self.err("a number"))
    }

    fn hex4(&mut self) -> Result<u32, SendonceError> {
        let mut n = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.err("four hex digits")),
            };
            n = n * 16 + d as u32;
            self.pos += 1;
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, SendonceError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain bytes at once; the input is a &str, so runs that stop at
            // ASCII '"' or '\\' are whole UTF-8 sequences.
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let run = std::str::from_utf8(&self.bytes[run_start..self.pos])
                .map_err(|_| self.err("UTF-8 text"))?;
            out.push_str(run);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.peek().ok_or_else(|| self.err("an escape"))?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{08}'),
                        b'f' => out.push('\u{0c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.bytes[self.pos..].starts_with(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            // A lone surrogate becomes U+FFFD, as browsers do when decoding.
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.err("a valid escape")),
                    }
                }
                _ => return Err(self.err("'\"'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_canonical_spelling() {
        let v = parse(r#"{"z":[1e2,-0,0.5,"\ud83d\ude00\n"],"a":{"y":null,"x":false}}"#).unwrap();
        assert_eq!(
            v.canonical(),
            "{\"a\":{\"x\":false,\"y\":null},\"z\":[100,0,0.5,\"😀\\n\"]}"
        );
        assert_eq!(parse(&v.to_json()).unwrap(), v);
    }

    #[test]
    fn the_last_of_repeated_keys_wins_in_the_canonical_form() {
        let v = parse(r#"{"b":1,"a":2,"b":3,"c":4,"a":5}"#).unwrap();
        assert_eq!(v.canonical(), r#"{"a":5,"b":3,"c":4}"#);
    }

    #[test]
    fn sorted_members_sorts_stably_and_keeps_the_last_of_repeated_keys() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..40 {
            for _ in 0..20 {
                let members: Vec<(String, Value)> = (0..len)
                    .map(|i| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let key = ["a", "b", "c", "aa", "", "z", "é", "B"][(x % 8) as usize];
                        (key.to_string(), Value::from(i as f64))
                    })
                    .collect();
                // What JSON.parse keeps: the last value of each key, in key order.
                let mut want: Vec<(&str, &Value)> = Vec::new();
                let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let v = members.iter().rev().find(|(m, _)| m == k).map(|(_, v)| v);
                    want.push((k, v.unwrap()));
                }
                assert_eq!(sorted_members(&members), want, "{members:?}");
            }
        }
    }

    #[test]
    fn refuses_bad_input_without_panicking() {
        for bad in [
            "",
            "{",
            "[1,]",
            "01",
            "1.",
            "\"\\x\"",
            "\"abc",
            "nul",
            "{\"a\" 1}",
            "1 2",
            "-",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep).unwrap_err().code(), "invalid_json");
    }
}
