//! The periodic status report a controller pushes (`POST /api/v1/report`).
//!
//! Only `customer_id` and `health` are required. Fields this version does not know are accepted:
//! the hub stores the report's JSON as it arrived, so newer controllers are never refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate;

/// The health a controller declares for its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Health {
    #[default]
    Ok,
    Warn,
    Fail,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Warn => "warn",
            Health::Fail => "fail",
        }
    }

    pub fn parse(s: &str) -> Option<Health> {
        match s {
            "ok" => Some(Health::Ok),
            "warn" => Some(Health::Warn),
            "fail" => Some(Health::Fail),
            _ => None,
        }
    }
}

/// A controller's status report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportIn {
    /// The customer this node belongs to (`^[a-z0-9][a-z0-9-]{0,62}$`).
    pub customer_id: String,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub controller_version: Option<String>,
    /// Where the hub can reach the controller's own API.
    #[serde(default)]
    pub controller_url: Option<String>,
    /// When the controller made the report (RFC 3339); the hub's receive time when absent.
    #[serde(default)]
    pub reported_at: Option<DateTime<Utc>>,
    pub health: Health,
    /// `false` while the operator paused monitoring on the node.
    #[serde(default = "default_true")]
    pub monitoring_enabled: bool,
    #[serde(default)]
    pub system: Option<SystemInfo>,
    #[serde(default)]
    pub storage: Vec<StorageInfo>,
    #[serde(default)]
    pub containers: Vec<ContainerInfo>,
    #[serde(default)]
    pub backup: Option<BackupInfo>,
    #[serde(default)]
    pub checks: Vec<CheckInfo>,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemInfo {
    #[serde(default)]
    pub cpu_percent: Option<f64>,
    #[serde(default)]
    pub load_1: Option<f64>,
    #[serde(default)]
    pub load_5: Option<f64>,
    #[serde(default)]
    pub load_15: Option<f64>,
    #[serde(default)]
    pub memory_used_bytes: Option<u64>,
    #[serde(default)]
    pub memory_total_bytes: Option<u64>,
    #[serde(default)]
    pub uptime_seconds: Option<u64>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub kernel: Option<String>,
    #[serde(default)]
    pub temperature_c: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageInfo {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub mount_point: Option<String>,
    /// What the drive is for, such as `system`, `data` or `backup`.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub total_bytes: Option<u64>,
    #[serde(default)]
    pub used_bytes: Option<u64>,
    #[serde(default)]
    pub smart_ok: Option<bool>,
}

impl StorageInfo {
    /// Used share in percent, when both sizes are known and the total is not zero.
    pub fn used_percent(&self) -> Option<f64> {
        match (self.used_bytes, self.total_bytes) {
            (Some(used), Some(total)) if total > 0 => Some(used as f64 * 100.0 / total as f64),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContainerInfo {
    pub name: String,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    /// Docker's state: `running`, `exited`, `restarting`…
    #[serde(default)]
    pub state: Option<String>,
    /// Docker's health check result: `healthy`, `unhealthy`, `starting` or none.
    #[serde(default)]
    pub health: Option<String>,
    #[serde(default)]
    pub restart_count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackupInfo {
    #[serde(default)]
    pub last_backup_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_backup_ok: Option<bool>,
    #[serde(default)]
    pub last_dbdump_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_dbdump_ok: Option<bool>,
    #[serde(default)]
    pub snapshot_count: Option<u64>,
    #[serde(default)]
    pub repository_size_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckInfo {
    pub name: String,
    pub status: Health,
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to an accepted report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportAccepted {
    pub ok: bool,
    /// The operator blocked this customer; the controller enters limited mode after a grace period.
    pub customer_blocked: bool,
}

/// Limits on the parts of a report, so one report cannot grow the database without bound.
pub const MAX_STORAGE: usize = 64;
pub const MAX_CONTAINERS: usize = 512;
pub const MAX_CHECKS: usize = 256;
pub const MAX_TEXT: usize = 1024;

impl ReportIn {
    /// Checks the report's values; the error names the field that is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let field_err = |field: &str, msg: String| Err((field.to_string(), msg));
        if let Err(msg) = validate::customer_id(&self.customer_id) {
            return field_err("customer_id", msg);
        }
        for (field, value) in [
            ("hostname", &self.hostname),
            ("controller_version", &self.controller_version),
            ("controller_url", &self.controller_url),
        ] {
            if let Some(v) = value {
                if let Err(msg) = validate::max_len(field, v, MAX_TEXT) {
                    return field_err(field, msg);
                }
            }
        }
        if let Some(url) = &self.controller_url {
            if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
                return field_err("controller_url", "controller_url must start with http:// or https://".into());
            }
        }
        if let Some(sys) = &self.system {
            for (field, value) in [
                ("system.cpu_percent", sys.cpu_percent),
                ("system.load_1", sys.load_1),
                ("system.load_5", sys.load_5),
                ("system.load_15", sys.load_15),
            ] {
                if let Some(v) = value {
                    if !v.is_finite() || v < 0.0 {
                        return field_err(field, format!("{field} must be a non-negative number"));
                    }
                }
            }
            if let (Some(used), Some(total)) = (sys.memory_used_bytes, sys.memory_total_bytes) {
                if used > total {
                    return field_err(
                        "system.memory_used_bytes",
                        "system.memory_used_bytes must not exceed system.memory_total_bytes".into(),
                    );
                }
            }
        }
        if self.storage.len() > MAX_STORAGE {
            return field_err("storage", format!("storage may list at most {MAX_STORAGE} drives"));
        }
        for (i, disk) in self.storage.iter().enumerate() {
            if let (Some(used), Some(total)) = (disk.used_bytes, disk.total_bytes) {
                if used > total {
                    let field = format!("storage[{i}].used_bytes");
                    return field_err(&field, format!("{field} must not exceed total_bytes"));
                }
            }
        }
        if self.containers.len() > MAX_CONTAINERS {
            return field_err("containers", format!("containers may list at most {MAX_CONTAINERS} entries"));
        }
        if self.checks.len() > MAX_CHECKS {
            return field_err("checks", format!("checks may list at most {MAX_CHECKS} entries"));
        }
        Ok(())
    }

    /// The fullest drive's used share in percent.
    pub fn fullest_disk_percent(&self) -> Option<f64> {
        self.storage.iter().filter_map(StorageInfo::used_percent).reduce(f64::max)
    }

    /// Memory used in percent.
    pub fn memory_percent(&self) -> Option<f64> {
        let sys = self.system.as_ref()?;
        match (sys.memory_used_bytes, sys.memory_total_bytes) {
            (Some(used), Some(total)) if total > 0 => Some(used as f64 * 100.0 / total as f64),
            _ => None,
        }
    }

    /// Running containers and all containers.
    pub fn container_counts(&self) -> (u32, u32) {
        let running = self.containers.iter().filter(|c| c.state.as_deref() == Some("running")).count();
        (running as u32, self.containers.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_customer_id_and_health_are_required() {
        let r: ReportIn = serde_json::from_str(r#"{"customer_id":"a","health":"ok"}"#).unwrap();
        assert!(r.monitoring_enabled);
        assert!(r.validate().is_ok());
        assert!(serde_json::from_str::<ReportIn>(r#"{"customer_id":"a"}"#).is_err());
        assert!(serde_json::from_str::<ReportIn>(r#"{"health":"ok"}"#).is_err());
    }

    #[test]
    fn unknown_fields_are_accepted() {
        let r: ReportIn =
            serde_json::from_str(r#"{"customer_id":"a","health":"warn","gpu":{"x":1},"system":{"fan_rpm":3}}"#)
                .unwrap();
        assert_eq!(r.health, Health::Warn);
    }

    #[test]
    fn derived_numbers() {
        let r = ReportIn {
            customer_id: "a".into(),
            storage: vec![
                StorageInfo { used_bytes: Some(50), total_bytes: Some(100), ..Default::default() },
                StorageInfo { used_bytes: Some(90), total_bytes: Some(100), ..Default::default() },
                StorageInfo { used_bytes: Some(1), total_bytes: Some(0), ..Default::default() },
            ],
            containers: vec![
                ContainerInfo { name: "a".into(), state: Some("running".into()), ..Default::default() },
                ContainerInfo { name: "b".into(), state: Some("exited".into()), ..Default::default() },
            ],
            ..Default::default()
        };
        assert_eq!(r.fullest_disk_percent(), Some(90.0));
        assert_eq!(r.container_counts(), (1, 2));
        assert_eq!(r.memory_percent(), None);
    }

    #[test]
    fn validation_names_the_field() {
        let mut r = ReportIn { customer_id: "a".into(), ..Default::default() };
        r.system = Some(SystemInfo { cpu_percent: Some(-1.0), ..Default::default() });
        assert_eq!(r.validate().unwrap_err().0, "system.cpu_percent");
        r.system = None;
        r.storage = vec![StorageInfo { used_bytes: Some(2), total_bytes: Some(1), ..Default::default() }];
        assert_eq!(r.validate().unwrap_err().0, "storage[0].used_bytes");
        r.storage.clear();
        r.customer_id = "Bad".into();
        assert_eq!(r.validate().unwrap_err().0, "customer_id");
    }
}
