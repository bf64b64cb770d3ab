//! The bench's 10,000-node step: the fleet's 90 days of history filled through the store, one
//! node's history read from it, then `hub-sim run` with the whole fleet reporting (and posting its
//! events) at accelerated time against the release hub on that database, while the hub's CPU,
//! memory and staleness-job runs are recorded.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::bench::{dir_bytes, num, row, rss_kib, sim, start_hub, verdict, Bench, Row, KEY};

/// The size of the step; `--quick` keeps the fleet but shortens its history and run.
pub struct FleetPlan {
    pub nodes: usize,
    pub days: u32,
    /// Real time the fleet runs live.
    pub run_secs: u64,
    /// How much faster than real time the fleet lives.
    pub speed: u32,
}

impl FleetPlan {
    pub fn new(quick: bool) -> FleetPlan {
        let env_num = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
        FleetPlan {
            nodes: env_num("BENCH_FLEET_NODES", 10_000) as usize,
            days: env_num("BENCH_FLEET_DAYS", if quick { 1 } else { 90 }) as u32,
            run_secs: env_num("BENCH_FLEET_SECS", if quick { 20 } else { 600 }),
            speed: env_num("BENCH_FLEET_SPEED", 60) as u32,
        }
    }
}

/// CPU time a process has used (user + system), from /proc/<pid>/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start with the state, field 3;
    // utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}

/// A plain HTTP/1.1 GET on the loopback hub; the body of a 200.
fn http_get(base: &str, path: &str) -> Result<String> {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).with_context(|| format!("cannot reach {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").context("an HTTP answer without a body")?;
    anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "GET {path}: {}", head.lines().next().unwrap_or_default());
    Ok(body.to_string())
}

/// What is sampled while the fleet runs: the hub's RSS every 100 ms, and the staleness job's
/// finished runs (by due time, their duration in ms) from `GET /api/v1/jobs` every 2 s.
struct Watch {
    stop: Arc<AtomicBool>,
    rss: Arc<Mutex<Vec<u64>>>,
    staleness: Arc<Mutex<BTreeMap<String, f64>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Watch {
    fn start(pid: u32, url: &str) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let rss = Arc::new(Mutex::new(Vec::new()));
        let staleness = Arc::new(Mutex::new(BTreeMap::new()));
        let sampler = {
            let (stop, rss) = (stop.clone(), rss.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    rss.lock().expect("rss").push(rss_kib(pid));
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let jobs = {
            let (stop, staleness, url) = (stop.clone(), staleness.clone(), url.to_string());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match staleness_run(&url) {
                        Ok(Some((due, ms))) => {
                            staleness.lock().expect("staleness").insert(due, ms);
                        }
                        Ok(None) => {}
                        Err(e) => eprintln!("bench: GET /api/v1/jobs: {e:#}"),
                    }
                    std::thread::sleep(Duration::from_secs(2));
                }
            })
        };
        Watch { stop, rss, staleness, threads: vec![sampler, jobs] }
    }

    /// Stops sampling; the RSS samples (KiB) and the staleness runs' durations (ms).
    fn finish(self) -> (Vec<u64>, Vec<f64>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        let rss = std::mem::take(&mut *self.rss.lock().expect("rss"));
        let runs = self.staleness.lock().expect("staleness").values().copied().collect();
        (rss, runs)
    }
}

/// The staleness job's last finished run: its due time and duration.
fn staleness_run(url: &str) -> Result<Option<(String, f64)>> {
    let jobs: serde_json::Value = serde_json::from_str(&http_get(url, "/api/v1/jobs")?)?;
    let run = jobs["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| j["name"] == "staleness")
        .map(|j| &j["last_run"])
        .filter(|r| r["ok"] == true);
    Ok(run.and_then(|r| Some((r["due_at"].as_str()?.to_string(), r["duration_ms"].as_f64()?))))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

impl Bench {
    /// The 10,000-node step's rows.
    pub fn fleet_10k(&self) -> Result<Vec<Row>> {
        let plan = &self.fleet;
        let dir = self.work.join("fleet");
        std::fs::create_dir_all(&dir)?;
        let nodes = plan.nodes;
        eprintln!("bench: fleet of {nodes} nodes, {} days of history through the store", plan.days);
        let began = Instant::now();
        let db = dir.join("hub.db");
        let (n, days) = (nodes.to_string(), plan.days.to_string());
        let filled = sim(&self.sim, &["fill-db", "--db", &db.to_string_lossy(), "--nodes", &n, "--days", &days])?;
        let fill_secs = began.elapsed().as_secs_f64();
        let stored = num(&filled, "rows");
        let bytes = dir_bytes(&dir) as f64;
        let full_scale = nodes as f64 * 90.0 * 96.0;
        let on_disk = bytes / stored * full_scale;
        let mut rows = vec![row(
            &format!("{nodes} nodes × 90 days on disk"),
            format!(
                "{:.2} GiB{} ({stored:.0} reports of {} days filled in {fill_secs:.0} s, {:.0} reports/s)",
                on_disk / 1073741824.0,
                if stored < full_scale { " (extrapolated)" } else { "" },
                plan.days,
                stored / fill_secs
            ),
            "< 4 GiB",
            verdict(on_disk, 4.0 * 1073741824.0, true),
        )];

        let hub = start_hub(&self.bins, &dir, "full")?;
        std::thread::sleep(Duration::from_secs(2));
        let idle_rss = rss_kib(hub.pid());
        let rsecs = format!("{}s", self.plan.read_secs);
        let ids: Vec<String> = (0..50).map(|i| format!("sim-{:04}", i * nodes / 50)).collect();
        for readers in ["1", "4"] {
            let mut args = crate::bench::load_args(&hub.url, &rsecs, readers);
            let paths: Vec<String> = ids.iter().map(|i| format!("/api/v1/customers/{i}/history?period=90d")).collect();
            for p in &paths {
                args.push("--get");
                args.push(p);
            }
            let r = sim(&self.sim, &args)?;
            let judged = readers == "1";
            rows.push(row(
                &format!("History 90d ({nodes} customers, {readers} reader{})", if judged { "" } else { "s" }),
                format!(
                    "p50 {:.1} ms, p99 {:.1} ms ({:.0} req/s, {:.0} errors)",
                    num(&r, "p50_ms"),
                    num(&r, "p99_ms"),
                    num(&r, "rps"),
                    num(&r, "errors")
                ),
                if judged { "p99 < 20 ms" } else { "-" },
                if judged { verdict(num(&r, "p99_ms"), 20.0, true) } else { "-".into() },
            ));
        }

        eprintln!("bench: hub-sim run, {nodes} nodes every 15 min at ×{} for {} s", plan.speed, plan.run_secs);
        let cpu_before = cpu_time(hub.pid());
        let run_began = Instant::now();
        let watch = Watch::start(hub.pid(), &hub.url);
        let (speed, secs) = (plan.speed.to_string(), format!("{}s", plan.run_secs));
        let run = sim(
            &self.sim,
            &["run", "--url", &hub.url, "--key", KEY, "--nodes", &n, "--speed", &speed, "--duration", &secs],
        );
        let wall = run_began.elapsed().as_secs_f64();
        let cpu = (cpu_time(hub.pid()) - cpu_before).as_secs_f64();
        let (rss, mut staleness) = watch.finish();
        let run = run?;
        drop(hub);

        let mib = |kib: u64| kib as f64 / 1024.0;
        let peak = rss.iter().copied().max().unwrap_or(0);
        let mean = rss.iter().sum::<u64>() as f64 / rss.len().max(1) as f64;
        let refused = num(&run, "refused");
        let simulated_h = plan.run_secs as f64 * f64::from(plan.speed) / 3600.0;
        rows.push(row(
            &format!("hub-sim run, {nodes} nodes every 15 min"),
            format!(
                "{:.0} reports and {:.0} other posts (events, infra backups) in {wall:.0} s at ×{} ({simulated_h:.1} h simulated); {refused:.0} reports refused, {:.0} requests refused in all",
                num(&run, "reports"),
                num(&run, "posts"),
                plan.speed,
                num(&run, "failures"),
            ),
            "no refused report",
            if refused == 0.0 { "met".into() } else { format!("**missed: {refused:.0} refused**") },
        ));
        rows.push(row(
            &format!("Ingest latency, {nodes}-node fleet (32 in flight)"),
            format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.0} ms",
                num(&run, "p50_ms"),
                num(&run, "p99_ms"),
                num(&run, "max_ms")
            ),
            "p99 < 50 ms",
            verdict(num(&run, "p99_ms"), 50.0, true),
        ));
        rows.push(row(
            &format!("Hub CPU, {nodes}-node fleet"),
            format!("{:.0}% of one core on average ({cpu:.0} s of CPU in {wall:.0} s)", cpu / wall * 100.0),
            "(reported)",
            "-".into(),
        ));
        rows.push(row(
            &format!("RSS serving the {nodes}-node fleet"),
            format!(
                "peak {:.1} MiB, mean {:.1} MiB (idle before the run {:.1} MiB)",
                mib(peak),
                mean / 1024.0,
                mib(idle_rss)
            ),
            "< 64 MiB",
            verdict(mib(peak), 64.0, true),
        ));
        staleness.sort_by(f64::total_cmp);
        rows.push(row(
            &format!("Staleness job over {nodes} nodes"),
            format!(
                "{} runs: median {:.0} ms, max {:.0} ms",
                staleness.len(),
                percentile(&staleness, 0.5),
                staleness.last().copied().unwrap_or(f64::NAN)
            ),
            "< 100 ms per run",
            verdict(staleness.last().copied().unwrap_or(f64::NAN), 100.0, true),
        ));
        Ok(rows)
    }
}
