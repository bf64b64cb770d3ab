//! Infra backups: sealed snapshots numbered per customer, of which the newest few are kept.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Result, RowKey, Store};

/// A stored backup, still sealed.
#[derive(Debug, Clone)]
pub struct InfraBackupRow {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub size_bytes: i64,
    pub payload_enc: String,
}

#[derive(Debug, Clone)]
pub struct InfraVersionRow {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub size_bytes: i64,
}

/// The columns of `infra_backups` as the database holds them.
#[derive(FromRow)]
struct StoredBackup {
    version: i64,
    created_at: i64,
    size_bytes: i64,
    /// Empty when only the versions are read.
    payload_enc: String,
}

impl StoredBackup {
    fn created_at(&self, customer_id: &str) -> Result<DateTime<Utc>> {
        RowKey::new("infra_backups", format!("{customer_id} v{}", self.version)).time("created_at", self.created_at)
    }
}

impl Store {
    /// The next version number of `customer_id`'s backups.
    pub async fn next_infra_version(&self, customer_id: &str) -> Result<i64> {
        let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM infra_backups WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// Stores a backup as `version` and deletes all but the newest `keep`, in one transaction;
    /// returns how many are kept. A version taken meanwhile by a concurrent push is a unique
    /// violation: the caller retries with the next number.
    pub async fn insert_infra_backup(
        &self,
        customer_id: &str,
        version: i64,
        now: i64,
        size_bytes: i64,
        payload_enc: &str,
        keep: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO infra_backups (customer_id, version, created_at, size_bytes, payload_enc) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(customer_id)
        .bind(version)
        .bind(now)
        .bind(size_bytes)
        .bind(payload_enc)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM infra_backups WHERE customer_id = $1 AND version <= $2")
            .bind(customer_id)
            .bind(version - keep)
            .execute(&mut *tx)
            .await?;
        let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM infra_backups WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(kept)
    }

    /// The newest backup, or the given version.
    pub async fn infra_backup(&self, customer_id: &str, version: Option<i64>) -> Result<Option<InfraBackupRow>> {
        const COLUMNS: &str = "version, created_at, size_bytes, payload_enc";
        let row: Option<StoredBackup> = match version {
            Some(v) => {
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM infra_backups WHERE customer_id = $1 AND version = $2"))
                    .bind(customer_id)
                    .bind(v)
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM infra_backups WHERE customer_id = $1 ORDER BY version DESC LIMIT 1"
                ))
                .bind(customer_id)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        row.map(|r| {
            Ok(InfraBackupRow {
                created_at: r.created_at(customer_id)?,
                version: r.version,
                size_bytes: r.size_bytes,
                payload_enc: r.payload_enc,
            })
        })
        .transpose()
    }

    /// The kept versions, newest first.
    pub async fn infra_versions(&self, customer_id: &str) -> Result<Vec<InfraVersionRow>> {
        let rows: Vec<StoredBackup> = sqlx::query_as(
            "SELECT version, created_at, size_bytes, '' AS payload_enc FROM infra_backups WHERE customer_id = $1 \
             ORDER BY version DESC",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InfraVersionRow {
                    version: r.version,
                    created_at: r.created_at(customer_id)?,
                    size_bytes: r.size_bytes,
                })
            })
            .collect()
    }

    /// How many backups each customer has.
    pub async fn infra_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT customer_id, COUNT(*) FROM infra_backups GROUP BY customer_id")
            .fetch_all(&self.pool)
            .await?)
    }
}
