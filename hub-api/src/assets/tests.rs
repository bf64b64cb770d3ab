//! The asset manager against a real directory: seeding, the settle rule, uploads and deletes
//! racing rescans, links, and the timer.

use std::path::Path;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::scan::SETTLE;
use super::AssetManager;

const SVG: &[u8] = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4"/></svg>"#;
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-rest-of-a-png";

/// Writes a file whose modification time is an hour ago, as if it had been there a while.
fn write_old(dir: &Path, name: &str, body: &[u8]) {
    std::fs::write(dir.join(name), body).unwrap();
    let file = std::fs::File::options().write(true).open(dir.join(name)).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
}

async fn empty_manager(tmp: &Path) -> AssetManager {
    AssetManager::open(tmp.join("assets"), tmp.join("no-seed")).await.unwrap()
}

#[tokio::test]
async fn seeds_then_lists_every_seeded_file_with_its_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = tmp.path().join("seed");
    std::fs::create_dir(&seed).unwrap();
    // Fresh files: seeded copies are trusted at once, without waiting for them to settle.
    std::fs::write(seed.join("app-logo.svg"), SVG).unwrap();
    std::fs::write(seed.join("app-logo.png"), PNG).unwrap();
    let manager = AssetManager::open(tmp.path().join("assets"), seed).await.unwrap();
    let manifest = manager.manifest();
    assert_eq!(manifest.len(), 2);
    let svg = manifest.get("app-logo.svg").unwrap();
    assert_eq!(svg.sha256, hex::encode(Sha256::digest(SVG)));
    assert_eq!((svg.size, svg.content_type.as_str()), (SVG.len() as u64, "image/svg+xml"));
    assert_eq!(manifest.get("app-logo.png").unwrap().content_type, "image/png");
}

#[tokio::test]
async fn a_file_added_on_disk_appears_once_it_has_settled() {
    let tmp = tempfile::tempdir().unwrap();
    let manager = empty_manager(tmp.path()).await;
    let dir = manager.dir().to_path_buf();
    assert!(manager.manifest().is_empty());

    std::fs::write(dir.join("new-logo.svg"), SVG).unwrap();
    let now = SystemTime::now();
    assert_eq!(manager.rescan_at(now).await.unwrap(), 0, "a file being written is not listed yet");
    // Either it is old enough...
    assert_eq!(manager.rescan_at(now + SETTLE).await.unwrap(), 1);
    assert_eq!(manager.manifest().get("new-logo.svg").unwrap().sha256, hex::encode(Sha256::digest(SVG)));

    // ...or two scans saw the same version of it.
    std::fs::write(dir.join("other-logo.svg"), SVG).unwrap();
    assert_eq!(manager.rescan_at(now).await.unwrap(), 1);
    assert_eq!(manager.rescan_at(now).await.unwrap(), 2);

    // A file that grows between scans is not trusted until it stops.
    std::fs::write(dir.join("slow-logo.svg"), &SVG[..10]).unwrap();
    manager.rescan_at(now).await.unwrap();
    std::fs::write(dir.join("slow-logo.svg"), SVG).unwrap();
    manager.rescan_at(now).await.unwrap();
    assert!(manager.manifest().get("slow-logo.svg").is_none());
    manager.rescan_at(now).await.unwrap();
    assert!(manager.manifest().get("slow-logo.svg").is_some());

    // Removed on disk: gone from the manifest at the next scan.
    std::fs::remove_file(dir.join("new-logo.svg")).unwrap();
    assert_eq!(manager.rescan_at(now).await.unwrap(), 2);
}

#[tokio::test]
async fn temporary_files_links_and_wrong_content_are_never_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let manager = empty_manager(tmp.path()).await;
    let dir = manager.dir().to_path_buf();
    write_old(&dir, ".app-logo.svg.0123.tmp", SVG);
    write_old(&dir, "README.md", b"hello");
    write_old(&dir, "fake-logo.png", b"GIF89a not a png");
    write_old(tmp.path(), "outside-logo.svg", SVG);
    std::os::unix::fs::symlink(tmp.path().join("outside-logo.svg"), dir.join("link-logo.svg")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd-logo.svg")).unwrap();
    std::fs::create_dir(dir.join("dir-logo.svg")).unwrap();
    let later = SystemTime::now() + Duration::from_secs(60);
    assert_eq!(manager.rescan_at(later).await.unwrap(), 0);
    // A stale temporary file is cleaned up.
    assert_eq!(manager.rescan_at(later + Duration::from_secs(7200)).await.unwrap(), 0);
    assert!(!dir.join(".app-logo.svg.0123.tmp").exists());
}

#[tokio::test]
async fn uploads_and_deletes_show_at_once_and_a_rescan_keeps_them() {
    let tmp = tempfile::tempdir().unwrap();
    let manager = empty_manager(tmp.path()).await;
    let (info, created) = manager.put("app-logo.svg", bytes::Bytes::from_static(SVG)).await.unwrap();
    assert!(created);
    assert_eq!(info.sha256, hex::encode(Sha256::digest(SVG)));
    assert_eq!(manager.manifest().get("app-logo.svg"), Some(&info));
    // A fresh file written by the hub stays listed through a rescan, with no re-read.
    assert_eq!(manager.rescan_at(SystemTime::now()).await.unwrap(), 1);
    let (_, created) = manager.put("app-logo.svg", bytes::Bytes::from_static(SVG)).await.unwrap();
    assert!(!created);
    let leftovers: Vec<_> = std::fs::read_dir(manager.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["app-logo.svg"]);

    assert!(manager.delete("app-logo.svg").await.unwrap());
    assert!(manager.manifest().is_empty());
    assert!(!manager.delete("app-logo.svg").await.unwrap());
    assert!(manager.put("../x-logo.svg", bytes::Bytes::from_static(SVG)).await.is_err());

    // The directory removed by hand: the next scan empties the manifest and uploads work again.
    manager.put("app-logo.svg", bytes::Bytes::from_static(SVG)).await.unwrap();
    std::fs::remove_dir_all(manager.dir()).unwrap();
    assert_eq!(manager.rescan_at(SystemTime::now()).await.unwrap(), 0);
    std::fs::remove_dir_all(manager.dir()).unwrap();
    assert!(manager.put("app-logo.svg", bytes::Bytes::from_static(SVG)).await.unwrap().1);
}

#[tokio::test]
async fn a_link_swapped_in_after_the_scan_is_not_served() {
    let tmp = tempfile::tempdir().unwrap();
    let manager = empty_manager(tmp.path()).await;
    manager.put("app-logo.svg", bytes::Bytes::from_static(SVG)).await.unwrap();
    assert!(manager.open_file("app-logo.svg").await.unwrap().is_some());
    let path = manager.dir().join("app-logo.svg");
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
    assert!(manager.open_file("app-logo.svg").await.unwrap().is_none());
    assert!(manager.open_file("unknown-logo.svg").await.unwrap().is_none());
}

#[tokio::test]
async fn a_file_replaced_by_rename_is_served_with_its_own_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let manager = empty_manager(tmp.path()).await;
    manager.put("app-logo.svg", bytes::Bytes::from_static(SVG)).await.unwrap();
    let other = br#"<svg xmlns="http://www.w3.org/2000/svg"><circle r="2"/></svg>"#;
    std::fs::write(manager.dir().join(".swap.tmp"), other).unwrap();
    std::fs::rename(manager.dir().join(".swap.tmp"), manager.dir().join("app-logo.svg")).unwrap();
    let open = manager.open_file("app-logo.svg").await.unwrap().unwrap();
    assert_eq!(open.info.sha256, hex::encode(Sha256::digest(other)));
    assert_eq!(open.info.size, other.len() as u64);
}

#[tokio::test]
async fn the_timer_rescans_until_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let manager = empty_manager(tmp.path()).await;
    write_old(manager.dir(), "timer-logo.svg", SVG);
    let mut scans = manager.scans();
    let cancel = CancellationToken::new();
    let task = manager.spawn_rescan(Duration::from_millis(1), cancel.clone());
    tokio::time::timeout(Duration::from_secs(10), scans.changed()).await.expect("a rescan ran").unwrap();
    assert!(manager.manifest().get("timer-logo.svg").is_some());
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(10), task).await.expect("the loop stops").unwrap();
}
