//! Pull: the controller's live config into the stored one, as the original hub's "Pull Config"
//! did: its identity (name, domain, email, language, hostname, time zone), its infrastructure
//! tokens and its monitoring overrides are taken; the hub's own values (API key, session
//! secret, hub URL) are not. A customer without a stored config gets one.

use hub_shared::audit::AuditAction;
use hub_shared::config::{ConfigFields, DISPLAY_NAME_MAX};
use hub_shared::config_diff;
use hub_shared::controller::PullResult;
use serde_json::Value;

use super::{audit_failure, resolve, ControllerError};
use crate::configgen::{BUNDLED_TEMPLATE, TEMPLATE_NAME};
use crate::customers::{self, now_ms, operator_audit};
use crate::error::Result;
use crate::extract::ClientIp;
use crate::state::AppState;

/// A text value at `path`, trimmed; `None` when missing, not text, or empty.
fn text(value: &Value, path: &[&str]) -> Option<String> {
    let found = path.iter().try_fold(value, |v, key| v.get(key))?;
    found.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A value at `path` that differs from the template's there: overrides equal to the template's
/// value are not stored.
fn overridden<'a>(live: &'a Value, template: &Value, path: &[&str]) -> Option<&'a Value> {
    let found = path.iter().try_fold(live, |v, key| v.get(key))?;
    let default = path.iter().try_fold(template, |v, key| v.get(key));
    (default != Some(found) && !found.is_null()).then_some(found)
}

/// `base` with the identity, tokens and overrides of a live controller config. Values the live
/// config does not have stay as they were.
pub fn fields_from_live(live: &Value, template: &Value, base: &ConfigFields) -> ConfigFields {
    let mut f = base.clone();
    let set = |slot: &mut String, path: &[&str]| {
        if let Some(value) = text(live, path) {
            *slot = value;
        }
    };
    if let Some(name) = text(live, &["customer", "name"]) {
        f.display_name = name.chars().take(DISPLAY_NAME_MAX).collect();
    }
    set(&mut f.domain, &["customer", "domain"]);
    set(&mut f.contact_email, &["customer", "email"]);
    set(&mut f.identity.language, &["customer", "language"]);
    set(&mut f.identity.hostname, &["node", "hostname"]);
    set(&mut f.identity.timezone, &["node", "timezone"]);
    let t = &mut f.infrastructure;
    set(&mut t.cloudflare_tunnel_token, &["infrastructure", "cloudflare", "tunnel_token"]);
    set(&mut t.tailscale_auth_key, &["infrastructure", "tailscale", "auth_key"]);
    set(&mut t.dns_api_token, &["infrastructure", "dns", "api_token"]);
    set(&mut t.smtp_password, &["infrastructure", "smtp", "password"]);
    let l = &mut f.legacy_monitoring;
    set(&mut l.heartbeat_uuid, &["monitoring", "healthchecks", "heartbeat_uuid"]);
    set(&mut l.backup_uuid, &["monitoring", "healthchecks", "backup_uuid"]);
    set(&mut l.dbdump_uuid, &["monitoring", "healthchecks", "dbdump_uuid"]);
    let m = &mut f.monitoring;
    let over = |key: &str| overridden(live, template, &["monitoring", key]);
    if let Some(v) = over("enabled").and_then(Value::as_bool) {
        m.enabled = Some(v);
    }
    if let Some(v) = over("report_interval").and_then(Value::as_str) {
        m.report_interval = Some(v.to_string());
    }
    if let Some(v) = over("disk_warn_percent").and_then(Value::as_u64).and_then(|p| u8::try_from(p).ok()) {
        m.disk_warn_percent = Some(v);
    }
    if let Some(v) = over("disk_critical_percent").and_then(Value::as_u64).and_then(|p| u8::try_from(p).ok()) {
        m.disk_critical_percent = Some(v);
    }
    if let Some(v) = over("backup_deadline").and_then(Value::as_str) {
        m.backup_deadline = Some(v.to_string());
    }
    f
}

fn as_json(fields: &ConfigFields) -> Value {
    serde_json::to_value(fields).unwrap_or_default()
}

/// Reads the live config and takes its fields into the stored config (creating one when the
/// customer has none), audited; answers with what changed, tokens masked.
pub async fn pull(state: &AppState, customer_id: &str, ip: &ClientIp) -> Result<PullResult> {
    let outcome = async {
        let (target, stored) = resolve(state, customer_id).await?;
        let live = state.controllers().get_config(&target).await?;
        let bad = |detail: String| ControllerError::BadAnswer { url: target.shown().to_string(), detail };
        match text(&live, &["customer", "id"]) {
            Some(id) if id != customer_id => return Err(bad(format!("its config is for customer {id:?}"))),
            _ => {}
        }
        let stored_template = state.store().template(TEMPLATE_NAME).await?;
        let template_text = stored_template.as_ref().map_or(BUNDLED_TEMPLATE, |(body, _, _)| body.as_str());
        let template = super::yaml_value(template_text)?;
        let before = match &stored {
            Some((row, secrets)) => customers::fields_of(state, row, secrets.infra_tokens_enc.as_deref())?,
            None => ConfigFields { display_name: customer_id.to_string(), ..ConfigFields::default() },
        };
        let after = fields_from_live(&live, &template, &before);
        after
            .validate()
            .map_err(|problem| bad(format!("its config has a value the hub refuses: {}", problem.message)))?;
        Ok((stored.is_some(), before, after))
    }
    .await;
    let (existed, before, after) = match outcome {
        Ok(read) => read,
        Err(e) => return Err(audit_failure(state, AuditAction::PullConfig, customer_id, ip, e).await),
    };
    let changes = config_diff::diff(&as_json(&before), &as_json(&after), false);
    let created = if existed {
        let summary = format!("pulled from the controller: {}", customers::change_summary(&before, &after));
        let audit = operator_audit(AuditAction::PullConfig, customer_id, summary, ip);
        state.store().update_config(&customers::to_write(state, customer_id, &after), now_ms(), &audit).await?;
        None
    } else {
        let made = customers::insert_new(state, customer_id, &after, "pulled from the controller", ip).await?;
        Some(hub_shared::credentials::Credentials {
            api_key: Some(made.api_key),
            retrieval_password: Some(made.retrieval_password),
        })
    };
    Ok(PullResult { config: customers::load_view(state, customer_id).await?, changes, created })
}
