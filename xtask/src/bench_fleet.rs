//! The bench's fleet-view step: the list at 1,000 customers (its size, one and four readers),
//! a page of it at 10,000 customers, and the time until the dashboard shows the fleet in
//! Chromium at both sizes (hub-web-e2e's ignored `time_until_the_dashboard_shows_the_fleet`
//! against the bench's release hub, which has no password on loopback).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::bench::{load_args, num, row, sim, start_hub, verdict, Row, KEY};

/// The dashboard's first page: what its default view asks for.
const DASHBOARD_PAGE: &str = "/api/v1/customers?status=OK,WARN,DOWN,DISABLED,PENDING&sort=status&limit=100";

/// What the step needs from the bench: the release binaries, hub-sim, a scratch folder, the
/// filled 1,000-node database and how long each read runs.
pub struct FleetBench<'a> {
    pub bins: &'a Path,
    pub sim: &'a Path,
    pub work: &'a Path,
    pub store_1000: &'a Path,
    pub read_secs: u64,
}

impl FleetBench<'_> {
    pub fn rows(&self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        eprintln!("bench: fleet list at 1,000 customers");
        let hub = start_hub(self.bins, self.store_1000, "full")?;
        std::thread::sleep(Duration::from_secs(2));
        let kb = answer_bytes(&hub.url, "/api/v1/customers")? as f64 / 1000.0;
        let customers = self.count(&hub.url)?;
        for readers in ["1", "4"] {
            let r = self.load(&hub.url, &["/api/v1/customers"], readers)?;
            let target = if readers == "1" { 10.0 } else { 25.0 };
            rows.push(row(
                &format!(
                    "Fleet list, every row ({customers} customers, {readers} reader{}, {kb:.0} KB)",
                    plural(readers)
                ),
                latency(&r),
                &format!("p99 < {target} ms, < 250 KB"),
                both(verdict(num(&r, "p99_ms"), target, true), verdict(kb, 250.0, true)),
            ));
        }
        rows.push(self.paint_row(&hub.url, customers, Some(1000.0))?);
        drop(hub);

        let nodes = 10_000;
        eprintln!("bench: fleet list at {nodes} customers");
        let dir = self.work.join("fleet-10k");
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("hub.db");
        sim(self.sim, &["fill-db", "--db", &db.to_string_lossy(), "--nodes", &nodes.to_string(), "--days", "1"])?;
        let hub = start_hub(self.bins, &dir, "full")?;
        std::thread::sleep(Duration::from_secs(2));
        let customers = self.count(&hub.url)?;
        let pages = [
            DASHBOARD_PAGE,
            "/api/v1/customers?sort=-cpu&limit=100",
            "/api/v1/customers?q=sim-12&status=OK,WARN,DOWN,DISABLED,PENDING&sort=status&limit=100",
            "/api/v1/customers?status=DOWN&sort=customer&limit=100",
        ];
        let kb = answer_bytes(&hub.url, DASHBOARD_PAGE)? as f64 / 1000.0;
        for readers in ["1", "4"] {
            let r = self.load(&hub.url, &pages, readers)?;
            rows.push(row(
                &format!(
                    "Fleet list, a page of 100 ({customers} customers, {readers} reader{}, {kb:.0} KB)",
                    plural(readers)
                ),
                latency(&r),
                "p99 < 25 ms",
                verdict(num(&r, "p99_ms"), 25.0, true),
            ));
        }
        rows.push(self.paint_row(&hub.url, customers, None)?);
        Ok(rows)
    }

    fn load(&self, url: &str, paths: &[&str], readers: &str) -> Result<std::collections::HashMap<String, String>> {
        let secs = format!("{}s", self.read_secs);
        let mut args = load_args(url, &secs, readers);
        for p in paths {
            args.extend(["--get", p]);
        }
        sim(self.sim, &args)
    }

    /// How many customers the hub lists.
    fn count(&self, url: &str) -> Result<u64> {
        let body = get(url, "/api/v1/customers?limit=1")?;
        let list: serde_json::Value = serde_json::from_slice(&body).context("the list is JSON")?;
        list["matched"].as_u64().context("the list has `matched`")
    }

    /// Time until the dashboard shows the fleet, in Chromium.
    fn paint_row(&self, url: &str, customers: u64, target: Option<f64>) -> Result<Row> {
        eprintln!("bench: dashboard in Chromium, {customers} customers");
        let out = crate::cargo()
            .args(["test", "-q", "-p", "hub-web-e2e", "--test", "browser", "--", "--ignored", "--exact"])
            .args(["fleet_pages::time_until_the_dashboard_shows_the_fleet", "--nocapture"])
            .env("FLEET_PAINT_URL", url)
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run the browser measurement")?;
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("fleet_paint_ms="));
        let Some(line) = line.filter(|_| out.status.success()) else {
            bail!("the browser measurement failed:\n{text}");
        };
        let m: std::collections::HashMap<String, String> =
            line.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect();
        let ms = num(&m, "fleet_paint_ms");
        Ok(row(
            &format!("Dashboard shows the fleet in Chromium ({customers} customers)"),
            format!(
                "median {ms:.0} ms, slowest {:.0} ms of 5 loads (navigation start to the table painted)",
                num(&m, "fleet_paint_max_ms")
            ),
            &target.map_or("(reported)".into(), |t| format!("< {t:.0} ms")),
            target.map_or("-".into(), |t| verdict(ms, t, true)),
        ))
    }
}

fn plural(readers: &str) -> &'static str {
    if readers == "1" {
        ""
    } else {
        "s"
    }
}

fn latency(r: &std::collections::HashMap<String, String>) -> String {
    format!(
        "p50 {:.1} ms, p99 {:.1} ms ({:.0} req/s, {:.0} errors)",
        num(r, "p50_ms"),
        num(r, "p99_ms"),
        num(r, "rps"),
        num(r, "errors")
    )
}

fn both(a: String, b: String) -> String {
    if a == b {
        a
    } else {
        format!("{a} / {b}")
    }
}

/// An answer's body, uncompressed, with the global key.
fn get(url: &str, path: &str) -> Result<Vec<u8>> {
    let out = Command::new("curl")
        .args(["-sf", "-H", &format!("Authorization: Bearer {KEY}"), &format!("{url}{path}")])
        .output()
        .context("cannot run curl")?;
    if !out.status.success() {
        bail!("GET {path} failed ({})", out.status);
    }
    Ok(out.stdout)
}

fn answer_bytes(url: &str, path: &str) -> Result<usize> {
    Ok(get(url, path)?.len())
}
