//! The confirmation link of a customer's preference address, opened in a browser: `GET` shows the
//! address and a button, `POST` (the button) confirms it. Opening the link confirms nothing, as
//! mail scanners open links. Public: the token is the credential. Small Hungarian HTML pages; an
//! unknown, spent or expired token gets the same 404 page.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::email_confirm;
use crate::error::Result;
use crate::state::AppState;

/// The pages' policy: their own inline style, a form to the same address, nothing else.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The page a confirmation link opens: the address, and a button that confirms it.
#[utoipa::path(
    get, path = "/api/v1/notifications/confirm/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The token of the confirmation email's link")),
    responses(
        (status = 200, description = "A Hungarian page naming the address, with a button that confirms it (a POST to the same address)", content_type = "text/html", body = String),
        (status = 404, description = "A Hungarian page: the link is unknown, used or expired (one page for each)", content_type = "text/html", body = String),
    )
)]
pub async fn get_confirmation(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response> {
    let Some(owner) = email_confirm::find_link(state.store(), &token, chrono::Utc::now()).await? else {
        return Ok(not_found());
    };
    let body = format!(
        "<h1>E-mail cím megerősítése</h1>\
         <p>Ezt a címet adták meg a Felhom értesítések címzettjeként:</p><p><strong>{}</strong></p>\
         <p>Ha a cím az Öné, és kéri a Felhom értesítéseit, kérjük, erősítse meg.</p>\
         <form method=\"post\"><button type=\"submit\">Megerősítem</button></form>\
         <p class=\"muted\">Ha nem Ön kérte, zárja be ezt az oldalt: erre a címre nem küldünk több levelet.</p>",
        escape(&owner.email)
    );
    Ok(page(StatusCode::OK, "E-mail cím megerősítése", &body))
}

/// Confirm the address of a confirmation link (the button of its page).
///
/// The link is spent: the address gets the customer's notifications from now on.
#[utoipa::path(
    post, path = "/api/v1/notifications/confirm/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The token of the confirmation email's link")),
    responses(
        (status = 200, description = "A Hungarian page: the address is confirmed", content_type = "text/html", body = String),
        (status = 404, description = "A Hungarian page: the link is unknown, used or expired (one page for each)", content_type = "text/html", body = String),
    )
)]
pub async fn confirm_email(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response> {
    let Some(email) = email_confirm::follow_link(state.store(), &token, chrono::Utc::now()).await? else {
        return Ok(not_found());
    };
    let body = format!(
        "<h1>Köszönjük!</h1><p>A(z) <strong>{}</strong> címet megerősítette: ide küldjük a Felhom \
         értesítéseit, amelyeket a vezérlő felületén kért.</p><p>Ezt az oldalt bezárhatja.</p>",
        escape(&email)
    );
    Ok(page(StatusCode::OK, "Megerősítve", &body))
}

fn not_found() -> Response {
    let body = "<h1>A link nem érvényes</h1><p>Ez a megerősítő link ismeretlen, már felhasználták, vagy lejárt.</p>\
                <p>Új linket kap, ha a címet újra megadja a Felhom vezérlő felületén.</p>";
    page(StatusCode::NOT_FOUND, "A link nem érvényes", body)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"hu\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} – Felhom</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;\
         line-height:1.5;color:#1f2933}}button{{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.4rem;\
         background:#2563eb;color:#fff;cursor:pointer}}.muted{{color:#6b7280;font-size:.9rem}}</style></head>\
         <body>{body}</body></html>"
    );
    let headers = [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, PAGE_CSP)];
    (status, headers, html).into_response()
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` as entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(super::escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
