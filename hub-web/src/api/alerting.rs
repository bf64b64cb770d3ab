//! Alerting endpoints: maintenance windows and open alerts with their acknowledgement.

use gloo_net::http::Request;
use hub_shared::alert::{AckRequest, AlertOut, AlertPage, AlertQuery};
use hub_shared::maintenance::{MaintenanceIn, MaintenanceList, MaintenanceWindow};
use hub_shared::page::PageQuery;
use hub_shared::ApiError;

use super::{send, with_csrf, with_query, On401};

/// How many alerts a customer's card shows.
pub const ALERTS_PAGE: u32 = 20;

/// `GET /api/v1/maintenance`
pub async fn list_maintenance() -> Result<MaintenanceList, ApiError> {
    send(Request::get("/api/v1/maintenance").build(), On401::SignIn).await
}

/// `POST /api/v1/maintenance`
pub async fn create_maintenance(window: &MaintenanceIn) -> Result<MaintenanceWindow, ApiError> {
    send(with_csrf(Request::post("/api/v1/maintenance")).json(window), On401::SignIn).await
}

/// `DELETE /api/v1/maintenance/{id}`
pub async fn delete_maintenance(id: i64) -> Result<(), ApiError> {
    send(with_csrf(Request::delete(&format!("/api/v1/maintenance/{id}"))).build(), On401::SignIn).await
}

/// `GET /api/v1/alerts?customer_id=&state=`: the open alerts, or with `all` the resolved too.
pub async fn list_alerts(customer_id: Option<&str>, all: bool) -> Result<AlertPage, ApiError> {
    if let Some(id) = customer_id {
        hub_shared::validate::customer_id(id).map_err(|m| ApiError::new("invalid_field", m))?;
    }
    let query = AlertQuery { customer_id: customer_id.map(str::to_string), state: all.then(|| "all".to_string()) };
    let request = with_query(with_query(Request::get("/api/v1/alerts"), &query), &PageQuery::first(ALERTS_PAGE));
    send(request.build(), On401::SignIn).await
}

/// `POST /api/v1/alerts/{id}/ack`
pub async fn ack_alert(id: i64, note: Option<String>) -> Result<AlertOut, ApiError> {
    let url = format!("/api/v1/alerts/{id}/ack");
    send(with_csrf(Request::post(&url)).json(&AckRequest { note }), On401::SignIn).await
}
