//! Staged rollouts of a controller version: start one, follow it (each node's step), and pause,
//! resume or abort it. The `rollout_step` job moves running rollouts on (see [`crate::rollout`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hub_shared::page::PageQuery;
use hub_shared::rollout::{Rollout, RolloutList, StartRollout};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::Result;
use crate::extract::{page_limit, ApiJson, ApiQuery, ClientIp, RolloutId};
use crate::rollout::{self, Control};
use crate::state::AppState;

/// Start a rollout of `version`.
///
/// Every managed node that reported is in it; blocked nodes, nodes already on the version or
/// newer, and nodes WARN or DOWN now start `skipped`. The canaries (`canary` ids, or
/// `canary_percent` of the nodes to update) are asked first; once each reported the version and
/// stayed OK for `wait`, the rest follow in batches of `batch_size`, each after the one before.
/// A node that does not report the version within `update_timeout`, or goes WARN or DOWN, stops
/// the rollout (`rollout_stopped` event). Audited.
#[utoipa::path(
    post, path = "/api/v1/rollouts", tag = "rollouts",
    request_body = StartRollout,
    security(("operator_session" = [])),
    responses(
        (status = 201, body = Rollout),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 409, description = "Another rollout is unfinished, or no node needs the version", body = ApiError),
        (status = 422, description = "A bad field, or a canary that cannot be updated; the message names it", body = ApiError),
    )
)]
pub async fn start_rollout(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    body: ApiJson<StartRollout>,
) -> Result<(StatusCode, Json<Rollout>)> {
    caller.require_operator()?;
    let now = chrono::Utc::now().timestamp_millis();
    Ok((StatusCode::CREATED, Json(rollout::start(&state, &body.value, &ip, now).await?)))
}

/// Rollouts, newest first.
#[utoipa::path(
    get, path = "/api/v1/rollouts", tag = "rollouts",
    params(PageQuery),
    security(("operator_session" = []), ("global_key" = [])),
    responses(
        (status = 200, body = RolloutList),
        (status = 400, description = "Bad limit or before", body = ApiError),
        (status = 403, description = "A customer's key", body = ApiError),
    )
)]
pub async fn list_rollouts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<RolloutList>> {
    caller.require_fleet_read()?;
    Ok(Json(rollout::list(&state, page_limit(&page)?, page.before).await?))
}

/// One rollout with each node's step, canaries first.
#[utoipa::path(
    get, path = "/api/v1/rollouts/{rollout_id}", tag = "rollouts",
    params(("rollout_id" = i64, Path, minimum = 1, description = "Rollout id")),
    security(("operator_session" = []), ("global_key" = [])),
    responses(
        (status = 200, body = Rollout),
        (status = 400, description = "Not a rollout id", body = ApiError),
        (status = 403, description = "A customer's key", body = ApiError),
        (status = 404, description = "No such rollout", body = ApiError),
    )
)]
pub async fn get_rollout(
    State(state): State<AppState>,
    caller: Caller,
    RolloutId(id): RolloutId,
) -> Result<Json<Rollout>> {
    caller.require_fleet_read()?;
    Ok(Json(rollout::load(&state, id).await?))
}

macro_rules! control_route {
    ($name:ident, $path:literal, $control:expr, $doc:literal, $from:literal) => {
        #[doc = $doc]
        #[utoipa::path(
                            post, path = $path, tag = "rollouts",
                            params(("rollout_id" = i64, Path, minimum = 1, description = "Rollout id")),
                            security(("operator_session" = [])),
                            responses(
                                (status = 200, body = Rollout),
                                (status = 400, description = "Not a rollout id", body = ApiError),
                                (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
                                (status = 404, description = "No such rollout", body = ApiError),
                                (status = 409, description = $from, body = ApiError),
                            )
                        )]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            ip: ClientIp,
            RolloutId(id): RolloutId,
        ) -> Result<Json<Rollout>> {
            caller.require_operator()?;
            let now = chrono::Utc::now().timestamp_millis();
            Ok(Json(rollout::control(&state, id, $control, &ip, now).await?))
        }
    };
}

control_route!(
    pause_rollout,
    "/api/v1/rollouts/{rollout_id}/pause",
    Control::Pause,
    "Pause a running rollout: nothing new is asked until it is resumed. Audited.",
    "The rollout is not running"
);
control_route!(
    resume_rollout,
    "/api/v1/rollouts/{rollout_id}/resume",
    Control::Resume,
    "Resume a paused or stopped rollout; failed nodes stay failed, the others go on. Audited.",
    "The rollout is not paused or stopped"
);
control_route!(
    abort_rollout,
    "/api/v1/rollouts/{rollout_id}/abort",
    Control::Abort,
    "Abort an unfinished rollout for good (nodes already updated stay updated). Audited.",
    "The rollout is already aborted or done"
);
