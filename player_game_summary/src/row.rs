//! The processor's output rows: `nba_analytics.player_game_summary` (one per player per game)
//! and `nba_reference.unresolved_player_names` (one per player the registry could not resolve).
//!
//! Fields are the tables' columns in schema order (checked by a test). NUMERIC columns hold
//! values already rounded by `compute`; the JSON column `quality_metadata` holds its text.

use chrono::{DateTime, NaiveDate, Utc};

framework::table_row! {
    /// One player's game (reference-pgs.md §5.2). Shot-zone, creation and opening-line columns
    /// stay NULL: the reference never computed them (§0 item 1).
    pub struct PlayerGameSummaryRow for framework::schema::analytics::PLAYER_GAME_SUMMARY {
        player_lookup: String,
        universal_player_id: Option<String>,
        player_full_name: Option<String>,
        game_id: String,
        game_date: NaiveDate,
        team_abbr: String,
        opponent_team_abbr: String,
        season_year: i64,
        points: Option<i64>,
        /// Integral at the reference (round-half-even of the decimal minutes).
        minutes_played: Option<f64>,
        assists: Option<i64>,
        offensive_rebounds: Option<i64>,
        defensive_rebounds: Option<i64>,
        steals: Option<i64>,
        blocks: Option<i64>,
        turnovers: Option<i64>,
        fg_attempts: Option<i64>,
        fg_makes: Option<i64>,
        three_pt_attempts: Option<i64>,
        three_pt_makes: Option<i64>,
        ft_attempts: Option<i64>,
        ft_makes: Option<i64>,
        plus_minus: Option<i64>,
        personal_fouls: Option<i64>,
        paint_attempts: Option<i64>,
        paint_makes: Option<i64>,
        mid_range_attempts: Option<i64>,
        mid_range_makes: Option<i64>,
        paint_blocks: Option<i64>,
        mid_range_blocks: Option<i64>,
        three_pt_blocks: Option<i64>,
        and1_count: Option<i64>,
        assisted_fg_makes: Option<i64>,
        unassisted_fg_makes: Option<i64>,
        usage_rate: Option<f64>,
        ts_pct: Option<f64>,
        efg_pct: Option<f64>,
        starter_flag: bool,
        /// `None` when neither the schedule nor the summed points decide the game.
        win_flag: Option<bool>,
        points_line: Option<f64>,
        over_under_result: Option<String>,
        margin: Option<f64>,
        opening_line: Option<f64>,
        line_movement: Option<f64>,
        points_line_source: Option<String>,
        opening_line_source: Option<String>,
        is_active: bool,
        player_status: Option<String>,
        source_nbac_last_updated: Option<DateTime<Utc>>,
        source_nbac_rows_found: Option<i64>,
        source_nbac_completeness_pct: Option<f64>,
        source_nbac_hash: Option<framework::SmolStr>,
        source_bdl_last_updated: Option<DateTime<Utc>>,
        source_bdl_rows_found: Option<i64>,
        source_bdl_completeness_pct: Option<f64>,
        source_bdl_hash: Option<framework::SmolStr>,
        source_bbd_last_updated: Option<DateTime<Utc>>,
        source_bbd_rows_found: Option<i64>,
        source_bbd_completeness_pct: Option<f64>,
        source_bbd_hash: Option<framework::SmolStr>,
        source_nbac_pbp_last_updated: Option<DateTime<Utc>>,
        source_nbac_pbp_rows_found: Option<i64>,
        source_nbac_pbp_completeness_pct: Option<f64>,
        source_nbac_pbp_hash: Option<framework::SmolStr>,
        source_odds_last_updated: Option<DateTime<Utc>>,
        source_odds_rows_found: Option<i64>,
        source_odds_completeness_pct: Option<f64>,
        source_odds_hash: Option<framework::SmolStr>,
        source_bp_last_updated: Option<DateTime<Utc>>,
        source_bp_rows_found: Option<i64>,
        source_bp_completeness_pct: Option<f64>,
        source_bp_hash: Option<framework::SmolStr>,
        /// The reference code's `gold`/`silver` (its tests expected high/medium; §9.1).
        data_quality_tier: String,
        primary_source_used: String,
        processed_with_issues: bool,
        shot_zones_estimated: Option<bool>,
        created_at: DateTime<Utc>,
        processed_at: DateTime<Utc>,
        quality_tier: String,
        quality_score: f64,
        quality_issues: Vec<String>,
        data_sources: Vec<String>,
        quality_sample_size: Option<i64>,
        quality_used_fallback: bool,
        quality_reconstructed: bool,
        quality_calculated_at: DateTime<Utc>,
        quality_metadata: Option<String>,
    }
}

framework::table_row! {
    /// A `player_lookup` with no `universal_player_id` (README §4 item 13), queued for review.
    pub struct UnresolvedPlayerNameRow for framework::schema::reference::UNRESOLVED_PLAYER_NAMES {
        source: String,
        original_name: String,
        normalized_lookup: String,
        first_seen_date: NaiveDate,
        last_seen_date: NaiveDate,
        team_abbr: Option<String>,
        season: Option<String>,
        occurrences: i64,
        example_games: Option<Vec<String>>,
        status: String,
        resolution_type: Option<String>,
        resolved_to_name: Option<String>,
        notes: Option<String>,
        snooze_until: Option<NaiveDate>,
        reviewed_by: Option<String>,
        reviewed_at: Option<DateTime<Utc>>,
        created_at: DateTime<Utc>,
        processed_at: DateTime<Utc>,
    }
}

#[cfg(test)]
mod tests {
    use framework::value::assert_row_matches_table;

    use super::*;

    #[test]
    fn summary_row_declares_the_player_game_summary_columns_in_order() {
        assert_row_matches_table::<PlayerGameSummaryRow>();
    }

    #[test]
    fn unresolved_row_declares_the_unresolved_player_names_columns_in_order() {
        assert_row_matches_table::<UnresolvedPlayerNameRow>();
    }
}
