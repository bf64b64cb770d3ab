//! The containers card: state, health and restarts of each container.

use hub_shared::report::ReportIn;
use leptos::prelude::*;

fn state_class(state: Option<&str>) -> &'static str {
    match state {
        Some("running") => "ok",
        Some("restarting") | Some("paused") => "warn",
        Some(_) => "bad",
        None => "muted",
    }
}

fn health_class(health: Option<&str>) -> &'static str {
    match health {
        Some("healthy") => "ok",
        Some("starting") => "warn",
        Some("unhealthy") => "bad",
        _ => "muted",
    }
}

#[component]
pub fn ContainersCard(report: ReportIn) -> impl IntoView {
    let (running, total) = report.container_counts();
    let mut containers = report.containers;
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    view! {
        <section class="card" id="containers">
            <h2>"Containers " <span class="muted">{format!("{running}/{total} running")}</span></h2>
            {if containers.is_empty() {
                view! { <p class="muted">"No containers in the report."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th>"Name"</th><th>"State"</th><th>"Health"</th><th class="num">"Restarts"</th><th class="wide-only">"Image"</th></tr></thead>
                            <tbody>
                                {containers.into_iter().map(|c| {
                                    let restarts = c.restart_count.unwrap_or(0);
                                    let restart_class = if restarts > 0 { "num warn" } else { "num" };
                                    view! {
                                        <tr>
                                            <td class="name">{c.name.clone()}</td>
                                            <td class=state_class(c.state.as_deref())>{c.state.clone().unwrap_or_else(|| "–".into())}</td>
                                            <td class=health_class(c.health.as_deref())>{c.health.clone().unwrap_or_else(|| "–".into())}</td>
                                            <td class=restart_class>{restarts}</td>
                                            <td class="wide-only muted">{c.image.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
