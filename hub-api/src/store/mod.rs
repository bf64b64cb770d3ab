//! The store: one API over SQLite or PostgreSQL (sqlx's `Any` driver, runtime queries with `$n`
//! placeholders that both accept). Timestamps are Unix milliseconds, JSON is text; conversions
//! happen here, at the store's edge. One file per table group.

mod alerts;
mod audit;
mod configs;
mod controllers;
mod drift;
mod error;
mod events;
mod infra;
mod jobs;
mod maintenance;
mod node_states;
mod notifications;
mod prune;
mod recovery;
mod reports;
mod rollouts;
mod rotation;
mod sessions;
mod settings;
mod stream;
mod templates;
#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use alerts::{AlertRow, NewAlert};
pub use audit::{AuditRecord, AuditRow};
pub use configs::{no_config, ConfigOverrides, ConfigRow, ConfigWrite, SecretsRow};
pub use controllers::UpdateRow;
pub use drift::DriftRow;
pub(crate) use error::RowKey;
pub use error::{Result, StoreError};
pub use events::{EventFilter, EventRow, NewEvent, SeverityCounts};
pub use infra::{InfraBackupRow, InfraVersionRow};
pub use jobs::JobRunRow;
pub use maintenance::WindowRow;
pub use node_states::{NodeCandidate, NodeGap};
pub use notifications::{ConfirmState, LinkOwner, NewConfirmLink, NewLogEntry};
pub use recovery::{customer_subject, ip_subject, AttemptRow, FailureCount, LockSchedule};
pub(crate) use reports::insert_report;
pub use reports::{HistoryInsert, LatestRow, ReportRow};
pub use rollouts::{NewRollout, NewRolloutNode, RolloutNodeRow, RolloutRow, StateChange};
pub use rotation::{Rewrite, Sealed};
pub use settings::{RegistryLatest, REGISTRY_LATEST};

use crate::config::{Config, SqliteSync};

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How each pooled SQLite connection is set up (`database.sqlite_synchronous`,
/// `database.sqlite_cache_kib`).
#[derive(Debug, Clone, Copy)]
struct SqliteTuning {
    sync: SqliteSync,
    cache_kib: u32,
}

/// Each connection's page cache, in KiB, unless configured: a quarter of SQLite's 2,000. The
/// pool holds up to `database.max_connections` connections (8 by default), whose caches took up
/// to 16 MB of the hub's memory at SQLite's size. The pages a connection misses come from the
/// kernel's file cache, not the disk: the hub's reads rarely revisit a page (a node's history is
/// read once, the fleet list comes from a snapshot), and the ingest writer measured the same rate
/// at 512 and 2,000 (BENCHMARKS.md).
pub const DEFAULT_SQLITE_CACHE_KIB: u32 = 512;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite file, checked by [`Store::ping`].
    sqlite_path: Option<std::path::PathBuf>,
    /// Grows after every write to customer configs through this store (see [`crate::cache`]).
    config_generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Grows after every write through this store that the fleet list shows (reports, events,
    /// drift, the registry's newest release, controller addresses; configs count by
    /// `config_generation`): see [`crate::fleet_list`].
    fleet_generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to the configured database and runs the embedded migrations.
    pub async fn connect(config: &Config) -> anyhow::Result<Store> {
        let database = &config.raw.database;
        let sqlite = SqliteTuning { sync: config.sqlite_sync, cache_kib: database.sqlite_cache_kib };
        Self::connect_tuned(config.database_url.expose_secret(), database.max_connections, sqlite).await
    }

    /// [`Store::connect`] for tools and tests: SQLite with the default page cache.
    pub async fn connect_url(url: &str, max_connections: u32, sync: SqliteSync) -> anyhow::Result<Store> {
        Self::connect_tuned(url, max_connections, SqliteTuning { sync, cache_kib: DEFAULT_SQLITE_CACHE_KIB }).await
    }

    async fn connect_tuned(url: &str, max_connections: u32, sqlite: SqliteTuning) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let mut sqlite_path = None;
        let url = match backend {
            Backend::Sqlite => {
                let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                sqlite_path = Some(std::path::PathBuf::from(path));
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("cannot create the database directory {}", dir.display()))?;
                    }
                }
                if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                }
            }
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).context("invalid database.url")?;
        let pool_options =
            AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(10));
        let pool_options = match backend {
            Backend::Sqlite => {
                let sync = match sqlite.sync {
                    SqliteSync::Full => "FULL",
                    SqliteSync::Normal => "NORMAL",
                };
                let cache_kib = sqlite.cache_kib;
                pool_options.after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        conn.execute(
                            format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; \
                                 PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                                 PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}; \
                                 PRAGMA cache_size = -{cache_kib};"
                            )
                            .as_str(),
                        )
                        .await?;
                        Ok(())
                    })
                })
            }
            Backend::Postgres => pool_options,
        };
        let pool = pool_options.connect_with(options).await.context("cannot connect to the database")?;
        let store = Store {
            pool,
            backend,
            sqlite_path,
            config_generation: Default::default(),
            fleet_generation: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// One page of a table with an `id` and a `customer_id`, newest first: at most `limit` rows
    /// of `select` (`SELECT … FROM table`) with an id below `before`, of one customer or of all.
    /// `filter` is the table's own condition (` AND …`, without parameters).
    async fn page_by_id<R>(
        &self,
        select: &str,
        filter: &str,
        customer_id: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        // The placeholders are numbered in the order they appear, as the binds follow.
        let (customer, next) = if customer_id.is_some() { ("customer_id = $1 AND ", 2) } else { ("", 1) };
        let sql = format!("{select} WHERE {customer}id < ${next}{filter} ORDER BY id DESC LIMIT ${}", next + 1);
        let mut query = sqlx::query_as(&sql);
        if let Some(id) = customer_id {
            query = query.bind(id);
        }
        Ok(query.bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(&self.pool).await?)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&self.pool).await,
            Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&self.pool).await,
        }
        .context("database migration failed")
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks that the database answers and, for SQLite, that its file is still there and
    /// readable as a database (open connections would not notice it vanishing).
    pub async fn ping(&self) -> Result<()> {
        if let Some(path) = &self.sqlite_path {
            let mut header = [0u8; 16];
            let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
            match read {
                Ok(()) if &header == b"SQLite format 3\0" => {}
                Ok(()) => {
                    return Err(sqlx::Error::Protocol(format!("{} is not a SQLite database", path.display())).into())
                }
                Err(e) => return Err(sqlx::Error::Io(e).into()),
            }
        }
        sqlx::query("SELECT COUNT(*) FROM settings").fetch_one(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Moves the SQLite write-ahead log into the database file as far as no reader still needs
    /// it, without waiting for readers or the writer (a PASSIVE checkpoint), and returns the
    /// log's frames and how many of them are in the database now; nothing on PostgreSQL. The
    /// serving hub does this every [`CHECKPOINT_EVERY`] from its own task
    /// ([`run_checkpointer`]), so the ingest writer only appends to the log: left to SQLite,
    /// the connection that commits past 1,000 pages copies them, and syncs the database file,
    /// inside its commit (a tenth of ingest's CPU, and the slowest commits).
    pub async fn checkpoint_wal(&self) -> Result<Option<(i64, i64)>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let (_busy, log, done): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.pool).await?;
        Ok(Some((log, done)))
    }
}

/// How often the serving hub checkpoints SQLite's write-ahead log (see [`Store::checkpoint_wal`]).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The log's size in pages at which a committing connection checkpoints it itself: a backstop
/// for when the hub's own checkpoints cannot keep up, or for a command without them (SQLite's
/// default is 1,000; this is about 200 MB).
const WAL_AUTOCHECKPOINT: u32 = 50_000;

/// Checkpoints the write-ahead log every [`CHECKPOINT_EVERY`] until `cancel`; on PostgreSQL it
/// returns at once.
pub async fn run_checkpointer(store: Store, cancel: tokio_util::sync::CancellationToken) {
    if store.backend() != Backend::Sqlite {
        return;
    }
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = store.checkpoint_wal().await {
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed; SQLite does it on its own past 50,000 pages");
        }
    }
}

/// Clamps a float into a BIGINT-friendly tenth-of-a-percent.
pub(crate) fn permille(v: Option<f64>) -> Option<i64> {
    v.filter(|x| x.is_finite()).map(|x| (x * 10.0).round().clamp(0.0, 1_000_000.0) as i64)
}

impl Store {
    /// What this replica wrote that the fleet list shows: it changes after every such write.
    pub fn fleet_generation(&self) -> u64 {
        let ordering = std::sync::atomic::Ordering::SeqCst;
        self.fleet_generation.load(ordering).wrapping_add(self.config_generation.load(ordering))
    }

    /// Marks a write the fleet list shows (after its commit).
    pub(crate) fn touch_fleet(&self) {
        self.fleet_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
