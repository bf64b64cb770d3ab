//! Failed retrieval-password attempts per customer and per client address, shared by every
//! replica. The policy (how long a lock-out lasts) is in `crate::retrieval`.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Result, RowKey, Store};

#[derive(Debug, Clone, Default, FromRow)]
pub struct AttemptRow {
    pub subject: String,
    pub failures: i64,
    pub last_failure_at: i64,
    pub locked_until: i64,
    pub last_customer_id: Option<String>,
}

impl AttemptRow {
    /// When the lock-out ends, if it still holds at `now` (ms).
    pub fn lock_end(&self, now: i64) -> Result<Option<DateTime<Utc>>> {
        if self.locked_until <= now {
            return Ok(None);
        }
        RowKey::new("recovery_attempts", &self.subject).time("locked_until", self.locked_until).map(Some)
    }
}

/// The subject of a customer's attempts.
pub fn customer_subject(customer_id: &str) -> String {
    format!("customer:{customer_id}")
}

/// The subject of a client address's attempts.
pub fn ip_subject(ip: &str) -> String {
    format!("ip:{ip}")
}

impl Store {
    pub async fn attempts(&self, subject: &str) -> Result<Option<AttemptRow>> {
        Ok(sqlx::query_as(
            "SELECT subject, failures, last_failure_at, locked_until, last_customer_id FROM recovery_attempts \
             WHERE subject = $1",
        )
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Counts one failure of `subject` at `now`; failures older than `forget_before` are
    /// forgotten first. Returns the new count.
    pub async fn record_failed_attempt(
        &self,
        subject: &str,
        customer_id: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<i64> {
        let (failures,): (i64,) = sqlx::query_as(
            "INSERT INTO recovery_attempts (subject, failures, last_failure_at, locked_until, last_customer_id) \
             VALUES ($1, 1, $2, 0, $3) \
             ON CONFLICT (subject) DO UPDATE SET \
                failures = CASE WHEN recovery_attempts.last_failure_at < $4 THEN 1 \
                                ELSE recovery_attempts.failures + 1 END, \
                last_failure_at = excluded.last_failure_at, last_customer_id = excluded.last_customer_id \
             RETURNING failures",
        )
        .bind(subject)
        .bind(now)
        .bind(customer_id)
        .bind(forget_before)
        .fetch_one(&self.pool)
        .await?;
        Ok(failures)
    }

    /// Extends the lock-out of `subject` to `until` (never shortens it).
    pub async fn lock_subject(&self, subject: &str, until: i64) -> Result<()> {
        sqlx::query("UPDATE recovery_attempts SET locked_until = $2 WHERE subject = $1 AND locked_until < $2")
            .bind(subject)
            .bind(until)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets the failures of `subject` (after a right password).
    pub async fn clear_attempts(&self, subject: &str) -> Result<()> {
        sqlx::query("DELETE FROM recovery_attempts WHERE subject = $1").bind(subject).execute(&self.pool).await?;
        Ok(())
    }

    /// Clears a customer's lock-out and that of every address whose last failure was against
    /// this customer; returns how many records were cleared.
    pub async fn clear_customer_lockout(&self, customer_id: &str) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM recovery_attempts WHERE subject = $1 OR (subject LIKE 'ip:%' AND last_customer_id = $2)",
        )
        .bind(customer_subject(customer_id))
        .bind(customer_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Every customer's attempt record (the config list shows the lock-outs).
    pub async fn customer_attempts(&self) -> Result<Vec<AttemptRow>> {
        Ok(sqlx::query_as(
            "SELECT subject, failures, last_failure_at, locked_until, last_customer_id FROM recovery_attempts \
             WHERE subject LIKE 'customer:%'",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
