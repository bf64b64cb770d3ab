//! The dashboard's badges of a customer's error and warning events in the last 24 hours; nothing
//! when there were none.

use leptos::prelude::*;

#[component]
pub fn EventCounts(errors: u32, warnings: u32) -> impl IntoView {
    let plural = |n: u32, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    (errors > 0 || warnings > 0).then(|| {
        view! {
            <span class="event-counts" title="Events in the last 24 h">
                {(errors > 0).then(|| view! {
                    <span class="sev sev-error" data-errors=errors>{plural(errors, "error")}</span>
                })}
                {(warnings > 0).then(|| view! {
                    <span class="sev sev-warning" data-warnings=warnings>{plural(warnings, "warning")}</span>
                })}
            </span>
        }
    })
}
