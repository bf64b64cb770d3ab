//! `felhom-hub import-legacy --from /path/to/old/hub.db [--dry-run]`: moves the original Go hub's
//! data into this hub's store (SQLite or PostgreSQL), so customers, their keys and passwords,
//! and their history survive the switch.
//!
//! The six tables of the original (`customer_configs`, `reports`, `events`, `infra_backups`,
//! `customer_notifications`, `notification_log`) are read by column name, with the aliases in
//! each table's module; what cannot be mapped is named in the summary, never guessed silently.
//! Each table is written in one transaction. Every imported old row is recorded in
//! `legacy_imports`, so a second run adds nothing. `--dry-run` does all the work and rolls each
//! transaction back.

mod configs;
mod events;
mod infra;
mod notifications;
mod reports;
mod source;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::{Any, Transaction};

use crate::config::Config;
use crate::crypto::{self, Cipher};
use crate::store::Store;
use source::{Source, Table};

/// The tables in the order they are imported: customers first (their keys), events before the
/// notification log (which points at them).
pub const TABLES: [&str; 6] =
    ["customer_configs", "reports", "events", "infra_backups", "customer_notifications", "notification_log"];

/// What happened to one old table.
#[derive(Debug, Clone, Default)]
pub struct TableSummary {
    pub table: &'static str,
    /// The old database has the table.
    pub found: bool,
    pub read: u64,
    pub imported: u64,
    /// Skipped rows by reason: how many, and the keys of the first few.
    pub skipped: BTreeMap<String, (u64, Vec<String>)>,
    /// Columns not read, fields without a column, values changed on the way in.
    pub notes: Vec<String>,
}

impl TableSummary {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().map(|(n, _)| n).sum()
    }
}

/// What the import did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub dry_run: bool,
    pub tables: Vec<TableSummary>,
}

impl Summary {
    pub fn table(&self, name: &str) -> Option<&TableSummary> {
        self.tables.iter().find(|t| t.table == name)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(f, "dry run: nothing was imported; the counts are what a run would do")?;
        }
        for t in &self.tables {
            if !t.found {
                writeln!(f, "{}: not in the old database", t.table)?;
                continue;
            }
            writeln!(f, "{}: read {}, imported {}, skipped {}", t.table, t.read, t.imported, t.skipped_total())?;
            for (reason, (count, keys)) in &t.skipped {
                let more = if *count as usize > keys.len() { ", …" } else { "" };
                writeln!(f, "  skipped {count}: {reason} (rows {}{more})", keys.join(", "))?;
            }
            for note in &t.notes {
                writeln!(f, "  note: {note}")?;
            }
        }
        Ok(())
    }
}

/// Rows named per skip reason in the summary.
const EXAMPLES: usize = 5;

/// One table's import: the old table, the transaction on this hub's store, and the tally.
pub(super) struct Job<'a> {
    pub cipher: &'a Cipher,
    pub config: &'a Config,
    pub source: &'a Source,
    pub table: Table,
    pub tx: Transaction<'static, Any>,
    pub now: i64,
    imported: HashSet<String>,
    pub summary: TableSummary,
}

impl Job<'_> {
    /// Whether the old row was imported by an earlier run; counts it as skipped if so.
    pub fn seen(&mut self, key: &str) -> bool {
        self.summary.read += 1;
        if self.imported.contains(key) {
            self.skip(key, "imported by an earlier run");
            return true;
        }
        false
    }

    /// The customer id of an old row not imported before, from the column `id_column`; `None`
    /// (counted as skipped, with why) for a row an earlier run imported or one without a valid id.
    pub fn new_row_of(&mut self, row: &source::LegacyRow, id_column: Option<&str>) -> Option<String> {
        if self.seen(&row.key) {
            return None;
        }
        match customer_id(row.get(id_column)) {
            Ok(id) => Some(id),
            Err(reason) => {
                self.skip(&row.key, reason);
                None
            }
        }
    }

    pub fn skip(&mut self, key: &str, reason: impl Into<String>) {
        let (count, keys) = self.summary.skipped.entry(reason.into()).or_default();
        *count += 1;
        if keys.len() < EXAMPLES {
            keys.push(key.to_string());
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.summary.notes.push(note.into());
    }

    /// Records the old row as imported (as `target_id`, where the new row has an id).
    pub async fn done(&mut self, key: &str, target_id: Option<i64>) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO legacy_imports (source_table, legacy_key, target_id, imported_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(self.table.name)
        .bind(key)
        .bind(target_id)
        .bind(self.now)
        .execute(&mut *self.tx)
        .await?;
        self.imported.insert(key.to_string());
        self.summary.imported += 1;
        Ok(())
    }
}

/// Imports the old hub's database at `from` into the store `config` names.
pub async fn import_legacy(config: &Config, from: &Path, dry_run: bool) -> anyhow::Result<Summary> {
    let source = Source::open(from).await?;
    let store = Store::connect(config).await?;
    let cipher = cipher(config, dry_run)?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut summary = Summary { dry_run, tables: Vec::new() };
    for name in TABLES {
        let Some(table) = source.table(name).await? else {
            summary.tables.push(TableSummary { table: name, ..Default::default() });
            continue;
        };
        let mut tx = store.pool().begin().await?;
        let imported: Vec<(String,)> = sqlx::query_as("SELECT legacy_key FROM legacy_imports WHERE source_table = $1")
            .bind(name)
            .fetch_all(&mut *tx)
            .await?;
        let mut job = Job {
            cipher: &cipher,
            config,
            source: &source,
            table,
            tx,
            now,
            imported: imported.into_iter().map(|(k,)| k).collect(),
            summary: TableSummary { table: name, found: true, ..Default::default() },
        };
        match name {
            "customer_configs" => configs::import(&mut job).await,
            "reports" => reports::import(&mut job).await,
            "events" => events::import(&mut job).await,
            "infra_backups" => infra::import(&mut job).await,
            "customer_notifications" => notifications::import_preferences(&mut job).await,
            _ => notifications::import_log(&mut job).await,
        }
        .with_context(|| format!("importing {name}"))?;
        let (unused, missing) = job.table.unmapped();
        if !missing.is_empty() {
            job.note(format!("no column for: {}", missing.join("; ")));
        }
        if !unused.is_empty() {
            job.note(format!("columns not imported: {}", unused.join(", ")));
        }
        if dry_run {
            job.tx.rollback().await?;
        } else {
            job.tx.commit().await.with_context(|| format!("committing {name}"))?;
        }
        summary.tables.push(job.summary);
    }
    source.close().await;
    store.close().await;
    Ok(summary)
}

/// The hub's cipher. A dry run does not create the key file: what it seals is thrown away.
fn cipher(config: &Config, dry_run: bool) -> anyhow::Result<Cipher> {
    let configured = !config.raw.security.encryption_key.expose_secret().is_empty();
    if dry_run && !configured && !config.data_dir.join(crypto::KEY_FILE).exists() {
        return Ok(Cipher::new(&rand::random::<[u8; 32]>()));
    }
    Cipher::from_config(config)
}

/// A customer id from an old row, or why it is not one.
pub(super) fn customer_id(cell: &source::Cell) -> Result<String, String> {
    let id = cell.text().ok_or_else(|| "no customer_id".to_string())?;
    let id = id.trim().to_string();
    hub_shared::validate::claimed_customer_id(&id).map_err(|m| format!("customer_id {id:?} is not a valid id: {m}"))?;
    Ok(id)
}
