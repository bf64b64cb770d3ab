//! `felhom-hub rotate-key`: every secret at rest re-sealed under a new key in one transaction,
//! and every retrieval password's keyed hash made again under it. Values already sealed by the
//! new key are left alone, so a run that stopped half-way (its transaction rolled back) or one
//! repeated after success simply does what is left. With a key file, the file is replaced by the
//! new key once the transaction committed; with `security.encryption_key`, the operator swaps it.

use std::path::PathBuf;

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::crypto::{self, Cipher};
use crate::customer_secrets::{self as secrets, retrieval_hash};
use crate::state::SESSION_SECRET_CONTEXT;
use crate::store::{Rewrite, Sealed, Store};

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    /// Values sealed again and hashes made again.
    pub changed: u64,
    /// The new key's id, as sealed values name it.
    pub key_id: String,
    /// The key file replaced by the new key, when the hub uses one.
    pub key_file: Option<PathBuf>,
}

fn context(place: Sealed<'_>) -> String {
    match place {
        Sealed::SessionSecret => SESSION_SECRET_CONTEXT.to_string(),
        Sealed::ApiKey(id) => secrets::api_key_context(id),
        Sealed::RetrievalPassword(id) => secrets::retrieval_password_context(id),
        Sealed::CustomerSession(id) => secrets::session_secret_context(id),
        Sealed::InfraTokens(id) => secrets::infra_tokens_context(id),
        Sealed::InfraBackup(id, version) => secrets::infra_backup_context(id, version),
    }
}

/// Re-seals everything in `store` with `cipher`'s sealing key; `cipher` must also hold the key
/// the values are sealed with now.
pub async fn reseal_all(store: &Store, cipher: &Cipher) -> anyhow::Result<u64> {
    let reseal = |place: Sealed<'_>, sealed: &str| -> anyhow::Result<Option<String>> {
        if cipher.sealed_by_current(sealed) {
            return Ok(None);
        }
        let context = context(place);
        let plain = cipher.open(&context, sealed)?;
        Ok(Some(cipher.seal(&context, &plain)))
    };
    let rehash = |customer_id: &str, sealed: &str| -> anyhow::Result<String> {
        let password = cipher.open_string(&secrets::retrieval_password_context(customer_id), sealed)?;
        Ok(retrieval_hash(cipher, customer_id, &password))
    };
    store.rewrite_secrets(Rewrite { reseal: &reseal, rehash: &rehash }).await
}

/// Rotates the configured hub's key to `new_key`: the current key (`security.encryption_key`
/// or the key file) opens, the new one seals.
pub async fn rotate(config: &Config, new_key: [u8; 32]) -> anyhow::Result<Rotated> {
    let current = crypto::configured_key(config).context("the current key")?;
    let cipher = Cipher::with_keys(&new_key, &[current]);
    let store = Store::connect(config).await?;
    let changed = reseal_all(&store, &cipher).await;
    store.close().await;
    let changed = changed.context("nothing was changed")?;
    let key_file = if config.raw.security.encryption_key.expose_secret().is_empty() && current != new_key {
        let path = config.data_dir.join(crypto::KEY_FILE);
        crypto::replace_key_file(&path, &new_key)?;
        Some(path)
    } else {
        None
    };
    Ok(Rotated { changed, key_id: cipher.key_id().to_string(), key_file })
}
