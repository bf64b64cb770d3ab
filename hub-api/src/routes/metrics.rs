//! `GET /metrics`: the hub's Prometheus metrics, for a scraper.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use hub_shared::ApiError;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AppError, Result};
use crate::fleet;
use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

/// The hub's metrics in the Prometheus text format.
///
/// Counters and histograms since this replica started (reports ingested and refused by reason,
/// ingest batch sizes and commit latency, events by type and severity, notifications by channel
/// and outcome, job runs, failures and durations, HTTP requests by route template and status
/// with their latency, recovery lock-outs), and gauges read at scrape time (nodes by status,
/// outdated and blocked nodes, the database pool, whether this replica leads the scheduler).
///
/// Auth: anyone when `metrics.public: true`; otherwise `metrics.token` as Bearer. With neither
/// set, every scrape is refused.
#[utoipa::path(
    get, path = "/metrics", tag = "health",
    security(("metrics_token" = []), ()),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "Missing or wrong `metrics.token`", body = ApiError),
        (status = 403, description = "Neither `metrics.public` nor `metrics.token` is set", body = ApiError),
    )
)]
pub async fn get_metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    authorize(&state, &headers)?;
    let now = chrono::Utc::now().timestamp_millis();
    let metrics = state.metrics();
    metrics.set_fleet(&fleet::counts(&state, now).await?);
    let pool = state.store().pool();
    metrics.set_replica(pool.size(), pool.num_idle(), state.config().raw.database.max_connections, state.leads());
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.encode()).into_response())
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<()> {
    let config = &state.config().raw.metrics;
    if config.public {
        return Ok(());
    }
    let expected = config.token.expose_secret();
    if expected.is_empty() {
        return Err(AppError::Forbidden(
            "metrics are not published: set metrics.token (sent as Bearer) or metrics.public: true".into(),
        ));
    }
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .unwrap_or("");
    // Hashed first, so the comparison takes as long whatever the lengths.
    let same = Sha256::digest(sent.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes()));
    if sent.is_empty() || !bool::from(same) {
        return Err(AppError::Unauthorized("send metrics.token as `Authorization: Bearer <token>`".into()));
    }
    Ok(())
}
