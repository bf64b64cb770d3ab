//! Security headers on every answer: no framing, no referrer, no content sniffing, and a
//! Content-Security-Policy (the web app's allows scripts only from the hub, wasm, and the one
//! inline loader trunk writes, by its hash; the API's allows nothing). Answers that carry a
//! secret also get `Cache-Control: no-store` (see `router::secret_routes`).

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy of API answers (JSON, YAML, asset files): nothing runs, nothing frames them.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// The Swagger UI keeps its own needs; it only may not be framed.
pub const DOCS_CSP: &str = "frame-ancestors 'none'";

/// The web app's policy for `index_html`: its own files, wasm compiled from them, and each
/// inline script of the page allowed by its SHA-256. Styles come from the stylesheet; style
/// attributes are allowed (the metric bars set their width), style elements are not.
pub fn app_csp(index_html: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The text of each `<script>` without a `src`, exactly as the browser hashes it.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = rest.find("<script")?;
        let tag_end = start + rest[start..].find('>')?;
        let tag = &rest[start..tag_end];
        let body_start = tag_end + 1;
        let body_end = body_start + rest[body_start..].find("</script>")?;
        let body = &rest[body_start..body_end];
        rest = &rest[body_end..];
        if !tag.contains(" src=") {
            return Some(body);
        }
    })
}

/// Adds the headers every answer has, keeping what a handler set itself.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let csp = if path == "/api/docs" || path.starts_with("/api/docs/") {
        DOCS_CSP.to_string()
    } else if path == "/api" || path.starts_with("/api/") {
        API_CSP.to_string()
    } else {
        app_csp("")
    };
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.entry(CONTENT_SECURITY_POLICY).or_insert(csp);
    }
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Marks an answer as one no cache may keep.
pub async fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What trunk writes (abridged): an inline module loader and a modulepreload link.
    const INDEX: &str =
        "<head>\n<script type=\"module\">\nimport init from '/hub-web-ac5d.js';\nawait init();\n</script>\n\
        <script src=\"/other.js\"></script>\n<link rel=\"modulepreload\" href=\"/hub-web-ac5d.js\"></head>";

    #[test]
    fn the_inline_loader_is_allowed_by_its_hash_and_nothing_else_inline() {
        let scripts: Vec<&str> = inline_scripts(INDEX).collect();
        assert_eq!(scripts, ["\nimport init from '/hub-web-ac5d.js';\nawait init();\n"]);
        let csp = app_csp(INDEX);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(scripts[0].as_bytes()));
        assert!(csp.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';")), "{csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(inline_scripts("<p>no scripts</p><script>unclosed").count(), 0);
    }
}
