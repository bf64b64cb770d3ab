//! `felhom-hub rotate-key`: every secret re-sealed under the new key while reports flow and the
//! replicas (with both keys) keep working; all or nothing; safe to repeat; afterwards the new key
//! alone opens everything and the old one nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::Engine;
use hub_api::crypto::Cipher;
use hub_testkit::Database;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{fresh_database_url, infra_backup, report, start, HubBuilder, TestHub, SHARED_ENCRYPTION_KEY};

const NEW_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

fn key(text: &str) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD.decode(text).unwrap().try_into().unwrap()
}

/// A hub on `url` sealing with `key`, also opening with `previous` (a rotation under way).
fn hub_on(url: &str, key: &'static str, new_key: Option<&'static str>) -> HubBuilder {
    HubBuilder::new().database(Database::Url(url.to_string())).tweak(move |raw| {
        raw.security.encryption_key = key.into();
        raw.security.new_encryption_key = new_key.unwrap_or_default().into();
    })
}

async fn recovery(hub: &TestHub, customer: &str, password: &str) -> Value {
    let res = hub.get_with_password(&format!("/api/v1/recovery/{customer}"), password).await;
    assert_eq!(res.status(), 200, "recovery of {customer}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn rotating_the_key_while_reports_flow_reseals_everything_and_replicas_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_database_url(dir.path()).await;

    // Before: the old key only. A customer with every kind of secret, and the session secret.
    let mut before = start(hub_on(&url, SHARED_ENCRYPTION_KEY, None)).await;
    before.login().await;
    let kovacs = before.create_config("kovacs").await;
    let (kovacs_key, kovacs_password) =
        (kovacs["api_key"].as_str().unwrap().to_string(), kovacs["retrieval_password"].as_str().unwrap().to_string());
    let push = infra_backup("kovacs", "restic-primary-secret");
    let res = before.bare(Method::POST, "/api/v1/infra-backup").bearer_auth(&kovacs_key).json(&push).send().await;
    assert_eq!(res.unwrap().status(), 200);
    before.stop().await;

    // During: the replica restarted with both keys; reports keep flowing; a new customer is
    // sealed under the new key at once.
    let mut during = start(hub_on(&url, SHARED_ENCRYPTION_KEY, Some(NEW_KEY))).await;
    during.login().await;
    let flowing = Arc::new(AtomicBool::new(true));
    let (client, report_url, keep_going, flow_key) =
        (reqwest::Client::new(), during.url("/api/v1/report"), flowing.clone(), kovacs_key.clone());
    let flow = tokio::spawn(async move {
        let mut posted = 0u32;
        while keep_going.load(Ordering::Relaxed) || posted < 3 {
            let res = client.post(&report_url).bearer_auth(&flow_key).json(&report("kovacs")).send().await.unwrap();
            assert_eq!(res.status(), 200);
            posted += 1;
        }
        posted
    });
    let szabo = during.create_config("szabo").await;
    let szabo_password = szabo["retrieval_password"].as_str().unwrap().to_string();
    assert_eq!(
        recovery(&during, "kovacs", &kovacs_password).await["infra_backup"]["restic_passwords"]["primary"],
        "restic-primary-secret"
    );

    let config = during.state().config().clone();
    let store = during.state().store().clone();
    let kovacs_sealed = || async {
        let (v,): (String,) = sqlx::query_as("SELECT api_key_enc FROM customer_configs WHERE customer_id = 'kovacs'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        v
    };
    // A rotation that fails half-way (a damaged value) changes nothing.
    let sealed_before = kovacs_sealed().await;
    let (payload,): (String,) =
        sqlx::query_as("SELECT payload_enc FROM infra_backups").fetch_one(store.pool()).await.unwrap();
    sqlx::query("UPDATE infra_backups SET payload_enc = 'v1:damaged'").execute(store.pool()).await.unwrap();
    assert!(hub_api::rotate::rotate(&config, key(NEW_KEY)).await.is_err());
    assert_eq!(kovacs_sealed().await, sealed_before, "all or nothing");
    sqlx::query("UPDATE infra_backups SET payload_enc = $1").bind(&payload).execute(store.pool()).await.unwrap();

    let rotated = hub_api::rotate::rotate(&config, key(NEW_KEY)).await.unwrap();
    assert!(rotated.changed >= 7, "{rotated:?}");
    assert!(rotated.key_file.is_none(), "the key comes from security.encryption_key");
    let again = hub_api::rotate::rotate(&config, key(NEW_KEY)).await.unwrap();
    assert_eq!(again.changed, 0, "safe to repeat: nothing is left to do");
    flowing.store(false, Ordering::Relaxed);
    assert!(flow.await.unwrap() >= 3);
    let new_cipher = Cipher::new(&key(NEW_KEY));
    for sealed in store.sealed_values().await.unwrap() {
        assert!(new_cipher.sealed_by_current(&sealed), "not under the new key: {}", &sealed[..12]);
    }
    // The replica with both keys kept working throughout.
    recovery(&during, "kovacs", &kovacs_password).await;
    recovery(&during, "szabo", &szabo_password).await;
    during.stop().await;

    // After: the new key alone opens everything.
    let mut after = start(hub_on(&url, NEW_KEY, None)).await;
    after.login().await;
    let bundle = recovery(&after, "kovacs", &kovacs_password).await;
    assert_eq!(bundle["infra_backup"]["restic_passwords"]["primary"], "restic-primary-secret");
    assert!(bundle["config_yaml"].as_str().unwrap().contains(&kovacs_key));
    recovery(&after, "szabo", &szabo_password).await;
    let revealed: Value =
        after.request(Method::POST, "/api/v1/configs/kovacs/reveal").send().await.unwrap().json().await.unwrap();
    assert_eq!(revealed["api_key"], kovacs_key.as_str());
    assert_eq!(after.post_report(&kovacs_key, &report("kovacs")).await.status(), 200);
    after.stop().await;

    // And the old key alone no longer starts a hub on this database.
    let (raw, _) = hub_on(&url, SHARED_ENCRYPTION_KEY, None).raw_config(dir.path()).await;
    let Err(err) = hub_api::start(hub_api::config::Config::validate(raw).unwrap()).await else {
        panic!("a hub with only the old key started");
    };
    assert!(format!("{err:#}").contains("another key"), "{err:#}");
}

#[test]
fn rotate_key_with_a_key_file_replaces_it_and_can_run_again() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let password = runtime.block_on(async {
        let mut hub = start(HubBuilder::new().database(Database::Sqlite).tweak({
            let data = data.clone();
            move |raw| {
                raw.server.data_dir = data.clone();
                raw.database.url = format!("sqlite://{}", data.join("hub.db").display()).into();
            }
        }))
        .await;
        hub.login().await;
        let created = hub.create_config("kovacs").await;
        hub.stop().await;
        created["retrieval_password"].as_str().unwrap().to_string()
    });
    let old = std::fs::read_to_string(data.join("encryption.key")).unwrap();
    let new_file = dir.path().join("new.key");
    std::fs::write(&new_file, format!("{NEW_KEY}\n")).unwrap();
    for run in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_felhom-hub"))
            .args(["rotate-key", "--new-key-file"])
            .arg(&new_file)
            .env("HUB_SERVER__DATA_DIR", &data)
            .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
            .env_remove("HUB_SECURITY__ENCRYPTION_KEY")
            .env_remove("HUB_DATABASE__URL")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "run {run}: {text}");
        assert!(!text.contains(NEW_KEY) && !text.contains(old.trim()), "no key is printed: {text}");
        if run == 1 {
            assert!(text.contains("re-sealed 0 values"), "{text}");
        }
    }
    assert_eq!(std::fs::read_to_string(data.join("encryption.key")).unwrap().trim(), NEW_KEY);
    runtime.block_on(async {
        let hub = start(HubBuilder::new().database(Database::Sqlite).tweak(move |raw| {
            raw.server.data_dir = data.clone();
            raw.database.url = format!("sqlite://{}", data.join("hub.db").display()).into();
        }))
        .await;
        recovery(&hub, "kovacs", &password).await;
    });
}
