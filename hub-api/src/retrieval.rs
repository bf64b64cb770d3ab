//! The retrieval password check that guards `GET /api/v1/config/{id}` and
//! `GET /api/v1/recovery/{id}`: the only thing between the internet and a customer's restic
//! passwords.
//!
//! - Failures are counted per client address (an IPv6 address counts as its /64) and per
//!   customer, in the database, so every replica sees them. After [`FREE_FAILURES`] failures an
//!   address is locked out for one minute, doubling with each further failure up to a day.
//!   After [`CUSTOMER_DAILY_FAILURES`] failures against one customer (from all addresses
//!   together) the customer is locked for a day, but only for addresses that have failed: the
//!   right password from an address that has not failed is never refused, so a stranger
//!   cannot lock a customer out of its own recovery. Failures are forgotten a day after the
//!   last.
//! - Each try is counted as a failure before it is judged (one atomic statement per subject),
//!   and taken back when it was right: concurrent guesses cannot all see an unlocked count.
//! - While locked every try is refused with 429, even with the right password; the operator
//!   can clear a customer's lock-out.
//! - Every answer takes at least [`MIN_ANSWER`], and an unknown customer is checked against a
//!   dummy hash and counted against the address like any other, so neither answers nor timing
//!   tell whether a customer exists; but an unknown id writes no row of its own and no audit row.
//! - Failures against a customer are audited; every lock is a `recovery_locked` hub event (an
//!   error, emailed to the operator) naming the addresses.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use hub_shared::audit::AuditAction;
use hub_shared::event::{EventType, Severity};
use subtle::ConstantTimeEq;

use crate::customer_secrets::retrieval_hash;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{
    customer_subject, ip_subject, AuditRecord, ConfigRow, FailureCount, LockSchedule, NewEvent, SecretsRow, StoreError,
};

pub const RETRIEVAL_HEADER: &str = "x-retrieval-password";
/// Failures allowed before the first lock-out.
pub const FREE_FAILURES: i64 = 5;
pub const FIRST_LOCKOUT_MS: i64 = 60 * 1000;
pub const MAX_LOCKOUT_MS: i64 = 24 * 3600 * 1000;
/// Failures older than this (since the last one) are forgotten.
pub const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;
/// Failures against one customer, from all addresses together, before the customer-wide lock.
/// Against a four-word passphrase (about 45 bits) a hundred guesses a day stay hopeless.
pub const CUSTOMER_DAILY_FAILURES: i64 = 100;
/// How long the customer-wide lock lasts.
pub const CUSTOMER_LOCKOUT_MS: i64 = 24 * 3600 * 1000;
/// At most this many addresses are named in a `recovery_locked` event.
const EVENT_ADDRESSES: i64 = 50;
/// No answer comes sooner than this after the request.
pub const MIN_ANSWER: Duration = Duration::from_millis(200);

/// How long a subject is locked out after its `failures`-th failure (0: not at all).
pub fn lockout_ms(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES).min(20) as u32;
    FIRST_LOCKOUT_MS.saturating_mul(1 << doublings).min(MAX_LOCKOUT_MS)
}

/// The lock-outs of an address, as [`lockout_ms`] says.
fn address_locks() -> LockSchedule {
    let steps = (FREE_FAILURES..).map(lockout_ms).take_while(|&ms| ms < MAX_LOCKOUT_MS).chain([MAX_LOCKOUT_MS]);
    LockSchedule { first: FREE_FAILURES, steps: steps.collect() }
}

/// The customer-wide lock-out.
fn customer_locks() -> LockSchedule {
    LockSchedule { first: CUSTOMER_DAILY_FAILURES, steps: vec![CUSTOMER_LOCKOUT_MS] }
}

/// The address whose failures are counted together: an IPv4 address, or an IPv6 /64 (one
/// customer network hands out a whole /64, so counting single IPv6 addresses would let one
/// guesser rotate through them).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Why a retrieval was refused.
#[derive(Debug)]
pub enum Refusal {
    Locked { retry_after_secs: i64 },
    App(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::App(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::App(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Locked { retry_after_secs } => {
                let mut res = AppError::TooManyRequests(format!(
                    "too many wrong retrieval passwords; try again in {retry_after_secs} s, or ask the operator \
                     to clear the lock-out"
                ))
                .into_response();
                res.headers_mut().insert("retry-after", HeaderValue::from(retry_after_secs));
                res
            }
            Refusal::App(e) => e.into_response(),
        }
    }
}

/// A customer whose retrieval password was right.
#[derive(Debug)]
pub struct Verified {
    pub config: ConfigRow,
    pub secrets: SecretsRow,
}

/// Checks the `X-Retrieval-Password` of a request for `customer_id` at `now` (ms); `purpose`
/// (what is fetched, such as "recovery bundle") goes into the audit log. Takes at least [`MIN_ANSWER`] whatever the outcome.
pub async fn verify(
    state: &AppState,
    customer_id: &str,
    headers: &HeaderMap,
    ip: IpAddr,
    now: i64,
    purpose: &str,
) -> Result<Verified, Refusal> {
    let started = tokio::time::Instant::now();
    let outcome = check(state, customer_id, headers, ip, now, purpose).await;
    tokio::time::sleep_until(started + MIN_ANSWER).await;
    outcome
}

/// The typed password: raw UTF-8 header bytes (curl sends them as typed) or percent-encoded.
fn typed_password(headers: &HeaderMap) -> Result<String, AppError> {
    let value = headers.get(RETRIEVAL_HEADER).ok_or_else(|| {
        AppError::Unauthorized("send the customer's retrieval password in X-Retrieval-Password".into())
    })?;
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| AppError::BadRequest("X-Retrieval-Password must be UTF-8".into()))?;
    Ok(if text.contains('%') { percent_decode(text) } else { text.to_string() })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn check(
    state: &AppState,
    customer_id: &str,
    headers: &HeaderMap,
    ip: IpAddr,
    now: i64,
    purpose: &str,
) -> Result<Verified, Refusal> {
    let typed = typed_password(headers)?;
    let store = state.store();
    let (customer_key, ip_key) = (customer_subject(customer_id), ip_subject(&address_key(ip)));
    let (config, secrets) = tokio::try_join!(store.config(customer_id), store.config_secrets(customer_id))?;
    // The same work whether or not the customer exists: one keyed hash, one comparison.
    let computed = retrieval_hash(state.cipher(), customer_id, &typed);
    let expected = secrets.as_ref().and_then(|s| s.retrieval_password_hash.clone());
    let dummy = "0".repeat(computed.len());
    let equal: bool = computed.as_bytes().ct_eq(expected.as_deref().unwrap_or(&dummy).as_bytes()).into();
    let known = expected.is_some() && config.is_some();
    let right = equal && known;

    // Count first, decide after.
    let forget_before = now - FORGET_AFTER_MS;
    let Some(by_ip) = store.count_failure(&ip_key, customer_id, now, forget_before, &address_locks()).await? else {
        tracing::warn!(customer_id, %ip, right, "retrieval refused: the address is locked out");
        return Err(locked(state, &ip_key, now).await?);
    };
    // An unknown id is counted against the address only: no row per guessed id.
    let by_customer = match known {
        true => store.count_failure(&customer_key, customer_id, now, forget_before, &customer_locks()).await?,
        false => Some(FailureCount { failures: 0, locked_until: 0 }),
    };
    let address_failed_before = by_ip.failures > 1;
    if by_customer.is_none() && address_failed_before {
        store.uncount_failure(&ip_key, &by_ip, now).await?;
        tracing::warn!(customer_id, %ip, right, "retrieval refused: the customer is locked out for addresses that failed");
        return Err(locked(state, &customer_key, now).await?);
    }

    let ip_text = Some(ip.to_string());
    if let (true, Some(config), Some(secrets)) = (right, config, secrets) {
        // The customer's failures are forgotten; the address's are not (only this try is taken
        // back), or a guesser who is also a customer could reset its own count with its own
        // password.
        store.uncount_failure(&ip_key, &by_ip, now).await?;
        store.clear_attempts(&customer_key).await?;
        store
            .audit(&AuditRecord {
                at: now,
                actor: "public",
                action: AuditAction::Retrieval.as_str(),
                customer_id: Some(customer_id.to_string()),
                summary: format!("{purpose} fetched"),
                client_ip: ip_text,
            })
            .await?;
        return Ok(Verified { config, secrets });
    }

    let customer_failures = by_customer.map_or(0, |c| c.failures);
    tracing::warn!(customer_id, %ip, known, customer_failures, ip_failures = by_ip.failures, "wrong retrieval password");
    if known {
        store
            .audit(&AuditRecord {
                at: now,
                actor: "public",
                action: AuditAction::RetrievalFailed.as_str(),
                customer_id: Some(customer_id.to_string()),
                summary: format!(
                    "wrong retrieval password for the {purpose}; failure {customer_failures} against this \
                     customer, {} from this address",
                    by_ip.failures
                ),
                client_ip: ip_text,
            })
            .await?;
    }
    // A count that came with a lock (the one before it had none, or it would not have been
    // counted) is a new lock.
    if by_ip.locked_until > now {
        let lock = Lock::Address { address: address_key(ip), failures: by_ip.failures, until: by_ip.locked_until };
        raise_recovery_locked(state, customer_id, known, ip, lock, now).await?;
    }
    if let Some(c) = by_customer.filter(|c| known && c.locked_until > now) {
        let addresses = store.failed_retrieval_addresses(customer_id, now - FORGET_AFTER_MS, EVENT_ADDRESSES).await?;
        let lock = Lock::Customer { addresses, failures: c.failures, until: c.locked_until };
        raise_recovery_locked(state, customer_id, known, ip, lock, now).await?;
    }
    Err(AppError::Unauthorized("wrong customer id or retrieval password".into()).into())
}

/// The refusal of a locked subject, with how long it stays locked.
async fn locked(state: &AppState, subject: &str, now: i64) -> Result<Refusal, StoreError> {
    let until = state.store().attempts(subject).await?.map_or(0, |a| a.locked_until);
    Ok(Refusal::Locked { retry_after_secs: ((until - now + 999) / 1000).max(1) })
}

/// A new lock-out.
#[derive(Debug)]
enum Lock {
    /// An address (or IPv6 /64) after its `failures`-th failure.
    Address { address: String, failures: i64, until: i64 },
    /// A customer, for the addresses that failed, after `failures` failures within a day.
    Customer { addresses: Vec<String>, failures: i64, until: i64 },
}

/// Tells the operator of a new lock-out: a `recovery_locked` hub event (an error, so it is
/// emailed), an audit entry and a warning in the log. A lock brought by a guess at an unknown
/// customer id is only logged: there is no customer to file it under.
async fn raise_recovery_locked(
    state: &AppState,
    customer_id: &str,
    known: bool,
    ip: IpAddr,
    lock: Lock,
    now: i64,
) -> Result<(), StoreError> {
    let minutes = |until: i64| (until - now + 59_999) / 60_000;
    let (message, details) = match &lock {
        Lock::Address { address, failures, until } => (
            format!(
                "recovery locked for {} min for address {address} after {failures} wrong retrieval passwords",
                minutes(*until)
            ),
            serde_json::json!({ "scope": "address", "addresses": [address], "failures": failures, "locked_until": until }),
        ),
        Lock::Customer { addresses, failures, until } => (
            format!(
                "recovery locked for {} min for every address that failed, after {failures} wrong retrieval \
                 passwords within a day from {} addresses: {}",
                minutes(*until),
                addresses.len(),
                addresses.join(", ")
            ),
            serde_json::json!({ "scope": "customer", "addresses": addresses, "failures": failures, "locked_until": until }),
        ),
    };
    tracing::warn!(customer_id, %ip, known, "ALERT: {message}");
    if !known {
        return Ok(());
    }
    let store = state.store();
    store
        .insert_event(&NewEvent {
            customer_id: customer_id.to_string(),
            event_type: EventType::RecoveryLocked,
            severity: Severity::Error,
            message: message.clone(),
            details_json: details.to_string(),
            source: "hub".into(),
            occurred_at: now,
            received_at: now,
        })
        .await?;
    store
        .audit(&AuditRecord {
            at: now,
            actor: "hub",
            action: AuditAction::RetrievalAlert.as_str(),
            customer_id: Some(customer_id.to_string()),
            summary: message,
            client_ip: Some(ip.to_string()),
        })
        .await?;
    state.notifier().wake();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lockout_grows_and_is_capped() {
        assert_eq!(lockout_ms(1), 0);
        assert_eq!(lockout_ms(FREE_FAILURES - 1), 0);
        assert_eq!(lockout_ms(FREE_FAILURES), 60_000);
        assert_eq!(lockout_ms(FREE_FAILURES + 1), 120_000);
        assert_eq!(lockout_ms(FREE_FAILURES + 3), 480_000);
        assert_eq!(lockout_ms(FREE_FAILURES + 40), MAX_LOCKOUT_MS);
    }

    #[test]
    fn the_address_schedule_is_the_lockout_rule() {
        let locks = address_locks();
        assert_eq!(locks.first, FREE_FAILURES);
        for failures in 1..60 {
            let i = (failures - locks.first).clamp(0, locks.steps.len() as i64 - 1) as usize;
            let scheduled = if failures < locks.first { 0 } else { locks.steps[i] };
            assert_eq!(scheduled, lockout_ms(failures), "after failure {failures}");
        }
        assert_eq!(customer_locks().steps, [CUSTOMER_LOCKOUT_MS]);
    }

    #[test]
    fn ipv6_addresses_count_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(address_key(a), "2001:db8:1:2::/64");
        assert_ne!(address_key(a), address_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
        assert_eq!(address_key("10.0.0.1".parse().unwrap()), "10.0.0.1");
    }

    #[test]
    fn percent_encoded_passwords_are_decoded() {
        assert_eq!(percent_decode("alma-ker%C3%A9k"), "alma-kerék");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
