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
    confirmed_email: Option<String>,
    confirm_sent_at: Option<i64>,
    confirm_window_start: Option<i64>,
    confirm_window_sent: i64,
    version: i64,
}

const PREFERENCE_COLUMNS: &str = "customer_id, email, enabled_events_json, cooldown_hours, updated_at, \
    confirmed_email, confirm_sent_at, confirm_window_start, confirm_window_sent, version";

/// Where a customer's preference address stands in its confirmation (see `notify::confirm`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmState {
    /// When the pending link of the current address went out, if one did.
    pub link_sent_at: Option<DateTime<Utc>>,
    /// The start of the customer's current window of confirmation emails, and how many it sent.
    pub window_start: Option<DateTime<Utc>>,
    pub window_sent: u32,
    /// Grows with every write of the row: a link is issued only over the version it was decided on.
    pub version: i64,
}

impl StoredPreferences {
    fn read(self) -> Result<(Preferences, ConfirmState)> {
        let row = RowKey::new("customer_notifications", &self.customer_id);
        let names: Vec<String> = row.json("enabled_events_json", &self.enabled_events_json)?;
        let enabled_events = names
            .iter()
            .map(|name| row.known("enabled_events_json", name, |n| EventType::parse(n).ok()))
            .collect::<Result<_>>()?;
        let state = ConfirmState {
            link_sent_at: self.confirm_sent_at.map(|at| row.time("confirm_sent_at", at)).transpose()?,
            window_start: self.confirm_window_start.map(|at| row.time("confirm_window_start", at)).transpose()?,
            window_sent: row.count("confirm_window_sent", self.confirm_window_sent)?,
            version: self.version,
        };
        let preferences = Preferences {
            enabled_events,
            cooldown_hours: row.count("cooldown_hours", self.cooldown_hours)?,
            updated_at: row.time("updated_at", self.updated_at)?,
            email_confirmed: self.confirmed_email.as_deref() == Some(self.email.as_str()),
            customer_id: self.customer_id,
            email: self.email,
        };
        Ok((preferences, state))
    }
}

/// A confirmation link to record: its token's hash, when it was sent, and the customer's window
/// of confirmation emails counting it.
#[derive(Debug, Clone)]
pub struct NewConfirmLink<'a> {
    pub token_hash: &'a str,
    pub sent_at: i64,
    pub window_start: i64,
    pub window_sent: u32,
}

/// The preferences a pending link belongs to, found by the link's token hash.
#[derive(Debug, Clone, FromRow)]
pub struct LinkOwner {
    pub customer_id: String,
    pub email: String,
    pub token_hash: String,
    pub sent_at: i64,
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
    /// Stores a customer's preferences (`email_confirmed` is the store's to say, not the
    /// caller's): an address that changes drops its pending link and awaits a confirmation again,
    /// unless it is the address its owner last confirmed. Returns what is stored.
    pub async fn save_preferences(&self, p: &Preferences) -> Result<(Preferences, ConfirmState)> {
        let names: Vec<&str> = p.enabled_events.iter().map(|t| t.as_str()).collect();
        let enabled_events_json = serde_json::to_string(&names).expect("a list of strings serializes");
        let changed = "customer_notifications.email <> excluded.email";
        let row: StoredPreferences = sqlx::query_as(&format!(
            "INSERT INTO customer_notifications (customer_id, email, enabled_events_json, cooldown_hours, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email, \
             enabled_events_json = excluded.enabled_events_json, cooldown_hours = excluded.cooldown_hours, \
             updated_at = excluded.updated_at, \
             confirm_token_hash = CASE WHEN {changed} THEN NULL ELSE customer_notifications.confirm_token_hash END, \
             confirm_sent_at = CASE WHEN {changed} THEN NULL ELSE customer_notifications.confirm_sent_at END, \
             version = customer_notifications.version + 1 \
             RETURNING {PREFERENCE_COLUMNS}"
        ))
        .bind(&p.customer_id)
        .bind(&p.email)
        .bind(enabled_events_json)
        .bind(i64::from(p.cooldown_hours))
        .bind(p.updated_at.timestamp_millis())
        .fetch_one(&self.pool)
        .await?;
        row.read()
    }

    pub async fn preferences(&self, customer_id: &str) -> Result<Option<Preferences>> {
        Ok(self.preferences_and_state(customer_id).await?.map(|(p, _)| p))
    }

    /// A customer's preferences with where its address stands in its confirmation.
    pub async fn preferences_and_state(&self, customer_id: &str) -> Result<Option<(Preferences, ConfirmState)>> {
        let row: Option<StoredPreferences> =
            sqlx::query_as(&format!("SELECT {PREFERENCE_COLUMNS} FROM customer_notifications WHERE customer_id = $1"))
                .bind(customer_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(StoredPreferences::read).transpose()
    }

    /// Records a new confirmation link, replacing a pending one, if the row is still at `version`
    /// (no other request changed it since the decision); returns whether it was recorded.
    pub async fn issue_confirm_link(&self, customer_id: &str, version: i64, link: &NewConfirmLink<'_>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE customer_notifications SET confirm_token_hash = $1, confirm_sent_at = $2, \
             confirm_window_start = $3, confirm_window_sent = $4, version = version + 1 \
             WHERE customer_id = $5 AND version = $6",
        )
        .bind(link.token_hash)
        .bind(link.sent_at)
        .bind(link.window_start)
        .bind(i64::from(link.window_sent))
        .bind(customer_id)
        .bind(version)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// The preferences whose pending link has this token hash.
    pub async fn confirm_link_owner(&self, token_hash: &str) -> Result<Option<LinkOwner>> {
        let row = sqlx::query_as(
            "SELECT customer_id, email, confirm_token_hash AS token_hash, confirm_sent_at AS sent_at \
             FROM customer_notifications WHERE confirm_token_hash = $1 AND confirm_sent_at IS NOT NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }

    /// Confirms the address of `customer_id` if its pending link is still `token_hash`, and
    /// spends the link; returns whether it did (a link confirms once).
    pub async fn confirm_email(&self, customer_id: &str, token_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE customer_notifications SET confirmed_email = email, confirm_token_hash = NULL, \
             confirm_sent_at = NULL, version = version + 1 WHERE customer_id = $1 AND confirm_token_hash = $2",
        )
        .bind(customer_id)
        .bind(token_hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
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
