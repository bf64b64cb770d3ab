//! The fleet as a whole: the controller versions it runs, and checking it for drift from the
//! hub's configs.

use axum::extract::State;
use axum::Json;
use hub_shared::audit::AuditAction;
use hub_shared::fleet::{DriftCheck, FleetVersions};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::Result;
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::store::AuditRecord;

/// How long `POST /api/v1/fleet/drift/check` waits for the nodes' answers (below the request
/// timeout); slower nodes keep their previous result.
const DRIFT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// Nodes per controller version, and the newest version the registry watch knows.
///
/// Every node that reported at least once is counted under the version of its latest report;
/// `outdated` marks versions older than `latest`.
#[utoipa::path(
    get, path = "/api/v1/fleet/versions", tag = "customers",
    security(("operator_session" = []), ("global_key" = [])),
    responses(
        (status = 200, body = FleetVersions),
        (status = 403, description = "A customer's key", body = ApiError),
    )
)]
pub async fn get_versions(State(state): State<AppState>, caller: Caller) -> Result<Json<FleetVersions>> {
    caller.require_fleet_read()?;
    Ok(Json(crate::fleet::versions(&state, chrono::Utc::now()).await?))
}

/// Check every managed node for drift now.
///
/// Diffs each managed, unblocked node's live config against the hub's (as `GET
/// /api/v1/configs/{id}/diff` does, secrets masked) and stores the number of differing keys, or
/// that the node could not be reached and why; the customers list and page show the result. Nodes
/// that do not answer within 20 s keep their previous result (`unfinished`). Audited.
#[utoipa::path(
    post, path = "/api/v1/fleet/drift/check", tag = "customers",
    security(("operator_session" = [])),
    responses(
        (status = 200, body = DriftCheck),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
    )
)]
pub async fn check_drift(State(state): State<AppState>, caller: Caller, ip: ClientIp) -> Result<Json<DriftCheck>> {
    caller.require_operator()?;
    let now = chrono::Utc::now();
    let check = crate::drift::check_fleet(&state, now, Some(DRIFT_DEADLINE)).await?;
    let summary = format!(
        "{} nodes: {} in sync, {} drifted, {} unreachable, {} unfinished",
        check.nodes, check.in_sync, check.drifted, check.unreachable, check.unfinished
    );
    let audit = AuditRecord {
        at: now.timestamp_millis(),
        actor: "operator",
        action: AuditAction::DriftCheck.as_str(),
        customer_id: None,
        summary,
        client_ip: Some(ip.0.to_string()),
    };
    state.store().audit(&audit).await?;
    Ok(Json(check))
}
