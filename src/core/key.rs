//! Idempotency keys: random UUIDs born on the client, deterministic bot keys, and validation
//! of keys a caller brings.

use crate::core::error::SendonceError;
use crate::core::text::quoted;
use uuid::Uuid;

/// Longest key accepted. The IETF draft sets no limit, but real servers reject keys over 255
/// or 256 characters, so sendonce refuses them before sending.
pub const MAX_KEY_LEN: usize = 255;

/// The fixed namespace under which bot keys are UUID v5 names. Documented and stable: a Rust
/// server computing `bot_key` gets the same key the browser and a Node bot compute.
pub const BOT_KEY_NAMESPACE: Uuid = Uuid::from_bytes([
    0x5e, 0x2d, 0x0c, 0x3a, 0x8f, 0x61, 0x4b, 0x1e, 0x9a, 0x47, 0x0d, 0x53, 0x65, 0x6e, 0x64, 0x31,
]);

/// An idempotency key: 1..=255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    /// The key as text, as it goes into the `Idempotency-Key` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key from text that [`validate_key`] has accepted already: the record decoder checks
    /// every member of a record before it builds anything, so that building cannot fail.
    pub(crate) fn from_checked(s: &str) -> Key {
        Key(s.to_string())
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which kind of UUID new keys are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyFormat {
    /// Random (122 random bits). The default.
    #[default]
    UuidV4,
    /// Time-ordered: 48 bits of Unix milliseconds, then random bits. Sorts by creation time.
    UuidV7,
}

impl KeyFormat {
    /// Reads `"uuid-v4"` or `"uuid-v7"`.
    pub fn parse(s: &str) -> Result<Self, SendonceError> {
        match s {
            "uuid-v4" => Ok(KeyFormat::UuidV4),
            "uuid-v7" => Ok(KeyFormat::UuidV7),
            other => Err(SendonceError::option(
                "keyFormat",
                format!(
                    "expected \"uuid-v4\" or \"uuid-v7\", got {}",
                    quoted(other, '"')
                ),
            )),
        }
    }
}

/// A new key from 16 random bytes (from the platform's CSPRNG) and, for v7, the time.
///
/// ```
/// use sendonce::core::key::{new_key, KeyFormat};
/// let k = new_key(KeyFormat::UuidV4, [7; 16], 0);
/// assert_eq!(k.as_str(), "07070707-0707-4707-8707-070707070707");
/// ```
pub fn new_key(format: KeyFormat, random: [u8; 16], now_ms: u64) -> Key {
    let uuid = match format {
        KeyFormat::UuidV4 => uuid::Builder::from_random_bytes(random).into_uuid(),
        KeyFormat::UuidV7 => {
            let mut tail = [0u8; 10];
            tail.copy_from_slice(&random[..10]);
            uuid::Builder::from_unix_timestamp_millis(now_ms, &tail).into_uuid()
        }
    };
    Key(hyphenated(uuid.as_bytes()))
}

/// Checks 16 bytes from the platform's random source before a key is made from them: all
/// zeros (a no-op `crypto.getRandomValues` polyfill), one byte repeated 16 times, or the same
/// bytes as the previous draw (`previous`) mean the source is broken, and every user would get
/// the same key. A real CSPRNG does any of these with a chance of about 2^-120.
///
/// ```
/// use sendonce::core::key::check_random;
/// let good = [0x3a, 0x91, 0x07, 0xee, 0x42, 0x10, 0x8b, 0x5c, 0xd3, 0x66, 0x01, 0xf0, 0x9e, 0x27, 0xb4, 0x78];
/// assert!(check_random(&good, None).is_ok());
/// assert_eq!(check_random(&[0; 16], None).unwrap_err().code(), "weak_random");
/// assert_eq!(check_random(&good, Some(&good)).unwrap_err().code(), "weak_random");
/// ```
pub fn check_random(bytes: &[u8; 16], previous: Option<&[u8; 16]>) -> Result<(), SendonceError> {
    if bytes.iter().all(|b| *b == bytes[0]) {
        let mut byte = String::from("0x");
        crate::core::text::push_hex(&mut byte, u32::from(bytes[0]), 2);
        return Err(SendonceError::WeakRandom(format!(
            "crypto.getRandomValues returned 16 bytes of {byte}: no key is made from a source that does not look random"
        )));
    }
    if previous == Some(bytes) {
        return Err(SendonceError::WeakRandom(
            "crypto.getRandomValues returned the same bytes twice in a row: no key is made from a source that repeats itself".into(),
        ));
    }
    Ok(())
}

/// Checks a namespace (the `namespace` option): 1..=64 characters, no `:` (it separates the
/// parts of storage keys) and no newline or other control character (bot keys join the
/// namespace, conversation and action key with `\n`, so a newline would let `"a\nb"/c/d`
/// and `"a"/b/"c\nd"` share a key).
///
/// ```
/// use sendonce::core::key::validate_namespace;
/// assert!(validate_namespace("shop").is_ok());
/// assert_eq!(validate_namespace("a\nb").unwrap_err().code(), "invalid_option");
/// ```
pub fn validate_namespace(ns: &str) -> Result<(), SendonceError> {
    if ns.is_empty() || ns.chars().count() > 64 || ns.contains(':') {
        return Err(SendonceError::option(
            "namespace",
            "must be 1..=64 characters without ':'",
        ));
    }
    if ns.chars().any(char::is_control) {
        return Err(SendonceError::option(
            "namespace",
            "must not contain a newline or another control character: bot keys join namespace, conversation and action key with newlines",
        ));
    }
    Ok(())
}

/// The deterministic key of a bot quick reply: UUID v5 of
/// `namespace + "\n" + conversation_id + "\n" + action_key` under [`BOT_KEY_NAMESPACE`].
/// The same quick reply in the same conversation always maps to the same key, in every tab
/// and on the server. The parts are joined with `\n`, so callers keep newlines out of them:
/// sendonce refuses them in the namespace ([`validate_namespace`]), the conversation id and
/// the action key (`core::quick`), and a server computing keys should do the same.
///
/// ```
/// use sendonce::core::key::bot_key;
/// let a = bot_key("sendonce", "c-42", "createTicket|orderId=123");
/// assert_eq!(a, bot_key("sendonce", "c-42", "createTicket|orderId=123"));
/// assert_ne!(a, bot_key("sendonce", "c-43", "createTicket|orderId=123"));
/// ```
pub fn bot_key(namespace: &str, conversation_id: &str, action_key: &str) -> Key {
    let name = format!("{namespace}\n{conversation_id}\n{action_key}");
    // What `Uuid::new_v5` computes, with the small SHA-1 of `core::sha1` (see there why).
    let mut data = BOT_KEY_NAMESPACE.as_bytes().to_vec();
    data.extend_from_slice(name.as_bytes());
    let digest = crate::core::sha1::sha1(&data);
    let mut bytes = [0u8; 16];
    for (b, d) in bytes.iter_mut().zip(digest) {
        *b = d;
    }
    Key(hyphenated(
        uuid::Builder::from_sha1_bytes(bytes).into_uuid().as_bytes(),
    ))
}

/// A UUID's 16 bytes as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lowercase hex, as
/// `Uuid::hyphenated` writes them, without going through `fmt`.
fn hyphenated(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Accepts a caller's key if it is 1..=255 visible ASCII characters (`'!'..='~'`).
///
/// ```
/// use sendonce::core::key::validate_key;
/// assert!(validate_key("order-123").is_ok());
/// assert_eq!(validate_key("has space").unwrap_err().code(), "invalid_key");
/// ```
pub fn validate_key(s: &str) -> Result<Key, SendonceError> {
    if s.is_empty() {
        return Err(SendonceError::InvalidKey("a key cannot be empty".into()));
    }
    if s.len() > MAX_KEY_LEN {
        return Err(SendonceError::InvalidKey(format!(
            "a key is at most {MAX_KEY_LEN} characters, this one has {}",
            s.chars().count()
        )));
    }
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        return Err(SendonceError::InvalidKey(format!(
            "a key is visible ASCII only; character {} at {i} is not",
            quoted(c.encode_utf8(&mut [0; 4]), '\'')
        )));
    }
    Ok(Key(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_uuid_crate() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for i in 0..300usize {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut random = [0u8; 16];
            for (j, b) in random.iter_mut().enumerate() {
                *b = (x >> (j % 8 * 8)) as u8 ^ j as u8;
            }
            let v4 = uuid::Builder::from_random_bytes(random).into_uuid();
            assert_eq!(
                new_key(KeyFormat::UuidV4, random, x).as_str(),
                v4.hyphenated().to_string()
            );
            // Names of every length around the 55/56/64-byte padding edges and beyond.
            let action: String = "qr|é".chars().cycle().take(i).collect();
            let name = format!("ns\nc-{i}\n{action}");
            let expected = Uuid::new_v5(&BOT_KEY_NAMESPACE, name.as_bytes())
                .hyphenated()
                .to_string();
            assert_eq!(bot_key("ns", &format!("c-{i}"), &action).as_str(), expected);
        }
    }
}
