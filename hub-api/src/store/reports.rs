//! Reports: the latest full report per customer and the compact history the charts draw.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Utc};
use hub_shared::report::{Health, ReportIn, HEALTH_UNKNOWN};
use hub_shared::stream::StreamKind;
use sqlx::pool::PoolConnection;
use sqlx::{Any, FromRow, Transaction};

use super::{permille, Result, RowKey, Store};

/// A report prepared for storage: the denormalized numbers plus the JSON as it arrived.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub customer_id: String,
    pub hostname: Option<String>,
    pub controller_version: Option<String>,
    pub controller_url: Option<String>,
    pub health: &'static str,
    pub monitoring_enabled: bool,
    pub reported_at: i64,
    pub received_at: i64,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub disk_percent: Option<f64>,
    pub containers_running: Option<i64>,
    pub containers_total: Option<i64>,
    pub last_backup_at: Option<i64>,
    pub last_backup_ok: Option<bool>,
    pub report_json: String,
    /// Sent with the customer's own API key (not the global key). Only such a report may set
    /// the first controller address of a customer whose config has a key; see [`insert_report`].
    pub own_key: bool,
}

impl ReportRow {
    /// Prepares a report for storage, received at `now` (ms); `own_key` as [`ReportRow::own_key`].
    pub fn from_report(report: &ReportIn, report_json: String, own_key: bool, now: i64) -> ReportRow {
        let reported_at = report.reported_at.map(|t| t.timestamp_millis()).filter(|t| *t <= now).unwrap_or(now);
        let (running, total) = report.container_counts();
        let backup = report.backup.as_ref();
        ReportRow {
            customer_id: report.customer_id.clone(),
            hostname: report.hostname.clone(),
            controller_version: report.controller_version.clone(),
            controller_url: report.controller_url.clone(),
            health: report.health.map_or(HEALTH_UNKNOWN, Health::as_str),
            monitoring_enabled: report.monitoring_enabled,
            reported_at,
            received_at: now,
            cpu_percent: report.system.as_ref().and_then(|s| s.cpu_percent),
            memory_percent: report.memory_percent(),
            disk_percent: report.fullest_disk_percent(),
            containers_running: Some(i64::from(running)),
            containers_total: Some(i64::from(total)),
            last_backup_at: backup.and_then(|b| b.last_backup_at).map(|t| t.timestamp_millis()),
            last_backup_ok: backup.and_then(|b| b.last_backup_ok),
            report_json,
            own_key,
        }
    }
}

/// The latest report of a customer, as the overview reads it.
#[derive(Debug, Clone, FromRow)]
pub struct LatestRow {
    pub customer_id: String,
    pub hostname: Option<String>,
    pub controller_version: Option<String>,
    pub controller_url: Option<String>,
    pub health: String,
    pub monitoring_enabled: i64,
    pub reported_at: i64,
    pub received_at: i64,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub disk_percent: Option<f64>,
    pub containers_running: Option<i64>,
    pub containers_total: Option<i64>,
    pub last_backup_at: Option<i64>,
    /// 0/1 (booleans are integers in the store).
    pub last_backup_ok: Option<i64>,
    /// The controller address the hub calls (the first reported, or the operator's accepted).
    pub accepted_controller_url: Option<String>,
}

impl LatestRow {
    fn key(&self) -> RowKey {
        RowKey::new("report_latest", &self.customer_id)
    }

    /// The node's health; `None` when its report had none (counted as WARN by the status rule).
    pub fn health(&self) -> Result<Option<Health>> {
        if self.health == HEALTH_UNKNOWN {
            return Ok(None);
        }
        self.key().known("health", &self.health, Health::parse).map(Some)
    }

    /// When the latest report arrived.
    pub fn received_time(&self) -> Result<DateTime<Utc>> {
        self.key().time("received_at", self.received_at)
    }

    /// The reported controller address when it differs from the accepted one.
    pub fn pending_controller_url(&self) -> Option<&str> {
        let reported = self.controller_url.as_deref().filter(|u| !u.trim().is_empty())?;
        (self.accepted_controller_url.as_deref() != Some(reported)).then_some(reported)
    }

    /// When the node's last backup ran, as the report says.
    pub fn last_backup_time(&self) -> Result<Option<DateTime<Utc>>> {
        self.last_backup_at.map(|ms| self.key().time("last_backup_at", ms)).transpose()
    }
}

const LATEST_COLUMNS: &str = "customer_id, hostname, controller_version, controller_url, health, \
    monitoring_enabled, reported_at, received_at, cpu_percent, memory_percent, disk_percent, \
    containers_running, containers_total, last_backup_at, last_backup_ok, accepted_controller_url";

/// One bucket of history, averaged.
#[derive(Debug, Clone, FromRow)]
pub struct HistoryRow {
    pub t: i64,
    pub cpu: Option<f64>,
    pub mem: Option<f64>,
    pub disk: Option<f64>,
    pub n: i64,
}

/// One history point for bulk loading: what a report leaves in `reports`.
#[derive(Debug, Clone)]
pub struct HistoryInsert {
    pub customer_id: String,
    pub reported_at: i64,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub disk_percent: Option<f64>,
}

/// Rows per multi-row INSERT in [`Store::insert_history_bulk`] (5 binds each).
const BULK_ROWS: usize = 200;

impl Store {
    /// Switches a SQLite store of one connection into bulk loading (the storage benchmark's
    /// fill): a page cache of `cache_kib`, no fsync, the rollback journal in memory; `false`
    /// goes back to WAL, as the hub opens it. Nothing written meanwhile survives a crash.
    pub async fn sqlite_bulk_load(&self, on: bool, cache_kib: u64) -> Result<()> {
        let pragmas = if on {
            vec![
                format!("PRAGMA cache_size = -{cache_kib}"),
                "PRAGMA synchronous = OFF".into(),
                "PRAGMA journal_mode = MEMORY".into(),
            ]
        } else {
            vec!["PRAGMA journal_mode = WAL".to_string(), "PRAGMA synchronous = FULL".into()]
        };
        for pragma in pragmas {
            sqlx::query(&pragma).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Adds history points in one transaction, many rows per statement; points already stored
    /// are kept. For bulk loading (the storage benchmark), not for ingest.
    pub async fn insert_history_bulk(&self, rows: &[HistoryInsert]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(BULK_ROWS) {
            let sql = format!(
                "INSERT INTO reports (customer_id, reported_at, cpu_pm, mem_pm, disk_pm) VALUES {} \
                 ON CONFLICT (customer_id, reported_at) DO NOTHING",
                Marks::new(tx.backend_name()).rows(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = bind_history(
                    query,
                    &row.customer_id,
                    row.reported_at,
                    [row.cpu_percent, row.memory_percent, row.disk_percent],
                );
            }
            query.execute(&mut *tx).await?;
        }
        Ok(tx.commit().await?)
    }

    /// Writes reports in one transaction: each updates the customer's latest report (unless a
    /// newer one is already stored) and adds a history row (a re-sent report replaces its row).
    pub async fn insert_reports(&self, rows: &[&ReportRow]) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        self.insert_reports_on(&mut conn, rows).await
    }

    /// [`Store::insert_reports`] on a connection the caller keeps (the ingest writer's own).
    pub async fn insert_reports_on(&self, conn: &mut PoolConnection<Any>, rows: &[&ReportRow]) -> Result<()> {
        let mut tx = sqlx::Connection::begin(&mut **conn).await?;
        // The live stream learns that the customers' statuses may have changed: one message per
        // customer of the batch, with its newest report.
        write_reports(&mut tx, rows, true).await?;
        tx.commit().await?;
        self.touch_fleet();
        Ok(())
    }

    pub async fn latest_reports(&self) -> Result<Vec<LatestRow>> {
        Ok(sqlx::query_as(&format!("SELECT {LATEST_COLUMNS} FROM report_latest")).fetch_all(&self.pool).await?)
    }

    /// The summary of a customer's latest report, without its JSON.
    pub async fn latest_row(&self, customer_id: &str) -> Result<Option<LatestRow>> {
        Ok(sqlx::query_as(&format!("SELECT {LATEST_COLUMNS} FROM report_latest WHERE customer_id = $1"))
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The summary of a customer's latest report and its JSON as it arrived.
    pub async fn latest_report(&self, customer_id: &str) -> Result<Option<(LatestRow, String)>> {
        // One statement, so the summary and the JSON come from the same report (both are
        // written in the same transaction, under the same rule).
        let row: Option<sqlx::any::AnyRow> = sqlx::query(&format!(
            "SELECT {LATEST_COLUMNS}, (SELECT b.report_json FROM report_bodies b \
             WHERE b.customer_id = report_latest.customer_id) AS report_json \
             FROM report_latest WHERE customer_id = $1"
        ))
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let latest = LatestRow::from_row(&row)?;
        let json: Option<String> = sqlx::Row::try_get(&row, "report_json")?;
        let json =
            json.ok_or_else(|| RowKey::new("report_bodies", customer_id).corrupt("the report's JSON is missing"))?;
        Ok(Some((latest, json)))
    }

    /// History of one customer since `since`, averaged into buckets of `bucket_ms`.
    pub async fn history(&self, customer_id: &str, since: i64, bucket_ms: i64) -> Result<Vec<HistoryRow>> {
        Ok(sqlx::query_as(
            "SELECT (reported_at / $3) * $3 AS t, \
                CAST(AVG(cpu_pm) AS DOUBLE PRECISION) / 10.0 AS cpu, \
                CAST(AVG(mem_pm) AS DOUBLE PRECISION) / 10.0 AS mem, \
                CAST(AVG(disk_pm) AS DOUBLE PRECISION) / 10.0 AS disk, \
                COUNT(*) AS n \
             FROM reports WHERE customer_id = $1 AND reported_at >= $2 \
             GROUP BY 1 ORDER BY 1",
        )
        .bind(customer_id)
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether the customer has ever reported.
    pub async fn has_reported(&self, customer_id: &str) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT received_at FROM report_latest WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

/// Writes one report inside a transaction (see [`Store::insert_reports`]); the import of the
/// original hub's data writes its customers' last reports with it.
///
/// The first controller address reported becomes the accepted one (the address the hub calls,
/// and sends the customer's config, key and tokens to), but for a customer whose config has its
/// own API key only when the report came with that key: the global key may post for any
/// customer, so its first address is stored as a pending change for the operator to accept.
/// Decided inside the upsert, so ingest adds no statement.
pub(crate) async fn insert_report(tx: &mut Transaction<'static, Any>, row: &ReportRow) -> Result<()> {
    write_reports(tx, &[row], false).await
}

/// The start of the `report_latest` insert; the rows' placeholders follow, in [`write_reports`]'s
/// bind order.
const LATEST_INSERT: &str =
    "INSERT INTO report_latest (customer_id, hostname, controller_version, controller_url, health, \
    monitoring_enabled, reported_at, received_at, cpu_percent, memory_percent, disk_percent, \
    containers_running, containers_total, last_backup_at, last_backup_ok, accepted_controller_url) VALUES ";

/// What a report changes in its customer's latest row, unless a newer report is stored.
const LATEST_UPSERT: &str = " ON CONFLICT (customer_id) DO UPDATE SET hostname = excluded.hostname, \
    controller_version = excluded.controller_version, controller_url = excluded.controller_url, \
    health = excluded.health, monitoring_enabled = excluded.monitoring_enabled, \
    reported_at = excluded.reported_at, received_at = excluded.received_at, \
    cpu_percent = excluded.cpu_percent, memory_percent = excluded.memory_percent, \
    disk_percent = excluded.disk_percent, containers_running = excluded.containers_running, \
    containers_total = excluded.containers_total, last_backup_at = excluded.last_backup_at, \
    last_backup_ok = excluded.last_backup_ok, \
    accepted_controller_url = COALESCE(report_latest.accepted_controller_url, excluded.accepted_controller_url) \
    WHERE excluded.reported_at >= report_latest.reported_at";

/// The body of each customer's newest report, replaced under the same rule as its summary row.
const BODY_UPSERT: &str = " ON CONFLICT (customer_id) DO UPDATE SET reported_at = excluded.reported_at, \
    report_json = excluded.report_json WHERE excluded.reported_at >= report_bodies.reported_at";

/// One row of the `report_latest` insert, its binds in this order: the report's 15 columns, then
/// whether it came with the customer's own key, the customer id and the controller address again,
/// which decide the first accepted address (see [`insert_report`]).
fn latest_row(marks: &mut Marks) -> String {
    let mut out = String::from("(");
    for _ in 0..15 {
        out.push_str(&marks.next());
        out.push_str(", ");
    }
    let (own_key, id, url) = (marks.next(), marks.next(), marks.next());
    out.push_str(&format!(
        "CASE WHEN {own_key} = 1 OR NOT EXISTS (SELECT 1 FROM customer_configs \
         WHERE customer_id = {id} AND api_key_hash IS NOT NULL) THEN {url} END)"
    ));
    out
}

/// The most customers in one chunk of a batch (18 binds per `report_latest` row, 3 per body, 2 per
/// arrival, 5 per history row, 4 per stream message), and the most history rows in one statement
/// when a customer sent several reports. Chunks have few lengths ([`sqlite_ranges`], powers of two
/// on PostgreSQL), so each connection prepares a handful of statement shapes and reuses them.
const LATEST_ROWS: usize = 64;
const ROWS: usize = 256;

/// What a batch of reports writes, one statement per table and chunk instead of three per report,
/// with the same result as writing them one by one in order.
struct Batch<'a> {
    /// Each customer's newest report of the batch (the last of equals).
    latest: Vec<&'a ReportRow>,
    /// Each customer's latest arrival in the batch.
    received: Vec<(&'a str, i64)>,
    /// The last report of each customer and report time (a re-sent report replaces its row).
    history: Vec<&'a ReportRow>,
}

impl<'a> Batch<'a> {
    fn of(rows: &[&'a ReportRow]) -> Batch<'a> {
        let mut latest: Vec<&ReportRow> = Vec::new();
        let mut received: Vec<(&str, i64)> = Vec::new();
        let mut by_customer: HashMap<&str, usize> = HashMap::new();
        let mut history: Vec<&ReportRow> = Vec::new();
        let mut by_time: HashMap<(&str, i64), usize> = HashMap::new();
        for &row in rows {
            let id = row.customer_id.as_str();
            match by_customer.get(id) {
                Some(&i) => {
                    if row.reported_at >= latest[i].reported_at {
                        latest[i] = row;
                    }
                    received[i].1 = received[i].1.max(row.received_at);
                }
                None => {
                    by_customer.insert(id, latest.len());
                    latest.push(row);
                    received.push((id, row.received_at));
                }
            }
            match by_time.get(&(id, row.reported_at)) {
                Some(&i) => history[i] = row,
                None => {
                    by_time.insert((id, row.reported_at), history.len());
                    history.push(row);
                }
            }
        }
        Batch { latest, received, history }
    }
}

/// `items` in chunks whose lengths are powers of two, at most `max` (a power of two) each.
fn pow2_chunks<T>(mut items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let n = max.min(1 << items.len().ilog2());
        let (chunk, rest) = items.split_at(n);
        items = rest;
        Some(chunk)
    })
}

/// The placeholders of a statement, each bound once in the order they appear: `?` on SQLite,
/// `$1, $2, …` on PostgreSQL. sqlx asks SQLite for the name of every numbered parameter, which
/// SQLite finds by a linear search, so numbered placeholders make binding a statement quadratic
/// in its parameters (most of the time of a 1,000-parameter insert); anonymous ones are not
/// searched.
struct Marks {
    numbered: bool,
    count: usize,
}

impl Marks {
    /// For the backend named `backend` (sqlx's `backend_name()`).
    fn new(backend: &str) -> Marks {
        Marks { numbered: backend != "SQLite", count: 0 }
    }

    fn next(&mut self) -> String {
        self.count += 1;
        if self.numbered {
            format!("${}", self.count)
        } else {
            "?".to_string()
        }
    }

    /// `rows` groups of `cols` placeholders: `($1, $2), ($3, $4)`.
    fn rows(&mut self, rows: usize, cols: usize) -> String {
        let groups: Vec<String> =
            (0..rows).map(|_| format!("({})", (0..cols).map(|_| self.next()).collect::<Vec<_>>().join(", "))).collect();
        groups.join(", ")
    }
}

/// What one statement of a batch writes (see [`write_reports`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// Each customer's newest report of the batch into `report_latest`, unless a newer one is stored.
    Latest,
    /// Their bodies into `report_bodies`, under the same rule.
    Body,
    /// Every customer's latest arrival: an older report (a backfill, or a controller whose clock
    /// went back) leaves the latest content alone, but it still proves the node is alive now.
    Received,
    /// A history row per report (a re-sent report replaces its row).
    History,
    /// A live-stream status message per customer.
    Stream,
}

impl Part {
    /// The statement for `rows` rows, its placeholders taken from `marks`.
    fn sql(self, rows: usize, marks: &mut Marks) -> String {
        match self {
            Part::Latest => {
                let values: Vec<String> = (0..rows).map(|_| latest_row(marks)).collect();
                format!("{LATEST_INSERT}{}{LATEST_UPSERT}", values.join(", "))
            }
            Part::Body => format!(
                "INSERT INTO report_bodies (customer_id, reported_at, report_json) VALUES {}{BODY_UPSERT}",
                marks.rows(rows, 3)
            ),
            Part::Received => format!(
                "UPDATE report_latest SET received_at = v.column2 FROM (VALUES {}) AS v \
                 WHERE report_latest.customer_id = v.column1 AND report_latest.received_at < v.column2",
                marks.rows(rows, 2)
            ),
            Part::History => format!(
                "INSERT INTO reports (customer_id, reported_at, cpu_pm, mem_pm, disk_pm) VALUES {} \
                 ON CONFLICT (customer_id, reported_at) DO UPDATE SET cpu_pm = excluded.cpu_pm, \
                    mem_pm = excluded.mem_pm, disk_pm = excluded.disk_pm",
                marks.rows(rows, 5)
            ),
            Part::Stream => format!(
                "INSERT INTO stream_log (kind, customer_id, data_json, created_at) VALUES {}",
                marks.rows(rows, 4)
            ),
        }
    }

    /// Binds the values of the batch's rows `range` in the order of [`Part::sql`].
    fn bind<'q>(self, mut query: Query<'q>, batch: &Batch<'q>, range: Range<usize>) -> Query<'q> {
        match self {
            Part::Latest => {
                for row in &batch.latest[range] {
                    query = query
                        .bind(&row.customer_id)
                        .bind(&row.hostname)
                        .bind(&row.controller_version)
                        .bind(&row.controller_url)
                        .bind(row.health)
                        .bind(i64::from(row.monitoring_enabled))
                        .bind(row.reported_at)
                        .bind(row.received_at)
                        .bind(row.cpu_percent)
                        .bind(row.memory_percent)
                        .bind(row.disk_percent)
                        .bind(row.containers_running)
                        .bind(row.containers_total)
                        .bind(row.last_backup_at)
                        .bind(row.last_backup_ok.map(i64::from))
                        .bind(i64::from(row.own_key))
                        .bind(&row.customer_id)
                        .bind(&row.controller_url);
                }
            }
            Part::Body => {
                for row in &batch.latest[range] {
                    query = query.bind(&row.customer_id).bind(row.reported_at).bind(&row.report_json);
                }
            }
            Part::Received => {
                for (customer_id, received_at) in &batch.received[range] {
                    query = query.bind(*customer_id).bind(*received_at);
                }
            }
            Part::History => {
                for row in &batch.history[range] {
                    query = bind_history(
                        query,
                        &row.customer_id,
                        row.reported_at,
                        [row.cpu_percent, row.memory_percent, row.disk_percent],
                    );
                }
            }
            Part::Stream => {
                for row in &batch.latest[range] {
                    let data = serde_json::json!({ "health": row.health, "reported_at": row.reported_at });
                    query = query
                        .bind(StreamKind::Status.as_str())
                        .bind(&row.customer_id)
                        .bind(data.to_string())
                        .bind(row.received_at);
                }
            }
        }
        query
    }
}

type Query<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// Binds one history row: the customer, the report time and cpu, memory and disk in permille.
fn bind_history<'q>(query: Query<'q>, customer_id: &'q str, reported_at: i64, percents: [Option<f64>; 3]) -> Query<'q> {
    percents.into_iter().fold(query.bind(customer_id).bind(reported_at), |query, p| query.bind(permille(p)))
}

/// `0..len` in ranges whose lengths are powers of two, at most `max` each (see [`pow2_chunks`]).
fn pow2_ranges(len: usize, max: usize) -> Vec<Range<usize>> {
    let items = vec![(); len];
    let mut start = 0;
    pow2_chunks(&items, max)
        .map(|chunk| {
            start += chunk.len();
            start - chunk.len()..start
        })
        .collect()
}

/// `0..len` in as few ranges as SQLite needs for a batch: `LATEST_ROWS` each, then what is left in
/// a multiple of 8 and the rest, so at most two queries for a batch of up to 64. Every length
/// is a script the connection keeps prepared, and a prepared script's memory grows with its
/// rows: the 15 lengths this gives (1 to 7, 8 to 64 by 8) hold about a seventh of what all 64
/// lengths would (those added 13 MB to the hub's RSS under load).
fn sqlite_ranges(len: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < len {
        let left = len - start;
        let n = if left >= LATEST_ROWS {
            LATEST_ROWS
        } else if left >= 8 {
            left / 8 * 8
        } else {
            left
        };
        ranges.push(start..start + n);
        start += n;
    }
    ranges
}

/// Writes reports inside a transaction (see [`Store::insert_reports`]): each customer's newest
/// report becomes its latest (unless a newer one is stored), every arrival proves the node alive,
/// and each report adds (or replaces) its history row; with `announce`, each customer of the
/// batch gets a live-stream status message.
///
/// The batch is cut into chunks of customers, and each chunk is one statement per [`Part`]. On
/// SQLite a chunk's statements go to the connection in one query, one round trip to its worker
/// thread: a round trip (the worker and the writing task wake each other) cost more than the
/// rows of a statement, and a batch of 30 reports in power-of-two chunks per table needed about
/// twenty. PostgreSQL takes one statement per query.
pub(crate) async fn write_reports(tx: &mut Transaction<'_, Any>, rows: &[&ReportRow], announce: bool) -> Result<()> {
    let batch = Batch::of(rows);
    let backend = tx.backend_name().to_string();
    // History rows follow the latest rows one for one unless a customer sent several reports.
    let aligned = batch.history.len() == batch.latest.len();
    let mut parts = vec![Part::Latest, Part::Body, Part::Received];
    if aligned {
        parts.push(Part::History);
    }
    if announce {
        parts.push(Part::Stream);
    }
    // On SQLite a batch is cut into few chunks (see [`sqlite_ranges`]), PostgreSQL keeps to
    // powers of two.
    let sqlite = backend == "SQLite";
    let chunks = if sqlite { sqlite_ranges(batch.latest.len()) } else { pow2_ranges(batch.latest.len(), LATEST_ROWS) };
    let mut groups: Vec<(&[Part], Range<usize>)> = chunks.into_iter().map(|range| (&parts[..], range)).collect();
    if !aligned {
        groups.extend(pow2_ranges(batch.history.len(), ROWS).into_iter().map(|range| (&[Part::History][..], range)));
    }
    for (parts, range) in groups {
        if sqlite {
            let mut marks = Marks::new(&backend);
            let sql: Vec<String> = parts.iter().map(|part| part.sql(range.len(), &mut marks)).collect();
            let sql = sql.join(";\n");
            let mut query = sqlx::query(&sql);
            for part in parts {
                query = part.bind(query, &batch, range.clone());
            }
            query.execute(&mut **tx).await?;
        } else {
            for part in parts {
                let sql = part.sql(range.len(), &mut Marks::new(&backend));
                part.bind(sqlx::query(&sql), &batch, range.clone()).execute(&mut **tx).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_in_powers_of_two() {
        let items: Vec<u32> = (0..100).collect();
        let sizes: Vec<usize> = pow2_chunks(&items, 64).map(<[u32]>::len).collect();
        assert_eq!(sizes, [64, 32, 4]);
        assert_eq!(pow2_chunks(&items[..1], 64).count(), 1);
        assert_eq!(pow2_chunks(&items[..0], 64).count(), 0);
        let sizes: Vec<usize> = pow2_chunks(&items, 16).map(<[u32]>::len).collect();
        assert_eq!(sizes, [16, 16, 16, 16, 16, 16, 4]);
    }

    #[test]
    fn sqlite_batches_need_at_most_two_queries_per_64_reports_of_15_lengths() {
        let mut lengths = std::collections::BTreeSet::new();
        for len in 0..=300 {
            let ranges = sqlite_ranges(len);
            assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), len);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start), "{ranges:?} follow each other");
            assert!(ranges.len() <= len.div_ceil(LATEST_ROWS) + 1, "{len}: {ranges:?}");
            lengths.extend(ranges.iter().map(|r| r.len()));
        }
        let expected: Vec<usize> = (1..8).chain((8..=64).step_by(8)).collect();
        assert_eq!(lengths.into_iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn placeholders_number_every_value_on_postgres_only() {
        assert_eq!(Marks::new("PostgreSQL").rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(Marks::new("SQLite").rows(2, 2), "(?, ?), (?, ?)");
        let mut marks = Marks::new("PostgreSQL");
        marks.rows(1, 2);
        assert!(latest_row(&mut marks).starts_with("($3, $4, "), "a second row goes on counting");
    }
}
