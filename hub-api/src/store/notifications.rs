//! Notification preferences of customers and the notification log, where every decision of the
//! dispatcher is written and from which cooldowns are computed (so they hold across restarts
//! and replicas).

use chrono::{DateTime, Utc};
use hub_shared::event::EventType;
use hub_shared::notification::{Channel, NotificationEntry, Outcome, Preferences};
use sqlx::FromRow;

use super::{Result, RowKey, Store};

/// The columns of `customer_notifications` as the database holds them.
#[derive(FromRow)]
struct StoredPreferences {
    customer_id: String,
    email: String,
    enabled_events_json: String,
    cooldown_hours: i64,
    updated_at: i64,
}

impl StoredPreferences {
    fn read(self) -> Result<Preferences> {
        let row = RowKey::new("customer_notifications", &self.customer_id);
        let names: Vec<String> = row.json("enabled_events_json", &self.enabled_events_json)?;
        let enabled_events = names
            .iter()
            .map(|name| row.known("enabled_events_json", name, |n| EventType::parse(n).ok()))
            .collect::<Result<_>>()?;
        Ok(Preferences {
            enabled_events,
            cooldown_hours: row.count("cooldown_hours", self.cooldown_hours)?,
            updated_at: row.time("updated_at", self.updated_at)?,
            customer_id: self.customer_id,
            email: self.email,
        })
    }
}

/// The columns of `notification_log` as the database holds them.
#[derive(FromRow)]
struct StoredLogEntry {
    id: i64,
    customer_id: String,
    event_id: Option<i64>,
    event_type: String,
    channel: String,
    recipient: String,
    outcome: String,
    reason: String,
    created_at: i64,
    channel_name: String,
}

impl StoredLogEntry {
    fn read(self) -> Result<NotificationEntry> {
        let row = RowKey::new("notification_log", self.id);
        Ok(NotificationEntry {
            channel: row.known("channel", &self.channel, Channel::parse)?,
            outcome: row.known("outcome", &self.outcome, Outcome::parse)?,
            created_at: row.time("created_at", self.created_at)?,
            id: self.id,
            customer_id: self.customer_id,
            event_id: self.event_id,
            event_type: self.event_type,
            recipient: self.recipient,
            reason: self.reason,
            channel_name: self.channel_name,
        })
    }
}

/// A decision to log.
#[derive(Debug, Clone)]
pub struct NewLogEntry<'a> {
    pub customer_id: &'a str,
    pub event_id: Option<i64>,
    /// An event type name, or `legacy` for the relay.
    pub event_type: &'a str,
    pub channel: Channel,
    /// The configured channel (`notifications.channels`) it went to; empty for an email.
    pub channel_name: &'a str,
    pub recipient: &'a str,
    pub outcome: Outcome,
    pub reason: &'a str,
    pub created_at: i64,
}

const LOG_COLUMNS: &str =
    "id, customer_id, event_id, event_type, channel, recipient, outcome, reason, created_at, channel_name";

impl Store {
    pub async fn upsert_preferences(&self, p: &Preferences) -> Result<()> {
        let names: Vec<&str> = p.enabled_events.iter().map(|t| t.as_str()).collect();
        let enabled_events_json = serde_json::to_string(&names).expect("a list of strings serializes");
        sqlx::query(
            "INSERT INTO customer_notifications (customer_id, email, enabled_events_json, cooldown_hours, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email, \
             enabled_events_json = excluded.enabled_events_json, cooldown_hours = excluded.cooldown_hours, \
             updated_at = excluded.updated_at",
        )
        .bind(&p.customer_id)
        .bind(&p.email)
        .bind(enabled_events_json)
        .bind(i64::from(p.cooldown_hours))
        .bind(p.updated_at.timestamp_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn preferences(&self, customer_id: &str) -> Result<Option<Preferences>> {
        let row: Option<StoredPreferences> = sqlx::query_as(
            "SELECT customer_id, email, enabled_events_json, cooldown_hours, updated_at \
             FROM customer_notifications WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(StoredPreferences::read).transpose()
    }

    pub async fn log_notification(&self, e: &NewLogEntry<'_>) -> Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO notification_log (customer_id, event_id, event_type, channel, recipient, outcome, reason, \
                created_at, channel_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(e.customer_id)
        .bind(e.event_id)
        .bind(e.event_type)
        .bind(e.channel.as_str())
        .bind(e.recipient)
        .bind(e.outcome.as_str())
        .bind(e.reason)
        .bind(e.created_at)
        .bind(e.channel_name)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// When the last email of this customer, type and channel was sent, if ever.
    pub async fn last_sent(
        &self,
        customer_id: &str,
        event_type: &str,
        channel: Channel,
    ) -> Result<Option<DateTime<Utc>>> {
        self.last_sent_via(customer_id, event_type, channel, "").await
    }

    /// When this customer's last alert of this type went to the configured channel `name`.
    pub async fn last_sent_on(&self, customer_id: &str, event_type: &str, name: &str) -> Result<Option<DateTime<Utc>>> {
        self.last_sent_via(customer_id, event_type, Channel::Operator, name).await
    }

    async fn last_sent_via(
        &self,
        customer_id: &str,
        event_type: &str,
        channel: Channel,
        channel_name: &str,
    ) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, created_at FROM notification_log WHERE customer_id = $1 AND event_type = $2 \
             AND channel = $3 AND channel_name = $4 AND outcome = 'sent' ORDER BY created_at DESC LIMIT 1",
        )
        .bind(customer_id)
        .bind(event_type)
        .bind(channel.as_str())
        .bind(channel_name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, at)| RowKey::new("notification_log", id).time("created_at", at)).transpose()
    }

    /// One customer's log, newest first, older than the id `before` when given.
    pub async fn notification_log(
        &self,
        customer_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<NotificationEntry>> {
        let rows: Vec<StoredLogEntry> = sqlx::query_as(&format!(
            "SELECT {LOG_COLUMNS} FROM notification_log WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(customer_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredLogEntry::read).collect()
    }
}
