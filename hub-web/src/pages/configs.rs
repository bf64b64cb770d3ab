//! `/configs`: every customer by name, managed or report-only, blocked ones grayed out, with its
//! controller version (outdated or not) and config drift, a page at a time, and the button that
//! checks drift now.

use hub_shared::customer_list::{CustomerListQuery, CustomerRow, ListOrder, ListSort};
use hub_shared::fleet::DriftCheck;
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::{DriftBadge, ErrorNotice, Loading, StatusBadge, VersionMark};
use crate::format;
use crate::pages::dashboard::{Fleet, MoreRows};

#[component]
pub fn ConfigsPage() -> impl IntoView {
    let by_name = ListOrder { by: ListSort::Customer, descending: false };
    let fleet =
        Fleet::poll(Memo::new(move |_| CustomerListQuery { sort: Some(by_name.as_param()), ..Default::default() }));
    view! {
        <div class="page-head">
            <h1>"Customers"</h1>
            <DriftButton fleet=fleet/>
            <a href="/configs/new" class="button primary" id="new-customer">"New customer"</a>
        </div>
        {move || fleet.error.get().map(|e| view! { <ErrorNotice error=e/> })}
        {move || {
            let Some(list) = fleet.list.get() else {
                return fleet.error.with(Option::is_none).then(|| view! { <Loading/> }).into_any();
            };
            if list.customers.is_empty() {
                return view! { <p class="notice empty">"No customers yet."</p> }.into_any();
            }
            let customers = list.customers;
            let now = list.generated_at;
            view! {
                <div class="table-wrap">
                    <table class="customers" id="customers">
                        <thead>
                            <tr>
                                <th>"Status"</th>
                                <th>"Customer"</th>
                                <th>"Type"</th>
                                <th>"Version"</th>
                                <th>"Config"</th>
                                <th>"Last report"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {customers.into_iter().map(|c| view! { <CustomerLine c=c now=now/> }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <MoreRows fleet=fleet/>
            }
            .into_any()
        }}
    }
}

#[component]
fn CustomerLine(c: CustomerRow, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let class = if c.blocked() { "blocked" } else { "" };
    let kind = if c.managed { "MANAGED" } else { "MANUAL" };
    view! {
        <tr class=class data-customer=c.customer_id.clone()>
            <td><StatusBadge status=c.status/></td>
            <td class="name">
                <a href=format!("/customers/{}", c.customer_id)>{c.label().to_string()}</a>
                {c.name.is_some().then(|| view! { <span class="sub muted">{c.customer_id.clone()}</span> })}
            </td>
            <td><span class="tag">{kind}</span></td>
            <td><VersionMark version=c.version.clone() latest=c.latest_version.clone()/></td>
            <td class="drift">{c.managed.then(|| view! { <DriftBadge drift=c.drift.clone()/> })}</td>
            <td>{format::age_since(c.reported_at, now)}</td>
        </tr>
    }
}

/// "Check drift now": diffs every managed node against the hub's config, then reloads the list.
#[component]
fn DriftButton(fleet: Fleet) -> impl IntoView {
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<DriftCheck, ApiError>>);
    let check = move |_| {
        busy.set(true);
        spawn_local(async move {
            result.set(Some(api::check_drift().await));
            busy.set(false);
            fleet.refresh();
        });
    };
    view! {
        <p class="refresh muted" id="drift-check">
            {move || result.get().map(|r| match r {
                Ok(c) => format!("{} in sync, {} drifted, {} unreachable ", c.in_sync, c.drifted, c.unreachable),
                Err(e) => format!("{} ", e.message),
            })}
            <button class="link" id="check-drift" on:click=check disabled=move || busy.get()>
                {move || if busy.get() { "Checking…" } else { "Check drift now" }}
            </button>
        </p>
    }
}
