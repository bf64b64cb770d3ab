//! `customer_notifications` → each customer's email preferences (unless this hub has some), and
//! `notification_log` → the log, pointing at the imported events where it can.

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;
use hub_shared::event::EventType;
use hub_shared::notification::{Channel, Outcome, COOLDOWN_MAX, COOLDOWN_MIN};
use serde_json::Value;

use super::source::Cell;
use super::Job;

pub(super) async fn import_preferences(job: &mut Job<'_>) -> anyhow::Result<()> {
    let t = &job.table;
    let id_col = t.column(&["customer_id", "customer"]);
    let email_col = t.column(&["email", "customer_email", "to_email"]);
    let events_col = t.column(&["enabled_events", "enabled_events_json", "events", "event_types"]);
    let cooldown_col = t.column(&["cooldown_hours", "cooldown"]);
    let time_col = t.optional_column(&["updated_at", "created_at"]);
    let source = job.source;
    let select = source.select(&job.table, None).await;
    let mut rows = source.rows(&select);
    let mut read_as: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(row) = rows.next().await {
        let row = row?;
        let Some(id) = job.new_row_of(&row, id_col.as_deref()) else { continue };
        let email = row.get(email_col.as_deref()).text().unwrap_or_default().trim().to_string();
        if hub_shared::validate::email(&email).is_err() {
            job.skip(&row.key, "no valid email address");
            continue;
        }
        let mut events = Vec::new();
        for name in event_names(row.get(events_col.as_deref())) {
            match EventType::parse(&name) {
                Ok(t) if !events.contains(&t.as_str()) => events.push(t.as_str()),
                Ok(_) => {}
                Err(_) => *read_as.entry(format!("unknown event type {name:?} left out")).or_default() += 1,
            }
        }
        let cooldown = match row.get(cooldown_col.as_deref()).int() {
            None => hub_shared::notification::COOLDOWN_DEFAULT,
            Some(h) if (i64::from(COOLDOWN_MIN)..=i64::from(COOLDOWN_MAX)).contains(&h) => h as u32,
            Some(h) => {
                let kept = h.clamp(i64::from(COOLDOWN_MIN), i64::from(COOLDOWN_MAX)) as u32;
                *read_as.entry(format!("cooldown_hours {h} as {kept}")).or_default() += 1;
                kept
            }
        };
        let updated = row.get(time_col.as_deref()).time_ms().unwrap_or(job.now);
        let added = sqlx::query(
            // The original hub mailed these addresses: they come in confirmed.
            "INSERT INTO customer_notifications (customer_id, email, enabled_events_json, cooldown_hours, updated_at, \
                confirmed_email) VALUES ($1, $2, $3, $4, $5, $2) ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(&id)
        .bind(&email)
        .bind(serde_json::to_string(&events)?)
        .bind(i64::from(cooldown))
        .bind(updated)
        .execute(&mut *job.tx)
        .await?
        .rows_affected();
        if added == 0 {
            job.skip(&row.key, "the customer has preferences in this hub already");
            continue;
        }
        job.done(&row.key, None).await?;
    }
    drop(rows);
    for (what, count) in read_as {
        job.note(format!("{count} rows: {what}"));
    }
    Ok(())
}

/// Event type names from a JSON list, or from text separated by commas or spaces.
fn event_names(cell: &Cell) -> Vec<String> {
    match cell.json() {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).map(|s| s.trim().to_string()).collect(),
        _ => cell
            .text()
            .unwrap_or_default()
            .split([',', ' ', ';'])
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

pub(super) async fn import_log(job: &mut Job<'_>) -> anyhow::Result<()> {
    let t = &job.table;
    let id_col = t.column(&["customer_id", "customer"]);
    let event_col = t.optional_column(&["event_id"]);
    let type_col = t.column(&["event_type", "type"]);
    let channel_col = t.column(&["channel"]);
    let recipient_col = t.column(&["recipient", "email", "to_email", "to"]);
    let outcome_col = t.column(&["outcome", "status", "result"]);
    let reason_col = t.column(&["reason", "error", "detail", "message"]);
    let time_col = t.column(&["created_at", "sent_at", "timestamp", "ts"]);
    let events: HashMap<String, i64> = sqlx::query_as::<_, (String, Option<i64>)>(
        "SELECT legacy_key, target_id FROM legacy_imports WHERE source_table = 'events'",
    )
    .fetch_all(&mut *job.tx)
    .await?
    .into_iter()
    .filter_map(|(key, id)| Some((key, id?)))
    .collect();
    let source = job.source;
    let select = source.select(&job.table, time_col.as_deref()).await;
    let mut rows = source.rows(&select);
    let mut read_as: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(row) = rows.next().await {
        let row = row?;
        let Some(id) = job.new_row_of(&row, id_col.as_deref()) else { continue };
        let Some(event_type) = row.get(type_col.as_deref()).text().map(|t| t.trim().to_string()) else {
            job.skip(&row.key, "no event type");
            continue;
        };
        let channel = match channel_col.as_ref().map(|c| row.get(Some(c)).text().unwrap_or_default()) {
            None => Channel::Operator,
            Some(name) => match name.trim().to_ascii_lowercase().as_str() {
                "operator" | "admin" | "op" => Channel::Operator,
                "customer" | "user" | "cust" => Channel::Customer,
                other => {
                    job.skip(&row.key, format!("unknown channel {other:?}"));
                    continue;
                }
            },
        };
        let outcome_name = row.get(outcome_col.as_deref()).text().unwrap_or_default().trim().to_ascii_lowercase();
        let Some(outcome) = outcome(&outcome_name) else {
            job.skip(&row.key, format!("unknown outcome {outcome_name:?}"));
            continue;
        };
        if outcome.as_str() != outcome_name {
            *read_as.entry(format!("outcome {outcome_name:?} as {}", outcome.as_str())).or_default() += 1;
        }
        let Some(created) = row.get(time_col.as_deref()).time_ms() else {
            job.skip(&row.key, "no readable time");
            continue;
        };
        let old_event = row.get(event_col.as_deref()).text();
        let event_id = old_event.as_ref().and_then(|k| events.get(k.trim()).copied());
        if old_event.is_some() && event_id.is_none() {
            *read_as.entry("event not imported: event_id left empty".into()).or_default() += 1;
        }
        sqlx::query(
            "INSERT INTO notification_log (customer_id, event_id, event_type, channel, recipient, outcome, reason, \
                created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(event_id)
        .bind(&event_type)
        .bind(channel.as_str())
        .bind(row.get(recipient_col.as_deref()).text().unwrap_or_default())
        .bind(outcome.as_str())
        .bind(row.get(reason_col.as_deref()).text().unwrap_or_default())
        .bind(created)
        .execute(&mut *job.tx)
        .await?;
        job.done(&row.key, None).await?;
    }
    drop(rows);
    if channel_col.is_none() {
        job.note("no channel column: every entry is stored as the operator's");
    }
    for (what, count) in read_as {
        job.note(format!("{count} rows: {what}"));
    }
    Ok(())
}

/// An outcome, with the other words an old hub may have logged.
fn outcome(name: &str) -> Option<Outcome> {
    Outcome::parse(name).or(match name {
        "ok" | "success" | "delivered" => Some(Outcome::Sent),
        "skip" | "suppressed" | "cooldown" => Some(Outcome::Skipped),
        "error" | "fail" | "failure" => Some(Outcome::Failed),
        _ => None,
    })
}
