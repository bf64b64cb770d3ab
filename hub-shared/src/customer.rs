//! What the fleet API says about one customer: its summary and the detail page (the fleet list's
//! compact rows are in [`crate::customer_list`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::report::Health;
use crate::status::NodeStatus;

/// A customer with its latest report summary and status (the detail page's summary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSummary {
    pub customer_id: String,
    /// The operator's name for the customer, when a config exists.
    pub display_name: Option<String>,
    /// A config exists for the customer (MANAGED); otherwise it is report-only (MANUAL).
    pub managed: bool,
    pub blocked: bool,
    /// The status computed by the shared rule at `generated_at`.
    pub status: NodeStatus,
    pub hostname: Option<String>,
    pub controller_version: Option<String>,
    /// The newest version the registry watch knows, only when `controller_version` is older
    /// ("outdated"); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<String>,
    /// The last drift check of a managed node (absent before the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<crate::fleet::DriftMark>,
    pub controller_url: Option<String>,
    /// The reported controller address differs from the one the hub calls, and waits for the
    /// operator to accept it ("address changed"); absent when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub controller_address_changed: bool,
    /// When the hub received the last report.
    pub last_report_at: Option<DateTime<Utc>>,
    pub health: Option<Health>,
    pub monitoring_enabled: bool,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    /// The fullest drive's used share.
    pub disk_percent: Option<f64>,
    pub containers_running: Option<u32>,
    pub containers_total: Option<u32>,
    pub last_backup_at: Option<DateTime<Utc>>,
    pub last_backup_ok: Option<bool>,
    /// Error events of the last 24 hours.
    #[serde(default)]
    pub errors_24h: u32,
    /// Warning events of the last 24 hours.
    #[serde(default)]
    pub warnings_24h: u32,
}

/// One customer: the summary and the latest full report as the controller sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerDetail {
    pub summary: CustomerSummary,
    /// The latest report's JSON, unknown fields included; `null` before the first report.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub report: Option<serde_json::Value>,
    pub generated_at: DateTime<Utc>,
    pub stale_threshold_secs: i64,
    /// The customer's preference address while it awaits its owner's confirmation; `null` when
    /// confirmed or when no preferences are set.
    #[serde(default)]
    pub email_confirmation: Option<crate::notification::EmailConfirmation>,
}
