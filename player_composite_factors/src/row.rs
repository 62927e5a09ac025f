//! The output row of `nba_precompute.player_composite_factors`, one per (game_date,
//! player_lookup) (reference-pcf.md §4.2). Values are computed in `compute`; this module only
//! fixes the columns, their order and their types.

use chrono::{DateTime, NaiveDate, Utc};
use framework::SmolStr;

framework::table_row! {
    /// One player's composite factors for one game date. NUMERIC columns hold values already
    /// rounded the Python way (`round(x, 1)`, the total `round(x, 2)`); columns the processor
    /// always fills are plain types even where the DDL allows NULL.
    pub struct PlayerCompositeFactorsRow for framework::schema::precompute::PLAYER_COMPOSITE_FACTORS {
        player_lookup: SmolStr,
        universal_player_id: Option<SmolStr>,
        game_date: NaiveDate,
        game_id: SmolStr,
        analysis_date: NaiveDate,
        fatigue_score: i64,
        shot_zone_mismatch_score: f64,
        pace_score: f64,
        usage_spike_score: f64,
        referee_favorability_score: f64,
        look_ahead_pressure_score: f64,
        travel_impact_score: f64,
        opponent_strength_score: f64,
        total_composite_adjustment: f64,
        fatigue_context_json: String,
        shot_zone_context_json: String,
        pace_context_json: String,
        usage_context_json: String,
        calculation_version: &'static str,
        data_completeness_pct: f64,
        missing_data_fields: Option<&'static str>,
        has_warnings: bool,
        warning_details: Option<&'static str>,
        source_player_context_last_updated: Option<DateTime<Utc>>,
        source_player_context_rows_found: Option<i64>,
        source_player_context_completeness_pct: Option<f64>,
        source_team_context_last_updated: Option<DateTime<Utc>>,
        source_team_context_rows_found: Option<i64>,
        source_team_context_completeness_pct: Option<f64>,
        source_player_shot_last_updated: Option<DateTime<Utc>>,
        source_player_shot_rows_found: Option<i64>,
        source_player_shot_completeness_pct: Option<f64>,
        source_team_defense_last_updated: Option<DateTime<Utc>>,
        source_team_defense_rows_found: Option<i64>,
        source_team_defense_completeness_pct: Option<f64>,
        source_player_context_hash: Option<SmolStr>,
        source_team_context_hash: Option<SmolStr>,
        source_player_shot_hash: Option<SmolStr>,
        source_team_defense_hash: Option<SmolStr>,
        data_hash: SmolStr,
        /// False on every written row: the runner skips early-season dates (README §4 item 6).
        early_season_flag: bool,
        insufficient_data_reason: Option<String>,
        expected_games_count: i64,
        actual_games_count: i64,
        completeness_percentage: f64,
        missing_games_count: i64,
        is_production_ready: bool,
        data_quality_issues: &'static [&'static str],
        upstream_player_shot_ready: bool,
        upstream_team_defense_ready: bool,
        upstream_player_context_ready: bool,
        upstream_team_context_ready: bool,
        all_upstreams_ready: bool,
        last_reprocess_attempt_at: Option<DateTime<Utc>>,
        reprocess_attempt_count: i64,
        circuit_breaker_active: bool,
        circuit_breaker_until: Option<DateTime<Utc>>,
        manual_override_required: bool,
        season_boundary_detected: bool,
        backfill_bootstrap_mode: bool,
        processing_decision_reason: &'static str,
        created_at: DateTime<Utc>,
        processed_at: DateTime<Utc>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_columns_match_the_output_table() {
        framework::value::assert_row_matches_table::<PlayerCompositeFactorsRow>();
    }
}
