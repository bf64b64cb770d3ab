//! The hub's own backups (SQLite; PostgreSQL is backed up with `pg_dump`, see the README), not
//! to be confused with [`crate::backups`], the customers' infra backups the hub stores.
//!
//! `felhom-hub backup --to FILE` takes a consistent online copy with `VACUUM INTO` (a read
//! transaction, so the hub keeps ingesting meanwhile) and packs it, with the sealed-secrets key
//! (unless left out on purpose) and the asset files, into one gzip-compressed tar whose first
//! entry, `manifest.json`, names the hub version, the schema version, the rows of every table
//! and the SHA-256 of every part. `felhom-hub restore --from FILE` ([`restore`]) checks all of
//! that before it writes anything into an empty data directory.

mod archive;
pub mod restore;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, SqliteConnection};

use crate::config::Config;
use crate::crypto;

pub use restore::restore;

/// The archive format this hub writes and reads.
pub const FORMAT: u32 = 1;
/// The database's name inside the archive.
pub const DB_PART: &str = "hub.db";
/// The key's name inside the archive (the key file's own name).
pub const KEY_PART: &str = crypto::KEY_FILE;
/// Asset files sit under this folder inside the archive.
pub const ASSETS_PREFIX: &str = "assets/";
pub const MANIFEST: &str = "manifest.json";

/// What a backup holds, written first into the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub hub_version: String,
    /// The newest migration applied to the copied database.
    pub schema_version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Rows per table in the copied database.
    pub tables: BTreeMap<String, i64>,
    /// Every other entry of the archive, in order.
    pub parts: Vec<Part>,
    /// Whether the sealed-secrets key is in the archive.
    pub key_included: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// Whether the key goes into the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChoice {
    Include,
    /// `--without-key`: the operator keeps the key elsewhere.
    Leave,
}

/// The newest schema this binary knows (its last SQLite migration).
pub fn known_schema_version() -> i64 {
    sqlx::migrate!("../migrations/sqlite").iter().map(|m| m.version).max().unwrap_or(0)
}

/// Writes a backup of the configured SQLite hub to `to` (through a temporary file next to it,
/// renamed into place once complete). Returns its manifest.
pub async fn create(
    config: &Config,
    to: &Path,
    key: KeyChoice,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Manifest> {
    let db = config.sqlite_path().context(
        "felhom-hub backup copies SQLite hubs; for PostgreSQL use pg_dump (see the README's \"Operating the hub\")",
    )?;
    if !db.exists() {
        bail!("no database at {}: is server.data_dir (or database.url) right?", db.display());
    }
    if key == KeyChoice::Include && crypto::new_key(config)?.is_some() {
        // Values are sealed under two keys until the rotation ends; one packed key would not
        // open them all.
        bail!(
            "a key rotation is under way (security.new_encryption_key is set): finish it with felhom-hub \
             rotate-key and switch security.encryption_key to the new key, then back up"
        );
    }
    let dir = to.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".felhom-hub-backup-")
        .tempdir_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let copy = staging.path().join(DB_PART);
    copy_database(&db, &copy).await?;
    let (schema_version, tables) = describe(&copy).await?;
    let mut files: Vec<(String, PathBuf)> = vec![(DB_PART.to_string(), copy)];
    if key == KeyChoice::Include {
        let key_path = staging.path().join(KEY_PART);
        let key_bytes = crypto::configured_key(config).context("cannot read the sealed-secrets key to pack it")?;
        std::fs::write(&key_path, crypto::encode_key(&key_bytes)).context("cannot stage the key")?;
        files.push((KEY_PART.to_string(), key_path));
    }
    files.extend(asset_files(&config.data_dir.join("assets"))?);
    let to = to.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let parts = files
            .iter()
            .map(|(name, path)| archive::describe_file(name, path))
            .collect::<anyhow::Result<Vec<Part>>>()?;
        let manifest = Manifest {
            format: FORMAT,
            hub_version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version,
            created_at: now,
            tables,
            parts,
            key_included: key == KeyChoice::Include,
        };
        let partial = staging.path().join("archive.partial");
        archive::write(&partial, &manifest, &files)?;
        std::fs::rename(&partial, &to).with_context(|| format!("cannot move the backup to {}", to.display()))?;
        sync_dir(to.parent());
        Ok(manifest)
    })
    .await
    .context("the backup task failed")?
}

/// `VACUUM INTO`: a consistent copy in one read transaction, without stopping the hub.
async fn copy_database(db: &Path, copy: &Path) -> anyhow::Result<()> {
    let mut conn = open(db).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(copy.to_string_lossy().as_ref())
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot copy {}", db.display()))?;
    conn.close().await?;
    Ok(())
}

/// Opens a SQLite file without running migrations (the hub that owns it does that).
pub(crate) async fn open(path: &Path) -> anyhow::Result<SqliteConnection> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(std::time::Duration::from_secs(30))
        .create_if_missing(false);
    SqliteConnection::connect_with(&options).await.with_context(|| format!("cannot open {}", path.display()))
}

/// The schema version and the rows of every table of a SQLite file.
pub(crate) async fn describe(path: &Path) -> anyhow::Result<(i64, BTreeMap<String, i64>)> {
    let mut conn = open(path).await?;
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut tables = BTreeMap::new();
    for (name,) in names {
        let quoted = name.replace('"', "\"\"");
        let (rows,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM \"{quoted}\"")).fetch_one(&mut conn).await?;
        tables.insert(name, rows);
    }
    let (version,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1").fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok((version.unwrap_or(0), tables))
}

/// The asset files (regular files only, no dot-names, never through a link).
fn asset_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || !entry.file_type()?.is_file() {
            continue;
        }
        files.push((format!("{ASSETS_PREFIX}{name}"), entry.path()));
    }
    files.sort();
    Ok(files)
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: Option<&Path>) {
    if let Some(dir) = dir.filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(handle) = std::fs::File::open(dir) {
            let _ = handle.sync_all();
        }
    }
}
