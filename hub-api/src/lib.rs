//! felhom-hub: the central service of the Felhom fleet. See ARCHITECTURE.md for the map.

pub mod assets;
pub mod auth;
pub mod backups;
pub mod cache;
pub mod config;
pub mod configgen;
pub mod controller;
pub mod crypto;
pub mod customer_secrets;
pub mod customers;
pub mod drift;
pub mod email_confirm;
pub mod error;
pub mod extract;
pub mod fleet;
pub mod fleet_list;
pub mod headers;
pub mod hub_backup;
pub mod import_legacy;
pub mod ingest;
pub mod jobs;
pub mod logging;
pub mod metrics;
pub mod migrate_data;
pub mod notify;
pub mod objects_only;
pub mod openapi;
pub mod passphrase;
pub mod ratelimit;
pub mod registry;
pub mod retrieval;
pub mod rollout;
pub mod rotate;
pub mod router;
pub mod routes;
pub mod spa;
pub mod state;
pub mod store;
pub mod stream;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::ingest::Ingest;
use crate::state::AppState;
use crate::store::Store;

/// A running hub: its address, and the handles to stop it gracefully.
pub struct Hub {
    pub addr: SocketAddr,
    pub state: AppState,
    cancel: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
    scheduler: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

/// Opens the database, starts the ingest writer, the scheduler, the notification dispatcher, the
/// live stream's reader and the HTTP server.
pub async fn start(config: Config) -> anyhow::Result<Hub> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create server.data_dir {}", config.data_dir.display()))?;
    let store = Store::connect(&config).await?;
    let metrics = metrics::Metrics::new();
    let (ingest, writer) = Ingest::start(store.clone(), metrics.clone());
    let listen = config.listen;
    let state = AppState::new(config, store, ingest, metrics).await?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let scheduler = tokio::spawn(jobs::run_scheduler(state.clone(), jobs::all(), cancel.clone()));
    // Every replica rescans its own view of the assets directory; the task ends with `cancel`.
    state.assets().spawn_rescan(assets::RESCAN_EVERY, cancel.clone());
    // SQLite's log is moved into the database off the ingest writer's path; ends with `cancel`.
    tokio::spawn(store::run_checkpointer(state.store().clone(), cancel.clone()));
    let leader = state.clone();
    let (store, notifier) = (state.store().clone(), state.notifier().clone());
    let dispatcher = tokio::spawn(notify::run_dispatcher(store, notifier, move || leader.leads(), cancel.clone()));
    let (leader, store, streams) = (state.clone(), state.store().clone(), state.streams().clone());
    let reader = tokio::spawn(stream::run_reader(store, streams, move || leader.leads(), cancel.clone()));
    let app = router::app(state.clone());
    let shutdown = cancel.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    });
    Ok(Hub { addr, state, cancel, server, scheduler, dispatcher, reader, writer })
}

impl Hub {
    /// Stops accepting connections, finishes the requests in flight, lets the writer commit what
    /// it holds, releases the scheduler's lease and closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        // Open live streams end now; they would otherwise hold the server's shutdown.
        self.state.streams().closed.cancel();
        // Requests in flight get 30 s to finish; a client that holds on longer is cut off.
        let mut server = self.server;
        let served = match tokio::time::timeout(std::time::Duration::from_secs(30), &mut server).await {
            Ok(joined) => joined.context("the server task failed")?,
            Err(_) => {
                tracing::warn!("requests still in flight after 30 s were cut off");
                server.abort();
                Ok(())
            }
        };
        let _ = self.scheduler.await;
        let _ = self.reader.await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), self.dispatcher).await;
        // Job runs and relays in flight finish (or are given up after 30 s) before the pool closes.
        self.state.tasks().close();
        if tokio::time::timeout(std::time::Duration::from_secs(30), self.state.tasks().wait()).await.is_err() {
            tracing::warn!("background work still running at shutdown was abandoned");
        }
        let Hub { state, writer, .. } = self;
        let store = state.store().clone();
        drop(state);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), writer).await;
        store.close().await;
        served.context("the server stopped with an error")
    }

    /// A handle that stops the hub when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}
