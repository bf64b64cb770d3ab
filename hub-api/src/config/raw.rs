//! The configuration as the operator writes it (`hub.yaml`, `HUB_*` variables), section by
//! section with its defaults, before validation. Secrets are `SecretString` and are read from
//! any scalar without ever being quoted in an error.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The configuration as written by the operator, before validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub auth: RawAuth,
    pub api: RawApi,
    pub notifications: RawNotifications,
    pub retention: RawRetention,
    pub alerting: RawAlerting,
    pub registry: RawRegistry,
    pub server: RawServer,
    pub database: RawDatabase,
    pub security: RawSecurity,
    pub assets: RawAssets,
    pub scheduler: RawScheduler,
    pub metrics: RawMetrics,
    pub backup: RawBackup,
    pub controllers: RawControllers,
}

/// The scheduled `self_backup` job (SQLite only): off while `schedule` is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawBackup {
    /// `HH:MM` (daily, in `server.timezone`) or an interval such as `6h`; empty: off.
    pub schedule: String,
    /// Where the files go; `<data_dir>/backups` when empty (better: another volume).
    pub dir: PathBuf,
    /// How many of the newest files are kept.
    pub keep: u32,
    /// Pack the sealed-secrets key into each file (off: keep the key elsewhere).
    pub include_key: bool,
}

impl Default for RawBackup {
    fn default() -> Self {
        Self { schedule: String::new(), dir: PathBuf::new(), keep: 7, include_key: true }
    }
}

/// `GET /metrics`: open to anyone only with `public: true`; otherwise for the Bearer `token`,
/// and refused to everyone while neither is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawMetrics {
    pub public: bool,
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub token: SecretString,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawScheduler {
    /// How long a leading replica's lease lasts without renewal; another replica takes over the
    /// background jobs at most this long after the leader dies.
    pub lease_ttl: String,
    /// How often each replica wakes to renew or take the lease and start due jobs.
    pub tick: String,
    /// Jobs this hub never starts on its own (by name, as in `GET /api/v1/jobs`), for example to
    /// hold `prune` during an investigation.
    pub disabled_jobs: Vec<String>,
}

impl Default for RawScheduler {
    fn default() -> Self {
        Self { lease_ttl: "30s".into(), tick: "5s".into(), disabled_jobs: Vec::new() }
    }
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawAuth {
    /// bcrypt hash of the operator password; empty means no operator login.
    pub password_hash: String,
    /// Key that signs session tokens; generated once and kept in the database when empty.
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub session_secret: SecretString,
    /// Allow listening on a non-loopback address without a password.
    pub allow_no_auth: bool,
}

impl std::fmt::Debug for RawAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bcrypt hash is material for offline guessing: show only whether it is set.
        f.debug_struct("RawAuth")
            .field("password_hash", &if self.password_hash.is_empty() { "" } else { "<set>" })
            .field("session_secret", &self.session_secret)
            .field("allow_no_auth", &self.allow_no_auth)
            .finish()
    }
}

/// The shortest global key accepted: a key anyone can post reports and events with must not
/// be guessable.
pub const MIN_GLOBAL_KEY_LEN: usize = 32;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawApi {
    /// The global Bearer key accepted for report ingest and the read endpoints.
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub report_api_key: SecretString,
    /// Whether the global key may read infra backups (restic passwords, controller.yaml); each
    /// such read is audited. Off: only the customer's own key and the operator may.
    pub global_key_reads_backups: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawNotifications {
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub resend_api_key: SecretString,
    pub resend_base_url: String,
    pub from_email: String,
    pub operator_email: String,
    pub operator_enabled: bool,
    /// Channels besides email (webhook, ntfy, smtp) that get the operator's alerts.
    pub channels: Vec<RawChannel>,
}

/// One entry of `notifications.channels`, as written: the fields of every kind side by side,
/// checked against its `kind` at start-up (see `notify::channels::ChannelSpec`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawChannel {
    /// Names the channel in the notification log and in `POST /api/v1/notifications/test`.
    pub name: String,
    /// `webhook`, `ntfy` or `smtp`.
    pub kind: String,
    /// The severities it gets (`info`, `warning`, `error`); empty: all.
    pub severities: Vec<String>,
    /// The event types it gets; empty: all (and the legacy relay).
    pub types: Vec<String>,
    /// webhook: where the JSON goes; ntfy: the topic URL.
    pub url: String,
    /// webhook: the key of the `X-Felhom-Signature` HMAC.
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub secret: SecretString,
    /// ntfy: the access token sent as Bearer (optional).
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub token: SecretString,
    /// smtp: the server, its port (default by `tls`), and `starttls` (default), `tls` or `none`.
    pub host: String,
    pub port: Option<u16>,
    pub tls: String,
    pub user: String,
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub password: SecretString,
    /// smtp: the sender and the recipients.
    pub from: String,
    pub to: Vec<String>,
}

impl Default for RawNotifications {
    fn default() -> Self {
        Self {
            resend_api_key: SecretString::default(),
            resend_base_url: "https://api.resend.com".into(),
            from_email: "monitoring@felhom.eu".into(),
            operator_email: String::new(),
            operator_enabled: true,
            channels: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRetention {
    pub max_days: u32,
    pub prune_schedule: String,
}

impl Default for RawRetention {
    fn default() -> Self {
        Self { max_days: 90, prune_schedule: "04:30".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawAlerting {
    pub stale_threshold: String,
    /// How often the staleness checker (the dead man's switch) looks at every node.
    pub check_interval: String,
    /// A storm: more than this percentage of the reporting nodes went silent within
    /// `storm_window` (one `fleet_outage` alert to the operator, per-node emails held).
    pub storm_percent: u32,
    pub storm_window: String,
    /// How often an open, unacknowledged alert is repeated to the operator; `0`: never.
    pub reminder_interval: String,
    /// A node whose status changes more than this many times in an hour is flapping: one
    /// `node_flapping` notice instead of an email per change; `0`: never.
    pub flapping_changes: u32,
    /// Pinged (GET) every minute by the leading replica: a dead man's switch for the hub itself
    /// (Healthchecks.io, Uptime Kuma push, …); empty: off.
    pub heartbeat_url: String,
}

impl Default for RawAlerting {
    fn default() -> Self {
        Self {
            stale_threshold: "30m".into(),
            check_interval: "60s".into(),
            storm_percent: 20,
            storm_window: "5m".into(),
            reminder_interval: "24h".into(),
            flapping_changes: 4,
            heartbeat_url: String::new(),
        }
    }
}

/// The hub's calls to controllers (push, pull, diff, update).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawControllers {
    /// The limit of one call to a controller, from connecting to the answer's last byte.
    pub timeout: String,
    /// How long after an update request a report with the new version may take before the
    /// update counts as not arrived (`controller_update_failed`).
    pub update_timeout: String,
    /// How often the drift check diffs every managed node's live config against the hub's.
    pub drift_interval: String,
}

impl Default for RawControllers {
    fn default() -> Self {
        Self { timeout: "10s".into(), update_timeout: "30m".into(), drift_interval: "1h".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRegistry {
    /// The controller image whose tags the registry watch lists every `check_interval`
    /// (`host/owner/name`, or a Docker Hub name); empty switches the watch off.
    pub image: String,
    pub username: String,
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub token: SecretString,
    pub check_interval: String,
    /// Whether the registry watch takes pre-releases (`1.5.0-rc.1`) as the newest version.
    pub include_prereleases: bool,
    /// Talks to the image's registry over `http://`: for tests and local stand-ins only.
    pub image_allow_http: bool,
    pub template_interval: String,
    /// Where `controller.yaml.example` is fetched from (https); empty keeps the bundled template.
    pub template_url: String,
    /// Allows an `http://` template URL: for tests and local stand-ins only.
    pub template_allow_http: bool,
}

/// The parsed `registry.template_url`: https, or http when `template_allow_http` is set. The
/// error never repeats the URL (it may hold a token).
pub fn template_url(registry: &RawRegistry) -> anyhow::Result<reqwest::Url> {
    let url = reqwest::Url::parse(registry.template_url.trim())
        .map_err(|e| anyhow::anyhow!("invalid registry.template_url: not a URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if registry.template_allow_http => Ok(url),
        _ => anyhow::bail!(
            "invalid registry.template_url: must start with https:// (registry.template_allow_http: true allows \
             http:// for tests)"
        ),
    }
}

impl Default for RawRegistry {
    fn default() -> Self {
        Self {
            image: "gitea.dooplex.hu/admin/felhom-controller".into(),
            username: String::new(),
            token: SecretString::default(),
            check_interval: "30m".into(),
            include_prereleases: false,
            image_allow_http: false,
            template_interval: "1h".into(),
            template_url: String::new(),
            template_allow_http: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawServer {
    pub listen: String,
    pub data_dir: PathBuf,
    /// The time zone of daily jobs and of dates in emails.
    pub timezone: String,
    /// Take the client address from `X-Forwarded-For` (behind a trusted ingress only).
    pub trust_forwarded_for: bool,
    /// The hub's public URL, written into generated controller configs.
    pub public_url: String,
    /// `text` (for people) or `json` (one object per line, for a log pipeline).
    pub log_format: String,
    /// How often an idle live stream (`GET /api/v1/stream`) sends a heartbeat comment, so
    /// proxies do not close it.
    pub stream_heartbeat: String,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: ":8080".into(),
            data_dir: "/data".into(),
            timezone: "Europe/Budapest".into(),
            trust_forwarded_for: false,
            public_url: String::new(),
            log_format: "text".into(),
            stream_heartbeat: "15s".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawDatabase {
    /// `sqlite://PATH` or `postgres://…`; default `sqlite://<data_dir>/hub.db`.
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub url: SecretString,
    pub max_connections: u32,
    /// SQLite `synchronous` mode: `full` (default: nothing acknowledged is lost) or `normal`.
    pub sqlite_synchronous: String,
    /// SQLite page cache of each pooled connection, in KiB (SQLite's own default is 2,000).
    pub sqlite_cache_kib: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSecurity {
    /// Key for secrets at rest (base64 of 32 bytes); a key file in the data directory when empty.
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub encryption_key: SecretString,
    /// During a key rotation: the new key (base64 of 32 bytes). The hub seals with it and opens
    /// with both; `felhom-hub rotate-key` re-seals everything under it.
    #[serde(serialize_with = "ser_secret", deserialize_with = "de_secret")]
    pub new_encryption_key: SecretString,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawAssets {
    pub seed_dir: PathBuf,
}

impl Default for RawAssets {
    fn default() -> Self {
        Self { seed_dir: "/usr/share/felhom/assets-seed".into() }
    }
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            auth: RawAuth::default(),
            api: RawApi::default(),
            notifications: RawNotifications::default(),
            retention: RawRetention::default(),
            alerting: RawAlerting::default(),
            registry: RawRegistry::default(),
            server: RawServer::default(),
            database: RawDatabase {
                max_connections: 8,
                sqlite_synchronous: "full".into(),
                sqlite_cache_kib: crate::store::DEFAULT_SQLITE_CACHE_KIB,
                ..Default::default()
            },
            security: RawSecurity::default(),
            assets: RawAssets::default(),
            scheduler: RawScheduler::default(),
            metrics: RawMetrics::default(),
            backup: RawBackup::default(),
            controllers: RawControllers::default(),
        }
    }
}

/// Reads a secret from any scalar. A number or a boolean where a string is expected would
/// otherwise fail with an error that quotes the value (and so print the secret).
fn de_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Signed(i64),
        Unsigned(u64),
        Float(f64),
        Flag(bool),
    }
    let text = match Scalar::deserialize(d)
        .map_err(|_| serde::de::Error::custom("a secret must be a single value (text or number)"))?
    {
        Scalar::Text(s) => s,
        Scalar::Signed(n) => n.to_string(),
        Scalar::Unsigned(n) => n.to_string(),
        Scalar::Float(n) => n.to_string(),
        Scalar::Flag(b) => b.to_string(),
    };
    Ok(SecretString::from(text))
}

fn ser_secret<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    // Only used to seed figment's defaults; a default secret is always empty.
    s.serialize_str(secret.expose_secret())
}
