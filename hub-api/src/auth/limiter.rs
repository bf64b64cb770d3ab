//! Operator sign-ins, limited:
//! - Failures are counted per client address (an IPv6 address by its /64) in the database, so
//!   every replica sees them: an attempt is counted as a failure before its password is checked
//!   (concurrent guesses are counted first) and forgiven when it succeeds. After
//!   [`MAX_FAILURES`] within [`WINDOW_MS`] the address waits out the window. Nothing is kept in
//!   memory per address but the checks in flight.
//! - bcrypt is slow on purpose, so checks are bounded and fair: [`CHECKERS`] at once, one per
//!   address, at most [`MAX_WAITING`] waiting (more are refused at once). One more checker is
//!   kept for addresses the operator signed in from before (for [`KNOWN_FOR_MS`]), so a flood
//!   of sign-ins from other addresses cannot keep the operator out.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::LockSchedule;

/// Failed sign-ins allowed per address within [`WINDOW_MS`].
pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// bcrypt checks at once for any address.
pub const CHECKERS: usize = 2;
/// Sign-ins waiting for a checker; past this, new ones from unknown addresses are refused.
pub const MAX_WAITING: usize = 16;
/// How long an address the operator signed in from stays known.
pub const KNOWN_FOR_MS: i64 = 90 * 24 * 3600 * 1000;

/// The subject of an address's failed sign-ins in `recovery_attempts`.
pub fn subject(address: &str) -> String {
    format!("login:{address}")
}

/// The lock-out after failed sign-ins: the rest of the window.
pub fn locks() -> LockSchedule {
    LockSchedule { first: MAX_FAILURES, steps: vec![WINDOW_MS] }
}

/// The bcrypt checkers and who waits for them.
#[derive(Debug)]
pub struct SignInChecks {
    general: Arc<Semaphore>,
    reserved: Arc<Semaphore>,
    waiting: AtomicUsize,
    in_flight: Mutex<HashSet<String>>,
}

impl Default for SignInChecks {
    fn default() -> Self {
        SignInChecks {
            general: Arc::new(Semaphore::new(CHECKERS)),
            reserved: Arc::new(Semaphore::new(1)),
            waiting: AtomicUsize::new(0),
            in_flight: Mutex::new(HashSet::new()),
        }
    }
}

/// A checker held for one address's sign-in; let go when dropped.
#[derive(Debug)]
pub struct Checker<'a> {
    checks: &'a SignInChecks,
    address: String,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Checker<'_> {
    fn drop(&mut self) {
        self.checks.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.address);
    }
}

/// Leaves the count of waiting sign-ins however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Forgets an address that was let in to wait but never got a checker.
struct InFlight<'a> {
    checks: &'a SignInChecks,
    address: Option<String>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(address) = self.address.take() {
            self.checks.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&address);
        }
    }
}

impl SignInChecks {
    /// Waits for a checker for a sign-in from `address` (`known`: the operator signed in from it
    /// before); `Err` with the reason when it may not wait.
    pub async fn enter(&self, address: &str, known: bool) -> Result<Checker<'_>, &'static str> {
        if !self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(address.to_string()) {
            return Err("a sign-in from this address is being checked already");
        }
        let mut in_flight = InFlight { checks: self, address: Some(address.to_string()) };
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        if waiting >= MAX_WAITING && !known {
            return Err("too many sign-ins are being checked; try again shortly");
        }
        let permit = if known {
            tokio::select! {
                p = self.general.clone().acquire_owned() => p,
                p = self.reserved.clone().acquire_owned() => p,
            }
        } else {
            self.general.clone().acquire_owned().await
        }
        .map_err(|_| "the hub is shutting down")?;
        in_flight.address = None;
        Ok(Checker { checks: self, address: address.to_string(), _permit: permit })
    }

    /// The checkers any address may use (tests hold them to see a flood).
    pub fn general(&self) -> &Arc<Semaphore> {
        &self.general
    }

    /// Sign-ins waiting for a checker.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_check_per_address_and_a_bounded_queue_with_room_for_the_operator() {
        let checks = Arc::new(SignInChecks::default());
        let first = checks.enter("198.51.100.1", false).await.unwrap();
        assert!(checks.enter("198.51.100.1", false).await.is_err(), "one at a time per address");
        let _second = checks.enter("198.51.100.2", false).await.unwrap();
        // Both checkers busy: others wait, up to MAX_WAITING.
        let mut waiters = Vec::new();
        for i in 0..MAX_WAITING {
            let checks = checks.clone();
            waiters.push(tokio::spawn(async move { checks.enter(&format!("203.0.113.{i}"), false).await.is_ok() }));
        }
        while checks.waiting() < MAX_WAITING {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            checks.enter("192.0.2.9", false).await.unwrap_err(),
            "too many sign-ins are being checked; try again shortly"
        );
        // A known address gets the kept checker at once.
        let operator = tokio::time::timeout(std::time::Duration::from_secs(5), checks.enter("192.0.2.1", true)).await;
        let operator = operator.expect("not kept waiting").unwrap();
        drop(first);
        drop(_second);
        drop(operator);
        for w in waiters {
            assert!(w.await.unwrap());
        }
        assert_eq!(checks.waiting(), 0);
        assert!(checks.in_flight.lock().unwrap().is_empty());
    }
}
