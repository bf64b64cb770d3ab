//! Fills a hub database directly through its store, for the storage benchmark: `days` of history
//! of every node at `interval`, in time order as a real fleet would write it, and each node's
//! latest full report. Much faster than over HTTP, and the same rows.

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::Utc;
use hub_api::config::SqliteSync;
use hub_api::store::{HistoryInsert, Store};

use crate::node;

pub struct FillOptions {
    pub db: std::path::PathBuf,
    pub nodes: usize,
    pub days: u32,
    pub interval: Duration,
    pub seed: u64,
}

/// Steps written per transaction.
const STEPS_PER_TX: usize = 48;

/// Fills the database; returns the number of history rows written.
pub async fn fill(opts: &FillOptions) -> Result<u64> {
    let url = format!("sqlite://{}", opts.db.display());
    let store = Store::connect_url(&url, 2, SqliteSync::Normal).await?;
    let now = Utc::now();
    let start = now - chrono::Duration::days(i64::from(opts.days));
    let mut fleet = node::fleet(opts.seed, opts.nodes, "http://127.0.0.1:9/sim", start, now);
    let interval = chrono::Duration::from_std(opts.interval)?;
    let steps: Vec<_> = node::steps(start, now, interval).collect();
    let began = Instant::now();
    let mut written = 0u64;
    let mut batch = Vec::with_capacity(STEPS_PER_TX * opts.nodes);
    for (i, t) in steps.iter().enumerate() {
        let ms = t.timestamp_millis();
        for n in fleet.iter_mut() {
            n.advance(ms);
            let (cpu, mem, disk) = n.chart_numbers();
            batch.push(HistoryInsert {
                customer_id: n.customer_id.clone(),
                reported_at: ms,
                cpu_percent: Some(cpu),
                memory_percent: Some(mem),
                disk_percent: Some(disk),
            });
        }
        if (i + 1) % STEPS_PER_TX == 0 || i + 1 == steps.len() {
            store.insert_history_bulk(&batch).await?;
            written += batch.len() as u64;
            batch.clear();
            if (i + 1) % (STEPS_PER_TX * 20) == 0 {
                let rate = written as f64 / began.elapsed().as_secs_f64();
                eprintln!("fill-db: {written} rows, {rate:.0} rows/s");
            }
        }
    }
    // The latest full report of each node, through the same path as ingest.
    let rows: Vec<_> = fleet
        .iter()
        .map(|n| {
            let report = n.report(now);
            let json = serde_json::to_string(&report).expect("a report serializes");
            hub_api::store::ReportRow::from_report(&report, json, true, now.timestamp_millis())
        })
        .collect();
    let refs: Vec<&_> = rows.iter().collect();
    store.insert_reports(&refs).await?;
    // Closing the last connection folds the WAL into the database file.
    store.close().await;
    Ok(written)
}
