//! The fleet as the API and the metrics see it: a customer's summary and status (by the shared
//! rule) from its config and latest report, and the counts `GET /metrics` reports.

use std::collections::BTreeMap;

use hub_shared::customer::CustomerSummary;
use hub_shared::report::Health;
use hub_shared::{node_status, StatusInput};

use crate::error::Result;
use crate::metrics::{version_key, FleetCounts};
use crate::state::AppState;
use crate::store::{ConfigRow, LatestRow};

/// Builds a summary from what is known of a customer, with its status at `now` (ms).
pub fn summarize(
    customer_id: &str,
    config: Option<&ConfigRow>,
    latest: Option<&LatestRow>,
    now: i64,
    stale_ms: i64,
) -> Result<CustomerSummary> {
    let health = latest.map(LatestRow::health).transpose()?.flatten();
    let blocked = config.is_some_and(ConfigRow::blocked);
    let status = node_status(
        StatusInput {
            blocked,
            last_report_ms: latest.map(|l| l.received_at),
            // A report without a health the hub knows counts as WARN.
            health: health.unwrap_or(Health::Warn),
            monitoring_enabled: latest.is_none_or(|l| l.monitoring_enabled != 0),
        },
        now,
        stale_ms,
    );
    Ok(CustomerSummary {
        customer_id: customer_id.to_string(),
        display_name: config.map(|c| c.display_name.clone()).filter(|n| !n.is_empty()),
        managed: config.is_some(),
        blocked,
        status,
        hostname: latest.and_then(|l| l.hostname.clone()),
        controller_version: latest.and_then(|l| l.controller_version.clone()),
        controller_url: latest.and_then(|l| l.controller_url.clone()),
        last_report_at: latest.map(LatestRow::received_time).transpose()?,
        health,
        monitoring_enabled: latest.is_none_or(|l| l.monitoring_enabled != 0),
        cpu_percent: latest.and_then(|l| l.cpu_percent),
        memory_percent: latest.and_then(|l| l.memory_percent),
        disk_percent: latest.and_then(|l| l.disk_percent),
        containers_running: latest.and_then(|l| l.containers_running).map(|n| n as u32),
        containers_total: latest.and_then(|l| l.containers_total).map(|n| n as u32),
        last_backup_at: latest.map(LatestRow::last_backup_time).transpose()?.flatten(),
        last_backup_ok: latest.and_then(|l| l.last_backup_ok).map(|b| b != 0),
        errors_24h: 0,
        warnings_24h: 0,
    })
}

/// Every customer's status at `now` (ms), how many are blocked, and how many report a
/// controller older than the newest one in the fleet.
pub async fn counts(state: &AppState, now: i64) -> Result<FleetCounts> {
    let (configs, latest) = tokio::try_join!(state.store().configs(), state.store().latest_reports())?;
    let mut by_id: BTreeMap<&str, (Option<&ConfigRow>, Option<&LatestRow>)> = BTreeMap::new();
    for c in &configs {
        by_id.entry(&c.customer_id).or_default().0 = Some(c);
    }
    for l in &latest {
        by_id.entry(&l.customer_id).or_default().1 = Some(l);
    }
    let stale_ms = state.config().stale_ms();
    let mut counts = FleetCounts::default();
    let mut versions = Vec::new();
    for (id, (config, latest)) in by_id {
        let summary = summarize(id, config, latest, now, stale_ms)?;
        *counts.by_status.entry(summary.status).or_default() += 1;
        counts.blocked += i64::from(summary.blocked);
        if let Some(version) = summary.controller_version.filter(|v| !v.trim().is_empty()) {
            versions.push(version_key(&version));
        }
    }
    if let Some(newest) = versions.iter().max() {
        counts.outdated = versions.iter().filter(|v| *v < newest).count() as i64;
    }
    Ok(counts)
}
