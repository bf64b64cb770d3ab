//! `/events`: the events of the whole fleet, newest first, filtered by severity.

use leptos::prelude::*;

use crate::components::EventTimeline;

#[component]
pub fn EventsPage() -> impl IntoView {
    view! {
        <div class="page-head"><h1>"Events"</h1></div>
        <EventTimeline title="All customers"/>
    }
}
