//! Duplicate upstream rows (README §4 item 9b): per key, the row with the latest `processed_at`
//! wins, and every duplicated key is reported so that the caller can log it once per run.
//!
//! Upstream tables have no enforced key (the loader keeps duplicates, README §3.4); the
//! reference took whichever row its query returned last. The three processors resolve their
//! duplicates here, in the shape each needs: rows in read order ([`keep_latest`]), rows by key
//! ([`keep_latest_by_key`]), or sorted history rows ([`keep_latest_in_sorted_runs`]). The rule is
//! the same in all three: a missing `processed_at` is older than any timestamp, and on a tie the
//! row read later wins, so the result depends on the rows and their order, never on hashing.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use rustc_hash::FxHashMap;
use tracing::warn;

use crate::schema::{Dataset, Table};

/// One key that occurred more than once in an upstream table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub table: &'static Table,
    /// The key's values joined with `/`, e.g. `20240115_HOU_PHI/joelembiid`.
    pub key: String,
    /// How many rows carried the key (≥ 2); one of them was kept.
    pub rows: usize,
}

impl DuplicateKey {
    /// The duplicates of `table` from one key text per row beyond the first of its key, in key
    /// order: for a rule other than the latest `processed_at` (e.g. the circuit breaker's reprocess
    /// attempts).
    pub fn from_extra_rows(table: &'static Table, mut extra_row_keys: Vec<String>) -> Vec<DuplicateKey> {
        extra_row_keys.sort_unstable();
        let mut duplicates: Vec<DuplicateKey> = Vec::new();
        for key in extra_row_keys {
            match duplicates.last_mut() {
                Some(last) if last.key == key => last.rows += 1,
                _ => duplicates.push(DuplicateKey { table, key, rows: 2 }),
            }
        }
        duplicates
    }
}

impl Ord for DuplicateKey {
    /// By table (dataset, then name), then key: the order duplicates are reported in.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.table.dataset, self.table.name, &self.key, self.rows).cmp(&(
            other.table.dataset,
            other.table.name,
            &other.key,
            other.rows,
        ))
    }
}

impl PartialOrd for DuplicateKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for DuplicateKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} rows share the key {} in {}", self.rows, self.key, self.table)
    }
}

/// The duplicated keys a run has warned about, so that each case is logged once per run
/// (README §4 item 9b): a range reads the registry and the history window again for every chunk,
/// and a dropped speculative read is read again.
#[derive(Debug, Default)]
pub struct DuplicateLog {
    logged: Mutex<HashSet<LoggedDuplicate>>,
}

/// A case as logged: the date it was found for (none for tables every date reads, e.g. the
/// registry or the history), the table and the key.
type LoggedDuplicate = (Option<NaiveDate>, Dataset, &'static str, String);

impl DuplicateLog {
    /// One warning per duplicated key this run has not logged yet, prefixed with the date it was
    /// found for, if any.
    pub fn log(&self, date: Option<NaiveDate>, duplicates: &[DuplicateKey]) {
        let prefix = date.map(|date| format!("{date}: ")).unwrap_or_default();
        for duplicate in self.not_yet_logged(date, duplicates) {
            warn!("{prefix}{duplicate}; the latest processed_at wins");
        }
    }

    /// The cases of `duplicates` not logged before, now remembered as logged.
    fn not_yet_logged<'d>(
        &self,
        date: Option<NaiveDate>,
        duplicates: &'d [DuplicateKey],
    ) -> Vec<&'d DuplicateKey> {
        let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
        duplicates
            .iter()
            .filter(|duplicate| {
                logged.insert((date, duplicate.table.dataset, duplicate.table.name, duplicate.key.clone()))
            })
            .collect()
    }
}

/// Keeps one row per key, the latest (see the module); kept rows stay in first-seen order.
/// The duplicates come sorted by key.
pub fn keep_latest<Row>(
    rows: Vec<Row>,
    table: &'static Table,
    key_of: impl Fn(&Row) -> String,
    processed_at_of: impl Fn(&Row) -> Option<DateTime<Utc>>,
) -> (Vec<Row>, Vec<DuplicateKey>) {
    let mut position_by_key: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut kept: Vec<Row> = Vec::with_capacity(rows.len());
    let mut extra_row_keys: Vec<String> = Vec::new();
    for row in rows {
        let key = key_of(&row);
        if let Some(&position) = position_by_key.get(&key) {
            if processed_at_of(&row) >= processed_at_of(&kept[position]) {
                kept[position] = row;
            }
            extra_row_keys.push(key);
        } else {
            position_by_key.insert(key, kept.len());
            kept.push(row);
        }
    }
    (kept, DuplicateKey::from_extra_rows(table, extra_row_keys))
}

/// Keeps one row per key, the latest (see the module), indexed by key; appends the duplicated
/// keys (their `Display` text) to `duplicates`, sorted by key.
pub fn keep_latest_by_key<Row, Key>(
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
    let mut extra_row_keys: Vec<String> = Vec::new();
    for row in rows {
        match kept.entry(key_of(&row)) {
            Entry::Vacant(slot) => {
                slot.insert(row);
            }
            Entry::Occupied(mut slot) => {
                extra_row_keys.push(slot.key().to_string());
                if processed_at_of(&row) >= processed_at_of(slot.get()) {
                    slot.insert(row);
                }
            }
        }
    }
    duplicates.extend(DuplicateKey::from_extra_rows(table, extra_row_keys));
    kept
}

/// The rule of [`keep_latest`] for rows already sorted (stably) by key: each run of rows with
/// equal keys collapses to its latest row, and the output keeps the sorted order. Appends the
/// duplicated keys (`describe_key` of the run) to `duplicates` in run order.
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
    let mut run_rows = 1;
    for row in sorted_rows {
        let Some(previous) = kept.last_mut() else {
            kept.push(row);
            continue;
        };
        if !same_key(previous, &row) {
            report_run(table, previous, run_rows, &describe_key, duplicates);
            run_rows = 1;
            kept.push(row);
            continue;
        }
        run_rows += 1;
        if processed_at_of(&row) >= processed_at_of(previous) {
            *previous = row;
        }
    }
    if let Some(last) = kept.last() {
        report_run(table, last, run_rows, &describe_key, duplicates);
    }
    kept
}

fn report_run<Row>(
    table: &'static Table,
    kept: &Row,
    rows: usize,
    describe_key: impl Fn(&Row) -> String,
    duplicates: &mut Vec<DuplicateKey>,
) {
    if rows > 1 {
        duplicates.push(DuplicateKey { table, key: describe_key(kept), rows });
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::schema::precompute::PLAYER_DAILY_CACHE;
    use crate::schema::raw::BDL_PLAYER_BOXSCORES;

    fn at(hour: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2024, 1, 16, hour, 0, 0).unwrap())
    }

    fn duplicate(key: &str, rows: usize) -> DuplicateKey {
        DuplicateKey { table: &BDL_PLAYER_BOXSCORES, key: key.to_owned(), rows }
    }

    #[test]
    fn each_case_is_logged_once_per_run() {
        let log = DuplicateLog::default();
        let day = |text: &str| Some(text.parse::<NaiveDate>().unwrap());
        let first = [duplicate("a", 2), duplicate("b", 3)];
        assert_eq!(log.not_yet_logged(None, &first), vec![&first[0], &first[1]]);
        // The next chunk's history read: the same cases and a new one.
        let second = [duplicate("a", 2), duplicate("b", 3), duplicate("c", 2)];
        assert_eq!(log.not_yet_logged(None, &second), vec![&second[2]]);
        // A key found for a date is a case of its own, once per date.
        assert_eq!(log.not_yet_logged(day("2024-01-15"), &first[..1]), vec![&first[0]]);
        assert_eq!(log.not_yet_logged(day("2024-01-16"), &first[..1]), vec![&first[0]]);
        assert!(log.not_yet_logged(day("2024-01-15"), &first[..1]).is_empty());
        let cache = DuplicateKey { table: &PLAYER_DAILY_CACHE, key: "a".to_owned(), rows: 2 };
        assert_eq!(log.not_yet_logged(None, std::slice::from_ref(&cache)), vec![&cache]);
    }

    #[test]
    fn latest_processed_at_wins_whatever_the_read_order() {
        let rows = vec![("a", 1, at(5)), ("b", 2, at(1)), ("a", 3, at(9)), ("a", 4, at(7)), ("c", 5, None)];
        let (kept, duplicates) =
            keep_latest(rows, &BDL_PLAYER_BOXSCORES, |row| row.0.to_owned(), |row| row.2);
        assert_eq!(kept.iter().map(|row| row.1).collect::<Vec<_>>(), vec![3, 2, 5]);
        assert_eq!(duplicates, vec![duplicate("a", 3)]);
        assert_eq!(duplicates[0].to_string(), "3 rows share the key a in nba_raw.bdl_player_boxscores");
    }

    #[test]
    fn a_timestamp_beats_a_missing_one_and_ties_keep_the_later_row() {
        let rows = vec![("a", 1, at(5)), ("a", 2, None), ("b", 3, at(2)), ("b", 4, at(2))];
        let (kept, duplicates) =
            keep_latest(rows, &BDL_PLAYER_BOXSCORES, |row| row.0.to_owned(), |row| row.2);
        assert_eq!(kept.iter().map(|row| row.1).collect::<Vec<_>>(), vec![1, 4]);
        assert_eq!(duplicates, vec![duplicate("a", 2), duplicate("b", 2)]);
    }

    #[test]
    fn rows_by_key_follow_the_same_rule() {
        let rows = vec![("a", 1, at(9)), ("a", 2, at(11)), ("a", 3, at(10)), ("b", 4, None), ("c", 5, at(9))];
        let rows = [rows, vec![("c", 6, at(9)), ("d", 7, at(1)), ("d", 8, None)]].concat();
        let mut duplicates = Vec::new();
        let kept = keep_latest_by_key(rows, &PLAYER_DAILY_CACHE, |row| row.0, |row| row.2, &mut duplicates);
        assert_eq!([kept["a"].1, kept["b"].1, kept["c"].1, kept["d"].1], [2, 4, 6, 7]);
        let reported: Vec<(&str, usize)> =
            duplicates.iter().map(|duplicate| (duplicate.key.as_str(), duplicate.rows)).collect();
        assert_eq!(reported, [("a", 3), ("c", 2), ("d", 2)]);
        assert!(duplicates.iter().all(|duplicate| duplicate.table.name == "player_daily_cache"));
    }

    #[test]
    fn sorted_runs_collapse_to_their_latest_row() {
        let rows = vec![("a", 1, at(11)), ("a", 2, at(9)), ("a", 3, None), ("b", 4, None), ("c", 5, at(8))];
        let rows = [rows, vec![("c", 6, at(8))]].concat();
        let mut duplicates = Vec::new();
        let kept = keep_latest_in_sorted_runs(
            rows,
            &BDL_PLAYER_BOXSCORES,
            |left, right| left.0 == right.0,
            |row| row.2,
            |row| row.0.to_owned(),
            &mut duplicates,
        );
        assert_eq!(kept.iter().map(|row| row.1).collect::<Vec<_>>(), [1, 4, 6]);
        assert_eq!(duplicates, [duplicate("a", 3), duplicate("c", 2)]);
    }

    #[test]
    fn sorted_runs_without_duplicates_come_back_as_they_are() {
        let rows = vec![("a", 1, at(1)), ("b", 2, None)];
        let mut duplicates = Vec::new();
        let kept = keep_latest_in_sorted_runs(
            rows.clone(),
            &BDL_PLAYER_BOXSCORES,
            |left, right| left.0 == right.0,
            |row| row.2,
            |row| row.0.to_owned(),
            &mut duplicates,
        );
        assert_eq!(kept, rows);
        assert!(duplicates.is_empty());
    }

    #[test]
    fn extra_rows_count_towards_their_key() {
        let keys = ["b", "a", "b", "b"].map(str::to_owned).to_vec();
        assert_eq!(
            DuplicateKey::from_extra_rows(&BDL_PLAYER_BOXSCORES, keys),
            [duplicate("a", 2), duplicate("b", 4)]
        );
    }

    #[test]
    fn duplicates_sort_by_dataset_table_and_key() {
        let cache = DuplicateKey { table: &PLAYER_DAILY_CACHE, key: "a".to_owned(), rows: 2 };
        let mut duplicates = vec![cache.clone(), duplicate("b", 2), duplicate("a", 2)];
        duplicates.sort();
        assert_eq!(duplicates, [duplicate("a", 2), duplicate("b", 2), cache]);
    }
}
