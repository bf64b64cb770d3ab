//! Customer configs: the customers the operator manages, and the controller keys' lookup.

use sqlx::FromRow;

use super::Store;

#[derive(Debug, Clone, FromRow)]
pub struct ConfigRow {
    pub customer_id: String,
    pub display_name: String,
    pub domain: String,
    pub contact_email: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ConfigRow {
    pub fn blocked(&self) -> bool {
        self.status == "blocked"
    }
}

const CONFIG_COLUMNS: &str = "customer_id, display_name, domain, contact_email, status, created_at, updated_at";

impl Store {
    pub async fn configs(&self) -> Result<Vec<ConfigRow>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {CONFIG_COLUMNS} FROM customer_configs ORDER BY customer_id"))
            .fetch_all(&self.pool)
            .await
    }

    pub async fn config(&self, customer_id: &str) -> Result<Option<ConfigRow>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {CONFIG_COLUMNS} FROM customer_configs WHERE customer_id = $1"))
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Finds the customer whose API key has this SHA-256 hash (hex): `(customer_id, key_hash)`.
    pub async fn customer_by_key_hash(&self, key_hash: &str) -> Result<Option<(String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT customer_id, api_key_hash FROM customer_configs WHERE api_key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
    }

    /// Inserts a minimal customer config; used by the demo seed and tests until the customer
    /// management API exists.
    pub async fn insert_config(
        &self,
        customer_id: &str,
        display_name: &str,
        api_key_hash: Option<&str>,
        status: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO customer_configs (customer_id, display_name, status, api_key_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(customer_id)
        .bind(display_name)
        .bind(status)
        .bind(api_key_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
