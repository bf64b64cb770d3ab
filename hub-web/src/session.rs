//! The operator's session as the app knows it, shared by the shell (`app.rs`) and the pages
//! (the login page sets it), and the login page's URL that leads back to where the operator was.

use hub_shared::auth::SessionInfo;
use hub_shared::ApiError;
use leptos::prelude::*;

/// What the app knows about the operator's session; `None` until the hub has answered.
#[derive(Clone, Copy)]
pub struct Session {
    pub info: RwSignal<Option<SessionInfo>>,
    pub error: RwSignal<Option<ApiError>>,
}

impl Session {
    /// The operator may see the protected pages.
    pub fn allowed(&self) -> bool {
        self.info.with(|i| i.as_ref().is_some_and(|i| i.authenticated || !i.auth_required))
    }

    pub fn signed_out(&self) {
        self.info.set(Some(SessionInfo {
            authenticated: false,
            auth_required: true,
            csrf_token: None,
            expires_at: None,
        }));
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The login page's URL that leads back to `path` (with its query) after signing in.
pub fn login_url(path_and_query: &str) -> String {
    if path_and_query.is_empty() || path_and_query == "/" || path_and_query.starts_with("/login") {
        "/login".into()
    } else {
        format!("/login?next={}", js_sys::encode_uri_component(path_and_query))
    }
}
