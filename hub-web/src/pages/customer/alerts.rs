//! The customer's alerts: the open ones with an Acknowledge button (and a note), and the past
//! ones with who acknowledged them and when, and when they resolved.

use hub_shared::alert::{AlertOut, AlertPage};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::action::act;
use crate::api;
use crate::components::ErrorNotice;
use crate::format;

#[component]
pub fn AlertsCard(id: String) -> impl IntoView {
    let page = RwSignal::new(None::<Result<AlertPage, ApiError>>);
    let load = move |id: String| spawn_local(async move { page.set(Some(api::list_alerts(Some(&id), true).await)) });
    load(id.clone());
    let reload = move || load(id.clone());
    view! {
        <section class="card" id="alerts">
            <h2>"Alerts"</h2>
            {move || match page.get() {
                None => view! { <p class="muted">"Loading the alerts…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                Some(Ok(p)) if p.alerts.is_empty() => view! { <p class="muted" id="no-alerts">"No alerts."</p> }.into_any(),
                Some(Ok(p)) => {
                    let reload = reload.clone();
                    view! {
                        <ol class="timeline alerts">
                            {p.alerts.into_iter().map(|a| view! { <AlertItem alert=a on_acked=reload.clone()/> }).collect_view()}
                        </ol>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn AlertItem(alert: AlertOut, on_acked: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let (state, class) = match (&alert.resolved_at, &alert.acked_at) {
        (Some(_), _) => ("resolved", "badge badge-ok"),
        (None, Some(_)) => ("acknowledged", "badge badge-warn"),
        (None, None) => ("open", "badge badge-down"),
    };
    let held = alert.notified_at.is_none() && alert.resolved_at.is_none();
    view! {
        <li class="event alert" data-alert-id=alert.id data-state=state>
            <div class="event-head">
                <span class=class>{state}</span>
                <span class="event-type">{alert.event_type.as_str()}</span>
                <time class="muted">{format!("opened {}", format::datetime(alert.opened_at))}</time>
            </div>
            {held.then(|| view! { <p class="muted">"Held: nobody was told yet (maintenance, a storm, or its node is down)."</p> })}
            {(alert.reminders > 0).then(|| view! { <p class="muted">{format!("{} reminder(s) sent", alert.reminders)}</p> })}
            {alert.acked_at.map(|at| view! {
                <p class="ack">
                    {format!("Acknowledged by {} at {}", alert.acked_by.clone().unwrap_or_default(), format::datetime(at))}
                    {alert.ack_note.clone().map(|n| view! { <span class="ack-note">{format!(": “{n}”")}</span> })}
                </p>
            })}
            {alert.resolved_at.map(|at| view! { <p class="muted">{format!("Resolved {}", format::datetime(at))}</p> })}
            {(state == "open").then(|| view! { <AckForm id=alert.id on_acked=on_acked/> })}
        </li>
    }
}

#[component]
fn AckForm(id: i64, on_acked: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let note = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = note.get_untracked().trim().to_string();
        let on_acked = on_acked.clone();
        act(busy, error, api::ack_alert(id, Some(text).filter(|t| !t.is_empty())), move |_| on_acked());
    };
    view! {
        <form class="ack-form" on:submit=submit>
            <input type="text" class="ack-note-input" placeholder="Note (optional)" aria-label="Note"
                prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
            <button type="submit" class="ack-button" disabled=move || busy.get()>"Acknowledge"</button>
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        </form>
    }
}
