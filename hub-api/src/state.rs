//! The state every handler and job shares.

use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::assets::AssetManager;
use crate::auth::limiter::SignInChecks;
use crate::auth::{AuthState, SessionKeys};
use crate::cache::{LookupCache, SetSnapshot};
use crate::config::Config;
use crate::controller::ControllerClient;
use crate::crypto::{self, Cipher};
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    store: Store,
    ingest: Ingest,
    notifier: Notifier,
    session_keys: SessionKeys,
    cipher: Cipher,
    sign_in_checks: SignInChecks,
    event_limiter: crate::ratelimit::TokenBuckets,
    push_limits: crate::backups::PushLimits,
    leads: std::sync::atomic::AtomicBool,
    tasks: tokio_util::task::TaskTracker,
    instance_id: String,
    assets: AssetManager,
    metrics: Metrics,
    controllers: ControllerClient,
    streams: crate::stream::Streams,
    /// The blocked customers, as reports' answers say (see [`crate::cache`]).
    blocked: SetSnapshot,
    /// Which customer an API key hash belongs to, with the stored hash.
    keys: LookupCache<(String, String)>,
    /// The fleet list, kept in memory (see [`crate::fleet_list`]).
    fleet_view: crate::fleet_list::FleetView,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("instance_id", &self.0.instance_id).finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state: the cipher for secrets at rest (see [`crate::crypto`]), and the session
    /// key from `auth.session_secret`, else from the database, where it is generated once,
    /// sealed, and shared by every replica.
    pub async fn new(config: Config, store: Store, ingest: Ingest, metrics: Metrics) -> anyhow::Result<AppState> {
        let cipher = Cipher::from_config(&config)?;
        let configured = config.raw.auth.session_secret.expose_secret().to_string();
        let secret = if configured.is_empty() { stored_session_secret(&store, &cipher).await? } else { configured };
        let assets = AssetManager::open(config.data_dir.join("assets"), config.raw.assets.seed_dir.clone()).await?;
        let mut notifier = Notifier::from_config(&config)?;
        notifier.metrics = metrics.clone();
        let session_keys = SessionKeys::new(secret.as_bytes(), &config.raw.auth.password_hash);
        let controllers = ControllerClient::new(config.controller_timeout)?;
        let config_heartbeat = config.stream_heartbeat;
        Ok(AppState(Arc::new(Inner {
            config,
            store,
            ingest,
            notifier,
            session_keys,
            cipher,
            sign_in_checks: SignInChecks::default(),
            event_limiter: crate::ratelimit::TokenBuckets::for_events(),
            push_limits: crate::backups::PushLimits::default(),
            leads: std::sync::atomic::AtomicBool::new(false),
            tasks: tokio_util::task::TaskTracker::new(),
            instance_id: uuid::Uuid::new_v4().to_string(),
            assets,
            metrics,
            controllers,
            streams: crate::stream::Streams::new(config_heartbeat),
            blocked: SetSnapshot::default(),
            keys: LookupCache::default(),
            fleet_view: Default::default(),
        })))
    }

    /// The fleet list's snapshot and what decides when it is rebuilt.
    pub fn fleet_view(&self) -> &crate::fleet_list::FleetView {
        &self.0.fleet_view
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn ingest(&self) -> &Ingest {
        &self.0.ingest
    }

    /// The email client and the notification dispatcher's wake-up bell.
    pub fn notifier(&self) -> &Notifier {
        &self.0.notifier
    }

    pub fn session_keys(&self) -> &SessionKeys {
        &self.0.session_keys
    }

    pub fn cipher(&self) -> &Cipher {
        &self.0.cipher
    }

    /// The bcrypt checkers of operator sign-ins (see [`crate::auth::limiter`]).
    pub fn sign_in_checks(&self) -> &SignInChecks {
        &self.0.sign_in_checks
    }

    /// Takes a token of `customer_id`'s bucket for events and notify (see [`crate::ratelimit`]).
    pub fn limit_events(&self, customer_id: &str, now: i64) -> crate::error::Result<()> {
        self.0.event_limiter.take(customer_id, now).map_err(|retry_after_secs| crate::error::AppError::RateLimited {
            message: format!(
                "too many events and notifications for customer {customer_id:?}; try again in {retry_after_secs} s"
            ),
            retry_after_secs,
        })
    }

    /// The slots and turns of infra backup pushes.
    pub fn push_limits(&self) -> &crate::backups::PushLimits {
        &self.0.push_limits
    }

    /// The app assets in `<data_dir>/assets/`.
    pub fn assets(&self) -> &AssetManager {
        &self.0.assets
    }

    /// Background work started by requests and the scheduler (job runs, legacy relays), which a
    /// graceful shutdown waits for.
    pub fn tasks(&self) -> &tokio_util::task::TaskTracker {
        &self.0.tasks
    }

    /// The hub's Prometheus metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The client of calls to customers' controllers (`controllers.timeout`).
    pub fn controllers(&self) -> &ControllerClient {
        &self.0.controllers
    }

    /// This replica's open live streams and their fan-out (see [`crate::stream`]).
    pub fn streams(&self) -> &crate::stream::Streams {
        &self.0.streams
    }

    /// Whether this replica holds the scheduler lease (set by the scheduler on every tick).
    pub fn leads(&self) -> bool {
        self.0.leads.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_leads(&self, leads: bool) {
        self.0.leads.store(leads, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether `customer_id` has a config that is blocked; from the set of blocked customers in
    /// memory when this replica read it less than [`crate::cache::TTL`] ago and wrote no config
    /// since, else from the database (one read of the set, however many requests wait for it).
    pub async fn customer_blocked(&self, customer_id: &str) -> crate::error::Result<bool> {
        let snapshot = &self.0.blocked;
        if let Some(set) = snapshot.get(self.store().config_generation(), std::time::Instant::now()) {
            return Ok(set.contains(customer_id));
        }
        let _reading = snapshot.refresh.lock().await;
        let generation = self.store().config_generation();
        let now = std::time::Instant::now();
        if let Some(set) = snapshot.get(generation, now) {
            return Ok(set.contains(customer_id));
        }
        let set = snapshot.put(self.store().blocked_customers().await?, generation, now);
        Ok(set.contains(customer_id))
    }

    /// This replica's name in leases and job runs.
    pub fn instance_id(&self) -> &str {
        &self.0.instance_id
    }
}

/// The `Caller` extractor reads the state through this.
impl AuthState for AppState {
    fn config(&self) -> &Config {
        AppState::config(self)
    }

    fn store(&self) -> &Store {
        AppState::store(self)
    }

    fn session_keys(&self) -> &SessionKeys {
        AppState::session_keys(self)
    }

    fn key_cache(&self) -> &LookupCache<(String, String)> {
        &self.0.keys
    }
}

pub(crate) const SESSION_SECRET_CONTEXT: &str = "settings.session_secret";

/// The generated session secret, sealed in `settings`. A secret an older version stored in
/// clear is sealed and its clear copy deleted.
async fn stored_session_secret(store: &Store, cipher: &Cipher) -> anyhow::Result<String> {
    let legacy = store.setting("session_secret").await?;
    let sealed = store
        .setting_or_insert("session_secret_enc", || {
            cipher.seal_str(SESSION_SECRET_CONTEXT, legacy.as_deref().unwrap_or(&crypto::generate_hex_secret()))
        })
        .await?;
    let secret = cipher.open_string(SESSION_SECRET_CONTEXT, &sealed).map_err(|e| {
        anyhow::anyhow!("{e:#}; the session secret was sealed with another key (check security.encryption_key)")
    })?;
    if legacy.is_some() {
        store.delete_setting("session_secret").await?;
    }
    Ok(secret)
}
