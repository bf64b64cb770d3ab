//! Browser test of alerting: the Maintenance page (a one-time window and a weekly one, one
//! deleted), the "in maintenance" badge on the dashboard and the customer page with its held
//! event, and acknowledging a down node's open alert with a note on the customer page.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::harness::{eval, screenshot, wait_until, Driver, TestHub, PASSWORD, REPORT_KEY};

fn report(id: &str) -> serde_json::Value {
    json!({"customer_id": id, "hostname": format!("{id}-node"), "controller_version": "1.4.2", "health": "ok",
           "monitoring_enabled": true, "system": {"cpu_percent": 12.0}})
}

/// `alma` went silent two hours ago and is down, with its open alert; `barack` reports.
async fn seed(hub: &TestHub) -> Result<()> {
    hub.report(&report("alma")).await?;
    hub.report(&report("barack")).await?;
    let state = &hub.hub.as_ref().expect("running").state;
    let two_hours_ago = chrono::Utc::now().timestamp_millis() - 2 * 3_600_000;
    set_received_at(state, "alma", two_hours_ago).await?;
    use hub_api::jobs::Job;
    hub_api::jobs::Staleness.run_once(state, chrono::Utc::now()).await?;
    // The dispatcher opens the alert off the request path.
    let started = Instant::now();
    while state.store().alerts(Some("alma"), false, None, 10).await?.is_empty() {
        if started.elapsed() > Duration::from_secs(10) {
            bail!("alma's node_down alert did not open within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn set_received_at(state: &hub_api::state::AppState, id: &str, received_at: i64) -> Result<()> {
    sqlx::query("UPDATE report_latest SET received_at = $1 WHERE customer_id = $2")
        .bind(received_at)
        .bind(id)
        .execute(state.store().pool())
        .await?;
    Ok(())
}

async fn login(client: &Client, hub: &TestHub) -> Result<()> {
    client.goto(&hub.url("/login")).await?;
    client.wait().for_element(Locator::Css("#password")).await?.send_keys(PASSWORD).await?;
    client.find(Locator::Css("form button[type=submit]")).await?.click().await?;
    wait_until(client, "location.pathname === '/'", "the dashboard after login").await
}

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

async fn fill(client: &Client, selector: &str, text: &str) -> Result<()> {
    let input = client.find(Locator::Css(selector)).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_plans_maintenance_and_acknowledges_an_alert() -> Result<()> {
    crate::harness::check_prerequisites();
    let mut hub = TestHub::start_with(|raw| raw.notifications.operator_email = "ops@example.com".into()).await?;
    seed(&hub).await?;
    let driver = Driver::start()?;
    let profiles = tempfile::tempdir()?;
    let client = driver.browser(&profiles.path().join("light"), false).await?;
    let result = scenario(&client, &hub).await;
    if result.is_err() {
        let _ = screenshot(&client, "alerting-failure", 1280).await;
    }
    client.close().await?;
    result?;
    let dark = driver.browser(&profiles.path().join("dark"), true).await?;
    login(&dark, &hub).await?;
    for (page, ready, name) in [
        ("/maintenance", "!!document.querySelector('#maintenance tbody tr')", "alerting-maintenance-dark"),
        ("/customers/alma", "!!document.querySelector('#alerts li.alert')", "alerting-customer-alerts-dark"),
    ] {
        dark.goto(&hub.url(page)).await?;
        wait_until(&dark, ready, name).await?;
        if page != "/maintenance" {
            dark.execute("document.querySelector('#alerts').scrollIntoView()", vec![]).await?;
        }
        screenshot(&dark, &format!("{name}-1280"), 1280).await?;
    }
    dark.close().await?;
    hub.stop().await
}

async fn scenario(client: &Client, hub: &TestHub) -> Result<()> {
    login(client, hub).await?;

    // A one-time window for barack, from now for an hour.
    client.find(Locator::Css("header nav a[href='/maintenance']")).await?.click().await?;
    wait_until(client, "!!document.querySelector('#no-windows')", "no windows yet").await?;
    fill(client, "#window-customer", "barack").await?;
    fill(client, "#window-minutes", "60").await?;
    fill(client, "#window-reason", "Disk replacement").await?;
    client.find(Locator::Css("#create-window")).await?.click().await?;
    wait_until(client, "!!document.querySelector('#maintenance tr[data-active=true]')", "the open window").await?;

    // A weekly one: the days appear once weekly is chosen.
    client.find(Locator::Css("#window-recurrence option[value=weekly]")).await?.click().await?;
    wait_until(client, "!!document.querySelector('#window-days')", "the days").await?;
    client.find(Locator::Css("#window-days input[value=sat]")).await?.click().await?;
    client.find(Locator::Css("#window-days input[value=sun]")).await?.click().await?;
    fill(client, "#window-reason", "Patch night").await?;
    client.find(Locator::Css("#create-window")).await?.click().await?;
    wait_until(client, "document.querySelectorAll('#maintenance tbody tr').length === 2", "two windows").await?;
    let when = eval(client, "document.querySelector('#maintenance tbody tr').innerText").await?;
    ensure!(when.as_str().is_some_and(|t| t.contains("sat, sun at") && t.contains("Patch night")), "{when}");
    both_widths(client, "alerting-maintenance-light", None).await?;

    // Delete asks first; then the weekly one is gone.
    let weekly = "#maintenance tbody tr:first-child";
    client.find(Locator::Css(&format!("{weekly} button.danger-text"))).await?.click().await?;
    client.find(Locator::Css(&format!("{weekly} button.danger"))).await?.click().await?;
    wait_until(client, "document.querySelectorAll('#maintenance tbody tr').length === 1", "one window left").await?;

    // The dashboard marks barack, not alma.
    client.find(Locator::Css("header nav a[href='/']")).await?.click().await?;
    wait_until(client, "!!document.querySelector('tr[data-customer=barack] .in-maintenance')", "barack's badge")
        .await?;
    ensure!(
        eval(client, "!document.querySelector('tr[data-customer=alma] .in-maintenance')").await? == json!(true),
        "alma is not in maintenance"
    );
    both_widths(client, "alerting-dashboard-light", None).await?;

    // barack's event during the window is stored and marked, not sent.
    let event = json!({"customer_id": "barack", "event_type": "backup_failed", "severity": "error",
                       "message": "restic exited with code 1"});
    let res = reqwest::Client::new().post(hub.url("/api/v1/event")).bearer_auth(REPORT_KEY).json(&event).send().await?;
    ensure!(res.status().is_success(), "event refused: {}", res.status());
    let state = &hub.hub.as_ref().expect("running").state;
    let started = Instant::now();
    while state.store().notification_log("barack", None, 10).await?.is_empty() {
        ensure!(started.elapsed() < Duration::from_secs(10), "the event was never dispatched");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.goto(&hub.url("/customers/barack")).await?;
    wait_until(client, "!!document.querySelector('#customer-title .in-maintenance')", "the title's badge").await?;
    wait_until(client, "document.querySelector('#events li.event .held')?.textContent === 'in maintenance'", "held")
        .await?;
    both_widths(client, "alerting-customer-maintenance-light", Some("#events")).await?;

    // alma is down: its open alert is acknowledged with a note, and the card says who and when.
    client.goto(&hub.url("/customers/alma")).await?;
    wait_until(client, "!!document.querySelector('#alerts li.alert[data-state=open]')", "the open alert").await?;
    both_widths(client, "alerting-customer-alert-open-light", Some("#alerts")).await?;
    fill(client, "#alerts .ack-note-input", "Customer is on holiday").await?;
    client.find(Locator::Css("#alerts .ack-button")).await?.click().await?;
    wait_until(client, "!!document.querySelector('#alerts li.alert[data-state=acknowledged]')", "acknowledged").await?;
    let ack = eval(client, "document.querySelector('#alerts .ack').innerText").await?;
    ensure!(
        ack.as_str().is_some_and(|t| t.contains("Acknowledged by operator") && t.contains("Customer is on holiday")),
        "{ack}"
    );
    ensure!(eval(client, "!document.querySelector('#alerts .ack-button')").await? == json!(true), "no button");
    both_widths(client, "alerting-customer-alert-acked-light", Some("#alerts")).await
}
