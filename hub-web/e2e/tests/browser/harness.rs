//! What the browser tests stand on: a real hub with a fresh database, Debian's chromedriver and
//! headless Chromium, and small helpers to wait for the page and save screenshots.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder};
use hub_api::config::RawConfig;
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const REPORT_KEY: &str = "browser-test-report-key-0123456789";
pub use hub_testkit::PASSWORD;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Fails with a clear message when what the tests need is missing; nothing is skipped.
pub fn check_prerequisites() {
    for (path, what) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: the browser tests need Debian's {what} (`apt-get install -y chromium chromium-driver`, \
             which `cargo xtask test` does)"
        );
    }
    let index = root().join("hub-web/dist/index.html");
    assert!(
        index.exists(),
        "{} is missing: build the web app first (`cargo xtask test` builds it before the tests)",
        index.display()
    );
}

/// A hub started in this process on a free port, with a fresh SQLite database and a password.
/// Debug builds of the hub serve `hub-web/dist` from disk, so it serves the app just built.
pub struct TestHub {
    pub base: String,
    pub hub: Option<hub_api::Hub>,
    _dir: tempfile::TempDir,
}

impl TestHub {
    pub async fn start() -> Result<TestHub> {
        TestHub::start_with(|_| {}).await
    }

    /// Like `start`, with `tweak` applied to the config first (a seed directory, an address).
    /// The hub comes from the test kit's one builder: a fresh SQLite database and none of the
    /// hub's jobs (the scenarios post their own events; a daily job would add its own at
    /// whatever time the suite runs, and a missed-backup warning at 05:00 changes the badges).
    pub async fn start_with(tweak: impl FnOnce(&mut RawConfig) + Send + 'static) -> Result<TestHub> {
        let started = hub_testkit::HubBuilder::new()
            .report_key(REPORT_KEY)
            .database(hub_testkit::Database::Sqlite)
            .tweak(tweak)
            .start()
            .await;
        Ok(TestHub { base: started.base, hub: Some(started.hub), _dir: started.dir })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Posts a report with the global key.
    pub async fn report(&self, body: &Value) -> Result<()> {
        let res =
            reqwest::Client::new().post(self.url("/api/v1/report")).bearer_auth(REPORT_KEY).json(body).send().await?;
        if !res.status().is_success() {
            bail!("report refused: {} {}", res.status(), res.text().await?);
        }
        Ok(())
    }

    /// Adds a customer config directly through the store, without a key (quicker than the API).
    pub async fn add_config(&self, id: &str, name: &str, status: &str) -> Result<()> {
        let state = &self.hub.as_ref().expect("running").state;
        let now = chrono_now_ms();
        let status = hub_shared::config::ConfigStatus::parse(status).expect("active or blocked");
        state.store().insert_config(id, name, None, status, now).await?;
        Ok(())
    }

    pub async fn stop(&mut self) -> Result<()> {
        if let Some(hub) = self.hub.take() {
            hub.shutdown().await?;
        }
        Ok(())
    }
}

pub fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    pub fn start() -> Result<Driver> {
        let port = free_port()?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {CHROMEDRIVER}"))?;
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                bail!("chromedriver did not listen on port {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Driver { child, url: format!("http://127.0.0.1:{port}") })
    }

    /// A headless Chromium session; `dark` makes the page see `prefers-color-scheme: dark`.
    pub async fn browser(&self, profile: &Path, dark: bool) -> Result<Client> {
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        if dark {
            args.push("--force-dark-mode".into());
            args.push("--blink-settings=preferredColorScheme=0".into());
        }
        // reqwest and fantoccini both enable rustls, with different crypto providers.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let caps = json!({ "goog:chromeOptions": { "binary": CHROMIUM, "args": args } });
        let caps = caps.as_object().expect("an object").clone();
        let client = ClientBuilder::rustls()?
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("cannot open a Chromium session through chromedriver")?;
        Ok(client)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to 10 s for a JavaScript expression to be true in the page.
pub async fn wait_until(client: &Client, expr: &str, what: &str) -> Result<()> {
    let started = Instant::now();
    loop {
        let value = client.execute(&format!("return !!({expr});"), vec![]).await?;
        if value == Value::Bool(true) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            let url = client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            bail!("timed out waiting for {what} ({expr}) at {url}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Evaluates a JavaScript expression in the page.
pub async fn eval(client: &Client, expr: &str) -> Result<Value> {
    Ok(client.execute(&format!("return ({expr});"), vec![]).await?)
}

/// Saves a screenshot as `target/screenshots/<name>.png` at the given window width.
pub async fn screenshot(client: &Client, name: &str, width: u32) -> Result<()> {
    let height = if width < 600 { 844 } else { 900 };
    client.set_window_size(width, height).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = client.screenshot().await?;
    let dir = root().join("target/screenshots");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.png")), png)?;
    Ok(())
}
