//! Events: storing them, reading them newest first with filters, counting them for the fleet
//! badges, and handing each to the notification dispatcher exactly once.

use chrono::{DateTime, Utc};
use hub_shared::event::{EventType, Severity};
use hub_shared::stream::StreamKind;
use sqlx::{Any, FromRow, Transaction};

use super::{Result, RowKey, Store};

/// An event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub customer_id: String,
    pub event_type: EventType,
    pub severity: Severity,
    pub message: String,
    pub details_json: String,
    /// `hub` for the hub's own events; what the controller named otherwise.
    pub source: String,
    pub occurred_at: i64,
    pub received_at: i64,
}

/// A stored event; its type, severity and times read into their types.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub customer_id: String,
    pub event_type: EventType,
    pub severity: Severity,
    pub message: String,
    pub details_json: String,
    pub source: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// Why nobody was told (maintenance, suppressed, storm, flapping); `None` otherwise.
    pub held: Option<String>,
}

/// The columns of `events` as the database holds them.
#[derive(FromRow)]
struct StoredEvent {
    id: i64,
    customer_id: String,
    event_type: String,
    severity: String,
    message: String,
    details_json: String,
    source: String,
    occurred_at: i64,
    received_at: i64,
    held: Option<String>,
}

impl StoredEvent {
    fn read(self) -> Result<EventRow> {
        let row = RowKey::new("events", self.id);
        Ok(EventRow {
            event_type: row.known("event_type", &self.event_type, |t| EventType::parse(t).ok())?,
            severity: row.known("severity", &self.severity, |s| Severity::parse(s).ok())?,
            occurred_at: row.time("occurred_at", self.occurred_at)?,
            received_at: row.time("received_at", self.received_at)?,
            id: self.id,
            customer_id: self.customer_id,
            message: self.message,
            details_json: self.details_json,
            source: self.source,
            held: self.held,
        })
    }
}

const EVENT_COLUMNS: &str =
    "id, customer_id, event_type, severity, message, details_json, source, occurred_at, received_at, held";

/// Which events to read: all filters are optional; `before` is an id cursor.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub customer_id: Option<String>,
    pub severities: Vec<Severity>,
    pub types: Vec<EventType>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Error and warning events of one customer.
#[derive(Debug, Clone, FromRow)]
pub struct SeverityCounts {
    pub customer_id: String,
    pub errors: i64,
    pub warnings: i64,
}

impl Store {
    pub async fn insert_event(&self, event: &NewEvent) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert_event(&mut tx, event).await?;
        tx.commit().await?;
        self.touch_fleet();
        Ok(id)
    }

    /// Events matching `filter`, newest first.
    pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventRow>> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.customer_id.is_some() {
            sql += &format!(" AND customer_id = {}", next());
        }
        if !filter.severities.is_empty() {
            let marks: Vec<String> = filter.severities.iter().map(|_| next()).collect();
            sql += &format!(" AND severity IN ({})", marks.join(", "));
        }
        if !filter.types.is_empty() {
            let marks: Vec<String> = filter.types.iter().map(|_| next()).collect();
            sql += &format!(" AND event_type IN ({})", marks.join(", "));
        }
        if filter.before.is_some() {
            sql += &format!(" AND id < {}", next());
        }
        sql += &format!(" ORDER BY id DESC LIMIT {}", next());
        let mut query = sqlx::query_as::<_, StoredEvent>(&sql);
        if let Some(id) = &filter.customer_id {
            query = query.bind(id.clone());
        }
        for s in &filter.severities {
            query = query.bind(s.as_str());
        }
        for t in &filter.types {
            query = query.bind(t.as_str());
        }
        if let Some(before) = filter.before {
            query = query.bind(before);
        }
        query.bind(filter.limit).fetch_all(&self.pool).await?.into_iter().map(StoredEvent::read).collect()
    }

    /// Error and warning counts per customer of the events received since `since`.
    pub async fn severity_counts(&self, since: i64) -> Result<Vec<SeverityCounts>> {
        Ok(sqlx::query_as(
            "SELECT customer_id, \
                COALESCE(SUM(CASE WHEN severity = 'error' THEN 1 ELSE 0 END), 0) AS errors, \
                COALESCE(SUM(CASE WHEN severity = 'warning' THEN 1 ELSE 0 END), 0) AS warnings \
             FROM events WHERE received_at >= $1 AND severity IN ('error', 'warning') GROUP BY customer_id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether `customer_id` has an event of `event_type` that occurred in `since..=until`.
    pub async fn has_event_between(
        &self,
        customer_id: &str,
        event_type: EventType,
        since: i64,
        until: i64,
    ) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM events WHERE customer_id = $1 AND event_type = $2 AND occurred_at >= $3 \
             AND occurred_at <= $4 LIMIT 1",
        )
        .bind(customer_id)
        .bind(event_type.as_str())
        .bind(since)
        .bind(until)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Claims up to `limit` events that wait for notification, oldest first: never claimed, or
    /// claimed before `stale_before` by a dispatcher that did not finish (its replica died). The
    /// UPDATE re-checks the condition, so two dispatchers never claim the same event at once.
    /// An event that cannot be read is claimed too, and is its own error: the others go on.
    pub async fn claim_undispatched(&self, now: i64, stale_before: i64, limit: i64) -> Result<Vec<Result<EventRow>>> {
        let waiting_since = |p: &str| format!("notified_at IS NULL AND (dispatched_at IS NULL OR dispatched_at < {p})");
        // A read first, so an idle poll never takes SQLite's write lock.
        let waiting: Option<(i64,)> =
            sqlx::query_as(&format!("SELECT id FROM events WHERE {} LIMIT 1", waiting_since("$1")))
                .bind(stale_before)
                .fetch_optional(&self.pool)
                .await?;
        const WAITING: &str = "notified_at IS NULL AND (dispatched_at IS NULL OR dispatched_at < $2)";
        if waiting.is_none() {
            return Ok(Vec::new());
        }
        let mut claimed: Vec<StoredEvent> = sqlx::query_as(&format!(
            "UPDATE events SET dispatched_at = $1 WHERE {WAITING} AND id IN \
               (SELECT id FROM events WHERE {WAITING} ORDER BY id LIMIT $3) \
             RETURNING {EVENT_COLUMNS}"
        ))
        .bind(now)
        .bind(stale_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        claimed.sort_by_key(|e| e.id);
        Ok(claimed.into_iter().map(StoredEvent::read).collect())
    }

    /// One event by id.
    pub async fn event(&self, id: i64) -> Result<Option<EventRow>> {
        let row: Option<StoredEvent> = sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(StoredEvent::read).transpose()
    }

    /// How many events of `types` `customer_id` has that occurred in `since..=until`.
    pub async fn count_events_between(
        &self,
        customer_id: &str,
        types: &[EventType],
        since: i64,
        until: i64,
    ) -> Result<i64> {
        let marks: Vec<String> = (0..types.len()).map(|i| format!("${}", i + 4)).collect();
        let sql = format!(
            "SELECT COUNT(*) FROM events WHERE customer_id = $1 AND occurred_at >= $2 AND occurred_at <= $3 \
             AND event_type IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query_as::<_, (i64,)>(&sql).bind(customer_id).bind(since).bind(until);
        for t in types {
            query = query.bind(t.as_str());
        }
        Ok(query.fetch_one(&self.pool).await?.0)
    }

    /// Records why nobody was told about the event (`None`: the usual rules applied).
    pub async fn set_held(&self, id: i64, held: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE events SET held = $2 WHERE id = $1").bind(id).bind(held).execute(&self.pool).await?;
        Ok(())
    }

    /// Every decision about the event is logged: it is never dispatched again.
    pub async fn mark_notified(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE events SET notified_at = $2 WHERE id = $1").bind(id).bind(now).execute(&self.pool).await?;
        Ok(())
    }
}

/// Inserts an event inside a transaction; returns its id.
pub(super) async fn insert_event(tx: &mut Transaction<'static, Any>, e: &NewEvent) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO events (customer_id, event_type, severity, message, details_json, source, occurred_at, \
            received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&e.customer_id)
    .bind(e.event_type.as_str())
    .bind(e.severity.as_str())
    .bind(&e.message)
    .bind(&e.details_json)
    .bind(&e.source)
    .bind(e.occurred_at)
    .bind(e.received_at)
    .fetch_one(&mut **tx)
    .await?;
    let data = serde_json::json!({
        "event_id": id,
        "event_type": e.event_type.as_str(),
        "severity": e.severity.as_str(),
        "message": e.message,
    });
    super::stream::append_stream(tx, StreamKind::Event, Some(&e.customer_id), &data, e.received_at).await?;
    Ok(id)
}
