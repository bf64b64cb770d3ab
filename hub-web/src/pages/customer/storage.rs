//! The storage card: one row per drive with its role, used/total bar and SMART state.

use hub_shared::report::ReportIn;
use leptos::prelude::*;

use crate::components::MetricBar;
use crate::format;

#[component]
pub fn StorageCard(report: ReportIn) -> impl IntoView {
    let drives = report.storage;
    view! {
        <section class="card" id="storage">
            <h2>"Storage"</h2>
            {if drives.is_empty() {
                view! { <p class="muted">"No drives in the report."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th>"Drive"</th><th>"Role"</th><th>"Used"</th><th>"SMART"</th></tr></thead>
                            <tbody>
                                {drives.into_iter().map(|d| {
                                    let detail = match (d.used_bytes, d.total_bytes) {
                                        (Some(u), Some(t)) => format!("{} / {}", format::bytes(u), format::bytes(t)),
                                        _ => String::new(),
                                    };
                                    let (smart_class, smart) = match d.smart_ok {
                                        Some(true) => ("ok", "OK"),
                                        Some(false) => ("bad", "FAILING"),
                                        None => ("muted", "–"),
                                    };
                                    let name = d.label.clone().or(d.mount_point.clone()).unwrap_or_else(|| "drive".into());
                                    view! {
                                        <tr>
                                            <td class="name">{name}<span class="sub muted">{d.mount_point.clone().unwrap_or_default()}</span></td>
                                            <td>{d.role.clone().unwrap_or_else(|| "–".into())}</td>
                                            <td class="wide-bar"><MetricBar value=d.used_percent() detail=detail/></td>
                                            <td class=smart_class>{smart}</td>
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
