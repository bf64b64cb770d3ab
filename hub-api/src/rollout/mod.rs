//! Staged rollouts of a controller version: starting one (which nodes, which canaries), the
//! operator's pause, resume and abort, and the views the API answers. The rules that move a
//! rollout on are pure (`machine.rs`); the `rollout_step` job applies them (`advance.rs`). The
//! state is in the database, so a rollout goes on after a restart or on another replica.

mod advance;
pub mod machine;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use hub_shared::audit::AuditAction;
use hub_shared::page::next_before;
use hub_shared::rollout::{
    self as dto, NodeStep, Rollout, RolloutList, RolloutNode, RolloutState, RolloutSummary, StartRollout, StepCounts,
    BATCH_MAX, DEFAULT_BATCH,
};
use hub_shared::NodeStatus;

use crate::error::{AppError, Result};
use crate::extract::ClientIp;
use crate::fleet::{is_older, summarize};
use crate::state::AppState;
use crate::store::{
    AuditRecord, ConfigRow, LatestRow, NewRollout, NewRolloutNode, RolloutNodeRow, RolloutRow, RowKey, StateChange,
};

pub use advance::{advance, ControllerUpdater, Updater};
use machine::NodeFacts;

/// The longest `wait` and `update_timeout`.
const MAX_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// What the operator may do to a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Abort,
}

impl Control {
    /// The states it applies to, the state it leads to, and its audit action.
    fn moves(self) -> (&'static [RolloutState], RolloutState, AuditAction) {
        use RolloutState::*;
        match self {
            Control::Pause => (&[Running], Paused, AuditAction::RolloutPause),
            Control::Resume => (&[Paused, Stopped], Running, AuditAction::RolloutResume),
            Control::Abort => (&[Running, Paused, Stopped], Aborted, AuditAction::RolloutAbort),
        }
    }
}

fn duration(field: &str, text: &str) -> Result<Duration> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|_| AppError::invalid(field, format!("{field} must be a duration such as 10m or 1h")))?;
    if d > MAX_WAIT {
        return Err(AppError::invalid(field, format!("{field} must be at most 7d")));
    }
    Ok(d)
}

/// A customer as a rollout sees it.
pub struct Known {
    pub facts: NodeFacts,
    /// It has a config.
    pub managed: bool,
    /// It reported at least once.
    pub reported: bool,
}

/// Every customer's facts at `now` (ms): its reported version, status and block.
pub async fn fleet_facts(state: &AppState, now: i64) -> Result<BTreeMap<String, Known>> {
    let (configs, latest) = tokio::try_join!(state.store().configs(), state.store().latest_reports())?;
    let mut by_id: BTreeMap<&str, (Option<&ConfigRow>, Option<&LatestRow>)> = BTreeMap::new();
    for c in &configs {
        by_id.entry(&c.customer_id).or_default().0 = Some(c);
    }
    for l in &latest {
        by_id.entry(&l.customer_id).or_default().1 = Some(l);
    }
    let stale_ms = state.config().stale_ms();
    by_id
        .into_iter()
        .map(|(id, (config, latest))| {
            let s = summarize(id, config, latest, now, stale_ms)?;
            let facts = NodeFacts { version: s.controller_version, status: s.status, blocked: s.blocked };
            Ok((id.to_string(), Known { facts, managed: config.is_some(), reported: latest.is_some() }))
        })
        .collect()
}

/// Starts a rollout: every managed node that reported is in it; blocked nodes, nodes already on
/// the version (or newer) and nodes WARN or DOWN now start skipped. 422 for a bad field or a
/// canary that is not among the nodes to update; 409 when another rollout is unfinished or no
/// node needs the version.
pub async fn start(state: &AppState, req: &StartRollout, ip: &ClientIp, now: i64) -> Result<Rollout> {
    dto::version(req.version.trim()).map_err(|m| AppError::invalid("version", m))?;
    let version = req.version.trim().to_string();
    let wait = duration("wait", &req.wait)?;
    let update_timeout = match &req.update_timeout {
        Some(text) => duration("update_timeout", text)?,
        None => state.config().update_timeout,
    };
    if update_timeout < Duration::from_secs(60) {
        return Err(AppError::invalid("update_timeout", "update_timeout must be at least 1m"));
    }
    let batch_size = req.batch_size.unwrap_or(DEFAULT_BATCH);
    if !(1..=BATCH_MAX).contains(&batch_size) {
        return Err(AppError::invalid("batch_size", format!("batch_size must be 1–{BATCH_MAX}")));
    }
    let mut nodes: Vec<NewRolloutNode> = Vec::new();
    for (id, Known { facts, managed, reported }) in fleet_facts(state, now).await? {
        if !managed || !reported {
            continue;
        }
        let on = facts.version.clone().unwrap_or_default();
        let skip = if facts.blocked {
            Some("blocked".to_string())
        } else if !on.trim().is_empty() && !is_older(&on, &version) {
            Some(format!("already on {on}"))
        } else if matches!(facts.status, NodeStatus::Warn | NodeStatus::Down) {
            Some(format!("{} when the rollout started", facts.status.as_str()))
        } else {
            None
        };
        nodes.push(NewRolloutNode {
            customer_id: id,
            canary: false,
            step: if skip.is_some() { NodeStep::Skipped } else { NodeStep::Pending },
            from_version: facts.version,
            message: skip,
        });
    }
    let pending: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].step == NodeStep::Pending).collect();
    if pending.is_empty() {
        return Err(AppError::Conflict(format!(
            "no node to update to {version}: every managed node that reports is on it or newer, blocked, or WARN/DOWN"
        )));
    }
    let canaries: Vec<usize> = match (&req.canary, req.canary_percent) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(AppError::invalid("canary", "give canary (customer ids) or canary_percent, one of them"))
        }
        (Some(ids), None) if ids.is_empty() => {
            return Err(AppError::invalid("canary", "canary must name at least one customer"))
        }
        (Some(ids), None) => {
            let mut chosen = Vec::new();
            for id in ids {
                let Some(i) = pending.iter().copied().find(|&i| nodes[i].customer_id == *id) else {
                    let why = nodes.iter().find(|n| n.customer_id == *id).and_then(|n| n.message.clone());
                    let why = why.unwrap_or_else(|| "not a managed node that reports".into());
                    return Err(AppError::invalid("canary", format!("canary {id:?} cannot be updated ({why})")));
                };
                if !chosen.contains(&i) {
                    chosen.push(i);
                }
            }
            chosen
        }
        (None, Some(percent)) if !(1..=100).contains(&percent) => {
            return Err(AppError::invalid("canary_percent", "canary_percent must be 1–100"))
        }
        (None, Some(percent)) => {
            let n = (pending.len() * percent as usize).div_ceil(100).max(1);
            pending[..n].to_vec()
        }
    };
    for &i in &canaries {
        nodes[i].canary = true;
    }
    // Canaries first, in the order given; then the rest by customer id.
    let mut ordered: Vec<NewRolloutNode> = canaries.iter().map(|&i| nodes[i].clone()).collect();
    ordered.extend(nodes.into_iter().filter(|n| !n.canary));
    let rollout = NewRollout {
        version: version.clone(),
        wait_ms: wait.as_millis() as i64,
        batch_size: i64::from(batch_size),
        update_timeout_ms: update_timeout.as_millis() as i64,
        created_at: now,
    };
    let summary = format!(
        "to {version}, {} canaries, {} nodes to update, wait {}, batches of {batch_size}",
        canaries.len(),
        pending.len(),
        humantime::format_duration(wait)
    );
    let audit = rollout_audit(AuditAction::RolloutStart, summary, ip, now);
    let id = state.store().insert_rollout(&rollout, &ordered, &audit).await?;
    load(state, id).await
}

fn rollout_audit(action: AuditAction, summary: String, ip: &ClientIp, now: i64) -> AuditRecord {
    AuditRecord {
        at: now,
        actor: "operator",
        action: action.as_str(),
        customer_id: None,
        summary,
        client_ip: Some(ip.0.to_string()),
    }
}

/// Pauses, resumes or aborts rollout `id`; 404 when there is none, 409 when its state does
/// not allow it.
pub async fn control(state: &AppState, id: i64, control: Control, ip: &ClientIp, now: i64) -> Result<Rollout> {
    let row = state.store().rollout(id).await?.ok_or_else(|| no_rollout(id))?;
    let (from, to, action) = control.moves();
    let audit = rollout_audit(action, format!("rollout #{id} to {}: {}", row.version, to.as_str()), ip, now);
    let reason = (control == Control::Abort).then_some("aborted by the operator");
    let change = StateChange { from, to, reason, now };
    if !state.store().set_rollout_state(id, &change, Some(&audit), None).await? {
        let current = state.store().rollout(id).await?.map_or(row.state, |r| r.state);
        return Err(AppError::Conflict(format!(
            "rollout #{id} is {}; {} applies only to a rollout that is {}",
            current.as_str(),
            format!("{control:?}").to_lowercase(),
            from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ")
        )));
    }
    load(state, id).await
}

fn no_rollout(id: i64) -> AppError {
    AppError::NotFound(format!("no rollout #{id}"))
}

/// Rollout `id` with each node's step; 404 when there is none.
pub async fn load(state: &AppState, id: i64) -> Result<Rollout> {
    let (row, nodes) = tokio::try_join!(state.store().rollout(id), state.store().rollout_nodes(id))?;
    let row = row.ok_or_else(|| no_rollout(id))?;
    let counts = StepCounts::of(nodes.iter().map(|n| n.step));
    let nodes = nodes.into_iter().map(|n| node_view(id, n)).collect::<Result<_>>()?;
    Ok(Rollout { rollout: summary_view(row, counts)?, nodes })
}

/// A page of rollouts, newest first.
pub async fn list(state: &AppState, limit: u32, before: Option<i64>) -> Result<RolloutList> {
    let rows = state.store().rollouts(before, i64::from(limit)).await?;
    let rollouts: Vec<RolloutSummary> =
        rows.into_iter().map(|(row, counts)| summary_view(row, counts)).collect::<Result<_>>()?;
    let next_before = next_before(&rollouts, limit, |r| r.id);
    Ok(RolloutList { rollouts, next_before })
}

fn summary_view(row: RolloutRow, counts: StepCounts) -> Result<RolloutSummary> {
    let key = RowKey::new("rollouts", row.id);
    Ok(RolloutSummary {
        created_at: key.time("created_at", row.created_at)?,
        updated_at: key.time("updated_at", row.updated_at)?,
        finished_at: row.finished_at.map(|t| key.time("finished_at", t)).transpose()?,
        id: row.id,
        version: row.version,
        state: row.state,
        wait_secs: (row.wait_ms / 1000).max(0) as u64,
        batch_size: row.batch_size.clamp(0, i64::from(u32::MAX)) as u32,
        update_timeout_secs: (row.update_timeout_ms / 1000).max(0) as u64,
        reason: row.reason,
        counts,
    })
}

fn node_view(rollout_id: i64, n: RolloutNodeRow) -> Result<RolloutNode> {
    let key = RowKey::new("rollout_nodes", format!("{rollout_id}/{}", n.customer_id));
    let time = |column: &str, ms: Option<i64>| ms.map(|t| key.time(column, t)).transpose();
    Ok(RolloutNode {
        requested_at: time("requested_at", n.requested_at)?,
        arrived_at: time("arrived_at", n.arrived_at)?,
        finished_at: time("finished_at", n.finished_at)?,
        customer_id: n.customer_id,
        canary: n.canary,
        step: n.step,
        from_version: n.from_version,
        message: n.message,
    })
}

/// The facts the machine reads, by customer id.
fn machine_facts(all: BTreeMap<String, Known>) -> HashMap<String, NodeFacts> {
    all.into_iter().map(|(id, known)| (id, known.facts)).collect()
}
