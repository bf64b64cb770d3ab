//! Staged rollouts: canaries then batches with simulated nodes that report the new version, a
//! canary that never does, a rollout that goes on across a hub restart, and the endpoints'
//! scopes and answers. The update requests go to a recording stand-in; the rollout job runs with
//! chosen times.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hub_api::jobs::{Job, RolloutStep};
use hub_api::rollout::Updater;
use hub_api::state::AppState;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Records every update request; refuses those for `refuse`.
#[derive(Default)]
struct Recorder {
    asked: Mutex<Vec<String>>,
    refuse: Vec<String>,
}

#[async_trait]
impl Updater for Recorder {
    async fn request_update(
        &self,
        _: &AppState,
        _: i64,
        customer_id: &str,
        version: &str,
        _: DateTime<Utc>,
    ) -> Result<(), String> {
        assert_eq!(version, "1.5.0");
        if self.refuse.iter().any(|r| r == customer_id) {
            return Err("the controller answered HTTP 500: disk full".into());
        }
        self.asked.lock().unwrap().push(customer_id.to_string());
        Ok(())
    }
}

impl Recorder {
    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

async fn report_version(hub: &TestHub, customer_id: &str, version: &str) {
    let mut body = report(customer_id);
    body["controller_version"] = json!(version);
    assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
}

/// Managed nodes `a`–`d` on 1.4.2, `blocked` (blocked) on 1.4.2, `current` already on 1.5.0.
async fn fleet(hub: &TestHub) {
    for (id, status, version) in [
        ("a", "active", "1.4.2"),
        ("b", "active", "1.4.2"),
        ("c", "active", "1.4.2"),
        ("d", "active", "1.4.2"),
        ("blocked", "blocked", "1.4.2"),
        ("current", "active", "v1.5.0"),
    ] {
        add_customer(hub, id, &format!("{id}-key-0123456789abcdef"), status).await;
        report_version(hub, id, version).await;
    }
}

async fn start(hub: &TestHub, body: Value) -> Value {
    let res = hub.send_json(Method::POST, "/api/v1/rollouts", &body).await;
    assert_eq!(res.status(), 201, "start");
    res.json().await.unwrap()
}

/// Each node's step, as `id:step`.
async fn steps(hub: &TestHub, id: i64) -> Vec<String> {
    let rollout = hub.get_json(&format!("/api/v1/rollouts/{id}"), 200).await;
    rollout["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| format!("{}:{}", n["customer_id"], n["step"]).replace('"', ""))
        .collect()
}

async fn state_of(hub: &TestHub, id: i64) -> Value {
    hub.get_json(&format!("/api/v1/rollouts/{id}"), 200).await["rollout"].clone()
}

fn minutes(t0: DateTime<Utc>, m: i64) -> DateTime<Utc> {
    t0 + Duration::minutes(m)
}

#[tokio::test]
async fn a_rollout_updates_the_canary_then_the_rest_in_batches() {
    let mut hub = spawn_hub().await;
    fleet(&hub).await;
    hub.login().await;
    let started = start(&hub, json!({"version": "1.5.0", "canary": ["c"], "wait": "2m", "batch_size": 2})).await;
    let id = started["rollout"]["id"].as_i64().unwrap();
    assert_eq!(started["rollout"]["state"], "running");
    assert_eq!(
        steps(&hub, id).await,
        ["c:pending", "a:pending", "b:pending", "blocked:skipped", "current:skipped", "d:pending"],
        "the canary first; blocked and current nodes are skipped"
    );
    let recorder = Arc::new(Recorder::default());
    let job = RolloutStep::with_updater(recorder.clone());
    let t0 = Utc::now();

    job.run_once(hub.state(), t0).await.unwrap();
    assert_eq!(recorder.asked(), ["c"]);
    job.run_once(hub.state(), minutes(t0, 1)).await.unwrap();
    assert_eq!(steps(&hub, id).await[0], "c:updating", "no report with the version yet");

    report_version(&hub, "c", "1.5.0").await;
    job.run_once(hub.state(), minutes(t0, 1)).await.unwrap();
    assert_eq!(steps(&hub, id).await[0], "c:soaking");
    job.run_once(hub.state(), minutes(t0, 2)).await.unwrap();
    assert_eq!(recorder.asked(), ["c"], "the batches wait for the canary's whole wait");

    job.run_once(hub.state(), minutes(t0, 3)).await.unwrap();
    assert_eq!(recorder.asked(), ["c", "a", "b"], "the canary is done; the first batch of two");
    for id in ["a", "b"] {
        report_version(&hub, id, "1.5.0").await;
    }
    job.run_once(hub.state(), minutes(t0, 4)).await.unwrap();
    job.run_once(hub.state(), minutes(t0, 5)).await.unwrap();
    assert_eq!(recorder.asked(), ["c", "a", "b"], "the next batch waits for this one");
    job.run_once(hub.state(), minutes(t0, 6)).await.unwrap();
    assert_eq!(recorder.asked(), ["c", "a", "b", "d"]);

    report_version(&hub, "d", "1.5.0").await;
    job.run_once(hub.state(), minutes(t0, 7)).await.unwrap();
    job.run_once(hub.state(), minutes(t0, 9)).await.unwrap();
    job.run_once(hub.state(), minutes(t0, 10)).await.unwrap();
    let rollout = state_of(&hub, id).await;
    assert_eq!(rollout["state"], "done", "{rollout}");
    assert_eq!(
        rollout["counts"],
        json!({"pending": 0, "updating": 0, "soaking": 0, "done": 4, "skipped": 2, "failed": 0})
    );
    assert_eq!(steps(&hub, id).await, ["c:done", "a:done", "b:done", "blocked:skipped", "current:skipped", "d:done"]);

    let list = hub.get_json("/api/v1/rollouts", 200).await;
    assert_eq!(list["rollouts"][0]["id"], id);
    assert_eq!(list["rollouts"][0]["counts"]["done"], 4);
    let audit = hub.get_json("/api/v1/audit", 200).await;
    assert_eq!(audit["entries"][0]["action"], "rollout_start");
    hub.stop().await;
}

#[tokio::test]
async fn a_canary_that_never_reports_the_version_stops_the_rollout_and_tells_the_operator() {
    let mut hub = spawn_hub().await;
    fleet(&hub).await;
    hub.login().await;
    let started =
        start(&hub, json!({"version": "1.5.0", "canary_percent": 25, "wait": "2m", "update_timeout": "5m"})).await;
    let id = started["rollout"]["id"].as_i64().unwrap();
    let recorder = Arc::new(Recorder::default());
    let job = RolloutStep::with_updater(recorder.clone());
    let t0 = Utc::now();

    job.run_once(hub.state(), t0).await.unwrap();
    assert_eq!(recorder.asked(), ["a"], "25% of four nodes to update: one canary");
    job.run_once(hub.state(), minutes(t0, 4)).await.unwrap();
    assert_eq!(state_of(&hub, id).await["state"], "running");
    job.run_once(hub.state(), minutes(t0, 5)).await.unwrap();
    let rollout = hub.get_json(&format!("/api/v1/rollouts/{id}"), 200).await;
    assert_eq!(rollout["rollout"]["state"], "stopped");
    assert!(rollout["rollout"]["reason"].as_str().unwrap().contains("a did not report 1.5.0 within 5m"), "{rollout}");
    assert_eq!(rollout["nodes"][0]["step"], "failed");
    job.run_once(hub.state(), minutes(t0, 6)).await.unwrap();
    assert_eq!(recorder.asked(), ["a"], "a stopped rollout asks nobody");

    let events = hub.get_json("/api/v1/customers/a/events?type=rollout_stopped", 200).await;
    assert_eq!(events["events"][0]["severity"], "error");
    assert_eq!(events["events"][0]["source"], "hub");
    assert_eq!(events["events"].as_array().unwrap().len(), 1);

    // The operator's choices: resume (the failed canary stays failed, the others go on), abort.
    let post = |action: &str| hub.request(Method::POST, &format!("/api/v1/rollouts/{id}/{action}")).send();
    assert_eq!(post("resume").await.unwrap().status(), 200);
    job.run_once(hub.state(), minutes(t0, 7)).await.unwrap();
    assert_eq!(recorder.asked(), ["a", "b", "c", "d"], "the default batch of ten takes the rest");
    assert_eq!(post("pause").await.unwrap().status(), 200);
    assert_eq!(post("pause").await.unwrap().status(), 409);
    let aborted: Value = post("abort").await.unwrap().json().await.unwrap();
    assert_eq!(aborted["rollout"]["state"], "aborted");
    assert!(aborted["rollout"]["finished_at"].is_string());
    let again = post("resume").await.unwrap();
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("is aborted"), "{body}");

    // A second rollout may start once this one is finished.
    start(&hub, json!({"version": "1.5.0", "canary": ["b"], "wait": "1m"})).await;
    hub.stop().await;
}

#[tokio::test]
async fn a_failed_update_request_fails_the_node_and_stops_the_rollout() {
    let mut hub = spawn_hub().await;
    fleet(&hub).await;
    hub.login().await;
    let id = start(&hub, json!({"version": "1.5.0", "canary": ["a", "b"], "wait": "1m"})).await["rollout"]["id"]
        .as_i64()
        .unwrap();
    let recorder = Arc::new(Recorder { refuse: vec!["b".into()], ..Default::default() });
    RolloutStep::with_updater(recorder.clone()).run_once(hub.state(), Utc::now()).await.unwrap();
    let rollout = hub.get_json(&format!("/api/v1/rollouts/{id}"), 200).await;
    assert_eq!(rollout["rollout"]["state"], "stopped");
    assert_eq!(rollout["nodes"][1]["step"], "failed");
    assert!(rollout["nodes"][1]["message"].as_str().unwrap().contains("disk full"), "{rollout}");
    hub.stop().await;
}

#[tokio::test]
async fn a_rollout_goes_on_after_a_hub_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_database_url(dir.path()).await;
    let spawn = |url: String| {
        spawn_hub_with(Options {
            password: true,
            tweak: Some(Box::new(move |raw| {
                raw.database.url = url.into();
                raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into();
            })),
        })
    };
    let mut hub = spawn(url.clone()).await;
    fleet(&hub).await;
    hub.login().await;
    let id = start(&hub, json!({"version": "1.5.0", "canary": ["a"], "wait": "1m", "batch_size": 5})).await["rollout"]
        ["id"]
        .as_i64()
        .unwrap();
    let t0 = Utc::now();
    let first = Arc::new(Recorder::default());
    RolloutStep::with_updater(first.clone()).run_once(hub.state(), t0).await.unwrap();
    assert_eq!(first.asked(), ["a"]);
    hub.stop().await;

    let mut hub = spawn(url).await;
    hub.login().await;
    let second = Arc::new(Recorder::default());
    let job = RolloutStep::with_updater(second.clone());
    report_version(&hub, "a", "1.5.0").await;
    job.run_once(hub.state(), minutes(t0, 1)).await.unwrap();
    job.run_once(hub.state(), minutes(t0, 2)).await.unwrap();
    assert_eq!(second.asked(), ["b", "c", "d"], "the canary is not asked again; the rest follow");
    assert_eq!(steps(&hub, id).await[0], "a:done");
    hub.stop().await;
}

#[tokio::test]
async fn rollout_endpoints_state_their_scope_and_refuse_bad_input() {
    let mut hub = spawn_hub().await;
    fleet(&hub).await;
    let body = json!({"version": "1.5.0", "canary": ["a"], "wait": "10m"});
    let as_key = |method: Method, path: &str, key: &str| hub.bare(method, path).bearer_auth(key).json(&body).send();
    for key in [REPORT_KEY, "a-key-0123456789abcdef"] {
        assert_eq!(as_key(Method::POST, "/api/v1/rollouts", key).await.unwrap().status(), 403, "{key}");
    }
    let wrong = "wrong-key-0123456789abcdef0123456789";
    for (method, path) in [
        (Method::POST, "/api/v1/rollouts"),
        (Method::GET, "/api/v1/rollouts"),
        (Method::GET, "/api/v1/rollouts/1"),
        (Method::POST, "/api/v1/rollouts/1/pause"),
        (Method::POST, "/api/v1/rollouts/1/resume"),
        (Method::POST, "/api/v1/rollouts/1/abort"),
    ] {
        assert_eq!(as_key(method.clone(), path, wrong).await.unwrap().status(), 401, "{method} {path}");
    }
    assert_eq!(as_key(Method::GET, "/api/v1/rollouts", REPORT_KEY).await.unwrap().status(), 200);
    assert_eq!(as_key(Method::GET, "/api/v1/rollouts", "a-key-0123456789abcdef").await.unwrap().status(), 403);

    hub.login().await;
    let no_csrf = hub.client.post(hub.url("/api/v1/rollouts")).json(&body).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403, "a session without the CSRF token");
    for (bad, field) in [
        (json!({"version": "1.5.0", "canary": ["a"], "wait": "soon"}), "wait"),
        (json!({"version": "1.5.0", "canary": ["a"], "canary_percent": 10, "wait": "1m"}), "canary"),
        (json!({"version": "1.5.0", "wait": "1m"}), "canary"),
        (json!({"version": "1.5.0", "canary": ["blocked"], "wait": "1m"}), "canary"),
        (json!({"version": "1.5.0", "canary": ["nobody"], "wait": "1m"}), "canary"),
        (json!({"version": "1.5.0", "canary_percent": 0, "wait": "1m"}), "canary_percent"),
        (json!({"version": "1.5.0", "canary": ["a"], "wait": "1m", "batch_size": 0}), "batch_size"),
        (json!({"version": "1.5 beta", "canary": ["a"], "wait": "1m"}), "version"),
        (json!({"version": "1.5.0", "canary": ["a"], "wait": "1m", "update_timeout": "5s"}), "update_timeout"),
        (json!({"version": 15, "canary": ["a"], "wait": "1m"}), "version"),
    ] {
        let res = hub.send_json(Method::POST, "/api/v1/rollouts", &bad).await;
        assert_eq!(res.status(), 422, "{bad}");
        let error: Value = res.json().await.unwrap();
        assert!(error["message"].as_str().unwrap().contains(field), "{bad}: {error}");
    }
    let nothing = hub
        .send_json(Method::POST, "/api/v1/rollouts", &json!({"version": "1.0.0", "canary_percent": 50, "wait": "1m"}))
        .await;
    assert_eq!(nothing.status(), 409, "every node is on 1.0.0 or newer");

    start(&hub, body.clone()).await;
    let second = hub.send_json(Method::POST, "/api/v1/rollouts", &body).await;
    assert_eq!(second.status(), 409, "one unfinished rollout at a time");
    assert_eq!(hub.get("/api/v1/rollouts/abc").send().await.unwrap().status(), 400);
    assert_eq!(hub.get("/api/v1/rollouts/0").send().await.unwrap().status(), 400);
    assert_eq!(hub.get("/api/v1/rollouts/999").send().await.unwrap().status(), 404);
    assert_eq!(hub.send_json(Method::POST, "/api/v1/rollouts/999/pause", &json!({})).await.status(), 404);
    assert_eq!(hub.get("/api/v1/rollouts?limit=0").send().await.unwrap().status(), 400);
    hub.stop().await;
}

/// The nodes' reports from hub-sim, each with its own key, healthy.
async fn post_sim_reports(hub: &TestHub, fleet: &hub_sim::fleet::Shared) {
    let nodes: Vec<(String, Value)> = fleet
        .lock()
        .unwrap()
        .iter()
        .map(|n| (n.key.clone(), serde_json::to_value(n.report(Utc::now())).unwrap()))
        .collect();
    for (key, mut body) in nodes {
        body["health"] = json!("ok");
        assert_eq!(hub.post_report(&key, &body).await.status(), 200);
    }
}

#[tokio::test]
async fn a_rollout_asks_the_controllers_through_their_api() {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let now = Utc::now();
    let fleet: hub_sim::fleet::Shared = Arc::new(Mutex::new(hub_sim::node::fleet(7, 2, &base, now, now)));
    let ids: Vec<String> = fleet.lock().unwrap().iter().map(|n| n.customer_id.clone()).collect();
    for (i, id) in ids.iter().enumerate() {
        let key = hub.create_config(id).await["api_key"].as_str().unwrap().to_string();
        let mut nodes = fleet.lock().unwrap();
        nodes[i].key = key;
        nodes[i].failure = hub_sim::node::Failure::None;
    }
    tokio::spawn(hub_sim::controller::serve(listener, fleet.clone(), hub_sim::controller::known_versions()));
    post_sim_reports(&hub, &fleet).await;
    let body = json!({"version": "1.9.0", "canary": [ids[0]], "wait": "1m"});
    let id = start(&hub, body).await["rollout"]["id"].as_i64().unwrap();
    let version = |i: usize| fleet.lock().unwrap()[i].version.clone();

    let job = RolloutStep::default();
    let t0 = Utc::now();
    job.run_once(hub.state(), t0).await.unwrap();
    assert_eq!(version(0), "1.9.0", "the canary's controller was asked");
    assert_ne!(version(1), "1.9.0");
    post_sim_reports(&hub, &fleet).await;
    job.run_once(hub.state(), minutes(t0, 1)).await.unwrap();
    job.run_once(hub.state(), minutes(t0, 2)).await.unwrap();
    assert_eq!(version(1), "1.9.0", "then the rest");
    post_sim_reports(&hub, &fleet).await;
    job.run_once(hub.state(), minutes(t0, 3)).await.unwrap();
    job.run_once(hub.state(), minutes(t0, 4)).await.unwrap();
    assert_eq!(state_of(&hub, id).await["state"], "done");
    let audit = hub.get_json(&format!("/api/v1/audit?customer_id={}", ids[0]), 200).await;
    let update = audit["entries"].as_array().unwrap().iter().find(|e| e["action"] == "controller_update").unwrap();
    assert!(update["summary"].as_str().unwrap().contains(&format!("rollout #{id}")), "{update}");
    hub.stop().await;
}
