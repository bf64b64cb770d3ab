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
