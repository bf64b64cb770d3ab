//! `POST /api/v1/report`: a controller's periodic status report.

use axum::extract::State;
use axum::Json;
use hub_shared::report::{ReportAccepted, ReportIn};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::ReportRow;

/// Push a status report.
///
/// Stored once committed: the answer comes only after the report is durable. Unknown fields are
/// kept and returned by the customer detail endpoint. A `reported_at` in the future is recorded
/// as the time the hub received the report.
#[utoipa::path(
    post, path = "/api/v1/report", tag = "reports",
    request_body = ReportIn,
    security(("controller_key" = []), ("global_key" = [])),
    responses(
        (status = 200, description = "Stored", body = ReportAccepted),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 403, description = "A customer's key posting for another customer", body = ApiError),
        (status = 413, description = "Body over 1 MiB", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is missing or invalid; the message names it", body = ApiError),
    )
)]
pub async fn post_report(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<ReportIn>,
) -> Result<Json<ReportAccepted>> {
    let report = body.value;
    report.validate().map_err(|(field, msg)| AppError::invalid(field, msg))?;
    caller.require_controller_for(&report.customer_id)?;
    // Unknown fields were skipped unchecked; they are stored and served back, so they must be
    // JSON the hub can read again (numbers in range, nesting within serde_json's limit).
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&body.raw) {
        return Err(AppError::invalid("body", format!("body: unreadable value in an unknown field: {e}")));
    }
    let raw = String::from_utf8(body.raw.to_vec()).map_err(|_| AppError::BadRequest("the body is not UTF-8".into()))?;
    let now = chrono::Utc::now().timestamp_millis();
    let row = ReportRow::from_report(&report, raw, now);
    let blocked = state.store().config(&report.customer_id).await?.is_some_and(|c| c.blocked());
    state.ingest().submit(row).await?;
    Ok(Json(ReportAccepted { ok: true, customer_blocked: blocked }))
}
