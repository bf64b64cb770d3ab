//! Open alerts (`/api/v1/alerts`) and their acknowledgement by the operator: reminders stop,
//! and the customer's timeline shows who acknowledged it and when.

use axum::extract::State;
use axum::Json;
use hub_shared::alert::{AckRequest, AlertOut, AlertPage, AlertQuery, NOTE_MAX};
use hub_shared::audit::AuditAction;
use hub_shared::page::{next_before, PageQuery};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::{page_limit, ApiJson, ApiQuery, ClientIp, Id};
use crate::state::AppState;
use crate::store::{AlertRow, AuditRecord};

/// Who acknowledges: the one operator of this hub.
const OPERATOR: &str = "operator";

/// Alerts newest first: the open ones, or with `state=all` the resolved ones too.
#[utoipa::path(
    get, path = "/api/v1/alerts", tag = "notifications",
    params(AlertQuery, PageQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = AlertPage),
        (status = 400, description = "Bad limit, before, state or customer_id", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AlertQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<AlertPage>> {
    caller.require_operator()?;
    let limit = page_limit(&page)?;
    let all = query.include_resolved().map_err(|m| AppError::BadRequest(format!("state: {m}")))?;
    if let Some(id) = &query.customer_id {
        hub_shared::validate::customer_id(id).map_err(|m| AppError::BadRequest(format!("customer_id: {m}")))?;
    }
    let rows = state.store().alerts(query.customer_id.as_deref(), all, page.before, i64::from(limit)).await?;
    let next_before = next_before(&rows, limit, |r| r.id);
    Ok(Json(AlertPage { alerts: rows.into_iter().map(to_out).collect(), next_before }))
}

/// Acknowledge an open alert: reminders stop until it resolves; a new failure after it
/// resolves opens a new alert.
#[utoipa::path(
    post, path = "/api/v1/alerts/{id}/ack", tag = "notifications",
    params(("id" = i64, Path, minimum = 1, description = "Alert id")),
    request_body = AckRequest,
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "Acknowledged", body = AlertOut),
        (status = 400, description = "Malformed id or JSON", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No such alert", body = ApiError),
        (status = 409, description = "Resolved or acknowledged already", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "The note is longer than 500 bytes", body = ApiError),
    )
)]
pub async fn ack_alert(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Id(id): Id,
    body: ApiJson<AckRequest>,
) -> Result<Json<AlertOut>> {
    caller.require_operator()?;
    let note = body.value.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(note) = note {
        hub_shared::validate::max_len("note", note, NOTE_MAX).map_err(|m| AppError::invalid("note", m))?;
    }
    let alert = state.store().alert(id).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let audit = AuditRecord {
        at: now,
        actor: OPERATOR,
        action: AuditAction::AckAlert.as_str(),
        customer_id: Some(alert.customer_id.clone()),
        summary: format!("acknowledged alert {id} ({})", alert.event_type),
        client_ip: Some(ip.0.to_string()),
    };
    state.store().ack_alert(id, OPERATOR, note, now, &audit).await?;
    Ok(Json(to_out(state.store().alert(id).await?)))
}

fn to_out(r: AlertRow) -> AlertOut {
    AlertOut {
        id: r.id,
        customer_id: r.customer_id,
        kind: r.kind,
        event_id: r.event_id,
        event_type: r.event_type,
        opened_at: r.opened_at,
        notified_at: r.notified_at,
        reminders: r.reminders,
        resolved_at: r.resolved_at,
        acked_at: r.acked_at,
        acked_by: r.acked_by,
        ack_note: r.ack_note,
    }
}
