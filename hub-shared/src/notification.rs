//! Notifications: a customer's email preferences, the notification log, and the legacy relay.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{EventType, Severity};

/// The default and the bounds of `cooldown_hours`.
pub const COOLDOWN_DEFAULT: u32 = 6;
pub const COOLDOWN_MIN: u32 = 1;
pub const COOLDOWN_MAX: u32 = 168;

fn default_cooldown() -> u32 {
    COOLDOWN_DEFAULT
}

/// `POST /api/v1/preferences`: which events a customer wants by email, and how often at most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreferencesIn {
    pub customer_id: String,
    /// Where the customer's (Hungarian) emails go.
    pub email: String,
    /// Event type names; any of the 31 types.
    #[serde(default)]
    pub enabled_events: Vec<String>,
    /// At most one email per event type per this many hours (1–168, default 6).
    #[serde(default = "default_cooldown")]
    pub cooldown_hours: u32,
}

impl PreferencesIn {
    /// Checks every field; the error is `(field, message)`.
    pub fn validate(&self) -> Result<Vec<EventType>, (&'static str, String)> {
        crate::validate::customer_id(&self.customer_id).map_err(|m| ("customer_id", m))?;
        crate::validate::email(&self.email).map_err(|m| ("email", m))?;
        if !(COOLDOWN_MIN..=COOLDOWN_MAX).contains(&self.cooldown_hours) {
            return Err((
                "cooldown_hours",
                format!("cooldown_hours must be {COOLDOWN_MIN}–{COOLDOWN_MAX} (got {})", self.cooldown_hours),
            ));
        }
        let mut types = Vec::with_capacity(self.enabled_events.len());
        for name in &self.enabled_events {
            types.push(EventType::parse(name).map_err(|m| ("enabled_events", m))?);
        }
        types.sort();
        types.dedup();
        Ok(types)
    }
}

/// A customer's stored preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preferences {
    pub customer_id: String,
    pub email: String,
    pub enabled_events: Vec<EventType>,
    pub cooldown_hours: u32,
    pub updated_at: DateTime<Utc>,
}

/// Who a notification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The operator, in English.
    Operator,
    /// The customer, in Hungarian.
    Customer,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Operator => "operator",
            Channel::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Operator, Channel::Customer].into_iter().find(|c| c.as_str() == s)
    }
}

/// What the dispatcher decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Sent,
    /// Not sent; `reason` says why: `cooldown`, `disabled`, `blocked`, `no_address`, `no_key`.
    Skipped,
    /// The email API refused or did not answer; `reason` carries the error.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Sent, Outcome::Skipped, Outcome::Failed].into_iter().find(|o| o.as_str() == s)
    }
}

/// One decision of the dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationEntry {
    pub id: i64,
    pub customer_id: String,
    /// The event it was about (`null` for the legacy relay).
    pub event_id: Option<i64>,
    /// An event type name, or `legacy` for the relay.
    pub event_type: String,
    pub channel: Channel,
    /// The configured channel (`notifications.channels`) it went to; empty for an email.
    #[serde(default)]
    pub channel_name: String,
    pub recipient: String,
    pub outcome: Outcome,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A page of the notification log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPage {
    pub entries: Vec<NotificationEntry>,
    pub next_before: Option<i64>,
}

/// `POST /api/v1/notifications/test`: which configured channel to try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelTestIn {
    /// A `name` of `notifications.channels`.
    pub channel: String,
}

/// The test message went out through the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelTestResult {
    pub channel: String,
    /// `webhook`, `ntfy` or `smtp`.
    pub kind: String,
    /// The host it was posted to, or the addresses it was mailed to.
    pub recipient: String,
    pub outcome: Outcome,
}

/// `POST /api/v1/notify`: the original's legacy relay of a free-form message to the operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifyIn {
    /// Whose controller sends it; required with the global key.
    #[serde(default)]
    pub customer_id: Option<String>,
    pub subject: String,
    pub message: String,
    #[serde(default = "default_severity")]
    pub severity: Severity,
}

fn default_severity() -> Severity {
    Severity::Warning
}

/// The answer to `POST /api/v1/notify`: queued for the operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifyAccepted {
    pub ok: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs() -> PreferencesIn {
        PreferencesIn {
            customer_id: "kovacs".into(),
            email: "kovacs.janos@example.hu".into(),
            enabled_events: vec!["backup_failed".into(), "node_down".into()],
            cooldown_hours: 6,
        }
    }

    #[test]
    fn valid_preferences_pass() {
        assert_eq!(prefs().validate(), Ok(vec![EventType::BackupFailed, EventType::NodeDown]));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut p = prefs();
        p.email = "not-an-address".into();
        assert_eq!(p.validate().unwrap_err().0, "email");
        let mut p = prefs();
        p.enabled_events.push("nope".into());
        assert_eq!(p.validate().unwrap_err().0, "enabled_events");
        for hours in [0, 169] {
            let mut p = prefs();
            p.cooldown_hours = hours;
            assert_eq!(p.validate().unwrap_err().0, "cooldown_hours");
        }
    }
}
