//! The retrieval password check that guards `GET /api/v1/config/{id}` and
//! `GET /api/v1/recovery/{id}`: the only thing between the internet and a customer's restic
//! passwords.
//!
//! - Failures are counted per customer and per client address (in the database, so every
//!   replica sees them; an IPv6 address counts as its /64). After [`FREE_FAILURES`] failures a
//!   subject is locked out for one minute, doubling with each further failure up to a day;
//!   failures are forgotten a day after the last.
//! - While either is locked out every attempt is refused with 429, even with the right password;
//!   the operator can clear a customer's lock-out.
//! - Every answer does the same work (an unknown customer is checked against a dummy hash) and
//!   takes at least [`MIN_ANSWER`], so timing tells nothing.
//! - Failures are audited; every [`ALERT_EVERY`] failures against a customer raise an alert.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use hub_shared::audit::AuditAction;
use subtle::ConstantTimeEq;

use crate::customer_secrets::retrieval_hash;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{customer_subject, ip_subject, AuditRecord, ConfigRow, SecretsRow, StoreError};

pub const RETRIEVAL_HEADER: &str = "x-retrieval-password";
/// Failures allowed before the first lock-out.
pub const FREE_FAILURES: i64 = 5;
pub const FIRST_LOCKOUT_MS: i64 = 60 * 1000;
pub const MAX_LOCKOUT_MS: i64 = 24 * 3600 * 1000;
/// Failures older than this (since the last one) are forgotten.
pub const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;
/// An operator alert every this many failures against one customer.
pub const ALERT_EVERY: i64 = 10;
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
    let (config, secrets, by_customer, by_ip) = tokio::try_join!(
        store.config(customer_id),
        store.config_secrets(customer_id),
        store.attempts(&customer_key),
        store.attempts(&ip_key),
    )?;
    // The same work whether or not the customer exists: one keyed hash, one comparison.
    let computed = retrieval_hash(state.cipher(), customer_id, &typed);
    let expected = secrets.as_ref().and_then(|s| s.retrieval_password_hash.clone());
    let dummy = "0".repeat(computed.len());
    let equal: bool = computed.as_bytes().ct_eq(expected.as_deref().unwrap_or(&dummy).as_bytes()).into();
    let right = equal && expected.is_some() && config.is_some();

    let locked_until =
        by_customer.as_ref().map_or(0, |a| a.locked_until).max(by_ip.as_ref().map_or(0, |a| a.locked_until));
    if locked_until > now {
        tracing::warn!(customer_id, %ip, right, "retrieval refused: locked out");
        return Err(Refusal::Locked { retry_after_secs: ((locked_until - now + 999) / 1000).max(1) });
    }
    let ip_text = Some(ip.to_string());
    if let (true, Some(config), Some(secrets)) = (right, config, secrets) {
        // The customer's failures are forgotten; the address's are not, or a guesser who is
        // also a customer could reset its own count with its own password.
        if by_customer.is_some() {
            store.clear_attempts(&customer_key).await?;
        }
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

    let forget_before = now - FORGET_AFTER_MS;
    let customer_failures = store.record_failed_attempt(&customer_key, customer_id, now, forget_before).await?;
    let ip_failures = store.record_failed_attempt(&ip_key, customer_id, now, forget_before).await?;
    for (subject, failures) in [(&customer_key, customer_failures), (&ip_key, ip_failures)] {
        let lock = lockout_ms(failures);
        if lock > 0 {
            store.lock_subject(subject, now + lock).await?;
        }
    }
    tracing::warn!(customer_id, %ip, customer_failures, ip_failures, "wrong retrieval password");
    store
        .audit(&AuditRecord {
            at: now,
            actor: "public",
            action: AuditAction::RetrievalFailed.as_str(),
            customer_id: Some(customer_id.to_string()),
            summary: format!(
                "wrong retrieval password for the {purpose}; failure {customer_failures} against this \
                 customer, {ip_failures} from this address"
            ),
            client_ip: ip_text,
        })
        .await?;
    if customer_failures % ALERT_EVERY == 0 {
        alert_operator_retrieval_failures(state, customer_id, ip, customer_failures, now).await?;
    }
    Err(AppError::Unauthorized("wrong customer id or retrieval password".into()).into())
}

/// Raises the operator alert for repeated failed retrieval attempts against a customer.
///
/// Today this writes a `retrieval_alert` audit entry and a warning to the log. The events and
/// notifications system hooks in here: record a hub event (severity error) so the operator is
/// emailed.
pub async fn alert_operator_retrieval_failures(
    state: &AppState,
    customer_id: &str,
    ip: IpAddr,
    failures: i64,
    now: i64,
) -> Result<(), StoreError> {
    tracing::warn!(customer_id, %ip, failures, "ALERT: repeated wrong retrieval passwords for a customer");
    state
        .store()
        .audit(&AuditRecord {
            at: now,
            actor: "hub",
            action: AuditAction::RetrievalAlert.as_str(),
            customer_id: Some(customer_id.to_string()),
            summary: format!("{failures} wrong retrieval passwords within a day; the latest from {ip}"),
            client_ip: Some(ip.to_string()),
        })
        .await
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
