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
