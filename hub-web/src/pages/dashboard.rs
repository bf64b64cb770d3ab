//! `/`: the fleet at a glance. Counts per status, a search box and a status filter (kept in the
//! URL), a sortable table; refreshed as the live stream tells of changes (every 60 s while it is
//! down) without losing scroll or filter.

use std::time::Duration;

use hub_shared::customer_list::{CustomerList, CustomerListQuery, CustomerRow};
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
/// Rows asked for at a time; "Show more" adds the next page.
pub const PAGE: u32 = 100;

/// The rows of the fleet shown so far (the first pages of `query`), refreshed in the background;
/// the last good answer stays on screen.
#[derive(Clone, Copy)]
pub struct Fleet {
    /// The pages loaded so far as one list (`next_cursor` from the last).
    pub list: RwSignal<Option<CustomerList>>,
    pub error: RwSignal<Option<ApiError>>,
    /// When the browser last got an answer (Unix ms).
    pub refreshed_at: RwSignal<Option<i64>>,
    pub loading: RwSignal<bool>,
    /// A refresh is waiting for the throttle.
    pending: RwSignal<bool>,
    /// Whether the live stream is up.
    pub live: RwSignal<bool>,
    /// What is asked for (filter and order; the page is added here).
    query: Memo<CustomerListQuery>,
    /// Grows with each request, so an answer to an older one is dropped.
    asked: StoredValue<u64>,
}

impl Fleet {
    /// Loads the first page of `query` now and whenever it changes, and the pages shown again
    /// whenever the live stream tells of a customer's change (or every 60 s while it is down),
    /// while the page is shown.
    pub fn poll(query: Memo<CustomerListQuery>) -> Fleet {
        let fleet = Fleet {
            list: RwSignal::new(None),
            error: RwSignal::new(None),
            refreshed_at: RwSignal::new(None),
            loading: RwSignal::new(false),
            pending: RwSignal::new(false),
            live: RwSignal::new(false),
            query,
            asked: StoredValue::new(0),
        };
        Effect::new(move |_| {
            query.track();
            fleet.fetch(PAGE, None);
        });
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

    /// Loads as many rows as are shown again, from the first.
    pub fn refresh(self) {
        let shown = self.list.with_untracked(|l| l.as_ref().map_or(0, |l| l.customers.len() as u32));
        self.fetch(shown.max(PAGE), None);
    }

    /// Adds the next page.
    pub fn more(self) {
        if let Some(cursor) = self.list.with_untracked(|l| l.as_ref().and_then(|l| l.next_cursor.clone())) {
            self.fetch(PAGE, Some(cursor));
        }
    }

    fn fetch(self, limit: u32, cursor: Option<String>) {
        let asked = self.asked.get_value() + 1;
        self.asked.set_value(asked);
        let appending = cursor.is_some();
        let query = CustomerListQuery { limit: Some(limit), cursor, ..self.query.get_untracked() };
        self.loading.set(true);
        spawn_local(async move {
            let answer = api::list_customers(&query).await;
            if self.asked.get_value() != asked {
                return;
            }
            match answer {
                Ok(mut page) => {
                    if appending {
                        if let Some(shown) = self.list.get_untracked() {
                            page.customers.splice(0..0, shown.customers);
                        }
                    }
                    self.list.set(Some(page));
                    self.error.set(None);
                    self.refreshed_at.set(Some(format::now_ms()));
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.loading.set(false);
        });
    }
}

/// "Showing 100 of 523" and the button that adds the next page.
#[component]
pub fn MoreRows(fleet: Fleet) -> impl IntoView {
    move || {
        let (shown, matched, more) = fleet
            .list
            .with(|l| l.as_ref().map(|l| (l.customers.len(), l.matched, l.next_cursor.is_some())).unwrap_or_default());
        (shown > 0).then(|| {
            view! {
                <p class="more muted" id="more-rows" data-shown=shown data-matched=matched>
                    {format!("Showing {shown} of {matched} ")}
                    {more.then(|| view! {
                        <button class="link" id="show-more" on:click=move |_| fleet.more()
                            disabled=move || fleet.loading.get()>
                            {format!("Show {} more", PAGE.min(matched.saturating_sub(shown as u32)))}
                        </button>
                    })}
                </p>
            }
        })
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    OpenWindows::provide();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| FleetQuery::from_params(|k| p.get(k))));
    let fleet = Fleet::poll(Memo::new(move |_| query.with(FleetQuery::list_query)));
    let navigate = use_navigate();
    let set_query = move |q: FleetQuery| {
        navigate(
            &format!("/{}", q.to_query_string()),
            NavigateOptions { replace: true, scroll: false, ..Default::default() },
        );
    };
    let rows = Memo::new(move |_| fleet.list.with(|l| l.as_ref().map(|l| l.customers.clone())));
    mark_first_paint(rows);
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
                let shown = fleet.list.with(|l| l.as_ref().map_or(0, |l| crate::fleet::counts(&l.counts).iter().map(|(_, n)| n).sum::<u32>()));
                let text = if shown > 0 {
                    "No customer matches the search and filter."
                } else {
                    "No customers yet. They appear here with their first report."
                };
                view! { <p class="notice empty" id="empty">{text}</p> }.into_any()
            }
            Some(rows) => {
                let now = generated_at().unwrap_or_default();
                view! { <FleetTable rows=rows now=now query=query/> <MoreRows fleet=fleet/> }.into_any()
            }
        }}
    }
}

/// Marks `fleet-painted` on the browser's performance timeline once, after the frame that first
/// shows rows: the bench reads it as the time until the dashboard shows the fleet.
fn mark_first_paint(rows: Memo<Option<Vec<CustomerRow>>>) {
    let marked = StoredValue::new(false);
    Effect::new(move |_| {
        if marked.get_value() || !rows.with(|r| r.as_ref().is_some_and(|r| !r.is_empty())) {
            return;
        }
        marked.set_value(true);
        request_animation_frame(|| set_timeout(|| performance_mark("fleet-painted"), Duration::ZERO));
    });
}

fn performance_mark(name: &str) {
    use wasm_bindgen::JsCast;
    let global = js_sys::global();
    let Ok(performance) = js_sys::Reflect::get(&global, &"performance".into()) else { return };
    let Ok(mark) = js_sys::Reflect::get(&performance, &"mark".into()) else { return };
    if let Ok(mark) = mark.dyn_into::<js_sys::Function>() {
        let _ = mark.call1(&performance, &name.into());
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
                {counts(&list.counts).into_iter().map(|(status, n)| {
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
fn FleetTable(rows: Vec<CustomerRow>, now: chrono::DateTime<chrono::Utc>, query: Memo<FleetQuery>) -> impl IntoView {
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
fn FleetRow(c: CustomerRow, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let href = format!("/customers/{}", c.customer_id);
    let containers = match c.containers {
        Some([r, t]) => format!("{r}/{t}"),
        None => "–".into(),
    };
    let backup_class = match c.backup_ok {
        Some(false) => "bad",
        _ => "",
    };
    let backup = match (c.backup_at, c.backup_ok) {
        (_, Some(false)) => format!("failed · {}", format::age_since(c.backup_at, now)),
        (Some(t), _) => format::age_since(Some(t), now),
        (None, _) => "–".into(),
    };
    let last_report_title = c.reported_at.map(format::datetime).unwrap_or_default();
    view! {
        <tr data-customer=c.customer_id.clone()>
            <td><StatusBadge status=c.status/></td>
            <td class="name">
                <a href=href>{c.label().to_string()}</a>
                {c.name.is_some().then(|| view! { <span class="sub muted">{c.customer_id.clone()}</span> })}
                <MaintenanceBadge customer_id=c.customer_id.clone()/>
                {c.address_changed.then(|| view! {
                    <span class="badge badge-warn address-changed"
                        title="The controller reports a new address; the hub calls the old one until it is accepted on the customer page">
                        "address changed"
                    </span>
                })}
                <EventCounts errors=c.errors_24h warnings=c.warnings_24h/>
            </td>
            <td class="wide-only">{c.host.clone().unwrap_or_else(|| "–".into())}</td>
            <td class="wide-only"><VersionMark version=c.version.clone() latest=c.latest_version.clone()/></td>
            <td class="wide-only drift">{c.managed.then(|| view! { <DriftBadge drift=c.drift.clone()/> })}</td>
            <td title=last_report_title>{format::age_since(c.reported_at, now)}</td>
            <td><MetricBar value=c.cpu/></td>
            <td><MetricBar value=c.memory/></td>
            <td><MetricBar value=c.disk/></td>
            <td class="num">{containers}</td>
            <td class=backup_class>{backup}</td>
        </tr>
    }
}
