//! The fleet list behind `GET /api/v1/customers`, served from a snapshot in memory: every
//! customer's compact row with its status at the snapshot's time, the counts per status, and the
//! sort orders (made when first asked for). A request only filters, pages and serializes.
//!
//! The snapshot is rebuilt before it is used when
//! - this replica wrote something the list shows (the store's fleet generation moved: reports,
//!   events, configs, drift, the registry's newest release, controller addresses), so a client
//!   sees its own writes at once;
//! - another replica did: the database's change marker ([`crate::store::Store::fleet_marker`],
//!   the newest ids of the live stream's log and of the audit log) is read at most every
//!   [`MARKER_EVERY`], so such a write shows within that;
//! - time moved a status (a node crossing the stale or the down threshold);
//! - it is [`MAX_AGE`] old, which bounds everything else (the 24-hour event counts sliding, a
//!   PostgreSQL transaction that commits after a higher id was seen, a write no marker tells of).
//!
//! One rebuild runs at a time; requests that find the snapshot outdated wait for it.

mod page;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hub_shared::customer::CustomerSummary;
use hub_shared::customer_list::{CustomerRow, ListSort, StatusCounts};

use crate::error::Result;
use crate::fleet::{mark_outdated, summarize};
use crate::state::AppState;
use crate::store::{ConfigRow, LatestRow, SeverityCounts};

pub use page::{answer, Page};

/// How often a replica asks the database whether another replica changed the fleet (ms).
pub const MARKER_EVERY: i64 = 1_000;
/// The oldest a snapshot is ever used (ms).
pub const MAX_AGE: i64 = 10_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Every customer's row at one instant, sorted by id.
pub struct Snapshot {
    rows: Vec<CustomerRow>,
    /// Per row: its id, name and hostname lower-cased (what `q` searches), and its name
    /// lower-cased (the `customer` order).
    search: Vec<(String, String)>,
    counts: StatusCounts,
    generated_at: DateTime<Utc>,
    stale_threshold_secs: i64,
    /// The store's fleet generation and the database's marker, read before the data.
    generation: u64,
    marker: (i64, i64),
    /// When it must be rebuilt (ms): the first status change by time, or [`MAX_AGE`].
    expires_ms: i64,
    /// Row indices in each order, ascending, made when first asked for.
    orders: [OnceLock<Vec<u32>>; ListSort::ALL.len()],
    /// The answer without parameters (every customer by id), made when first asked for.
    everything: OnceLock<Bytes>,
}

/// The snapshot in use and what decides when it is rebuilt.
#[derive(Default)]
pub struct FleetView {
    current: RwLock<Option<Arc<Snapshot>>>,
    rebuilding: tokio::sync::Mutex<()>,
    /// The database's marker and when it was read (ms).
    marker: Mutex<Option<(i64, (i64, i64))>>,
}

impl FleetView {
    /// The snapshot valid at `now` (ms), rebuilt first when outdated.
    pub async fn snapshot(&self, state: &AppState, now: DateTime<Utc>) -> Result<Arc<Snapshot>> {
        if let Some(snapshot) = self.fresh(state, now).await? {
            return Ok(snapshot);
        }
        let _one_at_a_time = self.rebuilding.lock().await;
        if let Some(snapshot) = self.fresh(state, now).await? {
            return Ok(snapshot);
        }
        let generation = state.store().fleet_generation();
        let marker = state.store().fleet_marker().await?;
        *self.marker.lock().expect("marker lock") = Some((now.timestamp_millis(), marker));
        let snapshot = Arc::new(build(state, now, generation, marker).await?);
        *self.current.write().expect("snapshot lock") = Some(snapshot.clone());
        Ok(snapshot)
    }

    async fn fresh(&self, state: &AppState, now: DateTime<Utc>) -> Result<Option<Arc<Snapshot>>> {
        let Some(snapshot) = self.current.read().expect("snapshot lock").clone() else {
            return Ok(None);
        };
        let now_ms = now.timestamp_millis();
        if snapshot.generation != state.store().fleet_generation() || now_ms >= snapshot.expires_ms {
            return Ok(None);
        }
        let known = *self.marker.lock().expect("marker lock");
        let marker = match known {
            Some((at, marker)) if now_ms.saturating_sub(at) < MARKER_EVERY => marker,
            _ => {
                let marker = state.store().fleet_marker().await?;
                *self.marker.lock().expect("marker lock") = Some((now_ms, marker));
                marker
            }
        };
        Ok((marker == snapshot.marker).then_some(snapshot))
    }
}

/// Reads the fleet and makes its rows with their statuses at `now`.
async fn build(state: &AppState, now: DateTime<Utc>, generation: u64, marker: (i64, i64)) -> Result<Snapshot> {
    let now_ms = now.timestamp_millis();
    let store = state.store();
    let (configs, latest, events, newest, drift) = tokio::try_join!(
        store.configs(),
        store.latest_reports(),
        store.severity_counts(now_ms - DAY_MS),
        store.registry_latest(),
        store.drift_checks(),
    )?;
    let drift = crate::drift::marks(&drift)?;
    let events: HashMap<&str, &SeverityCounts> = events.iter().map(|c| (c.customer_id.as_str(), c)).collect();
    let stale_ms = state.config().stale_ms();
    let mut by_id: BTreeMap<&str, (Option<&ConfigRow>, Option<&LatestRow>)> = BTreeMap::new();
    for c in &configs {
        by_id.entry(&c.customer_id).or_default().0 = Some(c);
    }
    for l in &latest {
        by_id.entry(&l.customer_id).or_default().1 = Some(l);
    }
    let mut expires_ms = now_ms + MAX_AGE;
    let mut rows = Vec::with_capacity(by_id.len());
    let mut counts = StatusCounts::default();
    for (id, (config, latest)) in by_id {
        let mut summary = summarize(id, config, latest, now_ms, stale_ms)?;
        mark_outdated(&mut summary, newest.as_ref());
        summary.drift = drift.get(id).filter(|_| summary.managed).cloned();
        if let Some(n) = events.get(id) {
            summary.errors_24h = n.errors.clamp(0, i64::from(u32::MAX)) as u32;
            summary.warnings_24h = n.warnings.clamp(0, i64::from(u32::MAX)) as u32;
        }
        if let Some(at) = status_changes_at(latest.map(|l| l.received_at), now_ms, stale_ms) {
            expires_ms = expires_ms.min(at);
        }
        counts.add(summary.status);
        rows.push(row(summary));
    }
    let search = rows
        .iter()
        .map(|r| {
            let hay = [Some(r.customer_id.as_str()), r.name.as_deref(), r.host.as_deref()].into_iter().flatten();
            (hay.collect::<Vec<_>>().join("\n").to_lowercase(), r.label().to_lowercase())
        })
        .collect();
    Ok(Snapshot {
        rows,
        search,
        counts,
        generated_at: now,
        stale_threshold_secs: stale_ms / 1000,
        generation,
        marker,
        expires_ms,
        orders: Default::default(),
        everything: OnceLock::new(),
    })
}

/// The first instant after `now` (ms) at which a node's status may change without a new
/// report: when its last report crosses the stale threshold or twice it (both sides of each
/// boundary, so the rule's `<` and `<=` need not be known here).
fn status_changes_at(received_at: Option<i64>, now: i64, stale_ms: i64) -> Option<i64> {
    let last = received_at?;
    [last + stale_ms, last + stale_ms + 1, last + 2 * stale_ms, last + 2 * stale_ms + 1]
        .into_iter()
        .find(|at| *at > now)
}

/// The list's compact row of a summary: times to the second, percentages to one decimal.
pub fn row(s: CustomerSummary) -> CustomerRow {
    let second = |t: Option<DateTime<Utc>>| t.and_then(|t| DateTime::from_timestamp(t.timestamp(), 0));
    let tenth = |p: Option<f64>| p.filter(|p| p.is_finite()).map(|p| (p * 10.0).round() / 10.0);
    CustomerRow {
        customer_id: s.customer_id,
        name: s.display_name,
        managed: s.managed,
        status: s.status,
        host: s.hostname,
        version: s.controller_version,
        latest_version: s.latest_version,
        drift: s.drift,
        address_changed: s.controller_address_changed,
        reported_at: second(s.last_report_at),
        cpu: tenth(s.cpu_percent),
        memory: tenth(s.memory_percent),
        disk: tenth(s.disk_percent),
        containers: s.containers_running.zip(s.containers_total).map(|(r, t)| [r, t]),
        backup_at: second(s.last_backup_at),
        backup_ok: s.last_backup_ok,
        errors_24h: s.errors_24h,
        warnings_24h: s.warnings_24h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_changes_at_the_next_threshold_after_now() {
        let stale = 1_000;
        assert_eq!(status_changes_at(Some(0), 500, stale), Some(1_000));
        assert_eq!(status_changes_at(Some(0), 1_000, stale), Some(1_001));
        assert_eq!(status_changes_at(Some(0), 1_500, stale), Some(2_000));
        assert_eq!(status_changes_at(Some(0), 2_001, stale), None);
        assert_eq!(status_changes_at(None, 0, stale), None);
    }
}
