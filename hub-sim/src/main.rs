//! `hub-sim`: a simulated fleet of felhom controllers against a hub (`run`), and the tools of
//! `cargo xtask bench` (`load`, `bare-server`, `fill-db`, `spa-size`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hub_sim::{controller, demo, filldb, fleet, hub, load, original};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "hub-sim", version, about = "A simulated fleet of felhom controllers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the fleet against a hub: backfill history, then report live.
    Run {
        /// The hub's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The Bearer key reports are posted with (the hub's global key).
        #[arg(long, env = "HUB_SIM_KEY")]
        key: String,
        #[arg(long, default_value_t = 50)]
        nodes: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Simulated time between two reports of a node.
        #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
        interval: Duration,
        /// How much faster than real time the fleet lives (60: an hour a minute).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Real time to run live after the backfill; forever when absent.
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
        /// Post this much past history first (e.g. 7d).
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        backfill: Duration,
        /// Where the controller side listens (`controller_url = http://ADDR/c/<id>`).
        #[arg(long, default_value = "127.0.0.1:0")]
        controller_listen: SocketAddr,
        /// Which hub the controllers are built for: this one, or the original Go hub.
        #[arg(long, value_enum, default_value = "current")]
        profile: original::Profile,
        /// A JSON file of customers' own credentials (`{"sim-0000": {"api_key": "…",
        /// "retrieval_password": "…"}}`): those nodes post with their key and fetch their config.
        #[arg(long)]
        credentials: Option<PathBuf>,
        /// Exit with an error when the hub refused anything (for end-to-end tests).
        #[arg(long)]
        fail_on_error: bool,
        /// Create configs for the first N nodes through the operator API of a hub without a
        /// password, push the hub's config to every second one after the backfill and check
        /// drift (`cargo xtask run --demo`).
        #[arg(long, default_value_t = 0)]
        manage: usize,
    },
    /// Post reports (or GET paths) with many connections for a while; prints one result line.
    Load {
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "")]
        key: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        duration: Duration,
        #[arg(long, default_value_t = 1000)]
        nodes: usize,
        /// GET these paths round-robin instead of posting reports.
        #[arg(long = "get")]
        paths: Vec<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// An axum endpoint that only parses reports, to compare the hub with.
    BareServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
    /// Fill a SQLite database with history through the hub's store (storage benchmark).
    FillDb {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 1000)]
        nodes: usize,
        #[arg(long, default_value_t = 90)]
        days: u32,
        #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
        interval: Duration,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Gzipped sizes of a built SPA folder.
    SpaSize { dir: PathBuf },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Run {
            url,
            key,
            nodes,
            seed,
            interval,
            speed,
            duration,
            backfill,
            controller_listen,
            profile,
            credentials,
            fail_on_error,
            manage,
        } => {
            let opts = fleet::FleetOptions { nodes, seed, interval, speed, backfill, duration, profile };
            let credentials = credentials.as_deref().map(original::read_credentials).transpose()?.unwrap_or_default();
            let hub = rt.block_on(run(url, key, controller_listen, opts, credentials, manage))?;
            println!("hub-sim: {}", hub.totals());
            // The last line, in `key=value` form for `cargo xtask bench`.
            println!(
                "hub-sim reports: refused={} {}",
                hub.refused_reports.load(std::sync::atomic::Ordering::Relaxed),
                hub.report_latency()
            );
            let failures = hub.failures.load(std::sync::atomic::Ordering::Relaxed);
            anyhow::ensure!(!fail_on_error || failures == 0, "the hub refused {failures} requests");
            Ok(())
        }
        Command::Load { url, key, connections, duration, nodes, paths, seed } => {
            let opts = load::LoadOptions { url, key, connections, duration, nodes, paths, seed };
            let result = rt.block_on(load::run(opts))?;
            println!("{}", result.line());
            Ok(())
        }
        Command::BareServer { listen } => rt.block_on(load::bare_server(listen)),
        Command::FillDb { db, nodes, days, interval, seed } => {
            let began = std::time::Instant::now();
            let opts = filldb::FillOptions { db, nodes, days, interval, seed };
            let rows = rt.block_on(filldb::fill(&opts))?;
            println!("rows={rows} seconds={:.1}", began.elapsed().as_secs_f64());
            Ok(())
        }
        Command::SpaSize { dir } => {
            println!("{}", load::spa_size(&dir)?);
            Ok(())
        }
    }
}

async fn run(
    url: String,
    key: String,
    controller_listen: SocketAddr,
    opts: fleet::FleetOptions,
    credentials: std::collections::HashMap<String, original::Credential>,
    manage: usize,
) -> Result<hub::Hub> {
    let listener = tokio::net::TcpListener::bind(controller_listen)
        .await
        .with_context(|| format!("cannot listen on {controller_listen}"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let now = chrono::Utc::now();
    let fleet = fleet::build(&opts, &base, now);
    let app = controller::router(fleet.clone(), controller::known_versions());
    tokio::spawn(async move { axum::serve(listener, app).await });
    tracing::info!(nodes = opts.nodes, controller_side = %base, "hub-sim fleet ready");
    let mut keys: std::collections::HashMap<String, String> =
        credentials.iter().filter_map(|(id, c)| Some((id.clone(), c.api_key.clone()?))).collect();
    hub::Hub::new(&url, &key, HashMap::new())?.wait_ready(Duration::from_secs(60)).await?;
    let operator = match manage {
        0 => None,
        n => match demo::Operator::open(&url).await {
            Ok(operator) => match operator.manage(&fleet, n).await {
                Ok(managed) => {
                    keys.extend(managed);
                    Some(operator)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "demo: could not create the managed nodes' configs");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "demo: no managed nodes");
                None
            }
        },
    };
    let managed: Vec<String> = keys.keys().cloned().collect();
    let hub = hub::Hub::new(&url, &key, keys)?;
    if opts.profile == original::Profile::Original {
        original::start_up(&hub, &fleet, &credentials).await;
    }
    fleet::backfill(&hub, &fleet, &opts, now).await?;
    if let Some(operator) = &operator {
        let mut managed = managed;
        managed.sort();
        match operator.push_half_and_check(&managed).await {
            Ok(check) => tracing::info!(%check, "demo: configs pushed to half of the managed nodes, drift checked"),
            Err(e) => tracing::warn!(error = %e, "demo: the drift check failed"),
        }
    }
    fleet::live(&hub, &fleet, &opts).await?;
    Ok(hub)
}
