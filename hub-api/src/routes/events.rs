//! Events: controllers post them (`POST /api/v1/event`), the operator reads them per customer
//! or fleet-wide, newest first with a cursor.

use axum::extract::State;
use axum::Json;
use hub_shared::event::{EventAccepted, EventIn, EventOut, EventPage, EventQuery};
use hub_shared::page::{next_before, PageQuery};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::{page_limit, ApiJson, ApiQuery, CustomerId};
use crate::state::AppState;
use crate::store::{EventFilter, EventRow, NewEvent};

/// Post an event.
///
/// Stored at once (for a blocked customer too) and answered without waiting for any email: the
/// notification dispatcher picks it up in the background. A controller's key may post only for
/// its own customer; the nine hub-only types are refused. The original hub's `details_json` (an
/// object or a string holding one) is read as `details`, and `source` is kept (`hub` is reserved).
#[utoipa::path(
    post, path = "/api/v1/event", tag = "events",
    request_body = EventIn,
    security(("controller_key" = []), ("global_key" = [])),
    responses(
        (status = 200, description = "Stored", body = EventAccepted),
        (status = 400, description = "Malformed JSON", body = ApiError),
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

/// A page of the events that `query` and `page` ask for, of one customer or the whole fleet.
async fn list(
    state: &AppState,
    customer_id: Option<String>,
    query: &EventQuery,
    page: &PageQuery,
) -> Result<EventPage> {
    let (severities, types) = query.parse().map_err(|(param, m)| AppError::BadRequest(format!("{param}: {m}")))?;
    let limit = page_limit(page)?;
    let filter = EventFilter { customer_id, severities, types, before: page.before, limit: i64::from(limit) };
    let rows = state.store().events(&filter).await?;
    let next_before = next_before(&rows, limit, |r| r.id);
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
        held: r.held,
    })
}

/// One customer's events, newest first.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/events", tag = "events",
    params(("id" = String, Path, description = "Customer id"), EventQuery, PageQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = EventPage),
        (status = 400, description = "Malformed id or filter; the message lists the accepted values", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_customer_events(
    State(state): State<AppState>,
    caller: Caller,
    CustomerId(id): CustomerId,
    ApiQuery(query): ApiQuery<EventQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<EventPage>> {
    caller.require_operator()?;
    Ok(Json(list(&state, Some(id), &query, &page).await?))
}

/// Events of the whole fleet, newest first.
#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    params(EventQuery, PageQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = EventPage),
        (status = 400, description = "Malformed filter; the message lists the accepted values", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<EventPage>> {
    caller.require_operator()?;
    Ok(Json(list(&state, None, &query, &page).await?))
}
