//! Diffs every managed node's live config against the hub's every `controllers.drift_interval`
//! and stores the result per node (see [`crate::drift`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::state::AppState;

pub struct DriftCheck;

#[async_trait]
impl Job for DriftCheck {
    fn name(&self) -> &'static str {
        "drift_check"
    }

    fn schedule(&self, state: &AppState) -> Schedule {
        Schedule::Every(state.config().drift_interval.max(Duration::from_secs(60)))
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let check = crate::drift::check_fleet(state, now, None).await?;
        Ok(format!(
            "{} nodes: {} in sync, {} drifted, {} unreachable",
            check.nodes, check.in_sync, check.drifted, check.unreachable
        ))
    }
}
