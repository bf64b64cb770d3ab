//! Events: posting (accepted and every refusal), reading per customer and fleet-wide with
//! filters and the cursor, and the 24 h error/warning counts of the customer list.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const KOVACS_KEY: &str = "kovacs-key-0123456789abcdef";
const NAGY_KEY: &str = "nagy-key-0123456789abcdef";

pub fn event(customer_id: &str, event_type: &str, severity: &str) -> Value {
    json!({
        "customer_id": customer_id,
        "event_type": event_type,
        "severity": severity,
        "message": "restic exited with status 1",
        "details": {"exit_code": 1, "repository": "/mnt/backup"},
    })
}

pub async fn post_event(hub: &TestHub, key: &str, body: &Value) -> reqwest::Response {
    hub.bare(Method::POST, "/api/v1/event").bearer_auth(key).json(body).send().await.expect("send")
}

async fn expect_error(res: reqwest::Response, status: u16, field_or_text: &str) {
    assert_eq!(res.status().as_u16(), status);
    let body: Value = res.json().await.unwrap();
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(field_or_text), "{field_or_text:?} not in {body}");
}

#[tokio::test]
async fn events_are_stored_and_read_back_newest_first() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", KOVACS_KEY, "active").await;
    let res = post_event(&hub, KOVACS_KEY, &event("kovacs", "backup_failed", "error")).await;
    assert_eq!(res.status(), 200);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["ok"], true);
    assert!(first["id"].as_i64().unwrap() > 0);
    let mut with_time = event("kovacs", "disk_space_warning", "warning");
    with_time["occurred_at"] = json!("2026-11-01T10:00:00Z");
    assert_eq!(post_event(&hub, REPORT_KEY, &with_time).await.status(), 200);
    assert_eq!(post_event(&hub, REPORT_KEY, &event("nagy", "app_installed", "info")).await.status(), 200);

    hub.login().await;
    let page = hub.get_json("/api/v1/customers/kovacs/events", 200).await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event_type"], "disk_space_warning");
    assert_eq!(events[0]["occurred_at"], "2026-11-01T10:00:00Z");
    assert_eq!(events[1]["event_type"], "backup_failed");
    assert_eq!(events[1]["id"], first["id"]);
    assert_eq!(events[1]["details"]["repository"], "/mnt/backup");
    assert_eq!(events[1]["source"], "controller");
    assert_eq!(page["next_before"], Value::Null);

    let errors = hub.get_json("/api/v1/customers/kovacs/events?severity=error", 200).await;
    assert_eq!(errors["events"].as_array().unwrap().len(), 1);
    let typed = hub.get_json("/api/v1/events?type=app_installed,backup_failed", 200).await;
    assert_eq!(typed["events"].as_array().unwrap().len(), 2);
    let fleet = hub.get_json("/api/v1/events", 200).await;
    assert_eq!(fleet["events"].as_array().unwrap().len(), 3);
    assert_eq!(fleet["events"][0]["customer_id"], "nagy");
    hub.stop().await;
}

#[tokio::test]
async fn the_original_hubs_event_shape_keeps_details_json_and_source() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", KOVACS_KEY, "active").await;
    // As controllers built for the original hub post it: details as a JSON string, and a source.
    let original = json!({
        "customer_id": "kovacs", "event_type": "backup_failed", "severity": "error",
        "message": "restic exited with status 1",
        "details_json": "{\"exit_code\":1,\"repository\":\"/mnt/backup\"}",
        "source": "backup-manager",
    });
    assert_eq!(post_event(&hub, KOVACS_KEY, &original).await.status(), 200);
    let mut as_object = original.clone();
    as_object["details_json"] = json!({"disk": "sdb"});
    as_object["event_type"] = json!("disk_missing");
    as_object.as_object_mut().unwrap().remove("source");
    assert_eq!(post_event(&hub, KOVACS_KEY, &as_object).await.status(), 200);
    let mut empty = original.clone();
    empty["details_json"] = json!("");
    empty["event_type"] = json!("app_updated");
    empty["severity"] = json!("info");
    assert_eq!(post_event(&hub, KOVACS_KEY, &empty).await.status(), 200);

    let mut both = original.clone();
    both["details"] = json!({"exit_code": 2});
    expect_error(post_event(&hub, KOVACS_KEY, &both).await, 422, "details_json").await;
    let mut not_json = original.clone();
    not_json["details_json"] = json!("exit 1");
    expect_error(post_event(&hub, KOVACS_KEY, &not_json).await, 422, "details_json").await;
    let mut as_hub = original.clone();
    as_hub["source"] = json!("hub");
    expect_error(post_event(&hub, KOVACS_KEY, &as_hub).await, 422, "source").await;

    hub.login().await;
    let events = hub.get_json("/api/v1/customers/kovacs/events", 200).await["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 3, "{events}");
    assert_eq!((&events[0]["details"], &events[0]["source"]), (&json!({}), &json!("backup-manager")));
    assert_eq!((&events[1]["details"], &events[1]["source"]), (&json!({"disk": "sdb"}), &json!("controller")));
    assert_eq!(events[2]["details"], json!({"exit_code": 1, "repository": "/mnt/backup"}));
    assert_eq!(events[2]["source"], "backup-manager");
    hub.stop().await;
}

#[tokio::test]
async fn the_cursor_pages_through_every_event_once() {
    let mut hub = spawn_hub().await;
    for i in 0..7 {
        let mut body = event("kovacs", "container_restarted", "info");
        body["message"] = json!(format!("restart {i}"));
        assert_eq!(post_event(&hub, REPORT_KEY, &body).await.status(), 200);
    }
    hub.login().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/customers/kovacs/events?limit=3".to_string();
    loop {
        let page = hub.get_json(&path, 200).await;
        for e in page["events"].as_array().unwrap() {
            seen.push(e["message"].as_str().unwrap().to_string());
        }
        match page["next_before"].as_i64() {
            Some(before) => path = format!("/api/v1/customers/kovacs/events?limit=3&before={before}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("restart {i}")).collect();
    assert_eq!(seen, expected);
    hub.stop().await;
}

#[tokio::test]
async fn bad_events_are_refused_with_the_reason() {
    let hub = spawn_hub().await;
    add_customer(&hub, "kovacs", KOVACS_KEY, "active").await;
    add_customer(&hub, "nagy", NAGY_KEY, "active").await;
    let with = |field: &str, value: Value| {
        let mut body = event("kovacs", "backup_failed", "error");
        body[field] = value;
        body
    };
    let unknown = post_event(&hub, REPORT_KEY, &with("event_type", json!("backup_exploded"))).await;
    expect_error(unknown, 422, "dbdump_completed").await;
    let hub_only = post_event(&hub, REPORT_KEY, &with("event_type", json!("node_down"))).await;
    expect_error(hub_only, 422, "generated by the hub").await;
    let severity = post_event(&hub, REPORT_KEY, &with("severity", json!("fatal"))).await;
    expect_error(severity, 422, "info, warning, error").await;
    expect_error(post_event(&hub, REPORT_KEY, &with("message", json!("x".repeat(2049)))).await, 422, "message").await;
    expect_error(post_event(&hub, REPORT_KEY, &with("details", json!([1, 2]))).await, 422, "details").await;
    let big = json!({"log": "y".repeat(64 * 1024)});
    expect_error(post_event(&hub, REPORT_KEY, &with("details", big)).await, 422, "details").await;
    expect_error(post_event(&hub, REPORT_KEY, &with("customer_id", json!("Kovacs!"))).await, 422, "customer_id").await;
    // Only the hub files events under its own subject.
    expect_error(post_event(&hub, REPORT_KEY, &with("customer_id", json!("felhom-hub"))).await, 422, "reserved").await;
    let mut missing = event("kovacs", "backup_failed", "error");
    missing.as_object_mut().unwrap().remove("severity");
    expect_error(post_event(&hub, REPORT_KEY, &missing).await, 422, "severity").await;
    expect_error(post_event(&hub, REPORT_KEY, &with("occurred_at", json!("yesterday"))).await, 422, "occurred_at")
        .await;

    let malformed =
        hub.bare(Method::POST, "/api/v1/event").bearer_auth(REPORT_KEY).header("content-type", "application/json");
    assert_eq!(malformed.body("{not json").send().await.unwrap().status(), 400);
    let text = hub.bare(Method::POST, "/api/v1/event").bearer_auth(REPORT_KEY).body("hello");
    assert_eq!(text.send().await.unwrap().status(), 415);

    let body = event("kovacs", "backup_failed", "error");
    let anonymous = hub.bare(Method::POST, "/api/v1/event").json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(post_event(&hub, "not-a-key", &body).await.status(), 401);
    assert_eq!(post_event(&hub, NAGY_KEY, &body).await.status(), 403, "another customer's key");
    let mut hub = hub;
    hub.login().await;
    let operator = hub.request(Method::POST, "/api/v1/event").json(&body).send().await.unwrap();
    assert_eq!(operator.status(), 403, "the operator does not post events");

    // Nothing of the above was stored.
    let page = hub.get_json("/api/v1/events", 200).await;
    assert_eq!(page["events"], json!([]));
    hub.stop().await;
}

#[tokio::test]
async fn reading_events_needs_the_operator_and_valid_filters() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", KOVACS_KEY, "active").await;
    for path in ["/api/v1/events", "/api/v1/customers/kovacs/events"] {
        assert_eq!(hub.bare(Method::GET, path).send().await.unwrap().status(), 401, "{path}");
        for key in [REPORT_KEY, KOVACS_KEY] {
            let res = hub.bare(Method::GET, path).bearer_auth(key).send().await.unwrap();
            assert_eq!(res.status(), 403, "{path}");
        }
    }
    hub.login().await;
    let bad = hub.get("/api/v1/events?severity=critical").send().await.unwrap();
    expect_error(bad, 400, "info, warning, error").await;
    let bad = hub.get("/api/v1/events?type=nope").send().await.unwrap();
    expect_error(bad, 400, "backup_completed").await;
    for limit in ["0", "501", "ten"] {
        let res = hub.get(&format!("/api/v1/events?limit={limit}")).send().await.unwrap();
        assert_eq!(res.status(), 400, "limit={limit}");
    }
    assert_eq!(hub.get("/api/v1/customers/Bad_Id/events").send().await.unwrap().status(), 400);
    hub.stop().await;
}

#[tokio::test]
async fn the_customer_list_counts_errors_and_warnings_of_the_last_day() {
    let mut hub = spawn_hub().await;
    assert_eq!(hub.post_report(REPORT_KEY, &report("kovacs")).await.status(), 200);
    assert_eq!(hub.post_report(REPORT_KEY, &report("nagy")).await.status(), 200);
    for (t, s) in [("backup_failed", "error"), ("dbdump_failed", "error"), ("disk_space_warning", "warning")] {
        assert_eq!(post_event(&hub, REPORT_KEY, &event("kovacs", t, s)).await.status(), 200);
    }
    assert_eq!(post_event(&hub, REPORT_KEY, &event("kovacs", "app_updated", "info")).await.status(), 200);
    // An error received two days ago does not count.
    let state = &hub.hub.as_ref().unwrap().state;
    let old = chrono::Utc::now().timestamp_millis() - 48 * 3600 * 1000;
    state
        .store()
        .insert_event(&hub_api::store::NewEvent {
            customer_id: "kovacs".into(),
            event_type: hub_shared::EventType::BackupFailed,
            severity: hub_shared::Severity::Error,
            message: String::new(),
            details_json: "{}".into(),
            source: "controller".into(),
            occurred_at: old,
            received_at: old,
        })
        .await
        .unwrap();
    hub.login().await;
    let list = hub.get_json("/api/v1/customers", 200).await;
    let row = |id: &str| list["customers"].as_array().unwrap().iter().find(|c| c["customer_id"] == id).unwrap().clone();
    assert_eq!((row("kovacs")["errors_24h"].clone(), row("kovacs")["warnings_24h"].clone()), (json!(2), json!(1)));
    assert_eq!((row("nagy").get("errors_24h"), row("nagy").get("warnings_24h")), (None, None), "zero is left out");
    hub.stop().await;
}
