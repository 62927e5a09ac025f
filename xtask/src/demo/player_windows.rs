//! Rolling windows over a player's games before a date, shared by the player context, the shot
//! zone analysis and the daily cache so the three tables agree on every common column.
//!
//! Windows of days cover `[D − n, D − 1]`; windows of games are the last n games the player
//! played (minutes > 0) before D. DNPs and injuries are not games.

use chrono::NaiveDate;

use super::cells::{mean, ratio};
use super::history::{PlayedGame, back_to_backs, last, within_days};
use super::simulation::ShootingLine;

/// Games and minutes in the 7 and 14 days before a date, and back-to-backs in the 14.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RestWindows {
    pub games_last_7_days: i64,
    pub minutes_last_7_days: f64,
    pub games_last_14_days: i64,
    pub minutes_last_14_days: f64,
    /// Second nights of back-to-backs whose second game falls in the 14 days.
    pub back_to_backs_last_14_days: i64,
}

impl RestWindows {
    /// Minutes per game over the 7 days, `None` without games.
    pub fn average_minutes_last_7_days(&self) -> Option<f64> {
        ratio(self.minutes_last_7_days, self.games_last_7_days as f64)
    }
}

pub fn rest_windows(prior: &[PlayedGame], date: NaiveDate) -> RestWindows {
    let seven = within_days(prior, date, 7, |game| game.game_date);
    let fourteen = within_days(prior, date, 14, |game| game.game_date);
    let before_fourteen = prior.len() - fourteen.len();
    let dates: Vec<NaiveDate> = fourteen.iter().map(|game| game.game_date).collect();
    let previous = before_fourteen.checked_sub(1).map(|position| prior[position].game_date);
    RestWindows {
        games_last_7_days: seven.len() as i64,
        minutes_last_7_days: seven.iter().map(|game| game.line.minutes()).sum(),
        games_last_14_days: fourteen.len() as i64,
        minutes_last_14_days: fourteen.iter().map(|game| game.line.minutes()).sum(),
        back_to_backs_last_14_days: back_to_backs(&dates, previous),
    }
}

/// Mean points over the last `count` games (fewer when fewer were played), `None` without games.
pub fn points_average(prior: &[PlayedGame], count: usize) -> Option<f64> {
    mean(last(prior, count).iter().map(|game| game.line.points() as f64))
}

/// Mean usage rate over the last `count` games.
pub fn usage_average(prior: &[PlayedGame], count: usize) -> Option<f64> {
    mean(last(prior, count).iter().map(|game| game.line.usage_rate))
}

/// Shot distribution and accuracy over a set of games. Rates are percentages 0–100 of
/// field-goal attempts (reference-pcf.md §2.1), accuracies fractions 0–1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZoneRates {
    pub games: i64,
    pub shooting: ShootingLine,
    pub assisted_makes: i64,
}

impl ZoneRates {
    pub fn over(games: &[PlayedGame]) -> ZoneRates {
        let mut shooting = ShootingLine::default();
        games.iter().for_each(|game| shooting.add(&game.line.shooting));
        let assisted_makes = games.iter().map(|game| game.line.assisted_fg_makes).sum();
        ZoneRates { games: games.len() as i64, shooting, assisted_makes }
    }

    pub fn total_shots(&self) -> i64 {
        self.shooting.field_goals_attempted()
    }

    fn rate(&self, attempts: i64) -> Option<f64> {
        ratio(100.0 * attempts as f64, self.total_shots() as f64)
    }

    pub fn paint_rate(&self) -> Option<f64> {
        self.rate(self.shooting.paint_attempts)
    }

    pub fn mid_range_rate(&self) -> Option<f64> {
        self.rate(self.shooting.mid_range_attempts)
    }

    pub fn three_pt_rate(&self) -> Option<f64> {
        self.rate(self.shooting.three_pt_attempts)
    }

    /// Percentage of made field goals that were assisted.
    pub fn assisted_rate(&self) -> Option<f64> {
        ratio(100.0 * self.assisted_makes as f64, self.shooting.field_goals_made() as f64)
    }

    pub fn per_game(&self, attempts: i64) -> Option<f64> {
        ratio(attempts as f64, self.games as f64)
    }

    /// The reference PSZA rule (paint ≥ 40, else perimeter if threes ≥ 40, else mid-range if
    /// ≥ 35); where it would say `balanced`, the most used zone instead, so the zone is always one
    /// of `paint`, `mid_range`, `perimeter` as the demo's brief asks.
    pub fn primary_scoring_zone(&self) -> Option<&'static str> {
        let (paint, mid_range, three) = (self.paint_rate()?, self.mid_range_rate()?, self.three_pt_rate()?);
        let zone = if paint >= 40.0 {
            "paint"
        } else if three >= 40.0 {
            "perimeter"
        } else if mid_range >= 35.0 {
            "mid_range"
        } else if paint >= three && paint >= mid_range {
            "paint"
        } else if three >= mid_range {
            "perimeter"
        } else {
            "mid_range"
        };
        Some(zone)
    }
}

/// `high` with a full window, `medium` with at least half, else `low`.
pub fn sample_quality(games: i64, window: i64) -> &'static str {
    if games >= window {
        "high"
    } else if games * 2 >= window {
        "medium"
    } else {
        "low"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(paint: i64, mid_range: i64, three: i64) -> ZoneRates {
        ZoneRates {
            games: 2,
            shooting: ShootingLine {
                paint_attempts: paint,
                mid_range_attempts: mid_range,
                three_pt_attempts: three,
                ..Default::default()
            },
            assisted_makes: 0,
        }
    }

    #[test]
    fn primary_zone_follows_the_reference_thresholds_then_the_most_used_zone() {
        assert_eq!(rates(40, 30, 30).primary_scoring_zone(), Some("paint"));
        assert_eq!(rates(35, 25, 40).primary_scoring_zone(), Some("perimeter"));
        assert_eq!(rates(30, 36, 34).primary_scoring_zone(), Some("mid_range"));
        // 36 / 30 / 34: the reference says balanced; the most used zone is the paint.
        assert_eq!(rates(36, 30, 34).primary_scoring_zone(), Some("paint"));
        assert_eq!(rates(0, 0, 0).primary_scoring_zone(), None);
        assert_eq!(rates(1, 1, 2).three_pt_rate(), Some(50.0));
        assert_eq!(rates(1, 1, 2).per_game(4), Some(2.0));
    }

    #[test]
    fn sample_quality_by_games_in_the_window() {
        assert_eq!(sample_quality(10, 10), "high");
        assert_eq!(sample_quality(5, 10), "medium");
        assert_eq!(sample_quality(4, 10), "low");
    }
}
