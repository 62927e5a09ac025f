//! The reference's own-data completeness columns (`CompletenessChecker`,
//! reference-framework.md §5), shared by PCF and MLFS: how many of the expected games a player's
//! history holds, and whether that is enough to call the row production ready.
//!
//! Each processor counts expected and actual games its own way (the reference's two call sites
//! differ); the arithmetic on the counts lives here once.

use crate::rounding::round_half_even;

/// Own completeness at or above this percentage is production ready.
pub const PRODUCTION_READY_PCT: f64 = 90.0;

/// The completeness columns of one player's own history (`expected_games_count` … ).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OwnCompleteness {
    pub expected_games_count: i64,
    pub actual_games_count: i64,
    /// `actual / expected × 100` rounded to 1 decimal; 0.0 when nothing is expected; may exceed
    /// 100 because the reference does not cap actual games.
    pub completeness_percentage: f64,
    pub missing_games_count: i64,
    pub is_production_ready: bool,
}

impl OwnCompleteness {
    /// The checker's arithmetic over counted games.
    pub fn from_counts(expected_games_count: i64, actual_games_count: i64) -> OwnCompleteness {
        let completeness_percentage = if expected_games_count > 0 {
            round_half_even(actual_games_count as f64 / expected_games_count as f64 * 100.0, 1)
        } else {
            0.0
        };
        OwnCompleteness {
            expected_games_count,
            actual_games_count,
            completeness_percentage,
            missing_games_count: (expected_games_count - actual_games_count).max(0),
            is_production_ready: completeness_percentage >= PRODUCTION_READY_PCT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_of_ten_games_is_production_ready_two_of_three_is_not() {
        let nine_of_ten = OwnCompleteness::from_counts(10, 9);
        assert_eq!((nine_of_ten.completeness_percentage, nine_of_ten.missing_games_count), (90.0, 1));
        assert!(nine_of_ten.is_production_ready);
        let two_of_three = OwnCompleteness::from_counts(3, 2);
        assert_eq!(two_of_three.completeness_percentage, 66.7);
        assert!(!two_of_three.is_production_ready);
    }

    #[test]
    fn nothing_expected_is_zero_percent_and_actual_is_not_capped() {
        assert_eq!(OwnCompleteness::from_counts(0, 1).completeness_percentage, 0.0);
        let uncapped = OwnCompleteness::from_counts(10, 30);
        assert_eq!((uncapped.completeness_percentage, uncapped.missing_games_count), (300.0, 0));
    }
}
