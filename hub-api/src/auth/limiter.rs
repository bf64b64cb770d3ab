//! Limits failed sign-ins per client address: after `max_failures` in a window the address waits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window_ms: i64,
    failures: Mutex<HashMap<IpAddr, (u32, i64)>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window_ms: i64) -> Self {
        Self { max_failures, window_ms, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(retry_after_secs)` while `ip` is locked out at `now` (ms).
    pub fn check(&self, ip: IpAddr, now: i64) -> Result<(), i64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&ip) {
            Some(&(count, start)) if count >= self.max_failures && now - start < self.window_ms => {
                Err(((start + self.window_ms - now) / 1000).max(1))
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, ip: IpAddr, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, start)| now - *start < self.window_ms);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now - entry.1 >= self.window_ms {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    pub fn record_success(&self, ip: IpAddr) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_the_limit_and_forgives_after_the_window() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let l = LoginLimiter::new(3, 60_000);
        for t in 0..3 {
            assert!(l.check(ip, t).is_ok());
            l.record_failure(ip, t);
        }
        assert_eq!(l.check(ip, 1000), Err(59));
        assert!(l.check("10.0.0.2".parse().unwrap(), 1000).is_ok());
        assert!(l.check(ip, 60_001).is_ok());
    }
}
