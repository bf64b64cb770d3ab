//! The compatibility suite: `hub-sim run --profile original` speaks the original Go hub's shapes
//! (events with `details_json` as a string and `source`, infra backups, preferences, the legacy
//! `/notify` relay, config and recovery retrieval with the retrieval password, per-customer keys)
//! against a real hub, end to end, and the hub refuses none of it.

use hub_testkit::{HubBuilder, REPORT_KEY as GLOBAL_KEY};
use reqwest::Client;
use serde_json::{json, Value};

/// The key and password the old hub had given sim-0000 (set through the credentials endpoint).
const OLD_KEY: &str = "old-go-hub-key-sim-0000-0123456789";
const OLD_PASSWORD: &str = "alma-kerék-madár-felhő";

struct Operator {
    client: Client,
    base: String,
    csrf: String,
}

impl Operator {
    async fn new(base: &str) -> Operator {
        let client = Client::new();
        let session: Value =
            client.get(format!("{base}/api/v1/auth/session")).send().await.unwrap().json().await.unwrap();
        let csrf = session["csrf_token"].as_str().expect("the open session's CSRF token").to_string();
        Operator { client, base: base.to_string(), csrf }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> Value {
        let res = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{method} {path}: {}", res.status());
        res.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        let res = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_built_for_the_original_hub_work_unchanged() {
    // Without a password: the operator API is open on loopback, as for a hub run locally.
    let hub = HubBuilder::new().password(false).start().await;
    let base = hub.base.clone();
    let operator = Operator::new(&base).await;
    let dir = tempfile::tempdir().unwrap();

    // sim-0000 keeps the old hub's key and password; sim-0001 got new ones; sim-0002 has no
    // config and reports with the global key.
    let create = |id: &str| json!({"customer_id": id, "display_name": id});
    operator.send(reqwest::Method::POST, "/api/v1/configs", &create("sim-0000")).await;
    let given = json!({"api_key": OLD_KEY, "retrieval_password": OLD_PASSWORD});
    operator.send(reqwest::Method::PUT, "/api/v1/configs/sim-0000/credentials", &given).await;
    let created = operator.send(reqwest::Method::POST, "/api/v1/configs", &create("sim-0001")).await;
    let credentials = json!({
        "sim-0000": {"api_key": OLD_KEY, "retrieval_password": OLD_PASSWORD},
        "sim-0001": {"api_key": created["api_key"], "retrieval_password": created["retrieval_password"]},
    });
    let file = dir.path().join("credentials.json");
    std::fs::write(&file, credentials.to_string()).unwrap();

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hub-sim"))
        .args(["run", "--url", &base, "--key", GLOBAL_KEY, "--nodes", "3", "--seed", "1", "--interval", "15m"])
        .args(["--speed", "3600", "--backfill", "6h", "--duration", "500ms", "--controller-listen", "127.0.0.1:0"])
        .args(["--profile", "original", "--fail-on-error", "--credentials"])
        .arg(&file)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "hub-sim failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let totals = stdout.lines().find_map(|l| l.strip_prefix("hub-sim: ")).expect("a totals line");
    assert!(totals.ends_with("retrievals=2 failures=0"), "{totals}");

    // The hub has all three, with what the original controllers sent.
    let customers = operator.get("/api/v1/customers").await;
    let ids: Vec<&str> =
        customers["customers"].as_array().unwrap().iter().map(|c| c["customer_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["sim-0000", "sim-0001", "sim-0002"], "{customers}");
    assert!(customers["customers"].as_array().unwrap().iter().all(|c| !c["reported_at"].is_null()));
    for id in ids {
        let events = operator.get(&format!("/api/v1/customers/{id}/events?type=controller_started")).await;
        let started = &events["events"][0];
        assert_eq!(started["source"], "controller", "{id}: {events}");
        assert_eq!(started["details"]["hostname"].as_str().map(|h| h.ends_with(&id[4..])), Some(true), "{started}");
        let history = operator.get(&format!("/api/v1/customers/{id}/history?period=24h")).await;
        assert!(history["points"].as_array().unwrap().len() >= 20, "{id}: the backfill is charted");
    }
    let preferences = operator.get("/api/v1/customers/sim-0000/preferences").await;
    assert_eq!(preferences["email"], "owner@sim-0000.example");
    let backup = Client::new().get(format!("{base}/api/v1/infra-backup/sim-0000")).bearer_auth(OLD_KEY).send().await;
    assert_eq!(backup.unwrap().status(), 200, "the old key reads its own infra backup");
    let audit = operator.get("/api/v1/audit?customer_id=sim-0000").await;
    let retrievals = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "retrieval").count();
    assert_eq!(retrievals, 2, "the config and the recovery bundle: {audit}");
    hub.hub.shutdown().await.unwrap();
}
