//! The prop line of a player in a game (README §4 item 12, reference-pgs.md §2.3).
//!
//! Bookmaker priority is the reference's: DraftKings, then FanDuel, then the others in
//! alphabetical order. Where the reference left the snapshot to chance (§10 B8), the latest
//! `snapshot_timestamp` of the chosen bookmaker wins (the latest market line), and a tie goes to
//! the latest `processed_at`.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::inputs::PlayerPropRow;

/// The line written to `points_line` / `points_line_source`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropLine {
    pub points_line: f64,
    /// The bookmaker key, e.g. `draftkings`.
    pub bookmaker: String,
}

/// The reference's bookmaker rank: 1 DraftKings, 2 FanDuel, 3 every other bookmaker.
pub fn bookmaker_rank(bookmaker: &str) -> u8 {
    match bookmaker {
        "draftkings" => 1,
        "fanduel" => 2,
        _ => 3,
    }
}

type Preference<'a> = (u8, &'a str, Reverse<DateTime<Utc>>, Reverse<Option<DateTime<Utc>>>);

/// The preference order of a row: smaller is better.
fn preference(row: &PlayerPropRow) -> Preference<'_> {
    (
        bookmaker_rank(&row.bookmaker),
        row.bookmaker.as_str(),
        Reverse(row.snapshot_timestamp),
        Reverse(row.processed_at),
    )
}

/// Points lines are positive and far below this: no player's line has come near 100, and
/// `points_line` (NUMERIC(4,1)) cannot hold 1000, so such a row is a feed error, not a line.
pub const MAXIMUM_POINTS_LINE: f64 = 100.0;

/// Whether a line can be a real points line: finite, positive, below [`MAXIMUM_POINTS_LINE`].
fn is_plausible_line(points_line: f64) -> bool {
    points_line.is_finite() && points_line > 0.0 && points_line < MAXIMUM_POINTS_LINE
}

/// Selects one line per (game_id, player_lookup): result keyed by game_id, then player_lookup.
/// Rows without a `player_lookup` or with an implausible line (non-finite, not positive, 100 or
/// more) cannot be matched or used and are skipped, so one bad feed row never fails the date's
/// save.
pub fn select_prop_lines(rows: &[PlayerPropRow]) -> HashMap<String, HashMap<String, PropLine>> {
    let mut best: HashMap<&str, HashMap<&str, &PlayerPropRow>> = HashMap::new();
    for row in rows.iter().filter(|row| is_plausible_line(row.points_line)) {
        let Some(lookup) = row.player_lookup.as_deref() else { continue };
        let current = best.entry(row.game_id.as_str()).or_default().entry(lookup).or_insert(row);
        if preference(row) < preference(current) {
            *current = row;
        }
    }
    best.into_iter()
        .map(|(game_id, players)| {
            let lines = players
                .into_iter()
                .map(|(lookup, row)| {
                    (
                        lookup.to_owned(),
                        PropLine { points_line: row.points_line, bookmaker: row.bookmaker.clone() },
                    )
                })
                .collect();
            (game_id.to_owned(), lines)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 15, hour, 0, 0).unwrap()
    }

    fn prop(bookmaker: &str, line: f64, snapshot_hour: u32, processed_hour: u32) -> PlayerPropRow {
        PlayerPropRow {
            game_id: "20240115_OKC_LAL".into(),
            game_date: NaiveDate::from_ymd_opt(2024, 1, 15).unwrap(),
            bookmaker: bookmaker.into(),
            player_lookup: Some("lebronjames".into()),
            points_line: line,
            snapshot_timestamp: at(snapshot_hour),
            processed_at: Some(at(processed_hour)),
        }
    }

    fn selected(rows: &[PlayerPropRow]) -> PropLine {
        select_prop_lines(rows)["20240115_OKC_LAL"]["lebronjames"].clone()
    }

    #[test]
    fn draftkings_beats_fanduel_beats_alphabetical() {
        let rows =
            [prop("betmgm", 26.5, 20, 20), prop("fanduel", 25.5, 20, 20), prop("draftkings", 24.5, 10, 10)];
        assert_eq!(selected(&rows), PropLine { points_line: 24.5, bookmaker: "draftkings".into() });
        let rows = [prop("williamhill_us", 26.5, 20, 20), prop("betmgm", 25.0, 10, 10)];
        assert_eq!(selected(&rows).bookmaker, "betmgm");
    }

    #[test]
    fn latest_snapshot_of_the_bookmaker_wins_then_latest_processed_at() {
        let rows = [
            prop("draftkings", 24.5, 12, 12),
            prop("draftkings", 25.5, 18, 18),
            prop("draftkings", 23.5, 15, 23),
        ];
        assert_eq!(selected(&rows).points_line, 25.5);
        let rows = [prop("draftkings", 24.5, 18, 19), prop("draftkings", 25.0, 18, 21)];
        assert_eq!(selected(&rows).points_line, 25.0);
    }

    #[test]
    fn unusable_prop_rows_are_skipped() {
        let mut without_lookup = prop("draftkings", 24.5, 18, 18);
        without_lookup.player_lookup = None;
        let rows = [without_lookup, prop("draftkings", f64::NAN, 20, 20), prop("fanduel", 22.5, 10, 10)];
        assert_eq!(selected(&rows), PropLine { points_line: 22.5, bookmaker: "fanduel".into() });
    }

    #[test]
    fn implausible_lines_are_skipped_not_written() {
        // A 1000.0 line once failed the whole date's save: points_line is NUMERIC(4,1).
        let rows = vec![
            prop("draftkings", 1000.0, 9, 9),
            prop("fanduel", 24.5, 8, 8),
            prop("betmgm", -3.5, 10, 10),
            prop("bovada", f64::MAX, 11, 11),
        ];
        let line = selected(&rows);
        assert_eq!((line.points_line, line.bookmaker.as_str()), (24.5, "fanduel"));
        assert!(!is_plausible_line(0.0));
        assert!(is_plausible_line(99.5));
    }
}
