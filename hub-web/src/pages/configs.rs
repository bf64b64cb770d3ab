//! `/configs`: every customer, managed or report-only, blocked ones grayed out.

use hub_shared::customer::CustomerSummary;
use leptos::prelude::*;

use crate::components::{ErrorNotice, Loading, StatusBadge};
use crate::fleet::name;
use crate::format;
use crate::pages::dashboard::Fleet;

#[component]
pub fn ConfigsPage() -> impl IntoView {
    let fleet = Fleet::poll();
    view! {
        <div class="page-head">
            <h1>"Customers"</h1>
            // The "New customer" action of the config form goes here.
        </div>
        {move || fleet.error.get().map(|e| view! { <ErrorNotice error=e/> })}
        {move || {
            let Some(list) = fleet.list.get() else {
                return fleet.error.with(Option::is_none).then(|| view! { <Loading/> }).into_any();
            };
            if list.customers.is_empty() {
                return view! { <p class="notice empty">"No customers yet."</p> }.into_any();
            }
            let mut customers = list.customers;
            customers.sort_by_key(|c| (c.blocked, name(c), c.customer_id.clone()));
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
                                <th>"Last report"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {customers.into_iter().map(|c| view! { <CustomerRow c=c now=now/> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
    }
}

#[component]
fn CustomerRow(c: CustomerSummary, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let class = if c.blocked { "blocked" } else { "" };
    let kind = if c.managed { "MANAGED" } else { "MANUAL" };
    view! {
        <tr class=class data-customer=c.customer_id.clone()>
            <td><StatusBadge status=c.status/></td>
            <td class="name">
                <a href=format!("/customers/{}", c.customer_id)>{c.display_name.clone().unwrap_or_else(|| c.customer_id.clone())}</a>
                {c.display_name.is_some().then(|| view! { <span class="sub muted">{c.customer_id.clone()}</span> })}
            </td>
            <td><span class="tag">{kind}</span></td>
            <td>{c.controller_version.clone().unwrap_or_else(|| "–".into())}</td>
            <td>{format::age_since(c.last_report_at, now)}</td>
        </tr>
    }
}
