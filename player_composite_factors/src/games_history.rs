//! Games-based completeness of each player's own history (reference-pcf.md §2.7), from bulk reads
//! of two tables instead of the reference's per-date queries.
//!
//! Extraction reads `nba_analytics.player_game_summary` (who played for which team on which date)
//! and `nba_raw.nbac_schedule` (each team's final games) once per range chunk; [`GamesHistory`]
//! indexes them by player and team and answers "expected and actual games" for any date in the
//! chunk with binary searches. Turning the counts into percentages and readiness flags belongs to
//! `compute`.

use std::borrow::Cow;

use chrono::NaiveDate;
use framework::grouping::group_by_text;
use rustc_hash::FxHashMap;

/// The games window of the completeness check: the player's team's last 10 final games.
pub const COMPLETENESS_LOOKBACK_GAMES: usize = 10;

/// `nba_raw.nbac_schedule.game_status` of a finished game.
pub const FINAL_GAME_STATUS: i64 = 3;

/// The three `nba_analytics.player_game_summary` columns completeness needs. Extraction reads the
/// chunk's players' rows of the 400 days before the chunk through its last date, and the latest
/// earlier row of a player without one there: the expected-games window is bounded neither by
/// season nor by calendar (the player's latest team may date from last season).
///
/// Texts borrow from the read where they can (`Cow`): the history is tens of thousands of rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerGameAppearanceRow<'a> {
    pub player_lookup: Cow<'a, str>,
    pub game_date: NaiveDate,
    pub team_abbr: Cow<'a, str>,
}

/// The `nba_raw.nbac_schedule` columns completeness needs; every game of the 400 days before the
/// chunk through its last date. Unfinished games (`game_status` other than 3) are ignored here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScheduleGameRow {
    pub game_id: String,
    pub game_date: NaiveDate,
    pub home_team_tricode: String,
    pub away_team_tricode: String,
    pub game_status: Option<i64>,
}

/// Expected and actual games of one player for one date, before any percentage is taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GamesCompleteness {
    /// The player's latest team's final games strictly before the date, at most 10; 0 for a
    /// player with no earlier appearance.
    pub expected_games_count: i64,
    /// Distinct dates the player appears on from the season start through the date itself, not
    /// capped at 10, so it can exceed `expected_games_count` (reference-pcf.md §7 item 10).
    pub actual_games_count: i64,
}

/// Players' appearances and teams' final game dates, sorted for binary search.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GamesHistory {
    /// Per player: (game_date, team_abbr), sorted by date, one entry per date.
    appearances_by_player: FxHashMap<String, Vec<(NaiveDate, String)>>,
    /// Per team tricode: distinct dates of its final games, sorted.
    final_game_dates_by_team: FxHashMap<String, Vec<NaiveDate>>,
}

impl GamesHistory {
    /// Indexes the bulk rows. Duplicate rows collapse: a player counts once per date (when two
    /// rows of one date disagree on the team, the alphabetically last team is kept, so the result
    /// does not depend on read order) and a team once per game date.
    /// The appearances are taken by value: a season of them is tens of thousands of rows, whose
    /// team texts move into the index instead of being copied.
    pub fn build(
        appearances: Vec<PlayerGameAppearanceRow<'_>>,
        schedule: &[ScheduleGameRow],
    ) -> GamesHistory {
        GamesHistory {
            appearances_by_player: index_appearances(appearances),
            final_game_dates_by_team: index_final_games(schedule),
        }
    }

    /// Expected and actual games of `player_lookup` for `date` (reference-pcf.md §2.7).
    pub fn games_completeness(
        &self,
        player_lookup: &str,
        date: NaiveDate,
        season_start_date: NaiveDate,
    ) -> GamesCompleteness {
        let Some(appearances) = self.appearances_by_player.get(player_lookup) else {
            return GamesCompleteness::default();
        };
        let earlier_appearances = appearances.partition_point(|(game_date, _)| *game_date < date);
        let expected = match earlier_appearances.checked_sub(1) {
            Some(latest) => self.team_games_before(&appearances[latest].1, date),
            None => 0,
        };
        let from_season_start = appearances.partition_point(|(game_date, _)| *game_date < season_start_date);
        let through_date = appearances.partition_point(|(game_date, _)| *game_date <= date);
        GamesCompleteness {
            expected_games_count: expected as i64,
            actual_games_count: through_date.saturating_sub(from_season_start) as i64,
        }
    }

    fn team_games_before(&self, team_abbr: &str, date: NaiveDate) -> usize {
        self.final_game_dates_by_team
            .get(team_abbr)
            .map_or(0, |dates| dates.partition_point(|game_date| *game_date < date))
            .min(COMPLETENESS_LOOKBACK_GAMES)
    }
}

fn index_appearances(rows: Vec<PlayerGameAppearanceRow<'_>>) -> FxHashMap<String, Vec<(NaiveDate, String)>> {
    let mut by_player: FxHashMap<String, Vec<(NaiveDate, String)>> =
        group_by_text(rows, |row| &*row.player_lookup)
            .into_iter()
            .map(|(player, rows)| {
                (player, rows.into_iter().map(|row| (row.game_date, row.team_abbr.into_owned())).collect())
            })
            .collect();
    for appearances in by_player.values_mut() {
        appearances.sort_unstable();
        // `dedup_by` keeps the first of equal-date entries; reversing keeps the last team.
        appearances.reverse();
        appearances.dedup_by(|later, earlier| later.0 == earlier.0);
        appearances.reverse();
    }
    by_player
}

fn index_final_games(rows: &[ScheduleGameRow]) -> FxHashMap<String, Vec<NaiveDate>> {
    let mut by_team: FxHashMap<String, Vec<NaiveDate>> = FxHashMap::default();
    for row in rows.iter().filter(|row| row.game_status == Some(FINAL_GAME_STATUS)) {
        for team in [&row.home_team_tricode, &row.away_team_tricode] {
            by_team.entry(team.clone()).or_default().push(row.game_date);
        }
    }
    for dates in by_team.values_mut() {
        dates.sort_unstable();
        dates.dedup();
    }
    by_team
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    fn appearance(player_lookup: &str, game_date: &str, team_abbr: &str) -> PlayerGameAppearanceRow<'static> {
        PlayerGameAppearanceRow {
            player_lookup: player_lookup.to_owned().into(),
            game_date: date(game_date),
            team_abbr: team_abbr.to_owned().into(),
        }
    }

    fn final_game(game_date: &str, away: &str, home: &str) -> ScheduleGameRow {
        ScheduleGameRow {
            game_id: format!("{game_date}_{away}_{home}"),
            game_date: date(game_date),
            home_team_tricode: home.into(),
            away_team_tricode: away.into(),
            game_status: Some(FINAL_GAME_STATUS),
        }
    }

    #[test]
    fn expected_counts_the_latest_teams_final_games_before_the_date_up_to_ten() {
        // LAL plays on 12 dates before 2025-11-20; only the last 10 count. A scheduled (status 1)
        // game and the game on the date itself do not count.
        let mut schedule: Vec<ScheduleGameRow> =
            (1..=12).map(|day| final_game(&format!("2025-11-{day:02}"), "LAL", "GSW")).collect();
        schedule.push(ScheduleGameRow { game_status: Some(1), ..final_game("2025-11-19", "LAL", "BOS") });
        schedule.push(final_game("2025-11-20", "LAL", "BOS"));
        let appearances = [appearance("lebronjames", "2025-11-12", "LAL")];
        let history = GamesHistory::build(appearances.to_vec(), &schedule);
        let games = history.games_completeness("lebronjames", date("2025-11-20"), date("2025-10-21"));
        assert_eq!(games.expected_games_count, 10);
        let early = history.games_completeness("lebronjames", date("2025-11-04"), date("2025-10-21"));
        // No appearance before 2025-11-04: no team, so nothing is expected.
        assert_eq!(early.expected_games_count, 0);
    }

    #[test]
    fn actual_counts_distinct_dates_from_season_start_through_the_date() {
        // Two rows on 2025-10-25 count once; last season's game and the later game do not count;
        // the game on the date itself does.
        let appearances = [
            appearance("curry", "2025-04-10", "GSW"),
            appearance("curry", "2025-10-25", "GSW"),
            appearance("curry", "2025-10-25", "GSW"),
            appearance("curry", "2025-10-28", "GSW"),
            appearance("curry", "2025-11-01", "GSW"),
            appearance("curry", "2025-11-03", "GSW"),
        ];
        let schedule = [final_game("2025-10-28", "GSW", "LAL"), final_game("2025-04-10", "GSW", "LAL")];
        let history = GamesHistory::build(appearances.to_vec(), &schedule);
        let games = history.games_completeness("curry", date("2025-11-01"), date("2025-10-21"));
        assert_eq!(games, GamesCompleteness { expected_games_count: 2, actual_games_count: 3 });
    }

    #[test]
    fn an_unknown_player_has_nothing_expected_and_nothing_actual() {
        let history = GamesHistory::build(Vec::new(), &[]);
        let games = history.games_completeness("rookie", date("2025-11-01"), date("2025-10-21"));
        assert_eq!(games, GamesCompleteness::default());
    }
}
