//! Customer management: configs and their actions (block, rotate, set, reveal, preview, create from
//! a report, clear a recovery lock-out), infra backup versions and the audit log.

use gloo_net::http::Request;
use hub_shared::audit::AuditPage;
use hub_shared::config::{ConfigCreated, ConfigFields, CreateConfigRequest, CustomerConfig};
use hub_shared::config_diff::{ConfigDiff, DiffQuery};
use hub_shared::controller::{ControllerAddress, PullResult, PushResult, UpdateRequest, UpdateStarted};
use hub_shared::credentials::{Credentials, RevealedCredentials, SetCredentials};
use hub_shared::infra::InfraBackupVersions;
use hub_shared::page::PageQuery;
use hub_shared::ApiError;

use super::{fetch, send, with_csrf, with_query, On401};

/// `/api/v1/configs/{id}`, the id checked with the same rule as the server.
fn config_path(id: &str) -> Result<String, ApiError> {
    hub_shared::validate::customer_id(id).map_err(|m| ApiError::new("invalid_field", m))?;
    Ok(format!("/api/v1/configs/{id}"))
}

/// A `POST` without a body to one of a config's actions.
async fn post_action<T: serde::de::DeserializeOwned>(id: &str, action: &str) -> Result<T, ApiError> {
    let url = format!("{}/{action}", config_path(id)?);
    send(with_csrf(Request::post(&url)).build(), On401::SignIn).await
}

/// `POST /api/v1/configs`: the answer carries the credentials, this once.
pub async fn create_config(request: &CreateConfigRequest) -> Result<ConfigCreated, ApiError> {
    send(with_csrf(Request::post("/api/v1/configs")).json(request), On401::SignIn).await
}

/// `GET /api/v1/configs/{id}`
pub async fn get_config(id: &str) -> Result<CustomerConfig, ApiError> {
    send(Request::get(&config_path(id)?).build(), On401::SignIn).await
}

/// `PUT /api/v1/configs/{id}`
pub async fn update_config(id: &str, fields: &ConfigFields) -> Result<CustomerConfig, ApiError> {
    send(with_csrf(Request::put(&config_path(id)?)).json(fields), On401::SignIn).await
}

/// `DELETE /api/v1/configs/{id}`
pub async fn delete_config(id: &str) -> Result<(), ApiError> {
    let _: hub_shared::auth::Ok = send(with_csrf(Request::delete(&config_path(id)?)).build(), On401::SignIn).await?;
    Ok(())
}

/// `POST /api/v1/configs/{id}/block`
pub async fn block_config(id: &str) -> Result<CustomerConfig, ApiError> {
    post_action(id, "block").await
}

/// `POST /api/v1/configs/{id}/unblock`
pub async fn unblock_config(id: &str) -> Result<CustomerConfig, ApiError> {
    post_action(id, "unblock").await
}

/// `POST /api/v1/configs/{id}/rotate-api-key`
pub async fn rotate_api_key(id: &str) -> Result<Credentials, ApiError> {
    post_action(id, "rotate-api-key").await
}

/// `POST /api/v1/configs/{id}/rotate-retrieval-password`
pub async fn rotate_retrieval_password(id: &str) -> Result<Credentials, ApiError> {
    post_action(id, "rotate-retrieval-password").await
}

/// `PUT /api/v1/configs/{id}/credentials`: set the key and/or password to given values (audited)
pub async fn set_credentials(id: &str, given: &SetCredentials) -> Result<CustomerConfig, ApiError> {
    let url = format!("{}/credentials", config_path(id)?);
    send(with_csrf(Request::put(&url)).json(given), On401::SignIn).await
}

/// `POST /api/v1/configs/{id}/reveal` (audited)
pub async fn reveal_credentials(id: &str) -> Result<RevealedCredentials, ApiError> {
    post_action(id, "reveal").await
}

/// `POST /api/v1/configs/{id}/from-report`
pub async fn create_config_from_report(id: &str) -> Result<ConfigCreated, ApiError> {
    post_action(id, "from-report").await
}

/// `GET /api/v1/configs/{id}/preview`: the generated controller.yaml, secrets masked.
pub async fn preview_config(id: &str) -> Result<String, ApiError> {
    let url = format!("{}/preview", config_path(id)?);
    fetch(Request::get(&url).build(), On401::SignIn).await?.text().await.map_err(super::not_understood)
}

/// `DELETE /api/v1/configs/{id}/recovery-lockout`
pub async fn clear_recovery_lockout(id: &str) -> Result<CustomerConfig, ApiError> {
    let url = format!("{}/recovery-lockout", config_path(id)?);
    send(with_csrf(Request::delete(&url)).build(), On401::SignIn).await
}

/// `GET /api/v1/infra-backup/{id}/versions`, newest first.
pub async fn list_infra_backups(id: &str) -> Result<InfraBackupVersions, ApiError> {
    hub_shared::validate::customer_id(id).map_err(|m| ApiError::new("invalid_field", m))?;
    send(Request::get(&format!("/api/v1/infra-backup/{id}/versions")).build(), On401::SignIn).await
}

/// `GET /api/v1/audit?limit=&before=`, newest first.
pub async fn list_audit(page: PageQuery) -> Result<AuditPage, ApiError> {
    send(with_query(Request::get("/api/v1/audit"), &page).build(), On401::SignIn).await
}

/// `POST /api/v1/configs/{id}/push`: the generated config to the controller (audited).
pub async fn push_config(id: &str) -> Result<PushResult, ApiError> {
    post_action(id, "push").await
}

/// `GET /api/v1/configs/{id}/diff`: the hub's config against the controller's live one.
pub async fn diff_config(id: &str, reveal: bool) -> Result<ConfigDiff, ApiError> {
    let url = format!("{}/diff", config_path(id)?);
    send(with_query(Request::get(&url), &DiffQuery { reveal }).build(), On401::SignIn).await
}

/// `POST /api/v1/configs/{id}/pull`: the controller's live config into the stored one.
pub async fn pull_config(id: &str) -> Result<PullResult, ApiError> {
    post_action(id, "pull").await
}

/// `POST /api/v1/configs/{id}/update`: the controller updates itself to `version`, or to the
/// newest the registry watch knows.
pub async fn update_controller(id: &str, version: Option<String>) -> Result<UpdateStarted, ApiError> {
    let url = format!("{}/update", config_path(id)?);
    send(with_csrf(Request::post(&url)).json(&UpdateRequest { version }), On401::SignIn).await
}

/// `POST /api/v1/configs/{id}/controller-address/accept`
pub async fn accept_controller_address(id: &str) -> Result<ControllerAddress, ApiError> {
    post_action(id, "controller-address/accept").await
}
