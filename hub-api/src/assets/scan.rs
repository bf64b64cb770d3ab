//! Reading the assets directory into manifest entries, without ever listing a half-written file.
//!
//! Only regular files with an asset name count (symbolic links, directories and other names are
//! skipped). A new or changed file is trusted once it has *settled*: its modification time is at
//! least [`SETTLE`] old, or a previous scan saw it with the same size, time and inode. Files the
//! hub writes itself appear at once: they are written under a temporary dot-name and renamed.
//! Unchanged files keep their hash, so a rescan reads only what changed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use hub_shared::assets::{parse_asset_name, AssetInfo};
use sha2::{Digest, Sha256};

use super::content;

/// How old a file's modification time must be before a scan trusts it.
pub const SETTLE: Duration = Duration::from_secs(2);
/// Temporary files older than this are left-overs of a crash and are removed.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileKey {
    len: u64,
    mtime_ns: i128,
    dev: u64,
    ino: u64,
}

impl FileKey {
    pub fn of(meta: &Metadata) -> FileKey {
        FileKey {
            len: meta.len(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Whether the file was last modified at least [`SETTLE`] before `now`.
    pub fn settled(&self, now: SystemTime) -> bool {
        self.age_ns(now) >= SETTLE.as_nanos() as i128
    }

    /// Whether both keys are versions of the same inode.
    pub fn same_inode(&self, other: &FileKey) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }

    /// How long ago, at `now`, the file was last modified (negative when in the future).
    fn age_ns(&self, now: SystemTime) -> i128 {
        let now_ns = match now.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        now_ns - self.mtime_ns
    }
}

/// One file of the manifest: what the API shows, and the version of the file it describes.
#[derive(Debug, Clone)]
pub struct Entry {
    pub info: AssetInfo,
    pub key: FileKey,
}

/// The name of a temporary file for `name`; it starts with a dot, so it is never an asset name.
pub fn temp_name(name: &str) -> String {
    format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple())
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Opens a file without following a symbolic link in its last component.
pub fn open_nofollow(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path)
}

/// The memory of the scans: files seen but not trusted yet, and files already warned about.
#[derive(Debug, Default)]
pub struct Scanner {
    pending: HashMap<String, FileKey>,
    warned: HashSet<(String, FileKey)>,
}

impl Scanner {
    /// Marks a file as complete, so the next scan trusts it even if it is brand new.
    pub fn trust(&mut self, name: String, key: FileKey) {
        self.pending.insert(name, key);
    }

    /// Reads `dir` at `now`. `current` is the manifest in use: entries whose file is unchanged
    /// are kept without reading the file again.
    pub fn scan(
        &mut self,
        dir: &Path,
        now: SystemTime,
        current: &BTreeMap<String, Entry>,
    ) -> std::io::Result<BTreeMap<String, Entry>> {
        // Removed by hand while running: start again from an empty directory.
        std::fs::create_dir_all(dir)?;
        let mut found = BTreeMap::new();
        let mut pending = HashMap::new();
        for dirent in std::fs::read_dir(dir)? {
            let dirent = dirent?;
            let Some(name) = dirent.file_name().to_str().map(str::to_string) else { continue };
            let Ok(meta) = std::fs::symlink_metadata(dirent.path()) else { continue };
            if is_temp_name(&name) {
                remove_if_stale(&dirent.path(), &meta, now);
                continue;
            }
            let Ok(parsed) = parse_asset_name(&name) else { continue };
            let key = FileKey::of(&meta);
            if !meta.file_type().is_file() {
                self.warn_once(&name, key, "not a regular file (links and directories are never served)");
                continue;
            }
            if let Some(entry) = current.get(&name).filter(|e| e.key == key) {
                found.insert(name, entry.clone());
                continue;
            }
            let settled = key.settled(now) || self.pending.get(&name) == Some(&key);
            if !settled {
                pending.insert(name, key);
                continue;
            }
            match read_entry(&dir.join(&name), &name, parsed.content_type, key) {
                Ok(Some(entry)) => {
                    found.insert(name, entry);
                }
                // Changed while being read: look again next time.
                Ok(None) => {
                    pending.insert(name, key);
                }
                Err(why) => self.warn_once(&name, key, &why),
            }
        }
        self.pending = pending;
        self.warned.retain(|(name, _)| !found.contains_key(name));
        Ok(found)
    }

    fn warn_once(&mut self, name: &str, key: FileKey, why: &str) {
        if self.warned.insert((name.to_string(), key)) {
            tracing::warn!(file = name, reason = why, "asset file skipped");
        }
    }
}

/// Hashes a file; `None` when it is not the version `key` describes any more.
fn read_entry(path: &Path, name: &str, content_type: &str, key: FileKey) -> Result<Option<Entry>, String> {
    let mut file = open_nofollow(path).map_err(|e| format!("cannot open: {e}"))?;
    let before = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if FileKey::of(&before) != key {
        return Ok(None);
    }
    let (sha256, head) = hash_file(&mut file).map_err(|e| format!("cannot read: {e}"))?;
    let after = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if FileKey::of(&after) != key {
        return Ok(None);
    }
    content::sniff(content_type, &head)?;
    Ok(Some(entry(name, content_type, sha256, key)))
}

/// The SHA-256 (hex) of everything from the file's position on, and its first bytes.
pub fn hash_file(file: &mut File) -> std::io::Result<(String, Vec<u8>)> {
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < content::SNIFF_LEN {
            let take = n.min(content::SNIFF_LEN - head.len());
            head.extend_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), head))
}

/// Builds an entry for a file already known to be a valid asset named `name`.
pub fn entry(name: &str, content_type: &str, sha256: String, key: FileKey) -> Entry {
    let parsed = parse_asset_name(name).expect("entries are made only for valid asset names");
    let modified_at =
        DateTime::<Utc>::from_timestamp_nanos(key.mtime_ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
    Entry {
        info: AssetInfo {
            filename: name.to_string(),
            slug: parsed.slug.to_string(),
            kind: parsed.kind,
            size: key.len,
            sha256,
            content_type: content_type.to_string(),
            modified_at,
        },
        key,
    }
}

fn remove_if_stale(path: &Path, meta: &Metadata, now: SystemTime) {
    let old = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age >= STALE_TEMP);
    if old && meta.file_type().is_file() {
        match std::fs::remove_file(path) {
            Ok(()) => tracing::info!(path = %path.display(), "removed a left-over temporary asset file"),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove a left-over temporary file"),
        }
    }
}
