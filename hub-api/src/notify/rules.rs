//! Who gets an email about an event, and every decision logged:
//! - operator: warning and error events, in English, to `notifications.operator_email` when
//!   `operator_enabled`; at most one per customer and event type per hour;
//! - customer: in Hungarian, to the address of the customer's preferences, for the types the
//!   customer enabled; at most one per customer and type per `cooldown_hours`;
//! - a blocked customer gets nothing (its events are still stored).
//!
//! Cooldowns are read from `notification_log`, so they hold across restarts and replicas.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hub_shared::event::Severity;
use hub_shared::notification::{Channel, NotifyIn, Outcome};

use super::templates::{self, Lang};
use super::{Email, SendError};
use crate::state::AppState;
use crate::store::{EventRow, NewLogEntry};

/// The operator's cooldown per customer and event type.
pub const OPERATOR_COOLDOWN_MS: i64 = 3600 * 1000;

/// What to do on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Skip { recipient: String, reason: &'static str },
    Send { to: String, lang: Lang, cooldown_ms: i64 },
}

/// The customer's name for emails and whether it is blocked.
async fn customer(state: &AppState, customer_id: &str) -> anyhow::Result<(String, bool)> {
    let config = state.store().config(customer_id).await?;
    let blocked = config.as_ref().is_some_and(|c| c.blocked());
    let name = config.map(|c| c.display_name).filter(|n| !n.trim().is_empty()).unwrap_or_else(|| customer_id.into());
    Ok((name, blocked))
}

/// Decides and delivers both channels for one stored event.
pub async fn dispatch_event(state: &AppState, event: &EventRow, now: DateTime<Utc>) -> anyhow::Result<()> {
    let (name, blocked) = customer(state, &event.customer_id).await?;
    let severity = event.severity;
    let event_type = event.event_type.as_str();
    let n = &state.config().raw.notifications;
    let mut vars = base_vars(state, &event.customer_id, &name, severity, &event.message, event.occurred_at);
    vars.insert("event_type", event_type.to_string());
    vars.insert("details", details_text(&event.details_json));

    if severity >= Severity::Warning {
        let decision = if blocked {
            skip("", "blocked")
        } else if !n.operator_enabled {
            skip(&n.operator_email, "disabled")
        } else if n.operator_email.trim().is_empty() {
            skip("", "no_address")
        } else {
            Decision::Send { to: n.operator_email.clone(), lang: Lang::En, cooldown_ms: OPERATOR_COOLDOWN_MS }
        };
        deliver(state, Some(event.id), &event.customer_id, event_type, Channel::Operator, decision, &vars, now).await?;
    }

    let prefs = state.store().preferences(&event.customer_id).await?;
    let decision = match prefs {
        _ if blocked => skip("", "blocked"),
        None => skip("", "no_address"),
        Some(p) if p.email.trim().is_empty() => skip("", "no_address"),
        Some(p) => {
            if p.enabled_events.contains(&event.event_type) {
                Decision::Send { to: p.email, lang: Lang::Hu, cooldown_ms: i64::from(p.cooldown_hours) * 3600 * 1000 }
            } else {
                skip(&p.email, "disabled")
            }
        }
    };
    deliver(state, Some(event.id), &event.customer_id, event_type, Channel::Customer, decision, &vars, now).await
}

/// The legacy relay (`POST /api/v1/notify`): a free-form message to the operator, no cooldown.
pub async fn relay_legacy(
    state: &AppState,
    customer_id: &str,
    msg: &NotifyIn,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (name, blocked) = customer(state, customer_id).await?;
    let n = &state.config().raw.notifications;
    let mut vars = base_vars(state, customer_id, &name, msg.severity, &msg.message, now);
    vars.insert("subject", msg.subject.clone());
    let decision = if blocked {
        skip("", "blocked")
    } else if !n.operator_enabled {
        skip(&n.operator_email, "disabled")
    } else if n.operator_email.trim().is_empty() {
        skip("", "no_address")
    } else {
        // A minute between relays per customer: an old controller in a loop cannot flood the inbox.
        Decision::Send { to: n.operator_email.clone(), lang: Lang::En, cooldown_ms: LEGACY_COOLDOWN_MS }
    };
    deliver(state, None, customer_id, "legacy", Channel::Operator, decision, &vars, now).await
}

/// The shortest gap between two legacy relays of one customer.
pub const LEGACY_COOLDOWN_MS: i64 = 60_000;

fn skip(recipient: &str, reason: &'static str) -> Decision {
    Decision::Skip { recipient: recipient.to_string(), reason }
}

fn base_vars(
    state: &AppState,
    customer_id: &str,
    name: &str,
    severity: Severity,
    message: &str,
    occurred_at: DateTime<Utc>,
) -> BTreeMap<&'static str, String> {
    let tz = state.config().timezone;
    let at = occurred_at.with_timezone(&tz);
    let mut vars = BTreeMap::new();
    vars.insert("customer_id", customer_id.to_string());
    vars.insert("customer_name", name.to_string());
    vars.insert("severity", severity.as_str().to_string());
    vars.insert("message", if message.trim().is_empty() { "—".into() } else { message.to_string() });
    vars.insert("occurred_at", at.format("%Y-%m-%d %H:%M %Z").to_string());
    vars.insert("hub_url", state.config().raw.server.public_url.clone());
    vars
}

fn details_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(v) if v.as_object().is_some_and(|o| !o.is_empty()) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        _ => "—".into(),
    }
}

/// Applies the cooldown and the key check to a `Send`, sends, and logs the outcome.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    state: &AppState,
    event_id: Option<i64>,
    customer_id: &str,
    event_type: &str,
    channel: Channel,
    decision: Decision,
    vars: &BTreeMap<&'static str, String>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let now_ms = now.timestamp_millis();
    let store = state.store();
    let (recipient, outcome, reason) = match decision {
        Decision::Skip { recipient, reason } => (recipient, Outcome::Skipped, reason.to_string()),
        Decision::Send { to, lang, cooldown_ms } => {
            let last = if cooldown_ms > 0 { store.last_sent(customer_id, event_type, channel).await? } else { None };
            if last.is_some_and(|t| now_ms - t.timestamp_millis() < cooldown_ms) {
                (to, Outcome::Skipped, "cooldown".to_string())
            } else {
                let template = if event_type == "legacy" { "legacy" } else { event_type };
                let rendered = templates::render(lang, template, vars)?;
                let email = Email { to: to.clone(), subject: rendered.subject, text: rendered.text };
                match state.notifier().email.send(&email).await {
                    Ok(()) => (to, Outcome::Sent, String::new()),
                    Err(SendError::NoKey) => (to, Outcome::Skipped, "no_key".to_string()),
                    Err(SendError::Failed(e)) => {
                        tracing::warn!(customer_id, event_type, channel = channel.as_str(), error = %e, "email failed");
                        (to, Outcome::Failed, e)
                    }
                }
            }
        }
    };
    store
        .log_notification(&NewLogEntry {
            customer_id,
            event_id,
            event_type,
            channel,
            recipient: &recipient,
            outcome,
            reason: &reason,
            created_at: now_ms,
        })
        .await?;
    Ok(())
}
