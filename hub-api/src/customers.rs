//! The customer service: a config as the operator API shows it, writing one with its sealed
//! tokens, creating one with fresh credentials, the operator's actions on one (each audited),
//! and the customer's generated controller.yaml and newest infra backup. The config, action,
//! recovery and infra routes call it; none of them imports another.

use std::collections::{BTreeMap, HashMap};

use hub_shared::audit::AuditAction;
use hub_shared::config::{ConfigCreated, ConfigFields, ConfigStatus, CustomerConfig, RecoveryLockout};
use hub_shared::controller::{ControllerAddress, ControllerUpdate, UpdateStatus};
use hub_shared::credentials::{Credentials, SetCredentials};
use hub_shared::infra::{InfraBackup, InfraBackupIn};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::configgen::{self, CustomerOverrides, BUNDLED_TEMPLATE, TEMPLATE_NAME};
use crate::crypto::Cipher;
use crate::customer_secrets::{
    given_api_key, given_retrieval_password, infra_backup_context, new_api_key, new_customer_secrets,
    new_retrieval_password, open_for_config, open_tokens, seal_tokens, OpenedSecrets,
};
use crate::error::{AppError, Result};
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::store::{
    AttemptRow, AuditRecord, ConfigOverrides, ConfigRow, ConfigWrite, LatestRow, SecretsRow, StoreError, UpdateRow,
};

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The 404 of a customer without a config.
pub fn no_config(customer_id: &str) -> AppError {
    crate::store::no_config(customer_id).into()
}

/// An audit entry for an operator's action.
pub fn operator_audit(action: AuditAction, customer_id: &str, summary: String, ip: &ClientIp) -> AuditRecord {
    AuditRecord {
        at: now_ms(),
        actor: "operator",
        action: action.as_str(),
        customer_id: Some(customer_id.to_string()),
        summary,
        client_ip: Some(ip.0.to_string()),
    }
}

/// The row to write for `fields`, with the tokens sealed.
pub fn to_write(state: &AppState, customer_id: &str, fields: &ConfigFields) -> ConfigWrite {
    write_for(state.cipher(), customer_id, fields)
}

/// The row to write for `fields`, with the tokens sealed by `cipher` (also for the import of the
/// original hub's data, which runs without a hub).
pub fn write_for(cipher: &Cipher, customer_id: &str, fields: &ConfigFields) -> ConfigWrite {
    ConfigWrite {
        customer_id: customer_id.to_string(),
        display_name: fields.display_name.trim().to_string(),
        domain: fields.domain.clone(),
        contact_email: fields.contact_email.clone(),
        status: fields.status,
        overrides: ConfigOverrides {
            identity: fields.identity.clone(),
            monitoring: fields.monitoring.clone(),
            legacy_monitoring: fields.legacy_monitoring.clone(),
        },
        infra_tokens_enc: seal_tokens(cipher, customer_id, &fields.infrastructure),
    }
}

/// A stored config's fields, tokens opened.
pub fn fields_of(state: &AppState, row: &ConfigRow, tokens_enc: Option<&str>) -> Result<ConfigFields> {
    Ok(ConfigFields {
        display_name: row.display_name.clone(),
        domain: row.domain.clone(),
        contact_email: row.contact_email.clone(),
        status: row.status,
        identity: row.overrides.identity.clone(),
        infrastructure: open_tokens(state.cipher(), &row.customer_id, tokens_enc)?,
        monitoring: row.overrides.monitoring.clone(),
        legacy_monitoring: row.overrides.legacy_monitoring.clone(),
    })
}

/// The customer's failures, and the longest lock-out of the customer or of an address whose
/// last failure was against it (the operator's clear ends both).
fn lockout_of(attempts: Option<&AttemptRow>, address_lock: Option<i64>, now: i64) -> Result<RecoveryLockout> {
    let customer_end = attempts.map(|a| a.lock_end(now)).transpose()?.flatten();
    let address_end = address_lock.filter(|until| *until > now).and_then(chrono::DateTime::from_timestamp_millis);
    Ok(RecoveryLockout {
        failures: attempts.map_or(0, |a| a.failures.clamp(0, u32::MAX as i64) as u32),
        locked_until: customer_end.max(address_end),
    })
}

/// What is known of a customer besides its config row, for its view.
struct Extras<'a> {
    tokens_enc: Option<&'a str>,
    latest: Option<&'a LatestRow>,
    update: Option<&'a UpdateRow>,
    infra_backups: u32,
    attempts: Option<&'a AttemptRow>,
    address_lock: Option<i64>,
}

fn view_of(state: &AppState, row: &ConfigRow, extras: Extras<'_>, now: i64) -> Result<CustomerConfig> {
    Ok(CustomerConfig {
        customer_id: row.customer_id.clone(),
        fields: fields_of(state, row, extras.tokens_enc)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        has_reports: extras.latest.is_some(),
        infra_backups: extras.infra_backups,
        recovery_lockout: lockout_of(extras.attempts, extras.address_lock, now)?,
        controller_address: ControllerAddress {
            accepted: extras.latest.and_then(|l| l.accepted_controller_url.clone()),
            pending: extras.latest.and_then(|l| l.pending_controller_url()).map(str::to_string),
        },
        controller_update: extras.update.map(|u| update_view(u, extras.latest, now)).transpose()?,
    })
}

/// A requested update as the customer page shows it: one still in progress in the store shows
/// its arrival (or its passed deadline) at once, before the `controller_updates` job records it.
fn update_view(update: &UpdateRow, latest: Option<&LatestRow>, now: i64) -> Result<ControllerUpdate> {
    let mut view = update.read()?;
    if view.status == UpdateStatus::Updating {
        let (version, at) = (latest.and_then(|l| l.controller_version.as_deref()), latest.map(|l| l.received_at));
        view.status = crate::controller::update_status_at(update, version, at, now);
        if view.status == UpdateStatus::Arrived {
            view.finished_at = at.and_then(chrono::DateTime::from_timestamp_millis);
        }
    }
    Ok(view)
}

/// One config as the operator API shows it; 404 without one.
pub async fn load_view(state: &AppState, customer_id: &str) -> Result<CustomerConfig> {
    let store = state.store();
    let subject = crate::store::customer_subject(customer_id);
    let now = now_ms();
    let (row, secrets, latest, update, versions, attempts, address_locks) = tokio::try_join!(
        store.config(customer_id),
        store.config_secrets(customer_id),
        store.latest_row(customer_id),
        store.controller_update(customer_id),
        store.infra_versions(customer_id),
        store.attempts(&subject),
        store.address_lockouts(now),
    )?;
    let row = row.ok_or_else(|| no_config(customer_id))?;
    let tokens = secrets.and_then(|s| s.infra_tokens_enc);
    let extras = Extras {
        tokens_enc: tokens.as_deref(),
        latest: latest.as_ref(),
        update: update.as_ref(),
        infra_backups: versions.len() as u32,
        attempts: attempts.as_ref(),
        address_lock: address_locks.iter().find(|(id, _)| id == customer_id).map(|(_, until)| *until),
    };
    view_of(state, &row, extras, now)
}

/// Every config as the operator API shows it.
pub async fn load_views(state: &AppState) -> Result<Vec<CustomerConfig>> {
    let store = state.store();
    let now = now_ms();
    let (rows, tokens, latest, updates, counts, attempts, address_locks) = tokio::try_join!(
        store.configs(),
        store.configs_with_tokens(),
        store.latest_reports(),
        store.controller_updates(),
        store.infra_counts(),
        store.customer_attempts(),
        store.address_lockouts(now),
    )?;
    let tokens: HashMap<String, Option<String>> = tokens.into_iter().collect();
    let latest: HashMap<&str, &LatestRow> = latest.iter().map(|l| (l.customer_id.as_str(), l)).collect();
    let updates: HashMap<&str, &UpdateRow> = updates.iter().map(|u| (u.customer_id.as_str(), u)).collect();
    let counts: HashMap<String, i64> = counts.into_iter().collect();
    let attempts: HashMap<String, AttemptRow> = attempts.into_iter().map(|a| (a.subject.clone(), a)).collect();
    let address_locks: HashMap<String, i64> = address_locks.into_iter().collect();
    rows.iter()
        .map(|row| {
            let id = &row.customer_id;
            let extras = Extras {
                tokens_enc: tokens.get(id).and_then(|t| t.as_deref()),
                latest: latest.get(id.as_str()).copied(),
                update: updates.get(id.as_str()).copied(),
                infra_backups: counts.get(id).copied().unwrap_or(0) as u32,
                attempts: attempts.get(&crate::store::customer_subject(id)),
                address_lock: address_locks.get(id).copied(),
            };
            view_of(state, row, extras, now)
        })
        .collect()
}

/// What changed between two versions of a config, for the audit log. Tokens are named, never
/// shown.
pub fn change_summary(old: &ConfigFields, new: &ConfigFields) -> String {
    fn flatten(prefix: &str, value: serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                    flatten(&path, v, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other);
            }
        }
    }
    let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
    flatten("", serde_json::to_value(old).unwrap_or_default(), &mut before);
    flatten("", serde_json::to_value(new).unwrap_or_default(), &mut after);
    let changes: Vec<String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| {
            if k.starts_with("infrastructure.") {
                format!("{k} changed")
            } else {
                format!("{k}: {} → {v}", before.get(k).cloned().unwrap_or_default())
            }
        })
        .collect();
    if changes.is_empty() {
        "no changes".into()
    } else {
        changes.join("; ")
    }
}

/// Stores a new config with fresh credentials and answers with them; 409 when one exists.
/// `how` says in the audit log how it was made.
pub async fn insert_new(
    state: &AppState,
    customer_id: &str,
    fields: &ConfigFields,
    how: &str,
    ip: &ClientIp,
) -> Result<ConfigCreated> {
    let (credentials, secrets) = new_customer_secrets(state.cipher(), customer_id);
    let mut row = secrets;
    let write = to_write(state, customer_id, fields);
    row.infra_tokens_enc = Some(write.infra_tokens_enc.clone());
    let summary = format!("{how}: {}, status {}", write.display_name, write.status.as_str());
    let audit = operator_audit(AuditAction::Create, customer_id, summary, ip);
    state.store().create_config(&write, &row, now_ms(), &audit).await?;
    Ok(ConfigCreated {
        config: load_view(state, customer_id).await?,
        api_key: credentials.api_key.unwrap_or_default(),
        retrieval_password: credentials.retrieval_password.unwrap_or_default(),
    })
}

/// Replaces a config's fields, audited with what changed; 404 without one.
pub async fn update(state: &AppState, customer_id: &str, fields: &ConfigFields, ip: &ClientIp) -> Result<()> {
    let old = load_view(state, customer_id).await?;
    let summary = change_summary(&old.fields, fields);
    let audit = operator_audit(AuditAction::Update, customer_id, summary, ip);
    state.store().update_config(&to_write(state, customer_id, fields), now_ms(), &audit).await?;
    Ok(())
}

/// Deletes a config (its reports and infra backups stay), audited; 404 without one.
pub async fn delete(state: &AppState, customer_id: &str, ip: &ClientIp) -> Result<()> {
    let old = state.store().config(customer_id).await?.ok_or_else(|| no_config(customer_id))?;
    let summary = format!("deleted config of {}", old.display_name);
    let audit = operator_audit(AuditAction::Delete, customer_id, summary, ip);
    state.store().delete_config(customer_id, &audit).await?;
    Ok(())
}

/// An operator's action that changes one stored value of a config.
#[derive(Debug, Clone, Copy)]
pub enum ConfigAction {
    Block,
    Unblock,
    RotateApiKey,
    RotateRetrievalPassword,
}

/// Runs `action` on the customer's config, written together with its audit entry; 404 without
/// a config. Answers with the credential the action made, if any (shown this once).
pub async fn run_action(
    state: &AppState,
    customer_id: &str,
    action: ConfigAction,
    ip: &ClientIp,
) -> Result<Credentials> {
    let store = state.store();
    let mut made = Credentials::default();
    match action {
        ConfigAction::Block | ConfigAction::Unblock => {
            let (status, audited) = match action {
                ConfigAction::Block => (ConfigStatus::Blocked, AuditAction::Block),
                _ => (ConfigStatus::Active, AuditAction::Unblock),
            };
            let old = store.config(customer_id).await?.ok_or_else(|| no_config(customer_id))?;
            let summary = format!("status: {} → {}", old.status.as_str(), status.as_str());
            let audit = operator_audit(audited, customer_id, summary, ip);
            store.set_config_status(customer_id, status, now_ms(), &audit).await?
        }
        ConfigAction::RotateApiKey => {
            let (key, hash, sealed) = new_api_key(state.cipher(), customer_id);
            let audit = operator_audit(AuditAction::RotateApiKey, customer_id, "API key replaced".into(), ip);
            made.api_key = Some(key);
            store.set_credentials(customer_id, Some((&hash, &sealed)), None, now_ms(), &audit).await?
        }
        ConfigAction::RotateRetrievalPassword => {
            let (password, hash, sealed) = new_retrieval_password(state.cipher(), customer_id);
            let summary = "retrieval password replaced".into();
            let audit = operator_audit(AuditAction::RotateRetrievalPassword, customer_id, summary, ip);
            made.retrieval_password = Some(password);
            store.set_credentials(customer_id, None, Some((&hash, &sealed)), now_ms(), &audit).await?
        }
    }
    Ok(made)
}

/// Sets the customer's API key and/or retrieval password to given values (the original hub's),
/// sealed and hashed exactly like generated ones, audited without the values; 404 without a
/// config, 409 when another customer has the key, 422 for the hub's global key.
pub async fn set_credentials(state: &AppState, customer_id: &str, given: &SetCredentials, ip: &ClientIp) -> Result<()> {
    given.validate()?;
    let cipher = state.cipher();
    let api_key = given.api_key.as_deref().map(|key| given_api_key(cipher, customer_id, key));
    if let (Some(key), Some((hash, _))) = (given.api_key.as_deref(), &api_key) {
        let global = state.config().raw.api.report_api_key.expose_secret();
        if !global.is_empty() && bool::from(key.as_bytes().ct_eq(global.as_bytes())) {
            return Err(AppError::invalid(
                "api_key",
                "api_key: this is the hub's api.report_api_key, not a customer's",
            ));
        }
        if let Some((owner, _)) = state.store().customer_by_key_hash(hash).await? {
            if owner != customer_id {
                return Err(AppError::Conflict(format!("customer {owner:?} has this API key")));
            }
        }
    }
    let password = given.retrieval_password.as_deref().map(|p| given_retrieval_password(cipher, customer_id, p));
    let mut summary = Vec::new();
    if api_key.is_some() {
        summary.push("API key set to a given value");
    }
    if password.is_some() {
        summary.push("retrieval password set to a given value");
    }
    let audit = operator_audit(AuditAction::SetCredentials, customer_id, summary.join("; "), ip);
    state.store().set_credentials(customer_id, as_pair(&api_key), as_pair(&password), now_ms(), &audit).await.map_err(
        |e| match e {
            StoreError::Conflict(_) => AppError::Conflict("another customer has this API key".into()),
            other => other.into(),
        },
    )
}

fn as_pair(pair: &Option<(String, String)>) -> Option<(&str, &str)> {
    pair.as_ref().map(|(hash, sealed)| (hash.as_str(), sealed.as_str()))
}

/// The customer's controller.yaml from its stored config and secrets. `masked` hides the API key
/// and the session secret (the operator's preview).
pub async fn render_stored(state: &AppState, row: &ConfigRow, secrets: &SecretsRow, masked: bool) -> Result<String> {
    let id = &row.customer_id;
    let fields = fields_of(state, row, secrets.infra_tokens_enc.as_deref())?;
    let mut opened = open_for_config(state.cipher(), id, secrets)?;
    if masked {
        opened.api_key = "<hidden: reveal the credentials to see it>".into();
        opened.session_secret = "<hidden>".into();
    }
    render_config(state, id, &fields, &opened).await
}

/// The customer's controller.yaml: the current template merged with the customer's overrides.
async fn render_config(
    state: &AppState,
    customer_id: &str,
    fields: &ConfigFields,
    secrets: &OpenedSecrets,
) -> Result<String> {
    let stored = state.store().template(TEMPLATE_NAME).await?;
    let template = stored.as_ref().map_or(BUNDLED_TEMPLATE, |(body, _, _)| body.as_str());
    let mut fields = fields.clone();
    fields.infrastructure = secrets.tokens.clone();
    let overrides = configgen::overrides(&CustomerOverrides {
        customer_id,
        fields: &fields,
        hub_url: &state.config().raw.server.public_url,
        api_key: &secrets.api_key,
        session_secret: &secrets.session_secret,
    });
    Ok(configgen::render(template, overrides)?)
}

/// Opens a stored infra backup: the newest, or `version`.
pub async fn load_backup(state: &AppState, id: &str, version: Option<i64>) -> Result<Option<InfraBackup>> {
    let Some(row) = state.store().infra_backup(id, version).await? else { return Ok(None) };
    let json = state.cipher().open_string(&infra_backup_context(id, row.version), &row.payload_enc)?;
    let backup: InfraBackupIn = serde_json::from_str(&json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored infra backup {id} v{}: {e}", row.version)))?;
    Ok(Some(InfraBackup { version: row.version, created_at: row.created_at, size_bytes: row.size_bytes, backup }))
}
