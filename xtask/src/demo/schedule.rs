//! The real schedule the synthetic season is played over: its games, their kinds and real scores.
//!
//! Games come from `nba_raw.nbac_schedule` rows (the fixture file or a warehouse query, decoded by
//! [`schedule_games_from_rows`]). Only regular-season (`002`), play-in (`005`) and playoff (`004`)
//! games get box scores; preseason, all-star and the NBA Cup final (`006`, not counted in the
//! standings) are skipped, as the game-type rule of README §7 sorts them.

use std::path::Path;

use chrono::NaiveDate;
use framework::dates::GameType;
use framework::schema::raw::NBAC_SCHEDULE;
use framework::value::Value;

use super::DemoError;

/// One scheduled game as the generator needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleGame {
    /// The schedule's numeric id, e.g. `0022400061` (the first three digits give the kind).
    pub nba_game_id: String,
    pub game_date: NaiveDate,
    pub season_year: i64,
    pub home_team_abbr: String,
    pub away_team_abbr: String,
    /// The real final scores, when the schedule has them.
    pub home_team_score: Option<i64>,
    pub away_team_score: Option<i64>,
}

/// The kinds of game that get box scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeasonPhase {
    RegularSeason,
    PlayIn,
    Playoffs,
}

impl SeasonPhase {
    /// The UPGC `season_phase` label; MLFS reads `playoffs` as a playoff game (reference-mlfs.md §3).
    pub fn label(self) -> &'static str {
        match self {
            SeasonPhase::RegularSeason => "regular_season",
            SeasonPhase::PlayIn => "play_in",
            SeasonPhase::Playoffs => "playoffs",
        }
    }

    pub fn is_postseason(self) -> bool {
        self != SeasonPhase::RegularSeason
    }
}

impl ScheduleGame {
    /// The phase of a game that gets box scores, `None` for the kinds that do not.
    pub fn season_phase(&self) -> Option<SeasonPhase> {
        match GameType::from_game_id(&self.nba_game_id) {
            GameType::RegularSeason => Some(SeasonPhase::RegularSeason),
            GameType::PlayIn => Some(SeasonPhase::PlayIn),
            GameType::Playoffs => Some(SeasonPhase::Playoffs),
            _ => None,
        }
    }

    /// The box-score id `YYYYMMDD_AWAY_HOME` used by every raw and analytics table.
    pub fn box_score_game_id(&self) -> String {
        format!("{}_{}_{}", self.game_date.format("%Y%m%d"), self.away_team_abbr, self.home_team_abbr)
    }

    /// The real final score as (home, away), when both are known.
    pub fn final_score(&self) -> Option<(i64, i64)> {
        Some((self.home_team_score?, self.away_team_score?))
    }
}

/// Decodes full-width `nba_raw.nbac_schedule` rows, in date then id order. Rows missing a key
/// value (id, date, teams) are skipped: they cannot be played.
pub fn schedule_games_from_rows(rows: &[Vec<Value>]) -> Vec<ScheduleGame> {
    let column = |name: &str| NBAC_SCHEDULE.column_index(name).expect("schedule columns exist in the schema");
    let (id, date, season, home, away) = (
        column("game_id"),
        column("game_date"),
        column("season_year"),
        column("home_team_tricode"),
        column("away_team_tricode"),
    );
    let (home_score, away_score) = (column("home_team_score"), column("away_team_score"));
    let mut games: Vec<ScheduleGame> = rows
        .iter()
        .filter_map(|row| {
            let game_date = row[date].as_date()?;
            Some(ScheduleGame {
                nba_game_id: row[id].as_str()?.to_owned(),
                game_date,
                season_year: row[season]
                    .as_i64()
                    .unwrap_or_else(|| framework::dates::season_year(game_date).into()),
                home_team_abbr: row[home].as_str()?.to_owned(),
                away_team_abbr: row[away].as_str()?.to_owned(),
                home_team_score: row[home_score].as_i64(),
                away_team_score: row[away_score].as_i64(),
            })
        })
        .collect();
    games.sort_by(|left, right| {
        (left.game_date, &left.nba_game_id).cmp(&(right.game_date, &right.nba_game_id))
    });
    games
}

/// Reads the schedule fixture file (`nba_raw.nbac_schedule.csv`).
///
/// # Errors
/// The file cannot be read or is not a valid schedule fixture.
pub fn read_schedule_file(path: &Path) -> Result<Vec<ScheduleGame>, DemoError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| DemoError::Schedule { path: path.to_owned(), message: error.to_string() })?;
    let rows = framework::fixtures::parse_rows(path, &NBAC_SCHEDULE, &text)
        .map_err(|error| DemoError::Schedule { path: path.to_owned(), message: error.to_string() })?;
    Ok(schedule_games_from_rows(&rows))
}

/// The games that get box scores, in date then id order.
pub fn playable_games(schedule: &[ScheduleGame]) -> Vec<ScheduleGame> {
    let mut games: Vec<ScheduleGame> =
        schedule.iter().filter(|game| game.season_phase().is_some()).cloned().collect();
    games.sort_by(|left, right| {
        (left.game_date, &left.nba_game_id).cmp(&(right.game_date, &right.nba_game_id))
    });
    games
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The real 2024-25 schedule of `shared/data`.
    pub(crate) fn real_schedule() -> Vec<ScheduleGame> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/schedule/nba_raw.nbac_schedule.csv");
        read_schedule_file(&path).expect("the real schedule fixture parses")
    }

    #[test]
    fn the_real_schedule_has_the_documented_games() {
        let schedule = real_schedule();
        assert_eq!(schedule.len(), 1400);
        let playable = playable_games(&schedule);
        assert_eq!(playable.len(), 1230 + 6 + 84);
        let regular: std::collections::BTreeSet<_> = playable
            .iter()
            .filter(|game| game.season_phase() == Some(SeasonPhase::RegularSeason))
            .map(|game| game.game_date)
            .collect();
        assert_eq!(regular.len(), 163);
        assert_eq!(regular.first().unwrap().to_string(), "2024-10-22");
    }

    #[test]
    fn box_score_ids_put_the_away_team_first() {
        let game = ScheduleGame {
            nba_game_id: "0022400061".into(),
            game_date: "2024-10-22".parse().unwrap(),
            season_year: 2024,
            home_team_abbr: "BOS".into(),
            away_team_abbr: "NYK".into(),
            home_team_score: Some(132),
            away_team_score: Some(109),
        };
        assert_eq!(game.box_score_game_id(), "20241022_NYK_BOS");
        assert_eq!(game.season_phase(), Some(SeasonPhase::RegularSeason));
        assert_eq!(game.final_score(), Some((132, 109)));
    }
}
