//! Acting on controllers: the accepted controller address (in `report_latest`) and the latest
//! requested controller update per customer (`controller_updates`).

use hub_shared::controller::{ControllerUpdate, UpdateStatus};
use sqlx::FromRow;

use super::audit::{insert_audit, AuditRecord};
use super::events::{insert_event, NewEvent};
use super::{Result, RowKey, Store};

/// A requested update as stored.
#[derive(Debug, Clone, FromRow)]
pub struct UpdateRow {
    pub customer_id: String,
    pub version: String,
    pub status: String,
    pub requested_at: i64,
    pub deadline_at: i64,
    pub finished_at: Option<i64>,
    pub actor: String,
}

impl UpdateRow {
    pub fn read(&self) -> Result<ControllerUpdate> {
        let key = RowKey::new("controller_updates", &self.customer_id);
        Ok(ControllerUpdate {
            version: self.version.clone(),
            status: key.known("status", &self.status, UpdateStatus::parse)?,
            requested_at: key.time("requested_at", self.requested_at)?,
            deadline_at: key.time("deadline_at", self.deadline_at)?,
            finished_at: self.finished_at.map(|ms| key.time("finished_at", ms)).transpose()?,
        })
    }
}

const UPDATE_COLUMNS: &str = "customer_id, version, status, requested_at, deadline_at, finished_at, actor";

impl Store {
    /// Makes the latest reported controller address the accepted one, if it still is `reported`
    /// (the address the operator saw), with its audit entry. False when the latest report
    /// carries another address by now.
    pub async fn accept_controller_url(&self, customer_id: &str, reported: &str, audit: &AuditRecord) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE report_latest SET accepted_controller_url = controller_url \
             WHERE customer_id = $1 AND controller_url = $2",
        )
        .bind(customer_id)
        .bind(reported)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.touch_fleet();
        Ok(true)
    }

    /// Records a requested update (replacing the customer's earlier one) with its audit entry.
    pub async fn start_update(&self, row: &UpdateRow, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO controller_updates ({UPDATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (customer_id) DO UPDATE SET version = excluded.version, status = excluded.status, \
                requested_at = excluded.requested_at, deadline_at = excluded.deadline_at, \
                finished_at = excluded.finished_at, actor = excluded.actor"
        ))
        .bind(&row.customer_id)
        .bind(&row.version)
        .bind(&row.status)
        .bind(row.requested_at)
        .bind(row.deadline_at)
        .bind(row.finished_at)
        .bind(&row.actor)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    /// The customer's latest requested update.
    pub async fn controller_update(&self, customer_id: &str) -> Result<Option<UpdateRow>> {
        Ok(sqlx::query_as(&format!("SELECT {UPDATE_COLUMNS} FROM controller_updates WHERE customer_id = $1"))
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every customer's latest requested update.
    pub async fn controller_updates(&self) -> Result<Vec<UpdateRow>> {
        Ok(sqlx::query_as(&format!("SELECT {UPDATE_COLUMNS} FROM controller_updates")).fetch_all(&self.pool).await?)
    }

    /// The updates still waiting for their version, each with the latest report's version and
    /// when that report arrived.
    pub async fn updates_in_progress(&self) -> Result<Vec<(UpdateRow, Option<String>, Option<i64>)>> {
        let rows: Vec<sqlx::any::AnyRow> = sqlx::query(
            "SELECT u.customer_id, u.version, u.status, u.requested_at, u.deadline_at, u.finished_at, u.actor, \
                r.controller_version AS reported_version, r.received_at AS reported_at \
             FROM controller_updates u LEFT JOIN report_latest r ON r.customer_id = u.customer_id \
             WHERE u.status = $1",
        )
        .bind(UpdateStatus::Updating.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let update = UpdateRow::from_row(row)?;
                let version: Option<String> = sqlx::Row::try_get(row, "reported_version")?;
                let at: Option<i64> = sqlx::Row::try_get(row, "reported_at")?;
                Ok((update, version, at))
            })
            .collect()
    }

    /// Ends an update that is still in progress as `status` at `now`, with `event` in the same
    /// transaction. False (and no event) when it had ended already or a newer request replaced
    /// it.
    pub async fn finish_update(
        &self,
        customer_id: &str,
        requested_at: i64,
        status: UpdateStatus,
        now: i64,
        event: Option<&NewEvent>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE controller_updates SET status = $3, finished_at = $4 \
             WHERE customer_id = $1 AND requested_at = $2 AND status = $5",
        )
        .bind(customer_id)
        .bind(requested_at)
        .bind(status.as_str())
        .bind(now)
        .bind(UpdateStatus::Updating.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(event) = event {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        self.touch_fleet();
        Ok(true)
    }
}
