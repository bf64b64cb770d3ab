//! Sends one alert to every channel that takes it, all at once, and logs each delivery under the
//! channel's name (`notification_log.channel_name`, channel `operator`).

use chrono::{DateTime, Utc};
use hub_shared::event::{EventType, Severity};
use hub_shared::notification::{Channel as Side, Outcome};

use super::{decide, Alert, Channel};
use crate::notify::Notifier;
use crate::store::{NewLogEntry, Store};

/// What an alert is about, as the rules and the log need it.
pub struct About<'a> {
    pub event_id: Option<i64>,
    pub customer_id: &'a str,
    /// The log's name of it: an event type, or `legacy`.
    pub event_type: &'a str,
    /// `None` for the legacy relay.
    pub typed: Option<EventType>,
    pub severity: Severity,
    pub blocked: bool,
    pub cooldown_ms: i64,
}

/// Decides every channel, sends to those that may have it (the alert is made once, when one
/// does), and logs the outcomes.
pub async fn fan_out(
    store: &Store,
    notifier: &Notifier,
    about: &About<'_>,
    alert: impl FnOnce() -> anyhow::Result<Alert>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut decided: Vec<(&Channel, Result<(), crate::notify::rules::Reason>)> = Vec::new();
    for channel in notifier.channels.iter() {
        let last = store.last_sent_on(about.customer_id, about.event_type, &channel.spec.name).await?;
        let decision = decide(&channel.spec, about.typed, about.severity, about.blocked, about.cooldown_ms, last, now);
        if let Some(decision) = decision {
            decided.push((channel, decision));
        }
    }
    if decided.is_empty() {
        return Ok(());
    }
    let alert = if decided.iter().any(|(_, d)| d.is_ok()) { Some(alert()?) } else { None };
    let alert = &alert;
    let sends = decided.iter().map(|(channel, decision)| async move {
        match (decision, alert) {
            (Ok(()), Some(alert)) => match channel.send(alert).await {
                Ok(()) => (Outcome::Sent, String::new()),
                Err(e) => {
                    let (name, kind) = (&channel.spec.name, channel.spec.kind_name());
                    tracing::warn!(customer_id = about.customer_id, channel = %name, kind, error = %e, "channel delivery failed");
                    (Outcome::Failed, e)
                }
            },
            (Err(reason), _) => (Outcome::Skipped, reason.as_str().to_string()),
            (Ok(()), None) => unreachable!("the alert is made when a channel sends"),
        }
    });
    let outcomes = futures::future::join_all(sends).await;
    for ((channel, _), (outcome, reason)) in decided.iter().zip(outcomes) {
        store
            .log_notification(&NewLogEntry {
                customer_id: about.customer_id,
                event_id: about.event_id,
                event_type: about.event_type,
                channel: Side::Operator,
                channel_name: &channel.spec.name,
                recipient: &channel.recipient(),
                outcome,
                reason: &reason,
                created_at: now.timestamp_millis(),
            })
            .await?;
        notifier.metrics.notification(Side::Operator, outcome);
    }
    Ok(())
}
