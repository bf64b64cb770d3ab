//! `infra_backups` → each customer's newest old snapshot as its infra backup version 1, sealed
//! as pushed ones are. A customer whose controller already pushed to this hub keeps its own.

use std::collections::BTreeMap;

use futures::StreamExt;
use hub_shared::infra::InfraBackupIn;
use serde_json::Value;

use super::Job;
use crate::customer_secrets::infra_backup_context;

/// The newest old snapshot of one customer so far.
struct Newest {
    key: String,
    created_at: i64,
    payload: Option<String>,
}

pub(super) async fn import(job: &mut Job<'_>) -> anyhow::Result<()> {
    let t = &job.table;
    let id_col = t.column(&["customer_id", "customer"]);
    let payload_col = t.column(&["payload_json", "payload", "backup_json", "data", "json", "backup"]);
    let time_col = t.column(&["created_at", "updated_at", "received_at", "timestamp"]);
    t.optional_column(&["size_bytes", "size"]);
    let source = job.source;
    let select = source.select(&job.table, time_col.as_deref()).await;
    let mut rows = source.rows(&select);
    let mut newest: BTreeMap<String, Newest> = BTreeMap::new();
    while let Some(row) = rows.next().await {
        let row = row?;
        let Some(id) = job.new_row_of(&row, id_col.as_deref()) else { continue };
        let created_at = row.get(time_col.as_deref()).time_ms().unwrap_or(job.now);
        let payload = row.get(payload_col.as_deref()).text();
        let candidate = Newest { key: row.key.clone(), created_at, payload };
        match newest.get(&id) {
            Some(current) if current.created_at > created_at => {
                job.skip(&row.key, "an older snapshot (only each customer's newest is imported)");
            }
            _ => {
                if let Some(older) = newest.insert(id, candidate) {
                    job.skip(&older.key, "an older snapshot (only each customer's newest is imported)");
                }
            }
        }
    }
    drop(rows);
    for (id, snapshot) in newest {
        let (existing,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM infra_backups WHERE customer_id = $1")
            .bind(&id)
            .fetch_one(&mut *job.tx)
            .await?;
        if existing > 0 {
            job.skip(&snapshot.key, "the customer has infra backups in this hub already");
            continue;
        }
        let backup = match parse(&id, snapshot.payload.as_deref()) {
            Ok(backup) => backup,
            Err(reason) => {
                job.skip(&snapshot.key, reason);
                continue;
            }
        };
        let json = serde_json::to_string(&backup)?;
        let size = snapshot.payload.as_deref().map_or(json.len(), str::len) as i64;
        let sealed = job.cipher.seal_str(&infra_backup_context(&id, 1), &json);
        sqlx::query(
            "INSERT INTO infra_backups (customer_id, version, created_at, size_bytes, payload_enc) \
             VALUES ($1, 1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(snapshot.created_at)
        .bind(size)
        .bind(&sealed)
        .execute(&mut *job.tx)
        .await?;
        job.done(&snapshot.key, None).await?;
    }
    Ok(())
}

/// The snapshot as this hub keeps it; the error names what is missing or wrong.
fn parse(id: &str, payload: Option<&str>) -> Result<InfraBackupIn, String> {
    let mut value: Value =
        serde_json::from_str(payload.ok_or("no payload")?).map_err(|e| format!("the payload is not JSON ({e})"))?;
    let Some(object) = value.as_object_mut() else { return Err("the payload is not a JSON object".into()) };
    object.entry("customer_id").or_insert_with(|| Value::String(id.to_string()));
    let backup: InfraBackupIn = serde_path_to_error::deserialize(&value).map_err(|e| {
        let inner = hub_shared::lenient::describe(&e.inner().to_string());
        format!("the payload does not fit: {}: {inner}", e.path())
    })?;
    if backup.customer_id != id {
        return Err("the payload names another customer".into());
    }
    backup.validate().map_err(|e| format!("the payload does not fit: {}", e.message))?;
    Ok(backup)
}
