//! What every request looks up, kept in memory: which customers are blocked (the report answer
//! says it) and which customer an API key hash belongs to.
//!
//! Both are believed for at most [`TTL`], and any write to customer configs through this
//! replica's store outdates them at once (the store's config generation), so a change made here
//! is seen at once, and one made on another replica within [`TTL`]: a customer blocked or
//! unblocked there is answered the old way here for up to 5 s, and a key rotated or revoked
//! there is still accepted here for up to 5 s.
//!
//! The blocked customers are one set ([`SetSnapshot`]), read in one query at most once per
//! [`TTL`], so every report is answered from memory however many customers report how rarely.
//! Keys are kept per key ([`LookupCache`]); only found keys are kept, so unknown keys cannot
//! fill it; it holds at most [`MAX_ENTRIES`] and starts over when full.

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long an entry is believed without asking the database.
pub const TTL: Duration = Duration::from_secs(5);
/// The most entries one cache holds.
pub const MAX_ENTRIES: usize = 100_000;

/// A set read from the database as a whole (the blocked customers), with the store's config
/// generation and the time it was read.
#[derive(Default)]
pub struct SetSnapshot {
    current: RwLock<Option<Entry<Arc<HashSet<String>>>>>,
    /// Held while the set is read again, so concurrent requests wait for one read.
    pub refresh: tokio::sync::Mutex<()>,
}

impl SetSnapshot {
    /// The set if it was read under `generation` less than [`TTL`] before `now`.
    pub fn get(&self, generation: u64, now: Instant) -> Option<Arc<HashSet<String>>> {
        let current = self.current.read().expect("cache lock");
        let entry = current.as_ref()?;
        let fresh = entry.generation == generation && now.saturating_duration_since(entry.at) < TTL;
        fresh.then(|| entry.value.clone())
    }

    /// Keeps `set`, read at `now` under `generation` (taken before the read).
    pub fn put(&self, set: HashSet<String>, generation: u64, now: Instant) -> Arc<HashSet<String>> {
        let set = Arc::new(set);
        *self.current.write().expect("cache lock") = Some(Entry { value: set.clone(), at: now, generation });
        set
    }
}

struct Entry<V> {
    value: V,
    at: Instant,
    generation: u64,
}

/// A map from a customer id or a key hash to what the database said, with the store's config
/// generation at the time it was read.
pub struct LookupCache<V> {
    entries: RwLock<HashMap<String, Entry<V>>>,
}

impl<V> Default for LookupCache<V> {
    fn default() -> Self {
        LookupCache { entries: RwLock::new(HashMap::new()) }
    }
}

impl<V: Clone> LookupCache<V> {
    /// The value of `key` if it was read under `generation` less than [`TTL`] before `now`.
    pub fn get(&self, key: &str, generation: u64, now: Instant) -> Option<V> {
        let entries = self.entries.read().expect("cache lock");
        let entry = entries.get(key)?;
        let fresh = entry.generation == generation && now.saturating_duration_since(entry.at) < TTL;
        fresh.then(|| entry.value.clone())
    }

    /// Keeps `value` for `key`, read at `now` under `generation` (taken before the read, so a
    /// write during the read leaves the entry already outdated).
    pub fn put(&self, key: &str, value: V, generation: u64, now: Instant) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.clear();
        }
        entries.insert(key.to_string(), Entry { value, at: now, generation });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_until_its_ttl_or_a_config_write() {
        let cache = LookupCache::default();
        let t0 = Instant::now();
        cache.put("kovacs", true, 7, t0);
        assert_eq!(cache.get("kovacs", 7, t0 + TTL - Duration::from_millis(1)), Some(true));
        assert_eq!(cache.get("kovacs", 7, t0 + TTL), None, "expired");
        assert_eq!(cache.get("kovacs", 8, t0), None, "a config was written since");
        assert_eq!(cache.get("nagy", 7, t0), None);
    }

    #[test]
    fn a_set_lives_until_its_ttl_or_a_config_write() {
        let snapshot = SetSnapshot::default();
        let t0 = Instant::now();
        assert!(snapshot.get(7, t0).is_none(), "nothing read yet");
        snapshot.put(HashSet::from(["kovacs".to_string()]), 7, t0);
        let set = snapshot.get(7, t0 + TTL - Duration::from_millis(1)).expect("fresh");
        assert!(set.contains("kovacs") && !set.contains("nagy"));
        assert!(snapshot.get(7, t0 + TTL).is_none(), "expired");
        assert!(snapshot.get(8, t0).is_none(), "a config was written since");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = LookupCache::default();
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES {
            cache.put(&i.to_string(), i, 1, t0);
        }
        assert_eq!(cache.get("0", 1, t0), Some(0));
        cache.put("one more", 1, 1, t0);
        assert_eq!(cache.get("0", 1, t0), None);
        assert_eq!(cache.get("one more", 1, t0), Some(1));
    }
}
