//! Operator sessions: created at login, revoked at logout, purged when expired; and the
//! addresses the operator signed in from.

use super::{Result, Store};

impl Store {
    pub async fn create_session(&self, id: &str, now: i64, expires_at: i64) -> Result<()> {
        sqlx::query("INSERT INTO sessions (id, created_at, expires_at, revoked) VALUES ($1, $2, $3, 0)")
            .bind(id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the session exists, is not revoked and has not expired at `now`.
    pub async fn session_active(&self, id: &str, now: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT expires_at FROM sessions WHERE id = $1 AND revoked = 0")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(matches!(row, Some((exp,)) if exp > now))
    }

    pub async fn revoke_session(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET revoked = 1 WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Deletes sessions that expired before `now`; returns how many.
    pub async fn purge_sessions(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Remembers that the operator signed in from `address` at `now`.
    pub async fn remember_sign_in_address(&self, address: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO sign_in_addresses (address, last_success_at) VALUES ($1, $2) \
             ON CONFLICT (address) DO UPDATE SET last_success_at = excluded.last_success_at",
        )
        .bind(address)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the operator signed in from `address` since `since`.
    pub async fn sign_in_address_known(&self, address: &str, since: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT last_success_at FROM sign_in_addresses WHERE address = $1 AND last_success_at >= $2",
        )
        .bind(address)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Forgets the addresses not signed in from since `before`; returns how many.
    pub async fn prune_sign_in_addresses(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sign_in_addresses WHERE last_success_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
