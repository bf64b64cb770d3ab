//! `GET /api/v1/audit`: the audit log, newest first, paged.

use axum::extract::{Query, State};
use axum::Json;
use hub_shared::audit::{AuditEntry, AuditPage};
use hub_shared::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::state::AppState;

pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Entries per page, 1 to 500 (default 50).
    pub per_page: Option<u32>,
    /// Only this customer's entries.
    pub customer_id: Option<String>,
}

/// The audit log: operator changes, reveals and retrieval-password uses, newest first.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "configs",
    params(AuditQuery),
    security(("operator_session" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "Bad page, per_page or customer_id", body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>> {
    caller.require_operator()?;
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(AppError::BadRequest("page: pages count from 1".into()));
    }
    let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(AppError::BadRequest(format!("per_page: must be between 1 and {MAX_PER_PAGE}")));
    }
    if let Some(id) = &query.customer_id {
        hub_shared::validate::customer_id(id).map_err(|m| AppError::BadRequest(format!("customer_id: {m}")))?;
    }
    let offset = i64::from(page - 1) * i64::from(per_page);
    let (rows, total) = state.store().audit_page(query.customer_id.as_deref(), i64::from(per_page), offset).await?;
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
    Ok(Json(AuditPage { entries, page, per_page, total: total.max(0) as u64 }))
}
