//! The fleet: every customer with its latest report summary, one customer's latest report, and
//! the history the charts draw.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::Json;
use hub_shared::customer::{CustomerDetail, CustomerList};
use hub_shared::history::{History, HistoryPoint, HistoryQuery};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::email_confirm;
use crate::error::{AppError, Result};
use crate::extract::{ApiQuery, CustomerId};
use crate::fleet::{mark_outdated, summarize};
use crate::state::AppState;
use crate::store::{ConfigRow, LatestRow, SeverityCounts};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// List every customer.
///
/// Configured customers and customers that only report, with the latest report summary and the
/// status by the shared rule, the count of error and warning events of the last 24 hours, and
/// `latest_version` when the controller is older than the newest the registry watch knows.
/// Blocked customers are included with status `BLOCKED`.
#[utoipa::path(
    get, path = "/api/v1/customers", tag = "customers",
    security(("operator_session" = []), ("global_key" = [])),
    responses(
        (status = 200, body = CustomerList),
        (status = 403, description = "A customer's key", body = ApiError),
    )
)]
pub async fn list_customers(State(state): State<AppState>, caller: Caller) -> Result<Json<CustomerList>> {
    caller.require_fleet_read()?;
    let generated_at = chrono::Utc::now();
    let now = generated_at.timestamp_millis();
    let (configs, latest, counts, newest, drift) = tokio::try_join!(
        state.store().configs(),
        state.store().latest_reports(),
        state.store().severity_counts(now - DAY_MS),
        state.store().registry_latest(),
        state.store().drift_checks(),
    )?;
    let drift = crate::drift::marks(&drift)?;
    let counts: HashMap<&str, &SeverityCounts> = counts.iter().map(|c| (c.customer_id.as_str(), c)).collect();
    let stale_ms = state.config().stale_ms();
    let mut by_id: BTreeMap<&str, (Option<&ConfigRow>, Option<&LatestRow>)> = BTreeMap::new();
    for c in &configs {
        by_id.entry(&c.customer_id).or_default().0 = Some(c);
    }
    for l in &latest {
        by_id.entry(&l.customer_id).or_default().1 = Some(l);
    }
    let customers = by_id
        .into_iter()
        .map(|(id, (c, l))| {
            let mut summary = summarize(id, c, l, now, stale_ms)?;
            mark_outdated(&mut summary, newest.as_ref());
            summary.drift = drift.get(id).filter(|_| summary.managed).cloned();
            if let Some(n) = counts.get(id) {
                summary.errors_24h = n.errors.clamp(0, i64::from(u32::MAX)) as u32;
                summary.warnings_24h = n.warnings.clamp(0, i64::from(u32::MAX)) as u32;
            }
            Ok(summary)
        })
        .collect::<Result<_>>()?;
    Ok(Json(CustomerList { customers, generated_at, stale_threshold_secs: stale_ms / 1000 }))
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
