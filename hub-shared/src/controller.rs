//! Acting on a customer's controller: its address as the hub knows it, and the answers of push,
//! pull and update (`/api/v1/configs/{id}/push|pull|update`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::CustomerConfig;
use crate::config_diff::ConfigDiff;
use crate::credentials::Credentials;

/// Where the hub calls the customer's controller. The first `controller_url` a customer reports
/// is taken (`accepted`); a different one in a later report is `pending` until the operator
/// accepts it, and the hub keeps calling `accepted` meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControllerAddress {
    pub accepted: Option<String>,
    /// The address of the latest report, when it differs from `accepted`.
    pub pending: Option<String>,
}

/// What the controller answered: its HTTP status and its message (its JSON `message` or
/// `error`, else the start of its text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControllerAnswer {
    pub status: u16,
    pub message: String,
}

/// The answer to `POST /api/v1/configs/{id}/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResult {
    pub customer_id: String,
    pub controller_url: String,
    pub controller: ControllerAnswer,
}

/// The answer to `POST /api/v1/configs/{id}/pull`: the stored config after the pull, and what
/// changed in it (`hub`: before, `controller`: the value taken from the controller).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResult {
    pub config: CustomerConfig,
    pub changes: ConfigDiff,
    /// The customer had no stored config: one was created, with these credentials, shown this
    /// once. The controller keeps its old key until the config is pushed.
    pub created: Option<Credentials>,
}

/// The body of `POST /api/v1/configs/{id}/update`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UpdateRequest {
    /// The version to update to; the newest the registry watch knows when absent.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9.+_-]{1,64}$"))]
    pub version: Option<String>,
}

/// Where a requested controller update stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpdateStatus {
    /// Requested; no report with the version yet.
    Updating,
    /// A report with the version arrived.
    Arrived,
    /// No report with the version arrived in `controllers.update_timeout`.
    Failed,
}

impl UpdateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateStatus::Updating => "updating",
            UpdateStatus::Arrived => "arrived",
            UpdateStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<UpdateStatus> {
        [UpdateStatus::Updating, UpdateStatus::Arrived, UpdateStatus::Failed].into_iter().find(|u| u.as_str() == s)
    }
}

/// The customer's latest requested controller update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControllerUpdate {
    pub version: String,
    pub status: UpdateStatus,
    pub requested_at: DateTime<Utc>,
    /// When it counts as not arrived.
    pub deadline_at: DateTime<Utc>,
    /// When it arrived or was given up.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The answer to `POST /api/v1/configs/{id}/update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateStarted {
    pub customer_id: String,
    pub controller_url: String,
    pub update: ControllerUpdate,
    pub controller: ControllerAnswer,
}
