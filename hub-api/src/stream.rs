//! The live stream behind `GET /api/v1/stream`. What it tells of (status changes, new events,
//! job runs) is written to `stream_log` first, in the transaction of the change itself; each
//! replica reads the log back by id ([`run_reader`]) and hands every new message to its open
//! streams, so a stream on one replica shows what happened on another. A client that reconnects
//! with `Last-Event-ID` is replayed what it missed from the log, which keeps the last [`KEEP_MS`].
//!
//! On PostgreSQL ids are handed out before commit, so a row can become visible after a higher
//! one: the reader looks again below the highest id it saw until rows are [`SETTLE_MS`] old.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hub_shared::stream::StreamMessage;
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// How often each replica reads the log.
pub const POLL: Duration = Duration::from_secs(1);
/// How long a row may take from its id to its commit and still be streamed live.
pub const SETTLE_MS: i64 = 10_000;
/// How long the log keeps messages for resuming streams; the leading replica prunes older ones.
pub const KEEP_MS: i64 = 3600 * 1000;
/// Streams open at once per replica; more are refused with 429.
pub const MAX_STREAMS: usize = 64;
/// Messages replayed at most on a resume; a client further behind reloads instead.
pub const REPLAY_MAX: i64 = 1000;
/// Messages read per round trip.
const BATCH: i64 = 500;
/// Messages a slow stream may fall behind before it is closed (the client resumes).
const BUFFER: usize = 1024;
/// The reader prunes the log (when leading) every this many polls.
const PRUNE_EVERY: u32 = 600;

/// This replica's side of the stream: the fan-out to open streams and their slots.
#[derive(Clone, Debug)]
pub struct Streams {
    tx: broadcast::Sender<Arc<StreamMessage>>,
    slots: Arc<Semaphore>,
    /// How often an idle stream sends a comment (`server.stream_heartbeat`).
    pub heartbeat: Duration,
    /// Ends every open stream at shutdown, so the server need not wait for them.
    pub closed: CancellationToken,
}

impl Streams {
    pub fn new(heartbeat: Duration) -> Streams {
        Streams {
            tx: broadcast::channel(BUFFER).0,
            slots: Arc::new(Semaphore::new(MAX_STREAMS)),
            heartbeat,
            closed: CancellationToken::new(),
        }
    }

    /// A slot for one more stream, or `None` when all are taken.
    pub fn open(&self) -> Option<(OwnedSemaphorePermit, broadcast::Receiver<Arc<StreamMessage>>)> {
        let permit = self.slots.clone().try_acquire_owned().ok()?;
        Some((permit, self.tx.subscribe()))
    }

    fn publish(&self, message: StreamMessage) {
        // No open stream is not an error.
        let _ = self.tx.send(Arc::new(message));
    }
}

/// Where a reader is in the log: every id up to `floor` is done with; above it, the ids already
/// published, with when they were written.
#[derive(Debug, Default)]
pub struct Cursor {
    floor: i64,
    seen: BTreeMap<i64, i64>,
}

impl Cursor {
    /// Starts after everything already in the log.
    pub async fn at_head(store: &Store) -> anyhow::Result<Cursor> {
        Ok(Cursor { floor: store.stream_head().await?, seen: BTreeMap::new() })
    }

    fn highest(&self) -> i64 {
        self.seen.keys().next_back().copied().unwrap_or(self.floor)
    }

    /// Whether an id below the highest seen is still missing.
    fn has_gap(&self) -> bool {
        (self.highest() - self.floor) as usize > self.seen.len()
    }
}

/// Reads what is new in the log at `now_ms` and publishes it; returns how many messages.
pub async fn poll_once(store: &Store, streams: &Streams, cursor: &mut Cursor, now_ms: i64) -> anyhow::Result<usize> {
    let mut rows = Vec::new();
    if cursor.has_gap() {
        rows.extend(store.stream_between(cursor.floor, cursor.highest(), BATCH).await?);
    }
    rows.extend(store.stream_after(cursor.highest(), BATCH).await?);
    let mut published = 0;
    for row in rows {
        let message = match row {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(error = %e, "could not read a stream message");
                continue;
            }
        };
        if cursor.seen.insert(message.id, message.at.timestamp_millis()).is_none() {
            streams.publish(message);
            published += 1;
        }
    }
    // Rows old enough are settled: nothing below them can still appear.
    let settled = cursor.seen.iter().filter(|(_, at)| **at < now_ms - SETTLE_MS).map(|(id, _)| *id).max();
    if let Some(settled) = settled {
        cursor.floor = cursor.floor.max(settled);
        cursor.seen = cursor.seen.split_off(&(cursor.floor + 1));
    }
    Ok(published)
}

/// Reads the log every [`POLL`] until `cancel` fires; the leading replica also prunes it.
pub async fn run_reader(
    store: Store,
    streams: Streams,
    leads: impl Fn() -> bool + Send + 'static,
    cancel: CancellationToken,
) {
    let mut cursor = None;
    let mut until_prune = PRUNE_EVERY;
    loop {
        let now_ms = chrono::Utc::now().timestamp_millis();
        match &mut cursor {
            None => match Cursor::at_head(&store).await {
                Ok(at) => cursor = Some(at),
                Err(e) => tracing::warn!(error = format!("{e:#}"), "stream reader could not start"),
            },
            Some(cursor) => {
                if let Err(e) = poll_once(&store, &streams, cursor, now_ms).await {
                    tracing::warn!(error = format!("{e:#}"), "stream reader failed");
                }
            }
        }
        until_prune -= 1;
        if until_prune == 0 {
            until_prune = PRUNE_EVERY;
        }
        if until_prune == PRUNE_EVERY && leads() {
            if let Err(e) = store.prune_stream(now_ms - KEEP_MS).await {
                tracing::warn!(error = %e, "could not prune the stream log");
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
    streams.closed.cancel();
}

#[cfg(test)]
mod tests {
    use hub_shared::stream::StreamKind;

    use super::*;
    use crate::config::SqliteSync;

    async fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hub.db").display());
        (dir, Store::connect_url(&url, 2, SqliteSync::Normal).await.unwrap())
    }

    async fn append(store: &Store, at: i64) -> i64 {
        store.append_stream(StreamKind::Job, None, &serde_json::json!({"job": "prune"}), at).await.unwrap()
    }

    fn drain(rx: &mut broadcast::Receiver<Arc<StreamMessage>>) -> Vec<i64> {
        std::iter::from_fn(|| rx.try_recv().ok()).map(|m| m.id).collect()
    }

    #[tokio::test]
    async fn a_row_committed_late_below_a_seen_one_is_still_published_once() {
        let (_dir, store) = open().await;
        let streams = Streams::new(Duration::from_secs(15));
        let (_permit, mut rx) = streams.open().unwrap();
        let now = 1_000_000;
        let before = append(&store, now).await;
        let mut cursor = Cursor::at_head(&store).await.unwrap();
        let (late, next) = (append(&store, now).await, append(&store, now).await);
        // `late` is not visible yet, as a PostgreSQL transaction that took its id first and
        // commits after `next`'s.
        sqlx::query("DELETE FROM stream_log WHERE id = $1").bind(late).execute(store.pool()).await.unwrap();
        assert_eq!(poll_once(&store, &streams, &mut cursor, now).await.unwrap(), 1);
        assert_eq!(drain(&mut rx), [next], "nothing before the head it started at ({before})");
        sqlx::query("INSERT INTO stream_log (id, kind, data_json, created_at) VALUES ($1, 'job', '{}', $2)")
            .bind(late)
            .bind(now)
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(poll_once(&store, &streams, &mut cursor, now + 1).await.unwrap(), 1);
        assert_eq!(drain(&mut rx), [late]);
        assert_eq!(poll_once(&store, &streams, &mut cursor, now + 2).await.unwrap(), 0, "published once");
        // Once settled, the cursor forgets what is below it and stops looking.
        poll_once(&store, &streams, &mut cursor, now + SETTLE_MS + 1).await.unwrap();
        assert_eq!((cursor.floor, cursor.seen.len()), (next, 0));
        let newer = append(&store, now + SETTLE_MS + 2).await;
        poll_once(&store, &streams, &mut cursor, now + SETTLE_MS + 3).await.unwrap();
        assert_eq!(drain(&mut rx), [newer]);
    }

    #[test]
    fn streams_are_bounded() {
        let streams = Streams::new(Duration::from_secs(15));
        let open: Vec<_> = (0..MAX_STREAMS).map(|_| streams.open().expect("a slot")).collect();
        assert!(streams.open().is_none(), "one more than {MAX_STREAMS} is refused");
        drop(open);
        assert!(streams.open().is_some(), "a closed stream frees its slot");
    }
}
