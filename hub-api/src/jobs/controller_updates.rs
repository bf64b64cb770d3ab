//! Follows requested controller updates every 60 s: an update whose version a later report
//! carries has arrived; one without such a report by its deadline (`controllers.update_timeout`
//! after the request) has failed, with a `controller_update_failed` event (source `hub`) that
//! notifies like the others. Each update ends once (see [`crate::controller::track_updates`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::state::AppState;

pub struct ControllerUpdates;

#[async_trait]
impl Job for ControllerUpdates {
    fn name(&self) -> &'static str {
        "controller_updates"
    }

    fn schedule(&self, _state: &AppState) -> Schedule {
        Schedule::Every(Duration::from_secs(60))
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let (arrived, failed) = crate::controller::track_updates(state, now).await?;
        Ok(format!("{arrived} updates arrived, {failed} did not arrive in time"))
    }
}
