//! Hub-wide values shared by every replica.

use super::{Result, RowKey, Store};

impl Store {
    /// Returns the value under `key`, storing `make()` first if none exists. Every replica that
    /// races here ends with the same value (the first insert wins).
    pub async fn setting_or_insert(&self, key: &str, make: impl FnOnce() -> String) -> Result<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(make())
            .execute(&self.pool)
            .await?;
        let (value,): (String,) =
            sqlx::query_as("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(&self.pool).await?;
        Ok(value)
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|(v,)| v))
    }

    pub async fn delete_setting(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }
}

/// The `settings` key of the newest controller version the registry watch knows.
pub const REGISTRY_LATEST: &str = "registry.latest";

/// The newest controller version the registry watch saw, as stored under [`REGISTRY_LATEST`]:
/// `{"version":"1.4.2","seen_at":<unix ms>}`. `version` is the registry's tag as it is;
/// `seen_at` is when the watch first saw it as the newest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistryLatest {
    pub version: String,
    pub seen_at: i64,
}

impl Store {
    /// Stores `value` under `key`, replacing what was there.
    pub async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest controller version the registry watch knows; `None` before its first find.
    pub async fn registry_latest(&self) -> Result<Option<RegistryLatest>> {
        match self.setting(REGISTRY_LATEST).await? {
            Some(text) => Ok(Some(RowKey::new("settings", REGISTRY_LATEST).json("value", &text)?)),
            None => Ok(None),
        }
    }

    pub async fn put_registry_latest(&self, latest: &RegistryLatest) -> Result<()> {
        let text = serde_json::to_string(latest).expect("two plain fields serialize");
        self.put_setting(REGISTRY_LATEST, &text).await?;
        self.touch_fleet();
        Ok(())
    }
}
