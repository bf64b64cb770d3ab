//! Purges expired operator sessions every hour.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::state::AppState;

pub struct SessionCleanup;

#[async_trait]
impl Job for SessionCleanup {
    fn name(&self) -> &'static str {
        "session_cleanup"
    }

    fn schedule(&self, _state: &AppState) -> Schedule {
        Schedule::Every(Duration::from_secs(3600))
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let purged = state.store().purge_sessions(now.timestamp_millis()).await?;
        Ok(format!("{purged} expired sessions purged"))
    }
}
