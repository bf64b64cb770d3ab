//! Operator sign-in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest").field("password", &"<redacted>").finish()
    }
}

/// The state of the caller's operator session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The caller may use the operator API.
    pub authenticated: bool,
    /// The hub has a password; `false` when it runs without operator login.
    pub auth_required: bool,
    /// Send this in `X-CSRF-Token` with every state-changing request made with the cookie.
    pub csrf_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A plain `{"ok":true}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ok {
    pub ok: bool,
}
