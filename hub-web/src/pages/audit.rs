//! `/audit`: the audit log, newest first, a page at a time below the cursor in the URL (`?before=`).

use hub_shared::audit::{AuditEntry, AuditPage};
use hub_shared::page::PageQuery;
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::components::{ErrorNotice, Loading};
use crate::format;

const PER_PAGE: u32 = 50;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| {
        let before = query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok()));
        PageQuery { limit: Some(PER_PAGE), before }
    });
    let answer = RwSignal::new(None::<Result<AuditPage, ApiError>>);
    Effect::new(move |_| {
        let wanted = page.get();
        answer.set(None);
        spawn_local(async move {
            let result = api::list_audit(wanted).await;
            if page.get_untracked() == wanted {
                answer.set(Some(result));
            }
        });
    });
    view! {
        <div class="page-head">
            <h1>"Audit log"</h1>
            <p class="muted">"Every operator change, credential reveal and use of a retrieval password, newest first."</p>
        </div>
        {move || match answer.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
            Some(Ok(p)) if p.entries.is_empty() => view! { <p class="notice empty">"Nothing recorded yet."</p> }.into_any(),
            Some(Ok(p)) => view! { <AuditTable page=p first=page.get_untracked().before.is_none()/> }.into_any(),
        }}
    }
}

/// One page of entries; `first` when it is the newest page.
#[component]
fn AuditTable(page: AuditPage, first: bool) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="audit" id="audit">
                <thead>
                    <tr>
                        <th>"Time"</th>
                        <th>"Action"</th>
                        <th>"Customer"</th>
                        <th>"Summary"</th>
                        <th>"By"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.entries.into_iter().map(|e| view! { <AuditRow entry=e/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(!first).then(|| view! { <a href="/audit" id="audit-newest">"← Newest"</a> })}
            {page.next_before.map(|b| view! { <a href=format!("/audit?before={b}") id="audit-older">"Older →"</a> })}
        </nav>
    }
}

/// A color for the kind of action: red for what destroys or exposes, yellow for changes.
fn action_class(action: &str) -> &'static str {
    match action {
        "delete" | "block" | "reveal" | "reveal_infra_backup" | "retrieval_failed" | "retrieval_alert" => {
            "badge badge-down"
        }
        "create" | "unblock" | "retrieval" => "badge badge-ok",
        _ => "badge badge-warn",
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let action = entry.action.as_str();
    view! {
        <tr data-action=action>
            <td class="muted">{format::datetime(entry.at)}</td>
            <td><span class=action_class(action)>{action.replace('_', " ")}</span></td>
            <td>{entry.customer_id.map(|id| view! { <a href=format!("/customers/{id}")>{id.clone()}</a> })}</td>
            <td class="summary">{entry.summary}</td>
            <td class="muted">
                {entry.actor}
                {entry.client_ip.map(|ip| view! { <span class="sub">{ip}</span> })}
            </td>
        </tr>
    }
}
