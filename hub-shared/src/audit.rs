//! The audit log (`GET /api/v1/audit`): every operator change and every use of a customer's
//! retrieval password, with a summary that never contains a secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened. Stored and sent as snake_case text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    Block,
    Unblock,
    RotateApiKey,
    RotateRetrievalPassword,
    /// The API key or retrieval password was set to a given value (the original hub's).
    SetCredentials,
    Reveal,
    RevealInfraBackup,
    ClearLockout,
    /// A config or recovery bundle was fetched with the right retrieval password.
    Retrieval,
    /// A wrong retrieval password (or an unknown customer).
    RetrievalFailed,
    /// Repeated failures raised an operator alert.
    RetrievalAlert,
    /// The operator accepted a changed controller address (old and new in the summary).
    AcceptControllerAddress,
    /// The generated config was sent to the controller (or the attempt failed).
    PushConfig,
    /// The controller's live config was taken into the stored one.
    PullConfig,
    /// The hub's config was compared with the controller's live one.
    ConfigDiff,
    /// The controller was asked to update itself.
    ControllerUpdate,
    /// A test message through a notification channel (`POST /api/v1/notifications/test`).
    TestNotification,
    RolloutStart,
    RolloutPause,
    RolloutResume,
    RolloutAbort,
    /// The operator asked for a drift check of the fleet.
    DriftCheck,
}

impl AuditAction {
    pub const ALL: [AuditAction; 25] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::Block,
        AuditAction::Unblock,
        AuditAction::RotateApiKey,
        AuditAction::RotateRetrievalPassword,
        AuditAction::SetCredentials,
        AuditAction::Reveal,
        AuditAction::RevealInfraBackup,
        AuditAction::ClearLockout,
        AuditAction::Retrieval,
        AuditAction::RetrievalFailed,
        AuditAction::RetrievalAlert,
        AuditAction::AcceptControllerAddress,
        AuditAction::PushConfig,
        AuditAction::PullConfig,
        AuditAction::ConfigDiff,
        AuditAction::ControllerUpdate,
        AuditAction::TestNotification,
        AuditAction::RolloutStart,
        AuditAction::RolloutPause,
        AuditAction::RolloutResume,
        AuditAction::RolloutAbort,
        AuditAction::DriftCheck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Block => "block",
            AuditAction::Unblock => "unblock",
            AuditAction::RotateApiKey => "rotate_api_key",
            AuditAction::RotateRetrievalPassword => "rotate_retrieval_password",
            AuditAction::SetCredentials => "set_credentials",
            AuditAction::Reveal => "reveal",
            AuditAction::RevealInfraBackup => "reveal_infra_backup",
            AuditAction::ClearLockout => "clear_lockout",
            AuditAction::Retrieval => "retrieval",
            AuditAction::RetrievalFailed => "retrieval_failed",
            AuditAction::RetrievalAlert => "retrieval_alert",
            AuditAction::AcceptControllerAddress => "accept_controller_address",
            AuditAction::PushConfig => "push_config",
            AuditAction::PullConfig => "pull_config",
            AuditAction::ConfigDiff => "config_diff",
            AuditAction::ControllerUpdate => "controller_update",
            AuditAction::TestNotification => "test_notification",
            AuditAction::RolloutStart => "rollout_start",
            AuditAction::RolloutPause => "rollout_pause",
            AuditAction::RolloutResume => "rollout_resume",
            AuditAction::RolloutAbort => "rollout_abort",
            AuditAction::DriftCheck => "drift_check",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `operator`, `controller` or `public` (a retrieval-password caller).
    pub actor: String,
    pub action: AuditAction,
    pub customer_id: Option<String>,
    /// What changed, never a secret's value.
    pub summary: String,
    pub client_ip: Option<String>,
}

/// A page of the audit log, newest first. Pass `next_before` as `before` for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next (older) page; `null` on the last page.
    pub next_before: Option<i64>,
}

/// The filter of the audit log (`?customer_id=`), beside its [`crate::page::PageQuery`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// Only this customer's entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_as_text() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
    }
}
