//! Typed rows of the upstream tables the feature store reads, one struct per table.
//!
//! Field names equal the column names of `tables.md`, so the extraction step maps columns to
//! fields one to one. Every column that the local DDL does not enforce as NOT NULL (README §3.4:
//! only key columns are enforced) is an `Option`, as is every NUMERIC value: NULL and NaN both
//! mean "missing" (README §4 item 9) and the compute step decides what missing means for each
//! feature. Only the columns MLFS uses are carried (reference-mlfs.md §2.4 lists what the
//! reference selected; unused ones such as `player_age` are left out).

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use framework::SmolStr;

/// `nba_analytics.upcoming_player_game_context` for the processed date: who gets a row, and the
/// game context of features 9, 10, 15–17 (reference-mlfs.md §2.1, P3-1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpcomingPlayerGameContextRow {
    /// The ids are copied into the player's output row: held inline, they copy without
    /// allocating.
    pub player_lookup: SmolStr,
    pub universal_player_id: Option<SmolStr>,
    /// NOT NULL in the reference DDL but not a key column; a row without it cannot be written
    /// (the output's `game_id` is NOT NULL) and fails as `MISSING_DATA`.
    pub game_id: Option<SmolStr>,
    pub game_date: NaiveDate,
    /// The player's team, whose season record gives `team_win_pct` (README §4 item 15).
    pub team_abbr: Option<String>,
    pub opponent_team_abbr: Option<SmolStr>,
    pub home_game: Option<bool>,
    pub back_to_back: Option<bool>,
    pub season_phase: Option<String>,
    pub days_rest: Option<i64>,
    pub opponent_days_rest: Option<i64>,
    pub player_status: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// `nba_precompute.player_daily_cache` for `cache_date = D` (reference-mlfs.md §2.4, P4-1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerDailyCacheRow {
    pub player_lookup: String,
    pub cache_date: NaiveDate,
    pub points_avg_last_5: Option<f64>,
    pub points_avg_last_10: Option<f64>,
    pub points_avg_season: Option<f64>,
    pub points_std_last_10: Option<f64>,
    pub minutes_avg_last_10: Option<f64>,
    pub team_pace_last_10: Option<f64>,
    pub team_off_rating_last_10: Option<f64>,
    pub games_in_last_7_days: Option<i64>,
    /// Percent (0–100); a fallback for feature 18 when shot zones lack it.
    pub paint_rate_last_10: Option<f64>,
    /// Percent (0–100); a fallback for feature 20 when shot zones lack it.
    pub three_pt_rate_last_10: Option<f64>,
    pub is_production_ready: Option<bool>,
    pub data_hash: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// `nba_precompute.player_composite_factors` for `game_date = D`: the PCF output
/// (reference-mlfs.md §2.4, P4-2).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerCompositeFactorsRow {
    pub player_lookup: String,
    pub game_date: NaiveDate,
    pub fatigue_score: Option<i64>,
    pub shot_zone_mismatch_score: Option<f64>,
    pub pace_score: Option<f64>,
    pub usage_spike_score: Option<f64>,
    pub is_production_ready: Option<bool>,
    pub data_hash: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// `nba_precompute.player_shot_zone_analysis` for `analysis_date = D` (reference-mlfs.md §2.4,
/// P4-3). Rates are percents (0–100).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerShotZoneAnalysisRow {
    pub player_lookup: String,
    pub analysis_date: NaiveDate,
    pub paint_rate_last_10: Option<f64>,
    pub mid_range_rate_last_10: Option<f64>,
    pub three_pt_rate_last_10: Option<f64>,
    pub is_production_ready: Option<bool>,
    pub data_hash: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// `nba_precompute.team_defense_zone_analysis` for `analysis_date = D`, all teams
/// (reference-mlfs.md §2.4, P4-4). Read by the player's opponent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamDefenseZoneAnalysisRow {
    pub team_abbr: String,
    pub analysis_date: NaiveDate,
    /// Feature 13 (`opponent_def_rating`).
    pub defensive_rating_last_15: Option<f64>,
    /// Feature 14.
    pub opponent_pace: Option<f64>,
    pub is_production_ready: Option<bool>,
    pub data_hash: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// `nba_analytics.player_game_summary`, one player's game: the history behind the last-10 and
/// season fallbacks and the own-data completeness (README §4 item 17, reference-mlfs.md §2.6).
#[derive(Clone, Debug, Default, PartialEq)]
///
/// Texts borrow from the read where they can (`Cow`): the history is tens of thousands of rows,
/// and the history keeps only each game's team.
pub struct PlayerGameSummaryRow<'a> {
    pub player_lookup: Cow<'a, str>,
    pub game_id: Cow<'a, str>,
    pub game_date: NaiveDate,
    /// The player's team in that game; the latest one before D picks the schedule whose games
    /// the completeness check expects.
    pub team_abbr: Option<Cow<'a, str>>,
    pub season_year: Option<i64>,
    pub points: Option<i64>,
    pub minutes_played: Option<f64>,
    pub ft_makes: Option<i64>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// `nba_analytics.team_offense_game_summary`, one team's game: the season record behind
/// `team_win_pct` (README §4 item 15).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamOffenseGameSummaryRow {
    pub team_abbr: String,
    pub game_date: NaiveDate,
    pub season_year: Option<i64>,
    pub win_flag: Option<bool>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// `nba_raw.nbac_schedule`, one game: the team schedules behind the expected game counts of the
/// completeness check (reference-mlfs.md §2.6). Only final games (`game_status = 3`) count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NbacScheduleRow {
    pub game_id: String,
    pub game_date: NaiveDate,
    pub game_status: Option<i64>,
    pub home_team_tricode: Option<String>,
    pub away_team_tricode: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}
