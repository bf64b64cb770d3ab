//! Who is calling: the three auth scopes and the extractor that finds them.
//!
//! - **controller**: a per-customer API key (`Authorization: Bearer …`), found by its SHA-256
//!   hash; it may post and read only for its own customer.
//! - **global**: `api.report_api_key`, compared in constant time; report ingest and reads.
//! - **operator**: the session cookie (or anyone, when the hub runs without a password). Every
//!   state-changing request made with the cookie must carry the session's `X-CSRF-Token`.
//!
//! The extractor reads the hub's state through [`AuthState`], which `AppState` implements, so
//! this module sits below the state that holds its session keys.

pub mod limiter;
pub mod session;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::CookieJar;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::error::{AppError, Result};
use crate::store::Store;

pub use session::{SessionKeys, COOKIE_NAME};

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The operator; `session` is `None` when the hub runs without a password.
    Operator { session: Option<String> },
    /// The global report key.
    Global,
    /// A controller with its customer's key.
    Controller { customer_id: String },
}

impl Caller {
    /// Only the operator.
    pub fn require_operator(&self) -> Result<()> {
        match self {
            Caller::Operator { .. } => Ok(()),
            _ => Err(AppError::Forbidden("this endpoint needs an operator session".into())),
        }
    }

    /// The operator or the global key: reads across the fleet.
    pub fn require_fleet_read(&self) -> Result<()> {
        match self {
            Caller::Operator { .. } | Caller::Global => Ok(()),
            Caller::Controller { .. } => {
                Err(AppError::Forbidden("a customer's key may read only its own customer".into()))
            }
        }
    }

    /// The operator, the global key, or the key of `customer_id`.
    pub fn require_read(&self, customer_id: &str) -> Result<()> {
        crate::logging::record_customer(customer_id);
        match self {
            Caller::Controller { customer_id: own } if own != customer_id => {
                Err(AppError::Forbidden("a customer's key may read only its own customer".into()))
            }
            _ => Ok(()),
        }
    }

    /// Who may read `customer_id`'s infra backups (restic passwords, controller.yaml): the
    /// operator and that customer's key; the global key only when `global_allowed`
    /// (`api.global_key_reads_backups`).
    pub fn require_backup_read(&self, customer_id: &str, global_allowed: bool) -> Result<()> {
        match self {
            Caller::Global if !global_allowed => Err(AppError::Forbidden(
                "the global key may not read infra backups (the hub allows it only with \
                 api.global_key_reads_backups: true); use the customer's own key"
                    .into(),
            )),
            _ => self.require_read(customer_id),
        }
    }

    /// What a controller may push for `customer_id`: the global key or that customer's key.
    pub fn require_controller_for(&self, customer_id: &str) -> Result<()> {
        crate::logging::record_customer(customer_id);
        match self {
            Caller::Global => Ok(()),
            Caller::Controller { customer_id: own } if own == customer_id => Ok(()),
            Caller::Controller { .. } => {
                Err(AppError::Forbidden("a customer's key may post only for its own customer_id".into()))
            }
            Caller::Operator { session: None } => {
                Err(AppError::Unauthorized("send a controller's API key as `Authorization: Bearer <key>`".into()))
            }
            Caller::Operator { .. } => Err(AppError::Forbidden("this endpoint needs a controller's API key".into())),
        }
    }
}

/// What the [`Caller`] extractor needs of the hub's state.
pub trait AuthState: Send + Sync {
    fn config(&self) -> &Config;
    fn store(&self) -> &Store;
    fn session_keys(&self) -> &SessionKeys;
    /// Customers found by their key hash (customer id, stored hash), see [`crate::cache`].
    fn key_cache(&self) -> &crate::cache::LookupCache<(String, String)>;
}

/// The SHA-256 of an API key, as stored (hex).
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn unsafe_method(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl<S: AuthState> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::Unauthorized("the Authorization header must be `Bearer <api key>`".into()))?;
            return authenticate_key(state, token).await;
        }
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(cookie) = jar.get(COOKIE_NAME) {
            let now = chrono::Utc::now().timestamp_millis();
            let sid = state
                .session_keys()
                .verify(cookie.value(), now)
                .ok_or_else(|| AppError::Unauthorized("the session is invalid or expired; sign in again".into()))?;
            if !state.store().session_active(&sid, now).await? {
                return Err(AppError::Unauthorized("the session has ended; sign in again".into()));
            }
            check_csrf(parts, state, &sid)?;
            return Ok(Caller::Operator { session: Some(sid) });
        }
        if !state.config().auth_required() {
            check_open_host(parts, state)?;
            check_csrf(parts, state, session::OPEN_SESSION)?;
            return Ok(Caller::Operator { session: None });
        }
        Err(AppError::Unauthorized("sign in, or send `Authorization: Bearer <api key>`".into()))
    }
}

/// Without a password the operator API is open to whoever reaches the hub, which it only allows
/// on loopback (or on purpose). A page elsewhere could still reach it through DNS rebinding, with
/// its own name in `Host`: only loopback names and the configured public host are accepted.
fn check_open_host(parts: &Parts, state: &impl AuthState) -> Result<()> {
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let loopback =
        name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let public =
        state.config().raw.server.public_url.split("://").nth(1).and_then(|rest| rest.split(['/', ':']).next());
    if loopback || (public.is_some_and(|p| !p.is_empty() && p.eq_ignore_ascii_case(name))) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this hub runs without a password and answers the operator API only for loopback host names".into(),
        ))
    }
}

fn check_csrf(parts: &Parts, state: &impl AuthState, sid: &str) -> Result<()> {
    if !unsafe_method(&parts.method) {
        return Ok(());
    }
    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let expected = state.session_keys().csrf_token(sid);
    if sent.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(AppError::Forbidden("CSRF token missing or invalid (send the session's X-CSRF-Token)".into()));
    }
    Ok(())
}

async fn authenticate_key(state: &impl AuthState, token: &str) -> Result<Caller> {
    let global = state.config().raw.api.report_api_key.expose_secret();
    if !global.is_empty() && bool::from(token.as_bytes().ct_eq(global.as_bytes())) {
        return Ok(Caller::Global);
    }
    let hash = key_hash(token);
    if let Some((customer_id, stored)) = customer_by_key_hash(state, &hash).await? {
        if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) {
            crate::logging::record_customer(&customer_id);
            return Ok(Caller::Controller { customer_id });
        }
    }
    Err(AppError::Unauthorized("unknown API key".into()))
}

/// The customer of a key hash, from memory when this replica found it less than
/// [`crate::cache::TTL`] ago and wrote no config since. Unknown keys are not remembered.
async fn customer_by_key_hash(state: &impl AuthState, hash: &str) -> Result<Option<(String, String)>> {
    let now = std::time::Instant::now();
    let generation = state.store().config_generation();
    if let Some(found) = state.key_cache().get(hash, generation, now) {
        return Ok(Some(found));
    }
    let found = state.store().customer_by_key_hash(hash).await?;
    if let Some(found) = &found {
        state.key_cache().put(hash, found.clone(), generation, now);
    }
    Ok(found)
}
