//! The live stream in the browser: a report posted while the dashboard is open changes the
//! customer's status on the page without a reload; so does the customer page's header.

use anyhow::{ensure, Result};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::harness::{self, eval, wait_until, Driver, TestHub, PASSWORD};

fn report(id: &str, health: &str) -> Value {
    json!({"customer_id": id, "hostname": format!("{id}-node"), "controller_version": "1.4.2", "health": health,
           "monitoring_enabled": true, "system": {"cpu_percent": 12.0}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_updates_the_status_on_screen_without_a_reload() -> Result<()> {
    harness::check_prerequisites();
    let mut hub = TestHub::start().await?;
    hub.report(&report("alma", "ok")).await?;
    let driver = Driver::start()?;
    let profile = tempfile::tempdir()?;
    let client = driver.browser(profile.path(), false).await?;
    let result = scenario(&client, &hub).await;
    if result.is_err() {
        let _ = harness::screenshot(&client, "live-failure", 1280).await;
    }
    client.close().await?;
    result?;
    hub.stop().await
}

async fn scenario(client: &Client, hub: &TestHub) -> Result<()> {
    client.goto(&hub.url("/login")).await?;
    client.wait().for_element(Locator::Css("#password")).await?.send_keys(PASSWORD).await?;
    client.find(Locator::Css("form button[type=submit]")).await?.click().await?;
    wait_until(client, "location.pathname === '/'", "the dashboard after login").await?;
    let row_status = "document.querySelector('tr[data-customer=alma] [data-status]')?.dataset.status";
    wait_until(client, &format!("{row_status} === 'OK'"), "alma ok").await?;
    wait_until(client, "document.querySelector('#live')?.dataset.live === 'true'", "the stream up").await?;
    // A mark in the page's memory: a reload would lose it.
    client.execute("window.__notReloaded = true;", vec![]).await?;

    hub.report(&report("alma", "fail")).await?;
    wait_until(client, &format!("{row_status} === 'DOWN'"), "alma down, from the stream").await?;
    ensure!(eval(client, "window.__notReloaded === true").await? == Value::Bool(true), "the page was reloaded");

    client.goto(&hub.url("/customers/alma")).await?;
    let badge = "document.querySelector('#customer-title [data-status]')?.dataset.status";
    wait_until(client, &format!("{badge} === 'DOWN'"), "the customer page").await?;
    client.execute("window.__notReloaded = true;", vec![]).await?;
    hub.report(&report("alma", "ok")).await?;
    wait_until(client, &format!("{badge} === 'OK'"), "alma ok again on the customer page").await?;
    ensure!(eval(client, "window.__notReloaded === true").await? == Value::Bool(true), "the page was reloaded");
    Ok(())
}
