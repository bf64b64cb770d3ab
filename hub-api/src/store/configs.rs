//! Customer configs: the customers the operator manages, their sealed secrets, and the
//! controller keys' lookup. Every change is written together with its audit entry.

use chrono::{DateTime, Utc};
use hub_shared::config::{ConfigStatus, Identity, LegacyMonitoring, MonitoringOverrides};
use serde::{Deserialize, Serialize};
use sqlx::{Any, FromRow, Transaction};

use super::audit::{insert_audit, AuditRecord};
use super::{Result, RowKey, Store, StoreError};

/// A customer's config as stored, every column read into its type.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigRow {
    pub customer_id: String,
    pub display_name: String,
    pub domain: String,
    pub contact_email: String,
    pub status: ConfigStatus,
    pub overrides: ConfigOverrides,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ConfigRow {
    pub fn blocked(&self) -> bool {
        self.status == ConfigStatus::Blocked
    }
}

/// The non-secret overrides kept as JSON in `customer_configs.config_json`. A section missing
/// from the JSON is its default; JSON that is not this shape is a corrupt row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigOverrides {
    pub identity: Identity,
    pub monitoring: MonitoringOverrides,
    pub legacy_monitoring: LegacyMonitoring,
}

/// The columns of `customer_configs` as the database holds them.
#[derive(FromRow)]
struct StoredConfig {
    customer_id: String,
    display_name: String,
    domain: String,
    contact_email: String,
    status: String,
    config_json: String,
    created_at: i64,
    updated_at: i64,
}

impl StoredConfig {
    fn read(self) -> Result<ConfigRow> {
        let row = RowKey::new("customer_configs", &self.customer_id);
        Ok(ConfigRow {
            status: row.known("status", &self.status, ConfigStatus::parse)?,
            overrides: row.json("config_json", &self.config_json)?,
            created_at: row.time("created_at", self.created_at)?,
            updated_at: row.time("updated_at", self.updated_at)?,
            customer_id: self.customer_id,
            display_name: self.display_name,
            domain: self.domain,
            contact_email: self.contact_email,
        })
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
    pub status: ConfigStatus,
    pub overrides: ConfigOverrides,
    pub infra_tokens_enc: String,
}

/// The error of a customer without a config.
pub fn no_config(customer_id: &str) -> StoreError {
    StoreError::NotFound(format!("no config for customer {customer_id:?}"))
}

const CONFIG_COLUMNS: &str =
    "customer_id, display_name, domain, contact_email, status, config_json, created_at, updated_at";
const SECRET_COLUMNS: &str = "api_key_hash, api_key_enc, retrieval_password_hash, retrieval_password_enc, \
    session_secret_enc, infra_tokens_enc";

/// Bumps the store's config generation when dropped, after the write it guards: a cached value
/// read before is then outdated (see [`crate::cache`]).
struct ConfigChange<'a>(&'a std::sync::atomic::AtomicU64);

impl Drop for ConfigChange<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Store {
    /// The generation of customer configs as this replica wrote them: taken before a read that
    /// is cached, it tells whether a write came after.
    pub fn config_generation(&self) -> u64 {
        self.config_generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn config_write(&self) -> ConfigChange<'_> {
        ConfigChange(&self.config_generation)
    }

    /// Every config; one corrupt row fails the whole read.
    pub async fn configs(&self) -> Result<Vec<ConfigRow>> {
        let rows: Vec<StoredConfig> =
            sqlx::query_as(&format!("SELECT {CONFIG_COLUMNS} FROM customer_configs ORDER BY customer_id"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(StoredConfig::read).collect()
    }

    pub async fn config(&self, customer_id: &str) -> Result<Option<ConfigRow>> {
        let row: Option<StoredConfig> =
            sqlx::query_as(&format!("SELECT {CONFIG_COLUMNS} FROM customer_configs WHERE customer_id = $1"))
                .bind(customer_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(StoredConfig::read).transpose()
    }

    /// The customers whose config is blocked. Every status but `active` is read, so one that
    /// cannot be read fails the whole read: a blocked customer is never taken for an active one.
    pub async fn blocked_customers(&self) -> Result<std::collections::HashSet<String>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT customer_id, status FROM customer_configs WHERE status <> $1")
                .bind(ConfigStatus::Active.as_str())
                .fetch_all(&self.pool)
                .await?;
        let mut blocked = std::collections::HashSet::new();
        for (id, status) in rows {
            let status = RowKey::new("customer_configs", &id).known("status", &status, ConfigStatus::parse)?;
            if status == ConfigStatus::Blocked {
                blocked.insert(id);
            }
        }
        Ok(blocked)
    }

    pub async fn config_secrets(&self, customer_id: &str) -> Result<Option<SecretsRow>> {
        Ok(sqlx::query_as(&format!("SELECT {SECRET_COLUMNS} FROM customer_configs WHERE customer_id = $1"))
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every config with its sealed infrastructure tokens (the list page).
    pub async fn configs_with_tokens(&self) -> Result<Vec<(String, Option<String>)>> {
        Ok(sqlx::query_as("SELECT customer_id, infra_tokens_enc FROM customer_configs ORDER BY customer_id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Finds the customer whose API key has this SHA-256 hash (hex): `(customer_id, key_hash)`.
    pub async fn customer_by_key_hash(&self, key_hash: &str) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as("SELECT customer_id, api_key_hash FROM customer_configs WHERE api_key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Inserts a new config with its sealed secrets and its audit entry, in one transaction.
    /// A duplicate customer id is a [`StoreError::Conflict`].
    pub async fn create_config(
        &self,
        config: &ConfigWrite,
        secrets: &SecretsRow,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<()> {
        let _changed = self.config_write();
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
        .bind(config.status.as_str())
        .bind(encode_overrides(&config.overrides))
        .bind(&config.infra_tokens_enc)
        .bind(&secrets.api_key_hash)
        .bind(&secrets.api_key_enc)
        .bind(&secrets.retrieval_password_hash)
        .bind(&secrets.retrieval_password_enc)
        .bind(&secrets.session_secret_enc)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("a config for customer {:?} already exists", config.customer_id))
            }
            other => other,
        })?;
        insert_audit(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    /// Replaces a config's editable values; [`no_config`] when it does not exist.
    pub async fn update_config(&self, config: &ConfigWrite, now: i64, audit: &AuditRecord) -> Result<()> {
        let _changed = self.config_write();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE customer_configs SET display_name = $2, domain = $3, contact_email = $4, status = $5, \
                config_json = $6, infra_tokens_enc = $7, updated_at = $8 WHERE customer_id = $1",
        )
        .bind(&config.customer_id)
        .bind(&config.display_name)
        .bind(&config.domain)
        .bind(&config.contact_email)
        .bind(config.status.as_str())
        .bind(encode_overrides(&config.overrides))
        .bind(&config.infra_tokens_enc)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        finish(tx, &config.customer_id, done.rows_affected(), audit).await
    }

    /// Sets `active` or `blocked`; [`no_config`] when the config does not exist.
    pub async fn set_config_status(
        &self,
        customer_id: &str,
        status: ConfigStatus,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<()> {
        let _changed = self.config_write();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE customer_configs SET status = $2, updated_at = $3 WHERE customer_id = $1")
            .bind(customer_id)
            .bind(status.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        finish(tx, customer_id, done.rows_affected(), audit).await
    }

    /// Replaces the API key and/or the retrieval password (hash and sealed copy of each) in one
    /// transaction with its audit entry; [`no_config`] when the config does not exist. A key
    /// another customer has is a unique violation (409).
    pub async fn set_credentials(
        &self,
        customer_id: &str,
        api_key: Option<(&str, &str)>,
        retrieval_password: Option<(&str, &str)>,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<()> {
        let _changed = self.config_write();
        let mut tx = self.pool.begin().await?;
        let mut changed = 1;
        let secrets = [
            (("api_key_hash", "api_key_enc"), api_key),
            (("retrieval_password_hash", "retrieval_password_enc"), retrieval_password),
        ];
        for ((hash_column, sealed_column), value) in secrets {
            let Some((hash, sealed)) = value else { continue };
            let sql = format!(
                "UPDATE customer_configs SET {hash_column} = $2, {sealed_column} = $3, updated_at = $4 \
                 WHERE customer_id = $1"
            );
            let done = sqlx::query(&sql).bind(customer_id).bind(hash).bind(sealed).bind(now).execute(&mut *tx).await?;
            changed = changed.min(done.rows_affected());
        }
        finish(tx, customer_id, changed, audit).await
    }

    /// Deletes a config (its reports and infra backups stay); [`no_config`] when it does not exist.
    pub async fn delete_config(&self, customer_id: &str, audit: &AuditRecord) -> Result<()> {
        let _changed = self.config_write();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM customer_configs WHERE customer_id = $1")
            .bind(customer_id)
            .execute(&mut *tx)
            .await?;
        finish(tx, customer_id, done.rows_affected(), audit).await
    }

    /// Inserts a minimal customer config; used by the demo seed and tests.
    pub async fn insert_config(
        &self,
        customer_id: &str,
        display_name: &str,
        api_key_hash: Option<&str>,
        status: ConfigStatus,
        now: i64,
    ) -> Result<()> {
        let _changed = self.config_write();
        sqlx::query(
            "INSERT INTO customer_configs (customer_id, display_name, status, api_key_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(customer_id)
        .bind(display_name)
        .bind(status.as_str())
        .bind(api_key_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Writes the audit entry and commits when the change hit the customer's row; rolls back
/// with [`no_config`] otherwise.
async fn finish(mut tx: Transaction<'static, Any>, customer_id: &str, changed: u64, audit: &AuditRecord) -> Result<()> {
    if changed != 1 {
        tx.rollback().await?;
        return Err(no_config(customer_id));
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

fn encode_overrides(overrides: &ConfigOverrides) -> String {
    serde_json::to_string(overrides).expect("plain structs with string keys serialize")
}
