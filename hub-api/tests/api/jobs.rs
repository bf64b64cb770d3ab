//! Background jobs called with a chosen `now`: the staleness checker (with a restart in the
//! middle), the backup deadline checker on ordinary and DST days, prune, and `GET /api/v1/jobs`.

use chrono::{DateTime, Utc};
use hub_api::jobs::{self, BackupDeadline, Job, Prune, Staleness};
use hub_api::store::{NewEvent, NewLogEntry};
use hub_shared::{EventType, Severity};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const MIN: i64 = 60_000;

fn state(hub: &TestHub) -> &hub_api::state::AppState {
    &hub.hub.as_ref().expect("running").state
}

/// Makes `customer_id`'s last report `age_ms` old.
async fn age_report(hub: &TestHub, customer_id: &str, age_ms: i64) {
    let at = Utc::now().timestamp_millis() - age_ms;
    sqlx::query("UPDATE report_latest SET received_at = $1 WHERE customer_id = $2")
        .bind(at)
        .bind(customer_id)
        .execute(state(hub).store().pool())
        .await
        .unwrap();
}

/// The hub-made event types of a customer, oldest first.
async fn hub_events(hub: &TestHub, customer_id: &str) -> Vec<String> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT event_type FROM events WHERE customer_id = $1 AND source = 'hub' ORDER BY id")
            .bind(customer_id)
            .fetch_all(state(hub).store().pool())
            .await
            .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

async fn spawn_on(url: &str) -> TestHub {
    let url = url.to_string();
    spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(move |raw| {
            raw.database.url = url.into();
            raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into();
        })),
    })
    .await
}

#[tokio::test]
async fn staleness_makes_one_event_per_transition_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_database_url(dir.path()).await;
    let mut hub = spawn_on(&url).await;
    // Configs first: the hub's own scheduler may run the checker at any moment.
    add_customer(&hub, "blocked", "blocked-key-0123456789abcdef", "blocked").await;
    add_customer(&hub, "silent", "silent-key-0123456789abcdef", "active").await;
    for id in ["kovacs", "paused", "blocked"] {
        let mut body = report(id);
        body["monitoring_enabled"] = json!(id != "paused");
        assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
        age_report(&hub, id, 31 * MIN).await;
    }

    Staleness.run_once(state(&hub), Utc::now()).await.unwrap();
    Staleness.run_once(state(&hub), Utc::now()).await.unwrap();
    assert_eq!(hub_events(&hub, "kovacs").await, ["node_stale"]);
    hub.stop().await;

    // A new hub process on the same database does not repeat the event.
    let mut hub = spawn_on(&url).await;
    Staleness.run_once(state(&hub), Utc::now()).await.unwrap();
    assert_eq!(hub_events(&hub, "kovacs").await, ["node_stale"]);

    age_report(&hub, "kovacs", 61 * MIN).await;
    Staleness.run_once(state(&hub), Utc::now()).await.unwrap();
    Staleness.run_once(state(&hub), Utc::now()).await.unwrap();
    assert_eq!(hub_events(&hub, "kovacs").await, ["node_stale", "node_down"]);

    assert_eq!(hub.post_report(REPORT_KEY, &report("kovacs")).await.status(), 200);
    Staleness.run_once(state(&hub), Utc::now()).await.unwrap();
    Staleness.run_once(state(&hub), Utc::now()).await.unwrap();
    assert_eq!(hub_events(&hub, "kovacs").await, ["node_stale", "node_down", "node_recovered"]);

    for skipped in ["paused", "blocked", "silent"] {
        assert!(hub_events(&hub, skipped).await.is_empty(), "{skipped}");
    }
    hub.login().await;
    let page = hub.get_json("/api/v1/customers/kovacs/events?type=node_down", 200).await;
    assert_eq!(page["events"][0]["severity"], "error");
    assert_eq!(page["events"][0]["source"], "hub");
    hub.stop().await;
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn add_event(hub: &TestHub, customer_id: &str, event_type: EventType, at: &str) {
    let at = utc(at).timestamp_millis();
    let event = NewEvent {
        customer_id: customer_id.into(),
        event_type,
        severity: Severity::Info,
        message: String::new(),
        details_json: "{}".into(),
        source: "controller".into(),
        occurred_at: at,
        received_at: at,
    };
    state(hub).store().insert_event(&event).await.unwrap();
}

#[tokio::test]
async fn the_deadline_checker_counts_from_local_midnight_on_ordinary_and_dst_days() {
    let mut hub = spawn_hub().await;
    for id in ["done", "late", "paused", "blocked"] {
        let mut body = report(id);
        body["monitoring_enabled"] = json!(id != "paused");
        assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
    }
    add_customer(&hub, "blocked", "blocked-key-0123456789abcdef", "blocked").await;
    // (05:00 local as UTC, 00:30 local that day as UTC, 23:30 local the day before as UTC)
    let days = [
        ("2026-01-15T04:00:00Z", "2026-01-14T23:30:00Z", "2026-01-14T22:30:00Z"), // CET
        ("2026-03-29T03:00:00Z", "2026-03-28T23:30:00Z", "2026-03-28T22:30:00Z"), // spring forward
        ("2026-10-25T04:00:00Z", "2026-10-24T22:30:00Z", "2026-10-24T21:30:00Z"), // fall back
    ];
    for (now, after_midnight, before_midnight) in days {
        add_event(&hub, "done", EventType::BackupCompleted, after_midnight).await;
        add_event(&hub, "done", EventType::DbdumpCompleted, after_midnight).await;
        add_event(&hub, "late", EventType::BackupCompleted, before_midnight).await;
        add_event(&hub, "late", EventType::DbdumpCompleted, after_midnight).await;
        BackupDeadline.run_once(state(&hub), utc(now)).await.unwrap();
        // A second run the same morning adds nothing.
        BackupDeadline.run_once(state(&hub), utc(now)).await.unwrap();
    }
    assert!(hub_events(&hub, "done").await.is_empty());
    assert_eq!(hub_events(&hub, "late").await, ["expected_backup_missed"; 3]);
    assert!(hub_events(&hub, "paused").await.is_empty());
    assert!(hub_events(&hub, "blocked").await.is_empty());
    hub.stop().await;
}

#[tokio::test]
async fn the_deadline_checker_leaves_silent_nodes_to_the_dead_mans_switch() {
    let mut hub = spawn_hub().await;
    assert_eq!(hub.post_report(REPORT_KEY, &report("silent")).await.status(), 200);
    // Three days after its last report the node is down: no daily missed-backup events for it.
    let later = chrono::Utc::now() + chrono::Duration::days(3);
    BackupDeadline.run_once(state(&hub), later).await.unwrap();
    assert!(hub_events(&hub, "silent").await.is_empty());
    // The morning after a report it is checked as usual.
    let next_morning = chrono::Utc::now() + chrono::Duration::minutes(40);
    BackupDeadline.run_once(state(&hub), next_morning).await.unwrap();
    assert_eq!(hub_events(&hub, "silent").await, ["expected_backup_missed", "expected_dbdump_missed"]);
    hub.stop().await;
}

#[tokio::test]
async fn prune_deletes_what_is_older_than_the_retention() {
    let mut hub =
        spawn_hub_with(Options { password: true, tweak: Some(Box::new(|raw| raw.retention.max_days = 30)) }).await;
    let now = Utc::now();
    for days in [40, 31, 29, 1] {
        let mut body = report("kovacs");
        body["reported_at"] = json!((now - chrono::Duration::days(days)).to_rfc3339());
        assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
        let at = (now - chrono::Duration::days(days)).timestamp_millis();
        let event = NewEvent {
            customer_id: "kovacs".into(),
            event_type: EventType::AppUpdated,
            severity: Severity::Info,
            message: format!("{days} days ago"),
            details_json: "{}".into(),
            source: "controller".into(),
            occurred_at: at,
            received_at: at,
        };
        state(&hub).store().insert_event(&event).await.unwrap();
        let entry = NewLogEntry {
            customer_id: "kovacs",
            event_id: None,
            event_type: "app_updated",
            channel: hub_shared::notification::Channel::Customer,
            channel_name: "",
            recipient: "",
            outcome: hub_shared::notification::Outcome::Skipped,
            reason: "no_address",
            created_at: at,
        };
        state(&hub).store().log_notification(&entry).await.unwrap();
    }
    let summary = Prune.run_once(state(&hub), now).await.unwrap();
    assert!(summary.contains("deleted 2 reports, 2 events, 2 notification log entries"), "{summary}");
    let pool = state(&hub).store().pool();
    for (table, expected) in [("reports", 2), ("events", 2)] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(pool).await.unwrap();
        assert_eq!(n, expected, "{table}");
    }
    // The newer log entries stay; the dispatcher may have added its own since.
    let (old,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notification_log WHERE created_at < $1")
        .bind((now - chrono::Duration::days(30)).timestamp_millis())
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(old, 0);
    hub.stop().await;
}

struct Failing;

#[async_trait::async_trait]
impl Job for Failing {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn schedule(&self, _state: &hub_api::state::AppState) -> jobs::Schedule {
        jobs::Schedule::Every(std::time::Duration::from_secs(60))
    }
    async fn run_once(&self, _state: &hub_api::state::AppState, _now: DateTime<Utc>) -> anyhow::Result<String> {
        anyhow::bail!("the disk is on fire")
    }
}

#[tokio::test]
async fn the_jobs_endpoint_shows_each_jobs_last_run() {
    let mut hub = spawn_hub().await;
    let st = state(&hub).clone();
    let now = Utc::now();
    let due = now.timestamp_millis() - 1000;
    assert!(st.store().claim_run("prune", due, "test", now.timestamp_millis()).await.unwrap());
    jobs::run_claimed(&st, &Prune, due, now).await;
    assert!(st.store().claim_run("failing", due, "test", now.timestamp_millis()).await.unwrap());
    jobs::run_claimed(&st, &Failing as &dyn Job, due, now).await;

    assert_eq!(hub.bare(Method::GET, "/api/v1/jobs").send().await.unwrap().status(), 401);
    let global = hub.bare(Method::GET, "/api/v1/jobs").bearer_auth(REPORT_KEY).send().await.unwrap();
    assert_eq!(global.status(), 403);
    hub.login().await;
    let list = hub.get_json("/api/v1/jobs", 200).await;
    let jobs = list["jobs"].as_array().unwrap();
    let names: Vec<&str> = jobs.iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "session_cleanup",
            "staleness",
            "backup_deadline",
            "prune",
            "template_refresh",
            "self_backup",
            "controller_updates",
            "registry_watch",
            "alert_reminders",
            "rollout_step",
            "heartbeat",
            "drift_check"
        ]
    );
    let job = |name: &str| jobs.iter().find(|j| j["name"] == name).unwrap().clone();
    assert_eq!(job("staleness")["schedule"], "every 1m");
    assert_eq!(job("backup_deadline")["schedule"], "daily at 05:00 Europe/Budapest");
    assert_eq!(job("prune")["schedule"], "daily at 04:30 Europe/Budapest");
    let prune: Value = job("prune")["last_run"].clone();
    assert_eq!(prune["ok"], true, "{prune}");
    assert!(prune["message"].as_str().unwrap().starts_with("deleted"));
    assert!(prune["duration_ms"].as_i64().unwrap() >= 0);
    // A failed run is recorded with its error (the store keeps it even for a job not listed).
    let failing = st.store().runs_of("failing", 1).await.unwrap();
    assert_eq!(failing[0].ok, Some(0));
    assert!(failing[0].message.contains("on fire"));
    drop(st);
    hub.stop().await;
}

#[tokio::test]
async fn prune_works_through_more_rows_than_one_batch() {
    let mut hub = spawn_hub().await;
    let pool = state(&hub).store().pool().clone();
    let rows = 2 * hub_api::jobs::prune::BATCH + 123;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO events (customer_id, event_type, severity, occurred_at, received_at, dispatched_at) \
         SELECT 'kovacs', 'app_updated', 'info', 1000 + i, 1000 + i, 0 FROM n",
    )
    .bind(rows)
    .execute(&pool)
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let summary = Prune.run_once(state(&hub), Utc::now()).await.unwrap();
    eprintln!("pruned {rows} events in {:?}", started.elapsed());
    assert!(summary.contains(&format!("{rows} events")), "{summary}");
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events").fetch_one(&pool).await.unwrap();
    assert_eq!(left, 0);
    drop(pool);
    hub.stop().await;
}
