//! The operator's web app, embedded in release builds (debug builds read `hub-web/dist` from
//! disk). Hashed files are cached for a year, `index.html` never; every unknown path outside
//! `/api/` gets `index.html` so deep links reload; unknown `/api/` paths get a JSON 404.

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "../hub-web/dist"]
#[allow_missing = true]
struct WebApp;

pub async fn fallback(uri: Uri) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return AppError::NotFound(format!("no API endpoint {path}")).into_response();
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty() && file != "index.html" {
        if let Some(asset) = WebApp::get(file) {
            let mime = asset.metadata.mimetype().to_string();
            return (
                [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, cache_control(file).to_string())],
                asset.data,
            )
                .into_response();
        }
    }
    match WebApp::get("index.html") {
        Some(index) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (header::CACHE_CONTROL, "no-cache".to_string()),
                (header::CONTENT_SECURITY_POLICY, crate::headers::app_csp(&String::from_utf8_lossy(&index.data))),
            ],
            index.data,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "The web app is not built into this binary; run `cargo xtask run`, or use the API at /api/docs.",
        )
            .into_response(),
    }
}

/// trunk names built files `name-<hash>.ext`; those never change and may be cached for a year.
fn cache_control(file: &str) -> &'static str {
    let stem = file.rsplit('/').next().unwrap_or(file);
    // wasm-bindgen adds `_bg` after the hash: `hub-web-<hash>_bg.wasm`.
    let hashed = stem
        .split('.')
        .next()
        .map(|base| base.strip_suffix("_bg").unwrap_or(base))
        .and_then(|base| base.rsplit_once('-'))
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_hexdigit()));
    if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

#[cfg(test)]
mod tests {
    use super::cache_control;

    #[test]
    fn only_hashed_files_are_immutable() {
        assert_eq!(cache_control("hub-web-3f2a9c0d1e4b5a6f.wasm"), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("hub-web-d4fdbd92565df909_bg.wasm"), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("hub-web-d4fdbd92565df909.js"), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("style-0123456789abcdef.css"), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("favicon.svg"), "no-cache");
        assert_eq!(cache_control("index.html"), "no-cache");
    }
}
