//! The fleet: every customer with its latest report summary, one customer's latest report, and
//! the history the charts draw.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_shared::customer::CustomerDetail;
use hub_shared::customer_list::{CustomerList, CustomerListQuery};
use hub_shared::history::{History, HistoryPoint, HistoryQuery};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::email_confirm;
use crate::error::{AppError, Result};
use crate::extract::{ApiQuery, CustomerId};
use crate::fleet::{mark_outdated, summarize};
use crate::fleet_list::{self, Page};
use crate::state::AppState;

/// The fleet list: one compact row per customer, filtered, sorted and paged on the server.
///
/// Configured customers and customers that only report, with what the fleet views show: the
/// status by the shared rule (`BLOCKED` for blocked customers), the latest report's numbers,
/// the count of error and warning events of the last 24 hours, `latest_version` when the
/// controller is older than the newest the registry watch knows, and the drift mark. The rest
/// of a customer's summary (controller address, declared health, monitoring flag, full
/// precision) is in `GET /api/v1/customers/{id}`.
///
/// Without parameters the answer holds every customer by id. `limit` pages; each page but the
/// last carries `next_cursor`, which asks for the next with the same `sort`. `counts` are for
/// the whole fleet whatever the filter; `matched` counts the customers that pass it. Served from
/// a snapshot in memory: this replica's writes show at once, another replica's within a second
/// (anything else within 10 s).
#[utoipa::path(
    get, path = "/api/v1/customers", tag = "customers",
    params(CustomerListQuery),
    security(("operator_session" = []), ("global_key" = [])),
    responses(
        (status = 200, body = CustomerList),
        (status = 400, description = "A bad `status`, `sort`, `limit` or `cursor`; the message names it", body = ApiError),
        (status = 403, description = "A customer's key", body = ApiError),
    )
)]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CustomerListQuery>,
) -> Result<Response> {
    caller.require_fleet_read()?;
    let page = Page::from_query(&query)?;
    let snapshot = state.fleet_view().snapshot(&state, chrono::Utc::now()).await?;
    let body = fleet_list::answer(&snapshot, &page);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// One customer with its latest full report.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "Customer id")),
    security(("operator_session" = []), ("global_key" = []), ("controller_key" = [])),
    responses(
        (status = 200, body = CustomerDetail),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Another customer's key", body = ApiError),
        (status = 404, description = "Neither configured nor ever reported", body = ApiError),
    )
)]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
) -> Result<Json<CustomerDetail>> {
    caller.require_read(&id)?;
    let (config, latest, newest, drift, preferences) = tokio::try_join!(
        state.store().config(&id),
        state.store().latest_report(&id),
        state.store().registry_latest(),
        state.store().drift_check(&id),
        state.store().preferences_and_state(&id)
    )?;
    if config.is_none() && latest.is_none() {
        return Err(AppError::NotFound(format!("no customer {id:?}")));
    }
    let generated_at = chrono::Utc::now();
    let now = generated_at.timestamp_millis();
    let stale_ms = state.config().stale_ms();
    let mut summary = summarize(&id, config.as_ref(), latest.as_ref().map(|(l, _)| l), now, stale_ms)?;
    mark_outdated(&mut summary, newest.as_ref());
    summary.drift = drift.filter(|_| summary.managed).as_ref().map(crate::drift::mark).transpose()?;
    let report = match latest {
        Some((_, json)) => Some(
            serde_json::from_str(&json)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored report of {id} is not JSON: {e}")))?,
        ),
        None => None,
    };
    let email_confirmation = preferences.and_then(|(p, confirm)| email_confirm::pending(&p, &confirm));
    Ok(Json(CustomerDetail {
        summary,
        report,
        generated_at,
        stale_threshold_secs: stale_ms / 1000,
        email_confirmation,
    }))
}

/// History of CPU, memory and fullest-disk use, averaged into chart points.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/history", tag = "customers",
    params(("id" = String, Path, description = "Customer id"), HistoryQuery),
    security(("operator_session" = []), ("global_key" = []), ("controller_key" = [])),
    responses(
        (status = 200, body = History),
        (status = 400, description = "Malformed id or unknown period; the message lists the accepted values", body = ApiError),
        (status = 403, description = "Another customer's key", body = ApiError),
        (status = 404, description = "Neither configured nor ever reported", body = ApiError),
    )
)]
pub async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<History>> {
    caller.require_read(&id)?;
    let period = query.period.unwrap_or_default();
    let (config, reported) = tokio::try_join!(state.store().config(&id), state.store().has_reported(&id))?;
    if config.is_none() && !reported {
        return Err(AppError::NotFound(format!("no customer {id:?}")));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let rows = state.store().history(&id, now - period.duration_ms(), period.bucket_ms()).await?;
    let points = rows
        .into_iter()
        .map(|r| HistoryPoint {
            t: r.t,
            cpu_percent: r.cpu,
            memory_percent: r.mem,
            disk_percent: r.disk,
            reports: r.n as u32,
        })
        .collect();
    Ok(Json(History { customer_id: id, period, bucket_ms: period.bucket_ms(), points }))
}
