//! The store against a real SQLite file: typed values round-trip, and a row written wrong with
//! raw SQL is a `Corrupt` error naming its table and key, never a default.

use hub_shared::config::ConfigStatus;
use hub_shared::event::{EventType, Severity};
use hub_shared::notification::{Channel, Outcome, Preferences};

use super::*;
use crate::config::SqliteSync;

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = Store::connect_url(&url, 2, SqliteSync::Normal).await.unwrap();
    (dir, store)
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap();
}

fn audit() -> AuditRecord {
    AuditRecord {
        at: 1_700_000_000_000,
        actor: "operator",
        action: "update",
        customer_id: Some("kovacs".into()),
        summary: "test".into(),
        client_ip: None,
    }
}

fn write(status: ConfigStatus) -> ConfigWrite {
    let mut overrides = ConfigOverrides::default();
    overrides.identity.hostname = "kovacs-nas".into();
    ConfigWrite {
        customer_id: "kovacs".into(),
        display_name: "Kovács".into(),
        domain: "kovacs.felhom.eu".into(),
        contact_email: "kovacs@example.hu".into(),
        status,
        overrides,
        infra_tokens_enc: String::new(),
    }
}

fn report(customer_id: &str) -> ReportRow {
    ReportRow {
        customer_id: customer_id.into(),
        hostname: None,
        controller_version: None,
        controller_url: None,
        health: "ok",
        monitoring_enabled: true,
        reported_at: 1,
        received_at: 1,
        cpu_percent: None,
        memory_percent: None,
        disk_percent: None,
        containers_running: None,
        containers_total: None,
        last_backup_at: None,
        last_backup_ok: None,
        report_json: "{}".into(),
        own_key: true,
    }
}

/// Asserts a `Corrupt` error of `table` and `key` whose text names `column`.
fn assert_corrupt<T: std::fmt::Debug>(result: Result<T>, table: &str, key: &str, column: &str) {
    match result {
        Err(StoreError::Corrupt { table: t, key: k, what }) => {
            assert_eq!((t, k.as_str()), (table, key), "{what}");
            assert!(what.contains(column), "{what:?} names {column}");
        }
        other => panic!("expected a corrupt {table} row {key}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_config_round_trips_typed() {
    let (_dir, store) = open().await;
    store
        .create_config(&write(ConfigStatus::Blocked), &SecretsRow::default(), 1_700_000_000_000, &audit())
        .await
        .unwrap();
    let row = store.config("kovacs").await.unwrap().unwrap();
    assert_eq!(row.status, ConfigStatus::Blocked);
    assert!(row.blocked());
    assert_eq!(row.overrides, write(ConfigStatus::Blocked).overrides);
    assert_eq!(row.created_at.timestamp_millis(), 1_700_000_000_000);
}

#[tokio::test]
async fn an_unreadable_status_is_corrupt_not_active() {
    let (_dir, store) = open().await;
    store.insert_config("kovacs", "Kovács", None, ConfigStatus::Blocked, 0).await.unwrap();
    exec(&store, "UPDATE customer_configs SET status = 'Blocked ' WHERE customer_id = 'kovacs'").await;
    assert_corrupt(store.config("kovacs").await, "customer_configs", "kovacs", "status");
    assert_corrupt(store.configs().await, "customer_configs", "kovacs", "status");
    // The staleness checks do not take it for an active customer either.
    store.insert_reports(&[&report("kovacs")]).await.unwrap();
    assert_corrupt(store.node_candidates().await, "customer_configs", "kovacs", "status");
}

#[tokio::test]
async fn corrupt_config_json_is_corrupt_not_defaults() {
    let (_dir, store) = open().await;
    store.insert_config("kovacs", "Kovács", None, ConfigStatus::Active, 0).await.unwrap();
    // Missing sections are their defaults (an empty object is a valid config)...
    assert_eq!(store.config("kovacs").await.unwrap().unwrap().overrides, ConfigOverrides::default());
    // ...but JSON of another shape, or no JSON at all, is not.
    for bad in [r#"{"identity": "kovacs-nas"}"#, "{", ""] {
        sqlx::query("UPDATE customer_configs SET config_json = $1 WHERE customer_id = 'kovacs'")
            .bind(bad)
            .execute(store.pool())
            .await
            .unwrap();
        assert_corrupt(store.config("kovacs").await, "customer_configs", "kovacs", "config_json");
    }
}

#[tokio::test]
async fn a_time_out_of_range_is_corrupt_not_1970() {
    let (_dir, store) = open().await;
    store.insert_config("kovacs", "Kovács", None, ConfigStatus::Active, 0).await.unwrap();
    exec(&store, "UPDATE customer_configs SET updated_at = 9223372036854775807 WHERE customer_id = 'kovacs'").await;
    assert_corrupt(store.config("kovacs").await, "customer_configs", "kovacs", "updated_at");
}

fn event(severity: Severity) -> NewEvent {
    NewEvent {
        customer_id: "kovacs".into(),
        event_type: EventType::BackupFailed,
        severity,
        message: "restic failed".into(),
        details_json: "{}".into(),
        source: "controller".into(),
        occurred_at: 1_700_000_000_000,
        received_at: 1_700_000_000_000,
    }
}

#[tokio::test]
async fn an_unknown_severity_is_corrupt_not_info() {
    let (_dir, store) = open().await;
    let good = store.insert_event(&event(Severity::Error)).await.unwrap();
    let bad = store.insert_event(&event(Severity::Warning)).await.unwrap();
    exec(&store, &format!("UPDATE events SET severity = 'critical' WHERE id = {bad}")).await;
    let filter = EventFilter { limit: 10, ..EventFilter::default() };
    assert_corrupt(store.events(&filter).await, "events", &bad.to_string(), "severity");
    // The dispatcher's claim reads each event on its own: the good one still goes out.
    let claimed = store.claim_undispatched(1, 0, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let first = claimed[0].as_ref().unwrap();
    assert_eq!((first.id, first.severity, first.event_type), (good, Severity::Error, EventType::BackupFailed));
    let mut claimed = claimed.into_iter();
    claimed.next();
    assert_corrupt(claimed.next().unwrap(), "events", &bad.to_string(), "severity");
}

#[tokio::test]
async fn an_address_is_confirmed_by_its_link_once_and_pending_again_when_it_changes() {
    use crate::store::NewConfirmLink;
    let (_dir, store) = open().await;
    let mut prefs = Preferences {
        customer_id: "kovacs".into(),
        email: "kovacs@example.hu".into(),
        enabled_events: vec![EventType::BackupFailed],
        cooldown_hours: 6,
        updated_at: chrono::DateTime::from_timestamp_millis(1_700_000_000_000).unwrap(),
        email_confirmed: true,
    };
    let (saved, state) = store.save_preferences(&prefs).await.unwrap();
    assert!(!saved.email_confirmed, "the caller cannot say an address is confirmed");
    assert_eq!((state.link_sent_at, state.window_sent), (None, 0));
    let link = NewConfirmLink {
        token_hash: "hash-1",
        sent_at: 1_700_000_000_000,
        window_start: 1_700_000_000_000,
        window_sent: 1,
    };
    assert!(!store.issue_confirm_link("kovacs", state.version - 1, &link).await.unwrap(), "an older version");
    assert!(store.issue_confirm_link("kovacs", state.version, &link).await.unwrap());
    assert!(!store.issue_confirm_link("kovacs", state.version, &link).await.unwrap(), "the version moved on");
    // Posting the same address again keeps its link; the link finds its owner.
    let (_, state) = store.save_preferences(&prefs).await.unwrap();
    assert_eq!(state.link_sent_at.map(|t| t.timestamp_millis()), Some(1_700_000_000_000));
    let owner = store.confirm_link_owner("hash-1").await.unwrap().unwrap();
    assert_eq!((owner.customer_id.as_str(), owner.email.as_str()), ("kovacs", "kovacs@example.hu"));
    assert!(store.confirm_link_owner("hash-2").await.unwrap().is_none());
    assert!(store.confirm_email("kovacs", "hash-1").await.unwrap());
    assert!(!store.confirm_email("kovacs", "hash-1").await.unwrap(), "a link confirms once");
    assert!(store.confirm_link_owner("hash-1").await.unwrap().is_none());
    assert!(store.preferences("kovacs").await.unwrap().unwrap().email_confirmed);

    // A new address waits for its own confirmation, with the window kept; the confirmed one
    // back is confirmed again.
    prefs.email = "janos@example.hu".into();
    let (saved, state) = store.save_preferences(&prefs).await.unwrap();
    assert!(!saved.email_confirmed);
    assert_eq!((state.link_sent_at, state.window_sent), (None, 1));
    prefs.email = "kovacs@example.hu".into();
    assert!(store.save_preferences(&prefs).await.unwrap().0.email_confirmed);
}

#[tokio::test]
async fn preferences_and_the_log_round_trip_and_refuse_unknown_values() {
    let (_dir, store) = open().await;
    let prefs = Preferences {
        customer_id: "kovacs".into(),
        email: "kovacs@example.hu".into(),
        enabled_events: vec![EventType::BackupFailed, EventType::NodeDown],
        cooldown_hours: 6,
        updated_at: chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
        email_confirmed: false,
    };
    let (saved, _) = store.save_preferences(&prefs).await.unwrap();
    assert_eq!(saved, prefs);
    assert_eq!(store.preferences("kovacs").await.unwrap(), Some(prefs));
    exec(&store, r#"UPDATE customer_notifications SET enabled_events_json = '["backup_failed", "nope"]'"#).await;
    assert_corrupt(store.preferences("kovacs").await, "customer_notifications", "kovacs", "nope");

    let entry = NewLogEntry {
        customer_id: "kovacs",
        event_id: None,
        event_type: "backup_failed",
        channel: Channel::Customer,
        channel_name: "",
        recipient: "kovacs@example.hu",
        outcome: Outcome::Sent,
        reason: "",
        created_at: 1_700_000_000_000,
    };
    let id = store.log_notification(&entry).await.unwrap();
    let log = store.notification_log("kovacs", None, 10).await.unwrap();
    assert_eq!((log[0].channel, log[0].outcome), (Channel::Customer, Outcome::Sent));
    let sent = store.last_sent("kovacs", "backup_failed", Channel::Customer).await.unwrap();
    assert_eq!(sent.map(|t| t.timestamp_millis()), Some(1_700_000_000_000));
    exec(&store, &format!("UPDATE notification_log SET outcome = 'bounced' WHERE id = {id}")).await;
    assert_corrupt(store.notification_log("kovacs", None, 10).await, "notification_log", &id.to_string(), "outcome");
}

#[tokio::test]
async fn a_channels_deliveries_and_the_operators_emails_cool_down_apart() {
    let (_dir, store) = open().await;
    let at = |ms: i64| NewLogEntry {
        customer_id: "kovacs",
        event_id: Some(7),
        event_type: "node_down",
        channel: Channel::Operator,
        channel_name: "ops-hook",
        recipient: "hooks.example",
        outcome: Outcome::Sent,
        reason: "",
        created_at: ms,
    };
    store.log_notification(&at(1_000)).await.unwrap();
    assert_eq!(store.last_sent("kovacs", "node_down", Channel::Operator).await.unwrap(), None, "not an email");
    let on = store.last_sent_on("kovacs", "node_down", "ops-hook").await.unwrap();
    assert_eq!(on.map(|t| t.timestamp_millis()), Some(1_000));
    assert_eq!(store.last_sent_on("kovacs", "node_down", "phone").await.unwrap(), None, "another channel");
    store.log_notification(&NewLogEntry { channel_name: "", created_at: 2_000, ..at(0) }).await.unwrap();
    let email = store.last_sent("kovacs", "node_down", Channel::Operator).await.unwrap();
    assert_eq!(email.map(|t| t.timestamp_millis()), Some(2_000));
    let log = store.notification_log("kovacs", None, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.channel_name.as_str()).collect::<Vec<_>>(), ["", "ops-hook"]);
}

#[tokio::test]
async fn duplicates_conflict_and_missing_rows_are_not_found() {
    let (_dir, store) = open().await;
    let (config, secrets) = (write(ConfigStatus::Active), SecretsRow::default());
    store.create_config(&config, &secrets, 0, &audit()).await.unwrap();
    match store.create_config(&config, &secrets, 0, &audit()).await {
        Err(StoreError::Conflict(m)) => assert_eq!(m, r#"a config for customer "kovacs" already exists"#),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let missing = ConfigWrite { customer_id: "nagy".into(), ..config };
    assert!(matches!(store.update_config(&missing, 0, &audit()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.set_config_status("nagy", ConfigStatus::Blocked, 0, &audit()).await,
        Err(StoreError::NotFound(_))
    ));
    // Nothing was audited for the changes that did not happen.
    assert_eq!(store.audit_log(None, None, 10).await.unwrap().len(), 1);
}

/// The reports of two stores, written one by one and as one batch, end the same: the newest
/// report of each customer is its latest (the last of equals), every arrival counts, and a
/// re-sent report replaces its history row.
#[tokio::test]
async fn a_batch_writes_what_its_reports_would_one_by_one() {
    let at = |customer: &str, reported_at: i64, received_at: i64, cpu: f64| ReportRow {
        reported_at,
        received_at,
        cpu_percent: Some(cpu),
        report_json: format!(r#"{{"cpu": {cpu}}}"#),
        ..report(customer)
    };
    let mut rows = vec![
        at("kovacs", 2_000, 10_000, 20.0),
        at("nagy", 5_000, 10_001, 50.0),
        at("kovacs", 1_000, 10_002, 10.0),
        at("kovacs", 2_000, 10_003, 21.0),
        at("nagy", 6_000, 10_004, 60.0),
    ];
    // Enough customers for more than one chunk of every statement.
    rows.extend((0..300).map(|i| at(&format!("c{i:03}"), 3_000 + i, 10_005, 1.0)));
    let (_one_dir, one) = open().await;
    let (_batch_dir, batch) = open().await;
    // A newer report stored before is kept, as when written one by one.
    for store in [&one, &batch] {
        store.insert_reports(&[&at("c000", 99_000, 1, 9.0)]).await.unwrap();
    }
    for row in &rows {
        one.insert_reports(&[row]).await.unwrap();
    }
    batch.insert_reports(&rows.iter().collect::<Vec<_>>()).await.unwrap();

    async fn dump(store: &Store) -> (Vec<(String, i64, i64, String)>, Vec<(String, i64, Option<i64>)>) {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT customer_id, reported_at, received_at FROM report_latest ORDER BY customer_id")
                .fetch_all(store.pool())
                .await
                .unwrap();
        let mut latest = Vec::new();
        for (id, reported_at, received_at) in rows {
            let (_, json) = store.latest_report(&id).await.unwrap().unwrap();
            latest.push((id, reported_at, received_at, json));
        }
        let history =
            sqlx::query_as("SELECT customer_id, reported_at, cpu_pm FROM reports ORDER BY customer_id, reported_at")
                .fetch_all(store.pool())
                .await
                .unwrap();
        (latest, history)
    }
    let (latest, history) = dump(&batch).await;
    assert_eq!(dump(&one).await, (latest.clone(), history.clone()));
    assert_eq!(latest[0], ("c000".to_string(), 99_000, 10_005, r#"{"cpu": 9}"#.to_string()));
    let kovacs = latest.iter().find(|l| l.0 == "kovacs").unwrap();
    assert_eq!(kovacs, &("kovacs".to_string(), 2_000, 10_003, r#"{"cpu": 21}"#.to_string()));
    let kovacs: Vec<_> = history.iter().filter(|h| h.0 == "kovacs").map(|h| (h.1, h.2)).collect();
    assert_eq!(kovacs, [(1_000, Some(100)), (2_000, Some(210))]);
    // One live-stream message per customer of the batch (and one for the report before it).
    let (messages,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stream_log").fetch_one(batch.pool()).await.unwrap();
    assert_eq!(messages, 1 + 302);
}

/// Commits leave the write-ahead log to the hub's own checkpoint (SQLite would copy it inside
/// every commit past 1,000 pages), and that checkpoint moves all of it into the database.
#[tokio::test]
async fn the_log_is_checkpointed_by_the_hub_not_inside_commits() {
    let (_dir, store) = open().await;
    let rows: Vec<ReportRow> =
        (0..1500).map(|i| ReportRow { report_json: "x".repeat(3000), ..report(&format!("c{i:04}")) }).collect();
    for chunk in rows.chunks(100) {
        store.insert_reports(&chunk.iter().collect::<Vec<_>>()).await.unwrap();
    }
    let (log, done) = store.checkpoint_wal().await.unwrap().expect("a SQLite store");
    assert!(log > 1_500, "every page written since the start is still in the log: {log} frames");
    assert_eq!(done, log, "the checkpoint moved the whole log");
    let (_, json) = store.latest_report("c0042").await.unwrap().unwrap();
    assert_eq!(json.len(), 3000);
}

#[tokio::test]
async fn every_sqlite_connection_gets_the_configured_page_cache() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = Store::connect_tuned(&url, 2, SqliteTuning { sync: SqliteSync::Full, cache_kib: 256 }).await.unwrap();
    // Two connections at once, so both pooled connections are asked.
    let mut a = store.pool().acquire().await.unwrap();
    let mut b = store.pool().acquire().await.unwrap();
    for conn in [&mut a, &mut b] {
        let (size,): (i64,) = sqlx::query_as("PRAGMA cache_size").fetch_one(&mut **conn).await.unwrap();
        assert_eq!(size, -256, "a negative cache_size is KiB");
    }
}
