//! `/jobs`: the hub's background jobs, each with its schedule, next due time and last run
//! (when, how long, how it went).

use hub_shared::job::{JobList, JobRun, JobStatus};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::{ErrorNotice, Loading};
use crate::format;

/// A run's duration: "850 ms", "4.2 s", "3 min 5 s".
fn duration(ms: i64) -> String {
    match ms.max(0) {
        ms @ 0..1000 => format!("{ms} ms"),
        ms @ 1000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// The time until `ms` from `now`: "in 42 s", "in 5 min", "in 3 h"; "due" once it passed.
fn until(ms: i64, now: i64) -> String {
    match (ms - now) / 1000 {
        ..=0 => "due".into(),
        s @ 1..60 => format!("in {s} s"),
        s @ 60..3600 => format!("in {} min", s / 60),
        s => format!("in {} h", s / 3600),
    }
}

/// The replica that ran a job, shortened: "on replica 5311453f".
fn holder(id: &str) -> String {
    format!("on replica {}", id.get(..8).unwrap_or(id))
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let jobs = RwSignal::new(None::<Result<JobList, ApiError>>);
    let load = move || spawn_local(async move { jobs.set(Some(api::list_jobs().await)) });
    load();
    view! {
        <div class="page-head">
            <h1>"Jobs"</h1>
            <p class="refresh muted"><button class="link" id="jobs-refresh" on:click=move |_| load()>"Refresh"</button></p>
        </div>
        {move || match jobs.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
            Some(Ok(list)) => {
                let now = format::now_ms();
                view! {
                    <div class="table-wrap">
                        <table class="jobs stack" id="jobs">
                            <thead>
                                <tr>
                                    <th>"Job"</th><th>"Schedule"</th><th>"Next run"</th>
                                    <th>"Last run"</th><th class="num">"Duration"</th><th>"Outcome"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.jobs.into_iter().map(|j| view! { <JobRow job=j now=now/> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }
        }}
    }
}

#[component]
fn JobRow(job: JobStatus, now: i64) -> impl IntoView {
    let next = job.next_due_at.map(|at| at.timestamp_millis());
    let (last, took, outcome) = match &job.last_run {
        None => ("never".to_string(), "–".to_string(), view! { <span class="muted">"–"</span> }.into_any()),
        Some(run) => (
            format::datetime(run.started_at),
            run.duration_ms.map_or_else(|| "–".into(), duration),
            view! { <Outcome run=run.clone()/> }.into_any(),
        ),
    };
    view! {
        <tr data-job=job.name.clone()>
            <td class="name" data-label="Job">{job.name.clone()}</td>
            <td class="schedule" data-label="Schedule">{job.schedule.clone()}</td>
            <td class="next" data-label="Next run">
                {match next {
                    Some(next) => view! {
                        <div>{format::local(next, format::Style::DateTime)} <span class="sub muted">{until(next, now)}</span></div>
                    }.into_any(),
                    None => view! { <span class="muted">"–"</span> }.into_any(),
                }}
            </td>
            <td data-label="Last run">
                <div>
                    {last}
                    {job.last_run.as_ref().map(|r| view! { <span class="sub muted" title=r.holder.clone()>{holder(&r.holder)}</span> })}
                </div>
            </td>
            <td class="num" data-label="Duration">{took}</td>
            <td class="outcome" data-label="Outcome"><div>{outcome}</div></td>
        </tr>
    }
}

#[component]
fn Outcome(run: JobRun) -> impl IntoView {
    let (class, word) = match run.ok {
        None => ("badge badge-gray", "RUNNING"),
        Some(true) => ("badge badge-ok", "OK"),
        Some(false) => ("badge badge-down", "FAILED"),
    };
    view! {
        <span class=class data-outcome=word>{word}</span>
        {(!run.message.is_empty()).then(|| view! { <span class="job-message muted">{run.message.clone()}</span> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_countdowns_read_naturally() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(4_210), "4.2 s");
        assert_eq!(duration(185_000), "3 min 5 s");
        assert_eq!(until(0, 10_000), "due");
        assert_eq!(until(42_000, 0), "in 42 s");
        assert_eq!(until(5 * 60_000 + 10, 0), "in 5 min");
        assert_eq!(until(3 * 3_600_000, 0), "in 3 h");
    }
}
