//! Facts of one game shared by its players' rows: the two teams named in the box-score id, the
//! team totals summed from the players' lines (for `usage_rate`, reference-pgs.md §11.3), and the
//! final score (for `win_flag`): from `nba_raw.nbac_schedule` when it has it, else from the summed
//! team points.
//!
//! Schedule ids (`0022300585`) differ from box-score ids (`20240115_HOU_PHI`), so a schedule game
//! is matched on the date and its two tricodes.

use crate::inputs::{PlayerLine, ScheduleRow};

/// The schedule's `game_status` of a finished game.
pub const FINAL_GAME_STATUS: i64 = 3;

/// Schedule id prefixes of the games that must have box scores: regular season (002, NBA Cup
/// included), playoffs (004), play-in (005) and the NBA Cup final (006). Preseason (001) and
/// All-Star (003) games are not summarised (README §7).
pub const SUMMARISED_GAME_ID_PREFIXES: [&str; 4] = ["002", "004", "005", "006"];

/// The two teams of a box-score game id `YYYYMMDD_AWAY_HOME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameTeams {
    pub away_team_abbr: String,
    pub home_team_abbr: String,
}

impl GameTeams {
    /// The other team, or `None` when `team_abbr` did not play in this game.
    pub fn opponent_of(&self, team_abbr: &str) -> Option<&str> {
        if team_abbr == self.home_team_abbr {
            Some(&self.away_team_abbr)
        } else if team_abbr == self.away_team_abbr {
            Some(&self.home_team_abbr)
        } else {
            None
        }
    }
}

/// Reads the teams from a `YYYYMMDD_AWAY_HOME` id; `None` unless it has exactly three parts,
/// an 8-digit date and two different alphanumeric tricodes (the reference's unchecked `OFFSET`
/// failed the whole query on such an id, reference-pgs.md §10 B12).
pub fn parse_game_teams(game_id: &str) -> Option<GameTeams> {
    let mut parts = game_id.split('_');
    let (date, away, home) = (parts.next()?, parts.next()?, parts.next()?);
    let is_code =
        |part: &str| !part.is_empty() && part.chars().all(|character| character.is_ascii_alphanumeric());
    let valid = parts.next().is_none()
        && date.len() == 8
        && date.chars().all(|character| character.is_ascii_digit())
        && is_code(away)
        && is_code(home)
        && away != home;
    valid.then(|| GameTeams { away_team_abbr: away.to_owned(), home_team_abbr: home.to_owned() })
}

/// A team's totals over its players' lines. A total is `None` when any of the team's lines lacks
/// the stat or has it negative: a partial sum would inflate every teammate's usage rate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeamTotals {
    pub field_goals_attempted: Option<i64>,
    pub free_throws_attempted: Option<i64>,
    pub turnovers: Option<i64>,
    pub points: Option<i64>,
}

impl TeamTotals {
    /// Sums the lines of `team_abbr` (all `None` when the team has no line).
    pub fn sum<'a>(lines: impl Iterator<Item = &'a PlayerLine> + Clone, team_abbr: &str) -> TeamTotals {
        let team_lines = lines.filter(|line| line.team_abbr.as_deref() == Some(team_abbr));
        let total = |stat: fn(&PlayerLine) -> Option<i64>| sum_complete(team_lines.clone().map(stat));
        TeamTotals {
            field_goals_attempted: total(|line| line.stats.field_goals_attempted),
            free_throws_attempted: total(|line| line.stats.free_throws_attempted),
            turnovers: total(|line| line.stats.turnovers),
            points: total(|line| line.stats.points),
        }
    }
}

/// The sum of non-negative values, `None` if any is missing or negative or there is none.
fn sum_complete(values: impl Iterator<Item = Option<i64>>) -> Option<i64> {
    let mut total: Option<i64> = None;
    for value in values {
        let value = value.filter(|value| *value >= 0)?;
        total = Some(total.unwrap_or(0).checked_add(value)?);
    }
    total
}

/// Where a final score came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreSource {
    Schedule,
    SummedTeamPoints,
}

/// The final score of a game.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalScore {
    pub away_points: i64,
    pub home_points: i64,
    pub source: ScoreSource,
}

/// A schedule game of the date.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleGame {
    pub game_id: String,
    pub game_status: Option<i64>,
    pub away_team_tricode: String,
    pub home_team_tricode: String,
    pub away_team_score: Option<i64>,
    pub home_team_score: Option<i64>,
}

impl From<ScheduleRow> for ScheduleGame {
    fn from(row: ScheduleRow) -> Self {
        ScheduleGame {
            game_id: row.game_id,
            game_status: row.game_status,
            away_team_tricode: row.away_team_tricode,
            home_team_tricode: row.home_team_tricode,
            away_team_score: row.away_team_score,
            home_team_score: row.home_team_score,
        }
    }
}

impl ScheduleGame {
    pub fn is_final(&self) -> bool {
        self.game_status == Some(FINAL_GAME_STATUS)
    }

    /// Whether the game type must have box scores (see [`SUMMARISED_GAME_ID_PREFIXES`]).
    pub fn is_summarised(&self) -> bool {
        SUMMARISED_GAME_ID_PREFIXES.iter().any(|prefix| self.game_id.starts_with(prefix))
    }

    pub fn is_between(&self, teams: &GameTeams) -> bool {
        self.away_team_tricode == teams.away_team_abbr && self.home_team_tricode == teams.home_team_abbr
    }

    /// The box-score style id of this game on `date`, used as the entity id of its failure.
    pub fn box_score_game_id(&self, date: chrono::NaiveDate) -> String {
        format!("{}_{}_{}", date.format("%Y%m%d"), self.away_team_tricode, self.home_team_tricode)
    }
}

/// The final score: the schedule's when the game is final there with both scores, else the
/// summed team points when both teams' totals are complete.
pub fn final_score(
    teams: &GameTeams,
    schedule_games: &[ScheduleGame],
    away_totals: &TeamTotals,
    home_totals: &TeamTotals,
) -> Option<FinalScore> {
    let scheduled = schedule_games.iter().find(|game| game.is_between(teams) && game.is_final());
    if let Some(game) = scheduled
        && let (Some(away_points), Some(home_points)) = (game.away_team_score, game.home_team_score)
    {
        return Some(FinalScore { away_points, home_points, source: ScoreSource::Schedule });
    }
    Some(FinalScore {
        away_points: away_totals.points?,
        home_points: home_totals.points?,
        source: ScoreSource::SummedTeamPoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_score_ids_name_away_then_home() {
        let teams = parse_game_teams("20240115_HOU_PHI").unwrap();
        assert_eq!(teams.away_team_abbr, "HOU");
        assert_eq!(teams.home_team_abbr, "PHI");
        assert_eq!(teams.opponent_of("PHI"), Some("HOU"));
        assert_eq!(teams.opponent_of("HOU"), Some("PHI"));
        assert_eq!(teams.opponent_of("LAL"), None);
    }

    #[test]
    fn malformed_game_ids_have_no_teams() {
        for game_id in [
            "0022300585",
            "20240115_HOU",
            "20240115_HOU_PHI_X",
            "2024011_HOU_PHI",
            "20240115_HOU_HOU",
            "20240115__PHI",
        ] {
            assert_eq!(parse_game_teams(game_id), None, "{game_id}");
        }
    }

    #[test]
    fn incomplete_stats_give_no_total() {
        assert_eq!(sum_complete([Some(3), Some(4)].into_iter()), Some(7));
        assert_eq!(sum_complete([Some(3), None].into_iter()), None);
        assert_eq!(sum_complete([Some(3), Some(-1)].into_iter()), None);
        assert_eq!(sum_complete(std::iter::empty()), None);
    }
}
