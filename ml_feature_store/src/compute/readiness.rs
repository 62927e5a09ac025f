//! Whether a player may be processed and how complete its data is: own-data completeness
//! (reference-mlfs.md §2.6), upstream readiness (§2.7) and the season flags that relax the
//! gates. The circuit breaker (§2.8) is the framework's, shared with PCF.
//!
//! These decide and describe; turning a "not ready" into a per-entity failure happens in
//! `compute`.

use chrono::NaiveDate;

use crate::inputs::{History, PlayerGames};

/// Most recent team games the completeness check expects (`lookback_window = 10`).
const EXPECTED_GAMES_WINDOW: usize = 10;

/// Days after October 1 of the season during which the completeness gates are off.
const BOOTSTRAP_DAYS: i64 = 30;

/// The own-data completeness columns of one player (reference-mlfs.md §2.6): the arithmetic is
/// the framework's; the counts below are MLFS's.
pub use framework::completeness::OwnCompleteness;
pub use framework::dates::is_season_boundary;

/// The reference's counts, kept with their asymmetry (reference-mlfs.md §8 item 14):
/// expected = the last ≤ 10 final games before `D` of the player's most recent team (across
/// seasons; 0 without a prior game); actual = distinct game dates of the player from
/// October 1 of the season through `D` inclusive, uncapped.
pub fn own_completeness_of_player(
    history: &History,
    player_games: &PlayerGames,
    date: NaiveDate,
    season_year: i64,
) -> OwnCompleteness {
    let games_before = player_games.count_before(date);
    let latest_team = games_before.checked_sub(1).and_then(|latest| player_games.team_abbr(latest));
    let expected_games = latest_team
        .map_or(0, |team| history.team_final_games_before(team, date).len().min(EXPECTED_GAMES_WINDOW));
    let season_start = player_games.count_before(season_start_date(season_year));
    let through_date = player_games.count_through(date).max(season_start);
    let season_dates = &player_games.game_dates()[season_start..through_date];
    let distinct_dates = season_dates
        .iter()
        .enumerate()
        .filter(|(index, game_date)| *index == 0 || season_dates[index - 1] != **game_date)
        .count();
    OwnCompleteness::from_counts(expected_games as i64, distinct_dates as i64)
}

/// October 1 of the season: the completeness checker's season start (not opening night,
/// reference-mlfs.md §1).
fn season_start_date(season_year: i64) -> NaiveDate {
    let year = i32::try_from(season_year).unwrap_or(i32::MAX);
    // October 1 exists in every year chrono can represent; MIN is unreachable in practice.
    NaiveDate::from_ymd_opt(year, 10, 1).unwrap_or(NaiveDate::MIN)
}

/// `backfill_bootstrap_mode`: `D` is fewer than 30 days after October 1 of its season (or
/// before it). Despite the column's name this is not backfill mode (reference-mlfs.md §5.1).
pub fn is_bootstrap(date: NaiveDate, season_year: i64) -> bool {
    (date - season_start_date(season_year)).num_days() < BOOTSTRAP_DAYS
}

/// `is_production_ready` of the player's rows in the four Phase 4 sources for `D` (the
/// opponent's row for team defense); a missing row or NULL flag is not ready
/// (reference-mlfs.md §2.7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpstreamReadiness {
    pub daily_cache: bool,
    pub composite: bool,
    pub shot_zone: bool,
    pub team_defense: bool,
}

impl UpstreamReadiness {
    pub fn all_ready(&self) -> bool {
        self.daily_cache && self.composite && self.shot_zone && self.team_defense
    }

    /// `data_quality_issues`: one entry per source that is not ready, in this fixed order.
    pub fn data_quality_issues(&self) -> Vec<&'static str> {
        [
            (self.daily_cache, "upstream_player_daily_cache_incomplete"),
            (self.composite, "upstream_player_composite_factors_incomplete"),
            (self.shot_zone, "upstream_player_shot_zone_incomplete"),
            (self.team_defense, "upstream_team_defense_zone_incomplete"),
        ]
        .into_iter()
        .filter(|(ready, _)| !ready)
        .map(|(_, issue)| issue)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{HistoryRows, NbacScheduleRow, PlayerGameSummaryRow};

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn completeness_percentage_rounds_to_one_decimal_and_may_exceed_100() {
        let nine_of_ten = OwnCompleteness::from_counts(10, 9);
        assert_eq!(nine_of_ten.completeness_percentage, 90.0);
        assert!(nine_of_ten.is_production_ready);
        assert_eq!(nine_of_ten.missing_games_count, 1);
        let two_of_three = OwnCompleteness::from_counts(3, 2);
        assert_eq!(two_of_three.completeness_percentage, 66.7);
        assert!(!two_of_three.is_production_ready);
        let thirty_of_ten = OwnCompleteness::from_counts(10, 30);
        assert_eq!(thirty_of_ten.completeness_percentage, 300.0);
        assert_eq!(thirty_of_ten.missing_games_count, 0);
    }

    #[test]
    fn a_debuting_rookie_expects_nothing_and_is_not_ready() {
        let rookie = OwnCompleteness::from_counts(0, 0);
        assert_eq!(rookie.completeness_percentage, 0.0);
        assert!(!rookie.is_production_ready);
    }

    #[test]
    fn own_completeness_counts_team_schedule_and_player_dates() {
        let game = |game_date: &str, team: &str| PlayerGameSummaryRow {
            player_lookup: "amy".into(),
            game_id: format!("{game_date}_{team}").into(),
            game_date: date(game_date),
            team_abbr: Some(team.to_owned().into()),
            ..PlayerGameSummaryRow::default()
        };
        let scheduled = |game_id: &str, game_date: &str| NbacScheduleRow {
            game_id: game_id.into(),
            game_date: date(game_date),
            game_status: Some(3),
            home_team_tricode: Some("BOS".into()),
            away_team_tricode: Some("NYK".into()),
            processed_at: None,
        };
        let rows = HistoryRows {
            // One game last season (not counted), two this season, one on D itself (counted).
            player_game_summary: vec![
                game("2024-04-01", "LAL"),
                game("2024-12-01", "LAL"),
                game("2025-01-10", "BOS"),
                game("2025-01-15", "BOS"),
            ],
            nbac_schedule: vec![
                scheduled("1", "2024-04-02"),
                scheduled("2", "2025-01-02"),
                scheduled("3", "2025-01-10"),
                scheduled("4", "2025-01-15"),
            ],
            ..HistoryRows::default()
        };
        let (history, _) = History::build(rows);
        let completeness =
            own_completeness_of_player(&history, history.player_games("amy"), date("2025-01-15"), 2024);
        // Expected: BOS's 3 final games before D; actual: 3 dates from 2024-10-01 through D.
        assert_eq!(completeness, OwnCompleteness::from_counts(3, 3));
        assert_eq!(completeness.completeness_percentage, 100.0);
    }

    #[test]
    fn bootstrap_is_the_first_30_days_from_october_first() {
        assert!(is_bootstrap(date("2024-10-30"), 2024));
        assert!(!is_bootstrap(date("2024-10-31"), 2024));
        assert!(!is_bootstrap(date("2025-01-15"), 2024));
    }

    #[test]
    fn season_boundary_months_are_october_november_april() {
        assert!(is_season_boundary(date("2024-11-15")));
        assert!(is_season_boundary(date("2025-04-01")));
        assert!(!is_season_boundary(date("2025-01-15")));
    }

    #[test]
    fn data_quality_issues_list_unready_sources_in_order() {
        let readiness =
            UpstreamReadiness { daily_cache: false, composite: true, shot_zone: false, team_defense: true };
        assert!(!readiness.all_ready());
        assert_eq!(
            readiness.data_quality_issues(),
            ["upstream_player_daily_cache_incomplete", "upstream_player_shot_zone_incomplete"]
        );
        let ready =
            UpstreamReadiness { daily_cache: true, composite: true, shot_zone: true, team_defense: true };
        assert!(ready.all_ready());
        assert!(ready.data_quality_issues().is_empty());
    }
}
