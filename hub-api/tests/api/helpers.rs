//! Starts a hub for a test and talks to it.

use std::path::PathBuf;

use hub_api::config::RawConfig;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{json, Value};
use tempfile::TempDir;

pub use hub_testkit::{fresh_database_url, HubBuilder, PASSWORD, REPORT_KEY, SHARED_ENCRYPTION_KEY};

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
pub type Tweak = Box<dyn FnOnce(&mut RawConfig) + Send>;

/// How a test wants its hub.
#[derive(Default)]
pub struct Options {
    pub password: bool,
    pub tweak: Option<Tweak>,
}

pub async fn spawn_hub() -> TestHub {
    spawn_hub_with(Options { password: true, tweak: None }).await
}

/// A hub from the test kit's one builder: a fresh database, no job of its own (tests run jobs
/// with a chosen `now`).
pub async fn spawn_hub_with(options: Options) -> TestHub {
    let mut builder = HubBuilder::new().password(options.password);
    if let Some(tweak) = options.tweak {
        builder = builder.tweak(tweak);
    }
    start(builder).await
}

/// Starts what `builder` describes, with a cookie-keeping client.
pub async fn start(builder: HubBuilder) -> TestHub {
    let started = builder.start().await;
    TestHub {
        base: started.base,
        client: Client::builder().cookie_store(true).build().expect("client"),
        hub: Some(started.hub),
        data_dir: started.data_dir,
        db_path: started.db_path,
        csrf: None,
        _dir: started.dir,
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
