//! `--profile original`: the simulated controllers speak as controllers built for the original
//! Go hub do (its README, `../shared/spec/original-readme.md`): events carry `details_json` as a
//! JSON string and a `source`, and no `occurred_at`; a controller starting up fetches its
//! controller.yaml and recovery bundle with its retrieval password, posts `controller_started`
//! and tells the operator through the legacy `/notify` relay. Infra backups and preferences have
//! the same shape in both profiles.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::fleet::Shared;
use crate::hub::{Hub, Optional};
use crate::node::SimEvent;

/// Which hub the controllers are built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Profile {
    /// This hub's shapes (`details` as an object, `occurred_at`).
    #[default]
    Current,
    /// The original Go hub's shapes.
    Original,
}

/// A customer's credentials, as the operator handed them to the controller.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Credential {
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub retrieval_password: Option<String>,
}

/// Reads `{"<customer id>": {"api_key": "…", "retrieval_password": "…"}, …}`.
pub fn read_credentials(path: &Path) -> Result<HashMap<String, Credential>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a JSON object of credentials", path.display()))
}

/// The body of `POST /api/v1/event` for `event` in `profile`.
pub fn event_body(profile: Profile, customer_id: &str, event: &SimEvent) -> Value {
    match profile {
        Profile::Current => json!({
            "customer_id": customer_id,
            "event_type": event.event_type,
            "severity": event.severity,
            "message": event.message,
            "details": event.details,
            "occurred_at": event.occurred_at,
        }),
        Profile::Original => json!({
            "customer_id": customer_id,
            "event_type": event.event_type,
            "severity": event.severity,
            "message": event.message,
            "details_json": event.details.to_string(),
            "source": "controller",
        }),
    }
}

/// What every node does when its controller starts, in the original profile: fetch its config
/// and recovery bundle (when it has a retrieval password), then announce itself.
pub async fn start_up(hub: &Hub, fleet: &Shared, credentials: &HashMap<String, Credential>) {
    let nodes: Vec<(String, String, String)> = {
        let nodes = fleet.lock().expect("fleet lock");
        nodes.iter().map(|n| (n.customer_id.clone(), n.hostname.clone(), n.version.clone())).collect()
    };
    for (id, hostname, version) in nodes {
        if let Some(password) = credentials.get(&id).and_then(|c| c.retrieval_password.as_deref()) {
            match hub.retrieve(&id, password).await {
                Ok(yaml) => {
                    if !carries_key(&yaml, credentials.get(&id).and_then(|c| c.api_key.as_deref())) {
                        hub.failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::warn!(customer_id = %id, "the retrieved controller.yaml carries another API key");
                    }
                }
                Err(e) => tracing::warn!(customer_id = %id, error = %e, "config retrieval failed"),
            }
        }
        let started = json!({
            "customer_id": id,
            "event_type": "controller_started",
            "severity": "info",
            "message": format!("felhom-controller {version} started on {hostname}"),
            "details_json": json!({"version": version, "hostname": hostname}).to_string(),
            "source": "controller",
        });
        if let Err(e) = hub.post_optional(Optional::Event, &id, &started).await {
            tracing::warn!(error = %e, "controller_started failed");
        }
        let notify = json!({
            "customer_id": id,
            "subject": format!("{hostname}: felhom-controller started"),
            "message": format!("felhom-controller {version} started on {hostname}"),
            "severity": "info",
        });
        if let Err(e) = hub.post_optional(Optional::Notify, &id, &notify).await {
            tracing::warn!(error = %e, "notify failed");
        }
    }
}

/// Whether a retrieved controller.yaml carries the key the controller has (if it has one).
fn carries_key(yaml: &str, api_key: Option<&str>) -> bool {
    let doc: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap_or_default();
    let key = doc.get("hub").and_then(|h| h.get("api_key")).and_then(|k| k.as_str());
    api_key.is_none_or(|expected| key == Some(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_events_carry_details_json_as_a_string_and_a_source() {
        let event = SimEvent {
            event_type: "backup_failed",
            severity: "error",
            message: "restic exited 1".into(),
            details: json!({"exit_code": 1}),
            occurred_at: chrono::Utc::now(),
        };
        let body = event_body(Profile::Original, "sim-0001", &event);
        assert_eq!(body["details_json"], r#"{"exit_code":1}"#);
        assert_eq!(body["source"], "controller");
        assert!(body.get("details").is_none() && body.get("occurred_at").is_none());
        let current = event_body(Profile::Current, "sim-0001", &event);
        assert_eq!(current["details"]["exit_code"], 1);
    }
}
