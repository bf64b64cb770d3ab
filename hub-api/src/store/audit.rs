//! The audit log: written in the same transaction as the change it records, read newest first.

use chrono::{DateTime, Utc};
use hub_shared::audit::AuditAction;
use sqlx::{Any, FromRow, Transaction};

use super::{Result, RowKey, Store};

/// An entry to write.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub at: i64,
    pub actor: &'static str,
    pub action: &'static str,
    pub customer_id: Option<String>,
    /// What changed; never a secret's value.
    pub summary: String,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: AuditAction,
    pub customer_id: Option<String>,
    pub summary: String,
    pub client_ip: Option<String>,
}

/// The columns of `audit_log` as the database holds them.
#[derive(FromRow)]
struct StoredAudit {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    customer_id: Option<String>,
    summary: String,
    client_ip: Option<String>,
}

impl StoredAudit {
    fn read(self) -> Result<AuditRow> {
        let row = RowKey::new("audit_log", self.id);
        Ok(AuditRow {
            at: row.time("at", self.at)?,
            action: row.known("action", &self.action, AuditAction::parse)?,
            id: self.id,
            actor: self.actor,
            customer_id: self.customer_id,
            summary: self.summary,
            client_ip: self.client_ip,
        })
    }
}

pub(crate) async fn insert_audit(tx: &mut Transaction<'static, Any>, r: &AuditRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, customer_id, summary, client_ip) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.at)
    .bind(r.actor)
    .bind(r.action)
    .bind(&r.customer_id)
    .bind(&r.summary)
    .bind(&r.client_ip)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Writes one entry on its own.
    pub async fn audit(&self, record: &AuditRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut tx, record).await?;
        Ok(tx.commit().await?)
    }

    /// One page of the log, newest first, optionally of one customer: at most `limit` entries
    /// with an id below `before`.
    pub async fn audit_log(&self, customer_id: Option<&str>, before: Option<i64>, limit: i64) -> Result<Vec<AuditRow>> {
        const COLUMNS: &str = "id, at, actor, action, customer_id, summary, client_ip";
        let select = format!("SELECT {COLUMNS} FROM audit_log");
        let rows: Vec<StoredAudit> = self.page_by_id(&select, "", customer_id, before, limit).await?;
        rows.into_iter().map(StoredAudit::read).collect()
    }
}
