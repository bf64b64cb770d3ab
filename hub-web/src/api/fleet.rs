//! Fleet-wide endpoints: controller versions, the drift check, and staged rollouts.

use gloo_net::http::Request;
use hub_shared::fleet::{DriftCheck, FleetVersions};
use hub_shared::page::PageQuery;
use hub_shared::rollout::{Rollout, RolloutList, StartRollout};
use hub_shared::ApiError;

use super::{send, with_csrf, with_query, On401};

/// What the operator may do to a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutControl {
    Pause,
    Resume,
    Abort,
}

impl RolloutControl {
    fn path(self) -> &'static str {
        match self {
            RolloutControl::Pause => "pause",
            RolloutControl::Resume => "resume",
            RolloutControl::Abort => "abort",
        }
    }
}

/// `GET /api/v1/fleet/versions`
pub async fn fleet_versions() -> Result<FleetVersions, ApiError> {
    send(Request::get("/api/v1/fleet/versions").build(), On401::SignIn).await
}

/// `POST /api/v1/fleet/drift/check`
pub async fn check_drift() -> Result<DriftCheck, ApiError> {
    send(with_csrf(Request::post("/api/v1/fleet/drift/check")).build(), On401::SignIn).await
}

/// `GET /api/v1/rollouts` (the newest page)
pub async fn list_rollouts() -> Result<RolloutList, ApiError> {
    send(with_query(Request::get("/api/v1/rollouts"), &PageQuery::first(50)).build(), On401::SignIn).await
}

/// `GET /api/v1/rollouts/{id}`
pub async fn get_rollout(id: i64) -> Result<Rollout, ApiError> {
    send(Request::get(&format!("/api/v1/rollouts/{id}")).build(), On401::SignIn).await
}

/// `POST /api/v1/rollouts`
pub async fn start_rollout(request: &StartRollout) -> Result<Rollout, ApiError> {
    send(with_csrf(Request::post("/api/v1/rollouts")).json(request), On401::SignIn).await
}

/// `POST /api/v1/rollouts/{id}/pause|resume|abort`
pub async fn control_rollout(id: i64, control: RolloutControl) -> Result<Rollout, ApiError> {
    let url = format!("/api/v1/rollouts/{id}/{}", control.path());
    send(with_csrf(Request::post(&url)).build(), On401::SignIn).await
}
