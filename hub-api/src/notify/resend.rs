//! The Resend email API client: `POST {base}/emails` (text and HTML) with the API key as Bearer, a timeout per
//! attempt, and retries with exponential backoff on 5xx, 429 and transport errors. A 4xx is
//! final. Built from `notifications.*`, so tests point it at a local stand-in server.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::config::RawNotifications;

/// Attempts per email, waits between them (doubled each time), and the timeout of each attempt.
pub const ATTEMPTS: u32 = 3;
pub const BACKOFF: Duration = Duration::from_millis(300);
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The same as HTML, sent beside the text.
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// `notifications.resend_api_key` is empty: the email is skipped, not failed.
    #[error("no email API key configured")]
    NoKey,
    #[error("{0}")]
    Failed(String),
}

#[derive(Clone)]
pub struct EmailClient {
    http: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    from: String,
    backoff: Duration,
}

impl std::fmt::Debug for EmailClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailClient")
            .field("base_url", &self.base_url)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct ResendBody<'a> {
    from: &'a str,
    to: [&'a str; 1],
    subject: &'a str,
    text: &'a str,
    html: &'a str,
}

impl EmailClient {
    pub fn from_config(n: &RawNotifications) -> anyhow::Result<EmailClient> {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(EmailClient {
            http,
            base_url: n.resend_base_url.trim_end_matches('/').to_string(),
            api_key: n.resend_api_key.clone(),
            from: n.from_email.clone(),
            backoff: BACKOFF,
        })
    }

    pub fn has_key(&self) -> bool {
        !self.api_key.expose_secret().is_empty()
    }

    /// Sends one email, retrying what may succeed later.
    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        if !self.has_key() {
            return Err(SendError::NoKey);
        }
        let body = ResendBody {
            from: &self.from,
            to: [&email.to],
            subject: &email.subject,
            text: &email.text,
            html: &email.html,
        };
        let url = format!("{}/emails", self.base_url);
        let mut wait = self.backoff;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let sent = self.http.post(&url).bearer_auth(self.api_key.expose_secret()).json(&body).send().await;
            let retry = match sent {
                Ok(res) if res.status().is_success() => return Ok(()),
                Ok(res) => {
                    let status = res.status();
                    let text: String = res.text().await.unwrap_or_default().chars().take(300).collect();
                    last = format!("email API answered {status}: {text}");
                    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                }
                Err(e) => {
                    last = format!("email API unreachable: {}", without_url(&e));
                    true
                }
            };
            if !retry || attempt == ATTEMPTS {
                break;
            }
            tracing::warn!(attempt, error = %last, "email not sent; retrying");
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Err(SendError::Failed(last))
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_string()
}
