//! Player Composite Factors (PCF, phase 4): per player and game date, four adjustment factors
//! (fatigue, shot-zone mismatch, pace, usage spike), four deferred ones and their total, written to
//! `nba_precompute.player_composite_factors` (reference-pcf.md, README §4 items 1–9 and 14).
//!
//! # Layout
//! - [`inputs`]: the typed upstream rows (field names = column names), their grouping by date,
//!   duplicate resolution (latest `processed_at` wins) and the indexed [`inputs::DateInputs`].
//! - [`games_history`]: the games-based completeness index built from bulk
//!   `player_game_summary` and schedule reads.
//! - [`compute`]: the pure `entities` / `process_entity` pair and, below it, the formulas
//!   ([`compute::factors`]), the context JSON text ([`compute::context_json`]) and the readiness
//!   columns ([`compute::quality`]); the circuit breaker is `framework::circuit_breaker`.
//! - [`row`]: the output row, column for column.
//!
//! - [`extract`]: bulk reads of a chunk of dates; [`PlayerCompositeFactorsProcessor`] wires the
//!   crate into the framework's runner.

pub mod compute;
pub mod extract;
pub mod games_history;
pub mod inputs;
pub mod row;

pub use compute::{entities, process_entity, process_players};
pub use inputs::DateInputs;
pub use row::PlayerCompositeFactorsRow;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use framework::dates::RunSchedule;
use framework::dispatch::Dispatched;
use framework::progress::{ClosingLines, DependencyLines, SaveLines, SerialLines};
use framework::schema::analytics::{UPCOMING_PLAYER_GAME_CONTEXT, UPCOMING_TEAM_GAME_CONTEXT};
use framework::schema::precompute::{
    PLAYER_COMPOSITE_FACTORS, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
};
use framework::{
    Dependency, EntityFailure, ExtractError, InputReader, Phase, Processor, ProcessorInfo, RunContext,
    StatsFields,
};
use serde_json::json;

/// The reference's four critical dependencies (reference-framework.md §3.3).
static DEPENDENCIES: [Dependency; 4] = [
    Dependency {
        table: &UPCOMING_PLAYER_GAME_CONTEXT,
        date_column: "game_date",
        expected_rows: extract::EXPECTED_PLAYER_CONTEXT_ROWS,
        critical: true,
        max_age_hours: 12,
    },
    Dependency {
        table: &UPCOMING_TEAM_GAME_CONTEXT,
        date_column: "game_date",
        expected_rows: extract::EXPECTED_TEAM_CONTEXT_ROWS,
        critical: true,
        max_age_hours: 12,
    },
    Dependency {
        table: &PLAYER_SHOT_ZONE_ANALYSIS,
        date_column: "analysis_date",
        expected_rows: extract::EXPECTED_PLAYER_SHOT_ROWS,
        critical: true,
        max_age_hours: 24,
    },
    Dependency {
        table: &TEAM_DEFENSE_ZONE_ANALYSIS,
        date_column: "analysis_date",
        expected_rows: extract::EXPECTED_TEAM_DEFENSE_ROWS,
        critical: true,
        max_age_hours: 24,
    },
];

static INFO: ProcessorInfo = ProcessorInfo {
    name: "PlayerCompositeFactorsProcessor",
    binary: "player_composite_factors",
    build: framework::build!(),
    phase: Phase::Precompute,
    output: &PLAYER_COMPOSITE_FACTORS,
    workers_variable: "PCF_WORKERS",
    early_season: framework::progress::EarlySeason::SkippingPeriod,
    serial_lines: SerialLines::ProcessingPlayerPercent,
    closing_lines: ClosingLines::SuccessfullyProcessed,
    save_lines: SaveLines::BatchInsert,
    dependency_lines: DependencyLines::Base,
    dependencies: &DEPENDENCIES,
};

/// Phase 4: the composite adjustment factors of every player with a game on the date.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlayerCompositeFactorsProcessor;

#[async_trait]
impl Processor for PlayerCompositeFactorsProcessor {
    type DateInputs = DateInputs;
    type Entity = String;
    type Row = PlayerCompositeFactorsRow;

    fn info(&self) -> &'static ProcessorInfo {
        &INFO
    }

    async fn extract(
        &self,
        reader: &InputReader<'_>,
        dates: &[NaiveDate],
        schedule: &RunSchedule,
    ) -> Result<BTreeMap<NaiveDate, DateInputs>, ExtractError> {
        extract::extract_dates(reader, dates, schedule).await
    }

    fn entities(&self, inputs: &DateInputs) -> Vec<String> {
        compute::entities(inputs)
    }

    fn entity_id(&self, player_lookup: &String) -> String {
        player_lookup.clone()
    }

    fn process_entity(
        &self,
        player_lookup: &String,
        inputs: &DateInputs,
        context: &RunContext,
    ) -> Result<PlayerCompositeFactorsRow, EntityFailure> {
        compute::process_entity(player_lookup, inputs, context)
    }

    fn process_batch(
        &self,
        players: &[String],
        inputs: &DateInputs,
        context: &RunContext,
        outcomes: &mut Dispatched<PlayerCompositeFactorsRow>,
    ) {
        compute::process_players(players, inputs, context, outcomes)
    }

    fn date_notes(&self, inputs: &DateInputs, context: &RunContext) -> Vec<String> {
        compute::notes::date_notes(inputs, context)
    }

    fn row_notes(&self, row: &PlayerCompositeFactorsRow, _inputs: &DateInputs) -> Vec<(bool, String)> {
        compute::notes::reduced_quality_notes(row).into_iter().map(|note| (false, note)).collect()
    }

    /// The reference's `get_precompute_stats` fields after the counts (reference-pcf.md §4.7).
    /// `early_season` is false: an early-season date is skipped before it is computed.
    fn stats(&self, _inputs: &DateInputs) -> StatsFields {
        vec![
            ("early_season", json!(false)),
            ("calculation_version", json!(compute::factors::CALCULATION_VERSION)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_has_the_four_critical_dependencies_of_section_2_5() {
        // reference-pcf.md §6.2 TestConfiguration: the 4 dependencies with the exact table keys
        // of §2.5, their date fields, minimum rows and maximum ages, all critical.
        let dependencies: Vec<_> = PlayerCompositeFactorsProcessor
            .info()
            .dependencies
            .iter()
            .map(|dependency| {
                (
                    dependency.table.to_string(),
                    dependency.date_column,
                    dependency.expected_rows,
                    dependency.max_age_hours,
                    dependency.critical,
                )
            })
            .collect();
        assert_eq!(
            dependencies,
            vec![
                ("nba_analytics.upcoming_player_game_context".to_owned(), "game_date", 100, 12, true),
                ("nba_analytics.upcoming_team_game_context".to_owned(), "game_date", 10, 12, true),
                ("nba_precompute.player_shot_zone_analysis".to_owned(), "analysis_date", 100, 24, true),
                ("nba_precompute.team_defense_zone_analysis".to_owned(), "analysis_date", 30, 24, true),
            ]
        );
    }

    #[test]
    fn source_tracking_has_twelve_columns_under_four_unique_prefixes() {
        // reference-pcf.md §6.2 TestSourceTracking and TestConfiguration: 3 columns under each of
        // the 4 field prefixes of §2.5 (12 `source_*` columns besides the 4 hashes), plus
        // early_season_flag and insufficient_data_reason.
        let tracking: Vec<&str> = PLAYER_COMPOSITE_FACTORS
            .column_names()
            .filter(|name| name.starts_with("source_") && !name.ends_with("_hash"))
            .collect();
        let prefixes =
            ["source_player_context", "source_team_context", "source_player_shot", "source_team_defense"];
        let expected: Vec<String> = prefixes
            .iter()
            .flat_map(|prefix| {
                ["last_updated", "rows_found", "completeness_pct"].map(|suffix| format!("{prefix}_{suffix}"))
            })
            .collect();
        assert_eq!(tracking, expected);
        assert_eq!(tracking.len(), 12);
        for column in ["early_season_flag", "insufficient_data_reason"] {
            assert!(PLAYER_COMPOSITE_FACTORS.column(column).is_some(), "{column}");
        }
    }

    #[test]
    fn early_season_dates_are_skipped_instead_of_writing_placeholders() {
        // reference-pcf.md §6.3 test 5 encodes dead placeholder code (§2.10, §4.6); README §4
        // item 6 replaces it with a skipped date (the runner's behaviour, tests/runner.rs).
        assert!(PlayerCompositeFactorsProcessor.info().early_season.skips());
    }
}
