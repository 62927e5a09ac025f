//! Universal player ids from `nba_reference.nba_players_registry` (README §4 item 13).
//!
//! The row of the game's season wins, else the most recent earlier season's row; a NULL
//! `universal_player_id` counts as missing (the reference took whichever row came last and was
//! not season-scoped, reference-pgs.md §2.4). Within one season a traded player has one row per
//! team: the row of the team he played for in the game wins, else the latest processed one.
//!
//! The registry has no date: [`index_registry`] runs once per chunk of dates and every date of
//! the chunk shares the index.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use framework::dedupe::{DuplicateKey, keep_latest};
use framework::schema::reference::NBA_PLAYERS_REGISTRY;

use crate::inputs::RegistryRow;

/// The start year of a `"2023-24"` label; `None` for any other text.
pub fn season_start_year(label: &str) -> Option<i64> {
    let (start, end) = label.split_once('-')?;
    let is_digits =
        |text: &str, length: usize| text.len() == length && text.bytes().all(|byte| byte.is_ascii_digit());
    if !is_digits(start, 4) || !is_digits(end, 2) {
        return None;
    }
    start.parse().ok()
}

/// Indexes the whole registry read for a chunk of dates: duplicate rows of one (player, team,
/// season) resolved first (README §4 item 9b), the duplicated keys returned for the caller to
/// log once. Built once per chunk, not per date: the rows are the same for every date.
pub fn index_registry(rows: Vec<RegistryRow>) -> (RegistryIndex, Vec<DuplicateKey>) {
    let (rows, duplicates) = keep_latest(
        rows,
        &NBA_PLAYERS_REGISTRY,
        |row| format!("{}/{}/{}", row.player_lookup, row.team_abbr, row.season),
        |row| row.processed_at,
    );
    (RegistryIndex::from_rows(rows), duplicates)
}

/// One usable registry row: it has an id and a readable season.
#[derive(Clone, Debug, PartialEq)]
struct RegistryEntry {
    season_start_year: i64,
    team_abbr: String,
    universal_player_id: String,
    processed_at: Option<DateTime<Utc>>,
}

/// The registry indexed by `player_lookup`; each player's rows sorted newest season first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegistryIndex {
    entries_by_lookup: HashMap<String, Vec<RegistryEntry>>,
}

impl RegistryIndex {
    /// Indexes the rows that can answer a lookup: rows with a NULL id or an unreadable season
    /// can never be the answer and are left out.
    pub fn from_rows(rows: Vec<RegistryRow>) -> Self {
        let mut entries_by_lookup: HashMap<String, Vec<RegistryEntry>> = HashMap::new();
        for row in rows {
            let (Some(universal_player_id), Some(season_start_year)) =
                (row.universal_player_id, season_start_year(&row.season))
            else {
                continue;
            };
            let entry = RegistryEntry {
                season_start_year,
                team_abbr: row.team_abbr,
                universal_player_id,
                processed_at: row.processed_at,
            };
            entries_by_lookup.entry(row.player_lookup).or_default().push(entry);
        }
        for entries in entries_by_lookup.values_mut() {
            entries.sort_by(|left, right| {
                (Reverse(left.season_start_year), Reverse(left.processed_at), &left.team_abbr).cmp(&(
                    Reverse(right.season_start_year),
                    Reverse(right.processed_at),
                    &right.team_abbr,
                ))
            });
        }
        RegistryIndex { entries_by_lookup }
    }

    /// The id of `player_lookup` for a game of season `season_year` played for `team_abbr`.
    pub fn resolve(&self, player_lookup: &str, season_year: i64, team_abbr: &str) -> Option<&str> {
        let entries = self.entries_by_lookup.get(player_lookup)?;
        let season = entries.iter().find(|entry| entry.season_start_year <= season_year)?.season_start_year;
        let mut same_season = entries.iter().filter(|entry| entry.season_start_year == season);
        let first = same_season.clone().next()?;
        let chosen = same_season.find(|entry| entry.team_abbr == team_abbr).unwrap_or(first);
        Some(&chosen.universal_player_id)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn registry_row(season: &str, team: &str, id: Option<&str>, processed_day: u32) -> RegistryRow {
        RegistryRow {
            player_lookup: "lebronjames".into(),
            universal_player_id: id.map(str::to_owned),
            team_abbr: team.into(),
            season: season.into(),
            processed_at: Some(Utc.with_ymd_and_hms(2024, 1, processed_day, 0, 0, 0).unwrap()),
        }
    }

    #[test]
    fn season_labels_parse_back_to_their_start_year() {
        assert_eq!(season_start_year("2023-24"), Some(2023));
        assert_eq!(season_start_year("2023"), None);
        assert_eq!(season_start_year("2023-2024"), None);
    }

    #[test]
    fn the_game_season_row_wins_over_other_seasons() {
        let index = RegistryIndex::from_rows(vec![
            registry_row("2022-23", "LAL", Some("lebronjames_old"), 9),
            registry_row("2023-24", "LAL", Some("lebronjames_001"), 1),
            registry_row("2024-25", "LAL", Some("lebronjames_new"), 9),
        ]);
        assert_eq!(index.resolve("lebronjames", 2023, "LAL"), Some("lebronjames_001"));
    }

    #[test]
    fn the_most_recent_earlier_season_answers_when_the_game_season_has_no_row() {
        let index = RegistryIndex::from_rows(vec![
            registry_row("2020-21", "LAL", Some("lebronjames_2020"), 9),
            registry_row("2022-23", "LAL", Some("lebronjames_2022"), 1),
            registry_row("2024-25", "LAL", Some("lebronjames_2024"), 9),
        ]);
        assert_eq!(index.resolve("lebronjames", 2023, "LAL"), Some("lebronjames_2022"));
        assert_eq!(index.resolve("lebronjames", 2019, "LAL"), None);
    }

    #[test]
    fn a_null_id_counts_as_missing_and_the_earlier_season_answers() {
        let index = RegistryIndex::from_rows(vec![
            registry_row("2023-24", "LAL", None, 9),
            registry_row("2022-23", "LAL", Some("lebronjames_001"), 1),
        ]);
        assert_eq!(index.resolve("lebronjames", 2023, "LAL"), Some("lebronjames_001"));
        let only_null = RegistryIndex::from_rows(vec![registry_row("2023-24", "LAL", None, 9)]);
        assert_eq!(only_null.resolve("lebronjames", 2023, "LAL"), None);
    }

    #[test]
    fn duplicate_registry_rows_keep_the_latest_processed_and_are_reported() {
        let (index, duplicates) = index_registry(vec![
            registry_row("2023-24", "LAL", Some("lebronjames_old"), 1),
            registry_row("2023-24", "LAL", Some("lebronjames_001"), 9),
            registry_row("2023-24", "LAL", Some("lebronjames_mid"), 5),
        ]);
        assert_eq!(index.resolve("lebronjames", 2023, "LAL"), Some("lebronjames_001"));
        assert_eq!(
            duplicates,
            vec![DuplicateKey {
                table: &NBA_PLAYERS_REGISTRY,
                key: "lebronjames/LAL/2023-24".into(),
                rows: 3
            }]
        );
    }

    #[test]
    fn a_traded_player_resolves_to_the_row_of_his_game_team() {
        let index = RegistryIndex::from_rows(vec![
            registry_row("2023-24", "CLE", Some("id_cle"), 9),
            registry_row("2023-24", "LAL", Some("id_lal"), 1),
        ]);
        assert_eq!(index.resolve("lebronjames", 2023, "LAL"), Some("id_lal"));
        assert_eq!(index.resolve("lebronjames", 2023, "BOS"), Some("id_cle"));
    }
}
