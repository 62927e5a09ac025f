//! Per (processor, date) checkpoints kept in the warehouse: `nba_processing.backfill_progress`.
//!
//! The reference kept backfill checkpoints in `/tmp` files that vanished with the container and
//! never revisited failed dates before the last success (reference-framework.md §14 item 14).
//! Here every run upserts one row per date it decided (status, error, rows, run id, the digest of
//! all its inputs); a rerun skips a date whose last run succeeded on identical inputs and retries
//! everything else. Writes happen once per run.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest as _, Sha256};

use crate::schema::processing::BACKFILL_PROGRESS;
use crate::value::{ToValue, Value};
use crate::warehouse::{Query, ReplaceScope, TableWrite, Warehouse, WarehouseError};

/// The checkpoint of one date.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub date: NaiveDate,
    pub status: String,
    pub error: Option<String>,
    pub rows: Option<i64>,
    pub run_id: Option<String>,
    pub input_digest: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Checkpoint {
    /// Whether a run on inputs with `input_digest` can skip this date.
    pub fn covers(&self, input_digest: &str) -> bool {
        self.status == "success" && self.input_digest.as_deref() == Some(input_digest)
    }
}

/// One digest for all the inputs of a date (tables sorted by name).
pub fn combined_digest(digests: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (table, digest) in digests {
        hasher.update(table.as_bytes());
        hasher.update(b"=");
        hasher.update(digest.as_bytes());
        hasher.update(b";");
    }
    hasher.finalize()[..8].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Reads the checkpoints of `processor`, for `dates` or (with `None`) all of them (one query).
///
/// # Errors
/// The query fails.
pub async fn read_checkpoints(
    warehouse: &dyn Warehouse,
    processor: &str,
    dates: Option<&[NaiveDate]>,
) -> Result<Vec<Checkpoint>, WarehouseError> {
    let base = format!(
        "SELECT date, status, error, rows, run_id, input_digest, finished_at FROM {{{BACKFILL_PROGRESS}}} \
         WHERE processor = @processor"
    );
    let query = match dates {
        Some([]) => return Ok(Vec::new()),
        Some(dates) => {
            Query::new(format!("{base} AND date IN (@dates) ORDER BY date")).bind_list("dates", dates)
        }
        None => Query::new(format!("{base} ORDER BY date")),
    }
    .bind("processor", processor);
    let result = warehouse.query(&query).await?;
    Ok(result
        .rows
        .iter()
        .filter_map(|row| {
            Some(Checkpoint {
                date: row[0].as_date()?,
                status: row[1].as_str()?.to_owned(),
                error: row[2].as_str().map(str::to_owned),
                rows: row[3].as_i64(),
                run_id: row[4].as_str().map(str::to_owned),
                input_digest: row[5].as_str().map(str::to_owned),
                finished_at: row[6].as_timestamp(),
            })
        })
        .collect())
}

/// Checkpoints of `dates`, by date.
///
/// # Errors
/// The query fails.
pub async fn checkpoints_by_date(
    warehouse: &dyn Warehouse,
    processor: &str,
    dates: &[NaiveDate],
) -> Result<HashMap<NaiveDate, Checkpoint>, WarehouseError> {
    Ok(read_checkpoints(warehouse, processor, Some(dates))
        .await?
        .into_iter()
        .map(|entry| (entry.date, entry))
        .collect())
}

/// Checkpoint rows of one run, upserted together at its end.
#[derive(Clone)]
pub struct CheckpointBuffer {
    processor: &'static str,
    rows: Vec<Vec<Value>>,
}

impl CheckpointBuffer {
    pub fn new(processor: &'static str) -> Self {
        CheckpointBuffer { processor, rows: Vec::new() }
    }

    pub fn record(&mut self, checkpoint: Checkpoint) {
        self.rows.push(BACKFILL_PROGRESS.row(vec![
            ("processor", self.processor.to_value()),
            ("date", checkpoint.date.to_value()),
            ("status", checkpoint.status.to_value()),
            ("error", checkpoint.error.to_value()),
            ("rows", checkpoint.rows.to_value()),
            ("run_id", checkpoint.run_id.to_value()),
            ("input_digest", checkpoint.input_digest.to_value()),
            ("finished_at", checkpoint.finished_at.to_value()),
        ]));
    }

    /// Every recorded date as one upsert; `None` when no date was recorded.
    pub fn into_write(self) -> Option<TableWrite> {
        (!self.rows.is_empty())
            .then(|| TableWrite::replace(&BACKFILL_PROGRESS, ReplaceScope::Keys, self.rows, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_digest_depends_on_every_table() {
        let mut digests =
            BTreeMap::from([("a".to_owned(), "1:00".to_owned()), ("b".to_owned(), "2:00".to_owned())]);
        let before = combined_digest(&digests);
        assert_eq!(before.len(), 16);
        digests.insert("b".to_owned(), "2:01".to_owned());
        assert_ne!(combined_digest(&digests), before);
    }

    #[test]
    fn only_a_success_on_the_same_inputs_covers_a_date() {
        let checkpoint = Checkpoint {
            date: "2025-01-15".parse().unwrap(),
            status: "success".into(),
            error: None,
            rows: Some(3),
            run_id: Some("ab12cd34".into()),
            input_digest: Some("d1".into()),
            finished_at: None,
        };
        assert!(checkpoint.covers("d1"));
        assert!(!checkpoint.covers("d2"));
        assert!(!Checkpoint { status: "failed".into(), ..checkpoint }.covers("d1"));
    }
}
