//! The dead man's switch, every 60 s: per customer, `node_stale` (warning) once the last report
//! is older than `alerting.stale_threshold`, `node_down` (error) once older than twice that, and
//! `node_recovered` (info) when reports come again. The state (ok, stale, down) is stored, and a
//! transition writes state and event in one transaction, so no event repeats, after a restart or
//! a leader change either. Blocked, monitoring-disabled and never-reported customers are skipped.
//! Before the node events are stored, the storm is checked (`storm.rs`); after a change, a node
//! that starts flapping gets its one `node_flapping` notice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_shared::event::{EventType, Severity};

use super::{storm, Job, Schedule};
use crate::notify::quiet;
use crate::state::AppState;
use crate::store::{NewEvent, NodeCandidate};

pub struct Staleness;

/// A node's state as the checker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    Ok,
    Stale,
    Down,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Ok => "ok",
            NodeState::Stale => "stale",
            NodeState::Down => "down",
        }
    }

    pub fn parse(s: Option<&str>) -> NodeState {
        match s {
            Some("stale") => NodeState::Stale,
            Some("down") => NodeState::Down,
            _ => NodeState::Ok,
        }
    }

    /// The state a report of age `age_ms` means.
    pub fn for_age(age_ms: i64, stale_ms: i64) -> NodeState {
        if age_ms > 2 * stale_ms {
            NodeState::Down
        } else if age_ms > stale_ms {
            NodeState::Stale
        } else {
            NodeState::Ok
        }
    }
}

/// The event of moving from `from` to `to`, if that move has one. A stale node whose age jumps
/// past twice the threshold goes down; a down node stays down until it reports.
pub fn transition(from: NodeState, to: NodeState) -> Option<(EventType, Severity)> {
    match (from, to) {
        (NodeState::Ok, NodeState::Stale) => Some((EventType::NodeStale, Severity::Warning)),
        (NodeState::Ok | NodeState::Stale, NodeState::Down) => Some((EventType::NodeDown, Severity::Error)),
        (NodeState::Stale | NodeState::Down, NodeState::Ok) => Some((EventType::NodeRecovered, Severity::Info)),
        _ => None,
    }
}

#[async_trait]
impl Job for Staleness {
    fn name(&self) -> &'static str {
        "staleness"
    }

    fn schedule(&self, state: &AppState) -> Schedule {
        Schedule::Every(state.config().staleness_interval)
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let now_ms = now.timestamp_millis();
        let stale_ms = state.config().stale_ms();
        let candidates: Vec<NodeCandidate> =
            state.store().node_candidates().await?.into_iter().filter(|c| !c.unwatched()).collect();
        let moves: Vec<(NodeState, NodeState)> = candidates
            .iter()
            .map(|c| (NodeState::parse(c.state.as_deref()), NodeState::for_age(now_ms - c.received_at, stale_ms)))
            .collect();
        // The storm is decided before the node events are stored, so the dispatcher holds them.
        let storm = storm::check(state, &candidates, &moves, now).await?;
        let mut events = 0;
        for (c, &(from, to)) in candidates.iter().zip(&moves) {
            let Some((event_type, severity)) = transition(from, to) else { continue };
            let age = now_ms - c.received_at;
            let minutes = age.max(0) / 60_000;
            let message = match to {
                NodeState::Ok => "the node reports again".to_string(),
                _ => format!("no report for {minutes} minutes"),
            };
            let event = NewEvent {
                customer_id: c.customer_id.clone(),
                event_type,
                severity,
                message,
                details_json: serde_json::json!({
                    "last_report_at": DateTime::from_timestamp_millis(c.received_at),
                    "minutes_since_report": minutes,
                    "stale_threshold_secs": stale_ms / 1000,
                    "previous_state": from.as_str(),
                })
                .to_string(),
                source: hub_shared::event::HUB_SOURCE.into(),
                occurred_at: if to == NodeState::Ok { c.received_at } else { now_ms },
                received_at: now_ms,
            };
            let stored = c.state.as_deref();
            let moved =
                state.store().transition_node(&c.customer_id, stored, to.as_str(), now_ms, c.received_at, &event);
            if moved.await?.is_some() {
                events += 1;
                events += flapping_notice(state, &c.customer_id, now).await?;
            }
        }
        if events > 0 || storm.is_some() {
            state.notifier().wake();
        }
        let storm = storm.map_or(String::new(), |s| format!("; {s}"));
        Ok(format!("{events} transitions{storm}"))
    }
}

/// After a status change at `now`: the one `node_flapping` notice when this change is the one
/// that makes the node flap (`alerting.flapping_changes` exceeded within the hour). Returns how
/// many events it stored.
async fn flapping_notice(state: &AppState, customer_id: &str, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let limit = state.config().raw.alerting.flapping_changes;
    let now_ms = now.timestamp_millis();
    let since = (now - quiet::FLAPPING_PERIOD).timestamp_millis();
    let changes = state.store().count_events_between(customer_id, &quiet::STATUS_CHANGES, since, now_ms).await?;
    if !quiet::starts_flapping(changes, limit) {
        return Ok(0);
    }
    let event = NewEvent {
        customer_id: customer_id.to_string(),
        event_type: EventType::NodeFlapping,
        severity: Severity::Warning,
        message: format!("{changes} status changes within an hour"),
        details_json: serde_json::json!({ "changes": changes, "limit": limit }).to_string(),
        source: hub_shared::event::HUB_SOURCE.into(),
        occurred_at: now_ms,
        received_at: now_ms,
    };
    state.store().insert_event(&event).await?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_map_to_states() {
        let t = 30 * 60_000;
        assert_eq!(NodeState::for_age(t, t), NodeState::Ok);
        assert_eq!(NodeState::for_age(t + 1, t), NodeState::Stale);
        assert_eq!(NodeState::for_age(2 * t, t), NodeState::Stale);
        assert_eq!(NodeState::for_age(2 * t + 1, t), NodeState::Down);
    }

    #[test]
    fn only_real_transitions_have_events() {
        use NodeState::*;
        assert_eq!(transition(Ok, Ok), None);
        assert_eq!(transition(Stale, Stale), None);
        assert_eq!(transition(Down, Stale), None);
        assert_eq!(transition(Ok, Stale).unwrap().0, EventType::NodeStale);
        assert_eq!(transition(Stale, Down).unwrap().0, EventType::NodeDown);
        assert_eq!(transition(Ok, Down).unwrap().0, EventType::NodeDown);
        assert_eq!(transition(Down, Ok).unwrap().0, EventType::NodeRecovered);
    }
}
