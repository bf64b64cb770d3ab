//! The registry watch against a stand-in registry on 127.0.0.1:0 that speaks the Docker Registry
//! HTTP API v2 as Gitea does: a tag list answered only with a bearer token, the token fetched
//! from the challenge's realm with basic auth, and the tags split over pages with `Link`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::{TimeZone, Utc};
use hub_api::jobs::{Job, RegistryWatch};
use hub_api::store::RegistryLatest;
use serde_json::json;

use crate::helpers::*;

const IMAGE_NAME: &str = "admin/felhom-controller";
const USER: &str = "hub";
const PASSWORD_TOKEN: &str = "registry-password-0123456789";
/// The bearer token the stand-in hands out; it must never appear in an error.
const BEARER: &str = "bearer-token-abcdefghijklmnop";

#[derive(Clone)]
struct Registry {
    base: String,
    token_requests: Arc<AtomicUsize>,
}

/// The stand-in: `/v2/<name>/tags/list` (two pages) for the bearer token only, `/token` for
/// the right basic auth only.
async fn stand_in() -> Registry {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let registry = Registry { base, token_requests: Arc::new(AtomicUsize::new(0)) };
    let app = Router::new()
        .route(&format!("/v2/{IMAGE_NAME}/tags/list"), get(tags))
        .route("/token", get(token))
        .with_state(registry.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    registry
}

async fn tags(State(r): State<Registry>, headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {BEARER}")) {
        let challenge = format!(
            r#"Bearer realm="{}/token",service="container_registry",scope="repository:{IMAGE_NAME}:pull""#,
            r.base
        );
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)], "{\"errors\":[]}").into_response();
    }
    let last = q.iter().find(|(k, _)| k == "last").map(|(_, v)| v.as_str());
    match last {
        None => (
            [(header::LINK, format!(r#"</v2/{IMAGE_NAME}/tags/list?n=100&last=1.9.3>; rel="next""#))],
            Json(json!({"name": IMAGE_NAME, "tags": ["1.2.0", "latest", "1.9.3"]})),
        )
            .into_response(),
        Some("1.9.3") => Json(json!({"name": IMAGE_NAME, "tags": ["v1.10.0", "1.11.0-rc.1", "main"]})).into_response(),
        Some(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn token(State(r): State<Registry>, headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    r.token_requests.fetch_add(1, Ordering::SeqCst);
    let basic =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD_TOKEN}")));
    let scope_ok = q.iter().any(|(k, v)| k == "scope" && v == &format!("repository:{IMAGE_NAME}:pull"));
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(basic.as_str()) || !scope_ok {
        return (StatusCode::UNAUTHORIZED, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}").into_response();
    }
    Json(json!({"token": BEARER, "expires_in": 300})).into_response()
}

async fn hub_for(registry: &Registry, password: &str) -> TestHub {
    let image = format!("{}/{IMAGE_NAME}", registry.base.trim_start_matches("http://"));
    let password = password.to_string();
    spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.registry.image = image;
            raw.registry.image_allow_http = true;
            raw.registry.username = USER.into();
            raw.registry.token = password.into();
        })),
    })
    .await
}

#[tokio::test]
async fn the_registry_watch_answers_the_token_challenge_and_keeps_the_newest_release() {
    let registry = stand_in().await;
    let mut hub = hub_for(&registry, PASSWORD_TOKEN).await;
    let t0 = Utc.timestamp_millis_opt(1_790_000_000_000).unwrap();

    let summary = RegistryWatch.run_once(hub.state(), t0).await.unwrap();
    assert!(summary.contains("v1.10.0"), "{summary}");
    let stored = hub.state().store().setting("registry.latest").await.unwrap().unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored, json!({"version": "v1.10.0", "seen_at": t0.timestamp_millis()}), "pre-releases are passed over");
    assert_eq!(registry.token_requests.load(Ordering::SeqCst), 1, "one token serves both pages");

    // Seen again later: unchanged, and still seen first at t0.
    let later = t0 + chrono::Duration::hours(1);
    assert!(RegistryWatch.run_once(hub.state(), later).await.unwrap().contains("unchanged"));
    let latest = hub.state().store().registry_latest().await.unwrap().unwrap();
    assert_eq!(latest, RegistryLatest { version: "v1.10.0".into(), seen_at: t0.timestamp_millis() });
    hub.stop().await;
}

#[tokio::test]
async fn wrong_registry_credentials_fail_the_run_without_showing_a_secret() {
    let registry = stand_in().await;
    let mut hub = hub_for(&registry, "wrong-password-0123456789").await;
    let before = RegistryLatest { version: "1.4.2".into(), seen_at: 5 };
    hub.state().store().put_registry_latest(&before).await.unwrap();

    let err = RegistryWatch.run_once(hub.state(), Utc::now()).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("refused the credentials"), "{message}");
    for secret in ["wrong-password-0123456789", BEARER] {
        assert!(!message.contains(secret), "{message}");
    }
    assert_eq!(
        hub.state().store().registry_latest().await.unwrap(),
        Some(before),
        "a failed run keeps the known version"
    );
    hub.stop().await;
}

#[tokio::test]
async fn an_empty_image_switches_the_watch_off() {
    let mut hub =
        spawn_hub_with(Options { password: true, tweak: Some(Box::new(|raw| raw.registry.image = String::new())) })
            .await;
    assert!(!RegistryWatch.enabled(hub.state()));
    assert!(RegistryWatch.run_once(hub.state(), Utc::now()).await.unwrap().contains("off"));
    hub.login().await;
    let jobs = hub.get_json("/api/v1/jobs", 200).await;
    let watch = jobs["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "registry_watch").unwrap().clone();
    assert_eq!(watch["schedule"], "off");
    assert!(watch["next_due_at"].is_null(), "a job that is off is never due: {watch}");
    hub.stop().await;
}
