//! `nba_precompute.player_daily_cache`: one row per player expected to play on each game date
//! (`cache_date`) with at least one earlier game, from his games before that date.
//!
//! Derivations (D = `cache_date`, games strictly before D, `player_windows` for the windows):
//! - `points_avg_last_5/10` = mean points of the last 5/10 games (fewer when fewer were played);
//!   `points_avg_season` over the season's games; `points_std_last_10` = sample standard
//!   deviation (NULL below two games).
//! - `minutes_avg_last_10`, `usage_rate_last_10`, `player_usage_rate_season`: means over the games;
//!   `ts_pct_last_10` = points / (2 · (FGA + 0.44 · FTA)) summed over the 10 games.
//! - `team_pace_last_10` = mean pace of his team's last 10 games; `team_off_rating_last_10` =
//!   100 · points / possessions over them.
//! - rest windows and shot-zone rates as in the player context and shot-zone tables.

use framework::schema::precompute::PLAYER_DAILY_CACHE;
use framework::value::{ToValue, Value};

use super::calendar::morning_of;
use super::cells::{mean, optional_numeric, ratio, sample_standard_deviation};
use super::history::{PlayedGame, SeasonIndex, TeamGameRecord, last};
use super::player_windows::{ZoneRates, points_average, rest_windows};
use super::roster::Roster;

pub fn daily_cache_rows(index: &SeasonIndex, roster: &Roster) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for game in index.games {
        let date = game.game_date();
        for (team, _, _) in game.sides() {
            let team_recent = last(index.team_games_before(&team.team_abbr, date), 10);
            for line in team.lines.iter().filter(|line| line.available()) {
                let prior = index.player_games_before(line.player_id, date);
                if !prior.is_empty() {
                    let season = season_games(index, prior, game.schedule.season_year);
                    rows.push(daily_cache_row(roster, line.player_id, date, prior, &season, team_recent));
                }
            }
        }
    }
    rows
}

fn season_games<'season>(
    index: &SeasonIndex,
    prior: &[PlayedGame<'season>],
    season_year: i64,
) -> Vec<PlayedGame<'season>> {
    prior
        .iter()
        .filter(|game| index.games[game.game_index].schedule.season_year == season_year)
        .copied()
        .collect()
}

/// Points / (2 · (FGA + 0.44 · FTA)) over the games.
fn true_shooting(games: &[PlayedGame]) -> Option<f64> {
    let points: i64 = games.iter().map(|game| game.line.points()).sum();
    let attempts: f64 = games
        .iter()
        .map(|game| {
            game.line.shooting.field_goals_attempted() as f64 + 0.44 * game.line.shooting.ft_attempts as f64
        })
        .sum();
    ratio(points as f64, 2.0 * attempts)
}

fn daily_cache_row(
    roster: &Roster,
    player_id: usize,
    date: chrono::NaiveDate,
    prior: &[PlayedGame],
    season: &[PlayedGame],
    team_recent: &[TeamGameRecord],
) -> Vec<Value> {
    let player = &roster.players[player_id];
    let ten = last(prior, 10);
    let ten_points: Vec<f64> = ten.iter().map(|game| game.line.points() as f64).collect();
    let windows = rest_windows(prior, date);
    let zones = ZoneRates::over(ten);
    let team_points: i64 = team_recent.iter().map(TeamGameRecord::points_for).sum();
    let team_possessions: f64 = team_recent.iter().map(|game| game.possessions).sum();
    PLAYER_DAILY_CACHE.row(vec![
        ("player_lookup", player.player_lookup.to_value()),
        ("universal_player_id", player.universal_player_id().to_value()),
        ("cache_date", date.to_value()),
        ("points_avg_last_5", optional_numeric(points_average(prior, 5), 1)),
        ("points_avg_last_10", optional_numeric(points_average(prior, 10), 1)),
        ("points_avg_season", optional_numeric(mean(season.iter().map(|game| game.line.points() as f64)), 1)),
        ("points_std_last_10", optional_numeric(sample_standard_deviation(&ten_points), 2)),
        ("minutes_avg_last_10", optional_numeric(mean(ten.iter().map(|game| game.line.minutes())), 1)),
        ("usage_rate_last_10", optional_numeric(mean(ten.iter().map(|game| game.line.usage_rate)), 2)),
        ("ts_pct_last_10", optional_numeric(true_shooting(ten), 3)),
        ("games_played_season", (season.len() as i64).to_value()),
        ("team_pace_last_10", optional_numeric(mean(team_recent.iter().map(|game| game.possessions)), 1)),
        ("team_off_rating_last_10", optional_numeric(ratio(100.0 * team_points as f64, team_possessions), 2)),
        (
            "player_usage_rate_season",
            optional_numeric(mean(season.iter().map(|game| game.line.usage_rate)), 2),
        ),
        ("games_in_last_7_days", windows.games_last_7_days.to_value()),
        ("games_in_last_14_days", windows.games_last_14_days.to_value()),
        ("minutes_in_last_7_days", (windows.minutes_last_7_days.round() as i64).to_value()),
        ("minutes_in_last_14_days", (windows.minutes_last_14_days.round() as i64).to_value()),
        ("back_to_backs_last_14_days", windows.back_to_backs_last_14_days.to_value()),
        ("avg_minutes_per_game_last_7", optional_numeric(windows.average_minutes_last_7_days(), 1)),
        ("primary_scoring_zone", zones.primary_scoring_zone().to_value()),
        ("paint_rate_last_10", optional_numeric(zones.paint_rate(), 2)),
        ("three_pt_rate_last_10", optional_numeric(zones.three_pt_rate(), 2)),
        ("assisted_rate_last_10", optional_numeric(zones.assisted_rate(), 2)),
        ("player_age", player.age_on(date).to_value()),
        ("early_season_flag", (ten.len() < 5).to_value()),
        ("is_production_ready", (ten.len() >= 5).to_value()),
        ("cache_version", "demo_v1".to_value()),
        ("created_at", morning_of(date).to_value()),
        ("processed_at", morning_of(date).to_value()),
    ])
}
