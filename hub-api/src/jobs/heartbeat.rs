//! The hub's own heartbeat: every minute the leading replica GETs `alerting.heartbeat_url` (a
//! Healthchecks-style dead man's switch), so the operator learns when the hub itself is down.
//! Off while the URL is empty. An error names only the URL's host: its path or query may hold
//! the check's key.

use std::time::Duration;

use anyhow::bail;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::state::AppState;

/// How often the URL is pinged, and how long one ping may take.
pub const EVERY: Duration = Duration::from_secs(60);
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Heartbeat;

#[async_trait]
impl Job for Heartbeat {
    fn name(&self) -> &'static str {
        "heartbeat"
    }

    fn schedule(&self, _state: &AppState) -> Schedule {
        Schedule::Every(EVERY)
    }

    fn enabled(&self, state: &AppState) -> bool {
        state.config().heartbeat_url.is_some()
    }

    async fn run_once(&self, state: &AppState, _now: DateTime<Utc>) -> anyhow::Result<String> {
        let Some(url) = &state.config().heartbeat_url else { bail!("alerting.heartbeat_url is empty: the job is off") };
        let host = url.host_str().unwrap_or_default().to_string();
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        match client.get(url.clone()).send().await {
            Ok(res) if res.status().is_success() => Ok(format!("pinged {host}")),
            Ok(res) => bail!("the heartbeat at {host} answered {}", res.status()),
            Err(e) if e.is_timeout() => bail!("the heartbeat at {host} timed out"),
            Err(_) => bail!("the heartbeat at {host} could not be reached"),
        }
    }
}
