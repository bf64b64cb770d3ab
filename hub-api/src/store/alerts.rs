//! Open alerts: opened (or kept open) by a failure event, resolved by its recovery, told to the
//! operator (first email, reminders), acknowledged with an audit entry.

use chrono::{DateTime, Utc};
use hub_shared::alert::AlertKind;
use hub_shared::event::EventType;
use sqlx::FromRow;

use super::audit::{insert_audit, AuditRecord};
use super::{Result, RowKey, Store, StoreError};

/// An alert to open, or the event that keeps an open one open.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    pub customer_id: &'a str,
    pub kind: AlertKind,
    pub event_id: i64,
    pub event_type: EventType,
    pub at: i64,
    /// Whether the operator is told about the event now (it was not held).
    pub notified: bool,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub id: i64,
    pub customer_id: String,
    pub kind: AlertKind,
    pub event_id: i64,
    pub event_type: EventType,
    pub opened_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    pub reminders: u32,
    pub resolved_at: Option<DateTime<Utc>>,
    pub acked_at: Option<DateTime<Utc>>,
    pub acked_by: Option<String>,
    pub ack_note: Option<String>,
}

#[derive(FromRow)]
struct StoredAlert {
    id: i64,
    customer_id: String,
    kind: String,
    event_id: i64,
    event_type: String,
    opened_at: i64,
    notified_at: Option<i64>,
    reminders: i64,
    resolved_at: Option<i64>,
    acked_at: Option<i64>,
    acked_by: Option<String>,
    ack_note: Option<String>,
}

const COLUMNS: &str = "id, customer_id, kind, event_id, event_type, opened_at, notified_at, reminders, resolved_at, \
                       acked_at, acked_by, ack_note";

impl StoredAlert {
    fn read(self) -> Result<AlertRow> {
        let row = RowKey::new("alerts", self.id);
        let time = |column: &str, ms: Option<i64>| ms.map(|ms| row.time(column, ms)).transpose();
        Ok(AlertRow {
            kind: row.known("kind", &self.kind, AlertKind::parse)?,
            event_type: row.known("event_type", &self.event_type, |t| EventType::parse(t).ok())?,
            opened_at: row.time("opened_at", self.opened_at)?,
            notified_at: time("notified_at", self.notified_at)?,
            reminders: row.count("reminders", self.reminders)?,
            resolved_at: time("resolved_at", self.resolved_at)?,
            acked_at: time("acked_at", self.acked_at)?,
            id: self.id,
            customer_id: self.customer_id,
            event_id: self.event_id,
            acked_by: self.acked_by,
            ack_note: self.ack_note,
        })
    }
}

impl Store {
    /// Opens an alert, or points the open one of the same customer and kind at the newer event
    /// (a stale node that goes down). An open alert the operator was told about stays told.
    pub async fn open_alert(&self, a: &NewAlert<'_>) -> Result<()> {
        let notified = a.notified.then_some(a.at);
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE alerts SET event_id = $3, event_type = $4, notified_at = COALESCE(notified_at, $5) \
             WHERE customer_id = $1 AND kind = $2 AND resolved_at IS NULL",
        )
        .bind(a.customer_id)
        .bind(a.kind.as_str())
        .bind(a.event_id)
        .bind(a.event_type.as_str())
        .bind(notified)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO alerts (customer_id, kind, event_id, event_type, opened_at, notified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.customer_id)
            .bind(a.kind.as_str())
            .bind(a.event_id)
            .bind(a.event_type.as_str())
            .bind(a.at)
            .bind(notified)
            .execute(&mut *tx)
            .await?;
        }
        Ok(tx.commit().await?)
    }

    /// Resolves the open alert of `customer_id` and `kind`, if any.
    pub async fn resolve_alert(&self, customer_id: &str, kind: AlertKind, now: i64) -> Result<()> {
        sqlx::query("UPDATE alerts SET resolved_at = $3 WHERE customer_id = $1 AND kind = $2 AND resolved_at IS NULL")
            .bind(customer_id)
            .bind(kind.as_str())
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The open alert of `customer_id` and `kind`.
    pub async fn open_alert_of(&self, customer_id: &str, kind: AlertKind) -> Result<Option<AlertRow>> {
        let row: Option<StoredAlert> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE customer_id = $1 AND kind = $2 AND resolved_at IS NULL"
        ))
        .bind(customer_id)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(StoredAlert::read).transpose()
    }

    /// Open alerts nobody acknowledged, oldest first: what reminders look at.
    pub async fn unacked_alerts(&self) -> Result<Vec<AlertRow>> {
        let rows: Vec<StoredAlert> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE resolved_at IS NULL AND acked_at IS NULL ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredAlert::read).collect()
    }

    /// Alerts newest first below `before`: open ones, or all with `include_resolved`.
    pub async fn alerts(
        &self,
        customer_id: Option<&str>,
        include_resolved: bool,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AlertRow>> {
        let open = if include_resolved { "" } else { " AND resolved_at IS NULL" };
        let select = format!("SELECT {COLUMNS} FROM alerts");
        let rows: Vec<StoredAlert> = self.page_by_id(&select, open, customer_id, before, limit).await?;
        rows.into_iter().map(StoredAlert::read).collect()
    }

    pub async fn alert(&self, id: i64) -> Result<AlertRow> {
        let row: Option<StoredAlert> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("no alert {id}")))?.read()
    }

    /// The operator was told about alert `id` at `now` (a reminder when `reminder`).
    pub async fn alert_notified(&self, id: i64, now: i64, reminder: bool) -> Result<()> {
        sqlx::query("UPDATE alerts SET notified_at = $2, reminders = reminders + $3 WHERE id = $1")
            .bind(id)
            .bind(now)
            .bind(i64::from(reminder))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Acknowledges open alert `id` with its audit entry. `NotFound` when there is no such
    /// alert, `Conflict` when it is resolved or acknowledged already.
    pub async fn ack_alert(&self, id: i64, by: &str, note: Option<&str>, now: i64, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE alerts SET acked_at = $2, acked_by = $3, ack_note = $4 \
             WHERE id = $1 AND resolved_at IS NULL AND acked_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(by)
        .bind(note)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            self.alert(id).await?;
            return Err(StoreError::Conflict(format!("alert {id} is resolved or acknowledged already")));
        }
        insert_audit(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }
}
