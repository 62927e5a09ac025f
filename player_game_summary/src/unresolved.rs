//! Players the registry could not resolve (README §4 item 13): the run's counts and the
//! `nba_reference.unresolved_player_names` rows queued for a person to review.
//!
//! The lines themselves fail in `compute::process_entity` with `MISSING_DATA`; this module
//! summarises the misses per player and date, and says how a name's row combines what several
//! dates and runs saw ([`combine_sightings`]), which the runner applies when it saves.

use std::collections::{BTreeMap, BTreeSet};

use framework::schema::reference::UNRESOLVED_PLAYER_NAMES;
use framework::{RunContext, TableRow, Value};

use crate::inputs::{DateInputs, GameInputs, PlayerLine};
use crate::row::UnresolvedPlayerNameRow;
use framework::dates::season_label;

/// The `source` written to `unresolved_player_names` (the reference's registry source name).
pub const UNRESOLVED_SOURCE: &str = "player_game_summary";

/// At most this many example game ids per unresolved player (reference-pgs.md §2.4).
pub const MAXIMUM_EXAMPLE_GAMES: usize = 10;

/// The reference's `registry_stats` of one date (reference-pgs.md §8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryCounts {
    /// Distinct players with an id.
    pub players_found: usize,
    /// Distinct players without one.
    pub players_not_found: usize,
    /// Player lines dropped for want of an id.
    pub records_skipped: usize,
}

/// Every player line of the date with whether the registry resolves it.
fn lines_with_resolution(date_inputs: &DateInputs) -> impl Iterator<Item = (&GameInputs, &PlayerLine, bool)> {
    date_inputs.games.values().flat_map(move |game| {
        game.players.values().map(move |line| {
            let team_abbr = line.team_abbr.as_deref().unwrap_or_default();
            let resolved =
                date_inputs.registry.resolve(&line.player_lookup, line.season_year, team_abbr).is_some();
            (game, line, resolved)
        })
    })
}

/// Counts found and missing players and the skipped lines of the date.
pub fn registry_counts(date_inputs: &DateInputs) -> RegistryCounts {
    let mut found = BTreeSet::new();
    let mut not_found = BTreeSet::new();
    let mut records_skipped = 0;
    for (_, line, resolved) in lines_with_resolution(date_inputs) {
        if resolved {
            found.insert(line.player_lookup.as_str());
        } else {
            not_found.insert(line.player_lookup.as_str());
            records_skipped += 1;
        }
    }
    RegistryCounts { players_found: found.len(), players_not_found: not_found.len(), records_skipped }
}

/// One row per unresolved `player_lookup`, sorted by lookup.
///
/// `original_name` is the name as the box score printed it (the reference wrote the lookup
/// twice); `team_abbr` is the player's most frequent team of the date (ties: alphabetical);
/// first and last seen are the game date (the reference used the wall-clock day); status
/// `pending`.
pub fn unresolved_player_names(
    date_inputs: &DateInputs,
    context: &RunContext,
) -> Vec<UnresolvedPlayerNameRow> {
    let mut misses: BTreeMap<&str, Vec<(&GameInputs, &PlayerLine)>> = BTreeMap::new();
    for (game, line, resolved) in lines_with_resolution(date_inputs) {
        if !resolved {
            misses.entry(line.player_lookup.as_str()).or_default().push((game, line));
        }
    }
    misses.into_iter().map(|(lookup, lines)| unresolved_row(lookup, &lines, context)).collect()
}

fn unresolved_row(
    player_lookup: &str,
    lines: &[(&GameInputs, &PlayerLine)],
    context: &RunContext,
) -> UnresolvedPlayerNameRow {
    let original_name = lines
        .iter()
        .find_map(|(_, line)| line.player_full_name.clone())
        .unwrap_or_else(|| player_lookup.to_owned());
    let mut example_games: Vec<String> = lines.iter().map(|(game, _)| game.game_id.clone()).collect();
    example_games.sort();
    example_games.dedup();
    example_games.truncate(MAXIMUM_EXAMPLE_GAMES);
    let first_seen_date = lines.iter().map(|(game, _)| game.game_date).min().unwrap_or(context.date);
    let last_seen_date = lines.iter().map(|(game, _)| game.game_date).max().unwrap_or(context.date);
    let season_year = lines.first().map(|(_, line)| line.season_year);
    UnresolvedPlayerNameRow {
        source: UNRESOLVED_SOURCE.to_owned(),
        original_name,
        normalized_lookup: player_lookup.to_owned(),
        first_seen_date,
        last_seen_date,
        team_abbr: most_frequent_team(lines),
        season: season_year.map(season_label),
        occurrences: lines.len() as i64,
        example_games: Some(example_games),
        status: "pending".to_owned(),
        resolution_type: None,
        resolved_to_name: None,
        notes: Some(
            "no universal_player_id in nba_players_registry for the game's season or earlier".to_owned(),
        ),
        snooze_until: None,
        reviewed_by: None,
        reviewed_at: None,
        created_at: context.processed_at,
        processed_at: context.processed_at,
    }
}

fn most_frequent_team(lines: &[(&GameInputs, &PlayerLine)]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, line) in lines {
        if let Some(team_abbr) = line.team_abbr.as_deref() {
            *counts.entry(team_abbr).or_default() += 1;
        }
    }
    // `max_by_key` keeps the last maximum; iterating in reverse makes ties go alphabetical.
    counts.into_iter().rev().max_by_key(|(_, count)| *count).map(|(team_abbr, _)| team_abbr.to_owned())
}

/// One name's row from what it was (`earlier`: the stored row, or the dates combined so far) and
/// a `later` date's sighting, both as cells of `unresolved_player_names` (README §4 item 13):
///
/// - what people edit while reviewing stays as they left it: `status`, `resolution_type`,
///   `resolved_to_name`, `notes`, `snooze_until`, `reviewed_by`, `reviewed_at`, and the
///   `original_name` and `created_at` of the first sighting;
/// - the seen dates widen; `team_abbr` and `season` follow the latest sighting; example games
///   are the first [`MAXIMUM_EXAMPLE_GAMES`] of both, sorted;
/// - `occurrences` adds the later date's lines only when that date was not counted before
///   (`adds_an_uncounted_date`), so reruns never inflate it, and a date run out of order, inside
///   the seen span, still counts when the example games show it was never seen.
///
/// A row that does not read as a sighting (a required cell NULL) gives way to the later row.
pub fn combine_sightings(earlier: Vec<Value>, later: Vec<Value>) -> Vec<Value> {
    match (sighting_from_cells(&earlier), sighting_from_cells(&later)) {
        (Some(earlier), Some(later)) => combined(earlier, later).values(),
        _ => later,
    }
}

/// Whether `later`, one date's sighting, brings a date `earlier` has not counted: one outside the
/// seen span, or, inside it, a date with a game the example games would list had it been seen.
/// They are the first [`MAXIMUM_EXAMPLE_GAMES`] game ids seen, sorted, and a game id starts
/// with its date: with fewer than that many, they list every game seen; with that many, every
/// game before the last of them. A game after it, inside the span, may have been counted or not;
/// it is not counted again, so a rerun never adds to the count.
fn adds_an_uncounted_date(earlier: &UnresolvedPlayerNameRow, later: &UnresolvedPlayerNameRow) -> bool {
    if later.first_seen_date > earlier.last_seen_date || later.last_seen_date < earlier.first_seen_date {
        return true;
    }
    let (Some(listed), Some(games)) = (&earlier.example_games, &later.example_games) else {
        return false;
    };
    let lists_every_game_seen = listed.len() < MAXIMUM_EXAMPLE_GAMES;
    games.iter().any(|game| {
        !listed.contains(game) && (lists_every_game_seen || listed.last().is_some_and(|last| game < last))
    })
}

fn combined(earlier: UnresolvedPlayerNameRow, later: UnresolvedPlayerNameRow) -> UnresolvedPlayerNameRow {
    let occurrences = if adds_an_uncounted_date(&earlier, &later) {
        earlier.occurrences + later.occurrences
    } else {
        earlier.occurrences
    };
    let later_is_latest = later.last_seen_date >= earlier.last_seen_date;
    let (team_abbr, season) =
        if later_is_latest { (later.team_abbr, later.season) } else { (earlier.team_abbr, earlier.season) };
    let example_games = match (earlier.example_games, later.example_games) {
        (None, None) => None,
        (earlier_games, later_games) => {
            let mut games: Vec<String> = earlier_games.into_iter().chain(later_games).flatten().collect();
            games.sort();
            games.dedup();
            games.truncate(MAXIMUM_EXAMPLE_GAMES);
            Some(games)
        }
    };
    UnresolvedPlayerNameRow {
        first_seen_date: earlier.first_seen_date.min(later.first_seen_date),
        last_seen_date: earlier.last_seen_date.max(later.last_seen_date),
        team_abbr,
        season,
        occurrences,
        example_games,
        processed_at: later.processed_at,
        ..earlier
    }
}

/// The cells of an `unresolved_player_names` row as the row, `None` when a required cell is NULL.
fn sighting_from_cells(cells: &[Value]) -> Option<UnresolvedPlayerNameRow> {
    let cell = |column: &str| {
        UNRESOLVED_PLAYER_NAMES
            .column_index(column)
            .and_then(|index| cells.get(index))
            .unwrap_or(&Value::Null)
    };
    let text = |column: &str| cell(column).as_str().map(str::to_owned);
    Some(UnresolvedPlayerNameRow {
        source: text("source")?,
        original_name: text("original_name")?,
        normalized_lookup: text("normalized_lookup")?,
        first_seen_date: cell("first_seen_date").as_date()?,
        last_seen_date: cell("last_seen_date").as_date()?,
        team_abbr: text("team_abbr"),
        season: text("season"),
        occurrences: cell("occurrences").as_i64()?,
        example_games: match cell("example_games") {
            Value::StringArray(games) => Some(games.clone()),
            _ => None,
        },
        status: text("status")?,
        resolution_type: text("resolution_type"),
        resolved_to_name: text("resolved_to_name"),
        notes: text("notes"),
        snooze_until: cell("snooze_until").as_date(),
        reviewed_by: text("reviewed_by"),
        reviewed_at: cell("reviewed_at").as_timestamp(),
        created_at: cell("created_at").as_timestamp()?,
        processed_at: cell("processed_at").as_timestamp()?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// What one date's run writes for the rookie: `lines` lines in `games`, as `unresolved_row` does.
    fn sighting(date: &str, team_abbr: &str, lines: i64, games: &[&str]) -> UnresolvedPlayerNameRow {
        let run_time = Utc.from_utc_datetime(&day(date).and_hms_opt(9, 0, 0).unwrap());
        UnresolvedPlayerNameRow {
            source: UNRESOLVED_SOURCE.to_owned(),
            original_name: format!("Rookie ({date})"),
            normalized_lookup: "rookie".to_owned(),
            first_seen_date: day(date),
            last_seen_date: day(date),
            team_abbr: Some(team_abbr.to_owned()),
            season: Some("2024-25".to_owned()),
            occurrences: lines,
            example_games: Some(games.iter().map(|game| (*game).to_owned()).collect()),
            status: "pending".to_owned(),
            resolution_type: None,
            resolved_to_name: None,
            notes: Some("no universal_player_id".to_owned()),
            snooze_until: None,
            reviewed_by: None,
            reviewed_at: None,
            created_at: run_time,
            processed_at: run_time,
        }
    }

    fn combine(
        earlier: &UnresolvedPlayerNameRow,
        later: &UnresolvedPlayerNameRow,
    ) -> UnresolvedPlayerNameRow {
        sighting_from_cells(&combine_sightings(earlier.values(), later.values())).unwrap()
    }

    #[test]
    fn a_later_date_widens_the_span_adds_its_lines_and_moves_team_and_season() {
        let first = sighting("2025-01-14", "LAL", 2, &["20250114_LAL_GSW"]);
        let mut second = sighting("2025-01-16", "BOS", 1, &["20250116_BOS_NYK"]);
        second.season = Some("2025-26".to_owned());
        let row = combine(&first, &second);
        assert_eq!((row.first_seen_date, row.last_seen_date), (day("2025-01-14"), day("2025-01-16")));
        assert_eq!(row.occurrences, 3);
        assert_eq!((row.team_abbr.as_deref(), row.season.as_deref()), (Some("BOS"), Some("2025-26")));
        assert_eq!(
            row.example_games,
            Some(vec!["20250114_LAL_GSW".to_owned(), "20250116_BOS_NYK".to_owned()])
        );
        // First sighting's name and creation, the later run's processing time.
        assert_eq!(row.original_name, "Rookie (2025-01-14)");
        assert_eq!(row.created_at, first.created_at);
        assert_eq!(row.processed_at, second.processed_at);
    }

    #[test]
    fn an_earlier_date_backfilled_later_widens_the_span_back_and_keeps_the_latest_team() {
        let stored = sighting("2025-01-16", "BOS", 1, &["20250116_BOS_NYK"]);
        let backfilled = sighting("2025-01-10", "LAL", 4, &["20250110_LAL_DEN"]);
        let row = combine(&stored, &backfilled);
        assert_eq!((row.first_seen_date, row.last_seen_date), (day("2025-01-10"), day("2025-01-16")));
        assert_eq!(row.occurrences, 5);
        assert_eq!(row.team_abbr.as_deref(), Some("BOS"));
    }

    #[test]
    fn a_rerun_of_a_counted_date_keeps_the_count_and_what_reviewers_wrote() {
        let mut stored = combine(
            &sighting("2025-01-14", "LAL", 2, &["20250114_LAL_GSW"]),
            &sighting("2025-01-16", "LAL", 1, &["20250116_LAL_PHX"]),
        );
        stored.status = "snoozed".to_owned();
        stored.resolution_type = Some("alias".to_owned());
        stored.resolved_to_name = Some("rookiejr".to_owned());
        stored.notes = Some("two-way contract, check next week".to_owned());
        stored.snooze_until = Some(day("2025-01-30"));
        stored.reviewed_by = Some("analyst@example.com".to_owned());
        stored.reviewed_at = Some(Utc.with_ymd_and_hms(2025, 1, 17, 12, 0, 0).unwrap());
        for rerun in ["2025-01-14", "2025-01-15", "2025-01-16"] {
            let row = combine(&stored, &sighting(rerun, "LAL", 3, &[]));
            assert_eq!(row.occurrences, 3, "{rerun} lies in the counted span");
            assert_eq!(
                (row.status.as_str(), row.resolution_type.as_deref(), row.resolved_to_name.as_deref()),
                ("snoozed", Some("alias"), Some("rookiejr"))
            );
            assert_eq!(row.notes.as_deref(), Some("two-way contract, check next week"));
            assert_eq!(
                (row.snooze_until, row.reviewed_by.as_deref()),
                (Some(day("2025-01-30")), Some("analyst@example.com"))
            );
            assert_eq!(row.reviewed_at, stored.reviewed_at);
            assert_eq!((row.first_seen_date, row.last_seen_date), (day("2025-01-14"), day("2025-01-16")));
        }
    }

    #[test]
    fn a_date_inside_the_span_run_out_of_order_counts_once() {
        let stored = combine(
            &sighting("2025-01-14", "LAL", 2, &["20250114_LAL_GSW"]),
            &sighting("2025-01-18", "LAL", 1, &["20250118_LAL_PHX"]),
        );
        let late = sighting("2025-01-16", "LAL", 3, &["20250116_LAL_DEN"]);
        let row = combine(&stored, &late);
        assert_eq!(row.occurrences, 6, "2 + 1, then the 3 lines of the 16th");
        assert_eq!((row.first_seen_date, row.last_seen_date), (day("2025-01-14"), day("2025-01-18")));
        assert_eq!(row.team_abbr.as_deref(), Some("LAL"));
        assert_eq!(combine(&row, &late).occurrences, 6, "its rerun finds its game listed");
    }

    #[test]
    fn with_ten_example_games_an_inside_date_counts_only_when_its_game_would_be_listed() {
        let mut stored = sighting("2025-01-01", "LAL", 14, &[]);
        stored.last_seen_date = day("2025-01-31");
        // Ten games listed, on odd days from the 1st to the 19th.
        stored.example_games =
            Some((0..10).map(|index| format!("202501{:02}_LAL_GSW", 2 * index + 1)).collect());
        let before_the_last = sighting("2025-01-12", "LAL", 1, &["20250112_LAL_DEN"]);
        assert_eq!(combine(&stored, &before_the_last).occurrences, 15, "the 12th would be listed: unseen");
        let after_the_last = sighting("2025-01-25", "LAL", 1, &["20250125_LAL_DEN"]);
        assert_eq!(combine(&stored, &after_the_last).occurrences, 14, "the 25th may have been counted");
    }

    #[test]
    fn example_games_keep_the_first_ten_of_both_sorted() {
        let games = |days: std::ops::Range<u32>| -> Vec<String> {
            days.map(|day| format!("202501{day:02}_LAL_GSW")).collect()
        };
        let mut earlier = sighting("2025-01-15", "LAL", 6, &[]);
        earlier.example_games = Some(games(10..16));
        let mut later = sighting("2025-01-20", "LAL", 6, &[]);
        later.example_games = Some(games(3..9));
        // 3–8 and 10–15 sorted, the first ten kept: 3–8 and 10–13.
        let expected: Vec<String> = games(3..9).into_iter().chain(games(10..14)).collect();
        assert_eq!(combine(&earlier, &later).example_games, Some(expected));
    }

    #[test]
    fn a_stored_row_missing_a_required_cell_gives_way_to_the_new_sighting() {
        let mut broken = sighting("2025-01-14", "LAL", 2, &[]).values();
        broken[UNRESOLVED_PLAYER_NAMES.column_index("status").unwrap()] = Value::Null;
        let later = sighting("2025-01-16", "LAL", 1, &[]);
        assert_eq!(combine_sightings(broken, later.values()), later.values());
    }
}
