//! The live stream's log (`stream_log`): status changes, new events and job runs, written in the
//! same transaction as what they tell of, and read back by id by every replica.

use hub_shared::stream::{StreamKind, StreamMessage};
use sqlx::{Any, FromRow, Transaction};

use super::{Result, RowKey, Store};

/// The columns of `stream_log` as the database holds them.
#[derive(FromRow)]
struct StoredMessage {
    id: i64,
    kind: String,
    customer_id: Option<String>,
    data_json: String,
    created_at: i64,
}

impl StoredMessage {
    fn read(self) -> Result<StreamMessage> {
        let row = RowKey::new("stream_log", self.id);
        Ok(StreamMessage {
            kind: row.known("kind", &self.kind, StreamKind::parse)?,
            data: row.json("data_json", &self.data_json)?,
            at: row.time("created_at", self.created_at)?,
            id: self.id,
            customer_id: self.customer_id,
        })
    }
}

const COLUMNS: &str = "id, kind, customer_id, data_json, created_at";

impl Store {
    /// Appends a message on its own (a job run).
    pub async fn append_stream(
        &self,
        kind: StreamKind,
        customer_id: Option<&str>,
        data: &serde_json::Value,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = append_stream(&mut tx, kind, customer_id, data, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Up to `limit` messages after the id `after`, oldest first. A row that cannot be read is
    /// an error of its own, so one bad row does not hide the others.
    pub async fn stream_after(&self, after: i64, limit: i64) -> Result<Vec<Result<StreamMessage>>> {
        self.stream_between(after, i64::MAX, limit).await
    }

    /// Up to `limit` messages with `after < id < before`, oldest first.
    pub async fn stream_between(&self, after: i64, before: i64, limit: i64) -> Result<Vec<Result<StreamMessage>>> {
        let rows: Vec<StoredMessage> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM stream_log WHERE id > $1 AND id < $2 ORDER BY id LIMIT $3"))
                .bind(after)
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(StoredMessage::read).collect())
    }

    /// The newest message's id (0 when there is none).
    pub async fn stream_head(&self) -> Result<i64> {
        let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM stream_log").fetch_one(&self.pool).await?;
        Ok(id.unwrap_or(0))
    }

    /// A cheap mark of what any replica wrote that the fleet list shows: the newest ids of this
    /// log (reports, events, job runs such as the drift check and the registry watch) and of the
    /// audit log (the operator's changes to customers). Both are primary-key lookups.
    pub async fn fleet_marker(&self) -> Result<(i64, i64)> {
        let (stream, audit): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT (SELECT MAX(id) FROM stream_log), (SELECT MAX(id) FROM audit_log)")
                .fetch_one(&self.pool)
                .await?;
        Ok((stream.unwrap_or(0), audit.unwrap_or(0)))
    }

    /// Deletes messages older than `before` (ms); returns how many.
    pub async fn prune_stream(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM stream_log WHERE created_at < $1").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

pub(super) async fn append_stream(
    tx: &mut Transaction<'static, Any>,
    kind: StreamKind,
    customer_id: Option<&str>,
    data: &serde_json::Value,
    now: i64,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO stream_log (kind, customer_id, data_json, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(customer_id)
    .bind(data.to_string())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}
