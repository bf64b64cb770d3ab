//! The backup file: a gzip-compressed tar of `manifest.json` and then each part, in order.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::{Manifest, Part, MANIFEST};

/// A file's size and SHA-256, read once.
pub fn describe_file(name: &str, path: &Path) -> anyhow::Result<Part> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    Ok(Part { name: name.to_string(), size, sha256: hex::encode(hasher.finalize()) })
}

/// Writes the archive to `to` and syncs it.
pub fn write(to: &Path, manifest: &Manifest, files: &[(String, PathBuf)]) -> anyhow::Result<()> {
    let out = File::create(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(out), Compression::default()));
    tar.mode(tar::HeaderMode::Deterministic);
    let json = serde_json::to_vec_pretty(manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(manifest.created_at.timestamp().max(0) as u64);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, json.as_slice())?;
    for (name, path) in files {
        let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        tar.append_file(name, &mut file).with_context(|| format!("cannot pack {name}"))?;
    }
    let gz = tar.into_inner()?;
    let mut out = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
    out.flush()?;
    out.sync_all().with_context(|| format!("cannot sync {}", to.display()))?;
    Ok(())
}

/// Copies `from` into `to` while hashing; returns the size and the SHA-256 (hex).
pub fn copy_hashing(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}
