//! The fleet a page at a time: the dashboard shows the first page with the whole fleet's counts
//! and adds the next on "Show more"; the search goes to the hub. Also the bench's figure of the
//! time until the dashboard shows the fleet, measured against a hub the bench started.

use anyhow::{ensure, Context, Result};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::harness::{self, eval, wait_until, Driver, TestHub, PASSWORD};

const ROWS: &str = "document.querySelectorAll('#fleet tbody tr').length";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_pages_through_a_large_fleet() -> Result<()> {
    harness::check_prerequisites();
    let mut hub = TestHub::start().await?;
    for i in 0..130 {
        let health = if i % 10 == 0 { "fail" } else { "ok" };
        hub.report(&json!({"customer_id": format!("c{i:03}"), "hostname": format!("host-{i:03}"), "health": health,
            "monitoring_enabled": true, "system": {"cpu_percent": f64::from(i % 50)}}))
            .await?;
    }
    let driver = Driver::start()?;
    let profile = tempfile::tempdir()?;
    let client = driver.browser(profile.path(), false).await?;
    let result = scenario(&client, &hub).await;
    if result.is_err() {
        let _ = harness::screenshot(&client, "fleet-pages-failure", 1280).await;
    }
    client.close().await?;
    result?;
    hub.stop().await
}

async fn scenario(client: &Client, hub: &TestHub) -> Result<()> {
    client.goto(&hub.url("/login")).await?;
    client.wait().for_element(Locator::Css("#password")).await?.send_keys(PASSWORD).await?;
    client.find(Locator::Css("form button[type=submit]")).await?.click().await?;
    wait_until(client, &format!("{ROWS} === 100"), "the first page").await?;
    let count = |status: &str| format!("document.querySelector('[data-count={status}] .count-n').textContent");
    ensure!(eval(client, &count("OK")).await? == json!("117"), "the whole fleet's counts");
    ensure!(eval(client, &count("DOWN")).await? == json!("13"), "the whole fleet's counts");
    let first = eval(client, "document.querySelector('#fleet tbody tr').dataset.customer").await?;
    ensure!(first == json!("c000"), "worst first, then by id: {first}");

    client.find(Locator::Css("#show-more")).await?.click().await?;
    wait_until(client, &format!("{ROWS} === 130"), "the second page added").await?;
    let ids = eval(
        client,
        "new Set(Array.from(document.querySelectorAll('#fleet tbody tr')).map(r => r.dataset.customer)).size",
    )
    .await?;
    ensure!(ids == json!(130), "each customer once: {ids}");
    ensure!(
        eval(client, "!!document.querySelector('#show-more')").await? == json!(false),
        "no more to show after the last page"
    );

    // The search and the order go to the hub, and stay in the URL.
    client.goto(&hub.url("/?q=host-12&sort=cpu&dir=desc")).await?;
    wait_until(client, &format!("{ROWS} === 10"), "ten hosts host-120…129").await?;
    let first = eval(client, "document.querySelector('#fleet tbody tr').dataset.customer").await?;
    ensure!(first == json!("c129"), "highest cpu first: {first}");
    ensure!(eval(client, &count("OK")).await? == json!("117"), "counts are the whole fleet's");
    Ok(())
}

/// The bench's figure: with `FLEET_PAINT_URL` set to a hub without a password, loads its
/// dashboard a few times in a fresh Chromium and prints the median time from navigation start
/// to the `fleet-painted` mark the dashboard sets after the frame that first shows rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by `cargo xtask bench` against its own hub"]
async fn time_until_the_dashboard_shows_the_fleet() -> Result<()> {
    let url = std::env::var("FLEET_PAINT_URL").context("FLEET_PAINT_URL: the hub to measure")?;
    let driver = Driver::start()?;
    let profile = tempfile::tempdir()?;
    let client = driver.browser(profile.path(), false).await?;
    // The first load fills the browser's cache with the app, as an operator's browser has it.
    let mut times = Vec::new();
    for run in 0..6 {
        client.goto(&format!("{url}/")).await?;
        let mark = "performance.getEntriesByName('fleet-painted').map(e => e.startTime)[0] ?? null";
        wait_until(&client, &format!("({mark}) !== null"), "the fleet painted").await?;
        let ms = eval(&client, mark).await?.as_f64().context("a time")?;
        if run > 0 {
            times.push(ms);
        }
    }
    client.close().await?;
    times.sort_by(f64::total_cmp);
    let rows = eval_rows(&url).await.unwrap_or(Value::Null);
    println!(
        "fleet_paint_ms={:.0} fleet_paint_max_ms={:.0} rows={rows}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}

/// How many customers the hub's fleet has (for the printed line).
async fn eval_rows(url: &str) -> Result<Value> {
    let list: Value = reqwest::get(format!("{url}/api/v1/customers?limit=1")).await?.json().await?;
    Ok(list["matched"].clone())
}
