//! App assets: the manifest and the files for controllers (any API key) and the operator, and the
//! operator's upload and delete. Files are served with ETag/304, Last-Modified, byte ranges and a
//! CSP that keeps an SVG from running anything when opened directly.

use std::io::SeekFrom;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_shared::assets::{parse_asset_name, AssetInfo, AssetManifest, FileQuery};
use hub_shared::ApiError;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use utoipa_axum::router::{UtoipaMethodRouter, UtoipaMethodRouterExt};

use crate::assets::conditional::{self, ByteRange};
use crate::assets::content;
use crate::auth::Caller;
use crate::error::{AppError, Result};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The largest asset the operator may upload.
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;
/// Scripts, plugins and frames are off, even for an SVG opened on its own.
const FILE_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";
const REVALIDATE: &str = "private, no-cache";
const IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// The file routes with the upload's own body limit.
pub fn file_routes(routes: UtoipaMethodRouter<AppState>) -> UtoipaMethodRouter<AppState> {
    routes.layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

/// The manifest of every asset.
///
/// Name, size, SHA-256, content type and modification time of each asset, sorted by name.
/// Controllers compare the hashes to fetch only what changed. Answers 304 to a matching
/// `If-None-Match`.
#[utoipa::path(
    get, path = "/api/v1/assets/manifest", tag = "assets",
    security(("operator_session" = []), ("global_key" = []), ("controller_key" = [])),
    responses(
        (status = 200, body = AssetManifest, headers(("ETag" = String, description = "Weak; changes with any name or hash"))),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
    )
)]
pub async fn get_manifest(State(state): State<AppState>, _any_caller: Caller, headers: HeaderMap) -> Response {
    let manifest = state.assets().manifest();
    let etag = header_value(manifest.etag());
    let cache = [(header::ETAG, etag), (header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE))];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| conditional::none_match(h, manifest.etag()))
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, Json(manifest.to_dto())).into_response()
}

/// Download one asset.
///
/// Only names of the form `{slug}-logo.svg`, `{slug}-logo.png` and `{slug}-screenshot-{N}.webp`
/// that are in the manifest are served; anything else is 404. Supports `If-None-Match` and
/// `If-Modified-Since` (304), one `Range: bytes=` range (206, or 416 outside the file) and
/// `If-Range`.
#[utoipa::path(
    get, path = "/api/v1/assets/file/{filename}", tag = "assets",
    params(("filename" = String, Path, description = "An asset name from the manifest"), FileQuery),
    security(("operator_session" = []), ("global_key" = []), ("controller_key" = [])),
    responses(
        (status = 200, description = "The file", content((AssetFile = "image/svg+xml"), (AssetFile = "image/png"), (AssetFile = "image/webp")),
            headers(("ETag" = String, description = "The SHA-256 in quotes"), ("Last-Modified" = String),
                    ("Cache-Control" = String), ("Content-Length" = u64), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested byte range",
            content((AssetFile = "image/svg+xml"), (AssetFile = "image/png"), (AssetFile = "image/webp")), headers(("Content-Range" = String))),
        (status = 304, description = "Unchanged"),
        (status = 404, description = "Not an asset name, or no such asset", body = ApiError),
        (status = 416, description = "The range lies outside the file", body = ApiError),
    )
)]
pub async fn get_file(
    State(state): State<AppState>,
    _any_caller: Caller,
    name: std::result::Result<Path<String>, PathRejection>,
    ApiQuery(query): ApiQuery<FileQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let not_found = || AppError::NotFound("no such asset; see /api/v1/assets/manifest for the names".into());
    let Ok(Path(name)) = name else { return Err(not_found()) };
    if parse_asset_name(&name).is_err() {
        return Err(not_found());
    }
    let Some(open) = state.assets().open_file(&name).await? else { return Err(not_found()) };
    let info = &open.info;
    let etag = format!("\"{}\"", info.sha256);
    let last_modified = conditional::http_date(info.modified_at);
    let versioned = query.v.is_some_and(|v| v == info.sha256);
    let mut out = HeaderMap::new();
    out.insert(header::ETAG, header_value(&etag));
    out.insert(header::LAST_MODIFIED, header_value(&last_modified));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(if versioned { IMMUTABLE } else { REVALIDATE }));
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_CSP));

    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    let unchanged = match text(header::IF_NONE_MATCH) {
        Some(h) => conditional::none_match(h, &etag),
        None => text(header::IF_MODIFIED_SINCE).is_some_and(|h| conditional::not_modified_since(h, info.modified_at)),
    };
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }

    out.insert(header::CONTENT_TYPE, header_value(&info.content_type));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let range_allowed = text(header::IF_RANGE).is_none_or(|h| conditional::if_range_holds(h, &etag, &last_modified));
    let range = match text(header::RANGE) {
        Some(h) if range_allowed => conditional::parse_range(h, info.size),
        _ => ByteRange::Full,
    };
    let (status, start, len) = match range {
        ByteRange::Full => (StatusCode::OK, 0, info.size),
        ByteRange::Partial { start, end } => {
            out.insert(header::CONTENT_RANGE, header_value(&format!("bytes {start}-{end}/{}", info.size)));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        ByteRange::Unsatisfiable => {
            out.insert(header::CONTENT_RANGE, header_value(&format!("bytes */{}", info.size)));
            out.remove(header::CONTENT_TYPE);
            let body = ApiError::new("range_not_satisfiable", format!("the file has {} bytes", info.size));
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, out, Json(body)).into_response());
        }
    };
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let mut file = tokio::fs::File::from_std(open.file);
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await.map_err(|e| AppError::Internal(e.into()))?;
    }
    let body = Body::from_stream(ReaderStream::new(file.take(len)));
    Ok((status, out, body).into_response())
}

/// The raw bytes of an asset file (documentation only: the handler reads the body as bytes).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct AssetFile(Vec<u8>);

/// Upload or replace an asset (operator).
///
/// The raw file is the body, sent as `application/octet-stream` or as the type its name implies
/// (`image/svg+xml`, `image/png` or `image/webp`), at most 2 MiB; the name decides the type. The
/// content must match the type (magic bytes; an SVG may not contain scripts, event handlers,
/// `javascript:` links or foreign objects). The file is written atomically and is in the
/// manifest as soon as this answers.
#[utoipa::path(
    put, path = "/api/v1/assets/file/{filename}", tag = "assets",
    params(("filename" = String, Path, description = "`{slug}-logo.svg`, `{slug}-logo.png` or `{slug}-screenshot-{N}.webp`")),
    request_body(content = AssetFile, content_type = "application/octet-stream",
        description = "The file's bytes; `Content-Type` may also be the image type its name implies"),
    security(("operator_session" = [])),
    responses(
        (status = 200, description = "Replaced", body = AssetInfo),
        (status = 201, description = "Created", body = AssetInfo),
        (status = 400, description = "Not an asset name; the message shows the patterns", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 413, description = "Larger than 2 MiB", body = ApiError),
        (status = 415, description = "The Content-Type is neither `application/octet-stream` nor the type of the name", body = ApiError),
        (status = 422, description = "The content is empty, not of its type, or an unsafe SVG", body = ApiError),
    )
)]
pub async fn put_file(
    State(state): State<AppState>,
    caller: Caller,
    name: std::result::Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    caller.require_operator()?;
    let name = name_to_write(name)?;
    let expected = parse_asset_name(&name).map_err(|e| AppError::BadRequest(format!("filename: {e}")))?.content_type;
    let sent = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let sent = sent.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if sent != expected && sent != "application/octet-stream" {
        return Err(AppError::UnsupportedMediaType(format!(
            "{name} must be sent as Content-Type: {expected} or application/octet-stream (got {sent:?})"
        )));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(format!("an asset may be at most {MAX_UPLOAD_BYTES} bytes"))
        } else {
            AppError::BadRequest(format!("cannot read the request body: {}", e.body_text()))
        }
    })?;
    content::check_upload(expected, &body).map_err(|e| AppError::invalid("body", e))?;
    let (info, created) = state.assets().put(&name, body).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(info)).into_response())
}

/// Delete an asset (operator).
#[utoipa::path(
    delete, path = "/api/v1/assets/file/{filename}", tag = "assets",
    params(("filename" = String, Path, description = "An asset name from the manifest")),
    security(("operator_session" = [])),
    responses(
        (status = 204, description = "Deleted; gone from the manifest"),
        (status = 400, description = "Not an asset name", body = ApiError),
        (status = 403, description = "Not the operator, or no CSRF token", body = ApiError),
        (status = 404, description = "No such asset", body = ApiError),
    )
)]
pub async fn delete_file(
    State(state): State<AppState>,
    caller: Caller,
    name: std::result::Result<Path<String>, PathRejection>,
) -> Result<StatusCode> {
    caller.require_operator()?;
    let name = name_to_write(name)?;
    parse_asset_name(&name).map_err(|e| AppError::BadRequest(format!("filename: {e}")))?;
    if state.assets().delete(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound(format!("no asset {name}")))
    }
}

fn name_to_write(name: std::result::Result<Path<String>, PathRejection>) -> Result<String> {
    name.map(|Path(n)| n).map_err(|e| AppError::BadRequest(format!("filename: {}", e.body_text())))
}

/// Values built from hashes, dates, names that passed the asset rule and numbers are always
/// valid header values; the fallback only keeps this total.
fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}
