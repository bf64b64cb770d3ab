//! Fleet drift: every managed, unblocked node's live config diffed against the hub's (through
//! [`crate::controller::live_diff`]), and per node the number of differing keys, or that it
//! could not be reached and why. A node that could not be asked is stored as unreachable, never
//! as in sync. The `drift_check` job and `POST /api/v1/fleet/drift/check` run it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use hub_shared::fleet::{DriftCheck, DriftMark, DriftState};

use crate::controller::ControllerError;
use crate::error::Result;
use crate::state::AppState;
use crate::store::{DriftRow, RowKey};

/// Nodes asked at once.
const CONCURRENCY: usize = 16;

/// What asking one node gave: a result to store, or the hub's own failure (not the node's).
enum Outcome {
    Checked(DriftRow),
    HubFailed(String),
}

/// Checks every managed, unblocked node at `now`; with a `deadline`, the nodes not answered by
/// then keep their previous result and count as unfinished.
pub async fn check_fleet(state: &AppState, now: DateTime<Utc>, deadline: Option<Duration>) -> Result<DriftCheck> {
    let ids: Vec<String> =
        state.store().configs().await?.into_iter().filter(|c| !c.blocked()).map(|c| c.customer_id).collect();
    let nodes = ids.len() as u32;
    let now_ms = now.timestamp_millis();
    let mut check = DriftCheck { nodes, in_sync: 0, drifted: 0, unreachable: 0, unfinished: nodes, checked_at: now };
    let mut failures = Vec::new();
    // Each node's result is stored inside its own future: the loop below awaits nothing but the
    // stream, because futures waiting in `buffer_unordered` are not polled while the loop awaits
    // something else, and those holding pool connections would starve the loop's own query.
    let store_row = |id: String| async move {
        match check_node(state, id, now_ms).await {
            Outcome::Checked(row) => state.store().put_drift(&row).await.map(|()| Outcome::Checked(row)),
            failed => Ok(failed),
        }
    };
    let mut results = futures::stream::iter(ids).map(store_row).buffer_unordered(CONCURRENCY);
    let collect = async {
        while let Some(outcome) = results.next().await {
            check.unfinished -= 1;
            match outcome? {
                Outcome::Checked(row) => match (row.reachable != 0, row.keys) {
                    (false, _) => check.unreachable += 1,
                    (true, 0) => check.in_sync += 1,
                    (true, _) => check.drifted += 1,
                },
                Outcome::HubFailed(message) => failures.push(message),
            }
        }
        Ok::<_, crate::error::AppError>(())
    };
    match deadline {
        Some(limit) => {
            // Past the deadline the unanswered calls are dropped; their nodes keep what they had.
            if let Ok(done) = tokio::time::timeout(limit, collect).await {
                done?;
            }
        }
        None => collect.await?,
    }
    for message in &failures {
        tracing::warn!(error = %message, "drift check: the hub could not check a node");
    }
    Ok(check)
}

async fn check_node(state: &AppState, customer_id: String, now: i64) -> Outcome {
    let row = |reachable: bool, keys: usize, message: Option<String>| DriftRow {
        customer_id: customer_id.clone(),
        checked_at: now,
        reachable: i64::from(reachable),
        keys: keys as i64,
        message,
    };
    match crate::controller::live_diff(state, &customer_id).await {
        Ok(diff) => Outcome::Checked(row(true, diff.added.len() + diff.removed.len() + diff.changed.len(), None)),
        Err(ControllerError::Hub(e)) => Outcome::HubFailed(format!("{customer_id}: {e}")),
        Err(e) => Outcome::Checked(row(false, 0, Some(e.to_string()))),
    }
}

/// A stored result as the fleet views show it.
pub fn mark(row: &DriftRow) -> Result<DriftMark> {
    let key = RowKey::new("drift_checks", &row.customer_id);
    let state = match (row.reachable != 0, row.keys) {
        (false, _) => DriftState::Unreachable,
        (true, 0) => DriftState::InSync,
        (true, _) => DriftState::Drifted,
    };
    Ok(DriftMark {
        state,
        keys: key.count("keys", row.keys)?,
        checked_at: key.time("checked_at", row.checked_at)?,
        message: row.message.clone(),
    })
}

/// Every node's mark, by customer id.
pub fn marks(rows: &[DriftRow]) -> Result<HashMap<String, DriftMark>> {
    rows.iter().map(|row| Ok((row.customer_id.clone(), mark(row)?))).collect()
}
