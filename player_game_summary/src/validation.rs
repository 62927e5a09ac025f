//! Plausibility of one player's line: a line that cannot be true becomes a failure naming the
//! value, instead of a row that poisons every average downstream.
//!
//! The reference only logged warnings for makes above attempts and wrote the row anyway
//! (reference-pgs.md §3 step 3); its production checks (§9.3) then flagged those rows. This port
//! rejects them up front, together with negative counts and values beyond any NBA game.

use crate::inputs::StatLine;

/// No counting stat of one player in one game reaches this (the record is 100 points).
pub const MAXIMUM_COUNT: i64 = 100;

/// Longest plausible playing time: a quadruple-overtime game lasts 68 minutes.
pub const MAXIMUM_MINUTES: f64 = 70.0;

/// The largest plausible plus/minus magnitude (the record is +73).
pub const MAXIMUM_PLUS_MINUS: i64 = 100;

/// Checks counts (0 ≤ value ≤ [`MAXIMUM_COUNT`]), plus/minus and makes against attempts.
///
/// # Errors
/// The first problem found, naming the column and its value.
pub fn check_stat_line(stats: &StatLine) -> Result<(), String> {
    for (column, value) in counting_stats(stats) {
        check_count(column, value)?;
    }
    if let Some(plus_minus) = stats.plus_minus
        && plus_minus.abs() > MAXIMUM_PLUS_MINUS
    {
        return Err(format!("plus_minus {plus_minus} is beyond ±{MAXIMUM_PLUS_MINUS}"));
    }
    check_not_above(
        "field_goals_made",
        stats.field_goals_made,
        "field_goals_attempted",
        stats.field_goals_attempted,
    )?;
    check_not_above(
        "three_pointers_made",
        stats.three_pointers_made,
        "three_pointers_attempted",
        stats.three_pointers_attempted,
    )?;
    check_not_above(
        "free_throws_made",
        stats.free_throws_made,
        "free_throws_attempted",
        stats.free_throws_attempted,
    )?;
    check_not_above(
        "three_pointers_made",
        stats.three_pointers_made,
        "field_goals_made",
        stats.field_goals_made,
    )?;
    check_not_above(
        "three_pointers_attempted",
        stats.three_pointers_attempted,
        "field_goals_attempted",
        stats.field_goals_attempted,
    )
}

/// Checks decimal minutes against [`MAXIMUM_MINUTES`] (negative minutes never parse).
///
/// # Errors
/// When the minutes exceed the longest plausible game.
pub fn check_minutes(minutes: Option<f64>) -> Result<(), String> {
    match minutes {
        Some(minutes) if minutes > MAXIMUM_MINUTES => {
            Err(format!("minutes {minutes} exceed the plausible maximum of {MAXIMUM_MINUTES}"))
        }
        _ => Ok(()),
    }
}

fn counting_stats(stats: &StatLine) -> [(&'static str, Option<i64>); 14] {
    [
        ("points", stats.points),
        ("assists", stats.assists),
        ("offensive_rebounds", stats.offensive_rebounds),
        ("defensive_rebounds", stats.defensive_rebounds),
        ("steals", stats.steals),
        ("blocks", stats.blocks),
        ("turnovers", stats.turnovers),
        ("personal_fouls", stats.personal_fouls),
        ("field_goals_made", stats.field_goals_made),
        ("field_goals_attempted", stats.field_goals_attempted),
        ("three_pointers_made", stats.three_pointers_made),
        ("three_pointers_attempted", stats.three_pointers_attempted),
        ("free_throws_made", stats.free_throws_made),
        ("free_throws_attempted", stats.free_throws_attempted),
    ]
}

fn check_count(column: &str, value: Option<i64>) -> Result<(), String> {
    match value {
        Some(value) if value < 0 => Err(format!("negative {column} {value}")),
        Some(value) if value > MAXIMUM_COUNT => {
            Err(format!("{column} {value} exceeds the plausible maximum of {MAXIMUM_COUNT}"))
        }
        _ => Ok(()),
    }
}

/// `part ≤ whole` when both are known.
fn check_not_above(
    part_column: &str,
    part: Option<i64>,
    whole_column: &str,
    whole: Option<i64>,
) -> Result<(), String> {
    match (part, whole) {
        (Some(part), Some(whole)) if part > whole => {
            Err(format!("{part_column} {part} > {whole_column} {whole}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean_line() -> StatLine {
        // Case A of reference-pgs.md §4.1.
        StatLine {
            points: Some(25),
            field_goals_made: Some(10),
            field_goals_attempted: Some(20),
            three_pointers_made: Some(2),
            three_pointers_attempted: Some(6),
            free_throws_made: Some(3),
            free_throws_attempted: Some(4),
            plus_minus: Some(7),
            ..StatLine::default()
        }
    }

    #[test]
    fn clean_line_passes_like_the_reference_fg_check() {
        assert_eq!(check_stat_line(&clean_line()), Ok(()));
    }

    #[test]
    fn makes_above_attempts_are_rejected_as_the_reference_validation_tests_name_them() {
        // reference-pgs.md §9.2 TestValidationMethods: FGM 25 > FGA 20, 3PM 8 > 3PA 6, FTM 10 > FTA 8.
        let line = StatLine { field_goals_made: Some(25), ..clean_line() };
        assert_eq!(check_stat_line(&line), Err("field_goals_made 25 > field_goals_attempted 20".into()));
        let line = StatLine { three_pointers_made: Some(8), field_goals_made: Some(12), ..clean_line() };
        assert_eq!(check_stat_line(&line), Err("three_pointers_made 8 > three_pointers_attempted 6".into()));
        let line = StatLine { free_throws_made: Some(10), free_throws_attempted: Some(8), ..clean_line() };
        assert_eq!(check_stat_line(&line), Err("free_throws_made 10 > free_throws_attempted 8".into()));
    }

    #[test]
    fn negative_and_absurd_values_are_rejected() {
        let line = StatLine { points: Some(-5), ..clean_line() };
        assert_eq!(check_stat_line(&line), Err("negative points -5".into()));
        let line = StatLine { assists: Some(250), ..clean_line() };
        assert_eq!(check_stat_line(&line), Err("assists 250 exceeds the plausible maximum of 100".into()));
        let line = StatLine { plus_minus: Some(-180), ..clean_line() };
        assert_eq!(check_stat_line(&line), Err("plus_minus -180 is beyond ±100".into()));
        assert_eq!(check_minutes(Some(53.0)), Ok(()));
        assert_eq!(check_minutes(Some(480.0)), Err("minutes 480 exceed the plausible maximum of 70".into()));
    }
}
