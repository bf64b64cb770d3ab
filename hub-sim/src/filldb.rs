//! Fills a hub database directly through its store, for the storage benchmark: `days` of history
//! of every node at `interval`, in time order as a real fleet would write it, and each node's
//! latest full report. Much faster than over HTTP, and the same rows.
//!
//! A bulk load: one connection with a page cache large enough for every node's newest history
//! page (time-ordered rows land on one leaf page per node), no fsync and the rollback journal in
//! memory, since a failed fill is simply run again. The hub opens the file in WAL mode as usual.
//! The rows are made on a thread of their own while the previous transaction is written.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
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

/// History rows written per transaction (about a day of 1,000 nodes, an hour of 10,000 more or
/// less: whole steps).
const ROWS_PER_TX: usize = 100_000;

/// The fill's page cache, in KiB (SQLite's `cache_size` when negative).
const CACHE_KIB: u64 = 256 * 1024;

/// Fills the database; returns the number of history rows written.
pub async fn fill(opts: &FillOptions) -> Result<u64> {
    let url = format!("sqlite://{}", opts.db.display());
    let store = Store::connect_url(&url, 1, SqliteSync::Normal).await?;
    store.sqlite_bulk_load(true, CACHE_KIB).await.context("cannot set up the bulk load")?;
    let now = Utc::now();
    let start = now - chrono::Duration::days(i64::from(opts.days));
    let interval = chrono::Duration::from_std(opts.interval)?;
    let (nodes, seed) = (opts.nodes, opts.seed);
    let steps_per_tx = (ROWS_PER_TX / nodes.max(1)).max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<HistoryInsert>>(2);
    let maker = std::thread::spawn(move || {
        let mut fleet = node::fleet(seed, nodes, "http://127.0.0.1:9/sim", start, now);
        let steps: Vec<_> = node::steps(start, now, interval).collect();
        for chunk in steps.chunks(steps_per_tx) {
            let mut batch = Vec::with_capacity(chunk.len() * nodes);
            for t in chunk {
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
            }
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
        fleet
    });
    let began = Instant::now();
    let mut written = 0u64;
    let mut reported = 0u64;
    while let Some(batch) = rx.recv().await {
        store.insert_history_bulk(&batch).await?;
        written += batch.len() as u64;
        if written - reported >= 2_000_000 {
            reported = written;
            let rate = written as f64 / began.elapsed().as_secs_f64();
            eprintln!("fill-db: {written} rows, {rate:.0} rows/s");
        }
    }
    let fleet = maker.join().map_err(|_| anyhow::anyhow!("the thread making the rows panicked"))?;
    // The latest full report of each node, through the same path as ingest.
    let rows: Vec<_> = fleet
        .iter()
        .map(|n| {
            let report = n.report(now);
            let json = serde_json::to_string(&report).expect("a report serializes");
            hub_api::store::ReportRow::from_report(&report, json, true, now.timestamp_millis())
        })
        .collect();
    for chunk in rows.chunks(1000) {
        let refs: Vec<&_> = chunk.iter().collect();
        store.insert_reports(&refs).await?;
    }
    store.sqlite_bulk_load(false, 0).await?;
    store.close().await;
    Ok(written)
}
