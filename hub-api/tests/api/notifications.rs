//! Notification rules against a local stand-in for the Resend API that records what it got:
//! the operator and customer channels with their cooldowns, preferences, blocked customers,
//! the legacy relay, retries on 5xx, permanent failures and a missing key.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::events::{event, post_event};
use crate::helpers::*;

const KEY: &str = "kovacs-key-0123456789abcdef";
const OPERATOR: &str = "ops@felhom.eu";
const CUSTOMER: &str = "kovacs.janos@example.hu";

/// A hub whose email API is `mail` (with a key unless `with_key` is false).
async fn hub_with_mail(mail: &MockServer, with_key: bool) -> TestHub {
    let uri = mail.uri();
    let mut hub = spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.notifications.resend_base_url = uri;
            if with_key {
                raw.notifications.resend_api_key = "re_test_key".to_string().into();
            }
            raw.notifications.operator_email = OPERATOR.into();
        })),
    })
    .await;
    let state = &hub.hub.as_ref().unwrap().state;
    let now = chrono::Utc::now().timestamp_millis();
    let hash = hub_api::auth::key_hash(KEY);
    let active = hub_shared::config::ConfigStatus::Active;
    state.store().insert_config("kovacs", "Kovács János", Some(&hash), active, now).await.unwrap();
    hub.login().await;
    hub
}

async fn accept_all(mail: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/emails"))
        .and(header("authorization", "Bearer re_test_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "email-1"})))
        .mount(mail)
        .await;
}

async fn set_preferences(hub: &TestHub, enabled: &[&str], cooldown: u32) {
    let body =
        json!({"customer_id": "kovacs", "email": CUSTOMER, "enabled_events": enabled, "cooldown_hours": cooldown});
    let res = hub.bare(Method::POST, "/api/v1/preferences").bearer_auth(KEY).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// The log, oldest first, once it has `n` entries (the dispatcher runs in the background).
async fn log_when(hub: &TestHub, customer: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let page = hub.get_json(&format!("/api/v1/customers/{customer}/notifications"), 200).await;
        let mut entries = page["entries"].as_array().unwrap().clone();
        if entries.len() >= n {
            entries.reverse();
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the notification log of {customer} never reached {n} entries");
}

fn summary(entries: &[Value]) -> Vec<(String, String, String, String)> {
    entries
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("event_type"), s("channel"), s("outcome"), s("reason"))
        })
        .collect()
}

fn row(t: &str, channel: &str, outcome: &str, reason: &str) -> (String, String, String, String) {
    (t.into(), channel.into(), outcome.into(), reason.into())
}

async fn emails(mail: &MockServer) -> Vec<Value> {
    mail.received_requests().await.unwrap().iter().map(|r| r.body_json::<Value>().unwrap()).collect()
}

async fn send(hub: &TestHub, t: &str, severity: &str) {
    assert_eq!(post_event(hub, KEY, &event("kovacs", t, severity)).await.status(), 200);
}

#[tokio::test]
async fn the_operator_gets_warnings_and_errors_in_english_once_per_hour() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    send(&hub, "backup_failed", "error").await;
    log_when(&hub, "kovacs", 2).await;
    send(&hub, "backup_failed", "error").await;
    log_when(&hub, "kovacs", 4).await;
    send(&hub, "app_installed", "info").await;
    log_when(&hub, "kovacs", 5).await;
    send(&hub, "disk_space_warning", "warning").await;
    let log = log_when(&hub, "kovacs", 7).await;
    assert_eq!(
        summary(&log),
        vec![
            row("backup_failed", "operator", "sent", ""),
            row("backup_failed", "customer", "skipped", "no_address"),
            row("backup_failed", "operator", "skipped", "cooldown"),
            row("backup_failed", "customer", "skipped", "no_address"),
            row("app_installed", "customer", "skipped", "no_address"),
            row("disk_space_warning", "operator", "sent", ""),
            row("disk_space_warning", "customer", "skipped", "no_address"),
        ]
    );
    assert_eq!(log[0]["recipient"], OPERATOR);
    assert!(log[0]["event_id"].as_i64().is_some());
    let sent = emails(&mail).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["to"], json!([OPERATOR]));
    assert_eq!(sent[0]["from"], "monitoring@felhom.eu");
    assert_eq!(sent[0]["subject"], "[felhom] Kovács János: Backup FAILED");
    assert!(sent[0]["text"].as_str().unwrap().contains("restic exited with status 1"));
    hub.stop().await;
}

#[tokio::test]
async fn customers_get_the_types_they_enabled_in_hungarian_with_their_cooldown() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    set_preferences(&hub, &["backup_failed", "app_updated"], 6).await;
    send(&hub, "app_updated", "info").await;
    log_when(&hub, "kovacs", 1).await;
    send(&hub, "app_updated", "info").await;
    log_when(&hub, "kovacs", 2).await;
    send(&hub, "container_restarted", "info").await;
    log_when(&hub, "kovacs", 3).await;
    // A mail sent 7 hours ago is past the 6 h cooldown.
    let state = &hub.hub.as_ref().unwrap().state;
    let long_ago = chrono::Utc::now().timestamp_millis() - 7 * 3600 * 1000;
    state
        .store()
        .log_notification(&hub_api::store::NewLogEntry {
            customer_id: "kovacs",
            event_id: None,
            event_type: "backup_failed",
            channel: hub_shared::notification::Channel::Customer,
            channel_name: "",
            recipient: CUSTOMER,
            outcome: hub_shared::notification::Outcome::Sent,
            reason: "",
            created_at: long_ago,
        })
        .await
        .unwrap();
    send(&hub, "backup_failed", "error").await;
    let log = log_when(&hub, "kovacs", 6).await;
    assert_eq!(
        summary(&log[..3]),
        vec![
            row("app_updated", "customer", "sent", ""),
            row("app_updated", "customer", "skipped", "cooldown"),
            row("container_restarted", "customer", "skipped", "disabled"),
        ]
    );
    assert_eq!(
        summary(&log[4..]),
        vec![row("backup_failed", "operator", "sent", ""), row("backup_failed", "customer", "sent", "")]
    );
    let sent = emails(&mail).await;
    let to_customer: Vec<&Value> = sent.iter().filter(|e| e["to"] == json!([CUSTOMER])).collect();
    assert_eq!(to_customer.len(), 2);
    assert_eq!(to_customer[0]["subject"], "[Felhom] Egy alkalmazás frissült – Kovács János");
    assert_eq!(to_customer[1]["subject"], "[Felhom] Nem sikerült a biztonsági mentés – Kovács János");
    assert!(to_customer[1]["text"].as_str().unwrap().starts_with("Kedves Kovács János!"));
    hub.stop().await;
}

#[tokio::test]
async fn blocked_customers_get_nothing_but_their_events_are_stored() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    set_preferences(&hub, &["backup_failed"], 6).await;
    let state = &hub.hub.as_ref().unwrap().state;
    sqlx::query("UPDATE customer_configs SET status = 'blocked' WHERE customer_id = 'kovacs'")
        .execute(state.store().pool())
        .await
        .unwrap();
    send(&hub, "backup_failed", "error").await;
    let log = log_when(&hub, "kovacs", 2).await;
    assert_eq!(
        summary(&log),
        vec![
            row("backup_failed", "operator", "skipped", "blocked"),
            row("backup_failed", "customer", "skipped", "blocked")
        ]
    );
    let events = hub.get_json("/api/v1/customers/kovacs/events", 200).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
    assert!(emails(&mail).await.is_empty());
    hub.stop().await;
}

#[tokio::test]
async fn a_5xx_is_retried_and_a_permanent_failure_is_logged() {
    let mail = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&mail)
        .await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    send(&hub, "backup_failed", "error").await;
    let log = log_when(&hub, "kovacs", 2).await;
    assert_eq!(log[0]["outcome"], "sent");
    assert_eq!(mail.received_requests().await.unwrap().len(), 2, "one 503, then the retry");

    mail.reset().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500).set_body_string("boom")).mount(&mail).await;
    send(&hub, "dbdump_failed", "error").await;
    let log = log_when(&hub, "kovacs", 4).await;
    assert_eq!(log[2]["outcome"], "failed");
    assert!(log[2]["reason"].as_str().unwrap().contains("500"), "{}", log[2]);
    assert_eq!(mail.received_requests().await.unwrap().len(), 3, "three attempts");

    mail.reset().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(422).set_body_string("bad from")).mount(&mail).await;
    send(&hub, "restore_failed", "error").await;
    let log = log_when(&hub, "kovacs", 6).await;
    assert_eq!(log[4]["outcome"], "failed");
    assert_eq!(mail.received_requests().await.unwrap().len(), 1, "a 4xx is not retried");
    hub.stop().await;
}

#[tokio::test]
async fn without_a_key_emails_are_skipped() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, false).await;
    send(&hub, "backup_failed", "error").await;
    let log = log_when(&hub, "kovacs", 2).await;
    assert_eq!(summary(&log[..1]), vec![row("backup_failed", "operator", "skipped", "no_key")]);
    assert!(emails(&mail).await.is_empty());
    hub.stop().await;
}

#[tokio::test]
async fn the_legacy_relay_mails_the_operator() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    let body = json!({"subject": "Lemez csere kell", "message": "sda SMART hibát jelez", "severity": "error"});
    let res = hub.bare(Method::POST, "/api/v1/notify").bearer_auth(KEY).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let log = log_when(&hub, "kovacs", 1).await;
    assert_eq!(summary(&log), vec![row("legacy", "operator", "sent", "")]);
    let sent = emails(&mail).await;
    assert_eq!(sent[0]["subject"], "[felhom] Kovács János: Lemez csere kell");
    assert!(sent[0]["text"].as_str().unwrap().contains("sda SMART hibát jelez"));
    // A second relay within a minute is logged as a cooldown skip, not mailed.
    let res = hub.bare(Method::POST, "/api/v1/notify").bearer_auth(KEY).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let log = log_when(&hub, "kovacs", 2).await;
    assert!(summary(&log).contains(&row("legacy", "operator", "skipped", "cooldown")), "{log:?}");
    assert_eq!(emails(&mail).await.len(), 1);

    let global = hub.bare(Method::POST, "/api/v1/notify").bearer_auth(REPORT_KEY).json(&body).send().await.unwrap();
    assert_eq!(global.status(), 422, "the global key must name the customer");
    let mut other = body.clone();
    other["customer_id"] = json!("nagy");
    let res = hub.bare(Method::POST, "/api/v1/notify").bearer_auth(KEY).json(&other).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = hub.bare(Method::POST, "/api/v1/notify").json(&body).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = hub.request(Method::POST, "/api/v1/notify").json(&body).send().await.unwrap();
    assert_eq!(res.status(), 403, "the operator does not relay");
    hub.stop().await;
}

#[tokio::test]
async fn preferences_are_validated_and_read_back() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail, true).await;
    let post = |body: Value, key: &'static str| {
        hub.bare(Method::POST, "/api/v1/preferences").bearer_auth(key).json(&body).send()
    };
    let good = json!({"customer_id": "kovacs", "email": CUSTOMER, "enabled_events": ["node_down", "backup_failed"]});
    let res = post(good.clone(), KEY).await.unwrap();
    assert_eq!(res.status(), 200);
    let stored: Value = res.json().await.unwrap();
    assert_eq!(stored["cooldown_hours"], 6);
    assert_eq!(stored["enabled_events"], json!(["backup_failed", "node_down"]));
    for (field, value) in [
        ("email", json!("kovacs at example")),
        ("enabled_events", json!(["backup_failed", "everything"])),
        ("cooldown_hours", json!(0)),
        ("cooldown_hours", json!(169)),
    ] {
        let mut body = good.clone();
        body[field] = value;
        let res = post(body, KEY).await.unwrap();
        assert_eq!(res.status(), 422, "{field}");
        let err: Value = res.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains(field), "{err}");
    }
    let mut other = good.clone();
    other["customer_id"] = json!("nagy");
    assert_eq!(post(other, KEY).await.unwrap().status(), 403);
    assert_eq!(post(good.clone(), "unknown-key-0123456789").await.unwrap().status(), 401);
    let operator = hub.request(Method::POST, "/api/v1/preferences").json(&good).send().await.unwrap();
    assert_eq!(operator.status(), 403);

    let read = hub.get_json("/api/v1/customers/kovacs/preferences", 200).await;
    assert_eq!(read["email"], CUSTOMER);
    let mine = hub.bare(Method::GET, "/api/v1/customers/kovacs/preferences").bearer_auth(KEY).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    let other = hub.bare(Method::GET, "/api/v1/customers/nagy/preferences").bearer_auth(KEY).send().await.unwrap();
    assert_eq!(other.status(), 403, "another customer's preferences");
    let anonymous = hub.bare(Method::GET, "/api/v1/customers/kovacs/preferences").send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    hub.get_json("/api/v1/customers/nagy/preferences", 404).await;
    hub.stop().await;
}

#[tokio::test]
async fn the_notification_log_is_for_the_operator() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail, true).await;
    let path = "/api/v1/customers/kovacs/notifications";
    assert_eq!(hub.bare(Method::GET, path).send().await.unwrap().status(), 401);
    for key in [REPORT_KEY, KEY] {
        assert_eq!(hub.bare(Method::GET, path).bearer_auth(key).send().await.unwrap().status(), 403);
    }
    assert_eq!(hub.get(&format!("{path}?limit=0")).send().await.unwrap().status(), 400);
    let page = hub.get_json(path, 200).await;
    assert_eq!(page, json!({"entries": [], "next_before": null}));
    hub.stop().await;
}

#[tokio::test]
async fn two_hubs_on_one_database_make_one_stale_event_and_one_email() {
    use hub_api::jobs::{Job, Staleness};
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_database_url(dir.path()).await;
    let spawn = |url: String, uri: String| {
        spawn_hub_with(Options {
            password: true,
            tweak: Some(Box::new(move |raw| {
                raw.database.url = url.into();
                raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into();
                raw.notifications.resend_base_url = uri;
                raw.notifications.resend_api_key = "re_test_key".to_string().into();
                raw.notifications.operator_email = OPERATOR.into();
            })),
        })
    };
    let mut a = spawn(url.clone(), mail.uri()).await;
    let mut b = spawn(url, mail.uri()).await;
    assert_eq!(a.post_report(REPORT_KEY, &report("kovacs")).await.status(), 200);
    let (sa, sb) = (a.hub.as_ref().unwrap().state.clone(), b.hub.as_ref().unwrap().state.clone());
    let old = chrono::Utc::now().timestamp_millis() - 31 * 60_000;
    sqlx::query("UPDATE report_latest SET received_at = $1").bind(old).execute(sa.store().pool()).await.unwrap();
    let now = chrono::Utc::now();
    let (ra, rb) = tokio::join!(Staleness.run_once(&sa, now), Staleness.run_once(&sb, now));
    ra.unwrap();
    rb.unwrap();
    // Both dispatchers race for the event; exactly one claims it.
    let (da, db) = tokio::join!(
        hub_api::notify::dispatch_pending(sa.store(), sa.notifier(), now),
        hub_api::notify::dispatch_pending(sb.store(), sb.notifier(), now)
    );
    da.unwrap();
    db.unwrap();
    b.login().await;
    let log = log_when(&b, "kovacs", 2).await;
    // Another round of both dispatchers finds nothing left to send.
    let (da, db) = tokio::join!(
        hub_api::notify::dispatch_pending(sa.store(), sa.notifier(), now),
        hub_api::notify::dispatch_pending(sb.store(), sb.notifier(), now)
    );
    da.unwrap();
    db.unwrap();
    let log_after = log_when(&b, "kovacs", 2).await;
    assert_eq!(log.len(), log_after.len());
    assert_eq!(
        summary(&log_after),
        vec![row("node_stale", "operator", "sent", ""), row("node_stale", "customer", "skipped", "no_address")]
    );
    let stale = b.get_json("/api/v1/customers/kovacs/events?type=node_stale", 200).await;
    assert_eq!(stale["events"].as_array().unwrap().len(), 1);
    assert_eq!(emails(&mail).await.len(), 1);
    drop((sa, sb));
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_abandoned_claim_is_delivered_once_by_the_leader() {
    let mail = MockServer::start().await;
    accept_all(&mail).await;
    let mut hub = hub_with_mail(&mail, true).await;
    let state = hub.hub.as_ref().unwrap().state.clone();
    // A replica claimed this event ten minutes ago and died before mailing it.
    let now = chrono::Utc::now().timestamp_millis();
    sqlx::query(
        "INSERT INTO events (customer_id, event_type, severity, message, details_json, source, occurred_at, \
            received_at, dispatched_at) VALUES ('kovacs', 'backup_failed', 'error', 'restic failed', '{}', \
            'controller', $1, $1, $2)",
    )
    .bind(now - 11 * 60_000)
    .bind(now - 10 * 60_000)
    .execute(state.store().pool())
    .await
    .unwrap();
    state.notifier().wake();
    let log = log_when(&hub, "kovacs", 2).await;
    assert_eq!(summary(&log)[0], row("backup_failed", "operator", "sent", ""));
    // Once notified it is never taken again.
    let again = hub_api::notify::dispatch_pending(state.store(), state.notifier(), chrono::Utc::now()).await.unwrap();
    assert_eq!(again, 0);
    assert_eq!(emails(&mail).await.len(), 1);
    drop(state);
    hub.stop().await;
}
