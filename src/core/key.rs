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

/// The deterministic key of a bot quick reply: UUID v5 of
/// `namespace + "\n" + conversation_id + "\n" + action_key` under [`BOT_KEY_NAMESPACE`].
/// The same quick reply in the same conversation always maps to the same key, in every tab
/// and on the server.
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
