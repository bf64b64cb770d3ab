//! The controller side of the hub's calls, for every simulated node on one local port:
//! `/c/<id>/api/config`, `/c/<id>/api/config/apply` and `/c/<id>/api/update`, each with the
//! node's key as Bearer auth. As strict as a real controller: a config must be YAML with a map
//! at the top and this node's `customer.id`, and an update must name a version the registry
//! has (422 with a message otherwise). Beside them, a public registry's tag list
//! (`/v2/<owner>/<name>/tags/list`) of the versions the updates accept, for the hub's registry
//! watch in the demo.

use std::sync::Arc;

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
use crate::node::Node;

/// The versions the simulated registry has: a node updates only to one of these.
pub const KNOWN_VERSIONS: &[&str] = &["1.7.9", "1.8.0", "1.8.2", "1.8.3", "1.8.4", "1.9.0"];

pub fn known_versions() -> Vec<String> {
    KNOWN_VERSIONS.iter().map(|v| v.to_string()).collect()
}

/// The nodes and the versions the registry has.
#[derive(Clone)]
struct Side {
    fleet: Shared,
    versions: Arc<Vec<String>>,
}

pub fn router(fleet: Shared, versions: Vec<String>) -> Router {
    Router::new()
        .route("/c/{id}/api/config", get(get_config))
        .route("/c/{id}/api/config/apply", post(apply_config))
        .route("/c/{id}/api/update", post(update))
        .route("/v2/{owner}/{name}/tags/list", get(tags))
        .with_state(Side { fleet, versions: Arc::new(versions) })
}

/// Serves the controller side of `fleet` on `listener` until the task is dropped (tests start
/// it on `127.0.0.1:0`; the nodes' `controller_url` must point at the listener).
pub async fn serve(listener: tokio::net::TcpListener, fleet: Shared, versions: Vec<String>) -> std::io::Result<()> {
    axum::serve(listener, router(fleet, versions)).await
}

type Refusal = (StatusCode, String);

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "code": status.as_u16().to_string(), "message": message }))).into_response()
}

fn answer<T: IntoResponse>(outcome: Result<T, Refusal>) -> Response {
    match outcome {
        Ok(ok) => ok.into_response(),
        Err((status, message)) => error(status, &message),
    }
}

/// Runs `f` on the node `id` once the Bearer key matches that node's key.
fn with_node<T>(
    fleet: &Shared,
    id: &str,
    headers: &HeaderMap,
    f: impl FnOnce(&mut Node) -> Result<T, Refusal>,
) -> Result<T, Refusal> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let mut nodes = fleet.lock().expect("fleet lock");
    let node = nodes.iter_mut().find(|n| n.customer_id == id).ok_or((StatusCode::NOT_FOUND, "no such node".into()))?;
    if presented.is_empty() || !bool::from(presented.as_bytes().ct_eq(node.key.as_bytes())) {
        return Err((StatusCode::UNAUTHORIZED, "missing or wrong node key".into()));
    }
    f(node)
}

fn unprocessable(message: String) -> Refusal {
    (StatusCode::UNPROCESSABLE_ENTITY, message)
}

async fn get_config(State(side): State<Side>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    answer(
        with_node(&side.fleet, &id, &headers, |n| Ok(n.config_yaml.clone()))
            .map(|yaml| ([(header::CONTENT_TYPE, "application/yaml")], yaml)),
    )
}

/// The YAML of an apply request: the body itself, or JSON `{"config_yaml": "..."}` /
/// `{"yaml": "..."}`.
fn config_text(body: &Bytes) -> Result<String, Refusal> {
    let text = String::from_utf8_lossy(body).to_string();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) if v.is_object() => match v.get("config_yaml").or_else(|| v.get("yaml")).and_then(|y| y.as_str()) {
            Some(y) => Ok(y.to_string()),
            None => Err(unprocessable("config_yaml is missing".into())),
        },
        _ => Ok(text),
    }
}

/// Refuses a config that is not YAML with a map at the top, or that is for another customer.
fn check_config(node: &Node, yaml: &str) -> Result<(), Refusal> {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(yaml).map_err(|e| unprocessable(format!("config_yaml is not YAML: {e}")))?;
    if !doc.is_mapping() {
        return Err(unprocessable("the config's top level is not a map".into()));
    }
    match doc.get("customer").and_then(|c| c.get("id")).and_then(|id| id.as_str()) {
        Some(id) if id == node.customer_id => Ok(()),
        Some(id) => Err(unprocessable(format!(
            "this controller belongs to customer {:?}; the config is for customer {id:?}",
            node.customer_id
        ))),
        None => Err(unprocessable("the config has no customer.id".into())),
    }
}

async fn apply_config(State(side): State<Side>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    answer(with_node(&side.fleet, &id, &headers, |n| {
        let yaml = config_text(&body)?;
        check_config(n, &yaml)?;
        n.apply_config(yaml, Utc::now());
        Ok(Json(json!({ "ok": true, "message": "configuration applied" })))
    }))
}

/// Accepts `{"version": "x.y.z"}` or an empty body (the next patch release), if the registry
/// has that version.
/// The registry's tags: the versions an update accepts, and `latest`.
async fn tags(State(side): State<Side>, Path((owner, name)): Path<(String, String)>) -> Response {
    let mut tags: Vec<String> = side.versions.as_ref().clone();
    tags.push("latest".into());
    Json(json!({ "name": format!("{owner}/{name}"), "tags": tags })).into_response()
}

async fn update(State(side): State<Side>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let version = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("version").and_then(|v| v.as_str()).map(str::to_string));
    answer(with_node(&side.fleet, &id, &headers, |n| {
        let target = version.unwrap_or_else(|| crate::node::next_patch(&n.version));
        if !side.versions.contains(&target) {
            return Err(unprocessable(format!(
                "the registry has no version {target:?}; it has {}",
                side.versions.join(", ")
            )));
        }
        let version = n.update(Some(target), Utc::now());
        Ok(Json(json!({ "ok": true, "version": version, "message": format!("updating to {version}") })))
    }))
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
        let resp = router(fleet.clone(), known_versions()).oneshot(req).await.unwrap();
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

        let (status, answer) = call(&fleet, "POST", "/c/sim-0001/api/update", &key, r#"{"version":"1.9.0"}"#).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let mut nodes = fleet.lock().unwrap();
        assert_eq!(nodes[1].report(Utc::now()).controller_version.as_deref(), Some("1.9.0"));
        let events = nodes[1].advance(Utc::now().timestamp_millis() + 1000);
        let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
        assert!(types.contains(&"config_applied") && types.contains(&"controller_updated"), "{types:?}");
    }

    #[tokio::test]
    async fn the_registry_lists_the_versions_an_update_accepts() {
        let (fleet, _) = fleet();
        let (status, body) = call(&fleet, "GET", "/v2/felhom/controller/tags/list", "", "").await;
        assert_eq!(status, StatusCode::OK);
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(list["name"], "felhom/controller");
        let tags: Vec<&str> = list["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert!(tags.contains(&"1.9.0") && tags.contains(&"latest"), "{tags:?}");
    }

    #[tokio::test]
    async fn a_config_for_another_customer_is_refused() {
        let (fleet, key) = fleet();
        let before = call(&fleet, "GET", "/c/sim-0001/api/config", &key, "").await.1;
        for (body, says) in [
            ("customer:\n  id: sim-0000\n", "the config is for customer \\\"sim-0000"),
            ("node:\n  hostname: x\n", "no customer.id"),
            ("- a\n- b\n", "not a map"),
        ] {
            let (status, answer) = call(&fleet, "POST", "/c/sim-0001/api/config/apply", &key, body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(answer.contains(says), "{answer}");
        }
        assert_eq!(call(&fleet, "GET", "/c/sim-0001/api/config", &key, "").await.1, before, "nothing applied");
        // Without the node's key, nothing is looked at.
        let wrong = call(&fleet, "POST", "/c/sim-0001/api/config/apply", "nope", "customer:\n  id: sim-0000\n").await;
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn an_update_to_a_version_the_registry_lacks_is_refused() {
        let (fleet, key) = fleet();
        let running = fleet.lock().unwrap()[1].version.clone();
        let (status, answer) = call(&fleet, "POST", "/c/sim-0001/api/update", &key, r#"{"version":"2.0.0"}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(answer.contains("no version \\\"2.0.0"), "{answer}");
        assert_eq!(fleet.lock().unwrap()[1].version, running, "not updated");
        assert!(fleet.lock().unwrap()[1].pending.is_empty(), "no event queued");
        // An empty body is the next patch release, which the registry has.
        let (status, answer) = call(&fleet, "POST", "/c/sim-0001/api/update", &key, "").await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(fleet.lock().unwrap()[1].version, crate::node::next_patch(&running));
    }
}
