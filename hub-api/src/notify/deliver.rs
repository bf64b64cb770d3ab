//! The sending around the rules: gather what [`rules`](super::rules) decides from (the customer's
//! config and preferences, the last emails in the notification log), then render, send and log
//! each decision.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hub_shared::event::Severity;
use hub_shared::notification::{Channel, NotifyIn, Outcome};

use super::channels::{self, Alert};
use super::quiet::Quiet;
use super::rules::{self, Decision, EventFacts, LastSent};
use super::templates::{self, Lang};
use super::{Email, Notifier, SendError};
use crate::store::{ConfigRow, EventRow, NewLogEntry, Store};

/// The customer as the emails name it, and whether it is blocked.
struct Customer {
    name: String,
    blocked: bool,
}

impl Customer {
    fn of(customer_id: &str, config: Option<ConfigRow>) -> Customer {
        let blocked = config.as_ref().is_some_and(ConfigRow::blocked);
        let name = config.map(|c| c.display_name).filter(|n| !n.trim().is_empty());
        Customer { name: name.unwrap_or_else(|| customer_id.into()), blocked }
    }
}

/// Decides and delivers both channels for one stored event; a held one (`quiet`) goes to nobody.
pub async fn dispatch_event(
    store: &Store,
    notifier: &Notifier,
    event: &EventRow,
    quiet: Option<Quiet>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let id = &event.customer_id;
    let event_type = event.event_type.as_str();
    let (config, preferences, operator_last, customer_last) = tokio::try_join!(
        store.config(id),
        store.preferences(id),
        store.last_sent(id, event_type, Channel::Operator),
        store.last_sent(id, event_type, Channel::Customer),
    )?;
    let customer = Customer::of(id, config);
    let facts = EventFacts {
        event_type: event.event_type,
        severity: event.severity,
        blocked: customer.blocked,
        preferences: preferences.as_ref(),
        last_sent: LastSent { operator: operator_last, customer: customer_last },
        quiet,
    };
    let mut vars = base_vars(notifier, id, &customer.name, event.severity, &event.message, event.occurred_at);
    vars.insert("event_type", event_type.to_string());
    vars.insert("details", details_text(&event.details_json));
    let sent = Sent { event_id: Some(event.id), customer_id: id, event_type };
    for (channel, decision) in rules::decide_event(&facts, &notifier.settings.operator, now) {
        sent.deliver(store, notifier, channel, decision, &vars, now).await?;
    }
    if facts.quiet.is_some() {
        // Held (maintenance, storm, suppression, flapping): the other channels stay quiet too.
        return Ok(());
    }
    event_to_channels(store, notifier, event, &customer, &vars, now).await
}

/// The legacy relay (`POST /api/v1/notify`): a free-form message to the operator.
pub async fn relay_legacy(
    store: &Store,
    notifier: &Notifier,
    customer_id: &str,
    msg: &NotifyIn,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (config, last) =
        tokio::try_join!(store.config(customer_id), store.last_sent(customer_id, LEGACY, Channel::Operator))?;
    let customer = Customer::of(customer_id, config);
    let decision = rules::decide_relay(customer.blocked, &notifier.settings.operator, last, now);
    let mut vars = base_vars(notifier, customer_id, &customer.name, msg.severity, &msg.message, now);
    vars.insert("subject", msg.subject.clone());
    let sent = Sent { event_id: None, customer_id, event_type: LEGACY };
    sent.deliver(store, notifier, Channel::Operator, decision, &vars, now).await?;
    relay_to_channels(store, notifier, customer_id, msg.severity, &customer, &vars, now).await
}

/// The legacy relay's event type in the log, and its template's name.
const LEGACY: &str = "legacy";

/// A reminder of the open alert that `event` opened (at `opened_at`), to the operator.
pub async fn remind(
    store: &Store,
    notifier: &Notifier,
    event: &EventRow,
    opened_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let id = &event.customer_id;
    let customer = Customer::of(id, store.config(id).await?);
    let decision = rules::decide_reminder(customer.blocked, &notifier.settings.operator);
    let mut vars = base_vars(notifier, id, &customer.name, event.severity, &event.message, event.occurred_at);
    vars.insert("event_type", event.event_type.as_str().to_string());
    vars.insert("details", details_text(&event.details_json));
    let opened = opened_at.with_timezone(&notifier.settings.timezone);
    vars.insert("opened_at", opened.format("%Y-%m-%d %H:%M %Z").to_string());
    let sent = Sent { event_id: Some(event.id), customer_id: id, event_type: REMINDER };
    sent.deliver(store, notifier, Channel::Operator, decision, &vars, now).await
}

/// A reminder's event type in the log, and its template's name.
const REMINDER: &str = "reminder";

fn base_vars(
    notifier: &Notifier,
    customer_id: &str,
    name: &str,
    severity: Severity,
    message: &str,
    occurred_at: DateTime<Utc>,
) -> BTreeMap<&'static str, String> {
    let settings = &notifier.settings;
    let at = occurred_at.with_timezone(&settings.timezone);
    let mut vars = BTreeMap::new();
    vars.insert("customer_id", customer_id.to_string());
    vars.insert("customer_name", name.to_string());
    vars.insert("severity", severity.as_str().to_string());
    vars.insert("message", if message.trim().is_empty() { "—".into() } else { message.to_string() });
    vars.insert("occurred_at", at.format("%Y-%m-%d %H:%M %Z").to_string());
    vars.insert("hub_url", settings.hub_url.clone());
    vars.insert("customer_url", customer_url(&settings.hub_url, customer_id));
    vars
}

fn details_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(v) if v.as_object().is_some_and(|o| !o.is_empty()) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        _ => "—".into(),
    }
}

/// What an email is about, as the log records it; the event type names its template.
struct Sent<'a> {
    event_id: Option<i64>,
    customer_id: &'a str,
    event_type: &'a str,
}

impl Sent<'_> {
    /// Sends a `Send` (the email API may still skip it without a key, or fail), and logs the
    /// outcome of every decision.
    async fn deliver(
        &self,
        store: &Store,
        notifier: &Notifier,
        channel: Channel,
        decision: Decision,
        vars: &BTreeMap<&'static str, String>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let (customer_id, event_type) = (self.customer_id, self.event_type);
        let (recipient, outcome, reason) = match decision {
            Decision::Skip { recipient, reason } => (recipient, Outcome::Skipped, reason.as_str().to_string()),
            Decision::Send { to, lang } => {
                let rendered = templates::render(lang, event_type, vars)?;
                let email =
                    Email { to: to.clone(), subject: rendered.subject, text: rendered.text, html: rendered.html };
                match notifier.email.send(&email).await {
                    Ok(()) => (to, Outcome::Sent, String::new()),
                    Err(SendError::NoKey) => (to, Outcome::Skipped, "no_key".to_string()),
                    Err(SendError::Failed(e)) => {
                        tracing::warn!(customer_id, event_type, channel = channel.as_str(), error = %e, "email failed");
                        (to, Outcome::Failed, e)
                    }
                }
            }
        };
        store
            .log_notification(&NewLogEntry {
                customer_id,
                event_id: self.event_id,
                event_type,
                channel,
                channel_name: "",
                recipient: &recipient,
                outcome,
                reason: &reason,
                created_at: now.timestamp_millis(),
            })
            .await?;
        notifier.metrics.notification(channel, outcome);
        Ok(())
    }
}

/// The customer's page on the hub (empty while `server.public_url` is not set).
pub fn customer_url(hub_url: &str, customer_id: &str) -> String {
    match hub_url.trim_end_matches('/') {
        "" => String::new(),
        base => format!("{base}/customers/{customer_id}"),
    }
}

/// The configured channels' share of an event: the operator's alert, decided per channel after
/// the operator's email.
async fn event_to_channels(
    store: &Store,
    notifier: &Notifier,
    event: &EventRow,
    customer: &Customer,
    vars: &BTreeMap<&'static str, String>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let about = channels::About {
        event_id: Some(event.id),
        customer_id: &event.customer_id,
        event_type: event.event_type.as_str(),
        typed: Some(event.event_type),
        severity: event.severity,
        blocked: customer.blocked,
        cooldown_ms: rules::OPERATOR_COOLDOWN_MS,
    };
    channels::fan_out(store, notifier, &about, || alert_of(&about, customer, vars, event.occurred_at), now).await
}

/// The configured channels' share of a legacy relay.
async fn relay_to_channels(
    store: &Store,
    notifier: &Notifier,
    customer_id: &str,
    severity: Severity,
    customer: &Customer,
    vars: &BTreeMap<&'static str, String>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let about = channels::About {
        event_id: None,
        customer_id,
        event_type: LEGACY,
        typed: None,
        severity,
        blocked: customer.blocked,
        cooldown_ms: rules::LEGACY_COOLDOWN_MS,
    };
    channels::fan_out(store, notifier, &about, || alert_of(&about, customer, vars, now), now).await
}

/// The operator's email about it, as the channels carry it.
fn alert_of(
    about: &channels::About<'_>,
    customer: &Customer,
    vars: &BTreeMap<&'static str, String>,
    occurred_at: DateTime<Utc>,
) -> anyhow::Result<Alert> {
    let rendered = templates::render(Lang::En, about.event_type, vars)?;
    let var = |name: &str| vars.get(name).cloned().unwrap_or_default();
    Ok(Alert {
        event_id: about.event_id,
        customer_id: about.customer_id.to_string(),
        customer_name: customer.name.clone(),
        event_type: about.event_type.to_string(),
        severity: about.severity,
        title: rendered.subject,
        message: var("message"),
        occurred_at,
        link: var("customer_url"),
        text: rendered.text,
        html: Some(rendered.html),
    })
}
