//! Controller updates: asking a controller to update itself (`POST /api/update`), recording the
//! request, and seeing it arrive (a report with the version) or not (no such report within
//! `controllers.update_timeout`: `controller_update_failed`). The `controller_updates` job calls
//! [`track_updates`]; ingest is not involved.

use chrono::{DateTime, Utc};
use hub_shared::audit::AuditAction;
use hub_shared::controller::{UpdateStarted, UpdateStatus};
use hub_shared::event::{EventType, Severity, HUB_SOURCE};

use super::{resolve, ControllerError};
use crate::error::AppError;
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::store::{AuditRecord, NewEvent, UpdateRow};

/// The `settings` key under which the registry watch keeps the newest version it saw (see
/// [`crate::store::RegistryLatest`]).
pub use crate::store::REGISTRY_LATEST;
/// The longest version accepted.
const VERSION_MAX: usize = 64;

/// The newest controller version the registry watch knows.
pub async fn latest_known_version(state: &AppState) -> crate::error::Result<Option<String>> {
    let latest = state.store().registry_latest().await?;
    Ok(latest.map(|l| l.version.trim().to_string()).filter(|v| !v.is_empty()))
}

/// A version as a controller and an image tag accept it: letters, digits and `.-+_`.
fn check_version(version: &str) -> Result<(), AppError> {
    let ok = !version.is_empty()
        && version.len() <= VERSION_MAX
        && version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "version",
            format!("version must be 1 to {VERSION_MAX} letters, digits, dots, dashes, pluses or underscores"),
        ))
    }
}

/// Asks the customer's controller to update to `version` and records the request, which then
/// arrives or fails after `controllers.update_timeout` (see [`track_updates`]). `actor` says who
/// asked (`operator`, or a rollout) in the audit log.
pub async fn request_update(
    state: &AppState,
    customer_id: &str,
    version: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<UpdateStarted, ControllerError> {
    start_update(state, customer_id, version, actor, None, now).await.map_err(|e| match e {
        AppError::Controller(e) => e,
        other => ControllerError::from(other),
    })
}

/// [`request_update`] with the caller's address for the audit log (the operator's request).
pub async fn start_update(
    state: &AppState,
    customer_id: &str,
    version: &str,
    actor: &str,
    ip: Option<&ClientIp>,
    now: DateTime<Utc>,
) -> crate::error::Result<UpdateStarted> {
    check_version(version)?;
    let audit = |summary: String| AuditRecord {
        at: now.timestamp_millis(),
        actor: if actor == "operator" { "operator" } else { "hub" },
        action: AuditAction::ControllerUpdate.as_str(),
        customer_id: Some(customer_id.to_string()),
        summary: format!("{summary} (asked by {actor})"),
        client_ip: ip.map(|ip| ip.0.to_string()),
    };
    let called = async {
        let (target, _) = resolve(state, customer_id).await?;
        let answer = state.controllers().update(&target, version).await?;
        Ok::<_, ControllerError>((target, answer))
    }
    .await;
    let (target, answer) = match called {
        Ok(called) => called,
        Err(ControllerError::Hub(e)) => return Err(*e),
        Err(e) => {
            state.store().audit(&audit(format!("update to {version} failed: {e}"))).await?;
            return Err(e.into());
        }
    };
    let deadline = now + state.config().update_timeout;
    let row = UpdateRow {
        customer_id: customer_id.to_string(),
        version: version.to_string(),
        status: UpdateStatus::Updating.as_str().to_string(),
        requested_at: now.timestamp_millis(),
        deadline_at: deadline.timestamp_millis(),
        finished_at: None,
        actor: actor.to_string(),
    };
    let summary = format!("update to {version} requested: HTTP {} {}", answer.status, answer.message);
    state.store().start_update(&row, &audit(summary)).await?;
    Ok(UpdateStarted {
        customer_id: customer_id.to_string(),
        controller_url: target.shown().to_string(),
        update: row.read()?,
        controller: answer,
    })
}

/// Whether a report with `reported` (arrived at `reported_at`) completes the update.
fn arrived(update: &UpdateRow, reported: Option<&str>, reported_at: Option<i64>) -> bool {
    reported == Some(update.version.as_str()) && reported_at.is_some_and(|at| at >= update.requested_at)
}

/// The status an update in progress shows at `now`, given the latest report.
pub fn status_at(update: &UpdateRow, reported: Option<&str>, reported_at: Option<i64>, now: i64) -> UpdateStatus {
    if arrived(update, reported, reported_at) {
        UpdateStatus::Arrived
    } else if now >= update.deadline_at {
        UpdateStatus::Failed
    } else {
        UpdateStatus::Updating
    }
}

/// Ends every update in progress that arrived, or whose time ran out (writing its
/// `controller_update_failed` event with it). Answers (arrived, failed).
pub async fn track_updates(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<(usize, usize)> {
    let store = state.store();
    let now_ms = now.timestamp_millis();
    let (mut done, mut failed) = (0, 0);
    for (update, reported, reported_at) in store.updates_in_progress().await? {
        let id = &update.customer_id;
        match status_at(&update, reported.as_deref(), reported_at, now_ms) {
            UpdateStatus::Updating => {}
            UpdateStatus::Arrived => {
                let finished_at = reported_at.unwrap_or(now_ms).min(now_ms);
                if store.finish_update(id, update.requested_at, UpdateStatus::Arrived, finished_at, None).await? {
                    done += 1;
                }
            }
            UpdateStatus::Failed => {
                let minutes = (update.deadline_at - update.requested_at) / 60_000;
                let running = reported.as_deref().unwrap_or("unknown");
                let event = NewEvent {
                    customer_id: id.clone(),
                    event_type: EventType::ControllerUpdateFailed,
                    severity: Severity::Error,
                    message: format!(
                        "update to {} did not arrive within {minutes} min; the node reports version {running}",
                        update.version
                    ),
                    details_json: serde_json::json!({
                        "expected_version": update.version,
                        "reported_version": reported,
                        "requested_at": update.requested_at,
                        "requested_by": update.actor,
                    })
                    .to_string(),
                    source: HUB_SOURCE.into(),
                    occurred_at: now_ms,
                    received_at: now_ms,
                };
                if store.finish_update(id, update.requested_at, UpdateStatus::Failed, now_ms, Some(&event)).await? {
                    failed += 1;
                }
            }
        }
    }
    if failed > 0 {
        state.notifier().wake();
    }
    Ok((done, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update() -> UpdateRow {
        UpdateRow {
            customer_id: "kovacs".into(),
            version: "1.9.0".into(),
            status: "updating".into(),
            requested_at: 1_000,
            deadline_at: 10_000,
            finished_at: None,
            actor: "operator".into(),
        }
    }

    #[test]
    fn an_update_arrives_with_a_later_report_of_its_version_or_fails_at_its_deadline() {
        let u = update();
        assert_eq!(status_at(&u, Some("1.8.3"), Some(2_000), 5_000), UpdateStatus::Updating);
        assert_eq!(status_at(&u, Some("1.9.0"), Some(2_000), 5_000), UpdateStatus::Arrived);
        // A report from before the request does not count, even with the version.
        assert_eq!(status_at(&u, Some("1.9.0"), Some(500), 5_000), UpdateStatus::Updating);
        assert_eq!(status_at(&u, Some("1.8.3"), Some(2_000), 10_000), UpdateStatus::Failed);
        assert_eq!(status_at(&u, None, None, 10_000), UpdateStatus::Failed);
        // Arrival wins over a deadline the job had not seen yet.
        assert_eq!(status_at(&u, Some("1.9.0"), Some(9_000), 12_000), UpdateStatus::Arrived);
    }

    #[test]
    fn versions_are_checked() {
        for ok in ["1.9.0", "v1.9.0-rc.1", "1.9.0+build_2"] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1.9 .0", "1.9.0;rm", &"9".repeat(65), "../x"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }
}
