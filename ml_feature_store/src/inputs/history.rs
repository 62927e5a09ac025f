//! Game history shared by every date of a range chunk: player games, team games and team
//! schedules, each sorted by date so that a date takes the slice before it instead of a copy.
//!
//! A range run reads each history table once per chunk (README §6) up to the chunk's last date
//! and builds one [`History`]; every date's [`super::DateInputs`] holds it behind an `Arc`. What
//! a date may see is decided here by slicing (`game_date < D`, README §4 items 15 and 17); what
//! the slice means (last-10 means, season averages, win share) is decided in `compute`.

use rustc_hash::FxHashMap;

use chrono::NaiveDate;
use framework::SmolStr;
use framework::grouping::group_by_text;
use framework::schema::analytics::{PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY};
use framework::schema::raw::NBAC_SCHEDULE;

use super::rows::{NbacScheduleRow, PlayerGameSummaryRow, TeamOffenseGameSummaryRow};
use framework::dedupe::{DuplicateKey, keep_latest_by_key, keep_latest_in_sorted_runs};

/// `game_status` of a finished game in `nba_raw.nbac_schedule`.
const FINAL_GAME_STATUS: i64 = 3;

/// The history tables as read, in any order, duplicates included.
#[derive(Clone, Debug, Default)]
pub struct HistoryRows<'a> {
    pub player_game_summary: Vec<PlayerGameSummaryRow<'a>>,
    pub team_offense_game_summary: Vec<TeamOffenseGameSummaryRow>,
    pub nbac_schedule: Vec<NbacScheduleRow>,
}

/// One game of a player, reduced to the numbers the features and season averages read.
///
/// The history keeps these compact records rather than whole rows: every player of every date
/// scans its history, and small records keep that scan in cache.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlayerGame {
    pub season_year: Option<i64>,
    pub points: Option<i64>,
    pub minutes_played: Option<f64>,
    pub ft_makes: Option<i64>,
}

/// One player's games, oldest first, as parallel columns: dates (searched), numbers (scanned)
/// and teams (read once, for the latest game before a date).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerGames {
    game_dates: Vec<NaiveDate>,
    games: Vec<PlayerGame>,
    /// Tricodes are short enough to be kept inline: no allocation per game.
    team_abbrs: Vec<Option<SmolStr>>,
}

/// The games of a player without history.
static NO_PLAYER_GAMES: PlayerGames =
    PlayerGames { game_dates: Vec::new(), games: Vec::new(), team_abbrs: Vec::new() };

impl PlayerGames {
    /// How many games have `game_date < date`: the games before `date` are the first ones.
    pub fn count_before(&self, date: NaiveDate) -> usize {
        self.game_dates.partition_point(|game_date| *game_date < date)
    }

    /// How many games have `game_date <= date`.
    pub fn count_through(&self, date: NaiveDate) -> usize {
        self.game_dates.partition_point(|game_date| *game_date <= date)
    }

    /// Game dates, oldest first (one per game; a date repeats only for two games on one day).
    pub fn game_dates(&self) -> &[NaiveDate] {
        &self.game_dates
    }

    /// Game numbers, oldest first, index-aligned with [`PlayerGames::game_dates`].
    pub fn games(&self) -> &[PlayerGame] {
        &self.games
    }

    /// The player's team in the game at `index` (oldest first).
    pub fn team_abbr(&self, index: usize) -> Option<&str> {
        self.team_abbrs.get(index)?.as_deref()
    }

    fn with_capacity(games: usize) -> PlayerGames {
        PlayerGames {
            game_dates: Vec::with_capacity(games),
            games: Vec::with_capacity(games),
            team_abbrs: Vec::with_capacity(games),
        }
    }

    fn push(&mut self, row: &PlayerGameSummaryRow<'_>) {
        self.game_dates.push(row.game_date);
        self.games.push(PlayerGame {
            season_year: row.season_year,
            points: row.points,
            minutes_played: row.minutes_played,
            ft_makes: row.ft_makes,
        });
        // A player's games are mostly for one team: the previous game's text is reused (a copy
        // of its inline bytes) rather than made anew for each game.
        let team_abbr = match (self.team_abbrs.last(), row.team_abbr.as_deref()) {
            (Some(Some(previous)), Some(team_abbr)) if previous == team_abbr => Some(previous.clone()),
            (_, team_abbr) => team_abbr.map(SmolStr::new),
        };
        self.team_abbrs.push(team_abbr);
    }
}

/// Deduplicated history, grouped by player or team and sorted by date (oldest first).
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Per `player_lookup`, sorted by (`game_date`, `game_id`).
    player_games: FxHashMap<String, PlayerGames>,
    /// Per `team_abbr`, sorted by `game_date`.
    team_games: FxHashMap<String, Vec<TeamOffenseGameSummaryRow>>,
    /// Per team tricode, the dates of its final games, sorted.
    team_final_game_dates: FxHashMap<String, Vec<NaiveDate>>,
}

impl History {
    /// Groups, sorts and deduplicates the history rows (README §4 item 9b), returning the keys
    /// that had duplicates so the caller can log them once.
    pub fn build(rows: HistoryRows<'_>) -> (History, Vec<DuplicateKey>) {
        let mut duplicates = Vec::new();
        let history = History {
            player_games: group_player_games(rows.player_game_summary, &mut duplicates),
            team_games: group_team_games(rows.team_offense_game_summary, &mut duplicates),
            team_final_game_dates: group_final_game_dates(rows.nbac_schedule, &mut duplicates),
        };
        (history, duplicates)
    }

    /// Every game of the player, oldest first; empty for a player without history.
    pub fn player_games(&self, player_lookup: &str) -> &PlayerGames {
        self.player_games.get(player_lookup).unwrap_or(&NO_PLAYER_GAMES)
    }

    /// The team's games with `game_date < date`, oldest first.
    pub fn team_games_before(&self, team_abbr: &str, date: NaiveDate) -> &[TeamOffenseGameSummaryRow] {
        let games = self.team_games.get(team_abbr).map_or(&[][..], Vec::as_slice);
        &games[..games.partition_point(|game| game.game_date < date)]
    }

    /// Dates of the team's final games before `date`, oldest first.
    pub fn team_final_games_before(&self, team_tricode: &str, date: NaiveDate) -> &[NaiveDate] {
        let dates = self.team_final_game_dates.get(team_tricode).map_or(&[][..], Vec::as_slice);
        &dates[..dates.partition_point(|game_date| *game_date < date)]
    }
}

/// Groups rows by player first, then sorts each player's few dozen games by (date, game id):
/// sorting the whole history by player name compared strings at every step and cost more than
/// everything else the history build does.
///
/// The groups hold references: a row is ~150 bytes, and moving a season of them into groups
/// and then into each player's games cost more than the grouping itself.
fn group_player_games(
    rows: Vec<PlayerGameSummaryRow<'_>>,
    duplicates: &mut Vec<DuplicateKey>,
) -> FxHashMap<String, PlayerGames> {
    let first_duplicate = duplicates.len();
    let games_by_player = group_by_text(rows.iter().collect(), |row| &row.player_lookup)
        .into_iter()
        .map(|(player_lookup, mut rows)| {
            let by_game = |left: &&PlayerGameSummaryRow<'_>, right: &&PlayerGameSummaryRow<'_>| {
                (left.game_date, &left.game_id).cmp(&(right.game_date, &right.game_id))
            };
            // Rows usually arrive in date order; checking that is cheaper than a stable sort,
            // which allocates its scratch space and moves rows even when they are in order.
            if !rows.is_sorted_by(|left, right| by_game(left, right).is_le()) {
                // Stable: of rows with one key and one `processed_at`, the later read still wins.
                rows.sort_by(by_game);
            }
            let kept = keep_latest_in_sorted_runs(
                rows,
                &PLAYER_GAME_SUMMARY,
                |left, right| left.game_date == right.game_date && left.game_id == right.game_id,
                |row| row.processed_at,
                |row| format!("{}/{}/{}", row.game_date, row.game_id, row.player_lookup),
                duplicates,
            );
            let mut games = PlayerGames::with_capacity(kept.len());
            for row in kept {
                games.push(row);
            }
            (player_lookup, games)
        })
        .collect();
    // Players come out of the map in no particular order; the report must not depend on it.
    duplicates[first_duplicate..].sort_unstable_by(|left, right| left.key.cmp(&right.key));
    games_by_player
}

fn group_team_games(
    mut rows: Vec<TeamOffenseGameSummaryRow>,
    duplicates: &mut Vec<DuplicateKey>,
) -> FxHashMap<String, Vec<TeamOffenseGameSummaryRow>> {
    rows.sort_by(|left, right| (&left.team_abbr, left.game_date).cmp(&(&right.team_abbr, right.game_date)));
    let kept = keep_latest_in_sorted_runs(
        rows,
        &TEAM_OFFENSE_GAME_SUMMARY,
        |left, right| left.team_abbr == right.team_abbr && left.game_date == right.game_date,
        |row| row.processed_at,
        |row| format!("{}/{}", row.game_date, row.team_abbr),
        duplicates,
    );
    // Each team's games keep the sorted order.
    group_by_text(kept, |row| &row.team_abbr)
}

/// Each final game counts once for its home and once for its away team.
fn group_final_game_dates(
    rows: Vec<NbacScheduleRow>,
    duplicates: &mut Vec<DuplicateKey>,
) -> FxHashMap<String, Vec<NaiveDate>> {
    let games = keep_latest_by_key(
        rows,
        &NBAC_SCHEDULE,
        |row| row.game_id.clone(),
        |row| row.processed_at,
        duplicates,
    );
    let mut dates_by_team: FxHashMap<String, Vec<NaiveDate>> = FxHashMap::default();
    for game in games.into_values().filter(|game| game.game_status == Some(FINAL_GAME_STATUS)) {
        for tricode in [game.home_team_tricode, game.away_team_tricode].into_iter().flatten() {
            dates_by_team.entry(tricode).or_default().push(game.game_date);
        }
    }
    for dates in dates_by_team.values_mut() {
        dates.sort_unstable();
    }
    dates_by_team
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn player_game(player_lookup: &str, game_date: &str, points: i64) -> PlayerGameSummaryRow<'static> {
        PlayerGameSummaryRow {
            player_lookup: player_lookup.to_owned().into(),
            game_id: format!("{game_date}_X").into(),
            game_date: date(game_date),
            points: Some(points),
            ..PlayerGameSummaryRow::default()
        }
    }

    fn final_game(game_id: &str, game_date: &str, home: &str, away: &str, status: i64) -> NbacScheduleRow {
        NbacScheduleRow {
            game_id: game_id.to_owned(),
            game_date: date(game_date),
            game_status: Some(status),
            home_team_tricode: Some(home.to_owned()),
            away_team_tricode: Some(away.to_owned()),
            processed_at: None,
        }
    }

    #[test]
    fn a_date_sees_only_games_strictly_before_it() {
        let rows = HistoryRows {
            player_game_summary: vec![
                player_game("a", "2025-01-14", 30),
                player_game("b", "2025-01-10", 5),
                player_game("a", "2025-01-10", 10),
                player_game("a", "2025-01-15", 99),
            ],
            ..HistoryRows::default()
        };
        let (history, duplicates) = History::build(rows);
        assert!(duplicates.is_empty());
        let games = history.player_games("a");
        let before = &games.games()[..games.count_before(date("2025-01-15"))];
        assert_eq!(before.iter().map(|game| game.points).collect::<Vec<_>>(), [Some(10), Some(30)]);
        assert_eq!(games.count_through(date("2025-01-15")), 3);
        assert_eq!(games.count_before(date("2025-01-10")), 0);
        assert_eq!(history.player_games("nobody").count_through(date("2025-01-15")), 0);
    }

    #[test]
    fn duplicate_player_games_keep_the_latest_processed_row() {
        use chrono::TimeZone;
        let mut older = player_game("a", "2025-01-10", 10);
        older.processed_at = Some(chrono::Utc.with_ymd_and_hms(2025, 1, 11, 1, 0, 0).unwrap());
        let mut newer = player_game("a", "2025-01-10", 12);
        newer.processed_at = Some(chrono::Utc.with_ymd_and_hms(2025, 1, 11, 2, 0, 0).unwrap());
        let rows = HistoryRows { player_game_summary: vec![newer, older], ..HistoryRows::default() };
        let (history, duplicates) = History::build(rows);
        assert_eq!(history.player_games("a").games()[0].points, Some(12));
        assert_eq!(duplicates.len(), 1);
        assert_eq!(duplicates[0].key, "2025-01-10/2025-01-10_X/a");
    }

    #[test]
    fn duplicates_of_several_players_are_reported_in_key_order() {
        let rows = HistoryRows {
            player_game_summary: ["c", "a", "b", "c", "a", "b"]
                .into_iter()
                .map(|player| player_game(player, "2025-01-10", 10))
                .collect(),
            ..HistoryRows::default()
        };
        let (_, duplicates) = History::build(rows);
        let keys: Vec<&str> = duplicates.iter().map(|duplicate| duplicate.key.as_str()).collect();
        assert_eq!(
            keys,
            ["2025-01-10/2025-01-10_X/a", "2025-01-10/2025-01-10_X/b", "2025-01-10/2025-01-10_X/c"]
        );
    }

    #[test]
    fn each_game_keeps_its_own_team_across_a_trade_and_a_missing_team() {
        let game = |game_date: &str, team: Option<&str>| PlayerGameSummaryRow {
            team_abbr: team.map(|team| team.to_owned().into()),
            ..player_game("a", game_date, 10)
        };
        let rows = HistoryRows {
            player_game_summary: vec![
                game("2025-01-16", Some("DAL")),
                game("2025-01-10", Some("LAL")),
                game("2025-01-12", Some("LAL")),
                game("2025-01-14", None),
                game("2025-01-15", Some("LAL")),
                game("2025-01-18", Some("DAL")),
            ],
            ..HistoryRows::default()
        };
        let (history, _) = History::build(rows);
        let games = history.player_games("a");
        let teams: Vec<Option<&str>> = (0..games.games().len()).map(|index| games.team_abbr(index)).collect();
        assert_eq!(teams, [Some("LAL"), Some("LAL"), None, Some("LAL"), Some("DAL"), Some("DAL")]);
        assert_eq!(games.team_abbr(6), None);
    }

    #[test]
    fn team_games_are_grouped_by_team_in_date_order_and_deduplicated() {
        let team_game = |team: &str, game_date: &str, win: bool| TeamOffenseGameSummaryRow {
            team_abbr: team.to_owned(),
            game_date: date(game_date),
            season_year: Some(2024),
            win_flag: Some(win),
            processed_at: None,
        };
        let rows = HistoryRows {
            team_offense_game_summary: vec![
                team_game("LAL", "2025-01-12", false),
                team_game("BOS", "2025-01-11", true),
                team_game("LAL", "2025-01-10", true),
                team_game("LAL", "2025-01-12", true),
            ],
            ..HistoryRows::default()
        };
        let (history, duplicates) = History::build(rows);
        let lakers: Vec<(NaiveDate, Option<bool>)> = history
            .team_games_before("LAL", date("2025-01-13"))
            .iter()
            .map(|game| (game.game_date, game.win_flag))
            .collect();
        assert_eq!(lakers, [(date("2025-01-10"), Some(true)), (date("2025-01-12"), Some(true))]);
        assert_eq!(history.team_games_before("BOS", date("2025-01-11")).len(), 0);
        assert_eq!(history.team_games_before("BOS", date("2025-01-12")).len(), 1);
        assert_eq!(duplicates.len(), 1);
        assert_eq!(duplicates[0].key, "2025-01-12/LAL");
    }

    #[test]
    fn schedules_count_final_games_for_both_teams() {
        let rows = HistoryRows {
            nbac_schedule: vec![
                final_game("1", "2025-01-12", "LAL", "BOS", 3),
                final_game("2", "2025-01-10", "BOS", "NYK", 3),
                final_game("3", "2025-01-16", "BOS", "LAL", 1),
            ],
            ..HistoryRows::default()
        };
        let (history, _) = History::build(rows);
        assert_eq!(
            history.team_final_games_before("BOS", date("2025-01-20")),
            [date("2025-01-10"), date("2025-01-12")]
        );
        assert_eq!(history.team_final_games_before("LAL", date("2025-01-12")), [] as [NaiveDate; 0]);
    }
}
