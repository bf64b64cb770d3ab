//! Hub-wide values shared by every replica.

use super::Store;

impl Store {
    /// Returns the value under `key`, storing `make()` first if none exists. Every replica that
    /// races here ends with the same value (the first insert wins).
    pub async fn setting_or_insert(&self, key: &str, make: impl FnOnce() -> String) -> Result<String, sqlx::Error> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(make())
            .execute(&self.pool)
            .await?;
        let (value,): (String,) =
            sqlx::query_as("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(&self.pool).await?;
        Ok(value)
    }
}
