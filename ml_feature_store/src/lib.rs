//! ML Feature Store (MLFS, phase 4): one 25-feature vector per player per game date, written to
//! `nba_predictions.ml_feature_store_v2` (reference-mlfs.md, README §4 items 1–9 and 15–19).
//!
//! # Layout
//! - [`inputs`]: typed rows of the upstream tables, the per-range [`inputs::History`] and the
//!   per-date [`inputs::DateInputs`], with duplicate-key resolution (README §4 item 9b).
//! - [`compute`]: the pure `process_entity` and its formulas: [`compute::features`] (the
//!   `v1_baseline_25` vector), [`compute::quality`] (score, `data_source`, `quality_tier`) and
//!   [`compute::readiness`] (completeness, upstream readiness, season flags); the circuit breaker
//!   is `framework::circuit_breaker`.
//! - [`row`]: the output row and its `data_hash`.
//!
//! - [`extract`]: bulk reads of a chunk of dates; [`MlFeatureStoreProcessor`] wires the crate
//!   into the framework's runner.
//!
//! `feature_generation_time_ms` is left NULL because the pure compute asks no clock; the
//! reference's integer milliseconds would be 0 at this speed.

pub mod compute;
pub mod extract;
pub mod inputs;
pub mod row;

pub use compute::{entities, process_entity, process_players};
pub use inputs::{DateInputs, DateRows, History, HistoryRows};
pub use row::MlFeatureStoreRow;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use framework::circuit_breaker::ReprocessAttempt;
use framework::dates::RunSchedule;
use framework::dispatch::Dispatched;
use framework::progress::{ClosingLines, DependencyLines, SaveLines, SerialLines};
use framework::schema::precompute::{
    PLAYER_COMPOSITE_FACTORS, PLAYER_DAILY_CACHE, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
};
use framework::schema::predictions::ML_FEATURE_STORE_V2;
use framework::{
    Dependency, EntityFailure, ExtractError, InputReader, Phase, Processor, ProcessorInfo, RunContext,
    StatsFields,
};
use serde_json::json;

use crate::inputs::UpcomingPlayerGameContextRow;

/// The reference's four critical phase-4 dependencies (reference-mlfs.md §2.2). Freshness is only
/// checked in live mode (README §4 item 5); the reference's 2-hour limit is kept.
static DEPENDENCIES: [Dependency; 4] = [
    Dependency {
        table: &PLAYER_DAILY_CACHE,
        date_column: "cache_date",
        expected_rows: inputs::DAILY_CACHE_EXPECTED_ROWS,
        critical: true,
        max_age_hours: 2,
    },
    Dependency {
        table: &PLAYER_COMPOSITE_FACTORS,
        date_column: "game_date",
        expected_rows: inputs::COMPOSITE_EXPECTED_ROWS,
        critical: true,
        max_age_hours: 2,
    },
    Dependency {
        table: &PLAYER_SHOT_ZONE_ANALYSIS,
        date_column: "analysis_date",
        expected_rows: inputs::SHOT_ZONES_EXPECTED_ROWS,
        critical: true,
        max_age_hours: 2,
    },
    Dependency {
        table: &TEAM_DEFENSE_ZONE_ANALYSIS,
        date_column: "analysis_date",
        expected_rows: inputs::TEAM_DEFENSE_EXPECTED_ROWS,
        critical: true,
        max_age_hours: 2,
    },
];

static INFO: ProcessorInfo = ProcessorInfo {
    name: "MLFeatureStoreProcessor",
    binary: "ml_feature_store",
    build: framework::build!(),
    phase: Phase::Precompute,
    output: &ML_FEATURE_STORE_V2,
    workers_variable: "MLFS_WORKERS",
    early_season: framework::progress::EarlySeason::Detected,
    serial_lines: SerialLines::CalculatingFeatures,
    closing_lines: ClosingLines::FeatureGenerationComplete,
    save_lines: SaveLines::FeatureRecords,
    dependency_lines: DependencyLines::StaleSummary,
    dependencies: &DEPENDENCIES,
};

/// Phase 4: the `v1_baseline_25` feature vector of every player with a game on the date.
#[derive(Clone, Copy, Debug, Default)]
pub struct MlFeatureStoreProcessor;

#[async_trait]
impl Processor for MlFeatureStoreProcessor {
    type DateInputs = DateInputs;
    type Entity = UpcomingPlayerGameContextRow;
    type Row = MlFeatureStoreRow;

    fn info(&self) -> &'static ProcessorInfo {
        &INFO
    }

    async fn extract(
        &self,
        reader: &InputReader<'_>,
        dates: &[NaiveDate],
        _schedule: &RunSchedule,
    ) -> Result<BTreeMap<NaiveDate, DateInputs>, ExtractError> {
        extract::extract_dates(reader, dates).await
    }

    fn entities(&self, inputs: &DateInputs) -> Vec<UpcomingPlayerGameContextRow> {
        compute::entities(inputs)
    }

    fn entity_id(&self, player: &UpcomingPlayerGameContextRow) -> String {
        player.player_lookup.to_string()
    }

    fn process_entity(
        &self,
        player: &UpcomingPlayerGameContextRow,
        inputs: &DateInputs,
        context: &RunContext,
    ) -> Result<MlFeatureStoreRow, EntityFailure> {
        compute::process_entity(player, inputs, context)
    }

    fn process_batch(
        &self,
        players: &[UpcomingPlayerGameContextRow],
        inputs: &DateInputs,
        context: &RunContext,
        outcomes: &mut Dispatched<MlFeatureStoreRow>,
    ) {
        compute::process_players(players, inputs, context, outcomes)
    }

    fn reprocess_attempts(
        &self,
        inputs: &DateInputs,
        context: &RunContext,
        failures: &[EntityFailure],
    ) -> Vec<ReprocessAttempt> {
        compute::reprocess_attempts(inputs, context, failures)
    }

    fn date_notes(&self, inputs: &DateInputs, _context: &RunContext) -> Vec<String> {
        compute::date_notes(inputs)
    }

    fn row_notes(&self, row: &MlFeatureStoreRow, inputs: &DateInputs) -> Vec<(bool, String)> {
        compute::row_notes(row, inputs).into_iter().map(|note| (true, note)).collect()
    }

    /// The reference's `get_precompute_stats` fields after the counts (reference-mlfs.md §5.5).
    /// `early_season` is false: an early-season date is skipped before it is computed.
    fn stats(&self, _inputs: &DateInputs) -> StatsFields {
        vec![
            ("early_season", json!(false)),
            ("feature_version", json!(compute::features::FEATURE_VERSION)),
            ("feature_count", json!(compute::features::FEATURE_NAMES.len())),
        ]
    }
}
