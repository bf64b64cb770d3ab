//! The client the hub calls a controller with, at the address its reports carry: the
//! customer's own API key as Bearer auth, a 10 s limit on the whole call, no redirects, at most
//! 1 MiB of answer (read in chunks, stopped at the limit), and certificates verified for
//! `https://`. Every failure is a [`ControllerError`] that says which it was.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hub_shared::controller::ControllerAnswer;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};

use axum::http::StatusCode;

use crate::error::AppError;
use crate::jobs::shown_url;
use crate::store::StoreError;

/// The limit of one call, from connecting to the answer's last byte.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// The longest controller message passed on, in characters.
const MESSAGE_MAX: usize = 300;

/// Why an action on a controller did not give an answer the hub can use: the address and key
/// problems are the operator's to resolve (409), the call's failures are the controller's (502),
/// and `Hub` is the hub's own error on the way (no config, the store).
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error(transparent)]
    Hub(Box<AppError>),
    #[error("customer {0:?} has no API key and the hub no global key to call its controller with")]
    NoKey(String),
    #[error("customer {0:?} has not reported a controller address")]
    NoAddress(String),
    #[error(
        "the controller address {} {pending}; accept the new address before acting on the controller",
        match accepted { Some(old) => format!("changed from {old} to"), None => "reported with the global key is".into() }
    )]
    AddressPending { accepted: Option<String>, pending: String },
    #[error("the controller address {0:?} is not an http:// or https:// URL")]
    BadAddress(String),
    #[error("the controller at {url} cannot be reached (connection refused or no route): {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the controller at {url} did not answer within {} s", .timeout.as_secs_f64())]
    TimedOut { url: String, timeout: Duration },
    #[error("TLS with the controller at {url} failed: {detail}")]
    Tls { url: String, detail: String },
    #[error("the controller at {url} answered HTTP {status}: {message}")]
    Status { url: String, status: u16, message: String },
    #[error("the controller at {url} gave an answer the hub cannot use: {detail}")]
    BadAnswer { url: String, detail: String },
}

impl ControllerError {
    /// 409 for what the operator resolves, 502 for the controller's failures, the hub's own
    /// error's status otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            ControllerError::Hub(e) => e.status(),
            ControllerError::NoKey(_)
            | ControllerError::NoAddress(_)
            | ControllerError::AddressPending { .. }
            | ControllerError::BadAddress(_) => StatusCode::CONFLICT,
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ControllerError::Hub(e) => e.code(),
            ControllerError::NoKey(_) => "no_controller_key",
            ControllerError::NoAddress(_) => "no_controller_address",
            ControllerError::AddressPending { .. } => "controller_address_pending",
            ControllerError::BadAddress(_) => "bad_controller_address",
            ControllerError::Unreachable { .. } => "controller_unreachable",
            ControllerError::TimedOut { .. } => "controller_timeout",
            ControllerError::Tls { .. } => "controller_tls",
            ControllerError::Status { .. } => "controller_error",
            ControllerError::BadAnswer { .. } => "controller_bad_answer",
        }
    }
}

impl From<AppError> for ControllerError {
    fn from(e: AppError) -> Self {
        ControllerError::Hub(Box::new(e))
    }
}

impl From<StoreError> for ControllerError {
    fn from(e: StoreError) -> Self {
        ControllerError::Hub(Box::new(e.into()))
    }
}

impl From<anyhow::Error> for ControllerError {
    fn from(e: anyhow::Error) -> Self {
        ControllerError::Hub(Box::new(e.into()))
    }
}

/// One controller: its base address and the key it knows the hub by.
pub struct Target {
    url: Url,
    shown: String,
    api_key: SecretString,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("url", &self.shown).finish_non_exhaustive()
    }
}

impl Target {
    /// `address` is the reported `controller_url`, such as `https://kovacs.felhom.eu:8090`; the
    /// controller's API is under it (`<address>/api/config`).
    pub fn new(address: &str, api_key: SecretString) -> Result<Target, ControllerError> {
        let url = Url::parse(address.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| ControllerError::BadAddress(address.chars().take(200).collect()))?;
        Ok(Target { shown: shown_url(&url).trim_end_matches('/').to_string(), url, api_key })
    }

    /// The address as messages show it: no credentials, no query.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.url.clone();
        url.set_query(None);
        url.set_fragment(None);
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}{path}"));
        url
    }
}

/// Calls controllers; one per hub, shared by every request.
#[derive(Clone)]
pub struct ControllerClient {
    http: reqwest::Client,
    timeout: Duration,
}

impl ControllerClient {
    /// A client whose calls end after `timeout` ([`TIMEOUT`] in the hub; shorter in tests).
    pub fn new(timeout: Duration) -> anyhow::Result<ControllerClient> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("felhom-hub/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ControllerClient { http, timeout })
    }

    /// The controller's live config (`GET /api/config`) as a JSON value: YAML, or JSON
    /// `{"config_yaml": "..."}`, whose top level is a map.
    pub async fn get_config(&self, target: &Target) -> Result<serde_json::Value, ControllerError> {
        let (_, body) = self.call(target, Method::GET, "/api/config", None).await?;
        let bad = |detail: String| ControllerError::BadAnswer { url: target.shown.clone(), detail };
        let text = std::str::from_utf8(&body).map_err(|_| bad("the config is not UTF-8 text".into()))?;
        let wrapped = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("config_yaml").or_else(|| v.get("yaml")).and_then(|y| y.as_str()).map(str::to_string));
        let yaml = wrapped.as_deref().unwrap_or(text);
        let value: serde_yaml::Value =
            serde_yaml::from_str(yaml).map_err(|e| bad(format!("the config is not YAML or JSON: {e}")))?;
        if !value.is_mapping() {
            return Err(bad("the config's top level is not a map".into()));
        }
        serde_json::to_value(value).map_err(|e| bad(format!("the config has keys that are not text: {e}")))
    }

    /// Sends a controller.yaml to `POST /api/config/apply`.
    pub async fn apply_config(&self, target: &Target, yaml: String) -> Result<ControllerAnswer, ControllerError> {
        let (status, body) =
            self.call(target, Method::POST, "/api/config/apply", Some(("application/yaml", yaml.into()))).await?;
        accepted(target, status, &body)
    }

    /// Asks the controller to update itself to `version` (`POST /api/update`).
    pub async fn update(&self, target: &Target, version: &str) -> Result<ControllerAnswer, ControllerError> {
        let body = serde_json::json!({ "version": version }).to_string();
        let (status, body) =
            self.call(target, Method::POST, "/api/update", Some(("application/json", body.into()))).await?;
        accepted(target, status, &body)
    }

    /// One call: a 2xx answer's status and body, or the error that says what went wrong.
    async fn call(
        &self,
        target: &Target,
        method: Method,
        path: &str,
        body: Option<(&'static str, Bytes)>,
    ) -> Result<(u16, Bytes), ControllerError> {
        let url = target.shown.clone();
        let mut request = self
            .http
            .request(method, target.endpoint(path))
            .header(AUTHORIZATION, format!("Bearer {}", target.api_key.expose_secret()));
        if let Some((content_type, body)) = body {
            request = request.header(CONTENT_TYPE, content_type).body(body);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(|e| classify(&url, self.timeout, &e))?;
            let status = response.status().as_u16();
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(&url, self.timeout, &e))? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(ControllerError::BadAnswer {
                        url: url.clone(),
                        detail: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, body.freeze(), response.headers().get(reqwest::header::LOCATION).cloned()))
        };
        let (status, body, location) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| ControllerError::TimedOut { url: url.clone(), timeout: self.timeout })??;
        if (300..400).contains(&status) {
            let to = location.as_ref().and_then(|l| l.to_str().ok()).unwrap_or("nowhere");
            let message = format!("a redirect to {}, which the hub does not follow", truncate(to));
            return Err(ControllerError::Status { url, status, message });
        }
        if !(200..300).contains(&status) {
            return Err(ControllerError::Status { url, status, message: message_of(&body) });
        }
        Ok((status, body))
    }
}

/// A 2xx answer, unless its JSON says `"ok": false`.
fn accepted(target: &Target, status: u16, body: &[u8]) -> Result<ControllerAnswer, ControllerError> {
    let refused = serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.get("ok") == Some(&false.into()));
    let message = message_of(body);
    if refused {
        return Err(ControllerError::Status { url: target.shown.clone(), status, message });
    }
    Ok(ControllerAnswer { status, message })
}

/// The controller's own message: its JSON `message` or `error`, else the start of its text.
pub fn message_of(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let said = ["message", "error"].iter().find_map(|k| value.get(*k).and_then(|m| m.as_str()));
        if let Some(said) = said {
            return truncate(said);
        }
    }
    match std::str::from_utf8(body) {
        Ok(text) if text.trim().is_empty() => "(no message)".into(),
        Ok(text) => truncate(text.trim()),
        Err(_) => format!("({} bytes that are not text)", body.len()),
    }
}

fn truncate(text: &str) -> String {
    let mut out: String = text.chars().take(MESSAGE_MAX).filter(|c| !c.is_control()).collect();
    if text.chars().count() > MESSAGE_MAX {
        out.push('…');
    }
    out
}

/// Tells a TLS failure from a refused connection by the words of the error's causes (reqwest
/// does not type them).
fn classify(url: &str, timeout: Duration, e: &reqwest::Error) -> ControllerError {
    let url = url.to_string();
    if e.is_timeout() {
        return ControllerError::TimedOut { url, timeout };
    }
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let detail = causes.last().cloned().unwrap_or_else(|| e.to_string());
    let all = causes.join(": ").to_ascii_lowercase();
    const TLS_WORDS: [&str; 5] = ["certificate", "tls", "handshake", "corrupt message", "invalid peer"];
    if TLS_WORDS.iter().any(|w| all.contains(w)) {
        return ControllerError::Tls { url, detail };
    }
    if e.is_connect() || e.is_request() {
        return ControllerError::Unreachable { url, detail };
    }
    ControllerError::BadAnswer { url, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_http_urls_and_paths_are_appended() {
        let key = || SecretString::from("k".to_string());
        let t = Target::new("https://user:pw@kovacs.felhom.eu:8090/c/kovacs/?q=1", key()).unwrap();
        assert_eq!(t.endpoint("/api/config").as_str(), "https://user:pw@kovacs.felhom.eu:8090/c/kovacs/api/config");
        assert_eq!(t.shown(), "https://kovacs.felhom.eu:8090/c/kovacs");
        assert!(!format!("{t:?}").contains("pw"));
        let t = Target::new("http://10.0.0.5:8090", key()).unwrap();
        assert_eq!(t.endpoint("/api/update").as_str(), "http://10.0.0.5:8090/api/update");
        for bad in ["ftp://x", "not a url", "", "file:///etc/passwd"] {
            assert!(matches!(Target::new(bad, key()), Err(ControllerError::BadAddress(_))), "{bad}");
        }
    }

    #[test]
    fn the_controllers_message_is_taken_from_json_or_text() {
        assert_eq!(message_of(br#"{"message":"disk full"}"#), "disk full");
        assert_eq!(message_of(br#"{"ok":false,"error":"bad yaml"}"#), "bad yaml");
        assert_eq!(message_of(b"  plain failure\n"), "plain failure");
        assert_eq!(message_of(b""), "(no message)");
        assert_eq!(message_of(&[0xff, 0xfe]), "(2 bytes that are not text)");
        let long = "x".repeat(1000);
        assert_eq!(message_of(long.as_bytes()).chars().count(), MESSAGE_MAX + 1);
    }
}
