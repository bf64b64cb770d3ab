//! The hub's HTTP API as typed functions: one per endpoint, over one private `send` that turns
//! non-2xx answers into the shared `ApiError`. Components never build URLs or parse JSON.
//!
//! The module also keeps the session's CSRF token (sent with every state-changing request) and
//! the hook the app installs to go to the login page when any call answers 401.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_net::http::{Request, RequestBuilder, Response};
use hub_shared::auth::{LoginRequest, SessionInfo};
use hub_shared::customer::CustomerDetail;
use hub_shared::customer_list::{CustomerList, CustomerListQuery};
use hub_shared::history::{History, HistoryQuery, Period};
use hub_shared::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;

// Customer configs, credentials, infra backups and the audit log.
mod configs;
pub use configs::*;
mod ops;
pub use ops::*;
// Maintenance windows and open alerts.
mod alerting;
pub use alerting::*;

/// The live stream (`GET /api/v1/stream`), opened by the browser's `EventSource` (see
/// [`crate::live`]).
pub const STREAM_PATH: &str = "/api/v1/stream";
// Controller versions, drift and rollouts.
mod fleet;
pub use fleet::*;

/// The `code` of errors made here when the hub could not be reached at all.
pub const UNREACHABLE: &str = "unreachable";

thread_local! {
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    static ON_UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = RefCell::new(None);
}

/// Runs `hook` whenever an API call (other than the login itself) answers 401.
pub fn on_unauthorized(hook: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Rc::new(hook)));
}

fn remember(info: &SessionInfo) {
    CSRF.with(|c| *c.borrow_mut() = info.csrf_token.clone());
}

/// Adds the CSRF token to a state-changing request.
fn with_csrf(builder: RequestBuilder) -> RequestBuilder {
    match CSRF.with(|c| c.borrow().clone()) {
        Some(token) => builder.header("X-CSRF-Token", &token),
        None => builder,
    }
}

/// What to do when the answer is 401.
#[derive(Clone, Copy, PartialEq, Eq)]
enum On401 {
    /// The session ended: run the hook that leads to the login page.
    SignIn,
    /// The caller handles it (a wrong password).
    Return,
}

/// Sends `request` and reads its answer as `T`. Only the reading is generic: the request and its
/// answer's text go through one non-generic future, so each endpoint adds little code.
async fn send<T: DeserializeOwned>(request: Result<Request, gloo_net::Error>, on_401: On401) -> Result<T, ApiError> {
    let text = fetch_text(request, on_401).await?;
    serde_json::from_str(&text).map_err(not_understood)
}

/// The text of a 2xx answer; `null` when it has none (204), which only `()` (and other types
/// that read `null`) expect.
async fn fetch_text(request: Result<Request, gloo_net::Error>, on_401: On401) -> Result<String, ApiError> {
    let response = fetch(request, on_401).await?;
    if response.status() == 204 {
        return Ok("null".into());
    }
    response.text().await.map_err(not_understood)
}

fn not_understood(e: impl std::fmt::Display) -> ApiError {
    ApiError::new("bad_response", format!("the hub's answer was not understood: {e}"))
}

/// Sends `request` and returns a 2xx answer unread; other answers become the `ApiError`.
async fn fetch(request: Result<Request, gloo_net::Error>, on_401: On401) -> Result<Response, ApiError> {
    let request = request.map_err(|e| ApiError::new("bad_request", e.to_string()))?;
    let response =
        request.send().await.map_err(|e| ApiError::new(UNREACHABLE, format!("the hub cannot be reached ({e})")))?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let error = match response.json::<ApiError>().await {
        Ok(error) => error,
        // Something in front of the hub (a proxy) answered, not the hub itself.
        Err(_) if matches!(status, 502..=504) => {
            ApiError::new(UNREACHABLE, format!("the hub cannot be reached (HTTP {status})"))
        }
        Err(_) => ApiError::new(format!("http_{status}"), format!("the hub answered HTTP {status}")),
    };
    if status == 401 && on_401 == On401::SignIn {
        CSRF.with(|c| c.borrow_mut().take());
        if let Some(hook) = ON_UNAUTHORIZED.with(|h| h.borrow().clone()) {
            hook();
        }
    }
    Err(error)
}

/// The `name=value` pairs of one of the shared query types (`hub_shared::page::PageQuery`, …), so
/// that parameter names are spelled once, in hub-shared. Absent values are left out.
fn query_pairs<T: Serialize>(params: &T) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(params) else { return Vec::new() };
    map.into_iter()
        .filter_map(|(name, value)| match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((name, s)),
            other => Some((name, other.to_string())),
        })
        .collect()
}

/// Adds a shared query type's parameters to a request.
fn with_query<T: Serialize>(builder: RequestBuilder, params: &T) -> RequestBuilder {
    builder.query(query_pairs(params).iter().map(|(name, value)| (name.as_str(), value)))
}

/// Checks an id before it goes into a URL path, with the same rule as the server.
fn customer_path(id: &str) -> Result<String, ApiError> {
    hub_shared::validate::customer_id(id).map_err(|m| ApiError::new("invalid_field", m))?;
    Ok(format!("/api/v1/customers/{id}"))
}

/// `GET /api/v1/auth/session`
pub async fn get_session() -> Result<SessionInfo, ApiError> {
    let info: SessionInfo = send(Request::get("/api/v1/auth/session").build(), On401::Return).await?;
    remember(&info);
    Ok(info)
}

/// `POST /api/v1/auth/login`
pub async fn login(password: String) -> Result<SessionInfo, ApiError> {
    let request = Request::post("/api/v1/auth/login").json(&LoginRequest { password });
    let info: SessionInfo = send(request, On401::Return).await?;
    remember(&info);
    Ok(info)
}

/// `POST /api/v1/auth/logout`
pub async fn logout() -> Result<(), ApiError> {
    let request = with_csrf(Request::post("/api/v1/auth/logout")).build();
    let _: hub_shared::auth::Ok = send(request, On401::Return).await?;
    CSRF.with(|c| c.borrow_mut().take());
    Ok(())
}

/// `GET /api/v1/customers?status=&q=&sort=&limit=&cursor=`
pub async fn list_customers(query: &CustomerListQuery) -> Result<CustomerList, ApiError> {
    send(with_query(Request::get("/api/v1/customers"), query).build(), On401::SignIn).await
}

/// `GET /api/v1/customers/{id}`
pub async fn get_customer(id: &str) -> Result<CustomerDetail, ApiError> {
    send(Request::get(&customer_path(id)?).build(), On401::SignIn).await
}

/// `GET /api/v1/customers/{id}/history?period=`
pub async fn get_history(id: &str, period: Period) -> Result<History, ApiError> {
    let url = format!("{}/history", customer_path(id)?);
    send(with_query(Request::get(&url), &HistoryQuery { period: Some(period) }).build(), On401::SignIn).await
}

#[cfg(test)]
mod tests {
    use hub_shared::event::{EventQuery, Severity};
    use hub_shared::page::PageQuery;

    use super::*;

    /// The query string a shared query type makes, its pairs in name order.
    fn text<T: Serialize>(params: &T) -> String {
        let mut pairs = query_pairs(params);
        pairs.sort();
        pairs.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&")
    }

    #[test]
    fn queries_use_the_shared_names_and_leave_out_what_is_absent() {
        assert_eq!(text(&PageQuery { limit: Some(50), before: Some(7) }), "before=7&limit=50");
        assert_eq!(text(&PageQuery::default()), "");
        let query = EventQuery { event_type: Some("backup_failed".into()), ..EventQuery::severity(Severity::Error) };
        assert_eq!(text(&query), "severity=error&type=backup_failed");
        assert_eq!(text(&HistoryQuery { period: Some(Period::Day) }), "period=24h");
    }
}
