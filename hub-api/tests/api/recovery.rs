//! Disaster recovery with the retrieval password: the generated controller.yaml, the recovery
//! bundle, wrong passwords and lock-outs (per customer and per address, growing, cleared by the
//! operator), the alert, and the template refresh job against a stand-in registry.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use hub_api::jobs::{Job, TemplateRefresh};
use hub_api::retrieval::{self, Refusal, MIN_ANSWER};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// A signed-in hub with customer `kovacs`: (hub, api key, retrieval password).
async fn hub_with_kovacs() -> (TestHub, String, String) {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let created = hub.create_config("kovacs").await;
    let key = created["api_key"].as_str().unwrap().to_string();
    let password = created["retrieval_password"].as_str().unwrap().to_string();
    (hub, key, password)
}

#[tokio::test]
async fn the_recovery_bundle_with_the_right_password() {
    let (mut hub, key, password) = hub_with_kovacs().await;
    let res = hub.get_with_password("/api/v1/recovery/kovacs", &password).await;
    assert_eq!(res.status(), 200);
    let bundle: Value = res.json().await.unwrap();
    assert_eq!(bundle["customer_id"], "kovacs");
    assert_eq!(bundle["has_infra_backup"], false);
    assert!(bundle["infra_backup"].is_null());
    let config: serde_yaml::Value = serde_yaml::from_str(bundle["config_yaml"].as_str().unwrap()).unwrap();
    assert_eq!(config["hub"]["api_key"].as_str(), Some(key.as_str()));

    let push = hub.bare(Method::POST, "/api/v1/infra-backup").bearer_auth(&key);
    assert_eq!(push.json(&infra_backup("kovacs", "restic-pw")).send().await.unwrap().status(), 200);
    let bundle: Value = hub.get_with_password("/api/v1/recovery/kovacs", &password).await.json().await.unwrap();
    assert_eq!(bundle["has_infra_backup"], true);
    assert_eq!(bundle["infra_backup"]["version"], 1);
    assert_eq!(bundle["infra_backup"]["restic_passwords"]["primary"], "restic-pw");
    assert_eq!(bundle["infra_backup"]["restic_passwords"]["cross_drive"], "restic-pw-cross");
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs", 200).await;
    assert_eq!(audit["entries"][0]["action"], "retrieval");
    assert_eq!(audit["entries"][0]["actor"], "public");
    hub.stop().await;
}

#[tokio::test]
async fn the_config_is_yaml_and_the_password_may_be_typed_without_accents() {
    let (mut hub, key, password) = hub_with_kovacs().await;
    let res = hub.get_with_password("/api/v1/config/kovacs", &password).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/yaml"));
    let yaml = res.text().await.unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(doc["customer"]["id"], "kovacs");
    assert_eq!(doc["customer"]["domain"], "kovacs.felhom.eu");
    assert_eq!(doc["hub"]["api_key"].as_str(), Some(key.as_str()));
    assert_eq!(doc["monitoring"]["disk_critical_percent"], 90, "from the bundled template");
    let again = hub.get_with_password("/api/v1/config/kovacs", &password).await.text().await.unwrap();
    assert_eq!(again, yaml, "the same bytes every time");

    let plain = hub_shared::validate::fold_passphrase(&password).to_uppercase().replace('-', " ");
    assert_eq!(hub.get_with_password("/api/v1/config/kovacs", &plain).await.status(), 200, "{plain}");
    hub.stop().await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_customers_get_the_same_answer_no_sooner_than_the_floor() {
    let (mut hub, _, password) = hub_with_kovacs().await;
    let started = Instant::now();
    let wrong = hub.get_with_password("/api/v1/recovery/kovacs", "alma-alma-alma-alma").await;
    assert!(started.elapsed() >= MIN_ANSWER);
    assert_eq!(wrong.status(), 401);
    let wrong: Value = wrong.json().await.unwrap();
    let started = Instant::now();
    let unknown = hub.get_with_password("/api/v1/recovery/ghost", &password).await;
    assert!(started.elapsed() >= MIN_ANSWER);
    assert_eq!(unknown.status(), 401);
    assert_eq!(unknown.json::<Value>().await.unwrap(), wrong, "no way to tell a customer exists");
    let missing = hub.bare(Method::GET, "/api/v1/recovery/kovacs").send().await.unwrap();
    assert_eq!(missing.status(), 401);
    // A bearer key is not a retrieval password.
    let keyed = hub.bare(Method::GET, "/api/v1/config/kovacs").bearer_auth(REPORT_KEY).send().await.unwrap();
    assert_eq!(keyed.status(), 401);
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs", 200).await;
    assert_eq!(audit["entries"][0]["action"], "retrieval_failed");
    assert!(audit["entries"][0]["client_ip"].as_str().unwrap().starts_with("127."));
    hub.stop().await;
}

#[tokio::test]
async fn five_failures_lock_out_even_the_right_password_until_the_operator_clears_it() {
    let (mut hub, _, password) = hub_with_kovacs().await;
    for _ in 0..retrieval::FREE_FAILURES {
        assert_eq!(hub.get_with_password("/api/v1/config/kovacs", "rossz-jelszo-ez-itt").await.status(), 401);
    }
    let locked = hub.get_with_password("/api/v1/config/kovacs", &password).await;
    assert_eq!(locked.status(), 429, "the right password waits for the lock-out");
    let retry: i64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let config = hub.get_json("/api/v1/configs/kovacs", 200).await;
    assert_eq!(config["recovery_lockout"]["failures"], 5);
    assert!(config["recovery_lockout"]["locked_until"].is_string());

    let res = hub.request(Method::DELETE, "/api/v1/configs/kovacs/recovery-lockout").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cleared: Value = res.json().await.unwrap();
    assert_eq!(cleared["recovery_lockout"]["failures"], 0);
    assert_eq!(hub.get_with_password("/api/v1/config/kovacs", &password).await.status(), 200);
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs&limit=100", 200).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "retrieval_failed").count(), 5);
    assert!(actions.contains(&"clear_lockout"));
    hub.stop().await;
}

fn password_header(password: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-retrieval-password", HeaderValue::from_bytes(password.as_bytes()).unwrap());
    headers
}

const T0: i64 = 1_800_000_000_000;

#[tokio::test]
async fn the_lockout_grows_with_each_failure_and_ends() {
    let (mut hub, _, password) = hub_with_kovacs().await;
    let (state, ip): (_, IpAddr) = (hub.state().clone(), "203.0.113.9".parse().unwrap());
    let right: &'static HeaderMap = Box::leak(Box::new(password_header(&password)));
    let wrong: &'static HeaderMap = Box::leak(Box::new(password_header("nem-ez-a-jelszo")));
    let verify = |headers: &'static HeaderMap, now: i64| retrieval::verify(&state, "kovacs", headers, ip, now, "test");
    for i in 0..5 {
        assert!(matches!(verify(wrong, T0 + i).await, Err(Refusal::App(_))));
    }
    let locked = verify(right, T0 + 59_000).await;
    assert!(matches!(locked, Err(Refusal::Locked { retry_after_secs: 1..=2 })), "{locked:?}");
    // After the first minute one more failure locks for two minutes.
    assert!(matches!(verify(wrong, T0 + 61_000).await, Err(Refusal::App(_))));
    assert!(matches!(verify(right, T0 + 61_000 + 119_000).await, Err(Refusal::Locked { .. })));
    assert!(verify(right, T0 + 61_000 + 121_000).await.is_ok(), "the lock-out ended");
    // A right password forgets the customer's failures, not the address's.
    let store = hub.state().store();
    assert!(store.attempts(&hub_api::store::customer_subject("kovacs")).await.unwrap().is_none());
    let by_ip = store.attempts(&hub_api::store::ip_subject("203.0.113.9")).await.unwrap().unwrap();
    assert_eq!(by_ip.failures, 6);
    hub.stop().await;
}

#[tokio::test]
async fn an_address_guessing_across_customers_is_locked_out_but_others_are_not() {
    let (mut hub, _, password) = hub_with_kovacs().await;
    let state = hub.state().clone();
    let (guesser, customer): (IpAddr, IpAddr) = ("198.51.100.7".parse().unwrap(), "192.0.2.44".parse().unwrap());
    let wrong = password_header("alma-korte-szilva-meggy");
    for i in 0..5 {
        let id = format!("target{i}");
        assert!(retrieval::verify(&state, &id, &wrong, guesser, T0 + i, "test").await.is_err());
    }
    let right = password_header(&password);
    let from_guesser = retrieval::verify(&state, "kovacs", &right, guesser, T0 + 10, "test").await;
    assert!(matches!(from_guesser, Err(Refusal::Locked { .. })));
    assert!(retrieval::verify(&state, "kovacs", &right, customer, T0 + 10, "test").await.is_ok());
    hub.stop().await;
}

#[tokio::test]
async fn repeated_failures_raise_an_operator_alert() {
    let (mut hub, _, _) = hub_with_kovacs().await;
    let state = hub.state().clone();
    let wrong = password_header("nem-ez-a-jelszo");
    let mut now = T0;
    for i in 1..=retrieval::ALERT_EVERY {
        let ip: IpAddr = format!("203.0.113.{i}").parse().unwrap();
        assert!(matches!(retrieval::verify(&state, "kovacs", &wrong, ip, now, "test").await, Err(Refusal::App(_))));
        now += retrieval::lockout_ms(i) + 1000;
    }
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs&limit=3", 200).await;
    assert_eq!(audit["entries"][0]["action"], "retrieval_alert");
    assert!(audit["entries"][0]["summary"].as_str().unwrap().contains("10 wrong retrieval passwords"));
    hub.stop().await;
}

const TEMPLATE_PATH: &str = "/admin/felhom-controller/raw/branch/main/controller.yaml.example";

async fn hub_with_registry(server: &MockServer) -> TestHub {
    let url = format!("{}{TEMPLATE_PATH}", server.uri());
    let mut hub = spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.registry.template_url = url;
            raw.registry.username = "hub".into();
            raw.registry.token = SecretString::from("registry-token");
        })),
    })
    .await;
    hub.login().await;
    hub
}

#[tokio::test]
async fn the_template_refresh_fetches_keeps_the_last_good_one_and_survives_failures() {
    let server = MockServer::start().await;
    let mut hub = hub_with_registry(&server).await;
    let password = hub.create_config("kovacs").await["retrieval_password"].as_str().unwrap().to_string();
    let now = Utc.timestamp_millis_opt(T0).unwrap();
    let template = "customer:\n  id: ''\nfeature_flags:\n  new_dashboard: true\nhub:\n  url: x\n  api_key: ''\n";
    // "hub:registry-token" in basic auth.
    Mock::given(method("GET"))
        .and(path(TEMPLATE_PATH))
        .and(header("authorization", "Basic aHViOnJlZ2lzdHJ5LXRva2Vu"))
        .respond_with(ResponseTemplate::new(200).set_body_string(template))
        .mount(&server)
        .await;
    let summary = TemplateRefresh.run_once(hub.state(), now).await.unwrap();
    assert!(summary.contains("updated"), "{summary}");
    let fetch = || hub.get_with_password("/api/v1/config/kovacs", &password);
    let yaml = fetch().await.text().await.unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(doc["feature_flags"]["new_dashboard"], true, "the fetched template is used");
    assert!(doc.get("backup").is_none(), "the bundled template is no longer used");
    assert!(TemplateRefresh.run_once(hub.state(), now).await.unwrap().contains("unchanged"));

    server.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let err = TemplateRefresh.run_once(hub.state(), now).await.unwrap_err();
    assert!(format!("{err:#}").contains("500"), "{err:#}");
    assert_eq!(fetch().await.text().await.unwrap(), yaml, "a failed fetch keeps the last good template");

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("- not\n- a map\n"))
        .mount(&server)
        .await;
    assert!(TemplateRefresh.run_once(hub.state(), now).await.is_err());
    assert_eq!(fetch().await.text().await.unwrap(), yaml, "a bad template is not stored");
    hub.stop().await;
}

#[tokio::test]
async fn without_a_template_url_the_bundled_template_is_used() {
    let mut hub = spawn_hub().await;
    let now = Utc.timestamp_millis_opt(T0).unwrap();
    assert!(TemplateRefresh.run_once(hub.state(), now).await.unwrap().contains("bundled"));
    assert!(hub_api::jobs::all().iter().any(|j| j.name() == "template_refresh"));
    let every = TemplateRefresh.schedule(hub.state());
    assert_eq!(every, hub_api::jobs::Schedule::Every(Duration::from_secs(3600)));
    hub.stop().await;
}
