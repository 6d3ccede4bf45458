//! A map from user names to values that a compaction freezes with a few hundred pointer copies
//! however many entries it holds (issue 8: cloning a pointer per user for 100,000 users took
//! 38 ms, most of it cache misses on the reference counts). The entries are spread over
//! [`SHARDS`] shards by a per-map random hash, each shard shared copy-on-write, and each value
//! shared too. After a freeze the first change of a shard copies its pointers (about
//! `len / SHARDS` of them) and the first change of a value copies that value: a change costs a
//! bounded amount, never the size of the whole map.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

/// Shards per map: a freeze copies this many pointers, and a copied shard holds about
/// `len / SHARDS` entries.
pub const SHARDS: usize = 256;

/// One shard: names to shared values.
pub type Shard<V> = HashMap<Arc<str>, Arc<V>>;

/// See the module doc.
#[derive(Clone, Debug)]
pub struct CowMap<V> {
    /// Empty until the first insert, so an unused map costs nothing (256 shards are 16 KiB).
    shards: Vec<Arc<Shard<V>>>,
    /// Random per map, so no one can choose names that crowd one shard.
    hasher: RandomState,
}

impl<V> Default for CowMap<V> {
    fn default() -> CowMap<V> {
        CowMap {
            shards: Vec::new(),
            hasher: RandomState::new(),
        }
    }
}

impl<V: Clone> CowMap<V> {
    fn shard_of(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) % SHARDS as u64) as usize
    }

    fn shard(&self, key: &str) -> Option<&Shard<V>> {
        self.shards.get(self.shard_of(key)).map(|s| &**s)
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.shard(key)?.get(key).map(|v| &**v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.shard(key).is_some_and(|s| s.contains_key(key))
    }

    /// The value to change (its shard and itself copied first if a freeze shares them).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let i = self.shard_of(key);
        let shard = self.shards.get_mut(i).filter(|s| s.contains_key(key))?;
        Arc::make_mut(shard).get_mut(key).map(Arc::make_mut)
    }

    /// The shard `key` belongs in, to change (made first in an unused map).
    fn shard_mut(&mut self, key: &str) -> &mut Shard<V> {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| Arc::default()).collect();
        }
        let i = self.shard_of(key);
        Arc::make_mut(&mut self.shards[i])
    }

    /// Set `key` to `value`; true if it was not there.
    pub fn insert(&mut self, key: &str, value: V) -> bool {
        let shard = self.shard_mut(key);
        match shard.get_mut(key) {
            Some(v) => {
                *v = Arc::new(value);
                false
            }
            None => shard.insert(Arc::from(key), Arc::new(value)).is_none(),
        }
    }

    /// The key as stored, shared: a caller that keeps the name takes a pointer to it rather
    /// than a new allocation of its own (the durable row: one per message).
    pub fn key(&self, key: &str) -> Option<&Arc<str>> {
        self.shard(key)?.get_key_value(key).map(|(k, _)| k)
    }

    /// The entry of `key`, with the key as stored.
    pub fn get_key_value(&self, key: &str) -> Option<(&str, &V)> {
        self.shard(key)?
            .get_key_value(key)
            .map(|(k, v)| (&**k, &**v))
    }

    /// Every key, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.shards.iter().flat_map(|s| s.keys().map(|k| &**k))
    }

    pub fn remove(&mut self, key: &str) -> Option<Arc<V>> {
        let i = self.shard_of(key);
        let shard = self.shards.get_mut(i).filter(|s| s.contains_key(key))?;
        Arc::make_mut(shard).remove(key)
    }

    /// The map as it is now, for a compaction: [`SHARDS`] pointer copies (none if empty).
    pub fn freeze(&self) -> Vec<Arc<Shard<V>>> {
        self.shards.clone()
    }
}

impl<V: Clone + Default> CowMap<V> {
    /// The value to change, inserted empty if missing.
    pub fn get_or_default(&mut self, key: &str) -> &mut V {
        let shard = self.shard_mut(key);
        let key = match shard.get_key_value(key) {
            Some((k, _)) => k.clone(),
            None => Arc::from(key),
        };
        Arc::make_mut(shard.entry(key).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(shards: &[Arc<Shard<Vec<u32>>>]) -> Vec<(String, Vec<u32>)> {
        let mut all: Vec<(String, Vec<u32>)> = shards
            .iter()
            .flat_map(|s| s.iter().map(|(k, v)| (k.to_string(), (**v).clone())))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_freeze_keeps_its_entries_while_the_map_changes() {
        let mut m: CowMap<Vec<u32>> = CowMap::default();
        for i in 0..1000 {
            m.get_or_default(&format!("u{i}")).push(i);
        }
        let frozen = m.freeze();
        let before = entries(&frozen);
        m.get_or_default("u1").push(7);
        m.get_mut("u2").expect("u2 is there").clear();
        assert!(m.remove("u3").is_some());
        m.get_or_default("new").push(1);
        assert_eq!(entries(&frozen), before, "the frozen shards did not change");
        assert_eq!(m.get("u1"), Some(&vec![1, 7]));
        assert_eq!(m.get("u2"), Some(&vec![]));
        assert!(!m.contains_key("u3") && m.get_mut("u3").is_none());
        assert_eq!(entries(&m.freeze()).len(), 1000);
    }

    #[test]
    fn an_unused_map_has_no_shards() {
        let mut m: CowMap<u32> = CowMap::default();
        assert!(m.get("a").is_none() && m.get_mut("a").is_none() && m.remove("a").is_none());
        assert!(m.freeze().is_empty());
        *m.get_or_default("a") = 1;
        assert_eq!(m.freeze().len(), SHARDS);
    }

    #[test]
    fn a_change_copies_one_shard_not_the_map() {
        let mut m: CowMap<u32> = CowMap::default();
        for i in 0..(SHARDS * 8) {
            *m.get_or_default(&format!("u{i}")) = 1;
        }
        let frozen = m.freeze();
        *m.get_or_default("u0") = 2;
        let shared = m
            .shards
            .iter()
            .zip(&frozen)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        assert_eq!(shared, SHARDS - 1);
    }
}
