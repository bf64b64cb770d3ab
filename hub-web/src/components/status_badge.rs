//! The colored status badge: OK green, WARN yellow, DOWN red, the rest gray.

use hub_shared::NodeStatus;
use leptos::prelude::*;

/// The CSS class that colors a status.
pub fn status_class(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Ok => "badge badge-ok",
        NodeStatus::Warn => "badge badge-warn",
        NodeStatus::Down => "badge badge-down",
        NodeStatus::Disabled | NodeStatus::Pending | NodeStatus::Blocked => "badge badge-gray",
    }
}

#[component]
pub fn StatusBadge(status: NodeStatus) -> impl IntoView {
    view! { <span class=status_class(status) data-status=status.as_str()>{status.as_str()}</span> }
}
