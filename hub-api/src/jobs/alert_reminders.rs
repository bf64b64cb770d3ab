//! Telling open alerts again, every `alerting.check_interval`: a held alert (maintenance, a
//! storm, suppression, flapping) once nothing holds it, for example a node still down when its
//! maintenance window ends; and a reminder of an open, unacknowledged alert every
//! `alerting.reminder_interval`. The rules are in `notify::quiet`, the sending in `notify::hold`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::state::AppState;

pub struct AlertReminders;

#[async_trait]
impl Job for AlertReminders {
    fn name(&self) -> &'static str {
        "alert_reminders"
    }

    fn schedule(&self, state: &AppState) -> Schedule {
        Schedule::Every(state.config().staleness_interval)
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let told = crate::notify::hold::retell(state.store(), state.notifier(), now).await?;
        Ok(format!("{told} alerts told again"))
    }
}
