//! The raw box-score tables: `nba_raw.nbac_gamebook_player_stats` and `nba_raw.bdl_player_boxscores`.
//!
//! BDL has every game but only the players who played; the NBA.com gamebook covers about 85% of
//! games (the rest exist only in BDL, exercising PGS's fallback, README §4 item 10) and lists every
//! rostered player: `active` if he played, `inactive` when out injured, `dnp` for a coach's
//! decision. Gamebook minutes are `"MM:SS"`; BDL minutes alternate by game between whole minutes
//! (`"34"`) and `"MM:SS"`, as the BDL API has done over time.

use framework::schema::raw::{BDL_PLAYER_BOXSCORES, NBAC_GAMEBOOK_PLAYER_STATS};
use framework::value::{ToValue, Value};
use rand_chacha::ChaCha8Rng;

use super::calendar::morning_after;
use super::roster::Roster;
use super::sampling::chance;
use super::simulation::{COACH_DECISION_NOTE, LineStatus, PlayerLine, SimulatedGame, TeamGame};

/// Share of games that have an NBA.com gamebook.
const GAMEBOOK_COVERAGE: f64 = 0.85;

/// Which games (by index) have a gamebook, drawn once per game in game order.
pub fn draw_gamebook_coverage(rng: &mut ChaCha8Rng, game_count: usize) -> Vec<bool> {
    (0..game_count).map(|_| chance(rng, GAMEBOOK_COVERAGE)).collect()
}

/// Gamebook rows of the covered games: one per rostered player.
pub fn gamebook_rows(games: &[SimulatedGame], coverage: &[bool], roster: &Roster) -> Vec<Vec<Value>> {
    games
        .iter()
        .zip(coverage)
        .filter(|(_, covered)| **covered)
        .flat_map(|(game, _)| {
            game.sides().into_iter().flat_map(move |(team, _, _)| {
                team.lines.iter().map(move |line| gamebook_row(game, team, line, roster))
            })
        })
        .collect()
}

/// BDL rows of every game: one per player who played.
pub fn bdl_rows(games: &[SimulatedGame], roster: &Roster) -> Vec<Vec<Value>> {
    games
        .iter()
        .enumerate()
        .flat_map(|(game_index, game)| {
            game.sides().into_iter().flat_map(move |(team, _, _)| {
                team.lines
                    .iter()
                    .filter(|line| line.played())
                    .map(move |line| bdl_row(game, game_index, team, line, roster))
            })
        })
        .collect()
}

/// `"MM:SS"`.
pub fn minutes_and_seconds(seconds: i64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// Makes over attempts to 3 decimals, NULL without attempts (the feeds' percentages).
fn shooting_pct(makes: i64, attempts: i64) -> Value {
    if attempts == 0 { Value::Null } else { super::cells::numeric(makes as f64 / attempts as f64, 3) }
}

fn game_code(game: &SimulatedGame) -> String {
    let schedule = &game.schedule;
    format!("{}/{}{}", schedule.game_date.format("%Y%m%d"), schedule.away_team_abbr, schedule.home_team_abbr)
}

fn gamebook_row(game: &SimulatedGame, team: &TeamGame, line: &PlayerLine, roster: &Roster) -> Vec<Value> {
    let player = &roster.players[line.player_id];
    let schedule = &game.schedule;
    let (status, reason) = match line.status {
        LineStatus::Played => ("active", None),
        LineStatus::CoachDecision => ("dnp", Some(COACH_DECISION_NOTE)),
        LineStatus::Injured => ("inactive", line.injury_note),
    };
    let mut cells = vec![
        ("game_id", game.game_id.to_value()),
        ("game_code", game_code(game).to_value()),
        ("game_date", schedule.game_date.to_value()),
        ("season_year", schedule.season_year.to_value()),
        ("home_team_abbr", schedule.home_team_abbr.to_value()),
        ("away_team_abbr", schedule.away_team_abbr.to_value()),
        ("player_name", player.full_name.to_value()),
        ("player_name_original", player.full_name.to_value()),
        ("player_lookup", player.player_lookup.to_value()),
        ("team_abbr", team.team_abbr.to_value()),
        ("player_status", status.to_value()),
        ("dnp_reason", reason.to_value()),
        ("name_resolution_status", "original".to_value()),
        ("name_resolution_confidence", 1.0.to_value()),
        ("name_resolution_method", "exact".to_value()),
        (
            "source_file_path",
            format!("demo/nbac-gamebook/{}/{}.json", schedule.game_date, game.game_id).to_value(),
        ),
        ("processed_at", morning_after(schedule.game_date).to_value()),
        ("requires_manual_review", false.to_value()),
    ];
    if line.played() {
        let shooting = &line.shooting;
        cells.extend([
            ("minutes", minutes_and_seconds(line.seconds).to_value()),
            ("minutes_decimal", super::cells::numeric(line.minutes(), 2)),
            ("points", line.points().to_value()),
            ("field_goals_made", shooting.field_goals_made().to_value()),
            ("field_goals_attempted", shooting.field_goals_attempted().to_value()),
            (
                "field_goal_percentage",
                shooting_pct(shooting.field_goals_made(), shooting.field_goals_attempted()),
            ),
            ("three_pointers_made", shooting.three_pt_makes.to_value()),
            ("three_pointers_attempted", shooting.three_pt_attempts.to_value()),
            ("three_point_percentage", shooting_pct(shooting.three_pt_makes, shooting.three_pt_attempts)),
            ("free_throws_made", shooting.ft_makes.to_value()),
            ("free_throws_attempted", shooting.ft_attempts.to_value()),
            ("free_throw_percentage", shooting_pct(shooting.ft_makes, shooting.ft_attempts)),
            ("offensive_rebounds", line.offensive_rebounds.to_value()),
            ("defensive_rebounds", line.defensive_rebounds.to_value()),
            ("total_rebounds", line.total_rebounds().to_value()),
            ("assists", line.assists.to_value()),
            ("steals", line.steals.to_value()),
            ("blocks", line.blocks.to_value()),
            ("turnovers", line.turnovers.to_value()),
            ("personal_fouls", line.personal_fouls.to_value()),
            ("plus_minus", line.plus_minus.to_value()),
        ]);
    }
    NBAC_GAMEBOOK_PLAYER_STATS.row(cells)
}

fn bdl_row(
    game: &SimulatedGame,
    game_index: usize,
    team: &TeamGame,
    line: &PlayerLine,
    roster: &Roster,
) -> Vec<Value> {
    let player = &roster.players[line.player_id];
    let schedule = &game.schedule;
    let shooting = &line.shooting;
    // Whole minutes on even games (BDL's older format), "MM:SS" on odd ones.
    let minutes = if game_index.is_multiple_of(2) {
        (line.seconds / 60).to_string()
    } else {
        minutes_and_seconds(line.seconds)
    };
    BDL_PLAYER_BOXSCORES.row(vec![
        ("game_id", game.game_id.to_value()),
        ("game_date", schedule.game_date.to_value()),
        ("season_year", schedule.season_year.to_value()),
        ("game_status", "Final".to_value()),
        ("period", 4i64.to_value()),
        ("is_postseason", game.phase.is_postseason().to_value()),
        ("home_team_abbr", schedule.home_team_abbr.to_value()),
        ("away_team_abbr", schedule.away_team_abbr.to_value()),
        ("home_team_score", game.home.points().to_value()),
        ("away_team_score", game.away.points().to_value()),
        ("team_abbr", team.team_abbr.to_value()),
        ("player_full_name", player.full_name.to_value()),
        ("player_lookup", player.player_lookup.to_value()),
        ("bdl_player_id", player.bdl_player_id.to_value()),
        ("jersey_number", player.jersey_number.to_string().to_value()),
        ("position", player.position.code().to_value()),
        ("minutes", minutes.to_value()),
        ("points", line.points().to_value()),
        ("assists", line.assists.to_value()),
        ("rebounds", line.total_rebounds().to_value()),
        ("offensive_rebounds", line.offensive_rebounds.to_value()),
        ("defensive_rebounds", line.defensive_rebounds.to_value()),
        ("steals", line.steals.to_value()),
        ("blocks", line.blocks.to_value()),
        ("turnovers", line.turnovers.to_value()),
        ("personal_fouls", line.personal_fouls.to_value()),
        ("field_goals_made", shooting.field_goals_made().to_value()),
        ("field_goals_attempted", shooting.field_goals_attempted().to_value()),
        ("field_goal_pct", shooting_pct(shooting.field_goals_made(), shooting.field_goals_attempted())),
        ("three_pointers_made", shooting.three_pt_makes.to_value()),
        ("three_pointers_attempted", shooting.three_pt_attempts.to_value()),
        ("three_point_pct", shooting_pct(shooting.three_pt_makes, shooting.three_pt_attempts)),
        ("free_throws_made", shooting.ft_makes.to_value()),
        ("free_throws_attempted", shooting.ft_attempts.to_value()),
        ("free_throw_pct", shooting_pct(shooting.ft_makes, shooting.ft_attempts)),
        ("source_file_path", format!("demo/bdl/boxscores/{}.json", schedule.game_date).to_value()),
        ("created_at", morning_after(schedule.game_date).to_value()),
        ("processed_at", morning_after(schedule.game_date).to_value()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_written_as_minutes_and_seconds() {
        assert_eq!(minutes_and_seconds(34 * 60 + 7), "34:07");
        assert_eq!(minutes_and_seconds(59), "0:59");
    }

    #[test]
    fn percentages_are_null_without_attempts() {
        assert_eq!(shooting_pct(0, 0), Value::Null);
        assert_eq!(shooting_pct(2, 3), Value::Float(0.667));
    }
}
