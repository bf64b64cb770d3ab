//! Operations endpoints: events, the notification log, background jobs and app assets.

use gloo_net::http::Request;
use hub_shared::assets::{parse_asset_name, AssetInfo, AssetManifest, FileQuery};
use hub_shared::event::{EventPage, EventQuery, Severity};
use hub_shared::job::JobList;
use hub_shared::notification::NotificationPage;
use hub_shared::page::PageQuery;
use hub_shared::ApiError;

use super::{customer_path, query_pairs, send, with_csrf, with_query, On401};

/// The events timeline's page size.
pub const EVENTS_PAGE: u32 = 50;

/// What part of the events to fetch: one severity or all, and the page below a cursor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub severity: Option<Severity>,
    pub before: Option<i64>,
}

impl EventFilter {
    fn request(self, url: &str) -> Result<gloo_net::http::Request, gloo_net::Error> {
        let query = self.severity.map(EventQuery::severity).unwrap_or_default();
        let page = PageQuery { limit: Some(EVENTS_PAGE), before: self.before };
        with_query(with_query(Request::get(url), &query), &page).build()
    }
}

/// `GET /api/v1/customers/{id}/events?severity=&limit=&before=`
pub async fn list_customer_events(id: &str, filter: EventFilter) -> Result<EventPage, ApiError> {
    let url = format!("{}/events", customer_path(id)?);
    send(filter.request(&url), On401::SignIn).await
}

/// `GET /api/v1/events?severity=&limit=&before=`
pub async fn list_events(filter: EventFilter) -> Result<EventPage, ApiError> {
    send(filter.request("/api/v1/events"), On401::SignIn).await
}

/// `GET /api/v1/customers/{id}/notifications`
pub async fn list_notifications(id: &str) -> Result<NotificationPage, ApiError> {
    let url = format!("{}/notifications", customer_path(id)?);
    send(with_query(Request::get(&url), &PageQuery::first(EVENTS_PAGE)).build(), On401::SignIn).await
}

/// `GET /api/v1/jobs`
pub async fn list_jobs() -> Result<JobList, ApiError> {
    send(Request::get("/api/v1/jobs").build(), On401::SignIn).await
}

/// `GET /api/v1/assets/manifest`
pub async fn get_asset_manifest() -> Result<AssetManifest, ApiError> {
    send(Request::get("/api/v1/assets/manifest").build(), On401::SignIn).await
}

/// The address of an asset's file, versioned by its hash so the browser may cache it for good
/// (the operator's session cookie authorizes it).
pub fn asset_url(filename: &str, sha256: &str) -> String {
    let query = query_pairs(&FileQuery { v: Some(sha256.to_string()) })
        .iter()
        .map(|(name, value)| format!("{name}={}", js_sys::encode_uri_component(value)))
        .collect::<Vec<_>>()
        .join("&");
    format!("/api/v1/assets/file/{}?{query}", js_sys::encode_uri_component(filename))
}

/// Checks an asset name before it goes into a URL path, with the same rule as the server.
fn asset_path(filename: &str) -> Result<(String, &'static str), ApiError> {
    let name = parse_asset_name(filename).map_err(|m| ApiError::new("invalid_field", format!("filename: {m}")))?;
    Ok((format!("/api/v1/assets/file/{filename}"), name.content_type))
}

/// `PUT /api/v1/assets/file/{filename}`: the file's bytes with the type its name implies.
pub async fn put_asset(filename: &str, file: web_sys::File) -> Result<AssetInfo, ApiError> {
    let (url, content_type) = asset_path(filename)?;
    let request = with_csrf(Request::put(&url)).header("Content-Type", content_type).body(file);
    send(request, On401::SignIn).await
}

/// `DELETE /api/v1/assets/file/{filename}`
pub async fn delete_asset(filename: &str) -> Result<(), ApiError> {
    let (url, _) = asset_path(filename)?;
    send(with_csrf(Request::delete(&url)).build(), On401::SignIn).await
}
