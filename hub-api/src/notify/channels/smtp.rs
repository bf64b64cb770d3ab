//! The smtp channel, for operators without Resend: the operator's email, plain text and HTML as
//! `multipart/alternative`, through the configured server with lettre: `starttls` (the default,
//! port 587), `tls` (implicit, port 465) or `none` (port 25; a server on the same host only),
//! with the user and password when given.

use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::{Alert, FieldError, TIMEOUT};
use crate::config::RawChannel;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpSpec {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: String,
    pub password: SecretString,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
}

impl SmtpSpec {
    pub(super) fn parse(raw: &RawChannel) -> Result<SmtpSpec, FieldError> {
        let host = raw.host.trim();
        if host.is_empty() || host.contains(['/', ' ', ':']) {
            return Err(("host", "expected a host name or address, without scheme or port".into()));
        }
        let tls = match raw.tls.trim() {
            "" | "starttls" => SmtpTls::StartTls,
            "tls" => SmtpTls::Tls,
            "none" => SmtpTls::None,
            other => return Err(("tls", format!("expected starttls, tls or none, got {other:?}"))),
        };
        let port = raw.port.unwrap_or(match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        });
        if port == 0 {
            return Err(("port", "must be 1–65535".into()));
        }
        if raw.user.is_empty() != raw.password.expose_secret().is_empty() {
            return Err(("password", "user and password go together (both or neither)".into()));
        }
        let from = raw.from.trim().parse().map_err(|_| ("from", "expected an address (or `Name <address>`)".into()))?;
        if raw.to.is_empty() {
            return Err(("to", "name at least one recipient".into()));
        }
        let to = raw
            .to
            .iter()
            .map(|t| t.trim().parse().map_err(|_| ("to", format!("{t:?} is not an address"))))
            .collect::<Result<_, _>>()?;
        Ok(SmtpSpec {
            host: host.to_string(),
            port,
            tls,
            user: raw.user.clone(),
            password: raw.password.clone(),
            from,
            to,
        })
    }
}

/// A connection opened per email (alerts are rare; no pool to keep alive).
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("from", &self.from).finish_non_exhaustive()
    }
}

impl Smtp {
    pub fn new(spec: &SmtpSpec) -> anyhow::Result<Smtp> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        let builder = match spec.tls {
            SmtpTls::StartTls => Transport::starttls_relay(&spec.host)?,
            SmtpTls::Tls => Transport::relay(&spec.host)?,
            SmtpTls::None => Transport::builder_dangerous(&spec.host),
        };
        let mut builder = builder.port(spec.port).timeout(Some(TIMEOUT));
        if !spec.user.is_empty() {
            builder =
                builder.credentials(Credentials::new(spec.user.clone(), spec.password.expose_secret().to_string()));
        }
        Ok(Smtp { transport: builder.build(), from: spec.from.clone(), to: spec.to.clone() })
    }

    pub async fn send(&self, alert: &Alert) -> Result<(), String> {
        let mut message = Message::builder().from(self.from.clone()).subject(alert.title.replace(['\r', '\n'], " "));
        for to in &self.to {
            message = message.to(to.clone());
        }
        let message = match &alert.html {
            Some(html) => message.multipart(MultiPart::alternative_plain_html(alert.text.clone(), html.clone())),
            None => message.singlepart(SinglePart::plain(alert.text.clone())),
        }
        .map_err(|e| format!("could not build the email: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| format!("smtp: {e}"))
    }
}
