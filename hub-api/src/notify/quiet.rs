//! When an event is stored but sent to nobody, decided from what is known, with no I/O. In
//! order:
//! - **maintenance**: a window of the customer or of the fleet is open when the event occurred
//!   or now;
//! - **storm**: a node's status change while many nodes went silent at once (a `fleet_outage`
//!   alert is open): the cause is almost never the nodes;
//! - **suppressed**: what follows from a silent node (its missed backups and dumps, the container
//!   and disk events it sends about the gap) while it is stale or down, or that occurred in its
//!   last gap;
//! - **flapping**: a node's status change when it changed more than `alerting.flapping_changes`
//!   times in the hour before (it got one `node_flapping` notice instead).
//!
//! Open alerts are told again by [`due`]: a held one once nothing holds it any more, a told one
//! every `alerting.reminder_interval` until it resolves or is acknowledged.

use chrono::{DateTime, TimeDelta, Utc};
use hub_shared::event::EventType;

use crate::store::{AlertRow, NodeGap};

/// Why an event is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quiet {
    Maintenance,
    Storm,
    Suppressed,
    Flapping,
}

impl Quiet {
    /// As the event and the notification log show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Quiet::Maintenance => "maintenance",
            Quiet::Storm => "storm",
            Quiet::Suppressed => "suppressed",
            Quiet::Flapping => "flapping",
        }
    }
}

/// The hour in which a node's status changes are counted for flapping.
pub const FLAPPING_PERIOD: TimeDelta = TimeDelta::hours(1);

/// The node status changes the staleness checker makes.
pub const STATUS_CHANGES: [EventType; 3] = [EventType::NodeStale, EventType::NodeDown, EventType::NodeRecovered];

/// What follows from a silent node and is held while it is silent.
pub fn follows_from_silence(t: EventType) -> bool {
    matches!(
        t,
        EventType::ExpectedBackupMissed
            | EventType::ExpectedDbdumpMissed
            | EventType::ContainerUnhealthy
            | EventType::ContainerRestarted
            | EventType::DiskSpaceWarning
            | EventType::DiskSpaceCritical
            | EventType::DiskSmartFailure
            | EventType::DiskMissing
    )
}

/// What is known about an event when it is dispatched.
#[derive(Debug, Clone, Default)]
pub struct QuietFacts {
    pub event_type: Option<EventType>,
    pub occurred_at: i64,
    /// A maintenance window of the customer or the fleet is open at the event or now.
    pub in_maintenance: bool,
    /// A `fleet_outage` alert is open.
    pub storm: bool,
    /// The node's stored state and last gap.
    pub gap: Option<NodeGap>,
    /// The node's status changes in the [`FLAPPING_PERIOD`] up to the event, itself included.
    pub recent_changes: i64,
    /// `alerting.flapping_changes`; 0: never flapping.
    pub flapping_changes: u32,
}

/// Whether and why the event is held.
pub fn quiet(f: &QuietFacts) -> Option<Quiet> {
    let t = f.event_type?;
    let status_change = STATUS_CHANGES.contains(&t);
    if f.in_maintenance {
        Some(Quiet::Maintenance)
    } else if f.storm && status_change {
        Some(Quiet::Storm)
    } else if follows_from_silence(t) && f.gap.as_ref().is_some_and(|g| silent_at(g, f.occurred_at)) {
        Some(Quiet::Suppressed)
    } else if status_change && is_flapping(f.recent_changes, f.flapping_changes) {
        Some(Quiet::Flapping)
    } else {
        None
    }
}

/// Whether the node is silent now, or was at `at` (in its last gap).
fn silent_at(gap: &NodeGap, at: i64) -> bool {
    gap.state != "ok" || (gap.silent_since.is_some_and(|s| s <= at) && gap.recovered_at.is_some_and(|r| at < r))
}

/// Whether `changes` status changes in an hour are more than `limit` (0: no limit).
pub fn is_flapping(changes: i64, limit: u32) -> bool {
    limit > 0 && changes > i64::from(limit)
}

/// Whether this change (the `changes`-th in the hour) is the one that starts the flapping and
/// so gets the one `node_flapping` notice.
pub fn starts_flapping(changes: i64, limit: u32) -> bool {
    limit > 0 && changes == i64::from(limit) + 1
}

/// What the counts of the fleet's nodes say about a storm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence {
    /// Watched nodes that report or did (the base of the percentage).
    pub nodes: usize,
    /// Nodes that are silent now and whose last report falls in the storm window.
    pub went_silent_together: usize,
    /// Nodes that are stale or down now.
    pub silent: usize,
}

/// Whether a storm goes on: it starts when more than `percent` of the nodes went silent
/// together, and lasts while more than `percent` of them are still silent.
pub fn storm(active: bool, s: Silence, percent: u32) -> bool {
    let over = |n: usize| s.nodes > 0 && n * 100 > s.nodes * percent as usize;
    if active {
        over(s.silent)
    } else {
        over(s.went_silent_together)
    }
}

/// Why an open alert is told again now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// It was held, and nothing holds it any more: the first email, late.
    Release,
    /// It was told `reminder_interval` ago or longer and is still open.
    Reminder,
}

/// Whether the open, unacknowledged `alert` is told again at `now`; `held` is whether something
/// would hold its event now; `reminder_interval` zero means never.
pub fn due(alert: &AlertRow, held: bool, reminder_interval: TimeDelta, now: DateTime<Utc>) -> Option<Due> {
    if alert.resolved_at.is_some() || alert.acked_at.is_some() || held {
        return None;
    }
    match alert.notified_at {
        None => Some(Due::Release),
        Some(at) if !reminder_interval.is_zero() && now - at >= reminder_interval => Some(Due::Reminder),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_shared::alert::AlertKind;

    const MIN: i64 = 60_000;

    fn facts(t: EventType) -> QuietFacts {
        QuietFacts { event_type: Some(t), occurred_at: 100 * MIN, flapping_changes: 4, ..Default::default() }
    }

    fn gap(state: &str, silent_since: Option<i64>, recovered_at: Option<i64>) -> Option<NodeGap> {
        Some(NodeGap { state: state.into(), silent_since, recovered_at })
    }

    #[test]
    fn maintenance_holds_everything() {
        for t in [EventType::NodeDown, EventType::BackupFailed, EventType::AppInstalled] {
            let f = QuietFacts { in_maintenance: true, ..facts(t) };
            assert_eq!(quiet(&f), Some(Quiet::Maintenance), "{t}");
        }
        assert_eq!(quiet(&facts(EventType::BackupFailed)), None);
    }

    #[test]
    fn a_storm_holds_status_changes_only() {
        let storm = |t| quiet(&QuietFacts { storm: true, ..facts(t) });
        assert_eq!(storm(EventType::NodeStale), Some(Quiet::Storm));
        assert_eq!(storm(EventType::NodeDown), Some(Quiet::Storm));
        assert_eq!(storm(EventType::NodeRecovered), Some(Quiet::Storm));
        assert_eq!(storm(EventType::FleetOutage), None, "the storm's own alert goes out");
        assert_eq!(storm(EventType::BackupFailed), None);
    }

    #[test]
    fn what_follows_from_a_silent_node_is_suppressed_while_it_is_silent_and_for_its_gap() {
        let with = |t, g| quiet(&QuietFacts { gap: g, ..facts(t) });
        for state in ["stale", "down"] {
            assert_eq!(with(EventType::ExpectedBackupMissed, gap(state, Some(0), None)), Some(Quiet::Suppressed));
            assert_eq!(with(EventType::ExpectedDbdumpMissed, gap(state, Some(0), None)), Some(Quiet::Suppressed));
        }
        // Back since minute 120; silent from minute 50: what it sends about minute 100 is held,
        // what happened after it came back is not.
        let back = gap("ok", Some(50 * MIN), Some(120 * MIN));
        for t in [EventType::ContainerRestarted, EventType::ContainerUnhealthy, EventType::DiskSpaceCritical] {
            assert_eq!(with(t, back.clone()), Some(Quiet::Suppressed), "{t}");
        }
        let after = QuietFacts { gap: back.clone(), occurred_at: 120 * MIN, ..facts(EventType::ContainerRestarted) };
        assert_eq!(quiet(&after), None);
        let before = QuietFacts { gap: back, occurred_at: 49 * MIN, ..facts(EventType::ContainerRestarted) };
        assert_eq!(quiet(&before), None);
        // Not what a silent node cannot cause, nor anything of a node that never went silent.
        assert_eq!(with(EventType::BackupFailed, gap("down", Some(0), None)), None);
        assert_eq!(with(EventType::ExpectedBackupMissed, gap("ok", None, None)), None);
        assert_eq!(with(EventType::ExpectedBackupMissed, None), None);
    }

    #[test]
    fn status_changes_beyond_the_limit_are_flapping() {
        let changes = |n, t| quiet(&QuietFacts { recent_changes: n, ..facts(t) });
        assert_eq!(changes(4, EventType::NodeDown), None);
        assert_eq!(changes(5, EventType::NodeDown), Some(Quiet::Flapping));
        assert_eq!(changes(9, EventType::NodeRecovered), Some(Quiet::Flapping));
        assert_eq!(changes(9, EventType::NodeFlapping), None, "the notice itself goes out");
        assert_eq!(quiet(&QuietFacts { recent_changes: 50, flapping_changes: 0, ..facts(EventType::NodeDown) }), None);
        assert!(!starts_flapping(4, 4));
        assert!(starts_flapping(5, 4));
        assert!(!starts_flapping(6, 4), "one notice, not one per change");
        assert!(!starts_flapping(1, 0));
    }

    #[test]
    fn a_storm_starts_above_the_share_that_went_silent_together_and_ends_when_few_are_silent() {
        let s = |together, silent| Silence { nodes: 1000, went_silent_together: together, silent };
        assert!(!storm(false, s(200, 200), 20), "exactly 20% is not more than 20%");
        assert!(storm(false, s(201, 201), 20));
        assert!(storm(false, s(300, 300), 20));
        // Many silent, but one by one over hours: no storm.
        assert!(!storm(false, s(3, 400), 20));
        // Once on, it lasts while more than the share is silent.
        assert!(storm(true, s(0, 250), 20));
        assert!(!storm(true, s(0, 200), 20));
        assert!(!storm(false, Silence { nodes: 0, went_silent_together: 0, silent: 0 }, 20));
    }

    fn alert(notified_at: Option<DateTime<Utc>>) -> AlertRow {
        AlertRow {
            id: 1,
            customer_id: "kovacs".into(),
            kind: AlertKind::Node,
            event_id: 7,
            event_type: EventType::NodeDown,
            opened_at: now() - TimeDelta::days(3),
            notified_at,
            reminders: 0,
            resolved_at: None,
            acked_at: None,
            acked_by: None,
            ack_note: None,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_open_alert_is_released_once_nothing_holds_it_and_reminded_every_interval() {
        let day = TimeDelta::hours(24);
        assert_eq!(due(&alert(None), true, day, now()), None, "still held");
        assert_eq!(due(&alert(None), false, day, now()), Some(Due::Release));
        let told = |ago: TimeDelta| alert(Some(now() - ago));
        assert_eq!(due(&told(day - TimeDelta::seconds(1)), false, day, now()), None);
        assert_eq!(due(&told(day), false, day, now()), Some(Due::Reminder));
        assert_eq!(due(&told(TimeDelta::days(5)), false, TimeDelta::zero(), now()), None, "0 = never");
        assert_eq!(due(&told(day), true, day, now()), None, "no reminder during maintenance");
        let acked = AlertRow { acked_at: Some(now()), ..told(day) };
        assert_eq!(due(&acked, false, day, now()), None);
        let resolved = AlertRow { resolved_at: Some(now()), ..alert(None) };
        assert_eq!(due(&resolved, false, day, now()), None);
    }
}
