//! Starts a hub for a test and talks to it.

use std::path::PathBuf;

use hub_api::config::{Config, RawConfig};
use reqwest::{Client, Method, RequestBuilder, Response};
use secrecy::SecretString;
use serde_json::{json, Value};
use tempfile::TempDir;

pub const REPORT_KEY: &str = "test-global-report-key-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";
/// The `security.encryption_key` of hubs that share one database, as replicas must.
pub const SHARED_ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A hub started for one test, with a cookie-keeping client.
pub struct TestHub {
    pub base: String,
    pub client: Client,
    pub hub: Option<hub_api::Hub>,
    #[allow(dead_code)]
    pub data_dir: PathBuf,
    pub db_path: Option<PathBuf>,
    pub csrf: Option<String>,
    _dir: TempDir,
}

/// A change a test makes to the hub's configuration before it starts.
pub type Tweak = Box<dyn FnOnce(&mut RawConfig)>;

/// How a test wants its hub.
#[derive(Default)]
pub struct Options {
    pub password: bool,
    pub tweak: Option<Tweak>,
}

pub async fn spawn_hub() -> TestHub {
    spawn_hub_with(Options { password: true, tweak: None }).await
}

/// The database URL for a new test: a fresh PostgreSQL database when `HUB_TEST_POSTGRES_URL`
/// names a server, else a SQLite file in `dir`.
pub async fn fresh_database_url(dir: &std::path::Path) -> (String, Option<PathBuf>) {
    match std::env::var("HUB_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            use sqlx::Connection;
            let name = format!("hub_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test PostgreSQL");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create a test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
            (format!("{base}/{name}"), None)
        }
        _ => {
            let path = dir.join("hub.db");
            (format!("sqlite://{}", path.display()), Some(path))
        }
    }
}

pub async fn spawn_hub_with(options: Options) -> TestHub {
    let _ = tracing_subscriber::fmt().with_env_filter("warn,hub_api=info").with_test_writer().try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, db_path) = fresh_database_url(dir.path()).await;
    let mut raw = RawConfig::default();
    raw.server.listen = "127.0.0.1:0".into();
    raw.server.data_dir = dir.path().join("data");
    raw.database.url = SecretString::from(url);
    raw.api.report_api_key = SecretString::from(REPORT_KEY);
    raw.assets.seed_dir = dir.path().join("no-seed");
    // Tests run the jobs themselves with a chosen `now`; the hub's own scheduler must not run
    // them too at whatever time of day the suite happens to run (it still leads, so the
    // notification dispatcher works).
    raw.scheduler.disabled_jobs =
        ["staleness", "backup_deadline", "prune", "template_refresh", "session_cleanup"].map(String::from).to_vec();
    if options.password {
        raw.auth.password_hash = bcrypt::hash(PASSWORD, 4).expect("bcrypt");
    }
    if let Some(tweak) = options.tweak {
        tweak(&mut raw);
    }
    let config = Config::validate(raw).expect("valid test config");
    let data_dir = config.data_dir.clone();
    let hub = hub_api::start(config).await.expect("hub starts");
    TestHub {
        base: format!("http://{}", hub.addr),
        client: Client::builder().cookie_store(true).build().expect("client"),
        hub: Some(hub),
        data_dir,
        db_path,
        csrf: None,
        _dir: dir,
    }
}

impl TestHub {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self.client.request(method.clone(), self.url(path));
        if method != Method::GET {
            if let Some(csrf) = &self.csrf {
                req = req.header("x-csrf-token", csrf);
            }
        }
        req
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// A request with no cookies at all (a controller or a script).
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        Client::new().request(method, self.url(path))
    }

    /// Posts a report with a Bearer key.
    pub async fn post_report(&self, key: &str, body: &Value) -> Response {
        self.bare(Method::POST, "/api/v1/report").bearer_auth(key).json(body).send().await.expect("send")
    }

    /// Signs in with the test password and keeps the CSRF token.
    pub async fn login(&mut self) {
        let res = self.get_login(PASSWORD).await;
        assert_eq!(res.status(), 200, "login");
        let body: Value = res.json().await.unwrap();
        self.csrf = body["csrf_token"].as_str().map(str::to_string);
    }

    pub async fn get_login(&self, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "password": password }))
            .send()
            .await
            .expect("send")
    }

    /// GETs JSON as the signed-in operator, asserting the status.
    pub async fn get_json(&self, path: &str, status: u16) -> Value {
        let res = self.get(path).send().await.expect("send");
        assert_eq!(res.status().as_u16(), status, "GET {path}");
        res.json().await.expect("JSON body")
    }

    pub async fn stop(&mut self) {
        if let Some(hub) = self.hub.take() {
            hub.shutdown().await.expect("clean shutdown");
        }
    }
}

/// A realistic report for `customer_id`.
pub fn report(customer_id: &str) -> Value {
    json!({
        "customer_id": customer_id,
        "hostname": format!("{customer_id}-node"),
        "controller_version": "1.4.2",
        "controller_url": "http://10.0.0.5:8090",
        "health": "ok",
        "monitoring_enabled": true,
        "system": {
            "cpu_percent": 12.5, "load_1": 0.4, "load_5": 0.3, "load_15": 0.2,
            "memory_used_bytes": 2_000_000_000u64, "memory_total_bytes": 8_000_000_000u64,
            "uptime_seconds": 86400, "os": "Debian 12", "kernel": "6.1.0", "temperature_c": 48.0
        },
        "storage": [
            {"label": "system", "uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "/", "role": "system",
             "total_bytes": 100, "used_bytes": 40, "smart_ok": true},
            {"label": "data", "uuid": "1b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "/mnt/data", "role": "data",
             "total_bytes": 1000, "used_bytes": 750, "smart_ok": true}
        ],
        "containers": [
            {"name": "nextcloud", "app": "nextcloud", "image": "nextcloud:29", "state": "running", "health": "healthy", "restart_count": 0},
            {"name": "immich", "app": "immich", "image": "immich:1.1", "state": "exited", "health": null, "restart_count": 3}
        ],
        "backup": {"last_backup_at": "2026-11-26T02:10:00Z", "last_backup_ok": true,
                   "last_dbdump_at": "2026-11-26T02:05:00Z", "last_dbdump_ok": true,
                   "snapshot_count": 42, "repository_size_bytes": 123456789},
        "checks": [{"name": "disk", "status": "ok", "message": "fine"}]
    })
}

/// Adds a customer config with a controller key directly through the store.
pub async fn add_customer(hub: &TestHub, customer_id: &str, key: &str, status: &str) {
    let state = &hub.hub.as_ref().expect("running").state;
    let now = chrono::Utc::now().timestamp_millis();
    state
        .store()
        .insert_config(
            customer_id,
            &format!("{customer_id} display"),
            Some(&hub_api::auth::key_hash(key)),
            hub_shared::config::ConfigStatus::parse(status).expect("active or blocked"),
            now,
        )
        .await
        .expect("insert config");
}

impl TestHub {
    pub fn state(&self) -> &hub_api::state::AppState {
        &self.hub.as_ref().expect("running").state
    }

    /// Sends a JSON request as the signed-in operator (with the CSRF token).
    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path).json(body).send().await.expect("send")
    }

    /// Creates a config as the operator and returns the creation answer.
    pub async fn create_config(&self, customer_id: &str) -> Value {
        let body = json!({
            "customer_id": customer_id,
            "display_name": format!("{customer_id} család"),
            "domain": format!("{customer_id}.felhom.eu"),
            "contact_email": format!("{customer_id}@example.hu"),
        });
        let res = self.send_json(Method::POST, "/api/v1/configs", &body).await;
        assert_eq!(res.status(), 201, "create {customer_id}");
        res.json().await.expect("JSON body")
    }

    /// A GET with the retrieval password header (raw UTF-8 bytes, as curl sends them).
    pub async fn get_with_password(&self, path: &str, password: &str) -> Response {
        let value = reqwest::header::HeaderValue::from_bytes(password.as_bytes()).expect("header value");
        self.bare(Method::GET, path).header("x-retrieval-password", value).send().await.expect("send")
    }
}

/// A valid infra backup of `customer_id`.
pub fn infra_backup(customer_id: &str, primary: &str) -> Value {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({
        "customer_id": customer_id,
        "controller_yaml": b64.encode(format!("customer:\n  id: {customer_id}\n")),
        "settings_json": b64.encode("{\"backup\":{\"time\":\"02:00\"}}"),
        "disks": [{
            "uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "label": "data", "mount_point": "/mnt/data",
            "fstab_options": "defaults,nofail", "bind_mounts": ["/srv/photos", {"source": "/mnt/data/a", "target": "/srv/a"}]
        }],
        "stacks": [{"app": "immich", "display_name": "Immich", "hdd_path": "/mnt/data/immich"}],
        "restic_passwords": {"primary": primary, "cross_drive": format!("{primary}-cross")}
    })
}
