//! Player Game Summary (PGS, phase 3): one `nba_analytics.player_game_summary` row per player
//! per game, from the NBA.com gamebook (BallDontLie box scores as the per-player fallback), Odds
//! API prop lines, the players registry and the schedule's final scores.
//!
//! The specification is `shared/spec/reference-pgs.md` under the port decisions of
//! `shared/spec/README.md` §4 (items 1–13). [`PlayerGameSummaryProcessor`] wires the crate into
//! the framework: it declares the dependencies, reads in bulk ([`extract`]) and computes each
//! player-game with the pure [`compute::process_entity`]; the framework runs, saves and records.
//!
//! # Layout
//! - [`extract`]: bulk reads of a chunk of dates into typed rows.
//! - [`inputs`]: typed upstream rows, [`inputs::build_date_inputs`] (dedupe, gamebook/BDL merge,
//!   indexes) and the `player_lookup` normaliser.
//! - [`compute`]: [`compute::entities`], [`compute::process_entity`], [`compute::date_failures`]
//!   and every formula of the row.
//! - [`row`]: the output rows (`player_game_summary`, `unresolved_player_names`).
//! - [`unresolved`]: registry misses — run counts and `unresolved_player_names` rows.
//! - [`notes`]: the reference's lines about a date's records and registry lookup.
//! - [`parsing`]: minutes and plus/minus text; [`validation`]: impossible values.
//! - [`game`]: teams from the game id, team totals, final scores; [`props`]: the prop line;
//!   [`registry`]: universal ids by season. Duplicate rows are resolved by
//!   `framework::dedupe` (latest `processed_at` wins).
//! - [`bdl_json`]: balldontlie API JSON → BDL rows (real-data tests, loading).

pub mod bdl_json;
pub mod compute;
pub mod extract;
pub mod game;
pub mod inputs;
pub mod notes;
pub mod parsing;
pub mod props;
pub mod registry;
pub mod row;
pub mod unresolved;
pub mod validation;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use framework::dates::RunSchedule;
use framework::progress::{ClosingLines, DependencyLines, SaveLines, SerialLines};
use framework::schema::analytics::PLAYER_GAME_SUMMARY;
use framework::schema::raw::{
    BDL_PLAYER_BOXSCORES, NBAC_GAMEBOOK_PLAYER_STATS, ODDS_API_PLAYER_POINTS_PROPS,
};
use framework::schema::reference::UNRESOLVED_PLAYER_NAMES;
use framework::{
    Dependency, EntityFailure, ExtractError, InputReader, Phase, Processor, ProcessorInfo, ReplaceScope,
    RunContext, SideWrite, StatsFields, TableRow,
};
use serde_json::json;

use crate::compute::PlayerGameKey;
use crate::inputs::DateInputs;
use crate::row::PlayerGameSummaryRow;

/// The reference's dependencies (reference-framework.md §3.3). Only BDL is critical: it covers
/// every game, while the gamebook (the preferred source per player) may lag; the play-by-play and
/// BettingPros sources of the reference are not read by this port.
static DEPENDENCIES: [Dependency; 3] = [
    Dependency {
        table: &NBAC_GAMEBOOK_PLAYER_STATS,
        date_column: "game_date",
        expected_rows: extract::EXPECTED_GAMEBOOK_ROWS,
        critical: false,
        max_age_hours: 24,
    },
    Dependency {
        table: &BDL_PLAYER_BOXSCORES,
        date_column: "game_date",
        expected_rows: extract::EXPECTED_BDL_ROWS,
        critical: true,
        max_age_hours: 12,
    },
    Dependency {
        table: &ODDS_API_PLAYER_POINTS_PROPS,
        date_column: "game_date",
        expected_rows: extract::EXPECTED_PROP_ROWS,
        critical: false,
        max_age_hours: 48,
    },
];

static INFO: ProcessorInfo = ProcessorInfo {
    name: "PlayerGameSummaryProcessor",
    binary: "player_game_summary",
    build: framework::build!(),
    phase: Phase::Analytics,
    output: &PLAYER_GAME_SUMMARY,
    workers_variable: "PGS_WORKERS",
    early_season: framework::progress::EarlySeason::Runs,
    serial_lines: SerialLines::Processing,
    closing_lines: ClosingLines::ProcessedRecords { skipped_stat: "registry_records_skipped" },
    save_lines: SaveLines::BatchInsert,
    dependency_lines: DependencyLines::Base,
    dependencies: &DEPENDENCIES,
};

/// Phase 3: one summary row per player per game.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlayerGameSummaryProcessor;

#[async_trait]
impl Processor for PlayerGameSummaryProcessor {
    type DateInputs = DateInputs;
    type Entity = PlayerGameKey;
    type Row = PlayerGameSummaryRow;

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

    fn entities(&self, inputs: &DateInputs) -> Vec<PlayerGameKey> {
        compute::entities(inputs)
    }

    fn entity_id(&self, entity: &PlayerGameKey) -> String {
        entity.entity_id()
    }

    fn process_entity(
        &self,
        entity: &PlayerGameKey,
        inputs: &DateInputs,
        context: &RunContext,
    ) -> Result<PlayerGameSummaryRow, EntityFailure> {
        compute::process_entity(entity, inputs, context)
    }

    fn date_notes(&self, inputs: &DateInputs, _context: &RunContext) -> Vec<String> {
        notes::date_notes(inputs)
    }

    fn date_failures(&self, inputs: &DateInputs, _context: &RunContext) -> Vec<EntityFailure> {
        compute::date_failures(inputs)
    }

    /// Registry misses go to `nba_reference.unresolved_player_names`, one row per name, keyed
    /// by (source, normalized_lookup) (README §4 item 13). A date's sighting combines with the
    /// name's stored row ([`unresolved::combine_sightings`]): reruns keep what reviewers wrote
    /// and do not count a date twice.
    fn side_writes(&self, inputs: &DateInputs, context: &RunContext) -> Vec<SideWrite> {
        let rows: Vec<_> =
            unresolved::unresolved_player_names(inputs, context).iter().map(TableRow::values).collect();
        if rows.is_empty() {
            return Vec::new();
        }
        vec![SideWrite {
            table: &UNRESOLVED_PLAYER_NAMES,
            scope: ReplaceScope::Keys,
            rows,
            combine: Some(unresolved::combine_sightings),
        }]
    }

    /// The reference's `get_analytics_stats` fields after `records_processed` (reference-pgs.md
    /// §8), then `registry_players_not_found`, which the reference's backfill job read but PGS
    /// never wrote (reference-pgs.md B16).
    fn stats(&self, inputs: &DateInputs) -> StatsFields {
        let counts = unresolved::registry_counts(inputs);
        let usage = &inputs.source_usage;
        vec![
            ("registry_players_found", json!(counts.players_found)),
            ("registry_records_skipped", json!(counts.records_skipped)),
            ("source_nbac_completeness", json!(usage.nbac.completeness_pct)),
            ("source_bdl_completeness", json!(usage.bdl.completeness_pct)),
            ("source_odds_completeness", json!(usage.odds.completeness_pct)),
            ("registry_players_not_found", json!(counts.players_not_found)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_configuration_of_reference_test_dependency_configuration() {
        // reference-pgs.md §9.1 TestDependencyConfiguration listed six date-range dependencies with
        // the gamebook and BDL critical (§10 B7: both required). This port reads three: the
        // play-by-play and BettingPros tables are not read for data, and only BDL, which covers
        // every game, is critical. Rows and hours are the reference's expected_count_min and
        // fail thresholds (§2.2): 200/24 h, 200/12 h, 100/48 h.
        let declared: Vec<(String, &str, i64, bool, i64)> = PlayerGameSummaryProcessor
            .info()
            .dependencies
            .iter()
            .map(|dependency| {
                (
                    dependency.table.to_string(),
                    dependency.date_column,
                    dependency.expected_rows,
                    dependency.critical,
                    dependency.max_age_hours,
                )
            })
            .collect();
        assert_eq!(
            declared,
            vec![
                ("nba_raw.nbac_gamebook_player_stats".to_owned(), "game_date", 200, false, 24),
                ("nba_raw.bdl_player_boxscores".to_owned(), "game_date", 200, true, 12),
                ("nba_raw.odds_api_player_points_props".to_owned(), "game_date", 100, false, 48),
            ]
        );
    }
}
