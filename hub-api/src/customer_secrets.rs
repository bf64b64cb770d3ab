//! A customer's secrets: generated here, sealed with the hub's cipher under a context naming
//! their row and column, opened only to build the customer's controller.yaml or for an explicit
//! reveal. The API key is found by its SHA-256; the retrieval password is verified by a keyed
//! hash of its folded form (see [`crate::passphrase`]).

use hub_shared::config::InfraTokens;
use hub_shared::credentials::Credentials;

use crate::auth::key_hash;
use crate::crypto::{self, Cipher};
use crate::error::{AppError, Result};
use crate::passphrase;
use crate::store::SecretsRow;

pub fn api_key_context(customer_id: &str) -> String {
    format!("customer_configs.api_key:{customer_id}")
}

pub fn retrieval_password_context(customer_id: &str) -> String {
    format!("customer_configs.retrieval_password:{customer_id}")
}

pub fn session_secret_context(customer_id: &str) -> String {
    format!("customer_configs.session_secret:{customer_id}")
}

pub fn infra_tokens_context(customer_id: &str) -> String {
    format!("customer_configs.infra_tokens:{customer_id}")
}

pub fn infra_backup_context(customer_id: &str, version: i64) -> String {
    format!("infra_backups:{customer_id}:{version}")
}

/// The keyed hash a typed retrieval password is compared with.
pub fn retrieval_hash(cipher: &Cipher, customer_id: &str, typed: &str) -> String {
    cipher.keyed_hash(&format!("retrieval_password:{customer_id}"), &passphrase::canonical(typed))
}

/// The keyed hashes of a typed retrieval password under every key the cipher accepts.
pub fn retrieval_hashes(cipher: &Cipher, customer_id: &str, typed: &str) -> Vec<String> {
    cipher.keyed_hashes(&format!("retrieval_password:{customer_id}"), &passphrase::canonical(typed))
}

/// A new API key: the key, its SHA-256 (hex) and its sealed copy.
pub fn new_api_key(cipher: &Cipher, customer_id: &str) -> (String, String, String) {
    let key = crypto::generate_api_key();
    let (hash, sealed) = given_api_key(cipher, customer_id, &key);
    (key, hash, sealed)
}

/// A new retrieval password: the password, its keyed hash and its sealed copy.
pub fn new_retrieval_password(cipher: &Cipher, customer_id: &str) -> (String, String, String) {
    let password = passphrase::generate();
    let (hash, sealed) = given_retrieval_password(cipher, customer_id, &password);
    (password, hash, sealed)
}

/// A given API key (one the original hub issued): its SHA-256 (hex) and its sealed copy, stored
/// and found exactly like a generated key's.
pub fn given_api_key(cipher: &Cipher, customer_id: &str, key: &str) -> (String, String) {
    (key_hash(key), cipher.seal_str(&api_key_context(customer_id), key))
}

/// A given retrieval password: its keyed hash and its sealed copy, checked exactly like a
/// generated one's.
pub fn given_retrieval_password(cipher: &Cipher, customer_id: &str, password: &str) -> (String, String) {
    (retrieval_hash(cipher, customer_id, password), cipher.seal_str(&retrieval_password_context(customer_id), password))
}

/// Every secret of a new customer: the credentials to show once, and the row to store.
pub fn new_customer_secrets(cipher: &Cipher, customer_id: &str) -> (Credentials, SecretsRow) {
    let (api_key, api_key_hash, api_key_enc) = new_api_key(cipher, customer_id);
    let (password, password_hash, password_enc) = new_retrieval_password(cipher, customer_id);
    let session = cipher.seal_str(&session_secret_context(customer_id), &crypto::generate_hex_secret());
    let row = SecretsRow {
        api_key_hash: Some(api_key_hash),
        api_key_enc: Some(api_key_enc),
        retrieval_password_hash: Some(password_hash),
        retrieval_password_enc: Some(password_enc),
        session_secret_enc: Some(session),
        infra_tokens_enc: None,
    };
    (Credentials { api_key: Some(api_key), retrieval_password: Some(password) }, row)
}

/// Seals the infrastructure tokens.
pub fn seal_tokens(cipher: &Cipher, customer_id: &str, tokens: &InfraTokens) -> String {
    let json = serde_json::to_string(tokens).expect("tokens serialize");
    cipher.seal_str(&infra_tokens_context(customer_id), &json)
}

/// Opens the infrastructure tokens; none stored means all empty.
pub fn open_tokens(cipher: &Cipher, customer_id: &str, sealed: Option<&str>) -> Result<InfraTokens> {
    let Some(sealed) = sealed.filter(|s| !s.is_empty()) else { return Ok(InfraTokens::default()) };
    let json = cipher.open_string(&infra_tokens_context(customer_id), sealed)?;
    serde_json::from_str(&json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored infrastructure tokens of {customer_id}: {e}")))
}

/// Opens one sealed secret; `None` when none is stored.
pub fn open_optional(cipher: &Cipher, context: &str, sealed: Option<&str>) -> Result<Option<String>> {
    match sealed.filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(cipher.open_string(context, s)?)),
        None => Ok(None),
    }
}

/// The decrypted secrets a controller.yaml needs: the API key and the session secret.
pub struct OpenedSecrets {
    pub api_key: String,
    pub session_secret: String,
    pub tokens: InfraTokens,
}

pub fn open_for_config(cipher: &Cipher, customer_id: &str, row: &SecretsRow) -> Result<OpenedSecrets> {
    Ok(OpenedSecrets {
        api_key: open_optional(cipher, &api_key_context(customer_id), row.api_key_enc.as_deref())?.unwrap_or_default(),
        session_secret: open_optional(cipher, &session_secret_context(customer_id), row.session_secret_enc.as_deref())?
            .unwrap_or_default(),
        tokens: open_tokens(cipher, customer_id, row.infra_tokens_enc.as_deref())?,
    })
}
