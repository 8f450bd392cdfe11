//! Quotas and eviction: which records go first when storage is full.

use super::keys::{concat, key_part, prefix};

use super::types::*;

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

/// A place in the eviction order of a store read one entry at a time: smaller goes first. Its
/// fields: (group, time, the storage key of the record it goes with, 0 for the record itself /
/// 1 for an index entry right after it, the index entry's own key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place(u8, u64, String, u8, Option<String>);

impl Place {
    /// The record under `key`, at its rank's (group, time) ([`EvictionRank::position`]).
    pub fn record(group: u8, time: u64, key: String) -> Place {
        Place(group, time, key, 0, None)
    }

    /// The index entry `key`, right after the record `target` it names, at that record's
    /// (group, time).
    pub fn index_after(group: u8, time: u64, target: String, key: String) -> Place {
        Place(group, time, target, 1, Some(key))
    }

    /// An entry that goes before everything (an index entry whose action is not stored).
    pub fn first(key: String) -> Place {
        Place(0, 0, key, 0, None)
    }

    /// The storage key of the entry at this place.
    pub fn into_key(self) -> String {
        self.4.unwrap_or(self.2)
    }
}

/// The shortest run from the start of the eviction order whose sizes add up to `to_free`
/// (everything offered, when it all adds up to less), kept while a store's entries are offered
/// one by one in any order: a heap of the candidates, the last in order on top, dropped while
/// the others still free enough. A pass over a full store then holds about the entries it
/// evicts, never a table of every entry (the wasm memory keeps its high-water mark).
#[derive(Debug)]
pub struct Victims {
    to_free: usize,
    held: usize,
    heap: std::collections::BinaryHeap<(Place, usize)>,
}

impl Victims {
    /// Nothing offered yet; the run must free `to_free` (0: nothing is evicted).
    pub fn new(to_free: usize) -> Self {
        Victims {
            to_free,
            held: 0,
            heap: std::collections::BinaryHeap::new(),
        }
    }

    /// Offers the entry at `place`, of `size` ([`stored_size`]).
    pub fn offer(&mut self, place: Place, size: usize) {
        self.heap.push((place, size));
        self.held += size;
        while let Some(&(_, last)) = self.heap.peek() {
            if self.held - last < self.to_free {
                break;
            }
            self.held -= last;
            self.heap.pop();
        }
    }

    /// The victims' storage keys, in eviction order.
    pub fn into_keys(self) -> Vec<String> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|(place, _)| place.into_key())
            .collect()
    }
}
