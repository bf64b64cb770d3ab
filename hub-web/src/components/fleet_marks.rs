//! The fleet views' marks of a node's controller: its version with "outdated" when the registry
//! has a newer one, and the last drift check ("drifted (3 keys)", "unreachable", "in sync").

use hub_shared::fleet::{DriftMark, DriftState};
use leptos::prelude::*;

use crate::format;

/// The version, and beside it `outdated → 1.5.0` when a newer one is known.
#[component]
pub fn VersionMark(version: Option<String>, latest: Option<String>) -> impl IntoView {
    view! {
        <span class="version">{version.clone().unwrap_or_else(|| "–".into())}</span>
        {latest.map(|l| {
            let title = format!("{} is older than {l}, the newest the registry has", version.unwrap_or_default());
            let text = format!("outdated → {l}");
            view! { <span class="badge badge-warn mark" data-outdated=l title=title>{text}</span> }
        })}
    }
}

/// The last drift check, with its time in the tooltip (and why, when unreachable).
#[component]
pub fn DriftBadge(drift: Option<DriftMark>) -> impl IntoView {
    let Some(drift) = drift else {
        return view! { <span class="muted" data-drift="unchecked">"–"</span> }.into_any();
    };
    let class = match drift.state {
        DriftState::InSync => "badge badge-ok mark",
        DriftState::Drifted => "badge badge-warn mark",
        DriftState::Unreachable => "badge badge-gray mark",
    };
    let mut title = format!("checked {}", format::datetime(drift.checked_at));
    if let Some(why) = &drift.message {
        title = format!("{title}: {why}");
    }
    view! {
        <span class=class data-drift=drift.state.as_str() title=title>{drift.label()}</span>
        <span class="sub muted">{format::datetime(drift.checked_at)}</span>
    }
    .into_any()
}
