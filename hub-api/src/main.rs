//! The `felhom-hub` command: `serve`, `openapi`, `hash-password`, `migrate-data`,
//! `import-legacy`, `backup`, `restore`, `rotate-key`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hub_api::config::Config;
use hub_api::hub_backup::{self, KeyChoice};

/// mimalloc instead of the C library's allocator: a report's JSON is read into many small values
/// and freed again, and with glibc's allocator a third of the hub's CPU under ingest load went to
/// allocating and freeing (measured with `perf`, see BENCHMARKS.md). Built without transparent
/// huge pages (`no_thp`), which added 18 MiB to the idle hub's RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Write a backup of a SQLite hub (it may be running): the database, the sealed-secrets key
    /// and the assets in one compressed file with a manifest. PostgreSQL: use pg_dump.
    Backup {
        /// The hub's hub.yaml; HUB_* environment variables override it.
        #[arg(long, env = "HUB_CONFIG")]
        config: Option<PathBuf>,
        /// The backup file to write (replaced once complete).
        #[arg(long)]
        to: PathBuf,
        /// Leave the sealed-secrets key out; it must then be kept elsewhere.
        #[arg(long)]
        without_key: bool,
    },
    /// Re-seal every secret at rest under a new key, in one transaction (safe to run again).
    RotateKey {
        /// The hub's hub.yaml; HUB_* environment variables override it.
        #[arg(long, env = "HUB_CONFIG")]
        config: Option<PathBuf>,
        /// A file holding the new key (base64 of 32 bytes); else security.new_encryption_key
        /// (HUB_SECURITY__NEW_ENCRYPTION_KEY).
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
    /// Restore a backup into the configured data directory, which must be empty.
    Restore {
        /// The hub's hub.yaml; HUB_* environment variables override it.
        #[arg(long, env = "HUB_CONFIG")]
        config: Option<PathBuf>,
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
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
        Command::Backup { config, to, without_key } => {
            let config = Config::load(config.as_deref())?;
            let key = if without_key { KeyChoice::Leave } else { KeyChoice::Include };
            let manifest = runtime()?.block_on(hub_backup::create(&config, &to, key, chrono::Utc::now()))?;
            let rows: i64 = manifest.tables.values().sum();
            println!(
                "wrote {}: schema {}, {rows} rows in {} tables, {} parts",
                to.display(),
                manifest.schema_version,
                manifest.tables.len(),
                manifest.parts.len()
            );
            if without_key {
                eprintln!(
                    "WARNING: this backup does NOT contain the sealed-secrets key. Without that key \
                     (security.encryption_key or {}/{}) every API key, retrieval password and restic \
                     password in it is lost. Keep the key somewhere else, now.",
                    config.data_dir.display(),
                    hub_api::crypto::KEY_FILE
                );
            }
            Ok(())
        }
        Command::RotateKey { config, new_key_file } => {
            let config = Config::load(config.as_deref())?;
            let new_key = match &new_key_file {
                Some(path) => hub_api::crypto::decode_key(
                    &std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
                )
                .with_context(|| format!("invalid key in {}", path.display()))?,
                None => hub_api::crypto::new_key(&config)?.context(
                    "no new key: pass --new-key-file or set security.new_encryption_key (HUB_SECURITY__NEW_ENCRYPTION_KEY)",
                )?,
            };
            let rotated = runtime()?.block_on(hub_api::rotate::rotate(&config, new_key))?;
            println!("re-sealed {} values under key {}", rotated.changed, rotated.key_id);
            match rotated.key_file {
                Some(path) => println!("{} now holds the new key; restart the hub", path.display()),
                None => println!(
                    "now set security.encryption_key to the new key, remove security.new_encryption_key, and \
                     restart every replica"
                ),
            }
            Ok(())
        }
        Command::Restore { config, from } => {
            let config = Config::load(config.as_deref())?;
            let manifest = runtime()?.block_on(hub_backup::restore(&config, &from))?;
            println!(
                "restored {} (felhom-hub {}, schema {}, made {}) into {}",
                from.display(),
                manifest.hub_version,
                manifest.schema_version,
                manifest.created_at,
                config.data_dir.display()
            );
            Ok(())
        }
        Command::Serve { config } => {
            let config = Config::load(config.as_deref())?;
            hub_api::logging::init(config.log_format);
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve(config))
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
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
