//! Token buckets per customer for what a controller posts and the hub then acts on
//! (`POST /api/v1/event` and `/notify` share one bucket per customer id): generous for a real
//! controller, which sends tens of events a day, but a loop or a stolen key cannot flood the
//! database or the operator's inbox. Kept in each replica's memory; the map is bounded.

use std::collections::HashMap;
use std::sync::Mutex;

/// Tokens a customer starts with and may save up.
pub const EVENT_BURST: u32 = 120;
/// One token comes back every this many seconds (120 an hour, 2,880 a day).
pub const EVENT_REFILL_SECS: u64 = 30;
/// Customers tracked at once; past this the fullest buckets (those a new one equals) go first.
pub const MAX_KEYS: usize = 10_000;

/// A bucket's level as time: one token is `refill_ms` of credit (integers, so no rounding).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    credit_ms: i64,
    at: i64,
}

/// Token buckets keyed by customer id.
#[derive(Debug)]
pub struct TokenBuckets {
    capacity_ms: i64,
    refill_ms: i64,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl TokenBuckets {
    pub fn new(capacity: u32, refill_secs: u64, max_keys: usize) -> TokenBuckets {
        let refill_ms = refill_secs as i64 * 1000;
        TokenBuckets {
            capacity_ms: i64::from(capacity) * refill_ms,
            refill_ms,
            max_keys,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The buckets of events and notify.
    pub fn for_events() -> TokenBuckets {
        TokenBuckets::new(EVENT_BURST, EVENT_REFILL_SECS, MAX_KEYS)
    }

    /// Takes a token of `key` at `now` (ms); when there is none, the whole seconds until there
    /// will be one.
    pub fn take(&self, key: &str, now: i64) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            self.make_room(&mut buckets, now);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket { credit_ms: self.capacity_ms, at: now });
        bucket.credit_ms = self.level(bucket, now);
        bucket.at = bucket.at.max(now);
        if bucket.credit_ms >= self.refill_ms {
            bucket.credit_ms -= self.refill_ms;
            Ok(())
        } else {
            let wait_ms = self.refill_ms - bucket.credit_ms;
            Err(((wait_ms + 999) / 1000).max(1) as u64)
        }
    }

    fn level(&self, bucket: &Bucket, now: i64) -> i64 {
        bucket.credit_ms.saturating_add((now - bucket.at).max(0)).min(self.capacity_ms)
    }

    /// Forgets the buckets that are full again (a new bucket is the same); if none is, the
    /// fullest one.
    fn make_room(&self, buckets: &mut HashMap<String, Bucket>, now: i64) {
        buckets.retain(|_, b| self.level(b, now) < self.capacity_ms);
        if buckets.len() >= self.max_keys {
            let fullest = buckets.iter().max_by_key(|(_, b)| self.level(b, now)).map(|(k, _)| k.clone());
            if let Some(key) = fullest {
                buckets.remove(&key);
            }
        }
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_token_per_refill() {
        let buckets = TokenBuckets::new(3, 30, 100);
        for _ in 0..3 {
            assert_eq!(buckets.take("kovacs", 0), Ok(()));
        }
        assert_eq!(buckets.take("kovacs", 0), Err(30));
        assert_eq!(buckets.take("kovacs", 20_000), Err(10), "a third of the wait is left");
        assert_eq!(buckets.take("nagy", 20_000), Ok(()), "per customer");
        assert_eq!(buckets.take("kovacs", 30_000), Ok(()));
        assert_eq!(buckets.take("kovacs", 30_000), Err(30));
        // A long pause refills up to the burst, no more.
        for _ in 0..3 {
            assert_eq!(buckets.take("kovacs", 10_000_000), Ok(()));
        }
        assert!(buckets.take("kovacs", 10_000_000).is_err());
        // A clock that goes back refills nothing and breaks nothing.
        assert!(buckets.take("kovacs", 5_000).is_err());
    }

    #[test]
    fn the_map_stays_bounded_and_keeps_the_limited_customers() {
        let buckets = TokenBuckets::new(2, 30, 10);
        buckets.take("busy", 0).unwrap();
        buckets.take("busy", 0).unwrap();
        for i in 0..1000 {
            let _ = buckets.take(&format!("id{i}"), 0);
            assert!(buckets.len() <= 10);
        }
        assert!(buckets.take("busy", 1).is_err(), "an empty bucket is not forgotten for newcomers");
    }
}
