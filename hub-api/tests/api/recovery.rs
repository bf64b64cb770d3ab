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
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs&per_page=100", 200).await;
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
    drop(state);
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
    drop(state);
    hub.stop().await;
}

#[tokio::test]
async fn a_lock_is_emailed_to_the_operator_with_the_address() {
    let mail = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "email-1"})))
        .mount(&mail)
        .await;
    let uri = mail.uri();
    let mut hub = spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.notifications.resend_base_url = uri;
            raw.notifications.resend_api_key = "re_test_key".to_string().into();
            raw.notifications.operator_email = "ops@felhom.eu".into();
        })),
    })
    .await;
    hub.login().await;
    hub.create_config("kovacs").await;
    let state = hub.state().clone();
    let (ip, wrong): (IpAddr, _) = ("203.0.113.9".parse().unwrap(), password_header("nem-ez-a-jelszo"));
    let now = Utc::now().timestamp_millis();
    for i in 0..retrieval::FREE_FAILURES {
        assert!(matches!(retrieval::verify(&state, "kovacs", &wrong, ip, now + i, "test").await, Err(Refusal::App(_))));
    }
    hub_api::notify::dispatch_pending(state.store(), state.notifier(), Utc::now()).await.unwrap();
    let mut emails = Vec::new();
    for _ in 0..100 {
        emails = mail.received_requests().await.unwrap();
        if !emails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(emails.len(), 1);
    let email: Value = emails[0].body_json().unwrap();
    assert_eq!(email["to"], serde_json::json!(["ops@felhom.eu"]));
    assert!(email["subject"].as_str().unwrap().contains("Recovery LOCKED"), "{email}");
    assert!(email["text"].as_str().unwrap().contains("203.0.113.9"), "{email}");
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs&per_page=1", 200).await;
    assert_eq!(audit["entries"][0]["action"], "retrieval_alert");
    drop(state);
    hub.stop().await;
}

/// How many rows `table` holds.
async fn rows(hub: &TestHub, table: &str) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(hub.state().store().pool()).await.unwrap();
    n
}

/// The `recovery_locked` events of `customer_id`, newest first.
async fn lock_events(hub: &TestHub, customer_id: &str) -> Vec<Value> {
    let page = hub.get_json(&format!("/api/v1/customers/{customer_id}/events?type=recovery_locked"), 200).await;
    page["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_customer_out() {
    let (mut hub, _, password) = hub_with_kovacs().await;
    let state = hub.state().clone();
    let (stranger, customer): (IpAddr, IpAddr) = ("198.51.100.7".parse().unwrap(), "192.0.2.44".parse().unwrap());
    let (wrong, right) = (password_header("alma-korte-szilva-meggy"), password_header(&password));
    for i in 0..retrieval::FREE_FAILURES {
        let judged = retrieval::verify(&state, "kovacs", &wrong, stranger, T0 + i, "test").await;
        assert!(matches!(judged, Err(Refusal::App(_))), "{judged:?}");
    }
    let again = retrieval::verify(&state, "kovacs", &right, stranger, T0 + 10, "test").await;
    assert!(matches!(again, Err(Refusal::Locked { .. })), "the guessing address is locked: {again:?}");
    let owner = retrieval::verify(&state, "kovacs", &right, customer, T0 + 20, "test").await;
    assert!(owner.is_ok(), "the customer's own address still gets in: {owner:?}");
    // Another address of the guesser's IPv6 /64 shares its count; the next /64 does not.
    for i in 0..retrieval::FREE_FAILURES {
        let ip: IpAddr = format!("2001:db8:1:2::{i:x}").parse().unwrap();
        assert!(matches!(retrieval::verify(&state, "kovacs", &wrong, ip, T0 + 30, "test").await, Err(Refusal::App(_))));
    }
    let same_64 = retrieval::verify(&state, "kovacs", &right, "2001:db8:1:2:ffff::1".parse().unwrap(), T0 + 40, "test");
    assert!(matches!(same_64.await, Err(Refusal::Locked { .. })));
    assert!(retrieval::verify(&state, "kovacs", &right, "2001:db8:1:3::1".parse().unwrap(), T0 + 40, "test")
        .await
        .is_ok());

    // Each lock is an error event naming the address.
    let events = lock_events(&hub, "kovacs").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e["severity"] == "error" && e["source"] == "hub"));
    let details: Vec<String> = events.iter().map(|e| format!("{} {}", e["message"], e["details"])).collect();
    assert!(details[1].contains("198.51.100.7"), "{}", details[1]);
    assert!(details[0].contains("2001:db8:1:2::/64"), "{}", details[0]);
    drop(state);
    hub.stop().await;
}

#[tokio::test]
async fn the_customer_wide_limit_never_refuses_the_right_password_from_a_clean_address() {
    let (mut hub, _, password) = hub_with_kovacs().await;
    let state = hub.state().clone();
    let (wrong, right) = (password_header("alma-korte-szilva-meggy"), password_header(&password));
    // Guessers spread over many addresses, each staying under the per-address limit.
    let per_address = retrieval::FREE_FAILURES - 1;
    let addresses = retrieval::CUSTOMER_DAILY_FAILURES / per_address;
    let address = |a: i64| -> IpAddr { format!("10.1.{}.{}", a / 200, a % 200 + 1).parse().unwrap() };
    // All but the last address at once (each answer takes MIN_ANSWER), then the last one.
    let guess = |a: i64, now: i64| {
        let (state, wrong) = (state.clone(), wrong.clone());
        async move {
            for k in 0..per_address {
                let judged = retrieval::verify(&state, "kovacs", &wrong, address(a), now + k, "test").await;
                assert!(matches!(judged, Err(Refusal::App(_))), "guess from address {a}: {judged:?}");
            }
        }
    };
    let mut guessers = tokio::task::JoinSet::new();
    for a in 0..addresses - 1 {
        guessers.spawn(guess(a, T0 + a * 10));
    }
    guessers.join_all().await;
    let now = T0 + addresses * 10;
    guess(addresses - 1, now).await;
    // The limit is reached: no more guesses are judged from an address that has failed, even
    // the right one...
    assert!(matches!(
        retrieval::verify(&state, "kovacs", &wrong, address(0), now + 1, "test").await,
        Err(Refusal::Locked { .. })
    ));
    let refused = retrieval::verify(&state, "kovacs", &right, address(1), now + 2, "test").await;
    let Err(Refusal::Locked { retry_after_secs }) = refused else { panic!("{refused:?}") };
    assert!(retry_after_secs > 23 * 3600, "a customer-wide lock lasts a day: {retry_after_secs}");
    // ...but the right password from an address that never failed gets in.
    let clean: IpAddr = "192.0.2.44".parse().unwrap();
    assert!(retrieval::verify(&state, "kovacs", &right, clean, now + 3, "test").await.is_ok());

    let events = lock_events(&hub, "kovacs").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let text = format!("{} {}", events[0]["message"], events[0]["details"]);
    assert!(text.contains(&address(0).to_string()) && text.contains(&address(addresses - 1).to_string()), "{text}");
    drop(state);
    hub.stop().await;
}

#[tokio::test]
async fn parallel_wrong_guesses_from_one_address_get_only_five_judged() {
    let (mut hub, _, _) = hub_with_kovacs().await;
    let state = hub.state().clone();
    let ip: IpAddr = "203.0.113.50".parse().unwrap();
    let wrong = password_header("nem-ez-a-jelszo");
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (state, wrong) = (state.clone(), wrong.clone());
        guesses.spawn(async move { retrieval::verify(&state, "kovacs", &wrong, ip, T0, "test").await });
    }
    let answers = guesses.join_all().await;
    let judged = answers.iter().filter(|a| matches!(a, Err(Refusal::App(_)))).count();
    let locked = answers.iter().filter(|a| matches!(a, Err(Refusal::Locked { .. }))).count();
    assert_eq!((judged, locked), (retrieval::FREE_FAILURES as usize, 100 - retrieval::FREE_FAILURES as usize));
    drop(state);
    hub.stop().await;
}

#[tokio::test]
async fn unknown_customer_ids_get_the_same_answer_but_write_no_rows_per_try() {
    let (mut hub, _, _) = hub_with_kovacs().await;
    let state = hub.state().clone();
    let (attempts_before, audit_before) = (rows(&hub, "recovery_attempts").await, rows(&hub, "audit_log").await);
    let ip: IpAddr = "203.0.113.60".parse().unwrap();
    let wrong = password_header("nem-ez-a-jelszo");
    for i in 0..retrieval::FREE_FAILURES - 1 {
        let answer = retrieval::verify(&state, &format!("ghost{i}"), &wrong, ip, T0 + i, "test").await;
        let Err(Refusal::App(e)) = answer else { panic!("{answer:?}") };
        assert!(e.to_string().ends_with("wrong customer id or retrieval password"), "{e}");
    }
    assert_eq!(rows(&hub, "recovery_attempts").await, attempts_before + 1, "one row for the address, none per id");
    assert_eq!(rows(&hub, "audit_log").await, audit_before, "no audit row per try");
    // The address still counts them: the fifth failure, against a real customer, locks it.
    assert!(matches!(retrieval::verify(&state, "kovacs", &wrong, ip, T0 + 10, "test").await, Err(Refusal::App(_))));
    assert!(matches!(
        retrieval::verify(&state, "ghost9", &wrong, ip, T0 + 11, "test").await,
        Err(Refusal::Locked { .. })
    ));
    drop(state);
    hub.stop().await;
}

#[tokio::test]
async fn the_retention_job_prunes_old_attempts_and_failed_retrieval_audit_rows() {
    let (mut hub, _, password) = hub_with_kovacs().await;
    let state = hub.state().clone();
    let wrong = password_header("nem-ez-a-jelszo");
    let old = T0 - 200 * 24 * 3600 * 1000;
    for i in 0..3 {
        let ip: IpAddr = format!("203.0.113.{}", 70 + i).parse().unwrap();
        assert!(retrieval::verify(&state, "kovacs", &wrong, ip, old + i, "test").await.is_err());
    }
    // Recent ones stay.
    let recent: IpAddr = "203.0.113.80".parse().unwrap();
    assert!(retrieval::verify(&state, "kovacs", &wrong, recent, T0 - 1000, "test").await.is_err());
    assert!(retrieval::verify(&state, "kovacs", &password_header(&password), recent, T0 - 500, "test").await.is_ok());
    let failed_audit = |hub: &TestHub| {
        let pool = hub.state().store().pool().clone();
        async move {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'retrieval_failed'")
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    assert_eq!(failed_audit(&hub).await, 4);
    assert_eq!(rows(&hub, "recovery_attempts").await, 4, "four addresses (the right password cleared the customer's)");
    let summary = hub_api::jobs::Prune.run_once(&state, Utc.timestamp_millis_opt(T0).unwrap()).await.unwrap();
    assert!(summary.contains("3 failed retrievals"), "{summary}");
    assert_eq!(failed_audit(&hub).await, 1, "the recent failure's audit row stays");
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs&per_page=100", 200).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"create") && actions.contains(&"retrieval"), "{actions:?}");
    // The old addresses' records are gone; the recent address's stays.
    assert_eq!(rows(&hub, "recovery_attempts").await, 1);
    drop(state);
    hub.stop().await;
}

const TEMPLATE_PATH: &str = "/admin/felhom-controller/raw/branch/main/controller.yaml.example";

async fn hub_with_registry(server: &MockServer) -> TestHub {
    hub_with_template_url(format!("{}{TEMPLATE_PATH}", server.uri())).await
}

async fn hub_with_template_url(url: String) -> TestHub {
    let mut hub = spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.registry.template_url = url;
            // The stand-in registry speaks plain HTTP on 127.0.0.1.
            raw.registry.template_allow_http = true;
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

/// Runs the template refresh as the scheduler does and returns its recorded message, which is
/// what `GET /api/v1/jobs` shows and the log says.
async fn recorded_refresh(hub: &TestHub) -> String {
    let now = Utc::now();
    let due = now.timestamp_millis();
    assert!(hub.state().store().claim_run("template_refresh", due, "test", due).await.unwrap());
    hub_api::jobs::run_claimed(hub.state(), &TemplateRefresh, due, now).await;
    let jobs = hub.get_json("/api/v1/jobs", 200).await;
    let job = jobs["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "template_refresh").unwrap().clone();
    assert_eq!(job["last_run"]["ok"], false, "{job}");
    job["last_run"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn template_fetch_errors_never_show_the_urls_query_or_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let with_secrets = server.uri().replace("http://", "http://reg-user:url-password@");
    let mut hub = hub_with_template_url(format!("{with_secrets}{TEMPLATE_PATH}?token=query-secret")).await;
    let message = recorded_refresh(&hub).await;
    assert!(message.contains("500") && message.contains(TEMPLATE_PATH), "{message}");
    assert!(!message.contains("query-secret") && !message.contains("url-password"), "{message}");
    hub.stop().await;

    // A connection error (reqwest names the URL in its own message) is cleaned too.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut hub =
        hub_with_template_url(format!("http://u:url-password@127.0.0.1:{port}/t.yaml?token=query-secret")).await;
    let message = recorded_refresh(&hub).await;
    assert!(message.contains("cannot fetch http://127.0.0.1"), "{message}");
    assert!(!message.contains("query-secret") && !message.contains("url-password"), "{message}");
    hub.stop().await;
}

#[tokio::test]
async fn the_template_fetch_follows_no_redirect_to_another_host() {
    let (registry, elsewhere) = (MockServer::start().await, MockServer::start().await);
    let template = "customer:\n  id: ''\nhub:\n  url: x\n  api_key: ''\n";
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(template))
        .mount(&elsewhere)
        .await;
    // 127.0.0.1 and localhost are different hosts.
    let moved = elsewhere.uri().replace("127.0.0.1", "localhost") + "/stolen.yaml";
    Mock::given(method("GET"))
        .and(path(TEMPLATE_PATH))
        .respond_with(ResponseTemplate::new(302).insert_header("location", moved.as_str()))
        .mount(&registry)
        .await;
    let mut hub = hub_with_registry(&registry).await;
    let message = recorded_refresh(&hub).await;
    assert!(message.contains("redirect"), "{message}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty(), "the other host was never asked");
    hub.stop().await;

    // A redirect on the same host is fine.
    let registry = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(TEMPLATE_PATH))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/moved.yaml"))
        .mount(&registry)
        .await;
    Mock::given(method("GET"))
        .and(path("/moved.yaml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(template))
        .mount(&registry)
        .await;
    let mut hub = hub_with_registry(&registry).await;
    let summary = TemplateRefresh.run_once(hub.state(), Utc::now()).await.unwrap();
    assert!(summary.contains("updated"), "{summary}");
    hub.stop().await;
}

#[tokio::test]
async fn a_template_larger_than_the_limit_is_not_read_to_the_end() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A registry that sends a chunked body (no Content-Length) far over the limit.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/yaml\r\ntransfer-encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "#".repeat(64 * 1024));
        for _ in 0..(64 * hub_api::configgen::MAX_TEMPLATE_BYTES / (64 * 1024)) {
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
            counter.fetch_add(64 * 1024, std::sync::atomic::Ordering::Relaxed);
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    let mut hub = hub_with_template_url(format!("http://{addr}/controller.yaml.example")).await;
    let err = TemplateRefresh.run_once(hub.state(), Utc::now()).await.unwrap_err();
    assert!(format!("{err:#}").contains("larger than"), "{err:#}");
    server.abort();
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    // What the sockets' buffers took before the hub hung up is sent too; far from all of it.
    assert!(sent < 32 * hub_api::configgen::MAX_TEMPLATE_BYTES, "stopped reading early: {sent} bytes sent");
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
