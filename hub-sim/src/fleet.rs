//! Runs the fleet against a hub: first a backfill of past reports (so a fresh hub has charts),
//! then live, one report per node every `interval / speed` of real time, with the nodes' daily
//! rhythm running `speed` times faster than the clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use base64::Engine;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use hub_shared::event::EventType;
use hub_shared::infra::{Disk, InfraBackupIn, ResticPasswords, Stack};
use hub_shared::notification::PreferencesIn;
use serde_json::json;

use crate::hub::{Hub, Optional};
use crate::node::{self, Node, SimEvent};
use crate::original::{self, Profile};

/// How many requests the fleet has in flight at once.
const IN_FLIGHT: usize = 32;

pub struct FleetOptions {
    pub nodes: usize,
    pub seed: u64,
    pub interval: Duration,
    pub speed: f64,
    pub backfill: Duration,
    /// Live run time; forever when `None`.
    pub duration: Option<Duration>,
    /// Which hub's shapes the controllers speak.
    pub profile: Profile,
}

pub type Shared = Arc<Mutex<Vec<Node>>>;

/// Builds the fleet with its clocks at the start of the backfill.
pub fn build(opts: &FleetOptions, controller_base: &str, now: DateTime<Utc>) -> Shared {
    let start = now - chrono::Duration::from_std(opts.backfill).unwrap_or_default();
    Arc::new(Mutex::new(node::fleet(opts.seed, opts.nodes, controller_base, start, now)))
}

/// Posts the history from the start of the backfill up to `now`.
pub async fn backfill(hub: &Hub, fleet: &Shared, opts: &FleetOptions, now: DateTime<Utc>) -> Result<()> {
    if opts.backfill.is_zero() {
        return Ok(());
    }
    let start = now - chrono::Duration::from_std(opts.backfill)?;
    let interval = chrono::Duration::from_std(opts.interval)?;
    let began = std::time::Instant::now();
    let total_steps = (opts.backfill.as_secs() / opts.interval.as_secs().max(1)) + 1;
    for (i, t) in node::steps(start, now, interval).enumerate() {
        let work = step(fleet, t.timestamp_millis(), t, false);
        post_all(hub, work, opts.profile).await;
        if i % 96 == 0 {
            tracing::info!(day = i / 96, steps = total_steps, "backfilling");
        }
    }
    tracing::info!(
        reports = hub.reports.load(std::sync::atomic::Ordering::Relaxed),
        seconds = began.elapsed().as_secs(),
        "backfill done"
    );
    Ok(())
}

/// Runs live until `opts.duration` has passed.
pub async fn live(hub: &Hub, fleet: &Shared, opts: &FleetOptions) -> Result<()> {
    let tick = opts.interval.div_f64(opts.speed.max(0.001));
    let began = tokio::time::Instant::now();
    let sim_start = Utc::now();
    let mut timer = tokio::time::interval(tick);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_day = None;
    loop {
        timer.tick().await;
        let elapsed = began.elapsed();
        if opts.duration.is_some_and(|d| elapsed > d) {
            break;
        }
        let real_now = Utc::now();
        let sim_now = sim_start + chrono::Duration::from_std(elapsed.mul_f64(opts.speed)).unwrap_or_default();
        let work = step(fleet, sim_now.timestamp_millis(), real_now, true);
        post_all(hub, work, opts.profile).await;
        let day = sim_now.date_naive();
        if last_day != Some(day) {
            last_day = Some(day);
            daily(hub, fleet).await;
        }
        tracing::info!(
            reports = hub.reports.load(std::sync::atomic::Ordering::Relaxed),
            failures = hub.failures.load(std::sync::atomic::Ordering::Relaxed),
            sim_time = %sim_now.format("%Y-%m-%d %H:%M"),
            "tick"
        );
    }
    Ok(())
}

enum Work {
    Report(Box<hub_shared::report::ReportIn>),
    Event(String, SimEvent),
}

/// Advances every node to `t` (ms) and collects what they post, stamped `stamp` (live events
/// are stamped too, since the simulated clock runs ahead of the real one).
fn step(fleet: &Shared, t: i64, stamp: DateTime<Utc>, live: bool) -> Vec<Work> {
    let mut nodes = fleet.lock().expect("fleet lock");
    let mut work = Vec::with_capacity(nodes.len());
    for node in nodes.iter_mut() {
        let events = node.advance(t);
        // A silent node is judged on the real clock: it stopped a few hours before now.
        if !node.reports_at(stamp.timestamp_millis()) {
            continue;
        }
        for mut event in events {
            if live {
                event.occurred_at = stamp;
            }
            work.push(Work::Event(node.customer_id.clone(), event));
        }
        work.push(Work::Report(Box::new(node.report(stamp))));
    }
    work
}

async fn post_all(hub: &Hub, work: Vec<Work>, profile: Profile) {
    futures::stream::iter(work)
        .for_each_concurrent(IN_FLIGHT, |w| async move {
            let result = match &w {
                Work::Report(report) => hub.report(report).await,
                Work::Event(customer_id, e) => {
                    let body = original::event_body(profile, customer_id, e);
                    hub.post_optional(Optional::Event, customer_id, &body).await
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "post failed");
            }
        })
        .await;
}

/// Once a simulated day: each reporting node pushes its infra backup, and each with its own key
/// (so a config in the hub) its notification preferences: the hub refuses preferences for
/// customers it has no config for.
async fn daily(hub: &Hub, fleet: &Shared) {
    let now = Utc::now().timestamp_millis();
    let bodies: Vec<(String, InfraBackupIn, Option<PreferencesIn>)> = {
        let nodes = fleet.lock().expect("fleet lock");
        let reporting = nodes.iter().filter(|n| n.reports_at(now));
        reporting
            .map(|n| {
                let prefs = hub.has_own_key(&n.customer_id).then(|| preferences(n));
                (n.customer_id.clone(), infra_backup(n), prefs)
            })
            .collect()
    };
    futures::stream::iter(bodies)
        .for_each_concurrent(IN_FLIGHT, |(id, infra, prefs)| async move {
            if let Err(e) = hub.post_optional(Optional::InfraBackup, &id, &infra).await {
                tracing::warn!(error = %e, "infra backup failed");
            }
            let Some(prefs) = prefs else { return };
            if let Err(e) = hub.post_optional(Optional::Preferences, &id, &prefs).await {
                tracing::warn!(error = %e, "preferences failed");
            }
        })
        .await;
}

/// The infra-backup snapshot of a node.
pub fn infra_backup(node: &Node) -> InfraBackupIn {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let settings = json!({ "hostname": node.hostname, "apps": node.apps.iter().map(|a| a.0).collect::<Vec<_>>() });
    InfraBackupIn {
        customer_id: node.customer_id.clone(),
        controller_yaml: b64(&node.config_yaml),
        settings_json: b64(&settings.to_string()),
        disks: node
            .disks
            .iter()
            .map(|d| Disk {
                uuid: d.uuid.clone(),
                label: d.label.to_string(),
                mount_point: d.mount_point.to_string(),
                fstab_options: "defaults,noatime".into(),
                bind_mounts: Vec::new(),
            })
            .collect(),
        stacks: node
            .apps
            .iter()
            .map(|(app, display)| Stack {
                app: app.to_string(),
                display_name: display.to_string(),
                hdd_path: format!("/mnt/data/{app}"),
            })
            .collect(),
        restic_passwords: ResticPasswords {
            primary: format!("{}-primary", node.key),
            cross_drive: format!("{}-cross", node.key),
        },
    }
}

/// The notification preferences of a node.
pub fn preferences(node: &Node) -> PreferencesIn {
    let enabled = [EventType::BackupFailed, EventType::DiskSpaceCritical, EventType::DiskSmartFailure];
    PreferencesIn {
        customer_id: node.customer_id.clone(),
        email: format!("owner@{}.example", node.customer_id),
        enabled_events: enabled.iter().map(|t| t.as_str().to_string()).collect(),
        cooldown_hours: 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_bodies_pass_the_hubs_own_checks() {
        let now = Utc::now();
        for node in &node::fleet(42, 8, "http://127.0.0.1:1", now - chrono::Duration::days(1), now) {
            infra_backup(node).validate().unwrap_or_else(|e| panic!("{}: {e:?}", node.customer_id));
            preferences(node).validate().unwrap_or_else(|e| panic!("{}: {e:?}", node.customer_id));
        }
    }
}
