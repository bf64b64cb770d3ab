//! `/configs/new` and `/configs/{id}/edit`: the customer config form. It checks the input with
//! `hub-shared`'s validation (the API's own messages) and shows the API's answer when the hub
//! still refuses. After creation it shows the one-time API key and retrieval password.

mod fields;

use std::cell::RefCell;

use hub_shared::config::{ConfigCreated, CreateConfigRequest, FieldError};
use hub_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::{ErrorNotice, Loading, OneTimeCredentials};
use fields::{FormState, SelectField, TextField};

thread_local! {
    /// Credentials made on the way to the edit form ("Create config" on a manual customer),
    /// shown there once.
    static HANDED_OVER: RefCell<Option<ConfigCreated>> = const { RefCell::new(None) };
}

/// Leaves `created` for the edit form to show once.
pub fn hand_over(created: ConfigCreated) {
    HANDED_OVER.with(|h| *h.borrow_mut() = Some(created));
}

fn take_handed_over(id: &str) -> Option<ConfigCreated> {
    HANDED_OVER.with(|h| h.borrow_mut().take_if(|c| c.config.customer_id == id))
}

#[component]
pub fn NewConfigPage() -> impl IntoView {
    let form = FormState::new();
    let created = RwSignal::new(None::<ConfigCreated>);
    let on_submit = move |done: Box<dyn FnOnce(Result<(), ApiError>)>| {
        let (fields, _) = form.fields();
        let request = CreateConfigRequest { customer_id: form.customer_id.get_untracked().trim().to_string(), fields };
        spawn_local(async move {
            match api::create_config(&request).await {
                Ok(answer) => {
                    created.set(Some(answer));
                    done(Ok(()));
                }
                Err(e) => done(Err(e)),
            }
        });
    };
    view! {
        <nav class="crumbs"><a href="/configs">"Customers"</a> " / " <span>"New"</span></nav>
        {move || match created.get() {
            Some(c) => {
                let href = format!("/customers/{}", c.config.customer_id);
                view! {
                    <div class="page-head"><h1>"Customer created: " {c.config.fields.display_name.clone()}</h1></div>
                    <OneTimeCredentials title="Credentials of the new customer"
                        api_key=Some(c.api_key.clone()) retrieval_password=Some(c.retrieval_password.clone())/>
                    <p><a class="button primary" id="open-customer" href=href>"I have saved them: open the customer"</a></p>
                }
                .into_any()
            }
            None => view! {
                <div class="page-head"><h1>"New customer"</h1></div>
                <ConfigForm form=form new=true submit_label="Create customer" on_submit=on_submit/>
            }
            .into_any(),
        }}
    }
}

#[component]
pub fn EditConfigPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let form = FormState::new();
    let loaded = RwSignal::new(None::<Result<(), ApiError>>);
    let handed_over = take_handed_over(&id);
    {
        let id = id.clone();
        spawn_local(async move {
            match api::get_config(&id).await {
                Ok(config) => {
                    form.load(&config.customer_id, &config.fields);
                    loaded.set(Some(Ok(())));
                }
                Err(e) => loaded.set(Some(Err(e))),
            }
        });
    }
    let navigate = use_navigate();
    let on_submit = {
        let id = id.clone();
        move |done: Box<dyn FnOnce(Result<(), ApiError>)>| {
            let (fields, _) = form.fields();
            let (id, navigate) = (id.clone(), navigate.clone());
            spawn_local(async move {
                match api::update_config(&id, &fields).await {
                    Ok(_) => {
                        done(Ok(()));
                        navigate(&format!("/customers/{id}"), NavigateOptions::default());
                    }
                    Err(e) => done(Err(e)),
                }
            });
        }
    };
    let back = format!("/customers/{id}");
    view! {
        <nav class="crumbs"><a href="/configs">"Customers"</a> " / " <a href=back.clone()>{id.clone()}</a> " / " <span>"Edit"</span></nav>
        <div class="page-head"><h1>"Edit " {id.clone()}</h1></div>
        {handed_over.map(|c| view! {
            <OneTimeCredentials title="Config created from the latest report"
                api_key=Some(c.api_key) retrieval_password=Some(c.retrieval_password)/>
        })}
        {move || match loaded.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
            Some(Ok(())) => view! {
                <ConfigForm form=form new=false submit_label="Save" on_submit=on_submit.clone()/>
            }
            .into_any(),
        }}
    }
}

/// Moves the focus (and the view) to the input with this id.
fn focus(id: &str) {
    let Some(element) = document().get_element_by_id(id) else { return };
    if let Ok(focus) = js_sys::Reflect::get(&element, &"focus".into()) {
        if let Ok(focus) = wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(focus) {
            let _ = focus.call0(&element);
        }
    }
}

/// The form itself. `on_submit` is called with valid input and a callback for the answer.
#[component]
fn ConfigForm(
    form: FormState,
    new: bool,
    submit_label: &'static str,
    on_submit: impl Fn(Box<dyn FnOnce(Result<(), ApiError>)>) + Clone + 'static,
) -> impl IntoView {
    // Problems show after the first attempt to submit, then follow the input.
    let tried = RwSignal::new(false);
    let all_problems = Memo::new(move |_| form.problems(new));
    let problems: Signal<Vec<FieldError>> =
        Signal::derive(move || if tried.get() { all_problems.get() } else { Vec::new() });
    let server_error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        server_error.set(None);
        if let Some(first) = all_problems.with_untracked(|p| p.first().map(|e| e.field.clone())) {
            focus(&fields::input_id(&first));
            return;
        }
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        on_submit(Box::new(move |result| {
            busy.set(false);
            if let Err(e) = result {
                server_error.set(Some(e));
            }
        }));
    };
    let count = move || problems.with(Vec::len);
    view! {
        <form class="card config-form" id="config-form" on:submit=submit novalidate>
            {move || (count() > 0).then(|| view! {
                <p class="form-error" id="form-problems" role="alert">
                    {move || if count() == 1 { "1 field needs fixing.".to_string() } else { format!("{} fields need fixing.", count()) }}
                </p>
            })}
            {move || server_error.get().map(|e| view! {
                <p class="form-error" id="server-error" role="alert"><strong>"The hub refused: "</strong>{e.message}</p>
            })}
            <fieldset>
                <legend>"Customer"</legend>
                <div class="fields">
                    <TextField label="Customer id" field="customer_id" value=form.customer_id problems=problems
                        disabled=!new placeholder="kovacs" hint="Lower-case letters, digits and dashes; cannot change later."/>
                    <TextField label="Display name" field="display_name" value=form.display_name problems=problems
                        placeholder="Kovács család"/>
                    <TextField label="Domain" field="domain" value=form.domain problems=problems placeholder="kovacs.felhom.eu"/>
                    <TextField label="Contact email" field="contact_email" value=form.contact_email problems=problems
                        kind="email" placeholder="kovacs@example.hu"/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Identity"</legend>
                <div class="fields">
                    <TextField label="Hostname" field="identity.hostname" value=form.hostname problems=problems
                        hint="Empty lets the controller choose."/>
                    <TextField label="Time zone" field="identity.timezone" value=form.timezone problems=problems
                        placeholder="Europe/Budapest" hint="Empty keeps the template's."/>
                    <SelectField label="Language" field="identity.language" value=form.language problems=problems
                        options=&[("", "Template's"), ("hu", "Hungarian"), ("en", "English")]/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Infrastructure tokens"</legend>
                <p class="muted small">"Stored encrypted; written into the customer's controller.yaml."</p>
                <div class="fields">
                    <TextField label="Cloudflare tunnel token" field="infrastructure.cloudflare_tunnel_token"
                        value=form.cloudflare_tunnel_token problems=problems/>
                    <TextField label="Tailscale auth key" field="infrastructure.tailscale_auth_key"
                        value=form.tailscale_auth_key problems=problems/>
                    <TextField label="DNS API token" field="infrastructure.dns_api_token"
                        value=form.dns_api_token problems=problems/>
                    <TextField label="SMTP password" field="infrastructure.smtp_password"
                        value=form.smtp_password problems=problems/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Monitoring overrides"</legend>
                <p class="muted small">"Empty keeps the template's value."</p>
                <div class="fields">
                    <SelectField label="Monitoring" field="monitoring.enabled" value=form.monitoring_enabled problems=problems
                        options=&[("", "Template's"), ("on", "On"), ("off", "Off")]/>
                    <TextField label="Report interval" field="monitoring.report_interval" value=form.report_interval
                        problems=problems placeholder="15m"/>
                    <TextField label="Disk warning %" field="monitoring.disk_warn_percent" value=form.disk_warn_percent
                        problems=problems placeholder="80"/>
                    <TextField label="Disk critical %" field="monitoring.disk_critical_percent"
                        value=form.disk_critical_percent problems=problems placeholder="90"/>
                    <TextField label="Backup deadline" field="monitoring.backup_deadline" value=form.backup_deadline
                        problems=problems placeholder="06:00" hint="Local time by which the nightly backup must have run."/>
                </div>
            </fieldset>
            <LegacySection form=form problems=problems/>
            <div class="form-actions">
                <button type="submit" class="primary" id="config-submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else { submit_label }}
                </button>
                <a href="/configs" class="muted">"Cancel"</a>
            </div>
        </form>
    }
}

/// The healthchecks.io UUIDs of the old monitoring, folded away; opened by itself when one of
/// them has a problem.
#[component]
fn LegacySection(form: FormState, problems: Signal<Vec<FieldError>>) -> impl IntoView {
    let has_problem = move || problems.with(|p| p.iter().any(|e| e.field.starts_with("legacy_monitoring.")));
    let opened = RwSignal::new(false);
    let toggled = move |ev: leptos::ev::Event| {
        let open = ev.target().and_then(|t| js_sys::Reflect::get(&t, &"open".into()).ok());
        opened.set(open.and_then(|o| o.as_bool()).unwrap_or(false));
    };
    view! {
        <details class="legacy" id="legacy-monitoring" prop:open=move || opened.get() || has_problem() on:toggle=toggled>
            <summary>"Legacy monitoring UUIDs (deprecated)"</summary>
            <p class="notice warn small">
                "Deprecated: healthchecks.io pings were replaced by the hub's events. Fill these only for \
                 controllers that still ping healthchecks.io."
            </p>
            <div class="fields">
                <TextField label="Heartbeat UUID" field="legacy_monitoring.heartbeat_uuid" value=form.heartbeat_uuid
                    problems=problems/>
                <TextField label="Backup UUID" field="legacy_monitoring.backup_uuid" value=form.backup_uuid
                    problems=problems/>
                <TextField label="DB dump UUID" field="legacy_monitoring.dbdump_uuid" value=form.dbdump_uuid
                    problems=problems/>
            </div>
        </details>
    }
}
