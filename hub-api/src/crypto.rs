//! Secrets at rest. Every secret the hub stores (API keys, retrieval passwords, session secrets,
//! infrastructure tokens, infra backups) is sealed with XChaCha20-Poly1305 under one 32-byte key:
//! `security.encryption_key`, or a key file (mode 0600) created in the data directory on first
//! start. Each ciphertext is bound to where it lives (its "context", such as
//! `customer_configs.api_key:kovacs`), so a sealed value copied to another row does not open.
//! A copy of the database alone reveals no secret.

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
/// The prefix of sealed values, naming the format.
const SEALED_PREFIX: &str = "v1:";
/// The prefix of per-customer API keys, so a leaked key is recognisable.
pub const API_KEY_PREFIX: &str = "fh_";

/// The hub's cipher and the keyed hash derived from the same key. `Debug` never shows the key.
#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}

impl Cipher {
    pub fn new(key: &[u8; 32]) -> Cipher {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(b"felhom-hub keyed hash");
        let mac_key = mac.finalize().into_bytes().into();
        Cipher { aead: XChaCha20Poly1305::new(key.into()), mac_key }
    }

    /// The key from `security.encryption_key`, else from the key file in the data directory,
    /// which is created (mode 0600) when missing.
    pub fn from_config(config: &Config) -> anyhow::Result<Cipher> {
        let configured = config.raw.security.encryption_key.expose_secret();
        if !configured.is_empty() {
            return Ok(Cipher::new(&decode_key(configured).context("invalid security.encryption_key")?));
        }
        if !config.is_sqlite() {
            tracing::warn!(
                "security.encryption_key is empty: using a key file in server.data_dir; every replica \
                 sharing this PostgreSQL database needs the same key, so set security.encryption_key"
            );
        }
        Ok(Cipher::new(&load_or_create_key_file(&config.data_dir.join(KEY_FILE))?))
    }

    /// Seals `plaintext` for `context`: `v1:` and the base64 of a random nonce and the ciphertext.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(&nonce, Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// [`Cipher::seal`] of a buffer it takes: encrypted in place, and encoded straight into the
    /// answer (the nonce's 24 bytes are whole base64 groups, so its encoding and the
    /// ciphertext's join into the encoding of both), so a large value is not copied around.
    pub fn seal_vec(&self, context: &str, mut plaintext: Vec<u8>) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        self.aead
            .encrypt_in_place(&nonce, context.as_bytes(), &mut plaintext)
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = String::with_capacity(SEALED_PREFIX.len() + (nonce.len() + plaintext.len()).div_ceil(3) * 4);
        out.push_str(SEALED_PREFIX);
        STANDARD.encode_string(nonce, &mut out);
        STANDARD.encode_string(&plaintext, &mut out);
        out
    }

    /// Opens a value sealed for `context`; fails on a wrong key, a wrong context or tampering.
    pub fn open(&self, context: &str, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|raw| raw.len() > 24)
            .with_context(|| format!("the stored value for {context} is not a sealed value"))?;
        let (nonce, ciphertext) = raw.split_at(24);
        self.aead
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| anyhow::anyhow!("cannot decrypt {context}: wrong security.encryption_key or damaged data"))
    }

    pub fn seal_str(&self, context: &str, plaintext: &str) -> String {
        self.seal(context, plaintext.as_bytes())
    }

    pub fn open_string(&self, context: &str, sealed: &str) -> anyhow::Result<String> {
        String::from_utf8(self.open(context, sealed)?).with_context(|| format!("{context} is not UTF-8"))
    }

    /// A keyed hash (hex HMAC-SHA256) of `value` for `context`: verifiable only with the key, so
    /// a copy of the database cannot be used to guess low-entropy secrets offline.
    pub fn keyed_hash(&self, context: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key).expect("HMAC takes keys of any length");
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
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

fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).context("not base64")?;
    bytes.try_into().map_err(|b: Vec<u8>| anyhow::anyhow!("must be 32 bytes, got {}", b.len()))
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
            file.write_all(format!("{}\n", STANDARD.encode(key)).as_bytes())
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
        assert!(sealed.starts_with("v1:") && !sealed.contains("restic"));
        assert_ne!(sealed, c.seal_str("t.col:a", "restic-password"), "a fresh nonce each time");
        assert_eq!(c.open_string("t.col:a", &sealed).unwrap(), "restic-password");
        assert!(c.open("t.col:b", &sealed).is_err(), "another row's context does not open it");
        assert!(Cipher::new(&[8; 32]).open("t.col:a", &sealed).is_err(), "another key does not open it");
        let mut tampered = sealed.clone();
        tampered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert!(c.open("t.col:a", &tampered).is_err());
        assert!(c.open("t.col:a", "plain").is_err());
    }

    #[test]
    fn sealing_a_buffer_in_place_opens_the_same() {
        let c = Cipher::new(&[7; 32]);
        for len in [0, 1, 2, 3, 4, 1000, 100_001] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = c.seal_vec("t.col:a", plain.clone());
            assert!(sealed.starts_with("v1:"));
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
