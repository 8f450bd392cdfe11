//! A map from `String` keys kept as a sorted `Vec`.
//!
//! The maps sendonce keeps (live actions, quick replies in flight, the in-memory store) hold a
//! handful to a few hundred entries. `HashMap` and `BTreeMap` cost about 11 KB of wasm between
//! them; a sorted vector with binary search costs a fraction of that, and iterates in key
//! order as the `BTreeMap` it replaces did.

/// A map from `String` keys, iterated in key order.
#[derive(Debug)]
pub struct SmallMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap {
            entries: Vec::new(),
        }
    }
}

impl<V> SmallMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn search(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        let i = self.search(key).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.search(&key) {
            Ok(i) => self
                .entries
                .get_mut(i)
                .map(|slot| std::mem::replace(&mut slot.1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.search(key).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Keeps only the entries whose value passes `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.entries.retain(|(_, v)| keep(v));
    }

    /// The keys, in order.
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values, in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The place of `key` in key order, if it is in the map.
    #[cfg(test)]
    pub fn position(&self, key: &str) -> Option<usize> {
        self.search(key).ok()
    }

    /// The entries, in key order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries, in key order, with their values mutable.
    #[cfg(test)]
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::SmallMap;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btree_map() {
        let mut ours = SmallMap::new();
        let mut theirs = BTreeMap::new();
        let mut x = 7u32;
        for i in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = format!("k{}", (x >> 16) % 50);
            match i % 3 {
                0 | 1 => assert_eq!(ours.insert(key.clone(), i), theirs.insert(key, i)),
                _ => assert_eq!(ours.remove(&key), theirs.remove(&key)),
            }
            assert_eq!(ours.get("k7"), theirs.get("k7"));
        }
        assert!(ours.keys().eq(theirs.keys()));
        assert!(ours.values().eq(theirs.values()));
        assert!(ours.iter().eq(theirs.iter()));
        for (i, k) in theirs.keys().enumerate() {
            assert_eq!(ours.position(k), Some(i));
        }
        assert_eq!(ours.position("absent"), None);
        for (_, v) in ours.iter_mut() {
            *v += 1;
        }
        for v in theirs.values_mut() {
            *v += 1;
        }
        assert!(ours.values().eq(theirs.values()));
        ours.retain(|v| v % 2 == 0);
        theirs.retain(|_, v| *v % 2 == 0);
        assert!(ours.keys().eq(theirs.keys()));
    }
}
