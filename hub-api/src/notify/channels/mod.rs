//! Channels besides email (`notifications.channels`): a webhook with a signed JSON body, an ntfy
//! topic and an SMTP server. They carry the operator's alerts, in English, never the customer's
//! mail; each takes the severities and types it names (none named: all) and has the operator's
//! cooldown of its own. Every delivery is logged under the channel's name. The settings are
//! checked once at start-up ([`ChannelSpec::parse_all`]); secrets stay `SecretString`.

mod fan_out;
pub mod ntfy;
pub mod smtp;
pub mod webhook;

use std::time::Duration;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use hub_shared::event::{EventType, Severity};
use serde::Serialize;

use super::rules::Reason;
use crate::config::RawChannel;

pub use fan_out::{fan_out, About};

/// Attempts per HTTP delivery, the first wait between them (doubled each time), and the timeout
/// of each attempt.
pub const ATTEMPTS: u32 = 3;
pub const BACKOFF: Duration = Duration::from_millis(500);
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One configured channel, validated.
#[derive(Debug, Clone)]
pub struct ChannelSpec {
    pub name: String,
    /// Empty: every severity.
    pub severities: Vec<Severity>,
    /// Empty: every type, and the legacy relay.
    pub types: Vec<EventType>,
    pub kind: KindSpec,
}

/// The settings of each kind.
#[derive(Debug, Clone)]
pub enum KindSpec {
    Webhook(webhook::WebhookSpec),
    Ntfy(ntfy::NtfySpec),
    Smtp(smtp::SmtpSpec),
}

/// A field of one channel that is wrong: `(field, message)`.
type FieldError = (&'static str, String);

impl ChannelSpec {
    /// Checks every channel; the error names the channel (by position and name) and the field.
    pub fn parse_all(raw: &[RawChannel]) -> anyhow::Result<Vec<ChannelSpec>> {
        let mut specs: Vec<ChannelSpec> = Vec::with_capacity(raw.len());
        for (i, channel) in raw.iter().enumerate() {
            let spec = ChannelSpec::parse(channel).map_err(|(field, message)| {
                anyhow!("invalid notifications.channels[{i}] ({:?}).{field}: {message}", channel.name)
            })?;
            if specs.iter().any(|s| s.name == spec.name) {
                anyhow::bail!("invalid notifications.channels[{i}].name: {:?} is used twice", spec.name);
            }
            specs.push(spec);
        }
        Ok(specs)
    }

    fn parse(raw: &RawChannel) -> Result<ChannelSpec, FieldError> {
        let name = raw.name.trim();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(("name", "expected 1–64 letters, digits, `-`, `_` or `.`".into()));
        }
        let severities = raw
            .severities
            .iter()
            .map(|s| Severity::parse(s.trim()).map_err(|m| ("severities", m)))
            .collect::<Result<_, _>>()?;
        let types =
            raw.types.iter().map(|t| EventType::parse(t.trim()).map_err(|m| ("types", m))).collect::<Result<_, _>>()?;
        let kind = match raw.kind.trim() {
            "webhook" => KindSpec::Webhook(webhook::WebhookSpec::parse(raw)?),
            "ntfy" => KindSpec::Ntfy(ntfy::NtfySpec::parse(raw)?),
            "smtp" => KindSpec::Smtp(smtp::SmtpSpec::parse(raw)?),
            other => return Err(("kind", format!("expected webhook, ntfy or smtp, got {other:?}"))),
        };
        Ok(ChannelSpec { name: name.to_string(), severities, types, kind })
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            KindSpec::Webhook(_) => "webhook",
            KindSpec::Ntfy(_) => "ntfy",
            KindSpec::Smtp(_) => "smtp",
        }
    }

    /// Whether the channel takes an event of this type (`None`: the legacy relay) and severity.
    pub fn wants(&self, event_type: Option<EventType>, severity: Severity) -> bool {
        let severity_ok = self.severities.is_empty() || self.severities.contains(&severity);
        let type_ok = match event_type {
            _ if self.types.is_empty() => true,
            Some(t) => self.types.contains(&t),
            None => false,
        };
        severity_ok && type_ok
    }
}

/// The address an HTTP channel posts to: http or https, never quoted in an error (its path or
/// query may hold a token).
fn http_url(url: &str) -> Result<reqwest::Url, FieldError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| ("url", "not a URL".to_string()))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Ok(parsed),
        _ => Err(("url", "must start with http:// or https://".into())),
    }
}

/// What a channel does with one event, decided from what is known, with no I/O; `None` when its
/// severities or types leave the event out (nothing is logged then). A blocked customer gets
/// nothing; otherwise at most one delivery per `cooldown_ms` per channel, customer and type.
pub fn decide(
    spec: &ChannelSpec,
    event_type: Option<EventType>,
    severity: Severity,
    blocked: bool,
    cooldown_ms: i64,
    last_sent: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Result<(), Reason>> {
    if !spec.wants(event_type, severity) {
        return None;
    }
    Some(match last_sent {
        _ if blocked => Err(Reason::Blocked),
        Some(at) if cooldown_ms > 0 && (now - at).num_milliseconds() < cooldown_ms => Err(Reason::Cooldown),
        _ => Ok(()),
    })
}

/// One alert as the channels carry it: the operator's email (subject, text, HTML) and the facts
/// a machine reads (the webhook's JSON body).
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// `null` for the legacy relay and a test message.
    pub event_id: Option<i64>,
    pub customer_id: String,
    pub customer_name: String,
    /// An event type, `legacy` for the relay, or `test`.
    pub event_type: String,
    pub severity: Severity,
    pub title: String,
    pub message: String,
    pub occurred_at: DateTime<Utc>,
    /// The customer's page on the hub.
    pub link: String,
    #[serde(skip)]
    pub text: String,
    #[serde(skip)]
    pub html: Option<String>,
}

/// The message of `POST /api/v1/notifications/test`, at `now`.
pub fn test_alert(hub_url: &str, now: DateTime<Utc>) -> Alert {
    let message = "A test message from the felhom hub: this channel works.".to_string();
    Alert {
        event_id: None,
        customer_id: String::new(),
        customer_name: "felhom hub".into(),
        event_type: "test".into(),
        severity: Severity::Info,
        title: "[felhom] Test message".into(),
        text: format!("{message}\n\nSent at {}.\n\n--\nfelhom hub {hub_url}\n", now.to_rfc3339()),
        html: None,
        message,
        occurred_at: now,
        link: hub_url.to_string(),
    }
}

/// A configured channel, ready to send.
#[derive(Debug, Clone)]
pub struct Channel {
    pub spec: ChannelSpec,
    transport: Transport,
}

#[derive(Debug, Clone)]
enum Transport {
    Http(HttpSender),
    Smtp(Box<smtp::Smtp>),
}

impl Channel {
    pub fn build(spec: ChannelSpec) -> anyhow::Result<Channel> {
        let transport = match &spec.kind {
            KindSpec::Webhook(_) | KindSpec::Ntfy(_) => Transport::Http(HttpSender::new(BACKOFF)?),
            KindSpec::Smtp(s) => Transport::Smtp(Box::new(smtp::Smtp::new(s)?)),
        };
        Ok(Channel { spec, transport })
    }

    /// The same channel waiting `backoff` (then twice that, …) between attempts (tests: zero).
    pub fn with_backoff(mut self, backoff: Duration) -> Channel {
        if let Transport::Http(http) = &mut self.transport {
            http.backoff = backoff;
        }
        self
    }

    /// Who gets it, as the notification log shows it: the host of a URL, the addresses of smtp.
    pub fn recipient(&self) -> String {
        match &self.spec.kind {
            KindSpec::Webhook(w) => w.url.host_str().unwrap_or_default().to_string(),
            KindSpec::Ntfy(n) => n.url.host_str().unwrap_or_default().to_string(),
            KindSpec::Smtp(s) => s.to.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        }
    }

    /// Delivers one alert; the error says what failed without a URL or a secret.
    pub async fn send(&self, alert: &Alert) -> Result<(), String> {
        match (&self.spec.kind, &self.transport) {
            (KindSpec::Webhook(w), Transport::Http(http)) => {
                http.post(|client| webhook::request(client, w, alert)).await
            }
            (KindSpec::Ntfy(n), Transport::Http(http)) => http.post(|client| ntfy::request(client, n, alert)).await,
            (KindSpec::Smtp(_), Transport::Smtp(smtp)) => smtp.send(alert).await,
            _ => unreachable!("a channel's transport is built from its kind"),
        }
    }
}

/// Posts with retries: a timeout per attempt, and a wait doubled after each 5xx, 429 or
/// transport error. Any other answer is final.
#[derive(Debug, Clone)]
struct HttpSender {
    client: reqwest::Client,
    backoff: Duration,
}

impl HttpSender {
    fn new(backoff: Duration) -> anyhow::Result<HttpSender> {
        // No redirects: a signed body is not sent on to another address.
        let client = reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(HttpSender { client, backoff })
    }

    async fn post(&self, request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder) -> Result<(), String> {
        let mut wait = self.backoff;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let retry = match request(&self.client).send().await {
                Ok(res) if res.status().is_success() => return Ok(()),
                Ok(res) => {
                    let status = res.status();
                    last = format!("answered {status}");
                    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                }
                Err(e) => {
                    last = without_url(&e).to_string();
                    true
                }
            };
            if !retry || attempt == ATTEMPTS {
                break;
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Err(last)
    }
}

fn without_url(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}

#[cfg(test)]
mod tests;
