//! Browser tests of customer management: create a customer through the form (after a validation
//! error), the one-time credentials, reveal, setting given credentials, block and unblock, edit, delete with confirmation,
//! "Create config" for a report-only customer, and the audit log listing it all. Screenshots of
//! the new pages, light and dark, at 1280 and 390 px.

use anyhow::{ensure, Context, Result};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use super::harness::{self, eval, screenshot, wait_until, Driver, TestHub, PASSWORD, REPORT_KEY};
use super::{login, path, report};

/// A key the old hub had issued, set through the credentials card.
const LEGACY_KEY: &str = "old-go-hub-key-kovacs-0123456789";

/// A customer that only reports, an empty managed one, and infra backups for the first.
async fn seed(hub: &TestHub) -> Result<()> {
    hub.report(&report("gesztenye", "ok", true, 12.0, None)).await?;
    hub.add_config("eper", "Eper Kft.", "active").await?;
    for _ in 0..2 {
        let backup = json!({
            "customer_id": "gesztenye",
            "controller_yaml": "Y3VzdG9tZXI6IHt9Cg==",
            "settings_json": "e30=",
            "disks": [{"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "label": "data", "mount_point": "/mnt/data",
                       "fstab_options": "defaults,nofail", "bind_mounts": ["/srv/photos"]}],
            "stacks": [{"app": "immich", "display_name": "Immich", "hdd_path": "/mnt/data/immich"}],
            "restic_passwords": {"primary": "p1", "cross_drive": "p2"}
        });
        let res = reqwest::Client::new()
            .post(hub.url("/api/v1/infra-backup"))
            .bearer_auth(REPORT_KEY)
            .json(&backup)
            .send()
            .await?;
        ensure!(res.status().is_success(), "infra backup refused: {}", res.text().await?);
    }
    Ok(())
}

async fn click(client: &Client, css: &str) -> Result<()> {
    client.wait().for_element(Locator::Css(css)).await.with_context(|| format!("no {css}"))?.click().await?;
    Ok(())
}

/// Replaces an input's value the way typing does (an `input` event the app listens to).
async fn fill(client: &Client, css: &str, value: &str) -> Result<()> {
    client.wait().for_element(Locator::Css(css)).await.with_context(|| format!("no {css}"))?;
    client
        .execute(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1];\
             e.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await?;
    Ok(())
}

async fn text(client: &Client, css: &str) -> Result<String> {
    let value = eval(client, &format!("document.querySelector('{css}')?.textContent ?? ''")).await?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

/// The actions of the audit page's rows, top to bottom.
fn audit_actions() -> &'static str {
    "Array.from(document.querySelectorAll('#audit tbody tr')).map(r => r.dataset.action).join(',')"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_manages_customers() -> Result<()> {
    harness::check_prerequisites();
    let mut hub = TestHub::start().await?;
    seed(&hub).await?;
    let driver = Driver::start()?;
    let profiles = tempfile::tempdir()?;
    let client = driver.browser(&profiles.path().join("light"), false).await?;
    let result = scenarios(&client, &hub).await;
    if result.is_err() {
        let _ = screenshot(&client, "customers-failure", 1280).await;
    }
    client.close().await?;
    result?;
    let dark = driver.browser(&profiles.path().join("dark"), true).await?;
    let result = shots(&dark, &hub, "dark").await;
    dark.close().await?;
    result?;
    hub.stop().await
}

async fn scenarios(client: &Client, hub: &TestHub) -> Result<()> {
    client.goto(&hub.url("/configs")).await?;
    login(client, PASSWORD).await?;
    wait_until(client, "location.pathname === '/configs'", "the customers list").await?;

    // The form shows the shared validation's message before anything is sent.
    click(client, "#new-customer").await?;
    wait_until(client, "location.pathname === '/configs/new'", "the form").await?;
    client.find(Locator::Css("#f-customer_id")).await?.send_keys("Kovács").await?;
    client.find(Locator::Css("#f-display_name")).await?.send_keys("Kovács család").await?;
    client.find(Locator::Css("#f-domain")).await?.send_keys("kovacs.felhom.eu").await?;
    click(client, "#config-submit").await?;
    let expected = hub_shared::validate::customer_id("Kovács").expect_err("an invalid id");
    wait_until(client, "!!document.querySelector('.field-error[data-field=customer_id]')", "the id's error").await?;
    let shown = text(client, ".field-error[data-field=customer_id]").await?;
    ensure!(shown == expected, "the form says {shown:?}, the API says {expected:?}");
    ensure!(
        eval(client, "document.querySelector('#legacy-monitoring').open").await? == json!(false),
        "the legacy UUIDs are folded away"
    );
    ensure!(
        eval(client, "document.activeElement?.id").await? == json!("f-customer_id"),
        "the first field with a problem has the focus"
    );
    client.execute("window.scrollTo(0, 0)", vec![]).await?;
    screenshot(client, "config-new-light-1280", 1280).await?;
    screenshot(client, "config-new-light-390", 390).await?;
    client.set_window_size(1280, 900).await?;

    // A duplicate id passes the form's checks; the hub's refusal is shown.
    fill(client, "#f-customer_id", "eper").await?;
    wait_until(client, "!document.querySelector('.field-error')", "the error gone once fixed").await?;
    click(client, "#config-submit").await?;
    wait_until(client, "document.querySelector('#server-error')?.textContent.includes('already exists')", "409")
        .await?;

    // Created: the credentials are shown once.
    fill(client, "#f-customer_id", "kovacs").await?;
    click(client, "#config-submit").await?;
    wait_until(client, "!!document.querySelector('#one-time-credentials')", "the one-time credentials").await?;
    let api_key = text(client, "#new-api-key").await?;
    let password = text(client, "#new-retrieval-password").await?;
    ensure!(api_key.starts_with("fh_") && api_key.len() > 40, "an API key: {api_key}");
    ensure!(password.split('-').count() == 4, "four words: {password}");
    ensure!(text(client, "#one-time-credentials").await?.contains("Shown only once"), "the warning");
    screenshot(client, "config-created-light-1280", 1280).await?;
    screenshot(client, "config-created-light-390", 390).await?;
    client.set_window_size(1280, 900).await?;

    // A stranger's wrong retrieval password counts against the customer.
    let wrong = reqwest::Client::new()
        .get(hub.url("/api/v1/config/kovacs"))
        .header("X-Retrieval-Password", "rossz-jelszo-nem-jo")
        .send()
        .await?;
    ensure!(wrong.status().is_client_error(), "a wrong password is refused: {}", wrong.status());

    // The customer page: waiting for the first report, credentials hidden until revealed.
    click(client, "#open-customer").await?;
    wait_until(client, "location.pathname === '/customers/kovacs'", "the customer page").await?;
    wait_until(client, "!!document.querySelector('#no-report') && !!document.querySelector('#config')", "pending")
        .await?;
    ensure!(!text(client, "#credentials").await?.contains(&api_key), "the key is hidden");
    ensure!(text(client, "#setup-commands").await?.contains("<retrieval password>"), "placeholder commands");
    wait_until(client, "document.querySelector('#preview-yaml')?.textContent.length > 0", "the YAML preview").await?;
    // The operator clears the failed attempts.
    ensure!(text(client, "#lockout").await?.contains("1 failed"), "one failure: {}", text(client, "#lockout").await?);
    click(client, "#clear-lockout").await?;
    wait_until(client, "document.querySelector('#lockout')?.textContent.trim() === 'none'", "cleared").await?;
    click(client, "#reveal").await?;
    wait_until(client, "!!document.querySelector('#revealed-api-key')", "the revealed key").await?;
    ensure!(text(client, "#revealed-api-key").await? == api_key, "the revealed key is the one created");
    ensure!(text(client, "#revealed-retrieval-password").await? == password, "the revealed password");
    ensure!(text(client, "#setup-commands").await?.contains(&password), "the commands carry the password");
    for width in [1280, 390] {
        client.set_window_size(width, 900).await?;
        client.execute("document.querySelector('#credentials').scrollIntoView()", vec![]).await?;
        screenshot(client, &format!("customer-revealed-light-{width}"), width).await?;
    }
    client.set_window_size(1280, 900).await?;

    // Rotating the API key (confirmed) shows the new one once.
    click(client, "#rotate-key").await?;
    click(client, "[data-confirm=rotate-key]").await?;
    wait_until(client, "!!document.querySelector('#credentials #new-api-key')", "the new key").await?;
    let new_key = text(client, "#new-api-key").await?;
    ensure!(new_key.starts_with("fh_") && new_key != api_key, "a new key: {new_key}");
    ensure!(eval(client, "!!document.querySelector('#reveal')").await? == json!(true), "hidden again");

    // Given values (the old hub's): a short key is refused by the form; a good key and password
    // are set, and the generated controller.yaml carries the key.
    click(client, "#set-credentials summary").await?;
    fill(client, "#set-api-key", "too-short").await?;
    click(client, "#set-credentials-save").await?;
    wait_until(
        client,
        "document.querySelector('#set-credentials .notice.error')?.textContent.includes('api_key')",
        "refused",
    )
    .await?;
    fill(client, "#set-api-key", LEGACY_KEY).await?;
    fill(client, "#set-retrieval-password", "alma-kerék-madár-felhő").await?;
    click(client, "#set-credentials-save").await?;
    wait_until(client, "!!document.querySelector('#set-credentials-result')", "the given values saved").await?;
    ensure!(eval(client, "document.querySelector('#set-api-key').value").await? == json!(""), "the field emptied");
    let yaml = reqwest::Client::new()
        .get(hub.url("/api/v1/config/kovacs"))
        .header("X-Retrieval-Password", "alma-kerek-madar-felho")
        .send()
        .await?
        .text()
        .await?;
    ensure!(yaml.contains(LEGACY_KEY), "the config carries the given key");

    // Block (confirmed), the banner, the grayed row, and unblock from the banner.
    click(client, "#block").await?;
    click(client, "[data-confirm=block]").await?;
    wait_until(client, "!!document.querySelector('#blocked-banner')", "the blocked banner").await?;
    screenshot(client, "customer-blocked-light-1280", 1280).await?;
    screenshot(client, "customer-blocked-light-390", 390).await?;
    client.set_window_size(1280, 900).await?;
    client.goto(&hub.url("/configs")).await?;
    wait_until(client, "!!document.querySelector('#customers tr[data-customer=kovacs].blocked')", "kovacs grayed")
        .await?;
    ensure!(
        eval(client, "document.querySelector('tr[data-customer=kovacs] .badge').dataset.status").await?
            == json!("BLOCKED"),
        "the BLOCKED badge"
    );
    click(client, "tr[data-customer=kovacs] td.name a").await?;
    click(client, "#unblock").await?;
    wait_until(
        client,
        "!!document.querySelector('#config') && !document.querySelector('#blocked-banner')",
        "unblocked",
    )
    .await?;
    ensure!(eval(client, "!!document.querySelector('#block')").await? == json!(true), "can block again");

    // Edit.
    click(client, "#edit-config").await?;
    wait_until(client, "document.querySelector('#f-display_name')?.value === 'Kovács család'", "the loaded form")
        .await?;
    ensure!(eval(client, "document.querySelector('#f-customer_id').disabled").await? == json!(true), "id fixed");
    fill(client, "#f-display_name", "Kovács és társa").await?;
    click(client, "#config-submit").await?;
    wait_until(client, "location.pathname === '/customers/kovacs'", "back on the customer page").await?;
    wait_until(client, "document.querySelector('#config')?.textContent.includes('Kovács és társa')", "new name")
        .await?;

    // Delete asks first; cancel keeps it, confirming removes it.
    click(client, "#delete").await?;
    click(client, "#actions .confirm button.secondary").await?;
    ensure!(path(client).await? == "/customers/kovacs", "cancel keeps the customer");
    click(client, "#delete").await?;
    click(client, "[data-confirm=delete]").await?;
    wait_until(client, "location.pathname === '/configs'", "the list after delete").await?;
    wait_until(client, "document.querySelectorAll('#customers tbody tr').length === 2", "two customers left").await?;
    ensure!(eval(client, "!!document.querySelector('tr[data-customer=kovacs]')").await? == json!(false), "gone");

    // A report-only customer gets a config from its report, then the edit form.
    let kind = eval(client, "document.querySelector('tr[data-customer=gesztenye] .tag').textContent").await?;
    ensure!(kind == json!("MANUAL"), "gesztenye is MANUAL: {kind}");
    client.goto(&hub.url("/customers/gesztenye")).await?;
    click(client, "#create-config").await?;
    wait_until(client, "location.pathname === '/configs/gesztenye/edit'", "the edit form").await?;
    wait_until(client, "!!document.querySelector('#one-time-credentials #new-api-key')", "its credentials").await?;
    wait_until(client, "document.querySelector('#f-display_name')?.value === 'gesztenye-node'", "filled").await?;

    // The audit log lists it all, newest first.
    click(client, "a[href='/audit']").await?;
    wait_until(client, "document.querySelectorAll('#audit tbody tr').length >= 10", "the audit entries").await?;
    let actions = eval(client, audit_actions()).await?;
    ensure!(
        actions
            == json!(
                "create,delete,update,unblock,block,retrieval,set_credentials,rotate_api_key,reveal,clear_lockout,\
                 retrieval_failed,create"
            ),
        "the audit log, newest first: {actions}"
    );
    let log = text(client, "#audit").await?;
    ensure!(!log.contains(&password) && !log.contains(&api_key) && !log.contains(&new_key), "no secret in the log");
    ensure!(!log.contains(LEGACY_KEY) && !log.contains("alma"), "no given secret in the log");

    shots(client, hub, "light").await
}

/// Screenshots of the new pages in one color scheme.
async fn shots(client: &Client, hub: &TestHub, scheme: &str) -> Result<()> {
    if scheme == "dark" {
        client.goto(&hub.url("/login")).await?;
        login(client, PASSWORD).await?;
        wait_until(client, "location.pathname === '/'", "the dashboard").await?;
        let dark = eval(client, "matchMedia('(prefers-color-scheme: dark)').matches").await?;
        ensure!(dark == Value::Bool(true), "a dark color scheme");
    }
    let pages: [(&str, &str, Option<&str>, &str); 6] = [
        ("/configs/new", "!!document.querySelector('#config-form')", None, "config-form"),
        (
            "/customers/gesztenye",
            "!!document.querySelector('#preview-yaml') && !!document.querySelector('#infra-backups tbody tr')",
            Some("#management"),
            "customer-manage",
        ),
        ("/customers/gesztenye", "!!document.querySelector('#preview-yaml')", Some("#preview"), "customer-backups"),
        (
            "/customers/eper",
            "!!document.querySelector('#no-report') && !!document.querySelector('#config')",
            None,
            "customer-pending",
        ),
        ("/configs/gesztenye/edit", "document.querySelector('#f-display_name')?.value.length > 0", None, "config-edit"),
        ("/audit", "document.querySelectorAll('#audit tbody tr').length > 0", None, "audit"),
    ];
    for (page, ready, scroll_to, name) in pages {
        for width in [1280, 390] {
            client.set_window_size(width, 900).await?;
            client.goto(&hub.url(page)).await?;
            wait_until(client, ready, name).await?;
            if let Some(css) = scroll_to {
                client.execute(&format!("document.querySelector('{css}').scrollIntoView()"), vec![]).await?;
            }
            screenshot(client, &format!("{name}-{scheme}-{width}"), width).await?;
        }
    }
    client.set_window_size(1280, 900).await?;
    Ok(())
}
