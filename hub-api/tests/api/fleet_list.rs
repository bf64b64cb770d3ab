//! The fleet list's paging, filters, counts and refusals (`GET /api/v1/customers?...`).

use std::collections::HashSet;

use hub_api::state::AppState;
use hub_api::store::ReportRow;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn state(hub: &TestHub) -> AppState {
    hub.hub.as_ref().expect("running").state.clone()
}

/// `n` report-only customers `c00000`… through the store, received `age_ms` before now, with
/// cpu going round 0–99 % and every seventh with health `fail` (DOWN).
async fn fill(hub: &TestHub, n: usize, age_ms: i64) {
    let now = chrono::Utc::now().timestamp_millis() - age_ms;
    let rows: Vec<ReportRow> = (0..n)
        .map(|i| ReportRow {
            customer_id: format!("c{i:05}"),
            hostname: Some(format!("host-{i:05}")),
            controller_version: Some("1.4.2".into()),
            controller_url: None,
            health: if i % 7 == 0 { "fail" } else { "ok" },
            monitoring_enabled: true,
            reported_at: now,
            received_at: now,
            cpu_percent: Some((i % 100) as f64),
            memory_percent: None,
            disk_percent: None,
            containers_running: None,
            containers_total: None,
            last_backup_at: None,
            last_backup_ok: None,
            report_json: "{}".into(),
            own_key: false,
        })
        .collect();
    for chunk in rows.chunks(500) {
        let chunk: Vec<&ReportRow> = chunk.iter().collect();
        state(hub).store().insert_reports(&chunk).await.unwrap();
    }
}

/// Every page of `query` (with `limit`), following `next_cursor`.
async fn all_pages(hub: &TestHub, query: &str, limit: u32) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/customers?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = hub.get_json(&path, 200).await;
        let customers = page["customers"].as_array().unwrap();
        assert!(customers.len() <= limit as usize);
        rows.extend(customers.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return rows,
        }
    }
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter().map(|r| r["customer_id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn paging_through_ten_thousand_customers_returns_each_once_in_order() {
    let mut hub = spawn_hub().await;
    fill(&hub, 10_000, 0).await;
    hub.login().await;

    let everyone = hub.get_json("/api/v1/customers", 200).await;
    assert_eq!(everyone["customers"].as_array().unwrap().len(), 10_000, "no parameter: every customer");
    assert_eq!(everyone.get("next_cursor"), None);
    assert_eq!(everyone["matched"], 10_000);

    for sort in ["id", "-cpu", "status", "-customer"] {
        let rows = all_pages(&hub, &format!("sort={sort}"), 997).await;
        let seen = ids(&rows);
        assert_eq!(seen.len(), 10_000, "sort={sort}");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 10_000, "sort={sort}: each once");
        if sort == "-cpu" {
            let cpus: Vec<f64> = rows.iter().map(|r| r["cpu"].as_f64().unwrap()).collect();
            assert!(cpus.windows(2).all(|w| w[0] >= w[1]), "highest cpu first");
        }
        if sort == "status" {
            let downs = rows.iter().take_while(|r| r["status"] == "DOWN").count();
            assert_eq!(downs, 1429, "worst first: every seventh is DOWN");
        }
    }
    hub.stop().await;
}

#[tokio::test]
async fn filters_page_and_count_the_whole_fleet() {
    let mut hub = spawn_hub().await;
    fill(&hub, 50, 0).await;
    hub.login().await;
    let blocked = hub.create_config("c00001").await;
    assert!(blocked["api_key"].is_string());
    hub.request(Method::POST, "/api/v1/configs/c00001/block").send().await.unwrap();

    let down = hub.get_json("/api/v1/customers?status=DOWN&limit=3", 200).await;
    assert_eq!(ids(down["customers"].as_array().unwrap()), ["c00000", "c00007", "c00014"]);
    assert_eq!(down["matched"], 8);
    assert!(down["next_cursor"].is_string());
    let counts = json!({"OK": 41, "WARN": 0, "DOWN": 8, "DISABLED": 0, "PENDING": 0, "BLOCKED": 1});
    assert_eq!(down["counts"], counts, "the whole fleet's, whatever the filter");

    let blocked = hub.get_json("/api/v1/customers?status=blocked", 200).await;
    assert_eq!(ids(blocked["customers"].as_array().unwrap()), ["c00001"]);
    let visible = hub.get_json("/api/v1/customers?status=OK,WARN,DOWN&q=HOST-0001", 200).await;
    assert_eq!(ids(visible["customers"].as_array().unwrap()), (10..20).map(|i| format!("c{i:05}")).collect::<Vec<_>>());
    assert_eq!(visible["counts"], counts);
    let named = hub.get_json("/api/v1/customers?q=c00001%20CSAL", 200).await;
    assert_eq!(ids(named["customers"].as_array().unwrap()), ["c00001"], "the name matches too");
    let none = hub.get_json("/api/v1/customers?q=nobody", 200).await;
    assert_eq!((none["customers"].clone(), none["matched"].clone()), (json!([]), json!(0)));

    let by_cpu = all_pages(&hub, "status=OK&sort=-cpu", 4).await;
    assert_eq!(by_cpu.len(), 41);
    assert_eq!(ids(&by_cpu[..2]), ["c00048", "c00047"], "c00049 is DOWN");
    hub.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let mut hub = spawn_hub().await;
    fill(&hub, 5, 0).await;
    hub.login().await;
    let page = hub.get_json("/api/v1/customers?sort=cpu&limit=2", 200).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    for (query, name) in [
        ("status=SAD", "status"),
        ("status=OK,", "status"),
        ("sort=size", "sort"),
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("limit=many", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=e30", "cursor"),
        (&format!("sort=-cpu&cursor={cursor}"), "cursor"),
    ] {
        let answer = hub.get_json(&format!("/api/v1/customers?{query}"), 400).await;
        assert_eq!(answer["code"], "bad_request", "{query}");
        assert!(answer["message"].as_str().unwrap().contains(name), "{query}: {answer}");
    }
    hub.get_json(&format!("/api/v1/customers?sort=cpu&limit=2&cursor={cursor}"), 200).await;
    hub.stop().await;
}

#[tokio::test]
async fn the_list_is_for_the_operator_and_the_global_key() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let key = hub.create_config("kovacs").await["api_key"].as_str().unwrap().to_string();
    let path = "/api/v1/customers?status=OK&sort=-cpu&limit=10";
    hub.get_json(path, 200).await;
    let with = |key: &str| hub.bare(Method::GET, path).bearer_auth(key).send();
    assert_eq!(with(REPORT_KEY).await.unwrap().status(), 200);
    assert_eq!(with(&key).await.unwrap().status(), 403);
    assert_eq!(hub.bare(Method::GET, path).send().await.unwrap().status(), 401);
    hub.stop().await;
}

#[tokio::test]
async fn this_replicas_write_shows_at_once() {
    let mut hub = spawn_hub().await;
    fill(&hub, 2, 60_000).await;
    hub.login().await;
    let first = hub.get_json("/api/v1/customers", 200).await;
    assert_eq!(first["counts"]["OK"], 1);
    assert_eq!(hub.post_report(REPORT_KEY, &report("kovacs")).await.status(), 200);
    let second = hub.get_json("/api/v1/customers", 200).await;
    assert_eq!(
        ids(second["customers"].as_array().unwrap()),
        ["c00000", "c00001", "kovacs"],
        "this replica's write at once"
    );
    assert_eq!(second["counts"]["OK"], 2);
    hub.stop().await;
}
