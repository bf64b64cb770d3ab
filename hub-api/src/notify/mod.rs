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
}

impl Notifier {
    pub fn new(email: EmailClient) -> Notifier {
        Notifier { email, wake: Arc::new(Notify::new()) }
    }

    /// Tells the dispatcher that an event was stored (it also polls, for other replicas).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Runs the dispatcher until `cancel` fires.
pub async fn run_dispatcher(state: AppState, cancel: CancellationToken) {
    loop {
        if let Err(e) = dispatch_pending(&state, Utc::now()).await {
            tracing::warn!(error = format!("{e:#}"), "notification dispatch failed");
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
        let batch = state.store().claim_undispatched(now.timestamp_millis(), BATCH).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        total += batch.len();
        for event in &batch {
            if let Err(e) = rules::dispatch_event(state, event, now).await {
                tracing::warn!(event_id = event.id, error = format!("{e:#}"), "could not dispatch an event");
            }
        }
    }
}
