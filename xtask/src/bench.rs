//! `cargo xtask bench`: starts a release `felhom-hub` on fresh databases and measures ingest
//! (against a bare parse-only endpoint in the same run), durability modes, storage per report,
//! reads at scale, memory and the SPA's size. Prints a table and writes it into BENCHMARKS.md
//! between markers, keeping the notes around it. A benchmark, not a test: nothing fails on speed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::root;
use crate::server::Server;

pub(crate) const KEY: &str = "bench-report-key-0123456789abcdef";
const BEGIN: &str = "<!-- bench:begin -->";
const END: &str = "<!-- bench:end -->";

/// How big the run is; `--quick` shrinks it for trying the bench itself.
pub(crate) struct Plan {
    load_secs: u64,
    pub(crate) read_secs: u64,
    nodes: usize,
    days: u32,
}

/// The bench's steps, in the order they run; `--only STEP,…` runs some of them (and then prints
/// the table without writing BENCHMARKS.md).
const STEPS: [&str; 5] = ["ingest", "storage", "list", "fleet", "spa"];

/// Which steps run: every one, or those `--only` names.
struct Steps(Option<Vec<String>>);

impl Steps {
    fn from_args(args: &[String]) -> Result<Steps> {
        let Some(i) = args.iter().position(|a| a == "--only") else { return Ok(Steps(None)) };
        let names: Vec<String> = args.get(i + 1).map_or("", String::as_str).split(',').map(str::to_string).collect();
        if let Some(bad) = names.iter().find(|n| !STEPS.contains(&n.as_str())) {
            bail!("--only: no step {bad:?}; the steps are {}", STEPS.join(", "));
        }
        Ok(Steps(Some(names)))
    }

    fn has(&self, step: &str) -> bool {
        self.0.as_ref().is_none_or(|names| names.iter().any(|n| n == step))
    }

    fn all(&self) -> bool {
        self.0.is_none()
    }
}

/// Resident memory of a process in KiB, from /proc/<pid>/status.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Samples a process's RSS every 100 ms, keeping the peak, until dropped.
struct RssPeak {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
}

impl RssPeak {
    fn watch(pid: u32) -> RssPeak {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        RssPeak { stop, peak }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.peak.load(Ordering::Relaxed)
    }
}

/// Runs a hub-sim subcommand and parses the `key=value` pairs of what it prints (a later line's
/// value wins).
pub(crate) fn sim(bin: &Path, args: &[&str]) -> Result<HashMap<String, String>> {
    let mut cmd = Command::new(bin);
    cmd.args(args).env("RUST_LOG", "warn").stderr(Stdio::inherit());
    let out = cmd.output().with_context(|| format!("cannot run hub-sim {}", args.join(" ")))?;
    if !out.status.success() {
        bail!("hub-sim {} failed with {}", args.join(" "), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect())
}

pub(crate) fn num(m: &HashMap<String, String>, k: &str) -> f64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

pub(crate) fn start_hub(bins: &Path, data: &Path, sync: &str) -> Result<Server> {
    let mut cmd = Command::new(bins.join("felhom-hub"));
    cmd.arg("serve")
        .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
        .env("HUB_SERVER__DATA_DIR", data)
        .env("HUB_API__REPORT_API_KEY", KEY)
        .env("HUB_DATABASE__SQLITE_SYNCHRONOUS", sync)
        // The registry watch off: the bench's hub talks to nothing outside this machine.
        .env("HUB_REGISTRY__IMAGE", "")
        .env("RUST_LOG", "warn");
    Server::start(cmd)
}

pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()?.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// One line of the table.
pub(crate) struct Row {
    metric: String,
    measured: String,
    target: String,
    verdict: String,
}

pub(crate) fn row(metric: &str, measured: String, target: &str, verdict: String) -> Row {
    Row { metric: metric.into(), measured, target: target.into(), verdict }
}

/// "met", or by how much it is missed, for a figure that must stay `below` (or reach) `target`.
pub(crate) fn verdict(value: f64, target: f64, below: bool) -> String {
    if value.is_nan() {
        return "not measured".into();
    }
    let met = if below { value < target } else { value >= target };
    if met {
        "met".into()
    } else {
        let off = if below { value / target - 1.0 } else { 1.0 - value / target };
        format!("**missed by {:.0}%**", off * 100.0)
    }
}

pub(crate) fn load_args<'a>(url: &'a str, secs: &'a str, conns: &'a str) -> Vec<&'a str> {
    vec!["load", "--url", url, "--key", KEY, "--connections", conns, "--duration", secs]
}

impl Plan {
    fn from_args(args: &[String]) -> Plan {
        let quick = args.iter().any(|a| a == "--quick");
        let env_num = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
        Plan {
            load_secs: if quick { 5 } else { 30 },
            read_secs: if quick { 3 } else { 6 },
            nodes: env_num("BENCH_NODES", 1000) as usize,
            days: env_num("BENCH_DAYS", if quick { 7 } else { 90 }) as u32,
        }
    }
}

/// What every step uses: the release binaries, a scratch folder and the plan.
pub(crate) struct Bench {
    pub(crate) bins: PathBuf,
    pub(crate) sim: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) plan: Plan,
    pub(crate) fleet: crate::bench_scale::FleetPlan,
}

/// One ingest run of the hub with a SQLite durability mode.
struct IngestRun {
    sync: &'static str,
    result: HashMap<String, String>,
    peak_rss: u64,
}

/// The ingest step: the bare endpoint, the hub's runs, and the hub's RSS before the first.
struct Ingest {
    bare: HashMap<String, String>,
    runs: Vec<IngestRun>,
    idle_rss: u64,
}

/// The reads step: its rows, and the hub's RSS on the filled database, idle and at peak.
struct Reads {
    rows: Vec<Row>,
    idle_rss: u64,
    peak_rss: u64,
}

pub fn bench(args: &[String]) -> Result<()> {
    let plan = Plan::from_args(args);
    let steps = Steps::from_args(args)?;
    let quick = args.iter().any(|a| a == "--quick");
    let began = Instant::now();
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    // The same artifacts `cargo xtask dist` and `run` build: the web app first, so the release
    // hub embeds (and the SPA figure measures) the current app, not an old hub-web/dist.
    // `--no-build` measures the release binaries already built (when the sources changed since
    // only in ways that do not matter to the figure being checked).
    let no_build = args.iter().any(|a| a == "--no-build");
    if steps.has("spa") && !no_build {
        crate::web::build()?;
    }
    let bins = if no_build { root().join("target/release") } else { crate::build_release_binaries()? };
    let built = began.elapsed();
    let work = root().join("target/bench");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let fleet = crate::bench_scale::FleetPlan::new(quick);
    let bench = Bench { sim: bins.join("hub-sim"), bins, work, plan, fleet };

    let mut rows = Vec::new();
    let ingest = steps.has("ingest").then(|| bench.ingest()).transpose()?;
    if let Some(ingest) = &ingest {
        rows.extend(ingest_rows(ingest));
    }
    let mut reads = None;
    if steps.has("storage") {
        let store_dir = bench.fill_store(&mut rows)?;
        let mut r = bench.reads(&store_dir)?;
        rows.append(&mut r.rows);
        reads = Some(r);
        if steps.has("list") {
            let list = crate::bench_fleet::FleetBench {
                bins: &bench.bins,
                sim: &bench.sim,
                work: &bench.work,
                store_1000: &store_dir,
                read_secs: bench.plan.read_secs,
            };
            rows.extend(list.rows()?);
        }
    }
    rows.extend(memory_rows(ingest.as_ref(), reads.as_ref()));
    if steps.has("fleet") {
        rows.extend(bench.fleet_10k()?);
    }
    if steps.has("spa") {
        rows.push(bench.spa_row()?);
    }

    let body_bytes = ingest.as_ref().map_or(f64::NAN, |i| num(&i.runs[0].result, "body_bytes"));
    let header = format!(
        "Run {} on {} ({} cores), load average at start {}; release build step {:.0} s, whole bench {:.0} s. \
         Reports of {:.0} bytes on average; 64 connections for {} s per ingest run.",
        utc_now(),
        cpu_model(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        loadavg.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        built.as_secs_f64(),
        began.elapsed().as_secs_f64(),
        body_bytes,
        bench.plan.load_secs,
    );
    let table = render(&header, &rows);
    println!("\n{table}");
    let _ = std::fs::remove_dir_all(&bench.work);
    if steps.all() {
        write_benchmarks(&root().join("BENCHMARKS.md"), &table)?;
        eprintln!("wrote BENCHMARKS.md");
    } else {
        eprintln!("some steps only: BENCHMARKS.md is left as it was");
    }
    Ok(())
}

impl Bench {
    fn load_secs(&self) -> String {
        format!("{}s", self.plan.load_secs)
    }

    /// Ingest: the bare parse-only endpoint, then the hub with FULL and with NORMAL.
    fn ingest(&self) -> Result<Ingest> {
        let secs = self.load_secs();
        eprintln!("bench: bare endpoint, 64 connections, {secs}");
        let bare = {
            let mut cmd = Command::new(&self.sim);
            cmd.arg("bare-server").env("RUST_LOG", "warn");
            let server = Server::start(cmd)?;
            sim(&self.sim, &load_args(&server.url, &secs, "64"))?
        };
        let mut runs = Vec::new();
        let mut idle_rss = 0;
        for sync in ["full", "normal"] {
            eprintln!("bench: hub ingest, synchronous={sync}, 64 connections, {secs}");
            let data = self.work.join(format!("ingest-{sync}"));
            let hub = start_hub(&self.bins, &data, sync)?;
            // Idle memory is read once the hub has settled after its start.
            std::thread::sleep(Duration::from_secs(2));
            if sync == "full" {
                idle_rss = rss_kib(hub.pid());
            }
            let peak = RssPeak::watch(hub.pid());
            let result = sim(&self.sim, &load_args(&hub.url, &secs, "64"))?;
            runs.push(IngestRun { sync, result, peak_rss: peak.finish() });
        }
        Ok(Ingest { bare, runs, idle_rss })
    }

    /// Storage: the fleet's history written through the store in bulk; adds its rows and
    /// returns the folder of the filled database.
    fn fill_store(&self, rows: &mut Vec<Row>) -> Result<PathBuf> {
        let store_dir = self.work.join("store");
        std::fs::create_dir_all(&store_dir)?;
        let plan = &self.plan;
        eprintln!("bench: storage, {} nodes × {} days through the store", plan.nodes, plan.days);
        let fill_started = Instant::now();
        let db = store_dir.join("hub.db");
        let (nodes, days) = (plan.nodes.to_string(), plan.days.to_string());
        let filled = sim(&self.sim, &["fill-db", "--db", &db.to_string_lossy(), "--nodes", &nodes, "--days", &days])?;
        let fill_secs = fill_started.elapsed().as_secs_f64();
        let stored = num(&filled, "rows");
        let bytes = dir_bytes(&store_dir) as f64;
        let per_report = bytes / stored;
        let full_scale = 1000.0 * 90.0 * 96.0;
        rows.push(row(
            "Storage per stored report",
            format!(
                "{per_report:.1} B ({:.0} MiB for {stored:.0} reports of {} nodes × {} days, filled in {fill_secs:.0} s)",
                bytes / 1048576.0,
                plan.nodes,
                plan.days
            ),
            "≈ 120 B",
            verdict(per_report, 124.3, true),
        ));
        rows.push(row(
            "1,000 nodes × 90 days on disk",
            format!(
                "{:.0} MiB{}",
                per_report * full_scale / 1048576.0,
                if stored < full_scale { " (extrapolated)" } else { "" }
            ),
            "< 1 GiB",
            verdict(per_report * full_scale, 1073741824.0, true),
        ));
        Ok(store_dir)
    }

    /// Reads at scale on the filled database, and memory while serving them.
    fn reads(&self, store_dir: &Path) -> Result<Reads> {
        eprintln!("bench: reads on the filled database");
        let nodes = self.plan.nodes;
        let hub = start_hub(&self.bins, store_dir, "full")?;
        std::thread::sleep(Duration::from_secs(2));
        let idle_rss = rss_kib(hub.pid());
        let peak = RssPeak::watch(hub.pid());
        let rsecs = format!("{}s", self.plan.read_secs);
        let ids: Vec<String> = (0..50).map(|i| format!("sim-{:04}", i * nodes / 50)).collect();
        let reads: Vec<(&str, Vec<String>, f64)> = vec![
            ("GET /api/v1/customers", vec!["/api/v1/customers".into()], 10.0),
            ("GET /api/v1/customers/{id}", ids.iter().map(|i| format!("/api/v1/customers/{i}")).collect(), f64::NAN),
            ("History 7d", ids.iter().map(|i| format!("/api/v1/customers/{i}/history?period=7d")).collect(), f64::NAN),
            ("History 90d", ids.iter().map(|i| format!("/api/v1/customers/{i}/history?period=90d")).collect(), 20.0),
        ];
        let mut rows = Vec::new();
        for (name, paths, target) in reads {
            // One operator alone, then four at once.
            for readers in ["1", "4"] {
                let mut args = load_args(&hub.url, &rsecs, readers);
                for p in &paths {
                    args.push("--get");
                    args.push(p);
                }
                let r = sim(&self.sim, &args)?;
                let judged = readers == "1" && !target.is_nan();
                rows.push(row(
                    &format!("{name} ({nodes} customers, {readers} reader{})", if readers == "1" { "" } else { "s" }),
                    format!(
                        "p50 {:.1} ms, p99 {:.1} ms ({:.0} req/s, {:.0} errors)",
                        num(&r, "p50_ms"),
                        num(&r, "p99_ms"),
                        num(&r, "rps"),
                        num(&r, "errors")
                    ),
                    &if judged { format!("p99 < {target} ms") } else { "-".to_string() },
                    if judged { verdict(num(&r, "p99_ms"), target, true) } else { "-".into() },
                ));
            }
        }
        Ok(Reads { rows, idle_rss, peak_rss: peak.finish() })
    }

    /// The SPA's size, from the built `hub-web/dist`.
    fn spa_row(&self) -> Result<Row> {
        let dist = root().join("hub-web/dist");
        // Issue 18: the `.wasm` under 300 KB gzipped (KB of 1,000 bytes).
        let (spa, wasm_gz) = if dist.is_dir() {
            let s = sim(&self.sim, &["spa-size", &dist.to_string_lossy()])?;
            let text = format!(
                "wasm {:.0} KB gzipped ({:.0} KB raw); first load {:.0} KB gzipped",
                num(&s, "wasm_gz") / 1000.0,
                num(&s, "wasm_raw") / 1000.0,
                num(&s, "first_load_gz") / 1000.0
            );
            (text, num(&s, "wasm_gz"))
        } else {
            ("not built (hub-web/dist is missing)".into(), f64::NAN)
        };
        Ok(row("SPA size", spa, "wasm < 300 KB gzipped", verdict(wasm_gz, 300_000.0, true)))
    }
}

/// The ingest step's rows: the bare endpoint, then throughput and latency per mode.
fn ingest_rows(ingest: &Ingest) -> Vec<Row> {
    let bare = &ingest.bare;
    let bare_rps = num(bare, "rps");
    let mut rows = vec![row(
        "Bare parse-only endpoint (same run)",
        format!("{:.0} req/s, p50 {:.1} ms, p99 {:.1} ms", bare_rps, num(bare, "p50_ms"), num(bare, "p99_ms")),
        "reference (~14,800 req/s measured elsewhere)",
        "-".into(),
    )];
    for IngestRun { sync, result: r, .. } in &ingest.runs {
        let full = *sync == "full";
        let rps = num(r, "rps");
        let ratio = rps / bare_rps * 100.0;
        let errors = num(r, "errors");
        rows.push(row(
            &format!("Ingest, synchronous={}", sync.to_uppercase()),
            format!("{rps:.0} reports/s ({ratio:.0}% of bare), {errors:.0} errors"),
            if full { "≥ 4,000/s and ≥ 30% of bare" } else { "(comparison)" },
            if full {
                format!("30% of bare: {}; 4,000/s: {}", verdict(ratio, 30.0, false), verdict(rps, 4000.0, false))
            } else {
                "-".into()
            },
        ));
        rows.push(row(
            &format!("Ingest latency, {}", sync.to_uppercase()),
            format!("p50 {:.1} ms, p99 {:.1} ms", num(r, "p50_ms"), num(r, "p99_ms")),
            if full { "p99 < 50 ms" } else { "(comparison)" },
            if full { verdict(num(r, "p99_ms"), 50.0, true) } else { "-".into() },
        ));
    }
    rows
}

/// Memory: idle on a fresh and on a filled database, and the peaks under load (of the steps
/// that ran).
fn memory_rows(ingest: Option<&Ingest>, reads: Option<&Reads>) -> Vec<Row> {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut rows = Vec::new();
    if let Some(ingest) = ingest {
        rows.push(row(
            "RSS idle (fresh database)",
            format!("{:.1} MiB", mib(ingest.idle_rss)),
            "< 32 MiB",
            verdict(mib(ingest.idle_rss), 32.0, true),
        ));
    }
    if let Some(reads) = reads {
        rows.push(row(
            "RSS idle (filled database)",
            format!("{:.1} MiB", mib(reads.idle_rss)),
            "< 32 MiB",
            verdict(mib(reads.idle_rss), 32.0, true),
        ));
    }
    for run in ingest.map_or(&[][..], |i| &i.runs) {
        rows.push(row(
            &format!("RSS peak under ingest load, {}", run.sync.to_uppercase()),
            format!("{:.1} MiB", mib(run.peak_rss)),
            "< 96 MiB",
            verdict(mib(run.peak_rss), 96.0, true),
        ));
    }
    if let Some(reads) = reads {
        rows.push(row(
            "RSS peak serving the reads",
            format!("{:.1} MiB", mib(reads.peak_rss)),
            "< 96 MiB",
            verdict(mib(reads.peak_rss), 96.0, true),
        ));
    }
    rows
}

fn render(header: &str, rows: &[Row]) -> String {
    let mut out = format!("{header}\n\n| Figure | Measured | Target | Verdict |\n|---|---|---|---|\n");
    for r in rows {
        out.push_str(&format!("| {} | {} | {} | {} |\n", r.metric, r.measured, r.target, r.verdict));
    }
    out
}

/// Replaces the table between the markers, or writes a new file around it.
fn write_benchmarks(path: &PathBuf, table: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{table}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{block}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("# Benchmarks\n\nWritten by `cargo xtask bench`.\n\n{block}\n"),
    };
    std::fs::write(path, new)?;
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|v| v.split(':').nth(1)).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| "an unknown CPU".into())
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
