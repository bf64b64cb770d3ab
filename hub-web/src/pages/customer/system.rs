//! The system metrics and backup cards of the customer page.

use chrono::{DateTime, Utc};
use hub_shared::report::ReportIn;
use leptos::prelude::*;

use crate::components::MetricBar;
use crate::format;

/// A label and its value as one row of a definition list.
fn row(label: &'static str, value: Option<String>) -> impl IntoView {
    view! { <dt>{label}</dt><dd>{value.unwrap_or_else(|| "–".into())}</dd> }
}

#[component]
pub fn SystemCard(report: ReportIn) -> impl IntoView {
    let sys = report.system.clone().unwrap_or_default();
    let memory = report.memory_percent();
    let memory_detail = match (sys.memory_used_bytes, sys.memory_total_bytes) {
        (Some(u), Some(t)) => Some(format!("{} / {}", format::bytes(u), format::bytes(t))),
        _ => None,
    };
    let load = match (sys.load_1, sys.load_5, sys.load_15) {
        (Some(a), Some(b), Some(c)) => Some(format!("{a:.2} · {b:.2} · {c:.2}")),
        (Some(a), _, _) => Some(format!("{a:.2}")),
        _ => None,
    };
    view! {
        <section class="card" id="system">
            <h2>"System"</h2>
            <dl class="facts">
                <dt>"CPU"</dt><dd><MetricBar value=sys.cpu_percent/></dd>
                <dt>"Memory"</dt><dd><MetricBar value=memory detail=memory_detail.unwrap_or_default()/></dd>
                <dt>"Fullest disk"</dt><dd><MetricBar value=report.fullest_disk_percent()/></dd>
                {row("Load", load)}
                {row("Temperature", sys.temperature_c.map(|t| format!("{t:.0} °C")))}
                {row("Uptime", sys.uptime_seconds.map(format::uptime))}
                {row("OS", sys.os.clone())}
                {row("Kernel", sys.kernel.clone())}
                {row("Health", Some(report.health.map_or("UNKNOWN".into(), |h| h.as_str().to_ascii_uppercase())))}
                {row("Monitoring", Some(if report.monitoring_enabled { "enabled" } else { "paused" }.into()))}
            </dl>
        </section>
    }
}

fn outcome(at: Option<DateTime<Utc>>, ok: Option<bool>, now: DateTime<Utc>) -> impl IntoView {
    let (class, word) = match ok {
        Some(true) => ("ok", "succeeded"),
        Some(false) => ("bad", "FAILED"),
        None => ("muted", "unknown"),
    };
    let when = at.map(|t| format!(" · {} ({})", format::age_since(Some(t), now), format::datetime(t)));
    view! { <span class=class>{word}</span>{when} }
}

#[component]
pub fn BackupCard(report: ReportIn, now: DateTime<Utc>) -> impl IntoView {
    let Some(b) = report.backup.clone() else {
        return view! {
            <section class="card" id="backup"><h2>"Backup"</h2><p class="muted">"No backup information in the report."</p></section>
        }
        .into_any();
    };
    view! {
        <section class="card" id="backup">
            <h2>"Backup"</h2>
            <dl class="facts">
                <dt>"Last backup"</dt><dd>{outcome(b.last_backup_at, b.last_backup_ok, now)}</dd>
                <dt>"Database dump"</dt><dd>{outcome(b.last_dbdump_at, b.last_dbdump_ok, now)}</dd>
                {row("Snapshots", b.snapshot_count.map(|n| n.to_string()))}
                {row("Repository", b.repository_size_bytes.map(format::bytes))}
            </dl>
            {(!report.checks.is_empty()).then(|| view! {
                <h3>"Checks"</h3>
                <ul class="checks">
                    {report.checks.iter().map(|c| {
                        let class = format!("check check-{}", c.status.as_str());
                        view! { <li class=class><strong>{c.name.clone()}</strong> " " {c.message.clone().unwrap_or_default()}</li> }
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
    .into_any()
}
