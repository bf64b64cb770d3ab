//! The hub's own backup, on `backup.schedule` (off while it is empty): a backup file (see
//! [`crate::hub_backup`]) named by its time in `backup.dir`, then only the newest `backup.keep`
//! files are kept. A failure is a `backup_failed` hub event under [`HUB_SUBJECT`], an error,
//! so the operator is emailed.

use std::path::Path;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_shared::event::{EventType, Severity};

use super::{Job, Schedule};
use crate::config::BackupPlan;
use crate::hub_backup::{self, KeyChoice};
use crate::state::AppState;
use crate::store::NewEvent;

pub struct SelfBackup;

pub use hub_shared::validate::HUB_SUBJECT;
const PREFIX: &str = "felhom-hub-";
const SUFFIX: &str = ".tar.gz";

#[async_trait]
impl Job for SelfBackup {
    fn name(&self) -> &'static str {
        "self_backup"
    }

    fn schedule(&self, state: &AppState) -> Schedule {
        state.config().backup.as_ref().map_or(Schedule::DailyAt(chrono::NaiveTime::MIN), |plan| plan.schedule)
    }

    fn enabled(&self, state: &AppState) -> bool {
        state.config().backup.is_some()
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let plan = state.config().backup.as_ref().context("backup.schedule is empty: the job is off")?;
        match write_and_prune(state, plan, now).await {
            Ok(summary) => Ok(summary),
            Err(e) => {
                raise_failure(state, plan, &format!("{e:#}"), now).await;
                Err(e)
            }
        }
    }
}

async fn write_and_prune(state: &AppState, plan: &BackupPlan, now: DateTime<Utc>) -> anyhow::Result<String> {
    let name = format!("{PREFIX}{}{SUFFIX}", now.format("%Y%m%dT%H%M%SZ"));
    let path = plan.dir.join(&name);
    let key = if plan.include_key { KeyChoice::Include } else { KeyChoice::Leave };
    let manifest = hub_backup::create(state.config(), &path, key, now).await?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let removed = prune(&plan.dir, plan.keep)?;
    let rows: i64 = manifest.tables.values().sum();
    Ok(format!("wrote {name} ({size} bytes, {rows} rows); removed {removed} older backups"))
}

/// Deletes all but the newest `keep` backup files (their names sort by time); returns how many.
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<usize> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        .collect();
    files.sort();
    let old = files.len().saturating_sub(keep);
    for name in &files[..old] {
        std::fs::remove_file(dir.join(name)).with_context(|| format!("cannot remove {name}"))?;
    }
    Ok(old)
}

async fn raise_failure(state: &AppState, plan: &BackupPlan, error: &str, now: DateTime<Utc>) {
    let at = now.timestamp_millis();
    let event = NewEvent {
        customer_id: HUB_SUBJECT.to_string(),
        event_type: EventType::BackupFailed,
        severity: Severity::Error,
        message: format!("the hub's own backup failed: {error}"),
        details_json: serde_json::json!({ "job": "self_backup", "dir": plan.dir.display().to_string() }).to_string(),
        source: "hub".into(),
        occurred_at: at,
        received_at: at,
    };
    match state.store().insert_event(&event).await {
        Ok(_) => state.notifier().wake(),
        Err(e) => tracing::error!(error = %e, "could not record the failed self backup as an event"),
    }
}
