//! The client against stand-ins on random ports: a closed port, a silent server, a trickling
//! one, errors, garbage, a too-large answer, a redirect and plain HTTP where TLS was expected.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{ControllerClient, ControllerError, Target, MAX_ANSWER_BYTES};

const KEY: &str = "customer-own-key-0123456789abcdef";
const SHORT: Duration = Duration::from_millis(300);

fn client() -> ControllerClient {
    ControllerClient::new(SHORT).unwrap()
}

fn target(address: &str) -> Target {
    Target::new(address, SecretString::from(KEY.to_string())).unwrap()
}

async fn standin(status: u16, body: impl Into<Vec<u8>>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/c/kovacs/api/config"))
        .respond_with(ResponseTemplate::new(status).set_body_bytes(body.into()))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn reads_the_live_config_with_the_customers_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/c/kovacs/api/config"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string("customer:\n  id: kovacs\nport: 587\n"))
        .mount(&server)
        .await;
    let live = client().get_config(&target(&format!("{}/c/kovacs/", server.uri()))).await.unwrap();
    assert_eq!(live, serde_json::json!({"customer": {"id": "kovacs"}, "port": 587}));
    // JSON that wraps the YAML is read too.
    let server = standin(200, r#"{"config_yaml":"customer:\n  id: kovacs\n"}"#).await;
    let live = client().get_config(&target(&format!("{}/c/kovacs", server.uri()))).await.unwrap();
    assert_eq!(live["customer"]["id"], "kovacs");
}

#[tokio::test]
async fn pushes_yaml_and_updates_with_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/config/apply"))
        .and(header("content-type", "application/yaml"))
        .and(body_string("a: 1\n"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok":true,"message":"applied"}"#))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/update"))
        .and(body_string(r#"{"version":"1.9.0"}"#))
        .respond_with(ResponseTemplate::new(202).set_body_string(""))
        .mount(&server)
        .await;
    let t = target(&server.uri());
    let answer = client().apply_config(&t, "a: 1\n".into()).await.unwrap();
    assert_eq!((answer.status, answer.message.as_str()), (200, "applied"));
    let answer = client().update(&t, "1.9.0").await.unwrap();
    assert_eq!((answer.status, answer.message.as_str()), (202, "(no message)"));
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let e = client().get_config(&target(&address)).await.unwrap_err();
    assert!(matches!(e, ControllerError::Unreachable { .. }), "{e:?}");
    assert_eq!((e.status().as_u16(), e.code()), (502, "controller_unreachable"));
}

#[tokio::test]
async fn a_silent_controller_times_out_without_a_hang() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let began = Instant::now();
    let e = client().apply_config(&target(&address), "a: 1\n".into()).await.unwrap_err();
    assert!(matches!(e, ControllerError::TimedOut { .. }), "{e:?}");
    assert_eq!((e.status().as_u16(), e.code()), (502, "controller_timeout"));
    assert!(began.elapsed() < SHORT * 5, "took {:?}", began.elapsed());
    held.abort();
}

#[tokio::test]
async fn a_trickling_answer_is_cut_at_the_time_limit() {
    // Sends the head and a byte, then nothing: the limit covers reading the body too.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\na").await;
            open.push(socket);
        }
    });
    let e = client().get_config(&target(&address)).await.unwrap_err();
    assert!(matches!(e, ControllerError::TimedOut { .. }), "{e:?}");
    held.abort();
}

#[tokio::test]
async fn an_error_status_carries_the_controllers_message() {
    let server = standin(500, r#"{"code":"500","message":"disk full, cannot write config"}"#).await;
    let e = client().get_config(&target(&format!("{}/c/kovacs", server.uri()))).await.unwrap_err();
    match &e {
        ControllerError::Status { status, message, .. } => {
            assert_eq!((*status, message.as_str()), (500, "disk full, cannot write config"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((e.status().as_u16(), e.code()), (502, "controller_error"));
    assert!(e.to_string().contains("HTTP 500: disk full"), "{e}");
    // A 200 whose JSON says it failed is a failure too.
    let server = MockServer::start().await;
    Mock::given(path("/api/config/apply"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok":false,"error":"customer id differs"}"#))
        .mount(&server)
        .await;
    let e = client().apply_config(&target(&server.uri()), "a: 1\n".into()).await.unwrap_err();
    assert!(matches!(&e, ControllerError::Status { message, .. } if message == "customer id differs"), "{e:?}");
}

#[tokio::test]
async fn garbage_is_a_bad_answer() {
    for body in ["<html><body>Bad gateway</body></html>", "", "- a\n- b\n", "a: [unclosed"] {
        let server = standin(200, body).await;
        let e = client().get_config(&target(&format!("{}/c/kovacs", server.uri()))).await.unwrap_err();
        assert!(matches!(e, ControllerError::BadAnswer { .. }), "{body:?}: {e:?}");
        assert_eq!((e.status().as_u16(), e.code()), (502, "controller_bad_answer"));
    }
    let server = standin(200, vec![0xff, 0xfe, 0x00]).await;
    let e = client().get_config(&target(&format!("{}/c/kovacs", server.uri()))).await.unwrap_err();
    assert!(matches!(e, ControllerError::BadAnswer { .. }), "{e:?}");
}

#[tokio::test]
async fn an_answer_over_the_limit_is_refused() {
    let server = standin(200, format!("a: \"{}\"\n", "x".repeat(MAX_ANSWER_BYTES))).await;
    let e = client().get_config(&target(&format!("{}/c/kovacs", server.uri()))).await.unwrap_err();
    match &e {
        ControllerError::BadAnswer { detail, .. } => assert!(detail.contains("larger than"), "{detail}"),
        other => panic!("{other:?}"),
    }
    // Just under the limit is read.
    let body = format!("a: \"{}\"\n", "x".repeat(MAX_ANSWER_BYTES - 100));
    let server = standin(200, body).await;
    assert!(client().get_config(&target(&format!("{}/c/kovacs", server.uri()))).await.is_ok());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = standin(200, "customer:\n  id: kovacs\n").await;
    let server = MockServer::start().await;
    let to = format!("{}/c/kovacs/api/config", elsewhere.uri());
    Mock::given(path("/api/config"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", to.as_str()))
        .mount(&server)
        .await;
    let e = client().get_config(&target(&server.uri())).await.unwrap_err();
    match &e {
        ControllerError::Status { status, message, .. } => {
            assert_eq!(*status, 302);
            assert!(message.contains("redirect") && message.contains(&to), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(elsewhere.received_requests().await.unwrap().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn tls_failures_are_told_apart() {
    // Plain HTTP where https:// was asked for: the handshake fails.
    let server = standin(200, "customer:\n  id: kovacs\n").await;
    let address = server.uri().replace("http://", "https://");
    let e = client().get_config(&target(&address)).await.unwrap_err();
    assert!(matches!(e, ControllerError::Tls { .. }), "{e:?}");
    assert_eq!((e.status().as_u16(), e.code()), (502, "controller_tls"));
}
