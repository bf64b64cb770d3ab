//! The webhook channel: the alert as JSON, POSTed with `X-Felhom-Signature: sha256=<hex>`, the
//! HMAC-SHA256 of the exact body bytes with the channel's `secret`, so the receiver can tell the
//! hub's alerts from anyone else's.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::{http_url, Alert, FieldError};
use crate::config::RawChannel;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-felhom-signature";

#[derive(Debug, Clone)]
pub struct WebhookSpec {
    pub url: reqwest::Url,
    pub secret: SecretString,
}

impl WebhookSpec {
    pub(super) fn parse(raw: &RawChannel) -> Result<WebhookSpec, FieldError> {
        let url = http_url(&raw.url)?;
        if raw.secret.expose_secret().len() < 16 {
            return Err(("secret", "must be at least 16 characters (make one with `openssl rand -hex 32`)".into()));
        }
        Ok(WebhookSpec { url, secret: raw.secret.clone() })
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &SecretString, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub(super) fn request(client: &reqwest::Client, spec: &WebhookSpec, alert: &Alert) -> reqwest::RequestBuilder {
    let body = serde_json::to_vec(alert).expect("an alert serializes");
    client
        .post(spec.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(&spec.secret, &body))
        .body(body)
}
