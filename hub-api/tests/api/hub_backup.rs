//! The hub's own backups: `backup::create` while reports flow, `restore` elsewhere, the same
//! data through the API (recovery with the passphrase included); the command line; the
//! scheduled `self_backup` job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hub_api::hub_backup::{self, KeyChoice};
use hub_api::jobs::Job;
use hub_testkit::Database;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{infra_backup, report, start, HubBuilder, TestHub, REPORT_KEY};

/// A SQLite hub (backups are SQLite's; PostgreSQL has pg_dump) with rows in every table.
async fn hub_with_every_kind_of_row() -> (TestHub, String, String) {
    let mut hub = start(HubBuilder::new().database(Database::Sqlite)).await;
    hub.login().await;
    let created = hub.create_config("kovacs").await;
    let key = created["api_key"].as_str().unwrap().to_string();
    let password = created["retrieval_password"].as_str().unwrap().to_string();
    assert_eq!(hub.post_report(&key, &report("kovacs")).await.status(), 200);
    let prefs = json!({"customer_id": "kovacs", "email": "anna@example.hu", "enabled_events": ["backup_failed"], "cooldown_hours": 6});
    let res = hub.bare(Method::POST, "/api/v1/preferences").bearer_auth(&key).json(&prefs).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // The address's confirmation email is logged in the background: wait for it, so the
    // operator's view does not change under the test.
    for _ in 0..200 {
        let log = hub.state().store().notification_log("kovacs", None, 10).await.unwrap();
        if log.iter().any(|e| e.event_type == "email_confirmation") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let event = json!({"customer_id": "kovacs", "event_type": "backup_failed", "severity": "error", "message": "restic exited 1"});
    let res = hub.bare(Method::POST, "/api/v1/event").bearer_auth(&key).json(&event).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let window = json!({"customer_id": "kovacs", "recurrence": "weekly", "days": ["sun"], "start_time": "02:00",
                        "duration_minutes": 60, "reason": "patch night"});
    assert_eq!(hub.request(Method::POST, "/api/v1/maintenance").json(&window).send().await.unwrap().status(), 201);
    let state = hub.state().clone();
    hub_api::notify::dispatch_pending(state.store(), state.notifier(), chrono::Utc::now()).await.unwrap();
    let push = infra_backup("kovacs", "restic-primary-secret");
    let res = hub.bare(Method::POST, "/api/v1/infra-backup").bearer_auth(&key).json(&push).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hub.get_with_password("/api/v1/recovery/kovacs", &password).await.status(), 200);
    assert_eq!(hub.get_with_password("/api/v1/recovery/kovacs", "alma-korte-szilva-barack").await.status(), 401);
    let now = chrono::Utc::now();
    run_job(&state, &hub_api::jobs::SessionCleanup, now).await;
    hub_api::jobs::Staleness.run_once(&state, now + chrono::Duration::hours(2)).await.unwrap();
    // The dispatcher mails the node_down in the background: wait for it, so the view compared
    // after the restore is taken once it is logged.
    for _ in 0..500 {
        let (waiting,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE notified_at IS NULL")
            .fetch_one(state.store().pool())
            .await
            .unwrap();
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    state
        .store()
        .put_template("controller.yaml.example", "customer: {}\n", "abc", now.timestamp_millis())
        .await
        .unwrap();
    // What `import-legacy` keeps of each old row it took over.
    sqlx::query(
        "INSERT INTO legacy_imports (source_table, legacy_key, target_id, imported_at) VALUES ('events', '7', 1, $1)",
    )
    .bind(now.timestamp_millis())
    .execute(state.store().pool())
    .await
    .unwrap();
    // A staged rollout with its node, and a drift check's result.
    let rollout = hub_api::store::NewRollout {
        version: "1.9.0".into(),
        wait_ms: 60_000,
        batch_size: 10,
        update_timeout_ms: 1_800_000,
        created_at: now.timestamp_millis(),
    };
    let node = hub_api::store::NewRolloutNode {
        customer_id: "kovacs".into(),
        canary: true,
        step: hub_shared::rollout::NodeStep::Pending,
        from_version: Some("1.4.2".into()),
        message: None,
    };
    let audit = hub_api::store::AuditRecord {
        at: now.timestamp_millis(),
        actor: "operator",
        action: "rollout_start",
        customer_id: None,
        summary: "to 1.9.0".into(),
        client_ip: None,
    };
    state.store().insert_rollout(&rollout, &[node], &audit).await.unwrap();
    let drift = hub_api::store::DriftRow {
        customer_id: "kovacs".into(),
        checked_at: now.timestamp_millis(),
        reachable: 1,
        keys: 2,
        message: None,
    };
    state.store().put_drift(&drift).await.unwrap();
    // A controller update the operator asked for.
    sqlx::query(
        "INSERT INTO controller_updates (customer_id, version, status, requested_at, deadline_at, actor) \
         VALUES ('kovacs', '1.9.0', 'updating', $1, $1, 'operator')",
    )
    .bind(now.timestamp_millis())
    .execute(state.store().pool())
    .await
    .unwrap();
    std::fs::create_dir_all(hub.data_dir.join("assets")).unwrap();
    std::fs::write(hub.data_dir.join("assets/nextcloud-logo.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>")
        .unwrap();
    (hub, key, password)
}

/// Claims and runs `job` as the scheduler would at `now`.
async fn run_job(state: &hub_api::state::AppState, job: &dyn Job, now: chrono::DateTime<chrono::Utc>) {
    let due = now.timestamp_millis();
    assert!(state.store().claim_run(job.name(), due, state.instance_id(), due).await.unwrap());
    hub_api::jobs::run_claimed(state, job, due, now).await;
}

/// What the operator sees of kovacs, to compare two hubs.
async fn operator_view(hub: &TestHub) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/configs",
        "/api/v1/configs/kovacs",
        "/api/v1/customers/kovacs",
        "/api/v1/customers/kovacs/events",
        "/api/v1/customers/kovacs/notifications",
        "/api/v1/customers/kovacs/preferences",
        "/api/v1/infra-backup/kovacs/versions",
        "/api/v1/audit",
    ] {
        let mut view = hub.get_json(path, 200).await;
        // The time of the answer itself.
        view.as_object_mut().unwrap().remove("generated_at");
        out.push(view);
    }
    out
}

#[tokio::test]
async fn a_backup_taken_while_reports_flow_restores_elsewhere_with_the_same_data() {
    let (mut hub, key, password) = hub_with_every_kind_of_row().await;
    let before = operator_view(&hub).await;

    // Reports keep coming while the copy is taken.
    let flowing = Arc::new(AtomicBool::new(true));
    let (client, url, keep_going) = (reqwest::Client::new(), hub.url("/api/v1/report"), flowing.clone());
    let (started, flowing_now) = tokio::sync::oneshot::channel();
    let flow = tokio::spawn(async move {
        let mut posted = 0u32;
        let mut started = Some(started);
        while keep_going.load(Ordering::Relaxed) || posted < 5 {
            let res = client.post(&url).bearer_auth(REPORT_KEY).json(&report("flow")).send().await.unwrap();
            assert_eq!(res.status(), 200);
            posted += 1;
            if posted == 3 {
                let _ = started.take().map(|s| s.send(()));
            }
        }
        posted
    });
    flowing_now.await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub-backup.tar.gz");
    let manifest =
        hub_backup::create(hub.state().config(), &file, KeyChoice::Include, chrono::Utc::now()).await.unwrap();
    flowing.store(false, Ordering::Relaxed);
    assert!(flow.await.unwrap() >= 5);
    hub.stop().await;

    assert_eq!(manifest.hub_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest.schema_version, hub_backup::known_schema_version());
    for (table, rows) in &manifest.tables {
        assert!(*rows > 0, "the backup should hold rows of every kind; {table} has none: {:?}", manifest.tables);
    }
    assert!(manifest.key_included);
    let names: Vec<&str> = manifest.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["hub.db", "encryption.key", "assets/nextcloud-logo.svg"]);

    // Elsewhere: an empty data directory, the same password, nothing else carried over.
    let target = tempfile::tempdir().unwrap();
    let data_dir = target.path().join("data");
    let db_url = format!("sqlite://{}", data_dir.join("hub.db").display());
    let restored_dir = data_dir.clone();
    let builder =
        HubBuilder::new().database(Database::Url(db_url.clone())).tweak(move |raw| raw.server.data_dir = restored_dir);
    let (raw, _) = HubBuilder::new()
        .database(Database::Url(db_url.clone()))
        .tweak({
            let d = data_dir.clone();
            move |raw| raw.server.data_dir = d
        })
        .raw_config(target.path())
        .await;
    let config = hub_api::config::Config::validate(raw).unwrap();
    let restored = hub_backup::restore(&config, &file).await.unwrap();
    assert_eq!(restored, manifest);
    assert!(hub_backup::restore(&config, &file).await.unwrap_err().to_string().contains("empty data directory"));
    assert_eq!(
        std::fs::read(data_dir.join("assets/nextcloud-logo.svg")).unwrap(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
    );

    let mut other = start(builder).await;
    other.login().await;
    assert_eq!(operator_view(&other).await, before, "the restored hub serves the same data");
    let reports: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM reports").fetch_one(other.state().store().pool()).await.unwrap();
    assert_eq!(reports.0, manifest.tables["reports"], "every report the copy held, none half-written");
    // The secrets open with the restored key: recovery with the passphrase, the customer's key.
    let res = other.get_with_password("/api/v1/recovery/kovacs", &password).await;
    assert_eq!(res.status(), 200);
    let bundle: Value = res.json().await.unwrap();
    assert_eq!(bundle["infra_backup"]["restic_passwords"]["primary"], "restic-primary-secret");
    assert!(bundle["config_yaml"].as_str().unwrap().contains(&key));
    assert_eq!(other.post_report(&key, &report("kovacs")).await.status(), 200);
}

/// Rewrites a backup's manifest with `change`, keeping its parts as they are.
fn tamper(file: &std::path::Path, change: impl Fn(&mut Value), damage_db: bool) -> std::path::PathBuf {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(file).unwrap()));
    let out_path = file.with_extension("tampered.tar.gz");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(out, flate2::Compression::fast()));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == "manifest.json" {
            let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
            change(&mut manifest);
            bytes = serde_json::to_vec(&manifest).unwrap();
        } else if name == "hub.db" && damage_db {
            let last = bytes.len() - 1;
            bytes[last] ^= 0xff;
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        builder.append_data(&mut header, &name, bytes.as_slice()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
    out_path
}

fn hub_cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_felhom-hub"));
    cmd.env("HUB_SERVER__LISTEN", "127.0.0.1:0").env_remove("HUB_SECURITY__ENCRYPTION_KEY");
    cmd
}

#[tokio::test]
async fn the_command_line_backs_up_and_restores_and_refuses_what_it_cannot_trust() {
    let (mut hub, _, password) = hub_with_every_kind_of_row().await;
    let source = hub.data_dir.clone();
    let db = hub.db_path.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.tar.gz");
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
    };
    let db_url = format!("sqlite://{}", db.display());
    let (ok, out) = run(hub_cli()
        .args(["backup", "--to"])
        .arg(&file)
        .env("HUB_SERVER__DATA_DIR", &source)
        .env("HUB_DATABASE__URL", &db_url));
    assert!(ok, "{out}");
    let (ok, out) = run(hub_cli()
        .args(["backup", "--without-key", "--to"])
        .arg(dir.path().join("nokey.tar.gz"))
        .env("HUB_SERVER__DATA_DIR", &source)
        .env("HUB_DATABASE__URL", &db_url));
    assert!(ok && out.contains("WARNING") && out.contains("does NOT contain the sealed-secrets key"), "{out}");
    hub.stop().await;

    let restore = |from: &std::path::Path, data: &std::path::Path| {
        run(hub_cli()
            .args(["restore", "--from"])
            .arg(from)
            .env("HUB_SERVER__DATA_DIR", data)
            .env_remove("HUB_DATABASE__URL"))
    };
    let newer = tamper(&file, |m| m["schema_version"] = json!(hub_backup::known_schema_version() + 1), false);
    let (ok, out) = restore(&newer, &dir.path().join("d1"));
    assert!(!ok && out.contains("newer than this hub"), "{out}");
    let damaged = tamper(&file, |_| {}, true);
    let (ok, out) = restore(&damaged, &dir.path().join("d2"));
    assert!(!ok && out.contains("hub.db in the backup is damaged"), "{out}");
    assert!(!dir.path().join("d2/hub.db").exists(), "nothing lands before everything is checked");
    let (ok, out) = restore(&dir.path().join("nokey.tar.gz"), &dir.path().join("d3"));
    assert!(!ok && out.contains("holds no key"), "{out}");
    let (ok, out) = restore(&file, &source);
    assert!(!ok && out.contains("empty data directory"), "{out}");

    let target = dir.path().join("d4");
    let (ok, out) = restore(&file, &target);
    assert!(ok, "{out}");
    let other = start(
        HubBuilder::new()
            .database(Database::Url(format!("sqlite://{}", target.join("hub.db").display())))
            .tweak(move |raw| raw.server.data_dir = target),
    )
    .await;
    assert_eq!(other.get_with_password("/api/v1/recovery/kovacs", &password).await.status(), 200);
}

#[tokio::test]
async fn the_self_backup_job_writes_prunes_and_reports_failure_to_the_operator() {
    let backups = tempfile::tempdir().unwrap();
    let dir = backups.path().to_path_buf();
    let mut hub = start(HubBuilder::new().database(Database::Sqlite).tweak(move |raw| {
        raw.backup.schedule = "03:00".into();
        raw.backup.dir = dir;
        raw.backup.keep = 2;
    }))
    .await;
    hub.login().await;
    let jobs = hub.get_json("/api/v1/jobs", 200).await;
    let job = jobs["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "self_backup").cloned().unwrap();
    assert!(job["schedule"].as_str().unwrap().starts_with("daily at 03:00"), "{job}");
    let state = hub.state().clone();
    let t0 = chrono::Utc::now();
    for day in 0..3 {
        let now = t0 + chrono::Duration::days(day);
        run_job(&state, &hub_api::jobs::SelfBackup, now).await;
    }
    let mut files: Vec<String> =
        std::fs::read_dir(backups.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    files.sort();
    let expected: Vec<String> = (1..3)
        .map(|d| format!("felhom-hub-{}.tar.gz", (t0 + chrono::Duration::days(d)).format("%Y%m%dT%H%M%SZ")))
        .collect();
    assert_eq!(files, expected, "the newest two are kept");
    let jobs = hub.get_json("/api/v1/jobs", 200).await;
    let job = jobs["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "self_backup").cloned().unwrap();
    assert_eq!(job["last_run"]["ok"], true, "{job}");

    // The folder becomes a file: the next run fails, and the operator hears of it.
    drop(backups);
    let blocked = tempfile::NamedTempFile::new().unwrap();
    let failing = start(HubBuilder::new().database(Database::Sqlite).tweak({
        let path = blocked.path().to_path_buf();
        move |raw| {
            raw.backup.schedule = "6h".into();
            raw.backup.dir = path;
        }
    }))
    .await;
    let state = failing.state().clone();
    let now = chrono::Utc::now();
    assert!(hub_api::jobs::SelfBackup.run_once(&state, now).await.is_err());
    let filter = hub_api::store::EventFilter { limit: 100, ..Default::default() };
    let events = state.store().events(&filter).await.unwrap();
    let event = events.iter().find(|e| e.customer_id == "felhom-hub").expect("a hub event");
    assert_eq!(event.event_type.as_str(), "backup_failed");
    assert_eq!(event.severity.as_str(), "error");
    hub.stop().await;
}

#[tokio::test]
async fn the_self_backup_job_is_off_by_default() {
    let mut hub = start(HubBuilder::new()).await;
    hub.login().await;
    let jobs = hub.get_json("/api/v1/jobs", 200).await;
    let job = jobs["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "self_backup").cloned().unwrap();
    assert_eq!(job["schedule"], "off");
    assert!(job["next_due_at"].is_null(), "a job that is off is never due: {job}");
    assert!(!hub_api::jobs::SelfBackup.enabled(hub.state()));
}

#[tokio::test]
async fn no_backup_with_the_key_is_taken_during_a_key_rotation() {
    let hub = start(HubBuilder::new().database(Database::Sqlite).tweak(|raw| {
        raw.security.encryption_key = crate::helpers::SHARED_ENCRYPTION_KEY.into();
        raw.security.new_encryption_key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=".into();
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.tar.gz");
    let err =
        hub_backup::create(hub.state().config(), &file, KeyChoice::Include, chrono::Utc::now()).await.unwrap_err();
    assert!(err.to_string().contains("key rotation is under way"), "{err}");
    assert!(!file.exists());
    let without = hub_backup::create(hub.state().config(), &file, KeyChoice::Leave, chrono::Utc::now()).await.unwrap();
    assert!(!without.key_included);
}
