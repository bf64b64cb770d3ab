//! Staged rollouts and each node's step. At most one rollout is unfinished (running, paused or
//! stopped) at a time: `active` is 1 for it and unique, NULL for the finished ones.

use hub_shared::rollout::{NodeStep, RolloutState, StepCounts};
use sqlx::FromRow;

use super::audit::insert_audit;
use super::events::insert_event;
use super::{AuditRecord, NewEvent, Result, RowKey, Store, StoreError};

/// A rollout to insert.
#[derive(Debug, Clone)]
pub struct NewRollout {
    pub version: String,
    pub wait_ms: i64,
    pub batch_size: i64,
    pub update_timeout_ms: i64,
    pub created_at: i64,
}

/// A node to insert with its rollout; `message` says why a node starts skipped.
#[derive(Debug, Clone)]
pub struct NewRolloutNode {
    pub customer_id: String,
    pub canary: bool,
    pub step: NodeStep,
    pub from_version: Option<String>,
    pub message: Option<String>,
}

/// A rollout's move from one of `from` to `to` at `now`, with its reason (none clears it).
#[derive(Debug, Clone, Copy)]
pub struct StateChange<'a> {
    pub from: &'a [RolloutState],
    pub to: RolloutState,
    pub reason: Option<&'a str>,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct RolloutRow {
    pub id: i64,
    pub version: String,
    pub state: RolloutState,
    pub wait_ms: i64,
    pub batch_size: i64,
    pub update_timeout_ms: i64,
    pub reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct RolloutNodeRow {
    pub customer_id: String,
    pub canary: bool,
    pub step: NodeStep,
    pub from_version: Option<String>,
    pub requested_at: Option<i64>,
    pub arrived_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub message: Option<String>,
}

#[derive(FromRow)]
struct StoredRollout {
    id: i64,
    version: String,
    state: String,
    wait_ms: i64,
    batch_size: i64,
    update_timeout_ms: i64,
    reason: Option<String>,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
}

impl StoredRollout {
    fn read(self) -> Result<RolloutRow> {
        let key = RowKey::new("rollouts", self.id);
        Ok(RolloutRow {
            state: key.known("state", &self.state, RolloutState::parse)?,
            id: self.id,
            version: self.version,
            wait_ms: self.wait_ms,
            batch_size: self.batch_size,
            update_timeout_ms: self.update_timeout_ms,
            reason: self.reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
            finished_at: self.finished_at,
        })
    }
}

#[derive(FromRow)]
struct StoredNode {
    rollout_id: i64,
    customer_id: String,
    canary: i64,
    step: String,
    from_version: Option<String>,
    requested_at: Option<i64>,
    arrived_at: Option<i64>,
    finished_at: Option<i64>,
    message: Option<String>,
}

impl StoredNode {
    fn read(self) -> Result<RolloutNodeRow> {
        let key = RowKey::new("rollout_nodes", format!("{}/{}", self.rollout_id, self.customer_id));
        Ok(RolloutNodeRow {
            step: key.known("step", &self.step, NodeStep::parse)?,
            canary: self.canary != 0,
            customer_id: self.customer_id,
            from_version: self.from_version,
            requested_at: self.requested_at,
            arrived_at: self.arrived_at,
            finished_at: self.finished_at,
            message: self.message,
        })
    }
}

const ROLLOUT_COLUMNS: &str =
    "id, version, state, wait_ms, batch_size, update_timeout_ms, reason, created_at, updated_at, finished_at";
const NODE_COLUMNS: &str =
    "rollout_id, customer_id, canary, step, from_version, requested_at, arrived_at, finished_at, message";

impl Store {
    /// Inserts a running rollout with its nodes (in their order) and its audit entry; a
    /// [`StoreError::Conflict`] while another rollout is unfinished.
    pub async fn insert_rollout(
        &self,
        rollout: &NewRollout,
        nodes: &[NewRolloutNode],
        audit: &AuditRecord,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let inserted: std::result::Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO rollouts (version, state, active, wait_ms, batch_size, update_timeout_ms, created_at, \
                updated_at) VALUES ($1, 'running', 1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(&rollout.version)
        .bind(rollout.wait_ms)
        .bind(rollout.batch_size)
        .bind(rollout.update_timeout_ms)
        .bind(rollout.created_at)
        .fetch_one(&mut *tx)
        .await;
        let (id,) = inserted.map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict(
                "another rollout is unfinished (running, paused or stopped); abort it first".into(),
            ),
            other => other,
        })?;
        for (position, node) in nodes.iter().enumerate() {
            let finished = node.step.is_final().then_some(rollout.created_at);
            sqlx::query(
                "INSERT INTO rollout_nodes (rollout_id, customer_id, canary, position, step, from_version, \
                    finished_at, message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(&node.customer_id)
            .bind(i64::from(node.canary))
            .bind(position as i64)
            .bind(node.step.as_str())
            .bind(&node.from_version)
            .bind(finished)
            .bind(&node.message)
            .execute(&mut *tx)
            .await?;
        }
        let mut audit = audit.clone();
        audit.summary = format!("rollout #{id}: {}", audit.summary);
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn rollout(&self, id: i64) -> Result<Option<RolloutRow>> {
        let sql = format!("SELECT {ROLLOUT_COLUMNS} FROM rollouts WHERE id = $1");
        let row: Option<StoredRollout> = sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.map(StoredRollout::read).transpose()
    }

    /// A rollout's nodes, in their order (canaries first).
    pub async fn rollout_nodes(&self, id: i64) -> Result<Vec<RolloutNodeRow>> {
        let sql = format!("SELECT {NODE_COLUMNS} FROM rollout_nodes WHERE rollout_id = $1 ORDER BY position");
        let rows: Vec<StoredNode> = sqlx::query_as(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.into_iter().map(StoredNode::read).collect()
    }

    /// Rollouts newest first, with ids below `before`, and how many nodes each has at each step.
    pub async fn rollouts(&self, before: Option<i64>, limit: i64) -> Result<Vec<(RolloutRow, StepCounts)>> {
        let sql = format!("SELECT {ROLLOUT_COLUMNS} FROM rollouts WHERE id < $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<StoredRollout> =
            sqlx::query_as(&sql).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(&self.pool).await?;
        let rows = rows.into_iter().map(StoredRollout::read).collect::<Result<Vec<_>>>()?;
        let (Some(newest), Some(oldest)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
            return Ok(Vec::new());
        };
        let counts: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT rollout_id, step, COUNT(*) FROM rollout_nodes WHERE rollout_id BETWEEN $1 AND $2 \
             GROUP BY rollout_id, step",
        )
        .bind(oldest)
        .bind(newest)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let steps = counts.iter().filter(|(id, ..)| *id == row.id).flat_map(|(_, step, n)| {
                    let step = NodeStep::parse(step);
                    std::iter::repeat_n(step, *n as usize).flatten()
                });
                let counts = StepCounts::of(steps);
                (row, counts)
            })
            .collect())
    }

    /// The rollouts in `state`, oldest first.
    pub async fn rollouts_in(&self, state: RolloutState) -> Result<Vec<RolloutRow>> {
        let sql = format!("SELECT {ROLLOUT_COLUMNS} FROM rollouts WHERE state = $1 ORDER BY id");
        let rows: Vec<StoredRollout> = sqlx::query_as(&sql).bind(state.as_str()).fetch_all(&self.pool).await?;
        rows.into_iter().map(StoredRollout::read).collect()
    }

    /// Makes `change` with its audit entry or event; `false` when the rollout was in none of its
    /// `from` states.
    pub async fn set_rollout_state(
        &self,
        id: i64,
        change: &StateChange<'_>,
        audit: Option<&AuditRecord>,
        event: Option<&NewEvent>,
    ) -> Result<bool> {
        let StateChange { from, to, reason, now } = *change;
        let mut tx = self.pool.begin().await?;
        let from: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let finished = to.is_finished().then_some(now);
        let sql = format!(
            "UPDATE rollouts SET state = $2, active = $3, reason = $4, updated_at = $5, \
                finished_at = $6 WHERE id = $1 AND state IN ({})",
            from.join(", ")
        );
        let changed = sqlx::query(&sql)
            .bind(id)
            .bind(to.as_str())
            .bind((!to.is_finished()).then_some(1i64))
            .bind(reason)
            .bind(now)
            .bind(finished)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if changed {
            if let Some(audit) = audit {
                insert_audit(&mut tx, audit).await?;
            }
            if let Some(event) = event {
                insert_event(&mut tx, event).await?;
            }
        }
        tx.commit().await?;
        self.touch_fleet();
        Ok(changed)
    }

    /// Moves a node to `step` at `now`: updating sets `requested_at`, soaking `arrived_at`, a
    /// final step `finished_at` (and the message).
    pub async fn set_node_step(
        &self,
        rollout_id: i64,
        customer_id: &str,
        step: NodeStep,
        now: i64,
        message: Option<&str>,
    ) -> Result<()> {
        let column = match step {
            NodeStep::Pending => return Err(StoreError::Conflict("a node never goes back to pending".into())),
            NodeStep::Updating => "requested_at",
            NodeStep::Soaking => "arrived_at",
            NodeStep::Done | NodeStep::Skipped | NodeStep::Failed => "finished_at",
        };
        let sql = format!(
            "UPDATE rollout_nodes SET step = $3, {column} = $4, message = COALESCE($5, message) \
             WHERE rollout_id = $1 AND customer_id = $2"
        );
        sqlx::query(&sql)
            .bind(rollout_id)
            .bind(customer_id)
            .bind(step.as_str())
            .bind(now)
            .bind(message)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
