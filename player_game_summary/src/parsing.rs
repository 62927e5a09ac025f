//! Per-row parsing of the stats that arrive as text: minutes and plus/minus.
//!
//! README §4 item 11 parses every row on its own (the reference coerced the whole batch, which
//! turned every `"MM:SS"` into NULL, reference-pgs.md §10 B1/B2). The rules are the reference's
//! per-value parsers (reference-pgs.md §4 rules 2 and 3); deciding what a parsed value means for
//! the output row is left to `compute`.

use framework::rounding::round_half_even;

#[cfg(any(test, fuzzing))]
pub mod properties;

/// What a minutes cell says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MinutesText {
    /// NULL, empty, blank or `"-"`: no minutes were recorded for the line.
    NotRecorded,
    /// Decimal minutes, never negative; `"MM:SS"` values are rounded to 2 decimals
    /// (`"40:11"` → 40.18), decimal strings are kept as written (`"36.5"` → 36.5).
    Played(f64),
    /// Text that is neither (`"36.5:00"`, `"abc"`, `"-5"`, `"12:75"`): the row gets NULL minutes
    /// and is flagged, instead of the value silently vanishing.
    Malformed,
}

impl MinutesText {
    /// The decimal minutes, when the cell held a usable value.
    pub fn decimal(self) -> Option<f64> {
        match self {
            MinutesText::Played(minutes) => Some(minutes),
            MinutesText::NotRecorded | MinutesText::Malformed => None,
        }
    }
}

/// Parses a minutes cell: `"MM:SS"` (gamebook) or a decimal string (BDL's `"36"`).
///
/// Like Python's `int()`, each `"MM:SS"` part may carry surrounding spaces and a `+`. Beyond the
/// reference, negative values, non-finite values and seconds outside 0–59 are malformed (the
/// upstream fix 83d91e28 rejects the same seconds). `"-0"` reads as 0: a played value never
/// carries the sign bit, which would otherwise export as `-0.0`.
pub fn parse_minutes(text: Option<&str>) -> MinutesText {
    let Some(text) = text else { return MinutesText::NotRecorded };
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "-" {
        return MinutesText::NotRecorded;
    }
    let parsed = match trimmed.split_once(':') {
        Some((minutes, seconds)) => parse_clock_minutes(minutes, seconds),
        None => trimmed.parse::<f64>().ok(),
    };
    match parsed {
        // `abs` only changes -0.0 here, the one value that passes `>= 0.0` with its sign set.
        Some(minutes) if minutes.is_finite() && minutes >= 0.0 => MinutesText::Played(minutes.abs()),
        _ => MinutesText::Malformed,
    }
}

/// `int(m) + int(s) / 60`, rounded to 2 decimals as the reference does.
fn parse_clock_minutes(minutes: &str, seconds: &str) -> Option<f64> {
    let whole_minutes: i64 = minutes.trim().parse().ok()?;
    let seconds: i64 = seconds.trim().parse().ok()?;
    if !(0..60).contains(&seconds) || whole_minutes < 0 {
        return None;
    }
    Some(round_half_even(whole_minutes as f64 + seconds as f64 / 60.0, 2))
}

/// Parses a plus/minus cell delivered as text (`"+7"`, `"-14"`, `"0"`), as the reference's
/// `parse_plus_minus` (reference-pgs.md §4 rule 3) did for every row.
///
/// A real 0 stays 0 (README §4 item 11; the reference's truthiness test made it NULL), and an
/// integral float text such as `"7.0"` reads as 7 (the reference lost every such value, §10
/// B2a). NULL, empty, `"-"` and anything else non-integral are missing. The warehouse column is
/// INT64, so extraction passes integers through; this parser serves text feeds and fixtures.
pub fn parse_plus_minus(text: Option<&str>) -> Option<i64> {
    let cleaned: String = text?.trim().chars().filter(|character| *character != '+').collect();
    if cleaned.is_empty() || cleaned == "-" {
        return None;
    }
    if let Ok(value) = cleaned.parse::<i64>() {
        return Some(value);
    }
    let value: f64 = cleaned.parse().ok()?;
    (value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15).then_some(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(text: &str) -> MinutesText {
        parse_minutes(Some(text))
    }

    #[test]
    fn minutes_parsing_of_reference_test_minutes_parsing() {
        // reference-pgs.md §9.1 TestMinutesParsing: 40 + 11/60 = 40.1833 → 40.18.
        assert_eq!(minutes("40:11"), MinutesText::Played(40.18));
        assert_eq!(minutes("35:00"), MinutesText::Played(35.0));
        assert_eq!(minutes("36"), MinutesText::Played(36.0));
        assert_eq!(minutes("36.5"), MinutesText::Played(36.5));
        assert_eq!(parse_minutes(None), MinutesText::NotRecorded);
        assert_eq!(minutes("-"), MinutesText::NotRecorded);
        assert_eq!(minutes(""), MinutesText::NotRecorded);
        assert_eq!(minutes("48:00"), MinutesText::Played(48.0));
    }

    #[test]
    fn minutes_of_worked_examples_round_to_two_decimals() {
        // reference-pgs.md §4 rule 2: 36:30 → 36.5, 14:21 → 14.35, 20:01 → 20.02.
        assert_eq!(minutes("36:30"), MinutesText::Played(36.5));
        assert_eq!(minutes("14:21"), MinutesText::Played(14.35));
        assert_eq!(minutes("20:01"), MinutesText::Played(20.02));
        assert_eq!(minutes("0:00"), MinutesText::Played(0.0));
        assert_eq!(minutes(" 36 : 30 "), MinutesText::Played(36.5));
        assert_eq!(minutes("+36:30"), MinutesText::Played(36.5));
    }

    #[test]
    fn malformed_minutes_are_reported_not_guessed() {
        for text in ["36.5:00", "abc", "-5", "-5:00", "12:75", "12:-1", "1:2:3", "NaN", "inf"] {
            assert_eq!(minutes(text), MinutesText::Malformed, "{text:?}");
        }
        assert_eq!(minutes("   "), MinutesText::NotRecorded);
    }

    /// Found by `cargo fuzz run minutes` (fuzz/fuzz_targets/minutes.rs): `"-0"` was
    /// `Played(-0.0)`, a negative zero in a column documented as never negative.
    #[test]
    fn negative_zero_minutes_read_as_zero_found_by_fuzzing() {
        for text in ["-0", "-0.0", " -0 ", "-0e5"] {
            // Bits, not `==`: -0.0 == 0.0, so only the bit pattern tells the two zeros apart.
            assert_eq!(minutes(text).decimal().map(f64::to_bits), Some(0.0f64.to_bits()), "{text:?}");
        }
    }

    #[test]
    fn plus_minus_parsing_of_reference_test_plus_minus_parsing() {
        // reference-pgs.md §9.1 TestPlusMinusParsing; "0" → 0 as the reference's string case.
        assert_eq!(parse_plus_minus(Some("+7")), Some(7));
        assert_eq!(parse_plus_minus(Some("7")), Some(7));
        assert_eq!(parse_plus_minus(Some("-14")), Some(-14));
        assert_eq!(parse_plus_minus(Some("0")), Some(0));
        assert_eq!(parse_plus_minus(None), None);
        assert_eq!(parse_plus_minus(Some("-")), None);
        assert_eq!(parse_plus_minus(Some("")), None);
    }

    #[test]
    fn numeric_cleaning_of_reference_test_numeric_cleaning() {
        // reference-pgs.md §9.1 TestNumericCleaning, the text cells this crate parses: plus_minus
        // '+7' → 7 and '-3' → −3, minutes '36' → 36.0 and '35' → 35.0. The other cells ('25'
        // points, 'N/A' assists) arrive typed from the warehouse, so no text parser sees them.
        assert_eq!(parse_plus_minus(Some("+7")), Some(7));
        assert_eq!(parse_plus_minus(Some("-3")), Some(-3));
        assert_eq!(minutes("36"), MinutesText::Played(36.0));
        assert_eq!(minutes("35"), MinutesText::Played(35.0));
    }

    #[test]
    fn plus_minus_float_text_keeps_its_value_fixing_reference_b2a() {
        assert_eq!(parse_plus_minus(Some("7.0")), Some(7));
        assert_eq!(parse_plus_minus(Some("-3.0")), Some(-3));
        assert_eq!(parse_plus_minus(Some("0.0")), Some(0));
        assert_eq!(parse_plus_minus(Some("7.5")), None);
        assert_eq!(parse_plus_minus(Some("N/A")), None);
        assert_eq!(parse_plus_minus(Some("nan")), None);
    }
}
