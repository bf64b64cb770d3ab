//! Maintenance windows (`/api/v1/maintenance`): list, create, replace and delete, for the
//! operator. Every change is audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hub_shared::audit::AuditAction;
use hub_shared::maintenance::{
    day_name, MaintenanceIn, MaintenanceList, MaintenanceWindow, Recurrence, WindowPlan, WindowTime,
};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ClientIp, Id};
use crate::notify::windows;
use crate::state::AppState;
use crate::store::{AuditRecord, WindowRow};

/// Every maintenance window, newest first, with whether it is open now.
#[utoipa::path(
    get, path = "/api/v1/maintenance", tag = "notifications",
    security(("operator_session" = [])),
    responses(
        (status = 200, body = MaintenanceList),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_maintenance(State(state): State<AppState>, caller: Caller) -> Result<Json<MaintenanceList>> {
    caller.require_operator()?;
    let rows = state.store().maintenance_windows().await?;
    Ok(Json(MaintenanceList { windows: rows.into_iter().map(|r| to_out(&state, r)).collect() }))
}

/// One maintenance window.
#[utoipa::path(
    get, path = "/api/v1/maintenance/{id}", tag = "notifications",
    params(("id" = i64, Path, minimum = 1, description = "Window id")),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = MaintenanceWindow),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
        (status = 404, description = "No such window", body = ApiError),
    )
)]
pub async fn get_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<MaintenanceWindow>> {
    caller.require_operator()?;
    let row = state.store().maintenance_window(id).await?;
    Ok(Json(to_out(&state, row)))
}

/// Create a maintenance window for one customer (`customer_id`) or the whole fleet (none).
///
/// `once` needs `starts_at` and `ends_at`; `daily` needs `start_time` (HH:MM in the hub's
/// `server.timezone`) and `duration_minutes`; `weekly` also `days`. While a window is open,
/// events are stored and shown with `held: "maintenance"`, and nothing is sent; an alert still
/// open when it closes (a node still down) is sent then.
#[utoipa::path(
    post, path = "/api/v1/maintenance", tag = "notifications",
    request_body = MaintenanceIn,
    security(("operator_session" = [])),
    responses(
        (status = 201, description = "Created", body = MaintenanceWindow),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is missing or wrong (end before start, unknown customer, duration outside 1–10080 minutes, unknown day)", body = ApiError),
    )
)]
pub async fn create_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    body: ApiJson<MaintenanceIn>,
) -> Result<(StatusCode, Json<MaintenanceWindow>)> {
    caller.require_operator()?;
    let plan = checked(&state, &body.value).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let audit = audit(AuditAction::CreateMaintenance, &plan, &ip, now);
    let id = state.store().insert_maintenance(&plan, now, &audit).await?;
    let row = state.store().maintenance_window(id).await?;
    Ok((StatusCode::CREATED, Json(to_out(&state, row))))
}

/// Replace a maintenance window.
#[utoipa::path(
    put, path = "/api/v1/maintenance/{id}", tag = "notifications",
    params(("id" = i64, Path, minimum = 1, description = "Window id")),
    request_body = MaintenanceIn,
    security(("operator_session" = [])),
    responses(
        (status = 200, body = MaintenanceWindow),
        (status = 400, description = "Malformed id or JSON", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No such window", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
        (status = 422, description = "A field is missing or wrong", body = ApiError),
    )
)]
pub async fn update_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Id(id): Id,
    body: ApiJson<MaintenanceIn>,
) -> Result<Json<MaintenanceWindow>> {
    caller.require_operator()?;
    let plan = checked(&state, &body.value).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let audit = audit(AuditAction::UpdateMaintenance, &plan, &ip, now);
    state.store().update_maintenance(id, &plan, now, &audit).await?;
    let row = state.store().maintenance_window(id).await?;
    Ok(Json(to_out(&state, row)))
}

/// Delete a maintenance window.
#[utoipa::path(
    delete, path = "/api/v1/maintenance/{id}", tag = "notifications",
    params(("id" = i64, Path, minimum = 1, description = "Window id")),
    security(("operator_session" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No such window", body = ApiError),
    )
)]
pub async fn delete_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Id(id): Id,
) -> Result<StatusCode> {
    caller.require_operator()?;
    let row = state.store().maintenance_window(id).await?;
    let now = chrono::Utc::now().timestamp_millis();
    state.store().delete_maintenance(id, &audit(AuditAction::DeleteMaintenance, &row.plan, &ip, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The request's plan, with its customer known to the hub (a config or a report).
async fn checked(state: &AppState, window: &MaintenanceIn) -> Result<WindowPlan> {
    let plan = window.validate().map_err(|(field, m)| AppError::invalid(field, m))?;
    if let Some(id) = &plan.customer_id {
        let store = state.store();
        if store.config(id).await?.is_none() && !store.has_reported(id).await? {
            return Err(AppError::invalid("customer_id", format!("no customer {id:?} is known to this hub")));
        }
    }
    Ok(plan)
}

fn audit(action: AuditAction, plan: &WindowPlan, ip: &ClientIp, now: i64) -> AuditRecord {
    let whom = plan.customer_id.as_deref().unwrap_or("the whole fleet");
    AuditRecord {
        at: now,
        actor: "operator",
        action: action.as_str(),
        customer_id: plan.customer_id.clone(),
        summary: format!("maintenance of {whom}: {}", plan.reason),
        client_ip: Some(ip.0.to_string()),
    }
}

fn to_out(state: &AppState, row: WindowRow) -> MaintenanceWindow {
    let active = windows::is_open(&row.plan.when, chrono::Utc::now(), state.config().timezone);
    let mut out = MaintenanceWindow {
        id: row.id,
        customer_id: row.plan.customer_id,
        recurrence: Recurrence::Once,
        starts_at: None,
        ends_at: None,
        days: Vec::new(),
        start_time: None,
        duration_minutes: None,
        reason: row.plan.reason,
        active,
        created_at: row.created_at,
        updated_at: row.updated_at,
    };
    match row.plan.when {
        WindowTime::Once { starts_at, ends_at } => (out.starts_at, out.ends_at) = (Some(starts_at), Some(ends_at)),
        WindowTime::Daily { start, minutes } => {
            out.recurrence = Recurrence::Daily;
            (out.start_time, out.duration_minutes) = (Some(start.format("%H:%M").to_string()), Some(minutes));
        }
        WindowTime::Weekly { days, start, minutes } => {
            out.recurrence = Recurrence::Weekly;
            out.days = days.into_iter().map(|d| day_name(d).to_string()).collect();
            (out.start_time, out.duration_minutes) = (Some(start.format("%H:%M").to_string()), Some(minutes));
        }
    }
    out
}
