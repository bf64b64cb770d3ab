//! The asset manager: app logos and screenshots in `<data_dir>/assets/`, seeded from
//! `assets.seed_dir` on first start, listed in an in-memory manifest (name, size, SHA-256, content
//! type, time) that a rescan keeps current, and written by the operator atomically.
//!
//! Every replica runs its own rescan timer (it is not a scheduler job, which runs on the leader
//! only). Uploads, deletes and rescans take one lock, so a rescan never undoes a change.

pub mod conditional;
pub mod content;
pub mod scan;
pub mod seed;
pub mod svg;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use chrono::{DateTime, Utc};
use hub_shared::assets::{parse_asset_name, AssetInfo, AssetManifest};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use scan::{Entry, FileKey, Scanner};

/// How often each replica rereads the assets directory.
pub const RESCAN_EVERY: Duration = Duration::from_secs(10);

/// The assets known at one moment.
#[derive(Debug, Clone)]
pub struct Manifest {
    entries: BTreeMap<String, Entry>,
    scanned_at: DateTime<Utc>,
    etag: String,
}

impl Manifest {
    fn new(entries: BTreeMap<String, Entry>, scanned_at: DateTime<Utc>) -> Manifest {
        let mut hasher = Sha256::new();
        for entry in entries.values() {
            hasher.update(entry.info.filename.as_bytes());
            hasher.update([0]);
            hasher.update(entry.info.sha256.as_bytes());
            hasher.update([0]);
        }
        let etag = format!("W/\"{}\"", &hex::encode(hasher.finalize())[..32]);
        Manifest { entries, scanned_at, etag }
    }

    pub fn get(&self, name: &str) -> Option<&AssetInfo> {
        self.entries.get(name).map(|e| &e.info)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A weak ETag that changes whenever a file name or content changes.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    pub fn to_dto(&self) -> AssetManifest {
        let assets: Vec<AssetInfo> = self.entries.values().map(|e| e.info.clone()).collect();
        AssetManifest { total_bytes: assets.iter().map(|a| a.size).sum(), assets, scanned_at: self.scanned_at }
    }
}

/// An asset opened for serving, with the manifest data of exactly this version of the file.
pub struct OpenAsset {
    pub file: File,
    pub info: AssetInfo,
}

#[derive(Clone)]
pub struct AssetManager(Arc<Inner>);

struct Inner {
    dir: PathBuf,
    manifest: RwLock<Arc<Manifest>>,
    scanner: Mutex<Scanner>,
    scans: watch::Sender<u64>,
}

impl std::fmt::Debug for AssetManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssetManager").field("dir", &self.0.dir).finish_non_exhaustive()
    }
}

impl AssetManager {
    /// Creates `dir` if needed, seeds it from `seed_dir` when it holds no asset, and scans it.
    pub async fn open(dir: PathBuf, seed_dir: PathBuf) -> anyhow::Result<AssetManager> {
        let manager = tokio::task::spawn_blocking(move || {
            let seeded = match seed::seed_if_empty(&seed_dir, &dir) {
                Ok(seeded) => seeded,
                // The hub is still useful without logos; say why they are missing.
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "seeding the app assets failed");
                    Vec::new()
                }
            };
            let mut scanner = Scanner::default();
            for (name, key) in seeded {
                scanner.trust(name, key);
            }
            let entries = scanner
                .scan(&dir, SystemTime::now(), &BTreeMap::new())
                .with_context(|| format!("cannot read the assets directory {}", dir.display()))?;
            tracing::info!(count = entries.len(), dir = %dir.display(), "app assets scanned");
            Ok::<_, anyhow::Error>(AssetManager(Arc::new(Inner {
                dir,
                manifest: RwLock::new(Arc::new(Manifest::new(entries, Utc::now()))),
                scanner: Mutex::new(scanner),
                scans: watch::channel(0).0,
            })))
        })
        .await
        .context("the asset scan panicked")??;
        Ok(manager)
    }

    pub fn dir(&self) -> &Path {
        &self.0.dir
    }

    /// The current manifest.
    pub fn manifest(&self) -> Arc<Manifest> {
        self.0.manifest.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Counts finished rescans; a test can wait on it instead of sleeping.
    pub fn scans(&self) -> watch::Receiver<u64> {
        self.0.scans.subscribe()
    }

    /// Rereads the directory as of `now` and replaces the manifest; returns the number of assets.
    pub async fn rescan_at(&self, now: SystemTime) -> anyhow::Result<usize> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut scanner = this.0.scanner.lock().unwrap_or_else(|e| e.into_inner());
            let current = this.manifest();
            let entries = scanner
                .scan(&this.0.dir, now, &current.entries)
                .with_context(|| format!("cannot read the assets directory {}", this.0.dir.display()))?;
            let count = entries.len();
            this.replace(Manifest::new(entries, Utc::now()));
            drop(scanner);
            this.0.scans.send_modify(|n| *n += 1);
            Ok(count)
        })
        .await
        .context("the asset scan panicked")?
    }

    /// Rescans every `every` until `cancel` fires; a failed scan is logged and the loop goes on.
    pub fn spawn_rescan(&self, every: Duration, cancel: CancellationToken) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(every) => {}
                }
                if let Err(e) = this.rescan_at(SystemTime::now()).await {
                    tracing::warn!(error = format!("{e:#}"), "asset rescan failed");
                }
            }
        })
    }

    /// Writes `name` atomically (temporary file, fsync, rename) and lists it at once. Returns the
    /// new entry and whether the name was new. The caller has checked the name and content.
    pub async fn put(&self, name: &str, body: bytes::Bytes) -> anyhow::Result<(AssetInfo, bool)> {
        let parsed = parse_asset_name(name).map_err(anyhow::Error::msg)?;
        let (name, content_type) = (name.to_string(), parsed.content_type);
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _scanning = this.0.scanner.lock().unwrap_or_else(|e| e.into_inner());
            let dest = this.0.dir.join(&name);
            let temp = this.0.dir.join(scan::temp_name(&name));
            let written = (|| {
                std::fs::create_dir_all(&this.0.dir)?;
                let mut file = File::create_new(&temp)?;
                file.write_all(&body)?;
                file.sync_all()?;
                let key = FileKey::of(&file.metadata()?);
                let existed = std::fs::symlink_metadata(&dest).is_ok();
                std::fs::rename(&temp, &dest)?;
                sync_dir(&this.0.dir);
                Ok::<_, std::io::Error>((key, existed))
            })();
            if written.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            let (key, existed) = written.with_context(|| format!("cannot write asset {name}"))?;
            let entry = scan::entry(&name, content_type, hex::encode(Sha256::digest(&body)), key);
            let info = entry.info.clone();
            this.update(|entries| {
                entries.insert(name.clone(), entry);
            });
            tracing::info!(file = %name, size = info.size, "asset uploaded");
            Ok((info, !existed))
        })
        .await
        .context("the asset upload panicked")?
    }

    /// Removes `name` from disk and from the manifest; `false` when there was no such asset.
    pub async fn delete(&self, name: &str) -> anyhow::Result<bool> {
        parse_asset_name(name).map_err(anyhow::Error::msg)?;
        let name = name.to_string();
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _scanning = this.0.scanner.lock().unwrap_or_else(|e| e.into_inner());
            let removed = match std::fs::remove_file(this.0.dir.join(&name)) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(e).with_context(|| format!("cannot delete asset {name}")),
            };
            sync_dir(&this.0.dir);
            let listed = this.manifest().get(&name).is_some();
            this.update(|entries| {
                entries.remove(&name);
            });
            if removed {
                tracing::info!(file = %name, "asset deleted");
            }
            Ok(removed || listed)
        })
        .await
        .context("the asset delete panicked")?
    }

    /// Opens a listed asset for serving. `None` for a name that is not in the manifest or whose
    /// file is gone or is not a regular file (a link is never followed).
    pub async fn open_file(&self, name: &str) -> anyhow::Result<Option<OpenAsset>> {
        let Some(listed) = self.manifest().entries.get(name).cloned() else { return Ok(None) };
        let path = self.0.dir.join(name);
        tokio::task::spawn_blocking(move || {
            let mut file = match scan::open_nofollow(&path) {
                Ok(file) => file,
                Err(e) if is_gone_or_link(&e) => return Ok(None),
                Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
            };
            let meta = file.metadata()?;
            if !meta.file_type().is_file() {
                return Ok(None);
            }
            let key = FileKey::of(&meta);
            if key == listed.key {
                return Ok(Some(OpenAsset { file, info: listed.info }));
            }
            // Changed since the last scan. A file renamed into place is complete; one rewritten
            // in place is served only once it has settled, as a scan would.
            if key.same_inode(&listed.key) && !key.settled(SystemTime::now()) {
                return Ok(None);
            }
            let (sha256, _) = scan::hash_file(&mut file)?;
            std::io::Seek::rewind(&mut file)?;
            let fresh = scan::entry(&listed.info.filename, &listed.info.content_type, sha256, key);
            Ok(Some(OpenAsset { file, info: fresh.info }))
        })
        .await
        .context("opening an asset panicked")?
    }

    fn replace(&self, manifest: Manifest) {
        *self.0.manifest.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(manifest);
    }

    fn update(&self, change: impl FnOnce(&mut BTreeMap<String, Entry>)) {
        let mut guard = self.0.manifest.write().unwrap_or_else(|e| e.into_inner());
        let mut entries = guard.entries.clone();
        change(&mut entries);
        *guard = Arc::new(Manifest::new(entries, guard.scanned_at));
    }
}

fn is_gone_or_link(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ELOOP)
}

/// Makes a rename or removal durable; a failure only weakens durability, so it is ignored.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests;
