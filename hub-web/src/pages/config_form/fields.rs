//! The config form's state (one signal per input), its conversion to the shared `ConfigFields`
//! and the inputs with their error messages, which come from `hub-shared`'s validation.

use hub_shared::config::{ConfigFields, ConfigStatus, CreateConfigRequest, FieldError};
use leptos::prelude::*;

/// Every input of the form, as typed.
#[derive(Clone, Copy)]
pub struct FormState {
    pub customer_id: RwSignal<String>,
    pub display_name: RwSignal<String>,
    pub domain: RwSignal<String>,
    pub contact_email: RwSignal<String>,
    pub hostname: RwSignal<String>,
    pub timezone: RwSignal<String>,
    pub language: RwSignal<String>,
    pub cloudflare_tunnel_token: RwSignal<String>,
    pub tailscale_auth_key: RwSignal<String>,
    pub dns_api_token: RwSignal<String>,
    pub smtp_password: RwSignal<String>,
    /// `""` keeps the template's, `on` or `off`.
    pub monitoring_enabled: RwSignal<String>,
    pub report_interval: RwSignal<String>,
    pub disk_warn_percent: RwSignal<String>,
    pub disk_critical_percent: RwSignal<String>,
    pub backup_deadline: RwSignal<String>,
    pub heartbeat_uuid: RwSignal<String>,
    pub backup_uuid: RwSignal<String>,
    pub dbdump_uuid: RwSignal<String>,
    /// Kept as loaded: block and unblock are actions of the customer page.
    pub status: RwSignal<ConfigStatus>,
}

fn opt(s: String) -> Option<String> {
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// A percentage as typed; a value that is no number gets the API's range message.
fn percent(field: &str, value: String, out: &mut Vec<FieldError>) -> Option<u8> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse::<u8>() {
        Ok(v) => Some(v),
        Err(_) => {
            out.push(FieldError::new(field, format!("{field} must be between 1 and 100")));
            None
        }
    }
}

impl FormState {
    pub fn new() -> FormState {
        let s = || RwSignal::new(String::new());
        FormState {
            customer_id: s(),
            display_name: s(),
            domain: s(),
            contact_email: s(),
            hostname: s(),
            timezone: s(),
            language: s(),
            cloudflare_tunnel_token: s(),
            tailscale_auth_key: s(),
            dns_api_token: s(),
            smtp_password: s(),
            monitoring_enabled: s(),
            report_interval: s(),
            disk_warn_percent: s(),
            disk_critical_percent: s(),
            backup_deadline: s(),
            heartbeat_uuid: s(),
            backup_uuid: s(),
            dbdump_uuid: s(),
            status: RwSignal::new(ConfigStatus::Active),
        }
    }

    /// Fills the inputs from a stored config.
    pub fn load(&self, id: &str, f: &ConfigFields) {
        self.customer_id.set(id.to_string());
        self.display_name.set(f.display_name.clone());
        self.domain.set(f.domain.clone());
        self.contact_email.set(f.contact_email.clone());
        self.hostname.set(f.identity.hostname.clone());
        self.timezone.set(f.identity.timezone.clone());
        self.language.set(f.identity.language.clone());
        self.cloudflare_tunnel_token.set(f.infrastructure.cloudflare_tunnel_token.clone());
        self.tailscale_auth_key.set(f.infrastructure.tailscale_auth_key.clone());
        self.dns_api_token.set(f.infrastructure.dns_api_token.clone());
        self.smtp_password.set(f.infrastructure.smtp_password.clone());
        let m = &f.monitoring;
        self.monitoring_enabled.set(match m.enabled {
            None => String::new(),
            Some(true) => "on".into(),
            Some(false) => "off".into(),
        });
        self.report_interval.set(m.report_interval.clone().unwrap_or_default());
        self.disk_warn_percent.set(m.disk_warn_percent.map(|v| v.to_string()).unwrap_or_default());
        self.disk_critical_percent.set(m.disk_critical_percent.map(|v| v.to_string()).unwrap_or_default());
        self.backup_deadline.set(m.backup_deadline.clone().unwrap_or_default());
        self.heartbeat_uuid.set(f.legacy_monitoring.heartbeat_uuid.clone());
        self.backup_uuid.set(f.legacy_monitoring.backup_uuid.clone());
        self.dbdump_uuid.set(f.legacy_monitoring.dbdump_uuid.clone());
        self.status.set(f.status);
    }

    /// The fields as the API takes them, and the problems of inputs that cannot even be sent
    /// (a percentage that is no number).
    pub fn fields(&self) -> (ConfigFields, Vec<FieldError>) {
        let mut problems = Vec::new();
        let mut f = ConfigFields {
            display_name: self.display_name.get(),
            domain: self.domain.get().trim().to_string(),
            contact_email: self.contact_email.get().trim().to_string(),
            status: self.status.get(),
            ..Default::default()
        };
        f.identity.hostname = self.hostname.get().trim().to_string();
        f.identity.timezone = self.timezone.get().trim().to_string();
        f.identity.language = self.language.get();
        f.infrastructure.cloudflare_tunnel_token = self.cloudflare_tunnel_token.get();
        f.infrastructure.tailscale_auth_key = self.tailscale_auth_key.get();
        f.infrastructure.dns_api_token = self.dns_api_token.get();
        f.infrastructure.smtp_password = self.smtp_password.get();
        f.monitoring.enabled = match self.monitoring_enabled.get().as_str() {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        };
        f.monitoring.report_interval = opt(self.report_interval.get());
        f.monitoring.disk_warn_percent =
            percent("monitoring.disk_warn_percent", self.disk_warn_percent.get(), &mut problems);
        f.monitoring.disk_critical_percent =
            percent("monitoring.disk_critical_percent", self.disk_critical_percent.get(), &mut problems);
        f.monitoring.backup_deadline = opt(self.backup_deadline.get());
        f.legacy_monitoring.heartbeat_uuid = self.heartbeat_uuid.get().trim().to_string();
        f.legacy_monitoring.backup_uuid = self.backup_uuid.get().trim().to_string();
        f.legacy_monitoring.dbdump_uuid = self.dbdump_uuid.get().trim().to_string();
        (f, problems)
    }

    /// Every problem, with the API's messages; `new` also checks the customer id.
    pub fn problems(&self, new: bool) -> Vec<FieldError> {
        let (fields, mut problems) = self.fields();
        if new {
            let request = CreateConfigRequest { customer_id: self.customer_id.get().trim().to_string(), fields };
            problems.splice(0..0, request.problems());
        } else {
            problems.splice(0..0, fields.problems());
        }
        problems
    }
}

/// The message for `field`, when the form shows its problems.
fn message_for(problems: Signal<Vec<FieldError>>, field: &'static str) -> impl Fn() -> Option<String> + Copy {
    move || problems.with(|p| p.iter().find(|e| e.field == field).map(|e| e.message.clone()))
}

/// The input's id: the field's path with dots as dashes (`identity-hostname`).
pub fn input_id(field: &str) -> String {
    format!("f-{}", field.replace('.', "-"))
}

/// A labelled text input with its error message under it.
#[component]
pub fn TextField(
    label: &'static str,
    /// The field's name in the API, as its messages name it.
    field: &'static str,
    value: RwSignal<String>,
    problems: Signal<Vec<FieldError>>,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] disabled: bool,
) -> impl IntoView {
    let id = input_id(field);
    let message = message_for(problems, field);
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input id=id type=kind name=field placeholder=placeholder disabled=disabled autocomplete="off"
                spellcheck="false" aria-invalid=move || message().is_some().to_string()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            {(!hint.is_empty()).then(|| view! { <small class="muted">{hint}</small> })}
            {move || message().map(|m| view! { <p class="field-error" data-field=field>{m}</p> })}
        </div>
    }
}

/// A labelled select with its error message under it; `options` are `(value, text)`.
#[component]
pub fn SelectField(
    label: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    problems: Signal<Vec<FieldError>>,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    let id = input_id(field);
    let message = message_for(problems, field);
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <select id=id name=field prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                {options.iter().map(|(v, text)| view! {
                    <option value=*v selected=move || value.get() == *v>{*text}</option>
                }).collect_view()}
            </select>
            {move || message().map(|m| view! { <p class="field-error" data-field=field>{m}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use hub_shared::config::ConfigFields;

    use super::*;

    #[test]
    fn the_form_finds_the_apis_problems_with_its_messages() {
        let form = FormState::new();
        form.customer_id.set("Bad Id".into());
        form.display_name.set("Kovács".into());
        form.report_interval.set("soon".into());
        form.disk_warn_percent.set("many".into());
        let problems = form.problems(true);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["customer_id", "monitoring.report_interval", "monitoring.disk_warn_percent"]);
        let mut api = CreateConfigRequest { customer_id: "Bad Id".into(), fields: ConfigFields::default() };
        api.fields.display_name = "Kovács".into();
        api.fields.monitoring.report_interval = Some("soon".into());
        assert_eq!(problems[..2], api.problems()[..]);
        assert_eq!(problems[2].message, "monitoring.disk_warn_percent must be between 1 and 100");
        // Editing does not check the id, which cannot change.
        assert_eq!(form.problems(false).len(), 2);
    }

    #[test]
    fn a_loaded_config_comes_back_unchanged() {
        let mut fields =
            ConfigFields { display_name: "Kovács".into(), domain: "kovacs.felhom.eu".into(), ..Default::default() };
        fields.status = ConfigStatus::Blocked;
        fields.identity.language = "hu".into();
        fields.infrastructure.tailscale_auth_key = "tskey-abc".into();
        fields.monitoring.enabled = Some(false);
        fields.monitoring.disk_warn_percent = Some(80);
        fields.monitoring.backup_deadline = Some("06:00".into());
        fields.legacy_monitoring.backup_uuid = "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e".into();
        let form = FormState::new();
        form.load("kovacs", &fields);
        assert_eq!(form.fields(), (fields, Vec::new()));
        assert!(form.problems(true).is_empty());
    }
}
