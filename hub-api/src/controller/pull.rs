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

/// What the live config says at `path`: `None` when it lacks the key (the stored value stays),
/// `Some(None)` when its value is the template's (no override), else the overriding value.
fn taken<'a>(live: &'a Value, template: &Value, path: &[&str]) -> Option<Option<&'a Value>> {
    let found = path.iter().try_fold(live, |v, key| v.get(key))?;
    let default = path.iter().try_fold(template, |v, key| v.get(key));
    Some((default != Some(found) && !found.is_null()).then_some(found))
}

/// A text override: `""` keeps the template's value.
fn take_text(slot: &mut String, live: &Value, template: &Value, path: &[&str]) {
    match taken(live, template, path) {
        None => {}
        Some(None) => slot.clear(),
        Some(Some(value)) => {
            *slot = match value {
                Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            }
        }
    }
}

/// An optional override: `None` keeps the template's value; a value of the wrong type is left
/// as it was.
fn take<T>(slot: &mut Option<T>, live: &Value, template: &Value, path: &[&str], read: impl Fn(&Value) -> Option<T>) {
    match taken(live, template, path) {
        None => {}
        Some(None) => *slot = None,
        Some(Some(value)) => {
            if let Some(value) = read(value) {
                *slot = Some(value);
            }
        }
    }
}

/// `base` with the identity, tokens and overrides of a live controller config: a value equal
/// to the template's becomes no override, so the generated config gives the live one back.
/// Keys the live config lacks stay as they were.
pub fn fields_from_live(live: &Value, template: &Value, base: &ConfigFields) -> ConfigFields {
    let mut f = base.clone();
    let name = live.pointer("/customer/name").and_then(Value::as_str).map(str::trim).unwrap_or("");
    if !name.is_empty() {
        f.display_name = name.chars().take(DISPLAY_NAME_MAX).collect();
    }
    let text = |slot: &mut String, path: &[&str]| take_text(slot, live, template, path);
    text(&mut f.domain, &["customer", "domain"]);
    text(&mut f.contact_email, &["customer", "email"]);
    text(&mut f.identity.language, &["customer", "language"]);
    text(&mut f.identity.hostname, &["node", "hostname"]);
    text(&mut f.identity.timezone, &["node", "timezone"]);
    let t = &mut f.infrastructure;
    text(&mut t.cloudflare_tunnel_token, &["infrastructure", "cloudflare", "tunnel_token"]);
    text(&mut t.tailscale_auth_key, &["infrastructure", "tailscale", "auth_key"]);
    text(&mut t.dns_api_token, &["infrastructure", "dns", "api_token"]);
    text(&mut t.smtp_password, &["infrastructure", "smtp", "password"]);
    let l = &mut f.legacy_monitoring;
    text(&mut l.heartbeat_uuid, &["monitoring", "healthchecks", "heartbeat_uuid"]);
    text(&mut l.backup_uuid, &["monitoring", "healthchecks", "backup_uuid"]);
    text(&mut l.dbdump_uuid, &["monitoring", "healthchecks", "dbdump_uuid"]);
    let m = &mut f.monitoring;
    let percent = |v: &Value| v.as_u64().and_then(|p| u8::try_from(p).ok());
    let string = |v: &Value| v.as_str().map(str::to_string);
    take(&mut m.enabled, live, template, &["monitoring", "enabled"], Value::as_bool);
    take(&mut m.report_interval, live, template, &["monitoring", "report_interval"], string);
    take(&mut m.disk_warn_percent, live, template, &["monitoring", "disk_warn_percent"], percent);
    take(&mut m.disk_critical_percent, live, template, &["monitoring", "disk_critical_percent"], percent);
    take(&mut m.backup_deadline, live, template, &["monitoring", "backup_deadline"], string);
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
        match live.pointer("/customer/id").and_then(Value::as_str) {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template() -> Value {
        let yaml: serde_yaml::Value = serde_yaml::from_str(BUNDLED_TEMPLATE).unwrap();
        serde_json::to_value(yaml).unwrap()
    }

    #[test]
    fn identity_tokens_and_overrides_are_taken_and_template_values_are_not() {
        let base = ConfigFields { display_name: "old".into(), domain: "old.felhom.eu".into(), ..Default::default() };
        let live = json!({
            "customer": {"id": "kovacs", "name": " Kovács Anna ", "domain": "kovacs.felhom.eu", "language": "hu"},
            "node": {"hostname": "nas", "timezone": "Europe/Budapest"},
            "hub": {"api_key": "not taken", "url": "https://elsewhere"},
            "infrastructure": {"smtp": {"password": "smtp-pw"}, "dns": {"api_token": ""}},
            "monitoring": {"enabled": true, "disk_warn_percent": 70, "report_interval": "5m", "disk_critical_percent": 900},
        });
        let f = fields_from_live(&live, &template(), &base);
        assert_eq!(f.display_name, "Kovács Anna");
        assert_eq!(f.domain, "kovacs.felhom.eu");
        assert_eq!(f.identity.hostname, "nas");
        assert_eq!(f.identity.language, "", "the template's hu is no override");
        assert_eq!(f.identity.timezone, "", "the template's time zone is no override");
        assert_eq!(f.infrastructure.smtp_password, "smtp-pw");
        assert_eq!(f.monitoring.enabled, None, "the template's value");
        assert_eq!(f.monitoring.disk_warn_percent, Some(70));
        assert_eq!(f.monitoring.report_interval.as_deref(), Some("5m"));
        assert_eq!(f.monitoring.disk_critical_percent, None, "900 is no percent; left as it was");
        assert!(f.validate().is_ok());
    }

    #[test]
    fn missing_keys_keep_the_stored_values() {
        let mut base = ConfigFields { display_name: "Nagy".into(), ..Default::default() };
        base.identity.hostname = "box".into();
        base.monitoring.disk_warn_percent = Some(75);
        let f = fields_from_live(&json!({"customer": {"id": "nagy"}}), &template(), &base);
        assert_eq!(f, base);
    }
}
