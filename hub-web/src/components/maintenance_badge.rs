//! The "in maintenance" badge: the open maintenance windows, loaded once per page, and a badge
//! beside each customer one of them quiets (its own window or the fleet's).

use hub_shared::maintenance::MaintenanceWindow;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// The windows open now, as the page loaded them.
#[derive(Clone, Copy)]
pub struct OpenWindows(RwSignal<Vec<MaintenanceWindow>>);

impl OpenWindows {
    /// Loads the open windows and makes them the page's context.
    pub fn provide() -> OpenWindows {
        let open = OpenWindows(RwSignal::new(Vec::new()));
        provide_context(open);
        spawn_local(async move {
            // Without them the page only lacks its badges: an error is not worth a notice here.
            if let Ok(list) = api::list_maintenance().await {
                open.0.set(list.windows.into_iter().filter(|w| w.active).collect());
            }
        });
        open
    }

    /// The reason of the window that quiets `customer_id`, if one does.
    fn reason(self, customer_id: &str) -> Option<String> {
        self.0.with(|windows| {
            windows
                .iter()
                .find(|w| w.customer_id.as_deref().is_none_or(|id| id == customer_id))
                .map(|w| w.reason.clone())
        })
    }
}

/// "in maintenance" beside a customer while a window quiets it (nothing without [`OpenWindows`]).
#[component]
pub fn MaintenanceBadge(customer_id: String) -> impl IntoView {
    let open = use_context::<OpenWindows>();
    move || {
        let reason = open.and_then(|o| o.reason(&customer_id))?;
        Some(view! { <span class="badge badge-warn in-maintenance" title=reason>"in maintenance"</span> })
    }
}
