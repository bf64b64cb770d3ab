//! The events timeline: newest first, 50 at a time, filtered by severity, each event's details
//! expandable. Shown for one customer or, without one, for the whole fleet.

use hub_shared::event::{EventOut, Severity};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, EventFilter};
use crate::components::ErrorNotice;
use crate::format;

/// The CSS class that colors a severity.
pub fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "sev sev-info",
        Severity::Warning => "sev sev-warning",
        Severity::Error => "sev sev-error",
    }
}

/// What the timeline shows: the events loaded so far and where the next (older) page starts.
#[derive(Clone, Copy)]
struct Timeline {
    events: RwSignal<Vec<EventOut>>,
    next_before: RwSignal<Option<i64>>,
    loading: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    /// Bumped on each new filter, so a late answer for an old filter is dropped.
    generation: StoredValue<u32>,
}

impl Timeline {
    fn load(self, customer: Option<String>, filter: EventFilter, append: bool) {
        let generation = if append {
            self.generation.get_value()
        } else {
            self.generation.update_value(|g| *g += 1);
            self.generation.get_value()
        };
        self.loading.set(true);
        spawn_local(async move {
            let answer = match &customer {
                Some(id) => api::list_customer_events(id, filter).await,
                None => api::list_events(filter).await,
            };
            if generation != self.generation.get_value() {
                return;
            }
            match answer {
                Ok(page) => {
                    self.error.set(None);
                    self.next_before.set(page.next_before);
                    if append {
                        self.events.update(|e| e.extend(page.events));
                    } else {
                        self.events.set(page.events);
                    }
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.loading.set(false);
        });
    }
}

#[component]
pub fn EventTimeline(
    #[prop(optional)] customer: Option<String>,
    #[prop(default = "Events")] title: &'static str,
) -> impl IntoView {
    let fleet_wide = customer.is_none();
    let severity = RwSignal::new(None::<Severity>);
    let timeline = Timeline {
        events: RwSignal::new(Vec::new()),
        next_before: RwSignal::new(None),
        loading: RwSignal::new(true),
        error: RwSignal::new(None),
        generation: StoredValue::new(0),
    };
    let for_effect = customer.clone();
    Effect::new(move |_| {
        let filter = EventFilter { severity: severity.get(), before: None };
        timeline.load(for_effect.clone(), filter, false);
    });
    let load_older = move |_| {
        let filter = EventFilter { severity: severity.get_untracked(), before: timeline.next_before.get_untracked() };
        timeline.load(customer.clone(), filter, true);
    };
    let choice = move |label: &'static str, value: Option<Severity>| {
        let key = value.map_or("all", Severity::as_str);
        view! {
            <button type="button" data-severity=key
                class=move || if severity.get() == value { "period selected" } else { "period" }
                aria-pressed=move || (severity.get() == value).to_string()
                on:click=move |_| severity.set(value)>{label}</button>
        }
    };
    view! {
        <section class="card" id="events">
            <div class="card-head">
                <h2>{title}</h2>
                <div class="periods" role="group" aria-label="Severity">
                    {choice("All", None)}
                    {choice("Errors", Some(Severity::Error))}
                    {choice("Warnings", Some(Severity::Warning))}
                    {choice("Info", Some(Severity::Info))}
                </div>
            </div>
            {move || timeline.error.get().map(|e| view! { <ErrorNotice error=e/> })}
            {move || {
                let events = timeline.events.get();
                if events.is_empty() {
                    let text = if timeline.loading.get() { "Loading the events…" } else { "No events." };
                    return view! { <p class="muted" id="no-events">{text}</p> }.into_any();
                }
                view! {
                    <ol class="timeline">
                        {events.into_iter().map(|e| view! { <EventItem event=e fleet_wide=fleet_wide/> }).collect_view()}
                    </ol>
                }.into_any()
            }}
            <Show when=move || timeline.next_before.get().is_some()>
                <p class="more">
                    <button type="button" class="link" id="older-events" on:click=load_older.clone()
                        disabled=move || timeline.loading.get()>"Older events"</button>
                </p>
            </Show>
        </section>
    }
}

/// The source beside the event's type: `HUB` for the hub's own events, the name a controller
/// gave otherwise, nothing for a plain `controller` event.
fn source_tag(source: &str) -> Option<impl IntoView> {
    let label = match source {
        hub_shared::event::CONTROLLER_SOURCE => return None,
        hub_shared::event::HUB_SOURCE => "HUB".to_string(),
        other => other.to_string(),
    };
    Some(view! { <span class="tag event-source" title="source">{label}</span> })
}

/// Why an event was held, as the timeline says it.
fn held_label(held: &str) -> String {
    match held {
        "maintenance" => "in maintenance".into(),
        "suppressed" => "held: node down".into(),
        "storm" => "held: fleet outage".into(),
        other => format!("held: {other}"),
    }
}

#[component]
fn EventItem(event: EventOut, fleet_wide: bool) -> impl IntoView {
    let has_details = event.details.as_object().is_some_and(|o| !o.is_empty());
    let details = serde_json::to_string_pretty(&event.details).unwrap_or_default();
    let received = format!("received {}", format::local(event.received_at.timestamp_millis(), format::Style::Clock));
    view! {
        <li class="event" data-event-id=event.id data-severity=event.severity.as_str()>
            <div class="event-head">
                <span class=severity_class(event.severity)>{event.severity.as_str()}</span>
                <span class="event-type">{event.event_type.as_str()}</span>
                {fleet_wide.then(|| view! {
                    <a class="event-customer" href=format!("/customers/{}", event.customer_id)>{event.customer_id.clone()}</a>
                })}
                {source_tag(&event.source)}
                {event.held.clone().map(|h| view! { <span class="badge badge-warn held" title="stored, nobody was told">{held_label(&h)}</span> })}
                <time class="muted" title=received>{format::datetime(event.occurred_at)}</time>
            </div>
            {(!event.message.is_empty()).then(|| view! { <p class="event-msg">{event.message.clone()}</p> })}
            {has_details.then(|| view! {
                <details class="event-details">
                    <summary>"Details"</summary>
                    <pre>{details}</pre>
                </details>
            })}
        </li>
    }
}
