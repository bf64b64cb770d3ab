//! The live stream: operator only, status changes and events as they happen, across two hubs on
//! one database, resumed with `Last-Event-ID`, and a heartbeat comment when idle.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::events::{event, post_event};
use crate::helpers::*;

const KEY: &str = "kovacs-key-0123456789abcdef";

/// An open stream read as text, message by message.
struct Sse {
    res: reqwest::Response,
    buffer: String,
}

/// One message: its `id`, `event` and `data` lines, or a comment.
#[derive(Debug)]
enum Frame {
    Message { id: i64, kind: String, data: Value },
    Comment(String),
}

impl Sse {
    async fn open(hub: &TestHub, last_event_id: Option<i64>) -> Sse {
        let mut req = hub.get("/api/v1/stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Sse { res, buffer: String::new() }
    }

    /// The next frame; the test fails when none comes within 20 s.
    async fn next(&mut self) -> Frame {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let frame: String = self.buffer.drain(..end + 2).collect();
                    return parse(&frame);
                }
                let chunk = self.res.chunk().await.unwrap().expect("the stream stays open");
                self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .expect("a frame within 20 s")
    }

    /// The next message of `kind` about `customer`, skipping others and comments.
    async fn next_about(&mut self, kind: &str, customer: &str) -> (i64, Value) {
        loop {
            if let Frame::Message { id, kind: k, data } = self.next().await {
                if k == kind && data["customer_id"] == customer {
                    return (id, data);
                }
            }
        }
    }
}

fn parse(frame: &str) -> Frame {
    let (mut id, mut kind, mut data) = (0, String::new(), String::new());
    for line in frame.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            return Frame::Comment(comment.trim().to_string());
        } else if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().unwrap();
        } else if let Some(v) = line.strip_prefix("event:") {
            kind = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    Frame::Message { id, kind, data: serde_json::from_str(&data).unwrap() }
}

#[tokio::test]
async fn the_stream_is_for_the_operator_only() {
    let mut hub = spawn_hub().await;
    add_customer(&hub, "kovacs", KEY, "active").await;
    assert_eq!(hub.bare(Method::GET, "/api/v1/stream").send().await.unwrap().status(), 401);
    for key in [REPORT_KEY, KEY] {
        let res = hub.bare(Method::GET, "/api/v1/stream").bearer_auth(key).send().await.unwrap();
        assert_eq!(res.status(), 403, "a Bearer key, not a session");
    }
    hub.login().await;
    let res = hub.get("/api/v1/stream").header("last-event-id", "yesterday").send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
}

#[tokio::test]
async fn a_report_on_one_hub_shows_on_the_others_stream_and_a_resume_replays_what_was_missed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_database_url(dir.path()).await;
    let spawn = |url: String| {
        spawn_hub_with(Options {
            password: true,
            tweak: Some(Box::new(move |raw| {
                raw.database.url = url.into();
                raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into();
            })),
        })
    };
    let mut a = spawn(url.clone()).await;
    let mut b = spawn(url).await;
    add_customer(&a, "kovacs", KEY, "active").await;
    b.login().await;
    let mut stream = Sse::open(&b, None).await;

    assert_eq!(a.post_report(KEY, &report("kovacs")).await.status(), 200);
    let (status_id, status) = stream.next_about("status", "kovacs").await;
    assert_eq!(status["kind"], "status");
    assert_eq!(status["data"]["health"], "ok");
    assert_eq!(status["id"], status_id);

    assert_eq!(post_event(&a, KEY, &event("kovacs", "backup_failed", "error")).await.status(), 200);
    let (event_id, event) = stream.next_about("event", "kovacs").await;
    assert!(event_id > status_id);
    assert_eq!(event["data"]["event_type"], "backup_failed");
    assert_eq!(event["data"]["severity"], "error");
    drop(stream);

    // While nobody listens on b, a gets another report; b's next stream resumes and gets it.
    assert_eq!(a.post_report(KEY, &report("kovacs")).await.status(), 200);
    let mut resumed = Sse::open(&b, Some(event_id)).await;
    let (missed_id, _) = resumed.next_about("status", "kovacs").await;
    assert!(missed_id > event_id);
    let mut again = Sse::open(&b, Some(status_id)).await;
    assert_eq!(again.next_about("event", "kovacs").await.0, event_id, "replayed from after the id sent");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_idle_stream_sends_heartbeat_comments() {
    let mut hub = spawn_hub_with(Options {
        password: true,
        tweak: Some(Box::new(|raw| raw.server.stream_heartbeat = "50ms".into())),
    })
    .await;
    hub.login().await;
    let mut stream = Sse::open(&hub, None).await;
    match stream.next().await {
        Frame::Comment(text) => assert_eq!(text, "heartbeat"),
        other => panic!("expected a heartbeat comment, got {other:?}"),
    }
    drop(stream);
    hub.stop().await;
}
