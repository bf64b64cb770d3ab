//! `events` → events, hub-made ones included, with their details and source. Imported events
//! are history, not news: they are marked notified, so no email goes out for them.

use std::collections::BTreeMap;

use futures::StreamExt;
use hub_shared::event::{EventType, Severity, CONTROLLER_SOURCE, HUB_SOURCE, MESSAGE_MAX, SOURCE_MAX};
use serde_json::{Map, Value};

use super::source::Cell;
use super::Job;

pub(super) async fn import(job: &mut Job<'_>) -> anyhow::Result<()> {
    let t = &job.table;
    let id_col = t.column(&["customer_id", "customer"]);
    let type_col = t.column(&["event_type", "type", "kind"]);
    let severity_col = t.column(&["severity", "level"]);
    let message_col = t.column(&["message", "msg", "text"]);
    let details_col = t.column(&["details_json", "details", "data"]);
    let source_col = t.column(&["source", "origin"]);
    let occurred_col = t.column(&["occurred_at", "timestamp", "created_at", "ts", "time"]);
    let received_col = t.optional_column(&["received_at", "created_at"]);
    let source = job.source;
    let select = source.select(&job.table, occurred_col.as_deref()).await;
    let mut rows = source.rows(&select);
    let mut read_as: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(row) = rows.next().await {
        let row = row?;
        let Some(id) = job.new_row_of(&row, id_col.as_deref()) else { continue };
        let type_name = row.get(type_col.as_deref()).text().unwrap_or_default();
        let Ok(event_type) = EventType::parse(type_name.trim()) else {
            job.skip(&row.key, format!("unknown event type {type_name:?}"));
            continue;
        };
        let severity_name = row.get(severity_col.as_deref()).text().unwrap_or_default().trim().to_ascii_lowercase();
        let Some(severity) = severity(&severity_name) else {
            job.skip(&row.key, format!("unknown severity {severity_name:?}"));
            continue;
        };
        if severity.as_str() != severity_name {
            *read_as.entry(format!("severity {severity_name:?} as {severity}")).or_default() += 1;
        }
        let Some(occurred) = row.get(occurred_col.as_deref()).time_ms() else {
            job.skip(&row.key, "no readable time");
            continue;
        };
        let received = row.get(received_col.as_deref()).time_ms().unwrap_or(occurred);
        let mut message = row.get(message_col.as_deref()).text().unwrap_or_default();
        if message.len() > MESSAGE_MAX {
            let mut end = MESSAGE_MAX;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            *read_as.entry(format!("messages over {MESSAGE_MAX} bytes cut")).or_default() += 1;
        }
        let details = match details(row.get(details_col.as_deref())) {
            Ok(d) => d,
            Err(d) => {
                *read_as
                    .entry("details that are not a JSON object kept as {\"legacy_details\": …}".into())
                    .or_default() += 1;
                d
            }
        };
        let default_source = if event_type.is_hub_only() { HUB_SOURCE } else { CONTROLLER_SOURCE };
        let source_name = match row.get(source_col.as_deref()).text().map(|s| s.trim().to_string()) {
            Some(s) if s.len() <= SOURCE_MAX && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c)) => {
                s
            }
            Some(s) => {
                *read_as.entry(format!("source {s:?} as {default_source}")).or_default() += 1;
                default_source.to_string()
            }
            None => default_source.to_string(),
        };
        let (new_id,): (i64,) = sqlx::query_as(
            "INSERT INTO events (customer_id, event_type, severity, message, details_json, source, occurred_at, \
                received_at, dispatched_at, notified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8) RETURNING id",
        )
        .bind(&id)
        .bind(event_type.as_str())
        .bind(severity.as_str())
        .bind(&message)
        .bind(Value::Object(details).to_string())
        .bind(&source_name)
        .bind(occurred)
        .bind(received)
        .fetch_one(&mut *job.tx)
        .await?;
        job.done(&row.key, Some(new_id)).await?;
    }
    drop(rows);
    for (what, count) in read_as {
        job.note(format!("{count} events: {what}"));
    }
    Ok(())
}

/// A severity, with the other names an old controller may have used.
fn severity(name: &str) -> Option<Severity> {
    Severity::parse(name).ok().or(match name {
        "warn" => Some(Severity::Warning),
        "err" | "critical" | "fatal" => Some(Severity::Error),
        "information" | "notice" => Some(Severity::Info),
        _ => None,
    })
}

/// The details as an object; anything else is kept whole under `legacy_details` (`Err`).
fn details(cell: &Cell) -> Result<Map<String, Value>, Map<String, Value>> {
    let value = match cell.json() {
        // A JSON string holding JSON (written twice encoded).
        Some(Value::String(inner)) => serde_json::from_str(&inner).unwrap_or(Value::String(inner)),
        Some(v) => v,
        None => match cell.text() {
            Some(text) => Value::String(text),
            None => return Ok(Map::new()),
        },
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(Map::from_iter([("legacy_details".to_string(), other)])),
    }
}
