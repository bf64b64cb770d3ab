//! The status rule: one pure function that the API and the dashboard both use, so they cannot
//! disagree about whether a node is OK.

use serde::{Deserialize, Serialize};

use crate::report::Health;

/// The status shown for a customer's node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum NodeStatus {
    Ok,
    Warn,
    Down,
    Disabled,
    Pending,
    Blocked,
}

impl NodeStatus {
    pub const ALL: [NodeStatus; 6] = [
        NodeStatus::Ok,
        NodeStatus::Warn,
        NodeStatus::Down,
        NodeStatus::Disabled,
        NodeStatus::Pending,
        NodeStatus::Blocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Ok => "OK",
            NodeStatus::Warn => "WARN",
            NodeStatus::Down => "DOWN",
            NodeStatus::Disabled => "DISABLED",
            NodeStatus::Pending => "PENDING",
            NodeStatus::Blocked => "BLOCKED",
        }
    }

    pub fn parse(s: &str) -> Option<NodeStatus> {
        NodeStatus::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rule needs to know about a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInput {
    /// The operator blocked the customer.
    pub blocked: bool,
    /// When the last report was received (Unix ms), `None` if never.
    pub last_report_ms: Option<i64>,
    /// The health the last report declared.
    pub health: Health,
    /// The controller's `monitoring_enabled` flag from the last report.
    pub monitoring_enabled: bool,
}

/// Computes a node's status at `now_ms` with the stale threshold `stale_ms` (default 30 min).
///
/// - `BLOCKED` wins over everything, then `PENDING` (no report yet), then `DISABLED`;
/// - otherwise the worse of age and health: younger than the threshold is `OK`, from the
///   threshold up to twice it `WARN`, older than twice it `DOWN`; health `warn` is at least
///   `WARN`, health `fail` is `DOWN`.
pub fn node_status(input: StatusInput, now_ms: i64, stale_ms: i64) -> NodeStatus {
    if input.blocked {
        return NodeStatus::Blocked;
    }
    let Some(last) = input.last_report_ms else {
        return NodeStatus::Pending;
    };
    if !input.monitoring_enabled {
        return NodeStatus::Disabled;
    }
    let age = now_ms.saturating_sub(last);
    let by_age = if age < stale_ms {
        NodeStatus::Ok
    } else if age <= stale_ms.saturating_mul(2) {
        NodeStatus::Warn
    } else {
        NodeStatus::Down
    };
    let by_health = match input.health {
        Health::Ok => NodeStatus::Ok,
        Health::Warn => NodeStatus::Warn,
        Health::Fail => NodeStatus::Down,
    };
    // Ok < Warn < Down in the enum's order.
    by_age.max(by_health)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const STALE: i64 = 30 * MIN;
    const NOW: i64 = 1_800_000_000_000;

    fn reported(age_ms: i64, health: Health) -> StatusInput {
        StatusInput { blocked: false, last_report_ms: Some(NOW - age_ms), health, monitoring_enabled: true }
    }

    #[test]
    fn age_boundaries() {
        assert_eq!(node_status(reported(0, Health::Ok), NOW, STALE), NodeStatus::Ok);
        assert_eq!(node_status(reported(STALE - 1, Health::Ok), NOW, STALE), NodeStatus::Ok);
        assert_eq!(node_status(reported(STALE, Health::Ok), NOW, STALE), NodeStatus::Warn);
        assert_eq!(node_status(reported(2 * STALE, Health::Ok), NOW, STALE), NodeStatus::Warn);
        assert_eq!(node_status(reported(2 * STALE + 1, Health::Ok), NOW, STALE), NodeStatus::Down);
    }

    #[test]
    fn health_raises_the_status() {
        assert_eq!(node_status(reported(0, Health::Warn), NOW, STALE), NodeStatus::Warn);
        assert_eq!(node_status(reported(0, Health::Fail), NOW, STALE), NodeStatus::Down);
        assert_eq!(node_status(reported(STALE, Health::Fail), NOW, STALE), NodeStatus::Down);
        assert_eq!(node_status(reported(3 * STALE, Health::Warn), NOW, STALE), NodeStatus::Down);
    }

    #[test]
    fn a_report_from_the_future_is_ok() {
        assert_eq!(node_status(reported(-5 * MIN, Health::Ok), NOW, STALE), NodeStatus::Ok);
    }

    #[test]
    fn blocked_pending_and_disabled_take_precedence() {
        let mut input = reported(3 * STALE, Health::Fail);
        input.monitoring_enabled = false;
        assert_eq!(node_status(input, NOW, STALE), NodeStatus::Disabled);
        input.blocked = true;
        assert_eq!(node_status(input, NOW, STALE), NodeStatus::Blocked);
        let pending =
            StatusInput { blocked: false, last_report_ms: None, health: Health::Ok, monitoring_enabled: true };
        assert_eq!(node_status(pending, NOW, STALE), NodeStatus::Pending);
        assert_eq!(node_status(StatusInput { blocked: true, ..pending }, NOW, STALE), NodeStatus::Blocked);
    }

    #[test]
    fn parses_and_prints() {
        for st in NodeStatus::ALL {
            assert_eq!(NodeStatus::parse(st.as_str()), Some(st));
            assert_eq!(serde_json::to_string(&st).unwrap(), format!("\"{}\"", st.as_str()));
        }
        assert_eq!(NodeStatus::parse("ok"), Some(NodeStatus::Ok));
        assert_eq!(NodeStatus::parse("nope"), None);
    }
}
