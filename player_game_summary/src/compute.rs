//! The pure per-player computation of PGS: one [`PlayerGameSummaryRow`] or one
//! [`EntityFailure`] per (game, player), from a date's [`DateInputs`].
//!
//! Nothing here reads, writes, logs or asks the clock: the run's timestamp arrives in the
//! [`RunContext`]. Every formula names its source in the reference (reference-pgs.md) and the port
//! decision (README §4) that changes it, if any. Entity failures use README §4 item 3's
//! categories: `MISSING_DATA` for what may still arrive upstream (a registry id, a box score),
//! `UPSTREAM_INCOMPLETE` for a game not final yet, `PROCESSING_ERROR` for input that can never
//! make a valid row until it is corrected.

use framework::rounding::{round_half_even, round_to_integer};
use framework::{EntityFailure, FailureCategory, RunContext};

use crate::game::{FinalScore, GameTeams, ScheduleGame, TeamTotals};
use crate::inputs::{ACTIVE_STATUS, DateInputs, GameInputs, PlayerLine, StatLine, StatSource};
use crate::parsing::{MinutesText, parse_minutes};
use crate::row::PlayerGameSummaryRow;
use crate::validation;
use framework::dates::season_label;

/// Minutes above which a player counts as a starter: a heuristic, not the real designation
/// (reference-pgs.md §4 rule 6; strict, so 20:00 is not a starter).
pub const STARTER_MINUTES_THRESHOLD: f64 = 20.0;

/// The weight of a free-throw attempt in possessions, in TS% and usage rate.
pub const FREE_THROW_ATTEMPT_WEIGHT: f64 = 0.44;

/// Regulation minutes, the usage-rate scale (reference-pgs.md §11.3).
pub const REGULATION_MINUTES: f64 = 48.0;

/// A usage rate above this is impossible and written as NULL (reference-pgs.md §11.3).
pub const MAXIMUM_USAGE_RATE: f64 = 100.0;

/// The quality issue of every row built from the fallback source (reference-pgs.md §4 rule 10).
pub const BACKUP_SOURCE_ISSUE: &str = "backup_source_used";

/// The quality issue of a row whose minutes text could not be read (this port's addition).
pub const MALFORMED_MINUTES_ISSUE: &str = "malformed_minutes";

/// One entity: a player's line in one game. Sorting entities sorts rows by the output key
/// (game_date is the run's date).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlayerGameKey {
    pub game_id: String,
    pub player_lookup: String,
}

impl PlayerGameKey {
    /// The id written to the failures table: `game_id/player_lookup`.
    pub fn entity_id(&self) -> String {
        format!("{}/{}", self.game_id, self.player_lookup)
    }
}

/// Every merged player line of the date, sorted by (game_id, player_lookup).
pub fn entities(date_inputs: &DateInputs) -> Vec<PlayerGameKey> {
    date_inputs
        .games
        .values()
        .flat_map(|game| {
            game.players.keys().map(|player_lookup| PlayerGameKey {
                game_id: game.game_id.clone(),
                player_lookup: player_lookup.clone(),
            })
        })
        .collect()
}

/// Summarises one player's game.
///
/// # Errors
/// `PROCESSING_ERROR` when the line is unknown, its game id is malformed, its team did not play
/// in the game, or a value is impossible (validation); `MISSING_DATA` when the registry has no
/// `universal_player_id` for the player (README §4 item 13; the name is also queued by
/// `unresolved::unresolved_player_names`).
pub fn process_entity(
    entity: &PlayerGameKey,
    date_inputs: &DateInputs,
    context: &RunContext,
) -> Result<PlayerGameSummaryRow, EntityFailure> {
    let fail =
        |category: FailureCategory, reason: String| EntityFailure::new(entity.entity_id(), category, reason);
    let game = date_inputs.games.get(&entity.game_id);
    let Some((game, line)) = game.and_then(|game| Some((game, game.players.get(&entity.player_lookup)?)))
    else {
        return Err(fail(
            FailureCategory::ProcessingError,
            "no box-score line for this player and game".into(),
        ));
    };
    let (teams, team_abbr, opponent_team_abbr) =
        team_and_opponent(game, line).map_err(|reason| fail(FailureCategory::ProcessingError, reason))?;
    let universal_player_id =
        date_inputs.registry.resolve(&line.player_lookup, line.season_year, team_abbr).ok_or_else(|| {
            let season = season_label(line.season_year);
            let reason =
                format!("no universal_player_id in nba_players_registry for season {season} or earlier");
            fail(FailureCategory::MissingData, reason)
        })?;
    validation::check_stat_line(&line.stats)
        .map_err(|reason| fail(FailureCategory::ProcessingError, reason))?;
    let minutes = parse_minutes(line.minutes.as_deref());
    validation::check_minutes(minutes.decimal())
        .map_err(|reason| fail(FailureCategory::ProcessingError, reason))?;
    let resolved =
        ResolvedLine { game, line, teams, team_abbr, opponent_team_abbr, universal_player_id, minutes };
    Ok(summary_row(&resolved, date_inputs, context))
}

/// Failures of the date that belong to no entity: raw lines that could not become one (no
/// `player_lookup`, a player on both teams at his rows' latest `processed_at`), and schedule
/// games with no box score at all. Sorted by entity id.
pub fn date_failures(date_inputs: &DateInputs) -> Vec<EntityFailure> {
    let mut failures = date_inputs.rejected_lines.clone();
    let missing_games = date_inputs
        .schedule_games
        .iter()
        .filter(|scheduled| scheduled.is_summarised() && !has_box_score(date_inputs, scheduled))
        .map(|scheduled| missing_box_score_failure(date_inputs, scheduled));
    failures.extend(missing_games);
    failures.sort_by(|left, right| left.entity_id.cmp(&right.entity_id));
    failures
}

fn has_box_score(date_inputs: &DateInputs, scheduled: &ScheduleGame) -> bool {
    date_inputs
        .games
        .values()
        .any(|game| game.teams.as_ref().is_some_and(|teams| scheduled.is_between(teams)))
}

/// A final game without box score may still be loaded (`MISSING_DATA`); a game not final yet
/// has no box score to expect (`UPSTREAM_INCOMPLETE`).
fn missing_box_score_failure(date_inputs: &DateInputs, scheduled: &ScheduleGame) -> EntityFailure {
    let matchup = format!("{} at {}", scheduled.away_team_tricode, scheduled.home_team_tricode);
    let (category, reason) = if scheduled.is_final() {
        (
            FailureCategory::MissingData,
            format!("schedule game {} ({matchup}) is final but has no box score", scheduled.game_id),
        )
    } else {
        (
            FailureCategory::UpstreamIncomplete,
            format!("schedule game {} ({matchup}) is not final yet", scheduled.game_id),
        )
    };
    EntityFailure::new(scheduled.box_score_game_id(date_inputs.date), category, reason)
}

/// A line with everything `summary_row` needs resolved.
struct ResolvedLine<'a> {
    game: &'a GameInputs,
    line: &'a PlayerLine,
    teams: &'a GameTeams,
    team_abbr: &'a str,
    opponent_team_abbr: &'a str,
    universal_player_id: &'a str,
    minutes: MinutesText,
}

/// The game's teams, the player's team and the opponent (reference-pgs.md §2.3 final SELECT).
fn team_and_opponent<'a>(
    game: &'a GameInputs,
    line: &'a PlayerLine,
) -> Result<(&'a GameTeams, &'a str, &'a str), String> {
    let teams = game
        .teams
        .as_ref()
        .ok_or_else(|| format!("game_id {} is not of the form YYYYMMDD_AWAY_HOME", game.game_id))?;
    let team_abbr = line.team_abbr.as_deref().ok_or_else(|| "team_abbr is NULL".to_owned())?;
    let opponent = teams.opponent_of(team_abbr).ok_or_else(|| {
        format!(
            "team {team_abbr} is not in game {} ({} at {})",
            game.game_id, teams.away_team_abbr, teams.home_team_abbr
        )
    })?;
    Ok((teams, team_abbr, opponent))
}

/// `minutes_played`: the decimal minutes rounded half-even to an integer, NULL when they are 0
/// or missing (reference-pgs.md §4 rule 2: 36.5 → 36, 37.5 → 38, `"0:00"` → NULL).
pub fn minutes_played(minutes: Option<f64>) -> Option<f64> {
    minutes.filter(|minutes| *minutes != 0.0).map(|minutes| round_to_integer(minutes) as f64)
}

/// eFG% = (FGM + 0.5 × 3PM) / FGA, 3 decimals, when FGA > 0 (reference-pgs.md §4 rule 5).
/// An exact 0 stays 0.0 (README §4 item 11); a missing input gives NULL.
pub fn effective_field_goal_pct(
    field_goals_made: Option<i64>,
    field_goals_attempted: Option<i64>,
    three_pointers_made: Option<i64>,
) -> Option<f64> {
    let attempts = field_goals_attempted.filter(|attempts| *attempts > 0)? as f64;
    let value = (field_goals_made? as f64 + 0.5 * three_pointers_made? as f64) / attempts;
    Some(round_half_even(value, 3))
}

/// TS% = PTS / (2 × (FGA + 0.44 × FTA)), 3 decimals, when FGA > 0 and FTA is known
/// (reference-pgs.md §4 rule 5). An exact 0 stays 0.0 (README §4 item 11).
pub fn true_shooting_pct(
    points: Option<i64>,
    field_goals_attempted: Option<i64>,
    free_throws_attempted: Option<i64>,
) -> Option<f64> {
    let attempts = field_goals_attempted.filter(|attempts| *attempts > 0)? as f64;
    let shooting_possessions = attempts + FREE_THROW_ATTEMPT_WEIGHT * free_throws_attempted? as f64;
    Some(round_half_even(points? as f64 / (2.0 * shooting_possessions), 3))
}

/// The result of a player's points against his line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PropOutcome {
    /// `OVER` or `UNDER`; a push counts as `OVER` (reference-pgs.md §4 rule 4).
    pub over_under_result: &'static str,
    /// points − line, 2 decimals.
    pub margin: f64,
}

/// The prop outcome, when both the points and the line are known.
pub fn prop_outcome(points: Option<i64>, points_line: Option<f64>) -> Option<PropOutcome> {
    let (points, points_line) = (points? as f64, points_line.filter(|line| line.is_finite())?);
    let over_under_result = if points >= points_line { "OVER" } else { "UNDER" };
    Some(PropOutcome { over_under_result, margin: round_half_even(points - points_line, 2) })
}

/// Usage rate, the later upstream formula (reference-pgs.md §11.3):
/// `100 × (FGA + 0.44·FTA + TO) × 48 / (minutes × (TmFGA + 0.44·TmFTA + TmTO))`, 1 decimal.
///
/// NULL when any input is missing, minutes are not positive, the team term is not positive, or
/// the result exceeds 100. Unlike upstream, a missing FTA is missing (not 0) and a 0 result stays
/// 0.0, as README §4 item 11 keeps the other real zeros.
pub fn usage_rate(stats: &StatLine, minutes: Option<f64>, team: &TeamTotals) -> Option<f64> {
    let minutes = minutes.filter(|minutes| *minutes > 0.0)?;
    let player_term =
        possessions_used(stats.field_goals_attempted?, stats.free_throws_attempted?, stats.turnovers?);
    let team_term =
        possessions_used(team.field_goals_attempted?, team.free_throws_attempted?, team.turnovers?);
    if team_term <= 0.0 {
        return None;
    }
    let usage = 100.0 * player_term * REGULATION_MINUTES / (minutes * team_term);
    (usage <= MAXIMUM_USAGE_RATE).then(|| round_half_even(usage, 1))
}

/// FGA + 0.44 × FTA + TO.
fn possessions_used(field_goals_attempted: i64, free_throws_attempted: i64, turnovers: i64) -> f64 {
    field_goals_attempted as f64 + FREE_THROW_ATTEMPT_WEIGHT * free_throws_attempted as f64 + turnovers as f64
}

/// `starter_flag`: decimal minutes strictly above 20; false when unknown.
pub fn is_starter(minutes: Option<f64>) -> bool {
    minutes.is_some_and(|minutes| minutes > STARTER_MINUTES_THRESHOLD)
}

/// `win_flag`: whether `team_abbr` scored more than its opponent; `None` without a final score or
/// on a tie (an NBA game cannot end tied, so a tied sum means incomplete lines). The reference
/// always wrote false (reference-pgs.md §10 B10).
pub fn win_flag(team_abbr: &str, teams: &GameTeams, final_score: Option<&FinalScore>) -> Option<bool> {
    let score = final_score?;
    let (own_points, opponent_points) = if team_abbr == teams.home_team_abbr {
        (score.home_points, score.away_points)
    } else {
        (score.away_points, score.home_points)
    };
    (own_points != opponent_points).then_some(own_points > opponent_points)
}

/// The quality columns of one row (reference-pgs.md §4 rule 10).
#[derive(Clone, Debug, PartialEq)]
pub struct QualityAssessment {
    /// `gold` for the gamebook, `silver` for the fallback (the code's values; the reference's
    /// two failing tests expected `high`/`medium`, §9.1).
    pub tier: &'static str,
    /// 100.0 gold, 85.0 silver.
    pub score: f64,
    pub issues: Vec<String>,
    /// True only when this port found a problem it wrote around (malformed minutes).
    pub processed_with_issues: bool,
}

/// Grades a row by its source and by whether its minutes could be read.
pub fn assess_quality(source: StatSource, minutes: MinutesText) -> QualityAssessment {
    let (tier, score, mut issues) = match source {
        StatSource::Gamebook => ("gold", 100.0, Vec::new()),
        StatSource::BdlBoxscores => ("silver", 85.0, vec![BACKUP_SOURCE_ISSUE.to_owned()]),
    };
    let malformed_minutes = minutes == MinutesText::Malformed;
    if malformed_minutes {
        issues.push(MALFORMED_MINUTES_ISSUE.to_owned());
    }
    QualityAssessment { tier, score, issues, processed_with_issues: malformed_minutes }
}

/// `quality_metadata`, byte-identical to the reference's Python `json.dumps`.
pub fn quality_metadata(source: StatSource) -> &'static str {
    match source {
        StatSource::Gamebook => r#"{"sources_used": ["nbac_gamebook"], "early_season": false}"#,
        StatSource::BdlBoxscores => r#"{"sources_used": ["bdl_boxscores"], "early_season": false}"#,
    }
}

/// Builds the row; one field per column, in schema order.
fn summary_row(
    resolved: &ResolvedLine<'_>,
    date_inputs: &DateInputs,
    context: &RunContext,
) -> PlayerGameSummaryRow {
    let ResolvedLine { game, line, teams, team_abbr, opponent_team_abbr, universal_player_id, minutes } =
        *resolved;
    let stats = &line.stats;
    let decimal_minutes = minutes.decimal();
    let prop_line = game.prop_lines.get(&line.player_lookup);
    let points_line = prop_line.map(|prop| prop.points_line);
    let outcome = prop_outcome(stats.points, points_line);
    let team_totals = game.totals_of(team_abbr);
    let quality = assess_quality(line.source, minutes);
    let usage = &date_inputs.source_usage;
    PlayerGameSummaryRow {
        player_lookup: line.player_lookup.clone(),
        universal_player_id: Some(universal_player_id.to_owned()),
        player_full_name: line.player_full_name.clone(),
        game_id: game.game_id.clone(),
        game_date: game.game_date,
        team_abbr: team_abbr.to_owned(),
        opponent_team_abbr: opponent_team_abbr.to_owned(),
        season_year: line.season_year,
        points: stats.points,
        minutes_played: minutes_played(decimal_minutes),
        assists: stats.assists,
        offensive_rebounds: stats.offensive_rebounds,
        defensive_rebounds: stats.defensive_rebounds,
        steals: stats.steals,
        blocks: stats.blocks,
        turnovers: stats.turnovers,
        fg_attempts: stats.field_goals_attempted,
        fg_makes: stats.field_goals_made,
        three_pt_attempts: stats.three_pointers_attempted,
        three_pt_makes: stats.three_pointers_made,
        ft_attempts: stats.free_throws_attempted,
        ft_makes: stats.free_throws_made,
        plus_minus: stats.plus_minus,
        personal_fouls: stats.personal_fouls,
        paint_attempts: None,
        paint_makes: None,
        mid_range_attempts: None,
        mid_range_makes: None,
        paint_blocks: None,
        mid_range_blocks: None,
        three_pt_blocks: None,
        and1_count: None,
        assisted_fg_makes: None,
        unassisted_fg_makes: None,
        usage_rate: team_totals.and_then(|totals| usage_rate(stats, decimal_minutes, totals)),
        ts_pct: true_shooting_pct(stats.points, stats.field_goals_attempted, stats.free_throws_attempted),
        efg_pct: effective_field_goal_pct(
            stats.field_goals_made,
            stats.field_goals_attempted,
            stats.three_pointers_made,
        ),
        starter_flag: is_starter(decimal_minutes),
        win_flag: win_flag(team_abbr, teams, game.final_score.as_ref()),
        points_line: points_line.map(|line| round_half_even(line, 1)),
        over_under_result: outcome.map(|outcome| outcome.over_under_result.to_owned()),
        margin: outcome.map(|outcome| outcome.margin),
        opening_line: None,
        line_movement: None,
        points_line_source: prop_line.map(|prop| prop.bookmaker.clone()),
        opening_line_source: None,
        is_active: line.player_status == ACTIVE_STATUS,
        player_status: Some(line.player_status.clone()),
        source_nbac_last_updated: usage.nbac.last_updated,
        source_nbac_rows_found: usage.nbac.rows_found,
        source_nbac_completeness_pct: usage.nbac.completeness_pct,
        source_nbac_hash: usage.nbac.hash.clone(),
        source_bdl_last_updated: usage.bdl.last_updated,
        source_bdl_rows_found: usage.bdl.rows_found,
        source_bdl_completeness_pct: usage.bdl.completeness_pct,
        source_bdl_hash: usage.bdl.hash.clone(),
        source_bbd_last_updated: usage.bbd.last_updated,
        source_bbd_rows_found: usage.bbd.rows_found,
        source_bbd_completeness_pct: usage.bbd.completeness_pct,
        source_bbd_hash: usage.bbd.hash.clone(),
        source_nbac_pbp_last_updated: usage.nbac_pbp.last_updated,
        source_nbac_pbp_rows_found: usage.nbac_pbp.rows_found,
        source_nbac_pbp_completeness_pct: usage.nbac_pbp.completeness_pct,
        source_nbac_pbp_hash: usage.nbac_pbp.hash.clone(),
        source_odds_last_updated: usage.odds.last_updated,
        source_odds_rows_found: usage.odds.rows_found,
        source_odds_completeness_pct: usage.odds.completeness_pct,
        source_odds_hash: usage.odds.hash.clone(),
        source_bp_last_updated: usage.bp.last_updated,
        source_bp_rows_found: usage.bp.rows_found,
        source_bp_completeness_pct: usage.bp.completeness_pct,
        source_bp_hash: usage.bp.hash.clone(),
        data_quality_tier: quality.tier.to_owned(),
        primary_source_used: line.source.name().to_owned(),
        processed_with_issues: quality.processed_with_issues,
        shot_zones_estimated: None,
        created_at: context.processed_at,
        processed_at: context.processed_at,
        quality_tier: quality.tier.to_owned(),
        quality_score: quality.score,
        quality_issues: quality.issues,
        data_sources: vec![line.source.name().to_owned()],
        quality_sample_size: None,
        quality_used_fallback: line.source != StatSource::Gamebook,
        quality_reconstructed: false,
        quality_calculated_at: context.processed_at,
        quality_metadata: Some(quality_metadata(line.source).to_owned()),
    }
}

#[cfg(test)]
mod tests;
