//! `nba_analytics.team_offense_game_summary`: one row per team per played game, summed from the
//! team's box score (MLFS reads `win_flag` for `team_win_pct`, README §4 item 15).

use framework::schema::analytics::TEAM_OFFENSE_GAME_SUMMARY;
use framework::value::{ToValue, Value};

use super::calendar::morning_after;
use super::cells::{numeric, optional_numeric, ratio};
use super::history::{SeasonIndex, TeamGameRecord};
use super::simulation::LineStatus;

/// Rows in date then team order.
pub fn team_offense_rows(index: &SeasonIndex) -> Vec<Vec<Value>> {
    let mut records: Vec<&TeamGameRecord> = index.all_team_games().collect();
    records.sort_by(|left, right| {
        (left.game_date, &left.team.team_abbr).cmp(&(right.game_date, &right.team.team_abbr))
    });
    records.into_iter().map(|record| team_offense_row(index, record)).collect()
}

fn team_offense_row(index: &SeasonIndex, record: &TeamGameRecord) -> Vec<Value> {
    let game = &index.games[record.game_index];
    let team = record.team;
    let shooting = team.shooting();
    let points = record.points_for();
    let injured: Vec<bool> = team.lines.iter().map(|line| line.status == LineStatus::Injured).collect();
    // True shooting: points / (2 · (FGA + 0.44 · FTA)).
    let true_shooting = ratio(
        points as f64,
        2.0 * (shooting.field_goals_attempted() as f64 + 0.44 * shooting.ft_attempts as f64),
    );
    TEAM_OFFENSE_GAME_SUMMARY.row(vec![
        ("game_id", game.game_id.to_value()),
        ("nba_game_id", game.schedule.nba_game_id.to_value()),
        ("game_date", record.game_date.to_value()),
        ("team_abbr", team.team_abbr.to_value()),
        ("opponent_team_abbr", record.opponent.team_abbr.to_value()),
        ("season_year", game.schedule.season_year.to_value()),
        ("points_scored", points.to_value()),
        ("fg_attempts", shooting.field_goals_attempted().to_value()),
        ("fg_makes", shooting.field_goals_made().to_value()),
        ("three_pt_attempts", shooting.three_pt_attempts.to_value()),
        ("three_pt_makes", shooting.three_pt_makes.to_value()),
        ("ft_attempts", shooting.ft_attempts.to_value()),
        ("ft_makes", shooting.ft_makes.to_value()),
        ("rebounds", team.total_rebounds().to_value()),
        ("assists", team.assists().to_value()),
        ("turnovers", team.turnovers().to_value()),
        ("personal_fouls", team.personal_fouls().to_value()),
        ("team_paint_attempts", shooting.paint_attempts.to_value()),
        ("team_paint_makes", shooting.paint_makes.to_value()),
        ("team_mid_range_attempts", shooting.mid_range_attempts.to_value()),
        ("team_mid_range_makes", shooting.mid_range_makes.to_value()),
        ("points_in_paint_scored", (2 * shooting.paint_makes).to_value()),
        ("offensive_rating", numeric(record.offensive_rating(), 2)),
        ("pace", numeric(record.possessions, 1)),
        ("possessions", (record.possessions.round() as i64).to_value()),
        ("ts_pct", optional_numeric(true_shooting, 3)),
        ("home_game", record.is_home.to_value()),
        ("win_flag", record.won().to_value()),
        ("margin_of_victory", (points - record.points_against()).to_value()),
        ("players_inactive", (injured.iter().filter(|out| **out).count() as i64).to_value()),
        ("starters_inactive", (injured.iter().take(5).filter(|out| **out).count() as i64).to_value()),
        ("data_quality_tier", "high".to_value()),
        ("shot_zones_available", true.to_value()),
        ("shot_zones_source", "demo_boxscores".to_value()),
        ("primary_source_used", "demo_boxscores".to_value()),
        ("processed_with_issues", false.to_value()),
        ("created_at", morning_after(record.game_date).to_value()),
        ("processed_at", morning_after(record.game_date).to_value()),
    ])
}
