//! One simulated controller: its machine (disks, apps, load), its daily rhythm, the way it may
//! fail, and the reports and events it produces. Everything random comes from a per-node ChaCha
//! stream seeded from the fleet seed, so a seed always yields the same fleet and the same history.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hub_shared::report::{BackupInfo, CheckInfo, ContainerInfo, Health, ReportIn, StorageInfo, SystemInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const GIB: u64 = 1 << 30;
const APPS: &[(&str, &str, &[&str])] = &[
    (
        "nextcloud",
        "Nextcloud",
        &[
            "docker.io/library/nextcloud:29-apache",
            "docker.io/library/mariadb:10.11",
            "docker.io/library/redis:7-alpine",
        ],
    ),
    (
        "immich",
        "Immich",
        &[
            "ghcr.io/immich-app/immich-server:v1.106.4",
            "ghcr.io/immich-app/immich-machine-learning:v1.106.4",
            "docker.io/tensorchord/pgvecto-rs:pg14-v0.2.0",
            "docker.io/library/redis:7-alpine",
        ],
    ),
    ("vaultwarden", "Vaultwarden", &["docker.io/vaultwarden/server:1.30.5"]),
    ("jellyfin", "Jellyfin", &["docker.io/jellyfin/jellyfin:10.9.6"]),
    (
        "paperless",
        "Paperless-ngx",
        &[
            "ghcr.io/paperless-ngx/paperless-ngx:2.8.6",
            "docker.io/library/postgres:16-alpine",
            "docker.io/library/redis:7-alpine",
            "docker.io/gotenberg/gotenberg:8.7",
        ],
    ),
    ("homeassistant", "Home Assistant", &["ghcr.io/home-assistant/home-assistant:2024.6"]),
    ("gitea", "Gitea", &["docker.io/gitea/gitea:1.22.0", "docker.io/library/postgres:16-alpine"]),
    ("uptime-kuma", "Uptime Kuma", &["docker.io/louislam/uptime-kuma:1.23.13"]),
    ("syncthing", "Syncthing", &["docker.io/syncthing/syncthing:1.27"]),
    ("photoprism", "PhotoPrism", &["docker.io/photoprism/photoprism:240420", "docker.io/library/mariadb:11"]),
    ("wordpress", "WordPress", &["docker.io/library/wordpress:6.5-apache", "docker.io/library/mariadb:10.11"]),
    ("mealie", "Mealie", &["ghcr.io/mealie-recipes/mealie:v1.9.0"]),
    ("onlyoffice", "OnlyOffice", &["docker.io/onlyoffice/documentserver:8.0", "docker.io/library/postgres:16-alpine"]),
    ("audiobookshelf", "Audiobookshelf", &["ghcr.io/advplyr/audiobookshelf:2.10.1"]),
    ("n8n", "n8n", &["docker.io/n8nio/n8n:1.45.1", "docker.io/library/postgres:16-alpine"]),
    ("adguard", "AdGuard Home", &["docker.io/adguard/adguardhome:v0.107.50"]),
];
/// Containers every node runs besides its apps.
const INFRA: &[(&str, &str)] = &[
    ("felhom-controller", "gitea.dooplex.hu/admin/felhom-controller:1.8.3"),
    ("traefik", "docker.io/library/traefik:v3.0"),
    ("cloudflared", "docker.io/cloudflare/cloudflared:2024.6.0"),
    ("watchtower", "docker.io/containrrr/watchtower:1.7.1"),
];
const HOSTS: &[&str] = &["felhom", "homeserver", "nas", "otthon", "szerver", "box", "cloud", "tarhely"];

/// How a node misbehaves, so every status and alert can be seen on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    None,
    /// Stops reporting at this time (a powered-off or disconnected node).
    Silent(i64),
    /// Every nightly backup fails.
    Backups,
    /// A check fails, so the node declares `health: fail`.
    Health,
}

#[derive(Debug, Clone)]
pub struct Disk {
    pub label: &'static str,
    pub role: &'static str,
    pub mount_point: &'static str,
    pub uuid: String,
    pub total: u64,
    pub used: f64,
    /// Bytes added per day.
    pub growth: f64,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub app: String,
    pub image: String,
    pub restarts: u32,
    /// Shown as `restarting`/`unhealthy` until this time (ms).
    pub troubled_until: i64,
}

/// An event a node posts to `POST /api/v1/event`.
#[derive(Debug, Clone, PartialEq)]
pub struct SimEvent {
    pub event_type: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub details: Value,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub customer_id: String,
    pub hostname: String,
    /// The node's own API key (Bearer on the controller side).
    pub key: String,
    pub version: String,
    pub controller_url: String,
    pub config_yaml: String,
    pub failure: Failure,
    pub disks: Vec<Disk>,
    pub containers: Vec<Container>,
    pub apps: Vec<(&'static str, &'static str)>,
    cpu_base: f64,
    cpu: f64,
    mem_total: u64,
    mem: f64,
    temp: f64,
    boot_at: i64,
    /// Minutes after midnight of the nightly backup and database dump.
    backup_minute: i64,
    dump_minute: i64,
    last_backup: Option<(i64, bool)>,
    last_dump: Option<(i64, bool)>,
    snapshots: u64,
    /// The node's clock (ms): the time of its last step.
    clock: i64,
    /// Events queued by the controller side (config applied, update done).
    pub pending: Vec<SimEvent>,
    rng: ChaCha8Rng,
}

impl Node {
    /// The `index`-th node of the fleet with `seed`, its clock at `start`; a node that goes
    /// silent stops a few hours before `now`.
    pub fn new(seed: u64, index: usize, controller_base: &str, start: DateTime<Utc>, now: DateTime<Utc>) -> Node {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let customer_id = format!("sim-{index:04}");
        let hostname = format!("{}-{index:04}", HOSTS[rng.gen_range(0..HOSTS.len())]);
        let key: String = (0..32).map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)])).collect();
        let version = ["1.8.3", "1.8.3", "1.8.3", "1.8.2", "1.7.9"][rng.gen_range(0..5)].to_string();
        let failure = match rng.gen_range(0..100) {
            0..=1 => Failure::Silent(now.timestamp_millis() - rng.gen_range(1..48) * 3_600_000),
            2..=3 => Failure::Backups,
            4 => Failure::Health,
            _ => Failure::None,
        };
        let data_total = [2u64, 4, 4, 8, 12][rng.gen_range(0..5)] * 1000 * GIB;
        let mut uuid = || {
            let h: String = (0..32).map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)])).collect();
            format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
        };
        let disks = vec![
            Disk {
                label: "system",
                role: "system",
                mount_point: "/",
                uuid: uuid(),
                total: 256 * GIB,
                used: 0.0,
                growth: 0.0,
            },
            Disk {
                label: "data",
                role: "data",
                mount_point: "/mnt/data",
                uuid: uuid(),
                total: data_total,
                used: 0.0,
                growth: 0.0,
            },
            Disk {
                label: "backup",
                role: "backup",
                mount_point: "/mnt/backup",
                uuid: uuid(),
                total: data_total,
                used: 0.0,
                growth: 0.0,
            },
        ];
        let mut node = Node {
            controller_url: format!("{controller_base}/c/{customer_id}"),
            customer_id,
            hostname,
            key,
            version,
            config_yaml: String::new(),
            failure,
            disks,
            containers: Vec::new(),
            apps: Vec::new(),
            cpu_base: 0.0,
            cpu: 0.0,
            mem_total: 8 * GIB,
            mem: 0.0,
            temp: 0.0,
            boot_at: 0,
            backup_minute: 0,
            dump_minute: 0,
            last_backup: None,
            last_dump: None,
            snapshots: 0,
            clock: start.timestamp_millis(),
            pending: Vec::new(),
            rng,
        };
        node.furnish(start.timestamp_millis());
        node
    }

    /// Chooses the apps and the starting load of the machine.
    fn furnish(&mut self, start: i64) {
        let rng = &mut self.rng;
        self.mem_total = [8u64, 16, 16, 32][rng.gen_range(0..4)] * GIB;
        self.cpu_base = rng.gen_range(3.0..25.0);
        self.cpu = self.cpu_base;
        self.mem = rng.gen_range(0.3..0.7);
        self.temp = rng.gen_range(38.0..52.0);
        self.boot_at = start - rng.gen_range(1..60) * 86_400_000;
        self.backup_minute = rng.gen_range(30..240);
        self.dump_minute = self.backup_minute - rng.gen_range(5..25);
        self.snapshots = rng.gen_range(10..200);
        let near_full = rng.gen_bool(0.04);
        for disk in &mut self.disks {
            let share = if near_full && disk.role == "data" { 0.84 } else { rng.gen_range(0.1..0.7) };
            disk.used = disk.total as f64 * share;
            disk.growth = disk.total as f64 * rng.gen_range(0.0002..0.002);
        }
        let n_apps = rng.gen_range(8..13);
        let mut picks: Vec<usize> = (0..APPS.len()).collect();
        for i in 0..n_apps {
            let j = rng.gen_range(i..picks.len());
            picks.swap(i, j);
        }
        for &(name, image) in INFRA {
            self.containers.push(Container {
                name: name.into(),
                app: "felhom".into(),
                image: image.into(),
                restarts: 0,
                troubled_until: 0,
            });
        }
        for &p in &picks[..n_apps] {
            let (app, display, images) = APPS[p];
            self.apps.push((app, display));
            for (k, image) in images.iter().enumerate() {
                let role = image.rsplit('/').next().unwrap_or(image).split(':').next().unwrap_or("app");
                let name = if k == 0 { format!("{app}-app") } else { format!("{app}-{role}") };
                self.containers.push(Container {
                    name,
                    app: app.into(),
                    image: (*image).into(),
                    restarts: 0,
                    troubled_until: 0,
                });
            }
        }
        self.config_yaml = self.render_config();
    }

    fn render_config(&self) -> String {
        let apps: Vec<String> = self.apps.iter().map(|(a, _)| format!("  - {a}")).collect();
        format!(
            "customer:\n  id: {}\n  hostname: {}\nhub:\n  report_interval: 15m\nbackup:\n  schedule: \"{:02}:{:02}\"\napps:\n{}\n",
            self.customer_id,
            self.hostname,
            self.backup_minute / 60,
            self.backup_minute % 60,
            apps.join("\n")
        )
    }

    /// Whether the node reports at `t` (ms): a silent node has stopped.
    pub fn reports_at(&self, t: i64) -> bool {
        !matches!(self.failure, Failure::Silent(since) if t >= since)
    }

    /// Advances the node's clock to `t` (ms): load wanders, disks fill, nightly jobs run.
    /// Returns the events that happened on the way (the controller side's queued ones included).
    pub fn advance(&mut self, t: i64) -> Vec<SimEvent> {
        let mut events = std::mem::take(&mut self.pending);
        let from = self.clock;
        if t <= from {
            return events;
        }
        let days = (t - from) as f64 / 86_400_000.0;
        self.clock = t;
        let hour = ((t / 3_600_000) % 24) as f64;
        let daily = 1.0 + 0.6 * (-((hour - 20.0) / 4.0).powi(2)).exp();
        let target = self.cpu_base * daily;
        self.cpu = (self.cpu + (target - self.cpu) * 0.3 + self.rng.gen_range(-4.0..4.0)).clamp(0.5, 100.0);
        self.mem = (self.mem + self.rng.gen_range(-0.02..0.02)).clamp(0.15, 0.97);
        self.temp = (self.temp + self.rng.gen_range(-1.0..1.0)).clamp(30.0, 85.0);
        for disk in &mut self.disks {
            let used = disk.used + disk.growth * days * self.rng.gen_range(0.0..2.0);
            disk.used = used.min(disk.total as f64 * 0.995);
        }
        for (minute, dump) in [(self.dump_minute, true), (self.backup_minute, false)] {
            let Some(at) = crossing(from, t, minute) else { continue };
            let ok = self.failure != Failure::Backups && !self.rng.gen_bool(0.01);
            events.push(self.nightly(at, dump, ok));
        }
        // About one container restart per node every two days.
        if self.rng.gen_bool((0.5 * days).min(1.0)) {
            let i = self.rng.gen_range(0..self.containers.len());
            let c = &mut self.containers[i];
            c.restarts += 1;
            c.troubled_until = t + 20 * 60_000;
            events.push(SimEvent {
                event_type: "container_restarted",
                severity: "warning",
                message: format!("{} restarted", c.name),
                details: json!({ "container": c.name, "app": c.app, "restart_count": c.restarts }),
                occurred_at: at_ms(t),
            });
        }
        let data = &self.disks[1];
        let pct = data.used * 100.0 / data.total as f64;
        if pct >= 85.0 && crossing(from, t, 12 * 60).is_some() {
            let (event_type, severity) =
                if pct >= 95.0 { ("disk_space_critical", "error") } else { ("disk_space_warning", "warning") };
            events.push(SimEvent {
                event_type,
                severity,
                message: format!("{} is {pct:.0}% full", data.mount_point),
                details: json!({ "mount_point": data.mount_point, "used_percent": (pct * 10.0).round() / 10.0 }),
                occurred_at: at_ms(t),
            });
        }
        events
    }

    fn nightly(&mut self, at: i64, dump: bool, ok: bool) -> SimEvent {
        let kind = if dump { "dbdump" } else { "backup" };
        let duration_s = self.rng.gen_range(40..1800);
        if dump {
            self.last_dump = Some((at, ok));
        } else {
            self.last_backup = Some((at, ok));
            if ok {
                self.snapshots += 1;
            }
        }
        let (event_type, severity, message) = match (dump, ok) {
            (true, true) => ("dbdump_completed", "info", "Database dumps completed".to_string()),
            (true, false) => ("dbdump_failed", "error", "Database dump failed: mariadb not responding".into()),
            (false, true) => ("backup_completed", "info", format!("Backup completed in {duration_s} s")),
            (false, false) => ("backup_failed", "error", "Backup failed: repository locked".into()),
        };
        SimEvent {
            event_type,
            severity,
            message,
            details: json!({ "job": kind, "duration_seconds": duration_s, "snapshots": self.snapshots }),
            occurred_at: at_ms(at),
        }
    }

    /// The node's report, stamped `reported_at`.
    pub fn report(&self, reported_at: DateTime<Utc>) -> ReportIn {
        let t = self.clock;
        let failing = self.failure == Failure::Health;
        let containers: Vec<ContainerInfo> = self
            .containers
            .iter()
            .map(|c| {
                let troubled = c.troubled_until > t;
                ContainerInfo {
                    name: c.name.clone(),
                    app: Some(c.app.clone()),
                    image: Some(c.image.clone()),
                    state: Some(if troubled { "restarting" } else { "running" }.into()),
                    health: Some(if troubled { "unhealthy" } else { "healthy" }.into()),
                    restart_count: Some(c.restarts),
                }
            })
            .collect();
        let troubled = containers.iter().filter(|c| c.state.as_deref() != Some("running")).count();
        let data_pct = self.disks[1].used * 100.0 / self.disks[1].total as f64;
        let backup_ok = self.last_backup.is_none_or(|(_, ok)| ok);
        let mut checks = vec![
            check("docker", Health::Ok, "docker daemon running"),
            check(
                "disk_space",
                if data_pct >= 85.0 { Health::Warn } else { Health::Ok },
                &format!("data {data_pct:.0}% used"),
            ),
            check(
                "backup",
                if backup_ok { Health::Ok } else { Health::Fail },
                if backup_ok { "last backup ok" } else { "last backup failed" },
            ),
            check(
                "containers",
                if troubled > 0 { Health::Warn } else { Health::Ok },
                &format!("{troubled} containers restarting"),
            ),
            check("tunnel", Health::Ok, "cloudflared connected"),
            check(
                "smart",
                if failing { Health::Fail } else { Health::Ok },
                if failing { "/dev/sdb: reallocated sectors" } else { "all drives pass" },
            ),
        ];
        if self.temp > 75.0 {
            checks.push(check("temperature", Health::Warn, &format!("{:.0} °C", self.temp)));
        }
        let health = checks.iter().map(|c| c.status).max_by_key(|h| *h as u8).unwrap_or_default();
        ReportIn {
            customer_id: self.customer_id.clone(),
            hostname: Some(self.hostname.clone()),
            controller_version: Some(self.version.clone()),
            controller_url: Some(self.controller_url.clone()),
            reported_at: Some(reported_at),
            health: Some(health),
            monitoring_enabled: true,
            system: Some(SystemInfo {
                cpu_percent: Some(round1(self.cpu)),
                load_1: Some(round2(self.cpu / 25.0)),
                load_5: Some(round2(self.cpu / 27.0)),
                load_15: Some(round2(self.cpu / 30.0)),
                memory_used_bytes: Some((self.mem * self.mem_total as f64) as u64),
                memory_total_bytes: Some(self.mem_total),
                uptime_seconds: Some(((t - self.boot_at) / 1000).max(0) as u64),
                os: Some("Debian GNU/Linux 12 (bookworm)".into()),
                kernel: Some("6.1.0-21-amd64".into()),
                temperature_c: Some(round1(self.temp)),
            }),
            storage: self
                .disks
                .iter()
                .map(|d| StorageInfo {
                    label: Some(d.label.into()),
                    uuid: Some(d.uuid.clone()),
                    mount_point: Some(d.mount_point.into()),
                    role: Some(d.role.into()),
                    total_bytes: Some(d.total),
                    used_bytes: Some(d.used as u64),
                    smart_ok: Some(!(failing && d.role == "data")),
                })
                .collect(),
            containers,
            backup: Some(BackupInfo {
                last_backup_at: self.last_backup.map(|(at, _)| at_ms(at)),
                last_backup_ok: self.last_backup.map(|(_, ok)| ok),
                last_dbdump_at: self.last_dump.map(|(at, _)| at_ms(at)),
                last_dbdump_ok: self.last_dump.map(|(_, ok)| ok),
                snapshot_count: Some(self.snapshots),
                repository_size_bytes: Some((self.disks[2].used * 0.8) as u64),
            }),
            checks,
        }
    }

    /// The compact numbers a report leaves in history: CPU, memory and fullest-disk percent.
    pub fn chart_numbers(&self) -> (f64, f64, f64) {
        let disk = self.disks.iter().map(|d| d.used * 100.0 / d.total as f64).fold(0.0, f64::max);
        (round1(self.cpu), self.mem * 100.0, disk)
    }

    /// Applies a new controller config (from the hub), queuing a `config_applied` event.
    pub fn apply_config(&mut self, yaml: String, now: DateTime<Utc>) {
        self.config_yaml = yaml;
        self.pending.push(SimEvent {
            event_type: "config_applied",
            severity: "info",
            message: "Configuration applied".into(),
            details: json!({}),
            occurred_at: now,
        });
    }

    /// Updates the controller to `version` (the next patch release when `None`).
    pub fn update(&mut self, version: Option<String>, now: DateTime<Utc>) -> String {
        let from = self.version.clone();
        self.version = version.unwrap_or_else(|| next_patch(&from));
        self.pending.push(SimEvent {
            event_type: "controller_updated",
            severity: "info",
            message: format!("Controller updated from {from} to {}", self.version),
            details: json!({ "from": from, "to": self.version }),
            occurred_at: now,
        });
        self.version.clone()
    }
}

/// The moment in `(from, to]` that falls `minute` minutes after a UTC midnight, if any.
fn crossing(from: i64, to: i64, minute: i64) -> Option<i64> {
    const DAY: i64 = 86_400_000;
    let offset = minute * 60_000;
    let candidate = (to - offset).div_euclid(DAY) * DAY + offset;
    (candidate > from && candidate <= to).then_some(candidate)
}

/// The next patch release after `version` (`1.8.4` when it is not `x.y.z`).
pub fn next_patch(version: &str) -> String {
    let mut parts: Vec<u64> = version.split('.').filter_map(|p| p.parse().ok()).collect();
    if parts.len() != 3 {
        return "1.8.4".into();
    }
    parts[2] += 1;
    format!("{}.{}.{}", parts[0], parts[1], parts[2])
}

fn check(name: &str, status: Health, message: &str) -> CheckInfo {
    CheckInfo { name: name.into(), status, message: Some(message.into()) }
}

pub fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The whole fleet, its clocks at `start`.
pub fn fleet(seed: u64, nodes: usize, controller_base: &str, start: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Node> {
    (0..nodes).map(|i| Node::new(seed, i, controller_base, start, now)).collect()
}

/// A step of `interval` from `start` to `end`, inclusive of `end` when it falls on a step.
pub fn steps(start: DateTime<Utc>, end: DateTime<Utc>, interval: Duration) -> impl Iterator<Item = DateTime<Utc>> {
    let n = ((end - start).num_milliseconds() / interval.num_milliseconds().max(1)).max(0);
    (0..=n).map(move |i| start + interval * i as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn run(seed: u64) -> (Vec<String>, Vec<SimEvent>) {
        let start = t0();
        let now = start + Duration::days(2);
        let mut nodes = fleet(seed, 10, "http://127.0.0.1:1", start, now);
        let mut events = Vec::new();
        let mut reports = Vec::new();
        for t in steps(start, now, Duration::minutes(15)) {
            for n in &mut nodes {
                events.extend(n.advance(t.timestamp_millis()));
                reports.push(serde_json::to_string(&n.report(t)).unwrap());
            }
        }
        (reports, events)
    }

    #[test]
    fn the_same_seed_gives_the_same_fleet_and_history() {
        let (a, ea) = run(7);
        let (b, eb) = run(7);
        assert_eq!(a, b);
        assert_eq!(ea, eb);
        let (c, _) = run(8);
        assert_ne!(a, c);
    }

    #[test]
    fn reports_are_valid_and_about_five_kilobytes() {
        let (reports, _) = run(1);
        let mut total = 0;
        for json in &reports {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let (r, warnings) = ReportIn::read(&value).unwrap();
            assert_eq!(warnings, Vec::<String>::new(), "nothing dropped");
            assert!(r.system.is_some() && r.storage.len() == 3 && !r.containers.is_empty());
            total += json.len();
        }
        let avg = total / reports.len();
        assert!((4000..=6500).contains(&avg), "average report is {avg} bytes");
    }

    #[test]
    fn nightly_backups_happen_once_a_day_and_failures_show() {
        let (_, events) = run(1);
        let backups = events.iter().filter(|e| e.event_type.starts_with("backup_")).count();
        // 10 nodes, two nights each.
        assert_eq!(backups, 20);
        let mut nodes = fleet(3, 200, "http://x", t0(), t0());
        assert!(nodes.iter().any(|n| matches!(n.failure, Failure::Silent(_))));
        assert!(nodes.iter().any(|n| n.failure == Failure::Backups));
        let failing = nodes.iter_mut().find(|n| n.failure == Failure::Health).unwrap();
        assert_eq!(failing.report(t0()).health, Some(Health::Fail));
    }

    #[test]
    fn crossing_finds_the_daily_minute() {
        let day = 86_400_000;
        let base = 10 * day;
        assert_eq!(crossing(base, base + 3_600_000, 30), Some(base + 30 * 60_000));
        assert_eq!(crossing(base + 31 * 60_000, base + 3_600_000, 30), None);
        assert_eq!(crossing(base - 1000, base, 0), Some(base));
    }

    #[test]
    fn update_bumps_the_version_and_queues_an_event() {
        let mut n = Node::new(1, 0, "http://x", t0(), t0());
        n.version = "1.8.3".into();
        assert_eq!(n.update(None, t0()), "1.8.4");
        assert_eq!(n.report(t0()).controller_version.as_deref(), Some("1.8.4"));
        let events = n.advance(t0().timestamp_millis() + 1);
        assert_eq!(events[0].event_type, "controller_updated");
    }
}
