//! The rollout's rules as a pure function: from a running rollout's nodes, what is known of each
//! node now (version, status, blocked) and the time, the actions that move it on. No I/O; the
//! job applies the actions (see [`super::advance`]).
//!
//! - An updating node that reports the new version while OK has arrived and starts soaking; one
//!   that reports it while WARN or DOWN, or has not reported it `update_timeout` after it was
//!   asked, fails.
//! - A soaking node that stays OK with the version for `wait` is done; one that goes WARN or
//!   DOWN, or reports another version, fails.
//! - Any failure stops the rollout (nothing new is asked).
//! - The canaries are asked first, all at once; the other nodes only once every canary is done
//!   (or skipped), `batch_size` at a time, each batch once the one before is done.
//! - A blocked node is skipped, whenever it is met; the rollout is complete once every node is
//!   done, skipped or failed.

use std::collections::HashMap;

use hub_shared::rollout::NodeStep;
use hub_shared::NodeStatus;

use crate::jobs::registry_watch::tag_version;

/// What a rollout asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub version: String,
    pub wait_ms: i64,
    pub batch_size: usize,
    pub update_timeout_ms: i64,
}

/// A node as the rollout holds it, in the rollout's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    pub customer_id: String,
    pub canary: bool,
    pub step: NodeStep,
    pub requested_at: Option<i64>,
    pub arrived_at: Option<i64>,
}

/// What is known of a node now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFacts {
    /// The version of its latest report.
    pub version: Option<String>,
    /// Its status by the shared rule, now.
    pub status: NodeStatus,
    pub blocked: bool,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ask the node's controller to update (then the node is updating).
    Request {
        customer_id: String,
    },
    /// The node reported the version while OK: it soaks from now.
    Arrive {
        customer_id: String,
    },
    /// The node stayed OK for the wait.
    Finish {
        customer_id: String,
    },
    Skip {
        customer_id: String,
        reason: String,
    },
    Fail {
        customer_id: String,
        reason: String,
    },
    /// The rollout stops, for the first failure's reason (always after a `Fail`).
    Stop {
        customer_id: String,
        reason: String,
    },
    /// Every node is done, skipped or failed.
    Complete,
}

/// Whether a reported version is the version rolled out (`v1.5.0` is `1.5.0`).
pub fn same_version(reported: &str, version: &str) -> bool {
    let (reported, version) = (reported.trim(), version.trim());
    match (tag_version(reported), tag_version(version)) {
        (Some(a), Some(b)) => a == b,
        _ => reported == version,
    }
}

fn minutes(ms: i64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms.max(0) as u64)).to_string()
}

/// The actions that move a running rollout on at `now` (ms).
pub fn step(plan: &Plan, nodes: &[NodeView], facts: &HashMap<String, NodeFacts>, now: i64) -> Vec<Action> {
    let mut actions = Vec::new();
    let mut steps: Vec<NodeStep> = nodes.iter().map(|n| n.step).collect();
    let mut first_failure = None;
    for (i, node) in nodes.iter().enumerate() {
        if !node.step.in_flight() {
            continue;
        }
        let id = node.customer_id.clone();
        let Some(fact) = facts.get(&node.customer_id) else {
            actions.push(Action::Skip { customer_id: id, reason: "no longer in the fleet".into() });
            steps[i] = NodeStep::Skipped;
            continue;
        };
        if fact.blocked {
            actions.push(Action::Skip { customer_id: id, reason: "blocked during the rollout".into() });
            steps[i] = NodeStep::Skipped;
            continue;
        }
        let reported = fact.version.as_deref().unwrap_or("");
        let arrived = same_version(reported, &plan.version);
        let unwell = matches!(fact.status, NodeStatus::Warn | NodeStatus::Down);
        let failure = match node.step {
            NodeStep::Updating if arrived && unwell => {
                Some(format!("reported {} but is {}", plan.version, fact.status.as_str()))
            }
            NodeStep::Updating if arrived => {
                actions.push(Action::Arrive { customer_id: id.clone() });
                steps[i] = NodeStep::Soaking;
                None
            }
            NodeStep::Updating if now - node.requested_at.unwrap_or(now) >= plan.update_timeout_ms => Some(format!(
                "did not report {} within {} of the update request",
                plan.version,
                minutes(plan.update_timeout_ms)
            )),
            NodeStep::Soaking if !arrived => {
                Some(format!("reports {} again after reporting {}", or_none(reported), plan.version))
            }
            NodeStep::Soaking if unwell => Some(format!("went {} after the update", fact.status.as_str())),
            NodeStep::Soaking if now - node.arrived_at.unwrap_or(now) >= plan.wait_ms => {
                actions.push(Action::Finish { customer_id: id.clone() });
                steps[i] = NodeStep::Done;
                None
            }
            _ => None,
        };
        if let Some(reason) = failure {
            first_failure.get_or_insert_with(|| (id.clone(), format!("{id} {reason}")));
            actions.push(Action::Fail { customer_id: id, reason });
            steps[i] = NodeStep::Failed;
        }
    }
    if let Some((customer_id, reason)) = first_failure {
        actions.push(Action::Stop { customer_id, reason });
        return actions;
    }

    let open =
        |canary: bool, steps: &[NodeStep]| nodes.iter().zip(steps).any(|(n, s)| n.canary == canary && !s.is_final());
    let in_flight =
        |canary: bool, steps: &[NodeStep]| nodes.iter().zip(steps).any(|(n, s)| n.canary == canary && s.in_flight());
    let canaries_open = open(true, &steps);
    let batch_room = if canaries_open {
        usize::MAX
    } else if in_flight(false, &steps) {
        0
    } else {
        plan.batch_size.max(1)
    };
    let mut asked = 0;
    for (i, node) in nodes.iter().enumerate() {
        if asked >= batch_room || steps[i] != NodeStep::Pending || node.canary != canaries_open {
            continue;
        }
        let id = node.customer_id.clone();
        match facts.get(&node.customer_id) {
            None => {
                actions.push(Action::Skip { customer_id: id, reason: "no longer in the fleet".into() });
                steps[i] = NodeStep::Skipped;
            }
            Some(fact) if fact.blocked => {
                actions.push(Action::Skip { customer_id: id, reason: "blocked".into() });
                steps[i] = NodeStep::Skipped;
            }
            Some(_) => {
                actions.push(Action::Request { customer_id: id });
                steps[i] = NodeStep::Updating;
                asked += 1;
            }
        }
    }
    if steps.iter().all(|s| s.is_final()) {
        actions.push(Action::Complete);
    }
    actions
}

fn or_none(version: &str) -> &str {
    if version.is_empty() {
        "no version"
    } else {
        version
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
