//! Reading the original hub's SQLite file: which of its tables and columns exist, its rows one
//! at a time with a stable key each, and its loosely typed values (SQLite keeps whatever the Go
//! hub wrote: times as text in several formats or as numbers, booleans as 0/1 or words, JSON as
//! text).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime};
use futures::stream::BoxStream;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Column, Row, TypeInfo, ValueRef};

/// One value as SQLite stored it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    /// The value as text: numbers printed, blobs if they are UTF-8; `None` for NULL and empty text.
    pub fn text(&self) -> Option<String> {
        let text = match self {
            Cell::Null => return None,
            Cell::Int(n) => n.to_string(),
            Cell::Real(x) => x.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Blob(b) => String::from_utf8(b.clone()).ok()?,
        };
        Some(text).filter(|t| !t.trim().is_empty())
    }

    /// A whole number, also from numeric text.
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            Cell::Real(x) if x.fract() == 0.0 && x.is_finite() => Some(*x as i64),
            Cell::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A number, also from numeric text.
    pub fn real(&self) -> Option<f64> {
        match self {
            Cell::Int(n) => Some(*n as f64),
            Cell::Real(x) => Some(*x),
            Cell::Text(s) => s.trim().trim_end_matches('%').parse().ok(),
            _ => None,
        }
        .filter(|x: &f64| x.is_finite())
    }

    /// A boolean: 0/1, `true`/`false`, `yes`/`no`, `on`/`off`.
    pub fn boolean(&self) -> Option<bool> {
        match self {
            Cell::Int(n) => Some(*n != 0),
            Cell::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
                "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A point in time as Unix milliseconds: Unix seconds or milliseconds as numbers, RFC 3339,
    /// SQLite's `YYYY-MM-DD HH:MM:SS` (UTC), and Go's `time.Time` text (`... +0000 UTC`).
    pub fn time_ms(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(unix_ms(*n)),
            Cell::Real(x) if x.is_finite() => Some(unix_ms(*x as i64)),
            Cell::Text(s) => parse_time(s.trim()),
            _ => None,
        }
    }

    /// JSON: text parsed, anything else as the matching JSON value.
    pub fn json(&self) -> Option<serde_json::Value> {
        match self {
            Cell::Text(s) => serde_json::from_str(s).ok(),
            Cell::Blob(b) => serde_json::from_slice(b).ok(),
            Cell::Int(n) => Some((*n).into()),
            Cell::Real(x) => serde_json::Number::from_f64(*x).map(Into::into),
            Cell::Null => None,
        }
    }
}

/// Numbers below 10^11 are seconds (until the year 5138), larger ones milliseconds.
fn unix_ms(n: i64) -> i64 {
    if n.abs() < 100_000_000_000 {
        n.saturating_mul(1000)
    } else {
        n
    }
}

fn parse_time(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some(unix_ms(n));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    // Go's time.Time.String(): `2024-05-01 10:00:00.123 +0200 CEST`, maybe with ` m=+1.2`.
    let go = s.split(" m=").next().unwrap_or(s);
    let mut parts: Vec<&str> = go.split(' ').collect();
    if parts.len() == 4 && parts[3].chars().all(|c| c.is_ascii_alphabetic()) {
        parts.pop();
    }
    let go = parts.join(" ");
    for format in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(&go, format) {
            return Some(t.timestamp_millis());
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    None
}

/// One old row: a key that stays the same from run to run, and its cells by lower-case column.
#[derive(Debug, Clone)]
pub struct LegacyRow {
    pub key: String,
    cells: HashMap<String, Cell>,
}

impl LegacyRow {
    /// The cell of `column` (a name from [`Table::column`]); NULL when there is none.
    pub fn get(&self, column: Option<&str>) -> &Cell {
        static NULL: Cell = Cell::Null;
        column.and_then(|c| self.cells.get(c)).unwrap_or(&NULL)
    }
}

/// An old table: its columns, and which of them the import read.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<String>,
    used: RefCell<BTreeSet<String>>,
    missing: RefCell<Vec<String>>,
}

impl Table {
    /// The first of `aliases` that is a column of the table (the import's name for the field is
    /// the first alias); marks it read. Without one, the field is noted as missing.
    pub fn column(&self, aliases: &[&str]) -> Option<String> {
        let found = aliases.iter().find_map(|a| self.columns.iter().find(|c| c.eq_ignore_ascii_case(a)));
        match found {
            Some(c) => {
                self.used.borrow_mut().insert(c.clone());
                Some(c.clone())
            }
            None => {
                self.missing.borrow_mut().push(format!("{} (tried {})", aliases[0], aliases.join(", ")));
                None
            }
        }
    }

    /// Like [`Table::column`], but a missing column is not worth a note.
    pub fn optional_column(&self, aliases: &[&str]) -> Option<String> {
        let found = aliases.iter().find_map(|a| self.columns.iter().find(|c| c.eq_ignore_ascii_case(a)))?;
        self.used.borrow_mut().insert(found.clone());
        Some(found.clone())
    }

    /// Columns the import did not read, and fields it found no column for.
    pub fn unmapped(&self) -> (Vec<String>, Vec<String>) {
        let used = self.used.borrow();
        let unused = self.columns.iter().filter(|c| !used.contains(*c) && c.as_str() != "id").cloned().collect();
        (unused, self.missing.borrow().clone())
    }
}

/// The original hub's database, opened read-only.
pub struct Source {
    pool: SqlitePool,
}

impl Source {
    pub async fn open(path: &Path) -> anyhow::Result<Source> {
        anyhow::ensure!(path.is_file(), "{} is not a file", path.display());
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .context("invalid --from path")?
            .read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open {} as a SQLite database", path.display()))?;
        sqlx::query("SELECT COUNT(*) FROM sqlite_master")
            .fetch_one(&pool)
            .await
            .with_context(|| format!("{} is not a SQLite database", path.display()))?;
        Ok(Source { pool })
    }

    /// The table's columns (lower case), or `None` when the old database has no such table.
    pub async fn table(&self, name: &'static str) -> anyhow::Result<Option<Table>> {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(name)
            .fetch_all(&self.pool)
            .await?;
        if columns.is_empty() {
            return Ok(None);
        }
        Ok(Some(Table {
            name,
            columns: columns.into_iter().map(|(c,)| c.to_ascii_lowercase()).collect(),
            used: RefCell::default(),
            missing: RefCell::default(),
        }))
    }

    /// How to read the table's rows, ordered by `order` (a column) and then insertion. Each
    /// row's key is its `id` column, else its rowid, else a hash of its values.
    pub async fn select(&self, table: &Table, order: Option<&str>) -> Select {
        let has_id = table.columns.iter().any(|c| c == "id");
        let has_rowid = sqlx::query(&format!("SELECT rowid FROM \"{}\" LIMIT 1", table.name))
            .fetch_optional(&self.pool)
            .await
            .is_ok();
        let (columns, tiebreak) = match (has_id, has_rowid) {
            (_, true) => ("rowid AS legacy_rowid, *", "rowid"),
            (true, false) => ("*", "id"),
            (false, false) => ("*", "1"),
        };
        let order = order.map(|c| format!("\"{c}\", ")).unwrap_or_default();
        Select {
            sql: format!("SELECT {columns} FROM \"{}\" ORDER BY {order}{tiebreak}", table.name),
            has_id,
            has_rowid,
        }
    }

    /// The rows of `select`, one at a time.
    pub fn rows<'a>(&'a self, select: &'a Select) -> BoxStream<'a, anyhow::Result<LegacyRow>> {
        sqlx::query(&select.sql)
            .fetch(&self.pool)
            .map(move |row| decode(&row.context("reading the old database")?, select.has_id, select.has_rowid))
            .boxed()
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// A query over one old table (see [`Source::select`]).
pub struct Select {
    sql: String,
    has_id: bool,
    has_rowid: bool,
}

fn decode(row: &SqliteRow, has_id: bool, has_rowid: bool) -> anyhow::Result<LegacyRow> {
    let mut cells = HashMap::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let cell = if raw.is_null() {
            Cell::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" => Cell::Int(row.try_get(i)?),
                "REAL" => Cell::Real(row.try_get(i)?),
                "BLOB" => Cell::Blob(row.try_get(i)?),
                _ => Cell::Text(row.try_get(i)?),
            }
        };
        cells.insert(column.name().to_ascii_lowercase(), cell);
    }
    let key = if has_id {
        cells.get("id").and_then(Cell::text)
    } else if has_rowid {
        cells.get("legacy_rowid").and_then(Cell::text)
    } else {
        None
    };
    let key = key.unwrap_or_else(|| {
        let mut names: Vec<&String> = cells.keys().collect();
        names.sort();
        let mut hash = Sha256::new();
        for name in names {
            hash.update(format!("{name}={:?};", cells[name]).as_bytes());
        }
        format!("sha256:{}", hex::encode(hash.finalize()))
    });
    cells.remove("legacy_rowid");
    Ok(LegacyRow { key, cells })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_formats_the_go_hub_may_have_written() {
        let expected = 1_714_557_600_000; // 2024-05-01T10:00:00Z
        for text in [
            "2024-05-01T10:00:00Z",
            "2024-05-01T12:00:00+02:00",
            "2024-05-01 10:00:00",
            "2024-05-01 10:00:00.000",
            "2024-05-01 12:00:00 +0200 CEST",
            "2024-05-01 10:00:00 +0000 UTC",
            "2024-05-01 10:00:00.000000000 +0000 UTC m=+0.000000001",
            "2024-05-01 12:00:00+02:00",
            "1714557600",
        ] {
            assert_eq!(Cell::Text(text.into()).time_ms(), Some(expected), "{text}");
        }
        assert_eq!(Cell::Int(1_714_557_600).time_ms(), Some(expected));
        assert_eq!(Cell::Int(expected).time_ms(), Some(expected));
        assert_eq!(Cell::Text("yesterday".into()).time_ms(), None);
        assert_eq!(Cell::Null.time_ms(), None);
    }

    #[test]
    fn loosely_typed_values() {
        assert_eq!(Cell::Text(" 12.5% ".into()).real(), Some(12.5));
        assert_eq!(Cell::Text("NaN".into()).real(), None);
        assert_eq!(Cell::Text("yes".into()).boolean(), Some(true));
        assert_eq!(Cell::Int(0).boolean(), Some(false));
        assert_eq!(Cell::Text("maybe".into()).boolean(), None);
        assert_eq!(Cell::Text("  ".into()).text(), None);
        assert_eq!(Cell::Int(7).text().as_deref(), Some("7"));
        assert_eq!(Cell::Text(r#"{"a":1}"#.into()).json(), Some(serde_json::json!({"a": 1})));
    }
}
