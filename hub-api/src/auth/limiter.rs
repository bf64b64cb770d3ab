//! Limits sign-in attempts per client address: an attempt counts as a failure from the moment it
//! starts (so a burst of concurrent guesses is counted before any password is checked) and is
//! forgiven when it succeeds. After `max_failures` in a window the address waits. IPv6 clients
//! are counted per /64, the block one home or host usually has.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window_ms: i64,
    failures: Mutex<HashMap<IpAddr, (u32, i64)>>,
}

/// The address a limit applies to: IPv4 as it is, IPv6 by its /64 prefix.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut seg = v6.segments();
                seg[4..].fill(0);
                IpAddr::V6(seg.into())
            }
        },
    }
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window_ms: i64) -> Self {
        Self { max_failures, window_ms, failures: Mutex::new(HashMap::new()) }
    }

    /// Starts an attempt from `ip` at `now` (ms): `Err(retry_after_secs)` while the address is
    /// locked out, else the attempt is counted as a failure until [`LoginLimiter::succeeded`].
    pub fn begin(&self, ip: IpAddr, now: i64) -> Result<(), i64> {
        let key = limit_key(ip);
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, start)| now - *start < self.window_ms);
        }
        let entry = map.entry(key).or_insert((0, now));
        if now - entry.1 >= self.window_ms {
            *entry = (0, now);
        }
        if entry.0 >= self.max_failures {
            return Err(((entry.1 + self.window_ms - now) / 1000).max(1));
        }
        entry.0 += 1;
        Ok(())
    }

    /// The attempt from `ip` succeeded: its address starts afresh.
    pub fn succeeded(&self, ip: IpAddr) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&limit_key(ip));
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
            assert!(l.begin(ip, t).is_ok());
        }
        assert_eq!(l.begin(ip, 1000), Err(59));
        assert!(l.begin("10.0.0.2".parse().unwrap(), 1000).is_ok());
        assert!(l.begin(ip, 60_001).is_ok());
    }

    #[test]
    fn concurrent_attempts_count_before_they_finish() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let l = LoginLimiter::new(3, 60_000);
        // Three attempts in flight at once, none finished: the fourth waits.
        for _ in 0..3 {
            assert!(l.begin(ip, 0).is_ok());
        }
        assert!(l.begin(ip, 0).is_err());
    }

    #[test]
    fn success_forgives_and_ipv6_counts_per_64() {
        let l = LoginLimiter::new(2, 60_000);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(l.begin(a, 0).is_ok());
        assert!(l.begin(b, 0).is_ok());
        assert!(l.begin(a, 0).is_err(), "same /64");
        l.succeeded(b);
        assert!(l.begin(a, 0).is_ok());
        assert!(l.begin("2001:db8:1:3::1".parse().unwrap(), 0).is_ok(), "another /64");
    }
}
