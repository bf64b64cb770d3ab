//! The backup deadline checker, daily at 05:00 in `server.timezone`: a reporting, active
//! customer with no `backup_completed` since local midnight gets `expected_backup_missed`, and
//! likewise `dbdump_completed` → `expected_dbdump_missed`. Idempotent: a customer that already
//! has the missed event for the day does not get a second one.

use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use hub_shared::event::{EventType, Severity};

use super::schedule::daily_instant;
use super::{Job, Schedule};
use crate::state::AppState;
use crate::store::NewEvent;

pub struct BackupDeadline;

/// When the checker runs, local time.
pub fn run_at() -> NaiveTime {
    NaiveTime::from_hms_opt(5, 0, 0).expect("a valid time")
}

/// The local midnight that starts the day of `now` in `tz`, as an instant.
pub fn local_midnight(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    daily_instant(now.with_timezone(&tz).date_naive(), NaiveTime::MIN, tz)
}

const CHECKS: [(EventType, EventType, &str); 2] = [
    (EventType::BackupCompleted, EventType::ExpectedBackupMissed, "no backup completed since midnight"),
    (EventType::DbdumpCompleted, EventType::ExpectedDbdumpMissed, "no database dump completed since midnight"),
];

#[async_trait]
impl Job for BackupDeadline {
    fn name(&self) -> &'static str {
        "backup_deadline"
    }

    fn schedule(&self, _state: &AppState) -> Schedule {
        Schedule::DailyAt(run_at())
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let store = state.store();
        let now_ms = now.timestamp_millis();
        let midnight = local_midnight(now, state.config().timezone);
        let since = midnight.timestamp_millis();
        let mut missed = 0;
        let down_after = 2 * state.config().stale_ms();
        for c in store.node_candidates().await? {
            if c.unwatched() {
                continue;
            }
            // Only reporting nodes: a node that went silent is the dead man's switch's news
            // (node_down), not a daily missed backup for as long as it stays dead.
            if now_ms - c.received_at > down_after {
                continue;
            }
            for (done, missing, message) in CHECKS {
                if store.has_event_between(&c.customer_id, done, since, now_ms).await?
                    || store.has_event_between(&c.customer_id, missing, since, now_ms).await?
                {
                    continue;
                }
                let event = NewEvent {
                    customer_id: c.customer_id.clone(),
                    event_type: missing,
                    severity: Severity::Warning,
                    message: message.to_string(),
                    details_json: serde_json::json!({ "since": midnight, "expected": done.as_str() }).to_string(),
                    source: hub_shared::event::HUB_SOURCE.into(),
                    occurred_at: now_ms,
                    received_at: now_ms,
                };
                store.insert_event(&event).await?;
                missed += 1;
            }
        }
        if missed > 0 {
            state.notifier().wake();
        }
        Ok(format!("{missed} missed backups or dumps"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Budapest;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn midnight_on_ordinary_and_dst_days() {
        // Winter (CET, +1) and summer (CEST, +2).
        assert_eq!(local_midnight(utc("2026-01-15T04:00:00Z"), Budapest), utc("2026-01-14T23:00:00Z"));
        assert_eq!(local_midnight(utc("2026-07-15T03:00:00Z"), Budapest), utc("2026-07-14T22:00:00Z"));
        // Spring forward on 2026-03-29: midnight is still CET, 05:00 is CEST.
        assert_eq!(local_midnight(utc("2026-03-29T03:00:00Z"), Budapest), utc("2026-03-28T23:00:00Z"));
        // Fall back on 2026-10-25: midnight is still CEST, 05:00 is CET.
        assert_eq!(local_midnight(utc("2026-10-25T04:00:00Z"), Budapest), utc("2026-10-24T22:00:00Z"));
    }
}
