//! Re-sealing every secret at rest in one transaction (`felhom-hub rotate-key`): the store reads
//! each sealed value and writes back what the caller makes of it, naming where it lives, since
//! the contexts a value is bound to are the caller's business.

use sqlx::Row;

use super::{Result, Store};

/// Where a sealed value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed<'a> {
    /// `settings.session_secret_enc`.
    SessionSecret,
    ApiKey(&'a str),
    RetrievalPassword(&'a str),
    CustomerSession(&'a str),
    InfraTokens(&'a str),
    /// An infra backup: customer and version.
    InfraBackup(&'a str, i64),
}

/// What to do with each value: `reseal` returns a value's replacement, or `None` to keep it;
/// `rehash` returns a customer's retrieval password hash from its sealed password.
pub struct Rewrite<'f> {
    pub reseal: &'f (dyn Fn(Sealed<'_>, &str) -> anyhow::Result<Option<String>> + Sync),
    pub rehash: &'f (dyn Fn(&str, &str) -> anyhow::Result<String> + Sync),
}

const CONFIG_COLUMNS: [&str; 4] = ["api_key_enc", "retrieval_password_enc", "session_secret_enc", "infra_tokens_enc"];

impl Store {
    /// Rewrites every sealed value and every retrieval password hash in one transaction: all or
    /// nothing. Returns how many values changed.
    pub async fn rewrite_secrets(&self, rewrite: Rewrite<'_>) -> anyhow::Result<u64> {
        let mut tx = self.pool.begin().await?;
        // Writing first takes SQLite's write lock before the transaction reads anything, so a
        // report committed meanwhile cannot make the later writes fail (SQLITE_BUSY_SNAPSHOT).
        sqlx::query("UPDATE settings SET value = value WHERE 1 = 0").execute(&mut *tx).await?;
        let mut changed = 0u64;
        let setting: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = 'session_secret_enc'")
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((sealed,)) = setting {
            if let Some(new) = (rewrite.reseal)(Sealed::SessionSecret, &sealed)? {
                sqlx::query("UPDATE settings SET value = $1 WHERE key = 'session_secret_enc'")
                    .bind(new)
                    .execute(&mut *tx)
                    .await?;
                changed += 1;
            }
        }
        let rows = sqlx::query(
            "SELECT customer_id, api_key_enc, retrieval_password_enc, session_secret_enc, infra_tokens_enc, \
             retrieval_password_hash FROM customer_configs ORDER BY customer_id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let id: String = row.try_get("customer_id")?;
            for (i, column) in CONFIG_COLUMNS.iter().enumerate() {
                let Some(sealed) = row.try_get::<Option<String>, _>(*column)?.filter(|s| !s.is_empty()) else {
                    continue;
                };
                let place = match i {
                    0 => Sealed::ApiKey(&id),
                    1 => Sealed::RetrievalPassword(&id),
                    2 => Sealed::CustomerSession(&id),
                    _ => Sealed::InfraTokens(&id),
                };
                if let Some(new) = (rewrite.reseal)(place, &sealed)? {
                    sqlx::query(&format!("UPDATE customer_configs SET {column} = $1 WHERE customer_id = $2"))
                        .bind(new)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    changed += 1;
                }
            }
            let password: Option<String> = row.try_get("retrieval_password_enc")?;
            let old_hash: Option<String> = row.try_get("retrieval_password_hash")?;
            if let Some(password) = password.filter(|s| !s.is_empty()) {
                let hash = (rewrite.rehash)(&id, &password)?;
                if old_hash.as_deref() != Some(hash.as_str()) {
                    sqlx::query("UPDATE customer_configs SET retrieval_password_hash = $1 WHERE customer_id = $2")
                        .bind(hash)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    changed += 1;
                }
            }
        }
        // One payload at a time: backups may be large.
        let backups: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, customer_id, version FROM infra_backups ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        for (row_id, customer_id, version) in backups {
            let (sealed,): (String,) = sqlx::query_as("SELECT payload_enc FROM infra_backups WHERE id = $1")
                .bind(row_id)
                .fetch_one(&mut *tx)
                .await?;
            if let Some(new) = (rewrite.reseal)(Sealed::InfraBackup(&customer_id, version), &sealed)? {
                sqlx::query("UPDATE infra_backups SET payload_enc = $1 WHERE id = $2")
                    .bind(new)
                    .bind(row_id)
                    .execute(&mut *tx)
                    .await?;
                changed += 1;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Every sealed value in the database (to check a rotation).
    pub async fn sealed_values(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = sqlx::query_as::<_, (String,)>(
            "SELECT value FROM settings WHERE key = 'session_secret_enc' UNION ALL \
             SELECT payload_enc FROM infra_backups",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(v,)| v)
        .collect();
        for column in CONFIG_COLUMNS {
            let values: Vec<(Option<String>,)> =
                sqlx::query_as(&format!("SELECT {column} FROM customer_configs")).fetch_all(&self.pool).await?;
            out.extend(values.into_iter().filter_map(|(v,)| v).filter(|v| !v.is_empty()));
        }
        Ok(out)
    }
}
