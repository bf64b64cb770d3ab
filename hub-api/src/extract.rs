//! Extractors that turn bad input into clear 4xx answers: JSON bodies whose errors name the field,
//! query strings read into the shared query types, and customer ids checked against the shared
//! pattern; and the client's address.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use hub_shared::page::PageQuery;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::objects_only::ObjectsOnly;
use crate::state::AppState;

/// A JSON body: 415 without a JSON content type, 413 over the body limit, 400 for malformed JSON,
/// 422 naming the field for a wrong type or a missing field. Keeps the raw bytes too.
pub struct ApiJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let JsonBytes(raw) = JsonBytes::from_request(req, state).await?;
        let value = parse_json(&raw)?;
        Ok(ApiJson { value, raw })
    }
}

/// A JSON body as it arrived, for a handler that reads it itself (with [`parse_json`]): 415
/// without a JSON content type, 413 over the body limit.
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        require_json(req.headers())?;
        let raw = Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(e.body_text())
            } else {
                AppError::BadRequest(format!("cannot read the request body: {}", e.body_text()))
            }
        })?;
        Ok(JsonBytes(raw))
    }
}

/// 415 unless the body is declared JSON (`application/json` or `…+json`).
pub fn require_json(headers: &HeaderMap) -> Result<(), AppError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType("send the body as Content-Type: application/json".into()))
    }
}

/// Parses JSON; the error names the path of the field that is wrong. Structs are read only from
/// objects (see [`ObjectsOnly`]). Bodies are read once without tracking the path (tracking it
/// allocates a string for every key read, a few hundred per report); only a body that fails is read
/// again to name the path.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    if let Some(value) = parse_json_strict(raw) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(raw);
    let value = serde_path_to_error::deserialize(ObjectsOnly(&mut de)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let field = if path == "." { "body".to_string() } else { path };
            AppError::invalid(field.clone(), format!("{field}: {inner}"))
        } else {
            AppError::BadRequest(format!("malformed JSON: {inner}"))
        }
    })?;
    de.end().map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// The body as `T`, read once without tracking the path; `None` when it is not (see
/// [`parse_json`] for an answer naming the field).
pub fn parse_json_strict<T: DeserializeOwned>(raw: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let value = T::deserialize(ObjectsOnly(&mut de)).ok()?;
    de.end().is_ok().then_some(value)
}

/// A query string read into one of the shared query types (`hub_shared::page::PageQuery`, …):
/// 400 naming the parameter when it does not parse. Parameters it does not know are ignored, so a
/// handler may read the same query string as two types (a list's filter and its page).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Query(value) =
            Query::<T>::from_request_parts(parts, state).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
        Ok(ApiQuery(value))
    }
}

/// The page size of a list's `limit`: 400 outside 1–500.
pub fn page_limit(page: &PageQuery) -> Result<u32, AppError> {
    page.limit().map_err(AppError::BadRequest)
}

/// A customer id from the path, checked against `^[a-z0-9][a-z0-9-]{0,62}$` (400 otherwise).
pub struct CustomerId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CustomerId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::BadRequest(format!("invalid path: {}", e.body_text())))?;
        hub_shared::validate::customer_id(&id).map_err(|msg| AppError::BadRequest(format!("customer_id: {msg}")))?;
        crate::logging::record_customer(&id);
        Ok(CustomerId(id))
    }
}

/// A rollout's id from the path: a positive whole number (400 otherwise).
pub struct RolloutId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for RolloutId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let (id, raw) = positive_path_id(parts, state).await?;
        id.map(RolloutId)
            .ok_or_else(|| AppError::BadRequest(format!("rollout_id: {raw:?} is not a rollout id (a positive number)")))
    }
}

/// A numeric id from the path (`/{id}`): a positive integer (400 otherwise).
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let (id, raw) = positive_path_id(parts, state).await?;
        id.map(Id).ok_or_else(|| AppError::BadRequest(format!("id must be a positive integer (got {raw:?})")))
    }
}

/// The path's one parameter as a positive integer, if it is one, and the text it was.
async fn positive_path_id<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<(Option<i64>, String), AppError> {
    let Path(raw) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|e| AppError::BadRequest(format!("invalid path: {}", e.body_text())))?;
    Ok((raw.parse::<i64>().ok().filter(|id| *id > 0), raw))
}

/// The client's address: the peer, or, behind a trusted ingress, the last `X-Forwarded-For`
/// entry: the one the ingress itself appended. Earlier entries are written by the client and
/// prove nothing.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if state.config().raw.server.trust_forwarded_for {
        if let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}

/// The caller's address (see [`client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        Ok(ClientIp(client_ip(state, &parts.headers, peer)))
    }
}
