//! Browser tests of the operator's web app: headless Chromium (Debian's, through chromedriver)
//! against a real hub with a fresh database. They save screenshots of every page, light and
//! dark, at desktop (1280 px) and phone (390 px) width under `target/screenshots/`.
//!
//! `cargo xtask test` installs Chromium and builds the app before running them; when either is
//! missing they fail and say so.

mod alerting;
mod controllers;
mod customers;
mod fleet_pages;
mod harness;
mod live;
mod ops;
mod rollouts;

use anyhow::{ensure, Context, Result};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use harness::{eval, screenshot, wait_until, Driver, TestHub, PASSWORD};

const HOUR_MS: i64 = 3_600_000;

/// A full report; `health` and `monitoring` vary per customer.
fn report(id: &str, health: &str, monitoring: bool, cpu: f64, reported_at_ms: Option<i64>) -> Value {
    let mut r = json!({
        "customer_id": id,
        "hostname": format!("{id}-node"),
        "controller_version": "1.4.2",
        "health": health,
        "monitoring_enabled": monitoring,
        "system": {
            "cpu_percent": cpu, "load_1": 0.4, "load_5": 0.3, "load_15": 0.2,
            "memory_used_bytes": 2_000_000_000u64 + (cpu as u64) * 40_000_000, "memory_total_bytes": 8_000_000_000u64,
            "uptime_seconds": 350_000, "os": "Debian 12", "kernel": "6.1.0", "temperature_c": 48.0
        },
        "storage": [
            {"label": "system", "mount_point": "/", "role": "system", "total_bytes": 128_000_000_000u64,
             "used_bytes": 40_000_000_000u64, "smart_ok": true},
            {"label": "data", "mount_point": "/mnt/data", "role": "data", "total_bytes": 4_000_000_000_000u64,
             "used_bytes": 3_100_000_000_000u64, "smart_ok": true}
        ],
        "containers": [
            {"name": "nextcloud", "image": "nextcloud:29", "state": "running", "health": "healthy", "restart_count": 0},
            {"name": "immich", "image": "immich:1.1", "state": "exited", "restart_count": 3}
        ],
        "backup": {"last_backup_at": "2026-11-26T02:10:00Z", "last_backup_ok": true, "snapshot_count": 42},
        "checks": [{"name": "disk", "status": "ok", "message": "fine"}]
    });
    if let Some(ms) = reported_at_ms {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64);
        r["reported_at"] = json!(httpdate_rfc3339(t));
    }
    r
}

/// RFC 3339 without a date library: seconds since the epoch to `YYYY-MM-DDTHH:MM:SSZ`.
fn httpdate_rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The fleet the tests look at: every status the dashboard shows, a blocked customer and a day
/// of history for `alma`.
async fn seed(hub: &TestHub) -> Result<()> {
    let now = harness::chrono_now_ms();
    for i in (1..=48).rev() {
        let cpu = 20.0 + 15.0 * ((i as f64) / 4.0).sin() + (i % 5) as f64;
        hub.report(&report("alma", "ok", true, cpu, Some(now - i * HOUR_MS / 2))).await?;
    }
    hub.report(&report("alma", "ok", true, 23.0, None)).await?;
    hub.report(&report("barack", "fail", true, 91.0, None)).await?;
    hub.report(&report("citrom", "warn", true, 55.0, None)).await?;
    hub.report(&report("dio", "ok", false, 5.0, None)).await?;
    hub.add_config("eper", "Eper Kft.", "active").await?;
    hub.add_config("fuge", "Füge Bt.", "blocked").await?;
    hub.report(&report("fuge", "ok", true, 10.0, None)).await?;
    Ok(())
}

/// The status badge shown in the row of `id` on the current page, or null.
fn badge_of(id: &str) -> String {
    format!("document.querySelector('tr[data-customer=\"{id}\"] .badge')?.dataset.status")
}

fn visible_rows() -> &'static str {
    "Array.from(document.querySelectorAll('#fleet tbody tr')).map(r => r.dataset.customer).join(',')"
}

async fn login(client: &Client, password: &str) -> Result<()> {
    let input = client.wait().for_element(Locator::Css("#password")).await?;
    input.clear().await?;
    input.send_keys(password).await?;
    client.find(Locator::Css("form button[type=submit]")).await?.click().await?;
    Ok(())
}

async fn path(client: &Client) -> Result<String> {
    let url = client.current_url().await?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_uses_the_dashboard() -> Result<()> {
    harness::check_prerequisites();
    let _ = std::fs::remove_file(harness::root().join("target/screenshots/failure.png"));
    let mut hub = TestHub::start().await?;
    seed(&hub).await?;
    let driver = Driver::start()?;
    let profiles = tempfile::tempdir()?;
    let client = driver.browser(&profiles.path().join("light"), false).await?;
    let result = scenarios(&client, &hub).await;
    if result.is_err() {
        let _ = screenshot(&client, "failure", 1280).await;
    }
    client.close().await?;
    result?;
    let dark = driver.browser(&profiles.path().join("dark"), true).await?;
    let result = async {
        dark_screenshots(&dark, &hub).await?;
        // When the hub goes away the dashboard keeps the last data and says so.
        dark.goto(&hub.url("/")).await?;
        wait_until(&dark, "document.querySelectorAll('#fleet tbody tr').length === 5", "the fleet").await?;
        hub.stop().await?;
        dark.find(Locator::Css("#refresh")).await?.click().await?;
        wait_until(&dark, "!!document.querySelector('#unreachable')", "the unreachable notice").await?;
        ensure!(eval(&dark, "document.querySelectorAll('#fleet tbody tr').length").await? == json!(5), "rows kept");
        screenshot(&dark, "dashboard-unreachable-dark-1280", 1280).await
    }
    .await;
    dark.close().await?;
    result
}

async fn scenarios(client: &Client, hub: &TestHub) -> Result<()> {
    // A deep link while signed out leads to the login page, and back after signing in.
    client.goto(&hub.url("/customers/alma")).await?;
    wait_until(client, "location.pathname === '/login'", "the login page").await?;
    ensure!(path(client).await?.contains("next=%2Fcustomers%2Falma"), "login keeps where the operator was going");
    screenshot(client, "login-light-1280", 1280).await?;
    screenshot(client, "login-light-390", 390).await?;
    client.set_window_size(1280, 900).await?;

    login(client, "not the password").await.context("wrong password")?;
    wait_until(client, "document.querySelector('#login-error')?.textContent.includes('Wrong password')", "the error")
        .await?;
    ensure!(path(client).await?.starts_with("/login"), "a wrong password stays on the login page");
    login(client, PASSWORD).await.context("right password")?;
    wait_until(client, "location.pathname === '/customers/alma'", "the customer page after login").await?;

    // The dashboard shows each customer with the status the shared rule gives.
    client.goto(&hub.url("/")).await?;
    wait_until(client, "document.querySelectorAll('#fleet tbody tr').length === 5", "five rows").await?;
    for (id, status) in
        [("alma", "OK"), ("barack", "DOWN"), ("citrom", "WARN"), ("dio", "DISABLED"), ("eper", "PENDING")]
    {
        let shown = eval(client, &badge_of(id)).await?;
        ensure!(shown == json!(status), "{id} shows {shown}, expected {status}");
    }
    ensure!(eval(client, &badge_of("fuge")).await? == Value::Null, "blocked customers are hidden");
    ensure!(
        eval(client, visible_rows()).await? == json!("barack,citrom,eper,dio,alma"),
        "worst first: {}",
        eval(client, visible_rows()).await?
    );
    let down = eval(client, "document.querySelector('[data-count=DOWN] .count-n').textContent").await?;
    ensure!(down == json!("1"), "one DOWN in the counts, got {down}");
    ensure!(
        eval(client, "document.querySelector('#refreshed').textContent.startsWith('Updated')").await? == json!(true),
        "shows when the data was refreshed"
    );
    screenshot(client, "dashboard-light-1280", 1280).await?;
    screenshot(client, "dashboard-light-390", 390).await?;
    client.set_window_size(1280, 900).await?;

    // Search, kept in the URL and across a reload.
    client.find(Locator::Css("#search")).await?.send_keys("barack").await?;
    wait_until(client, &format!("{} === 'barack'", visible_rows()), "only barack").await?;
    ensure!(path(client).await?.contains("q=barack"), "the search is in the URL");
    client.refresh().await?;
    wait_until(client, &format!("{} === 'barack'", visible_rows()), "the search after a reload").await?;
    ensure!(eval(client, "document.querySelector('#search').value").await? == json!("barack"), "search box kept");

    // Status filter, kept in the URL and across a reload.
    client.goto(&hub.url("/")).await?;
    wait_until(client, "document.querySelectorAll('#fleet tbody tr').length === 5", "all rows again").await?;
    client.find(Locator::Css("#status-filter")).await?.select_by_value("WARN").await?;
    wait_until(client, &format!("{} === 'citrom'", visible_rows()), "only the WARN customer").await?;
    ensure!(path(client).await?.contains("status=WARN"), "the filter is in the URL");
    client.refresh().await?;
    wait_until(client, &format!("{} === 'citrom'", visible_rows()), "the filter after a reload").await?;
    ensure!(eval(client, "document.querySelector('#status-filter').value").await? == json!("WARN"), "filter kept");

    // Sorting by a column.
    client.goto(&hub.url("/?sort=customer")).await?;
    wait_until(client, &format!("{} === 'alma,barack,citrom,dio,eper'", visible_rows()), "sorted by name").await?;

    // A customer with its charts.
    client.find(Locator::Css("tr[data-customer=alma] td.name a")).await?.click().await?;
    wait_until(client, "location.pathname === '/customers/alma'", "the customer page").await?;
    wait_until(client, "document.querySelectorAll('figure.chart path.line').length === 3", "three charts").await?;
    let points = eval(client, "document.querySelector('figure[data-chart=CPU] path.line').getAttribute('d')").await?;
    ensure!(
        points.as_str().is_some_and(|d| d.matches('L').count() > 10),
        "the CPU chart has a day of points: {points}"
    );
    for section in ["#system", "#storage", "#containers", "#backup", "#raw-report"] {
        ensure!(eval(client, &format!("!!document.querySelector('{section}')")).await? == json!(true), "{section}");
    }
    // Hovering a chart shows the value there.
    client
        .execute(
            "const r = document.querySelector('figure[data-chart=CPU] rect.overlay'); const b = r.getBoundingClientRect();\
             r.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, clientX: b.left + b.width * 0.98, clientY: b.top + 20}));",
            vec![],
        )
        .await?;
    wait_until(
        client,
        "document.querySelector('figure[data-chart=CPU] .tip-text')?.textContent.includes('%')",
        "a hover value",
    )
    .await?;
    client.find(Locator::Css("[data-period='24h']")).await?.click().await?;
    wait_until(client, "location.search === '?period=24h'", "the period in the URL").await?;
    wait_until(client, "document.querySelector('[data-period=\"24h\"]').classList.contains('selected')", "24h").await?;
    screenshot(client, "customer-light-1280", 1280).await?;
    screenshot(client, "customer-light-390", 390).await?;
    client.execute("document.querySelector('#history').scrollIntoView()", vec![]).await?;
    screenshot(client, "customer-history-light-390", 390).await?;
    client.set_window_size(1280, 900).await?;

    // A deep link reloads into the same page.
    client.refresh().await?;
    wait_until(client, "document.querySelectorAll('figure.chart path.line').length === 3", "charts after a reload")
        .await?;
    ensure!(path(client).await? == "/customers/alma?period=24h", "same URL after a reload");

    // A customer without reports says so.
    client.goto(&hub.url("/customers/eper")).await?;
    wait_until(client, "!!document.querySelector('#no-report')", "the waiting notice").await?;

    // The customer list shows blocked customers grayed out.
    client.goto(&hub.url("/configs")).await?;
    wait_until(client, "!!document.querySelector('#customers tr[data-customer=fuge].blocked')", "fuge grayed").await?;
    ensure!(eval(client, &badge_of("fuge")).await? == json!("BLOCKED"), "fuge is BLOCKED");
    ensure!(eval(client, "document.querySelectorAll('#customers tbody tr').length").await? == json!(6), "all six");
    screenshot(client, "customers-light-1280", 1280).await?;
    screenshot(client, "customers-light-390", 390).await?;
    client.set_window_size(1280, 900).await?;

    // Logging out ends the session: the pages lead to the login again.
    client.find(Locator::Css("#logout")).await?.click().await?;
    wait_until(client, "location.pathname === '/login'", "the login page after logout").await?;
    client.goto(&hub.url("/configs")).await?;
    wait_until(client, "location.pathname === '/login'", "no pages after logout").await?;
    Ok(())
}

async fn dark_screenshots(client: &Client, hub: &TestHub) -> Result<()> {
    client.goto(&hub.url("/login")).await?;
    let dark = eval(client, "matchMedia('(prefers-color-scheme: dark)').matches").await?;
    ensure!(dark == json!(true), "the dark session prefers a dark color scheme");
    screenshot(client, "login-dark-390", 390).await?;
    client.set_window_size(1280, 900).await?;
    login(client, PASSWORD).await?;
    wait_until(client, "location.pathname === '/'", "the dashboard").await?;
    for (page, ready, name) in [
        ("/", "document.querySelectorAll('#fleet tbody tr').length === 5", "dashboard"),
        ("/customers/alma?period=24h", "document.querySelectorAll('figure.chart path.line').length === 3", "customer"),
        ("/configs", "document.querySelectorAll('#customers tbody tr').length === 6", "customers"),
    ] {
        for width in [1280, 390] {
            client.set_window_size(width, 900).await?;
            client.goto(&hub.url(page)).await?;
            wait_until(client, ready, name).await?;
            screenshot(client, &format!("{name}-dark-{width}"), width).await?;
            if name == "customer" {
                client.execute("document.querySelector('#history').scrollIntoView()", vec![]).await?;
                screenshot(client, &format!("{name}-history-dark-{width}"), width).await?;
            }
        }
    }
    Ok(())
}

/// The hub serves the built app: hashed files cached for a year, `index.html` for deep links,
/// and JSON 404s under `/api/`.
#[tokio::test]
async fn hub_serves_the_built_app() -> Result<()> {
    harness::check_prerequisites();
    let mut hub = TestHub::start().await?;
    let http = reqwest::Client::new();
    let wasm = std::fs::read_dir(harness::root().join("hub-web/dist"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|name| name.ends_with(".wasm"))
        .context("a .wasm in hub-web/dist")?;
    let res = http.get(hub.url(&format!("/{wasm}"))).send().await?;
    ensure!(res.status() == 200, "GET /{wasm}: {}", res.status());
    let cache = res.headers().get("cache-control").map(|v| v.to_str().unwrap_or("").to_string());
    ensure!(cache.as_deref() == Some("public, max-age=31536000, immutable"), "{wasm} cached as {cache:?}");
    ensure!(
        res.headers().get("content-type").is_some_and(|v| v == "application/wasm"),
        "{wasm} is served as application/wasm"
    );
    let res = http.get(hub.url("/customers/kovacs")).send().await?;
    ensure!(res.status() == 200, "a deep link gets index.html");
    ensure!(res.headers().get("cache-control").is_some_and(|v| v == "no-cache"), "index.html is never cached");
    ensure!(res.text().await?.contains(".wasm"), "index.html loads the app");
    let res = http.get(hub.url("/api/v1/nope")).send().await?;
    ensure!(res.status() == 404, "unknown API paths are 404");
    ensure!(res.json::<Value>().await?["code"] == json!("not_found"), "with the JSON error");
    hub.stop().await
}
