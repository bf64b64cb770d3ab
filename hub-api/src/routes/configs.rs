//! Customer configs, the operator's CRUD: `POST|GET /api/v1/configs`,
//! `GET|PUT|DELETE /api/v1/configs/{customer_id}`. The actions on one config (block, rotate,
//! reveal, …) are in `config_actions`.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hub_shared::audit::AuditAction;
use hub_shared::config::{
    ConfigCreated, ConfigFields, ConfigList, ConfigStatus, CreateConfigRequest, CustomerConfig, Identity,
    LegacyMonitoring, MonitoringOverrides, RecoveryLockout,
};
use hub_shared::ApiError;
use serde::{Deserialize, Serialize};

use super::to_time;
use crate::auth::Caller;
use crate::customer_secrets::{new_customer_secrets, open_tokens, seal_tokens};
use crate::error::{AppError, Result};
use crate::extract::{parse_json, ApiJson, CustomerId};
use crate::retrieval::ClientIp;
use crate::state::AppState;
use crate::store::{AttemptRow, AuditRecord, ConfigRow, ConfigWrite};

/// The non-secret overrides kept in `customer_configs.config_json`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredOverrides {
    identity: Identity,
    monitoring: MonitoringOverrides,
    legacy_monitoring: LegacyMonitoring,
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An audit entry for an operator's action.
pub(crate) fn operator_audit(action: AuditAction, customer_id: &str, summary: String, ip: &ClientIp) -> AuditRecord {
    AuditRecord {
        at: now_ms(),
        actor: "operator",
        action: action.as_str(),
        customer_id: Some(customer_id.to_string()),
        summary,
        client_ip: Some(ip.0.to_string()),
    }
}

/// Turns field problems into the API's 422.
pub(crate) fn invalid(problem: hub_shared::validate::FieldError) -> AppError {
    AppError::Invalid(problem.field, problem.message)
}

/// The row to write for `fields`, with the tokens sealed.
pub(crate) fn to_write(state: &AppState, customer_id: &str, fields: &ConfigFields) -> ConfigWrite {
    let overrides = StoredOverrides {
        identity: fields.identity.clone(),
        monitoring: fields.monitoring.clone(),
        legacy_monitoring: fields.legacy_monitoring.clone(),
    };
    ConfigWrite {
        customer_id: customer_id.to_string(),
        display_name: fields.display_name.trim().to_string(),
        domain: fields.domain.clone(),
        contact_email: fields.contact_email.clone(),
        status: fields.status.as_str().to_string(),
        config_json: serde_json::to_string(&overrides).expect("overrides serialize"),
        infra_tokens_enc: seal_tokens(state.cipher(), customer_id, &fields.infrastructure),
    }
}

/// A stored config's fields, tokens opened.
pub(crate) fn fields_of(state: &AppState, row: &ConfigRow, tokens_enc: Option<&str>) -> Result<ConfigFields> {
    let overrides: StoredOverrides = serde_json::from_str(&row.config_json).unwrap_or_default();
    Ok(ConfigFields {
        display_name: row.display_name.clone(),
        domain: row.domain.clone(),
        contact_email: row.contact_email.clone(),
        status: ConfigStatus::parse(&row.status).unwrap_or_default(),
        identity: overrides.identity,
        infrastructure: open_tokens(state.cipher(), &row.customer_id, tokens_enc)?,
        monitoring: overrides.monitoring,
        legacy_monitoring: overrides.legacy_monitoring,
    })
}

fn lockout_of(attempts: Option<&AttemptRow>, now: i64) -> RecoveryLockout {
    attempts.map_or_else(RecoveryLockout::default, |a| RecoveryLockout {
        failures: a.failures.clamp(0, u32::MAX as i64) as u32,
        locked_until: (a.locked_until > now).then(|| to_time(a.locked_until)),
    })
}

/// One config as the operator API shows it.
pub(crate) async fn load_view(state: &AppState, customer_id: &str) -> Result<CustomerConfig> {
    let store = state.store();
    let subject = crate::store::customer_subject(customer_id);
    let (row, secrets, reported, versions, attempts) = tokio::try_join!(
        store.config(customer_id),
        store.config_secrets(customer_id),
        store.has_reported(customer_id),
        store.infra_versions(customer_id),
        store.attempts(&subject),
    )?;
    let row = row.ok_or_else(|| AppError::NotFound(format!("no config for customer {customer_id:?}")))?;
    let tokens = secrets.and_then(|s| s.infra_tokens_enc);
    Ok(CustomerConfig {
        customer_id: row.customer_id.clone(),
        fields: fields_of(state, &row, tokens.as_deref())?,
        created_at: to_time(row.created_at),
        updated_at: to_time(row.updated_at),
        has_reports: reported,
        infra_backups: versions.len() as u32,
        recovery_lockout: lockout_of(attempts.as_ref(), now_ms()),
    })
}

/// What changed between two versions of a config, for the audit log. Tokens are named, never
/// shown.
pub(crate) fn change_summary(old: &ConfigFields, new: &ConfigFields) -> String {
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

/// Create a customer config.
///
/// Generates the customer's API key (`fh_…`) and retrieval password (four Hungarian words);
/// the answer carries both, this once. Audited.
#[utoipa::path(
    post, path = "/api/v1/configs", tag = "configs",
    request_body = CreateConfigRequest,
    security(("operator_session" = [])),
    responses(
        (status = 201, description = "Created; the credentials are shown only now", body = ConfigCreated),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 409, description = "A config with this customer_id exists", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is invalid; the message names it", body = ApiError),
    )
)]
pub async fn create_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    body: ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<ConfigCreated>)> {
    caller.require_operator()?;
    // Read in two parts so a wrong type names its field (`#[serde(flatten)]` would lose the path).
    #[derive(Deserialize)]
    struct Id {
        customer_id: String,
    }
    let Id { customer_id } = parse_json(&body.raw)?;
    let request = CreateConfigRequest { customer_id, fields: parse_json(&body.raw)? };
    request.validate().map_err(invalid)?;
    let created = insert_new(&state, &request.customer_id, &request.fields, "created", &ip).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Stores a new config with fresh credentials and answers with them.
pub(crate) async fn insert_new(
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
    let summary = format!("{how}: {}, status {}", write.display_name, write.status);
    let audit = operator_audit(AuditAction::Create, customer_id, summary, ip);
    state.store().create_config(&write, &row, now_ms(), &audit).await.map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            AppError::Conflict(format!("a config for customer {customer_id:?} already exists"))
        }
        _ => e.into(),
    })?;
    Ok(ConfigCreated {
        config: load_view(state, customer_id).await?,
        api_key: credentials.api_key.unwrap_or_default(),
        retrieval_password: credentials.retrieval_password.unwrap_or_default(),
    })
}

/// List every customer config.
#[utoipa::path(
    get, path = "/api/v1/configs", tag = "configs",
    security(("operator_session" = [])),
    responses(
        (status = 200, body = ConfigList),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_configs(State(state): State<AppState>, caller: Caller) -> Result<Json<ConfigList>> {
    caller.require_operator()?;
    let store = state.store();
    let (rows, tokens, latest, counts, attempts) = tokio::try_join!(
        store.configs(),
        store.configs_with_tokens(),
        store.latest_reports(),
        store.infra_counts(),
        store.customer_attempts(),
    )?;
    let tokens: HashMap<String, Option<String>> = tokens.into_iter().collect();
    let reported: std::collections::HashSet<&str> = latest.iter().map(|l| l.customer_id.as_str()).collect();
    let counts: HashMap<String, i64> = counts.into_iter().collect();
    let attempts: HashMap<String, AttemptRow> = attempts.into_iter().map(|a| (a.subject.clone(), a)).collect();
    let now = now_ms();
    let configs = rows
        .iter()
        .map(|row| {
            let id = &row.customer_id;
            Ok(CustomerConfig {
                customer_id: id.clone(),
                fields: fields_of(&state, row, tokens.get(id).and_then(|t| t.as_deref()))?,
                created_at: to_time(row.created_at),
                updated_at: to_time(row.updated_at),
                has_reports: reported.contains(id.as_str()),
                infra_backups: counts.get(id).copied().unwrap_or(0) as u32,
                recovery_lockout: lockout_of(attempts.get(&crate::store::customer_subject(id)), now),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Json(ConfigList { configs }))
}

/// One customer config (without its credentials; see reveal).
#[utoipa::path(
    get, path = "/api/v1/configs/{customer_id}", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = CustomerConfig),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn get_config(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
) -> Result<Json<CustomerConfig>> {
    caller.require_operator()?;
    Ok(Json(load_view(&state, &id).await?))
}

/// Replace a customer config's fields. Credentials stay; audited with what changed.
#[utoipa::path(
    put, path = "/api/v1/configs/{customer_id}", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    request_body = ConfigFields,
    security(("operator_session" = [])),
    responses(
        (status = 200, body = CustomerConfig),
        (status = 400, description = "Malformed id or JSON", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is invalid; the message names it", body = ApiError),
    )
)]
pub async fn update_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
    body: ApiJson<ConfigFields>,
) -> Result<Json<CustomerConfig>> {
    caller.require_operator()?;
    let fields = body.value;
    fields.validate().map_err(invalid)?;
    let old = load_view(&state, &id).await?;
    let summary = change_summary(&old.fields, &fields);
    let audit = operator_audit(AuditAction::Update, &id, summary, &ip);
    if !state.store().update_config(&to_write(&state, &id, &fields), now_ms(), &audit).await? {
        return Err(AppError::NotFound(format!("no config for customer {id:?}")));
    }
    Ok(Json(load_view(&state, &id).await?))
}

/// Delete a customer config. Its reports and infra backups stay: a controller that keeps
/// reporting shows up as a report-only (manual) customer. Audited.
#[utoipa::path(
    delete, path = "/api/v1/configs/{customer_id}", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = hub_shared::auth::Ok),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn delete_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<hub_shared::auth::Ok>> {
    caller.require_operator()?;
    let old =
        state.store().config(&id).await?.ok_or_else(|| AppError::NotFound(format!("no config for customer {id:?}")))?;
    let audit = operator_audit(AuditAction::Delete, &id, format!("deleted config of {}", old.display_name), &ip);
    if !state.store().delete_config(&id, &audit).await? {
        return Err(AppError::NotFound(format!("no config for customer {id:?}")));
    }
    Ok(Json(hub_shared::auth::Ok { ok: true }))
}
