//! Times of day the generated rows carry, and day arithmetic on game dates.
//!
//! The real schedule file has dates only, so every game is assumed to tip off at 00:00 UTC of the
//! next day (7 pm Eastern). Raw box scores are scraped the morning after a game; the upstream
//! phase-3/4 tables describing a date are computed the morning of that date, before its games.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

/// Tip-off of every game of `game_date`: 00:00 UTC the next day.
pub fn tipoff(game_date: NaiveDate) -> DateTime<Utc> {
    at_hour(next_day(game_date), 0)
}

/// When the upstream tables describing `date` were computed: 10:00 UTC that day.
pub fn morning_of(date: NaiveDate) -> DateTime<Utc> {
    at_hour(date, 10)
}

/// When the raw box scores of `game_date` were scraped: 08:00 UTC the next day.
pub fn morning_after(game_date: NaiveDate) -> DateTime<Utc> {
    at_hour(next_day(game_date), 8)
}

/// `date` at `hour`:00:00 UTC.
pub fn at_hour(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    // Hours passed here are literals below 24.
    date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).expect("hour below 24")).and_utc()
}

/// Whole days from `earlier` to `later` (positive when `later` is after).
pub fn days_between(earlier: NaiveDate, later: NaiveDate) -> i64 {
    (later - earlier).num_days()
}

/// Days of rest between two games: 0 for a back-to-back (games on consecutive days).
pub fn rest_days(previous_game: NaiveDate, game_date: NaiveDate) -> i64 {
    days_between(previous_game, game_date) - 1
}

/// The first day of the trailing window of `days` days before `date` (the window is
/// `[date - days, date - 1]`, the date itself excluded).
pub fn window_start(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days)).unwrap_or(NaiveDate::MIN)
}

fn next_day(date: NaiveDate) -> NaiveDate {
    date.succ_opt().unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn back_to_back_has_zero_rest_days() {
        assert_eq!(rest_days(date("2024-11-01"), date("2024-11-02")), 0);
        assert_eq!(rest_days(date("2024-11-01"), date("2024-11-04")), 2);
    }

    #[test]
    fn times_of_day_are_utc() {
        assert_eq!(tipoff(date("2024-12-31")).to_rfc3339(), "2025-01-01T00:00:00+00:00");
        assert_eq!(morning_of(date("2024-12-31")).to_rfc3339(), "2024-12-31T10:00:00+00:00");
        assert_eq!(window_start(date("2024-11-08"), 7), date("2024-11-01"));
    }
}
