//! `GET /metrics`: who may scrape it, and what it counts, read with a Prometheus text parser.

use std::time::Duration;

use prometheus_parse::{Sample, Scrape, Value};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{report, spawn_hub_with, Options, TestHub, REPORT_KEY};

const TOKEN: &str = "metrics-scrape-token-0123456789abcdef";

async fn hub_with(public: bool, token: &str) -> TestHub {
    let token = token.to_string();
    let tweak = move |raw: &mut hub_api::config::RawConfig| {
        raw.metrics.public = public;
        raw.metrics.token = token.into();
    };
    spawn_hub_with(Options { password: true, tweak: Some(Box::new(tweak)) }).await
}

async fn scrape(hub: &TestHub) -> Scrape {
    let res = hub.bare(Method::GET, "/metrics").bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format")
}

/// The value of the sample `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matches = |s: &&Sample| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v));
    scrape.samples.iter().find(matches).map(|s| match &s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(buckets) => buckets.iter().map(|b| b.count).fold(0.0, f64::max),
        Value::Summary(_) => f64::NAN,
    })
}

#[tokio::test]
async fn counts_what_the_hub_did_in_the_prometheus_text_format() {
    let hub = hub_with(false, TOKEN).await;
    for id in ["kovacs", "szabo"] {
        assert_eq!(hub.post_report(REPORT_KEY, &report(id)).await.status(), 200);
    }
    let mut old = report("nagy");
    old["controller_version"] = json!("1.3.9");
    assert_eq!(hub.post_report(REPORT_KEY, &old).await.status(), 200);
    assert_eq!(hub.post_report("wrong-key", &report("kovacs")).await.status(), 401);
    let event = json!({"customer_id": "kovacs", "event_type": "backup_failed", "severity": "error"});
    let res = hub.bare(Method::POST, "/api/v1/event").bearer_auth(REPORT_KEY).json(&event).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let state = hub.state();
    let now = chrono::Utc::now();
    hub_api::jobs::run_claimed(state, &hub_api::jobs::SessionCleanup, now.timestamp_millis(), now).await;
    for _ in 0..5 {
        let res = hub.get_with_password("/api/v1/config/nobody", "alma-korte-szilva-barack").await;
        assert!(matches!(res.status().as_u16(), 401 | 429), "{}", res.status());
    }
    state.set_leads(true);

    // The dispatcher counts the event once it has dispatched it, in the background.
    let mut scraped = scrape(&hub).await;
    for _ in 0..200 {
        if value(&scraped, "felhom_hub_events_total", &[]).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        scraped = scrape(&hub).await;
    }
    let s = &scraped;
    assert_eq!(value(s, "felhom_hub_reports_ingested_total", &[]), Some(3.0));
    assert_eq!(value(s, "felhom_hub_reports_refused_total", &[("reason", "unauthorized")]), Some(1.0));
    assert!(value(s, "felhom_hub_ingest_batch_size", &[]).is_some_and(|n| n >= 1.0));
    assert!(value(s, "felhom_hub_ingest_commit_seconds", &[]).is_some_and(|n| n >= 1.0));
    assert_eq!(value(s, "felhom_hub_events_total", &[("type", "backup_failed"), ("severity", "error")]), Some(1.0));
    let notifications: f64 = s
        .samples
        .iter()
        .filter(|x| x.metric == "felhom_hub_notifications_total")
        .filter_map(|x| match x.value {
            Value::Counter(v) => Some(v),
            _ => None,
        })
        .sum();
    assert!(notifications >= 1.0, "every decision is counted");
    assert_eq!(value(s, "felhom_hub_job_runs_total", &[("job", "session_cleanup")]), Some(1.0));
    assert_eq!(value(s, "felhom_hub_job_failures_total", &[("job", "session_cleanup")]), None);
    assert!(value(s, "felhom_hub_job_duration_seconds", &[("job", "session_cleanup")]).is_some());
    let report_ok = [("method", "POST"), ("route", "/api/v1/report"), ("status", "200")];
    assert_eq!(value(s, "felhom_hub_http_requests_total", &report_ok), Some(3.0));
    assert!(value(s, "felhom_hub_http_request_duration_seconds", &[("route", "/api/v1/report")]).is_some());
    assert_eq!(value(s, "felhom_hub_recovery_lockouts_total", &[("scope", "address")]), Some(1.0));
    assert_eq!(value(s, "felhom_hub_nodes", &[("status", "OK")]), Some(3.0));
    assert_eq!(value(s, "felhom_hub_nodes", &[("status", "DOWN")]), Some(0.0));
    assert_eq!(value(s, "felhom_hub_nodes_outdated", &[]), Some(1.0), "1.3.9 is older than 1.4.2");
    assert_eq!(value(s, "felhom_hub_nodes_blocked", &[]), Some(0.0));
    assert!(value(s, "felhom_hub_db_pool_connections", &[("state", "idle")]).is_some());
    assert_eq!(value(s, "felhom_hub_db_pool_max_connections", &[]), Some(8.0));
    assert_eq!(value(s, "felhom_hub_scheduler_leader", &[]), Some(1.0));
    for sample in &s.samples {
        assert!(sample.metric.starts_with("felhom_hub_"), "{}", sample.metric);
    }
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused() {
    let hub = hub_with(false, TOKEN).await;
    let wrong = hub.bare(Method::GET, "/metrics").bearer_auth("metrics-scrape-token-0123456789abcdeX").send().await;
    assert_eq!(wrong.unwrap().status(), 401);
    assert_eq!(hub.bare(Method::GET, "/metrics").send().await.unwrap().status(), 401);
    let global = hub.bare(Method::GET, "/metrics").bearer_auth(REPORT_KEY).send().await.unwrap();
    assert_eq!(global.status(), 401, "the global key is not the metrics token");
    let body: serde_json::Value = global.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn without_a_token_and_not_public_nobody_may_scrape() {
    let hub = hub_with(false, "").await;
    let res = hub.bare(Method::GET, "/metrics").bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(hub.bare(Method::GET, "/metrics").send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_public_hub_lets_anyone_scrape() {
    let hub = hub_with(true, "").await;
    let res = hub.bare(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("felhom_hub_scheduler_leader"));
}
