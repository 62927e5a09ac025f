//! The pure per-player computation: one `UpcomingPlayerGameContextRow` of the date in, one
//! `ml_feature_store_v2` row or one categorised failure out (reference-mlfs.md §3–§6).
//!
//! `process_entity` reads only its arguments: no warehouse, clock, environment or logging. The
//! run's timestamp arrives in [`RunContext`] and stands for "now" (the circuit breaker's
//! expiry, `created_at`). The formulas live in the submodules: [`features`] (the vector),
//! [`quality`] (score, data source, tier) and [`readiness`] (completeness, upstream readiness);
//! the circuit breaker is `framework::circuit_breaker`, shared with PCF.

pub mod features;
pub mod quality;
pub mod readiness;

#[cfg(test)]
mod tests;

use framework::circuit_breaker::{CircuitBreaker, ReprocessAttempt};
use framework::digest::hash_rows_together;
use framework::dispatch::Dispatched;
use framework::progress::{
    checking_completeness_line, completeness_check_complete_line, python_bool, upstream_completeness_line,
};
use framework::{EntityFailure, FailureCategory, RunContext, SmolStr, SourceUsage};

use crate::inputs::{
    DateInputs, PlayerCompositeFactorsRow, PlayerDailyCacheRow, PlayerGames, PlayerShotZoneAnalysisRow,
    TeamDefenseZoneAnalysisRow, UpcomingPlayerGameContextRow,
};
use crate::row::MlFeatureStoreRow;
use features::{
    FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION, FeatureVector, Phase3Values, Phase4Values, RecentGames,
    SeasonStats, TeamSeasonRecord, compute_features, merge_phase4, missing_composite_feature_lines,
};
use quality::{feature_quality_score, primary_data_source, quality_tier};
use readiness::{OwnCompleteness, UpstreamReadiness, is_bootstrap, is_season_boundary};

/// `processing_decision_reason` of every written row.
const PROCESSED_SUCCESSFULLY: &str = "processed_successfully";

/// The players of the date, one entity each, in `player_lookup` order (README §4 item 2): the
/// deduplicated UPGC rows, which carry everything a player's game context needs.
pub fn entities(date_inputs: &DateInputs) -> Vec<UpcomingPlayerGameContextRow> {
    date_inputs.players.clone()
}

/// The reference's lines before a date's players (reference-mlfs.md §1 `extract_raw_data` steps
/// 6 and 9, §6.1 steps 3–5).
///
/// `Batch extraction complete` counts the rows of each table the way the reference's keyed
/// dicts did (one per player, one per team); its last-10 count is of the date's players with a
/// game before the date, since this port reads only their history where the reference read
/// every player's.
pub fn date_notes(date_inputs: &DateInputs) -> Vec<String> {
    let players = date_inputs.players.len();
    let with_games = date_inputs
        .players
        .iter()
        .filter(|player| {
            date_inputs.history.player_games(&player.player_lookup).count_before(date_inputs.date) > 0
        })
        .count();
    let upstreams_ready = date_inputs
        .players
        .iter()
        .filter(|player| Phase4Rows::find(player, date_inputs).readiness().all_ready())
        .count();
    vec![
        format!("Found {players} players with games on {}", date_inputs.date),
        format!(
            "Batch extraction complete: {} daily_cache, {} composite, {} shot_zone, {} team_defense, \
             {players} player_context, {with_games} last_10_games",
            date_inputs.daily_cache.len(),
            date_inputs.composite_factors.len(),
            date_inputs.shot_zones.len(),
            date_inputs.team_defense.len(),
        ),
        checking_completeness_line(players),
        completeness_check_complete_line(
            is_bootstrap(date_inputs.date, date_inputs.season_year),
            is_season_boundary(date_inputs.date),
        ),
        upstream_completeness_line(upstreams_ready, players),
    ]
}

/// The reference's warnings about a written row whose composite factors took their defaults
/// (reference-mlfs.md §3): `<player>: Feature 5 (fatigue_score) missing from Phase 4, using
/// default=50.0`, one per such feature. The reference logged them among the player's own lines
/// without naming him; here they come after the date's dispatch, so each names its player.
pub fn row_notes(row: &MlFeatureStoreRow, date_inputs: &DateInputs) -> Vec<String> {
    let player_lookup = row.player_lookup.as_str();
    let Ok(index) =
        date_inputs.players.binary_search_by(|player| player.player_lookup.as_str().cmp(player_lookup))
    else {
        return Vec::new();
    };
    let phase4 = Phase4Rows::find(&date_inputs.players[index], date_inputs).merged();
    missing_composite_feature_lines(&phase4)
        .into_iter()
        .map(|line| format!("{player_lookup}: {line}"))
        .collect()
}

/// The feature-store row of one player, or why there is none (README §4 item 3).
///
/// The gates run in the reference's order (reference-mlfs.md §6.1): the circuit breaker
/// (every mode), then own-data completeness and upstream readiness, which are waived in
/// backfill mode and during the bootstrap window. Failures are returned, never logged here.
///
/// # Errors
/// - `MISSING_DATA`: the context row has no `game_id`, so no row can be keyed to a game.
/// - `CIRCUIT_BREAKER_ACTIVE`: the player's latest reprocess attempt tripped the breaker and it
///   has not expired at `context.processed_at`.
/// - `INCOMPLETE_DATA_SKIPPED`: own completeness below 90 % (live mode, after bootstrap).
/// - `UPSTREAM_INCOMPLETE`: a Phase 4 source is not production ready (live mode, after bootstrap).
/// - `PROCESSING_ERROR`: a feature came out non-finite, which the formulas rule out; the row is
///   withheld rather than written with a hole (README §4 item 9).
pub fn process_entity(
    player: &UpcomingPlayerGameContextRow,
    date_inputs: &DateInputs,
    context: &RunContext,
) -> Result<MlFeatureStoreRow, EntityFailure> {
    let mut row = unhashed_row(player, date_inputs, context)?;
    row.data_hash = Some(row.data_hash_text().finish());
    Ok(row)
}

/// Pushes [`process_entity`] of each of `players` to `outcomes`, in their order, with the rows'
/// `data_hash`es computed together (`framework::digest::hash_rows_together`).
pub fn process_players(
    players: &[UpcomingPlayerGameContextRow],
    date_inputs: &DateInputs,
    context: &RunContext,
    outcomes: &mut Dispatched<MlFeatureStoreRow>,
) {
    hash_rows_together(
        players,
        |player| unhashed_row(player, date_inputs, context),
        MlFeatureStoreRow::data_hash_text,
        |row, hash| row.data_hash = Some(hash),
        outcomes,
    );
}

/// The player's row without its `data_hash`, which hashes the row
/// ([`MlFeatureStoreRow::data_hash_text`]).
fn unhashed_row(
    player: &UpcomingPlayerGameContextRow,
    date_inputs: &DateInputs,
    context: &RunContext,
) -> Result<MlFeatureStoreRow, EntityFailure> {
    let player_lookup = player.player_lookup.as_str();
    let game_id = player.game_id.as_ref().filter(|game_id| !game_id.trim().is_empty()).ok_or_else(|| {
        EntityFailure::new(
            player_lookup,
            FailureCategory::MissingData,
            "No game_id in upcoming_player_game_context",
        )
    })?;
    let reprocess_attempt_count =
        CircuitBreaker::at(date_inputs.latest_reprocess_attempts.get(player_lookup), context.processed_at)
            .attempts_or_skip(player_lookup)?;

    let player_games = date_inputs.history.player_games(player_lookup);
    let own_completeness = readiness::own_completeness_of_player(
        &date_inputs.history,
        player_games,
        date_inputs.date,
        date_inputs.season_year,
    );
    let phase4_rows = Phase4Rows::find(player, date_inputs);
    let upstream = phase4_rows.readiness();
    let gates_waived = context.backfill || is_bootstrap(date_inputs.date, date_inputs.season_year);
    if !gates_waived {
        check_completeness(player_lookup, &own_completeness, &upstream)?;
    }

    let features = features_of(player, &phase4_rows, player_games, date_inputs);
    check_features_finite(player_lookup, &features)?;
    let assessment = Assessment { own_completeness, upstream, reprocess_attempt_count };
    Ok(build_row(player, game_id, &features, &assessment, date_inputs, context))
}

/// The reprocess attempts of the date's players skipped for incomplete data
/// (`_increment_reprocess_count`, reference-mlfs.md §2.8): each numbered after the player's
/// latest attempt for the date, with his own-data completeness whichever gate skipped him.
/// Other failures record none.
pub fn reprocess_attempts(
    date_inputs: &DateInputs,
    context: &RunContext,
    failures: &[EntityFailure],
) -> Vec<ReprocessAttempt> {
    failures
        .iter()
        .filter_map(|failure| {
            let player_lookup = failure.entity_id.as_str();
            let own_completeness = readiness::own_completeness_of_player(
                &date_inputs.history,
                date_inputs.history.player_games(player_lookup),
                date_inputs.date,
                date_inputs.season_year,
            );
            ReprocessAttempt::after(
                date_inputs.latest_reprocess_attempts.get(player_lookup),
                failure,
                own_completeness.completeness_percentage,
                context.processed_at,
            )
        })
        .collect()
}

/// The live-mode gates of reference-mlfs.md §6.1 steps 3–4, with the reference's reasons.
fn check_completeness(
    player_lookup: &str,
    own_completeness: &OwnCompleteness,
    upstream: &UpstreamReadiness,
) -> Result<(), EntityFailure> {
    if !own_completeness.is_production_ready {
        let percent = own_completeness.completeness_percentage;
        let (actual, expected) = (own_completeness.actual_games_count, own_completeness.expected_games_count);
        return Err(EntityFailure::new(
            player_lookup,
            FailureCategory::IncompleteDataSkipped,
            format!("Incomplete own data: {percent:.1}%"),
        )
        .logged_as(format!(
            "{player_lookup}: Completeness {percent:.1}% ({actual}/{expected} games) - skipping"
        )));
    }
    if !upstream.all_ready() {
        return Err(EntityFailure::new(
            player_lookup,
            FailureCategory::UpstreamIncomplete,
            "Upstream Phase 4 dependencies not ready",
        )
        .logged_as(format!(
            "{player_lookup}: Upstream not ready (daily_cache={}, composite={}, shot_zone={}, team_defense={}) - skipping",
            python_bool(upstream.daily_cache),
            python_bool(upstream.composite),
            python_bool(upstream.shot_zone),
            python_bool(upstream.team_defense),
        )));
    }
    Ok(())
}

fn check_features_finite(player_lookup: &str, features: &FeatureVector) -> Result<(), EntityFailure> {
    match features.values.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(EntityFailure::new(
            player_lookup,
            FailureCategory::ProcessingError,
            format!("feature {index} ({}) is not finite", FEATURE_NAMES[index]),
        )),
        None => Ok(()),
    }
}

/// The player's opponent, when the context names one.
fn opponent_of(player: &UpcomingPlayerGameContextRow) -> Option<&str> {
    player.opponent_team_abbr.as_deref().filter(|team| !team.is_empty())
}

/// The player's rows in the date's Phase 4 sources (the opponent's for team defense), looked up
/// once for both the readiness gate and the features.
struct Phase4Rows<'a> {
    daily_cache: Option<&'a PlayerDailyCacheRow>,
    composite: Option<&'a PlayerCompositeFactorsRow>,
    shot_zones: Option<&'a PlayerShotZoneAnalysisRow>,
    team_defense: Option<&'a TeamDefenseZoneAnalysisRow>,
}

impl<'a> Phase4Rows<'a> {
    fn find(player: &UpcomingPlayerGameContextRow, date_inputs: &'a DateInputs) -> Phase4Rows<'a> {
        let player_lookup = player.player_lookup.as_str();
        Phase4Rows {
            daily_cache: date_inputs.daily_cache.get(player_lookup),
            composite: date_inputs.composite_factors.get(player_lookup),
            shot_zones: date_inputs.shot_zones.get(player_lookup),
            team_defense: opponent_of(player).and_then(|opponent| date_inputs.team_defense.get(opponent)),
        }
    }

    /// The Phase 4 values the features read, merged in the reference's order.
    fn merged(&self) -> Phase4Values {
        merge_phase4(self.daily_cache, self.composite, self.shot_zones, self.team_defense)
    }

    /// Readiness of the rows (reference-mlfs.md §2.7): a missing row or a NULL flag is not ready.
    fn readiness(&self) -> UpstreamReadiness {
        let ready = |flag: Option<Option<bool>>| flag.flatten() == Some(true);
        UpstreamReadiness {
            daily_cache: ready(self.daily_cache.map(|row| row.is_production_ready)),
            composite: ready(self.composite.map(|row| row.is_production_ready)),
            shot_zone: ready(self.shot_zones.map(|row| row.is_production_ready)),
            team_defense: ready(self.team_defense.map(|row| row.is_production_ready)),
        }
    }
}

/// The player's 25 features from the date's Phase 4 rows and the player's games (from the
/// shared history), sliced at `D`.
pub fn player_features(
    player: &UpcomingPlayerGameContextRow,
    player_games: &PlayerGames,
    date_inputs: &DateInputs,
) -> FeatureVector {
    features_of(player, &Phase4Rows::find(player, date_inputs), player_games, date_inputs)
}

fn features_of(
    player: &UpcomingPlayerGameContextRow,
    phase4_rows: &Phase4Rows<'_>,
    player_games: &PlayerGames,
    date_inputs: &DateInputs,
) -> FeatureVector {
    let phase4 = phase4_rows.merged();
    let history = &date_inputs.history;
    let games_before = &player_games.games()[..player_games.count_before(date_inputs.date)];
    let recent_games = RecentGames::from_history(games_before);
    let team_games_before =
        player.team_abbr.as_deref().map_or(&[][..], |team| history.team_games_before(team, date_inputs.date));
    let phase3 = Phase3Values {
        context: player,
        recent_games: recent_games.as_slice(),
        season: SeasonStats::from_history(games_before, date_inputs.season_year),
        team_record: TeamSeasonRecord::from_history(team_games_before, date_inputs.season_year),
    };
    compute_features(&phase4, &phase3)
}

/// What the gates found about a player, written to the completeness columns.
struct Assessment {
    own_completeness: OwnCompleteness,
    upstream: UpstreamReadiness,
    /// The latest attempt number of a closed circuit breaker (open ones fail the player).
    reprocess_attempt_count: i64,
}

/// The `source_<prefix>_*` columns of one source, in column order.
type SourceColumns = (Option<chrono::DateTime<chrono::Utc>>, Option<i64>, Option<f64>, Option<SmolStr>);

fn source_columns(usage: &SourceUsage) -> SourceColumns {
    (usage.last_updated, usage.rows_found, usage.completeness_pct, usage.hash.clone())
}

/// Assembles the output row (reference-mlfs.md §5.1), all but its `data_hash`.
fn build_row(
    player: &UpcomingPlayerGameContextRow,
    game_id: &SmolStr,
    features: &FeatureVector,
    assessment: &Assessment,
    date_inputs: &DateInputs,
    context: &RunContext,
) -> MlFeatureStoreRow {
    let score = feature_quality_score(&features.sources);
    let (daily_cache_updated, daily_cache_rows, daily_cache_pct, daily_cache_hash) =
        source_columns(&date_inputs.source_daily_cache);
    let (composite_updated, composite_rows, composite_pct, composite_hash) =
        source_columns(&date_inputs.source_composite);
    let (shot_zones_updated, shot_zones_rows, shot_zones_pct, shot_zones_hash) =
        source_columns(&date_inputs.source_shot_zones);
    let (team_defense_updated, team_defense_rows, team_defense_pct, team_defense_hash) =
        source_columns(&date_inputs.source_team_defense);
    let own = &assessment.own_completeness;
    MlFeatureStoreRow {
        player_lookup: player.player_lookup.clone(),
        universal_player_id: player.universal_player_id.clone(),
        game_date: date_inputs.date,
        game_id: game_id.clone(),
        features: features.values.to_vec(),
        feature_names: &FEATURE_NAMES,
        feature_count: FEATURE_COUNT as i64,
        feature_version: FEATURE_VERSION,
        feature_generation_time_ms: None,
        feature_quality_score: Some(score),
        opponent_team_abbr: player.opponent_team_abbr.clone(),
        is_home: player.home_game,
        days_rest: player.days_rest,
        data_source: primary_data_source(&features.sources),
        source_daily_cache_last_updated: daily_cache_updated,
        source_daily_cache_rows_found: daily_cache_rows,
        source_daily_cache_completeness_pct: daily_cache_pct,
        source_daily_cache_hash: daily_cache_hash,
        source_composite_last_updated: composite_updated,
        source_composite_rows_found: composite_rows,
        source_composite_completeness_pct: composite_pct,
        source_composite_hash: composite_hash,
        source_shot_zones_last_updated: shot_zones_updated,
        source_shot_zones_rows_found: shot_zones_rows,
        source_shot_zones_completeness_pct: shot_zones_pct,
        source_shot_zones_hash: shot_zones_hash,
        source_team_defense_last_updated: team_defense_updated,
        source_team_defense_rows_found: team_defense_rows,
        source_team_defense_completeness_pct: team_defense_pct,
        source_team_defense_hash: team_defense_hash,
        early_season_flag: None,
        insufficient_data_reason: None,
        expected_games_count: Some(own.expected_games_count),
        actual_games_count: Some(own.actual_games_count),
        completeness_percentage: Some(own.completeness_percentage),
        missing_games_count: Some(own.missing_games_count),
        is_production_ready: Some(own.is_production_ready && assessment.upstream.all_ready()),
        data_quality_issues: assessment.upstream.data_quality_issues(),
        last_reprocess_attempt_at: None,
        reprocess_attempt_count: Some(assessment.reprocess_attempt_count),
        circuit_breaker_active: Some(false),
        circuit_breaker_until: None,
        manual_override_required: Some(false),
        season_boundary_detected: Some(is_season_boundary(date_inputs.date)),
        backfill_bootstrap_mode: Some(is_bootstrap(date_inputs.date, date_inputs.season_year)),
        processing_decision_reason: Some(PROCESSED_SUCCESSFULLY),
        quality_tier: Some(quality_tier(score)),
        data_hash: None,
        created_at: context.processed_at,
        updated_at: None,
    }
}
