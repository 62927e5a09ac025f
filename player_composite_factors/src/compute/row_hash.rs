//! The row's `data_hash` (reference-pcf.md §4.4), with the fields every row of a date shares
//! hashed once per date.

use chrono::NaiveDate;
use framework::digest::{HashValue, RecipeHasher, RecipePrefix};
use framework::recipe_field;

use super::factors::CALCULATION_VERSION;
use crate::row::PlayerCompositeFactorsRow;

/// The first hash field after the date's own.
const FIRST_ROW_FIELD: &str = "data_completeness_pct";

/// The recipe's first two fields, `analysis_date` and `calculation_version`, the same on every
/// row of a date, and the third field's name: hashed once, they fill each row's first SHA-256
/// block, which rows then resume from instead of formatting and compressing it again.
///
/// It also keeps the date's text, which rows whose `game_date` is the analysis date (all of a
/// live run's) hash instead of formatting the date again.
#[derive(Clone)]
pub struct DateHashPrefix {
    analysis_date: NaiveDate,
    analysis_date_text: String,
    prefix: RecipePrefix<'static>,
}

impl DateHashPrefix {
    pub fn new(analysis_date: NaiveDate) -> DateHashPrefix {
        let prefix = leading_fields(analysis_date, CALCULATION_VERSION).into_prefix(FIRST_ROW_FIELD);
        DateHashPrefix { analysis_date, analysis_date_text: analysis_date.to_string(), prefix }
    }
}

/// The digest state is a function of the date, so the date alone stands for it.
impl PartialEq for DateHashPrefix {
    fn eq(&self, other: &DateHashPrefix) -> bool {
        self.analysis_date == other.analysis_date
    }
}

impl std::fmt::Debug for DateHashPrefix {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DateHashPrefix")
            .field("analysis_date", &self.analysis_date)
            .finish_non_exhaustive()
    }
}

impl Default for DateHashPrefix {
    fn default() -> DateHashPrefix {
        DateHashPrefix::new(NaiveDate::default())
    }
}

/// The text of the row's `data_hash` over the reference's 21 hash fields (reference-pcf.md
/// §4.4), to be finished alone or with a batch of rows.
///
/// The fields are listed in the order the recipe sorts them (`framework::digest::recipe_order`),
/// so they stream into the digest as they come, checked only in debug builds. A row of another
/// date or version than `prefix`'s is hashed from its own fields.
pub fn row_hash_text(row: &PlayerCompositeFactorsRow, prefix: &DateHashPrefix) -> RecipeHasher<'static> {
    let game_date = if row.game_date == prefix.analysis_date {
        HashValue::Str(&prefix.analysis_date_text)
    } else {
        HashValue::Date(row.game_date)
    };
    let mut hasher =
        if row.analysis_date == prefix.analysis_date && row.calculation_version == CALCULATION_VERSION {
            RecipeHasher::resume(&prefix.prefix, row.data_completeness_pct)
        } else {
            let mut hasher = leading_fields(row.analysis_date, row.calculation_version);
            hasher.field(FIRST_ROW_FIELD, row.data_completeness_pct);
            hasher
        };
    hasher
        .field(recipe_field!("early_season_flag"), row.early_season_flag)
        .field(recipe_field!("fatigue_score"), row.fatigue_score)
        .field(recipe_field!("game_date"), game_date)
        .field(recipe_field!("game_id"), &row.game_id)
        .field(recipe_field!("has_warnings"), row.has_warnings)
        .field(recipe_field!("insufficient_data_reason"), row.insufficient_data_reason.as_deref())
        .field(recipe_field!("look_ahead_pressure_score"), row.look_ahead_pressure_score)
        .field(recipe_field!("missing_data_fields"), row.missing_data_fields)
        .field(recipe_field!("opponent_strength_score"), row.opponent_strength_score)
        .field(recipe_field!("pace_score"), row.pace_score)
        .field(recipe_field!("player_lookup"), &row.player_lookup)
        .field(recipe_field!("referee_favorability_score"), row.referee_favorability_score)
        .field(recipe_field!("shot_zone_mismatch_score"), row.shot_zone_mismatch_score)
        .field(recipe_field!("total_composite_adjustment"), row.total_composite_adjustment)
        .field(recipe_field!("travel_impact_score"), row.travel_impact_score)
        .field(recipe_field!("universal_player_id"), row.universal_player_id.as_deref())
        .field(recipe_field!("usage_spike_score"), row.usage_spike_score)
        .field(recipe_field!("warning_details"), row.warning_details);
    hasher
}

fn leading_fields(analysis_date: NaiveDate, calculation_version: &'static str) -> RecipeHasher<'static> {
    let mut hasher = RecipeHasher::new();
    hasher.field("analysis_date", analysis_date).field("calculation_version", calculation_version);
    hasher
}
