//! The notification log card: a customer address that awaits its owner's confirmation, then
//! every decision of the dispatcher about this customer's events, newest first, with its channel
//! (operator or customer), recipient and outcome.

use hub_shared::notification::{EmailConfirmation, NotificationEntry, NotificationPage, Outcome};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::ErrorNotice;
use crate::format;

fn outcome_class(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Sent => "ok",
        Outcome::Skipped => "muted",
        Outcome::Failed => "bad",
    }
}

#[component]
pub fn NotificationsCard(id: String, pending: Option<EmailConfirmation>) -> impl IntoView {
    let log = RwSignal::new(None::<Result<NotificationPage, ApiError>>);
    spawn_local(async move { log.set(Some(api::list_notifications(&id).await)) });
    view! {
        <section class="card" id="notifications">
            <h2>"Notifications"</h2>
            {pending.map(|p| view! { <PendingConfirmation p=p/> })}
            {move || match log.get() {
                None => view! { <p class="muted">"Loading the notification log…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                Some(Ok(page)) if page.entries.is_empty() => view! {
                    <p class="muted" id="no-notifications">"No notifications yet."</p>
                }.into_any(),
                Some(Ok(page)) => view! {
                    <div class="table-wrap">
                        <table class="notification-log stack">
                            <thead>
                                <tr>
                                    <th>"Time"</th><th>"Channel"</th><th>"Event"</th>
                                    <th class="wide-only">"Recipient"</th><th>"Outcome"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.entries.into_iter().map(|e| view! { <EntryRow e=e/> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// The customer's address awaiting confirmation: it gets no customer email until its owner
/// follows the link.
#[component]
fn PendingConfirmation(p: EmailConfirmation) -> impl IntoView {
    let link = match (p.link_sent_at, p.link_expires_at) {
        (Some(sent), Some(expires)) => format!(
            "Its confirmation link was made {} and works until {} (whether its email went out is in the log below, as email_confirmation).",
            format::datetime(sent),
            format::datetime(expires)
        ),
        _ => "No confirmation link has gone out yet (the customer is blocked, or had its five links of the day); \
              the next time the controller sends its preferences, one does."
            .to_string(),
    };
    view! {
        <div class="notice warn" id="email-confirmation" role="status">
            <strong>"Awaiting confirmation: "</strong>
            <span class="pending-email">{p.email}</span>
            " gets no customer email until its owner follows the link in the Hungarian confirmation email. "
            {link}
        </div>
    }
}

#[component]
fn EntryRow(e: NotificationEntry) -> impl IntoView {
    let recipient = if e.recipient.is_empty() { "–".to_string() } else { e.recipient.clone() };
    let outcome = if e.reason.is_empty() {
        e.outcome.as_str().to_string()
    } else {
        format!("{} · {}", e.outcome.as_str(), e.reason)
    };
    view! {
        <tr data-channel=e.channel.as_str() data-outcome=e.outcome.as_str()>
            <td data-label="Time">{format::datetime(e.created_at)}</td>
            <td data-label="Channel"><span class="tag">{e.channel.as_str().to_ascii_uppercase()}</span></td>
            <td data-label="Event">{e.event_type.clone()}</td>
            <td data-label="Recipient" class="recipient">{recipient}</td>
            <td data-label="Outcome" class=format!("outcome {}", outcome_class(e.outcome))>{outcome}</td>
        </tr>
    }
}
