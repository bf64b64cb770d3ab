//! Notification preferences of customers and the notification log, where every decision of the
//! dispatcher is written and from which cooldowns are computed (so they hold across restarts
//! and replicas).

use sqlx::FromRow;

use super::Store;

#[derive(Debug, Clone, FromRow)]
pub struct PreferencesRow {
    pub customer_id: String,
    pub email: String,
    pub enabled_events_json: String,
    pub cooldown_hours: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct LogRow {
    pub id: i64,
    pub customer_id: String,
    pub event_id: Option<i64>,
    pub event_type: String,
    pub channel: String,
    pub recipient: String,
    pub outcome: String,
    pub reason: String,
    pub created_at: i64,
}

/// A decision to log.
#[derive(Debug, Clone)]
pub struct NewLogEntry<'a> {
    pub customer_id: &'a str,
    pub event_id: Option<i64>,
    pub event_type: &'a str,
    pub channel: &'a str,
    pub recipient: &'a str,
    pub outcome: &'a str,
    pub reason: &'a str,
    pub created_at: i64,
}

const LOG_COLUMNS: &str = "id, customer_id, event_id, event_type, channel, recipient, outcome, reason, created_at";

impl Store {
    pub async fn upsert_preferences(&self, p: &PreferencesRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO customer_notifications (customer_id, email, enabled_events_json, cooldown_hours, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email, \
             enabled_events_json = excluded.enabled_events_json, cooldown_hours = excluded.cooldown_hours, \
             updated_at = excluded.updated_at",
        )
        .bind(&p.customer_id)
        .bind(&p.email)
        .bind(&p.enabled_events_json)
        .bind(p.cooldown_hours)
        .bind(p.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn preferences(&self, customer_id: &str) -> Result<Option<PreferencesRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT customer_id, email, enabled_events_json, cooldown_hours, updated_at \
             FROM customer_notifications WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn log_notification(&self, e: &NewLogEntry<'_>) -> Result<i64, sqlx::Error> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO notification_log (customer_id, event_id, event_type, channel, recipient, outcome, reason, \
                created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(e.customer_id)
        .bind(e.event_id)
        .bind(e.event_type)
        .bind(e.channel)
        .bind(e.recipient)
        .bind(e.outcome)
        .bind(e.reason)
        .bind(e.created_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// When the last email of this customer, type and channel was sent, if ever.
    pub async fn last_sent(
        &self,
        customer_id: &str,
        event_type: &str,
        channel: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT created_at FROM notification_log WHERE customer_id = $1 AND event_type = $2 \
             AND channel = $3 AND outcome = 'sent' ORDER BY created_at DESC LIMIT 1",
        )
        .bind(customer_id)
        .bind(event_type)
        .bind(channel)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(t,)| t))
    }

    /// One customer's log, newest first, older than the id `before` when given.
    pub async fn notification_log(
        &self,
        customer_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<LogRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {LOG_COLUMNS} FROM notification_log WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(customer_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}
