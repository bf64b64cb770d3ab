//! Background jobs as `GET /api/v1/jobs` shows them: each job's schedule and its last run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The last claimed run of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobRun {
    /// The due time the run was for.
    pub due_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    /// `null` while it runs.
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// `null` while it runs; `false` when it failed (`message` carries the error).
    pub ok: Option<bool>,
    pub message: String,
    /// The replica that ran it.
    pub holder: String,
}

/// One job: what it is, when it runs, how it last went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStatus {
    pub name: String,
    /// `every 60s`, `daily at 05:00 Europe/Budapest`, or `off` when the configuration switches
    /// the job off.
    pub schedule: String,
    /// The next due time; `null` when the job is off.
    pub next_due_at: Option<DateTime<Utc>>,
    /// `null` when it never ran.
    pub last_run: Option<JobRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobList {
    pub jobs: Vec<JobStatus>,
}
