//! Moves running rollouts on every 30 s (see [`crate::rollout`]): asks canaries and batches to
//! update, sees them arrive and soak, and stops a rollout whose node fails. Like every job it
//! runs on the leading replica only.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::rollout::{advance, ControllerUpdater, Updater};
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(30);

pub struct RolloutStep {
    updater: Arc<dyn Updater>,
}

impl RolloutStep {
    /// The job with another way to ask for updates (tests).
    pub fn with_updater(updater: Arc<dyn Updater>) -> RolloutStep {
        RolloutStep { updater }
    }
}

impl Default for RolloutStep {
    fn default() -> Self {
        RolloutStep { updater: Arc::new(ControllerUpdater) }
    }
}

#[async_trait]
impl Job for RolloutStep {
    fn name(&self) -> &'static str {
        "rollout_step"
    }

    fn schedule(&self, _state: &AppState) -> Schedule {
        Schedule::Every(EVERY)
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        advance(state, self.updater.as_ref(), now).await
    }
}
