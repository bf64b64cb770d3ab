//! Retention, daily at `retention.prune_schedule`: deletes reports, events (but those of open
//! alerts), notification log entries, audit entries of failed retrievals, resolved alerts and job
//! run records older than
//! `retention.max_days`, a batch at a time with a pause between batches, so ingest is never held
//! up for long; and the retrieval attempt records whose failures are forgotten.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::state::AppState;

pub struct Prune;

/// Rows deleted per statement.
pub const BATCH: i64 = 5_000;
/// The pause between two batches, leaving the database to other writers.
const PAUSE: Duration = Duration::from_millis(20);
const DAY_MS: i64 = 24 * 3600 * 1000;

#[async_trait]
impl Job for Prune {
    fn name(&self) -> &'static str {
        "prune"
    }

    fn schedule(&self, state: &AppState) -> Schedule {
        Schedule::DailyAt(state.config().prune_at)
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let before = now.timestamp_millis() - i64::from(state.config().raw.retention.max_days) * DAY_MS;
        let store = state.store();
        let mut counts = [0u64; 4];
        for (i, count) in counts.iter_mut().enumerate() {
            loop {
                let deleted = match i {
                    0 => store.prune_reports(before, BATCH).await?,
                    1 => store.prune_events(before, BATCH).await?,
                    2 => store.prune_notification_log(before, BATCH).await?,
                    _ => store.prune_failed_retrievals(before, BATCH).await?,
                };
                *count += deleted;
                if deleted < BATCH as u64 {
                    break;
                }
                tokio::time::sleep(PAUSE).await;
            }
        }
        let runs = store.prune_runs(before).await?;
        let alerts = store.prune_alerts(before).await?;
        let now_ms = now.timestamp_millis();
        let attempts = store.prune_attempts(now_ms - crate::retrieval::FORGET_AFTER_MS, now_ms).await?;
        store.prune_sign_in_addresses(now_ms - crate::auth::limiter::KNOWN_FOR_MS).await?;
        Ok(format!(
            "deleted {} reports, {} events, {} notification log entries, {} failed retrievals, {runs} job runs, \
             {attempts} retrieval attempt records, {alerts} resolved alerts",
            counts[0], counts[1], counts[2], counts[3]
        ))
    }
}
