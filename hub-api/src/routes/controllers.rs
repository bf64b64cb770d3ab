//! Acting on a customer's controller: push the generated config, compare it with the live one,
//! pull the live one into the stored config, ask for an update, and accept a changed controller
//! address. Operator only, with CSRF for the changes; every action is audited with its outcome.
//! The calls and their errors are in [`crate::controller`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use hub_shared::config_diff::{ConfigDiff, DiffQuery};
use hub_shared::controller::{ControllerAddress, PullResult, PushResult, UpdateRequest, UpdateStarted};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::controller;
use crate::error::{AppError, Result};
use crate::extract::{parse_json, require_json, ApiQuery, ClientIp, CustomerId};
use crate::state::AppState;

/// Send the generated controller.yaml (the same as `GET /api/v1/config/{customer_id}` gives) to
/// the controller's `POST /api/config/apply`; the answer says what the controller said.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/push", tag = "controllers",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "The controller accepted the config", body = PushResult),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
        (status = 409, description = "No controller address reported, or a changed one not accepted yet", body = ApiError),
        (status = 502, description = "The controller refused the connection, timed out, failed TLS, answered an error (its message is in ours) or an answer the hub cannot use", body = ApiError),
    )
)]
pub async fn push_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<PushResult>> {
    caller.require_operator()?;
    Ok(Json(controller::push(&state, &id, &ip).await?))
}

/// The hub's generated config against the controller's live `GET /api/config`, by key path
/// (order of keys and volatile keys ignored, lists compared by value). Secrets are masked in
/// both columns unless `reveal=true`; the diff is audited, revealing says so.
#[utoipa::path(
    get, path = "/api/v1/configs/{customer_id}/diff", tag = "controllers",
    params(("customer_id" = String, Path, description = "Customer id"), DiffQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = ConfigDiff),
        (status = 400, description = "Malformed id or query", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
        (status = 404, description = "No config for this customer", body = ApiError),
        (status = 409, description = "No controller address reported, or a changed one not accepted yet", body = ApiError),
        (status = 502, description = "The controller could not be reached or answered an error or an unreadable config", body = ApiError),
    )
)]
pub async fn diff_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> Result<Json<ConfigDiff>> {
    caller.require_operator()?;
    Ok(Json(controller::diff_audited(&state, &id, query.reveal, &ip).await?))
}

/// Read the controller's live config and take its identity, infrastructure tokens and
/// monitoring overrides into the stored config (a customer without one gets one, with new
/// credentials shown this once); the answer has what changed, tokens masked.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/pull", tag = "controllers",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = PullResult),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 409, description = "No controller address reported, or a changed one not accepted yet", body = ApiError),
        (status = 502, description = "The controller could not be reached, answered an error, or its config is unreadable, for another customer, or has values the hub refuses", body = ApiError),
    )
)]
pub async fn pull_config(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<PullResult>> {
    caller.require_operator()?;
    Ok(Json(controller::pull(&state, &id, &ip).await?))
}

/// Tell the controller to update itself (`POST /api/update`) to `version`, by default the
/// newest the registry watch knows. The customer then shows "updating" until a report carries
/// the version, or "failed" after `controllers.update_timeout` (a `controller_update_failed`
/// event). The body is optional.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/update", tag = "controllers",
    params(("customer_id" = String, Path, description = "Customer id")),
    request_body(content = Option<UpdateRequest>, description = "Optional; `{}` or no body updates to the newest known version"),
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "The controller accepted the update", body = UpdateStarted),
        (status = 400, description = "Malformed id or JSON", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 409, description = "No version given and none known from the registry, no controller address reported, or a changed one not accepted yet", body = ApiError),
        (status = 415, description = "A body that is not JSON", body = ApiError),
        (status = 422, description = "A malformed version", body = ApiError),
        (status = 502, description = "The controller could not be reached or refused the update (its message is in ours)", body = ApiError),
    )
)]
pub async fn update_controller(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<UpdateStarted>> {
    caller.require_operator()?;
    let request: UpdateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        UpdateRequest::default()
    } else {
        require_json(&headers)?;
        parse_json(&body)?
    };
    let version = match request.version.map(|v| v.trim().to_string()) {
        Some(version) => version,
        None => controller::latest_known_version(&state).await?.ok_or_else(|| {
            AppError::Conflict(
                "no version given, and the registry watch has not seen one yet; send {\"version\": \"x.y.z\"}".into(),
            )
        })?,
    };
    let started = controller::start_update(&state, &id, &version, "operator", Some(&ip), chrono::Utc::now()).await?;
    Ok(Json(started))
}

/// Accept the controller address of the customer's latest report, which differs from the one
/// the hub calls; audited with the old and the new address.
#[utoipa::path(
    post, path = "/api/v1/configs/{customer_id}/controller-address/accept", tag = "controllers",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = ControllerAddress),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "The customer never reported", body = ApiError),
        (status = 409, description = "No address change waits, or the reported address changed again", body = ApiError),
    )
)]
pub async fn accept_controller_address(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
) -> Result<Json<ControllerAddress>> {
    caller.require_operator()?;
    Ok(Json(controller::accept_address(&state, &id, &ip).await?))
}
