//! The storage-key layout (`{ns}:v1:{letter}:...`), each part escaped, and the names of the
//! Web Locks and leases built from it.

use crate::core::fingerprint::Fingerprint;
use crate::core::key::{validate_key, Key};

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
pub(super) fn concat(parts: &[&str]) -> String {
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

/// The prefix of every form draft of namespace `ns`: `{ns}:v1:d:`.
pub fn draft_prefix(ns: &str) -> String {
    concat(&[&prefix(ns), "d:"])
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
