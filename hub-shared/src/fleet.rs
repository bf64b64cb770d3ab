//! What the fleet-wide API says about controller versions: how many nodes run each version, and
//! the newest version the registry watch knows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The newest controller version the registry watch found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatestVersion {
    /// The registry's tag, as it is (`1.4.2` or `v1.4.2`).
    pub version: String,
    /// When the watch first saw it as the newest.
    pub seen_at: DateTime<Utc>,
}

/// How many nodes report one controller version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionCount {
    /// The reported version; `null` for nodes whose reports name none.
    pub version: Option<String>,
    pub nodes: u32,
    /// Older than `latest` (always `false` while no latest version is known).
    pub outdated: bool,
}

/// `GET /api/v1/fleet/versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FleetVersions {
    /// Newest version first; nodes without a version last.
    pub versions: Vec<VersionCount>,
    /// `null` until the registry watch has found a release.
    pub latest: Option<LatestVersion>,
    /// Nodes that reported at least once.
    pub nodes: u32,
    /// Of them, those older than `latest`.
    pub outdated: u32,
    pub generated_at: DateTime<Utc>,
}

/// What the last drift check found on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DriftState {
    /// The controller runs the hub's config.
    InSync,
    /// `keys` key paths differ.
    Drifted,
    /// The controller could not be asked (`message` says why): never counted as in sync.
    Unreachable,
}

impl DriftState {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftState::InSync => "in_sync",
            DriftState::Drifted => "drifted",
            DriftState::Unreachable => "unreachable",
        }
    }
}

/// A node's last drift check, on the fleet views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriftMark {
    pub state: DriftState,
    /// Key paths added, removed or changed (0 unless drifted).
    pub keys: u32,
    pub checked_at: DateTime<Utc>,
    /// Why the controller could not be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl DriftMark {
    /// `drifted (3 keys)`, `unreachable`, `in sync`.
    pub fn label(&self) -> String {
        match self.state {
            DriftState::InSync => "in sync".into(),
            DriftState::Drifted if self.keys == 1 => "drifted (1 key)".into(),
            DriftState::Drifted => format!("drifted ({} keys)", self.keys),
            DriftState::Unreachable => "unreachable".into(),
        }
    }
}

/// `POST /api/v1/fleet/drift/check`: what one check of the fleet found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriftCheck {
    /// Managed, unblocked nodes the check asked.
    pub nodes: u32,
    pub in_sync: u32,
    pub drifted: u32,
    pub unreachable: u32,
    /// Nodes whose answer did not come in time; they keep their previous result (the
    /// `drift_check` job asks them again).
    pub unfinished: u32,
    pub checked_at: DateTime<Utc>,
}
