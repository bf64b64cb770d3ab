//! Holding and telling again, around the dispatcher: before an event's emails are decided, what
//! [`quiet`](super::quiet) needs is read (maintenance windows, the storm, the node's gap, its
//! recent status changes) and a held event goes to nobody; each failure opens (or keeps open) an
//! alert and each recovery resolves it. [`retell`] then releases held alerts once nothing holds
//! them and reminds the operator of the open ones.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use hub_shared::alert::AlertKind;
use hub_shared::event::FLEET;

use super::quiet::{self, Due, Quiet, QuietFacts};
use super::{deliver, windows, Notifier};
use crate::config::Config;
use crate::store::{EventRow, NewAlert, Store};

/// What the alerting rules take from `alerting.*` and `server.timezone`.
#[derive(Debug, Clone)]
pub struct AlertingSettings {
    pub timezone: Tz,
    pub storm_percent: u32,
    pub storm_window: TimeDelta,
    /// Zero: no reminders.
    pub reminder_interval: TimeDelta,
    pub flapping_changes: u32,
}

impl AlertingSettings {
    pub fn from_config(config: &Config) -> AlertingSettings {
        let delta = |d: std::time::Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        AlertingSettings {
            timezone: config.timezone,
            storm_percent: config.raw.alerting.storm_percent,
            storm_window: delta(config.storm_window),
            reminder_interval: delta(config.reminder_interval),
            flapping_changes: config.raw.alerting.flapping_changes,
        }
    }
}

/// Dispatches one claimed event: held or not, its emails, then its alert.
pub async fn dispatch(store: &Store, notifier: &Notifier, event: &EventRow, now: DateTime<Utc>) -> anyhow::Result<()> {
    let held = held_at(store, &notifier.settings.alerting, event, event.occurred_at, now).await?;
    if let Some(quiet) = held {
        store.set_held(event.id, Some(quiet.as_str())).await?;
    }
    deliver::dispatch_event(store, notifier, event, held, now).await?;
    track(store, event, held.is_none(), now).await
}

/// Why `event` (as of its time `at`) is held at `now`, if it is.
async fn held_at(
    store: &Store,
    settings: &AlertingSettings,
    event: &EventRow,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Quiet>> {
    let t = event.event_type;
    let customer_id = &event.customer_id;
    let status_change = quiet::STATUS_CHANGES.contains(&t);
    let windows = store.maintenance_windows_of(customer_id).await?;
    let open = |instant| !windows::active_windows(&windows, customer_id, instant, settings.timezone).is_empty();
    let storm = status_change && store.open_alert_of(FLEET, AlertKind::Fleet).await?.is_some();
    let gap = if quiet::follows_from_silence(t) { store.node_gap(customer_id).await? } else { None };
    let at_ms = at.timestamp_millis();
    let recent_changes = if status_change {
        let since = (at - quiet::FLAPPING_PERIOD).timestamp_millis();
        store.count_events_between(customer_id, &quiet::STATUS_CHANGES, since, at_ms).await?
    } else {
        0
    };
    let facts = QuietFacts {
        event_type: Some(t),
        occurred_at: at_ms,
        in_maintenance: open(at) || open(now),
        storm,
        gap,
        recent_changes,
        flapping_changes: settings.flapping_changes,
    };
    Ok(quiet::quiet(&facts))
}

/// Opens, keeps open or resolves the alert `event` is about; `told` is whether the operator was
/// told about it now.
async fn track(store: &Store, event: &EventRow, told: bool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let now_ms = now.timestamp_millis();
    if let Some(kind) = AlertKind::opened_by(event.event_type) {
        let alert = NewAlert {
            customer_id: &event.customer_id,
            kind,
            event_id: event.id,
            event_type: event.event_type,
            at: now_ms,
            notified: told,
        };
        store.open_alert(&alert).await?;
    } else if let Some(kind) = AlertKind::resolved_by(event.event_type) {
        store.resolve_alert(&event.customer_id, kind, now_ms).await?;
    }
    Ok(())
}

/// Tells again what is due at `now`: held alerts that nothing holds any more (their event's
/// emails, by the usual rules), and reminders of open, unacknowledged ones to the operator.
/// Returns how many alerts were told.
pub async fn retell(store: &Store, notifier: &Notifier, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let settings = &notifier.settings.alerting;
    let mut told = 0;
    for alert in store.unacked_alerts().await? {
        let Some(event) = store.event(alert.event_id).await? else {
            tracing::warn!(alert_id = alert.id, event_id = alert.event_id, "an open alert's event is gone");
            continue;
        };
        let held = held_at(store, settings, &event, now, now).await?.is_some();
        let now_ms = now.timestamp_millis();
        match quiet::due(&alert, held, settings.reminder_interval, now) {
            Some(Due::Release) => {
                deliver::dispatch_event(store, notifier, &event, None, now).await?;
                store.alert_notified(alert.id, now_ms, false).await?;
            }
            Some(Due::Reminder) => {
                deliver::remind(store, notifier, &event, alert.opened_at, now).await?;
                store.alert_notified(alert.id, now_ms, true).await?;
            }
            None => continue,
        }
        told += 1;
    }
    Ok(told)
}
