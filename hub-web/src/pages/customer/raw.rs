//! The latest report as the controller sent it, as collapsible, pretty-printed JSON.

use leptos::prelude::*;

#[component]
pub fn RawReport(json: serde_json::Value) -> impl IntoView {
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    view! {
        <details class="card raw" id="raw-report">
            <summary>"Latest report (raw JSON)"</summary>
            <pre><code>{text}</code></pre>
        </details>
    }
}
