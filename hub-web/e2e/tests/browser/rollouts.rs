//! Browser test of the Rollouts page and the fleet marks: the outdated and drift marks on the
//! dashboard and customers list, starting a rollout with the newest version filled in, following
//! its nodes' steps as the rollout job moves it on, and pausing, resuming and aborting it.

use std::sync::{Arc, Mutex};

use anyhow::{ensure, Result};
use async_trait::async_trait;
use fantoccini::{Client, Locator};
use hub_api::jobs::{Job, RolloutStep};
use hub_api::rollout::Updater;
use hub_api::state::AppState;
use hub_api::store::{DriftRow, RegistryLatest};
use serde_json::{json, Value};

use crate::harness::{self, chrono_now_ms, eval, screenshot, wait_until, Driver, TestHub, PASSWORD};

/// Asks no controller; remembers who was asked.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

#[async_trait]
impl Updater for Recorder {
    async fn request_update(
        &self,
        _: &AppState,
        _: i64,
        customer_id: &str,
        _: &str,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        self.0.lock().unwrap().push(customer_id.to_string());
        Ok(())
    }
}

fn report(id: &str, version: &str) -> Value {
    json!({"customer_id": id, "hostname": format!("{id}-node"), "controller_version": version, "health": "ok",
           "monitoring_enabled": true, "system": {"cpu_percent": 12.0}})
}

/// Three managed nodes on 1.4.2 and one on 1.5.0; the registry's newest is 1.5.0; alma has
/// drifted, barack's controller could not be reached, citrom is in sync.
async fn seed(hub: &TestHub) -> Result<()> {
    for (id, name, version) in [
        ("alma", "Alma Kft.", "1.4.2"),
        ("barack", "Barack Bt.", "1.4.2"),
        ("citrom", "Citrom Zrt.", "1.4.2"),
        ("dio", "Dió", "1.5.0"),
    ] {
        hub.add_config(id, name, "active").await?;
        hub.report(&report(id, version)).await?;
    }
    let store = hub.hub.as_ref().expect("running").state.store();
    let now = chrono_now_ms();
    store.put_registry_latest(&RegistryLatest { version: "1.5.0".into(), seen_at: now }).await?;
    for (id, reachable, keys, message) in [
        ("alma", 1, 3, None),
        ("barack", 0, 0, Some("the controller at http://10.0.0.7:8090 did not answer within 10 s".to_string())),
        ("citrom", 1, 0, None),
    ] {
        store.put_drift(&DriftRow { customer_id: id.into(), checked_at: now, reachable, keys, message }).await?;
    }
    Ok(())
}

async fn login(client: &Client, hub: &TestHub) -> Result<()> {
    client.goto(&hub.url("/login")).await?;
    let input = client.wait().for_element(Locator::Css("#password")).await?;
    input.send_keys(PASSWORD).await?;
    client.find(Locator::Css("form button[type=submit]")).await?.click().await?;
    wait_until(client, "location.pathname === '/'", "the dashboard after login").await
}

async fn both_widths(client: &Client, name: &str) -> Result<()> {
    screenshot(client, &format!("{name}-1280"), 1280).await?;
    screenshot(client, &format!("{name}-390"), 390).await?;
    client.set_window_size(1280, 900).await?;
    Ok(())
}

fn steps() -> &'static str {
    "Array.from(document.querySelectorAll('#rollout-nodes tbody tr')).map(r => `${r.dataset.node}:${r.dataset.step}`).join(',')"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_runs_a_rollout_and_sees_the_fleet_marks() -> Result<()> {
    harness::check_prerequisites();
    let mut hub = TestHub::start().await?;
    seed(&hub).await?;
    let driver = Driver::start()?;
    let profiles = tempfile::tempdir()?;
    let client = driver.browser(&profiles.path().join("light"), false).await?;
    let result = scenarios(&client, &hub).await;
    if result.is_err() {
        let _ = screenshot(&client, "rollouts-failure", 1280).await;
    }
    client.close().await?;
    result?;
    hub.stop().await
}

async fn scenarios(client: &Client, hub: &TestHub) -> Result<()> {
    login(client, hub).await?;
    let state = hub.hub.as_ref().expect("running").state.clone();

    // The dashboard marks outdated controllers with the newer version, and each node's drift.
    wait_until(client, "!!document.querySelector('tr[data-customer=alma] [data-outdated]')", "alma outdated").await?;
    ensure!(
        eval(client, "document.querySelectorAll('#fleet [data-outdated=\"1.5.0\"]').length").await? == json!(3),
        "three outdated"
    );
    ensure!(
        eval(client, "!!document.querySelector('tr[data-customer=dio] [data-outdated]')").await? == json!(false),
        "dio is current"
    );
    let drift = |id: &str| format!("document.querySelector('tr[data-customer={id}] [data-drift]')?.textContent");
    ensure!(eval(client, &drift("alma")).await? == json!("drifted (3 keys)"), "alma drifted");
    ensure!(eval(client, &drift("barack")).await? == json!("unreachable"), "barack unreachable, not in sync");
    ensure!(eval(client, &drift("citrom")).await? == json!("in sync"), "citrom in sync");
    both_widths(client, "fleet-marks-dashboard-light").await?;
    client.goto(&hub.url("/configs")).await?;
    wait_until(
        client,
        "!!document.querySelector('#customers tr[data-customer=alma] [data-drift=drifted]')",
        "the list's marks",
    )
    .await?;
    both_widths(client, "fleet-marks-customers-light").await?;

    // Start a rollout: the newest version is filled in; alma is the canary.
    client.find(Locator::Css("header nav a[href='/rollouts']")).await?.click().await?;
    wait_until(client, "!!document.querySelector('#no-rollouts')", "no rollout yet").await?;
    wait_until(client, "document.querySelector('#rollout-version').value === '1.5.0'", "the newest version").await?;
    client.find(Locator::Css("#rollout-canary")).await?.send_keys("nobody").await?;
    client.find(Locator::Css("#start")).await?.click().await?;
    wait_until(client, "document.querySelector('#rollout-error')?.textContent.includes('nobody')", "a refused canary")
        .await?;
    let canary = client.find(Locator::Css("#rollout-canary")).await?;
    canary.clear().await?;
    canary.send_keys("alma").await?;
    let wait = client.find(Locator::Css("#rollout-wait")).await?;
    wait.clear().await?;
    wait.send_keys("10m").await?;
    both_widths(client, "rollouts-start-light").await?;
    client.find(Locator::Css("#start")).await?.click().await?;
    wait_until(client, "location.pathname === '/rollouts/1'", "the new rollout's page").await?;
    wait_until(
        client,
        &format!("{} === 'alma:pending,barack:pending,citrom:pending,dio:skipped'", steps()),
        "the steps",
    )
    .await?;
    ensure!(
        eval(client, "document.querySelector('#rollout-state').dataset.state").await? == json!("running"),
        "running"
    );

    // The job asks the canary; the page follows.
    let recorder = Arc::new(Recorder::default());
    RolloutStep::with_updater(recorder.clone()).run_once(&state, chrono::Utc::now()).await?;
    ensure!(*recorder.0.lock().unwrap() == ["alma"], "only the canary was asked");
    client.refresh().await?;
    wait_until(client, &format!("{}.startsWith('alma:updating,barack:pending')", steps()), "alma updating").await?;
    both_widths(client, "rollout-running-light").await?;

    // Pause, resume, abort (with a confirmation).
    client.find(Locator::Css("#pause")).await?.click().await?;
    wait_until(client, "document.querySelector('#rollout-state')?.dataset.state === 'paused'", "paused").await?;
    client.find(Locator::Css("#resume")).await?.click().await?;
    wait_until(client, "document.querySelector('#rollout-state')?.dataset.state === 'running'", "running again")
        .await?;
    client.find(Locator::Css("#abort")).await?.click().await?;
    client.find(Locator::Css("[data-confirm=abort]")).await?.click().await?;
    wait_until(client, "document.querySelector('#rollout-state')?.dataset.state === 'aborted'", "aborted").await?;
    ensure!(
        eval(client, "!!document.querySelector('#pause, #resume, #abort')").await? == json!(false),
        "no controls left"
    );
    both_widths(client, "rollout-aborted-light").await?;

    client.goto(&hub.url("/rollouts")).await?;
    wait_until(client, "!!document.querySelector('#rollouts tr[data-rollout=\"1\"]')", "the list").await?;
    both_widths(client, "rollouts-list-light").await
}
