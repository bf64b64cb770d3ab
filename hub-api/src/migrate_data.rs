//! `felhom-hub migrate-data --from URL --to URL`: copies a hub's data between databases (SQLite
//! to PostgreSQL and back) so an operator can move without losing history.
//!
//! Both databases are migrated to the current schema first; the target must be empty. Every
//! table the two share is copied in one transaction on the target, so a failed copy leaves the
//! target as it was. Column types come from the source's column metadata.

use anyhow::{bail, Context};
use sqlx::any::AnyRow;
use sqlx::{Column, Row, TypeInfo};

use crate::config::SqliteSync;
use crate::store::{Backend, Store};

/// Tables that belong to one running hub, not to its data.
const SKIPPED: [&str; 2] = ["_sqlx_migrations", "leases"];
const BATCH: i64 = 5_000;

/// How many rows each table received.
#[derive(Debug, Default)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
}

pub async fn migrate_data(from: &str, to: &str) -> anyhow::Result<Copied> {
    let source = Store::connect_url(from, 2, SqliteSync::Full).await.context("cannot open --from")?;
    let target = Store::connect_url(to, 2, SqliteSync::Full).await.context("cannot open --to")?;
    let tables = tables(&source).await?;
    let target_tables = self::tables(&target).await?;
    for table in &target_tables {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(target.pool()).await?;
        if n > 0 && !SKIPPED.contains(&table.as_str()) {
            bail!("the target already holds data (table {table} has {n} rows); migrate into an empty database");
        }
    }
    let mut copied = Copied::default();
    let mut tx = target.pool().begin().await?;
    for table in tables.iter().filter(|t| target_tables.contains(t)) {
        let key = order_key(&source, table).await?;
        let mut offset = 0i64;
        let mut count = 0u64;
        loop {
            let rows: Vec<AnyRow> =
                sqlx::query(&format!("SELECT * FROM {table} ORDER BY {key} LIMIT {BATCH} OFFSET {offset}"))
                    .fetch_all(source.pool())
                    .await
                    .with_context(|| format!("reading {table}"))?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                insert_row(&mut tx, table, row).await.with_context(|| format!("writing {table}"))?;
            }
            count += rows.len() as u64;
            offset += BATCH;
        }
        copied.tables.push((table.clone(), count));
    }
    if target.backend() == Backend::Postgres {
        reset_sequences(&mut tx).await?;
    }
    tx.commit().await?;
    source.close().await;
    target.close().await;
    Ok(copied)
}

/// The data tables of a store, sorted.
pub async fn tables(store: &Store) -> anyhow::Result<Vec<String>> {
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|(t,)| t).filter(|t| !SKIPPED.contains(&t.as_str())).collect())
}

/// The columns of a table, in order.
pub async fn columns(store: &Store, table: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = match store.backend() {
        Backend::Sqlite => {
            sqlx::query_as(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"))
                .fetch_all(store.pool())
                .await?
        }
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(store.pool())
            .await?
        }
    };
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// A stable order for paging: all columns of the table, in order.
async fn order_key(store: &Store, table: &str) -> anyhow::Result<String> {
    let cols = columns(store, table).await?;
    if cols.is_empty() {
        bail!("table {table} has no columns");
    }
    Ok(cols.join(", "))
}

async fn insert_row(tx: &mut sqlx::Transaction<'static, sqlx::Any>, table: &str, row: &AnyRow) -> anyhow::Result<()> {
    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), placeholders.join(", "));
    let mut query = sqlx::query(&sql);
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_info().name().to_ascii_uppercase();
        query = if ty.contains("INT") {
            query.bind(row.try_get::<Option<i64>, _>(i)?)
        } else if ty.contains("DOUBLE") || ty.contains("REAL") || ty.contains("FLOAT") {
            query.bind(row.try_get::<Option<f64>, _>(i)?)
        } else if ty.contains("BLOB") || ty.contains("BYTEA") {
            query.bind(row.try_get::<Option<Vec<u8>>, _>(i)?)
        } else if ty == "NULL" {
            // SQLite reports NULL values of untyped expressions as NULL; every such column in
            // the schema is nullable text or integer, and NULL binds as either.
            query.bind(None::<String>)
        } else {
            query.bind(row.try_get::<Option<String>, _>(i)?)
        };
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// After explicit ids were inserted, moves every serial sequence past the largest id.
async fn reset_sequences(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> anyhow::Result<()> {
    let serials: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_default LIKE 'nextval%'",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (table, column) in serials {
        sqlx::query(&format!(
            "SELECT CAST(setval(pg_get_serial_sequence('{table}', '{column}'), \
                COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false) AS BIGINT)"
        ))
        .fetch_one(&mut **tx)
        .await?;
    }
    Ok(())
}
