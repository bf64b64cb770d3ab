//! Moving running rollouts on: the `rollout_step` job reads each running rollout, asks the pure
//! rules ([`super::machine::step`]) what to do now, and does it: update requests through an
//! [`Updater`], node steps in the store, and a stop with its `rollout_stopped` event. A request
//! that fails fails its node and stops the rollout; nothing else is asked in that step.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_shared::event::{EventType, Severity, HUB_SOURCE};
use hub_shared::rollout::{NodeStep, RolloutState};

use super::machine::{self, Action, NodeView, Plan};
use super::{fleet_facts, machine_facts};
use crate::state::AppState;
use crate::store::{NewEvent, RolloutRow, StateChange};

/// Asks a node's controller to update; the error says why it could not.
#[async_trait]
pub trait Updater: Send + Sync {
    async fn request_update(
        &self,
        state: &AppState,
        rollout_id: i64,
        customer_id: &str,
        version: &str,
        now: DateTime<Utc>,
    ) -> Result<(), String>;
}

/// The real one: the controller's `POST /api/update` through [`crate::controller::request_update`],
/// which records the update and audits it as asked by `rollout #<id>`.
pub struct ControllerUpdater;

#[async_trait]
impl Updater for ControllerUpdater {
    async fn request_update(
        &self,
        state: &AppState,
        rollout_id: i64,
        customer_id: &str,
        version: &str,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let actor = format!("rollout #{rollout_id}");
        crate::controller::request_update(state, customer_id, version, &actor, now)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Moves every running rollout on at `now`; the summary says what happened.
pub async fn advance(state: &AppState, updater: &dyn Updater, now: DateTime<Utc>) -> anyhow::Result<String> {
    let running = state.store().rollouts_in(RolloutState::Running).await?;
    if running.is_empty() {
        return Ok("no running rollout".into());
    }
    let now_ms = now.timestamp_millis();
    let facts = machine_facts(fleet_facts(state, now_ms).await?);
    let mut done = Vec::new();
    for rollout in running {
        let nodes: Vec<NodeView> = state
            .store()
            .rollout_nodes(rollout.id)
            .await?
            .into_iter()
            .map(|n| NodeView {
                customer_id: n.customer_id,
                canary: n.canary,
                step: n.step,
                requested_at: n.requested_at,
                arrived_at: n.arrived_at,
            })
            .collect();
        let plan = Plan {
            version: rollout.version.clone(),
            wait_ms: rollout.wait_ms,
            batch_size: rollout.batch_size.max(1) as usize,
            update_timeout_ms: rollout.update_timeout_ms,
        };
        let actions = machine::step(&plan, &nodes, &facts, now_ms);
        done.push(format!("#{}: {}", rollout.id, apply(state, updater, &rollout, actions, now).await?));
    }
    Ok(done.join("; "))
}

/// Does `actions` for `rollout`; the summary counts them.
async fn apply(
    state: &AppState,
    updater: &dyn Updater,
    rollout: &RolloutRow,
    actions: Vec<Action>,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let store = state.store();
    let now_ms = now.timestamp_millis();
    let id = rollout.id;
    let (mut asked, mut moved) = (0, 0);
    for action in actions {
        match action {
            Action::Request { customer_id } => {
                match updater.request_update(state, id, &customer_id, &rollout.version, now).await {
                    Ok(()) => {
                        store.set_node_step(id, &customer_id, NodeStep::Updating, now_ms, None).await?;
                        asked += 1;
                    }
                    Err(why) => {
                        let reason = format!("the update request failed: {why}");
                        store.set_node_step(id, &customer_id, NodeStep::Failed, now_ms, Some(&reason)).await?;
                        stop(state, rollout, &customer_id, &format!("{customer_id} {reason}"), now_ms).await?;
                        return Ok(format!("{asked} asked, stopped: {customer_id} {reason}"));
                    }
                }
            }
            Action::Arrive { customer_id } => {
                store.set_node_step(id, &customer_id, NodeStep::Soaking, now_ms, None).await?;
                moved += 1;
            }
            Action::Finish { customer_id } => {
                store.set_node_step(id, &customer_id, NodeStep::Done, now_ms, None).await?;
                moved += 1;
            }
            Action::Skip { customer_id, reason } => {
                store.set_node_step(id, &customer_id, NodeStep::Skipped, now_ms, Some(&reason)).await?;
                moved += 1;
            }
            Action::Fail { customer_id, reason } => {
                store.set_node_step(id, &customer_id, NodeStep::Failed, now_ms, Some(&reason)).await?;
                moved += 1;
            }
            Action::Stop { customer_id, reason } => {
                stop(state, rollout, &customer_id, &reason, now_ms).await?;
                return Ok(format!("stopped: {reason}"));
            }
            Action::Complete => {
                let change =
                    StateChange { from: &[RolloutState::Running], to: RolloutState::Done, reason: None, now: now_ms };
                store.set_rollout_state(id, &change, None, None).await?;
                return Ok("done".into());
            }
        }
    }
    Ok(format!("{asked} asked, {moved} moved on"))
}

/// Stops the rollout at `customer_id` for `reason`, with the `rollout_stopped` event that tells
/// the operator.
async fn stop(state: &AppState, rollout: &RolloutRow, customer_id: &str, reason: &str, now: i64) -> anyhow::Result<()> {
    let event = NewEvent {
        customer_id: customer_id.to_string(),
        event_type: EventType::RolloutStopped,
        severity: Severity::Error,
        message: format!("rollout #{} to {} stopped: {reason}", rollout.id, rollout.version),
        details_json: serde_json::json!({
            "rollout_id": rollout.id,
            "version": rollout.version,
            "reason": reason,
        })
        .to_string(),
        source: HUB_SOURCE.into(),
        occurred_at: now,
        received_at: now,
    };
    let change = StateChange { from: &[RolloutState::Running], to: RolloutState::Stopped, reason: Some(reason), now };
    if state.store().set_rollout_state(rollout.id, &change, None, Some(&event)).await? {
        state.notifier().wake();
    }
    Ok(())
}
