//! Maintenance windows: written with their audit entry, read back into their typed plan.

use chrono::{DateTime, NaiveTime, Utc};
use hub_shared::maintenance::{day_name, parse_day, Recurrence, WindowPlan, WindowTime};
use sqlx::FromRow;

use super::audit::{insert_audit, AuditRecord};
use super::{Result, RowKey, Store, StoreError};

/// A stored window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRow {
    pub id: i64,
    pub plan: WindowPlan,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns of `maintenance_windows` as the database holds them.
#[derive(FromRow)]
struct StoredWindow {
    id: i64,
    customer_id: Option<String>,
    kind: String,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    days: String,
    start_time: String,
    duration_minutes: i64,
    reason: String,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str =
    "id, customer_id, kind, starts_at, ends_at, days, start_time, duration_minutes, reason, created_at, updated_at";

impl StoredWindow {
    fn read(self) -> Result<WindowRow> {
        let row = RowKey::new("maintenance_windows", self.id);
        let kind = row.known("kind", &self.kind, Recurrence::parse)?;
        let start = || row.known("start_time", &self.start_time, |t| NaiveTime::parse_from_str(t, "%H:%M").ok());
        let minutes = row.count("duration_minutes", self.duration_minutes);
        let when = match kind {
            Recurrence::Once => {
                let at = |column: &str, ms: Option<i64>| match ms {
                    Some(ms) => row.time(column, ms),
                    None => Err(row.corrupt(format!("{column} is missing"))),
                };
                WindowTime::Once { starts_at: at("starts_at", self.starts_at)?, ends_at: at("ends_at", self.ends_at)? }
            }
            Recurrence::Daily => WindowTime::Daily { start: start()?, minutes: minutes? },
            Recurrence::Weekly => {
                let days = self.days.split(',').map(|d| row.known("days", d, parse_day)).collect::<Result<Vec<_>>>()?;
                WindowTime::Weekly { days, start: start()?, minutes: minutes? }
            }
        };
        Ok(WindowRow {
            id: self.id,
            plan: WindowPlan { customer_id: self.customer_id, when, reason: self.reason },
            created_at: row.time("created_at", self.created_at)?,
            updated_at: row.time("updated_at", self.updated_at)?,
        })
    }
}

/// The columns a plan is written into: kind, starts_at, ends_at, days, start_time, minutes.
type PlanColumns = (&'static str, Option<i64>, Option<i64>, String, String, i64);

fn columns(when: &WindowTime) -> PlanColumns {
    let time = |t: &NaiveTime| t.format("%H:%M").to_string();
    match when {
        WindowTime::Once { starts_at, ends_at } => (
            Recurrence::Once.as_str(),
            Some(starts_at.timestamp_millis()),
            Some(ends_at.timestamp_millis()),
            String::new(),
            String::new(),
            0,
        ),
        WindowTime::Daily { start, minutes } => {
            (Recurrence::Daily.as_str(), None, None, String::new(), time(start), i64::from(*minutes))
        }
        WindowTime::Weekly { days, start, minutes } => {
            let days = days.iter().map(|d| day_name(*d)).collect::<Vec<_>>().join(",");
            (Recurrence::Weekly.as_str(), None, None, days, time(start), i64::from(*minutes))
        }
    }
}

impl Store {
    /// Every window, newest first.
    pub async fn maintenance_windows(&self) -> Result<Vec<WindowRow>> {
        let rows: Vec<StoredWindow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM maintenance_windows ORDER BY id DESC"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(StoredWindow::read).collect()
    }

    /// The windows of `customer_id` and of the whole fleet.
    pub async fn maintenance_windows_of(&self, customer_id: &str) -> Result<Vec<WindowRow>> {
        let rows: Vec<StoredWindow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM maintenance_windows WHERE customer_id IS NULL OR customer_id = $1 ORDER BY id"
        ))
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredWindow::read).collect()
    }

    pub async fn maintenance_window(&self, id: i64) -> Result<WindowRow> {
        let row: Option<StoredWindow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM maintenance_windows WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("no maintenance window {id}")))?.read()
    }

    /// Stores a new window with its audit entry; returns its id.
    pub async fn insert_maintenance(&self, plan: &WindowPlan, now: i64, audit: &AuditRecord) -> Result<i64> {
        let (kind, starts_at, ends_at, days, start_time, minutes) = columns(&plan.when);
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO maintenance_windows (customer_id, kind, starts_at, ends_at, days, start_time, \
                duration_minutes, reason, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&plan.customer_id)
        .bind(kind)
        .bind(starts_at)
        .bind(ends_at)
        .bind(days)
        .bind(start_time)
        .bind(minutes)
        .bind(&plan.reason)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces window `id` with its audit entry; `NotFound` when there is none.
    pub async fn update_maintenance(&self, id: i64, plan: &WindowPlan, now: i64, audit: &AuditRecord) -> Result<()> {
        let (kind, starts_at, ends_at, days, start_time, minutes) = columns(&plan.when);
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE maintenance_windows SET customer_id = $2, kind = $3, starts_at = $4, ends_at = $5, days = $6, \
                start_time = $7, duration_minutes = $8, reason = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(id)
        .bind(&plan.customer_id)
        .bind(kind)
        .bind(starts_at)
        .bind(ends_at)
        .bind(days)
        .bind(start_time)
        .bind(minutes)
        .bind(&plan.reason)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no maintenance window {id}")));
        }
        insert_audit(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    /// Deletes window `id` with its audit entry; `NotFound` when there is none.
    pub async fn delete_maintenance(&self, id: i64, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM maintenance_windows WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no maintenance window {id}")));
        }
        insert_audit(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }
}
