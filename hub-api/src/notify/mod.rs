//! Notifications: every stored event goes through one dispatcher, off the request path. A task
//! on each replica claims undispatched events from the `events` table (an atomic UPDATE, so each
//! event is dispatched exactly once across replicas and survives restarts), decides per channel
//! from the rules in [`rules`], and writes every decision to `notification_log`.

pub mod resend;
pub mod rules;
pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use resend::{Email, EmailClient, SendError};

use crate::state::AppState;

/// How often a dispatcher looks for events stored by another replica or by a hub job.
pub const POLL: Duration = Duration::from_secs(5);
/// Events claimed per database round trip.
const BATCH: i64 = 50;

/// The email client and the bell that wakes this replica's dispatcher.
#[derive(Clone, Debug)]
pub struct Notifier {
    pub email: EmailClient,
    wake: Arc<Notify>,
    /// Legacy relays being delivered at once; more are refused rather than queued without end.
    pub relay_slots: Arc<tokio::sync::Semaphore>,
}

/// Legacy relays delivered at once per replica.
pub const RELAY_SLOTS: usize = 16;

impl Notifier {
    pub fn new(email: EmailClient) -> Notifier {
        Notifier {
            email,
            wake: Arc::new(Notify::new()),
            relay_slots: Arc::new(tokio::sync::Semaphore::new(RELAY_SLOTS)),
        }
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
/// dispatches, so cooldowns are decided in one place; another takes over with the lease.
pub async fn run_dispatcher(state: AppState, cancel: CancellationToken) {
    loop {
        if state.leads() {
            if let Err(e) = dispatch_pending(&state, Utc::now()).await {
                tracing::warn!(error = format!("{e:#}"), "notification dispatch failed");
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = state.notifier().wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Claims and dispatches every undispatched event; returns how many. `now` is the time of the
/// decisions (cooldowns are measured from it).
pub async fn dispatch_pending(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let now_ms = now.timestamp_millis();
        let batch = state.store().claim_undispatched(now_ms, now_ms - RECLAIM_AFTER_MS, BATCH).await?;
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
            match rules::dispatch_event(state, &event, now).await {
                Ok(()) => state.store().mark_notified(event.id, now_ms).await?,
                // Left unmarked: taken again after RECLAIM_AFTER_MS.
                Err(e) => tracing::warn!(event_id = event.id, error = format!("{e:#}"), "could not dispatch an event"),
            }
        }
    }
}
