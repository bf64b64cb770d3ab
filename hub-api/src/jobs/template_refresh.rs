//! Refreshes the controller.yaml template every `registry.template_interval` from
//! `registry.template_url`, with the registry credentials. A fetched template is stored only when
//! it is YAML with a map at the top; a failed fetch keeps the last good one (or the bundled one)
//! and fails the run, which the scheduler logs.

use std::time::Duration;

use anyhow::{bail, Context};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::{Job, Schedule};
use crate::config::Config;
use crate::configgen::{check_template, MAX_TEMPLATE_BYTES, TEMPLATE_NAME};
use crate::state::AppState;

const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// A small client for the template file on the registry (Gitea), built from config.
pub struct TemplateClient {
    http: reqwest::Client,
    url: String,
    username: String,
    token: SecretString,
}

impl TemplateClient {
    /// `None` when no `registry.template_url` is configured.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<TemplateClient>> {
        let registry = &config.raw.registry;
        if registry.template_url.trim().is_empty() {
            return Ok(None);
        }
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("felhom-hub/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Some(TemplateClient {
            http,
            url: registry.template_url.trim().to_string(),
            username: registry.username.clone(),
            token: registry.token.clone(),
        }))
    }

    /// Fetches the template text. With a username the token is the basic-auth password (Gitea's
    /// way); with only a token it is sent as `Authorization: token …`.
    pub async fn fetch(&self) -> anyhow::Result<String> {
        let mut request = self.http.get(&self.url);
        let token = self.token.expose_secret();
        if !self.username.is_empty() {
            request = request.basic_auth(&self.username, Some(token));
        } else if !token.is_empty() {
            request = request.header(reqwest::header::AUTHORIZATION, format!("token {token}"));
        }
        let response = request.send().await.with_context(|| format!("cannot fetch {}", self.url))?;
        let status = response.status();
        if !status.is_success() {
            bail!("{} answered {status}", self.url);
        }
        if response.content_length().is_some_and(|n| n > MAX_TEMPLATE_BYTES as u64) {
            bail!("the template at {} is larger than {MAX_TEMPLATE_BYTES} bytes", self.url);
        }
        let bytes = response.bytes().await.with_context(|| format!("cannot read {}", self.url))?;
        String::from_utf8(bytes.to_vec()).with_context(|| format!("the template at {} is not UTF-8", self.url))
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
