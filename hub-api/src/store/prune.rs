//! Retention: deleting old rows in small batches, so a prune never holds the database long
//! enough to stall ingest.

use super::{Result, Store};

impl Store {
    /// Deletes up to `batch` history rows reported before `before`; returns how many.
    pub async fn prune_reports(&self, before: i64, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM reports WHERE (customer_id, reported_at) IN \
               (SELECT customer_id, reported_at FROM reports WHERE reported_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes up to `batch` events received before `before`, but never the event an open alert
    /// is about (its reminders quote it).
    pub async fn prune_events(&self, before: i64, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < $1 AND id NOT IN \
               (SELECT event_id FROM alerts WHERE resolved_at IS NULL) ORDER BY id LIMIT $2)",
        )
        .bind(before)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes up to `batch` notification log entries made before `before`.
    pub async fn prune_notification_log(&self, before: i64, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM notification_log WHERE id IN \
               (SELECT id FROM notification_log WHERE created_at < $1 ORDER BY id LIMIT $2)",
        )
        .bind(before)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes up to `batch` audit entries of failed retrievals made before `before` (the only
    /// audit entries a stranger can cause).
    pub async fn prune_failed_retrievals(&self, before: i64, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM audit_log WHERE id IN \
               (SELECT id FROM audit_log WHERE action = 'retrieval_failed' AND at < $1 ORDER BY id LIMIT $2)",
        )
        .bind(before)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes the alerts resolved before `before`; returns how many.
    pub async fn prune_alerts(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
