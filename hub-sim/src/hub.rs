//! The client the simulated controllers talk to the hub with. Endpoints that newer hubs add
//! (events, infra backups, preferences, the legacy relay) are optional: a 404 means "not there
//! yet", logged once, and later posts to it are skipped. A node with its own key posts with it,
//! as controllers in the field do; the others use the global key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hub_shared::report::ReportIn;
use serde::Serialize;

/// Whether an answer means the route does not exist (rather than, say, an unknown customer):
/// 405, or a 404 from the hub's fallback ("no API endpoint ...") or without the hub's JSON error.
fn endpoint_missing(status: reqwest::StatusCode, body: &str) -> bool {
    if status == reqwest::StatusCode::METHOD_NOT_ALLOWED {
        return true;
    }
    if status != reqwest::StatusCode::NOT_FOUND {
        return false;
    }
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string));
    message.is_none_or(|m| m.starts_with("no API endpoint"))
}

/// What an error answer says: the original hub's `error`, else `message`, else the body.
pub fn error_text(body: &str) -> String {
    let value = serde_json::from_str::<serde_json::Value>(body).ok();
    let field = |name: &str| value.as_ref().and_then(|v| v.get(name)).and_then(|m| m.as_str()).map(str::to_string);
    field("error").or_else(|| field("message")).unwrap_or_else(|| body.to_string())
}

/// The optional endpoints, in the order of [`Hub::missing`].
#[derive(Debug, Clone, Copy)]
pub enum Optional {
    Event = 0,
    InfraBackup = 1,
    Preferences = 2,
    Notify = 3,
}

impl Optional {
    fn path(self) -> &'static str {
        match self {
            Optional::Event => "/api/v1/event",
            Optional::InfraBackup => "/api/v1/infra-backup",
            Optional::Preferences => "/api/v1/preferences",
            Optional::Notify => "/api/v1/notify",
        }
    }
}

#[derive(Clone)]
pub struct Hub {
    client: reqwest::Client,
    base: String,
    auth: String,
    /// Per-customer API keys, by customer id.
    keys: Arc<HashMap<String, String>>,
    missing: Arc<[AtomicBool; 4]>,
    pub reports: Arc<AtomicU64>,
    /// Reports the hub answered with an error.
    pub refused_reports: Arc<AtomicU64>,
    /// How long each accepted report took, in microseconds, from sending to the answer.
    report_latencies: Arc<Mutex<Vec<u32>>>,
    pub optional_posts: Arc<AtomicU64>,
    pub retrievals: Arc<AtomicU64>,
    pub failures: Arc<AtomicU64>,
}

impl Hub {
    /// A client posting with `key` (the global key), or with a customer's own key from `keys`.
    pub fn new(base: &str, key: &str, keys: HashMap<String, String>) -> Result<Hub> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Hub {
            client,
            base: base.trim_end_matches('/').to_string(),
            auth: format!("Bearer {key}"),
            keys: Arc::new(keys),
            missing: Arc::new(std::array::from_fn(|_| AtomicBool::new(false))),
            reports: Arc::default(),
            refused_reports: Arc::default(),
            report_latencies: Arc::default(),
            optional_posts: Arc::default(),
            retrievals: Arc::default(),
            failures: Arc::default(),
        })
    }

    /// The `Authorization` value of `customer_id`'s posts.
    fn auth(&self, customer_id: &str) -> String {
        self.keys.get(customer_id).map_or_else(|| self.auth.clone(), |key| format!("Bearer {key}"))
    }

    /// Whether `customer_id` posts with its own key, so the hub has a config for it.
    pub fn has_own_key(&self, customer_id: &str) -> bool {
        self.keys.contains_key(customer_id)
    }

    /// One line of totals, printed when a run ends.
    pub fn totals(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "reports={} posts={} retrievals={} failures={}",
            n(&self.reports),
            n(&self.optional_posts),
            n(&self.retrievals),
            n(&self.failures)
        )
    }

    /// The accepted reports' latencies: `p50_ms=… p99_ms=… max_ms=…`.
    pub fn report_latency(&self) -> String {
        let mut all = self.report_latencies.lock().expect("latency lock").clone();
        all.sort_unstable();
        let pct = |p: f64| {
            let i = ((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1));
            all.get(i).map_or(0.0, |us| f64::from(*us) / 1000.0)
        };
        format!("p50_ms={:.2} p99_ms={:.2} max_ms={:.2}", pct(0.5), pct(0.99), pct(1.0))
    }

    /// Posts a report; an error says what the hub answered.
    pub async fn report(&self, report: &ReportIn) -> Result<()> {
        let started = Instant::now();
        let resp = self
            .client
            .post(format!("{}/api/v1/report", self.base))
            .header("authorization", self.auth(&report.customer_id))
            .json(report)
            .send()
            .await
            .context("cannot reach the hub")?;
        let status = resp.status();
        if !status.is_success() {
            self.failures.fetch_add(1, Ordering::Relaxed);
            self.refused_reports.fetch_add(1, Ordering::Relaxed);
            let body = resp.text().await.unwrap_or_default();
            bail!("report of {} refused: {status} {}", report.customer_id, error_text(&body));
        }
        // The answer is read too, as a controller does, before the report counts as done.
        let _ = resp.bytes().await;
        let micros = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        self.report_latencies.lock().expect("latency lock").push(micros);
        self.reports.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Posts for `customer_id` to an optional endpoint; skipped once the hub said it does not
    /// have it.
    pub async fn post_optional<T: Serialize>(&self, which: Optional, customer_id: &str, body: &T) -> Result<()> {
        let flag = &self.missing[which as usize];
        if flag.load(Ordering::Relaxed) {
            return Ok(());
        }
        let resp = self
            .client
            .post(format!("{}{}", self.base, which.path()))
            .header("authorization", self.auth(customer_id))
            .json(body)
            .send()
            .await
            .context("cannot reach the hub")?;
        let status = resp.status();
        if status.is_success() {
            self.optional_posts.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        if endpoint_missing(status, &body) {
            if !flag.swap(true, Ordering::Relaxed) {
                tracing::info!(path = which.path(), "the hub has no such endpoint yet; not posting to it");
            }
            return Ok(());
        }
        self.failures.fetch_add(1, Ordering::Relaxed);
        bail!("{} refused: {status} {}", which.path(), error_text(&body));
    }

    /// Fetches `customer_id`'s generated controller.yaml and its recovery bundle with the
    /// retrieval password, as a controller being set up or restored does; returns the YAML.
    pub async fn retrieve(&self, customer_id: &str, password: &str) -> Result<String> {
        let mut yaml = String::new();
        for path in [format!("/api/v1/config/{customer_id}"), format!("/api/v1/recovery/{customer_id}")] {
            let resp = self
                .client
                .get(format!("{}{path}", self.base))
                .header("x-retrieval-password", password)
                .send()
                .await
                .context("cannot reach the hub")?;
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            if !status.is_success() {
                self.failures.fetch_add(1, Ordering::Relaxed);
                bail!("{path} refused: {status} {}", error_text(&body));
            }
            if yaml.is_empty() {
                yaml = body;
            }
        }
        self.retrievals.fetch_add(1, Ordering::Relaxed);
        Ok(yaml)
    }

    /// Waits until the hub answers its health check, for at most `wait`.
    pub async fn wait_ready(&self, wait: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let ok = self.client.get(format!("{}/healthz", self.base)).send().await.is_ok();
            if ok {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("the hub at {} did not answer within {wait:?}", self.base);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::endpoint_missing;

    #[test]
    fn only_a_missing_route_counts_as_missing() {
        assert!(endpoint_missing(
            StatusCode::NOT_FOUND,
            r#"{"code":"not_found","message":"no API endpoint /api/v1/event"}"#
        ));
        assert!(endpoint_missing(StatusCode::NOT_FOUND, ""));
        assert!(endpoint_missing(StatusCode::METHOD_NOT_ALLOWED, ""));
        assert!(!endpoint_missing(StatusCode::NOT_FOUND, r#"{"code":"not_found","message":"unknown customer \"a\""}"#));
        assert!(!endpoint_missing(StatusCode::UNPROCESSABLE_ENTITY, ""));
    }

    #[test]
    fn errors_are_read_in_the_original_hubs_shape_first() {
        use super::error_text;
        assert_eq!(error_text(r#"{"ok":false,"error":"unknown API key","message":"x"}"#), "unknown API key");
        assert_eq!(error_text(r#"{"code":"not_found","message":"no such customer"}"#), "no such customer");
        assert_eq!(error_text("plain text"), "plain text");
    }
}
