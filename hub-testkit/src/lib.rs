//! One way to start a hub in tests, used by the integration suite (`hub-api/tests/api`), its
//! PostgreSQL run and the browser tests (`hub-web/e2e`).
//!
//! A [`HubBuilder`] gives a hub on `127.0.0.1:0` with a fresh database (a SQLite file in a
//! temporary directory, or a fresh PostgreSQL database when `HUB_TEST_POSTGRES_URL` names a
//! server) and every job of [`hub_api::jobs::all`] switched off: tests run a job themselves with
//! a chosen `now`, and a scheduler that ran it too, at whatever time of day the suite happens to
//! run, would add events no test expects. A test that wants the hub's own scheduler to run a job
//! asks for it by name ([`HubBuilder::enable_job`]). The hub still takes the leader lease, so its
//! notification dispatcher works.
//!
//! Tests that only mean something on PostgreSQL call [`postgres_admin_url`]: without a server
//! they print `SKIPPED:` where the terminal shows it, and when `HUB_TEST_REQUIRE_POSTGRES` is
//! set (as `cargo xtask test` sets it for its PostgreSQL run) a skip is a failure instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use hub_api::config::{Config, RawConfig};
use secrecy::SecretString;
use tempfile::TempDir;

/// The global report key of test hubs.
pub const REPORT_KEY: &str = "test-global-report-key-0123456789";
/// The operator password of test hubs that have one.
pub const PASSWORD: &str = "correct horse battery staple";
/// The `security.encryption_key` of hubs that share one database, as replicas must.
pub const SHARED_ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The PostgreSQL server tests may create databases on (`HUB_TEST_POSTGRES_URL`).
const POSTGRES_URL_VAR: &str = "HUB_TEST_POSTGRES_URL";
/// Set by `cargo xtask test` for its PostgreSQL run: a test that would skip fails instead.
const REQUIRE_POSTGRES_VAR: &str = "HUB_TEST_REQUIRE_POSTGRES";

/// A change a test makes to the hub's configuration before it starts.
pub type Tweak = Box<dyn FnOnce(&mut RawConfig) + Send>;

/// Where a test hub keeps its data.
#[derive(Debug, Clone, Default)]
pub enum Database {
    /// PostgreSQL when `HUB_TEST_POSTGRES_URL` is set, else a SQLite file: the suite's default,
    /// so the same tests run against both.
    #[default]
    Fresh,
    /// Always a fresh SQLite file, even in the PostgreSQL run.
    Sqlite,
    /// This database URL (for replicas sharing one database, or a copied one).
    Url(String),
}

/// How a test wants its hub. Start with [`HubBuilder::new`].
pub struct HubBuilder {
    password: bool,
    report_key: String,
    database: Database,
    enabled_jobs: Vec<String>,
    tweaks: Vec<Tweak>,
}

impl Default for HubBuilder {
    fn default() -> Self {
        HubBuilder::new()
    }
}

impl HubBuilder {
    /// A hub with the operator password [`PASSWORD`], the global key [`REPORT_KEY`], a fresh
    /// database and no job of its own.
    pub fn new() -> HubBuilder {
        HubBuilder {
            password: true,
            report_key: REPORT_KEY.to_string(),
            database: Database::Fresh,
            enabled_jobs: Vec::new(),
            tweaks: Vec::new(),
        }
    }

    /// With `false`, the hub has no operator login at all.
    pub fn password(mut self, password: bool) -> Self {
        self.password = password;
        self
    }

    pub fn report_key(mut self, key: &str) -> Self {
        self.report_key = key.to_string();
        self
    }

    pub fn database(mut self, database: Database) -> Self {
        self.database = database;
        self
    }

    /// Lets the hub's own scheduler run the job `name` (a name of [`hub_api::jobs::all`]).
    pub fn enable_job(mut self, name: &str) -> Self {
        assert!(job_names().iter().any(|n| n == name), "no job is called {name:?}; the hub has {:?}", job_names());
        self.enabled_jobs.push(name.to_string());
        self
    }

    /// A change to the configuration, applied after the builder's own settings.
    pub fn tweak(mut self, tweak: impl FnOnce(&mut RawConfig) + Send + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// The configuration the hub would start with, in `dir`, and the SQLite file if it has one.
    pub async fn raw_config(self, dir: &Path) -> (RawConfig, Option<PathBuf>) {
        let (url, db_path) = match self.database {
            Database::Fresh => fresh_database_url(dir).await,
            Database::Sqlite => sqlite_url(dir),
            Database::Url(url) => (url, None),
        };
        let mut raw = RawConfig::default();
        raw.server.listen = "127.0.0.1:0".into();
        raw.server.data_dir = dir.join("data");
        raw.database.url = SecretString::from(url);
        raw.api.report_api_key = SecretString::from(self.report_key);
        raw.assets.seed_dir = dir.join("no-seed");
        let enabled: Vec<&str> = self.enabled_jobs.iter().map(String::as_str).collect();
        raw.scheduler.disabled_jobs = jobs_except(&enabled);
        if self.password {
            raw.auth.password_hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
        }
        for tweak in self.tweaks {
            tweak(&mut raw);
        }
        (raw, db_path)
    }

    /// Starts the hub in this process.
    pub async fn start(self) -> StartedHub {
        let _ = tracing_subscriber::fmt().with_env_filter("warn,hub_api=info").with_test_writer().try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let (raw, db_path) = self.raw_config(dir.path()).await;
        let config = Config::validate(raw).expect("valid test config");
        let data_dir = config.data_dir.clone();
        let hub = hub_api::start(config).await.expect("hub starts");
        StartedHub { base: format!("http://{}", hub.addr), hub, data_dir, db_path, dir }
    }
}

/// A hub running in this test's process, with the directory that holds its data.
pub struct StartedHub {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub hub: hub_api::Hub,
    pub data_dir: PathBuf,
    /// The SQLite file, when the hub is on SQLite.
    pub db_path: Option<PathBuf>,
    /// Removed when dropped: keep it as long as the hub runs.
    pub dir: TempDir,
}

/// The names of every job the hub has.
pub fn job_names() -> Vec<String> {
    hub_api::jobs::all().iter().map(|job| job.name().to_string()).collect()
}

/// `scheduler.disabled_jobs` that leaves only `enabled` to the hub's scheduler.
pub fn jobs_except(enabled: &[&str]) -> Vec<String> {
    job_names().into_iter().filter(|name| !enabled.contains(&name.as_str())).collect()
}

fn sqlite_url(dir: &Path) -> (String, Option<PathBuf>) {
    let path = dir.join("hub.db");
    (format!("sqlite://{}", path.display()), Some(path))
}

/// The server named by `HUB_TEST_POSTGRES_URL`, if any.
fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR).ok().filter(|url| !url.is_empty())
}

/// The database URL for a new test: a fresh PostgreSQL database when `HUB_TEST_POSTGRES_URL`
/// names a server, else a SQLite file in `dir`.
pub async fn fresh_database_url(dir: &Path) -> (String, Option<PathBuf>) {
    let Some(admin) = postgres_server() else { return sqlite_url(dir) };
    (fresh_postgres_database(&admin).await, None)
}

/// Creates an empty database on the server `admin` points at and returns its URL.
pub async fn fresh_postgres_database(admin: &str) -> String {
    use sqlx::Connection;
    let name = format!("hub_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect to the test PostgreSQL");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create a test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or_else(|| admin.to_string());
    format!("{base}/{name}")
}

/// The PostgreSQL server for a test that only means something there. Without one, the test is
/// skipped and says so on the terminal (past the test harness's output capture); when
/// `HUB_TEST_REQUIRE_POSTGRES` is set, a skip is a failure.
pub fn postgres_admin_url(test: &str) -> Option<String> {
    if let Some(url) = postgres_server() {
        return Some(url);
    }
    assert!(
        std::env::var_os(REQUIRE_POSTGRES_VAR).is_none(),
        "{test}: {REQUIRE_POSTGRES_VAR} is set but {POSTGRES_URL_VAR} is not: this run must test PostgreSQL"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {test}: {POSTGRES_URL_VAR} is not set (cargo xtask test sets it for its PostgreSQL run)"
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_hub_runs_no_job_of_its_own() {
        let disabled = jobs_except(&[]);
        assert_eq!(disabled, job_names());
        assert!(disabled.len() >= 5, "{disabled:?}");
    }

    #[test]
    fn an_enabled_job_is_left_to_the_scheduler() {
        let disabled = jobs_except(&["staleness"]);
        assert!(!disabled.contains(&"staleness".to_string()));
        assert_eq!(disabled.len(), job_names().len() - 1);
    }

    #[test]
    #[should_panic(expected = "no job is called")]
    fn enabling_an_unknown_job_is_a_mistake() {
        let _ = HubBuilder::new().enable_job("no_such_job");
    }
}
