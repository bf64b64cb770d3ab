//! The configured channels in a running hub: events fan out to a webhook stand-in that checks
//! the signature, each delivery is logged under the channel's name, and
//! `POST /api/v1/notifications/test` tries a channel by name.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::events::{event, post_event};
use crate::helpers::*;

const KEY: &str = "kovacs-key-0123456789abcdef";
const SECRET: &str = "whsec-test-0123456789abcdef";

/// A hub with one webhook channel `ops-hook` (warnings and errors) posting to `hook`, and an
/// ntfy channel `phone` whose server refuses.
async fn hub_with_channels(hook: &MockServer, ntfy: &MockServer) -> TestHub {
    let (hook_url, ntfy_url) = (format!("{}/hook", hook.uri()), format!("{}/felhom", ntfy.uri()));
    let mut hub = spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.server.public_url = "https://hub.example".into();
            raw.notifications.channels = vec![
                hub_api::config::RawChannel {
                    name: "ops-hook".into(),
                    kind: "webhook".into(),
                    url: hook_url,
                    secret: SECRET.to_string().into(),
                    severities: vec!["warning".into(), "error".into()],
                    ..Default::default()
                },
                hub_api::config::RawChannel {
                    name: "phone".into(),
                    kind: "ntfy".into(),
                    url: ntfy_url,
                    types: vec!["disk_smart_failure".into()],
                    ..Default::default()
                },
            ];
        })),
    })
    .await;
    let now = chrono::Utc::now().timestamp_millis();
    let active = hub_shared::config::ConfigStatus::Active;
    let store = hub.state().store();
    store
        .insert_config("kovacs", "<script>Kovács</script>", Some(&hub_api::auth::key_hash(KEY)), active, now)
        .await
        .unwrap();
    hub.login().await;
    hub
}

/// The channels' rows of the log, oldest first, once there are `n`.
async fn channel_log(hub: &TestHub, n: usize) -> Vec<(String, String, String, String)> {
    for _ in 0..200 {
        let page = hub.get_json("/api/v1/customers/kovacs/notifications", 200).await;
        let mut rows: Vec<_> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["channel_name"] != "")
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                (s("event_type"), s("channel_name"), s("outcome"), s("recipient"))
            })
            .collect();
        if rows.len() >= n {
            rows.reverse();
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the channels never logged {n} deliveries");
}

fn row(t: &str, name: &str, outcome: &str, recipient: &str) -> (String, String, String, String) {
    (t.into(), name.into(), outcome.into(), recipient.into())
}

fn signed(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn events_fan_out_to_the_channels_that_take_them_and_each_delivery_is_logged() {
    let (hook, ntfy) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST")).and(path("/hook")).respond_with(ResponseTemplate::new(200)).mount(&hook).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(403)).mount(&ntfy).await;
    let hub = hub_with_channels(&hook, &ntfy).await;

    assert_eq!(post_event(&hub, KEY, &event("kovacs", "backup_failed", "error")).await.status(), 200);
    channel_log(&hub, 1).await;
    assert_eq!(post_event(&hub, KEY, &event("kovacs", "app_installed", "info")).await.status(), 200);
    assert_eq!(post_event(&hub, KEY, &event("kovacs", "backup_failed", "error")).await.status(), 200);
    assert_eq!(post_event(&hub, KEY, &event("kovacs", "disk_smart_failure", "error")).await.status(), 200);
    let log = channel_log(&hub, 4).await;
    assert_eq!(
        log,
        vec![
            row("backup_failed", "ops-hook", "sent", "127.0.0.1"),
            row("backup_failed", "ops-hook", "skipped", "127.0.0.1"),
            row("disk_smart_failure", "ops-hook", "sent", "127.0.0.1"),
            row("disk_smart_failure", "phone", "failed", "127.0.0.1"),
        ],
        "info is not a severity of ops-hook; phone takes disk_smart_failure only; the cooldown holds per channel"
    );
    let page = hub.get_json("/api/v1/customers/kovacs/notifications", 200).await;
    let failed = page["entries"].as_array().unwrap().iter().find(|e| e["outcome"] == "failed").unwrap().clone();
    assert_eq!(
        (failed["channel"].as_str(), failed["reason"].as_str()),
        (Some("operator"), Some("answered 403 Forbidden"))
    );
    assert!(page["entries"].as_array().unwrap().iter().any(|e| e["channel_name"] == "" && e["channel"] == "customer"));

    let received = hook.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let first = &received[0];
    let signature = first.headers.get("x-felhom-signature").unwrap().to_str().unwrap();
    assert_eq!(signature, signed(&first.body, SECRET), "verified with the receiver's copy of the secret");
    assert_ne!(signature, signed(&first.body, "another-secret-0123456789"));
    let body: Value = first.body_json().unwrap();
    assert_eq!(body["customer_name"], "<script>Kovács</script>", "JSON carries the name as it is");
    assert_eq!(body["event_type"], "backup_failed");
    assert_eq!(body["link"], "https://hub.example/customers/kovacs");
    assert!(body["title"].as_str().unwrap().contains("Backup FAILED"), "{body}");
}

#[tokio::test]
async fn the_test_endpoint_tries_a_channel_by_name_for_the_operator_only() {
    let (hook, ntfy) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST")).and(path("/hook")).respond_with(ResponseTemplate::new(202)).mount(&hook).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(400)).mount(&ntfy).await;
    let hub = hub_with_channels(&hook, &ntfy).await;

    let res = hub.send_json(Method::POST, "/api/v1/notifications/test", &json!({"channel": "ops-hook"})).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"channel": "ops-hook", "kind": "webhook", "recipient": "127.0.0.1", "outcome": "sent"}));
    let sent: Value = hook.received_requests().await.unwrap()[0].body_json().unwrap();
    assert_eq!(sent["event_type"], "test");

    let res = hub.send_json(Method::POST, "/api/v1/notifications/test", &json!({"channel": "phone"})).await;
    assert_eq!(res.status(), 502);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "bad_gateway");
    assert!(body["message"].as_str().unwrap().contains("answered 400"), "{body}");
    assert!(!body["message"].as_str().unwrap().contains(&ntfy.uri()), "no URL: {body}");

    let res = hub.send_json(Method::POST, "/api/v1/notifications/test", &json!({"channel": "pager"})).await;
    assert_eq!(res.status(), 404);
    let res = hub.send_json(Method::POST, "/api/v1/notifications/test", &json!({})).await;
    assert_eq!(res.status(), 422);

    let audit = hub.get_json("/api/v1/audit?limit=10", 200).await;
    let summaries: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "test_notification")
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries.len(), 2, "{audit}");
    assert!(summaries.iter().any(|s| s.contains("ops-hook (webhook): sent")), "{summaries:?}");

    let wrong = [
        hub.bare(Method::POST, "/api/v1/notifications/test").bearer_auth(REPORT_KEY),
        hub.bare(Method::POST, "/api/v1/notifications/test").bearer_auth(KEY),
        hub.client.post(hub.url("/api/v1/notifications/test")),
    ];
    for (i, req) in wrong.into_iter().enumerate() {
        let res = req.json(&json!({"channel": "ops-hook"})).send().await.unwrap();
        assert_eq!(res.status(), 403, "caller {i}: the global key, a customer's key, no CSRF token");
    }
    assert_eq!(hook.received_requests().await.unwrap().len(), 1, "nothing more was sent");
}
