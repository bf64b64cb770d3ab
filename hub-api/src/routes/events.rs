//! Events: controllers post them (`POST /api/v1/event`), the operator reads them per customer
//! or fleet-wide, newest first with a cursor.

use axum::extract::{Query, State};
use axum::Json;
use hub_shared::event::{EventAccepted, EventIn, EventOut, EventPage, EventType, Severity};
use hub_shared::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::{page_limit, ApiJson, CustomerId};
use crate::state::AppState;
use crate::store::{EventFilter, EventRow, NewEvent};

/// Post an event.
///
/// Stored at once (for a blocked customer too) and answered without waiting for any email: the
/// notification dispatcher picks it up in the background. A controller's key may post only for
/// its own customer; the six hub-only types are refused. The original hub's `details_json` (an
/// object or a string holding one) is read as `details`, and `source` is kept (`hub` is reserved).
#[utoipa::path(
    post, path = "/api/v1/event", tag = "events",
    request_body = EventIn,
    security(("controller_key" = []), ("global_key" = [])),
    responses(
        (status = 200, description = "Stored", body = EventAccepted),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 401, description = "Missing or unknown API key", body = ApiError),
        (status = 403, description = "A customer's key posting for another customer, or an operator", body = ApiError),
        (status = 413, description = "Body over 1 MiB", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is missing or invalid; unknown types and severities list the accepted values", body = ApiError),
        (status = 429, description = "Too many events and notifications for this customer (a bucket of 120, one back every 30 s); see Retry-After", body = ApiError),
    )
)]
pub async fn post_event(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<EventIn>,
) -> Result<Json<EventAccepted>> {
    let event = body.value;
    let valid = event.validate().map_err(|(field, msg)| AppError::invalid(field, msg))?;
    caller.require_controller_for(&event.customer_id)?;
    let now = chrono::Utc::now().timestamp_millis();
    state.limit_events(&event.customer_id, now)?;
    let occurred_at = event.occurred_at.map(|t| t.timestamp_millis()).filter(|t| *t <= now).unwrap_or(now);
    let id = state
        .store()
        .insert_event(&NewEvent {
            customer_id: event.customer_id,
            event_type: valid.event_type,
            severity: valid.severity,
            message: event.message,
            details_json: serde_json::Value::Object(valid.details).to_string(),
            source: valid.source,
            occurred_at,
            received_at: now,
        })
        .await?;
    state.notifier().wake();
    Ok(Json(EventAccepted { ok: true, id }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct EventQuery {
    /// Comma-separated severities (`info,warning,error`); all when absent.
    pub severity: Option<String>,
    /// Comma-separated event types; all when absent.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// Only events with an id below this (the previous page's `next_before`).
    pub before: Option<i64>,
}

impl EventQuery {
    fn filter(self, customer_id: Option<String>) -> Result<EventFilter> {
        let list = |s: &Option<String>| -> Vec<String> {
            s.as_deref().unwrap_or("").split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect()
        };
        let severities = list(&self.severity)
            .iter()
            .map(|s| Severity::parse(s))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| AppError::BadRequest(format!("severity: {m}")))?;
        let types = list(&self.event_type)
            .iter()
            .map(|s| EventType::parse(s))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| AppError::BadRequest(format!("type: {m}")))?;
        let limit = page_limit(self.limit)?;
        Ok(EventFilter { customer_id, severities, types, before: self.before, limit })
    }
}

fn page(rows: Vec<EventRow>, limit: i64) -> Result<EventPage> {
    let next_before = if rows.len() as i64 == limit { rows.last().map(|r| r.id) } else { None };
    let events = rows.into_iter().map(to_out).collect::<Result<Vec<_>>>()?;
    Ok(EventPage { events, next_before })
}

fn to_out(r: EventRow) -> Result<EventOut> {
    Ok(EventOut {
        id: r.id,
        event_type: r.event_type,
        severity: r.severity,
        details: serde_json::from_str(&r.details_json).unwrap_or_else(|_| serde_json::json!({})),
        customer_id: r.customer_id,
        message: r.message,
        source: r.source,
        occurred_at: r.occurred_at,
        received_at: r.received_at,
    })
}

fn parse_query(
    query: std::result::Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<EventQuery> {
    query.map(|Query(q)| q).map_err(|e| AppError::BadRequest(e.body_text()))
}

/// One customer's events, newest first.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/events", tag = "events",
    params(("id" = String, Path, description = "Customer id"), EventQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = EventPage),
        (status = 400, description = "Malformed id or filter; the message lists the accepted values", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_customer_events(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
    query: std::result::Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>> {
    caller.require_operator()?;
    let filter = parse_query(query)?.filter(Some(id))?;
    let rows = state.store().events(&filter).await?;
    Ok(Json(page(rows, filter.limit)?))
}

/// Events of the whole fleet, newest first.
#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    params(EventQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = EventPage),
        (status = 400, description = "Malformed filter; the message lists the accepted values", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    query: std::result::Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>> {
    caller.require_operator()?;
    let filter = parse_query(query)?.filter(None)?;
    let rows = state.store().events(&filter).await?;
    Ok(Json(page(rows, filter.limit)?))
}
