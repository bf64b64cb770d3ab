//! Browser tests of the customer page's controller card against hub-sim's controller side on a
//! random port: the diff as a colour-coded table, push after its confirmation (then no
//! differences), an update confirmed and shown as "updating to", then "did not arrive" once the
//! update job ran past the deadline, and a changed controller address accepted with its button.
//! Screenshots at 1280 and 390 px.

use std::sync::{Arc, Mutex};

use anyhow::{ensure, Context, Result};
use fantoccini::{Client, Locator};
use hub_api::jobs::Job;
use serde_json::json;

use super::harness::{self, eval, screenshot, wait_until, Driver, TestHub, PASSWORD, REPORT_KEY};
use super::login;

const ID: &str = "sim-0000";

async fn click(client: &Client, css: &str) -> Result<()> {
    client.wait().for_element(Locator::Css(css)).await.with_context(|| format!("no {css}"))?.click().await?;
    Ok(())
}

async fn text(client: &Client, css: &str) -> Result<String> {
    let value = eval(client, &format!("document.querySelector('{css}')?.textContent ?? ''")).await?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

/// Screenshots of the controller card at each width (`<name>-<width>.png`), then back to 1280.
async fn shot(client: &Client, name: &str, widths: &[u32]) -> Result<()> {
    for &width in widths {
        client.set_window_size(width, if width < 600 { 844 } else { 900 }).await?;
        client.execute("document.querySelector('#controller').scrollIntoView()", vec![]).await?;
        screenshot(client, &format!("{name}-{width}"), width).await?;
    }
    client.set_window_size(1280, 900).await?;
    Ok(())
}

/// hub-sim's controller side with one node, `sim-0000`, managed by the hub (a config without a
/// key of its own, so the node and the hub use the global key), and its first report.
async fn simulated_node(hub: &TestHub) -> Result<hub_sim::fleet::Shared> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let now = chrono::Utc::now();
    let fleet: hub_sim::fleet::Shared = Arc::new(Mutex::new(hub_sim::node::fleet(1, 1, &base, now, now)));
    {
        let mut nodes = fleet.lock().expect("fleet");
        let node = nodes.first_mut().expect("one node");
        node.key = REPORT_KEY.to_string();
        // A secret of the node's own, which the diff must not show.
        node.config_yaml = node.config_yaml.replace("hub:\n", "hub:\n  api_key: live-secret-key\n");
    }
    tokio::spawn(hub_sim::controller::serve(listener, fleet.clone(), hub_sim::controller::known_versions()));
    hub.add_config(ID, "Szilva család", "active").await?;
    let report = serde_json::to_value(fleet.lock().expect("fleet")[0].report(now))?;
    hub.report(&report).await?;
    Ok(fleet)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_acts_on_a_controller() -> Result<()> {
    harness::check_prerequisites();
    let mut hub = TestHub::start().await?;
    let fleet = simulated_node(&hub).await?;
    let driver = Driver::start()?;
    let profiles = tempfile::tempdir()?;
    let client = driver.browser(&profiles.path().join("light"), false).await?;
    let result = scenario(&client, &hub, &fleet).await;
    if result.is_err() {
        let _ = screenshot(&client, "controller-failure", 1280).await;
    }
    client.close().await?;
    result?;
    hub.stop().await
}

async fn scenario(client: &Client, hub: &TestHub, fleet: &hub_sim::fleet::Shared) -> Result<()> {
    let page = format!("/customers/{ID}");
    client.goto(&hub.url(&page)).await?;
    login(client, PASSWORD).await?;
    wait_until(client, "!!document.querySelector('#controller')", "the controller card").await?;
    let address = fleet.lock().expect("fleet")[0].controller_url.clone();
    ensure!(text(client, "#controller-address").await? == address, "the reported address is called");

    // The diff: rows coloured by kind, secrets masked.
    click(client, "#show-diff").await?;
    wait_until(client, "!!document.querySelector('#diff-table')", "the diff table").await?;
    for kind in ["added", "removed"] {
        let rows = eval(client, &format!("document.querySelectorAll('#diff-table tr.diff-{kind}').length")).await?;
        ensure!(rows.as_u64().unwrap_or(0) > 0, "{kind} rows");
    }
    let added = eval(client, "getComputedStyle(document.querySelector('tr.diff-added td')).backgroundColor").await?;
    let removed =
        eval(client, "getComputedStyle(document.querySelector('tr.diff-removed td')).backgroundColor").await?;
    ensure!(added != removed, "added and removed rows have their own colours: {added} {removed}");
    let key = text(client, "tr[data-path=\"hub.api_key\"] td:nth-child(4)").await?;
    ensure!(key == "<hidden>", "the node's API key is masked: {key:?}");
    ensure!(!text(client, "#controller").await?.contains("live-secret-key"), "the secret is nowhere");
    shot(client, "controller-diff-light", &[1280, 390]).await?;

    // Push asks first; only the confirmation sends.
    let before = fleet.lock().expect("fleet")[0].config_yaml.clone();
    click(client, "#push").await?;
    wait_until(client, "!!document.querySelector('[data-confirm=push]')", "the push question").await?;
    ensure!(fleet.lock().expect("fleet")[0].config_yaml == before, "nothing sent before the confirmation");
    shot(client, "controller-push-confirm-light", &[1280]).await?;
    click(client, "[data-confirm=push]").await?;
    wait_until(client, "document.querySelector('#controller-said')?.textContent.includes('HTTP 200')", "pushed")
        .await?;
    ensure!(fleet.lock().expect("fleet")[0].config_yaml.contains(&format!("id: {ID}")), "the node has the config");
    click(client, "#show-diff").await?;
    wait_until(client, "!!document.querySelector('#diff-empty')", "no differences after the push").await?;

    // An update, confirmed: the page shows it under way.
    client.find(Locator::Css("#update-version")).await?.send_keys("1.9.0").await?;
    click(client, "#update").await?;
    click(client, "[data-confirm=update]").await?;
    wait_until(
        client,
        "document.querySelector('#update-state')?.textContent.includes('updating to 1.9.0')",
        "updating",
    )
    .await?;
    shot(client, "controller-updating-light", &[1280, 390]).await?;

    // No report with the version within controllers.update_timeout: "did not arrive".
    let state = hub.hub.as_ref().expect("running").state.clone();
    let late = chrono::Utc::now() + chrono::Duration::minutes(31);
    hub_api::jobs::ControllerUpdates.run_once(&state, late).await?;
    client.refresh().await?;
    wait_until(
        client,
        "document.querySelector('#update-state')?.textContent.includes('update to 1.9.0 did not arrive')",
        "the failed update",
    )
    .await?;
    shot(client, "controller-update-failed-light", &[1280]).await?;

    // A report from another address waits for the operator's Accept.
    let mut moved = serde_json::to_value(fleet.lock().expect("fleet")[0].report(chrono::Utc::now()))?;
    moved["controller_url"] = json!("http://192.0.2.10:8090");
    hub.report(&moved).await?;
    client.refresh().await?;
    wait_until(client, "!!document.querySelector('#address-changed')", "the pending address").await?;
    ensure!(text(client, "#address-changed").await?.contains("http://192.0.2.10:8090"), "the new address shown");
    shot(client, "controller-address-changed-light", &[1280, 390]).await?;
    click(client, "#accept-address").await?;
    wait_until(
        client,
        "!document.querySelector('#address-changed') && \
         document.querySelector('#controller-address')?.textContent === 'http://192.0.2.10:8090'",
        "the accepted address",
    )
    .await?;
    Ok(())
}
