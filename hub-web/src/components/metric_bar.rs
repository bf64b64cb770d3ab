//! A small horizontal bar for a percentage (CPU, memory, disk), yellow from 80 %, red from 90 %.

use leptos::prelude::*;

use crate::format;

/// The bar's color class for a share in percent.
pub fn level(percent: f64) -> &'static str {
    if percent >= 90.0 {
        "bar-fill bar-high"
    } else if percent >= 80.0 {
        "bar-fill bar-mid"
    } else {
        "bar-fill"
    }
}

/// A bar with the value beside it; a dash when the value is unknown. `detail` replaces the
/// percentage text (e.g. "40 GB / 100 GB").
#[component]
pub fn MetricBar(value: Option<f64>, #[prop(optional, into)] detail: Option<String>) -> impl IntoView {
    match value {
        Some(v) => {
            let width = format!("width: {:.1}%", v.clamp(0.0, 100.0));
            let text = detail.unwrap_or_else(|| format::percent(v));
            view! {
                <span class="metric" title=format::percent(v)>
                    <span class="bar"><span class=level(v) style=width></span></span>
                    <span class="metric-text">{text}</span>
                </span>
            }
            .into_any()
        }
        None => view! { <span class="muted">"–"</span> }.into_any(),
    }
}
