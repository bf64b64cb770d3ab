//! The one error type of the HTTP layer. 4xx variants carry a message for the caller; database
//! and unexpected errors are logged and become a 500 whose body says nothing internal.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_shared::ApiError;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    /// A field's value is wrong: (field, message).
    #[error("{1}")]
    Invalid(String, String),
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// 429 with `Retry-After`.
    #[error("too many requests: {message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(field.into(), message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(..) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests(_) | AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(e) if is_unique_violation(e) => StatusCode::CONFLICT,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid(..) => "invalid_field",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests(_) | AppError::RateLimited { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Database(e) if is_unique_violation(e) => "conflict",
            AppError::Database(_) | AppError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ApiError {
        let message = match self {
            AppError::Database(e) if is_unique_violation(e) => "the resource already exists".to_string(),
            AppError::Database(_) | AppError::Internal(_) => "internal error; see the hub's log".to_string(),
            AppError::Invalid(field, msg) if !msg.contains(field.as_str()) => format!("{field}: {msg}"),
            other => other.to_string(),
        };
        ApiError::new(self.code(), message)
    }
}

/// A form's field problem is a 422 naming the field.
impl From<hub_shared::validate::FieldError> for AppError {
    fn from(problem: hub_shared::validate::FieldError) -> Self {
        AppError::Invalid(problem.field, problem.message)
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut res = (status, Json(self.body())).into_response();
        if let AppError::RateLimited { retry_after_secs, .. } = self {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        res
    }
}
