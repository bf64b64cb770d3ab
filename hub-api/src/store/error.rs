//! The store's one error, and the reading of a stored row's columns into typed values. A row
//! that cannot be read is [`StoreError::Corrupt`] naming its table and key, never a default.

use std::fmt::Display;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row to read or change does not exist; the message is for the caller.
    #[error("{0}")]
    NotFound(String),
    /// A unique key is taken; the message is for the caller.
    #[error("{0}")]
    Conflict(String),
    /// A stored row that cannot be read as its type.
    #[error("{table} row {key:?} is corrupt: {what}")]
    Corrupt { table: &'static str, key: String, what: String },
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
}

/// A unique-key violation is a [`StoreError::Conflict`]; every other database error is `Db`.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict("the resource already exists".into())
            }
            _ => StoreError::Db(e),
        }
    }
}

/// One stored row being read: every error about it names its table and key.
#[derive(Debug, Clone)]
pub(crate) struct RowKey {
    table: &'static str,
    key: String,
}

impl RowKey {
    pub(crate) fn new(table: &'static str, key: impl Display) -> RowKey {
        RowKey { table, key: key.to_string() }
    }

    pub(crate) fn corrupt(&self, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt { table: self.table, key: self.key.clone(), what: what.into() }
    }

    /// A Unix-milliseconds column as a time.
    pub(crate) fn time(&self, column: &str, ms: i64) -> Result<DateTime<Utc>> {
        DateTime::from_timestamp_millis(ms).ok_or_else(|| self.corrupt(format!("{column} {ms} is not a time")))
    }

    /// A column holding one of a fixed set of names, read by `parse`.
    pub(crate) fn known<T>(&self, column: &str, value: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
        parse(value).ok_or_else(|| self.corrupt(format!("{column} {value:?} is not a known value")))
    }

    /// A JSON column.
    pub(crate) fn json<T: DeserializeOwned>(&self, column: &str, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| self.corrupt(format!("{column} is not the expected JSON: {e}")))
    }

    /// A count column that must fit a `u32`.
    pub(crate) fn count(&self, column: &str, value: i64) -> Result<u32> {
        u32::try_from(value).map_err(|_| self.corrupt(format!("{column} {value} is out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reading_names_the_table_key_and_column() {
        let row = RowKey::new("events", 7);
        let err = row.time("occurred_at", i64::MAX).unwrap_err();
        assert_eq!(err.to_string(), "events row \"7\" is corrupt: occurred_at 9223372036854775807 is not a time");
        let err = row.known("severity", "loud", |_| None::<()>).unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt { table: "events", key, what }
            if key == "7" && what.contains("severity \"loud\"")));
        assert!(row.json::<Vec<String>>("details_json", "{").is_err());
        assert!(row.count("cooldown_hours", -1).is_err());
        assert_eq!(row.time("occurred_at", 0).unwrap(), DateTime::<Utc>::UNIX_EPOCH);
    }
}
