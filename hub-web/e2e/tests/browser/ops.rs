//! Browser tests of the operations pages: the events timeline and the notification log on the
//! customer page, the dashboard's event badges, the fleet events page, the jobs page and the
//! assets page (seeded from the repository's `assets-seed/`, with an upload and a delete).

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::harness::{self, eval, screenshot, wait_until, Driver, TestHub, PASSWORD, REPORT_KEY};

/// The hub with the seed assets and an operator address, so both channels log decisions.
async fn start_hub() -> Result<TestHub> {
    let seed = harness::root().join("assets-seed");
    TestHub::start_with(|raw| {
        raw.assets.seed_dir = seed;
        raw.notifications.operator_email = "ops@example.com".into();
    })
    .await
}

async fn post(hub: &TestHub, path: &str, body: &Value) -> Result<()> {
    let res = reqwest::Client::new().post(hub.url(path)).bearer_auth(REPORT_KEY).json(body).send().await?;
    if !res.status().is_success() {
        bail!("{path} refused: {} {}", res.status(), res.text().await?);
    }
    Ok(())
}

fn minimal_report(id: &str) -> Value {
    json!({"customer_id": id, "hostname": format!("{id}-node"), "controller_version": "1.4.2", "health": "ok",
           "monitoring_enabled": true, "system": {"cpu_percent": 12.0}})
}

/// `alma` gets four events (oldest first) and wants emails about failed backups (so it has a
/// config: the hub takes preferences only for configured customers; its address awaits its
/// confirmation); `barack` one.
async fn seed(hub: &TestHub) -> Result<()> {
    hub.add_config("alma", "Alma", "active").await?;
    post(hub, "/api/v1/report", &minimal_report("alma")).await?;
    post(hub, "/api/v1/report", &minimal_report("barack")).await?;
    post(
        hub,
        "/api/v1/preferences",
        &json!({"customer_id": "alma", "email": "alma@example.hu", "enabled_events": ["backup_failed"]}),
    )
    .await?;
    let events = [
        ("alma", "app_installed", "info", "Nextcloud 29 installed", json!({"app": "nextcloud", "version": "29.0.1"})),
        (
            "alma",
            "disk_space_warning",
            "warning",
            "The data disk is 86 % full",
            json!({"mount": "/mnt/data", "percent": 86}),
        ),
        (
            "alma",
            "backup_failed",
            "error",
            "restic exited with code 1",
            json!({"exit_code": 1, "repository": "b2:felhom-alma"}),
        ),
        ("alma", "backup_completed", "info", "Backup finished after a retry", json!({})),
        ("barack", "container_unhealthy", "warning", "immich is unhealthy", json!({"container": "immich"})),
    ];
    for (id, kind, severity, message, details) in events {
        let body = json!({"customer_id": id, "event_type": kind, "severity": severity, "message": message, "details": details});
        post(hub, "/api/v1/event", &body).await?;
    }
    // The dispatcher works off the request path: wait until it has logged both channels for alma.
    let store = hub.hub.as_ref().expect("running").state.store();
    let started = Instant::now();
    loop {
        let log = store.notification_log("alma", None, 50).await?;
        let channels = |c: &str| log.iter().any(|r| r.channel.as_str() == c);
        if channels("operator") && channels("customer") {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("the dispatcher logged no decision for both channels within 10 s ({} entries)", log.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(selector: &str) -> String {
    format!("document.querySelectorAll('{selector}').length")
}

async fn login(client: &Client, hub: &TestHub) -> Result<()> {
    client.goto(&hub.url("/login")).await?;
    let input = client.wait().for_element(Locator::Css("#password")).await?;
    input.send_keys(PASSWORD).await?;
    client.find(Locator::Css("form button[type=submit]")).await?.click().await?;
    wait_until(client, "location.pathname === '/'", "the dashboard after login").await
}

/// Screenshots at desktop and phone width (scrolled to `section` when given), then back to desktop.
async fn both_widths(client: &Client, name: &str, section: Option<&str>) -> Result<()> {
    for width in [1280, 390] {
        client.set_window_size(width, if width < 600 { 844 } else { 900 }).await?;
        if let Some(section) = section {
            client.execute(&format!("document.querySelector('{section}').scrollIntoView()"), vec![]).await?;
        }
        screenshot(client, &format!("{name}-{width}"), width).await?;
    }
    client.set_window_size(1280, 900).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_follows_events_jobs_and_assets() -> Result<()> {
    harness::check_prerequisites();
    let mut hub = start_hub().await?;
    seed(&hub).await?;
    let driver = Driver::start()?;
    let profiles = tempfile::tempdir()?;
    let client = driver.browser(&profiles.path().join("light"), false).await?;
    let result = scenarios(&client, &hub).await;
    if result.is_err() {
        let _ = screenshot(&client, "ops-failure", 1280).await;
    }
    client.close().await?;
    result?;
    let dark = driver.browser(&profiles.path().join("dark"), true).await?;
    let result = dark_screenshots(&dark, &hub).await;
    dark.close().await?;
    result?;
    hub.stop().await
}

async fn scenarios(client: &Client, hub: &TestHub) -> Result<()> {
    login(client, hub).await?;

    // The dashboard counts each customer's errors and warnings of the last 24 h.
    wait_until(client, "!!document.querySelector('tr[data-customer=alma] [data-errors]')", "alma's badges").await?;
    let badges = eval(
        client,
        "['alma', 'barack'].map(id => { const r = document.querySelector(`tr[data-customer=${id}]`);\
         return [r.querySelector('[data-errors]')?.dataset.errors ?? '0', r.querySelector('[data-warnings]')?.dataset.warnings ?? '0']; })",
    )
    .await?;
    ensure!(badges == json!([["1", "1"], ["0", "1"]]), "badges (errors, warnings) of alma and barack: {badges}");
    both_widths(client, "ops-dashboard-light", None).await?;

    // The customer's timeline: newest first, with every severity.
    client.goto(&hub.url("/customers/alma")).await?;
    wait_until(client, &format!("{} === 4", count("#events li.event")), "alma's four events").await?;
    let types =
        "Array.from(document.querySelectorAll('#events li.event .event-type')).map(e => e.textContent).join(',')";
    ensure!(
        eval(client, types).await? == json!("backup_completed,backup_failed,disk_space_warning,app_installed"),
        "newest first: {}",
        eval(client, types).await?
    );

    // The severity filter asks the hub again and shows only those events.
    client.find(Locator::Css("#events [data-severity=error]")).await?.click().await?;
    wait_until(client, &format!("{types} === 'backup_failed'"), "only the error").await?;
    client.find(Locator::Css("#events [data-severity=info]")).await?.click().await?;
    wait_until(client, &format!("{types} === 'backup_completed,app_installed'"), "only the infos").await?;
    client.find(Locator::Css("#events [data-severity=all]")).await?.click().await?;
    wait_until(client, &format!("{} === 4", count("#events li.event")), "all four again").await?;

    // An event's details open on a click; an event without details has nothing to open.
    let failed = "#events li.event[data-severity=error]";
    ensure!(eval(client, &format!("document.querySelector('{failed} details').open")).await? == json!(false), "closed");
    client.find(Locator::Css(&format!("{failed} details summary"))).await?.click().await?;
    wait_until(client, &format!("document.querySelector('{failed} details').open"), "the details open").await?;
    let shown = eval(client, &format!("document.querySelector('{failed} details pre').innerText")).await?;
    ensure!(shown.as_str().is_some_and(|t| t.contains("\"exit_code\": 1") && t.contains("b2:felhom-alma")), "{shown}");
    ensure!(
        eval(client, "document.querySelector('#events li.event details') === document.querySelector(`#events li.event[data-severity=error] details`)").await? == json!(true),
        "backup_completed (empty details) has no details to open"
    );

    // The notification log shows the decisions of both channels.
    wait_until(client, "!!document.querySelector('#notifications tr[data-channel=operator]')", "operator entries")
        .await?;
    wait_until(client, "!!document.querySelector('#notifications tr[data-channel=customer]')", "customer entries")
        .await?;
    let recipients = eval(client, "document.querySelector('#notifications tbody').innerText").await?;
    ensure!(
        recipients.as_str().is_some_and(|t| t.contains("alma@example.hu") && t.contains("ops@example.com")),
        "both recipients in the log: {recipients}"
    );
    // The customer's address awaits its confirmation, and the operator sees it.
    let pending = eval(client, "document.querySelector('#email-confirmation .pending-email')?.textContent").await?;
    ensure!(pending == json!("alma@example.hu"), "the pending confirmation: {pending}");
    both_widths(client, "ops-customer-events-light", Some("#events")).await?;
    both_widths(client, "ops-customer-notifications-light", Some("#notifications")).await?;

    // The fleet's events, each with its customer.
    client.find(Locator::Css("header nav a[href='/events']")).await?.click().await?;
    wait_until(client, &format!("{} === 5", count("#events li.event")), "five events of the fleet").await?;
    ensure!(
        eval(client, &count("#events a.event-customer[href=\"/customers/barack\"]")).await? == json!(1),
        "barack's"
    );
    both_widths(client, "ops-events-light", None).await?;

    // 50 at a time: older events come on request, until there are no more.
    for i in 1..=52 {
        let body = json!({"customer_id": "barack", "event_type": "container_restarted", "severity": "info",
                          "message": format!("restart {i}")});
        post(hub, "/api/v1/event", &body).await?;
    }
    client.goto(&hub.url("/customers/barack")).await?;
    wait_until(client, &format!("{} === 50", count("#events li.event")), "the first 50 events").await?;
    let first = eval(client, "document.querySelector('#events .event-msg').textContent").await?;
    ensure!(first == json!("restart 52"), "the newest first: {first}");
    client.find(Locator::Css("#older-events")).await?.click().await?;
    wait_until(client, &format!("{} === 53", count("#events li.event")), "all 53 events").await?;
    wait_until(client, "!document.querySelector('#older-events')", "no more pages").await?;
    let last = eval(client, "Array.from(document.querySelectorAll('#events .event-type')).pop().textContent").await?;
    ensure!(last == json!("container_unhealthy"), "the oldest last: {last}");

    // The jobs, each with its schedule and next run.
    client.find(Locator::Css("header nav a[href='/jobs']")).await?.click().await?;
    wait_until(client, "!!document.querySelector('#jobs tr[data-job=staleness]')", "the jobs").await?;
    for job in ["staleness", "backup_deadline", "prune"] {
        let schedule =
            eval(client, &format!("document.querySelector('tr[data-job={job}] .schedule')?.textContent")).await?;
        ensure!(
            schedule.as_str().is_some_and(|s| s.starts_with("every") || s.starts_with("daily")),
            "{job}: {schedule}"
        );
    }
    // The hub's own backup is off unless configured: it has no next run.
    let next = eval(client, "document.querySelector('tr[data-job=self_backup] .next')?.textContent").await?;
    ensure!(next == json!("–"), "a job that is off has no next run: {next}");
    both_widths(client, "ops-jobs-light", None).await?;

    assets(client, hub).await
}

async fn assets(client: &Client, hub: &TestHub) -> Result<()> {
    let seeded = std::fs::read_dir(harness::root().join("assets-seed"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| [".svg", ".png", ".webp"].iter().any(|ext| n.ends_with(ext)))
        .count();
    ensure!(seeded > 10, "the repository has its seed assets ({seeded})");
    client.find(Locator::Css("header nav a[href='/assets']")).await?.click().await?;
    wait_until(client, &format!("{} === {seeded}", count("#assets figure.asset")), "every seeded asset").await?;
    // Every preview loads (the session cookie authorizes the file endpoint).
    wait_until(
        client,
        "Array.from(document.querySelectorAll('#assets img')).every(i => i.complete && i.naturalWidth > 0)",
        "every preview loaded",
    )
    .await?;
    let hash =
        eval(client, "document.querySelector('[data-asset=\"nextcloud-logo.svg\"] .asset-hash').textContent").await?;
    ensure!(hash.as_str().is_some_and(|h| h.len() == 64), "the full SHA-256 is shown: {hash}");
    both_widths(client, "ops-assets-light", None).await?;

    // A name the hub would refuse is named before uploading, with the shared rule's message.
    let name = client.find(Locator::Css("#asset-name")).await?;
    name.send_keys("Bad Name.svg").await?;
    wait_until(client, "document.querySelector('#asset-name-error')?.textContent.includes('expected')", "the rule")
        .await?;

    // Upload: the picked file's name is proposed; then it is in the manifest with a preview.
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("testapp-logo.svg");
    std::fs::copy(harness::root().join("assets-seed/nextcloud-logo.svg"), &file)?;
    client.find(Locator::Css("#asset-file")).await?.send_keys(&file.display().to_string()).await?;
    wait_until(client, "document.querySelector('#asset-name').value === 'testapp-logo.svg'", "the name").await?;
    ensure!(eval(client, "!document.querySelector('#asset-name-error')").await? == json!(true), "a good name");
    client.find(Locator::Css("#upload button[type=submit]")).await?.click().await?;
    wait_until(client, "document.querySelector('#upload-result')?.textContent.startsWith('Uploaded')", "uploaded")
        .await
        .context("upload")?;
    let tile = "[data-asset=\"testapp-logo.svg\"]";
    wait_until(client, &format!("document.querySelector('{tile} img')?.naturalWidth > 0"), "the new preview").await?;

    // Delete asks first; Cancel keeps the file, Delete removes it.
    client.find(Locator::Css(&format!("{tile} button.delete"))).await?.click().await?;
    client.find(Locator::Css(&format!("{tile} .asset-actions button:not(.danger)"))).await?.click().await?;
    wait_until(client, &format!("!!document.querySelector('{tile} button.delete')"), "cancelled").await?;
    client.find(Locator::Css(&format!("{tile} button.delete"))).await?.click().await?;
    client.find(Locator::Css(&format!("{tile} button.confirm-delete"))).await?.click().await?;
    wait_until(client, &format!("!document.querySelector('{tile}')"), "the tile gone").await?;
    wait_until(client, &format!("{} === {seeded}", count("#assets figure.asset")), "the seeded assets again").await?;
    let res = reqwest::Client::new()
        .get(hub.url("/api/v1/assets/file/testapp-logo.svg"))
        .bearer_auth(REPORT_KEY)
        .send()
        .await?;
    ensure!(res.status() == 404, "the deleted file is gone from the hub: {}", res.status());
    Ok(())
}

async fn dark_screenshots(client: &Client, hub: &TestHub) -> Result<()> {
    login(client, hub).await?;
    for (page, ready, name) in [
        ("/", "!!document.querySelector('[data-errors]')", "ops-dashboard"),
        ("/customers/alma", "document.querySelectorAll('#notifications tbody tr').length > 0 && document.querySelectorAll('#events li.event').length === 4", "ops-customer-events"),
        ("/events", "document.querySelectorAll('#events li.event').length === 50", "ops-events"),
        ("/jobs", "!!document.querySelector('#jobs tbody tr')", "ops-jobs"),
        ("/assets", "Array.from(document.querySelectorAll('#assets img')).every(i => i.complete)", "ops-assets"),
    ] {
        for width in [1280, 390] {
            client.set_window_size(width, if width < 600 { 844 } else { 900 }).await?;
            client.goto(&hub.url(page)).await?;
            wait_until(client, ready, name).await?;
            if name != "ops-customer-events" {
                screenshot(client, &format!("{name}-dark-{width}"), width).await?;
                continue;
            }
            let open = "document.querySelector('#events details')?.setAttribute('open', '')";
            client.execute(open, vec![]).await?;
            for section in ["events", "notifications"] {
                let scroll = format!("document.querySelector('#{section}').scrollIntoView()");
                client.execute(&scroll, vec![]).await?;
                screenshot(client, &format!("ops-customer-{section}-dark-{width}"), width).await?;
            }
        }
    }
    Ok(())
}
