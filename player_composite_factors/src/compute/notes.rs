//! The reference's INFO lines around the computation (reference-pcf.md §5.4): what a date's
//! extraction and batch checks found, before its players, and the players written with
//! incomplete data. Made from the inputs and rows, so the computation stays silent and the
//! runner logs them.

use framework::RunContext;
use framework::circuit_breaker::CircuitBreaker;
use framework::progress::{
    checking_completeness_line, completeness_check_complete_line, python_bool, upstream_completeness_line,
};

use super::PlayerLookups;
use super::quality::{OWN_DATA_INCOMPLETE, season_flags};
use crate::inputs::DateInputs;
use crate::row::PlayerCompositeFactorsRow;

/// The lines before a date's players: the rows read per table (duplicates included, as the
/// reference counted its frames), then the completeness, upstream and circuit-breaker batch
/// checks, and the count of players about to be computed.
pub fn date_notes(inputs: &DateInputs, context: &RunContext) -> Vec<String> {
    let sources = &inputs.sources;
    let extracted = [
        (sources.player_context.rows_found, "player context"),
        (sources.team_context.rows_found, "team context"),
        (sources.player_shot.rows_found, "player shot zone"),
        (sources.team_defense.rows_found, "team defense zone"),
    ];
    let players = inputs.players.len();
    let upstreams_ready = inputs
        .players
        .values()
        .filter(|player| PlayerLookups::find(player, inputs).upstream_readiness().all_ready())
        .count();
    let season = season_flags(context.date, inputs.season_start_date);
    // The reference's batch query asked for the date's players only (reference-pcf.md §2.9):
    // the date's inputs keep no attempt of another player.
    let attempts: Vec<_> =
        inputs.players.values().filter_map(|player| player.latest_attempt.as_ref()).collect();
    let active_breakers = attempts
        .iter()
        .filter(|attempt| {
            matches!(CircuitBreaker::at(Some(attempt), context.processed_at), CircuitBreaker::Open { .. })
        })
        .count();
    let mut notes: Vec<String> = extracted
        .iter()
        .map(|(rows, table)| format!("Extracted {} {table} records", rows.unwrap_or(0)))
        .collect();
    notes.extend([
        checking_completeness_line(players),
        completeness_check_complete_line(season.backfill_bootstrap_mode, season.season_boundary_detected),
        upstream_completeness_line(upstreams_ready, players),
        format!(
            "Batch circuit breaker check: {} players with history, {active_breakers} active breakers",
            attempts.len()
        ),
        format!("Calculating composite factors for {players} players"),
    ]);
    notes
}

/// The lines for a player written with incomplete own games or upstreams: quality never skips
/// a player, it is only said.
pub fn reduced_quality_notes(row: &PlayerCompositeFactorsRow) -> Vec<String> {
    let mut notes = Vec::new();
    if row.data_quality_issues.contains(&OWN_DATA_INCOMPLETE) {
        notes.push(format!(
            "{}: Completeness {:.1}% ({}/{} games) - processing with reduced quality",
            row.player_lookup, row.completeness_percentage, row.actual_games_count, row.expected_games_count
        ));
    }
    if !row.all_upstreams_ready {
        notes.push(format!(
            "{}: Upstream not fully ready (shot_zone={}, team_defense={}, player_context={}, team_context={}) - \
             processing with reduced quality",
            row.player_lookup,
            python_bool(row.upstream_player_shot_ready),
            python_bool(row.upstream_team_defense_ready),
            python_bool(row.upstream_player_context_ready),
            python_bool(row.upstream_team_context_ready),
        ));
    }
    notes
}
