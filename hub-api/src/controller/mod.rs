//! Acting on a customer's controller at the address its reports carry: the diff of the hub's
//! generated config against the live one, push, pull, and updates with their tracking. The
//! first address a customer reports is the one called; a different one in a later report waits
//! for the operator's acceptance ([`accept_address`]). Calls use the key the controller knows the
//! hub by: the customer's own API key (the hub's global key for a customer without one).

mod client;
#[cfg(test)]
mod client_tests;
mod pull;
mod updates;

use hub_shared::audit::AuditAction;
use hub_shared::config_diff::{self, ConfigDiff};
use hub_shared::controller::{ControllerAddress, PushResult};
use secrecy::{ExposeSecret, SecretString};

pub use client::{message_of, ControllerClient, ControllerError, Target, MAX_ANSWER_BYTES, TIMEOUT};
pub use pull::{fields_from_live, pull};
pub use updates::{
    latest_known_version, request_update, start_update, status_at as update_status_at, track_updates, REGISTRY_LATEST,
};

use crate::customer_secrets::{api_key_context, open_optional};
use crate::customers::{self, no_config, operator_audit};
use crate::error::{AppError, Result};
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::store::{ConfigRow, SecretsRow};

/// A customer's stored config with its secrets, when it has one.
pub type Stored = Option<(ConfigRow, SecretsRow)>;

/// The customer's controller as the hub calls it, and its stored config. 409 without an
/// accepted address or while a changed one waits for the operator.
pub async fn resolve(state: &AppState, customer_id: &str) -> Result<(Target, Stored), ControllerError> {
    let store = state.store();
    let (latest, row, secrets) =
        tokio::try_join!(store.latest_row(customer_id), store.config(customer_id), store.config_secrets(customer_id))?;
    let accepted = latest.as_ref().and_then(|l| l.accepted_controller_url.clone()).filter(|u| !u.trim().is_empty());
    // A first address that came with the global key waits for the operator as a change would.
    if let Some(pending) = latest.as_ref().and_then(|l| l.pending_controller_url()) {
        return Err(ControllerError::AddressPending { accepted, pending: pending.to_string() });
    }
    let Some(accepted) = accepted else { return Err(ControllerError::NoAddress(customer_id.to_string())) };
    let stored = row.zip(secrets);
    let own = match &stored {
        Some((_, secrets)) => {
            open_optional(state.cipher(), &api_key_context(customer_id), secrets.api_key_enc.as_deref())?
        }
        None => None,
    };
    let key = match own {
        Some(key) => SecretString::from(key),
        None => state.config().raw.api.report_api_key.clone(),
    };
    if key.expose_secret().is_empty() {
        return Err(ControllerError::NoKey(customer_id.to_string()));
    }
    Ok((Target::new(&accepted, key)?, stored))
}

/// The stored config or the 404 of a customer without one.
fn need_config(customer_id: &str, stored: Stored) -> Result<(ConfigRow, SecretsRow), ControllerError> {
    stored.ok_or_else(|| ControllerError::Hub(Box::new(no_config(customer_id))))
}

/// YAML text as a JSON value, for the diff.
fn yaml_value(yaml: &str) -> Result<serde_json::Value> {
    let value: serde_yaml::Value = serde_yaml::from_str(yaml).map_err(anyhow::Error::from)?;
    Ok(serde_json::to_value(value).map_err(anyhow::Error::from)?)
}

/// The hub's generated config against the controller's live one, secrets masked unless
/// `reveal`. 404 without a stored config.
pub async fn diff(state: &AppState, customer_id: &str, reveal: bool) -> Result<ConfigDiff, ControllerError> {
    let (target, stored) = resolve(state, customer_id).await?;
    let (row, secrets) = need_config(customer_id, stored)?;
    let ours = yaml_value(&customers::render_stored(state, &row, &secrets, false).await?)?;
    let live = state.controllers().get_config(&target).await?;
    Ok(config_diff::diff(&ours, &live, reveal))
}

/// The hub's generated config against the controller's live one, secrets masked.
pub async fn live_diff(state: &AppState, customer_id: &str) -> Result<ConfigDiff, ControllerError> {
    diff(state, customer_id, false).await
}

/// Audits an action's failure (the controller's or the address's; the hub's own errors are not
/// an outcome of the action) and turns it into the answer's error.
async fn audit_failure(
    state: &AppState,
    action: AuditAction,
    customer_id: &str,
    ip: &ClientIp,
    e: ControllerError,
) -> AppError {
    if !matches!(e, ControllerError::Hub(_)) {
        let audit = operator_audit(action, customer_id, format!("failed: {e}"), ip);
        if let Err(store) = state.store().audit(&audit).await {
            return store.into();
        }
    }
    e.into()
}

/// Audits an action on a controller with its outcome, and passes the outcome on.
async fn audited<T>(
    state: &AppState,
    action: AuditAction,
    customer_id: &str,
    ip: &ClientIp,
    outcome: Result<T, ControllerError>,
    summary: impl FnOnce(&T) -> String,
) -> Result<T> {
    match outcome {
        Ok(value) => {
            state.store().audit(&operator_audit(action, customer_id, summary(&value), ip)).await?;
            Ok(value)
        }
        Err(e) => Err(audit_failure(state, action, customer_id, ip, e).await),
    }
}

/// The operator's diff (audited; revealing secrets says so).
pub async fn diff_audited(state: &AppState, customer_id: &str, reveal: bool, ip: &ClientIp) -> Result<ConfigDiff> {
    let outcome = diff(state, customer_id, reveal).await;
    audited(state, AuditAction::ConfigDiff, customer_id, ip, outcome, |d| {
        let shown = if reveal { ", secrets revealed" } else { "" };
        format!("{} differences with the live config{shown}", d.len())
    })
    .await
}

/// Sends the generated controller.yaml (as `GET /api/v1/config/{id}` gives it) to the
/// controller's `POST /api/config/apply`, audited with the controller's answer.
pub async fn push(state: &AppState, customer_id: &str, ip: &ClientIp) -> Result<PushResult> {
    let outcome = async {
        let (target, stored) = resolve(state, customer_id).await?;
        let (row, secrets) = need_config(customer_id, stored)?;
        let yaml = customers::render_stored(state, &row, &secrets, false).await?;
        let answer = state.controllers().apply_config(&target, yaml).await?;
        Ok(PushResult {
            customer_id: customer_id.to_string(),
            controller_url: target.shown().to_string(),
            controller: answer,
        })
    }
    .await;
    audited(state, AuditAction::PushConfig, customer_id, ip, outcome, |p| {
        format!("config pushed to {}: HTTP {} {}", p.controller_url, p.controller.status, p.controller.message)
    })
    .await
}

/// Makes the address of the latest report the one the hub calls, audited with the old and the
/// new address. 404 for a customer that never reported, 409 when no change waits or the
/// report changed again meanwhile.
pub async fn accept_address(state: &AppState, customer_id: &str, ip: &ClientIp) -> Result<ControllerAddress> {
    let latest = state
        .store()
        .latest_row(customer_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("customer {customer_id:?} never reported")))?;
    let Some(pending) = latest.pending_controller_url() else {
        return Err(AppError::Conflict(format!("no controller address change of customer {customer_id:?} waits")));
    };
    let old = latest.accepted_controller_url.as_deref().unwrap_or("none");
    let summary = format!("controller address: {old} → {pending}");
    let audit = operator_audit(AuditAction::AcceptControllerAddress, customer_id, summary, ip);
    if !state.store().accept_controller_url(customer_id, pending, &audit).await? {
        return Err(AppError::Conflict("the reported controller address changed again; reload and retry".into()));
    }
    Ok(ControllerAddress { accepted: Some(pending.to_string()), pending: None })
}
