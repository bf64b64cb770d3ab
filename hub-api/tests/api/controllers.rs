//! Acting on controllers: push, diff, pull and update against hub-sim's controller side on a
//! random port, the controller address rule, failing controllers (refused, silent, erroring,
//! garbage, too large) as 502s that say which, and the operator-only access of every action.

use chrono::{DateTime, Duration, Utc};
use hub_api::jobs::Job;
use hub_sim::fleet::Shared;
use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{report, spawn_hub, spawn_hub_with, Options, TestHub, REPORT_KEY};

const ID: &str = "sim-0000";

async fn signed_in() -> TestHub {
    let mut hub = spawn_hub().await;
    hub.login().await;
    hub
}

/// hub-sim's controller side on a random port with one node, `sim-0000`, whose key is the
/// customer's own API key (a config is created for it).
async fn simulated_controller(hub: &TestHub) -> (Shared, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let now = Utc::now();
    let fleet: Shared = std::sync::Arc::new(std::sync::Mutex::new(hub_sim::node::fleet(1, 1, &base, now, now)));
    let key = hub.create_config(ID).await["api_key"].as_str().unwrap().to_string();
    fleet.lock().unwrap()[0].key = key.clone();
    tokio::spawn(hub_sim::controller::serve(listener, fleet.clone(), hub_sim::controller::known_versions()));
    (fleet, key)
}

/// The node's report, posted with the customer's key.
async fn post_node_report(hub: &TestHub, fleet: &Shared, key: &str, at: DateTime<Utc>) {
    let body = serde_json::to_value(fleet.lock().unwrap()[0].report(at)).unwrap();
    assert_eq!(hub.post_report(key, &body).await.status(), 200);
}

async fn send(hub: &TestHub, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = hub.request(method, path);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn paths(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect()
}

async fn audit_summaries(hub: &TestHub, action: &str) -> Vec<String> {
    let log = hub.get_json(&format!("/api/v1/audit?customer_id={ID}"), 200).await;
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| e["summary"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn diff_push_and_pull_against_the_simulated_controller() {
    let mut hub = signed_in().await;
    let (fleet, key) = simulated_controller(&hub).await;
    post_node_report(&hub, &fleet, &key, Utc::now()).await;
    let diff_path = format!("/api/v1/configs/{ID}/diff");

    // The node runs its own config: the diff shows the hub's keys it lacks, secrets masked.
    let diff = hub.get_json(&diff_path, 200).await;
    assert!(paths(&diff["removed"]).contains(&"hub.api_key"), "{diff}");
    assert!(paths(&diff["added"]).contains(&"customer.hostname"), "{diff}");
    assert!(!diff.to_string().contains(&key), "the API key is masked");
    let api_key = diff["removed"].as_array().unwrap().iter().find(|c| c["path"] == "hub.api_key").unwrap();
    assert_eq!(api_key["hub"], "<hidden>");
    let revealed = hub.get_json(&format!("{diff_path}?reveal=true"), 200).await;
    assert!(revealed.to_string().contains(&key), "revealed on request");
    assert_eq!(revealed["revealed"], true);
    let audited = audit_summaries(&hub, "config_diff").await;
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited[0].ends_with("secrets revealed"), "{audited:?}");

    // Push: the node now runs the hub's config, and the diff is empty.
    let (status, pushed) = send(&hub, Method::POST, &format!("/api/v1/configs/{ID}/push"), None).await;
    assert_eq!(status, 200, "{pushed}");
    assert_eq!(pushed["controller"]["status"], 200);
    assert_eq!(pushed["controller"]["message"], "configuration applied");
    let generated = fleet.lock().unwrap()[0].config_yaml.clone();
    assert!(generated.contains(&format!("api_key: {key}")), "the generated config with the customer's key");
    let diff = hub.get_json(&diff_path, 200).await;
    assert_eq!((diff["added"].as_array().unwrap().len(), diff["changed"].as_array().unwrap().len()), (0, 0));
    assert_eq!(diff["removed"].as_array().unwrap().len(), 0, "{diff}");
    assert!(audit_summaries(&hub, "push_config").await[0].contains("HTTP 200 configuration applied"));

    // Someone changed the node's config by hand; pull takes the identity and overrides over.
    let edited = generated
        .replace(&format!("name: {ID} család"), "name: Kovács Anna")
        .replace("disk_warn_percent: 80", "disk_warn_percent: 70")
        .replace("tunnel_token: ''", "tunnel_token: cf-live-token");
    assert_ne!(edited, generated);
    fleet.lock().unwrap()[0].config_yaml = edited;
    let (status, pulled) = send(&hub, Method::POST, &format!("/api/v1/configs/{ID}/pull"), None).await;
    assert_eq!(status, 200, "{pulled}");
    let changed = paths(&pulled["changes"]["changed"]);
    assert_eq!(
        changed,
        ["display_name", "infrastructure.cloudflare_tunnel_token", "monitoring.disk_warn_percent"],
        "{pulled}"
    );
    assert!(!pulled["changes"].to_string().contains("cf-live-token"), "tokens are masked in the changes");
    assert_eq!(pulled["created"], Value::Null);
    let config = hub.get_json(&format!("/api/v1/configs/{ID}"), 200).await;
    assert_eq!(config["display_name"], "Kovács Anna");
    assert_eq!(config["monitoring"]["disk_warn_percent"], 70);
    assert_eq!(config["infrastructure"]["cloudflare_tunnel_token"], "cf-live-token");
    assert!(audit_summaries(&hub, "pull_config").await[0].contains("display_name"));
    // Pulled again, nothing changes.
    let (_, again) = send(&hub, Method::POST, &format!("/api/v1/configs/{ID}/pull"), None).await;
    assert_eq!(again["changes"]["changed"], json!([]), "{again}");
    hub.stop().await;
}

#[tokio::test]
async fn pull_creates_a_config_for_a_customer_without_one() {
    let mut hub = signed_in().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let now = Utc::now();
    let fleet: Shared = std::sync::Arc::new(std::sync::Mutex::new(hub_sim::node::fleet(1, 1, &base, now, now)));
    // A manual customer: it reports with the global key, which its controller knows the hub by.
    fleet.lock().unwrap()[0].key = REPORT_KEY.to_string();
    fleet.lock().unwrap()[0].config_yaml =
        format!("customer:\n  id: {ID}\n  name: Nagy Béla\nnode:\n  hostname: nas\n");
    tokio::spawn(hub_sim::controller::serve(listener, fleet.clone(), hub_sim::controller::known_versions()));
    post_node_report(&hub, &fleet, REPORT_KEY, now).await;
    assert_eq!(hub.get(&format!("/api/v1/configs/{ID}")).send().await.unwrap().status(), 404);

    let (status, pulled) = send(&hub, Method::POST, &format!("/api/v1/configs/{ID}/pull"), None).await;
    assert_eq!(status, 200, "{pulled}");
    assert!(pulled["created"]["api_key"].as_str().is_some_and(|k| k.len() >= 24), "{pulled}");
    assert_eq!(pulled["config"]["display_name"], "Nagy Béla");
    assert_eq!(pulled["config"]["identity"]["hostname"], "nas");
    assert!(paths(&pulled["changes"]["changed"]).contains(&"display_name"));
    hub.stop().await;
}

#[tokio::test]
async fn an_update_is_followed_until_its_version_arrives_or_its_time_runs_out() {
    let mut hub = signed_in().await;
    let (fleet, key) = simulated_controller(&hub).await;
    let t0 = Utc::now();
    post_node_report(&hub, &fleet, &key, t0).await;
    let update_path = format!("/api/v1/configs/{ID}/update");
    let config_path = format!("/api/v1/configs/{ID}");

    // No version given and none known: 409.
    let (status, body) = send(&hub, Method::POST, &update_path, None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "{body}");
    let null = hub.request(Method::POST, &update_path).header("content-type", "application/json").body("null");
    assert_eq!(null.send().await.unwrap().status(), 409, "a JSON null is no body too");
    let text = hub.request(Method::POST, &update_path).header("content-type", "text/plain").body("1.9.0");
    assert_eq!(text.send().await.unwrap().status(), 415);
    // A version the registry lacks: the controller's refusal, in a 502.
    let (status, body) = send(&hub, Method::POST, &update_path, Some(json!({"version": "2.0.0"}))).await;
    assert_eq!((status, body["code"].as_str()), (502, Some("controller_error")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("registry has no version"), "{body}");
    let (status, body) = send(&hub, Method::POST, &update_path, Some(json!({"version": "1.9; rm"}))).await;
    assert_eq!(status, 422, "{body}");

    // The newest version the registry watch knows is the default.
    let latest = json!({"version": "1.9.0", "seen_at": t0.timestamp_millis()}).to_string();
    hub.state().store().setting_or_insert(hub_api::controller::REGISTRY_LATEST, || latest).await.unwrap();
    let (status, started) = send(&hub, Method::POST, &update_path, None).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["update"]["version"], "1.9.0");
    assert_eq!(started["update"]["status"], "updating");
    let view = hub.get_json(&config_path, 200).await;
    assert_eq!(view["controller_update"]["status"], "updating");

    // The node reports the new version: arrived, shown at once and recorded by the job.
    post_node_report(&hub, &fleet, &key, Utc::now()).await;
    let view = hub.get_json(&config_path, 200).await;
    assert_eq!(view["controller_update"]["status"], "arrived", "{view}");
    let state = hub.state().clone();
    let summary = hub_api::jobs::ControllerUpdates.run_once(&state, Utc::now()).await.unwrap();
    assert!(summary.starts_with("1 updates arrived"), "{summary}");

    // An update that never arrives fails after controllers.update_timeout (30 min), once.
    let (status, _) = send(&hub, Method::POST, &update_path, Some(json!({"version": "1.8.4"}))).await;
    assert_eq!(status, 200);
    // The node's own clock keeps it on 1.9.0 in reports: the sim's update takes effect, so
    // report the old version by hand.
    let mut stale = report(ID);
    stale["controller_version"] = json!("1.9.0");
    stale["controller_url"] = json!(fleet.lock().unwrap()[0].controller_url.clone());
    assert_eq!(hub.post_report(&key, &stale).await.status(), 200);
    let early = ControllerUpdatesAt(Utc::now() + Duration::minutes(29));
    assert!(early.run(&state).await.starts_with("0 updates arrived, 0 did not"));
    let late = ControllerUpdatesAt(Utc::now() + Duration::minutes(31));
    assert!(late.run(&state).await.ends_with("1 did not arrive in time"));
    assert!(late.run(&state).await.ends_with("0 did not arrive in time"), "failed once");
    let view = hub.get_json(&config_path, 200).await;
    assert_eq!(view["controller_update"]["status"], "failed", "{view}");
    let events = hub.get_json(&format!("/api/v1/customers/{ID}/events"), 200).await;
    let failed: Vec<&Value> =
        events["events"].as_array().unwrap().iter().filter(|e| e["event_type"] == "controller_update_failed").collect();
    assert_eq!(failed.len(), 1, "{events}");
    assert_eq!(failed[0]["source"], "hub");
    assert!(failed[0]["message"].as_str().unwrap().contains("update to 1.8.4 did not arrive"), "{}", failed[0]);
    let audited = audit_summaries(&hub, "controller_update").await;
    assert!(audited.iter().any(|s| s.contains("update to 2.0.0 failed")), "{audited:?}");
    assert!(audited.iter().any(|s| s.contains("update to 1.9.0 requested")), "{audited:?}");
    hub.stop().await;
}

/// The update job run at a chosen time.
struct ControllerUpdatesAt(DateTime<Utc>);

impl ControllerUpdatesAt {
    async fn run(&self, state: &hub_api::state::AppState) -> String {
        hub_api::jobs::ControllerUpdates.run_once(state, self.0).await.unwrap()
    }
}

#[tokio::test]
async fn a_changed_controller_address_waits_for_the_operator() {
    let mut hub = signed_in().await;
    let key = hub.create_config(ID).await["api_key"].as_str().unwrap().to_string();
    let config_path = format!("/api/v1/configs/{ID}");
    let accept_path = format!("/api/v1/configs/{ID}/controller-address/accept");

    // Never reported: no address to call.
    let (status, body) = send(&hub, Method::GET, &format!("{config_path}/diff"), None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("no_controller_address")), "{body}");
    let (status, _) = send(&hub, Method::POST, &accept_path, None).await;
    assert_eq!(status, 404);

    let mut first = report(ID);
    first["controller_url"] = json!("http://10.0.0.5:8090");
    assert_eq!(hub.post_report(&key, &first).await.status(), 200);
    let view = hub.get_json(&config_path, 200).await;
    assert_eq!(view["controller_address"], json!({"accepted": "http://10.0.0.5:8090", "pending": null}));
    let (status, _) = send(&hub, Method::POST, &accept_path, None).await;
    assert_eq!(status, 409, "nothing to accept");

    // A later report moves elsewhere: shown, not used.
    let mut moved = report(ID);
    moved["controller_url"] = json!("https://evil.example:8090");
    moved["reported_at"] = json!(Utc::now().to_rfc3339());
    assert_eq!(hub.post_report(&key, &moved).await.status(), 200);
    let view = hub.get_json(&config_path, 200).await;
    let both = json!({"accepted": "http://10.0.0.5:8090", "pending": "https://evil.example:8090"});
    assert_eq!(view["controller_address"], both);
    for (method, action) in [(Method::GET, "diff"), (Method::POST, "push"), (Method::POST, "pull")] {
        let (status, body) = send(&hub, method, &format!("{config_path}/{action}"), None).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("controller_address_pending")), "{action}: {body}");
    }
    let listed = hub.get_json("/api/v1/configs", 200).await;
    assert_eq!(listed["configs"][0]["controller_address"], both, "the list shows it too");

    // The operator accepts (with CSRF only), audited with both addresses.
    assert_eq!(hub.client.post(hub.url(&accept_path)).send().await.unwrap().status(), 403);
    let (status, accepted) = send(&hub, Method::POST, &accept_path, None).await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted, json!({"accepted": "https://evil.example:8090", "pending": null}));
    let audited = audit_summaries(&hub, "accept_controller_address").await;
    assert_eq!(audited, ["controller address: http://10.0.0.5:8090 → https://evil.example:8090"]);
    let view = hub.get_json(&config_path, 200).await;
    assert_eq!(view["controller_address"]["pending"], Value::Null);
    hub.stop().await;
}

/// A report of `id` at `address`, sent now with `key`.
async fn report_at(hub: &TestHub, id: &str, key: &str, address: &str) {
    let mut body = report(id);
    body["controller_url"] = json!(address);
    body["reported_at"] = json!(Utc::now().to_rfc3339());
    assert_eq!(hub.post_report(key, &body).await.status(), 200);
}

#[tokio::test]
async fn the_global_key_cannot_choose_a_configured_customers_first_address() {
    let mut hub = signed_in().await;
    let key = hub.create_config(ID).await["api_key"].as_str().unwrap().to_string();
    let config_path = format!("/api/v1/configs/{ID}");
    let accept_path = format!("/api/v1/configs/{ID}/controller-address/accept");

    // The global key reports first: stored, but its address only waits for the operator.
    report_at(&hub, ID, REPORT_KEY, "https://evil.example:8090").await;
    let view = hub.get_json(&config_path, 200).await;
    assert_eq!(view["controller_address"], json!({"accepted": null, "pending": "https://evil.example:8090"}));
    let detail = hub.get_json(&format!("/api/v1/customers/{ID}"), 200).await;
    assert_eq!(detail["summary"]["hostname"], json!(format!("{ID}-node")), "the rest of the report is stored");
    let (status, body) = send(&hub, Method::POST, &format!("{config_path}/push"), None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("controller_address_pending")), "{body}");

    // The customer's own key reports: its address is taken.
    report_at(&hub, ID, &key, "http://10.0.0.5:8090").await;
    let view = hub.get_json(&config_path, 200).await;
    assert_eq!(view["controller_address"], json!({"accepted": "http://10.0.0.5:8090", "pending": null}));

    // A later different address, by either key, is a pending change.
    for (sender, address) in [(key.as_str(), "http://10.0.0.6:8090"), (REPORT_KEY, "https://evil.example:8090")] {
        report_at(&hub, ID, sender, address).await;
        let view = hub.get_json(&config_path, 200).await;
        assert_eq!(view["controller_address"], json!({"accepted": "http://10.0.0.5:8090", "pending": address}));
    }

    // The operator may still accept what the global key reported.
    let (status, accepted) = send(&hub, Method::POST, &accept_path, None).await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted, json!({"accepted": "https://evil.example:8090", "pending": null}));
    hub.stop().await;
}

#[tokio::test]
async fn a_report_only_customers_first_address_comes_with_the_global_key() {
    let mut hub = signed_in().await;
    report_at(&hub, "manual", REPORT_KEY, "http://10.0.0.7:8090").await;
    report_at(&hub, "manual", REPORT_KEY, "http://10.0.0.8:8090").await;
    // Its config, made from the report, calls the first address; the second waits.
    let (status, body) = send(&hub, Method::POST, "/api/v1/configs/manual/from-report", None).await;
    assert_eq!(status, 201, "{body}");
    let view = hub.get_json("/api/v1/configs/manual", 200).await;
    assert_eq!(
        view["controller_address"],
        json!({"accepted": "http://10.0.0.7:8090", "pending": "http://10.0.0.8:8090"})
    );
    hub.stop().await;
}

/// A customer whose controller is at `address` (created, one report).
async fn customer_at(hub: &TestHub, id: &str, address: &str) {
    let key = hub.create_config(id).await["api_key"].as_str().unwrap().to_string();
    let mut body = report(id);
    body["controller_url"] = json!(address);
    assert_eq!(hub.post_report(&key, &body).await.status(), 200);
}

#[tokio::test]
async fn failing_controllers_are_502s_that_say_what_failed() {
    let options = Options {
        password: true,
        tweak: Some(Box::new(|c: &mut hub_api::config::RawConfig| c.controllers.timeout = "500ms".into())),
    };
    let mut hub = spawn_hub_with(options).await;
    hub.login().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_address = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_address = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let server = MockServer::start().await;
    let standin = |prefix: &'static str, response: ResponseTemplate| {
        Mock::given(wiremock::matchers::path_regex(format!("^/{prefix}/api/.*"))).respond_with(response)
    };
    standin("erroring", ResponseTemplate::new(500).set_body_json(json!({"message": "disk full"}))).mount(&server).await;
    standin("garbage", ResponseTemplate::new(200).set_body_string("<html>proxy error</html>")).mount(&server).await;
    standin("huge", ResponseTemplate::new(200).set_body_string("x".repeat(2 * 1024 * 1024))).mount(&server).await;
    Mock::given(path("/moved/api/config"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "http://10.9.9.9/"))
        .mount(&server)
        .await;
    let cases = [
        ("refused", closed_address, "controller_unreachable", "cannot be reached"),
        ("silent", silent_address, "controller_timeout", "did not answer within 0.5 s"),
        ("erroring", format!("{}/erroring", server.uri()), "controller_error", "HTTP 500: disk full"),
        ("garbage", format!("{}/garbage", server.uri()), "controller_bad_answer", "not a map"),
        ("huge", format!("{}/huge", server.uri()), "controller_bad_answer", "larger than 1048576 bytes"),
        ("moved", format!("{}/moved", server.uri()), "controller_error", "redirect to http://10.9.9.9/"),
    ];
    for (id, address, code, says) in &cases {
        customer_at(&hub, id, address).await;
        let (status, body) = send(&hub, Method::GET, &format!("/api/v1/configs/{id}/diff"), None).await;
        assert_eq!((status, body["code"].as_str()), (502, Some(*code)), "{id}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{id}: {body}");
    }
    for id in ["refused", "silent", "erroring"] {
        for action in ["push", "pull", "update"] {
            let path = format!("/api/v1/configs/{id}/{action}");
            let (status, body) = send(&hub, Method::POST, &path, Some(json!({"version": "1.9.0"}))).await;
            assert_eq!(status, 502, "{path}: {body}");
        }
    }
    let log = hub.get_json("/api/v1/audit?customer_id=erroring", 200).await;
    let failed: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .filter(|s| s.contains("failed") && s.contains("HTTP 500: disk full"))
        .collect();
    assert_eq!(failed.len(), 4, "diff, push, pull and update audited with their failure: {log}");
    held.abort();
    hub.stop().await;
}

#[tokio::test]
async fn only_the_operator_with_csrf_acts_on_controllers() {
    let mut hub = signed_in().await;
    let key = hub.create_config("kovacs").await["api_key"].as_str().unwrap().to_string();
    let actions = [
        (Method::POST, "/api/v1/configs/kovacs/push"),
        (Method::POST, "/api/v1/configs/kovacs/pull"),
        (Method::POST, "/api/v1/configs/kovacs/update"),
        (Method::POST, "/api/v1/configs/kovacs/controller-address/accept"),
        (Method::GET, "/api/v1/configs/kovacs/diff"),
    ];
    for (method, path) in actions {
        let with = |k: &str| hub.bare(method.clone(), path).bearer_auth(k).send();
        assert_eq!(with(&key).await.unwrap().status(), 403, "{path}: the customer's key");
        assert_eq!(with(REPORT_KEY).await.unwrap().status(), 403, "{path}: the global key");
        assert_eq!(hub.bare(method.clone(), path).send().await.unwrap().status(), 401, "{path}: nothing");
        if method == Method::POST {
            let no_csrf = hub.client.post(hub.url(path)).send().await.unwrap();
            assert_eq!(no_csrf.status(), 403, "{path}: the session without its CSRF token");
        }
    }
    assert!(audit_summaries_of(&hub, "kovacs").await.iter().all(|a| a == "create"), "nothing was done");
    hub.stop().await;
}

async fn audit_summaries_of(hub: &TestHub, id: &str) -> Vec<String> {
    let log = hub.get_json(&format!("/api/v1/audit?customer_id={id}"), 200).await;
    log["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}
