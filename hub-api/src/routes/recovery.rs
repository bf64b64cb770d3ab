//! What a customer (or a fresh node) fetches with the retrieval password:
//! `GET /api/v1/config/{customer_id}` (the generated controller.yaml) and
//! `GET /api/v1/recovery/{customer_id}` (that and the newest infra backup). The password check,
//! lock-outs and audit are in `crate::retrieval`.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_shared::infra::RecoveryBundle;
use hub_shared::ApiError;

use crate::customers::{self, now_ms};
use crate::error::Result;
use crate::extract::{ClientIp, CustomerId};
use crate::retrieval::{self, Refusal, Verified};
use crate::state::AppState;

async fn render_verified(state: &AppState, verified: &Verified) -> Result<String> {
    customers::render_stored(state, &verified.config, &verified.secrets, false).await
}

/// Download the customer's generated controller.yaml.
///
/// Auth: the customer's retrieval password in `X-Retrieval-Password` (UTF-8, or without
/// accents). Wrong passwords are limited per customer and per address with a growing lock-out
/// (429 with `Retry-After`, even for the right password until it ends).
#[utoipa::path(
    get, path = "/api/v1/config/{customer_id}", tag = "recovery",
    params(
        ("customer_id" = String, Path, description = "Customer id"),
        ("X-Retrieval-Password" = String, Header, description = "The customer's retrieval password"),
    ),
    security(("retrieval_password" = [])),
    responses(
        (status = 200, description = "The controller.yaml, as YAML text", content_type = "text/yaml", body = serde_json::Value),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 401, description = "No, or a wrong, retrieval password (or no such customer)", body = ApiError),
        (status = 429, description = "Locked out after repeated wrong passwords", body = ApiError),
    )
)]
pub async fn get_config_yaml(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CustomerId(id): CustomerId,
) -> Result<Response, Refusal> {
    let verified = retrieval::verify(&state, &id, &headers, ip, now_ms(), "controller config").await?;
    let yaml = render_verified(&state, &verified).await?;
    Ok(([(header::CONTENT_TYPE, "text/yaml; charset=utf-8")], yaml).into_response())
}

/// Everything needed to rebuild a customer's node: the generated controller.yaml and the newest
/// infra backup (`null` when none was pushed).
///
/// Auth and lock-out as for `GET /api/v1/config/{customer_id}`.
#[utoipa::path(
    get, path = "/api/v1/recovery/{customer_id}", tag = "recovery",
    params(
        ("customer_id" = String, Path, description = "Customer id"),
        ("X-Retrieval-Password" = String, Header, description = "The customer's retrieval password"),
    ),
    security(("retrieval_password" = [])),
    responses(
        (status = 200, body = RecoveryBundle),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 401, description = "No, or a wrong, retrieval password (or no such customer)", body = ApiError),
        (status = 429, description = "Locked out after repeated wrong passwords", body = ApiError),
    )
)]
pub async fn get_recovery(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CustomerId(id): CustomerId,
) -> Result<Json<RecoveryBundle>, Refusal> {
    let verified = retrieval::verify(&state, &id, &headers, ip, now_ms(), "recovery bundle").await?;
    let config_yaml = render_verified(&state, &verified).await?;
    let infra_backup = customers::load_backup(&state, &id, None).await?;
    Ok(Json(RecoveryBundle { customer_id: id, config_yaml, has_infra_backup: infra_backup.is_some(), infra_backup }))
}
