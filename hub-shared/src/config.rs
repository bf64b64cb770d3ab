//! Customer configs: what the operator manages for each customer (`/api/v1/configs`), the
//! one-time credentials, and the validation the API and the web app's form share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::validate::FieldError;
use crate::validate::{self, check};

/// Whether a managed customer is served normally or blocked by the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConfigStatus {
    #[default]
    Active,
    Blocked,
}

impl ConfigStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigStatus::Active => "active",
            ConfigStatus::Blocked => "blocked",
        }
    }

    pub fn parse(s: &str) -> Option<ConfigStatus> {
        match s {
            "active" => Some(ConfigStatus::Active),
            "blocked" => Some(ConfigStatus::Blocked),
            _ => None,
        }
    }
}

/// Identity fields of the controller config besides name, domain and email.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Identity {
    /// The node's hostname; empty lets the controller choose.
    pub hostname: String,
    /// IANA time zone of the node, such as `Europe/Budapest`; empty keeps the template's.
    pub timezone: String,
    /// Language of the customer's emails and UI: `hu` or `en`; empty keeps the template's.
    pub language: String,
}

/// Infrastructure tokens the controller needs. Stored encrypted; shown to the operator.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct InfraTokens {
    pub cloudflare_tunnel_token: String,
    pub tailscale_auth_key: String,
    /// API token for DNS challenges (certificates).
    pub dns_api_token: String,
    /// Password of the outgoing mail account.
    pub smtp_password: String,
}

impl std::fmt::Debug for InfraTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &str| if s.is_empty() { "<empty>" } else { "<redacted>" };
        f.debug_struct("InfraTokens")
            .field("cloudflare_tunnel_token", &set(&self.cloudflare_tunnel_token))
            .field("tailscale_auth_key", &set(&self.tailscale_auth_key))
            .field("dns_api_token", &set(&self.dns_api_token))
            .field("smtp_password", &set(&self.smtp_password))
            .finish()
    }
}

impl InfraTokens {
    /// `(field name, value)` of every token, for validation and change summaries.
    pub fn fields(&self) -> [(&'static str, &str); 4] {
        [
            ("cloudflare_tunnel_token", &self.cloudflare_tunnel_token),
            ("tailscale_auth_key", &self.tailscale_auth_key),
            ("dns_api_token", &self.dns_api_token),
            ("smtp_password", &self.smtp_password),
        ]
    }
}

/// Monitoring settings that override the template's; `null` keeps the template's value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct MonitoringOverrides {
    pub enabled: Option<bool>,
    /// How often the controller reports, such as `15m` (1m to 24h).
    pub report_interval: Option<String>,
    pub disk_warn_percent: Option<u8>,
    pub disk_critical_percent: Option<u8>,
    /// Local time (HH:MM) by which the nightly backup must have run.
    pub backup_deadline: Option<String>,
}

/// Healthchecks.io UUIDs of the old monitoring. Deprecated: events replaced them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct LegacyMonitoring {
    pub heartbeat_uuid: String,
    pub backup_uuid: String,
    pub dbdump_uuid: String,
}

/// Everything the operator edits about a customer (the body of `PUT /api/v1/configs/{id}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigFields {
    /// The operator's name for the customer (1 to 100 characters).
    pub display_name: String,
    /// The customer's domain, such as `kovacs.felhom.eu`; may be empty.
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub status: ConfigStatus,
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub infrastructure: InfraTokens,
    #[serde(default)]
    pub monitoring: MonitoringOverrides,
    #[serde(default)]
    pub legacy_monitoring: LegacyMonitoring,
}

/// The body of `POST /api/v1/configs`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateConfigRequest {
    /// `^[a-z0-9][a-z0-9-]{0,62}$`, unique.
    pub customer_id: String,
    #[serde(flatten)]
    pub fields: ConfigFields,
}

pub const DISPLAY_NAME_MAX: usize = 100;
pub const DOMAIN_MAX: usize = 253;
pub const EMAIL_MAX: usize = 254;
pub const TOKEN_MAX: usize = 4096;

impl CreateConfigRequest {
    /// Every problem, each naming its field; empty when the request is valid.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        check(&mut out, "customer_id", validate::claimed_customer_id(&self.customer_id));
        out.extend(self.fields.problems());
        out
    }

    /// The first problem, as the API answers it.
    pub fn validate(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }
}

impl ConfigFields {
    /// Every problem, each naming its field; empty when the fields are valid.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        let name = self.display_name.trim();
        if name.is_empty() {
            out.push(FieldError::new("display_name", "display_name must not be empty"));
        } else if name.chars().count() > DISPLAY_NAME_MAX {
            out.push(FieldError::new(
                "display_name",
                format!("display_name must be at most {DISPLAY_NAME_MAX} characters"),
            ));
        } else if name.chars().any(char::is_control) {
            out.push(FieldError::new("display_name", "display_name must not contain control characters"));
        }
        if !self.domain.is_empty() {
            check(&mut out, "domain", validate::domain(&self.domain));
        }
        if !self.contact_email.is_empty() {
            check(&mut out, "contact_email", validate::email(&self.contact_email));
        }
        let id = &self.identity;
        if !id.hostname.is_empty() {
            check(&mut out, "identity.hostname", validate::hostname_label(&id.hostname));
        }
        if !id.timezone.is_empty() {
            check(&mut out, "identity.timezone", validate::timezone(&id.timezone));
        }
        if !(id.language.is_empty() || id.language == "hu" || id.language == "en") {
            out.push(FieldError::new("identity.language", "identity.language must be hu or en"));
        }
        for (name, value) in self.infrastructure.fields() {
            let field = format!("infrastructure.{name}");
            if value.len() > TOKEN_MAX {
                out.push(FieldError::new(&field, format!("{field} must be at most {TOKEN_MAX} bytes")));
            } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                out.push(FieldError::new(&field, format!("{field} must not contain spaces or line breaks")));
            }
        }
        let m = &self.monitoring;
        if let Some(interval) = &m.report_interval {
            check(&mut out, "monitoring.report_interval", validate::interval(interval, 60, 86_400));
        }
        for (field, value) in [
            ("monitoring.disk_warn_percent", m.disk_warn_percent),
            ("monitoring.disk_critical_percent", m.disk_critical_percent),
        ] {
            if value.is_some_and(|v| !(1..=100).contains(&v)) {
                out.push(FieldError::new(field, format!("{field} must be between 1 and 100")));
            }
        }
        if let (Some(warn), Some(crit)) = (m.disk_warn_percent, m.disk_critical_percent) {
            if warn >= crit {
                out.push(FieldError::new(
                    "monitoring.disk_warn_percent",
                    "monitoring.disk_warn_percent must be below monitoring.disk_critical_percent",
                ));
            }
        }
        if let Some(at) = &m.backup_deadline {
            check(&mut out, "monitoring.backup_deadline", validate::clock_time(at));
        }
        let legacy = &self.legacy_monitoring;
        for (name, value) in [
            ("heartbeat_uuid", &legacy.heartbeat_uuid),
            ("backup_uuid", &legacy.backup_uuid),
            ("dbdump_uuid", &legacy.dbdump_uuid),
        ] {
            if !value.is_empty() && !validate::is_uuid(value) {
                let field = format!("legacy_monitoring.{name}");
                out.push(FieldError::new(
                    &field,
                    format!("{field} must be a UUID like 0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e"),
                ));
            }
        }
        out
    }

    /// The first problem, as the API answers it.
    pub fn validate(&self) -> Result<(), FieldError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }
}

/// How many failed retrieval-password attempts stand against a customer, and until when it is
/// locked out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryLockout {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// A customer config as the operator API shows it. Never carries the API key or the retrieval
/// password: those appear only at creation, rotation and an explicit (audited) reveal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerConfig {
    pub customer_id: String,
    #[serde(flatten)]
    pub fields: ConfigFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The customer has sent at least one report.
    pub has_reports: bool,
    /// The number of infra backups kept.
    pub infra_backups: u32,
    pub recovery_lockout: RecoveryLockout,
    /// Where the hub calls the controller, and an address change waiting for the operator.
    #[serde(default)]
    pub controller_address: crate::controller::ControllerAddress,
    /// The latest controller update the operator asked for.
    #[serde(default)]
    pub controller_update: Option<crate::controller::ControllerUpdate>,
}

/// `GET /api/v1/configs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigList {
    pub configs: Vec<CustomerConfig>,
}

/// The answer to creating a config: the config and its credentials, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigCreated {
    pub config: CustomerConfig,
    pub api_key: String,
    pub retrieval_password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> CreateConfigRequest {
        CreateConfigRequest {
            customer_id: "kovacs".into(),
            fields: ConfigFields { display_name: "Kovács család".into(), ..Default::default() },
        }
    }

    #[test]
    fn a_minimal_config_is_valid() {
        assert_eq!(valid().validate(), Ok(()));
        let json = r#"{"customer_id":"kovacs","display_name":"Kovács"}"#;
        let parsed: CreateConfigRequest = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.fields.status, ConfigStatus::Active);
        assert!(parsed.validate().is_ok());
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut r = valid();
        r.customer_id = "Bad Id".into();
        r.fields.display_name = " ".into();
        r.fields.domain = "not a domain".into();
        r.fields.contact_email = "nobody".into();
        r.fields.identity.timezone = "Mars".into();
        r.fields.identity.language = "de".into();
        r.fields.infrastructure.tailscale_auth_key = "a b".into();
        r.fields.monitoring.report_interval = Some("soon".into());
        r.fields.monitoring.disk_warn_percent = Some(95);
        r.fields.monitoring.disk_critical_percent = Some(90);
        r.fields.monitoring.backup_deadline = Some("25:00".into());
        r.fields.legacy_monitoring.backup_uuid = "123".into();
        let fields: Vec<String> = r.problems().into_iter().map(|p| p.field).collect();
        for expected in [
            "customer_id",
            "display_name",
            "domain",
            "contact_email",
            "identity.timezone",
            "identity.language",
            "infrastructure.tailscale_auth_key",
            "monitoring.report_interval",
            "monitoring.disk_warn_percent",
            "monitoring.backup_deadline",
            "legacy_monitoring.backup_uuid",
        ] {
            assert!(fields.iter().any(|f| f == expected), "{expected} missing from {fields:?}");
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let tokens = InfraTokens { cloudflare_tunnel_token: "cf-secret".into(), ..Default::default() };
        let text = format!("{tokens:?}");
        assert!(!text.contains("cf-secret"), "{text}");
    }
}
