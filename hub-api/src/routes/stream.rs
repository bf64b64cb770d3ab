//! `GET /api/v1/stream`: the live stream of the operator's web app, as Server-Sent Events (see
//! [`crate::stream`]).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use hub_shared::stream::StreamMessage;
use hub_shared::ApiError;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::stream::REPLAY_MAX;

/// Stream the fleet's changes.
///
/// Status changes (`status`), new events (`event`) and job runs (`job`) as they happen on any
/// replica, one Server-Sent Event each with the message as JSON in `data`, and a `: heartbeat`
/// comment when idle (every `server.stream_heartbeat`, 15 s by default). Send the last `id` seen
/// back as `Last-Event-ID` to be replayed what was missed (up to an hour back).
#[utoipa::path(
    get, path = "/api/v1/stream", tag = "stream",
    params(("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]{1,18}$", description = "The last message id received; resume after it")),
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "A stream of messages", content_type = "text/event-stream", body = StreamMessage),
        (status = 400, description = "Last-Event-ID is not a number", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not the operator", body = ApiError),
        (status = 429, description = "Too many streams open", body = ApiError),
    )
)]
pub async fn get_stream(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    caller.require_operator()?;
    let last = match headers.get("last-event-id").map(HeaderValue::to_str) {
        None => None,
        Some(Ok(text)) => Some(
            text.trim()
                .parse::<i64>()
                .map_err(|_| AppError::BadRequest("Last-Event-ID must be a message id (a number)".into()))?,
        ),
        Some(Err(_)) => return Err(AppError::BadRequest("Last-Event-ID must be a message id (a number)".into())),
    };
    let streams = state.streams();
    let (permit, rx) = streams
        .open()
        .ok_or_else(|| AppError::TooManyRequests("too many live streams are open; try again later".into()))?;
    let replay: Vec<StreamMessage> = match last {
        Some(after) => {
            state.store().stream_after(after, REPLAY_MAX).await?.into_iter().filter_map(|m| m.ok()).collect()
        }
        None => Vec::new(),
    };
    let live = Live {
        rx,
        _permit: permit,
        closed: streams.closed.clone(),
        replayed: replay.iter().map(|m| m.id).collect(),
        after: last.unwrap_or(i64::MIN),
    };
    let replayed = futures::stream::iter(replay.into_iter().map(|m| Ok(event(&m))));
    let stream = replayed.chain(futures::stream::unfold(live, Live::next));
    let keep_alive = KeepAlive::new().interval(streams.heartbeat).text("heartbeat");
    let mut res = Sse::new(stream).keep_alive(keep_alive).into_response();
    // Proxies that buffer (nginx) would hold the messages back.
    res.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// The live part of one stream; holds its slot until it ends.
struct Live {
    rx: broadcast::Receiver<Arc<StreamMessage>>,
    _permit: OwnedSemaphorePermit,
    closed: CancellationToken,
    /// Sent already from the log.
    replayed: HashSet<i64>,
    /// The client had everything up to here.
    after: i64,
}

impl Live {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Live)> {
        loop {
            let received = tokio::select! {
                _ = self.closed.cancelled() => return None,
                received = self.rx.recv() => received,
            };
            match received {
                Ok(m) if m.id <= self.after || self.replayed.contains(&m.id) => continue,
                Ok(m) => return Some((Ok(event(&m)), self)),
                // Fallen behind, or the hub stops: the client reconnects with Last-Event-ID.
                Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
            }
        }
    }
}

fn event(message: &StreamMessage) -> Event {
    let data = serde_json::to_string(message).expect("a stream message serializes");
    Event::default().id(message.id.to_string()).event(message.kind.as_str()).data(data)
}
