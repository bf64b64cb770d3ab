//! `customer_configs` → configs, with the old API keys and retrieval passwords sealed and hashed
//! as ours are, so the controllers in the field and the passwords on paper keep working.
//!
//! A value this hub would refuse (a malformed domain, an unknown language) is left out and
//! named; a key or password that breaks this hub's rules (shorter than 24 characters, the
//! global key, another customer's) is replaced by a new one, and named.

use std::collections::HashSet;

use futures::StreamExt;
use hub_shared::config::{ConfigFields, ConfigStatus};
use hub_shared::credentials::SetCredentials;
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::source::{Cell, LegacyRow};
use super::{customer_id, Job};
use crate::auth::key_hash;
use crate::customer_secrets::{given_api_key, given_retrieval_password, new_customer_secrets};
use crate::customers::write_for;

/// The old table's columns for each field: the first alias names the field.
struct Columns {
    id: Option<String>,
    display_name: Option<String>,
    domain: Option<String>,
    email: Option<String>,
    status: Option<String>,
    api_key: Option<String>,
    password: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    /// A JSON column of further settings, read by the same names as the columns.
    json: Option<String>,
    /// Further settings as columns: (field, column).
    extras: Vec<(&'static str, String)>,
}

/// The further settings: the field, and its names in the old table or its JSON column.
const EXTRAS: [(&str, &[&str]); 15] = [
    ("identity.hostname", &["hostname", "node_hostname"]),
    ("identity.timezone", &["timezone", "tz"]),
    ("identity.language", &["language", "lang", "locale"]),
    ("infrastructure.cloudflare_tunnel_token", &["cloudflare_tunnel_token", "cloudflare_token", "tunnel_token"]),
    ("infrastructure.tailscale_auth_key", &["tailscale_auth_key", "tailscale_key", "ts_auth_key"]),
    ("infrastructure.dns_api_token", &["dns_api_token", "dns_token", "cloudflare_api_token"]),
    ("infrastructure.smtp_password", &["smtp_password", "smtp_pass"]),
    ("monitoring.enabled", &["monitoring_enabled"]),
    ("monitoring.report_interval", &["report_interval"]),
    ("monitoring.disk_warn_percent", &["disk_warn_percent", "disk_warning_percent"]),
    ("monitoring.disk_critical_percent", &["disk_critical_percent"]),
    ("monitoring.backup_deadline", &["backup_deadline"]),
    ("legacy_monitoring.heartbeat_uuid", &["heartbeat_uuid", "hc_heartbeat_uuid", "healthcheck_uuid"]),
    ("legacy_monitoring.backup_uuid", &["backup_uuid", "hc_backup_uuid"]),
    ("legacy_monitoring.dbdump_uuid", &["dbdump_uuid", "hc_dbdump_uuid"]),
];

pub(super) async fn import(job: &mut Job<'_>) -> anyhow::Result<()> {
    let t = &job.table;
    let columns = Columns {
        id: t.column(&["customer_id", "customer", "slug"]),
        display_name: t.column(&["display_name", "name", "customer_name"]),
        domain: t.column(&["domain", "customer_domain"]),
        email: t.column(&["contact_email", "email", "customer_email"]),
        status: t.column(&["status", "state"]),
        api_key: t.column(&["api_key", "customer_api_key", "hub_api_key"]),
        password: t.column(&["retrieval_password", "retrieval_pass", "config_password"]),
        created_at: t.optional_column(&["created_at", "created"]),
        updated_at: t.optional_column(&["updated_at", "updated", "modified_at"]),
        json: t.optional_column(&["config_json", "overrides_json", "overrides", "config", "settings"]),
        extras: EXTRAS.iter().filter_map(|(field, names)| t.optional_column(names).map(|c| (*field, c))).collect(),
    };
    if t.optional_column(&["api_key_hash"]).is_some() && columns.api_key.is_none() {
        job.note("api_key_hash: only a hash of each key is stored; new keys are generated (hand them out)");
    }
    let existing: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT customer_id, api_key_hash FROM customer_configs").fetch_all(&mut *job.tx).await?;
    let mut ids: HashSet<String> = existing.iter().map(|(id, _)| id.clone()).collect();
    let mut hashes: HashSet<String> = existing.into_iter().filter_map(|(_, h)| h).collect();
    let source = job.source;
    let select = source.select(&job.table, None).await;
    let mut rows = source.rows(&select);
    while let Some(row) = rows.next().await {
        let row = row?;
        if job.seen(&row.key) {
            continue;
        }
        let id = match customer_id(row.get(columns.id.as_deref())) {
            Ok(id) => id,
            Err(reason) => {
                job.skip(&row.key, reason);
                continue;
            }
        };
        if !ids.insert(id.clone()) {
            job.skip(&row.key, "a config for this customer exists in this hub already");
            continue;
        }
        let fields = fields(job, &columns, &row, &id);
        let (_, mut secrets) = new_customer_secrets(job.cipher, &id);
        let given = given_credentials(job, &columns, &row, &id, &hashes);
        match given.api_key.as_deref() {
            Some(key) => {
                let (hash, sealed) = given_api_key(job.cipher, &id, key);
                hashes.insert(hash.clone());
                (secrets.api_key_hash, secrets.api_key_enc) = (Some(hash), Some(sealed));
            }
            None => {
                hashes.extend(secrets.api_key_hash.clone());
            }
        }
        if let Some(password) = given.retrieval_password.as_deref() {
            let (hash, sealed) = given_retrieval_password(job.cipher, &id, password);
            (secrets.retrieval_password_hash, secrets.retrieval_password_enc) = (Some(hash), Some(sealed));
        }
        let write = write_for(job.cipher, &id, &fields);
        let created = row.get(columns.created_at.as_deref()).time_ms().unwrap_or(job.now);
        let updated = row.get(columns.updated_at.as_deref()).time_ms().unwrap_or(created);
        sqlx::query(
            "INSERT INTO customer_configs (customer_id, display_name, domain, contact_email, status, config_json, \
                infra_tokens_enc, api_key_hash, api_key_enc, retrieval_password_hash, retrieval_password_enc, \
                session_secret_enc, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&write.customer_id)
        .bind(&write.display_name)
        .bind(&write.domain)
        .bind(&write.contact_email)
        .bind(write.status.as_str())
        .bind(serde_json::to_string(&write.overrides)?)
        .bind(&write.infra_tokens_enc)
        .bind(&secrets.api_key_hash)
        .bind(&secrets.api_key_enc)
        .bind(&secrets.retrieval_password_hash)
        .bind(&secrets.retrieval_password_enc)
        .bind(&secrets.session_secret_enc)
        .bind(created)
        .bind(updated)
        .execute(&mut *job.tx)
        .await?;
        let kept = match (given.api_key.is_some(), given.retrieval_password.is_some()) {
            (true, true) => "API key and retrieval password kept",
            (true, false) => "API key kept, retrieval password new",
            (false, true) => "retrieval password kept, API key new",
            (false, false) => "API key and retrieval password new",
        };
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, customer_id, summary, client_ip) \
             VALUES ($1, 'import', 'create', $2, $3, NULL)",
        )
        .bind(job.now)
        .bind(&id)
        .bind(format!(
            "imported from the original hub: {}, status {}; {kept}",
            write.display_name,
            write.status.as_str()
        ))
        .execute(&mut *job.tx)
        .await?;
        job.done(&row.key, None).await?;
    }
    Ok(())
}

/// The config's fields from the row (and its JSON column); values this hub would refuse are
/// left out and named.
fn fields(job: &mut Job<'_>, columns: &Columns, row: &LegacyRow, id: &str) -> ConfigFields {
    let text = |column: &Option<String>| row.get(column.as_deref()).text().map(|t| t.trim().to_string());
    let json: Map<String, Value> = match row.get(columns.json.as_deref()).json() {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let blocked = match text(&columns.status).map(|s| s.to_ascii_lowercase()) {
        None => false,
        Some(s) if s == "active" || s == "enabled" => false,
        Some(s) if s == "blocked" || s == "disabled" || s == "suspended" => true,
        Some(other) => {
            job.note(format!("{id}: status {other:?} is not active or blocked; imported as active"));
            false
        }
    };
    let mut fields = ConfigFields {
        display_name: text(&columns.display_name).unwrap_or_else(|| id.to_string()),
        domain: text(&columns.domain).unwrap_or_default().to_ascii_lowercase(),
        contact_email: text(&columns.email).unwrap_or_default(),
        status: if blocked { ConfigStatus::Blocked } else { ConfigStatus::Active },
        ..Default::default()
    };
    for (field, names) in EXTRAS {
        let from_column = columns.extras.iter().find(|(f, _)| *f == field).map(|(_, c)| row.get(Some(c)).clone());
        let value = from_column.filter(|c| *c != Cell::Null).or_else(|| json_value(&json, field, names));
        if let Some(value) = value {
            set(&mut fields, field, &value);
        }
    }
    // Leave out what this hub would refuse, one field at a time.
    for _ in 0..32 {
        let Some(problem) = fields.problems().into_iter().next() else { break };
        job.note(format!("{id}: {} left out ({})", problem.field, problem.message));
        clear(&mut fields, &problem.field, id);
    }
    fields
}

/// A further setting from the JSON column: by its field path, its section's key, or an alias.
fn json_value(json: &Map<String, Value>, field: &str, names: &[&str]) -> Option<Cell> {
    let (section, key) = field.split_once('.')?;
    let value = json
        .get(section)
        .and_then(|s| s.get(key))
        .or_else(|| names.iter().find_map(|n| json.get(*n)))
        .filter(|v| !v.is_null())?;
    Some(match value {
        Value::String(s) => Cell::Text(s.clone()),
        Value::Bool(b) => Cell::Int(i64::from(*b)),
        Value::Number(n) => n.as_i64().map_or_else(|| Cell::Real(n.as_f64().unwrap_or_default()), Cell::Int),
        other => Cell::Text(other.to_string()),
    })
}

fn set(fields: &mut ConfigFields, field: &str, value: &Cell) {
    let text = value.text().map(|t| t.trim().to_string()).unwrap_or_default();
    let percent = || value.int().and_then(|n| u8::try_from(n).ok());
    match field {
        "identity.hostname" => fields.identity.hostname = text.to_ascii_lowercase(),
        "identity.timezone" => fields.identity.timezone = text,
        "identity.language" => fields.identity.language = text.to_ascii_lowercase(),
        "infrastructure.cloudflare_tunnel_token" => fields.infrastructure.cloudflare_tunnel_token = text,
        "infrastructure.tailscale_auth_key" => fields.infrastructure.tailscale_auth_key = text,
        "infrastructure.dns_api_token" => fields.infrastructure.dns_api_token = text,
        "infrastructure.smtp_password" => fields.infrastructure.smtp_password = text,
        "monitoring.enabled" => fields.monitoring.enabled = value.boolean(),
        "monitoring.report_interval" => fields.monitoring.report_interval = Some(text).filter(|t| !t.is_empty()),
        "monitoring.disk_warn_percent" => fields.monitoring.disk_warn_percent = percent(),
        "monitoring.disk_critical_percent" => fields.monitoring.disk_critical_percent = percent(),
        "monitoring.backup_deadline" => fields.monitoring.backup_deadline = Some(text).filter(|t| !t.is_empty()),
        "legacy_monitoring.heartbeat_uuid" => fields.legacy_monitoring.heartbeat_uuid = text,
        "legacy_monitoring.backup_uuid" => fields.legacy_monitoring.backup_uuid = text,
        "legacy_monitoring.dbdump_uuid" => fields.legacy_monitoring.dbdump_uuid = text,
        _ => {}
    }
}

/// Empties one field (the display name falls back to the customer id).
fn clear(fields: &mut ConfigFields, field: &str, id: &str) {
    match field {
        "display_name" => fields.display_name = id.to_string(),
        "domain" => fields.domain.clear(),
        "contact_email" => fields.contact_email.clear(),
        "monitoring.enabled" => fields.monitoring.enabled = None,
        "monitoring.report_interval" => fields.monitoring.report_interval = None,
        "monitoring.disk_warn_percent" | "monitoring.disk_critical_percent" => {
            fields.monitoring.disk_warn_percent = None;
            fields.monitoring.disk_critical_percent = None;
        }
        "monitoring.backup_deadline" => fields.monitoring.backup_deadline = None,
        other => set(fields, other, &Cell::Null),
    }
}

/// The old key and password where this hub accepts them; each one it does not is named, and
/// the customer gets a new one instead.
fn given_credentials(
    job: &mut Job<'_>,
    columns: &Columns,
    row: &LegacyRow,
    id: &str,
    hashes: &HashSet<String>,
) -> SetCredentials {
    let mut given = SetCredentials {
        api_key: row.get(columns.api_key.as_deref()).text().map(|k| k.trim().to_string()),
        retrieval_password: row.get(columns.password.as_deref()).text(),
    };
    if let Some(key) = given.api_key.clone() {
        let global = job.config.raw.api.report_api_key.expose_secret();
        let problem =
            if let Err(e) = (SetCredentials { api_key: Some(key.clone()), retrieval_password: None }).validate() {
                Some(e.message)
            } else if !global.is_empty() && bool::from(key.as_bytes().ct_eq(global.as_bytes())) {
                Some("it is this hub's api.report_api_key".to_string())
            } else if hashes.contains(&key_hash(&key)) {
                Some("another customer has it".to_string())
            } else {
                None
            };
        if let Some(problem) = problem {
            job.note(format!("{id}: API key not kept ({problem}); a new one was generated, the controller needs it"));
            given.api_key = None;
        }
    } else if columns.api_key.is_some() {
        job.note(format!("{id}: no API key in the old row; a new one was generated"));
    }
    if let Some(password) = given.retrieval_password.clone() {
        let check = SetCredentials { api_key: None, retrieval_password: Some(password) };
        if let Err(e) = check.validate() {
            job.note(format!("{id}: retrieval password not kept ({}); a new one was generated", e.message));
            given.retrieval_password = None;
        }
    } else if columns.password.is_some() {
        job.note(format!("{id}: no retrieval password in the old row; a new one was generated"));
    }
    given
}
