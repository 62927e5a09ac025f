//! Duplicate upstream rows (README §4 item 9b): per key, the row with the latest `processed_at`
//! wins, and every duplicated key is returned so that the caller can log it once per run.
//!
//! Upstream tables have no enforced key (the loader keeps duplicates, README §3.4); the
//! reference took whichever row its query returned last. Logging is the caller's job: this
//! module only decides and reports.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// One key that occurred more than once in an upstream table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DuplicateKey {
    /// Qualified table name, e.g. `nba_raw.bdl_player_boxscores`.
    pub table: &'static str,
    /// The key's values joined with `/`, e.g. `20240115_HOU_PHI/joelembiid`.
    pub key: String,
    /// How many rows carried the key (≥ 2); one of them was kept.
    pub rows: usize,
}

/// Keeps one row per key: the one with the latest `processed_at` (a missing timestamp is older
/// than any timestamp; on a tie the row read later wins). Kept rows stay in first-seen order;
/// the duplicate report is sorted by key.
pub fn keep_latest<Row>(
    rows: Vec<Row>,
    table: &'static str,
    key_of: impl Fn(&Row) -> String,
    processed_at_of: impl Fn(&Row) -> Option<DateTime<Utc>>,
) -> (Vec<Row>, Vec<DuplicateKey>) {
    let mut position_by_key: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut kept: Vec<Row> = Vec::with_capacity(rows.len());
    let mut row_counts: Vec<usize> = Vec::with_capacity(rows.len());
    for row in rows {
        let key = key_of(&row);
        if let Some(&position) = position_by_key.get(&key) {
            row_counts[position] += 1;
            if processed_at_of(&row) >= processed_at_of(&kept[position]) {
                kept[position] = row;
            }
        } else {
            position_by_key.insert(key, kept.len());
            row_counts.push(1);
            kept.push(row);
        }
    }
    let mut duplicates: Vec<DuplicateKey> = position_by_key
        .into_iter()
        .filter(|(_, position)| row_counts[*position] > 1)
        .map(|(key, position)| DuplicateKey { table, key, rows: row_counts[position] })
        .collect();
    duplicates.sort();
    (kept, duplicates)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2024, 1, 16, hour, 0, 0).unwrap())
    }

    #[test]
    fn latest_processed_at_wins_whatever_the_read_order() {
        let rows = vec![("a", 1, at(5)), ("b", 2, at(1)), ("a", 3, at(9)), ("a", 4, at(7)), ("c", 5, None)];
        let (kept, duplicates) = keep_latest(rows, "t", |row| row.0.to_owned(), |row| row.2);
        assert_eq!(kept.iter().map(|row| row.1).collect::<Vec<_>>(), vec![3, 2, 5]);
        assert_eq!(duplicates, vec![DuplicateKey { table: "t", key: "a".into(), rows: 3 }]);
    }

    #[test]
    fn a_timestamp_beats_a_missing_one_and_ties_keep_the_later_row() {
        let rows = vec![("a", 1, at(5)), ("a", 2, None), ("b", 3, at(2)), ("b", 4, at(2))];
        let (kept, duplicates) = keep_latest(rows, "t", |row| row.0.to_owned(), |row| row.2);
        assert_eq!(kept.iter().map(|row| row.1).collect::<Vec<_>>(), vec![1, 4]);
        assert_eq!(duplicates.len(), 2);
    }
}
