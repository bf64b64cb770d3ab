//! `/customers/{id}`: one customer's latest report and its history.
//!
//! Each section is its own module, listed in `CustomerView` below; `action` holds what the
//! management cards share.

mod action;
mod alerts;
mod containers;
mod controller;
mod credentials;
mod history;
mod manage;
mod notifications;
mod raw;
mod storage;
mod system;

use hub_shared::customer::CustomerDetail;
use hub_shared::report::ReportIn;
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::components::{ErrorNotice, EventTimeline, Loading, MaintenanceBadge, OpenWindows, StatusBadge};
use crate::format;

#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let detail = RwSignal::new(None::<Result<CustomerDetail, ApiError>>);
    let reload = manage::Reload::provide();
    OpenWindows::provide();
    // The header follows the live stream (or a 60 s timer while it is down); the cards keep what
    // they show, so nothing the operator is doing there is thrown away.
    let fresh = RwSignal::new(None::<CustomerDetail>);
    crate::live::follow(RwSignal::new(false), move |message| {
        let id = id_untracked(params);
        if message.is_some_and(|m| m.customer_id.as_deref() != Some(id.as_str())) {
            return;
        }
        spawn_local(async move {
            if let Ok(d) = api::get_customer(&id).await {
                if id == id_untracked(params) {
                    fresh.set(Some(d));
                }
            }
        });
    });
    Effect::new(move |_| {
        reload.track();
        let id = id.get();
        detail.set(None);
        fresh.set(None);
        spawn_local(async move {
            let answer = api::get_customer(&id).await;
            // The operator may have moved on to another customer meanwhile.
            if id == id_untracked(params) {
                detail.set(Some(answer));
            }
        });
    });
    move || match detail.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Err(e)) if e.code == "not_found" || e.code == "invalid_field" => view! {
            <section class="card">
                <h1>"No such customer"</h1>
                <p>{e.message}</p>
                <p><a href="/">"Back to the dashboard"</a></p>
            </section>
        }
        .into_any(),
        Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
        Some(Ok(d)) => view! { <CustomerView detail=d id=id.get_untracked() fresh=fresh/> }.into_any(),
    }
}

fn id_untracked(params: Memo<leptos_router::params::ParamsMap>) -> String {
    params.with_untracked(|p| p.get("id").unwrap_or_default())
}

#[component]
fn CustomerView(detail: CustomerDetail, id: String, fresh: RwSignal<Option<CustomerDetail>>) -> impl IntoView {
    let s = detail.summary.clone();
    let head = {
        let loaded = (s.clone(), detail.generated_at);
        move || fresh.with(|f| f.as_ref().map_or_else(|| loaded.clone(), |d| (d.summary.clone(), d.generated_at)))
    };
    // The stored JSON as the controller sent it; fields this app does not know are ignored.
    // Read as leniently as the hub stored it, so one odd field does not hide the cards.
    let report: Option<ReportIn> = detail.report.as_ref().and_then(|r| ReportIn::read(r).ok()).map(|(r, _)| r);
    let title = s.display_name.clone().unwrap_or_else(|| s.customer_id.clone());
    let now = detail.generated_at;
    view! {
        <nav class="crumbs"><a href="/">"Fleet"</a> " / " <span>{s.customer_id.clone()}</span></nav>
        <div class="page-head">
            <h1 id="customer-title">{title} " " {let head = head.clone(); move || view! { <StatusBadge status=head().0.status/> }}
                " " <MaintenanceBadge customer_id=s.customer_id.clone()/>
            </h1>
            <p class="muted" id="customer-head">
                {move || {
                    let (s, now) = head();
                    format!(
                        "{}{} · last report {}{}",
                        s.hostname.clone().unwrap_or_default(),
                        s.controller_version.clone().map(|v| format!(" · controller {v}")).unwrap_or_default(),
                        format::age_since(s.last_report_at, now),
                        s.last_report_at.map(|t| format!(" ({})", format::datetime(t))).unwrap_or_default(),
                    )
                }}
            </p>
        </div>
        <manage::BlockedBanner summary=s.clone()/>
        {match report {
            None => view! {
                <section class="card" id="no-report">
                    <h2>"Waiting for the first report"</h2>
                    <p class="muted">"This customer has never reported. Its data appears here after the controller's first report."</p>
                </section>
            }.into_any(),
            Some(r) => view! {
                <div class="grid-2">
                    <system::SystemCard report=r.clone()/>
                    <system::BackupCard report=r.clone() now=now/>
                </div>
                <history::HistoryCard id=id.clone()/>
                <storage::StorageCard report=r.clone()/>
                <containers::ContainersCard report=r.clone()/>
            }.into_any(),
        }}
        <manage::ManageSection summary=s.clone()/>
        <alerts::AlertsCard id=id.clone()/>
        <EventTimeline customer=id.clone()/>
        <notifications::NotificationsCard id=id.clone() pending=detail.email_confirmation.clone()/>
        {detail.report.clone().map(|json| view! { <raw::RawReport json=json/> })}
    }
}
