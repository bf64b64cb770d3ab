//! The controller side of the hub's calls, for every simulated node on one local port:
//! `/c/<id>/api/config`, `/c/<id>/api/config/apply` and `/c/<id>/api/update`, each with the
//! node's key as Bearer auth.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use chrono::Utc;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::fleet::Shared;

pub fn router(fleet: Shared) -> Router {
    Router::new()
        .route("/c/{id}/api/config", get(get_config))
        .route("/c/{id}/api/config/apply", post(apply_config))
        .route("/c/{id}/api/update", post(update))
        .with_state(fleet)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "code": status.as_u16().to_string(), "message": message }))).into_response()
}

/// Runs `f` on the node `id` once the Bearer key matches that node's key.
fn with_node<T>(
    fleet: &Shared,
    id: &str,
    headers: &HeaderMap,
    f: impl FnOnce(&mut crate::node::Node) -> T,
) -> Result<T, (StatusCode, &'static str)> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let mut nodes = fleet.lock().expect("fleet lock");
    let node = nodes.iter_mut().find(|n| n.customer_id == id).ok_or((StatusCode::NOT_FOUND, "no such node"))?;
    if presented.is_empty() || !bool::from(presented.as_bytes().ct_eq(node.key.as_bytes())) {
        return Err((StatusCode::UNAUTHORIZED, "missing or wrong node key"));
    }
    Ok(f(node))
}

async fn get_config(State(fleet): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    match with_node(&fleet, &id, &headers, |n| n.config_yaml.clone()) {
        Ok(yaml) => ([(header::CONTENT_TYPE, "application/yaml")], yaml).into_response(),
        Err((status, message)) => error(status, message),
    }
}

/// Accepts the YAML itself, or JSON `{"config_yaml": "..."}` / `{"yaml": "..."}`.
async fn apply_config(
    State(fleet): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).to_string();
    let yaml = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) if v.is_object() => match v.get("config_yaml").or_else(|| v.get("yaml")).and_then(|y| y.as_str()) {
            Some(y) => y.to_string(),
            None => return error(StatusCode::UNPROCESSABLE_ENTITY, "config_yaml is missing"),
        },
        _ => text,
    };
    if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(&yaml) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("config_yaml is not YAML: {e}"));
    }
    match with_node(&fleet, &id, &headers, |n| n.apply_config(yaml, Utc::now())) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err((status, message)) => error(status, message),
    }
}

/// Accepts `{"version": "x.y.z"}` or an empty body (the next patch release).
async fn update(State(fleet): State<Shared>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let version = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("version").and_then(|v| v.as_str()).map(str::to_string));
    match with_node(&fleet, &id, &headers, |n| n.update(version, Utc::now())) {
        Ok(version) => Json(json!({ "ok": true, "version": version })).into_response(),
        Err((status, message)) => error(status, message),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn fleet() -> (Shared, String) {
        let now = Utc::now();
        let nodes = crate::node::fleet(1, 3, "http://127.0.0.1:1", now, now);
        let key = nodes[1].key.clone();
        (Arc::new(Mutex::new(nodes)), key)
    }

    async fn call(fleet: &Shared, method: &str, uri: &str, key: &str, body: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {key}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = router(fleet.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).to_string())
    }

    #[tokio::test]
    async fn serves_config_apply_and_update_with_the_node_key_only() {
        let (fleet, key) = fleet();
        let (status, yaml) = call(&fleet, "GET", "/c/sim-0001/api/config", &key, "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(yaml.contains("id: sim-0001"));
        // Another node's key, or none, is refused.
        assert_eq!(call(&fleet, "GET", "/c/sim-0000/api/config", &key, "").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(call(&fleet, "GET", "/c/sim-0001/api/config", "", "").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(call(&fleet, "GET", "/c/nope/api/config", &key, "").await.0, StatusCode::NOT_FOUND);

        let body = r#"{"config_yaml":"customer:\n  id: sim-0001\nnew: true\n"}"#;
        assert_eq!(call(&fleet, "POST", "/c/sim-0001/api/config/apply", &key, body).await.0, StatusCode::OK);
        assert!(call(&fleet, "GET", "/c/sim-0001/api/config", &key, "").await.1.contains("new: true"));
        let bad = call(&fleet, "POST", "/c/sim-0001/api/config/apply", &key, "a: [unclosed").await;
        assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY);

        let (status, answer) = call(&fleet, "POST", "/c/sim-0001/api/update", &key, r#"{"version":"2.0.0"}"#).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let mut nodes = fleet.lock().unwrap();
        assert_eq!(nodes[1].report(Utc::now()).controller_version.as_deref(), Some("2.0.0"));
        let events = nodes[1].advance(Utc::now().timestamp_millis() + 1000);
        let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
        assert!(types.contains(&"config_applied") && types.contains(&"controller_updated"), "{types:?}");
    }
}
