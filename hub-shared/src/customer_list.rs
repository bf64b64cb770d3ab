//! The fleet list (`GET /api/v1/customers`): one compact row per customer with what the fleet
//! views show, paged and filtered on the server, with the counts per status of the whole fleet.
//! What a row leaves out (the controller address, the declared health, the monitoring flag, full
//! precision) is in the customer's own summary (`GET /api/v1/customers/{id}`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fleet::DriftMark;
use crate::status::NodeStatus;

/// One row of the fleet list. Absent fields are unknown (no report yet), false or zero; times
/// are to the second and percentages to one decimal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerRow {
    pub customer_id: String,
    /// The operator's name for the customer, when a config exists and names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A config exists for the customer (MANAGED); otherwise it is report-only (MANUAL).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub managed: bool,
    /// The status by the shared rule at the list's `generated_at` (`BLOCKED` for a blocked customer).
    pub status: NodeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The controller's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The newest version the registry watch knows, only when `version` is older ("outdated").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<String>,
    /// The last drift check of a managed node (absent before the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftMark>,
    /// The reported controller address waits for the operator to accept it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub address_changed: bool,
    /// When the hub received the last report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<f64>,
    /// The fullest drive's used share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<f64>,
    /// Containers running and in all, `[running, total]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<[u32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_at: Option<DateTime<Utc>>,
    /// Whether the last backup succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_ok: Option<bool>,
    /// Error events of the last 24 hours.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors_24h: u32,
    /// Warning events of the last 24 hours.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warnings_24h: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl CustomerRow {
    /// Whether the operator blocked the customer.
    pub fn blocked(&self) -> bool {
        self.status == NodeStatus::Blocked
    }

    /// What the operator calls the customer: the name, else the id.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.customer_id)
    }
}

/// How many customers of the whole fleet have each status, whatever the filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub struct StatusCounts {
    pub ok: u32,
    pub warn: u32,
    pub down: u32,
    pub disabled: u32,
    pub pending: u32,
    pub blocked: u32,
}

impl StatusCounts {
    pub fn get(&self, status: NodeStatus) -> u32 {
        match status {
            NodeStatus::Ok => self.ok,
            NodeStatus::Warn => self.warn,
            NodeStatus::Down => self.down,
            NodeStatus::Disabled => self.disabled,
            NodeStatus::Pending => self.pending,
            NodeStatus::Blocked => self.blocked,
        }
    }

    pub fn add(&mut self, status: NodeStatus) {
        let n = match status {
            NodeStatus::Ok => &mut self.ok,
            NodeStatus::Warn => &mut self.warn,
            NodeStatus::Down => &mut self.down,
            NodeStatus::Disabled => &mut self.disabled,
            NodeStatus::Pending => &mut self.pending,
            NodeStatus::Blocked => &mut self.blocked,
        };
        *n += 1;
    }

    /// Every customer of the fleet.
    pub fn total(&self) -> u32 {
        NodeStatus::ALL.into_iter().map(|s| self.get(s)).sum()
    }
}

/// One page of the fleet list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerList {
    /// The page's rows, in the order asked for.
    pub customers: Vec<CustomerRow>,
    /// How many customers match the filter (on every page, not only this one).
    pub matched: u32,
    /// Customers per status in the whole fleet, whatever the filter.
    pub counts: StatusCounts,
    /// The `cursor` of the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The hub's clock when the statuses were computed.
    pub generated_at: DateTime<Utc>,
    /// `alerting.stale_threshold` in seconds, for clients that recompute the status.
    pub stale_threshold_secs: i64,
}

/// The columns the list sorts by (`sort=`, `-` in front for the reverse order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListSort {
    /// By customer id (the default).
    #[default]
    Id,
    /// Worst status first.
    Status,
    /// By name (the id when unnamed), case-insensitively.
    Customer,
    Hostname,
    Version,
    /// Most recent report first.
    Report,
    Cpu,
    Memory,
    Disk,
    /// By containers running.
    Containers,
    /// Most recent backup first.
    Backup,
}

impl ListSort {
    pub const ALL: [ListSort; 11] = [
        ListSort::Id,
        ListSort::Status,
        ListSort::Customer,
        ListSort::Hostname,
        ListSort::Version,
        ListSort::Report,
        ListSort::Cpu,
        ListSort::Memory,
        ListSort::Disk,
        ListSort::Containers,
        ListSort::Backup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListSort::Id => "id",
            ListSort::Status => "status",
            ListSort::Customer => "customer",
            ListSort::Hostname => "hostname",
            ListSort::Version => "version",
            ListSort::Report => "report",
            ListSort::Cpu => "cpu",
            ListSort::Memory => "memory",
            ListSort::Disk => "disk",
            ListSort::Containers => "containers",
            ListSort::Backup => "backup",
        }
    }

    pub fn parse(s: &str) -> Option<ListSort> {
        ListSort::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The order of the list: a column, and whether reversed (rows without a value sort last, or
/// first when reversed; ties by customer id, reversed too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListOrder {
    pub by: ListSort,
    pub descending: bool,
}

impl ListOrder {
    /// Reads `sort=` (`cpu`, `-cpu`).
    pub fn parse(s: &str) -> Result<ListOrder, String> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let by = ListSort::parse(name).ok_or_else(|| {
            let names: Vec<&str> = ListSort::ALL.iter().map(|k| k.as_str()).collect();
            format!("sort: unknown column {s:?}; one of {} (a leading - reverses)", names.join(", "))
        })?;
        Ok(ListOrder { by, descending })
    }

    pub fn as_param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.by.as_str())
    }
}

/// The query of `GET /api/v1/customers`. Without any parameter the answer holds every customer
/// sorted by id, as before paging existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CustomerListQuery {
    /// Only these statuses, comma separated (`DOWN,WARN`; `BLOCKED` for blocked customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only customers whose id, name or hostname contains this, case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The column to sort by: id (default), status, customer, hostname, version, report, cpu,
    /// memory, disk, containers, backup; a leading `-` reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Page size, 1 to 100,000; without it the page holds every matching customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100_000))]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor` (asked with the same `sort`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The largest page `limit` asks for.
pub const LIMIT_MAX: u32 = 100_000;

impl CustomerListQuery {
    /// The statuses asked for (none: all); the error names the parameter.
    pub fn statuses(&self) -> Result<Option<Vec<NodeStatus>>, String> {
        let Some(raw) = self.status.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        raw.split(',')
            .map(|s| {
                NodeStatus::parse(s.trim()).ok_or_else(|| {
                    let names: Vec<&str> = NodeStatus::ALL.iter().map(|s| s.as_str()).collect();
                    format!("status: unknown status {:?}; one or more of {}", s.trim(), names.join(", "))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The order asked for (by id when absent).
    pub fn order(&self) -> Result<ListOrder, String> {
        match self.sort.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => ListOrder::parse(s),
            None => Ok(ListOrder::default()),
        }
    }

    /// The page size: none for every matching customer.
    pub fn page_size(&self) -> Result<Option<u32>, String> {
        match self.limit {
            Some(0) => Err("limit: must be at least 1 (leave it out for every customer)".into()),
            Some(n) if n > LIMIT_MAX => {
                Err(format!("limit: must be at most {LIMIT_MAX} (leave it out for every customer)"))
            }
            other => Ok(other),
        }
    }

    /// The search, trimmed and lower-cased; none when empty.
    pub fn needle(&self) -> Option<String> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses_the_parameters_by_name() {
        let q =
            CustomerListQuery { status: Some("down, warn".into()), sort: Some("-cpu".into()), ..Default::default() };
        assert_eq!(q.statuses().unwrap(), Some(vec![NodeStatus::Down, NodeStatus::Warn]));
        assert_eq!(q.order().unwrap(), ListOrder { by: ListSort::Cpu, descending: true });
        assert_eq!(q.order().unwrap().as_param(), "-cpu");
        assert_eq!(CustomerListQuery::default().order().unwrap(), ListOrder::default());
        let bad = CustomerListQuery {
            status: Some("OK,SAD".into()),
            sort: Some("size".into()),
            limit: Some(0),
            ..Default::default()
        };
        assert!(bad.statuses().unwrap_err().starts_with("status:"));
        assert!(bad.order().unwrap_err().starts_with("sort:"));
        assert!(bad.page_size().unwrap_err().starts_with("limit:"));
        let huge = CustomerListQuery { limit: Some(LIMIT_MAX + 1), ..Default::default() };
        assert!(huge.page_size().unwrap_err().starts_with("limit:"));
        let needle = CustomerListQuery { q: Some("  Kovács ".into()), ..Default::default() }.needle();
        assert_eq!(needle.as_deref(), Some("kovács"));
    }

    #[test]
    fn a_row_leaves_out_what_is_absent() {
        let row = CustomerRow {
            customer_id: "alma".into(),
            name: None,
            managed: false,
            status: NodeStatus::Pending,
            host: None,
            version: None,
            latest_version: None,
            drift: None,
            address_changed: false,
            reported_at: None,
            cpu: None,
            memory: None,
            disk: None,
            containers: None,
            backup_at: None,
            backup_ok: None,
            errors_24h: 0,
            warnings_24h: 0,
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(json, r#"{"customer_id":"alma","status":"PENDING"}"#);
        assert_eq!(serde_json::from_str::<CustomerRow>(&json).unwrap(), row);
        let mut counts = StatusCounts::default();
        counts.add(NodeStatus::Blocked);
        counts.add(NodeStatus::Ok);
        assert_eq!((counts.get(NodeStatus::Blocked), counts.total()), (1, 2));
        assert_eq!(serde_json::to_value(counts).unwrap()["BLOCKED"], 1);
    }
}
