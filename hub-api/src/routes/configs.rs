//! Customer configs, the operator's CRUD: `POST|GET /api/v1/configs`,
//! `GET|PUT|DELETE /api/v1/configs/{customer_id}`. The actions on one config (block, rotate,
//! reveal, …) are in `config_actions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hub_shared::config::{ConfigCreated, ConfigFields, ConfigList, CreateConfigRequest, CustomerConfig};
use hub_shared::ApiError;
use serde::Deserialize;

use crate::auth::Caller;
use crate::customers;
use crate::error::Result;
use crate::extract::{parse_json, ApiJson, ClientIp, CustomerId};
use crate::state::AppState;

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
    request.validate()?;
    let created = customers::insert_new(&state, &request.customer_id, &request.fields, "created", &ip).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// List every customer config.
#[utoipa::path(
    get, path = "/api/v1/configs", tag = "configs",
    security(("operator_session" = [])),
    responses(
        (status = 200, body = ConfigList),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_configs(State(state): State<AppState>, caller: Caller) -> Result<Json<ConfigList>> {
    caller.require_operator()?;
    let configs = customers::load_views(&state).await?;
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
    Ok(Json(customers::load_view(&state, &id).await?))
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
    fields.validate()?;
    customers::update(&state, &id, &fields, &ip).await?;
    Ok(Json(customers::load_view(&state, &id).await?))
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
    customers::delete(&state, &id, &ip).await?;
    Ok(Json(hub_shared::auth::Ok { ok: true }))
}
