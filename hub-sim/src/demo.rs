//! What `cargo xtask run --demo` adds to a simulated fleet so the fleet views have something to
//! show: configs for the first nodes (the hub then calls their controllers with their own keys),
//! the hub's config pushed to every second one of them after the first reports (the others keep
//! their own config, so they have drifted), and a drift check. The hub must run without a
//! password (the operator API is then open on loopback, with the session's CSRF token).

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::fleet::Shared;
use crate::hub::error_text;

/// The operator's side of a hub without a password.
pub struct Operator {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

impl Operator {
    pub async fn open(base: &str) -> Result<Operator> {
        let client = reqwest::Client::new();
        let base = base.trim_end_matches('/').to_string();
        let session: Value = client.get(format!("{base}/api/v1/auth/session")).send().await?.json().await?;
        let Some(csrf) = session["csrf_token"].as_str() else {
            bail!("the hub wants a password: --manage needs a hub without one (as `cargo xtask run --demo` starts)");
        };
        Ok(Operator { client, base, csrf: csrf.to_string() })
    }

    async fn post(&self, path: &str, body: Option<Value>) -> Result<Value> {
        let mut request = self.client.post(format!("{}{path}", self.base)).header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request.send().await.with_context(|| format!("POST {path}"))?;
        let status = res.status();
        let text = res.text().await?;
        if !status.is_success() {
            bail!("POST {path}: {status} {}", error_text(&text));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates configs for the first `n` nodes and gives each node its new key; returns the
    /// keys by customer id (their reports are posted with them).
    pub async fn manage(&self, fleet: &Shared, n: usize) -> Result<HashMap<String, String>> {
        let ids: Vec<String> =
            fleet.lock().expect("fleet").iter().take(n).map(|node| node.customer_id.clone()).collect();
        let mut keys = HashMap::new();
        for id in ids {
            let body =
                json!({"customer_id": id, "display_name": format!("Demo {id}"), "domain": format!("{id}.felhom.eu")});
            let created = self.post("/api/v1/configs", Some(body)).await?;
            let key = created["api_key"].as_str().context("the created config has no api_key")?.to_string();
            if let Some(node) = fleet.lock().expect("fleet").iter_mut().find(|node| node.customer_id == id) {
                node.key = key.clone();
            }
            keys.insert(id, key);
        }
        Ok(keys)
    }

    /// Pushes the hub's config to every second managed node, then checks the fleet for drift.
    pub async fn push_half_and_check(&self, managed: &[String]) -> Result<Value> {
        for id in managed.iter().step_by(2) {
            if let Err(e) = self.post(&format!("/api/v1/configs/{id}/push"), None).await {
                tracing::warn!(customer = %id, error = %e, "demo: push failed");
            }
        }
        self.post("/api/v1/fleet/drift/check", None).await
    }
}
