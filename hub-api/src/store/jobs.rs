//! The scheduler's tables: the leader lease and the claimed runs of each job.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{Result, RowKey, Store};

#[derive(Debug, Clone)]
pub struct JobRunRow {
    pub job: String,
    pub due_at: DateTime<Utc>,
    pub holder: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// 0/1 (booleans are integers in the store); `None` while it runs.
    pub ok: Option<i64>,
    pub message: String,
}

/// The columns of `job_runs` as the database holds them.
#[derive(FromRow)]
struct StoredRun {
    job: String,
    due_at: i64,
    holder: String,
    started_at: i64,
    finished_at: Option<i64>,
    ok: Option<i64>,
    message: String,
}

impl StoredRun {
    fn read(self) -> Result<JobRunRow> {
        let row = RowKey::new("job_runs", format!("{} at {}", self.job, self.due_at));
        Ok(JobRunRow {
            due_at: row.time("due_at", self.due_at)?,
            started_at: row.time("started_at", self.started_at)?,
            finished_at: self.finished_at.map(|ms| row.time("finished_at", ms)).transpose()?,
            job: self.job,
            holder: self.holder,
            ok: self.ok,
            message: self.message,
        })
    }
}

impl Store {
    /// Takes or renews the lease `name` for `holder` until `expires_at`. Succeeds when the lease
    /// is free, expired at `now`, or already held by `holder`.
    pub async fn acquire_lease(&self, name: &str, holder: &str, now: i64, expires_at: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease up (on shutdown), so another replica can lead at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Claims the run of `job` due at `due_at`; `false` when some replica already claimed it.
    pub async fn claim_run(&self, job: &str, due_at: i64, holder: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO job_runs (job, due_at, holder, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job, due_at) DO NOTHING",
        )
        .bind(job)
        .bind(due_at)
        .bind(holder)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn finish_run(&self, job: &str, due_at: i64, now: i64, ok: bool, message: &str) -> Result<()> {
        sqlx::query("UPDATE job_runs SET finished_at = $3, ok = $4, message = $5 WHERE job = $1 AND due_at = $2")
            .bind(job)
            .bind(due_at)
            .bind(now)
            .bind(i64::from(ok))
            .bind(message)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The latest claimed run of each job.
    pub async fn last_runs(&self) -> Result<Vec<JobRunRow>> {
        let rows: Vec<StoredRun> = sqlx::query_as(
            "SELECT r.job, r.due_at, r.holder, r.started_at, r.finished_at, r.ok, r.message FROM job_runs r \
             JOIN (SELECT job, MAX(due_at) AS due_at FROM job_runs GROUP BY job) m \
               ON m.job = r.job AND m.due_at = r.due_at ORDER BY r.job",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredRun::read).collect()
    }

    /// All runs of one job, newest first (tests and the jobs page).
    pub async fn runs_of(&self, job: &str, limit: i64) -> Result<Vec<JobRunRow>> {
        let rows: Vec<StoredRun> = sqlx::query_as(
            "SELECT job, due_at, holder, started_at, finished_at, ok, message FROM job_runs \
             WHERE job = $1 ORDER BY due_at DESC LIMIT $2",
        )
        .bind(job)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredRun::read).collect()
    }

    /// Forgets run records older than `before`, keeping the table small.
    pub async fn prune_runs(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM job_runs WHERE due_at < $1").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
