//! The registry watch: every `registry.check_interval` it lists `registry.image`'s tags (see
//! [`crate::registry`]) and keeps the newest release by semantic version in the `settings`
//! table (`registry.latest`), with the time it was first seen as the newest. Pre-releases count
//! only with `registry.include_prereleases`; tags that are not versions (`latest`, `main`) are
//! passed over. An empty `registry.image` switches the job off.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Job, Schedule};
use crate::registry::RegistryClient;
use crate::state::AppState;
use crate::store::RegistryLatest;

pub struct RegistryWatch;

/// A tag read as a version: `1.4.2` or `v1.4.2`.
pub fn tag_version(tag: &str) -> Option<semver::Version> {
    semver::Version::parse(tag.strip_prefix(['v', 'V']).unwrap_or(tag)).ok()
}

/// The newest tag by semantic version; pre-releases only when `include_prereleases`.
pub fn newest_release(tags: &[String], include_prereleases: bool) -> Option<&str> {
    tags.iter()
        .filter_map(|tag| Some((tag_version(tag)?, tag.as_str())))
        .filter(|(version, _)| include_prereleases || version.pre.is_empty())
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, tag)| tag)
}

#[async_trait]
impl Job for RegistryWatch {
    fn name(&self) -> &'static str {
        "registry_watch"
    }

    fn schedule(&self, state: &AppState) -> Schedule {
        Schedule::Every(state.config().check_interval.max(Duration::from_secs(60)))
    }

    fn enabled(&self, state: &AppState) -> bool {
        !state.config().raw.registry.image.trim().is_empty()
    }

    async fn run_once(&self, state: &AppState, now: DateTime<Utc>) -> anyhow::Result<String> {
        let registry = &state.config().raw.registry;
        let Some(client) = RegistryClient::from_config(registry)? else {
            return Ok("no registry.image; the registry watch is off".into());
        };
        let tags = client.list_tags().await.context("registry watch failed; the newest known version stays")?;
        let store = state.store();
        let known = store.registry_latest().await?;
        let Some(newest) = newest_release(&tags, registry.include_prereleases) else {
            let stays = known.map_or("none".to_string(), |k| k.version);
            return Ok(format!(
                "no release among {} tags of {}; the newest known stays {stays}",
                tags.len(),
                client.shown()
            ));
        };
        if known.as_ref().is_some_and(|k| k.version == newest) {
            return Ok(format!("newest is {newest} ({} tags), unchanged", tags.len()));
        }
        store
            .put_registry_latest(&RegistryLatest { version: newest.to_string(), seen_at: now.timestamp_millis() })
            .await?;
        let before = known.map_or(String::new(), |k| format!(" (was {})", k.version));
        Ok(format!("newest is {newest}{before}, among {} tags", tags.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_newest_release_is_by_semantic_version() {
        let list = tags(&["latest", "1.9.3", "v1.10.0", "1.10.0-rc.1", "1.11.0-rc.1", "main", "1.2"]);
        assert_eq!(newest_release(&list, false), Some("v1.10.0"));
        assert_eq!(newest_release(&list, true), Some("1.11.0-rc.1"));
        assert_eq!(newest_release(&tags(&["latest", "1.0.0-beta"]), false), None);
        assert_eq!(newest_release(&[], true), None);
    }
}
