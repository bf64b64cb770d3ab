//! `POST /api/v1/report`: a controller's periodic status report.

use axum::extract::State;
use axum::Json;
use hub_shared::report::{ReportAccepted, ReportIn};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::{parse_json, parse_json_strict, JsonBytes};
use crate::state::AppState;
use crate::store::ReportRow;

/// Push a status report.
///
/// Stored once committed: the answer comes only after the report is durable. Unknown fields are
/// kept and returned by the customer detail endpoint. A `reported_at` in the future is recorded
/// as the time the hub received the report.
///
/// Read leniently, so a controller one version ahead or behind keeps reporting: only
/// `customer_id` (and the key) can refuse a report. The schema is what controllers should send,
/// but any other field of the wrong type or out of range is dropped from the hub's summary,
/// kept in the stored JSON, and named in the answer's `warnings`; a missing or unknown `health`
/// is stored as unknown (WARN on the dashboard); lists over their limit keep their first
/// entries. Bodies that are not JSON objects, or over 1 MiB, are still refused.
#[utoipa::path(
    post, path = "/api/v1/report", tag = "reports",
    request_body = ReportIn,
    security(("controller_key" = []), ("global_key" = [])),
    responses(
        (status = 200, description = "Stored; `warnings` names the fields that were dropped", body = ReportAccepted),
        (status = 400, description = "Malformed JSON, or JSON the hub cannot store", body = ApiError),
        (status = 403, description = "A customer's key posting for another customer", body = ApiError),
        (status = 413, description = "Body over 1 MiB", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "`customer_id` is missing or invalid, or the body is not an object", body = ApiError),
    )
)]
pub async fn post_report(
    State(state): State<AppState>,
    caller: Caller,
    JsonBytes(raw): JsonBytes,
) -> Result<Json<ReportAccepted>> {
    let (report, warnings) = read_report(&raw)?;
    caller.require_controller_for(&report.customer_id)?;
    if !warnings.is_empty() {
        tracing::debug!(customer_id = %report.customer_id, ?warnings, "report stored without some fields");
    }
    let raw = std::str::from_utf8(&raw).map_err(|_| AppError::BadRequest("the body is not UTF-8".into()))?;
    let now = chrono::Utc::now().timestamp_millis();
    // Only the customer's own key may set its first controller address (see `insert_report`).
    let own_key = matches!(caller, Caller::Controller { .. });
    let row = ReportRow::from_report(&report, raw.to_string(), own_key, now);
    let blocked = state.customer_blocked(&report.customer_id).await?;
    state.ingest().submit(row).await?;
    Ok(Json(ReportAccepted { ok: true, customer_blocked: blocked, warnings }))
}

/// A report body, as [`ReportIn::read`] reads it. Almost every report fits its schema: it is
/// read in one strict pass, straight into its type. Only one that does not is read as a JSON
/// value first, for the lenient read to drop what does not fit. Either way a body is stored only
/// when it can be read back as JSON (numbers in range, nesting within the limit: the strict pass
/// reads unknown fields as values too, see `ObjectsOnly`).
fn read_report(raw: &[u8]) -> Result<(ReportIn, Vec<String>)> {
    let read = match parse_json_strict::<ReportIn>(raw) {
        Some(report) => report.checked_whole(),
        None => ReportIn::read(&parse_json::<serde_json::Value>(raw)?),
    };
    read.map_err(|(field, msg)| AppError::invalid(field, msg))
}
