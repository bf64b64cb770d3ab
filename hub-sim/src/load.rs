//! Load generation for `cargo xtask bench`: many concurrent controllers posting realistic reports
//! (or readers fetching paths) for a fixed time, and the bare endpoint that only parses a report,
//! which the hub's figure is compared with. Results are one `key=value` line on stdout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use chrono::Utc;
use hub_shared::report::{ReportAccepted, ReportIn};

use crate::node;

pub struct LoadOptions {
    pub url: String,
    pub key: String,
    pub connections: usize,
    pub duration: Duration,
    /// Post reports of this many distinct nodes; with `paths` non-empty, GET those instead.
    pub nodes: usize,
    pub paths: Vec<String>,
    pub seed: u64,
}

/// What a load run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadResult {
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub body_bytes: usize,
}

impl LoadResult {
    pub fn line(&self) -> String {
        format!(
            "ok={} errors={} seconds={:.2} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} body_bytes={}",
            self.ok,
            self.errors,
            self.seconds,
            self.ok as f64 / self.seconds,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.body_bytes
        )
    }
}

/// The report bodies of `nodes` simulated nodes, without `reported_at` (the hub stamps them on
/// arrival, so repeated posts add history rather than replace one row).
pub fn report_bodies(seed: u64, nodes: usize) -> Vec<Bytes> {
    let now = Utc::now();
    node::fleet(seed, nodes, "http://127.0.0.1:9/sim", now, now)
        .into_iter()
        .map(|mut n| {
            n.advance(now.timestamp_millis() + 60_000);
            let mut r = n.report(now);
            r.reported_at = None;
            Bytes::from(serde_json::to_vec(&r).expect("a report serializes"))
        })
        .collect()
}

pub async fn run(opts: LoadOptions) -> Result<LoadResult> {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(opts.connections).timeout(Duration::from_secs(30)).build()?;
    let bodies = Arc::new(if opts.paths.is_empty() { report_bodies(opts.seed, opts.nodes.max(1)) } else { Vec::new() });
    let body_bytes = bodies.iter().map(Bytes::len).sum::<usize>() / bodies.len().max(1);
    let paths = Arc::new(opts.paths.clone());
    let auth = Arc::new(format!("Bearer {}", opts.key));
    let url = Arc::new(opts.url.trim_end_matches('/').to_string());
    let began = Instant::now();
    let deadline = began + opts.duration;
    let mut tasks = Vec::new();
    for worker in 0..opts.connections {
        let (client, bodies, paths, auth, url) =
            (client.clone(), bodies.clone(), paths.clone(), auth.clone(), url.clone());
        let stride = opts.connections;
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut k = 0usize;
            while Instant::now() < deadline {
                let start = Instant::now();
                let request = if paths.is_empty() {
                    let body = bodies[(worker + k * stride) % bodies.len()].clone();
                    client.post(format!("{url}/api/v1/report")).header("content-type", "application/json").body(body)
                } else {
                    client.get(format!("{url}{}", paths[(worker + k * stride) % paths.len()]))
                };
                k += 1;
                let ok = match request.header("authorization", auth.as_str()).send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        resp.bytes().await.is_ok() && status.is_success()
                    }
                    Err(_) => false,
                };
                if ok {
                    latencies.push(start.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, err) = t.await.context("a load worker panicked")?;
        all.extend(lat);
        errors += err;
    }
    let seconds = began.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    Ok(LoadResult {
        ok: all.len() as u64,
        errors,
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: all.last().map_or(0.0, |us| *us as f64 / 1000.0),
        body_bytes,
    })
}

/// The bare endpoint: parses the report and answers, nothing else.
pub async fn bare_server(listen: SocketAddr) -> Result<()> {
    let app = Router::new().route(
        "/api/v1/report",
        post(|body: Bytes| async move {
            match serde_json::from_slice::<ReportIn>(&body) {
                Ok(_) => Ok(Json(ReportAccepted { ok: true, customer_blocked: false, warnings: Vec::new() })),
                Err(_) => Err(StatusCode::BAD_REQUEST),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("bare-server listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Sizes of a built SPA: the gzipped `.wasm` and the gzipped total of what the first page load
/// fetches (every file in the folder but source maps).
pub fn spa_size(dir: &std::path::Path) -> Result<String> {
    use std::io::Write;
    let mut wasm_raw = 0;
    let mut wasm_gz = 0;
    let mut total_gz = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if !path.is_file() || path.extension().is_some_and(|e| e == "map") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        let gz_len = gz.finish()?.len();
        total_gz += gz_len;
        if path.extension().is_some_and(|e| e == "wasm") {
            wasm_raw += bytes.len();
            wasm_gz += gz_len;
        }
    }
    Ok(format!("wasm_raw={wasm_raw} wasm_gz={wasm_gz} first_load_gz={total_gz}"))
}
