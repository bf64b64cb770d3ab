//! PostgreSQL behind the same store: the two migration folders mean the same schema, data moves
//! between the databases, and two hubs on one PostgreSQL behave as one (the scheduler's leader
//! fails over). These tests need `HUB_TEST_POSTGRES_URL` (set by `cargo xtask test`, which starts
//! a private cluster); without it they say so and pass nothing else.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hub_api::config::SqliteSync;
use hub_api::migrate_data::{columns, migrate_data, tables};
use hub_api::store::Store;
use serde_json::Value;

use crate::helpers::*;

async fn schema(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for table in tables(store).await.unwrap() {
        let mut cols = columns(store, &table).await.unwrap();
        cols.sort();
        out.insert(table, cols);
    }
    out
}

#[tokio::test]
async fn both_migration_folders_give_the_same_tables_and_columns() {
    if hub_testkit::postgres_admin_url("both_migration_folders_give_the_same_tables_and_columns").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite =
        Store::connect_url(&format!("sqlite://{}/s.db", dir.path().display()), 1, SqliteSync::Full).await.unwrap();
    let (pg_url, _) = fresh_database_url(dir.path()).await;
    let pg = Store::connect_url(&pg_url, 1, SqliteSync::Full).await.unwrap();
    let (s, p) = (schema(&sqlite).await, schema(&pg).await);
    assert!(s.contains_key("reports") && s.contains_key("customer_configs"));
    assert_eq!(s, p, "migrations/sqlite and migrations/postgres disagree");
}

#[tokio::test]
async fn data_moves_from_sqlite_to_postgres_and_back() {
    if hub_testkit::postgres_admin_url("data_moves_from_sqlite_to_postgres_and_back").is_none() {
        return;
    }
    // This hub is the SQLite source even in the PostgreSQL run.
    let mut hub = start(
        HubBuilder::new()
            .database(hub_testkit::Database::Sqlite)
            .tweak(|raw| raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into()),
    )
    .await;
    add_customer(&hub, "kovacs", "fh_kovacs_migrate_key_0123456789abcdef", "active").await;
    let now = chrono::Utc::now();
    for h in 0..30 {
        let mut body = report(if h % 2 == 0 { "kovacs" } else { "nagy" });
        body["reported_at"] = serde_json::json!((now - chrono::Duration::hours(h)).to_rfc3339());
        assert_eq!(hub.post_report(REPORT_KEY, &body).await.status(), 200);
    }
    hub.login().await;
    let before = hub.get_json("/api/v1/customers", 200).await;
    let history_before = hub.get_json("/api/v1/customers/kovacs/history?period=7d", 200).await;
    let src = format!("sqlite://{}", hub.db_path.clone().expect("a SQLite hub").display());
    hub.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let (pg_url, _) = fresh_database_url(dir.path()).await;
    let copied = migrate_data(&src, &pg_url).await.unwrap();
    let reports = copied.tables.iter().find(|(t, _)| t == "reports").unwrap().1;
    assert_eq!(reports, 30);
    // A second copy into the now full database is refused and changes nothing.
    let err = migrate_data(&src, &pg_url).await.unwrap_err().to_string();
    assert!(err.contains("empty database"), "{err}");

    let back = format!("sqlite://{}/back.db", dir.path().display());
    migrate_data(&pg_url, &back).await.unwrap();

    for url in [pg_url.clone(), back] {
        let mut moved = start(
            HubBuilder::new()
                .database(hub_testkit::Database::Url(url))
                .tweak(|raw| raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into()),
        )
        .await;
        moved.login().await;
        let after = moved.get_json("/api/v1/customers", 200).await;
        assert_eq!(strip_times(&after), strip_times(&before));
        let history = moved.get_json("/api/v1/customers/kovacs/history?period=7d", 200).await;
        assert_eq!(history, history_before);
        // New rows get fresh ids after the copied ones (sequences were moved on).
        assert_eq!(moved.post_report(REPORT_KEY, &report("new")).await.status(), 200);
        moved.stop().await;
    }
}

fn strip_times(list: &Value) -> Value {
    let mut list = list.clone();
    list.as_object_mut().unwrap().remove("generated_at");
    list
}

/// A `felhom-hub serve` process on the given database.
struct HubProcess {
    child: Child,
    base: String,
    instance: String,
}

impl HubProcess {
    async fn start(db_url: &str, data_dir: &std::path::Path, email_api: &str) -> HubProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_felhom-hub"))
            .arg("serve")
            .env("HUB_ALERTING__STALE_THRESHOLD", "1m")
            .env("HUB_ALERTING__CHECK_INTERVAL", "1s")
            .env("HUB_NOTIFICATIONS__RESEND_BASE_URL", email_api)
            .env("HUB_NOTIFICATIONS__RESEND_API_KEY", "re_test_key")
            .env("HUB_NOTIFICATIONS__OPERATOR_EMAIL", "operator@felhom.test")
            .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
            .env("HUB_SERVER__DATA_DIR", data_dir)
            .env("HUB_DATABASE__URL", db_url)
            .env("HUB_API__REPORT_API_KEY", REPORT_KEY)
            .env("HUB_AUTH__SESSION_SECRET", "shared-by-both-replicas-and-long-enough")
            .env("HUB_SECURITY__ENCRYPTION_KEY", SHARED_ENCRYPTION_KEY)
            .env("HUB_SCHEDULER__LEASE_TTL", "3s")
            .env("HUB_SCHEDULER__TICK", "500ms")
            // The replicas' own scheduler is what this test watches, with only these jobs.
            .env(
                "HUB_SCHEDULER__DISABLED_JOBS",
                format!("[{}]", hub_testkit::jobs_except(&["session_cleanup", "staleness"]).join(",")),
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start felhom-hub");
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        assert!(line.contains("listening on http://"), "felhom-hub did not start: {line:?}");
        let base = line.trim().rsplit(' ').next().unwrap().to_string();
        let health: Value = reqwest::get(format!("{base}/healthz")).await.unwrap().json().await.unwrap();
        HubProcess { child, base, instance: health["instance"].as_str().unwrap().to_string() }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn lease_holder(store: &Store) -> Option<String> {
    sqlx::query_as::<_, (String, i64)>("SELECT holder, expires_at FROM leases WHERE name = 'scheduler'")
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .filter(|(_, exp)| *exp > chrono::Utc::now().timestamp_millis())
        .map(|(h, _)| h)
}

async fn wait_for<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn two_hubs_on_one_postgres_act_as_one_and_fail_over() {
    if hub_testkit::postgres_admin_url("two_hubs_on_one_postgres_act_as_one_and_fail_over").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db_url, _) = fresh_database_url(dir.path()).await;
    let email_api = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "e1"})))
        .mount(&email_api)
        .await;
    let a = HubProcess::start(&db_url, &dir.path().join("a"), &email_api.uri()).await;
    let b = HubProcess::start(&db_url, &dir.path().join("b"), &email_api.uri()).await;
    let store = Store::connect_url(&db_url, 1, SqliteSync::Full).await.unwrap();

    // A report through one replica is seen by the other, whose fleet list (a snapshot in
    // memory) notices it by the database's change marker within a second.
    let client = reqwest::Client::new();
    let list_on_b = || async {
        let list: Value = client
            .get(format!("{}/api/v1/customers", b.base))
            .bearer_auth(REPORT_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list
    };
    assert_eq!(list_on_b().await["customers"], serde_json::json!([]));
    let res = client
        .post(format!("{}/api/v1/report", a.base))
        .bearer_auth(REPORT_KEY)
        .json(&report("kovacs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    wait_for("the other replica's list", Duration::from_secs(15), || async {
        list_on_b().await["customers"][0]["customer_id"] == "kovacs"
    })
    .await;

    wait_for("a leader", Duration::from_secs(30), || async { lease_holder(&store).await.is_some() }).await;
    let leader = lease_holder(&store).await.unwrap();
    let (mut dead, survivor) = if leader == a.instance { (a, b) } else { (b, a) };
    assert_eq!(leader, dead.instance);
    wait_for("the leader's first runs", Duration::from_secs(30), || async {
        store.runs_of("session_cleanup", 10).await.unwrap().iter().any(|r| r.finished_at.is_some())
    })
    .await;

    // Kill the leader without letting it release its lease.
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    wait_for("the other replica to lead", Duration::from_secs(60), || async {
        lease_holder(&store).await.as_deref() == Some(survivor.instance.as_str())
    })
    .await;

    // Each due time ran once, by the replica that claimed it; the survivor did not repeat it.
    let runs = store.runs_of("session_cleanup", 100).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].holder, dead.instance);
    let health = client.get(format!("{}/healthz", survivor.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // The node goes silent while the old leader is gone: its last report is now 90 s old, past
    // the 1 min threshold. The survivor alone raises node_stale, once, and emails it once.
    let ninety_s_ago = chrono::Utc::now().timestamp_millis() - 90_000;
    sqlx::query("UPDATE report_latest SET received_at = $1 WHERE customer_id = 'kovacs'")
        .bind(ninety_s_ago)
        .execute(store.pool())
        .await
        .unwrap();
    let stale_events = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE event_type = 'node_stale'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        n
    };
    wait_for("node_stale", Duration::from_secs(60), || async { stale_events().await >= 1 }).await;
    wait_for("the email", Duration::from_secs(60), || async {
        !email_api.received_requests().await.unwrap_or_default().is_empty()
    })
    .await;
    // Several more checker runs (and the dispatcher polls between them) pass without repeating
    // anything.
    let checked = store.runs_of("staleness", 1000).await.unwrap().len();
    wait_for("three more checker runs", Duration::from_secs(60), || async {
        store.runs_of("staleness", 1000).await.unwrap().len() >= checked + 3
    })
    .await;
    assert_eq!(stale_events().await, 1);
    let emails = email_api.received_requests().await.unwrap();
    assert_eq!(emails.len(), 1, "exactly one email");
    let body: Value = serde_json::from_slice(&emails[0].body).unwrap();
    assert!(body["subject"].as_str().unwrap().contains("kovacs"), "{body}");
    let runs = store.runs_of("staleness", 1000).await.unwrap();
    assert!(runs.iter().any(|r| r.holder == survivor.instance), "the survivor ran the checker");
}
