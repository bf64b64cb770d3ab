//! Open alerts (`/api/v1/alerts`): a failure that stays until it resolves (the node reports
//! again, a backup arrives), repeated to the operator until then or until acknowledged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::EventType;

/// The longest acknowledgement note, in bytes.
pub const NOTE_MAX: usize = 500;

/// What an alert is about; one open alert per customer and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The node is stale or down; resolves when it reports.
    Node,
    /// The backup failed or is missing; resolves with a completed backup.
    Backup,
    /// The database dump failed or is missing; resolves with a completed dump.
    Dbdump,
    /// Many nodes went silent at once; resolves when the storm ends.
    Fleet,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [AlertKind::Node, AlertKind::Backup, AlertKind::Dbdump, AlertKind::Fleet];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Node => "node",
            AlertKind::Backup => "backup",
            AlertKind::Dbdump => "dbdump",
            AlertKind::Fleet => "fleet",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind an event opens (or keeps open), if any.
    pub fn opened_by(t: EventType) -> Option<AlertKind> {
        match t {
            EventType::NodeStale | EventType::NodeDown => Some(AlertKind::Node),
            EventType::BackupFailed | EventType::ExpectedBackupMissed => Some(AlertKind::Backup),
            EventType::DbdumpFailed | EventType::ExpectedDbdumpMissed => Some(AlertKind::Dbdump),
            EventType::FleetOutage => Some(AlertKind::Fleet),
            _ => None,
        }
    }

    /// The kind an event resolves, if any.
    pub fn resolved_by(t: EventType) -> Option<AlertKind> {
        match t {
            EventType::NodeRecovered => Some(AlertKind::Node),
            EventType::BackupCompleted => Some(AlertKind::Backup),
            EventType::DbdumpCompleted => Some(AlertKind::Dbdump),
            _ => None,
        }
    }
}

/// An alert, open or past.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertOut {
    pub id: i64,
    pub customer_id: String,
    pub kind: AlertKind,
    /// The latest event that opened or kept it open.
    pub event_id: i64,
    pub event_type: EventType,
    pub opened_at: DateTime<Utc>,
    /// When the operator was last told (first email or reminder); `null` while it is held
    /// (maintenance, suppression, a storm, flapping).
    pub notified_at: Option<DateTime<Utc>>,
    /// Reminders sent so far.
    pub reminders: u32,
    /// `null` while open.
    pub resolved_at: Option<DateTime<Utc>>,
    pub acked_at: Option<DateTime<Utc>>,
    /// Who acknowledged it (`operator`).
    pub acked_by: Option<String>,
    pub ack_note: Option<String>,
}

/// A page of alerts, newest first. Pass `next_before` as `before` for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertPage {
    pub alerts: Vec<AlertOut>,
    /// The cursor of the next (older) page; `null` on the last page.
    pub next_before: Option<i64>,
}

/// The filter of `GET /api/v1/alerts` (`?customer_id=&state=`), beside its [`crate::page::PageQuery`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AlertQuery {
    /// Only this customer's alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// `open` (default) or `all` (resolved ones too, for a timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(open|all)?$"))]
    pub state: Option<String>,
}

impl AlertQuery {
    /// Whether resolved alerts are asked for too; the error names the parameter's values.
    pub fn include_resolved(&self) -> Result<bool, String> {
        match self.state.as_deref() {
            None | Some("") | Some("open") => Ok(false),
            Some("all") => Ok(true),
            Some(other) => Err(format!("state must be open or all (got {other:?})")),
        }
    }
}

/// `POST /api/v1/alerts/{id}/ack`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AckRequest {
    /// What the operator is doing about it; at most 500 bytes.
    #[serde(default)]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_pair_openers_with_resolvers() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AlertKind::opened_by(EventType::NodeDown), Some(AlertKind::Node));
        assert_eq!(AlertKind::resolved_by(EventType::NodeRecovered), Some(AlertKind::Node));
        assert_eq!(AlertKind::opened_by(EventType::ExpectedBackupMissed), Some(AlertKind::Backup));
        assert_eq!(AlertKind::resolved_by(EventType::BackupCompleted), Some(AlertKind::Backup));
        assert_eq!(AlertKind::opened_by(EventType::AppInstalled), None);
        assert_eq!(AlertKind::resolved_by(EventType::BackupFailed), None);
    }

    #[test]
    fn the_state_filter_is_open_or_all() {
        let q = |s: Option<&str>| AlertQuery { customer_id: None, state: s.map(str::to_string) }.include_resolved();
        assert_eq!(q(None), Ok(false));
        assert_eq!(q(Some("open")), Ok(false));
        assert_eq!(q(Some("all")), Ok(true));
        assert!(q(Some("closed")).is_err());
    }
}
