//! `GET /healthz`: the database answers.

use axum::extract::State;
use axum::Json;
use hub_shared::ApiError;

use crate::error::{AppError, Result};
use crate::state::AppState;

/// The answer of `GET /healthz`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HealthCheck {
    pub ok: bool,
    pub database: &'static str,
    pub version: &'static str,
    /// This replica's name in the scheduler's lease and job runs.
    pub instance: String,
}

/// Liveness and readiness: 200 while the database answers, 503 when a ping fails. No auth.
#[utoipa::path(
    get, path = "/healthz", tag = "health",
    responses((status = 200, body = HealthCheck), (status = 503, description = "The database does not answer", body = ApiError))
)]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<HealthCheck>> {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(3), state.store().ping()).await;
    match ping {
        Ok(Ok(())) => Ok(Json(HealthCheck {
            ok: true,
            database: match state.store().backend() {
                crate::store::Backend::Sqlite => "sqlite",
                crate::store::Backend::Postgres => "postgres",
            },
            version: env!("CARGO_PKG_VERSION"),
            instance: state.instance_id().to_string(),
        })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: database ping failed");
            Err(AppError::Unavailable("the database does not answer".into()))
        }
        Err(_) => Err(AppError::Unavailable("the database did not answer within 3 s".into())),
    }
}
