//! The state every handler and job shares.

use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::assets::AssetManager;
use crate::auth::limiter::LoginLimiter;
use crate::auth::SessionKeys;
use crate::config::Config;
use crate::ingest::Ingest;
use crate::store::Store;

/// Failed sign-ins allowed per client address in [`LOGIN_WINDOW_MS`].
pub const LOGIN_MAX_FAILURES: u32 = 5;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    store: Store,
    ingest: Ingest,
    session_keys: SessionKeys,
    login_limiter: LoginLimiter,
    instance_id: String,
    assets: AssetManager,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("instance_id", &self.0.instance_id).finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state: the session key comes from `auth.session_secret`, else from the
    /// database (generated once, shared by every replica).
    pub async fn new(config: Config, store: Store, ingest: Ingest) -> anyhow::Result<AppState> {
        let configured = config.raw.auth.session_secret.expose_secret().to_string();
        let secret = if configured.is_empty() {
            store
                .setting_or_insert("session_secret", || {
                    use rand::RngCore;
                    let mut bytes = [0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut bytes);
                    hex::encode(bytes)
                })
                .await?
        } else {
            configured
        };
        let assets = AssetManager::open(config.data_dir.join("assets"), config.raw.assets.seed_dir.clone()).await?;
        Ok(AppState(Arc::new(Inner {
            config,
            store,
            ingest,
            session_keys: SessionKeys::new(secret.as_bytes()),
            login_limiter: LoginLimiter::new(LOGIN_MAX_FAILURES, LOGIN_WINDOW_MS),
            instance_id: uuid::Uuid::new_v4().to_string(),
            assets,
        })))
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

    pub fn session_keys(&self) -> &SessionKeys {
        &self.0.session_keys
    }

    pub fn login_limiter(&self) -> &LoginLimiter {
        &self.0.login_limiter
    }

    /// The app assets in `<data_dir>/assets/`.
    pub fn assets(&self) -> &AssetManager {
        &self.0.assets
    }

    /// This replica's name in leases and job runs.
    pub fn instance_id(&self) -> &str {
        &self.0.instance_id
    }
}
