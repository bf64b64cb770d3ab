//! The fleet as the API and the metrics see it: a customer's summary and status (by the shared
//! rule) from its config and latest report, whether its controller is older than the newest
//! version the registry watch knows, the nodes per version, and the counts `GET /metrics` reports.

use std::collections::BTreeMap;

use hub_shared::customer::CustomerSummary;
use hub_shared::fleet::{FleetVersions, LatestVersion, VersionCount};
use hub_shared::report::Health;
use hub_shared::{node_status, StatusInput};

use crate::error::Result;
use crate::jobs::registry_watch::tag_version;
use crate::metrics::{version_key, FleetCounts};
use crate::state::AppState;
use crate::store::{ConfigRow, LatestRow, RegistryLatest, RowKey};

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
        latest_version: None,
        drift: None,
        controller_url: latest.and_then(|l| l.controller_url.clone()),
        controller_address_changed: latest.is_some_and(|l| l.pending_controller_url().is_some()),
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
/// controller older than the registry's newest release (or, while none is known, than the
/// newest one in the fleet).
pub async fn counts(state: &AppState, now: i64) -> Result<FleetCounts> {
    let (configs, latest, newest) =
        tokio::try_join!(state.store().configs(), state.store().latest_reports(), state.store().registry_latest())?;
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
            versions.push(version);
        }
    }
    let newest = match newest {
        Some(known) => Some(known.version),
        None => versions.iter().max_by_key(|v| version_key(v)).cloned(),
    };
    if let Some(newest) = newest {
        counts.outdated = versions.iter().filter(|v| is_older(v, &newest)).count() as i64;
    }
    Ok(counts)
}

/// Whether a node's controller `version` is older than `latest`: by semantic version (a leading
/// `v` allowed), else by the numbers in them. An empty version is never outdated.
pub fn is_older(version: &str, latest: &str) -> bool {
    if version.trim().is_empty() {
        return false;
    }
    match (tag_version(version.trim()), tag_version(latest.trim())) {
        (Some(v), Some(l)) => v < l,
        _ => version_key(version) < version_key(latest),
    }
}

/// `summary.latest_version`: the newest known version when the node's controller is older.
pub fn mark_outdated(summary: &mut CustomerSummary, latest: Option<&RegistryLatest>) {
    summary.latest_version = match (summary.controller_version.as_deref(), latest) {
        (Some(version), Some(latest)) if is_older(version, &latest.version) => Some(latest.version.clone()),
        _ => None,
    };
}

/// The registry watch's find as the API shows it.
pub fn latest_version(latest: &RegistryLatest) -> Result<LatestVersion> {
    let seen_at = RowKey::new("settings", crate::store::REGISTRY_LATEST).time("seen_at", latest.seen_at)?;
    Ok(LatestVersion { version: latest.version.clone(), seen_at })
}

/// How many nodes report each controller version, newest first, at `generated_at`.
pub async fn versions(state: &AppState, generated_at: chrono::DateTime<chrono::Utc>) -> Result<FleetVersions> {
    let (reports, latest) = tokio::try_join!(state.store().latest_reports(), state.store().registry_latest())?;
    let mut by_version: BTreeMap<Option<String>, u32> = BTreeMap::new();
    for report in &reports {
        let version = report.controller_version.as_deref().map(str::trim).filter(|v| !v.is_empty());
        *by_version.entry(version.map(str::to_string)).or_default() += 1;
    }
    let outdated = |version: &Option<String>| match (version, &latest) {
        (Some(v), Some(l)) => is_older(v, &l.version),
        _ => false,
    };
    let mut versions: Vec<VersionCount> = by_version
        .into_iter()
        .map(|(version, nodes)| VersionCount { outdated: outdated(&version), version, nodes })
        .collect();
    // Newest first by a total order (semantic versions above the rest), no version last.
    versions.sort_by_cached_key(|v| {
        std::cmp::Reverse(v.version.as_deref().map(|v| (tag_version(v.trim()), version_key(v), v.to_string())))
    });
    Ok(FleetVersions {
        nodes: versions.iter().map(|v| v.nodes).sum(),
        outdated: versions.iter().filter(|v| v.outdated).map(|v| v.nodes).sum(),
        latest: latest.as_ref().map(latest_version).transpose()?,
        versions,
        generated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_is_by_semantic_version_then_by_numbers() {
        assert!(is_older("1.9.3", "v1.10.0"));
        assert!(is_older("1.10.0-rc.1", "1.10.0"));
        assert!(!is_older("1.10.0", "1.10.0"));
        assert!(!is_older("v1.11.0", "1.10.0"));
        assert!(is_older("1.9", "1.10.0"), "not semver: compared by its numbers");
        assert!(!is_older("", "1.0.0"));
    }
}
