//! Python number semantics the reference's values depend on: `round(x, n)` and `str(float)`.
//!
//! Python's `round` rounds the exact binary value of the float to `n` decimals with exact ties going
//! to even (`round(0.25, 1) == 0.2`, `round(2.675, 2) == 2.67`), and its `str` prints the shortest
//! round-trip digits with `.0` on integral values. The naive `(x * 10).round() / 10` differs
//! (0.25 → 0.3), so every processor rounds through this module (README §4).

/// Python's `round(value, digits)` for a float, returning the float Python would.
///
/// NaN and infinities come back unchanged; negative zero survives (`round(-0.04, 1) == -0.0`).
///
/// The fast path scales by an exact power of ten and rounds; that is only ambiguous when the
/// scaled value lies within a few ulps of a half, where the exact decimal expansion (Rust's
/// `{:.N}` formatting, which rounds the exact binary value half-to-even) decides instead.
pub fn round_half_even(value: f64, digits: u32) -> f64 {
    if !value.is_finite() || digits > 15 {
        return value;
    }
    let scale = 10f64.powi(digits as i32);
    let scaled = value * scale;
    if scaled.abs() >= 2f64.powi(52) {
        return value;
    }
    let distance_from_half = (scaled - scaled.trunc()).abs() - 0.5;
    if distance_from_half.abs() <= scaled.abs() * 4.0 * f64::EPSILON {
        return round_by_formatting(value, digits);
    }
    let rounded = scaled.round() / scale;
    if rounded == 0.0 { 0.0f64.copysign(value) } else { rounded }
}

/// Python's `round(value)` with no digits: the nearest integer, ties to even.
///
/// Values outside `i64` saturate; NaN becomes 0 (Python raises; callers check finiteness first).
pub fn round_to_integer(value: f64) -> i64 {
    value.round_ties_even() as i64
}

fn round_by_formatting(value: f64, digits: u32) -> f64 {
    let text = format!("{value:.prec$}", prec = digits as usize);
    // The formatted text of a finite float always parses back.
    text.parse().expect("formatted float parses")
}

/// Python's `str(float)`: shortest round-trip digits, `.0` on integral values, and exponent form
/// (`1e-05`, `1e+16`) outside `1e-4 <= |x| < 1e16`, as `repr` prints it.
pub fn python_float_str(value: f64) -> String {
    let mut text = String::with_capacity(24);
    write_python_float(&mut text, value);
    text
}

/// Appends `value` as Python's `str(float)` prints it. Row hashes and context JSON print dozens
/// of floats per row, so the common short decimals (at most four decimals, magnitude below
/// 1e11) are written from their scaled integer without the formatting machinery: when
/// `round(|x| × 10^d) / 10^d == |x|` the `d`-decimal text parses back to `x` and no shorter text
/// does (doubles below 1e11 are closer than 1e-4 apart). Everything else takes the general path.
pub fn write_python_float(out: &mut String, value: f64) {
    if !write_short_decimal(out, value) {
        write_general_float(out, value);
    }
}

fn write_general_float(out: &mut String, value: f64) {
    use std::fmt::Write as _;
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
        return;
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-4..1e16).contains(&magnitude) {
        // Rust's Debug output is the shortest round-trip text with a ".0" on integral values.
        write!(out, "{value:?}").expect("writing to a String never fails");
        return;
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').expect("`{:e}` output has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    write!(out, "{mantissa}e{sign}{:02}", exponent.abs()).expect("writing to a String never fails");
}

fn write_short_decimal(out: &mut String, value: f64) -> bool {
    const SCALES: [u64; 5] = [1, 10, 100, 1_000, 10_000];
    let magnitude = value.abs();
    // NaN fails `is_finite`; Python prints magnitudes below 1e-4 with an exponent.
    if !magnitude.is_finite() || magnitude >= 1e11 || (magnitude != 0.0 && magnitude < 1e-4) {
        return false;
    }
    let Some((decimals, scaled, scale)) = SCALES.iter().enumerate().find_map(|(decimals, &scale)| {
        let scaled = (magnitude * scale as f64).round();
        (scaled / scale as f64 == magnitude).then_some((decimals, scaled as u64, scale))
    }) else {
        return false;
    };
    if value.is_sign_negative() {
        out.push('-');
    }
    push_decimal_digits(out, scaled / scale, 1);
    out.push('.');
    push_decimal_digits(out, scaled % scale, decimals.max(1));
    true
}

/// Appends `number` in decimal, zero-padded to at least `width` digits.
pub fn push_decimal_digits(out: &mut String, mut number: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    while number > 0 || digits.len() - start < width {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
    }
    out.extend(digits[start..].iter().map(|&digit| char::from(digit)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_decimal_ties_go_to_the_even_binary_neighbour() {
        // Observed in Python (reference-pcf.md §3.8).
        let cases =
            [(0.25, 0.2), (0.75, 0.8), (1.25, 1.2), (0.15, 0.1), (0.35, 0.3), (0.05, 0.1), (6.35, 6.3)];
        for (input, expected) in cases {
            assert_eq!(round_half_even(input, 1), expected, "round({input}, 1)");
        }
    }

    #[test]
    fn two_decimals_follow_the_binary_value() {
        assert_eq!(round_half_even(2.675, 2), 2.67);
        assert_eq!(round_half_even(0.125, 2), 0.12);
        assert_eq!(round_half_even(0.375, 2), 0.38);
        assert_eq!(round_half_even(6.35, 2), 6.35);
        assert_eq!(round_half_even(1.005, 2), 1.0);
    }

    #[test]
    fn negative_zero_survives_rounding() {
        let rounded = round_half_even(-0.04, 1);
        assert_eq!(rounded, 0.0);
        assert!(rounded.is_sign_negative());
        assert_eq!(python_float_str(rounded), "-0.0");
        assert!(round_half_even(-0.03, 1).is_sign_negative());
    }

    #[test]
    fn zero_digits_and_integers() {
        assert_eq!(round_half_even(2.5, 0), 2.0);
        assert_eq!(round_half_even(3.5, 0), 4.0);
        assert_eq!(round_half_even(-2.5, 0), -2.0);
        assert_eq!(round_to_integer(2.5), 2);
        assert_eq!(round_to_integer(3.5), 4);
        assert_eq!(round_to_integer(-0.5), 0);
        assert_eq!(round_to_integer(67.6), 68);
    }

    #[test]
    fn non_finite_values_pass_through() {
        assert!(round_half_even(f64::NAN, 1).is_nan());
        assert_eq!(round_half_even(f64::INFINITY, 2), f64::INFINITY);
    }

    #[test]
    fn fast_path_agrees_with_formatting_on_many_values() {
        // Every multiple of 0.0005 in [-50, 50] plus an irrational stride: the fast path must
        // give exactly what the exact-decimal formatting gives.
        let mut checked = 0;
        for step in -100_000..=100_000 {
            for value in [step as f64 * 0.0005, step as f64 * 0.000_731_9] {
                for digits in [1, 2, 3] {
                    let expected = round_by_formatting(value, digits);
                    let actual = round_half_even(value, digits);
                    assert!(
                        actual == expected && actual.is_sign_negative() == expected.is_sign_negative(),
                        "round({value}, {digits}): {actual} != {expected}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 1_200_006);
    }

    #[test]
    fn python_str_of_floats() {
        assert_eq!(python_float_str(100.0), "100.0");
        assert_eq!(python_float_str(6.35), "6.35");
        assert_eq!(python_float_str(1.8900000000000001), "1.8900000000000001");
        assert_eq!(python_float_str(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(python_float_str(1e-5), "1e-05");
        assert_eq!(python_float_str(1.5e-7), "1.5e-07");
        assert_eq!(python_float_str(1e16), "1e+16");
        assert_eq!(python_float_str(0.0001), "0.0001");
        assert_eq!(python_float_str(-0.0), "-0.0");
        assert_eq!(python_float_str(175.0), "175.0");
        assert_eq!(python_float_str(-3.25), "-3.25");
        assert_eq!(python_float_str(0.5175), "0.5175");
        assert_eq!(python_float_str(12345678901.5), "12345678901.5");
        assert_eq!(python_float_str(f64::NAN), "nan");
        assert_eq!(python_float_str(f64::NEG_INFINITY), "-inf");
    }

    fn general_text(value: f64) -> String {
        let mut text = String::new();
        write_general_float(&mut text, value);
        text
    }

    proptest::proptest! {
        #[test]
        fn the_short_decimal_path_agrees_with_the_general_one(
            value in proptest::num::f64::ANY,
            hundredths in -10_000_000i64..10_000_000,
        ) {
            proptest::prop_assert_eq!(python_float_str(value), general_text(value));
            let decimal = hundredths as f64 / 100.0;
            proptest::prop_assert_eq!(python_float_str(decimal), general_text(decimal));
            let product = hundredths as f64 * 0.3;
            proptest::prop_assert_eq!(python_float_str(product), general_text(product));
        }
    }
}
