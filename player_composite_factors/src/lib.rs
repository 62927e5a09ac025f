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

pub use compute::{entities, process_entity};
pub use inputs::DateInputs;
pub use row::PlayerCompositeFactorsRow;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use framework::dates::RunSchedule;
use framework::progress::{ClosingLines, SerialLines};
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
    phase: Phase::Precompute,
    output: &PLAYER_COMPOSITE_FACTORS,
    workers_variable: "PCF_WORKERS",
    skips_early_season: true,
    serial_lines: SerialLines::ProcessingPlayerPercent,
    closing_lines: ClosingLines::SuccessfullyProcessed,
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

    /// The reference's `get_precompute_stats` fields after the counts (reference-pcf.md §4.7).
    /// `early_season` is false: an early-season date is skipped before it is computed.
    fn stats(&self, _inputs: &DateInputs) -> StatsFields {
        vec![
            ("early_season", json!(false)),
            ("calculation_version", json!(compute::factors::CALCULATION_VERSION)),
        ]
    }
}
