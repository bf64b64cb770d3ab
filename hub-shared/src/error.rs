//! The one wire error the server sends and the clients decode.
//!
//! On the wire it carries the original Go hub's `{"ok": false, "error": <message>}` beside
//! `code` and `message`, so controllers built for that hub log the reason as they always did.
//! Decoding accepts either shape: ours, and the original's (`code` then reads `error`).

use serde::{Deserialize, Serialize};

/// Every non-2xx answer of the API carries this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ErrorBody", from = "AnyErrorBody")]
pub struct ApiError {
    /// A stable, machine-readable code such as `not_found` or `invalid_field`.
    pub code: String,
    /// A human-readable explanation of what was wrong.
    pub message: String,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

/// Every non-2xx answer of the API carries this body; `ok` is always `false` and `error` repeats
/// `message` (the original hub's fields, kept for the controllers built for it).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct ErrorBody {
    /// Always `false` (as the original hub answered).
    ok: bool,
    /// A stable, machine-readable code such as `not_found` or `invalid_field`.
    code: String,
    /// A human-readable explanation of what was wrong.
    message: String,
    /// The same text as `message`, under the original hub's name.
    error: String,
}

impl From<ApiError> for ErrorBody {
    fn from(e: ApiError) -> Self {
        ErrorBody { ok: false, code: e.code, error: e.message.clone(), message: e.message }
    }
}

/// An error as it may arrive: ours, with or without the original's fields, or the original's.
#[derive(Deserialize)]
struct AnyErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

impl From<AnyErrorBody> for ApiError {
    fn from(body: AnyErrorBody) -> Self {
        let message = body.message.or(body.error).unwrap_or_default();
        ApiError { code: body.code.unwrap_or_else(|| "error".into()), message }
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ApiError {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <ErrorBody as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ApiError {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ApiError")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sent_with_the_original_hubs_fields() {
        let body = serde_json::to_value(ApiError::new("not_found", "no such customer")).unwrap();
        assert_eq!(
            body,
            json!({"ok": false, "code": "not_found", "message": "no such customer", "error": "no such customer"})
        );
    }

    #[test]
    fn reads_our_old_bodies_and_the_originals() {
        let ours: ApiError = serde_json::from_value(json!({"code": "conflict", "message": "exists"})).unwrap();
        assert_eq!(ours, ApiError::new("conflict", "exists"));
        let original: ApiError = serde_json::from_value(json!({"ok": false, "error": "CSRF token missing"})).unwrap();
        assert_eq!(original, ApiError::new("error", "CSRF token missing"));
        let round: ApiError = serde_json::from_value(serde_json::to_value(ours.clone()).unwrap()).unwrap();
        assert_eq!(round, ours);
    }
}
