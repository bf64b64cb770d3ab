//! Notifications: every stored event goes through one dispatcher, off the request path. A task
//! on each replica claims undispatched events from the `events` table (an atomic UPDATE, so each
//! event is dispatched exactly once across replicas and survives restarts), decides per channel
//! by the pure rules in [`rules`], and sends and logs every decision through [`deliver`].
//! Nothing here needs the whole `AppState`: the store and the [`Notifier`] are enough.

pub mod channels;
pub mod deliver;
pub mod hold;
pub mod quiet;
pub mod resend;
pub mod rules;
pub mod templates;
pub mod windows;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use resend::{Email, EmailClient, SendError};

use crate::config::Config;
use crate::store::Store;

/// How often a dispatcher looks for events stored by another replica or by a hub job.
pub const POLL: Duration = Duration::from_secs(5);
/// Events claimed per database round trip.
const BATCH: i64 = 50;

/// What the rules and the emails take from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub operator: rules::OperatorChannel,
    /// The time zone of the times in emails.
    pub timezone: chrono_tz::Tz,
    /// The hub's address, linked from emails.
    pub hub_url: String,
    pub alerting: hold::AlertingSettings,
}

/// The email client, its settings, and the bell that wakes this replica's dispatcher.
#[derive(Clone, Debug)]
pub struct Notifier {
    pub email: EmailClient,
    pub settings: Arc<Settings>,
    wake: Arc<Notify>,
    /// Legacy relays being delivered at once; more are refused rather than queued without end.
    pub relay_slots: Arc<tokio::sync::Semaphore>,
    /// Counts events and notification decisions; the hub's own (see `AppState::new`).
    pub metrics: crate::metrics::Metrics,
    /// The channels besides email (`notifications.channels`).
    pub channels: Arc<Vec<channels::Channel>>,
}

/// Legacy relays delivered at once per replica.
pub const RELAY_SLOTS: usize = 16;

impl Notifier {
    pub fn from_config(config: &Config) -> anyhow::Result<Notifier> {
        let n = &config.raw.notifications;
        let settings = Settings {
            operator: rules::OperatorChannel { enabled: n.operator_enabled, email: n.operator_email.clone() },
            timezone: config.timezone,
            hub_url: config.raw.server.public_url.clone(),
            alerting: hold::AlertingSettings::from_config(config),
        };
        let built = config.channels.iter().cloned().map(channels::Channel::build).collect::<anyhow::Result<_>>()?;
        Ok(Notifier::new(EmailClient::from_config(n)?, settings).with_channels(built))
    }

    pub fn new(email: EmailClient, settings: Settings) -> Notifier {
        Notifier {
            email,
            settings: Arc::new(settings),
            wake: Arc::new(Notify::new()),
            relay_slots: Arc::new(tokio::sync::Semaphore::new(RELAY_SLOTS)),
            metrics: crate::metrics::Metrics::new(),
            channels: Arc::new(Vec::new()),
        }
    }

    pub fn with_channels(mut self, channels: Vec<channels::Channel>) -> Notifier {
        self.channels = Arc::new(channels);
        self
    }

    /// The configured channel named `name`.
    pub fn channel(&self, name: &str) -> Option<&channels::Channel> {
        self.channels.iter().find(|c| c.spec.name == name)
    }

    /// Tells the dispatcher that an event was stored (it also polls, for other replicas).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// A claim older than this whose event is still not notified was abandoned (its replica died
/// mid-delivery): the leading replica takes it again. Delivery is therefore at least once.
pub const RECLAIM_AFTER_MS: i64 = 5 * 60 * 1000;

/// Runs the dispatcher until `cancel` fires. Only the replica that leads the scheduler
/// dispatches (`leads` says whether this one does), so cooldowns are decided in one place;
/// another takes over with the lease.
pub async fn run_dispatcher(
    store: Store,
    notifier: Notifier,
    leads: impl Fn() -> bool + Send + 'static,
    cancel: CancellationToken,
) {
    loop {
        if leads() {
            if let Err(e) = dispatch_pending(&store, &notifier, Utc::now()).await {
                tracing::warn!(error = format!("{e:#}"), "notification dispatch failed");
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = notifier.wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Claims and dispatches every undispatched event; returns how many. `now` is the time of the
/// decisions (cooldowns are measured from it).
pub async fn dispatch_pending(store: &Store, notifier: &Notifier, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let now_ms = now.timestamp_millis();
        let batch = store.claim_undispatched(now_ms, now_ms - RECLAIM_AFTER_MS, BATCH).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        total += batch.len();
        for claimed in batch {
            // A stored event that cannot be read is left unmarked and logged each time it is
            // taken again: never dispatched with made-up values.
            let event = match claimed {
                Ok(event) => event,
                Err(e) => {
                    tracing::error!(error = %e, "could not read a claimed event");
                    continue;
                }
            };
            match hold::dispatch(store, notifier, &event, now).await {
                Ok(()) => {
                    store.mark_notified(event.id, now_ms).await?;
                    notifier.metrics.event(event.event_type, event.severity);
                }
                // Left unmarked: taken again after RECLAIM_AFTER_MS.
                Err(e) => tracing::warn!(event_id = event.id, error = format!("{e:#}"), "could not dispatch an event"),
            }
        }
    }
}
