//! Seeding: on start-up, when the assets directory holds no asset yet (missing, empty, or only a
//! `lost+found`), the files of `assets.seed_dir` are copied in. An existing file is never
//! overwritten: each copy is written under a temporary name and linked into place only if the
//! name is still free.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use hub_shared::assets::parse_asset_name;

use super::scan::{temp_name, FileKey};

/// Whether `dir` holds at least one file with an asset name.
pub fn has_assets(dir: &Path) -> std::io::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                if entry?.file_name().to_str().is_some_and(|n| parse_asset_name(n).is_ok()) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Copies every asset of `seed_dir` into `dir` when `dir` has none. Returns the files written,
/// with the version of each, so the first scan can trust them at once.
pub fn seed_if_empty(seed_dir: &Path, dir: &Path) -> anyhow::Result<Vec<(String, FileKey)>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the assets directory {}", dir.display()))?;
    if has_assets(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        return Ok(Vec::new());
    }
    let entries = match std::fs::read_dir(seed_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(seed_dir = %seed_dir.display(), "assets.seed_dir does not exist; starting with no assets");
            return Ok(Vec::new());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read assets.seed_dir {}", seed_dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read assets.seed_dir {}", seed_dir.display()))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
        // Only regular files with an asset name: a link in the seed is not followed.
        if parse_asset_name(&name).is_ok() && entry.file_type().is_ok_and(|t| t.is_file()) {
            names.push(name);
        }
    }
    names.sort();
    let mut written = Vec::new();
    for name in names {
        if let Some(key) = copy_no_clobber(&seed_dir.join(&name), dir, &name)
            .with_context(|| format!("cannot seed {name} into {}", dir.display()))?
        {
            written.push((name, key));
        }
    }
    tracing::info!(count = written.len(), seed_dir = %seed_dir.display(), dir = %dir.display(), "seeded app assets");
    Ok(written)
}

/// Copies `src` to `dir/name` unless that exists; keeps the source's modification time.
fn copy_no_clobber(src: &Path, dir: &Path, name: &str) -> anyhow::Result<Option<FileKey>> {
    let temp = dir.join(temp_name(name));
    let dest = dir.join(name);
    let result = (|| {
        let mut from = super::scan::open_nofollow(src)?;
        let modified = from.metadata()?.modified()?;
        let mut to = File::create_new(&temp)?;
        std::io::copy(&mut from, &mut to)?;
        to.flush()?;
        to.set_modified(modified)?;
        to.sync_all()?;
        // A hard link fails when the name is taken, so a file that appeared meanwhile is kept.
        match std::fs::hard_link(&temp, &dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
            Err(_) if !dest.exists() => std::fs::rename(&temp, &dest)?,
            Err(_) => return Ok(None),
        }
        Ok::<_, std::io::Error>(Some(FileKey::of(&std::fs::symlink_metadata(&dest)?)))
    })();
    let _ = std::fs::remove_file(&temp);
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &[u8]) {
        std::fs::write(dir.join(name), body).unwrap();
    }

    #[test]
    fn seeds_a_missing_or_empty_directory_but_not_a_full_one() {
        let tmp = tempfile::tempdir().unwrap();
        let seed = tmp.path().join("seed");
        std::fs::create_dir(&seed).unwrap();
        write(&seed, "app-logo.svg", b"<svg/>");
        write(&seed, "app-screenshot-1.webp", b"RIFF....WEBP");
        write(&seed, "README.md", b"not an asset");

        let dir = tmp.path().join("assets");
        let written = seed_if_empty(&seed, &dir).unwrap();
        let names: Vec<_> = written.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["app-logo.svg", "app-screenshot-1.webp"]);
        assert_eq!(std::fs::read(dir.join("app-logo.svg")).unwrap(), b"<svg/>");
        assert!(!dir.join("README.md").exists());
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary files remain");

        // Not over a directory that has assets, even a changed one.
        write(&dir, "app-logo.svg", b"<svg>mine</svg>");
        std::fs::remove_file(dir.join("app-screenshot-1.webp")).unwrap();
        assert!(seed_if_empty(&seed, &dir).unwrap().is_empty());
        assert_eq!(std::fs::read(dir.join("app-logo.svg")).unwrap(), b"<svg>mine</svg>");
        assert!(!dir.join("app-screenshot-1.webp").exists());
    }

    #[test]
    fn a_lost_and_found_does_not_count_and_a_missing_seed_is_not_fatal() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("assets");
        std::fs::create_dir_all(dir.join("lost+found")).unwrap();
        assert!(!has_assets(&dir).unwrap());
        assert!(seed_if_empty(&tmp.path().join("nowhere"), &dir).unwrap().is_empty());
    }

    #[test]
    fn never_overwrites_a_file_that_is_already_there() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write(dir, "src-logo.svg", b"seed");
        write(dir, "app-logo.svg", b"kept");
        assert!(copy_no_clobber(&dir.join("src-logo.svg"), dir, "app-logo.svg").unwrap().is_none());
        assert_eq!(std::fs::read(dir.join("app-logo.svg")).unwrap(), b"kept");
    }
}
