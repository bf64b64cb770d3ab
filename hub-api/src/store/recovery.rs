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

/// A subject's failures after one more was counted, and the lock-out that count brought
/// (0, or a time that may be past).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct FailureCount {
    pub failures: i64,
    pub locked_until: i64,
}

/// How long a subject is locked after its n-th failure: not at all below `first`, `steps[i]`
/// ms after failure `first + i`, and the last step for every failure after those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSchedule {
    pub first: i64,
    pub steps: Vec<i64>,
}

impl LockSchedule {
    /// The SQL expression of the lock-out end after the failure numbered `count` (an SQL
    /// expression) counted at `$2`: written out as a CASE, the same in SQLite and PostgreSQL.
    fn sql(&self, count: &str) -> String {
        let mut sql = format!("CASE WHEN {count} < {} THEN 0", self.first);
        let Some((last, steps)) = self.steps.split_last() else { return "0".into() };
        for (i, ms) in steps.iter().enumerate() {
            sql += &format!(" WHEN {count} = {} THEN $2 + {ms}", self.first + i as i64);
        }
        sql + &format!(" ELSE $2 + {last} END")
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

    /// Counts one failure of `subject` at `now`, unless it is locked: one statement, so
    /// concurrent tries are counted one after the other and each sees the lock the one before
    /// it set. Failures older than `forget_before` are forgotten first; the new count's lock
    /// comes from `locks`. Returns the new count and lock, or `None` when the subject was locked
    /// (nothing counted).
    pub async fn count_failure(
        &self,
        subject: &str,
        customer_id: &str,
        now: i64,
        forget_before: i64,
        locks: &LockSchedule,
    ) -> Result<Option<FailureCount>> {
        let count = "CASE WHEN recovery_attempts.last_failure_at < $4 THEN 1 ELSE recovery_attempts.failures + 1 END";
        let sql = format!(
            "INSERT INTO recovery_attempts (subject, failures, last_failure_at, locked_until, last_customer_id) \
             VALUES ($1, 1, $2, {first_lock}, $3) \
             ON CONFLICT (subject) DO UPDATE SET failures = {count}, last_failure_at = $2, \
                locked_until = {lock}, last_customer_id = $3 \
             WHERE recovery_attempts.locked_until <= $2 \
             RETURNING failures, locked_until",
            first_lock = locks.sql("1"),
            lock = locks.sql(count),
        );
        Ok(sqlx::query_as(&sql)
            .bind(subject)
            .bind(now)
            .bind(customer_id)
            .bind(forget_before)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Takes back the failure `counted` by [`Store::count_failure`] at `now` (the try was
    /// right, or was not judged), unless a later failure was counted since.
    pub async fn uncount_failure(&self, subject: &str, counted: &FailureCount, now: i64) -> Result<()> {
        let sql = if counted.failures <= 1 {
            "DELETE FROM recovery_attempts WHERE subject = $1 AND failures = $2 AND last_failure_at = $3"
        } else {
            "UPDATE recovery_attempts SET failures = failures - 1, locked_until = 0 \
             WHERE subject = $1 AND failures = $2 AND last_failure_at = $3"
        };
        sqlx::query(sql).bind(subject).bind(counted.failures).bind(now).execute(&self.pool).await?;
        Ok(())
    }

    /// The addresses of a customer's failed retrievals since `since` (from the audit log),
    /// most failures first, at most `limit`.
    pub async fn failed_retrieval_addresses(&self, customer_id: &str, since: i64, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT client_ip, COUNT(*) AS n FROM audit_log \
             WHERE customer_id = $1 AND action = 'retrieval_failed' AND at >= $2 AND client_ip IS NOT NULL \
             GROUP BY client_ip ORDER BY n DESC, client_ip LIMIT $3",
        )
        .bind(customer_id)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(ip, _)| ip).collect())
    }

    /// Deletes the records whose failures are forgotten (the last one before `forget_before`)
    /// and whose lock-out ended before `now`.
    pub async fn prune_attempts(&self, forget_before: i64, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM recovery_attempts WHERE last_failure_at < $1 AND locked_until < $2")
            .bind(forget_before)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
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

    /// The longest lock-out of the addresses whose last failure was against each customer:
    /// `(customer id, locked until)` for those still locked at `now`.
    pub async fn address_lockouts(&self, now: i64) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT last_customer_id, MAX(locked_until) FROM recovery_attempts \
             WHERE subject LIKE 'ip:%' AND locked_until > $1 AND last_customer_id IS NOT NULL \
             GROUP BY last_customer_id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
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
