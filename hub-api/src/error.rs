//! The one error type of the HTTP layer. 4xx variants carry a message for the caller; database
//! and unexpected errors are logged and become a 500 whose body says nothing internal. The
//! store's errors are mapped here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_shared::ApiError;

use crate::controller::ControllerError;
use crate::store::StoreError;

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
    /// Something the hub called on the caller's behalf failed (a notification channel).
    #[error("{0}")]
    BadGateway(String),
    /// The store's answer: not found (404), a conflict or unique key (409), a corrupt row or
    /// the database failing (a logged 500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A call to a customer's controller failed: 409 when the operator must act first (no or
    /// an unaccepted address), 502 when the controller failed.
    #[error(transparent)]
    Controller(ControllerError),
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
            AppError::Controller(e) => e.status(),
            AppError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            AppError::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            AppError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            AppError::Store(StoreError::Corrupt { .. } | StoreError::Db(_)) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &'static str {
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
            AppError::Controller(e) => e.code(),
            AppError::BadGateway(_) => "bad_gateway",
            AppError::Store(StoreError::NotFound(_)) => "not_found",
            AppError::Store(StoreError::Conflict(_)) => "conflict",
            AppError::Store(StoreError::Corrupt { .. } | StoreError::Db(_)) | AppError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ApiError {
        let message = match self {
            AppError::Store(StoreError::Corrupt { .. } | StoreError::Db(_)) | AppError::Internal(_) => {
                "internal error; see the hub's log".to_string()
            }
            AppError::Invalid(field, msg) if !msg.contains(field.as_str()) => format!("{field}: {msg}"),
            other => other.to_string(),
        };
        ApiError::new(self.code(), message)
    }
}

/// A controller action's failure; the hub's own errors on the way keep their meaning.
impl From<ControllerError> for AppError {
    fn from(e: ControllerError) -> Self {
        match e {
            ControllerError::Hub(inner) => *inner,
            other => AppError::Controller(other),
        }
    }
}

/// A form's field problem is a 422 naming the field.
impl From<hub_shared::validate::FieldError> for AppError {
    fn from(problem: hub_shared::validate::FieldError) -> Self {
        AppError::Invalid(problem.field, problem.message)
    }
}

/// A database error met outside the store's own functions; a unique violation is a 409.
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Store(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AppError::Store(StoreError::Corrupt { table, key, what }) => {
                tracing::error!(table, key, what, "request failed: a stored row cannot be read");
            }
            _ if status.is_server_error() => tracing::error!(error = %self, "request failed"),
            _ => {}
        }
        let mut res = (status, Json(self.body())).into_response();
        if let AppError::RateLimited { retry_after_secs, .. } = self {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        res
    }
}
