//! `/`: the fleet at a glance. Counts per status, a search box and a status filter (kept in the
//! URL), a sortable table; refreshed as the live stream tells of changes (every 60 s while it is
//! down) without losing scroll or filter.

use std::time::Duration;

use hub_shared::customer::{CustomerList, CustomerSummary};
use hub_shared::{ApiError, NodeStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::{
    DriftBadge, ErrorNotice, EventCounts, Loading, MaintenanceBadge, MetricBar, OpenWindows, SortHeader, StatusBadge,
    VersionMark,
};
use crate::fleet::{counts, FleetQuery, SortKey};
use crate::format;

/// The shortest time between two refreshes the stream asks for: a busy fleet reports often.
const THROTTLE: Duration = Duration::from_secs(3);

/// The fleet list, refreshed in the background; the last good answer stays on screen.
#[derive(Clone, Copy)]
pub struct Fleet {
    pub list: RwSignal<Option<CustomerList>>,
    pub error: RwSignal<Option<ApiError>>,
    /// When the browser last got an answer (Unix ms).
    pub refreshed_at: RwSignal<Option<i64>>,
    pub loading: RwSignal<bool>,
    /// A refresh is waiting for the throttle.
    pending: RwSignal<bool>,
    /// Whether the live stream is up.
    pub live: RwSignal<bool>,
}

impl Fleet {
    /// Loads the list now, and again whenever the live stream tells of a customer's change (or
    /// every 60 s while it is down), while the page is shown.
    pub fn poll() -> Fleet {
        let fleet = Fleet {
            list: RwSignal::new(None),
            error: RwSignal::new(None),
            refreshed_at: RwSignal::new(None),
            loading: RwSignal::new(false),
            pending: RwSignal::new(false),
            live: RwSignal::new(false),
        };
        fleet.refresh();
        crate::live::follow(fleet.live, move |message| match message {
            Some(m) if m.customer_id.is_none() => {}
            _ => fleet.refresh_soon(),
        });
        fleet
    }

    /// Refreshes now, or once the throttle allows.
    pub fn refresh_soon(self) {
        if self.pending.get_untracked() {
            return;
        }
        let since = format::now_ms() - self.refreshed_at.get_untracked().unwrap_or(0);
        let wait = (THROTTLE.as_millis() as i64 - since).max(0);
        self.pending.set(true);
        set_timeout(
            move || {
                self.pending.set(false);
                self.refresh();
            },
            Duration::from_millis(wait as u64),
        );
    }

    pub fn refresh(self) {
        if self.loading.get_untracked() {
            return;
        }
        self.loading.set(true);
        spawn_local(async move {
            match api::list_customers().await {
                Ok(list) => {
                    self.list.set(Some(list));
                    self.error.set(None);
                    self.refreshed_at.set(Some(format::now_ms()));
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.loading.set(false);
        });
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let fleet = Fleet::poll();
    OpenWindows::provide();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| FleetQuery::from_params(|k| p.get(k))));
    let navigate = use_navigate();
    let set_query = move |q: FleetQuery| {
        navigate(
            &format!("/{}", q.to_query_string()),
            NavigateOptions { replace: true, scroll: false, ..Default::default() },
        );
    };
    let rows = Memo::new(move |_| fleet.list.with(|l| l.as_ref().map(|l| query.with(|q| q.apply(&l.customers)))));
    let generated_at = move || fleet.list.with(|l| l.as_ref().map(|l| l.generated_at));

    let set_search = {
        let set_query = set_query.clone();
        move |ev| set_query(FleetQuery { search: event_target_value(&ev), ..query.get_untracked() })
    };
    let set_status = move |ev| {
        let status = NodeStatus::parse(&event_target_value(&ev));
        set_query(FleetQuery { status, ..query.get_untracked() })
    };

    view! {
        <div class="page-head">
            <h1>"Fleet"</h1>
            <RefreshState fleet=fleet/>
        </div>
        {move || {
            let err = fleet.error.get()?;
            Some(if fleet.list.with(Option::is_some) {
                view! {
                    <div class="notice warn" role="alert" id="unreachable" title=err.message>
                        "The hub cannot be reached. Showing the last data it sent; retrying every minute."
                    </div>
                }.into_any()
            } else {
                view! { <ErrorNotice error=err/> }.into_any()
            })
        }}
        <StatusCounts fleet=fleet query=query/>
        <div class="filters">
            <input id="search" type="search" placeholder="Search customer or host" aria-label="Search"
                prop:value=move || query.with(|q| q.search.clone()) on:input=set_search/>
            <select id="status-filter" aria-label="Status" on:change=set_status
                prop:value=move || query.with(|q| q.status.map_or("", NodeStatus::as_str).to_string())>
                <option value="">"All statuses"</option>
                {NodeStatus::ALL.into_iter().filter(|s| *s != NodeStatus::Blocked).map(|s| {
                    view! { <option value=s.as_str()>{s.as_str()}</option> }
                }).collect_view()}
            </select>
        </div>
        {move || match rows.get() {
            None if fleet.error.with(Option::is_none) => view! { <Loading text="Loading the fleet…"/> }.into_any(),
            None => ().into_any(),
            Some(rows) if rows.is_empty() => {
                let text = if fleet.list.with(|l| l.as_ref().is_some_and(|l| l.customers.iter().any(|c| !c.blocked))) {
                    "No customer matches the search and filter."
                } else {
                    "No customers yet. They appear here with their first report."
                };
                view! { <p class="notice empty" id="empty">{text}</p> }.into_any()
            }
            Some(rows) => {
                let now = generated_at().unwrap_or_default();
                view! { <FleetTable rows=rows now=now query=query/> }.into_any()
            }
        }}
    }
}

/// "Updated 14:05" and whether a refresh is under way; fixed width so nothing jumps.
#[component]
fn RefreshState(fleet: Fleet) -> impl IntoView {
    view! {
        <p class="refresh muted" id="refreshed">
            {move || match fleet.refreshed_at.get() {
                Some(ms) => format!("Updated {}", format::clock(ms)),
                None => String::new(),
            }}
            <span id="live" class="muted" data-live=move || fleet.live.get().to_string()
                title="The live stream is up: changes show as they happen">
                {move || if fleet.live.get() { " · live" } else { "" }}
            </span>
            <button class="link" id="refresh" on:click=move |_| fleet.refresh() disabled=move || fleet.loading.get()>
                {move || if fleet.loading.get() { "Refreshing…" } else { "Refresh" }}
            </button>
        </p>
    }
}

/// One chip per status with its count; a click filters by it (a second click clears it).
#[component]
fn StatusCounts(fleet: Fleet, query: Memo<FleetQuery>) -> impl IntoView {
    move || {
        let list = fleet.list.get()?;
        let current = query.get();
        Some(view! {
            <div class="counts" id="counts">
                {counts(&list.customers).into_iter().map(|(status, n)| {
                    let selected = current.status == Some(status);
                    let target = FleetQuery { status: (!selected).then_some(status), ..current.clone() };
                    let class = if selected { "count selected" } else { "count" };
                    view! {
                        <a class=class href=format!("/{}", target.to_query_string()) data-count=status.as_str() data-noscroll="">
                            <StatusBadge status=status/>
                            <span class="count-n">{n}</span>
                        </a>
                    }
                }).collect_view()}
            </div>
        })
    }
}

#[component]
fn FleetTable(
    rows: Vec<CustomerSummary>,
    now: chrono::DateTime<chrono::Utc>,
    query: Memo<FleetQuery>,
) -> impl IntoView {
    let header = move |label: &'static str, key: SortKey, class: &'static str| {
        let href = Signal::derive(move || format!("/{}", query.with(|q| q.sorted_by(key)).to_query_string()));
        let active = Signal::derive(move || query.with(|q| (q.sort == key).then_some(q.descending)));
        view! { <SortHeader label=label href=href active=active class=class/> }
    };
    view! {
        <div class="table-wrap">
            <table class="fleet" id="fleet">
                <thead>
                    <tr>
                        {header("Status", SortKey::Status, "")}
                        {header("Customer", SortKey::Customer, "")}
                        {header("Host", SortKey::Hostname, "wide-only")}
                        {header("Version", SortKey::Version, "wide-only")}
                        <th class="wide-only">"Config"</th>
                        {header("Last report", SortKey::LastReport, "")}
                        {header("CPU", SortKey::Cpu, "")}
                        {header("Memory", SortKey::Memory, "")}
                        {header("Disk", SortKey::Disk, "")}
                        {header("Containers", SortKey::Containers, "")}
                        {header("Backup", SortKey::Backup, "")}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|c| view! { <FleetRow c=c now=now/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn FleetRow(c: CustomerSummary, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let href = format!("/customers/{}", c.customer_id);
    let containers = match (c.containers_running, c.containers_total) {
        (Some(r), Some(t)) => format!("{r}/{t}"),
        _ => "–".into(),
    };
    let backup_class = match c.last_backup_ok {
        Some(false) => "bad",
        _ => "",
    };
    let backup = match (c.last_backup_at, c.last_backup_ok) {
        (_, Some(false)) => format!("failed · {}", format::age_since(c.last_backup_at, now)),
        (Some(t), _) => format::age_since(Some(t), now),
        (None, _) => "–".into(),
    };
    let last_report_title = c.last_report_at.map(format::datetime).unwrap_or_default();
    view! {
        <tr data-customer=c.customer_id.clone()>
            <td><StatusBadge status=c.status/></td>
            <td class="name">
                <a href=href>{c.display_name.clone().unwrap_or_else(|| c.customer_id.clone())}</a>
                {c.display_name.is_some().then(|| view! { <span class="sub muted">{c.customer_id.clone()}</span> })}
                <MaintenanceBadge customer_id=c.customer_id.clone()/>
                {c.controller_address_changed.then(|| view! {
                    <span class="badge badge-warn address-changed"
                        title="The controller reports a new address; the hub calls the old one until it is accepted on the customer page">
                        "address changed"
                    </span>
                })}
                <EventCounts errors=c.errors_24h warnings=c.warnings_24h/>
            </td>
            <td class="wide-only">{c.hostname.clone().unwrap_or_else(|| "–".into())}</td>
            <td class="wide-only"><VersionMark version=c.controller_version.clone() latest=c.latest_version.clone()/></td>
            <td class="wide-only drift">{c.managed.then(|| view! { <DriftBadge drift=c.drift.clone()/> })}</td>
            <td title=last_report_title>{format::age_since(c.last_report_at, now)}</td>
            <td><MetricBar value=c.cpu_percent/></td>
            <td><MetricBar value=c.memory_percent/></td>
            <td><MetricBar value=c.disk_percent/></td>
            <td class="num">{containers}</td>
            <td class=backup_class>{backup}</td>
        </tr>
    }
}
