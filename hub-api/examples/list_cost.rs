//! What the fleet list costs, part by part, on a filled database (`hub-sim fill-db`):
//! `cargo run --release -p hub-api --example list_cost -- target/bench/store/hub.db`.
//! Prints the median of 30 runs of each part: the five queries, making the summaries, the full
//! summaries as JSON (the answer before paging), the compact rows and their JSON (the answer now).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use hub_api::config::SqliteSync;
use hub_api::fleet::{mark_outdated, summarize};
use hub_api::store::Store;

const RUNS: usize = 30;
const STALE_MS: i64 = 30 * 60 * 1000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let db = std::env::args().nth(1).unwrap_or_else(|| "target/bench/store/hub.db".into());
    let store = Store::connect_url(&format!("sqlite://{db}"), 4, SqliteSync::Full).await?;
    let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut sizes = (0, 0, 0);
    for _ in 0..RUNS {
        let now = chrono::Utc::now().timestamp_millis();
        let t = Instant::now();
        let (configs, latest, events, newest, drift) = tokio::try_join!(
            store.configs(),
            store.latest_reports(),
            store.severity_counts(now - 24 * 3600 * 1000),
            store.registry_latest(),
            store.drift_checks(),
        )?;
        times
            .entry("1 queries (configs, latest reports, 24 h event counts, registry, drift)")
            .or_default()
            .push(t.elapsed());

        let t = Instant::now();
        let drift = hub_api::drift::marks(&drift)?;
        let events: HashMap<&str, _> = events.iter().map(|c| (c.customer_id.as_str(), c)).collect();
        let mut by_id: BTreeMap<&str, (Option<_>, Option<_>)> = BTreeMap::new();
        for c in &configs {
            by_id.entry(c.customer_id.as_str()).or_default().0 = Some(c);
        }
        for l in &latest {
            by_id.entry(l.customer_id.as_str()).or_default().1 = Some(l);
        }
        let mut summaries = Vec::new();
        for (id, (c, l)) in by_id {
            let mut s = summarize(id, c, l, now, STALE_MS)?;
            mark_outdated(&mut s, newest.as_ref());
            s.drift = drift.get(id).filter(|_| s.managed).cloned();
            if let Some(n) = events.get(id) {
                s.errors_24h = n.errors as u32;
                s.warnings_24h = n.warnings as u32;
            }
            summaries.push(s);
        }
        times.entry("2 summaries").or_default().push(t.elapsed());

        let t = Instant::now();
        let old = serde_json::to_vec(&summaries)?;
        times.entry("3 JSON of the full summaries (before)").or_default().push(t.elapsed());

        let t = Instant::now();
        let rows: Vec<_> = summaries.into_iter().map(hub_api::fleet_list::row).collect();
        times.entry("4 compact rows").or_default().push(t.elapsed());

        let t = Instant::now();
        let new = serde_json::to_vec(&rows)?;
        times.entry("5 JSON of the compact rows (now)").or_default().push(t.elapsed());
        sizes = (rows.len(), old.len(), new.len());
    }
    println!("{} customers; JSON {} KB before, {} KB now", sizes.0, sizes.1 / 1000, sizes.2 / 1000);
    for (part, mut t) in times {
        t.sort();
        println!("{part}: median {:.2} ms, slowest {:.2} ms", ms(t[RUNS / 2]), ms(t[RUNS - 1]));
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
