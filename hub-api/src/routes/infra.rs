//! Infra backups: `POST /api/v1/infra-backup` (a controller pushes its snapshot; up to 10 MiB),
//! `GET /api/v1/infra-backup/{customer_id}` (the newest, or `?version=`) and the list of kept
//! versions. Snapshots are sealed at rest; the last ten per customer are kept.

use axum::extract::{Query, State};
use axum::Json;
use hub_shared::audit::AuditAction;
use hub_shared::infra::{
    InfraBackup, InfraBackupAccepted, InfraBackupIn, InfraBackupVersion, InfraBackupVersions, KEPT_VERSIONS,
};
use hub_shared::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::customer_secrets::infra_backup_context;
use crate::customers::{load_backup, now_ms, operator_audit};
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ClientIp, CustomerId};
use crate::state::AppState;
use crate::store::{AuditRecord, StoreError};

/// The body limit of `POST /api/v1/infra-backup` (the rest of the API allows 1 MiB).
pub const INFRA_BODY_LIMIT: usize = hub_shared::infra::MAX_BACKUP_BYTES;

/// Push an infrastructure snapshot.
///
/// Validated (base64 decodes, disk UUIDs are UUIDs, mount points and bind mounts are absolute
/// paths without whitespace or control characters, mount options are comma lists of
/// `[A-Za-z0-9_=.-]`, labels have no control characters, at most 10 MiB), sealed and kept as a
/// new version; the hub keeps the last ten per customer, so one bad push cannot destroy a good one.
#[utoipa::path(
    post, path = "/api/v1/infra-backup", tag = "recovery",
    request_body = InfraBackupIn,
    security(("controller_key" = []), ("global_key" = [])),
    responses(
        (status = 200, description = "Stored", body = InfraBackupAccepted),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 401, description = "Missing or unknown API key", body = ApiError),
        (status = 403, description = "Another customer's key, or not a controller", body = ApiError),
        (status = 413, description = "Body over 10 MiB", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is invalid; the message names it", body = ApiError),
    )
)]
pub async fn post_infra_backup(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<InfraBackupIn>,
) -> Result<Json<InfraBackupAccepted>> {
    let backup = body.value;
    backup.validate()?;
    caller.require_controller_for(&backup.customer_id)?;
    let id = &backup.customer_id;
    let json = serde_json::to_string(&backup).map_err(|e| AppError::Internal(e.into()))?;
    let size = body.raw.len() as i64;
    let now = now_ms();
    // Two pushes at once may pick the same number: the second retries with the next one.
    let mut attempt = 0;
    loop {
        let version = state.store().next_infra_version(id).await?;
        let sealed = state.cipher().seal_str(&infra_backup_context(id, version), &json);
        match state.store().insert_infra_backup(id, version, now, size, &sealed, KEPT_VERSIONS as i64).await {
            Ok(kept) => return Ok(Json(InfraBackupAccepted { ok: true, version, kept: kept as u32 })),
            Err(StoreError::Conflict(_)) if attempt < 3 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQuery {
    /// A kept version; the newest when absent.
    pub version: Option<i64>,
}

/// The newest infra backup of a customer (or `?version=`), restic passwords included.
///
/// For the customer's own controller key or the operator (audited); the global key only when
/// `api.global_key_reads_backups: true` (audited too).
#[utoipa::path(
    get, path = "/api/v1/infra-backup/{customer_id}", tag = "recovery",
    params(("customer_id" = String, Path, description = "Customer id"), VersionQuery),
    security(("controller_key" = []), ("global_key" = []), ("operator_session" = [])),
    responses(
        (status = 200, body = InfraBackup),
        (status = 400, description = "Malformed id or version", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Another customer's key, or the global key while api.global_key_reads_backups is off", body = ApiError),
        (status = 404, description = "No such backup", body = ApiError),
    )
)]
pub async fn get_infra_backup(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    CustomerId(id): CustomerId,
    query: Result<Query<VersionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<InfraBackup>> {
    caller.require_backup_read(&id, state.config().raw.api.global_key_reads_backups)?;
    let Query(query) = query.map_err(|e| AppError::BadRequest(format!("version: {}", e.body_text())))?;
    let backup = load_backup(&state, &id, query.version).await?.ok_or_else(|| match query.version {
        Some(v) => AppError::NotFound(format!(
            "customer {id:?} has no infra backup version {v} (the last {KEPT_VERSIONS} are kept)"
        )),
        None => AppError::NotFound(format!("customer {id:?} has no infra backup")),
    })?;
    let actor = match caller {
        Caller::Operator { .. } => Some("operator"),
        Caller::Global => Some("global_key"),
        Caller::Controller { .. } => None,
    };
    if let Some(actor) = actor {
        let summary = format!("infra backup version {} shown", backup.version);
        let record = AuditRecord { actor, ..operator_audit(AuditAction::RevealInfraBackup, &id, summary, &ip) };
        state.store().audit(&record).await?;
    }
    Ok(Json(backup))
}

/// The kept infra backup versions of a customer with their time and size, newest first.
///
/// For the customer's own controller key or the operator; the global key only when
/// `api.global_key_reads_backups: true`.
#[utoipa::path(
    get, path = "/api/v1/infra-backup/{customer_id}/versions", tag = "recovery",
    params(("customer_id" = String, Path, description = "Customer id")),
    security(("operator_session" = []), ("global_key" = []), ("controller_key" = [])),
    responses(
        (status = 200, body = InfraBackupVersions),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Another customer's key, or the global key while api.global_key_reads_backups is off", body = ApiError),
    )
)]
pub async fn list_infra_backups(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
) -> Result<Json<InfraBackupVersions>> {
    caller.require_backup_read(&id, state.config().raw.api.global_key_reads_backups)?;
    let versions = state
        .store()
        .infra_versions(&id)
        .await?
        .into_iter()
        .map(|r| InfraBackupVersion { version: r.version, created_at: r.created_at, size_bytes: r.size_bytes })
        .collect();
    Ok(Json(InfraBackupVersions { customer_id: id, versions }))
}
