//! The channels against real stand-ins on random ports: a webhook receiver that checks the
//! signature with its own copy of the secret, an ntfy server that checks the headers, and an SMTP
//! server speaking just enough SMTP for one email.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;

const SECRET: &str = "whsec-0123456789abcdef";

fn raw(kind: &str) -> RawChannel {
    RawChannel { name: format!("ops-{kind}"), kind: kind.into(), ..Default::default() }
}

fn webhook(url: &str, secret: &str) -> Channel {
    let raw = RawChannel { url: url.into(), secret: secret.to_string().into(), ..raw("webhook") };
    Channel::build(ChannelSpec::parse(&raw).unwrap()).unwrap().with_backoff(Duration::ZERO)
}

fn alert() -> Alert {
    Alert {
        event_id: Some(42),
        customer_id: "kovacs".into(),
        customer_name: "Kovács János".into(),
        event_type: "node_down".into(),
        severity: Severity::Error,
        title: "[felhom] Kovács János: Node DOWN".into(),
        message: "no report for 1 h".into(),
        occurred_at: DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z").unwrap().with_timezone(&Utc),
        link: "https://hub.example/customers/kovacs".into(),
        text: "The node has not reported.".into(),
        html: Some("<p>The node has not reported.</p>".into()),
    }
}

/// Matches a request whose `X-Felhom-Signature` is the HMAC of its body under `0`, computed
/// here as a receiver would, not with the hub's own function.
struct SignedWith(&'static str);

impl wiremock::Match for SignedWith {
    fn matches(&self, request: &Request) -> bool {
        let Some(sent) = request.headers.get("x-felhom-signature").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some(hex_sig) = sent.strip_prefix("sha256=") else { return false };
        let Ok(sig) = hex::decode(hex_sig) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).unwrap();
        mac.update(&request.body);
        mac.verify_slice(&sig).is_ok()
    }
}

#[tokio::test]
async fn the_webhook_signs_its_body_and_a_wrong_secret_does_not_pass() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(header("content-type", "application/json"))
        .and(SignedWith(SECRET))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(401)).mount(&receiver).await;
    let url = format!("{}/hook", receiver.uri());
    webhook(&url, SECRET).send(&alert()).await.unwrap();
    let body: serde_json::Value = receiver.received_requests().await.unwrap()[0].body_json().unwrap();
    assert_eq!(body["customer_id"], "kovacs");
    assert_eq!(body["customer_name"], "Kovács János");
    assert_eq!(body["event_type"], "node_down");
    assert_eq!(body["severity"], "error");
    assert_eq!(body["occurred_at"], "2026-03-01T12:00:00Z");
    assert_eq!(body["link"], "https://hub.example/customers/kovacs");
    assert_eq!(body["event_id"], 42);
    assert!(body.get("text").is_none() && body.get("html").is_none(), "{body}");

    let wrong = webhook(&url, "another-secret-0123456789").send(&alert()).await.unwrap_err();
    assert_eq!(wrong, "answered 401 Unauthorized", "refused at once, not retried");
    assert_eq!(receiver.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_webhook_retries_a_5xx_and_gives_up_after_three_attempts() {
    let flaky = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).up_to_n_times(1).mount(&flaky).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&flaky).await;
    webhook(&flaky.uri(), SECRET).send(&alert()).await.unwrap();
    assert_eq!(flaky.received_requests().await.unwrap().len(), 2, "500, then 200");

    let down = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&down).await;
    let err = webhook(&down.uri(), SECRET).send(&alert()).await.unwrap_err();
    assert_eq!(err, "answered 503 Service Unavailable");
    assert_eq!(down.received_requests().await.unwrap().len(), ATTEMPTS as usize);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let err = webhook(&format!("http://user:pw@{closed}/hook?token=q-secret"), SECRET).send(&alert()).await;
    assert_eq!(err.unwrap_err(), "connection failed", "no URL, no credentials in the error");
}

#[tokio::test]
async fn ntfy_gets_title_priority_tags_and_the_token() {
    let ntfy = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/felhom-ops"))
        .and(header("authorization", "Bearer tk_ntfy_token"))
        .and(header("priority", "5"))
        .and(header("click", "https://hub.example/customers/kovacs"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&ntfy)
        .await;
    let raw = RawChannel {
        url: format!("{}/felhom-ops", ntfy.uri()),
        token: "tk_ntfy_token".to_string().into(),
        ..raw("ntfy")
    };
    let channel = Channel::build(ChannelSpec::parse(&raw).unwrap()).unwrap().with_backoff(Duration::ZERO);
    channel.send(&alert()).await.unwrap();
    let got = &ntfy.received_requests().await.unwrap()[0];
    assert_eq!(got.headers.get("tags").unwrap(), "rotating_light,node_down");
    let title = got.headers.get("title").unwrap().to_str().unwrap();
    use base64::Engine;
    let encoded = title.strip_prefix("=?UTF-8?B?").and_then(|t| t.strip_suffix("?=")).expect("RFC 2047");
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), "[felhom] Kovács János: Node DOWN");
    assert_eq!(String::from_utf8_lossy(&got.body), "Kovács János: no report for 1 h");
    assert_eq!(
        [Severity::Error, Severity::Warning, Severity::Info].map(ntfy::priority),
        ["5", "4", "2"],
        "urgent, high, low"
    );
}

/// A local SMTP server for one email: answers EHLO (offering AUTH), AUTH, MAIL, RCPT, DATA and
/// QUIT, and hands back the transcript with the message.
async fn smtp_stand_in() -> (u16, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 stand-in ESMTP\r\n").await.unwrap();
        let mut transcript = String::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            transcript.push_str(&line);
            transcript.push('\n');
            let command = line.to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                b"250-stand-in\r\n250 AUTH PLAIN LOGIN\r\n"
            } else if command.starts_with("AUTH") {
                b"235 2.7.0 accepted\r\n"
            } else if command.starts_with("DATA") {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.unwrap();
                while let Some(data) = lines.next_line().await.unwrap() {
                    if data == "." {
                        break;
                    }
                    transcript.push_str(&data);
                    transcript.push('\n');
                }
                b"250 2.0.0 queued\r\n"
            } else if command.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        transcript
    });
    (port, task)
}

#[tokio::test]
async fn smtp_sends_text_and_html_as_alternatives_with_the_credentials() {
    let (port, server) = smtp_stand_in().await;
    let raw = RawChannel {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: "none".into(),
        user: "hub".into(),
        password: "smtp-pass-123".to_string().into(),
        from: "felhom hub <hub@felhom.eu>".into(),
        to: vec!["ops@felhom.eu".into(), "oncall@felhom.eu".into()],
        ..raw("smtp")
    };
    let channel = Channel::build(ChannelSpec::parse(&raw).unwrap()).unwrap();
    assert_eq!(channel.recipient(), "ops@felhom.eu, oncall@felhom.eu");
    channel.send(&alert()).await.unwrap();
    let transcript = server.await.unwrap();
    use base64::Engine;
    let plain = base64::engine::general_purpose::STANDARD.encode("\0hub\0smtp-pass-123");
    assert!(transcript.contains(&format!("AUTH PLAIN {plain}")), "{transcript}");
    assert!(transcript.contains("MAIL FROM:<hub@felhom.eu>"), "{transcript}");
    assert!(transcript.contains("RCPT TO:<ops@felhom.eu>") && transcript.contains("RCPT TO:<oncall@felhom.eu>"));
    assert!(transcript.contains("multipart/alternative"), "{transcript}");
    assert!(transcript.contains("text/plain") && transcript.contains("text/html"), "{transcript}");
    assert!(transcript.contains("<p>The node has not reported.</p>"), "{transcript}");
}

#[tokio::test]
async fn smtp_that_refuses_is_a_failure() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let raw = RawChannel {
        host: "127.0.0.1".into(),
        port: Some(closed),
        tls: "none".into(),
        from: "hub@felhom.eu".into(),
        to: vec!["ops@felhom.eu".into()],
        ..raw("smtp")
    };
    let channel = Channel::build(ChannelSpec::parse(&raw).unwrap()).unwrap();
    assert!(channel.send(&alert()).await.unwrap_err().starts_with("smtp:"));
}

#[test]
fn bad_settings_name_the_channel_and_the_field_and_never_the_secret() {
    let ok =
        RawChannel { url: "https://hooks.example/felhom".into(), secret: SECRET.to_string().into(), ..raw("webhook") };
    for (bad, field) in [
        (RawChannel { name: "has space".into(), ..ok.clone() }, "name"),
        (RawChannel { kind: "pager".into(), ..ok.clone() }, "kind"),
        (RawChannel { url: "ftp://x/y".into(), ..ok.clone() }, "url"),
        (RawChannel { url: "not a url".into(), ..ok.clone() }, "url"),
        (RawChannel { secret: "short".to_string().into(), ..ok.clone() }, "secret"),
        (RawChannel { severities: vec!["fatal".into()], ..ok.clone() }, "severities"),
        (RawChannel { types: vec!["nope".into()], ..ok.clone() }, "types"),
        (RawChannel { url: "https://ntfy.sh/".into(), ..raw("ntfy") }, "url"),
        (RawChannel { host: "".into(), from: "a@b.c".into(), to: vec!["d@e.f".into()], ..raw("smtp") }, "host"),
        (RawChannel { host: "mx".into(), tls: "ssl".into(), ..raw("smtp") }, "tls"),
        (RawChannel { host: "mx".into(), from: "nobody".into(), to: vec!["d@e.f".into()], ..raw("smtp") }, "from"),
        (RawChannel { host: "mx".into(), from: "a@b.c".into(), ..raw("smtp") }, "to"),
        (
            RawChannel {
                host: "mx".into(),
                from: "a@b.c".into(),
                to: vec!["d@e.f".into()],
                user: "u".into(),
                ..raw("smtp")
            },
            "password",
        ),
    ] {
        let name = bad.name.clone();
        let err = ChannelSpec::parse_all(&[ok.clone(), bad]).unwrap_err().to_string();
        assert!(err.contains(&format!("notifications.channels[1] ({name:?}).{field}:")), "{field}: {err}");
        assert!(!err.contains(SECRET), "{err}");
    }
    let twice = ChannelSpec::parse_all(&[ok.clone(), ok.clone()]).unwrap_err().to_string();
    assert!(twice.contains("channels[1].name") && twice.contains("twice"), "{twice}");
    let specs = ChannelSpec::parse_all(&[ok]).unwrap();
    assert!(!format!("{specs:?}").contains(SECRET));
}

#[test]
fn smtp_ports_follow_the_tls_mode() {
    let port = |tls: &str| {
        let raw = RawChannel {
            host: "mx".into(),
            tls: tls.into(),
            from: "a@b.c".into(),
            to: vec!["d@e.f".into()],
            ..raw("smtp")
        };
        match ChannelSpec::parse(&raw).unwrap().kind {
            KindSpec::Smtp(s) => (s.tls, s.port),
            _ => unreachable!(),
        }
    };
    assert_eq!(port(""), (smtp::SmtpTls::StartTls, 587));
    assert_eq!(port("tls"), (smtp::SmtpTls::Tls, 465));
    assert_eq!(port("none"), (smtp::SmtpTls::None, 25));
}

#[test]
fn a_channel_takes_its_severities_and_types_with_its_own_cooldown() {
    let now = alert().occurred_at;
    let ago = |ms: i64| Some(now - chrono::TimeDelta::milliseconds(ms));
    let mut spec = ChannelSpec::parse(&RawChannel {
        url: "https://h.example/x".into(),
        secret: SECRET.to_string().into(),
        ..raw("webhook")
    })
    .unwrap();
    let hour = 3_600_000;
    let d = |spec: &ChannelSpec, t: Option<EventType>, s: Severity, blocked: bool, last| {
        decide(spec, t, s, blocked, hour, last, now)
    };
    let down = Some(EventType::NodeDown);
    assert_eq!(d(&spec, down, Severity::Info, false, None), Some(Ok(())), "no filters: everything");
    assert_eq!(d(&spec, None, Severity::Warning, false, None), Some(Ok(())), "and the legacy relay");
    assert_eq!(d(&spec, down, Severity::Error, true, None), Some(Err(Reason::Blocked)));
    assert_eq!(d(&spec, down, Severity::Error, false, ago(hour - 1)), Some(Err(Reason::Cooldown)));
    assert_eq!(d(&spec, down, Severity::Error, false, ago(hour)), Some(Ok(())));
    spec.severities = vec![Severity::Warning, Severity::Error];
    spec.types = vec![EventType::NodeDown];
    assert_eq!(d(&spec, down, Severity::Info, false, None), None, "not its severity: not even logged");
    assert_eq!(d(&spec, Some(EventType::BackupFailed), Severity::Error, false, None), None, "not its type");
    assert_eq!(d(&spec, None, Severity::Error, false, None), None, "types named: no legacy relay");
    assert_eq!(d(&spec, down, Severity::Error, false, None), Some(Ok(())));
}
