//! The pure per-player computation of Player Composite Factors: the entities of a date and
//! `process_entity`, which turns one player's looked-up inputs into an output row or a failure.
//!
//! Nothing here reads the warehouse, the clock or the environment, and nothing logs: the date,
//! the run time and the backfill flag arrive in [`RunContext`], the inputs in [`DateInputs`].
//! Formulas live in [`factors`], the context JSON text in [`context_json`], the readiness
//! columns in [`quality`], the circuit breaker in `framework::circuit_breaker`; this module looks
//! rows up and assembles the row; [`row_hash`] hashes it, and [`notes`] makes the reference's
//! lines about a date and its rows for the runner to log. The lists rows choose by their flags
//! (missing fields, warnings, quality issues) are made once, in [`subsets`].

pub mod context_json;
pub mod factors;
pub mod notes;
pub mod quality;
pub mod row_hash;
pub mod subsets;

use framework::circuit_breaker::CircuitBreaker;
use framework::digest::hash_rows_together;
use framework::dispatch::Dispatched;
use framework::rounding::round_half_even;
use framework::{EntityFailure, FailureCategory, RunContext, SmolStr};

use self::context_json::{
    fatigue_context_json, pace_context_json, shot_zone_context_json, usage_context_json,
};
use self::factors::{
    CALCULATION_VERSION, CompositeFactors, DEFERRED_FACTOR_SCORE, data_completeness, warnings,
};
use self::quality::{OwnCompleteness, SeasonFlags, UpstreamReadiness, data_quality_issues, season_flags};
use self::row_hash::row_hash_text;
use crate::games_history::GamesCompleteness;
use crate::inputs::{
    DateInputs, PlayerInputs, PlayerShotZoneAnalysisRow, TeamDefenseZoneAnalysisRow,
    UpcomingPlayerGameContextRow, UpcomingTeamGameContextRow,
};
use crate::row::PlayerCompositeFactorsRow;

/// Written to `processing_decision_reason` of every row.
pub const PROCESSING_DECISION_REASON: &str = "processed_successfully";

/// The players of a date: every distinct UPGC `player_lookup` (README §4 item 14), sorted, which
/// is the output's key order (README §4 item 2).
pub fn entities(date_inputs: &DateInputs) -> Vec<String> {
    let mut players: Vec<String> = date_inputs.players.keys().cloned().collect();
    players.sort_unstable();
    players
}

/// One player's row for the date, or why there is none.
///
/// # Errors
/// - `MISSING_DATA` when the player has no UPGC row for the date, or a row without `game_id`
///   (the output's `game_id` is NOT NULL; the same reason as MLFS's);
/// - `CIRCUIT_BREAKER_ACTIVE` when the player's breaker is tripped and has not expired at
///   `context.processed_at` (reference-pcf.md §2.9, §5.1).
///
/// Incomplete inputs never fail a player: they lower `data_completeness_pct` and the readiness
/// flags instead (reference-pcf.md §5.1).
pub fn process_entity(
    player_lookup: &str,
    date_inputs: &DateInputs,
    context: &RunContext,
) -> Result<PlayerCompositeFactorsRow, EntityFailure> {
    let mut row = unhashed_row(player_lookup, date_inputs, context)?;
    row.data_hash = row_hash_text(&row, &date_inputs.row_hash_prefix).finish();
    Ok(row)
}

/// Pushes [`process_entity`] of each of `players` to `outcomes`, in their order, with the rows'
/// `data_hash`es computed together (`framework::digest::hash_rows_together`: SHA-256 of sixteen
/// rows at once).
pub fn process_players(
    players: &[String],
    date_inputs: &DateInputs,
    context: &RunContext,
    outcomes: &mut Dispatched<PlayerCompositeFactorsRow>,
) {
    hash_rows_together(
        players,
        |player_lookup| unhashed_row(player_lookup, date_inputs, context),
        |row| row_hash_text(row, &date_inputs.row_hash_prefix).unfinished(),
        |row, hash| row.data_hash = hash,
        outcomes,
    );
}

/// The player's row without its `data_hash`, which hashes the row (see [`row_hash`]).
fn unhashed_row(
    player_lookup: &str,
    date_inputs: &DateInputs,
    context: &RunContext,
) -> Result<PlayerCompositeFactorsRow, EntityFailure> {
    let player = date_inputs.player(player_lookup).ok_or_else(|| {
        EntityFailure::new(player_lookup, FailureCategory::MissingData, "Player not found in context data")
    })?;
    let game_id =
        player.context.game_id.as_ref().filter(|game_id| !game_id.trim().is_empty()).ok_or_else(|| {
            EntityFailure::new(
                player_lookup,
                FailureCategory::MissingData,
                "No game_id in upcoming_player_game_context",
            )
        })?;
    let reprocess_attempt_count = CircuitBreaker::at(player.latest_attempt.as_ref(), context.processed_at)
        .attempts_or_skip(player_lookup)?;
    let lookups = PlayerLookups::find(player, date_inputs);
    let quality = RowQuality::assess(&lookups, date_inputs, context);
    Ok(assemble_row(&lookups, game_id, &quality, date_inputs, context, reprocess_attempt_count))
}

/// The upstream rows joined to one player (reference-pcf.md §2.4): his own (his context row,
/// shot row and games, joined when the date was indexed) and the defence and team-context rows
/// of his opponent.
struct PlayerLookups<'a> {
    context: &'a UpcomingPlayerGameContextRow,
    shot: Option<&'a PlayerShotZoneAnalysisRow>,
    games: GamesCompleteness,
    defense: Option<&'a TeamDefenseZoneAnalysisRow>,
    opponent_context: Option<&'a UpcomingTeamGameContextRow>,
}

impl<'a> PlayerLookups<'a> {
    fn find(player: &'a PlayerInputs, date_inputs: &'a DateInputs) -> PlayerLookups<'a> {
        let opponent =
            player.context.opponent_team_abbr.as_deref().and_then(|team| date_inputs.teams.get(team));
        PlayerLookups {
            context: &player.context,
            shot: player.shot_zone.as_ref(),
            games: player.games,
            defense: opponent.and_then(|team| team.defense_zone.as_ref()),
            opponent_context: opponent.and_then(|team| team.context.as_ref()),
        }
    }

    /// Whether each of the four upstream rows is there and production ready (reference-pcf.md
    /// §2.8).
    fn upstream_readiness(&self) -> UpstreamReadiness {
        UpstreamReadiness::from_flags([
            self.shot.map(|row| row.is_production_ready),
            self.defense.map(|row| row.is_production_ready),
            Some(self.context.is_production_ready),
            self.opponent_context.map(|row| row.is_production_ready),
        ])
    }
}

/// The readiness side of a row (see [`quality`]), the same in live and backfill runs.
struct RowQuality {
    own: OwnCompleteness,
    upstream: UpstreamReadiness,
    season: SeasonFlags,
}

impl RowQuality {
    fn assess(lookups: &PlayerLookups<'_>, date_inputs: &DateInputs, context: &RunContext) -> RowQuality {
        let season = season_flags(context.date, date_inputs.season_start_date);
        RowQuality {
            own: quality::own_completeness(lookups.games),
            upstream: lookups.upstream_readiness(),
            season,
        }
    }

    fn is_production_ready(&self) -> bool {
        self.own.is_production_ready && self.upstream.all_ready()
    }
}

/// Every column but `data_hash`, which hashes the others (reference-pcf.md §4.2).
fn assemble_row(
    lookups: &PlayerLookups<'_>,
    game_id: &SmolStr,
    quality: &RowQuality,
    date_inputs: &DateInputs,
    context: &RunContext,
    reprocess_attempt_count: i64,
) -> PlayerCompositeFactorsRow {
    let player_context = lookups.context;
    let factors = CompositeFactors::compute(player_context, lookups.shot, lookups.defense);
    let total = factors.total();
    let (data_completeness_pct, missing_data_fields) =
        data_completeness(player_context, lookups.shot.is_some(), lookups.defense.is_some());
    let (has_warnings, warning_details) = warnings(factors.fatigue_score, factors.shot_zone_mismatch, total);
    let sources = &date_inputs.sources;
    let deferred_score = round_half_even(DEFERRED_FACTOR_SCORE, 1);
    PlayerCompositeFactorsRow {
        player_lookup: player_context.player_lookup.clone(),
        universal_player_id: player_context.universal_player_id.clone(),
        game_date: player_context.game_date,
        game_id: game_id.clone(),
        analysis_date: context.date,
        fatigue_score: factors.fatigue_score,
        shot_zone_mismatch_score: round_half_even(factors.shot_zone_mismatch, 1),
        pace_score: round_half_even(factors.pace, 1),
        usage_spike_score: round_half_even(factors.usage_spike, 1),
        referee_favorability_score: deferred_score,
        look_ahead_pressure_score: deferred_score,
        travel_impact_score: deferred_score,
        opponent_strength_score: deferred_score,
        total_composite_adjustment: round_half_even(total, 2),
        fatigue_context_json: fatigue_context_json(player_context, factors.fatigue_score),
        shot_zone_context_json: shot_zone_context_json(
            lookups.shot,
            lookups.defense,
            factors.shot_zone_mismatch,
        ),
        pace_context_json: pace_context_json(player_context, factors.pace),
        usage_context_json: usage_context_json(player_context, factors.usage_spike),
        calculation_version: CALCULATION_VERSION,
        data_completeness_pct,
        missing_data_fields,
        has_warnings,
        warning_details,
        source_player_context_last_updated: sources.player_context.last_updated,
        source_player_context_rows_found: sources.player_context.rows_found,
        source_player_context_completeness_pct: sources.player_context.completeness_pct,
        source_team_context_last_updated: sources.team_context.last_updated,
        source_team_context_rows_found: sources.team_context.rows_found,
        source_team_context_completeness_pct: sources.team_context.completeness_pct,
        source_player_shot_last_updated: sources.player_shot.last_updated,
        source_player_shot_rows_found: sources.player_shot.rows_found,
        source_player_shot_completeness_pct: sources.player_shot.completeness_pct,
        source_team_defense_last_updated: sources.team_defense.last_updated,
        source_team_defense_rows_found: sources.team_defense.rows_found,
        source_team_defense_completeness_pct: sources.team_defense.completeness_pct,
        source_player_context_hash: sources.player_context.hash.clone(),
        source_team_context_hash: sources.team_context.hash.clone(),
        source_player_shot_hash: sources.player_shot.hash.clone(),
        source_team_defense_hash: sources.team_defense.hash.clone(),
        data_hash: SmolStr::default(),
        early_season_flag: false,
        insufficient_data_reason: None,
        expected_games_count: quality.own.expected_games_count,
        actual_games_count: quality.own.actual_games_count,
        completeness_percentage: quality.own.completeness_percentage,
        missing_games_count: quality.own.missing_games_count,
        is_production_ready: quality.is_production_ready(),
        data_quality_issues: data_quality_issues(&quality.own, &quality.upstream),
        upstream_player_shot_ready: quality.upstream.player_shot,
        upstream_team_defense_ready: quality.upstream.team_defense,
        upstream_player_context_ready: quality.upstream.player_context,
        upstream_team_context_ready: quality.upstream.team_context,
        all_upstreams_ready: quality.upstream.all_ready(),
        last_reprocess_attempt_at: None,
        reprocess_attempt_count,
        circuit_breaker_active: false,
        circuit_breaker_until: None,
        manual_override_required: false,
        season_boundary_detected: quality.season.season_boundary_detected,
        backfill_bootstrap_mode: quality.season.backfill_bootstrap_mode,
        processing_decision_reason: PROCESSING_DECISION_REASON,
        created_at: context.processed_at,
        processed_at: context.processed_at,
    }
}

#[cfg(test)]
mod tests;
