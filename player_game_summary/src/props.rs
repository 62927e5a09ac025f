//! The prop line of a player in a game (README §4 item 12, reference-pgs.md §2.3).
//!
//! Bookmaker priority is the reference's: DraftKings, then FanDuel, then the others in
//! alphabetical order. Where the reference left the snapshot to chance (§10 B8), the latest
//! `snapshot_timestamp` of the chosen bookmaker wins (the latest market line), and a tie goes to
//! the latest `processed_at`: rows of one snapshot are duplicates (README §4 item 9b), resolved
//! and reported here too.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use framework::dedupe::DuplicateKey;
use framework::schema::raw::ODDS_API_PLAYER_POINTS_PROPS;

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

type Preference<'a> = (u8, &'a str, Reverse<DateTime<Utc>>);

/// The preference order of a row's snapshot: smaller is better. Rows of one snapshot compare
/// equal; which of them stands for it is [`latest_processed`]'s choice.
fn preference(row: &PlayerPropRow) -> Preference<'_> {
    (bookmaker_rank(&row.bookmaker), row.bookmaker.as_str(), Reverse(row.snapshot_timestamp))
}

/// The row that stands for one snapshot read several times: the latest `processed_at` (a
/// missing one is older than any), on a tie the row read later, as `framework::dedupe` decides.
fn latest_processed<'a>(snapshot_rows: &[&'a PlayerPropRow]) -> &'a PlayerPropRow {
    snapshot_rows
        .iter()
        .copied()
        .reduce(|kept, row| if row.processed_at >= kept.processed_at { row } else { kept })
        .expect("chunk_by yields non-empty runs")
}

/// Points lines are positive and far below this: no player's line has come near 100, and
/// `points_line` (NUMERIC(4,1)) cannot hold 1000, so such a row is a feed error, not a line.
pub const MAXIMUM_POINTS_LINE: f64 = 100.0;

/// Whether a line can be a real points line: finite, positive, below [`MAXIMUM_POINTS_LINE`].
fn is_plausible_line(points_line: f64) -> bool {
    points_line.is_finite() && points_line > 0.0 && points_line < MAXIMUM_POINTS_LINE
}

/// Lines selected per game_id, then per player_lookup.
pub type PropLines = HashMap<String, HashMap<String, PropLine>>;

/// Selects one line per (game_id, player_lookup) from `rows` (one date's), and reports every
/// snapshot read more than once.
///
/// Duplicates are resolved first: of the rows sharing (game, player, bookmaker, snapshot) only
/// the latest `processed_at` counts (on a tie the row read later). Then the most preferred
/// snapshot whose row is usable wins. Rows without a `player_lookup` or with an implausible line
/// (non-finite, not positive, 100 or more) cannot be matched or used and are skipped, so one bad
/// feed row never fails the date's save; a snapshot whose latest row is such a row is skipped
/// too, not replaced by its older version.
///
/// The rows are grouped per player and each group sorted by preference: a player has a few
/// bookmakers and snapshots, while a date has about a thousand rows.
pub fn select_prop_lines<'a>(
    rows: impl IntoIterator<Item = &'a PlayerPropRow>,
) -> (PropLines, Vec<DuplicateKey>) {
    let mut rows_by_player: HashMap<(&str, &str), Vec<&PlayerPropRow>> = HashMap::new();
    for row in rows {
        // A missing lookup shares the empty lookup's snapshots, as the duplicate key text does.
        let lookup = row.player_lookup.as_deref().unwrap_or("");
        rows_by_player.entry((row.game_id.as_str(), lookup)).or_default().push(row);
    }
    let mut lines = PropLines::new();
    let mut duplicates = Vec::new();
    for ((game_id, lookup), mut player_rows) in rows_by_player {
        // Stable: the rows of one snapshot stay in read order for `latest_processed`.
        player_rows.sort_by(|left, right| preference(left).cmp(&preference(right)));
        let mut selected = None;
        for snapshot_rows in player_rows.chunk_by(|left, right| preference(left) == preference(right)) {
            let kept = latest_processed(snapshot_rows);
            if snapshot_rows.len() > 1 {
                let snapshot = kept.snapshot_timestamp.to_rfc3339();
                duplicates.push(DuplicateKey {
                    table: &ODDS_API_PLAYER_POINTS_PROPS,
                    key: format!("{game_id}/{lookup}/{}/{snapshot}", kept.bookmaker),
                    rows: snapshot_rows.len(),
                });
            }
            if selected.is_none() && kept.player_lookup.is_some() && is_plausible_line(kept.points_line) {
                selected = Some(kept);
            }
        }
        if let Some(row) = selected {
            let line = PropLine { points_line: row.points_line, bookmaker: row.bookmaker.clone() };
            lines.entry(game_id.to_owned()).or_default().insert(lookup.to_owned(), line);
        }
    }
    duplicates.sort();
    (lines, duplicates)
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
        select_prop_lines(rows).0["20240115_OKC_LAL"]["lebronjames"].clone()
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
    fn among_other_bookmakers_the_first_alphabetically_gives_its_latest_snapshot() {
        let rows = [
            prop("betrivers", 26.5, 20, 20),
            prop("betmgm", 25.0, 10, 10),
            prop("betmgm", 25.5, 14, 14),
            prop("williamhill_us", 24.5, 22, 22),
        ];
        assert_eq!(selected(&rows), PropLine { points_line: 25.5, bookmaker: "betmgm".into() });
    }

    #[test]
    fn a_snapshot_read_three_times_keeps_its_latest_row_and_is_reported() {
        let rows = [
            prop("draftkings", 24.5, 18, 19),
            prop("draftkings", 25.0, 18, 21),
            prop("fanduel", 22.5, 20, 20),
            prop("draftkings", 26.0, 18, 20),
        ];
        let (lines, duplicates) = select_prop_lines(&rows);
        assert_eq!(lines["20240115_OKC_LAL"]["lebronjames"].points_line, 25.0);
        assert_eq!(
            duplicates,
            vec![DuplicateKey {
                table: &ODDS_API_PLAYER_POINTS_PROPS,
                key: "20240115_OKC_LAL/lebronjames/draftkings/2024-01-15T18:00:00+00:00".into(),
                rows: 3
            }]
        );
    }

    #[test]
    fn rows_of_one_snapshot_processed_together_resolve_to_the_row_read_later() {
        let first = prop("draftkings", 24.5, 18, 20);
        let second = prop("draftkings", 25.5, 18, 20);
        assert_eq!(selected(&[first.clone(), second.clone()]).points_line, 25.5);
        assert_eq!(selected(&[second, first]).points_line, 24.5);
    }

    #[test]
    fn a_snapshot_whose_latest_row_is_unusable_gives_way_to_the_previous_snapshot() {
        // The re-processed 18:00 row is broken: its older version does not come back.
        let rows = [
            prop("draftkings", 25.5, 18, 19),
            prop("draftkings", f64::NAN, 18, 21),
            prop("draftkings", 23.5, 12, 12),
            prop("fanduel", 22.5, 20, 20),
        ];
        assert_eq!(selected(&rows), PropLine { points_line: 23.5, bookmaker: "draftkings".into() });
    }

    #[test]
    fn lines_are_selected_per_game_and_player() {
        let mut curry = prop("fanduel", 28.5, 18, 18);
        curry.player_lookup = Some("stephcurry".into());
        let mut other_game = prop("betmgm", 21.5, 18, 18);
        other_game.game_id = "20240115_BOS_HOU".into();
        let (lines, duplicates) = select_prop_lines(&[prop("draftkings", 24.5, 18, 18), curry, other_game]);
        assert_eq!(lines["20240115_OKC_LAL"]["lebronjames"].points_line, 24.5);
        assert_eq!(lines["20240115_OKC_LAL"]["stephcurry"].points_line, 28.5);
        assert_eq!(lines["20240115_BOS_HOU"]["lebronjames"].bookmaker, "betmgm");
        assert_eq!((lines.len(), duplicates.len()), (2, 0));
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
