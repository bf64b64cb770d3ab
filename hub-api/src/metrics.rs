//! The hub's Prometheus metrics (`GET /metrics`, see `routes/metrics.rs`): counters and
//! histograms recorded where the work happens (ingest, the dispatcher, the scheduler, the HTTP
//! layer, recovery), and gauges set at scrape time from the database and this replica's state
//! (the fleet, the pool, leadership). Every name starts with `felhom_hub_`; counters end in
//! `_total`, durations in `_seconds`. One registry per hub, so hubs in one test process do not
//! share counts. No label carries a secret or a free-form value: customers are not labels.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hub_shared::event::{EventType, Severity};
use hub_shared::notification::{Channel, Outcome};
use hub_shared::status::NodeStatus;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of the answer: the Prometheus text format 0.0.4.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub r#type: &'static str,
    pub severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotificationLabels {
    pub channel: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabel {
    pub job: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: Arc<str>,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub method: String,
    pub route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScopeLabel {
    pub scope: &'static str,
}

/// Latency buckets from 1 ms to about 33 s.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Job durations: 10 ms to about 3 hours.
fn job_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 3.0, 14))
}

/// What the fleet looks like at scrape time (see [`Metrics::set_fleet`]).
#[derive(Debug, Default)]
pub struct FleetCounts {
    pub by_status: BTreeMap<NodeStatus, i64>,
    /// Nodes whose controller is older than the registry's newest release (the newest version
    /// any node reports while none is known): the dashboard's "outdated".
    pub outdated: i64,
    pub blocked: i64,
}

/// The hub's metrics; cheap to clone (one registry behind an `Arc`).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    reports_ingested: Counter,
    reports_refused: Family<ReasonLabel, Counter>,
    ingest_batch_size: Histogram,
    ingest_commit: Histogram,
    events: Family<EventLabels, Counter>,
    notifications: Family<NotificationLabels, Counter>,
    job_runs: Family<JobLabel, Counter>,
    job_failures: Family<JobLabel, Counter>,
    job_duration: Family<JobLabel, Histogram, fn() -> Histogram>,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<RouteLabel, Histogram, fn() -> Histogram>,
    recovery_lockouts: Family<ScopeLabel, Counter>,
    nodes: Family<StatusLabel, Gauge>,
    nodes_outdated: Gauge,
    nodes_blocked: Gauge,
    db_connections: Family<StateLabel, Gauge>,
    db_max_connections: Gauge,
    scheduler_leader: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("felhom_hub");
        let inner = Inner {
            reports_ingested: Counter::default(),
            reports_refused: Family::default(),
            ingest_batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            ingest_commit: seconds_histogram(),
            events: Family::default(),
            notifications: Family::default(),
            job_runs: Family::default(),
            job_failures: Family::default(),
            job_duration: Family::new_with_constructor(job_histogram),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(seconds_histogram),
            recovery_lockouts: Family::default(),
            nodes: Family::default(),
            nodes_outdated: Gauge::default(),
            nodes_blocked: Gauge::default(),
            db_connections: Family::default(),
            db_max_connections: Gauge::default(),
            scheduler_leader: Gauge::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register("reports_ingested", "Reports stored (counted once committed)", inner.reports_ingested.clone());
        r.register("reports_refused", "Reports refused, by reason", inner.reports_refused.clone());
        r.register("ingest_batch_size", "Reports written per ingest transaction", inner.ingest_batch_size.clone());
        r.register_with_unit(
            "ingest_commit",
            "Time to write and commit one ingest transaction",
            Unit::Seconds,
            inner.ingest_commit.clone(),
        );
        r.register("events", "Events dispatched (each stored event once), by type and severity", inner.events.clone());
        r.register("notifications", "Notification decisions, by channel and outcome", inner.notifications.clone());
        r.register("job_runs", "Background job runs finished, by job", inner.job_runs.clone());
        r.register("job_failures", "Background job runs that failed, by job", inner.job_failures.clone());
        r.register_with_unit("job_duration", "Background job run time", Unit::Seconds, inner.job_duration.clone());
        r.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            inner.http_requests.clone(),
        );
        r.register_with_unit(
            "http_request_duration",
            "HTTP request latency, by method and route template",
            Unit::Seconds,
            inner.http_duration.clone(),
        );
        r.register(
            "recovery_lockouts",
            "New recovery lock-outs, of an address or of a customer",
            inner.recovery_lockouts.clone(),
        );
        r.register("nodes", "Nodes by status at scrape time (blocked ones as BLOCKED)", inner.nodes.clone());
        r.register(
            "nodes_outdated",
            "Reporting nodes whose controller is older than the registry's newest release (or, before the registry \
             watch found one, than the newest in the fleet)",
            inner.nodes_outdated.clone(),
        );
        r.register("nodes_blocked", "Customers the operator blocked", inner.nodes_blocked.clone());
        r.register("db_pool_connections", "Database pool connections, idle or in use", inner.db_connections.clone());
        r.register("db_pool_max_connections", "The database pool's size limit", inner.db_max_connections.clone());
        r.register(
            "scheduler_leader",
            "1 while this replica holds the scheduler lease (runs jobs and notifications)",
            inner.scheduler_leader.clone(),
        );
        Metrics(Arc::new(Inner { registry, ..inner }))
    }

    /// One ingest transaction of `reports` reports that took `elapsed`; `committed` or not.
    pub fn ingest_batch(&self, reports: usize, elapsed: Duration, committed: bool) {
        self.0.ingest_batch_size.observe(reports as f64);
        self.0.ingest_commit.observe(elapsed.as_secs_f64());
        if committed {
            self.0.reports_ingested.inc_by(reports as u64);
        }
    }

    /// A report stored on its own after its batch failed.
    pub fn report_stored(&self) {
        self.0.reports_ingested.inc();
    }

    /// A refused report, by the answer's status.
    pub fn report_refused(&self, status: u16) {
        let reason = match status {
            400 => "malformed",
            401 => "unauthorized",
            403 => "forbidden",
            413 => "too_large",
            415 => "not_json",
            422 => "invalid",
            429 => "rate_limited",
            503 => "unavailable",
            _ => "error",
        };
        self.0.reports_refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    pub fn event(&self, event_type: EventType, severity: Severity) {
        let labels = EventLabels { r#type: event_type.as_str(), severity: severity.as_str() };
        self.0.events.get_or_create(&labels).inc();
    }

    pub fn notification(&self, channel: Channel, outcome: Outcome) {
        let labels = NotificationLabels { channel: channel.as_str(), outcome: outcome.as_str() };
        self.0.notifications.get_or_create(&labels).inc();
    }

    pub fn job_run(&self, job: &'static str, elapsed: Duration, ok: bool) {
        let label = JobLabel { job };
        self.0.job_runs.get_or_create(&label).inc();
        if !ok {
            self.0.job_failures.get_or_create(&label).inc();
        }
        self.0.job_duration.get_or_create(&label).observe(elapsed.as_secs_f64());
    }

    pub fn http_request(&self, method: &str, route: Arc<str>, status: u16, elapsed: Duration) {
        let method = method.to_string();
        self.0
            .http_duration
            .get_or_create(&RouteLabel { method: method.clone(), route: route.clone() })
            .observe(elapsed.as_secs_f64());
        self.0.http_requests.get_or_create(&HttpLabels { method, route, status }).inc();
    }

    /// A new lock-out: `scope` is `address` or `customer`.
    pub fn recovery_lockout(&self, scope: &'static str) {
        self.0.recovery_lockouts.get_or_create(&ScopeLabel { scope }).inc();
    }

    /// Sets the fleet gauges; every status has a series, zero when no node has it.
    pub fn set_fleet(&self, fleet: &FleetCounts) {
        for status in NodeStatus::ALL {
            let n = fleet.by_status.get(&status).copied().unwrap_or(0);
            self.0.nodes.get_or_create(&StatusLabel { status: status.as_str() }).set(n);
        }
        self.0.nodes_outdated.set(fleet.outdated);
        self.0.nodes_blocked.set(fleet.blocked);
    }

    /// Sets the pool and leadership gauges.
    pub fn set_replica(&self, pool_size: u32, pool_idle: usize, pool_max: u32, leads: bool) {
        let idle = pool_idle as i64;
        self.0.db_connections.get_or_create(&StateLabel { state: "idle" }).set(idle);
        self.0.db_connections.get_or_create(&StateLabel { state: "in_use" }).set((i64::from(pool_size) - idle).max(0));
        self.0.db_max_connections.set(i64::from(pool_max));
        self.0.scheduler_leader.set(i64::from(leads));
    }

    /// Everything in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.0.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Compares controller versions such as `1.4.2` and `v1.10.0` part by part, numbers as numbers.
pub fn version_key(version: &str) -> Vec<(u64, String)> {
    version
        .trim()
        .trim_start_matches(['v', 'V'])
        .split(['.', '-', '+'])
        .map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            (digits.parse().unwrap_or(0), part[digits.len()..].to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(version_key("1.10.0") > version_key("1.9.3"));
        assert!(version_key("v1.4.2") == version_key("1.4.2"));
        assert!(version_key("2.0.0") > version_key("1.99.99"));
    }

    #[test]
    fn names_follow_the_conventions() {
        let m = Metrics::new();
        m.ingest_batch(3, Duration::from_millis(4), true);
        m.job_run("prune", Duration::from_secs(2), false);
        m.report_refused(401);
        let text = m.encode();
        assert!(text.contains("felhom_hub_reports_ingested_total 3"), "{text}");
        assert!(text.contains("felhom_hub_reports_refused_total{reason=\"unauthorized\"} 1"), "{text}");
        assert!(text.contains("felhom_hub_ingest_commit_seconds_count 1"), "{text}");
        assert!(text.contains("felhom_hub_job_failures_total{job=\"prune\"} 1"), "{text}");
        assert!(text.contains("felhom_hub_job_duration_seconds_sum{job=\"prune\"} 2"), "{text}");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("felhom_hub_"), "{line}");
        }
    }
}
