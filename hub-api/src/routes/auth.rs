//! Operator sign-in: login with the password, the session's state, logout.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use hub_shared::auth::{LoginRequest, SessionInfo};
use hub_shared::ApiError;

use crate::auth::session::{OPEN_SESSION, SESSION_TTL_MS};
use crate::auth::{limiter, Caller, COOKIE_NAME};
use crate::error::{AppError, Result};
use crate::extract::{client_ip, ApiJson};
use crate::retrieval::address_key;
use crate::state::AppState;

fn served_over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
        || state.config().raw.server.public_url.starts_with("https://")
}

/// Sign in with the operator password.
///
/// Sets the session cookie (HttpOnly, SameSite=Lax, Secure over TLS, 7 days) and answers with
/// the CSRF token to send in `X-CSRF-Token`. Five failures from one address (an IPv6 /64)
/// within 15 minutes lock that address out for 15 minutes (429), on every replica. Two passwords
/// are checked at a time, one per address, with 16 waiting at most (429 beyond); one more check
/// is kept for addresses the operator signed in from before.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the `felhom_session` cookie", body = SessionInfo),
        (status = 401, description = "Wrong password", body = ApiError),
        (status = 404, description = "The hub runs without a password", body = ApiError),
        (status = 429, description = "Too many failed attempts, or too many sign-ins being checked; see Retry-After", body = ApiError),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    body: ApiJson<LoginRequest>,
) -> Result<Response> {
    if !state.config().auth_required() {
        return Err(AppError::NotFound("the hub runs without a password; no sign-in needed".into()));
    }
    let ip = client_ip(&state, &headers, peer);
    let now = chrono::Utc::now().timestamp_millis();
    let store = state.store();
    let address = address_key(ip);
    let subject = limiter::subject(&address);
    // Counted as a failure before the password is checked, forgiven if it is right.
    let Some(counted) = store.count_failure(&subject, "", now, now - limiter::WINDOW_MS, &limiter::locks()).await?
    else {
        let until = store.attempts(&subject).await?.map_or(0, |a| a.locked_until);
        let retry = ((until - now + 999) / 1000).max(1) as u64;
        return Err(AppError::RateLimited {
            message: format!("too many failed sign-ins; try again in {retry} s"),
            retry_after_secs: retry,
        });
    };
    let known = store.sign_in_address_known(&address, now - limiter::KNOWN_FOR_MS).await?;
    let checker = match state.sign_in_checks().enter(&address, known).await {
        Ok(checker) => checker,
        Err(busy) => {
            store.uncount_failure(&subject, &counted, now).await?;
            return Err(AppError::RateLimited { message: busy.to_string(), retry_after_secs: 5 });
        }
    };
    let hash = state.config().raw.auth.password_hash.clone();
    let password = body.value.password;
    let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    drop(checker);
    if !ok {
        tracing::warn!(%ip, failures = counted.failures, "failed operator sign-in");
        return Err(AppError::Unauthorized("wrong password".into()));
    }
    store.clear_attempts(&subject).await?;
    store.remember_sign_in_address(&address, now).await?;
    let sid = uuid::Uuid::new_v4().simple().to_string();
    let expires = now + SESSION_TTL_MS;
    state.store().create_session(&sid, now, expires).await?;
    let token = state.session_keys().issue(&sid, now, expires);
    let cookie = Cookie::build((COOKIE_NAME, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(served_over_tls(&state, &headers))
        .max_age(time::Duration::milliseconds(SESSION_TTL_MS));
    let info = SessionInfo {
        authenticated: true,
        auth_required: true,
        csrf_token: Some(state.session_keys().csrf_token(&sid)),
        expires_at: chrono::DateTime::from_timestamp_millis(expires),
    };
    Ok((jar.add(cookie), Json(info)).into_response())
}

/// The caller's session: whether it may use the operator API, and its CSRF token.
#[utoipa::path(
    get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = SessionInfo))
)]
pub async fn get_session(State(state): State<AppState>, caller: Result<Caller, AppError>) -> Json<SessionInfo> {
    let required = state.config().auth_required();
    let info = match caller {
        Ok(Caller::Operator { session: Some(sid) }) => SessionInfo {
            authenticated: true,
            auth_required: required,
            csrf_token: Some(state.session_keys().csrf_token(&sid)),
            expires_at: None,
        },
        Ok(Caller::Operator { session: None }) => SessionInfo {
            authenticated: true,
            auth_required: false,
            csrf_token: Some(state.session_keys().csrf_token(OPEN_SESSION)),
            expires_at: None,
        },
        _ => SessionInfo { authenticated: false, auth_required: required, csrf_token: None, expires_at: None },
    };
    Json(info)
}

/// Sign out: revokes the session and clears the cookie. Needs the CSRF token.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    security(("operator_session" = [])),
    responses(
        (status = 200, body = hub_shared::auth::Ok),
        (status = 403, description = "CSRF token missing or invalid, or not an operator", body = ApiError),
    )
)]
pub async fn logout(State(state): State<AppState>, caller: Caller, jar: CookieJar) -> Result<Response> {
    caller.require_operator()?;
    if let Caller::Operator { session: Some(sid) } = &caller {
        state.store().revoke_session(sid).await?;
    }
    let jar = jar.remove(Cookie::build(COOKIE_NAME).path("/"));
    Ok((jar, Json(hub_shared::auth::Ok { ok: true })).into_response())
}
