//! `nba_analytics.upcoming_player_game_context`: one row per player expected to play on each game
//! date (everyone on the roster not out injured), built from the games before that date.
//!
//! Derivations (D = the game date; windows from `player_windows`):
//! - `days_rest` = days between the player's previous game and D, minus one (0 = back-to-back);
//!   NULL before his first game. `back_to_back` = `days_rest == 0`.
//! - `games_in_last_7_days`, `minutes_in_last_7_days`, `avg_minutes_per_game_last_7`,
//!   `back_to_backs_last_14_days`: his games in `[D − 7, D − 1]` / `[D − 14, D − 1]`.
//! - `avg_usage_rate_last_7_games` = mean usage of his last 7 games;
//!   `projected_usage_rate` = mean of his last-7 and season usage, +1.5 per star teammate out.
//! - `star_teammates_out` = injured teammates among the team's three best players.
//! - `opponent_pace_last_10` = mean pace of the opponent's last 10 games;
//!   `pace_differential` = the team's last-10 pace minus that.
//! - `current_points_line` / `opening_points_line`: the selected prop line (`props`).
//! - `game_spread`, `game_total`, `opponent_days_rest`: the team context rows (`team_context`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use framework::schema::analytics::UPCOMING_PLAYER_GAME_CONTEXT;
use framework::value::{ToValue, Value};

use super::calendar::{morning_of, rest_days};
use super::cells::{mean, numeric, optional_numeric, ratio};
use super::history::{PlayedGame, SeasonIndex, TeamGameRecord, last};
use super::player_windows::{points_average, rest_windows, usage_average};
use super::props::SelectedLine;
use super::roster::Roster;
use super::simulation::{LineStatus, PlayerLine, SimulatedGame, TeamGame};
use super::team_context::TeamOutlook;

/// Usage assumed for a player's projection before he has played.
const DEFAULT_USAGE_RATE: f64 = 20.0;
/// Projected usage gained per star teammate out.
const USAGE_PER_STAR_OUT: f64 = 1.5;
/// The team's best players, by depth, whose absence counts as a star out.
const STARS_PER_TEAM: usize = 3;

/// What the player context reads besides the season index.
pub struct ContextSources<'inputs> {
    pub roster: &'inputs Roster,
    pub selected_lines: &'inputs BTreeMap<(usize, usize), SelectedLine>,
    pub outlooks: &'inputs BTreeMap<(usize, bool), TeamOutlook>,
}

pub fn player_context_rows(index: &SeasonIndex, sources: &ContextSources) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for (game_index, game) in index.games.iter().enumerate() {
        for (team, opponent, is_home) in game.sides() {
            let pace = PaceOutlook::of(index, team, opponent, game.game_date());
            for line in team.lines.iter().filter(|line| line.available()) {
                let row_inputs = RowInputs { game_index, game, team, opponent, is_home, line, pace };
                rows.push(player_context_row(index, sources, &row_inputs));
            }
        }
    }
    rows
}

/// The two teams' recent pace and the opponent's recent defence.
#[derive(Clone, Copy)]
struct PaceOutlook {
    team_pace_last_10: Option<f64>,
    opponent_pace_last_10: Option<f64>,
    opponent_def_rating_last_10: Option<f64>,
}

impl PaceOutlook {
    fn of(index: &SeasonIndex, team: &TeamGame, opponent: &TeamGame, date: NaiveDate) -> Self {
        let recent = |team_abbr: &str| last(index.team_games_before(team_abbr, date), 10);
        let pace = |games: &[TeamGameRecord]| mean(games.iter().map(|game| game.possessions));
        let opponent_games = recent(&opponent.team_abbr);
        PaceOutlook {
            team_pace_last_10: pace(recent(&team.team_abbr)),
            opponent_pace_last_10: pace(opponent_games),
            opponent_def_rating_last_10: mean(opponent_games.iter().map(TeamGameRecord::defensive_rating)),
        }
    }
}

struct RowInputs<'game> {
    game_index: usize,
    game: &'game SimulatedGame,
    team: &'game TeamGame,
    opponent: &'game TeamGame,
    is_home: bool,
    line: &'game PlayerLine,
    pace: PaceOutlook,
}

/// Injured teammates among the team's best `STARS_PER_TEAM` players (lines are in depth order).
fn star_teammates_out(team: &TeamGame, player_id: usize) -> i64 {
    team.lines
        .iter()
        .take(STARS_PER_TEAM)
        .filter(|line| line.player_id != player_id && line.status == LineStatus::Injured)
        .count() as i64
}

fn season_usage(prior: &[PlayedGame], season_year: i64, index: &SeasonIndex) -> Option<f64> {
    mean(
        prior
            .iter()
            .filter(|game| index.games[game.game_index].schedule.season_year == season_year)
            .map(|game| game.line.usage_rate),
    )
}

fn player_context_row(index: &SeasonIndex, sources: &ContextSources, inputs: &RowInputs) -> Vec<Value> {
    let date = inputs.game.game_date();
    let player = &sources.roster.players[inputs.line.player_id];
    let prior = index.player_games_before(player.player_id, date);
    let windows = rest_windows(prior, date);
    let days_rest = prior.last().map(|previous| rest_days(previous.game_date, date));
    let stars_out = star_teammates_out(inputs.team, player.player_id);
    let usage_last_7 = usage_average(prior, 7);
    let usage_season = season_usage(prior, inputs.game.schedule.season_year, index);
    let projected_usage = mean(usage_last_7.into_iter().chain(usage_season)).unwrap_or(DEFAULT_USAGE_RATE)
        + USAGE_PER_STAR_OUT * stars_out as f64;
    let outlook = sources.outlooks.get(&(inputs.game_index, inputs.is_home));
    let opponent_outlook = sources.outlooks.get(&(inputs.game_index, !inputs.is_home));
    let prop = sources.selected_lines.get(&(inputs.game_index, player.player_id));
    let pace_differential = inputs
        .pace
        .team_pace_last_10
        .zip(inputs.pace.opponent_pace_last_10)
        .map(|(team, opponent)| team - opponent);
    let games_played = prior.len() as f64;
    let mut cells = vec![
        ("player_lookup", player.player_lookup.to_value()),
        ("universal_player_id", player.universal_player_id().to_value()),
        ("game_id", inputs.game.game_id.to_value()),
        ("game_date", date.to_value()),
        ("team_abbr", inputs.team.team_abbr.to_value()),
        ("opponent_team_abbr", inputs.opponent.team_abbr.to_value()),
        ("has_prop_line", prop.is_some().to_value()),
        ("pace_differential", optional_numeric(pace_differential, 1)),
        ("opponent_pace_last_10", optional_numeric(inputs.pace.opponent_pace_last_10, 1)),
        ("home_game", inputs.is_home.to_value()),
        ("back_to_back", (days_rest == Some(0)).to_value()),
        ("season_phase", inputs.game.phase.label().to_value()),
        ("projected_usage_rate", numeric(projected_usage, 2)),
        ("days_rest", days_rest.to_value()),
        ("games_in_last_7_days", windows.games_last_7_days.to_value()),
        ("games_in_last_14_days", windows.games_last_14_days.to_value()),
        ("minutes_in_last_7_days", (windows.minutes_last_7_days.round() as i64).to_value()),
        ("minutes_in_last_14_days", (windows.minutes_last_14_days.round() as i64).to_value()),
        ("avg_minutes_per_game_last_7", optional_numeric(windows.average_minutes_last_7_days(), 1)),
        ("back_to_backs_last_14_days", windows.back_to_backs_last_14_days.to_value()),
        ("avg_usage_rate_last_7_games", optional_numeric(usage_last_7, 2)),
        ("player_age", player.age_on(date).to_value()),
        ("points_avg_last_5", optional_numeric(points_average(prior, 5), 1)),
        ("points_avg_last_10", optional_numeric(points_average(prior, 10), 1)),
        ("star_teammates_out", stars_out.to_value()),
        ("opponent_def_rating_last_10", optional_numeric(inputs.pace.opponent_def_rating_last_10, 2)),
        ("opponent_days_rest", opponent_outlook.and_then(|outlook| outlook.days_rest).to_value()),
        (
            "player_status",
            if inputs.line.listed_questionable { "questionable" } else { "available" }.to_value(),
        ),
        ("data_quality_tier", super::player_windows::sample_quality(prior.len() as i64, 10).to_value()),
        ("is_production_ready", (prior.len() >= 5).to_value()),
        ("l5_completeness_pct", ratio(100.0 * games_played.min(5.0), 5.0).to_value()),
        ("l5_is_complete", (prior.len() >= 5).to_value()),
        ("l10_completeness_pct", ratio(100.0 * games_played.min(10.0), 10.0).to_value()),
        ("l10_is_complete", (prior.len() >= 10).to_value()),
        ("context_version", 1i64.to_value()),
        ("created_at", morning_of(date).to_value()),
        ("processed_at", morning_of(date).to_value()),
    ];
    if let Some(previous_rest) = (prior.len() >= 2)
        .then(|| rest_days(prior[prior.len() - 2].game_date, prior[prior.len() - 1].game_date))
    {
        cells.push(("days_rest_before_last_game", previous_rest.to_value()));
    }
    if let Some(outlook) = outlook {
        cells.extend([
            ("game_spread", numeric(outlook.game_spread, 1)),
            ("opening_spread", numeric(outlook.game_spread, 1)),
            ("spread_movement", numeric(0.0, 1)),
            ("game_spread_source", "demo_consensus".to_value()),
            ("game_total", numeric(outlook.game_total, 1)),
            ("opening_total", numeric(outlook.game_total, 1)),
            ("total_movement", numeric(0.0, 1)),
            ("game_total_source", "demo_consensus".to_value()),
        ]);
    }
    if let Some(prop) = prop {
        cells.extend([
            ("current_points_line", numeric(prop.current_line, 1)),
            ("opening_points_line", numeric(prop.opening_line, 1)),
            ("line_movement", numeric(prop.current_line - prop.opening_line, 1)),
            ("current_points_line_source", prop.bookmaker.to_value()),
            ("opening_points_line_source", prop.bookmaker.to_value()),
        ]);
    }
    UPCOMING_PLAYER_GAME_CONTEXT.row(cells)
}
