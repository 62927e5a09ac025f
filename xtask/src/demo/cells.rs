//! How generated numbers become warehouse cells: NUMERIC columns rounded to their scale.
//!
//! NUMERIC(p,s) columns are rounded with Python's half-even rule on the binary value
//! (`framework::rounding::round_half_even`), as the reference's upstream processors wrote them.

use framework::rounding::round_half_even;
use framework::value::{ToValue, Value};

/// A NUMERIC cell of scale `scale`; a non-finite value becomes NULL.
pub fn numeric(value: f64, scale: u32) -> Value {
    round_half_even(value, scale).to_value()
}

/// A NUMERIC cell that may be missing (a window with no games).
pub fn optional_numeric(value: Option<f64>, scale: u32) -> Value {
    value.map_or(Value::Null, |number| numeric(number, scale))
}

/// The mean of `values`, or `None` for an empty window.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.into_iter().fold((0.0, 0usize), |(sum, count), value| (sum + value, count + 1));
    (count > 0).then(|| sum / count as f64)
}

/// The sample standard deviation (pandas `std`, ddof 1), `None` below two values.
pub fn sample_standard_deviation(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let average = mean(values.iter().copied())?;
    let squares: f64 = values.iter().map(|value| (value - average).powi(2)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

/// `part / whole`, `None` when `whole` is zero.
pub fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole != 0.0).then(|| part / whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_cells_round_half_even_on_the_binary_value() {
        assert_eq!(numeric(0.25, 1), Value::Float(0.2));
        assert_eq!(numeric(2.675, 2), Value::Float(2.67));
        assert_eq!(numeric(f64::NAN, 1), Value::Null);
        assert_eq!(optional_numeric(None, 1), Value::Null);
    }

    #[test]
    fn window_statistics() {
        assert_eq!(mean([10.0, 20.0, 33.0]), Some(21.0));
        assert_eq!(mean([]), None);
        // Values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum 32, 32 / 7.
        let deviation = sample_standard_deviation(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!((deviation - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(sample_standard_deviation(&[3.0]), None);
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
