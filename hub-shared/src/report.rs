//! The periodic status report a controller pushes (`POST /api/v1/report`).
//!
//! Reports are read leniently ([`ReportIn::read`]): only `customer_id` can refuse one. A field of
//! the wrong type or out of range is dropped from the typed report and named in a warning; the
//! hub stores the report's JSON as it arrived, unknown fields included, so controllers one
//! version ahead or behind are never refused.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{lenient, validate};

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

/// The health stored for a report that declared none (or one the hub does not know); it counts
/// as WARN.
pub const HEALTH_UNKNOWN: &str = "unknown";

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
    /// Controllers should send it; a report without it (or with an unknown value) is stored with
    /// health unknown, which the dashboard shows as WARN.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Health, required = true))]
    pub health: Option<Health>,
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
    /// The fields that were dropped from the typed report (wrong type or out of range), each as
    /// `path: problem`; they are still in the stored JSON. Absent when there were none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Limits on the parts of a report, so one report cannot grow the database without bound.
pub const MAX_STORAGE: usize = 64;
pub const MAX_CONTAINERS: usize = 512;
pub const MAX_CHECKS: usize = 256;
pub const MAX_TEXT: usize = 1024;

impl ReportIn {
    /// Reads a report leniently. Only a missing or invalid `customer_id`, or a body that is not a
    /// JSON object, refuses it: `Err((field, message))`. Every other field that is of the wrong
    /// type or out of range is dropped and named in the warnings (`system.cpu_percent: expected
    /// a number`); lists longer than their limit keep their first entries.
    pub fn read(body: &Value) -> Result<(ReportIn, Vec<String>), (String, String)> {
        let refuse = |field: &str, message: String| Err((field.to_string(), message));
        let Some(object) = body.as_object() else {
            return refuse("body", "the report must be a JSON object".into());
        };
        let customer_id = match object.get("customer_id") {
            Some(Value::String(id)) => id.clone(),
            Some(_) => return refuse("customer_id", "customer_id must be a string".into()),
            None => return refuse("customer_id", "customer_id is required".into()),
        };
        if let Err(msg) = validate::claimed_customer_id(&customer_id) {
            return refuse("customer_id", msg);
        }
        // Almost every report fits its schema whole: read in one pass, without copying the value
        // and tracking paths, it gives what the field-by-field read below would.
        if let Ok(report) = ReportIn::deserialize(body) {
            return report.checked_whole();
        }
        Ok(ReportIn::read_by_field(object, customer_id))
    }

    /// The lenient read proper, for a report that does not fit its schema whole: each list entry,
    /// then the rest, each dropping what does not fit.
    fn read_by_field(object: &serde_json::Map<String, Value>, customer_id: String) -> (ReportIn, Vec<String>) {
        let mut warnings = Vec::new();
        // Lists are read one entry at a time, so each round of the lenient reader stays small.
        let mut rest = object.clone();
        let storage = read_list::<StorageInfo>(rest.remove("storage"), "storage", MAX_STORAGE, &mut warnings);
        let containers = read_list(rest.remove("containers"), "containers", MAX_CONTAINERS, &mut warnings);
        let checks = read_list(rest.remove("checks"), "checks", MAX_CHECKS, &mut warnings);
        let mut report = lenient::read::<ReportIn>(Value::Object(rest), "", &mut warnings)
            .unwrap_or_else(|| ReportIn { monitoring_enabled: true, ..Default::default() });
        report.customer_id = customer_id;
        report.storage = storage
            .into_iter()
            .map(|(i, mut disk)| {
                if let (Some(used), Some(total)) = (disk.used_bytes, disk.total_bytes) {
                    if used > total {
                        warnings.push(format!("storage[{i}].used_bytes: more than total_bytes"));
                        disk.used_bytes = None;
                    }
                }
                disk
            })
            .collect();
        report.containers = containers.into_iter().map(|(_, c)| c).collect();
        report.checks = checks.into_iter().map(|(_, c)| c).collect();
        report.drop_out_of_range(&mut warnings);
        (report, warnings)
    }

    /// A report that a strict reader (its derived `Deserialize`) took whole: what [`ReportIn::read`]
    /// makes of the same body. Refused for an invalid `customer_id`; the lists cut to their
    /// limits and the values out of range dropped, named in the warnings as the lenient read
    /// names them.
    pub fn checked_whole(mut self) -> Result<(ReportIn, Vec<String>), (String, String)> {
        if let Err(msg) = validate::claimed_customer_id(&self.customer_id) {
            return Err(("customer_id".into(), msg));
        }
        let mut warnings = Vec::new();
        cut_list(&mut self.storage, "storage", MAX_STORAGE, &mut warnings);
        cut_list(&mut self.containers, "containers", MAX_CONTAINERS, &mut warnings);
        cut_list(&mut self.checks, "checks", MAX_CHECKS, &mut warnings);
        for (i, disk) in self.storage.iter_mut().enumerate() {
            if let (Some(used), Some(total)) = (disk.used_bytes, disk.total_bytes) {
                if used > total {
                    warnings.push(format!("storage[{i}].used_bytes: more than total_bytes"));
                    disk.used_bytes = None;
                }
            }
        }
        self.drop_out_of_range(&mut warnings);
        Ok((self, warnings))
    }

    /// Drops the values outside their range, naming each in `warnings`.
    fn drop_out_of_range(&mut self, warnings: &mut Vec<String>) {
        for (field, value) in [
            ("hostname", &mut self.hostname),
            ("controller_version", &mut self.controller_version),
            ("controller_url", &mut self.controller_url),
        ] {
            let problem = match value.as_deref() {
                Some(v) if v.len() > MAX_TEXT => format!("longer than {MAX_TEXT} bytes"),
                Some(v) if v.contains('\0') => "contains a NUL character".into(),
                Some(v)
                    if field == "controller_url"
                        && !(v.is_empty() || v.starts_with("http://") || v.starts_with("https://")) =>
                {
                    "expected an http:// or https:// URL".into()
                }
                _ => continue,
            };
            warnings.push(format!("{field}: {problem}"));
            *value = None;
        }
        if let Some(sys) = &mut self.system {
            for (field, value) in [
                ("system.cpu_percent", &mut sys.cpu_percent),
                ("system.load_1", &mut sys.load_1),
                ("system.load_5", &mut sys.load_5),
                ("system.load_15", &mut sys.load_15),
            ] {
                if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                    warnings.push(format!("{field}: expected a number, 0 or more"));
                    *value = None;
                }
            }
            if let (Some(used), Some(total)) = (sys.memory_used_bytes, sys.memory_total_bytes) {
                if used > total {
                    warnings.push("system.memory_used_bytes: more than system.memory_total_bytes".into());
                    sys.memory_used_bytes = None;
                }
            }
        }
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

/// Keeps the first `max` entries of a list read whole, naming the cut as [`read_list`] does.
fn cut_list<T>(items: &mut Vec<T>, field: &str, max: usize, warnings: &mut Vec<String>) {
    if items.len() > max {
        warnings.push(format!("{field}: more than {max} entries; the first {max} are kept"));
        items.truncate(max);
    }
}

/// The entries of a list field that can be read, with their index in the list as sent. A field
/// that is not a list, an entry that is not of its shape, and entries over `max` are dropped and
/// named in `warnings`.
fn read_list<T: DeserializeOwned>(
    value: Option<Value>,
    field: &str,
    max: usize,
    warnings: &mut Vec<String>,
) -> Vec<(usize, T)> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            warnings.push(format!("{field}: expected a list"));
            return Vec::new();
        }
    };
    if items.len() > max {
        warnings.push(format!("{field}: more than {max} entries; the first {max} are kept"));
    }
    items
        .into_iter()
        .take(max)
        .enumerate()
        .filter_map(|(i, item)| lenient::read(item, &format!("{field}[{i}]"), warnings).map(|typed| (i, typed)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: Value) -> (ReportIn, Vec<String>) {
        ReportIn::read(&body).expect("accepted")
    }

    #[test]
    fn only_customer_id_is_required() {
        let (r, warnings) = read(json!({"customer_id": "a", "health": "ok"}));
        assert!(r.monitoring_enabled);
        assert_eq!((r.health, warnings.len()), (Some(Health::Ok), 0));
        let (r, warnings) = read(json!({"customer_id": "a"}));
        assert_eq!((r.health, warnings.len()), (None, 0), "no health is unknown, not a refusal");
        for body in [json!({"health": "ok"}), json!({"customer_id": 7}), json!({"customer_id": "Bad"}), json!([1])] {
            let (field, _) = ReportIn::read(&body).unwrap_err();
            assert!(field == "customer_id" || field == "body", "{body}");
        }
    }

    #[test]
    fn unknown_fields_are_accepted() {
        let (r, warnings) = read(json!({"customer_id":"a","health":"warn","gpu":{"x":1},"system":{"fan_rpm":3}}));
        assert_eq!((r.health, warnings.len()), (Some(Health::Warn), 0));
    }

    #[test]
    fn wrong_types_are_dropped_and_named() {
        let (r, warnings) = read(json!({
            "customer_id": "a", "health": "sick", "hostname": 42, "monitoring_enabled": "yes",
            "system": {"cpu_percent": "high", "load_1": 0.5, "memory_total_bytes": -1},
            "storage": [{"label": "data", "used_bytes": "lots"}, "sda", {"label": "backup", "total_bytes": 10}],
            "containers": {"nextcloud": "running"},
            "checks": [{"name": "disk", "status": "ok"}, {"status": "ok"}],
            "backup": {"last_backup_at": "yesterday", "last_backup_ok": true},
            "reported_at": 1700000000,
        }));
        assert_eq!(r.health, None);
        assert_eq!(r.hostname, None);
        assert!(r.monitoring_enabled);
        let sys = r.system.as_ref().unwrap();
        assert_eq!((sys.cpu_percent, sys.load_1, sys.memory_total_bytes), (None, Some(0.5), None));
        let labels: Vec<_> = r.storage.iter().map(|d| d.label.as_deref().unwrap()).collect();
        assert_eq!(labels, ["data", "backup"]);
        assert_eq!(r.storage[0].used_bytes, None);
        assert!(r.containers.is_empty());
        assert_eq!(r.checks.len(), 1);
        assert_eq!(r.backup.as_ref().unwrap().last_backup_ok, Some(true));
        assert_eq!(r.reported_at, None);
        for expected in [
            "health: expected one of `ok`, `warn`, `fail`",
            "hostname: expected a string",
            "monitoring_enabled: expected true or false",
            "system.cpu_percent: expected a number",
            "system.memory_total_bytes: expected a whole number, 0 or more",
            "storage[0].used_bytes: expected a whole number, 0 or more",
            "storage[1]: expected an object",
            "containers: expected a list",
            "checks[1]: missing field `name`",
            "backup.last_backup_at: input contains invalid characters",
        ] {
            assert!(warnings.iter().any(|w| w == expected), "{expected:?} not in {warnings:#?}");
        }
        assert!(warnings.iter().any(|w| w.starts_with("reported_at: ")), "{warnings:#?}");
    }

    #[test]
    fn out_of_range_values_are_dropped_and_named() {
        let (r, warnings) = read(json!({
            "customer_id": "a", "health": "ok",
            "controller_url": "ftp://x", "controller_version": "v\u{0}", "hostname": "h".repeat(MAX_TEXT + 1),
            "system": {"cpu_percent": -1.0, "memory_used_bytes": 9, "memory_total_bytes": 8},
            "storage": [{"used_bytes": 2, "total_bytes": 1}],
            "checks": (0..MAX_CHECKS + 3).map(|i| json!({"name": format!("c{i}"), "status": "ok"})).collect::<Vec<_>>(),
        }));
        assert_eq!((r.controller_url, r.controller_version, r.hostname), (None, None, None));
        let sys = r.system.unwrap();
        assert_eq!((sys.cpu_percent, sys.memory_used_bytes, sys.memory_total_bytes), (None, None, Some(8)));
        assert_eq!(r.storage[0].used_bytes, None);
        assert_eq!(r.checks.len(), MAX_CHECKS);
        assert_eq!(warnings.len(), 7, "{warnings:#?}");
        assert!(warnings.contains(&"storage[0].used_bytes: more than total_bytes".to_string()));
        assert!(warnings.contains(&"system.cpu_percent: expected a number, 0 or more".to_string()));
    }

    #[test]
    fn a_report_read_whole_is_read_as_field_by_field() {
        let long = "h".repeat(MAX_TEXT + 1);
        let bodies = [
            json!({"customer_id": "a"}),
            json!({"customer_id": "a", "health": "fail", "monitoring_enabled": false, "extra": [1, {"x": null}]}),
            json!({
                "customer_id": "node-7", "health": "ok", "hostname": long, "controller_url": "ftp://x",
                "reported_at": "2026-12-04T10:00:00Z",
                "system": {"cpu_percent": -1.0, "load_1": 0.5, "memory_used_bytes": 9, "memory_total_bytes": 8},
                "storage": (0..MAX_STORAGE + 2)
                    .map(|i| json!({"label": format!("d{i}"), "used_bytes": i + 2, "total_bytes": 3}))
                    .collect::<Vec<_>>(),
                "containers": (0..MAX_CONTAINERS + 1)
                    .map(|i| json!({"name": format!("c{i}"), "state": "running"}))
                    .collect::<Vec<_>>(),
                "checks": [{"name": "disk", "status": "warn", "message": "80%"}],
                "backup": {"last_backup_at": "2026-12-04T02:00:00Z", "last_backup_ok": true, "snapshot_count": 4},
            }),
        ];
        for body in bodies {
            assert!(ReportIn::deserialize(&body).is_ok(), "this body fits the schema whole");
            let object = body.as_object().unwrap();
            let by_field = ReportIn::read_by_field(object, object["customer_id"].as_str().unwrap().into());
            assert_eq!(read(body.clone()), by_field, "{body}");
        }
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
}
