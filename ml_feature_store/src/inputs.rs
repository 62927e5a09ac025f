//! Everything one date needs, as typed rows: the upstream tables of reference-mlfs.md §2, read
//! by the extraction step and assembled here without I/O.
//!
//! The extraction step (the lead's `extract.rs`) fills [`DateRows`] for each date and
//! [`HistoryRows`] once per range chunk, then calls [`History::build`] and
//! [`DateInputs::build`]. Those resolve duplicate keys (README §4 item 9b) and index rows by
//! `player_lookup` or `team_abbr`; they return the duplicated keys so the caller logs each once.
//! Formulas live in `compute`.

mod history;
mod rows;

use rustc_hash::FxHashMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use framework::SourceUsage;
use framework::schema::analytics::UPCOMING_PLAYER_GAME_CONTEXT;
use framework::schema::precompute::{
    PLAYER_COMPOSITE_FACTORS, PLAYER_DAILY_CACHE, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
};

use framework::circuit_breaker::latest_attempts;
pub use framework::circuit_breaker::{LatestAttempt, ReprocessAttemptRow};
pub use framework::dedupe::DuplicateKey;
use framework::dedupe::keep_latest_by_key;
pub use history::{History, HistoryRows, PlayerGame, PlayerGames};
pub use rows::{
    NbacScheduleRow, PlayerCompositeFactorsRow, PlayerDailyCacheRow, PlayerGameSummaryRow,
    PlayerShotZoneAnalysisRow, TeamDefenseZoneAnalysisRow, TeamOffenseGameSummaryRow,
    UpcomingPlayerGameContextRow,
};

/// `processor_name` of this processor's rows in `nba_orchestration.reprocess_attempts`.
pub const REPROCESS_PROCESSOR_NAME: &str = framework::schema::predictions::ML_FEATURE_STORE_V2.name;

/// `expected_count_min` of each Phase 4 dependency (reference-mlfs.md §2.2): the row count at
/// which a source counts as complete in its `source_<prefix>_completeness_pct`.
pub const DAILY_CACHE_EXPECTED_ROWS: i64 = 100;
pub const COMPOSITE_EXPECTED_ROWS: i64 = 100;
pub const SHOT_ZONES_EXPECTED_ROWS: i64 = 100;
pub const TEAM_DEFENSE_EXPECTED_ROWS: i64 = 20;

/// The season a date belongs to: its year from October on, else the previous year
/// (reference-mlfs.md §1, `season_year` option).
pub fn season_year_of(date: NaiveDate) -> i64 {
    let year = i64::from(date.year());
    if date.month() >= 10 { year } else { year - 1 }
}

/// The per-date tables as read for one date `D`, in any order, duplicates included.
///
/// Date filters: UPGC `game_date = D`, daily cache `cache_date = D`, composite factors
/// `game_date = D`, shot zones and team defense `analysis_date = D`, reprocess attempts
/// `analysis_date = D` (all attempts of every processor; this processor's latest per player is
/// taken here, README §4 item 19).
#[derive(Clone, Debug, Default)]
pub struct DateRows {
    pub upcoming_player_game_context: Vec<UpcomingPlayerGameContextRow>,
    pub player_daily_cache: Vec<PlayerDailyCacheRow>,
    pub player_composite_factors: Vec<PlayerCompositeFactorsRow>,
    pub player_shot_zone_analysis: Vec<PlayerShotZoneAnalysisRow>,
    pub team_defense_zone_analysis: Vec<TeamDefenseZoneAnalysisRow>,
    pub reprocess_attempts: Vec<ReprocessAttemptRow>,
}

/// The read-only inputs of every `process_entity` call of one date.
#[derive(Clone, Debug)]
pub struct DateInputs {
    /// `D`, the processed `game_date` (= `analysis_date`).
    pub date: NaiveDate,
    /// [`season_year_of`] `D`.
    pub season_year: i64,
    /// One context row per player (latest `processed_at`), sorted by `player_lookup`.
    pub players: Vec<UpcomingPlayerGameContextRow>,
    pub daily_cache: FxHashMap<String, PlayerDailyCacheRow>,
    pub composite_factors: FxHashMap<String, PlayerCompositeFactorsRow>,
    pub shot_zones: FxHashMap<String, PlayerShotZoneAnalysisRow>,
    /// Keyed by `team_abbr`; a player reads the row of its opponent.
    pub team_defense: FxHashMap<String, TeamDefenseZoneAnalysisRow>,
    /// The latest reprocess attempt of each `entity_id` (= `player_lookup`) for `D`.
    pub latest_reprocess_attempts: FxHashMap<String, LatestAttempt>,
    /// History shared by the dates of a range chunk; each date slices it at `D`.
    pub history: Arc<History>,
    /// The `source_<prefix>_*` columns of the four Phase 4 sources (reference-mlfs.md §2.2–2.3).
    pub source_daily_cache: SourceUsage,
    pub source_composite: SourceUsage,
    pub source_shot_zones: SourceUsage,
    pub source_team_defense: SourceUsage,
}

impl DateInputs {
    /// Resolves duplicates, indexes the rows and derives the source usage of each Phase 4
    /// table from the rows read ([`SourceUsage::of_rows`]). Rows of another date or processor are
    /// ignored, so an extraction over a range may hand over a superset.
    pub fn build(date: NaiveDate, rows: DateRows, history: Arc<History>) -> (DateInputs, Vec<DuplicateKey>) {
        let mut duplicates = Vec::new();
        let DateRows {
            upcoming_player_game_context,
            player_daily_cache,
            player_composite_factors,
            player_shot_zone_analysis,
            team_defense_zone_analysis,
            reprocess_attempts,
        } = rows;

        let player_daily_cache = only_date(player_daily_cache, date, |row| row.cache_date);
        let player_composite_factors = only_date(player_composite_factors, date, |row| row.game_date);
        let player_shot_zone_analysis = only_date(player_shot_zone_analysis, date, |row| row.analysis_date);
        let team_defense_zone_analysis = only_date(team_defense_zone_analysis, date, |row| row.analysis_date);

        let source_daily_cache =
            SourceUsage::of_rows(&player_daily_cache, DAILY_CACHE_EXPECTED_ROWS, |row| {
                (row.processed_at, row.data_hash.as_deref())
            });
        // The reference read the composite hash by `analysis_date`; every source is read here
        // by its own date column (`game_date` for composite factors), the one the features use.
        let source_composite =
            SourceUsage::of_rows(&player_composite_factors, COMPOSITE_EXPECTED_ROWS, |row| {
                (row.processed_at, row.data_hash.as_deref())
            });
        let source_shot_zones =
            SourceUsage::of_rows(&player_shot_zone_analysis, SHOT_ZONES_EXPECTED_ROWS, |row| {
                (row.processed_at, row.data_hash.as_deref())
            });
        let source_team_defense =
            SourceUsage::of_rows(&team_defense_zone_analysis, TEAM_DEFENSE_EXPECTED_ROWS, |row| {
                (row.processed_at, row.data_hash.as_deref())
            });

        let inputs = DateInputs {
            date,
            season_year: season_year_of(date),
            players: latest_players(upcoming_player_game_context, date, &mut duplicates),
            daily_cache: keep_latest_by_key(
                player_daily_cache,
                &PLAYER_DAILY_CACHE,
                |row| row.player_lookup.clone(),
                |row| row.processed_at,
                &mut duplicates,
            ),
            composite_factors: keep_latest_by_key(
                player_composite_factors,
                &PLAYER_COMPOSITE_FACTORS,
                |row| row.player_lookup.clone(),
                |row| row.processed_at,
                &mut duplicates,
            ),
            shot_zones: keep_latest_by_key(
                player_shot_zone_analysis,
                &PLAYER_SHOT_ZONE_ANALYSIS,
                |row| row.player_lookup.clone(),
                |row| row.processed_at,
                &mut duplicates,
            ),
            team_defense: keep_latest_by_key(
                team_defense_zone_analysis,
                &TEAM_DEFENSE_ZONE_ANALYSIS,
                |row| row.team_abbr.clone(),
                |row| row.processed_at,
                &mut duplicates,
            ),
            latest_reprocess_attempts: latest_attempts(
                reprocess_attempts,
                REPROCESS_PROCESSOR_NAME,
                date,
                &mut duplicates,
            ),
            history,
            source_daily_cache,
            source_composite,
            source_shot_zones,
            source_team_defense,
        };
        (inputs, duplicates)
    }
}

fn only_date<Row>(rows: Vec<Row>, date: NaiveDate, date_of: impl Fn(&Row) -> NaiveDate) -> Vec<Row> {
    rows.into_iter().filter(|row| date_of(row) == date).collect()
}

/// One context row per `player_lookup` (README §4 items 9b and 14), sorted by `player_lookup`
/// so that entities, and therefore output rows, come in key order (README §4 item 2).
fn latest_players(
    rows: Vec<UpcomingPlayerGameContextRow>,
    date: NaiveDate,
    duplicates: &mut Vec<DuplicateKey>,
) -> Vec<UpcomingPlayerGameContextRow> {
    let rows = only_date(rows, date, |row| row.game_date);
    let latest = keep_latest_by_key(
        rows,
        &UPCOMING_PLAYER_GAME_CONTEXT,
        |row| row.player_lookup.clone(),
        |row| row.processed_at,
        duplicates,
    );
    let mut players: Vec<UpcomingPlayerGameContextRow> = latest.into_values().collect();
    players.sort_unstable_by(|left, right| left.player_lookup.cmp(&right.player_lookup));
    players
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn at(hour: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2025, 1, 15, hour, 0, 0).unwrap())
    }

    fn context(
        player_lookup: &str,
        game_date: &str,
        status: &str,
        hour: u32,
    ) -> UpcomingPlayerGameContextRow {
        UpcomingPlayerGameContextRow {
            player_lookup: player_lookup.into(),
            game_date: date(game_date),
            player_status: Some(status.to_owned()),
            processed_at: at(hour),
            ..UpcomingPlayerGameContextRow::default()
        }
    }

    fn attempt(entity_id: &str, number: i64, processor_name: &str) -> ReprocessAttemptRow {
        ReprocessAttemptRow {
            processor_name: processor_name.to_owned(),
            entity_id: entity_id.to_owned(),
            analysis_date: date("2025-01-15"),
            attempt_number: number,
            ..ReprocessAttemptRow::default()
        }
    }

    #[test]
    fn season_year_turns_over_in_october() {
        assert_eq!(season_year_of(date("2025-01-15")), 2024);
        assert_eq!(season_year_of(date("2024-10-01")), 2024);
        assert_eq!(season_year_of(date("2024-09-30")), 2023);
    }

    #[test]
    fn players_are_deduplicated_and_sorted_by_lookup() {
        let rows = DateRows {
            upcoming_player_game_context: vec![
                context("zed", "2025-01-15", "available", 9),
                context("amy", "2025-01-15", "out", 9),
                context("amy", "2025-01-15", "available", 10),
                context("old", "2025-01-14", "available", 10),
            ],
            ..DateRows::default()
        };
        let (inputs, duplicates) = DateInputs::build(date("2025-01-15"), rows, Arc::default());
        let players: Vec<(&str, Option<&str>)> = inputs
            .players
            .iter()
            .map(|row| (row.player_lookup.as_str(), row.player_status.as_deref()))
            .collect();
        assert_eq!(players, [("amy", Some("available")), ("zed", Some("available"))]);
        assert_eq!(duplicates.len(), 1);
        assert_eq!(
            duplicates[0].to_string(),
            "2 rows share the key amy in nba_analytics.upcoming_player_game_context"
        );
        assert_eq!(inputs.season_year, 2024);
    }

    #[test]
    fn the_highest_attempt_of_this_processor_is_kept() {
        let rows = DateRows {
            reprocess_attempts: vec![
                attempt("amy", 2, REPROCESS_PROCESSOR_NAME),
                attempt("amy", 3, REPROCESS_PROCESSOR_NAME),
                attempt("amy", 1, REPROCESS_PROCESSOR_NAME),
                attempt("amy", 9, "player_composite_factors"),
            ],
            ..DateRows::default()
        };
        let (inputs, duplicates) = DateInputs::build(date("2025-01-15"), rows, Arc::default());
        assert_eq!(inputs.latest_reprocess_attempts["amy"].attempt_number, 3);
        assert!(duplicates.is_empty());
    }

    #[test]
    fn source_usage_counts_rows_and_takes_the_latest_hash() {
        let cache_row = |player_lookup: &str, hour: u32, hash: Option<&str>| PlayerDailyCacheRow {
            player_lookup: player_lookup.to_owned(),
            cache_date: date("2025-01-15"),
            data_hash: hash.map(str::to_owned),
            processed_at: at(hour),
            ..PlayerDailyCacheRow::default()
        };
        let rows = DateRows {
            player_daily_cache: vec![
                cache_row("a", 9, Some("older")),
                cache_row("b", 11, None),
                cache_row("c", 10, Some("newest")),
            ],
            ..DateRows::default()
        };
        let (inputs, _) = DateInputs::build(date("2025-01-15"), rows, Arc::default());
        let usage = &inputs.source_daily_cache;
        assert_eq!(usage.rows_found, Some(3));
        assert_eq!(usage.completeness_pct, Some(3.0));
        assert_eq!(usage.last_updated, at(11));
        assert_eq!(usage.hash.as_deref(), Some("newest"));
        assert_eq!(inputs.source_composite, SourceUsage::default());
    }
}
