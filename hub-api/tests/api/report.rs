//! Report ingest, the fleet read endpoints, history periods and bad input.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_report_is_stored_and_read_back_with_unknown_fields() {
    let mut hub = spawn_hub().await;
    let mut body = report("kovacs");
    body["future_field"] = json!({"nested": [1, 2, 3]});
    body["system"]["fan_rpm"] = json!(1200);
    let res = hub.post_report(REPORT_KEY, &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"ok": true, "customer_blocked": false}));

    hub.login().await;
    let list = hub.get_json("/api/v1/customers", 200).await;
    let row = &list["customers"][0];
    assert_eq!(row["customer_id"], "kovacs");
    assert_eq!(row["status"], "OK");
    assert_eq!(row.get("managed"), None, "false is left out");
    assert_eq!(row["host"], "kovacs-node");
    assert_eq!(row["disk"], 75.0);
    assert_eq!(row["memory"], 25.0);
    assert_eq!(row["containers"], json!([1, 2]));
    assert_eq!(list["stale_threshold_secs"], 1800);

    let detail = hub.get_json("/api/v1/customers/kovacs", 200).await;
    assert_eq!(detail["report"]["future_field"]["nested"], json!([1, 2, 3]));
    assert_eq!(detail["report"]["system"]["fan_rpm"], 1200);
    assert_eq!(detail["summary"]["status"], "OK");
    hub.stop().await;
}

/// The ingest writer keeps a connection of its own between batches, but not the only one: a hub
/// configured with one database connection still answers its readers after a report.
#[tokio::test]
async fn one_database_connection_is_shared_by_ingest_and_the_readers() {
    let tweak: Tweak = Box::new(|raw| raw.database.max_connections = 1);
    let mut hub = spawn_hub_with(Options { password: true, tweak: Some(tweak) }).await;
    for customer in ["kovacs", "nagy"] {
        assert_eq!(hub.post_report(REPORT_KEY, &report(customer)).await.status(), 200);
    }
    hub.login().await;
    let detail = hub.get_json("/api/v1/customers/nagy", 200).await;
    assert_eq!(detail["summary"]["status"], "OK");
    assert_eq!(hub.post_report(REPORT_KEY, &report("kovacs")).await.status(), 200);
    hub.stop().await;
}

#[tokio::test]
async fn health_and_configuration_decide_the_status() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "pending", "pending-key-0123456789abcdef", "active").await;
    add_customer(&hub, "blocked", "blocked-key-0123456789abcdef", "blocked").await;
    for (id, health, enabled) in [("warned", "warn", true), ("failed", "fail", true), ("paused", "ok", false)] {
        let mut body = report(id);
        body["health"] = json!(health);
        body["monitoring_enabled"] = json!(enabled);
        assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
    }
    let res = hub.post_report(REPORT_KEY, &report("blocked")).await;
    assert_eq!(res.json::<Value>().await.unwrap()["customer_blocked"], true);

    hub.login().await;
    let list = hub.get_json("/api/v1/customers", 200).await;
    let status = |id: &str| {
        list["customers"].as_array().unwrap().iter().find(|c| c["customer_id"] == id).unwrap()["status"].clone()
    };
    assert_eq!(status("pending"), "PENDING");
    assert_eq!(status("blocked"), "BLOCKED");
    assert_eq!(status("warned"), "WARN");
    assert_eq!(status("failed"), "DOWN");
    assert_eq!(status("paused"), "DISABLED");
    hub.stop().await;
}

#[tokio::test]
async fn history_covers_each_period_and_refuses_others() {
    let mut hub = spawn_hub().await;
    let now = chrono::Utc::now();
    // Reports 1 h, 3 days, 20 days and 60 days ago.
    for (hours, cpu) in [(1, 10.0), (72, 20.0), (480, 30.0), (1440, 40.0)] {
        let mut body = report("kovacs");
        body["reported_at"] = json!((now - chrono::Duration::hours(hours)).to_rfc3339());
        body["system"]["cpu_percent"] = json!(cpu);
        assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
    }
    hub.login().await;
    for (period, expected) in [("24h", vec![10.0]), ("7d", vec![20.0, 10.0]), ("30d", vec![30.0, 20.0, 10.0])] {
        let h = hub.get_json(&format!("/api/v1/customers/kovacs/history?period={period}"), 200).await;
        let cpus: Vec<f64> =
            h["points"].as_array().unwrap().iter().map(|p| p["cpu_percent"].as_f64().unwrap()).collect();
        assert_eq!(cpus, expected, "{period}");
        assert_eq!(h["period"], period);
    }
    let h = hub.get_json("/api/v1/customers/kovacs/history", 200).await;
    assert_eq!(h["period"], "7d");
    assert_eq!(
        hub.get_json("/api/v1/customers/kovacs/history?period=90d", 200).await["points"].as_array().unwrap().len(),
        4
    );
    let err = hub.get_json("/api/v1/customers/kovacs/history?period=1y", 400).await;
    assert!(err["message"].as_str().unwrap().contains("24h, 7d, 30d, 90d"), "{err}");
    hub.get_json("/api/v1/customers/kovacs/history?period=", 400).await;
    hub.get_json("/api/v1/customers/nobody/history", 404).await;
    // The latest report stays the newest one even when older ones arrive later.
    let detail = hub.get_json("/api/v1/customers/kovacs", 200).await;
    assert_eq!(detail["report"]["system"]["cpu_percent"], 10.0);
    hub.stop().await;
}

#[tokio::test]
async fn bad_reports_get_a_clear_4xx_and_write_nothing() {
    let mut hub = spawn_hub().await;
    let post_raw = |body: String, content_type: &'static str| {
        hub.bare(Method::POST, "/api/v1/report")
            .bearer_auth(REPORT_KEY)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(String, &str, u16, &str)> = vec![
        ("{not json".into(), "application/json", 400, "malformed JSON"),
        // JSON the hub could not read back once stored.
        (r#"{"customer_id":"a","health":"ok","extra":1e400}"#.into(), "application/json", 400, "number out of range"),
        (
            format!(r#"{{"customer_id":"a","health":"ok","deep":{}{}}}"#, "[".repeat(200), "]".repeat(200)),
            "application/json",
            400,
            "recursion limit",
        ),
        (r#"{"health":"ok"}"#.into(), "application/json", 422, "customer_id"),
        (r#"{"customer_id":7,"health":"ok"}"#.into(), "application/json", 422, "customer_id"),
        (r#"{"customer_id":"Bad_Id","health":"ok"}"#.into(), "application/json", 422, "customer_id"),
        (r#"{"customer_id":"felhom-hub","health":"ok"}"#.into(), "application/json", 422, "reserved"),
        (r#"[{"customer_id":"a"}]"#.into(), "application/json", 422, "object"),
        (r#"{"customer_id":"a","health":"ok"}"#.into(), "text/plain", 415, "application/json"),
        (
            format!(r#"{{"customer_id":"a","health":"ok","pad":"{}"}}"#, "x".repeat(1024 * 1024 + 1)),
            "application/json",
            413,
            "",
        ),
    ];
    for (body, content_type, status, needle) in cases {
        let res = post_raw(body.clone(), content_type).await.unwrap();
        assert_eq!(res.status().as_u16(), status, "body {:.80}", body);
        let err: Value = res.json().await.expect("a JSON error body");
        assert!(err["code"].is_string(), "{err}");
        assert!(err["message"].as_str().unwrap().contains(needle), "{needle} not in {err}");
        // The original hub's shape too, for the controllers that log `error`.
        assert_eq!((&err["ok"], &err["error"]), (&json!(false), &err["message"]), "{err}");
    }
    hub.login().await;
    assert_eq!(hub.get_json("/api/v1/customers", 200).await["customers"], json!([]));
    hub.get_json("/api/v1/customers/Not_Valid", 400).await;
    let err = hub.get_json("/api/v1/nothing-here", 404).await;
    let message = "no API endpoint /api/v1/nothing-here";
    assert_eq!(err, json!({"ok": false, "code": "not_found", "message": message, "error": message}));
    let res = hub.request(Method::DELETE, "/api/v1/report").send().await.unwrap();
    assert_eq!(res.status(), 405);
    let message = "DELETE is not allowed on /api/v1/report";
    let err = res.json::<Value>().await.unwrap();
    assert_eq!(err, json!({"ok": false, "code": "method_not_allowed", "message": message, "error": message}));
    hub.stop().await;
}

#[tokio::test]
async fn reports_are_read_leniently_and_name_what_they_drop() {
    let mut hub = spawn_hub().await;
    // A controller a version ahead: a number as a string, a renamed health, an odd disk entry,
    // a NUL in the hostname.
    let mut body = report("kovacs");
    body["system"]["cpu_percent"] = json!("12.5%");
    body["storage"][0]["used_bytes"] = json!(-1);
    body["storage"][1]["used_bytes"] = json!(5000);
    body["hostname"] = json!("node\u{0}1");
    body["containers"][0]["restart_count"] = json!("none");
    let res = hub.post_report(REPORT_KEY, &body).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!((&answer["ok"], &answer["customer_blocked"]), (&json!(true), &json!(false)));
    let mut warnings: Vec<&str> = answer["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    warnings.sort_unstable();
    assert_eq!(
        warnings,
        [
            "containers[0].restart_count: expected a whole number, 0 or more",
            "hostname: contains a NUL character",
            "storage[0].used_bytes: expected a whole number, 0 or more",
            "storage[1].used_bytes: more than total_bytes",
            "system.cpu_percent: expected a number",
        ]
    );
    // No health at all: stored as unknown, shown as WARN; no warning, it is simply absent.
    let mut no_health = report("nagy");
    no_health.as_object_mut().unwrap().remove("health");
    let res = hub.post_report(REPORT_KEY, &no_health).await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"ok": true, "customer_blocked": false}));
    let mut odd_health = report("szabo");
    odd_health["health"] = json!("degraded");
    let res = hub.post_report(REPORT_KEY, &odd_health).await;
    assert_eq!(res.json::<Value>().await.unwrap()["warnings"], json!(["health: expected one of `ok`, `warn`, `fail`"]));

    hub.login().await;
    let list = hub.get_json("/api/v1/customers", 200).await;
    let row = |id: &str| list["customers"].as_array().unwrap().iter().find(|c| c["customer_id"] == id).unwrap().clone();
    let kovacs = row("kovacs");
    assert_eq!((&kovacs["cpu"], &kovacs["host"]), (&Value::Null, &Value::Null));
    assert_eq!(kovacs["status"], "OK");
    assert_eq!(kovacs["disk"], Value::Null, "neither disk has a usable used_bytes");
    assert_eq!(kovacs["memory"], 25.0, "the rest is read as usual");
    for id in ["nagy", "szabo"] {
        assert_eq!(row(id)["status"], "WARN", "{id}");
        let detail = hub.get_json(&format!("/api/v1/customers/{id}"), 200).await;
        assert_eq!(detail["summary"]["health"], Value::Null, "{id}");
    }
    // The stored report is the one that arrived, dropped fields included.
    let detail = hub.get_json("/api/v1/customers/kovacs", 200).await;
    assert_eq!(detail["report"]["system"]["cpu_percent"], "12.5%");
    assert_eq!(detail["report"]["storage"][0]["used_bytes"], -1);
    hub.stop().await;
}

#[tokio::test]
async fn healthz_reports_the_database() {
    let mut hub = spawn_hub().await;
    let res = hub.bare(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"].to_str().unwrap().len(), 36);
    if let Some(path) = hub.db_path.clone() {
        // The whole log goes into the database first: a page 1 still in the log would be copied
        // over the garbage by the hub's next checkpoint (every 250 ms), restoring the header.
        let (log, done) = hub.state().store().checkpoint_wal().await.unwrap().expect("a SQLite hub");
        assert_eq!(done, log, "the checkpoint moved the whole log");
        // Make the database file unreadable: its header no longer says SQLite.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[..16].copy_from_slice(b"garbage garbage!");
        std::fs::write(&path, bytes).unwrap();
        let res = hub.bare(Method::GET, "/healthz").send().await.unwrap();
        assert_eq!(res.status(), 503);
        assert_eq!(res.json::<Value>().await.unwrap()["code"], "unavailable");
        hub.hub.take(); // the database is broken; do not wait for a clean shutdown
    } else {
        hub.stop().await;
    }
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let mut hub = spawn_hub().await;
    for i in 0..20 {
        hub.post_report(REPORT_KEY, &report(&format!("c{i}"))).await;
    }
    let res = reqwest::Client::new()
        .get(hub.url("/api/v1/customers"))
        .bearer_auth(REPORT_KEY)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    hub.stop().await;
}
