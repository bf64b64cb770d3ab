//! The history card: CPU, memory and disk charts over 24h / 7d / 30d / 90d. The period is kept
//! in the URL (`?period=`), so a reload or a shared link shows the same charts.

use hub_shared::history::{History, HistoryPoint, Period};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::components::line_chart::Frame;
use crate::components::{ErrorNotice, LineChart, Loading};
use crate::format;

#[component]
pub fn HistoryCard(id: String) -> impl IntoView {
    let query = use_query_map();
    let period =
        Memo::new(move |_| query.with(|q| q.get("period")).and_then(|p| Period::parse(&p).ok()).unwrap_or_default());
    let history = RwSignal::new(None::<Result<(History, i64), ApiError>>);
    Effect::new(move |_| {
        let (id, period) = (id.clone(), period.get());
        spawn_local(async move {
            let answer = api::get_history(&id, period).await.map(|h| (h, format::now_ms()));
            if period == period_untracked(query) {
                history.set(Some(answer));
            }
        });
    });
    view! {
        <section class="card" id="history">
            <div class="card-head">
                <h2>"History"</h2>
                <div class="periods" role="group" aria-label="Period">
                    {Period::ALL.into_iter().map(|p| {
                        let class = move || if period.get() == p { "period selected" } else { "period" };
                        view! { <a class=class href=format!("?period={}", p.as_str()) data-period=p.as_str() data-noscroll="">{p.as_str()}</a> }
                    }).collect_view()}
                </div>
            </div>
            {move || match history.get() {
                None => view! { <Loading text="Loading the history…"/> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                Some(Ok((h, now))) => charts(&h, now).into_any(),
            }}
        </section>
    }
}

fn period_untracked(query: Memo<leptos_router::params::ParamsMap>) -> Period {
    query.with_untracked(|q| q.get("period")).and_then(|p| Period::parse(&p).ok()).unwrap_or_default()
}

fn series(points: &[HistoryPoint], pick: fn(&HistoryPoint) -> Option<f64>) -> Vec<(i64, f64)> {
    points.iter().filter_map(|p| pick(p).map(|v| (p.t, v))).collect()
}

fn charts(h: &History, now: i64) -> impl IntoView {
    let frame = Frame { start_ms: now - h.period.duration_ms(), end_ms: now, bucket_ms: h.bucket_ms };
    let with_time = h.period == Period::Day;
    view! {
        <div class="charts">
            <LineChart title="CPU" points=series(&h.points, |p| p.cpu_percent) frame=frame with_time=with_time/>
            <LineChart title="Memory" points=series(&h.points, |p| p.memory_percent) frame=frame with_time=with_time/>
            <LineChart title="Disk" points=series(&h.points, |p| p.disk_percent) frame=frame with_time=with_time/>
        </div>
    }
}
