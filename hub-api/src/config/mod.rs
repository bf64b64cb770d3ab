//! The hub's configuration: built-in defaults, then `hub.yaml`, then `HUB_*` environment variables
//! with `__` between sections (`HUB_API__REPORT_API_KEY`). Read into the raw shape
//! ([`RawConfig`], in `raw.rs`) and validated once at start-up into [`Config`]; secrets are
//! `SecretString` and never appear in `Debug` or logs.

mod raw;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use chrono::NaiveTime;
use chrono_tz::Tz;
use figment::providers::{Env, Format, Serialized, Yaml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};

use crate::logging::LogFormat;

pub use raw::{
    template_url, RawAlerting, RawApi, RawAssets, RawAuth, RawBackup, RawChannel, RawConfig, RawControllers,
    RawDatabase, RawMetrics, RawNotifications, RawRegistry, RawRetention, RawScheduler, RawSecurity, RawServer,
    MIN_GLOBAL_KEY_LEN,
};

/// SQLite's durability mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    Full,
    Normal,
}

/// The validated configuration the hub runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub raw: RawConfig,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: SecretString,
    pub sqlite_sync: SqliteSync,
    pub stale_threshold: Duration,
    pub staleness_interval: Duration,
    /// `alerting.storm_window` and `alerting.reminder_interval` (zero: no reminders).
    pub storm_window: Duration,
    pub reminder_interval: Duration,
    pub timezone: Tz,
    pub prune_at: NaiveTime,
    pub check_interval: Duration,
    pub template_interval: Duration,
    pub lease_ttl: Duration,
    pub scheduler_tick: Duration,
    /// `controllers.timeout`: the limit of one call to a controller.
    pub controller_timeout: Duration,
    /// `controllers.update_timeout`: how long a requested update may take to arrive.
    pub update_timeout: Duration,
    /// `controllers.drift_interval`: how often the drift check runs.
    pub drift_interval: Duration,
    pub log_format: LogFormat,
    /// The `self_backup` job's plan; `None` while `backup.schedule` is empty.
    pub backup: Option<BackupPlan>,
    /// `server.stream_heartbeat`.
    pub stream_heartbeat: Duration,
    /// `alerting.heartbeat_url`, when set.
    pub heartbeat_url: Option<reqwest::Url>,
    /// `notifications.channels`, checked.
    pub channels: Vec<crate::notify::channels::ChannelSpec>,
}

/// When and where the `self_backup` job writes, and how many files it keeps.
#[derive(Debug, Clone)]
pub struct BackupPlan {
    pub schedule: crate::jobs::Schedule,
    pub dir: PathBuf,
    pub keep: usize,
    pub include_key: bool,
}

impl Config {
    /// Loads defaults, then the YAML file (if given), then `HUB_*` variables, and validates.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        if let Some(path) = path {
            if !path.exists() {
                bail!("config file {} does not exist", path.display());
            }
            figment = figment.merge(Yaml::file(path));
        }
        figment = figment.merge(env_provider());
        Self::from_figment(figment)
    }

    /// Like [`Config::load`], with the YAML given as text (tests).
    pub fn from_yaml_and_env(yaml: &str) -> anyhow::Result<Config> {
        Self::from_figment(
            Figment::from(Serialized::defaults(RawConfig::default())).merge(Yaml::string(yaml)).merge(env_provider()),
        )
    }

    pub fn from_figment(figment: Figment) -> anyhow::Result<Config> {
        let raw: RawConfig = figment.extract().map_err(|e| {
            // figment's messages name the key ("invalid type ... for key `server.listen`")
            // and never contain a secret's value for string fields.
            anyhow!("invalid configuration: {e}")
        })?;
        Self::validate(raw)
    }

    pub fn validate(raw: RawConfig) -> anyhow::Result<Config> {
        let listen = parse_listen(&raw.server.listen).with_context(|| "invalid server.listen")?;
        let log_format = LogFormat::parse(&raw.server.log_format).ok_or_else(|| {
            anyhow!("invalid server.log_format: expected text or json, got {:?}", raw.server.log_format)
        })?;
        if raw.server.data_dir.as_os_str().is_empty() {
            bail!("invalid server.data_dir: must not be empty");
        }
        let stale_threshold = parse_duration("alerting.stale_threshold", &raw.alerting.stale_threshold)?;
        if stale_threshold < Duration::from_secs(60) {
            bail!("invalid alerting.stale_threshold: must be at least 1m");
        }
        let staleness_interval = parse_duration("alerting.check_interval", &raw.alerting.check_interval)?;
        if staleness_interval < Duration::from_secs(1) || staleness_interval > stale_threshold {
            bail!("invalid alerting.check_interval: must be between 1s and alerting.stale_threshold");
        }
        let storm_window = parse_duration("alerting.storm_window", &raw.alerting.storm_window)?;
        if storm_window < Duration::from_secs(60) || storm_window > Duration::from_secs(24 * 3600) {
            bail!("invalid alerting.storm_window: must be between 1m and 24h");
        }
        if !(1..=100).contains(&raw.alerting.storm_percent) {
            bail!("invalid alerting.storm_percent: must be 1–100");
        }
        let reminder_interval = parse_duration("alerting.reminder_interval", &raw.alerting.reminder_interval)?;
        if !reminder_interval.is_zero() && reminder_interval < Duration::from_secs(600) {
            bail!("invalid alerting.reminder_interval: must be 0 (never) or at least 10m");
        }
        let check_interval = parse_duration("registry.check_interval", &raw.registry.check_interval)?;
        let template_interval = parse_duration("registry.template_interval", &raw.registry.template_interval)?;
        let controller_timeout = parse_duration("controllers.timeout", &raw.controllers.timeout)?;
        if controller_timeout.is_zero() || controller_timeout > Duration::from_secs(60) {
            bail!("invalid controllers.timeout: must be above zero and at most 1m");
        }
        let update_timeout = parse_duration("controllers.update_timeout", &raw.controllers.update_timeout)?;
        if update_timeout < Duration::from_secs(60) {
            bail!("invalid controllers.update_timeout: must be at least 1m");
        }
        let drift_interval = parse_duration("controllers.drift_interval", &raw.controllers.drift_interval)?;
        if drift_interval < Duration::from_secs(60) {
            bail!("invalid controllers.drift_interval: must be at least 1m");
        }
        let lease_ttl = parse_duration("scheduler.lease_ttl", &raw.scheduler.lease_ttl)?;
        let scheduler_tick = parse_duration("scheduler.tick", &raw.scheduler.tick)?;
        if scheduler_tick.is_zero() || scheduler_tick * 2 > lease_ttl {
            bail!("invalid scheduler.tick: must be above zero and at most half of scheduler.lease_ttl");
        }
        let timezone: Tz = raw
            .server
            .timezone
            .parse()
            .map_err(|_| anyhow!("invalid server.timezone: unknown time zone {:?}", raw.server.timezone))?;
        let prune_at = NaiveTime::parse_from_str(&raw.retention.prune_schedule, "%H:%M").map_err(|_| {
            anyhow!("invalid retention.prune_schedule: expected HH:MM, got {:?}", raw.retention.prune_schedule)
        })?;
        if raw.retention.max_days == 0 {
            bail!("invalid retention.max_days: must be at least 1");
        }
        if !raw.auth.password_hash.is_empty() && raw.auth.password_hash.parse::<bcrypt::HashParts>().is_err() {
            bail!("invalid auth.password_hash: not a bcrypt hash (make one with `felhom-hub hash-password`)");
        }
        let n = &raw.notifications;
        if !(n.resend_base_url.starts_with("http://") || n.resend_base_url.starts_with("https://")) {
            bail!("invalid notifications.resend_base_url: must start with http:// or https://");
        }
        if !n.operator_email.trim().is_empty() {
            hub_shared::validate::email(n.operator_email.trim())
                .map_err(|e| anyhow!("invalid notifications.operator_email: {e}"))?;
        }
        if !n.from_email.contains('@') {
            bail!("invalid notifications.from_email: expected an address (or `Name <address>`)");
        }
        let channels = crate::notify::channels::ChannelSpec::parse_all(&n.channels)?;
        let heartbeat_url = heartbeat_url(&raw.alerting.heartbeat_url)?;
        let stream_heartbeat = parse_duration("server.stream_heartbeat", &raw.server.stream_heartbeat)?;
        if stream_heartbeat < Duration::from_millis(10) {
            bail!("invalid server.stream_heartbeat: must be at least 10ms");
        }
        if !raw.registry.template_url.trim().is_empty() {
            template_url(&raw.registry)?;
        }
        if !raw.registry.image.trim().is_empty() {
            crate::registry::ImageRef::parse(&raw.registry.image)?;
        }
        let global_key = raw.api.report_api_key.expose_secret();
        if !global_key.is_empty() && global_key.chars().count() < MIN_GLOBAL_KEY_LEN {
            bail!(
                "invalid api.report_api_key: the global key must be at least {MIN_GLOBAL_KEY_LEN} characters \
                 (or empty for none); make one with `openssl rand -hex 32`"
            );
        }
        let metrics_token = raw.metrics.token.expose_secret();
        if !metrics_token.is_empty() && metrics_token.chars().count() < MIN_GLOBAL_KEY_LEN {
            bail!(
                "invalid metrics.token: must be at least {MIN_GLOBAL_KEY_LEN} characters (or empty for none); \
                 make one with `openssl rand -hex 32`"
            );
        }
        let session_secret = raw.auth.session_secret.expose_secret();
        if !session_secret.is_empty() && session_secret.len() < 32 {
            bail!("invalid auth.session_secret: must be at least 32 characters (or empty to let the hub make one)");
        }
        if raw.database.max_connections == 0 {
            bail!("invalid database.max_connections: must be at least 1");
        }
        if !(64..=1_048_576).contains(&raw.database.sqlite_cache_kib) {
            bail!("invalid database.sqlite_cache_kib: must be between 64 and 1048576 (KiB for each connection)");
        }
        let sqlite_sync = match raw.database.sqlite_synchronous.to_ascii_lowercase().as_str() {
            "full" => SqliteSync::Full,
            "normal" => SqliteSync::Normal,
            other => bail!("invalid database.sqlite_synchronous: expected full or normal, got {other:?}"),
        };
        let url = raw.database.url.expose_secret().trim().to_string();
        let database_url = if url.is_empty() {
            SecretString::from(format!("sqlite://{}/hub.db", raw.server.data_dir.display()))
        } else if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
            SecretString::from(url)
        } else {
            bail!("invalid database.url: must start with sqlite:// or postgres://");
        };
        for (key, value) in [
            ("security.encryption_key", &raw.security.encryption_key),
            ("security.new_encryption_key", &raw.security.new_encryption_key),
        ] {
            if !value.expose_secret().is_empty() && crate::crypto::decode_key(value.expose_secret()).is_err() {
                bail!("invalid {key}: must be the base64 of 32 bytes");
            }
        }
        if !listen.ip().is_loopback() && raw.auth.password_hash.is_empty() && !raw.auth.allow_no_auth {
            bail!(
                "invalid server.listen: refusing to listen on {listen} without an operator password; \
                 set auth.password_hash, or auth.allow_no_auth: true to run open on purpose"
            );
        }
        let backup = backup_plan(&raw, database_url.expose_secret().starts_with("sqlite:"))?;
        Ok(Config {
            backup,
            channels,
            heartbeat_url,
            stream_heartbeat,
            data_dir: raw.server.data_dir.clone(),
            listen,
            database_url,
            sqlite_sync,
            stale_threshold,
            staleness_interval,
            storm_window,
            reminder_interval,
            timezone,
            prune_at,
            check_interval,
            template_interval,
            lease_ttl,
            scheduler_tick,
            controller_timeout,
            update_timeout,
            drift_interval,
            log_format,
            raw,
        })
    }

    pub fn auth_required(&self) -> bool {
        !self.raw.auth.password_hash.is_empty()
    }

    pub fn stale_ms(&self) -> i64 {
        self.stale_threshold.as_millis() as i64
    }

    /// The SQLite file of `database.url`; `None` on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = self.database_url.expose_secret();
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

fn backup_plan(raw: &RawConfig, sqlite: bool) -> anyhow::Result<Option<BackupPlan>> {
    let b = &raw.backup;
    let text = b.schedule.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !sqlite {
        bail!("invalid backup.schedule: the self_backup job copies SQLite hubs; back up PostgreSQL with pg_dump");
    }
    let schedule = match NaiveTime::parse_from_str(text, "%H:%M") {
        Ok(at) => crate::jobs::Schedule::DailyAt(at),
        Err(_) => {
            let every = parse_duration("backup.schedule", text)
                .map_err(|_| anyhow!("invalid backup.schedule: expected HH:MM (daily) or an interval such as 6h"))?;
            if every < Duration::from_secs(60) {
                bail!("invalid backup.schedule: at most one backup a minute");
            }
            crate::jobs::Schedule::Every(every)
        }
    };
    if b.keep == 0 {
        bail!("invalid backup.keep: must be at least 1");
    }
    let dir = if b.dir.as_os_str().is_empty() { raw.server.data_dir.join("backups") } else { b.dir.clone() };
    Ok(Some(BackupPlan { schedule, dir, keep: b.keep as usize, include_key: b.include_key }))
}

/// `alerting.heartbeat_url`: http or https, or empty for none. The error never repeats the URL
/// (its path or query usually holds the check's key).
fn heartbeat_url(text: &str) -> anyhow::Result<Option<reqwest::Url>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match reqwest::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(Some(url)),
        _ => bail!("invalid alerting.heartbeat_url: expected an http:// or https:// URL (or empty for none)"),
    }
}

/// `HUB_<SECTION>__<KEY>` variables. Variables without a section (`HUB_CONFIG`, the config file's
/// path) are not configuration keys and are left alone.
fn env_provider() -> Env {
    Env::prefixed("HUB_").filter(|key| key.as_str().contains("__")).split("__").lowercase(true)
}

/// Accepts `:8080` (all interfaces, as the original), `127.0.0.1:0` and `[::1]:8080`.
fn parse_listen(s: &str) -> anyhow::Result<SocketAddr> {
    let s = s.trim();
    let full = if s.starts_with(':') { format!("0.0.0.0{s}") } else { s.to_string() };
    full.parse().map_err(|_| anyhow!("expected HOST:PORT or :PORT, got {s:?}"))
}

fn parse_duration(key: &str, s: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(s.trim()).map_err(|e| anyhow!("invalid {key}: {e} (examples: 30m, 1h, 90s)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn with(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut f = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Serialized::default("server.listen", "127.0.0.1:0"));
        for (k, v) in pairs {
            f = f.merge(Serialized::default(k, v));
        }
        Config::from_figment(f)
    }

    #[test]
    fn alerting_keys_are_checked() {
        let c = with(&[]).unwrap();
        assert_eq!((c.storm_window, c.reminder_interval), (Duration::from_secs(300), Duration::from_secs(86400)));
        assert_eq!((c.raw.alerting.storm_percent, c.raw.alerting.flapping_changes), (20, 4));
        assert!(with(&[("alerting.reminder_interval", "0")]).unwrap().reminder_interval.is_zero());
        for (key, value) in
            [("alerting.reminder_interval", "1m"), ("alerting.storm_window", "10s"), ("alerting.storm_window", "soon")]
        {
            let e = with(&[(key, value)]).unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
        let f = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Serialized::default("server.listen", "127.0.0.1:0"))
            .merge(Serialized::default("alerting.storm_percent", 0));
        assert!(Config::from_figment(f).unwrap_err().to_string().contains("alerting.storm_percent"));
    }

    #[test]
    fn defaults_are_valid() {
        let c = with(&[]).unwrap();
        assert_eq!(c.stale_threshold, Duration::from_secs(1800));
        assert_eq!(c.timezone, chrono_tz::Europe::Budapest);
        assert_eq!(c.database_url.expose_secret(), "sqlite:///data/hub.db");
        assert_eq!(c.sqlite_sync, SqliteSync::Full);
        assert_eq!((c.controller_timeout, c.update_timeout), (Duration::from_secs(10), Duration::from_secs(1800)));
    }

    #[test]
    fn invalid_values_name_their_key() {
        for (key, value) in [
            ("alerting.stale_threshold", "soon"),
            ("server.timezone", "Mars/Base"),
            ("retention.prune_schedule", "25:00"),
            ("server.listen", "nowhere"),
            ("database.url", "mysql://x"),
            ("database.sqlite_synchronous", "off"),
            ("server.log_format", "xml"),
            ("metrics.token", "short-metrics-token"),
            ("backup.schedule", "whenever"),
            ("controllers.timeout", "2m"),
            ("controllers.update_timeout", "10s"),
            ("auth.password_hash", "plain"),
            ("notifications.resend_base_url", "api.resend.com"),
            ("notifications.operator_email", "ops at felhom"),
            ("notifications.from_email", "monitoring"),
            ("alerting.heartbeat_url", "ftp://hc-ping.example/uuid"),
            ("server.stream_heartbeat", "often"),
        ] {
            let err = with(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn sqlite_cache_size_has_a_floor() {
        let small = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Serialized::default("server.listen", "127.0.0.1:0"))
            .merge(Serialized::default("database.sqlite_cache_kib", 16));
        let err = Config::from_figment(small).unwrap_err().to_string();
        assert!(err.contains("database.sqlite_cache_kib"), "{err}");
        assert_eq!(with(&[]).unwrap().raw.database.sqlite_cache_kib, crate::store::DEFAULT_SQLITE_CACHE_KIB);
    }

    #[test]
    fn refuses_open_listen_without_password() {
        let err = with(&[("server.listen", ":8080")]).unwrap_err().to_string();
        assert!(err.contains("auth.allow_no_auth"), "{err}");
        let open = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Serialized::default("server.listen", ":8080"))
            .merge(Serialized::default("auth.allow_no_auth", true));
        assert!(Config::from_figment(open).is_ok());
    }

    #[test]
    fn yaml_then_environment() {
        // Only variables of this test's own making, so parallel tests are not disturbed.
        std::env::set_var("HUB_RETENTION__MAX_DAYS", "30");
        std::env::set_var("HUB_CONFIG", "/etc/felhom/hub.yaml");
        let c = Config::from_yaml_and_env("server:\n  listen: 127.0.0.1:9000\nretention:\n  max_days: 10\n").unwrap();
        std::env::remove_var("HUB_RETENTION__MAX_DAYS");
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.raw.retention.max_days, 30, "the environment wins over the file");
        let err = Config::from_yaml_and_env("server:\n  listen: 127.0.0.1:9000\n  lisen: x\n").unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn a_global_key_under_32_characters_stops_start_up() {
        let short = "only-thirty-one-characters-long";
        assert_eq!(short.len(), MIN_GLOBAL_KEY_LEN - 1);
        let err = with(&[("api.report_api_key", short)]).unwrap_err().to_string();
        assert!(err.contains("api.report_api_key") && err.contains("at least 32 characters"), "{err}");
        assert!(!err.contains(short), "the key is not shown: {err}");
        assert!(with(&[("api.report_api_key", "exactly-thirty-two-characters-ok")]).is_ok());
        assert!(with(&[("api.report_api_key", "")]).is_ok(), "no global key at all is allowed");
    }

    #[test]
    fn the_template_url_is_https_unless_allowed_for_tests() {
        let url = |u: &str| ("registry.template_url", u.to_string());
        let err = |pairs: &[(&str, String)]| {
            let mut f = Figment::from(Serialized::defaults(RawConfig::default()))
                .merge(Serialized::default("server.listen", "127.0.0.1:0"));
            for (k, v) in pairs {
                f = match v.as_str() {
                    "true" => f.merge(Serialized::default(k, true)),
                    _ => f.merge(Serialized::default(k, v)),
                };
            }
            Config::from_figment(f).err().map(|e| e.to_string())
        };
        assert_eq!(err(&[url("https://gitea.example/raw/controller.yaml.example")]), None);
        let plain = err(&[url("http://u:secret-pw@gitea.example/c.yaml?token=secret-q")]).unwrap();
        assert!(plain.contains("registry.template_url") && plain.contains("https://"), "{plain}");
        assert!(!plain.contains("secret"), "{plain}");
        assert!(err(&[url("ftp://gitea.example/c.yaml")]).is_some());
        assert!(err(&[url("not a url")]).is_some());
        let allowed = [url("http://127.0.0.1:9/c.yaml"), ("registry.template_allow_http", "true".into())];
        assert_eq!(err(&allowed), None);
    }

    #[test]
    fn channels_are_checked_at_start_up_and_their_secrets_hidden() {
        let yaml = |secret: &str| {
            format!(
                "server:\n  listen: 127.0.0.1:0\nnotifications:\n  channels:\n    - name: ops-hook\n      kind: webhook\n      \
                 url: https://hooks.example/x\n      secret: {secret}\n      severities: [warning, error]\n"
            )
        };
        let c = Config::from_yaml_and_env(&yaml("whsec-long-enough-0123456789")).unwrap();
        assert_eq!(c.channels.len(), 1);
        assert!(!format!("{c:?}").contains("whsec-long"), "the secret is not shown");
        let err = Config::from_yaml_and_env(&yaml("short-secret")).unwrap_err().to_string();
        assert!(err.contains("notifications.channels[0] (\"ops-hook\").secret"), "{err}");
        assert!(!err.contains("short-secret"), "{err}");
        let err = Config::from_yaml_and_env(&yaml("x").replace("kind: webhook", "kind: webhook\n      colour: red"));
        assert!(err.unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn debug_hides_secrets() {
        let c = with(&[
            ("api.report_api_key", "super-secret-key-0123456789abcdef"),
            ("auth.session_secret", "sess-secret-sess-secret-sess-secret"),
            ("auth.password_hash", "$2b$04$abcdefghijklmnopqrstuu5z1Uk1tJ5ZCUzTzNnAYf.kq3D6ZpMmi"),
            ("metrics.token", "metrics-secret-token-0123456789abcdef"),
            ("security.new_encryption_key", "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="),
        ])
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("super-secret-key") && !dbg.contains("sess-secret"), "{dbg}");
        assert!(!dbg.contains("metrics-secret-token") && !dbg.contains("ZmVkY2JhOTg3"), "{dbg}");
        assert!(!dbg.contains("$2b$04$"), "the password hash is not shown: {dbg}");
    }

    #[test]
    fn a_numeric_secret_is_read_as_text_and_never_quoted() {
        let f = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Serialized::default("server.listen", "127.0.0.1:0"))
            .merge(Serialized::default("registry.token", 84736251u64));
        let c = Config::from_figment(f).unwrap();
        assert_eq!(c.raw.registry.token.expose_secret(), "84736251");
        let short = with(&[("auth.session_secret", "short")]).unwrap_err().to_string();
        assert!(short.contains("auth.session_secret") && !short.contains("short\""), "{short}");
    }
}
