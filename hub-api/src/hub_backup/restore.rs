//! `felhom-hub restore --from FILE`: a backup into an empty data directory. Everything is
//! checked before anything lands: the manifest's format and schema (a newer schema than this
//! binary knows is refused), every part's size and SHA-256, the copied database's rows per
//! table, and that the key opens the backup's secrets. Then the parts are renamed into place.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use flate2::read::GzDecoder;
use secrecy::ExposeSecret;

use super::archive::copy_hashing;
use super::{
    describe, known_schema_version, open, sync_dir, Manifest, ASSETS_PREFIX, DB_PART, FORMAT, KEY_PART, MANIFEST,
};
use crate::config::Config;
use crate::crypto::{self, Cipher};

/// The manifest is small; a larger first entry is not one.
const MANIFEST_MAX: u64 = 1024 * 1024;

/// Restores `from` into the configured (empty) data directory and SQLite file.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<Manifest> {
    let db = config.sqlite_path().context(
        "felhom-hub restore fills SQLite hubs; for PostgreSQL restore the pg_dump with pg_restore (see the README)",
    )?;
    let data_dir = config.data_dir.clone();
    let from = from.to_path_buf();
    let configured_key = config.raw.security.encryption_key.expose_secret().to_string();
    let (manifest, staging) = tokio::task::spawn_blocking({
        let (db, data_dir) = (db.clone(), data_dir.clone());
        move || unpack(&from, &data_dir, &db)
    })
    .await
    .context("the restore task failed")??;
    let staged = |name: &str| staging.path().join(staged_name(name));
    let (schema_version, tables) = describe(&staged(DB_PART)).await?;
    if schema_version != manifest.schema_version || tables != manifest.tables {
        bail!("the database in the backup does not match its manifest (schema or rows per table differ)");
    }
    let key = match (manifest.key_included, configured_key.is_empty()) {
        (true, _) => {
            let key =
                crypto::decode_key(&std::fs::read_to_string(staged(KEY_PART))?).context("the key in the backup")?;
            if !configured_key.is_empty() && crypto::decode_key(&configured_key)? != key {
                bail!(
                    "security.encryption_key differs from the key in the backup: the restored secrets would not \
                     open; unset it (the backup's key file is restored) or set it to the backup's key"
                );
            }
            key
        }
        (false, false) => crypto::decode_key(&configured_key).context("invalid security.encryption_key")?,
        (false, true) => crypto::configured_key(config).context(
            "this backup holds no key (made with --without-key): set security.encryption_key, or put the key \
             file into the data directory, before restoring",
        )?,
    };
    check_key_opens(&staged(DB_PART), &Cipher::new(&key)).await?;
    // Everything checked: into place.
    std::fs::rename(staged(DB_PART), &db)
        .or_else(|_| std::fs::copy(staged(DB_PART), &db).map(|_| ()))
        .with_context(|| format!("cannot move the database to {}", db.display()))?;
    sync_dir(db.parent());
    if manifest.key_included && configured_key.is_empty() {
        let path = data_dir.join(KEY_PART);
        write_private(&path, crypto::encode_key(&key).as_bytes())?;
    }
    let assets: Vec<&str> = manifest.parts.iter().filter_map(|p| p.name.strip_prefix(ASSETS_PREFIX)).collect();
    if !assets.is_empty() {
        let dir = data_dir.join("assets");
        std::fs::create_dir_all(&dir)?;
        for name in assets {
            std::fs::rename(staged(&format!("{ASSETS_PREFIX}{name}")), dir.join(name))?;
        }
        sync_dir(Some(&dir));
    }
    sync_dir(Some(&data_dir));
    Ok(manifest)
}

/// Where a part is staged: its name with the folder flattened.
fn staged_name(name: &str) -> String {
    name.replace('/', "__")
}

/// Reads the archive into a staging folder in `data_dir`, checking the manifest and every
/// part's hash. Refuses a data directory that holds a hub already.
fn unpack(from: &Path, data_dir: &Path, db: &Path) -> anyhow::Result<(Manifest, tempfile::TempDir)> {
    let file = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut entries = archive.entries().context("not a felhom-hub backup (tar.gz)")?;
    let mut first = entries.next().context("the backup is empty")?.context("not a felhom-hub backup (tar.gz)")?;
    if first.path()?.to_string_lossy() != MANIFEST || first.size() > MANIFEST_MAX {
        bail!("not a felhom-hub backup: it does not start with {MANIFEST}");
    }
    let mut json = Vec::new();
    first.read_to_end(&mut json)?;
    drop(first);
    let manifest: Manifest = serde_json::from_slice(&json).context("the backup's manifest cannot be read")?;
    if manifest.format != FORMAT {
        bail!("backup format {} is not one this hub reads (it reads {FORMAT})", manifest.format);
    }
    let known = known_schema_version();
    if manifest.schema_version > known {
        bail!(
            "the backup's schema ({}) is newer than this hub's ({known}): restore it with felhom-hub {} or newer",
            manifest.schema_version,
            manifest.hub_version
        );
    }
    let names: BTreeSet<&str> = manifest.parts.iter().map(|p| p.name.as_str()).collect();
    if names.len() != manifest.parts.len()
        || !names.contains(DB_PART)
        || manifest.key_included != names.contains(KEY_PART)
    {
        bail!("the backup's manifest is inconsistent (parts repeated or missing)");
    }
    for name in &names {
        if !allowed_part(name) {
            bail!("the backup names a part this hub does not restore: {name:?}");
        }
    }
    ensure_empty(data_dir, db, manifest.key_included)?;
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let staging = tempfile::Builder::new().prefix(".felhom-hub-restore-").tempdir_in(data_dir)?;
    let mut seen = BTreeSet::new();
    for entry in entries {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().to_string();
        let Some(part) = manifest.parts.iter().find(|p| p.name == name) else {
            bail!("the backup holds {name:?}, which its manifest does not name");
        };
        if entry.header().entry_type() != tar::EntryType::Regular || !seen.insert(name.clone()) {
            bail!("the backup's entry {name:?} is not a single regular file");
        }
        let path = staging.path().join(staged_name(&name));
        let mut out = File::create(&path)?;
        let (size, sha256) = copy_hashing(&mut entry, &mut out)?;
        out.sync_all()?;
        if size != part.size || sha256 != part.sha256 {
            bail!("{name} in the backup is damaged: its SHA-256 or size differs from the manifest's");
        }
    }
    if seen.len() != manifest.parts.len() {
        let missing: Vec<&str> = names.iter().filter(|n| !seen.contains(**n)).copied().collect();
        bail!("the backup is incomplete: {} missing", missing.join(", "));
    }
    Ok((manifest, staging))
}

fn allowed_part(name: &str) -> bool {
    if name == DB_PART || name == KEY_PART {
        return true;
    }
    name.strip_prefix(ASSETS_PREFIX)
        .is_some_and(|file| !file.is_empty() && !file.starts_with('.') && !file.contains(['/', '\\']) && file != "..")
}

/// A data directory that already holds a hub (a database, a key, assets) is never overwritten.
/// When the backup has no key, the operator's key file may be there already.
fn ensure_empty(data_dir: &Path, db: &Path, key_included: bool) -> anyhow::Result<()> {
    for path in [db.to_path_buf(), wal(db, "-wal"), wal(db, "-shm")] {
        if path.exists() {
            bail!("{} exists: restore only into an empty data directory", path.display());
        }
    }
    let Ok(entries) = std::fs::read_dir(data_dir) else { return Ok(()) };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let empty_dir = entry.file_type()?.is_dir()
            && std::fs::read_dir(entry.path()).map(|mut d| d.next().is_none()).unwrap_or(false);
        let allowed = name == "lost+found" || empty_dir || (name == KEY_PART && !key_included);
        if !allowed {
            bail!("{} is not empty ({name}): restore only into an empty data directory", data_dir.display());
        }
    }
    Ok(())
}

fn wal(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The key must open a secret of the backup: the stored session secret, or a customer's key.
async fn check_key_opens(db: &Path, cipher: &Cipher) -> anyhow::Result<()> {
    let mut conn = open(db).await?;
    let session: Option<(String,)> =
        sqlx::query_as("SELECT value FROM settings WHERE key = 'session_secret_enc'").fetch_optional(&mut conn).await?;
    let sample = match session {
        Some((sealed,)) => Some((crate::state::SESSION_SECRET_CONTEXT.to_string(), sealed)),
        None => sqlx::query_as::<_, (String, String)>(
            "SELECT customer_id, api_key_enc FROM customer_configs WHERE api_key_enc IS NOT NULL LIMIT 1",
        )
        .fetch_optional(&mut conn)
        .await?
        .map(|(id, sealed)| (crate::customer_secrets::api_key_context(&id), sealed)),
    };
    sqlx::Connection::close(conn).await?;
    if let Some((context, sealed)) = sample {
        cipher.open(&context, &sealed).context("the key does not open this backup's secrets")?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
