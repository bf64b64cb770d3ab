//! The customer page's controller card: the address the hub calls (and a changed one waiting
//! for the operator's Accept), the state of a requested update, and the four actions on the
//! controller: show the diff (a colour-coded table), push (confirmed), pull, update (confirmed).

use hub_shared::config::CustomerConfig;
use hub_shared::config_diff::{ConfigDiff, DiffChange};
use hub_shared::controller::{ControllerUpdate, UpdateStatus};
use hub_shared::ApiError;
use leptos::prelude::*;

use super::action::act;
use super::manage::Reload;
use crate::api;
use crate::components::{ConfirmButton, ErrorNotice};
use crate::format;

/// What the last action showed.
#[derive(Clone)]
enum Outcome {
    Diff(ConfigDiff),
    /// A pull: what changed in the stored config.
    Pulled(ConfigDiff),
    Said(String),
}

#[component]
pub fn ControllerCard(config: CustomerConfig) -> impl IntoView {
    let id = config.customer_id.clone();
    let address = config.controller_address.clone();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = RwSignal::new(None::<Outcome>);
    let version = RwSignal::new(String::new());
    let reload = Reload::trigger();

    let diff = {
        let id = id.clone();
        move |reveal: bool| {
            let id = id.clone();
            act(busy, error, async move { api::diff_config(&id, reveal).await }, move |d| {
                outcome.set(Some(Outcome::Diff(d)))
            });
        }
    };
    let push = {
        let id = id.clone();
        move || {
            let id = id.clone();
            act(busy, error, async move { api::push_config(&id).await }, move |p| {
                let said = format!(
                    "Pushed to {}: the controller answered HTTP {}: {}",
                    p.controller_url, p.controller.status, p.controller.message
                );
                outcome.set(Some(Outcome::Said(said)));
            });
        }
    };
    let pull = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            act(busy, error, async move { api::pull_config(&id).await }, move |p| {
                outcome.set(Some(Outcome::Pulled(p.changes)));
            });
        }
    };
    let update = {
        let id = id.clone();
        move || {
            let id = id.clone();
            let wanted = Some(version.get_untracked().trim().to_string()).filter(|v| !v.is_empty());
            act(busy, error, async move { api::update_controller(&id, wanted).await }, move |_| reload());
        }
    };
    let accept = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            act(busy, error, async move { api::accept_controller_address(&id).await }, move |_| reload());
        }
    };
    let show_diff = diff.clone();
    let reveal = diff;

    view! {
        <section class="card" id="controller">
            <h2>"Controller"</h2>
            <dl class="kv">
                <dt>"Address"</dt>
                <dd id="controller-address">{address.accepted.clone().unwrap_or_else(|| "not reported yet".into())}</dd>
                {config.controller_update.clone().map(|u| view! {
                    <dt>"Update"</dt>
                    <dd><UpdateState update=u/></dd>
                })}
            </dl>
            {address.pending.clone().map(|pending| view! {
                <div class="notice warn" id="address-changed" role="status">
                    <strong>"Controller address changed. "</strong>
                    {format!(
                        "The latest report says {pending}; the hub keeps calling {} until you accept the new address.",
                        address.accepted.clone().unwrap_or_default()
                    )}
                    " "
                    <button type="button" class="primary" id="accept-address" disabled=move || busy.get()
                        on:click=accept.clone()>"Accept"</button>
                </div>
            })}
            <div class="actions">
                <button type="button" class="secondary" id="show-diff" disabled=move || busy.get()
                    on:click=move |_| show_diff(false)>"Show diff"</button>
                <ConfirmButton label="Push config" id="push" busy=busy confirm="Yes, push"
                    question="Send the hub's config to the controller, replacing its own?" on_confirm=push/>
                <button type="button" class="secondary" id="pull" disabled=move || busy.get() on:click=pull>
                    "Pull config"
                </button>
                <input type="text" id="update-version" placeholder="newest known" size="10"
                    aria-label="Version to update to"
                    prop:value=move || version.get() on:input=move |ev| version.set(event_target_value(&ev))/>
                <ConfirmButton label="Update controller" id="update" busy=busy confirm="Yes, update"
                    question="Tell the controller to update itself now?" on_confirm=update/>
            </div>
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
            {move || outcome.get().map(|o| match o {
                Outcome::Said(text) => view! { <p class="ok" id="controller-said">{text}</p> }.into_any(),
                Outcome::Pulled(changes) => view! {
                    <h3>"Pulled: what changed in the stored config"</h3>
                    <DiffTable diff=changes before="Before" after="After"/>
                }
                .into_any(),
                Outcome::Diff(d) => {
                    let reveal = reveal.clone();
                    let revealed = d.revealed;
                    view! {
                        <h3>"The hub's config against the controller's"</h3>
                        <DiffTable diff=d before="Hub" after="Controller"/>
                        {(!revealed).then(|| view! {
                            <button type="button" class="link" id="reveal-diff" on:click=move |_| reveal(true)>
                                "Reveal secrets (audited)"
                            </button>
                        })}
                    }
                    .into_any()
                }
            })}
        </section>
    }
}

/// "Updating to X", "Updated to X" or "Update to X did not arrive".
#[component]
fn UpdateState(update: ControllerUpdate) -> impl IntoView {
    let (class, text) = match update.status {
        UpdateStatus::Updating => (
            "update-updating",
            format!(
                "updating to {} (asked {}, waits until {})",
                update.version,
                format::datetime(update.requested_at),
                format::datetime(update.deadline_at)
            ),
        ),
        UpdateStatus::Arrived => ("update-arrived ok", format!("updated to {}", update.version)),
        UpdateStatus::Failed => (
            "update-failed bad",
            format!("update to {} did not arrive (asked {})", update.version, format::datetime(update.requested_at)),
        ),
    };
    view! { <span id="update-state" class=class>{text}</span> }
}

fn shown(value: &Option<serde_json::Value>) -> String {
    match value {
        None => "–".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The differences, one row per key path: added (only the controller's side has it) green,
/// removed red, changed amber.
#[component]
fn DiffTable(diff: ConfigDiff, before: &'static str, after: &'static str) -> impl IntoView {
    if diff.is_empty() {
        return view! { <p class="muted" id="diff-empty">"No differences."</p> }.into_any();
    }
    let rows = |kind: &'static str, list: Vec<DiffChange>| {
        list.into_iter()
            .map(|c| {
                view! {
                    <tr class=format!("diff-{kind}") data-path=c.path.clone()>
                        <td data-label="Key"><code>{c.path.clone()}</code></td>
                        <td data-label="">{kind}</td>
                        <td data-label=before>{shown(&c.hub)}</td>
                        <td data-label=after>{shown(&c.controller)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <p class="muted small" id="diff-count">{format!(
            "{} added, {} removed, {} changed",
            diff.added.len(), diff.removed.len(), diff.changed.len()
        )}</p>
        <div class="table-wrap">
            <table class="diff stack" id="diff-table">
                <thead><tr><th>"Key"</th><th></th><th>{before}</th><th>{after}</th></tr></thead>
                <tbody>
                    {rows("changed", diff.changed)}
                    {rows("added", diff.added)}
                    {rows("removed", diff.removed)}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
