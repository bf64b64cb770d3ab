//! The fleet as a whole: the controller versions it runs.

use axum::extract::State;
use axum::Json;
use hub_shared::fleet::FleetVersions;
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;

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
