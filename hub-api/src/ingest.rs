//! Group commit for report ingest. Handlers hand their report to one writer task and wait; the
//! writer takes everything that queued up while the previous commit ran, writes it in one
//! transaction, commits, and only then answers each handler. With `synchronous=FULL` that is
//! one fsync for many reports, and no report is acknowledged before it is durable.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::AppError;
use crate::metrics::Metrics;
use sqlx::pool::PoolConnection;
use sqlx::Any;

use crate::store::{ReportRow, Store, StoreError};

/// The most reports written in one transaction.
pub const MAX_BATCH: usize = 256;
const QUEUE: usize = 4096;

struct Pending {
    row: ReportRow,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Pending>,
}

impl Ingest {
    /// Starts the writer. It ends once every `Ingest` handle is dropped and the queue is empty.
    pub fn start(store: Store, metrics: Metrics) -> (Ingest, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Ingest { tx }, tokio::spawn(writer(store, rx, metrics)))
    }

    /// Stores a report; returns once it is committed.
    pub async fn submit(&self, row: ReportRow) -> Result<(), AppError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending { row, done })
            .await
            .map_err(|_| AppError::Unavailable("the hub is shutting down".into()))?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::Internal(anyhow::anyhow!("storing the report failed: {e}"))),
            Err(_) => Err(AppError::Unavailable("the hub is shutting down".into())),
        }
    }
}

async fn writer(store: Store, mut rx: mpsc::Receiver<Pending>, metrics: Metrics) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // The writer keeps one connection between batches: taking one from the pool for each batch
    // costs a check of the connection (a round trip) every time. After a failed write it takes
    // a fresh one, in case the connection is what failed.
    let mut conn = None;
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<&ReportRow> = batch.iter().map(|p| &p.row).collect();
        let started = std::time::Instant::now();
        let written = write(&store, &mut conn, &rows).await;
        metrics.ingest_batch(rows.len(), started.elapsed(), written.is_ok());
        match written {
            Ok(()) => {
                for p in batch.drain(..) {
                    let _ = p.done.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, reports = rows.len(), "batch insert failed; retrying one by one");
                drop(rows);
                // One bad row must not fail the others: retry each in its own transaction.
                for p in batch.drain(..) {
                    let result = write(&store, &mut conn, &[&p.row]).await.map_err(|e| e.to_string());
                    if result.is_ok() {
                        metrics.report_stored();
                    }
                    let _ = p.done.send(result);
                }
            }
        }
    }
}

/// Writes `rows` in one transaction on the writer's connection, taking one from the pool when it
/// has none; a failure gives the connection back to the pool (which drops it if it is broken).
async fn write(store: &Store, conn: &mut Option<PoolConnection<Any>>, rows: &[&ReportRow]) -> Result<(), StoreError> {
    let mut held = match conn.take() {
        Some(held) => held,
        None => store.pool().acquire().await?,
    };
    store.insert_reports_on(&mut held, rows).await?;
    // With a pool of one connection, keeping it would leave nothing for the readers.
    if store.pool().options().get_max_connections() > 1 {
        *conn = Some(held);
    }
    Ok(())
}
