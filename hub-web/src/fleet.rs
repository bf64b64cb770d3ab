//! The dashboard's view of the fleet: the search, the status filter and the order, kept in the
//! URL's query (`?q=&status=&sort=&dir=`) so a reload keeps them, and the list query they make
//! (the hub filters, sorts and pages).

use hub_shared::customer_list::{CustomerListQuery, ListOrder, ListSort, StatusCounts};
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

    /// The hub's list query for this view (without page): the dashboard leaves blocked
    /// customers out unless they are asked for.
    pub fn list_query(&self) -> CustomerListQuery {
        let statuses = match self.status {
            Some(status) => status.as_str().to_string(),
            None => VISIBLE.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
        };
        let search = self.search.trim();
        CustomerListQuery {
            status: Some(statuses),
            q: (!search.is_empty()).then(|| search.to_string()),
            sort: Some(ListOrder { by: self.sort.list_sort(), descending: self.descending }.as_param()),
            ..Default::default()
        }
    }
}

impl SortKey {
    fn list_sort(self) -> ListSort {
        ListSort::parse(self.as_str()).expect("every column is an order of the list")
    }
}

/// The statuses the dashboard shows (blocked customers are on the customers page).
pub const VISIBLE: [NodeStatus; 5] =
    [NodeStatus::Ok, NodeStatus::Warn, NodeStatus::Down, NodeStatus::Disabled, NodeStatus::Pending];

/// Percent-encodes a query value (letters, digits and `-._~` stay).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How many customers of the whole fleet have each status the dashboard shows.
pub fn counts(counts: &StatusCounts) -> Vec<(NodeStatus, u32)> {
    VISIBLE.into_iter().map(|s| (s, counts.get(s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_the_hub_for_the_view() {
        let q = FleetQuery::default().list_query();
        assert_eq!(q.status.as_deref(), Some("OK,WARN,DOWN,DISABLED,PENDING"));
        assert_eq!((q.q, q.sort.as_deref()), (None, Some("status")));
        let by_cpu = FleetQuery { search: " alma ".into(), status: Some(NodeStatus::Down), ..Default::default() }
            .sorted_by(SortKey::Cpu)
            .sorted_by(SortKey::Cpu);
        let q = by_cpu.list_query();
        assert_eq!(
            (q.status.as_deref(), q.q.as_deref(), q.sort.as_deref()),
            (Some("DOWN"), Some("alma"), Some("-cpu"))
        );
        assert!(SortKey::ALL.iter().all(|k| ListSort::parse(k.as_str()).is_some()));
        let counts = counts(&StatusCounts { ok: 3, blocked: 1, ..Default::default() });
        assert_eq!(counts[0], (NodeStatus::Ok, 3));
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
