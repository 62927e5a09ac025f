//! Resolution of duplicate upstream rows: per key, the row with the latest `processed_at` wins
//! (README §4 item 9b; the reference kept whichever row its query returned last).
//!
//! This module only decides and reports; logging the reported keys once per run is the
//! caller's job, because the compute side of the crate logs nothing.

use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::Hash;

use chrono::{DateTime, Utc};
use framework::schema::Table;

/// One key that had more than one row in an upstream table, reported once however many rows
/// shared it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub table: &'static Table,
    /// The key's values joined with `/`, in the order of the table's key columns.
    pub key: String,
}

impl fmt::Display for DuplicateKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} key {}", self.table, self.key)
    }
}

/// Keeps, per key, the row with the latest `processed_at`, and appends each duplicated key to
/// `duplicates` once.
///
/// A NULL `processed_at` is older than any timestamp. On a tie the row that comes later in
/// `rows` wins, so the result depends only on the rows and their order, never on hashing.
pub fn keep_latest_per_key<Row, Key>(
    rows: Vec<Row>,
    table: &'static Table,
    key_of: impl Fn(&Row) -> Key,
    processed_at_of: impl Fn(&Row) -> Option<DateTime<Utc>>,
    duplicates: &mut Vec<DuplicateKey>,
) -> FxHashMap<Key, Row>
where
    Key: Eq + Hash + fmt::Display,
{
    let mut kept: FxHashMap<Key, Row> = FxHashMap::with_capacity_and_hasher(rows.len(), Default::default());
    let mut duplicated_keys: Vec<String> = Vec::new();
    for row in rows {
        match kept.entry(key_of(&row)) {
            Entry::Vacant(slot) => {
                slot.insert(row);
            }
            Entry::Occupied(mut slot) => {
                duplicated_keys.push(slot.key().to_string());
                if processed_at_of(&row) >= processed_at_of(slot.get()) {
                    slot.insert(row);
                }
            }
        }
    }
    duplicated_keys.sort_unstable();
    duplicated_keys.dedup();
    duplicates.extend(duplicated_keys.into_iter().map(|key| DuplicateKey { table, key }));
    kept
}

/// The same rule as [`keep_latest_per_key`] for rows already sorted (stably) by key: each run
/// of rows with equal keys collapses to its latest row, and the output keeps the sorted order.
///
/// Sorting once and collapsing runs is cheaper than hashing for the history tables, whose rows
/// are wanted sorted anyway.
pub fn keep_latest_in_sorted_runs<Row>(
    sorted_rows: Vec<Row>,
    table: &'static Table,
    same_key: impl Fn(&Row, &Row) -> bool,
    processed_at_of: impl Fn(&Row) -> Option<DateTime<Utc>>,
    describe_key: impl Fn(&Row) -> String,
    duplicates: &mut Vec<DuplicateKey>,
) -> Vec<Row> {
    // The usual case, checked without moving a row: no two neighbours share a key.
    if !sorted_rows.windows(2).any(|pair| same_key(&pair[0], &pair[1])) {
        return sorted_rows;
    }
    let mut kept: Vec<Row> = Vec::with_capacity(sorted_rows.len());
    let mut last_reported: Option<String> = None;
    for row in sorted_rows {
        let Some(previous) = kept.last_mut() else {
            kept.push(row);
            continue;
        };
        if !same_key(previous, &row) {
            kept.push(row);
            continue;
        }
        let key = describe_key(&row);
        if last_reported.as_ref() != Some(&key) {
            duplicates.push(DuplicateKey { table, key: key.clone() });
            last_reported = Some(key);
        }
        if processed_at_of(&row) >= processed_at_of(previous) {
            *previous = row;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use framework::schema::precompute::PLAYER_DAILY_CACHE;

    fn at(hour: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2025, 1, 15, hour, 0, 0).unwrap())
    }

    #[test]
    fn latest_processed_at_wins_whatever_the_row_order() {
        let rows = vec![("a", 1, at(9)), ("a", 2, at(11)), ("a", 3, at(10)), ("b", 4, None)];
        let mut duplicates = Vec::new();
        let kept = keep_latest_per_key(rows, &PLAYER_DAILY_CACHE, |row| row.0, |row| row.2, &mut duplicates);
        assert_eq!(kept["a"].1, 2);
        assert_eq!(kept["b"].1, 4);
        assert_eq!(duplicates.len(), 1, "a key duplicated three times is reported once");
        assert_eq!(duplicates[0].to_string(), "nba_precompute.player_daily_cache key a");
    }

    #[test]
    fn a_timestamp_beats_null_and_ties_go_to_the_later_row() {
        let rows = vec![("a", 1, at(9)), ("a", 2, None), ("b", 3, at(9)), ("b", 4, at(9))];
        let mut duplicates = Vec::new();
        let kept = keep_latest_per_key(rows, &PLAYER_DAILY_CACHE, |row| row.0, |row| row.2, &mut duplicates);
        assert_eq!(kept["a"].1, 1);
        assert_eq!(kept["b"].1, 4);
        assert_eq!(duplicates.iter().map(|duplicate| duplicate.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn sorted_runs_collapse_to_their_latest_row() {
        let rows = vec![("a", 1, at(11)), ("a", 2, at(9)), ("a", 3, None), ("b", 4, None), ("c", 5, at(8))];
        let mut duplicates = Vec::new();
        let kept = keep_latest_in_sorted_runs(
            rows,
            &PLAYER_DAILY_CACHE,
            |left, right| left.0 == right.0,
            |row| row.2,
            |row| row.0.to_owned(),
            &mut duplicates,
        );
        assert_eq!(kept.iter().map(|row| row.1).collect::<Vec<_>>(), [1, 4, 5]);
        assert_eq!(duplicates.len(), 1);
        assert_eq!(duplicates[0].key, "a");
    }
}
