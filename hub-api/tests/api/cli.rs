//! The `felhom-hub` command line: hash-password, openapi, and start-up refusals.

use std::io::Write;
use std::process::{Command, Stdio};

fn hub() -> Command {
    Command::new(env!("CARGO_BIN_EXE_felhom-hub"))
}

#[test]
fn hash_password_prints_a_bcrypt_hash_of_stdin() {
    let mut child = hub().arg("hash-password").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"hunter2 but longer\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(bcrypt::verify("hunter2 but longer", hash.trim()).unwrap());
    assert!(!bcrypt::verify("hunter2 but longer\n", hash.trim()).unwrap(), "the newline is not part of it");
}

#[test]
fn openapi_prints_the_document() {
    let out = hub().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["info"]["title"], "felhom-hub");
}

#[test]
fn an_invalid_value_stops_start_up_naming_the_key_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub()
        .arg("serve")
        .env("HUB_SERVER__DATA_DIR", dir.path())
        .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
        .env("HUB_ALERTING__STALE_THRESHOLD", "sometimes")
        .env("HUB_API__REPORT_API_KEY", "very-secret-global-key-0123456789")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("alerting.stale_threshold"), "{stderr}");
    assert!(!stderr.contains("very-secret-global-key-0123456789"), "{stderr}");
}

#[test]
fn a_short_global_key_stops_start_up_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub()
        .arg("serve")
        .env("HUB_SERVER__DATA_DIR", dir.path())
        .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
        .env("HUB_API__REPORT_API_KEY", "short-global-key")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("api.report_api_key") && stderr.contains("at least 32 characters"), "{stderr}");
    assert!(!stderr.contains("short-global-key"), "{stderr}");
}

#[test]
fn without_a_password_it_refuses_to_listen_on_all_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        hub().arg("serve").env("HUB_SERVER__DATA_DIR", dir.path()).env("HUB_SERVER__LISTEN", ":0").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth.allow_no_auth"));
}

#[test]
fn a_missing_config_file_is_an_error() {
    let out = hub().args(["serve", "--config", "/nonexistent/hub.yaml"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/hub.yaml"));
}

/// `felhom-hub serve` as a child process, stopped with SIGTERM when dropped.
struct Served {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts the real binary on 127.0.0.1:0 with `env`, and waits for its address.
    fn start(env: &[(&str, &str)]) -> Served {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = hub();
        cmd.arg("serve")
            .env_remove("RUST_LOG")
            .env("HUB_SERVER__DATA_DIR", dir.path())
            .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
            .env("HUB_ASSETS__SEED_DIR", dir.path().join("no-seed"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("felhom-hub listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
        Served { child, base, _dir: dir }
    }

    /// Stops it gracefully and returns what it wrote to standard error.
    fn stop(mut self) -> String {
        use std::io::Read;
        // SAFETY: kill(2) on the id of the child this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(self.child.wait().unwrap().success(), "{stderr}");
        stderr
    }
}

#[tokio::test]
async fn json_logs_carry_each_answers_request_id_route_status_and_customer() {
    const KEY: &str = "json-log-test-global-key-0123456789";
    let served = Served::start(&[("HUB_SERVER__LOG_FORMAT", "json"), ("HUB_API__REPORT_API_KEY", KEY)]);
    let client = reqwest::Client::new();
    let report = serde_json::json!({"customer_id": "kovacs", "health": "ok"});
    let posted =
        client.post(format!("{}/api/v1/report", served.base)).bearer_auth(KEY).json(&report).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    let refused =
        client.get(format!("{}/api/v1/customers/kovacs", served.base)).bearer_auth("wrong-key").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let health = client.get(format!("{}/healthz", served.base)).send().await.unwrap();
    let id = |res: &reqwest::Response| res.headers()["x-request-id"].to_str().unwrap().to_string();
    let answers = [
        (id(&posted), 200, "/api/v1/report", Some("kovacs")),
        // Refused by the key before the path was read: the customer is not known yet.
        (id(&refused), 401, "/api/v1/customers/{id}", None),
        (id(&health), 200, "/healthz", None),
    ];
    let stderr = served.stop();
    assert!(!stderr.contains(KEY), "the key never reaches the log");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {l}")))
        .collect();
    for line in &lines {
        for field in ["time", "level", "target", "message"] {
            assert!(line.get(field).is_some(), "{field} missing: {line}");
        }
    }
    for (request_id, status, route, customer) in answers {
        let of_request: Vec<_> = lines.iter().filter(|l| l["request_id"] == request_id.as_str()).collect();
        let finished = of_request
            .iter()
            .find(|l| l["message"] == "request finished")
            .unwrap_or_else(|| panic!("no closing line for {request_id}: {stderr}"));
        assert_eq!(finished["status"], status, "{finished}");
        assert_eq!(finished["route"], route, "{finished}");
        assert!(finished["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{finished}");
        assert_eq!(finished["customer_id"].as_str(), customer, "{finished}");
    }
}

#[test]
fn an_unknown_log_format_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = hub()
        .arg("serve")
        .env("HUB_SERVER__DATA_DIR", dir.path())
        .env("HUB_SERVER__LISTEN", "127.0.0.1:0")
        .env("HUB_SERVER__LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.log_format"));
}
