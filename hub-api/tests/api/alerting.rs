//! Alerting an operator can live with, against a stand-in for the email API: maintenance windows
//! (API and holding), dependency suppression, a storm of 300 of 1,000 nodes, flapping, open
//! alerts with reminders and acknowledgements. Jobs and the dispatcher run with chosen `now`s.

use chrono::{DateTime, TimeDelta, Utc};
use hub_api::jobs::{AlertReminders, Job, Staleness};
use hub_api::state::AppState;
use hub_shared::event::EventType;
use hub_shared::notification::Preferences;
use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::events::{event, post_event};
use crate::helpers::*;

const KEY: &str = "kovacs-key-0123456789abcdef";
const OPERATOR: &str = "ops@felhom.eu";
const MIN: i64 = 60_000;

/// A signed-in hub whose email API is `mail`, with customer `kovacs` (key [`KEY`]).
async fn hub_with_mail(mail: &MockServer) -> TestHub {
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "email-1"})))
        .mount(mail)
        .await;
    let uri = mail.uri();
    let mut hub = spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.notifications.resend_base_url = uri;
            raw.notifications.resend_api_key = "re_test_key".to_string().into();
            raw.notifications.operator_email = OPERATOR.into();
            // One scheduler tick at the start, then none: the test dispatches alone (below).
            raw.scheduler.tick = "1h".into();
            raw.scheduler.lease_ttl = "3h".into();
        })),
    })
    .await;
    // The hub's own dispatcher would take claims that look abandoned at the test's `now`s.
    let state = state(&hub);
    while !state.leads() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    state.set_leads(false);
    add_customer(&hub, "kovacs", KEY, "active").await;
    hub.login().await;
    hub
}

fn state(hub: &TestHub) -> AppState {
    hub.hub.as_ref().expect("running").state.clone()
}

/// Dispatches every stored event at `now`.
async fn settle(state: &AppState, now: DateTime<Utc>) {
    hub_api::notify::dispatch_pending(state.store(), state.notifier(), now).await.unwrap();
    let (waiting,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE notified_at IS NULL")
        .fetch_one(state.store().pool())
        .await
        .unwrap();
    assert_eq!(waiting, 0, "every event is dispatched");
}

/// The emails sent so far: (recipients, subject).
async fn emails(mail: &MockServer) -> Vec<(String, String)> {
    let requests = mail.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| {
            let body: Value = r.body_json().unwrap();
            (body["to"][0].as_str().unwrap_or_default().to_string(), body["subject"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Reports of `ids` with their last report `age_ms` before `now` (as the staleness checker
/// reads them), written straight into the tables: a fleet in two statements per node, each
/// node's latest state with the body it came from, as the ingest writes them.
async fn reported(state: &AppState, ids: &[String], now: DateTime<Utc>, age_ms: i64) {
    let at = now.timestamp_millis() - age_ms;
    for id in ids {
        sqlx::query(
            "INSERT INTO report_latest (customer_id, health, monitoring_enabled, reported_at, received_at) \
             VALUES ($1, 'ok', 1, $2, $2) ON CONFLICT (customer_id) DO UPDATE SET received_at = $2",
        )
        .bind(id)
        .bind(at)
        .execute(state.store().pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO report_bodies (customer_id, reported_at, report_json) VALUES ($1, $2, $3) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(id)
        .bind(at)
        .bind(json!({"customer_id": id, "health": "ok"}).to_string())
        .execute(state.store().pool())
        .await
        .unwrap();
    }
}

async fn customer_wants_everything(state: &AppState, id: &str) {
    let prefs = Preferences {
        customer_id: id.into(),
        email: format!("{id}@example.hu"),
        enabled_events: EventType::ALL.to_vec(),
        cooldown_hours: 1,
        updated_at: Utc::now(),
        email_confirmed: true,
    };
    state.store().save_preferences(&prefs).await.unwrap();
    // As if its owner had followed the confirmation link: the address may be mailed.
    sqlx::query("UPDATE customer_notifications SET confirmed_email = email WHERE customer_id = $1")
        .bind(id)
        .execute(state.store().pool())
        .await
        .unwrap();
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:04}")).collect()
}

async fn log_of(hub: &TestHub, customer: &str) -> Vec<(String, String, String, String)> {
    let page = hub.get_json(&format!("/api/v1/customers/{customer}/notifications?limit=500"), 200).await;
    let mut rows: Vec<_> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("event_type"), s("channel"), s("outcome"), s("reason"))
        })
        .collect();
    rows.reverse();
    rows
}

fn row(t: &str, channel: &str, outcome: &str, reason: &str) -> (String, String, String, String) {
    (t.into(), channel.into(), outcome.into(), reason.into())
}

fn once(customer_id: Option<&str>, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    json!({"customer_id": customer_id, "recurrence": "once", "starts_at": from, "ends_at": to, "reason": "disk swap"})
}

#[tokio::test]
async fn maintenance_windows_are_the_operators_checked_and_audited() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let now = Utc::now();
    let body = once(Some("kovacs"), now - TimeDelta::hours(1), now + TimeDelta::hours(1));
    // Wrong keys and no CSRF token are refused before anything is read.
    for (req, status) in [
        (hub.bare(Method::GET, "/api/v1/maintenance"), 401),
        (hub.bare(Method::GET, "/api/v1/maintenance").bearer_auth(REPORT_KEY), 403),
        (hub.bare(Method::GET, "/api/v1/maintenance").bearer_auth(KEY), 403),
        (hub.bare(Method::POST, "/api/v1/maintenance").bearer_auth(REPORT_KEY).json(&body), 403),
        (hub.bare(Method::POST, "/api/v1/maintenance").bearer_auth(KEY).json(&body), 403),
        (hub.bare(Method::DELETE, "/api/v1/maintenance/1").bearer_auth(KEY), 403),
        (hub.bare(Method::PUT, "/api/v1/maintenance/1").bearer_auth(REPORT_KEY).json(&body), 403),
        (hub.client.post(hub.url("/api/v1/maintenance")).json(&body), 403),
    ] {
        assert_eq!(req.send().await.unwrap().status().as_u16(), status);
    }
    let res = hub.request(Method::POST, "/api/v1/maintenance").json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!((created["active"].clone(), created["customer_id"].clone()), (json!(true), json!("kovacs")));
    let id = created["id"].as_i64().unwrap();
    let weekly = json!({"recurrence": "weekly", "days": ["sat", "sun"], "start_time": "02:00", "duration_minutes": 120,
                        "reason": "patch night"});
    let res = hub.request(Method::PUT, &format!("/api/v1/maintenance/{id}")).json(&weekly).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let replaced: Value = res.json().await.unwrap();
    assert_eq!(replaced["customer_id"], Value::Null, "the whole fleet");
    assert_eq!(replaced["days"], json!(["sat", "sun"]));
    assert_eq!(hub.get_json(&format!("/api/v1/maintenance/{id}"), 200).await["recurrence"], "weekly");
    assert_eq!(hub.get_json("/api/v1/maintenance", 200).await["windows"].as_array().unwrap().len(), 1);
    // Bad input names its field.
    for (bad, field) in [
        (once(Some("kovacs"), now, now - TimeDelta::minutes(1)), "ends_at"),
        (once(Some("senki"), now, now + TimeDelta::hours(1)), "customer_id"),
        (
            json!({"recurrence": "daily", "start_time": "02:00", "duration_minutes": 0, "reason": "x"}),
            "duration_minutes",
        ),
        (
            json!({"recurrence": "weekly", "days": ["funday"], "start_time": "02:00", "duration_minutes": 5, "reason": "x"}),
            "days",
        ),
        (json!({"recurrence": "daily", "start_time": "2am", "duration_minutes": 5, "reason": "x"}), "start_time"),
    ] {
        let res = hub.request(Method::POST, "/api/v1/maintenance").json(&bad).send().await.unwrap();
        assert_eq!(res.status(), 422, "{bad}");
        let err: Value = res.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains(field), "{err}");
    }
    let res = hub.request(Method::POST, "/api/v1/maintenance").json(&json!({"recurrence": "hourly"})).send().await;
    assert_eq!(res.unwrap().status(), 422);
    assert_eq!(hub.get("/api/v1/maintenance/abc").send().await.unwrap().status(), 400);
    assert_eq!(hub.get("/api/v1/maintenance/999").send().await.unwrap().status(), 404);
    let res = hub.request(Method::DELETE, &format!("/api/v1/maintenance/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = hub.request(Method::DELETE, &format!("/api/v1/maintenance/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let audit = hub.get_json("/api/v1/audit", 200).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["delete_maintenance", "update_maintenance", "create_maintenance"]);
    hub.stop().await;
}

#[tokio::test]
async fn during_maintenance_events_are_held_and_a_node_still_down_is_told_when_it_ends() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let state = state(&hub);
    customer_wants_everything(&state, "kovacs").await;
    let now = Utc::now();
    let window = once(Some("kovacs"), now - TimeDelta::hours(1), now + TimeDelta::hours(1));
    assert_eq!(hub.request(Method::POST, "/api/v1/maintenance").json(&window).send().await.unwrap().status(), 201);
    assert_eq!(post_event(&hub, KEY, &event("kovacs", "backup_failed", "error")).await.status(), 200);
    reported(&state, &["kovacs".to_string()], now, 61 * MIN).await;
    Staleness.run_once(&state, now).await.unwrap();
    settle(&state, now).await;
    assert!(emails(&mail).await.is_empty());
    assert_eq!(
        log_of(&hub, "kovacs").await,
        [
            row("backup_failed", "operator", "skipped", "maintenance"),
            row("backup_failed", "customer", "skipped", "maintenance"),
            row("node_down", "operator", "skipped", "maintenance"),
            row("node_down", "customer", "skipped", "maintenance"),
        ]
    );
    let events = hub.get_json("/api/v1/customers/kovacs/events", 200).await;
    assert!(events["events"].as_array().unwrap().iter().all(|e| e["held"] == "maintenance"), "{events}");
    // Still inside the window: nothing is due.
    AlertReminders.run_once(&state, now + TimeDelta::minutes(30)).await.unwrap();
    assert!(emails(&mail).await.is_empty());
    // The window ended and the node is still down: its alert goes out now, once.
    let after = now + TimeDelta::minutes(61);
    AlertReminders.run_once(&state, after).await.unwrap();
    AlertReminders.run_once(&state, after + TimeDelta::minutes(1)).await.unwrap();
    let sent = emails(&mail).await;
    let subjects: Vec<&str> = sent.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(sent.len(), 4, "{subjects:?}");
    assert!(subjects.iter().filter(|s| s.contains("DOWN")).count() == 1, "{subjects:?}");
    assert!(sent.iter().any(|(to, _)| to == "kovacs@example.hu"));
    assert!(subjects.iter().any(|s| s.contains("FAILED")), "the backup failure's alert is still open too");
    hub.stop().await;
}

#[tokio::test]
async fn what_follows_from_a_down_node_is_stored_but_not_sent() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let state = state(&hub);
    // Two hours ago, so that an event posted now is after the node came back.
    let now = Utc::now() - TimeDelta::hours(2);
    reported(&state, &["kovacs".to_string()], now, 61 * MIN).await;
    Staleness.run_once(&state, now).await.unwrap();
    settle(&state, now).await;
    // While it is down: its missed backup (the hub's) and a container event (sent late) are held.
    for (t, severity) in [("container_unhealthy", "warning"), ("disk_space_critical", "error")] {
        assert_eq!(post_event(&hub, KEY, &event("kovacs", t, severity)).await.status(), 200);
    }
    settle(&state, now).await;
    let sent = emails(&mail).await;
    assert_eq!(sent.len(), 1, "only node_down: {sent:?}");
    let text = mail.received_requests().await.unwrap()[0].body_json::<Value>().unwrap()["text"].to_string();
    assert!(text.contains("stored but not mailed"), "node_down says so: {text}");
    let log = log_of(&hub, "kovacs").await;
    assert_eq!(log[2], row("container_unhealthy", "operator", "skipped", "suppressed"));
    assert_eq!(log[4], row("disk_space_critical", "operator", "skipped", "suppressed"));
    // Back again: an event about the gap is held, one after it is not.
    let back = now + TimeDelta::minutes(5);
    reported(&state, &["kovacs".to_string()], back, 0).await;
    Staleness.run_once(&state, back).await.unwrap();
    settle(&state, back).await;
    let mut during = event("kovacs", "container_restarted", "warning");
    during["occurred_at"] = json!(now - TimeDelta::minutes(30));
    assert_eq!(post_event(&hub, KEY, &during).await.status(), 200);
    settle(&state, back).await;
    assert_eq!(log_of(&hub, "kovacs").await.last().unwrap().3, "suppressed");
    assert_eq!(post_event(&hub, KEY, &event("kovacs", "container_restarted", "warning")).await.status(), 200);
    settle(&state, back).await;
    let subjects: Vec<String> = emails(&mail).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(subjects.len(), 2, "node_down and the restart after it came back: {subjects:?}");
    hub.stop().await;
}

/// `silent` of `nodes` nodes went silent 31 minutes before `now` (the stale threshold is 30).
async fn fleet(hub: &TestHub, nodes: usize, silent: usize, now: DateTime<Utc>) -> Vec<String> {
    let state = state(hub);
    let all = ids("n", nodes);
    reported(&state, &all[silent..], now, MIN).await;
    reported(&state, &all[..silent], now, 31 * MIN).await;
    for id in &all[..silent] {
        customer_wants_everything(&state, id).await;
    }
    all
}

#[tokio::test]
async fn a_storm_of_300_of_1000_nodes_is_one_email_to_the_operator_and_none_to_customers() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let state = state(&hub);
    let now = Utc::now();
    let all = fleet(&hub, 1000, 300, now).await;
    let summary = Staleness.run_once(&state, now).await.unwrap();
    assert!(summary.contains("fleet outage: 300 of 1000"), "{summary}");
    settle(&state, now).await;
    let sent = emails(&mail).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, OPERATOR);
    assert!(sent[0].1.contains("FLEET OUTAGE") && sent[0].1.contains("300 of 1000"), "{}", sent[0].1);
    assert_eq!(
        log_of(&hub, "n0000").await,
        [row("node_stale", "operator", "skipped", "storm"), row("node_stale", "customer", "skipped", "storm")]
    );
    // The next runs (some go down now) add nothing while the storm lasts.
    let later = now + TimeDelta::minutes(31);
    reported(&state, &all[300..], later, MIN).await;
    Staleness.run_once(&state, later).await.unwrap();
    settle(&state, later).await;
    AlertReminders.run_once(&state, later).await.unwrap();
    assert_eq!(emails(&mail).await.len(), 1);
    // They come back: the storm ends, and nobody hears "back again" about a silence never told.
    let back = later + TimeDelta::minutes(5);
    reported(&state, &all, back, 0).await;
    let summary = Staleness.run_once(&state, back).await.unwrap();
    assert!(summary.contains("over"), "{summary}");
    settle(&state, back).await;
    AlertReminders.run_once(&state, back).await.unwrap();
    let sent = emails(&mail).await;
    assert_eq!(sent.len(), 1, "{:?}", &sent[..sent.len().min(5)]);
    hub.stop().await;
}

#[tokio::test]
async fn nodes_dead_long_before_a_storm_do_not_keep_it_going() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let state = state(&hub);
    let now = Utc::now();
    let all = fleet(&hub, 100, 30, now).await;
    // Thirty more went down weeks ago and never came back.
    let dead = ids("dead", 30);
    let weeks_ago = now.timestamp_millis() - 21 * 24 * 60 * MIN;
    reported(&state, &dead, now, 21 * 24 * 60 * MIN).await;
    for id in &dead {
        sqlx::query(
            "INSERT INTO node_states (customer_id, state, changed_at, silent_since) VALUES ($1, 'down', $2, $2)",
        )
        .bind(id)
        .bind(weeks_ago)
        .execute(state.store().pool())
        .await
        .unwrap();
    }
    let summary = Staleness.run_once(&state, now).await.unwrap();
    assert!(summary.contains("fleet outage: 30 of 130"), "{summary}");
    settle(&state, now).await;
    // The storm's nodes come back: 30 of 130 are still silent, but none of them went with it.
    let back = now + TimeDelta::minutes(10);
    reported(&state, &all, back, 0).await;
    let summary = Staleness.run_once(&state, back).await.unwrap();
    assert!(summary.contains("over"), "{summary}");
    hub.stop().await;
}

#[tokio::test]
async fn below_the_storm_threshold_each_node_is_told_as_before() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let state = state(&hub);
    let now = Utc::now();
    fleet(&hub, 100, 20, now).await;
    let summary = Staleness.run_once(&state, now).await.unwrap();
    assert_eq!(summary, "20 transitions");
    settle(&state, now).await;
    let sent = emails(&mail).await;
    assert_eq!(sent.iter().filter(|(to, _)| to == OPERATOR).count(), 20);
    assert_eq!(sent.iter().filter(|(to, _)| to.ends_with("@example.hu")).count(), 20);
    hub.stop().await;
}

#[tokio::test]
async fn a_flapping_node_gets_one_notice_not_one_email_per_change() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let state = state(&hub);
    let start = Utc::now();
    let kovacs = ["kovacs".to_string()];
    // Silent, back, silent, back ... every five minutes: ten changes in 50 minutes.
    for i in 0..10 {
        let now = start + TimeDelta::minutes(5 * i);
        let age = if i % 2 == 0 { 31 * MIN } else { 0 };
        reported(&state, &kovacs, now, age).await;
        Staleness.run_once(&state, now).await.unwrap();
        settle(&state, now).await;
    }
    let log = log_of(&hub, "kovacs").await;
    let operator: Vec<_> = log.iter().filter(|r| r.1 == "operator").collect();
    let sent: Vec<&str> = operator.iter().filter(|r| r.2 == "sent").map(|r| r.0.as_str()).collect();
    // The first four changes by the usual rules (one node_stale email: the hour's cooldown),
    // then one notice.
    assert_eq!(sent, ["node_stale", "node_flapping"], "{log:?}");
    // The changes from the fifth on are held: three of them warnings for the operator.
    assert_eq!(operator.iter().filter(|r| r.3 == "flapping").count(), 3, "{log:?}");
    let events = hub.get_json("/api/v1/customers/kovacs/events?type=node_stale,node_recovered", 200).await;
    let held = events["events"].as_array().unwrap().iter().filter(|e| e["held"] == "flapping").count();
    assert_eq!(held, 6);
    let flapping = hub.get_json("/api/v1/customers/kovacs/events?type=node_flapping", 200).await;
    assert_eq!(flapping["events"].as_array().unwrap().len(), 1);
    hub.stop().await;
}

#[tokio::test]
async fn an_open_alert_is_reminded_until_acknowledged_and_a_new_failure_opens_a_new_one() {
    let mail = MockServer::start().await;
    let mut hub = hub_with_mail(&mail).await;
    let state = state(&hub);
    let now = Utc::now();
    let kovacs = ["kovacs".to_string()];
    reported(&state, &kovacs, now, 61 * MIN).await;
    Staleness.run_once(&state, now).await.unwrap();
    settle(&state, now).await;
    let page = hub.get_json("/api/v1/alerts", 200).await;
    let alerts = page["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{page}");
    assert_eq!((alerts[0]["kind"].clone(), alerts[0]["event_type"].clone()), (json!("node"), json!("node_down")));
    let id = alerts[0]["id"].as_i64().unwrap();
    // A day later it is still open: one reminder, then none until another day has passed.
    AlertReminders.run_once(&state, now + TimeDelta::hours(23)).await.unwrap();
    AlertReminders.run_once(&state, now + TimeDelta::hours(24)).await.unwrap();
    AlertReminders.run_once(&state, now + TimeDelta::hours(25)).await.unwrap();
    let subjects: Vec<String> = emails(&mail).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[1].contains("REMINDER"), "{subjects:?}");
    // Acknowledging: the operator only, with CSRF; the note is kept; reminders stop.
    let ack = format!("/api/v1/alerts/{id}/ack");
    let note = json!({"note": "Customer is on holiday, node off"});
    for (req, status) in [
        (hub.bare(Method::GET, "/api/v1/alerts"), 401),
        (hub.bare(Method::GET, "/api/v1/alerts").bearer_auth(KEY), 403),
        (hub.bare(Method::POST, &ack).bearer_auth(REPORT_KEY).json(&note), 403),
        (hub.bare(Method::POST, &ack).bearer_auth(KEY).json(&note), 403),
        (hub.client.post(hub.url(&ack)).json(&note), 403),
        (hub.request(Method::POST, "/api/v1/alerts/999/ack").json(&note), 404),
        (hub.request(Method::POST, "/api/v1/alerts/x/ack").json(&note), 400),
        (hub.request(Method::POST, &ack).json(&json!({"note": "x".repeat(501)})), 422),
        (hub.get("/api/v1/alerts?state=closed"), 400),
    ] {
        assert_eq!(req.send().await.unwrap().status().as_u16(), status);
    }
    let res = hub.request(Method::POST, &ack).json(&note).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let acked: Value = res.json().await.unwrap();
    assert_eq!((acked["acked_by"].clone(), acked["ack_note"].clone()), (json!("operator"), note["note"].clone()));
    assert_eq!(acked["reminders"], 1);
    assert_eq!(hub.request(Method::POST, &ack).json(&note).send().await.unwrap().status(), 409);
    AlertReminders.run_once(&state, now + TimeDelta::hours(72)).await.unwrap();
    assert_eq!(emails(&mail).await.len(), 2, "no reminder after the acknowledgement");
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs", 200).await;
    assert_eq!(audit["entries"][0]["action"], "ack_alert");
    // It recovers: resolved (the timeline keeps it); a new failure opens a new alert.
    let back = now + TimeDelta::hours(73);
    reported(&state, &kovacs, back, 0).await;
    Staleness.run_once(&state, back).await.unwrap();
    settle(&state, back).await;
    assert_eq!(hub.get_json("/api/v1/alerts", 200).await["alerts"], json!([]));
    let timeline = hub.get_json("/api/v1/alerts?customer_id=kovacs&state=all", 200).await;
    assert!(timeline["alerts"][0]["resolved_at"].is_string());
    let again = back + TimeDelta::hours(2);
    reported(&state, &kovacs, again, 61 * MIN).await;
    Staleness.run_once(&state, again).await.unwrap();
    settle(&state, again).await;
    let open = hub.get_json("/api/v1/alerts?customer_id=kovacs", 200).await;
    assert_eq!(open["alerts"].as_array().unwrap().len(), 1);
    assert_ne!(open["alerts"][0]["id"].as_i64().unwrap(), id);
    assert_eq!(open["alerts"][0]["acked_at"], Value::Null);
    // Retention: the resolved alert goes, the open one's event stays for its reminders.
    let summary = hub_api::jobs::Prune.run_once(&state, again + TimeDelta::days(91)).await.unwrap();
    assert!(summary.contains("1 resolved alerts"), "{summary}");
    let all = hub.get_json("/api/v1/alerts?customer_id=kovacs&state=all", 200).await;
    assert_eq!(all["alerts"].as_array().unwrap().len(), 1);
    let event_id = all["alerts"][0]["event_id"].as_i64().unwrap();
    assert!(state.store().event(event_id).await.unwrap().is_some(), "the open alert's event is kept");
    hub.stop().await;
}
