//! Storm protection, a step of the staleness checker: when more than `alerting.storm_percent` of
//! the watched nodes went silent within `alerting.storm_window` of each other, the operator gets
//! one `fleet_outage` alert (an open alert of the fleet) and the nodes' own status emails are held
//! while it lasts; it ends once no more than that share is silent.

use chrono::{DateTime, Utc};
use hub_shared::alert::AlertKind;
use hub_shared::event::{EventType, Severity, FLEET, HUB_SOURCE};

use super::staleness::{transition, NodeState};
use crate::notify::quiet::{self, Silence};
use crate::state::AppState;
use crate::store::{NewAlert, NewEvent, NodeCandidate};

/// The customers a `fleet_outage` event names at most.
const LISTED: usize = 100;

/// Starts or ends the storm for the nodes `candidates` about to make `moves` (from, to) at
/// `now`; returns what changed, if anything.
pub async fn check(
    state: &AppState,
    candidates: &[NodeCandidate],
    moves: &[(NodeState, NodeState)],
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let config = state.config();
    let now_ms = now.timestamp_millis();
    let window_ms = config.storm_window.as_millis() as i64;
    let together_since = now_ms - config.stale_ms() - window_ms;
    let mut silence = Silence { nodes: candidates.len(), went_silent_together: 0, silent: 0 };
    let mut together = Vec::new();
    for (c, &(from, to)) in candidates.iter().zip(moves) {
        let after = if transition(from, to).is_some() { to } else { from };
        if after == NodeState::Ok {
            continue;
        }
        silence.silent += 1;
        let silent_since = if from == NodeState::Ok { c.received_at } else { c.silent_since.unwrap_or(c.received_at) };
        if silent_since >= together_since {
            silence.went_silent_together += 1;
            together.push(c.customer_id.as_str());
        }
    }
    let store = state.store();
    let active = store.open_alert_of(FLEET, AlertKind::Fleet).await?.is_some();
    match (active, quiet::storm(active, silence, config.raw.alerting.storm_percent)) {
        (false, true) => {
            let minutes = window_ms / 60_000;
            let message = format!(
                "{} of {} reporting nodes went silent within {minutes} minutes",
                silence.went_silent_together, silence.nodes
            );
            let event = NewEvent {
                customer_id: FLEET.into(),
                event_type: EventType::FleetOutage,
                severity: Severity::Error,
                message: message.clone(),
                details_json: serde_json::json!({
                    "silent_together": silence.went_silent_together,
                    "silent": silence.silent,
                    "nodes": silence.nodes,
                    "storm_percent": config.raw.alerting.storm_percent,
                    "customers": together.iter().take(LISTED).collect::<Vec<_>>(),
                })
                .to_string(),
                source: HUB_SOURCE.into(),
                occurred_at: now_ms,
                received_at: now_ms,
            };
            let event_id = store.insert_event(&event).await?;
            let alert = NewAlert {
                customer_id: FLEET,
                kind: AlertKind::Fleet,
                event_id,
                event_type: EventType::FleetOutage,
                at: now_ms,
                notified: false,
            };
            store.open_alert(&alert).await?;
            tracing::warn!(%message, "fleet outage: per-node emails are held");
            Ok(Some(format!("fleet outage: {message}")))
        }
        (true, false) => {
            store.resolve_alert(FLEET, AlertKind::Fleet, now_ms).await?;
            tracing::info!(silent = silence.silent, nodes = silence.nodes, "the fleet outage is over");
            Ok(Some("the fleet outage is over".into()))
        }
        _ => Ok(None),
    }
}
