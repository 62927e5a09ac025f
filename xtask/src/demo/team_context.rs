//! `nba_analytics.upcoming_team_game_context`: one row per team per game date, from the team's
//! games before that date, plus the pre-game betting lines the player context repeats.
//!
//! Lines: each team's expected points is the mean of its points scored and its opponent's points
//! allowed over their last 10 games (112 without history); the home side gets 1.5 points. The
//! total is the sum and the spread the negated expected margin, both at the nearest half point.

use std::collections::BTreeMap;

use framework::schema::analytics::UPCOMING_TEAM_GAME_CONTEXT;
use framework::value::{ToValue, Value};

use super::calendar::{at_hour, days_between, morning_of, rest_days};
use super::cells::{mean, numeric};
use super::geography::miles_between_arenas;
use super::history::{SeasonIndex, TeamGameRecord, last, within_days};
use super::simulation::{LineStatus, SimulatedGame, TeamGame};

/// League scoring assumed before a team has history.
const LEAGUE_POINTS_PER_GAME: f64 = 112.0;
/// Points of home advantage in the spread.
const HOME_ADVANTAGE: f64 = 1.5;

/// What the player context repeats from its team's row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TeamOutlook {
    /// From this team's side: negative when favoured.
    pub game_spread: f64,
    pub game_total: f64,
    /// Days of rest before this game; `None` for the team's first game.
    pub days_rest: Option<i64>,
}

pub struct TeamContexts {
    pub rows: Vec<Vec<Value>>,
    /// By (game index, is_home).
    pub outlooks: BTreeMap<(usize, bool), TeamOutlook>,
}

pub fn team_context_rows(index: &SeasonIndex) -> TeamContexts {
    let mut contexts = TeamContexts { rows: Vec::new(), outlooks: BTreeMap::new() };
    for (game_index, game) in index.games.iter().enumerate() {
        let (home_spread, total) = betting_lines(index, game);
        for (team, opponent, is_home) in game.sides() {
            let spread = if is_home { home_spread } else { -home_spread } + 0.0;
            let prior = index.team_games_before(&team.team_abbr, game.game_date());
            let days_rest = prior.last().map(|previous| rest_days(previous.game_date, game.game_date()));
            contexts.outlooks.insert(
                (game_index, is_home),
                TeamOutlook { game_spread: spread, game_total: total, days_rest },
            );
            contexts.rows.push(team_context_row(index, game, team, opponent, is_home, prior, spread, total));
        }
    }
    contexts
}

/// (home spread, total), at half points.
fn betting_lines(index: &SeasonIndex, game: &SimulatedGame) -> (f64, f64) {
    let date = game.game_date();
    let recent = |team: &str| last(index.team_games_before(team, date), 10);
    let (home, away) = (recent(&game.home.team_abbr), recent(&game.away.team_abbr));
    let scored = |games: &[TeamGameRecord]| {
        mean(games.iter().map(|g| g.points_for() as f64)).unwrap_or(LEAGUE_POINTS_PER_GAME)
    };
    let allowed = |games: &[TeamGameRecord]| {
        mean(games.iter().map(|g| g.points_against() as f64)).unwrap_or(LEAGUE_POINTS_PER_GAME)
    };
    let home_expected = (scored(home) + allowed(away)) / 2.0 + HOME_ADVANTAGE / 2.0;
    let away_expected = (scored(away) + allowed(home)) / 2.0 - HOME_ADVANTAGE / 2.0;
    (nearest_half(away_expected - home_expected), nearest_half(home_expected + away_expected))
}

/// The nearest half point (ties away from zero); never negative zero.
pub fn nearest_half(value: f64) -> f64 {
    (value * 2.0).round() / 2.0 + 0.0
}

/// Consecutive results equal to the latest one, counted back from the latest game of the season.
fn streak(prior: &[TeamGameRecord], won: bool) -> i64 {
    prior.iter().rev().take_while(|game| game.won() == won).count() as i64
}

#[allow(clippy::too_many_arguments)]
fn team_context_row(
    index: &SeasonIndex,
    game: &SimulatedGame,
    team: &TeamGame,
    opponent: &TeamGame,
    is_home: bool,
    prior: &[TeamGameRecord],
    spread: f64,
    total: f64,
) -> Vec<Value> {
    let date = game.game_date();
    let previous = prior.last();
    let venue = if is_home { &team.team_abbr } else { &opponent.team_abbr };
    // Miles from the previous game's arena (the home team's) to this one's; 0 for the first game.
    let travel_miles = previous.map_or(0, |previous| {
        let previous_game = &index.games[previous.game_index];
        miles_between_arenas(&previous_game.home.team_abbr, venue)
    });
    let season_games = prior
        .iter()
        .filter(|record| index.games[record.game_index].schedule.season_year == game.schedule.season_year);
    let starters_out =
        team.lines.iter().take(5).filter(|line| line.status == LineStatus::Injured).count() as i64;
    let questionable = team.lines.iter().filter(|line| line.listed_questionable).count() as i64;
    let on_win_streak = previous.is_some_and(TeamGameRecord::won);
    let mut cells = vec![
        ("team_abbr", team.team_abbr.to_value()),
        ("game_id", game.game_id.to_value()),
        ("game_date", date.to_value()),
        ("season_year", game.schedule.season_year.to_value()),
        ("opponent_team_abbr", opponent.team_abbr.to_value()),
        ("home_game", is_home.to_value()),
        ("game_number_in_season", (season_games.count() as i64 + 1).to_value()),
        ("games_in_last_7_days", (within_days(prior, date, 7, |g| g.game_date).len() as i64).to_value()),
        ("games_in_last_14_days", (within_days(prior, date, 14, |g| g.game_date).len() as i64).to_value()),
        ("game_spread", numeric(spread, 2)),
        ("game_total", numeric(total, 1)),
        ("game_spread_source", "demo_consensus".to_value()),
        ("game_total_source", "demo_consensus".to_value()),
        ("betting_lines_updated_at", at_hour(date, 23).to_value()),
        ("starters_out_count", starters_out.to_value()),
        ("questionable_players_count", questionable.to_value()),
        ("team_win_streak_entering", if on_win_streak { streak(prior, true) } else { 0 }.to_value()),
        ("team_loss_streak_entering", if on_win_streak { 0 } else { streak(prior, false) }.to_value()),
        ("travel_miles", travel_miles.to_value()),
        ("early_season_flag", (prior.len() < 5).to_value()),
        ("is_production_ready", true.to_value()),
        ("processed_at", morning_of(date).to_value()),
        ("created_at", morning_of(date).to_value()),
    ];
    if let Some(previous) = previous {
        let rest = rest_days(previous.game_date, date);
        let margin = previous.points_for() - previous.points_against();
        cells.extend([
            ("is_back_to_back", (rest == 0).to_value()),
            ("team_back_to_back", (rest == 0).to_value()),
            ("days_since_last_game", days_between(previous.game_date, date).to_value()),
            ("team_days_rest", rest.to_value()),
            ("last_game_margin", margin.to_value()),
            ("last_game_result", if margin > 0 { "W" } else { "L" }.to_value()),
        ]);
    }
    UPCOMING_TEAM_GAME_CONTEXT.row(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_sit_on_half_points() {
        assert_eq!(nearest_half(3.26), 3.5);
        assert_eq!(nearest_half(-3.74), -3.5);
        assert_eq!(nearest_half(224.1), 224.0);
        assert!(nearest_half(-0.1).is_sign_positive());
    }
}
