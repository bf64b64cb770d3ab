//! Customers' preference addresses are confirmed by their owners before the customer channel
//! mails them: storing preferences offers a new or changed address one Hungarian confirmation
//! link (by the rules of [`notify::confirm`]), which is sent and logged in the background; the
//! link's token is random, stored only as its SHA-256, single-use and expiring.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use hub_shared::notification::{Channel, EmailConfirmation, Outcome, Preferences};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::auth::key_hash;
use crate::error::Result;
use crate::notify::confirm::{self, LinkDecision};
use crate::notify::templates::{self, Lang};
use crate::notify::{Notifier, SendError};
use crate::state::AppState;
use crate::store::{ConfirmState, LinkOwner, NewConfirmLink, NewLogEntry, Store};

/// Where a confirmation link points, followed by its token.
pub const CONFIRM_PATH: &str = "/api/v1/notifications/confirm";
/// The confirmation email's template, and its event type in the notification log.
pub const CONFIRMATION: &str = "email_confirmation";
/// The length of a token: 32 random bytes in URL-safe base64 without padding.
const TOKEN_LEN: usize = 43;

/// Stores the preferences of a configured customer (`name` as emails call it) and, while the
/// address awaits its confirmation, offers it a link. Returns what is stored.
pub async fn save_preferences(
    state: &AppState,
    prefs: &Preferences,
    name: &str,
    blocked: bool,
    now: DateTime<Utc>,
) -> Result<Preferences> {
    let (stored, confirm_state) = state.store().save_preferences(prefs).await?;
    let customer_id = stored.customer_id.as_str();
    let (window_start, window_sent) = match confirm::decide_link(stored.email_confirmed, blocked, &confirm_state, now) {
        LinkDecision::Send { window_start, window_sent } => (window_start, window_sent),
        LinkDecision::Hold(why) => {
            if why != confirm::Hold::Confirmed {
                tracing::info!(customer_id, hold = ?why, "no confirmation link sent");
            }
            return Ok(stored);
        }
    };
    let token = new_token();
    let link = NewConfirmLink {
        token_hash: &key_hash(&token),
        sent_at: now.timestamp_millis(),
        window_start: window_start.timestamp_millis(),
        window_sent,
    };
    // Another request changed the row since: its own decision stands, so one link goes out.
    if !state.store().issue_confirm_link(customer_id, confirm_state.version, &link).await? {
        return Ok(stored);
    }
    let letter =
        Letter { customer_id: customer_id.to_string(), name: name.to_string(), to: stored.email.clone(), token };
    let task = state.clone();
    state.tasks().spawn(async move {
        if let Err(e) = letter.send(task.store(), task.notifier(), now).await {
            tracing::warn!(customer_id = letter.customer_id, error = format!("{e:#}"), "confirmation email failed");
        }
    });
    Ok(stored)
}

/// The operator's view of an address awaiting its confirmation; `None` once confirmed.
pub fn pending(prefs: &Preferences, state: &ConfirmState) -> Option<EmailConfirmation> {
    (!prefs.email_confirmed).then(|| EmailConfirmation {
        email: prefs.email.clone(),
        link_sent_at: state.link_sent_at,
        link_expires_at: state.link_sent_at.map(confirm::link_expires_at),
    })
}

/// The pending link of `token` if it works at `now`: unknown, spent and expired tokens are
/// alike `None`.
pub async fn find_link(store: &Store, token: &str, now: DateTime<Utc>) -> Result<Option<LinkOwner>> {
    let well_formed =
        token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
    if !well_formed {
        return Ok(None);
    }
    let hash = key_hash(token);
    let Some(owner) = store.confirm_link_owner(&hash).await? else { return Ok(None) };
    let same = bool::from(owner.token_hash.as_bytes().ct_eq(hash.as_bytes()));
    let sent_at = DateTime::from_timestamp_millis(owner.sent_at).unwrap_or(DateTime::<Utc>::MIN_UTC);
    Ok((same && confirm::link_works(sent_at, now)).then_some(owner))
}

/// Follows the link of `token` at `now`: confirms its address and spends the link. Returns the
/// address, or `None` when the token does not work (unknown, spent, expired).
pub async fn follow_link(store: &Store, token: &str, now: DateTime<Utc>) -> Result<Option<String>> {
    let Some(owner) = find_link(store, token, now).await? else { return Ok(None) };
    let confirmed = store.confirm_email(&owner.customer_id, &owner.token_hash).await?;
    if confirmed {
        tracing::info!(customer_id = owner.customer_id, "preference address confirmed");
    }
    Ok(confirmed.then_some(owner.email))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A confirmation email to write; the token is in no `Debug` and no log.
struct Letter {
    customer_id: String,
    name: String,
    to: String,
    token: String,
}

impl Letter {
    /// Sends the link (unless the hub has no `server.public_url` to link to) and logs the outcome.
    async fn send(&self, store: &Store, notifier: &Notifier, sent_at: DateTime<Utc>) -> anyhow::Result<()> {
        let settings = &notifier.settings;
        let base = settings.hub_url.trim().trim_end_matches('/');
        let (outcome, reason) = if base.is_empty() {
            tracing::warn!(customer_id = self.customer_id, "no server.public_url: cannot link to a confirmation");
            (Outcome::Skipped, "no_public_url".to_string())
        } else {
            let expires = confirm::link_expires_at(sent_at).with_timezone(&settings.timezone);
            let vars: BTreeMap<&str, String> = [
                ("customer_name", self.name.clone()),
                ("email", self.to.clone()),
                ("link", format!("{base}{CONFIRM_PATH}/{}", self.token)),
                ("expires_at", expires.format("%Y-%m-%d %H:%M %Z").to_string()),
                ("hub_url", base.to_string()),
            ]
            .into_iter()
            .collect();
            let rendered = templates::render(Lang::Hu, CONFIRMATION, &vars)?;
            let email = crate::notify::Email {
                to: self.to.clone(),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
            };
            match notifier.email.send(&email).await {
                Ok(()) => (Outcome::Sent, String::new()),
                Err(SendError::NoKey) => (Outcome::Skipped, "no_key".to_string()),
                Err(SendError::Failed(e)) => (Outcome::Failed, e),
            }
        };
        store
            .log_notification(&NewLogEntry {
                customer_id: &self.customer_id,
                event_id: None,
                event_type: CONFIRMATION,
                channel: Channel::Customer,
                channel_name: "",
                recipient: &self.to,
                outcome,
                reason: &reason,
                created_at: sent_at.timestamp_millis(),
            })
            .await?;
        notifier.metrics.notification(Channel::Customer, outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_email_renders_in_both_languages_with_its_link() {
        let vars: BTreeMap<&str, String> = [
            ("customer_name", "Kovács János"),
            ("email", "kovacs@example.hu"),
            ("link", "https://hub.example/api/v1/notifications/confirm/abc"),
            ("expires_at", "2026-12-11 08:00 CET"),
            ("hub_url", "https://hub.example"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
        for lang in [Lang::Hu, Lang::En] {
            let r = templates::render(lang, CONFIRMATION, &vars).unwrap();
            assert!(r.subject.contains("Kovács János"), "{lang:?}: {}", r.subject);
            assert!(r.text.contains(&vars["link"]) && r.text.contains("kovacs@example.hu"), "{lang:?}");
        }
    }

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }
}
