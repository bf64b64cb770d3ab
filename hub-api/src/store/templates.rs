//! The last good controller.yaml template fetched from the registry.

use super::{Result, Store};

impl Store {
    /// The stored template `name`: `(body, sha256, fetched_at)`.
    pub async fn template(&self, name: &str) -> Result<Option<(String, String, i64)>> {
        Ok(sqlx::query_as("SELECT body, sha256, fetched_at FROM controller_templates WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores (or replaces) the template `name`.
    pub async fn put_template(&self, name: &str, body: &str, sha256: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO controller_templates (name, body, sha256, fetched_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, sha256 = excluded.sha256, \
                fetched_at = excluded.fetched_at",
        )
        .bind(name)
        .bind(body)
        .bind(sha256)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
