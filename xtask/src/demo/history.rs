//! The played season indexed for rolling windows: each player's games and each team's games in
//! date order, and league totals by date.
//!
//! Every upstream table describes a date D from the games strictly before D. The index keeps one
//! date-sorted vector per player and per team, so "the last 10 games before D" is a binary search
//! plus a slice, and "games in the last 7 days" a short scan back from there: no pass over the
//! season per row.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::calendar::window_start;
use super::simulation::{PlayerLine, ShootingLine, SimulatedGame, TeamGame};

/// One game a player played (minutes > 0).
#[derive(Clone, Copy, Debug)]
pub struct PlayedGame<'season> {
    pub game_date: NaiveDate,
    pub game_index: usize,
    pub line: &'season PlayerLine,
}

/// One game of a team, with what it and its opponent did.
#[derive(Clone, Copy, Debug)]
pub struct TeamGameRecord<'season> {
    pub game_date: NaiveDate,
    pub game_index: usize,
    pub is_home: bool,
    pub team: &'season TeamGame,
    pub opponent: &'season TeamGame,
    /// Game possessions (= pace: no overtime is simulated).
    pub possessions: f64,
}

impl TeamGameRecord<'_> {
    pub fn points_for(&self) -> i64 {
        self.team.points()
    }

    pub fn points_against(&self) -> i64 {
        self.opponent.points()
    }

    pub fn won(&self) -> bool {
        self.points_for() > self.points_against()
    }

    /// Points per 100 possessions.
    pub fn offensive_rating(&self) -> f64 {
        100.0 * self.points_for() as f64 / self.possessions
    }

    /// Points allowed per 100 possessions.
    pub fn defensive_rating(&self) -> f64 {
        100.0 * self.points_against() as f64 / self.possessions
    }
}

/// League-wide shooting of every team-game up to a date.
#[derive(Clone, Copy, Debug, Default)]
pub struct LeagueTotals {
    pub shooting: ShootingLine,
}

/// The season indexed by player, team and date.
pub struct SeasonIndex<'season> {
    pub games: &'season [SimulatedGame],
    /// By player id; each vector in date order.
    player_games: Vec<Vec<PlayedGame<'season>>>,
    /// By team; each vector in date order.
    team_games: BTreeMap<&'season str, Vec<TeamGameRecord<'season>>>,
    /// League totals of all games on or before each game date, in date order.
    league_through: Vec<(NaiveDate, LeagueTotals)>,
}

impl<'season> SeasonIndex<'season> {
    pub fn build(games: &'season [SimulatedGame], player_count: usize) -> Self {
        let mut player_games = vec![Vec::new(); player_count];
        let mut team_games: BTreeMap<&str, Vec<TeamGameRecord>> = BTreeMap::new();
        let mut league_through: Vec<(NaiveDate, LeagueTotals)> = Vec::new();
        let mut running = LeagueTotals::default();
        for (game_index, game) in games.iter().enumerate() {
            let game_date = game.game_date();
            let possessions = game.possessions();
            for (team, opponent, is_home) in game.sides() {
                team_games.entry(team.team_abbr.as_str()).or_default().push(TeamGameRecord {
                    game_date,
                    game_index,
                    is_home,
                    team,
                    opponent,
                    possessions,
                });
                for line in team.lines.iter().filter(|line| line.played()) {
                    player_games[line.player_id].push(PlayedGame { game_date, game_index, line });
                }
                running.shooting.add(&team.shooting());
            }
            match league_through.last_mut() {
                Some((date, totals)) if *date == game_date => *totals = running,
                _ => league_through.push((game_date, running)),
            }
        }
        SeasonIndex { games, player_games, team_games, league_through }
    }

    /// The player's games strictly before `date`, oldest first.
    pub fn player_games_before(&self, player_id: usize, date: NaiveDate) -> &[PlayedGame<'season>] {
        let games = &self.player_games[player_id];
        &games[..games.partition_point(|game| game.game_date < date)]
    }

    /// The team's games strictly before `date`, oldest first.
    pub fn team_games_before(&self, team_abbr: &str, date: NaiveDate) -> &[TeamGameRecord<'season>] {
        let games = self.team_games.get(team_abbr).map_or(&[][..], Vec::as_slice);
        &games[..games.partition_point(|game| game.game_date < date)]
    }

    /// Every team-game of the season, by team then date.
    pub fn all_team_games(&self) -> impl Iterator<Item = &TeamGameRecord<'season>> {
        self.team_games.values().flatten()
    }

    /// League totals of every game strictly before `date`.
    pub fn league_before(&self, date: NaiveDate) -> LeagueTotals {
        let position = self.league_through.partition_point(|(through, _)| *through < date);
        position.checked_sub(1).map_or_else(LeagueTotals::default, |index| self.league_through[index].1)
    }
}

/// The last `count` entries of a date-ordered slice.
pub fn last<T>(games: &[T], count: usize) -> &[T] {
    &games[games.len().saturating_sub(count)..]
}

/// The entries of a date-ordered slice of games before `date` that fall in the `days` days before
/// it (`[date − days, date − 1]`).
pub fn within_days<T>(games: &[T], date: NaiveDate, days: u64, date_of: impl Fn(&T) -> NaiveDate) -> &[T] {
    let start = window_start(date, days);
    let first = games.iter().rposition(|game| date_of(game) < start).map_or(0, |position| position + 1);
    &games[first..]
}

/// Games in a date-ordered slice played the day after the previous one (the second game of each
/// back-to-back). `previous` is the game before the slice, if any.
pub fn back_to_backs(dates: &[NaiveDate], previous: Option<NaiveDate>) -> i64 {
    let mut count = 0;
    let mut before = previous;
    for date in dates {
        if before.is_some_and(|earlier| super::calendar::rest_days(earlier, *date) == 0) {
            count += 1;
        }
        before = Some(*date);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn windows_of_days_exclude_the_date_and_start_seven_days_before() {
        let dates = [date("2024-11-01"), date("2024-11-02"), date("2024-11-05"), date("2024-11-07")];
        let window = within_days(&dates, date("2024-11-08"), 7, |day| *day);
        assert_eq!(window, &dates[..]);
        let window = within_days(&dates, date("2024-11-09"), 7, |day| *day);
        assert_eq!(window, &dates[1..]);
        assert_eq!(last(&dates, 2), &dates[2..]);
        assert_eq!(last(&dates, 9), &dates[..]);
    }

    #[test]
    fn back_to_backs_count_second_nights() {
        let dates = [date("2024-11-02"), date("2024-11-05"), date("2024-11-06")];
        assert_eq!(back_to_backs(&dates, Some(date("2024-11-01"))), 2);
        assert_eq!(back_to_backs(&dates, None), 1);
    }
}
