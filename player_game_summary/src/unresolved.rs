//! Players the registry could not resolve (README §4 item 13): the run's counts and the
//! `nba_reference.unresolved_player_names` rows queued for a person to review.
//!
//! The lines themselves fail in `compute::process_entity` with `MISSING_DATA`; this module only
//! summarises the misses per player. Saving (and merging occurrences across runs) is the
//! caller's job.

use std::collections::{BTreeMap, BTreeSet};

use framework::RunContext;

use crate::inputs::{DateInputs, GameInputs, PlayerLine};
use crate::registry::season_label;
use crate::row::UnresolvedPlayerNameRow;

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
