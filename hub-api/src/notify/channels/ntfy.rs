//! The ntfy channel: the alert's message POSTed to the topic URL, with an optional access token
//! as Bearer, and `Title`, `Priority` (from the severity), `Tags` and `Click` (the customer's
//! page) headers. A title that is not ASCII is sent RFC 2047-encoded, which ntfy decodes.

use base64::Engine;
use hub_shared::event::Severity;
use secrecy::{ExposeSecret, SecretString};

use super::{http_url, Alert, FieldError};
use crate::config::RawChannel;

#[derive(Debug, Clone)]
pub struct NtfySpec {
    pub url: reqwest::Url,
    /// Empty: no `Authorization` header.
    pub token: SecretString,
}

impl NtfySpec {
    pub(super) fn parse(raw: &RawChannel) -> Result<NtfySpec, FieldError> {
        let url = http_url(&raw.url)?;
        if url.path().trim_matches('/').is_empty() {
            return Err(("url", "must name the topic (https://ntfy.sh/<topic>)".into()));
        }
        Ok(NtfySpec { url, token: raw.token.clone() })
    }
}

/// ntfy's priority (1–5) of a severity: errors are urgent, warnings high, the rest low.
pub fn priority(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "5",
        Severity::Warning => "4",
        Severity::Info => "2",
    }
}

/// The tags: an emoji name ntfy shows for the severity, then the event type.
fn tags(alert: &Alert) -> String {
    let emoji = match alert.severity {
        Severity::Error => "rotating_light",
        Severity::Warning => "warning",
        Severity::Info => "information_source",
    };
    format!("{emoji},{}", alert.event_type)
}

/// A header value: as it is when it is printable ASCII, else RFC 2047 (`=?UTF-8?B?…?=`).
pub fn header_text(text: &str) -> String {
    let one_line = text.replace(['\r', '\n'], " ");
    if one_line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        one_line
    } else {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(one_line))
    }
}

pub(super) fn request(client: &reqwest::Client, spec: &NtfySpec, alert: &Alert) -> reqwest::RequestBuilder {
    let mut req = client
        .post(spec.url.clone())
        .header("Title", header_text(&alert.title))
        .header("Priority", priority(alert.severity))
        .header("Tags", header_text(&tags(alert)))
        .body(format!("{}: {}", alert.customer_name, alert.message));
    if !alert.link.is_empty() {
        req = req.header("Click", header_text(&alert.link));
    }
    if !spec.token.expose_secret().is_empty() {
        req = req.bearer_auth(spec.token.expose_secret());
    }
    req
}
