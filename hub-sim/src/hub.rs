//! The client the simulated controllers talk to the hub with. Endpoints that newer hubs add
//! (events, infra backups, preferences) are optional: a 404 means "not there yet", logged once,
//! and later posts to it are skipped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

/// The optional endpoints, in the order of [`Hub::missing`].
#[derive(Debug, Clone, Copy)]
pub enum Optional {
    Event = 0,
    InfraBackup = 1,
    Preferences = 2,
}

impl Optional {
    fn path(self) -> &'static str {
        match self {
            Optional::Event => "/api/v1/event",
            Optional::InfraBackup => "/api/v1/infra-backup",
            Optional::Preferences => "/api/v1/preferences",
        }
    }
}

#[derive(Clone)]
pub struct Hub {
    client: reqwest::Client,
    base: String,
    auth: String,
    missing: Arc<[AtomicBool; 3]>,
    pub reports: Arc<AtomicU64>,
    pub optional_posts: Arc<AtomicU64>,
    pub failures: Arc<AtomicU64>,
}

impl Hub {
    pub fn new(base: &str, key: &str) -> Result<Hub> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Hub {
            client,
            base: base.trim_end_matches('/').to_string(),
            auth: format!("Bearer {key}"),
            missing: Arc::new([AtomicBool::new(false), AtomicBool::new(false), AtomicBool::new(false)]),
            reports: Arc::default(),
            optional_posts: Arc::default(),
            failures: Arc::default(),
        })
    }

    /// Posts a report; an error says what the hub answered.
    pub async fn report(&self, report: &ReportIn) -> Result<()> {
        let resp = self
            .client
            .post(format!("{}/api/v1/report", self.base))
            .header("authorization", &self.auth)
            .json(report)
            .send()
            .await
            .context("cannot reach the hub")?;
        let status = resp.status();
        if !status.is_success() {
            self.failures.fetch_add(1, Ordering::Relaxed);
            let body = resp.text().await.unwrap_or_default();
            bail!("report of {} refused: {status} {body}", report.customer_id);
        }
        self.reports.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Posts to an optional endpoint; skipped once the hub said it does not have it.
    pub async fn post_optional<T: Serialize>(&self, which: Optional, body: &T) -> Result<()> {
        let flag = &self.missing[which as usize];
        if flag.load(Ordering::Relaxed) {
            return Ok(());
        }
        let resp = self
            .client
            .post(format!("{}{}", self.base, which.path()))
            .header("authorization", &self.auth)
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
        bail!("{} refused: {status} {body}", which.path());
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
}
