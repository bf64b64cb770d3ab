//! Loading and error notices shared by the pages.

use hub_shared::ApiError;
use leptos::prelude::*;

#[component]
pub fn Loading(#[prop(default = "Loading…")] text: &'static str) -> impl IntoView {
    view! { <p class="notice loading" aria-busy="true">{text}</p> }
}

/// An error from the API, in words for the operator.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let title =
        if error.code == crate::api::UNREACHABLE { "The hub cannot be reached" } else { "Something went wrong" };
    view! {
        <div class="notice error" role="alert">
            <strong>{title}</strong>
            <span>{error.message}</span>
        </div>
    }
}
