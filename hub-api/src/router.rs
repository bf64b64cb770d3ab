//! Every route of the hub, wired in one place. API routes are registered through utoipa-axum's
//! `routes!`, so the OpenAPI document cannot forget one.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::AppError;
use crate::metrics::Metrics;
use crate::openapi::{self, ApiDoc};
use crate::routes;
use crate::spa;
use crate::state::AppState;

/// JSON bodies larger than this get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The API routes and the OpenAPI document that describes them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::health::healthz))
        .routes(routes!(routes::metrics::get_metrics))
        .routes(routes!(routes::report::post_report))
        .routes(routes!(routes::customers::list_customers))
        .routes(routes!(routes::customers::get_customer))
        .routes(routes!(routes::customers::get_history))
        .routes(routes!(routes::fleet::get_versions))
        .routes(routes!(routes::fleet::check_drift))
        .routes(routes!(routes::rollouts::start_rollout, routes::rollouts::list_rollouts))
        .routes(routes!(routes::rollouts::get_rollout))
        .routes(routes!(routes::rollouts::pause_rollout))
        .routes(routes!(routes::rollouts::resume_rollout))
        .routes(routes!(routes::rollouts::abort_rollout))
        .routes(routes!(routes::events::post_event))
        .routes(routes!(routes::events::list_events))
        .routes(routes!(routes::events::list_customer_events))
        .routes(routes!(routes::notifications::post_preferences))
        .routes(routes!(routes::notifications::get_preferences))
        .routes(routes!(routes::notifications::list_notifications))
        .routes(routes!(routes::notifications::post_notify))
        .routes(routes!(routes::notifications::test_channel))
        .routes(routes!(routes::maintenance::list_maintenance, routes::maintenance::create_maintenance))
        .routes(routes!(
            routes::maintenance::get_maintenance,
            routes::maintenance::update_maintenance,
            routes::maintenance::delete_maintenance
        ))
        .routes(routes!(routes::alerts::list_alerts))
        .routes(routes!(routes::alerts::ack_alert))
        .routes(routes!(routes::jobs::list_jobs))
        .routes(routes!(routes::stream::get_stream))
        .routes(routes!(routes::auth::logout))
        .routes(routes!(routes::assets::get_manifest))
        .routes(routes::assets::file_routes(routes!(
            routes::assets::get_file,
            routes::assets::put_file,
            routes::assets::delete_file
        )))
        .routes(routes!(routes::configs::get_config, routes::configs::update_config, routes::configs::delete_config))
        .routes(routes!(routes::config_actions::block_config))
        .routes(routes!(routes::config_actions::unblock_config))
        .routes(routes!(routes::config_actions::clear_recovery_lockout))
        .routes(routes!(routes::controllers::push_config))
        .routes(routes!(routes::controllers::update_controller))
        .routes(routes!(routes::controllers::accept_controller_address))
        .routes(routes!(routes::audit::list_audit))
        .merge(secret_routes())
        .merge(infra_push())
        .split_for_parts();
    openapi::finish(&mut doc);
    (router, doc)
}

/// The routes whose answers carry a secret (credentials, the CSRF token, generated configs,
/// recovery bundles, infra backups with restic passwords): `Cache-Control: no-store` on every
/// answer, refusals included.
fn secret_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::auth::login))
        .routes(routes!(routes::auth::get_session))
        .routes(routes!(routes::configs::create_config, routes::configs::list_configs))
        .routes(routes!(routes::config_actions::rotate_api_key))
        .routes(routes!(routes::config_actions::rotate_retrieval_password))
        .routes(routes!(routes::config_actions::set_credentials))
        .routes(routes!(routes::config_actions::reveal_credentials))
        .routes(routes!(routes::config_actions::preview_config))
        .routes(routes!(routes::config_actions::create_config_from_report))
        .routes(routes!(routes::controllers::diff_config))
        .routes(routes!(routes::controllers::pull_config))
        .routes(routes!(routes::confirm::get_confirmation, routes::confirm::confirm_email))
        .routes(routes!(routes::recovery::get_config_yaml))
        .routes(routes!(routes::recovery::get_recovery))
        .routes(routes!(routes::infra::get_infra_backup))
        .routes(routes!(routes::infra::list_infra_backups))
        .layer(axum::middleware::map_response(crate::headers::no_store))
}

/// `POST /api/v1/infra-backup` with its own body limit (10 MiB instead of 1 MiB): the inner
/// limit is set after the global one, so it wins for this route only.
fn infra_push() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::infra::post_infra_backup))
        .layer(DefaultBodyLimit::max(routes::infra::INFRA_BODY_LIMIT))
}

/// The OpenAPI document as `felhom-hub openapi` prints it.
pub fn openapi_json() -> String {
    let (_, doc) = api();
    doc.to_pretty_json().expect("the OpenAPI document serializes")
}

/// The whole application: API, documentation, the web app, and the middleware around them.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api();
    let metrics = state.metrics().clone();
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", doc))
        .route_layer(axum::middleware::from_fn(mark_route))
        .fallback(spa::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CompressionLayer::new().gzip(true).compress_when(compress_predicate()))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn(crate::headers::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(axum::middleware::from_fn_with_state(metrics, observe))
        .layer(TraceLayer::new_for_http().make_span_with(request_span).on_request(()).on_response(()).on_failure(()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()))
}

/// The span every request is served in: its fields are on every log line written meanwhile
/// (`route` once routed, `customer_id` once a handler knows it, see [`crate::logging`]).
fn request_span(req: &Request<axum::body::Body>) -> tracing::Span {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
        route = tracing::field::Empty,
        customer_id = tracing::field::Empty,
    )
}

/// The route template a request matched (`/api/v1/customers/{id}`), kept on the answer for the
/// line that closes the request and for the metrics.
#[derive(Debug, Clone)]
pub struct RouteTemplate(pub std::sync::Arc<str>);

/// The label of requests that matched no API route (the web app, unknown paths).
pub const OTHER_ROUTE: &str = "other";

async fn mark_route(path: MatchedPath, req: Request<axum::body::Body>, next: axum::middleware::Next) -> Response {
    tracing::Span::current().record("route", path.as_str());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(RouteTemplate(path.as_str().into()));
    res
}

/// Counts every answer in the metrics (a refused report also by its reason) and writes the one
/// line that closes every request, inside its span: status and latency beside the request id,
/// route and customer.
async fn observe(
    State(metrics): State<Metrics>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let res = next.run(req).await;
    let latency = started.elapsed();
    let status = res.status().as_u16();
    let route = res.extensions().get::<RouteTemplate>().map_or_else(|| OTHER_ROUTE.into(), |r| r.0.clone());
    if method == axum::http::Method::POST && &*route == REPORT_ROUTE && !res.status().is_success() {
        metrics.report_refused(status);
    }
    metrics.http_request(method.as_str(), route, status, latency);
    let latency_ms = (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    if res.status().is_server_error() {
        tracing::warn!(status, latency_ms, "request finished");
    } else {
        tracing::info!(status, latency_ms, "request finished");
    }
    res
}

const REPORT_ROUTE: &str = "/api/v1/report";

/// The default rules, except for files served with byte ranges (assets): they keep their
/// stored bytes, so their strong ETag, `Content-Length` and ranges all describe the same bytes.
fn compress_predicate() -> impl tower_http::compression::Predicate {
    use axum::http::{header, Extensions, HeaderMap, Version};
    use tower_http::compression::predicate::{DefaultPredicate, Predicate};
    let no_ranges =
        |_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions| !headers.contains_key(header::ACCEPT_RANGES);
    DefaultPredicate::new().and(no_ranges)
}

/// Errors made by middleware (a timeout, a rejected body) come without a body; give them the
/// same `ApiError` body every other error has.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(axum::http::header::CONTENT_TYPE)
    {
        return response;
    }
    let (code, message) = match status {
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the request took too long; try again".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body too large".to_string()),
        other => ("error", other.canonical_reason().unwrap_or("error").to_string()),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = axum::Json(hub_shared::ApiError::new(code, message)).into_response();
    let (body_parts, body) = body.into_parts();
    parts.headers.extend(body_parts.headers);
    Response::from_parts(parts, body)
}

async fn method_not_allowed(req: Request<axum::body::Body>) -> Response {
    let body = hub_shared::ApiError::new(
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    );
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}
