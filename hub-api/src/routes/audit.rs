//! `GET /api/v1/audit`: the audit log, newest first, a page at a time below a cursor.

use axum::extract::State;
use axum::Json;
use hub_shared::audit::{AuditEntry, AuditPage, AuditQuery};
use hub_shared::page::{next_before, PageQuery};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::{page_limit, ApiQuery};
use crate::state::AppState;

/// The audit log: operator changes, reveals and retrieval-password uses, newest first.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "configs",
    params(AuditQuery, PageQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "Bad limit, before or customer_id", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<AuditPage>> {
    caller.require_operator()?;
    let limit = page_limit(&page)?;
    if let Some(id) = &query.customer_id {
        hub_shared::validate::customer_id(id).map_err(|m| AppError::BadRequest(format!("customer_id: {m}")))?;
    }
    let rows = state.store().audit_log(query.customer_id.as_deref(), page.before, i64::from(limit)).await?;
    let next_before = next_before(&rows, limit, |r| r.id);
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            customer_id: r.customer_id,
            summary: r.summary,
            client_ip: r.client_ip,
        })
        .collect();
    Ok(Json(AuditPage { entries, next_before }))
}
