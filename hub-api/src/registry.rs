//! A small client for the controller image's registry (Docker Registry HTTP API v2), built from
//! config: it lists `registry.image`'s tags (`GET /v2/<name>/tags/list`), following `Link`
//! pagination on the same registry.
//!
//! Authentication is what Gitea and Docker Hub ask for: the first request carries basic auth
//! (`registry.username` and `registry.token`) when a username is set; a `401` with
//! `WWW-Authenticate: Bearer realm=…,service=…,scope=…` is answered by fetching a token from the
//! realm (with the same basic auth) and asking again with `Authorization: Bearer <token>`.
//! Errors name the registry and the status, never a credential or a token.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::header::{HeaderMap, AUTHORIZATION, LINK, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use crate::config::RawRegistry;

const TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes read of one answer (a page of tags, a token).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Pages of tags followed before the listing gives up.
const MAX_PAGES: usize = 50;
/// Tags asked for per page.
const PAGE_SIZE: usize = 100;
/// Where Docker Hub's images are (an image without a registry host).
const DOCKER_HUB: &str = "registry-1.docker.io";

/// Where an image's tags are: the registry's address and the repository name in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `host` or `host:port`.
    pub host: String,
    /// `owner/name` (`library/name` for Docker Hub's official images).
    pub name: String,
}

impl ImageRef {
    /// Reads `gitea.example.com/owner/name`, `127.0.0.1:5000/name`, `owner/name` (Docker Hub)
    /// or `name` (Docker Hub's `library/name`); a `:tag` or `@digest` at the end is dropped.
    pub fn parse(image: &str) -> anyhow::Result<ImageRef> {
        let image = image.trim();
        let image = image.split('@').next().unwrap_or(image);
        // A tag is a colon after the last slash (a colon before it is a port).
        let image = match image.rsplit_once(':') {
            Some((before, _tag)) if !before.is_empty() && !image[before.len()..].contains('/') => before,
            _ => image,
        };
        let (first, rest) = image.split_once('/').unwrap_or(("", image));
        let names_a_host = first.contains('.') || first.contains(':') || first == "localhost";
        let (host, name) = match (names_a_host, first.is_empty()) {
            (true, _) => (first.to_string(), rest.to_string()),
            (false, true) => (DOCKER_HUB.to_string(), format!("library/{rest}")),
            (false, false) => (DOCKER_HUB.to_string(), image.to_string()),
        };
        let name_ok = !name.is_empty()
            && name.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                    && part.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            });
        let host_ok = !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            && !host.starts_with(['.', '-', ':']);
        if !name_ok || !host_ok {
            bail!(
                "invalid registry.image {image:?}: expected host/owner/name (lowercase letters, digits and ._-), \
                 or a Docker Hub name"
            );
        }
        Ok(ImageRef { host, name })
    }
}

/// The client of one image's registry.
pub struct RegistryClient {
    http: reqwest::Client,
    /// `https://host` (or `http://host` with `registry.image_allow_http`).
    base: Url,
    name: String,
    username: String,
    token: SecretString,
    allow_http: bool,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient").field("base", &self.base.as_str()).field("name", &self.name).finish()
    }
}

impl RegistryClient {
    /// `None` when `registry.image` is empty (the watch is off).
    pub fn from_config(registry: &RawRegistry) -> anyhow::Result<Option<RegistryClient>> {
        if registry.image.trim().is_empty() {
            return Ok(None);
        }
        let image = ImageRef::parse(&registry.image)?;
        let scheme = if registry.image_allow_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", image.host))
            .map_err(|e| anyhow!("invalid registry.image: the registry host is not usable in a URL ({e})"))?;
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("felhom-hub/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Some(RegistryClient {
            http,
            base,
            name: image.name,
            username: registry.username.clone(),
            token: registry.token.clone(),
            allow_http: registry.image_allow_http,
        }))
    }

    /// The registry and image as messages name them: `https://host/owner/name`.
    pub fn shown(&self) -> String {
        format!("{}{}", self.base, self.name)
    }

    /// Every tag of the image, across all pages.
    pub async fn list_tags(&self) -> anyhow::Result<Vec<String>> {
        let mut url = self.base.join(&format!("v2/{}/tags/list?n={PAGE_SIZE}", self.name))?;
        let mut bearer: Option<SecretString> = None;
        let mut tags = Vec::new();
        for _ in 0..MAX_PAGES {
            let (headers, body) = self.get_page(&url, &mut bearer).await?;
            let page: TagPage = serde_json::from_slice(&body)
                .map_err(|e| anyhow!("{} answered a tag list that is not the expected JSON: {e}", self.shown()))?;
            tags.extend(page.tags.unwrap_or_default());
            match next_link(&headers, &url) {
                Some(next) if same_origin(&next, &self.base) => url = next,
                Some(_) => bail!("{} sent a next page on another host; refused", self.shown()),
                None => return Ok(tags),
            }
        }
        bail!("{} has more than {MAX_PAGES} pages of tags; gave up", self.shown())
    }

    /// One page, answering a bearer challenge once (the token is kept for the next pages).
    async fn get_page(&self, url: &Url, bearer: &mut Option<SecretString>) -> anyhow::Result<(HeaderMap, Vec<u8>)> {
        let shown = self.shown();
        let mut answer = self.send(self.http.get(url.clone()), bearer.as_ref()).await?;
        if answer.status() == StatusCode::UNAUTHORIZED && bearer.is_none() {
            let challenge = answer.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if let Some(params) = bearer_challenge(challenge) {
                *bearer = Some(self.fetch_token(&params).await?);
                answer = self.send(self.http.get(url.clone()), bearer.as_ref()).await?;
            }
        }
        let status = answer.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            bail!("{shown} refused the credentials ({status}); check registry.username and registry.token");
        }
        if !status.is_success() {
            bail!("{shown} answered {status} to the tag list");
        }
        let headers = answer.headers().clone();
        Ok((headers, read_limited(answer, &shown).await?))
    }

    /// Sends `request` with the bearer token when there is one, else with basic auth when a
    /// username is set.
    async fn send(
        &self,
        mut request: reqwest::RequestBuilder,
        bearer: Option<&SecretString>,
    ) -> anyhow::Result<reqwest::Response> {
        if let Some(token) = bearer {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
        } else if !self.username.is_empty() {
            request = request.basic_auth(&self.username, Some(self.token.expose_secret()));
        }
        // reqwest names the URL in its errors: they are kept without it.
        request
            .send()
            .await
            .map_err(reqwest::Error::without_url)
            .with_context(|| format!("cannot reach {}", self.shown()))
    }

    /// Asks the challenge's realm for a pull token.
    async fn fetch_token(&self, challenge: &Challenge) -> anyhow::Result<SecretString> {
        let mut realm = Url::parse(&challenge.realm)
            .map_err(|_| anyhow!("{} named a token realm that is not a URL", self.shown()))?;
        let shown_realm = crate::jobs::shown_url(&realm);
        if realm.scheme() != "https" && !(realm.scheme() == "http" && self.allow_http) {
            bail!("{} named a token realm that is not https ({shown_realm}); refused", self.shown());
        }
        let default_scope = format!("repository:{}:pull", self.name);
        {
            let mut query = realm.query_pairs_mut();
            if let Some(service) = &challenge.service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", challenge.scope.as_deref().unwrap_or(&default_scope));
        }
        let answer = self.send(self.http.get(realm), None).await?;
        let status = answer.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            bail!("{shown_realm} refused the credentials ({status}); check registry.username and registry.token");
        }
        if !status.is_success() {
            bail!("{shown_realm} answered {status} to the token request");
        }
        let body = read_limited(answer, &shown_realm).await?;
        let token: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| anyhow!("{shown_realm} answered a token request with something other than a token"))?;
        token
            .token
            .or(token.access_token)
            .filter(|t| !t.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| anyhow!("{shown_realm} answered a token request without a token"))
    }
}

#[derive(serde::Deserialize)]
struct TagPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// What a `WWW-Authenticate: Bearer …` challenge asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

/// Reads `Bearer realm="…",service="…",scope="…"`; `None` for any other scheme or without a realm.
pub fn bearer_challenge(header: &str) -> Option<Challenge> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = std::collections::HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').map_or((after, ""), |(v, a)| (v, a)),
        };
        params.insert(key.trim().to_ascii_lowercase(), value.to_string());
        rest = after.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge { realm: params.remove("realm")?, service: params.remove("service"), scope: params.remove("scope") })
}

/// The `rel="next"` target of a `Link` header, resolved against the page's URL.
fn next_link(headers: &HeaderMap, current: &Url) -> Option<Url> {
    headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next")
            .then_some(())?;
        current.join(target).ok()
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// The body, at most [`MAX_ANSWER_BYTES`].
async fn read_limited(mut answer: reqwest::Response, shown: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) =
        answer.chunk().await.map_err(reqwest::Error::without_url).with_context(|| format!("cannot read {shown}"))?
    {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            bail!("{shown} answered more than {MAX_ANSWER_BYTES} bytes");
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_name_their_registry_or_docker_hub() {
        let image = |s: &str| ImageRef::parse(s).map(|i| (i.host, i.name)).map_err(|e| e.to_string());
        let pair = |h: &str, n: &str| Ok((h.to_string(), n.to_string()));
        assert_eq!(
            image("gitea.dooplex.hu/admin/felhom-controller"),
            pair("gitea.dooplex.hu", "admin/felhom-controller")
        );
        assert_eq!(image("127.0.0.1:5000/admin/ctl:1.4.2"), pair("127.0.0.1:5000", "admin/ctl"));
        assert_eq!(image("localhost/ctl@sha256:abc"), pair("localhost", "ctl"));
        assert_eq!(image("felhom/controller"), pair(DOCKER_HUB, "felhom/controller"));
        assert_eq!(image("nginx:1.27"), pair(DOCKER_HUB, "library/nginx"));
        for bad in ["gitea.example.com/Admin/x", "gitea.example.com/", "a//b", "host.example/x y", "-x.example/y"] {
            assert!(image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bearer_challenges_are_read_with_commas_inside_quotes() {
        let c = bearer_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://auth.docker.io/token");
        assert_eq!(c.service.as_deref(), Some("registry.docker.io"));
        assert_eq!(c.scope.as_deref(), Some("repository:a/b:pull,push"));
        let gitea =
            bearer_challenge(r#"Bearer realm="https://git.example/v2/token",service="container_registry",scope="*""#);
        assert_eq!(gitea.unwrap().scope.as_deref(), Some("*"));
        assert_eq!(bearer_challenge(r#"Basic realm="x""#), None);
        assert_eq!(bearer_challenge(r#"Bearer service="x""#), None);
    }

    #[test]
    fn the_next_link_resolves_against_the_page() {
        let mut headers = HeaderMap::new();
        headers.insert(LINK, r#"</v2/a/b/tags/list?n=100&last=1.2.0>; rel="next""#.parse().unwrap());
        let current = Url::parse("https://r.example/v2/a/b/tags/list?n=100").unwrap();
        assert_eq!(
            next_link(&headers, &current).unwrap().as_str(),
            "https://r.example/v2/a/b/tags/list?n=100&last=1.2.0"
        );
        headers.insert(LINK, r#"<https://r.example/x>; rel="prev""#.parse().unwrap());
        assert_eq!(next_link(&headers, &current), None);
    }
}
