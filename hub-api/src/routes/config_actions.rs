//! Actions on one customer config: block and unblock, rotate the API key or the retrieval
//! password or set them to given values, reveal the credentials, preview the generated YAML, create a config from a manual
//! customer's latest report, and clear a recovery lock-out. Every action is audited.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_shared::audit::AuditAction;
use hub_shared::config::{ConfigCreated, ConfigFields, CustomerConfig};
use hub_shared::credentials::{setup_commands, Credentials, RevealedCredentials, SetCredentials};
use hub_shared::validate;
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::customer_secrets::{api_key_context, open_optional, retrieval_password_context};
use crate::customers::{self, no_config, operator_audit, ConfigAction};
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ClientIp, CustomerId};
use crate::state::AppState;

/// Block a customer: hidden from the dashboard, no notifications, reports still stored, and the
/// report answer says `customer_blocked: true`.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/block", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = CustomerConfig),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn block_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<CustomerConfig>> {
    caller.require_operator()?;
    customers::run_action(&state, &id, ConfigAction::Block, &ip).await?;
    Ok(Json(customers::load_view(&state, &id).await?))
}

/// Unblock a customer.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/unblock", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = CustomerConfig),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn unblock_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<CustomerConfig>> {
    caller.require_operator()?;
    customers::run_action(&state, &id, ConfigAction::Unblock, &ip).await?;
    Ok(Json(customers::load_view(&state, &id).await?))
}

/// Replace the customer's API key. The old key stops working at once; the new one is in the
/// answer, this once.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/rotate-api-key", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "`api_key` is set", body = Credentials),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn rotate_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<Credentials>> {
    caller.require_operator()?;
    Ok(Json(customers::run_action(&state, &id, ConfigAction::RotateApiKey, &ip).await?))
}

/// Replace the customer's retrieval password; the new one is in the answer, this once.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/rotate-retrieval-password", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "`retrieval_password` is set", body = Credentials),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn rotate_retrieval_password(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<Credentials>> {
    caller.require_operator()?;
    Ok(Json(customers::run_action(&state, &id, ConfigAction::RotateRetrievalPassword, &ip).await?))
}

/// Set the customer's API key and/or retrieval password to given values, such as the ones the
/// original hub issued, so controllers in the field keep working after the switch. Set values
/// are sealed and checked exactly like generated ones; the request is audited, its values never
/// logged. Keys shorter than 24 characters are refused.
#[utoipa::path(
    put, path = "/api/v1/configs/{customer_id}/credentials", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    request_body = SetCredentials,
    security(("operator_session" = [])),
    responses(
        (status = 200, body = CustomerConfig),
        (status = 400, description = "Malformed id or JSON", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
        (status = 409, description = "Another customer has this API key", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "Neither value sent, a key shorter than 24 characters, the global key, or a weak password", body = ApiError),
    )
)]
pub async fn set_credentials(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
    body: ApiJson<SetCredentials>,
) -> Result<Json<CustomerConfig>> {
    caller.require_operator()?;
    customers::set_credentials(&state, &id, &body.value, &ip).await?;
    Ok(Json(customers::load_view(&state, &id).await?))
}

/// Show the customer's API key and retrieval password, with the setup commands filled in.
/// Written to the audit log.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/reveal", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = RevealedCredentials),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn reveal_credentials(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<RevealedCredentials>> {
    caller.require_operator()?;
    let secrets = state.store().config_secrets(&id).await?.ok_or_else(|| no_config(&id))?;
    let cipher = state.cipher();
    let api_key = open_optional(cipher, &api_key_context(&id), secrets.api_key_enc.as_deref())?;
    let password = open_optional(cipher, &retrieval_password_context(&id), secrets.retrieval_password_enc.as_deref())?;
    let audit = operator_audit(AuditAction::Reveal, &id, "API key and retrieval password shown".into(), &ip);
    state.store().audit(&audit).await?;
    let commands = setup_commands(hub_url(&state), &id, api_key.as_deref(), password.as_deref());
    Ok(Json(RevealedCredentials {
        customer_id: id,
        credentials: Credentials { api_key, retrieval_password: password },
        setup_commands: commands,
    }))
}

fn hub_url(state: &AppState) -> &str {
    let url = state.config().raw.server.public_url.as_str();
    if url.is_empty() {
        "https://hub.felhom.eu"
    } else {
        url
    }
}

/// The generated controller.yaml with the API key and session secret masked.
#[utoipa::path(
    get, path = "/api/v1/configs/{customer_id}/preview", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "The controller.yaml with the API key and session secret masked, as YAML text", content_type = "text/yaml", body = serde_json::Value),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn preview_config(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
) -> Result<Response> {
    caller.require_operator()?;
    let (row, secrets) = tokio::try_join!(state.store().config(&id), state.store().config_secrets(&id))?;
    let (row, secrets) = row.zip(secrets).ok_or_else(|| no_config(&id))?;
    let yaml = customers::render_stored(&state, &row, &secrets, true).await?;
    Ok(([(header::CONTENT_TYPE, "text/yaml; charset=utf-8")], yaml).into_response())
}

/// Create a config for a report-only (manual) customer, filled from its latest report.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/from-report", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 201, description = "Created; the credentials are shown only now", body = ConfigCreated),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "The customer never reported", body = ApiError),
        (status = 409, description = "A config exists already", body = ApiError),
    )
)]
pub async fn create_config_from_report(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<(StatusCode, Json<ConfigCreated>)> {
    caller.require_operator()?;
    if state.store().config(&id).await?.is_some() {
        return Err(AppError::Conflict(format!("a config for customer {id:?} already exists")));
    }
    let (latest, _) = state
        .store()
        .latest_report(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("customer {id:?} never reported")))?;
    let fields = fields_from_report(&id, latest.hostname.as_deref(), latest.controller_url.as_deref());
    let created = customers::insert_new(&state, &id, &fields, "created from the latest report", &ip).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Config fields guessed from a report: the hostname as name and node hostname, and the
/// controller URL's host as domain when it is a domain name.
pub fn fields_from_report(customer_id: &str, hostname: Option<&str>, controller_url: Option<&str>) -> ConfigFields {
    let mut fields = ConfigFields { display_name: customer_id.to_string(), ..Default::default() };
    if let Some(host) = hostname.map(str::trim).filter(|h| !h.is_empty()) {
        fields.display_name = host.chars().take(hub_shared::config::DISPLAY_NAME_MAX).collect();
        let label = host.to_ascii_lowercase();
        if validate::hostname_label(&label).is_ok() {
            fields.identity.hostname = label;
        }
    }
    let host = controller_url
        .and_then(|u| u.split("://").nth(1))
        .and_then(|rest| rest.split(['/', ':']).next())
        .map(str::to_ascii_lowercase);
    if let Some(host) = host {
        let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.chars().all(|c| c.is_ascii_digit() || c == '.');
        if !is_ip && validate::domain(&host).is_ok() {
            fields.domain = host;
        }
    }
    fields
}

/// Clear a customer's recovery lock-out: the customer's failed attempts and those of every
/// address whose last failure was against this customer.
#[utoipa::path(
    delete, path = "/api/v1/configs/{customer_id}/recovery-lockout", tag = "configs",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = CustomerConfig),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
    )
)]
pub async fn clear_recovery_lockout(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<CustomerConfig>> {
    caller.require_operator()?;
    state.store().config(&id).await?.ok_or_else(|| no_config(&id))?;
    let cleared = state.store().clear_customer_lockout(&id).await?;
    let audit = operator_audit(AuditAction::ClearLockout, &id, format!("{cleared} lock-out records cleared"), &ip);
    state.store().audit(&audit).await?;
    Ok(Json(customers::load_view(&state, &id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_fields_make_a_valid_config() {
        let f = fields_from_report("kovacs", Some("Kovacs-NAS"), Some("https://kovacs.felhom.eu:8090/api"));
        assert_eq!(f.display_name, "Kovacs-NAS");
        assert_eq!(f.identity.hostname, "kovacs-nas");
        assert_eq!(f.domain, "kovacs.felhom.eu");
        assert!(f.validate().is_ok());
        let f = fields_from_report("nagy", None, Some("http://10.0.0.5:8090"));
        assert_eq!((f.display_name.as_str(), f.domain.as_str()), ("nagy", ""));
        assert!(f.validate().is_ok());
    }
}
