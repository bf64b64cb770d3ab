//! The `felhom-hub` command: `serve`, `openapi`, `hash-password`, `migrate-data`,
//! `import-legacy`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hub_api::config::Config;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "felhom-hub", version, about = "The central service of the Felhom fleet")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub.
    Serve {
        /// A hub.yaml; HUB_* environment variables override it.
        #[arg(long, env = "HUB_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Read a password from standard input and print its bcrypt hash for `auth.password_hash`.
    HashPassword,
    /// Copy a hub's data into an empty database (SQLite to PostgreSQL or back).
    MigrateData {
        /// The source, e.g. sqlite:///data/hub.db
        #[arg(long)]
        from: String,
        /// The empty target, e.g. postgres://hub@db/hub
        #[arg(long)]
        to: String,
    },
    /// Import the original Go hub's SQLite database into this hub's store (as configured for
    /// `serve`); a second run adds nothing.
    ImportLegacy {
        /// The old hub's database file, e.g. /data/hub.db of the Go hub
        #[arg(long)]
        from: PathBuf,
        /// Read and check everything, print what would be imported, import nothing.
        #[arg(long)]
        dry_run: bool,
        /// The hub.yaml of this hub; HUB_* environment variables override it.
        #[arg(long, env = "HUB_CONFIG")]
        config: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            use std::io::Write;
            // A closed pipe (`felhom-hub openapi | head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout(), "{}", hub_api::router::openapi_json());
            Ok(())
        }
        Command::HashPassword => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input).context("cannot read standard input")?;
            let password = input.trim_end_matches(['\n', '\r']);
            anyhow::ensure!(!password.is_empty(), "the password is empty");
            println!("{}", bcrypt::hash(password, bcrypt::DEFAULT_COST)?);
            Ok(())
        }
        Command::MigrateData { from, to } => {
            let copied = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(hub_api::migrate_data::migrate_data(&from, &to))?;
            for (table, rows) in copied.tables {
                println!("{table}: {rows} rows");
            }
            Ok(())
        }
        Command::ImportLegacy { from, dry_run, config } => {
            let config = Config::load(config.as_deref())?;
            let summary = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(hub_api::import_legacy::import_legacy(&config, &from, dry_run))?;
            print!("{summary}");
            Ok(())
        }
        Command::Serve { config } => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(
                    EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
                )
                .init();
            let config = Config::load(config.as_deref())?;
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve(config))
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if !config.auth_required() {
        tracing::warn!("auth.password_hash is empty: the dashboard and the operator API need no sign-in");
    }
    let hub = hub_api::start(config).await?;
    tracing::info!(addr = %hub.addr, "felhom-hub listening");
    println!("felhom-hub listening on http://{}", hub.addr);
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    hub.shutdown().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
