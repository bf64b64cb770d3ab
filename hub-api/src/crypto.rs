//! Secrets at rest. Every secret the hub stores (API keys, retrieval passwords, session secrets,
//! infrastructure tokens, infra backups) is sealed with XChaCha20-Poly1305 under one 32-byte key:
//! `security.encryption_key`, or a key file (mode 0600) created in the data directory on first
//! start. Each ciphertext is bound to where it lives (its "context", such as
//! `customer_configs.api_key:kovacs`), so a sealed value copied to another row does not open.
//! A copy of the database alone reveals no secret.
//!
//! Each sealed value names the key that sealed it (`v2:<key id>:…`, the id a keyed hash of the
//! key, revealing nothing of it); values from before key ids (`v1:…`) are the old key's. While
//! `security.new_encryption_key` is set the hub seals with the new key and opens with both,
//! which is what lets `felhom-hub rotate-key` re-seal everything while replicas keep working.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, AeadInPlace, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::config::Config;

/// The key file's name in `server.data_dir`.
pub const KEY_FILE: &str = "encryption.key";
/// The prefix of sealed values, naming the format: the key id follows.
const SEALED_PREFIX: &str = "v2:";
/// Values sealed before key ids: opened with whichever key opens them.
const LEGACY_PREFIX: &str = "v1:";
/// The prefix of per-customer API keys, so a leaked key is recognisable.
pub const API_KEY_PREFIX: &str = "fh_";

/// The hub's cipher and the keyed hash derived from the same key: the key that seals, and the
/// keys that are still accepted while a rotation runs. `Debug` never shows a key.
#[derive(Clone)]
pub struct Cipher {
    keys: std::sync::Arc<[Key]>,
}

/// One key: its id, its cipher, and the key of its keyed hashes.
struct Key {
    id: String,
    aead: XChaCha20Poly1305,
    mac_key: [u8; 32],
}

impl Key {
    fn new(key: &[u8; 32]) -> Key {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        let id = hex::encode(&derive(b"felhom-hub key id")[..8]);
        Key { id, aead: XChaCha20Poly1305::new(key.into()), mac_key: derive(b"felhom-hub keyed hash") }
    }

    fn decrypt(&self, context: &str, raw: &[u8]) -> Option<Vec<u8>> {
        let (nonce, ciphertext) = raw.split_at(24);
        self.aead.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() }).ok()
    }

    fn keyed_hash(&self, context: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key).expect("HMAC takes keys of any length");
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}

impl Cipher {
    pub fn new(key: &[u8; 32]) -> Cipher {
        Cipher::with_keys(key, &[])
    }

    /// Seals with `primary`; opens what `primary` or any of `previous` sealed.
    pub fn with_keys(primary: &[u8; 32], previous: &[[u8; 32]]) -> Cipher {
        let mut keys = vec![Key::new(primary)];
        keys.extend(previous.iter().filter(|k| *k != primary).map(Key::new));
        Cipher { keys: keys.into() }
    }

    /// The key from `security.encryption_key`, else from the key file in the data directory,
    /// which is created (mode 0600) when missing. With `security.new_encryption_key` set, that
    /// one seals and both open (a rotation is under way).
    pub fn from_config(config: &Config) -> anyhow::Result<Cipher> {
        let configured = config.raw.security.encryption_key.expose_secret();
        let current = if !configured.is_empty() {
            decode_key(configured).context("invalid security.encryption_key")?
        } else {
            if !config.is_sqlite() {
                tracing::warn!(
                    "security.encryption_key is empty: using a key file in server.data_dir; every replica \
                     sharing this PostgreSQL database needs the same key, so set security.encryption_key"
                );
            }
            load_or_create_key_file(&config.data_dir.join(KEY_FILE))?
        };
        match new_key(config)? {
            Some(new) => {
                tracing::info!("security.new_encryption_key is set: sealing with the new key, opening with both");
                Ok(Cipher::with_keys(&new, &[current]))
            }
            None => Ok(Cipher::new(&current)),
        }
    }

    /// The id of the key that seals.
    pub fn key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Whether `sealed` is sealed by the key that seals (and so needs no re-sealing).
    pub fn sealed_by_current(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.key_id())
    }

    /// Seals `plaintext` for `context`: `v2:`, the key id, `:` and the base64 of a random nonce
    /// and the ciphertext.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let key = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = key
            .aead
            .encrypt(&nonce, Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}:{}", key.id, STANDARD.encode(out))
    }

    /// [`Cipher::seal`] of a buffer it takes: encrypted in place, and encoded straight into the
    /// answer (the nonce's 24 bytes are whole base64 groups, so its encoding and the
    /// ciphertext's join into the encoding of both), so a large value is not copied around.
    pub fn seal_vec(&self, context: &str, mut plaintext: Vec<u8>) -> String {
        let key = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        key.aead
            .encrypt_in_place(&nonce, context.as_bytes(), &mut plaintext)
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = String::with_capacity(
            SEALED_PREFIX.len() + key.id.len() + 1 + (nonce.len() + plaintext.len()).div_ceil(3) * 4,
        );
        out.push_str(SEALED_PREFIX);
        out.push_str(&key.id);
        out.push(':');
        STANDARD.encode_string(nonce, &mut out);
        STANDARD.encode_string(&plaintext, &mut out);
        out
    }

    /// Opens a value sealed for `context` by one of this cipher's keys; fails on another key, a
    /// wrong context or tampering.
    pub fn open(&self, context: &str, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let not_sealed = || format!("the stored value for {context} is not a sealed value");
        let decode = |b: &str| STANDARD.decode(b).ok().filter(|raw| raw.len() > 24);
        let wrong = || anyhow::anyhow!("cannot decrypt {context}: wrong security.encryption_key or damaged data");
        if let Some(rest) = sealed.strip_prefix(SEALED_PREFIX) {
            let (id, body) = rest.split_once(':').with_context(not_sealed)?;
            let raw = decode(body).with_context(not_sealed)?;
            let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot decrypt {context}: it was sealed with key {id}, which this hub does not have (check \
                     security.encryption_key and security.new_encryption_key)"
                )
            })?;
            return key.decrypt(context, &raw).ok_or_else(wrong);
        }
        let raw = sealed.strip_prefix(LEGACY_PREFIX).and_then(decode).with_context(not_sealed)?;
        self.keys.iter().find_map(|k| k.decrypt(context, &raw)).ok_or_else(wrong)
    }

    pub fn seal_str(&self, context: &str, plaintext: &str) -> String {
        self.seal(context, plaintext.as_bytes())
    }

    pub fn open_string(&self, context: &str, sealed: &str) -> anyhow::Result<String> {
        String::from_utf8(self.open(context, sealed)?).with_context(|| format!("{context} is not UTF-8"))
    }

    /// A keyed hash (hex HMAC-SHA256) of `value` for `context`, with the key that seals:
    /// verifiable only with the key, so a copy of the database cannot be used to guess
    /// low-entropy secrets offline.
    pub fn keyed_hash(&self, context: &str, value: &str) -> String {
        self.keys[0].keyed_hash(context, value)
    }

    /// The keyed hashes of `value` under every key this cipher accepts, the sealing key's first:
    /// a stored hash made before a rotation still verifies.
    pub fn keyed_hashes(&self, context: &str, value: &str) -> Vec<String> {
        self.keys.iter().map(|k| k.keyed_hash(context, value)).collect()
    }
}

/// `security.new_encryption_key`, when set.
pub fn new_key(config: &Config) -> anyhow::Result<Option<[u8; 32]>> {
    let text = config.raw.security.new_encryption_key.expose_secret();
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(decode_key(text).context("invalid security.new_encryption_key")?))
}

/// A new per-customer API key: `fh_` and 32 random bytes (base64url, 43 characters).
pub fn generate_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// A new random secret as 64 hex characters (32 bytes).
pub fn generate_hex_secret() -> String {
    hex::encode(random_bytes::<32>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The key the hub runs with, as configured: `security.encryption_key`, else the key file in the
/// data directory, which must exist (nothing is created).
pub fn configured_key(config: &Config) -> anyhow::Result<[u8; 32]> {
    let configured = config.raw.security.encryption_key.expose_secret();
    if !configured.is_empty() {
        return decode_key(configured).context("invalid security.encryption_key");
    }
    let path = config.data_dir.join(KEY_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("cannot read the key file {}", path.display()))?;
    decode_key(&text).with_context(|| format!("invalid key file {}", path.display()))
}

/// A key as the key file holds it: base64 and a newline.
pub fn encode_key(key: &[u8; 32]) -> String {
    format!("{}\n", STANDARD.encode(key))
}

/// Reads a key file's or a variable's text (base64 of 32 bytes).
pub fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).context("not base64")?;
    bytes.try_into().map_err(|b: Vec<u8>| anyhow::anyhow!("must be 32 bytes, got {}", b.len()))
}

/// Replaces the key file with `key` (written beside it with mode 0600, synced, renamed over it).
pub fn replace_key_file(path: &Path, key: &[u8; 32]) -> anyhow::Result<()> {
    let mut next = path.as_os_str().to_owned();
    next.push(".new");
    let next = std::path::PathBuf::from(next);
    let _ = std::fs::remove_file(&next);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&next).with_context(|| format!("cannot create {}", next.display()))?;
    file.write_all(encode_key(key).as_bytes()).and_then(|()| file.sync_all())?;
    std::fs::rename(&next, path).with_context(|| format!("cannot replace {}", path.display()))?;
    if let Some(dir) = path.parent() {
        if let Ok(handle) = std::fs::File::open(dir) {
            let _ = handle.sync_all();
        }
    }
    Ok(())
}

/// Reads the key file, or creates it with a new random key and mode 0600.
pub fn load_or_create_key_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    if path.exists() {
        check_permissions(path);
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return decode_key(&text).with_context(|| format!("invalid key file {}", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key = random_bytes::<32>();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(encode_key(&key).as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the encryption key file; back it up with the database");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_key_file(path),
        Err(e) => bail!("cannot create the key file {}: {e}", path.display()),
    }
}

fn check_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the encryption key file is readable by others; chmod 600 it");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_in_its_context() {
        let c = Cipher::new(&[7; 32]);
        let sealed = c.seal_str("t.col:a", "restic-password");
        assert!(sealed.starts_with(&format!("v2:{}:", c.key_id())) && !sealed.contains("restic"));
        assert_ne!(sealed, c.seal_str("t.col:a", "restic-password"), "a fresh nonce each time");
        assert_eq!(c.open_string("t.col:a", &sealed).unwrap(), "restic-password");
        assert!(c.open("t.col:b", &sealed).is_err(), "another row's context does not open it");
        assert!(Cipher::new(&[8; 32]).open("t.col:a", &sealed).is_err(), "another key does not open it");
        let mut tampered = sealed.clone();
        tampered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert!(c.open("t.col:a", &tampered).is_err());
        assert!(c.open("t.col:a", "plain").is_err());
    }

    /// A value as the hub sealed it before key ids.
    fn legacy_seal(key: &[u8; 32], context: &str, plaintext: &str) -> String {
        let aead = XChaCha20Poly1305::new(key.into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(aead.encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() }).unwrap());
        format!("v1:{}", STANDARD.encode(out))
    }

    #[test]
    fn values_name_their_key_and_both_keys_open_during_a_rotation() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let before = Cipher::new(&old);
        let during = Cipher::with_keys(&new, &[old]);
        let after = Cipher::new(&new);
        assert_ne!(before.key_id(), during.key_id());
        assert_eq!(during.key_id(), after.key_id());
        let legacy = legacy_seal(&old, "ctx", "alma");
        let sealed_old = before.seal_str("ctx", "alma");
        let sealed_new = during.seal_str("ctx", "alma");
        for value in [&legacy, &sealed_old, &sealed_new] {
            assert_eq!(during.open_string("ctx", value).unwrap(), "alma", "{value}");
        }
        assert_eq!(before.open_string("ctx", &legacy).unwrap(), "alma", "values without a key id are the old key's");
        let err = before.open("ctx", &sealed_new).unwrap_err().to_string();
        assert!(err.contains(during.key_id()), "{err}");
        assert!(after.open("ctx", &sealed_old).is_err() && after.open("ctx", &legacy).is_err());
        assert!(during.sealed_by_current(&sealed_new) && !during.sealed_by_current(&sealed_old));
        assert!(!during.sealed_by_current(&legacy));
        let hashes = during.keyed_hashes("ctx", "alma");
        assert_eq!(hashes, [after.keyed_hash("ctx", "alma"), before.keyed_hash("ctx", "alma")]);
        assert_eq!(format!("{during:?}"), "Cipher(<redacted>)");
    }

    #[test]
    fn sealing_a_buffer_in_place_opens_the_same() {
        let c = Cipher::new(&[7; 32]);
        for len in [0, 1, 2, 3, 4, 1000, 100_001] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = c.seal_vec("t.col:a", plain.clone());
            assert!(sealed.starts_with("v2:"));
            assert_eq!(c.open("t.col:a", &sealed).unwrap(), plain, "{len} bytes");
            assert_eq!(sealed.len(), c.seal("t.col:a", &plain).len());
            assert!(c.open("t.col:b", &sealed).is_err());
        }
    }

    #[test]
    fn keyed_hashes_depend_on_key_context_and_value() {
        let c = Cipher::new(&[1; 32]);
        let h = c.keyed_hash("ctx", "alma");
        assert_eq!(h, c.keyed_hash("ctx", "alma"));
        assert_ne!(h, c.keyed_hash("ctx", "almb"));
        assert_ne!(h, c.keyed_hash("ctx2", "alma"));
        assert_ne!(h, Cipher::new(&[2; 32]).keyed_hash("ctx", "alma"));
    }

    #[test]
    fn api_keys_are_prefixed_and_long() {
        let key = generate_api_key();
        assert!(key.starts_with("fh_") && key.len() == 3 + 43, "{key}");
        assert_ne!(key, generate_api_key());
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(KEY_FILE);
        let first = load_or_create_key_file(&path).unwrap();
        assert_eq!(load_or_create_key_file(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create_key_file(&path).is_err());
    }
}
