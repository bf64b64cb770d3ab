//! Customer configs: the customers the operator manages, their sealed secrets, and the
//! controller keys' lookup. Every change is written together with its audit entry.

use sqlx::{Any, FromRow, Transaction};

use super::audit::{insert_audit, AuditRecord};
use super::Store;

#[derive(Debug, Clone, FromRow)]
pub struct ConfigRow {
    pub customer_id: String,
    pub display_name: String,
    pub domain: String,
    pub contact_email: String,
    pub status: String,
    /// The non-secret overrides (identity, monitoring, legacy monitoring) as JSON.
    pub config_json: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ConfigRow {
    pub fn blocked(&self) -> bool {
        self.status == "blocked"
    }
}

/// A customer's sealed secrets (see `crate::crypto`). Never logged.
#[derive(Clone, Default, FromRow)]
pub struct SecretsRow {
    pub api_key_hash: Option<String>,
    pub api_key_enc: Option<String>,
    pub retrieval_password_hash: Option<String>,
    pub retrieval_password_enc: Option<String>,
    pub session_secret_enc: Option<String>,
    pub infra_tokens_enc: Option<String>,
}

impl std::fmt::Debug for SecretsRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsRow(<sealed>)")
    }
}

/// A config to insert or the new values of an update.
#[derive(Debug, Clone)]
pub struct ConfigWrite {
    pub customer_id: String,
    pub display_name: String,
    pub domain: String,
    pub contact_email: String,
    pub status: String,
    pub config_json: String,
    pub infra_tokens_enc: String,
}

const CONFIG_COLUMNS: &str =
    "customer_id, display_name, domain, contact_email, status, config_json, created_at, updated_at";
const SECRET_COLUMNS: &str = "api_key_hash, api_key_enc, retrieval_password_hash, retrieval_password_enc, \
    session_secret_enc, infra_tokens_enc";

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

    pub async fn config_secrets(&self, customer_id: &str) -> Result<Option<SecretsRow>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {SECRET_COLUMNS} FROM customer_configs WHERE customer_id = $1"))
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Every config with its sealed infrastructure tokens (the list page).
    pub async fn configs_with_tokens(&self) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
        sqlx::query_as("SELECT customer_id, infra_tokens_enc FROM customer_configs ORDER BY customer_id")
            .fetch_all(&self.pool)
            .await
    }

    /// Finds the customer whose API key has this SHA-256 hash (hex): `(customer_id, key_hash)`.
    pub async fn customer_by_key_hash(&self, key_hash: &str) -> Result<Option<(String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT customer_id, api_key_hash FROM customer_configs WHERE api_key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
    }

    /// Inserts a new config with its sealed secrets and its audit entry, in one transaction.
    /// A duplicate customer id is a unique violation (409).
    pub async fn create_config(
        &self,
        config: &ConfigWrite,
        secrets: &SecretsRow,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO customer_configs (customer_id, display_name, domain, contact_email, status, config_json, \
                infra_tokens_enc, api_key_hash, api_key_enc, retrieval_password_hash, retrieval_password_enc, \
                session_secret_enc, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        )
        .bind(&config.customer_id)
        .bind(&config.display_name)
        .bind(&config.domain)
        .bind(&config.contact_email)
        .bind(&config.status)
        .bind(&config.config_json)
        .bind(&config.infra_tokens_enc)
        .bind(&secrets.api_key_hash)
        .bind(&secrets.api_key_enc)
        .bind(&secrets.retrieval_password_hash)
        .bind(&secrets.retrieval_password_enc)
        .bind(&secrets.session_secret_enc)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await
    }

    /// Replaces a config's editable values; `false` when it does not exist.
    pub async fn update_config(
        &self,
        config: &ConfigWrite,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE customer_configs SET display_name = $2, domain = $3, contact_email = $4, status = $5, \
                config_json = $6, infra_tokens_enc = $7, updated_at = $8 WHERE customer_id = $1",
        )
        .bind(&config.customer_id)
        .bind(&config.display_name)
        .bind(&config.domain)
        .bind(&config.contact_email)
        .bind(&config.status)
        .bind(&config.config_json)
        .bind(&config.infra_tokens_enc)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        finish(tx, done.rows_affected() == 1, audit).await
    }

    /// Sets `active` or `blocked`; `false` when the config does not exist.
    pub async fn set_config_status(
        &self,
        customer_id: &str,
        status: &str,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE customer_configs SET status = $2, updated_at = $3 WHERE customer_id = $1")
            .bind(customer_id)
            .bind(status)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        finish(tx, done.rows_affected() == 1, audit).await
    }

    /// Replaces the API key (hash and sealed copy); `false` when the config does not exist.
    pub async fn set_api_key(
        &self,
        customer_id: &str,
        hash: &str,
        sealed: &str,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE customer_configs SET api_key_hash = $2, api_key_enc = $3, updated_at = $4 WHERE customer_id = $1",
        )
        .bind(customer_id)
        .bind(hash)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        finish(tx, done.rows_affected() == 1, audit).await
    }

    /// Replaces the retrieval password (keyed hash and sealed copy).
    pub async fn set_retrieval_password(
        &self,
        customer_id: &str,
        hash: &str,
        sealed: &str,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE customer_configs SET retrieval_password_hash = $2, retrieval_password_enc = $3, updated_at = $4 \
             WHERE customer_id = $1",
        )
        .bind(customer_id)
        .bind(hash)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        finish(tx, done.rows_affected() == 1, audit).await
    }

    /// Replaces the API key and/or the retrieval password (hash and sealed copy of each) in one
    /// transaction; `false` when the config does not exist. A key another customer has is a
    /// unique violation (409).
    pub async fn set_credentials(
        &self,
        customer_id: &str,
        api_key: Option<(&str, &str)>,
        retrieval_password: Option<(&str, &str)>,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut changed = true;
        if let Some((hash, sealed)) = api_key {
            let done = sqlx::query(
                "UPDATE customer_configs SET api_key_hash = $2, api_key_enc = $3, updated_at = $4 \
                 WHERE customer_id = $1",
            )
            .bind(customer_id)
            .bind(hash)
            .bind(sealed)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            changed &= done.rows_affected() == 1;
        }
        if let Some((hash, sealed)) = retrieval_password {
            let done = sqlx::query(
                "UPDATE customer_configs SET retrieval_password_hash = $2, retrieval_password_enc = $3, \
                    updated_at = $4 WHERE customer_id = $1",
            )
            .bind(customer_id)
            .bind(hash)
            .bind(sealed)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            changed &= done.rows_affected() == 1;
        }
        finish(tx, changed, audit).await
    }

    /// Deletes a config (its reports and infra backups stay); `false` when it does not exist.
    pub async fn delete_config(&self, customer_id: &str, audit: &AuditRecord) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM customer_configs WHERE customer_id = $1")
            .bind(customer_id)
            .execute(&mut *tx)
            .await?;
        finish(tx, done.rows_affected() == 1, audit).await
    }

    /// Inserts a minimal customer config; used by the demo seed and tests.
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

/// Writes the audit entry and commits when the change hit a row; rolls back otherwise.
async fn finish(mut tx: Transaction<'static, Any>, changed: bool, audit: &AuditRecord) -> Result<bool, sqlx::Error> {
    if !changed {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}
