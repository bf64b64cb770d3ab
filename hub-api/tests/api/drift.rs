//! Fleet drift against hub-sim's controller side on a random port: a node running the hub's
//! config is in sync, one running its own has drifted by some keys, one whose controller does
//! not answer and one that never reported an address are unreachable (never in sync), and a
//! blocked one is not asked. The button (`POST /api/v1/fleet/drift/check`) and the job agree.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use hub_api::jobs::{DriftCheck, Job};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Three simulated nodes with configs (`ids[0]` runs the hub's config once pushed, `ids[2]`
/// reports an address nothing listens on), one never reporting, and a blocked one.
async fn fleet(hub: &TestHub) -> (hub_sim::fleet::Shared, Vec<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let now = Utc::now();
    let fleet: hub_sim::fleet::Shared = Arc::new(Mutex::new(hub_sim::node::fleet(11, 3, &base, now, now)));
    let ids: Vec<String> = fleet.lock().unwrap().iter().map(|n| n.customer_id.clone()).collect();
    for (i, id) in ids.iter().enumerate() {
        let key = hub.create_config(id).await["api_key"].as_str().unwrap().to_string();
        fleet.lock().unwrap()[i].key = key;
    }
    tokio::spawn(hub_sim::controller::serve(listener, fleet.clone(), hub_sim::controller::known_versions()));
    // The third node reports an address nothing listens on (a closed port) from its first report.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let reports: Vec<(String, Value)> = fleet
        .lock()
        .unwrap()
        .iter()
        .map(|n| (n.key.clone(), serde_json::to_value(n.report(Utc::now())).unwrap()))
        .collect();
    for (i, (key, mut body)) in reports.into_iter().enumerate() {
        if i == 2 {
            body["controller_url"] = json!(format!("http://{closed}/c/{}", ids[2]));
        }
        assert_eq!(hub.post_report(&key, &body).await.status(), 200);
    }
    hub.create_config("silent").await;
    hub.create_config("blocked").await;
    assert_eq!(hub.request(Method::POST, "/api/v1/configs/blocked/block").send().await.unwrap().status(), 200);
    (fleet, ids)
}

fn row<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["customers"].as_array().unwrap().iter().find(|c| c["customer_id"] == id).unwrap()
}

#[tokio::test]
async fn drift_is_in_sync_drifted_or_unreachable_never_guessed() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let (_fleet, ids) = fleet(&hub).await;
    let pushed = hub.request(Method::POST, &format!("/api/v1/configs/{}/push", ids[0])).send().await.unwrap();
    assert_eq!(pushed.status(), 200, "the first node runs the hub's config from now on");

    let res = hub.request(Method::POST, "/api/v1/fleet/drift/check").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let check: Value = res.json().await.unwrap();
    assert_eq!(
        (&check["nodes"], &check["in_sync"], &check["drifted"], &check["unreachable"], &check["unfinished"]),
        (&json!(4), &json!(1), &json!(1), &json!(2), &json!(0)),
        "the blocked node is not asked: {check}"
    );

    let list = hub.get_json("/api/v1/customers", 200).await;
    assert_eq!(row(&list, &ids[0])["drift"]["state"], "in_sync");
    let drifted = &row(&list, &ids[1])["drift"];
    assert_eq!(drifted["state"], "drifted", "{drifted}");
    assert!(drifted["keys"].as_u64().unwrap() > 0);
    assert!(drifted["checked_at"].is_string());
    let gone = &row(&list, &ids[2])["drift"];
    assert_eq!(gone["state"], "unreachable");
    assert!(gone["message"].as_str().unwrap().contains("cannot be reached"), "{gone}");
    let silent = &row(&list, "silent")["drift"];
    assert_eq!(silent["state"], "unreachable");
    assert!(silent["message"].as_str().unwrap().contains("address"), "{silent}");
    assert!(row(&list, "blocked").get("drift").is_none(), "a blocked node is not asked");
    let detail = hub.get_json(&format!("/api/v1/customers/{}", ids[1]), 200).await;
    assert_eq!(detail["summary"]["drift"], *drifted);

    let audit = hub.get_json("/api/v1/audit", 200).await;
    assert_eq!(audit["entries"][0]["action"], "drift_check");

    // The job finds the same, later.
    let later = Utc::now() + chrono::Duration::hours(1);
    let summary = DriftCheck.run_once(hub.state(), later).await.unwrap();
    assert_eq!(summary, "4 nodes: 1 in sync, 1 drifted, 2 unreachable");
    let list = hub.get_json("/api/v1/customers", 200).await;
    assert_eq!(
        row(&list, &ids[0])["drift"]["checked_at"],
        json!(later.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    );
    hub.stop().await;
}

#[tokio::test]
async fn the_drift_check_is_for_the_operator_only() {
    let mut hub = spawn_hub().await;
    let key = {
        hub.login().await;
        hub.create_config("kovacs").await["api_key"].as_str().unwrap().to_string()
    };
    let post = |key: &str| hub.bare(Method::POST, "/api/v1/fleet/drift/check").bearer_auth(key).send();
    assert_eq!(post(REPORT_KEY).await.unwrap().status(), 403);
    assert_eq!(post(&key).await.unwrap().status(), 403);
    assert_eq!(post("wrong-key-0123456789abcdef0123456789").await.unwrap().status(), 401);
    let no_csrf = hub.client.post(hub.url("/api/v1/fleet/drift/check")).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403);
    hub.stop().await;
}
