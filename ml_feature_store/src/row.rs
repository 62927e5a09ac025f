//! The output row of `nba_predictions.ml_feature_store_v2`, one per player per date, and its
//! `data_hash` (reference-mlfs.md §5.1, §5.3).

use chrono::{DateTime, NaiveDate, Utc};
use framework::SmolStr;
use framework::digest::{UnfinishedHash, hash_text_in_recipe_order};

framework::table_row! {
    /// One player's feature vector for one game date; fields are the table's columns in schema
    /// order (this project adds `quality_tier`, tables.md).
    pub struct MlFeatureStoreRow for framework::schema::predictions::ML_FEATURE_STORE_V2 {
        player_lookup: SmolStr,
        universal_player_id: Option<SmolStr>,
        game_date: NaiveDate,
        game_id: SmolStr,
        features: Vec<f64>,
        feature_names: &'static [&'static str],
        feature_count: i64,
        feature_version: &'static str,
        /// Not measured by the pure compute (it asks no clock); see the crate doc.
        feature_generation_time_ms: Option<i64>,
        feature_quality_score: Option<f64>,
        opponent_team_abbr: Option<SmolStr>,
        is_home: Option<bool>,
        days_rest: Option<i64>,
        data_source: &'static str,
        source_daily_cache_last_updated: Option<DateTime<Utc>>,
        source_daily_cache_rows_found: Option<i64>,
        source_daily_cache_completeness_pct: Option<f64>,
        source_daily_cache_hash: Option<SmolStr>,
        source_composite_last_updated: Option<DateTime<Utc>>,
        source_composite_rows_found: Option<i64>,
        source_composite_completeness_pct: Option<f64>,
        source_composite_hash: Option<SmolStr>,
        source_shot_zones_last_updated: Option<DateTime<Utc>>,
        source_shot_zones_rows_found: Option<i64>,
        source_shot_zones_completeness_pct: Option<f64>,
        source_shot_zones_hash: Option<SmolStr>,
        source_team_defense_last_updated: Option<DateTime<Utc>>,
        source_team_defense_rows_found: Option<i64>,
        source_team_defense_completeness_pct: Option<f64>,
        source_team_defense_hash: Option<SmolStr>,
        /// NULL on normal rows, not FALSE, as the reference wrote it (reference-mlfs.md §8 item 12).
        early_season_flag: Option<bool>,
        insufficient_data_reason: Option<String>,
        expected_games_count: Option<i64>,
        actual_games_count: Option<i64>,
        completeness_percentage: Option<f64>,
        missing_games_count: Option<i64>,
        is_production_ready: Option<bool>,
        data_quality_issues: Vec<&'static str>,
        last_reprocess_attempt_at: Option<DateTime<Utc>>,
        reprocess_attempt_count: Option<i64>,
        circuit_breaker_active: Option<bool>,
        circuit_breaker_until: Option<DateTime<Utc>>,
        manual_override_required: Option<bool>,
        season_boundary_detected: Option<bool>,
        backfill_bootstrap_mode: Option<bool>,
        processing_decision_reason: Option<&'static str>,
        quality_tier: Option<&'static str>,
        data_hash: Option<SmolStr>,
        created_at: DateTime<Utc>,
        updated_at: Option<DateTime<Utc>>,
    }
}

impl MlFeatureStoreRow {
    /// The text of the reference's `data_hash` over its `HASH_FIELDS` (reference-mlfs.md
    /// §5.3), whose 16 hex characters change whenever one of those fields does.
    pub fn data_hash_text(&self) -> UnfinishedHash {
        // Listed in the recipe's sorted order (`framework::digest::recipe_order`), so that the
        // digest neither sorts nor checks them in release builds.
        hash_text_in_recipe_order(&[
            ("data_source", self.data_source.into()),
            ("days_rest", self.days_rest.into()),
            ("early_season_flag", self.early_season_flag.into()),
            ("feature_count", self.feature_count.into()),
            ("feature_names", self.feature_names.into()),
            ("feature_quality_score", self.feature_quality_score.into()),
            ("feature_version", self.feature_version.into()),
            ("features", self.features.as_slice().into()),
            ("game_date", self.game_date.into()),
            ("game_id", (&self.game_id).into()),
            ("insufficient_data_reason", self.insufficient_data_reason.as_ref().into()),
            ("is_home", self.is_home.into()),
            ("opponent_team_abbr", self.opponent_team_abbr.as_ref().into()),
            ("player_lookup", (&self.player_lookup).into()),
            ("universal_player_id", self.universal_player_id.as_ref().into()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_declares_the_feature_store_columns_in_order() {
        framework::value::assert_row_matches_table::<MlFeatureStoreRow>();
    }
}
