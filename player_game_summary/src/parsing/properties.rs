//! The documented properties of [`parse_minutes`] and [`parse_plus_minus`] as assertions.
//!
//! One copy serves two callers: the cargo-fuzz targets in `fuzz/` (cargo-fuzz builds every crate
//! with `--cfg fuzzing`, which compiles this module in) and the replay test below, which runs the
//! committed corpus `fuzz/corpus/` on every `cargo test`, so the properties are checked in CI
//! without libFuzzer's instrumented build. Each function panics, naming the input, when a
//! property fails: a panic is what libFuzzer reports as a crash.

use super::{MinutesText, parse_minutes, parse_plus_minus};

/// Properties of a minutes cell holding `text` (`MinutesText`'s documentation): never a panic;
/// blank and `"-"` are not recorded and nothing else is; surrounding whitespace changes nothing;
/// a played value is finite and never negative, not even -0.0; a clock value has at most 2
/// decimals and a decimal value is kept as written; and a played value written back as text
/// reads as itself, so an exported row re-parses unchanged.
pub fn check_minutes(text: &str) {
    let parsed = parse_minutes(Some(text));
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "-" {
        assert_eq!(parsed, MinutesText::NotRecorded, "{text:?}");
        return;
    }
    assert_ne!(parsed, MinutesText::NotRecorded, "{text:?} holds a value");
    assert_eq!(parse_minutes(Some(&format!(" {text}\t"))), parsed, "padding changed {text:?}");
    let MinutesText::Played(minutes) = parsed else { return };
    assert!(minutes.is_finite() && minutes >= 0.0 && minutes.is_sign_positive(), "{text:?} → {minutes:?}");
    if trimmed.contains(':') {
        let hundredths = minutes * 100.0;
        let off_grid = (hundredths - hundredths.round()).abs();
        assert!(off_grid <= 1e-6 * hundredths.max(1.0), "{text:?} → {minutes} has more than 2 decimals");
    } else {
        assert_eq!(trimmed.parse::<f64>().ok(), Some(minutes), "{text:?} is not kept as written");
    }
    assert_eq!(parse_minutes(Some(&minutes.to_string())), parsed, "{minutes} does not read back");
}

/// Properties of a plus/minus cell holding `data` (`parse_plus_minus`'s documentation): never a
/// panic; every `i64` written as text, with or without a sign, reads as itself (the first 8
/// bytes, when there are 8, make one); blank and `"-"` are missing; an integral float text reads
/// as its integer; and a parsed value written back as text reads as itself.
pub fn check_plus_minus(data: &[u8]) {
    if let Some(first_eight) = data.first_chunk::<8>() {
        let number = i64::from_le_bytes(*first_eight);
        assert_eq!(parse_plus_minus(Some(&number.to_string())), Some(number));
        assert_eq!(parse_plus_minus(Some(&format!(" {number:+} "))), Some(number));
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse_plus_minus(Some(text));
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "-" {
        assert_eq!(parsed, None, "{text:?}");
        return;
    }
    let Some(value) = parsed else { return };
    assert_eq!(parse_plus_minus(Some(&value.to_string())), Some(value), "{text:?} → {value}");
    if let Ok(float) = trimmed.replace('+', "").parse::<f64>() {
        assert_eq!(float, value as f64, "{text:?} → {value}");
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The committed inputs of one fuzz target: the seeds, and every crash found since.
    fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
        let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&folder)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", folder.display()))
            .map(|entry| {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                (path, bytes)
            })
            .collect();
        inputs.sort();
        inputs
    }

    #[test]
    fn the_minutes_corpus_keeps_the_documented_properties() {
        let inputs = corpus("minutes");
        assert!(inputs.len() >= 7, "the seeds of the real minute strings are committed: {inputs:?}");
        for (_, bytes) in inputs {
            check_minutes(std::str::from_utf8(&bytes).expect("minute seeds are text"));
        }
    }

    #[test]
    fn the_plus_minus_corpus_keeps_the_documented_properties() {
        let inputs = corpus("plus_minus");
        assert!(inputs.len() >= 7, "the seeds of real plus/minus strings are committed: {inputs:?}");
        for (_, bytes) in inputs {
            check_plus_minus(&bytes);
        }
    }

    /// The crash `cargo fuzz run minutes` found, replayed here so it stays fixed.
    #[test]
    fn negative_zero_minutes_keep_the_properties() {
        check_minutes("-0");
    }
}
