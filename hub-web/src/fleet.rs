//! The dashboard's view of the fleet: which rows the search and the status filter keep and in
//! which order, all kept in the URL's query (`?q=&status=&sort=&dir=`) so a reload keeps them.

use std::cmp::Ordering;

use hub_shared::customer::CustomerSummary;
use hub_shared::NodeStatus;

/// The columns the fleet table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Status,
    Customer,
    Hostname,
    Version,
    LastReport,
    Cpu,
    Memory,
    Disk,
    Containers,
    Backup,
}

impl SortKey {
    pub const ALL: [SortKey; 10] = [
        SortKey::Status,
        SortKey::Customer,
        SortKey::Hostname,
        SortKey::Version,
        SortKey::LastReport,
        SortKey::Cpu,
        SortKey::Memory,
        SortKey::Disk,
        SortKey::Containers,
        SortKey::Backup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Status => "status",
            SortKey::Customer => "customer",
            SortKey::Hostname => "hostname",
            SortKey::Version => "version",
            SortKey::LastReport => "report",
            SortKey::Cpu => "cpu",
            SortKey::Memory => "memory",
            SortKey::Disk => "disk",
            SortKey::Containers => "containers",
            SortKey::Backup => "backup",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The search, filter and order of the fleet table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FleetQuery {
    /// Matches the id, the display name or the hostname, case-insensitively.
    pub search: String,
    pub status: Option<NodeStatus>,
    pub sort: SortKey,
    pub descending: bool,
}

impl FleetQuery {
    /// Reads the query from URL parameters; unknown values fall back to the defaults.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> FleetQuery {
        FleetQuery {
            search: get("q").unwrap_or_default(),
            status: get("status").as_deref().and_then(NodeStatus::parse),
            sort: get("sort").as_deref().and_then(SortKey::parse).unwrap_or_default(),
            descending: get("dir").as_deref() == Some("desc"),
        }
    }

    /// The URL query string (with `?`, or empty) that stores this query.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        if let Some(status) = self.status {
            parts.push(format!("status={}", status.as_str()));
        }
        if self.sort != SortKey::default() {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.descending {
            parts.push("dir=desc".into());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// The same query sorted by `key`: a second click on the same column reverses the order.
    pub fn sorted_by(&self, key: SortKey) -> FleetQuery {
        let descending = if self.sort == key { !self.descending } else { false };
        FleetQuery { sort: key, descending, ..self.clone() }
    }

    fn matches(&self, c: &CustomerSummary) -> bool {
        if self.status.is_some_and(|s| s != c.status) {
            return false;
        }
        let needle = self.search.trim().to_lowercase();
        needle.is_empty()
            || [Some(&c.customer_id), c.display_name.as_ref(), c.hostname.as_ref()]
                .into_iter()
                .flatten()
                .any(|text| text.to_lowercase().contains(&needle))
    }

    /// The rows to show: blocked customers are hidden from the dashboard, the rest filtered and
    /// sorted (ties broken by customer id, so the order never jumps between refreshes).
    pub fn apply(&self, customers: &[CustomerSummary]) -> Vec<CustomerSummary> {
        let mut rows: Vec<CustomerSummary> =
            customers.iter().filter(|c| !c.blocked && self.matches(c)).cloned().collect();
        rows.sort_by(|a, b| {
            let order = compare(self.sort, a, b);
            let order = if self.descending { order.reverse() } else { order };
            order.then_with(|| a.customer_id.cmp(&b.customer_id))
        });
        rows
    }
}

/// Worst status first by default; missing values sort last.
fn compare(key: SortKey, a: &CustomerSummary, b: &CustomerSummary) -> Ordering {
    fn opt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    match key {
        SortKey::Status => severity(b.status).cmp(&severity(a.status)),
        SortKey::Customer => name(a).cmp(&name(b)),
        SortKey::Hostname => opt(a.hostname.as_ref(), b.hostname.as_ref()),
        SortKey::Version => opt(a.controller_version.as_ref(), b.controller_version.as_ref()),
        // Most recent first.
        SortKey::LastReport => opt(b.last_report_at, a.last_report_at),
        SortKey::Cpu => opt(a.cpu_percent, b.cpu_percent),
        SortKey::Memory => opt(a.memory_percent, b.memory_percent),
        SortKey::Disk => opt(a.disk_percent, b.disk_percent),
        SortKey::Containers => opt(a.containers_running, b.containers_running),
        SortKey::Backup => opt(b.last_backup_at, a.last_backup_at),
    }
}

/// How much a status needs the operator's eye.
fn severity(status: NodeStatus) -> u8 {
    match status {
        NodeStatus::Down => 5,
        NodeStatus::Warn => 4,
        NodeStatus::Pending => 3,
        NodeStatus::Disabled => 2,
        NodeStatus::Ok => 1,
        NodeStatus::Blocked => 0,
    }
}

/// What the operator calls the customer: the display name, else the id.
pub fn name(c: &CustomerSummary) -> String {
    c.display_name.clone().unwrap_or_else(|| c.customer_id.clone()).to_lowercase()
}

/// Percent-encodes a query value (letters, digits and `-._~` stay).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How many of the visible (not blocked) customers have each status.
pub fn counts(customers: &[CustomerSummary]) -> Vec<(NodeStatus, usize)> {
    NodeStatus::ALL
        .into_iter()
        .filter(|s| *s != NodeStatus::Blocked)
        .map(|s| (s, customers.iter().filter(|c| !c.blocked && c.status == s).count()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn customer(id: &str, status: NodeStatus, cpu: Option<f64>) -> CustomerSummary {
        CustomerSummary {
            customer_id: id.into(),
            display_name: None,
            managed: false,
            blocked: status == NodeStatus::Blocked,
            status,
            hostname: Some(format!("{id}-node")),
            controller_version: None,
            latest_version: None,
            drift: None,
            controller_url: None,
            controller_address_changed: false,
            last_report_at: Some(DateTime::<Utc>::from_timestamp_millis(0).unwrap()),
            health: None,
            monitoring_enabled: true,
            cpu_percent: cpu,
            memory_percent: None,
            disk_percent: None,
            containers_running: None,
            containers_total: None,
            last_backup_at: None,
            last_backup_ok: None,
            errors_24h: 0,
            warnings_24h: 0,
        }
    }

    fn ids(rows: &[CustomerSummary]) -> Vec<&str> {
        rows.iter().map(|c| c.customer_id.as_str()).collect()
    }

    #[test]
    fn hides_blocked_filters_and_sorts_worst_first() {
        let fleet = [
            customer("alma", NodeStatus::Ok, Some(10.0)),
            customer("barack", NodeStatus::Down, Some(90.0)),
            customer("citrom", NodeStatus::Blocked, None),
            customer("dio", NodeStatus::Warn, None),
        ];
        assert_eq!(ids(&FleetQuery::default().apply(&fleet)), ["barack", "dio", "alma"]);
        let q = FleetQuery { search: "ALMA-NO".into(), ..Default::default() };
        assert_eq!(ids(&q.apply(&fleet)), ["alma"]);
        let q = FleetQuery { status: Some(NodeStatus::Warn), ..Default::default() };
        assert_eq!(ids(&q.apply(&fleet)), ["dio"]);
        let by_cpu = FleetQuery::default().sorted_by(SortKey::Cpu);
        assert_eq!(ids(&by_cpu.apply(&fleet)), ["alma", "barack", "dio"]);
        assert_eq!(ids(&by_cpu.sorted_by(SortKey::Cpu).apply(&fleet)), ["dio", "barack", "alma"]);
        let counts = counts(&fleet);
        assert_eq!(counts[0], (NodeStatus::Ok, 1));
        assert!(!counts.iter().any(|(s, _)| *s == NodeStatus::Blocked));
    }

    #[test]
    fn round_trips_through_the_url() {
        let q = FleetQuery {
            search: "kovács & co".into(),
            status: Some(NodeStatus::Down),
            sort: SortKey::Disk,
            descending: true,
        };
        let qs = q.to_query_string();
        assert_eq!(qs, "?q=kov%C3%A1cs%20%26%20co&status=DOWN&sort=disk&dir=desc");
        let decoded = [("q", "kovács & co"), ("status", "DOWN"), ("sort", "disk"), ("dir", "desc")];
        let back = FleetQuery::from_params(|k| decoded.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()));
        assert_eq!(back, q);
        assert_eq!(FleetQuery::default().to_query_string(), "");
        assert_eq!(FleetQuery::from_params(|_| Some("nonsense".into())).status, None);
    }
}
