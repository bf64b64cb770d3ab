//! The customer page's management part: the blocked banner with its Unblock button, and the
//! section that adapts to the customer's state: a report-only (manual) customer gets a
//! "Create config" button; a managed one shows its config, credentials, setup commands, the
//! controller card (see `controller`), the generated controller.yaml, its infra backups and the
//! actions (block, rotate, delete, …).

use hub_shared::config::CustomerConfig;
use hub_shared::customer::CustomerSummary;
use hub_shared::infra::InfraBackupVersions;
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use super::action::act;
use super::controller::ControllerCard;
use super::credentials::CredentialsCard;
use crate::api;
use crate::components::{ConfirmButton, CopyButton, ErrorNotice, Loading};
use crate::format;

/// Asks the customer page to fetch the customer again, after an action changed it.
#[derive(Clone, Copy)]
pub struct Reload(pub RwSignal<u32>);

impl Reload {
    pub fn provide() -> RwSignal<u32> {
        let signal = RwSignal::new(0);
        provide_context(Reload(signal));
        signal
    }

    /// A function that reloads the page; call this while the component is being made (the
    /// context is not there in the async callbacks that run it).
    pub(super) fn trigger() -> impl Fn() + Copy + 'static {
        let reload = use_context::<Reload>();
        move || {
            if let Some(Reload(signal)) = reload {
                signal.update(|n| *n += 1);
            }
        }
    }
}

/// The banner of a blocked customer, with the Unblock button.
#[component]
pub fn BlockedBanner(summary: CustomerSummary) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let id = summary.customer_id.clone();
    let reload = Reload::trigger();
    let unblock = move |_| {
        act(
            busy,
            error,
            {
                let id = id.clone();
                async move { api::unblock_config(&id).await }
            },
            move |_| reload(),
        )
    };
    summary.blocked.then(|| view! {
        <div class="notice warn banner" id="blocked-banner" role="status">
            <span>
                <strong>"Blocked. "</strong>
                "This customer is hidden from the dashboard and gets no notifications; its reports are still stored."
            </span>
            <button type="button" class="primary" id="unblock" disabled=move || busy.get() on:click=unblock>"Unblock"</button>
        </div>
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
    })
}

/// Everything the operator manages about the customer, as its state allows.
#[component]
pub fn ManageSection(summary: CustomerSummary) -> impl IntoView {
    if summary.managed {
        view! { <ManagedCustomer id=summary.customer_id.clone()/> }.into_any()
    } else {
        view! { <ManualCustomer id=summary.customer_id.clone()/> }.into_any()
    }
}

/// A customer that only reports: the hub has no config for it yet.
#[component]
fn ManualCustomer(id: String) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let navigate = use_navigate();
    let create = move |_| {
        let (id, navigate) = (id.clone(), navigate.clone());
        let target = format!("/configs/{id}/edit");
        act(busy, error, async move { api::create_config_from_report(&id).await }, move |created| {
            crate::pages::config_form::hand_over(created);
            navigate(&target, NavigateOptions::default());
        });
    };
    view! {
        <section class="card" id="manual">
            <div class="card-head">
                <h2>"Report-only customer " <span class="tag">"MANUAL"</span></h2>
                <button type="button" class="primary" id="create-config" disabled=move || busy.get() on:click=create>
                    "Create config"
                </button>
            </div>
            <p class="muted">
                "The hub has no config for this customer. Creating one fills it from the latest report and gives the \
                 customer an API key and a retrieval password."
            </p>
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        </section>
    }
}

#[component]
fn ManagedCustomer(id: String) -> impl IntoView {
    let config = RwSignal::new(None::<Result<CustomerConfig, ApiError>>);
    {
        let id = id.clone();
        spawn_local(async move { config.set(Some(api::get_config(&id).await)) });
    }
    move || match config.get() {
        None => view! { <Loading text="Loading the config…"/> }.into_any(),
        Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
        Some(Ok(c)) => view! {
            <h2 class="section-title" id="management">"Management"</h2>
            <div class="grid-2">
                <ConfigCard config=c.clone() on_change=config/>
                <CredentialsCard id=id.clone()/>
            </div>
            <ControllerCard config=c.clone()/>
            <PreviewCard id=id.clone()/>
            <InfraBackupsCard id=id.clone()/>
            <ActionsCard config=c/>
        }
        .into_any(),
    }
}

/// "set" or a dash: the tokens themselves stay in the edit form.
fn set_or_dash(value: &str) -> &'static str {
    if value.is_empty() {
        "–"
    } else {
        "set"
    }
}

fn or_template(value: Option<String>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or_else(|| "template's".into())
}

#[component]
fn ConfigCard(config: CustomerConfig, on_change: RwSignal<Option<Result<CustomerConfig, ApiError>>>) -> impl IntoView {
    let f = config.fields.clone();
    let id = config.customer_id.clone();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let lockout = config.recovery_lockout.clone();
    let clear = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            act(busy, error, async move { api::clear_recovery_lockout(&id).await }, move |c| {
                on_change.set(Some(Ok(c)))
            });
        }
    };
    let m = f.monitoring.clone();
    let rows: Vec<(&str, String)> = vec![
        ("Display name", f.display_name.clone()),
        ("Domain", if f.domain.is_empty() { "–".into() } else { f.domain.clone() }),
        ("Contact email", if f.contact_email.is_empty() { "–".into() } else { f.contact_email.clone() }),
        ("Status", f.status.as_str().into()),
        ("Hostname", or_template(Some(f.identity.hostname.clone()))),
        ("Time zone", or_template(Some(f.identity.timezone.clone()))),
        ("Language", or_template(Some(f.identity.language.clone()))),
        ("Cloudflare tunnel token", set_or_dash(&f.infrastructure.cloudflare_tunnel_token).into()),
        ("Tailscale auth key", set_or_dash(&f.infrastructure.tailscale_auth_key).into()),
        ("DNS API token", set_or_dash(&f.infrastructure.dns_api_token).into()),
        ("SMTP password", set_or_dash(&f.infrastructure.smtp_password).into()),
        ("Monitoring", or_template(m.enabled.map(|e| if e { "on".into() } else { "off".into() }))),
        ("Report interval", or_template(m.report_interval.clone())),
        (
            "Disk warn / critical",
            format!(
                "{} / {}",
                or_template(m.disk_warn_percent.map(|v| format!("{v}%"))),
                or_template(m.disk_critical_percent.map(|v| format!("{v}%")))
            ),
        ),
        ("Backup deadline", or_template(m.backup_deadline.clone())),
        ("Created", format::datetime(config.created_at)),
        ("Updated", format::datetime(config.updated_at)),
    ];
    view! {
        <section class="card" id="config">
            <div class="card-head">
                <h2>"Config " <span class="tag">"MANAGED"</span></h2>
                <a class="button" id="edit-config" href=format!("/configs/{id}/edit")>"Edit"</a>
            </div>
            <dl class="kv">
                {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                <dt>"Recovery lock-out"</dt>
                <dd id="lockout">
                    {match lockout.locked_until {
                        Some(t) => format!("locked until {} ({} failures) ", format::datetime(t), lockout.failures),
                        None if lockout.failures > 0 => format!("{} failed attempts ", lockout.failures),
                        None => "none".into(),
                    }}
                    {(lockout.failures > 0 || lockout.locked_until.is_some()).then(|| view! {
                        <button type="button" class="link" id="clear-lockout" disabled=move || busy.get() on:click=clear.clone()>
                            "Clear"
                        </button>
                    })}
                </dd>
            </dl>
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        </section>
    }
}

/// The generated controller.yaml, secrets masked.
#[component]
fn PreviewCard(id: String) -> impl IntoView {
    let yaml = RwSignal::new(None::<Result<String, ApiError>>);
    spawn_local(async move { yaml.set(Some(api::preview_config(&id).await)) });
    let text =
        Signal::derive(move || yaml.with(|y| y.as_ref().and_then(|y| y.as_ref().ok()).cloned().unwrap_or_default()));
    view! {
        <section class="card" id="preview">
            <div class="card-head">
                <h2>"Generated controller.yaml"</h2>
                <CopyButton text=text/>
            </div>
            <p class="muted small">"Secrets are masked here; the customer's download has them."</p>
            {move || match yaml.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                Some(Ok(y)) => view! { <pre class="yaml" id="preview-yaml">{y}</pre> }.into_any(),
            }}
        </section>
    }
}

/// The kept infra backup snapshots, newest first.
#[component]
fn InfraBackupsCard(id: String) -> impl IntoView {
    let versions = RwSignal::new(None::<Result<InfraBackupVersions, ApiError>>);
    spawn_local(async move { versions.set(Some(api::list_infra_backups(&id).await)) });
    view! {
        <section class="card" id="infra-backups">
            <h2>"Infra backups"</h2>
            {move || match versions.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                Some(Ok(v)) if v.versions.is_empty() => view! {
                    <p class="muted" id="no-infra-backups">"The controller has not pushed an infra backup yet."</p>
                }
                .into_any(),
                Some(Ok(v)) => view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th>"Version"</th><th>"Taken"</th><th class="num">"Size"</th></tr></thead>
                            <tbody>
                                {v.versions.into_iter().map(|b| view! {
                                    <tr data-version=b.version>
                                        <td>{b.version}</td>
                                        <td>{format::datetime(b.created_at)}</td>
                                        <td class="num">{format::bytes(b.size_bytes.max(0) as u64)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any(),
            }}
        </section>
    }
}

/// Block or unblock, and delete.
#[component]
fn ActionsCard(config: CustomerConfig) -> impl IntoView {
    let id = config.customer_id.clone();
    let blocked = config.fields.status == hub_shared::config::ConfigStatus::Blocked;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let navigate = use_navigate();
    let reload = Reload::trigger();
    let block = {
        let id = id.clone();
        move || {
            let id = id.clone();
            if blocked {
                act(busy, error, async move { api::unblock_config(&id).await }, move |_| reload());
            } else {
                act(busy, error, async move { api::block_config(&id).await }, move |_| reload());
            }
        }
    };
    let delete = {
        let id = id.clone();
        move || {
            let (id, navigate) = (id.clone(), navigate.clone());
            act(busy, error, async move { api::delete_config(&id).await }, move |()| {
                navigate("/configs", NavigateOptions::default());
            });
        }
    };
    view! {
        <section class="card" id="actions">
            <h2>"Actions"</h2>
            <div class="actions">
                {if blocked {
                    view! {
                        <button type="button" class="secondary" id="unblock-action" disabled=move || busy.get()
                            on:click=move |_| block()>"Unblock"</button>
                    }
                    .into_any()
                } else {
                    view! {
                        <ConfirmButton label="Block" id="block" busy=busy confirm="Yes, block"
                            question="Hide from the dashboard and stop notifications?" on_confirm=block/>
                    }
                    .into_any()
                }}
                <ConfirmButton label="Delete config" id="delete" busy=busy confirm="Yes, delete"
                    question="Delete the config and its credentials? Reports and infra backups stay." on_confirm=delete/>
            </div>
            {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        </section>
    }
}
