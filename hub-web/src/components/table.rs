//! Table parts: a column header that sorts by its column through a link (the router follows it,
//! so the order is in the URL), marking the current order.

use leptos::prelude::*;

/// A sortable column header. `href` is the URL that sorts by this column; `active` is
/// `Some(descending)` when the table is sorted by it.
#[component]
pub fn SortHeader(
    label: &'static str,
    #[prop(into)] href: Signal<String>,
    #[prop(into)] active: Signal<Option<bool>>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let aria = move || match active.get() {
        Some(true) => "descending",
        Some(false) => "ascending",
        None => "none",
    };
    let arrow = move || match active.get() {
        Some(true) => " ▼",
        Some(false) => " ▲",
        None => "",
    };
    view! {
        <th class=class aria-sort=aria>
            <a href=move || href.get() class="sort" data-noscroll="">{label}<span class="arrow">{arrow}</span></a>
        </th>
    }
}
