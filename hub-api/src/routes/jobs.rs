//! `GET /api/v1/jobs`: each background job's schedule, next due time and last run.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use hub_shared::job::{JobList, JobRun, JobStatus};
use hub_shared::ApiError;

use crate::auth::Caller;
use crate::error::Result;
use crate::jobs::{self, Schedule};
use crate::state::AppState;

/// Every background job with its last run.
///
/// A run is listed once some replica claimed it; `ok` is `null` while it runs.
#[utoipa::path(
    get, path = "/api/v1/jobs", tag = "jobs",
    security(("operator_session" = [])),
    responses(
        (status = 200, body = JobList),
        (status = 403, description = "Not the operator", body = ApiError),
    )
)]
pub async fn list_jobs(State(state): State<AppState>, caller: Caller) -> Result<Json<JobList>> {
    caller.require_operator()?;
    let mut last: HashMap<String, _> =
        state.store().last_runs().await?.into_iter().map(|r| (r.job.clone(), r)).collect();
    let now = chrono::Utc::now();
    let tz = state.config().timezone;
    let jobs = jobs::all()
        .iter()
        .map(|job| {
            let schedule = job.schedule(&state);
            let enabled = job.enabled(&state);
            JobStatus {
                name: job.name().to_string(),
                schedule: if enabled { describe(schedule, tz) } else { "off".to_string() },
                next_due_at: enabled.then(|| schedule.next_due(now, tz)),
                last_run: last.remove(job.name()).map(|r| JobRun {
                    due_at: r.due_at,
                    started_at: r.started_at,
                    finished_at: r.finished_at,
                    duration_ms: r.finished_at.map(|f| (f - r.started_at).num_milliseconds()),
                    ok: r.ok.map(|v| v != 0),
                    message: r.message,
                    holder: r.holder,
                }),
            }
        })
        .collect();
    Ok(Json(JobList { jobs }))
}

fn describe(schedule: Schedule, tz: chrono_tz::Tz) -> String {
    match schedule {
        Schedule::Every(d) => format!("every {}", humantime::format_duration(d)),
        Schedule::DailyAt(t) => format!("daily at {} {tz}", t.format("%H:%M")),
    }
}
