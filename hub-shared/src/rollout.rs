//! Staged rollouts of a controller version: the request that starts one, its state, and each
//! node's step, as the API and the web app see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest version accepted, in bytes.
pub const VERSION_MAX: usize = 64;
/// The largest batch.
pub const BATCH_MAX: u32 = 1000;
/// The batch size when none is given.
pub const DEFAULT_BATCH: u32 = 10;

/// `POST /api/v1/rollouts`: the canary nodes are `canary` (customer ids) or `canary_percent` of
/// the rollout's nodes (at least one), never both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartRollout {
    /// The version (registry tag) to update to, e.g. `1.5.0`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$"))]
    pub version: String,
    /// The customers updated first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Vec<String>>,
    /// 1–100: this share of the nodes, rounded up, updated first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_percent: Option<u32>,
    /// How long each updated node must stay OK with the new version before the next step
    /// (`10m`, `1h`; at most `7d`).
    pub wait: String,
    /// Nodes updated at a time after the canaries (1–1000, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// How long a node may take to report the new version before the rollout stops (default
    /// `controllers.update_timeout`, 30m unless configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_timeout: Option<String>,
}

/// Where a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    Running,
    /// Paused by the operator; resumes where it was.
    Paused,
    /// Stopped by itself because a node failed (see `reason`); the operator may resume or abort.
    Stopped,
    Aborted,
    Done,
}

impl RolloutState {
    pub const ALL: [RolloutState; 5] =
        [RolloutState::Running, RolloutState::Paused, RolloutState::Stopped, RolloutState::Aborted, RolloutState::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Running => "running",
            RolloutState::Paused => "paused",
            RolloutState::Stopped => "stopped",
            RolloutState::Aborted => "aborted",
            RolloutState::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutState> {
        RolloutState::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Aborted and done rollouts never change again.
    pub fn is_finished(self) -> bool {
        matches!(self, RolloutState::Aborted | RolloutState::Done)
    }
}

/// Where one node of a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeStep {
    /// Not asked yet.
    Pending,
    /// Asked to update; waiting for a report with the new version.
    Updating,
    /// Reported the new version and OK; staying OK for the rollout's `wait`.
    Soaking,
    Done,
    /// Left out (blocked, already on the version); `message` says why.
    Skipped,
    /// Did not arrive in time, or went WARN/DOWN; `message` says which.
    Failed,
}

impl NodeStep {
    pub const ALL: [NodeStep; 6] =
        [NodeStep::Pending, NodeStep::Updating, NodeStep::Soaking, NodeStep::Done, NodeStep::Skipped, NodeStep::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeStep::Pending => "pending",
            NodeStep::Updating => "updating",
            NodeStep::Soaking => "soaking",
            NodeStep::Done => "done",
            NodeStep::Skipped => "skipped",
            NodeStep::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<NodeStep> {
        NodeStep::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Asked and not yet done.
    pub fn in_flight(self) -> bool {
        matches!(self, NodeStep::Updating | NodeStep::Soaking)
    }

    /// Nothing more happens to the node.
    pub fn is_final(self) -> bool {
        matches!(self, NodeStep::Done | NodeStep::Skipped | NodeStep::Failed)
    }
}

/// One node of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutNode {
    pub customer_id: String,
    pub canary: bool,
    pub step: NodeStep,
    /// The version it reported when the rollout started.
    pub from_version: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
    /// When it first reported the new version while OK.
    pub arrived_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it was skipped or failed.
    pub message: Option<String>,
}

/// How many nodes are at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepCounts {
    pub pending: u32,
    pub updating: u32,
    pub soaking: u32,
    pub done: u32,
    pub skipped: u32,
    pub failed: u32,
}

impl StepCounts {
    pub fn of(steps: impl IntoIterator<Item = NodeStep>) -> StepCounts {
        let mut counts = StepCounts::default();
        for step in steps {
            *match step {
                NodeStep::Pending => &mut counts.pending,
                NodeStep::Updating => &mut counts.updating,
                NodeStep::Soaking => &mut counts.soaking,
                NodeStep::Done => &mut counts.done,
                NodeStep::Skipped => &mut counts.skipped,
                NodeStep::Failed => &mut counts.failed,
            } += 1;
        }
        counts
    }
}

/// A rollout without its nodes (a row of the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutSummary {
    pub id: i64,
    pub version: String,
    pub state: RolloutState,
    pub wait_secs: u64,
    pub batch_size: u32,
    pub update_timeout_secs: u64,
    /// Why it stopped or was aborted.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: StepCounts,
}

/// `GET /api/v1/rollouts/{rollout_id}`: the rollout and each node's step, canaries first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rollout {
    pub rollout: RolloutSummary,
    pub nodes: Vec<RolloutNode>,
}

/// `GET /api/v1/rollouts`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutList {
    pub rollouts: Vec<RolloutSummary>,
    /// The cursor of the next, older page; `null` on the last page.
    pub next_before: Option<i64>,
}

/// Checks a version to roll out: 1–64 letters, digits and `.-+_`, starting with a letter or digit.
pub fn version(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= VERSION_MAX
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b".-+_".contains(&b))
        && value.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be 1–{VERSION_MAX} letters, digits and .-+_ starting with a letter or digit (a registry tag)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for s in RolloutState::ALL {
            assert_eq!(RolloutState::parse(s.as_str()), Some(s));
        }
        for s in NodeStep::ALL {
            assert_eq!(NodeStep::parse(s.as_str()), Some(s));
        }
        assert_eq!(NodeStep::parse("Done"), None);
    }

    #[test]
    fn versions_are_registry_tags() {
        assert!(version("1.5.0").is_ok() && version("v1.5.0-rc.1+build_7").is_ok());
        for bad in ["", "-1.0", "1.0 beta", "1.0/x", &"9".repeat(65)] {
            assert!(version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn steps_are_counted() {
        let counts = StepCounts::of([NodeStep::Done, NodeStep::Done, NodeStep::Failed]);
        assert_eq!((counts.done, counts.failed, counts.pending), (2, 1, 0));
    }
}
