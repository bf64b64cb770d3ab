//! The fleet's controller versions: `GET /api/v1/fleet/versions` and the outdated marks on the
//! customers list and a customer's page, against what the registry watch stored.

use hub_api::store::RegistryLatest;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Reports `version` for `customer_id` (`None`: a report without a version).
async fn report_version(hub: &TestHub, customer_id: &str, version: Option<&str>) {
    let mut body = report(customer_id);
    body["controller_version"] = version.map_or(Value::Null, |v| json!(v));
    assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
}

#[tokio::test]
async fn versions_count_nodes_and_mark_the_outdated_ones() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", "kovacs-key-0123456789abcdef", "active").await;
    for (id, version) in [("kovacs", Some("1.4.2")), ("nagy", Some("1.4.2")), ("szabo", Some("v1.5.0")), ("toth", None)]
    {
        report_version(&hub, id, version).await;
    }
    hub.login().await;

    // Before the registry watch found anything: counted, nothing outdated.
    let before = hub.get_json("/api/v1/fleet/versions", 200).await;
    assert_eq!(before["latest"], Value::Null);
    assert_eq!(before["outdated"], 0);

    hub.state()
        .store()
        .put_registry_latest(&RegistryLatest { version: "1.5.0".into(), seen_at: 1_790_000_000_000 })
        .await
        .unwrap();
    let versions = hub.get_json("/api/v1/fleet/versions", 200).await;
    assert_eq!(
        versions["versions"],
        json!([
            {"version": "v1.5.0", "nodes": 1, "outdated": false},
            {"version": "1.4.2", "nodes": 2, "outdated": true},
            {"version": null, "nodes": 1, "outdated": false},
        ])
    );
    assert_eq!(versions["latest"], json!({"version": "1.5.0", "seen_at": "2026-09-21T14:13:20Z"}));
    assert_eq!((versions["nodes"].as_u64(), versions["outdated"].as_u64()), (Some(4), Some(2)));

    let list = hub.get_json("/api/v1/customers", 200).await;
    let row = |id: &str| list["customers"].as_array().unwrap().iter().find(|c| c["customer_id"] == id).unwrap().clone();
    assert_eq!(row("kovacs")["latest_version"], "1.5.0", "outdated, with the newer version beside its own");
    assert_eq!(row("kovacs")["version"], "1.4.2");
    for current in ["szabo", "toth"] {
        assert!(row(current).get("latest_version").is_none(), "{current}: the field is left out");
    }
    let detail = hub.get_json("/api/v1/customers/nagy", 200).await;
    assert_eq!(detail["summary"]["latest_version"], "1.5.0");

    // The metrics' outdated count follows the registry too, not only the fleet's newest.
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(hub_api::fleet::counts(hub.state(), now).await.unwrap().outdated, 2);
    let newer = RegistryLatest { version: "1.6.0".into(), seen_at: 1_790_000_000_000 };
    hub.state().store().put_registry_latest(&newer).await.unwrap();
    assert_eq!(hub_api::fleet::counts(hub.state(), now).await.unwrap().outdated, 3, "v1.5.0 is older than 1.6.0");
    hub.stop().await;
}

#[tokio::test]
async fn versions_are_for_the_operator_and_the_global_key_only() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", "kovacs-key-0123456789abcdef", "active").await;
    let get = |key: &str| hub.bare(Method::GET, "/api/v1/fleet/versions").bearer_auth(key).send();
    assert_eq!(get(REPORT_KEY).await.unwrap().status(), 200);
    assert_eq!(get("kovacs-key-0123456789abcdef").await.unwrap().status(), 403);
    assert_eq!(get("wrong-key-0123456789abcdef0123456789").await.unwrap().status(), 401);
    assert_eq!(hub.bare(Method::GET, "/api/v1/fleet/versions").send().await.unwrap().status(), 401);
    hub.stop().await;
}
