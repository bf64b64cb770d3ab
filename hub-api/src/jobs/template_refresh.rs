//! Refreshes the controller.yaml template every `registry.template_interval` from
//! `registry.template_url`, with the registry credentials. A fetched template is stored only when
//! it is YAML with a map at the top; a failed fetch keeps the last good one (or the bundled one)
//! and fails the run, which the scheduler logs.
//!
//! The fetch is https only (unless `registry.template_allow_http`, for tests), follows redirects
//! only on the same host, reads at most [`MAX_TEMPLATE_BYTES`], and its errors name the URL
//! without its query or credentials (they are shown at `GET /api/v1/jobs` and logged).

use std::time::Duration;

use anyhow::{bail, Context};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::{Job, Schedule};
use crate::config::Config;
use crate::configgen::{check_template, MAX_TEMPLATE_BYTES, TEMPLATE_NAME};
use crate::state::AppState;

const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Redirects followed (on the same host) before the fetch gives up.
const MAX_REDIRECTS: usize = 5;

/// A small client for the template file on the registry (Gitea), built from config.
pub struct TemplateClient {
    http: reqwest::Client,
    url: Url,
    /// The URL as errors show it: no credentials, no query.
    shown: String,
    username: String,
    token: SecretString,
}

/// `url` without what may be secret in it: user, password, query and fragment.
pub fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

impl TemplateClient {
    /// `None` when no `registry.template_url` is configured. The URL was checked at start-up
    /// (`Config::validate`); it is checked again here.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<TemplateClient>> {
        let registry = &config.raw.registry;
        if registry.template_url.trim().is_empty() {
            return Ok(None);
        }
        let url = crate::config::template_url(registry)?;
        let (scheme, host, port) =
            (url.scheme().to_string(), url.host_str().map(str::to_string), url.port_or_known_default());
        let same_host = reqwest::redirect::Policy::custom(move |attempt| {
            let next = attempt.url();
            if next.scheme() != scheme || next.host_str() != host.as_deref() || next.port_or_known_default() != port {
                let refused = format!("refused a redirect to another host ({})", shown_url(next));
                attempt.error(refused)
            } else if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(same_host)
            .user_agent(concat!("felhom-hub/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Some(TemplateClient {
            http,
            shown: shown_url(&url),
            url,
            username: registry.username.clone(),
            token: registry.token.clone(),
        }))
    }

    /// Fetches the template text. With a username the token is the basic-auth password (Gitea's
    /// way); with only a token it is sent as `Authorization: token …`.
    pub async fn fetch(&self) -> anyhow::Result<String> {
        let shown = &self.shown;
        let mut request = self.http.get(self.url.clone());
        let token = self.token.expose_secret();
        if !self.username.is_empty() {
            request = request.basic_auth(&self.username, Some(token));
        } else if !token.is_empty() {
            request = request.header(reqwest::header::AUTHORIZATION, format!("token {token}"));
        }
        // reqwest names the URL in its errors: they are kept without it.
        let mut response = request
            .send()
            .await
            .map_err(reqwest::Error::without_url)
            .with_context(|| format!("cannot fetch {shown}"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("{shown} answered {status}");
        }
        let too_large = || anyhow::anyhow!("the template at {shown} is larger than {MAX_TEMPLATE_BYTES} bytes");
        if response.content_length().is_some_and(|n| n > MAX_TEMPLATE_BYTES as u64) {
            return Err(too_large());
        }
        // Read a chunk at a time: a body without Content-Length is cut off at the limit too.
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(reqwest::Error::without_url)
            .with_context(|| format!("cannot read {shown}"))?
        {
            if bytes.len() + chunk.len() > MAX_TEMPLATE_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        String::from_utf8(bytes).with_context(|| format!("the template at {shown} is not UTF-8"))
    }
}

pub struct TemplateRefresh;

#[async_trait]
impl Job for TemplateRefresh {
    fn name(&self) -> &'static str {
        "template_refresh"
    }

    fn schedule(&self, state: &AppState) -> Schedule {
        Schedule::Every(state.config().template_interval.max(Duration::from_secs(60)))
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let Some(client) = TemplateClient::from_config(state.config())? else {
            return Ok("no registry.template_url; the bundled template is used".into());
        };
        let text = client.fetch().await.context("template refresh failed; the previous template stays")?;
        if let Err(problem) = check_template(&text) {
            bail!("template refresh refused the fetched file ({problem}); the previous template stays");
        }
        let sha = hex::encode(Sha256::digest(text.as_bytes()));
        let store = state.store();
        if store.template(TEMPLATE_NAME).await?.is_some_and(|(_, stored, _)| stored == sha) {
            return Ok(format!("template unchanged ({})", &sha[..12]));
        }
        store.put_template(TEMPLATE_NAME, &text, &sha, now.timestamp_millis()).await?;
        Ok(format!("template updated ({}, {} bytes)", &sha[..12], text.len()))
    }
}
