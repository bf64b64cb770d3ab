//! `reports` → the compact history the charts draw (every old report), and each customer's
//! latest report with its full JSON (the newest old one, unless this hub has a newer one).
//! Reports are read as leniently as the report endpoint reads them.

use std::collections::HashMap;

use futures::StreamExt;
use hub_shared::report::ReportIn;
use serde_json::Value;

use super::Job;
use crate::store::{insert_report, permille, ReportRow};

/// Columns that repeat what the report's JSON holds: read through the JSON.
const IN_THE_JSON: [&str; 12] = [
    "hostname",
    "controller_version",
    "controller_url",
    "health",
    "status",
    "monitoring_enabled",
    "containers_running",
    "containers_total",
    "last_backup_at",
    "last_backup_ok",
    "version",
    "reported_at",
];

pub(super) async fn import(job: &mut Job<'_>) -> anyhow::Result<()> {
    let t = &job.table;
    let id_col = t.column(&["customer_id", "customer"]);
    let time_col = t.column(&["received_at", "created_at", "reported_at", "timestamp", "ts", "time"]);
    let json_col = t.column(&["report_json", "json", "data", "payload", "raw", "report", "body"]);
    let cpu_col = t.optional_column(&["cpu_percent", "cpu"]);
    let mem_col = t.optional_column(&["memory_percent", "mem_percent", "memory"]);
    let disk_col = t.optional_column(&["disk_percent", "disk"]);
    if json_col.is_some() {
        for name in IN_THE_JSON {
            t.optional_column(&[name]);
        }
    }
    let source = job.source;
    let select = source.select(&job.table, time_col.as_deref()).await;
    let mut rows = source.rows(&select);
    let mut latest: HashMap<String, ReportRow> = HashMap::new();
    let mut with_warnings = 0u64;
    while let Some(row) = rows.next().await {
        let row = row?;
        let Some(id) = job.new_row_of(&row, id_col.as_deref()) else { continue };
        let json_cell = row.get(json_col.as_deref());
        let parsed = json_cell.json().filter(Value::is_object).and_then(|mut value| {
            value["customer_id"] = Value::String(id.clone());
            let (report, warnings) = ReportIn::read(&value).ok()?;
            Some((report, warnings, value))
        });
        let time = row.get(time_col.as_deref()).time_ms();
        let time = time.or_else(|| parsed.as_ref().and_then(|(r, _, _)| r.reported_at).map(|t| t.timestamp_millis()));
        let Some(received) = time else {
            job.skip(&row.key, "no readable time");
            continue;
        };
        let (report_row, point) = match parsed {
            Some((report, warnings, value)) => {
                with_warnings += u64::from(!warnings.is_empty());
                let text = json_cell.text().filter(|t| serde_json::from_str::<Value>(t).is_ok());
                // The operator's own records: their addresses are taken as the original hub took them.
                let json = text.unwrap_or_else(|| value.to_string());
                let stored = ReportRow::from_report(&report, json, true, received);
                let point = (stored.reported_at, stored.cpu_percent, stored.memory_percent, stored.disk_percent);
                (Some(stored), point)
            }
            None => {
                let number = |col: &Option<String>| row.get(col.as_deref()).real();
                let point = (received, number(&cpu_col), number(&mem_col), number(&disk_col));
                if point.1.is_none() && point.2.is_none() && point.3.is_none() {
                    job.skip(&row.key, "no readable report JSON and no numbers");
                    continue;
                }
                (None, point)
            }
        };
        let (at, cpu, mem, disk) = point;
        let added = sqlx::query(
            "INSERT INTO reports (customer_id, reported_at, cpu_pm, mem_pm, disk_pm) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (customer_id, reported_at) DO NOTHING",
        )
        .bind(&id)
        .bind(at)
        .bind(permille(cpu))
        .bind(permille(mem))
        .bind(permille(disk))
        .execute(&mut *job.tx)
        .await?
        .rows_affected();
        if added == 0 {
            job.skip(&row.key, "this hub has a report of the customer from the same moment");
            continue;
        }
        if let Some(stored) = report_row {
            if latest.get(&id).is_none_or(|l| l.reported_at <= stored.reported_at) {
                latest.insert(id, stored);
            }
        }
        job.done(&row.key, None).await?;
    }
    drop(rows);
    if with_warnings > 0 {
        job.note(format!(
            "{with_warnings} reports had values of the wrong type or out of range: left out of the numbers, kept in the JSON"
        ));
    }
    // Each customer's newest old report becomes its latest, unless this hub has a newer one.
    let mut customers: Vec<_> = latest.into_values().collect();
    customers.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    for row in &customers {
        insert_report(&mut job.tx, row).await?;
    }
    Ok(())
}
