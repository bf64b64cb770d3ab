//! Background jobs and the scheduler that runs them. Each job has a `run_once(state, now)` that
//! tests call directly with a chosen `now`. The scheduler runs every job on one replica at a
//! time: a replica must hold the leader lease to start runs, and each run is claimed by its due
//! time in the database, so no due time is ever run twice, even across a leader change.

pub mod alert_reminders;
pub mod backup_deadline;
pub mod controller_updates;
mod drift_check;
pub mod heartbeat;
pub mod prune;
pub mod registry_watch;
mod rollout_step;
pub(crate) mod schedule;
pub mod self_backup;
mod session_cleanup;
pub mod staleness;
mod storm;
mod template_refresh;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_shared::stream::StreamKind;
use tokio_util::sync::CancellationToken;

pub use alert_reminders::AlertReminders;
pub use backup_deadline::BackupDeadline;
pub use controller_updates::ControllerUpdates;
pub use drift_check::DriftCheck;
pub use heartbeat::Heartbeat;
pub use prune::Prune;
pub use registry_watch::RegistryWatch;
pub use rollout_step::RolloutStep;
pub use schedule::Schedule;
pub use self_backup::SelfBackup;
pub use session_cleanup::SessionCleanup;
pub use staleness::Staleness;
pub use template_refresh::{shown_url, TemplateClient, TemplateRefresh};

use crate::state::AppState;

/// The lease a replica holds while it leads (`scheduler.lease_ttl`, renewed every `scheduler.tick`).
const LEASE_NAME: &str = "scheduler";

#[async_trait]
pub trait Job: Send + Sync {
    /// A stable name, used in the database and in `GET /api/v1/jobs`.
    fn name(&self) -> &'static str;
    fn schedule(&self, state: &AppState) -> Schedule;
    /// Whether the configuration switches the job on (most jobs always are).
    fn enabled(&self, _state: &AppState) -> bool {
        true
    }
    /// Does the job's work as of `now`; the returned text is the run's summary.
    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String>;
}

/// Every job the hub runs.
pub fn all() -> Vec<Arc<dyn Job>> {
    vec![
        Arc::new(SessionCleanup),
        Arc::new(Staleness),
        Arc::new(BackupDeadline),
        Arc::new(Prune),
        Arc::new(TemplateRefresh),
        Arc::new(SelfBackup),
        Arc::new(ControllerUpdates),
        Arc::new(RegistryWatch),
        Arc::new(AlertReminders),
        Arc::new(RolloutStep::default()),
        Arc::new(Heartbeat),
        Arc::new(DriftCheck),
    ]
}

/// Runs the scheduler until `cancel` fires, then gives up the lease.
pub async fn run_scheduler(state: AppState, jobs: Vec<Arc<dyn Job>>, cancel: CancellationToken) {
    for name in &state.config().raw.scheduler.disabled_jobs {
        if jobs.iter().any(|j| j.name() == name) {
            tracing::warn!(job = %name, "scheduler.disabled_jobs: this hub never starts the job");
        } else {
            tracing::warn!(job = %name, "scheduler.disabled_jobs names no job of this hub");
        }
    }
    let holder = state.instance_id().to_string();
    let mut last_due: HashMap<&'static str, i64> = HashMap::new();
    loop {
        let now = Utc::now();
        match tick(&state, &jobs, &holder, now, &mut last_due).await {
            Ok(()) => {}
            Err(e) => {
                // Without a renewed lease this replica must not act as the leader.
                state.set_leads(false);
                tracing::warn!(error = %e, "scheduler tick failed");
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(state.config().scheduler_tick) => {}
        }
    }
    state.set_leads(false);
    if let Err(e) = state.store().release_lease(LEASE_NAME, &holder).await {
        tracing::warn!(error = %e, "could not release the scheduler lease");
    }
}

/// One scheduler step at `now`: renew or take the lease, then start every run that is due.
/// Returns without running anything when another replica leads.
pub async fn tick(
    state: &AppState,
    jobs: &[Arc<dyn Job>],
    holder: &str,
    now: DateTime<Utc>,
    last_due: &mut HashMap<&'static str, i64>,
) -> anyhow::Result<()> {
    let now_ms = now.timestamp_millis();
    let leads = state
        .store()
        .acquire_lease(LEASE_NAME, holder, now_ms, now_ms + state.config().lease_ttl.as_millis() as i64)
        .await?;
    let was_leading = state.leads();
    state.set_leads(leads);
    if !leads {
        last_due.clear();
        return Ok(());
    }
    if !was_leading {
        // Events may be waiting for the dispatcher that only the leader runs.
        state.notifier().wake();
    }
    let tz = state.config().timezone;
    for job in jobs {
        if !job.enabled(state) || state.config().raw.scheduler.disabled_jobs.iter().any(|name| name == job.name()) {
            continue;
        }
        let schedule = job.schedule(state);
        let due = schedule.latest_due(now, tz);
        let due_ms = due.timestamp_millis();
        if last_due.get(job.name()) == Some(&due_ms) {
            continue;
        }
        if now - due > schedule.catch_up() {
            // Missed while no hub ran, too long ago to be worth doing late.
            last_due.insert(job.name(), due_ms);
            continue;
        }
        // Remembered only once the claim was decided: a failed claim is tried again next tick.
        let claimed = state.store().claim_run(job.name(), due_ms, holder, now_ms).await?;
        last_due.insert(job.name(), due_ms);
        if !claimed {
            continue;
        }
        let job = job.clone();
        let state = state.clone();
        let tracked = state.clone();
        tracked.tasks().spawn(async move { run_claimed(&state, job.as_ref(), due_ms, now).await });
    }
    Ok(())
}

/// Runs a claimed run and records its outcome; a failure is logged and the schedule goes on.
pub async fn run_claimed(state: &AppState, job: &dyn Job, due_ms: i64, now: DateTime<Utc>) {
    let started = std::time::Instant::now();
    let outcome = job.run_once(state, now).await;
    let elapsed = started.elapsed();
    let finished = now.timestamp_millis() + elapsed.as_millis() as i64;
    state.metrics().job_run(job.name(), elapsed, outcome.is_ok());
    let (ok, message) = match outcome {
        Ok(summary) => {
            tracing::info!(job = job.name(), ?elapsed, %summary, "job ran");
            (true, summary)
        }
        Err(e) => {
            tracing::error!(job = job.name(), ?elapsed, error = format!("{e:#}"), "job failed");
            (false, format!("{e:#}"))
        }
    };
    if let Err(e) = state.store().finish_run(job.name(), due_ms, finished, ok, &message).await {
        tracing::warn!(job = job.name(), error = %e, "could not record the job's outcome");
    }
    let data = serde_json::json!({ "job": job.name(), "ok": ok, "message": message });
    if let Err(e) = state.store().append_stream(StreamKind::Job, None, &data, finished).await {
        tracing::warn!(job = job.name(), error = %e, "could not tell the live stream of the run");
    }
}
