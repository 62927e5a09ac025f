//! The phase-4 shot-zone tables: `nba_precompute.player_shot_zone_analysis` (per player) and
//! `nba_precompute.team_defense_zone_analysis` (per team), one row per entity per game date.
//!
//! Derivations (D = `analysis_date`, games strictly before D):
//! - PSZA: zone rates = zone attempts / field-goal attempts × 100 over the player's last 10
//!   (and 20) games; accuracies = makes / attempts; rows for players expected to play on D with at
//!   least one game.
//! - TDZA: over each team's last 15 games, the accuracy its opponents shot per zone; the
//!   `*_vs_league_avg` value = (that accuracy − the league's accuracy over all games before D) ×
//!   100, so positive means a weak defence (reference-pcf.md §2.1); rows for every team with at
//!   least one game.

use framework::schema::precompute::{PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS};
use framework::value::{ToValue, Value};

use super::calendar::morning_of;
use super::cells::{mean, optional_numeric, ratio};
use super::history::{SeasonIndex, TeamGameRecord, last};
use super::player_windows::{ZoneRates, sample_quality};
use super::roster::Roster;
use super::simulation::ShootingLine;

/// Games in the team defence window.
const DEFENSE_WINDOW: usize = 15;

pub fn player_shot_zone_rows(index: &SeasonIndex, roster: &Roster) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for game in index.games {
        let date = game.game_date();
        for (team, _, _) in game.sides() {
            for line in team.lines.iter().filter(|line| line.available()) {
                let prior = index.player_games_before(line.player_id, date);
                if prior.is_empty() {
                    continue;
                }
                let player = &roster.players[line.player_id];
                let ten = ZoneRates::over(last(prior, 10));
                let twenty = ZoneRates::over(last(prior, 20));
                let shooting = &ten.shooting;
                let accuracy =
                    |makes: i64, attempts: i64| optional_numeric(ratio(makes as f64, attempts as f64), 3);
                let unassisted_rate = ten.assisted_rate().map(|assisted| 100.0 - assisted);
                rows.push(PLAYER_SHOT_ZONE_ANALYSIS.row(vec![
                    ("player_lookup", player.player_lookup.to_value()),
                    ("universal_player_id", player.universal_player_id().to_value()),
                    ("analysis_date", date.to_value()),
                    ("paint_rate_last_10", optional_numeric(ten.paint_rate(), 2)),
                    ("mid_range_rate_last_10", optional_numeric(ten.mid_range_rate(), 2)),
                    ("three_pt_rate_last_10", optional_numeric(ten.three_pt_rate(), 2)),
                    ("total_shots_last_10", ten.total_shots().to_value()),
                    ("games_in_sample_10", ten.games.to_value()),
                    ("sample_quality_10", sample_quality(ten.games, 10).to_value()),
                    ("paint_pct_last_10", accuracy(shooting.paint_makes, shooting.paint_attempts)),
                    (
                        "mid_range_pct_last_10",
                        accuracy(shooting.mid_range_makes, shooting.mid_range_attempts),
                    ),
                    ("three_pt_pct_last_10", accuracy(shooting.three_pt_makes, shooting.three_pt_attempts)),
                    ("paint_attempts_per_game", optional_numeric(ten.per_game(shooting.paint_attempts), 1)),
                    (
                        "mid_range_attempts_per_game",
                        optional_numeric(ten.per_game(shooting.mid_range_attempts), 1),
                    ),
                    (
                        "three_pt_attempts_per_game",
                        optional_numeric(ten.per_game(shooting.three_pt_attempts), 1),
                    ),
                    ("paint_rate_last_20", optional_numeric(twenty.paint_rate(), 2)),
                    (
                        "paint_pct_last_20",
                        accuracy(twenty.shooting.paint_makes, twenty.shooting.paint_attempts),
                    ),
                    ("games_in_sample_20", twenty.games.to_value()),
                    ("sample_quality_20", sample_quality(twenty.games, 20).to_value()),
                    ("assisted_rate_last_10", optional_numeric(ten.assisted_rate(), 2)),
                    ("unassisted_rate_last_10", optional_numeric(unassisted_rate, 2)),
                    ("player_position", player.position.code().to_value()),
                    ("primary_scoring_zone", ten.primary_scoring_zone().to_value()),
                    ("data_quality_tier", sample_quality(ten.games, 10).to_value()),
                    ("early_season_flag", (ten.games < 5).to_value()),
                    ("is_production_ready", (ten.games >= 5).to_value()),
                    ("created_at", morning_of(date).to_value()),
                    ("processed_at", morning_of(date).to_value()),
                ]));
            }
        }
    }
    rows
}

/// One zone's defence: opponents' accuracy, attempts and the team's blocks there.
struct ZoneDefense {
    name: &'static str,
    makes: i64,
    attempts: i64,
    league_makes: i64,
    league_attempts: i64,
    blocks: i64,
}

impl ZoneDefense {
    fn accuracy_allowed(&self) -> Option<f64> {
        ratio(self.makes as f64, self.attempts as f64)
    }

    /// Percentage points above the league's accuracy: positive is a weak defence.
    fn versus_league(&self) -> Option<f64> {
        let league = ratio(self.league_makes as f64, self.league_attempts as f64)?;
        Some((self.accuracy_allowed()? - league) * 100.0)
    }
}

pub fn team_defense_zone_rows(index: &SeasonIndex, roster: &Roster) -> Vec<Vec<Value>> {
    let mut game_dates: Vec<_> = index.games.iter().map(|game| game.game_date()).collect();
    game_dates.dedup();
    let mut rows = Vec::new();
    for date in game_dates {
        let league = index.league_before(date).shooting;
        for team_abbr in &roster.teams {
            let window = last(index.team_games_before(team_abbr, date), DEFENSE_WINDOW);
            if !window.is_empty() {
                rows.push(team_defense_row(team_abbr, date, window, &league));
            }
        }
    }
    rows
}

fn team_defense_row(
    team_abbr: &str,
    date: chrono::NaiveDate,
    window: &[TeamGameRecord],
    league: &ShootingLine,
) -> Vec<Value> {
    let mut allowed = ShootingLine::default();
    let (mut paint_blocks, mut mid_range_blocks, mut three_pt_blocks) = (0, 0, 0);
    for game in window {
        allowed.add(&game.opponent.shooting());
        let (paint, mid_range, three) = game.team.blocks_by_zone();
        (paint_blocks, mid_range_blocks, three_pt_blocks) =
            (paint_blocks + paint, mid_range_blocks + mid_range, three_pt_blocks + three);
    }
    let zones = [
        ZoneDefense {
            name: "paint",
            makes: allowed.paint_makes,
            attempts: allowed.paint_attempts,
            league_makes: league.paint_makes,
            league_attempts: league.paint_attempts,
            blocks: paint_blocks,
        },
        ZoneDefense {
            name: "mid_range",
            makes: allowed.mid_range_makes,
            attempts: allowed.mid_range_attempts,
            league_makes: league.mid_range_makes,
            league_attempts: league.mid_range_attempts,
            blocks: mid_range_blocks,
        },
        ZoneDefense {
            name: "perimeter",
            makes: allowed.three_pt_makes,
            attempts: allowed.three_pt_attempts,
            league_makes: league.three_pt_makes,
            league_attempts: league.three_pt_attempts,
            blocks: three_pt_blocks,
        },
    ];
    let games = window.len() as f64;
    let per_game = |count: i64| Some(count as f64 / games);
    let points_allowed: i64 = window.iter().map(TeamGameRecord::points_against).sum();
    let possessions: f64 = window.iter().map(|game| game.possessions).sum();
    let ranked: Vec<(&str, f64)> =
        zones.iter().filter_map(|zone| Some((zone.name, zone.versus_league()?))).collect();
    let strongest = ranked.iter().min_by(|left, right| left.1.total_cmp(&right.1)).map(|zone| zone.0);
    let weakest = ranked.iter().max_by(|left, right| left.1.total_cmp(&right.1)).map(|zone| zone.0);
    let [paint, mid_range, three] = &zones;
    TEAM_DEFENSE_ZONE_ANALYSIS.row(vec![
        ("team_abbr", team_abbr.to_value()),
        ("analysis_date", date.to_value()),
        ("paint_pct_allowed_last_15", optional_numeric(paint.accuracy_allowed(), 3)),
        ("paint_attempts_allowed_per_game", optional_numeric(per_game(paint.attempts), 1)),
        ("paint_points_allowed_per_game", optional_numeric(per_game(2 * paint.makes), 1)),
        ("paint_blocks_per_game", optional_numeric(per_game(paint.blocks), 1)),
        ("paint_defense_vs_league_avg", optional_numeric(paint.versus_league(), 2)),
        ("mid_range_pct_allowed_last_15", optional_numeric(mid_range.accuracy_allowed(), 3)),
        ("mid_range_attempts_allowed_per_game", optional_numeric(per_game(mid_range.attempts), 1)),
        ("mid_range_blocks_per_game", optional_numeric(per_game(mid_range.blocks), 1)),
        ("mid_range_defense_vs_league_avg", optional_numeric(mid_range.versus_league(), 2)),
        ("three_pt_pct_allowed_last_15", optional_numeric(three.accuracy_allowed(), 3)),
        ("three_pt_attempts_allowed_per_game", optional_numeric(per_game(three.attempts), 1)),
        ("three_pt_blocks_per_game", optional_numeric(per_game(three.blocks), 1)),
        ("three_pt_defense_vs_league_avg", optional_numeric(three.versus_league(), 2)),
        // Points allowed per 100 possessions over the window.
        ("defensive_rating_last_15", optional_numeric(ratio(100.0 * points_allowed as f64, possessions), 2)),
        ("opponent_points_per_game", optional_numeric(per_game(points_allowed), 1)),
        ("opponent_pace", optional_numeric(mean(window.iter().map(|game| game.possessions)), 1)),
        ("games_in_sample", (window.len() as i64).to_value()),
        ("strongest_zone", strongest.to_value()),
        ("weakest_zone", weakest.to_value()),
        ("data_quality_tier", sample_quality(window.len() as i64, DEFENSE_WINDOW as i64).to_value()),
        ("early_season_flag", (window.len() < 5).to_value()),
        ("is_production_ready", (window.len() >= 5).to_value()),
        ("processed_at", morning_of(date).to_value()),
        ("created_at", morning_of(date).to_value()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versus_league_is_percentage_points_above_the_league() {
        // Allowed 30/50 = 0.600 against a league 550/1000 = 0.550: +5.0 points, a weak defence.
        let zone = ZoneDefense {
            name: "paint",
            makes: 30,
            attempts: 50,
            league_makes: 550,
            league_attempts: 1000,
            blocks: 0,
        };
        assert!((zone.versus_league().unwrap() - 5.0).abs() < 1e-9);
        let empty = ZoneDefense { attempts: 0, makes: 0, ..zone };
        assert_eq!(empty.versus_league(), None);
    }
}
