//! Infra backups: versions (the last ten kept), scopes with real generated keys, validation and
//! the 10 MiB route limit.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn hub_with_customers() -> (TestHub, String, String) {
    let mut hub = spawn_hub().await;
    hub.login().await;
    let kovacs = hub.create_config("kovacs").await["api_key"].as_str().unwrap().to_string();
    let nagy = hub.create_config("nagy").await["api_key"].as_str().unwrap().to_string();
    (hub, kovacs, nagy)
}

async fn push(hub: &TestHub, key: &str, body: &Value) -> reqwest::Response {
    hub.bare(Method::POST, "/api/v1/infra-backup").bearer_auth(key).json(body).send().await.unwrap()
}

#[tokio::test]
async fn eleven_pushes_keep_the_last_ten() {
    let (mut hub, key, _) = hub_with_customers().await;
    for i in 1..=11 {
        let res = push(&hub, &key, &infra_backup("kovacs", &format!("pw-{i}"))).await;
        assert_eq!(res.status(), 200);
        let answer: Value = res.json().await.unwrap();
        assert_eq!(answer["version"], i);
        assert_eq!(answer["kept"], i.min(10));
    }
    let get = |path: &str| hub.bare(Method::GET, path).bearer_auth(&key).send();
    let newest: Value = get("/api/v1/infra-backup/kovacs").await.unwrap().json().await.unwrap();
    assert_eq!(newest["version"], 11);
    assert_eq!(newest["restic_passwords"]["primary"], "pw-11");
    assert_eq!(newest["disks"][0]["uuid"], "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e");
    assert_eq!(newest["disks"][0]["bind_mounts"][1]["target"], "/srv/a");
    assert_eq!(newest["stacks"][0]["app"], "immich");
    assert_eq!(newest["controller_yaml"], infra_backup("kovacs", "x")["controller_yaml"]);
    assert!(newest["size_bytes"].as_i64().unwrap() > 100);

    let older: Value = get("/api/v1/infra-backup/kovacs?version=2").await.unwrap().json().await.unwrap();
    assert_eq!(older["restic_passwords"]["primary"], "pw-2");
    let gone = get("/api/v1/infra-backup/kovacs?version=1").await.unwrap();
    assert_eq!(gone.status(), 404, "the oldest was dropped");
    assert_eq!(get("/api/v1/infra-backup/kovacs?version=x").await.unwrap().status(), 400);

    let versions: Value = get("/api/v1/infra-backup/kovacs/versions").await.unwrap().json().await.unwrap();
    let numbers: Vec<i64> =
        versions["versions"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (2..=11).rev().collect::<Vec<_>>());
    let config = hub.get_json("/api/v1/configs/kovacs", 200).await;
    assert_eq!(config["infra_backups"], 10);
    hub.stop().await;
}

#[tokio::test]
async fn scopes_with_real_keys() {
    let (mut hub, kovacs, nagy) = hub_with_customers().await;
    let body = infra_backup("kovacs", "pw");
    assert_eq!(push(&hub, &nagy, &body).await.status(), 403, "another customer's key");
    assert_eq!(push(&hub, "fh_not-a-real-key", &body).await.status(), 401);
    assert_eq!(hub.bare(Method::POST, "/api/v1/infra-backup").json(&body).send().await.unwrap().status(), 401);
    let as_operator = hub.send_json(Method::POST, "/api/v1/infra-backup", &body).await;
    assert_eq!(as_operator.status(), 403, "the operator does not push backups");
    assert_eq!(push(&hub, &kovacs, &body).await.status(), 200);
    assert_eq!(push(&hub, REPORT_KEY, &infra_backup("nagy", "pw")).await.status(), 200, "the global key");

    for path in ["/api/v1/infra-backup/kovacs", "/api/v1/infra-backup/kovacs/versions"] {
        let get = |k: &str| hub.bare(Method::GET, path).bearer_auth(k).send();
        assert_eq!(get(&nagy).await.unwrap().status(), 403, "{path}");
        assert_eq!(get(&kovacs).await.unwrap().status(), 200, "{path}");
        assert_eq!(get(REPORT_KEY).await.unwrap().status(), 403, "{path}: not without api.global_key_reads_backups");
        assert_eq!(get("wrong").await.unwrap().status(), 401, "{path}");
        assert_eq!(hub.bare(Method::GET, path).send().await.unwrap().status(), 401, "{path}");
    }
    // The operator may look, and that is audited.
    hub.get_json("/api/v1/infra-backup/kovacs", 200).await;
    let audit = hub.get_json("/api/v1/audit?customer_id=kovacs", 200).await;
    assert_eq!(audit["entries"][0]["action"], "reveal_infra_backup");
    hub.get_json("/api/v1/infra-backup/nobody", 404).await;
    hub.stop().await;
}

#[tokio::test]
async fn invalid_snapshots_name_their_field() {
    let (mut hub, key, _) = hub_with_customers().await;
    type Break = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Break)> = vec![
        ("controller_yaml", Box::new(|b| b["controller_yaml"] = json!("not base64!"))),
        ("settings_json", Box::new(|b| b["settings_json"] = json!("%%%"))),
        ("disks[0].uuid", Box::new(|b| b["disks"][0]["uuid"] = json!("sda1"))),
        ("disks[0].mount_point", Box::new(|b| b["disks"][0]["mount_point"] = json!("relative"))),
        ("stacks[0].app", Box::new(|b| b["stacks"][0]["app"] = json!(""))),
        ("restic_passwords.primary", Box::new(|b| b["restic_passwords"]["primary"] = json!(""))),
        (
            "restic_passwords",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("restic_passwords");
            }),
        ),
        ("customer_id", Box::new(|b| b["customer_id"] = json!("Kovács"))),
        // A planted backup must not be able to add lines to a restored node's /etc/fstab.
        (
            "disks[0].mount_point",
            Box::new(|b| b["disks"][0]["mount_point"] = json!("/mnt/data auto defaults 0 2\nUUID=x")),
        ),
        (
            "disks[0].fstab_options",
            Box::new(|b| b["disks"][0]["fstab_options"] = json!("defaults 0 0\n/dev/sdb /root")),
        ),
        ("disks[0].label", Box::new(|b| b["disks"][0]["label"] = json!("data\r\nx"))),
        ("disks[0].bind_mounts[0]", Box::new(|b| b["disks"][0]["bind_mounts"][0] = json!("/srv/a b"))),
        (
            "disks[0].bind_mounts[1].target",
            Box::new(|b| b["disks"][0]["bind_mounts"][1]["target"] = json!("/srv\n/etc")),
        ),
    ];
    for (field, break_it) in cases {
        let mut body = infra_backup("kovacs", "pw");
        break_it(&mut body);
        let res = push(&hub, &key, &body).await;
        assert_eq!(res.status(), 422, "{field}");
        let err: Value = res.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains(field), "{field}: {err}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn backups_up_to_ten_mib_are_accepted_on_this_route_only() {
    use base64::Engine;
    let (mut hub, key, _) = hub_with_customers().await;
    let mut body = infra_backup("kovacs", "pw");
    // About 3 MiB: over the API's 1 MiB limit, under this route's 10 MiB.
    body["settings_json"] = json!(base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 2_300_000]));
    assert_eq!(push(&hub, &key, &body).await.status(), 200);
    let mut report = report("kovacs");
    report["padding"] = json!("x".repeat(2_000_000));
    assert_eq!(hub.post_report(&key, &report).await.status(), 413, "other routes keep 1 MiB");
    body["settings_json"] = json!(base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 8_000_000]));
    assert_eq!(push(&hub, &key, &body).await.status(), 413, "over 10 MiB");
    hub.stop().await;
}

/// The `jq` program of the README's recovery recipe that writes `/etc/fstab` lines.
fn readme_fstab_program() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let line = readme.lines().find(|l| l.starts_with("jq -r '.infra_backup.disks[]")).expect("the fstab step");
    let start = line.find('\'').unwrap() + 1;
    let end = line.rfind("' recovery.json").expect("the program ends before recovery.json");
    line[start..end].to_string()
}

/// Runs the README's fstab step on a recovery bundle whose disks are `disks`.
fn fstab_lines(disks: Value) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("recovery.json");
    std::fs::write(&bundle, json!({ "infra_backup": { "disks": disks } }).to_string()).unwrap();
    let out = std::process::Command::new("jq")
        .arg("-r")
        .arg(readme_fstab_program())
        .arg(&bundle)
        .output()
        .expect("jq runs (cargo xtask test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

#[test]
fn the_readme_recovery_recipe_refuses_hostile_stored_disks() {
    let good = json!([
        {"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "/mnt/data", "fstab_options": "defaults,nofail"},
        {"uuid": "ABCD-1234", "mount_point": "/mnt/usb", "fstab_options": ""}
    ]);
    assert_eq!(
        fstab_lines(good).unwrap(),
        "UUID=0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e /mnt/data auto defaults,nofail 0 2\n\
         UUID=ABCD-1234 /mnt/usb auto defaults 0 2\n"
    );
    let hostile = [
        json!({"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "/mnt/x auto defaults 0 2\nUUID=y / ext4", "fstab_options": "defaults"}),
        json!({"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "/mnt/x", "fstab_options": "defaults 0 0\n/dev/sdb /root"}),
        json!({"uuid": "x /etc ext4 rw 0 0\nUUID=y", "mount_point": "/mnt/x", "fstab_options": "defaults"}),
        json!({"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "/mnt/a\tb", "fstab_options": "defaults"}),
        json!({"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "relative", "fstab_options": "defaults"}),
        json!({"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "fstab_options": "defaults"}),
        json!({"uuid": "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e", "mount_point": "/mnt/a\\012b", "fstab_options": "defaults"}),
    ];
    for disk in hostile {
        let good_first = json!([{"uuid": "ABCD-1234", "mount_point": "/mnt/usb", "fstab_options": ""}, disk]);
        let answer = fstab_lines(good_first);
        assert!(answer.is_err(), "{disk}: {answer:?}");
    }
}
