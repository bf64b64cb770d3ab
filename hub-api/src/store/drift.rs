//! The last drift check of each managed node: how many keys its live config differs in, or why
//! it could not be reached.

use super::{Result, Store};

/// One node's last drift check.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DriftRow {
    pub customer_id: String,
    pub checked_at: i64,
    pub reachable: i64,
    pub keys: i64,
    pub message: Option<String>,
}

impl Store {
    /// Stores (or replaces) a node's result.
    pub async fn put_drift(&self, row: &DriftRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO drift_checks (customer_id, checked_at, reachable, keys, message) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (customer_id) DO UPDATE SET checked_at = excluded.checked_at, \
                reachable = excluded.reachable, keys = excluded.keys, message = excluded.message",
        )
        .bind(&row.customer_id)
        .bind(row.checked_at)
        .bind(row.reachable)
        .bind(row.keys)
        .bind(&row.message)
        .execute(&self.pool)
        .await?;
        self.touch_fleet();
        Ok(())
    }

    /// Every node's last result.
    pub async fn drift_checks(&self) -> Result<Vec<DriftRow>> {
        Ok(sqlx::query_as("SELECT customer_id, checked_at, reachable, keys, message FROM drift_checks")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn drift_check(&self, customer_id: &str) -> Result<Option<DriftRow>> {
        Ok(sqlx::query_as(
            "SELECT customer_id, checked_at, reachable, keys, message FROM drift_checks WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}
