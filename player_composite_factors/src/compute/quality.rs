//! The production-readiness columns of a row: own-data completeness, upstream readiness, data
//! quality issues and season flags (reference-pcf.md §2.7–§2.8, §4.2 columns 43–61); the
//! per-player circuit breaker (§2.9) is the framework's, shared with MLFS.
//!
//! Backfill runs assess a row as live runs do, as the reference commit did (reference-pcf.md
//! §2.11): the later variant's shortcuts (history taken as complete, every upstream as ready, the
//! season flags false) saved its slow per-date queries, which this port does not make, and would
//! flag every rebuilt row production ready whatever its inputs. Quality never skips a player: it
//! only sets flags (§5.1).

use std::sync::LazyLock;

use chrono::NaiveDate;
pub use framework::completeness::OwnCompleteness;
use framework::dates::is_season_boundary;

use super::subsets::Subsets;
use crate::games_history::GamesCompleteness;

/// The completeness checker's own bootstrap window, in days from the season start (not the
/// 14-day early-season skip of the runner).
pub const BOOTSTRAP_WINDOW_DAYS: i64 = 30;

/// Live mode: the checker's arithmetic over the counted games (reference-pcf.md §2.7).
pub fn own_completeness(games: GamesCompleteness) -> OwnCompleteness {
    OwnCompleteness::from_counts(games.expected_games_count, games.actual_games_count)
}

/// Readiness of the four upstream rows the player's row depends on (reference-pcf.md §2.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpstreamReadiness {
    /// The player's PSZA row.
    pub player_shot: bool,
    /// The opponent's TDZA row.
    pub team_defense: bool,
    /// The player's UPGC row.
    pub player_context: bool,
    /// The **opponent's** UTGC row, not the player's team's: the reference's choice, kept.
    pub team_context: bool,
}

impl UpstreamReadiness {
    /// Each row's `is_production_ready`; a missing row or a NULL flag is not ready.
    pub fn from_flags(flags: [Option<Option<bool>>; 4]) -> UpstreamReadiness {
        let ready = |flag: Option<Option<bool>>| flag.flatten().unwrap_or(false);
        let [player_shot, team_defense, player_context, team_context] = flags.map(ready);
        UpstreamReadiness { player_shot, team_defense, player_context, team_context }
    }

    pub fn all_ready(&self) -> bool {
        self.player_shot && self.team_defense && self.player_context && self.team_context
    }
}

/// The quality issue of a player whose own games are incomplete.
pub const OWN_DATA_INCOMPLETE: &str = "own_data_incomplete";

/// `data_quality_issues`: the not-ready parts, in the reference's order; empty when all ready.
pub fn data_quality_issues(own: &OwnCompleteness, upstream: &UpstreamReadiness) -> &'static [&'static str] {
    static ISSUES: LazyLock<Subsets<5>> = LazyLock::new(|| {
        Subsets::new(
            [
                OWN_DATA_INCOMPLETE,
                "upstream_player_shot_zone_incomplete",
                "upstream_team_defense_zone_incomplete",
                "upstream_player_context_incomplete",
                "upstream_team_context_incomplete",
            ],
            ", ",
        )
    });
    let ready = [
        own.is_production_ready,
        upstream.player_shot,
        upstream.team_defense,
        upstream.player_context,
        upstream.team_context,
    ];
    ISSUES.list(ready.map(|ready| !ready))
}

/// `season_boundary_detected` and `backfill_bootstrap_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeasonFlags {
    pub season_boundary_detected: bool,
    pub backfill_bootstrap_mode: bool,
}

/// The month rule and fewer than 30 days since the season start (reference-pcf.md §2.7).
pub fn season_flags(analysis_date: NaiveDate, season_start_date: NaiveDate) -> SeasonFlags {
    SeasonFlags {
        season_boundary_detected: is_season_boundary(analysis_date),
        backfill_bootstrap_mode: (analysis_date - season_start_date).num_days() < BOOTSTRAP_WINDOW_DAYS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    #[test]
    fn completeness_above_one_hundred_is_kept_and_ready() {
        // reference-pcf.md §2.7: 25 actual over 10 expected → 250.0.
        let own = own_completeness(GamesCompleteness { expected_games_count: 10, actual_games_count: 25 });
        assert_eq!(own.completeness_percentage, 250.0);
        assert_eq!(own.missing_games_count, 0);
        assert!(own.is_production_ready);
    }

    #[test]
    fn completeness_rounds_to_one_decimal_and_ninety_is_ready() {
        let nine_of_ten =
            own_completeness(GamesCompleteness { expected_games_count: 10, actual_games_count: 9 });
        assert_eq!((nine_of_ten.completeness_percentage, nine_of_ten.missing_games_count), (90.0, 1));
        assert!(nine_of_ten.is_production_ready);
        let two_of_three =
            own_completeness(GamesCompleteness { expected_games_count: 3, actual_games_count: 2 });
        assert_eq!(two_of_three.completeness_percentage, 66.7);
        assert!(!two_of_three.is_production_ready);
    }

    #[test]
    fn a_rookie_with_nothing_expected_is_zero_percent_and_not_ready() {
        let rookie = own_completeness(GamesCompleteness { expected_games_count: 0, actual_games_count: 1 });
        assert_eq!(rookie.completeness_percentage, 0.0);
        assert!(!rookie.is_production_ready);
    }

    #[test]
    fn quality_issues_list_every_part_that_is_not_ready_in_order() {
        let own = own_completeness(GamesCompleteness::default());
        let upstream = UpstreamReadiness::from_flags([None, Some(None), Some(Some(true)), Some(Some(false))]);
        assert_eq!(
            data_quality_issues(&own, &upstream),
            vec![
                "own_data_incomplete",
                "upstream_player_shot_zone_incomplete",
                "upstream_team_defense_zone_incomplete",
                "upstream_team_context_incomplete",
            ]
        );
        let complete =
            own_completeness(GamesCompleteness { expected_games_count: 10, actual_games_count: 10 });
        let ready = UpstreamReadiness::from_flags([Some(Some(true)); 4]);
        assert!(data_quality_issues(&complete, &ready).is_empty());
    }

    #[test]
    fn season_flags_use_thirty_days_and_boundary_months() {
        let start = date("2025-10-21");
        let early = season_flags(date("2025-11-19"), start);
        assert_eq!(early, SeasonFlags { season_boundary_detected: true, backfill_bootstrap_mode: true });
        let mid = season_flags(date("2026-01-15"), start);
        assert_eq!(mid, SeasonFlags { season_boundary_detected: false, backfill_bootstrap_mode: false });
        let day_thirty = season_flags(date("2025-11-20"), start);
        assert!(!day_thirty.backfill_bootstrap_mode);
    }
}
