//! The staleness checker's stored state per customer (ok, stale, down) and the transitions that
//! change it together with their event, in one transaction.

use hub_shared::config::ConfigStatus;
use sqlx::FromRow;

use super::events::{insert_event, NewEvent};
use super::{Result, RowKey, Store};

/// A customer the staleness checker looks at: its last report and its stored state.
#[derive(Debug, Clone)]
pub struct NodeCandidate {
    pub customer_id: String,
    pub received_at: i64,
    pub monitoring_enabled: i64,
    /// `customer_configs.status`, `None` for a report-only customer.
    pub status: Option<ConfigStatus>,
    /// The stored state; `None` before the first transition (counts as `ok`).
    pub state: Option<String>,
    /// The last report before it last went silent (see [`NodeGap`]).
    pub silent_since: Option<i64>,
}

/// A node's stored state with its last silent gap: from its last report before it went stale
/// (`silent_since`) to when it reported again (`recovered_at`, `None` while still silent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeGap {
    pub state: String,
    pub silent_since: Option<i64>,
    pub recovered_at: Option<i64>,
}

impl NodeCandidate {
    /// Whether the checks skip it: blocked, or its monitoring is off.
    pub fn unwatched(&self) -> bool {
        self.status == Some(ConfigStatus::Blocked) || self.monitoring_enabled == 0
    }
}

#[derive(FromRow)]
struct StoredCandidate {
    customer_id: String,
    received_at: i64,
    monitoring_enabled: i64,
    status: Option<String>,
    state: Option<String>,
    silent_since: Option<i64>,
}

impl Store {
    /// Every customer that ever reported, with its config status and stored state.
    /// One whose config status cannot be read fails the whole read: a blocked customer is never
    /// taken for an active one.
    pub async fn node_candidates(&self) -> Result<Vec<NodeCandidate>> {
        let rows: Vec<StoredCandidate> = sqlx::query_as(
            "SELECT r.customer_id, r.received_at, r.monitoring_enabled, c.status, s.state, s.silent_since \
             FROM report_latest r \
             LEFT JOIN customer_configs c ON c.customer_id = r.customer_id \
             LEFT JOIN node_states s ON s.customer_id = r.customer_id \
             ORDER BY r.customer_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let key = RowKey::new("customer_configs", &r.customer_id);
                Ok(NodeCandidate {
                    status: r.status.map(|s| key.known("status", &s, ConfigStatus::parse)).transpose()?,
                    customer_id: r.customer_id,
                    received_at: r.received_at,
                    monitoring_enabled: r.monitoring_enabled,
                    state: r.state,
                    silent_since: r.silent_since,
                })
            })
            .collect()
    }

    /// The stored state and last gap of `customer_id`; `None` before its first transition.
    pub async fn node_gap(&self, customer_id: &str) -> Result<Option<NodeGap>> {
        let row: Option<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT state, silent_since, recovered_at FROM node_states WHERE customer_id = $1")
                .bind(customer_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(state, silent_since, recovered_at)| NodeGap { state, silent_since, recovered_at }))
    }

    /// Moves `customer_id` from state `from` (`None`: no row yet) to `to` and stores `event`, in
    /// one transaction. Leaving `ok` starts a gap at `last_report` (the node's last report);
    /// coming back to `ok` ends it at `now`. Returns the event's id, or `None` when the state
    /// was not `from` any more (another run got there first): then nothing is written.
    pub async fn transition_node(
        &self,
        customer_id: &str,
        from: Option<&str>,
        to: &str,
        now: i64,
        last_report: i64,
        event: &NewEvent,
    ) -> Result<Option<i64>> {
        let mut tx = self.pool.begin().await?;
        let changed = match from {
            Some(from) => {
                sqlx::query("UPDATE node_states SET state = $1, changed_at = $2 WHERE customer_id = $3 AND state = $4")
                    .bind(to)
                    .bind(now)
                    .bind(customer_id)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query(
                    "INSERT INTO node_states (customer_id, state, changed_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (customer_id) DO NOTHING",
                )
                .bind(customer_id)
                .bind(to)
                .bind(now)
                .execute(&mut *tx)
                .await?
            }
        };
        if changed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let gap = if to == "ok" {
            "UPDATE node_states SET recovered_at = $2 WHERE customer_id = $1"
        } else if from.is_none_or(|f| f == "ok") {
            "UPDATE node_states SET silent_since = $2, recovered_at = NULL WHERE customer_id = $1"
        } else {
            ""
        };
        if !gap.is_empty() {
            let at = if to == "ok" { now } else { last_report };
            sqlx::query(gap).bind(customer_id).bind(at).execute(&mut *tx).await?;
        }
        let id = insert_event(&mut tx, event).await?;
        tx.commit().await?;
        self.touch_fleet();
        Ok(Some(id))
    }
}
