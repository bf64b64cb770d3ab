//! `/rollouts`: start a staged rollout of a controller version (canaries first, then batches)
//! and see the rollouts so far; `/rollouts/:id`: follow one, each node's step, and pause, resume
//! or abort it. The page of a rollout refreshes every 10 s while it is shown.

use std::time::Duration;

use hub_shared::rollout::{NodeStep, Rollout, RolloutList, RolloutNode, RolloutState, RolloutSummary, StartRollout};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::api::{self, RolloutControl};
use crate::components::{ConfirmButton, ErrorNotice, Loading};
use crate::format;

const REFRESH: Duration = Duration::from_secs(10);

fn state_class(state: RolloutState) -> &'static str {
    match state {
        RolloutState::Running => "badge badge-ok",
        RolloutState::Paused => "badge badge-gray",
        RolloutState::Stopped => "badge badge-down",
        RolloutState::Aborted | RolloutState::Done => "badge badge-gray",
    }
}

fn step_class(step: NodeStep) -> &'static str {
    match step {
        NodeStep::Done => "badge badge-ok",
        NodeStep::Updating | NodeStep::Soaking => "badge badge-warn",
        NodeStep::Failed => "badge badge-down",
        NodeStep::Pending | NodeStep::Skipped => "badge badge-gray",
    }
}

/// "3 of 6 done", with the failed ones when there are.
fn progress(r: &RolloutSummary) -> String {
    let c = r.counts;
    let total = c.pending + c.updating + c.soaking + c.done + c.failed;
    let failed = if c.failed > 0 { format!(", {} failed", c.failed) } else { String::new() };
    format!("{} of {total} done{failed}", c.done)
}

/// The canary field: customer ids separated by commas or blanks.
fn canary_ids(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[component]
pub fn RolloutsPage() -> impl IntoView {
    let list = RwSignal::new(None::<Result<RolloutList, ApiError>>);
    let load = move || spawn_local(async move { list.set(Some(api::list_rollouts().await)) });
    load();
    view! {
        <div class="page-head">
            <h1>"Rollouts"</h1>
            <p class="refresh muted"><button class="link" id="rollouts-refresh" on:click=move |_| load()>"Refresh"</button></p>
        </div>
        <StartForm/>
        {move || match list.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
            Some(Ok(list)) if list.rollouts.is_empty() => {
                view! { <p class="notice empty" id="no-rollouts">"No rollout yet."</p> }.into_any()
            }
            Some(Ok(list)) => view! {
                <div class="table-wrap">
                    <table class="rollouts" id="rollouts">
                        <thead><tr><th>"Rollout"</th><th>"Version"</th><th>"State"</th><th>"Progress"</th><th>"Started"</th></tr></thead>
                        <tbody>
                            {list.rollouts.into_iter().map(|r| view! {
                                <tr data-rollout=r.id>
                                    <td><a href=format!("/rollouts/{}", r.id)>{format!("#{}", r.id)}</a></td>
                                    <td>{r.version.clone()}</td>
                                    <td><span class=state_class(r.state)>{r.state.as_str()}</span></td>
                                    <td>{progress(&r)}</td>
                                    <td>{format::datetime(r.created_at)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any(),
        }}
    }
}

/// The form that starts a rollout; the version defaults to the newest the registry has.
#[component]
fn StartForm() -> impl IntoView {
    let version = RwSignal::new(String::new());
    let canary = RwSignal::new(String::new());
    let percent = RwSignal::new(String::from("10"));
    let wait = RwSignal::new(String::from("30m"));
    let batch = RwSignal::new(String::from("10"));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    spawn_local(async move {
        if let Ok(versions) = api::fleet_versions().await {
            if let Some(latest) = versions.latest {
                if version.get_untracked().is_empty() {
                    version.set(latest.version);
                }
            }
        }
    });
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ids = canary_ids(&canary.get_untracked());
        let request = StartRollout {
            version: version.get_untracked().trim().to_string(),
            canary_percent: if ids.is_empty() { percent.get_untracked().trim().parse().ok() } else { None },
            canary: (!ids.is_empty()).then_some(ids),
            wait: wait.get_untracked(),
            batch_size: batch.get_untracked().trim().parse().ok(),
            update_timeout: None,
        };
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::start_rollout(&request).await {
                Ok(r) => navigate(&format!("/rollouts/{}", r.rollout.id), NavigateOptions::default()),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let text = |id: &'static str, label: &'static str, value: RwSignal<String>, hint: &'static str| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                <p class="muted hint">{hint}</p>
            </div>
        }
    };
    view! {
        <form class="card" id="start-rollout" on:submit=submit>
            <h2>"Start a rollout"</h2>
            <div class="fields">
                {text("rollout-version", "Version", version, "A registry tag; the newest known is filled in.")}
                {text("rollout-canary", "Canary customers", canary, "Customer ids, comma separated; empty: a share below.")}
                {text("rollout-percent", "Canary share (%)", percent, "Used when no canary customer is named.")}
                {text("rollout-wait", "Wait", wait, "How long each node stays OK before the next step (10m, 1h).")}
                {text("rollout-batch", "Batch size", batch, "Nodes updated at a time after the canaries.")}
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" id="rollout-error">{e.message}</p> })}
            <div class="form-actions">
                <button type="submit" class="primary" id="start" disabled=move || busy.get()>
                    {move || if busy.get() { "Starting…" } else { "Start rollout" }}
                </button>
                <span class="muted">"Blocked customers and nodes already on the version are skipped."</span>
            </div>
        </form>
    }
}

#[component]
pub fn RolloutPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let rollout = RwSignal::new(None::<Result<Rollout, ApiError>>);
    let load = move || {
        if let Some(id) = id.get_untracked() {
            spawn_local(async move { rollout.set(Some(api::get_rollout(id).await)) });
        }
    };
    Effect::new(move |_| {
        id.track();
        load();
    });
    if let Ok(handle) = set_interval_with_handle(load, REFRESH) {
        on_cleanup(move || handle.clear());
    }
    move || match rollout.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
        Some(Ok(r)) => view! { <RolloutView r=r rollout=rollout/> }.into_any(),
    }
}

#[component]
fn RolloutView(r: Rollout, rollout: RwSignal<Option<Result<Rollout, ApiError>>>) -> impl IntoView {
    let summary = r.rollout.clone();
    let id = summary.id;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let control = move |what: RolloutControl| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::control_rollout(id, what).await {
                Ok(r) => rollout.set(Some(Ok(r))),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let state = summary.state;
    view! {
        <div class="page-head">
            <h1>{format!("Rollout #{id} to {}", summary.version)}</h1>
            <p class="refresh muted"><a href="/rollouts">"All rollouts"</a></p>
        </div>
        <section class="card" id="rollout">
            <div class="card-head">
                <h2>
                    <span class=state_class(state) id="rollout-state" data-state=state.as_str()>{state.as_str()}</span>
                    " "{progress(&summary)}
                </h2>
                <div class="actions">
                    {(state == RolloutState::Running).then(|| view! {
                        <button type="button" class="secondary" id="pause" disabled=move || busy.get()
                            on:click=move |_| control(RolloutControl::Pause)>"Pause"</button>
                    })}
                    {matches!(state, RolloutState::Paused | RolloutState::Stopped).then(|| view! {
                        <button type="button" class="secondary" id="resume" disabled=move || busy.get()
                            on:click=move |_| control(RolloutControl::Resume)>"Resume"</button>
                    })}
                    {(!state.is_finished()).then(|| view! {
                        <ConfirmButton label="Abort" question="Abort this rollout for good?" confirm="Abort" id="abort"
                            busy=busy on_confirm=move || control(RolloutControl::Abort)/>
                    })}
                </div>
            </div>
            {summary.reason.clone().map(|why| view! { <p class="notice warn" id="rollout-reason">{why}</p> })}
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
            <p class="muted">
                {format!(
                    "Each node must report {} and stay OK for {} min; batches of {}; started {}.",
                    summary.version,
                    summary.wait_secs / 60,
                    summary.batch_size,
                    format::datetime(summary.created_at)
                )}
            </p>
            <div class="table-wrap">
                <table class="rollout-nodes" id="rollout-nodes">
                    <thead><tr><th>"Customer"</th><th>"Step"</th><th>"From"</th><th>"Asked"</th><th>"Arrived"</th><th>"Note"</th></tr></thead>
                    <tbody>{r.nodes.into_iter().map(|n| view! { <NodeRow n=n/> }).collect_view()}</tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn NodeRow(n: RolloutNode) -> impl IntoView {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(format::datetime).unwrap_or_else(|| "–".into());
    view! {
        <tr data-node=n.customer_id.clone() data-step=n.step.as_str()>
            <td class="name">
                <a href=format!("/customers/{}", n.customer_id)>{n.customer_id.clone()}</a>
                {n.canary.then(|| view! { <span class="tag">"CANARY"</span> })}
            </td>
            <td><span class=step_class(n.step)>{n.step.as_str()}</span></td>
            <td>{n.from_version.clone().unwrap_or_else(|| "–".into())}</td>
            <td>{when(n.requested_at)}</td>
            <td>{when(n.arrived_at)}</td>
            <td class="muted">{n.message.clone().unwrap_or_default()}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_ids_split_on_commas_and_blanks() {
        assert_eq!(canary_ids(" kovacs, nagy\nszabo ,"), ["kovacs", "nagy", "szabo"]);
        assert!(canary_ids("  ").is_empty());
    }
}
