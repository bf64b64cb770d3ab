//! `/maintenance`: the maintenance windows (list, create one-time or recurring, delete). While a
//! window is open, its customer's (or the whole fleet's) events are stored and shown but nothing
//! is sent.

use chrono::{DateTime, TimeDelta, Utc};
use hub_shared::maintenance::{MaintenanceIn, MaintenanceList, MaintenanceWindow, Recurrence};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::{ConfirmButton, ErrorNotice, Loading};
use crate::format;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[component]
pub fn MaintenancePage() -> impl IntoView {
    let list = RwSignal::new(None::<Result<MaintenanceList, ApiError>>);
    let reload = move || spawn_local(async move { list.set(Some(api::list_maintenance().await)) });
    reload();
    view! {
        <div class="page-head">
            <h1>"Maintenance"</h1>
            <p class="muted">
                "While a window is open, events of its customer (or of the whole fleet) are stored and shown, \
                 marked “in maintenance”, and nothing is sent. A node still down when it closes is told then."
            </p>
        </div>
        <NewWindow on_created=reload/>
        {move || match list.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
            Some(Ok(l)) if l.windows.is_empty() => {
                view! { <p class="notice empty" id="no-windows">"No maintenance windows."</p> }.into_any()
            }
            Some(Ok(l)) => view! { <WindowTable windows=l.windows on_deleted=reload/> }.into_any(),
        }}
    }
}

/// When a window is open, in words.
fn when(w: &MaintenanceWindow) -> String {
    let time = || w.start_time.clone().unwrap_or_default();
    let minutes = w.duration_minutes.unwrap_or_default();
    match w.recurrence {
        Recurrence::Once => match (w.starts_at, w.ends_at) {
            (Some(s), Some(e)) => format!("{} – {}", format::datetime(s), format::datetime(e)),
            _ => "–".into(),
        },
        Recurrence::Daily => format!("daily at {} for {minutes} min", time()),
        Recurrence::Weekly => format!("{} at {} for {minutes} min", w.days.join(", "), time()),
    }
}

#[component]
fn WindowTable(windows: Vec<MaintenanceWindow>, on_deleted: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="maintenance" id="maintenance">
                <thead>
                    <tr><th>"For"</th><th>"When"</th><th>"Reason"</th><th>"Now"</th><th></th></tr>
                </thead>
                <tbody>
                    {windows.into_iter().map(|w| view! { <WindowRow w=w on_deleted=on_deleted/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn WindowRow(w: MaintenanceWindow, on_deleted: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let id = w.id;
    let delete = move || {
        busy.set(true);
        spawn_local(async move {
            match api::delete_maintenance(id).await {
                Ok(()) => on_deleted(),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let whom = match &w.customer_id {
        Some(c) => view! { <a href=format!("/customers/{c}")>{c.clone()}</a> }.into_any(),
        None => view! { <strong>"the whole fleet"</strong> }.into_any(),
    };
    view! {
        <tr data-window=id data-active=w.active.to_string()>
            <td>{whom}</td>
            <td>{when(&w)}</td>
            <td class="summary">{w.reason.clone()}</td>
            <td>{w.active.then(|| view! { <span class="badge badge-warn">"in maintenance"</span> })}</td>
            <td>
                <ConfirmButton label="Delete" busy=busy confirm="Yes, delete" question="Delete this window?" on_confirm=delete/>
                {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
            </td>
        </tr>
    }
}

/// The form of a new window: for whom, once or recurring, when, how long, why.
#[component]
fn NewWindow(on_created: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let customer = RwSignal::new(String::new());
    let recurrence = RwSignal::new("once".to_string());
    let starts = RwSignal::new(String::new());
    let start_time = RwSignal::new("02:00".to_string());
    let minutes = RwSignal::new("60".to_string());
    let days = RwSignal::new(Vec::<&'static str>::new());
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let is_once = move || recurrence.get() == "once";
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let duration = minutes.get_untracked().trim().parse::<u32>().ok();
        let kind = Recurrence::parse(&recurrence.get_untracked()).unwrap_or(Recurrence::Once);
        let mut window = MaintenanceIn {
            customer_id: Some(customer.get_untracked().trim().to_string()).filter(|c| !c.is_empty()),
            recurrence: kind,
            starts_at: None,
            ends_at: None,
            days: days.get_untracked().iter().map(|d| d.to_string()).collect(),
            start_time: Some(start_time.get_untracked()),
            duration_minutes: duration,
            reason: reason.get_untracked(),
        };
        if kind == Recurrence::Once {
            // From the given start (now when empty) for the given minutes.
            let text = starts.get_untracked();
            let start = if text.trim().is_empty() {
                DateTime::<Utc>::from_timestamp_millis(format::now_ms())
            } else {
                format::from_local_input(&text)
            };
            let Some(start) = start else {
                error.set(Some(ApiError::new("invalid_field", "starts: not a date and time")));
                return;
            };
            window.starts_at = Some(start);
            window.ends_at = Some(start + TimeDelta::minutes(i64::from(duration.unwrap_or(0))));
            (window.start_time, window.duration_minutes) = (None, None);
        }
        // The same checks as the hub, before asking it.
        if let Err((field, message)) = window.validate() {
            error.set(Some(ApiError::new("invalid_field", format!("{field}: {message}"))));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::create_maintenance(&window).await {
                Ok(_) => {
                    reason.set(String::new());
                    on_created();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let day_box = move |day: &'static str| {
        let checked = move || days.with(|d| d.contains(&day));
        let toggle = move |_| {
            days.update(|d| {
                if let Some(i) = d.iter().position(|x| *x == day) {
                    d.remove(i);
                } else {
                    d.push(day);
                }
            })
        };
        view! {
            <label class="day"><input type="checkbox" name="day" value=day prop:checked=checked on:change=toggle/>{day}</label>
        }
    };
    view! {
        <section class="card" id="new-window">
            <h2>"New window"</h2>
            <form class="form" on:submit=submit>
                <label>"Customer id (empty: the whole fleet)"
                    <input id="window-customer" type="text" placeholder="kovacs" prop:value=move || customer.get()
                        on:input=move |ev| customer.set(event_target_value(&ev))/>
                </label>
                <label>"Repeats"
                    <select id="window-recurrence" prop:value=move || recurrence.get()
                        on:change=move |ev| recurrence.set(event_target_value(&ev))>
                        <option value="once">"once"</option>
                        <option value="daily">"daily"</option>
                        <option value="weekly">"weekly"</option>
                    </select>
                </label>
                <Show when=is_once>
                    <label>"Starts (your browser's time; empty: now)"
                        <input id="window-starts" type="datetime-local" prop:value=move || starts.get()
                            on:input=move |ev| starts.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <Show when=move || !is_once()>
                    <label>"Start time (hub's time zone)"
                        <input id="window-start-time" type="time" prop:value=move || start_time.get()
                            on:input=move |ev| start_time.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <Show when=move || recurrence.get() == "weekly">
                    <fieldset class="days" id="window-days"><legend>"Days"</legend>{DAYS.map(day_box).collect_view()}</fieldset>
                </Show>
                <label>"Lasts (minutes)"
                    <input id="window-minutes" type="number" min="1" prop:value=move || minutes.get()
                        on:input=move |ev| minutes.set(event_target_value(&ev))/>
                </label>
                <label>"Reason"
                    <input id="window-reason" type="text" placeholder="Disk replacement" prop:value=move || reason.get()
                        on:input=move |ev| reason.set(event_target_value(&ev))/>
                </label>
                <p><button type="submit" id="create-window" disabled=move || busy.get()>"Create window"</button></p>
            </form>
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        </section>
    }
}
