//! Python number semantics the reference's values depend on: `round(x, n)` and `str(float)`.
//!
//! Python's `round` rounds the exact binary value of the float to `n` decimals with exact ties going
//! to even (`round(0.25, 1) == 0.2`, `round(2.675, 2) == 2.67`), and its `str` prints the shortest
//! round-trip digits with `.0` on integral values. The naive `(x * 10).round() / 10` differs
//! (0.25 → 0.3), so every processor rounds through this module (README §4).
//!
//! PCF and MLFS round and print dozens of floats per row (README §6 asks for a million rows a
//! second per core), so the common cases avoid calls the baseline x86-64 target cannot inline:
//! `f64::round`/`trunc` and `powi` are library calls there, integer conversions are single
//! instructions.

/// Powers of ten that are exact doubles, indexed by exponent (10^22 is the last exact one; the
/// functions below need at most 10^15).
const POWERS_OF_TEN: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Doubles at or above this are integers; below it `as i64` truncates them exactly.
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// Python's `round(value, digits)` for a float, returning the float Python would.
///
/// NaN and infinities come back unchanged; negative zero survives (`round(-0.04, 1) == -0.0`).
///
/// Python rounds the exact binary value half-to-even. A double is `mantissa × 2^exponent`, so
/// `|value| × 10^digits` is the integer `mantissa × 10^digits` shifted right by `-exponent`
/// bits: its integer part, remainder and the halfway point are exact in 128-bit integers
/// (`mantissa × 10^15 < 2^103`), with no ambiguity near a half and no formatting. That exact
/// arithmetic is needed only when the rounded product `|value| × 10^digits` is itself a half;
/// otherwise the product's side of the half decides (see the comment in the body).
pub fn round_half_even(value: f64, digits: u32) -> f64 {
    if !value.is_finite() || digits > 15 {
        return value;
    }
    let scale = POWERS_OF_TEN[digits as usize];
    let scaled = value.abs() * scale;
    if scaled >= TWO_POW_52 {
        return value;
    }
    // Rounding is monotonic and every `n + 0.5` below 2^52 is a double, so the rounded product
    // `scaled` lies on the same side of a half as the exact one, or on it: only a product that
    // lands exactly on a half (a tie, or a value just beside one) needs the exact arithmetic.
    let whole = scaled as i64;
    let fraction = scaled - whole as f64;
    if fraction != 0.5 {
        let rounded = whole + i64::from(fraction > 0.5);
        return (rounded as f64 / scale).copysign(value);
    }
    round_half_even_exactly(value, digits)
}

/// [`round_half_even`] of a value whose scaled product is a half, by exact integers.
#[inline(never)]
fn round_half_even_exactly(value: f64, digits: u32) -> f64 {
    let scale = POWERS_OF_TEN[digits as usize];
    let (mantissa, exponent) = binary_parts(value.abs());
    if exponent >= 0 {
        // An integer stays itself.
        return value;
    }
    let shift = exponent.unsigned_abs();
    let scaled = u128::from(mantissa) * POWERS_OF_TEN_INT[digits as usize];
    // Below 2^-104 × 2^103 the scaled value is under a half and rounds to zero.
    let rounded = if shift >= 105 {
        0
    } else {
        let integer_part = scaled >> shift;
        let remainder = scaled - (integer_part << shift);
        let half = 1u128 << (shift - 1);
        let round_up = remainder > half || (remainder == half && integer_part % 2 == 1);
        integer_part + u128::from(round_up)
    };
    // `rounded` is at most 2^52 here, so the conversions are exact (and through `i64` a
    // single instruction, where `u128` to `f64` is a library call).
    let magnitude = rounded as i64 as f64 / scale;
    magnitude.copysign(value)
}

/// Powers of ten as integers, for the exact rounding.
const POWERS_OF_TEN_INT: [u128; 16] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
];

/// `(mantissa, exponent)` with `magnitude == mantissa × 2^exponent` exactly, for a finite,
/// non-negative double.
fn binary_parts(magnitude: f64) -> (u64, i32) {
    let bits = magnitude.to_bits();
    let biased_exponent = (bits >> 52) as i32;
    let fraction = bits & ((1 << 52) - 1);
    if biased_exponent == 0 { (fraction, -1074) } else { (fraction | (1 << 52), biased_exponent - 1075) }
}

/// Python's `round(value)` with no digits: the nearest integer, ties to even.
///
/// Values outside `i64` saturate; NaN becomes 0 (Python raises; callers check finiteness first).
pub fn round_to_integer(value: f64) -> i64 {
    value.round_ties_even() as i64
}

/// Appends `value` as Python's `str(float)` prints it: shortest round-trip digits, `.0` on
/// integral values, and exponent form (`1e-05`, `1e+16`) outside `1e-4 <= |x| < 1e16`, as `repr`
/// prints it.
///
/// Row hashes and context JSON print dozens of floats per row, so two fast paths come before
/// the exponent form:
/// - short decimals (at most four decimals, magnitude below 1e11) are written from their scaled
///   integer: when `round(|x| × 10^4) / 10^4 == |x|` that 4-decimal text parses back to `x`, and
///   with its trailing zeros dropped it is the shortest such text, because doubles below 1e11
///   are closer than 1e-4 apart (no other text of at most four decimals parses to `x`);
/// - other values in Python's fixed-notation range `1e-4 <= |x| < 1e16` are printed by the
///   Schubfach formatter `serde_json` uses (`zmij`), which, like `repr` and Rust's
///   `{:?}`, prints the shortest round-trip digits in plain decimal with `.0` on integral values,
///   several times faster than `{:?}` (a property test compares them).
///
/// The short-decimal path is all that runs for almost every value: it is inlined into the
/// callers (a call per float had been 5 % of PCF's instructions a row), and the rest stays out
/// of line: inlined, its registers and stack made every call save and restore a dozen registers.
#[inline]
pub fn write_python_float(out: &mut String, value: f64) {
    if !write_short_decimal(out, value) {
        write_general_float(out, value);
    }
}

#[inline(never)]
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
        write_shortest_fixed(out, value);
        return;
    }
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').expect("`{:e}` output has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    write!(out, "{mantissa}e{sign}{:02}", exponent.abs()).expect("writing to a String never fails");
}

/// The shortest round-trip text of a finite `value` whose magnitude is 0 or in `[1e-4, 1e16)`,
/// where `zmij` uses plain decimal notation (its exponent form starts below 1e-5 and at 1e16).
fn write_shortest_fixed(out: &mut String, value: f64) {
    out.push_str(zmij::Buffer::new().format_finite(value));
}

/// Appends the first `length` bytes of `chunk` to `out` by copying the whole chunk into the
/// spare capacity: one fixed-size vector move, where a UTF-8 check and a `memcpy` call of
/// unknown length, or a push per byte, cost several times more (numbers are half of PCF's row
/// text).
///
/// # Safety
/// Every byte of `chunk` must be ASCII, so that any prefix of it is valid UTF-8.
#[inline(always)]
unsafe fn append_ascii_prefix<const N: usize>(out: &mut String, chunk: &[u8; N], length: usize) {
    debug_assert!(chunk.is_ascii());
    let length = length.min(N);
    out.reserve(N);
    // SAFETY: `reserve` made room for the whole chunk after the string's end; the chunk is
    // ASCII (the caller's promise), so the kept prefix leaves the string valid UTF-8, and the
    // bytes copied beyond it stay unused capacity.
    unsafe {
        let bytes = out.as_mut_vec();
        let end = bytes.len();
        std::ptr::copy_nonoverlapping(chunk.as_ptr(), bytes.as_mut_ptr().add(end), N);
        bytes.set_len(end + length);
    }
}

#[inline(always)]
fn write_short_decimal(out: &mut String, value: f64) -> bool {
    const MAX_DECIMALS: usize = 4;
    let scale = POWERS_OF_TEN[MAX_DECIMALS];
    let magnitude = value.abs();
    // NaN fails `is_finite`; Python prints magnitudes below 1e-4 with an exponent.
    if !magnitude.is_finite() || magnitude >= 1e11 || (magnitude != 0.0 && magnitude < 1e-4) {
        return false;
    }
    if magnitude == 0.0 {
        // Deferred factors and defaults: many zeros per row, and no digits to find. One push per
        // branch: pushing a chosen text would copy with a `memcpy` call of unknown length.
        if value.is_sign_negative() {
            out.push_str("-0.0");
        } else {
            out.push_str("0.0");
        }
        return true;
    }
    // |x| × 10^4 < 1e15: adding one half is exact, so truncation rounds half up (`i64`, not
    // `u64`: only the signed conversions are single instructions on x86-64).
    let scaled = (magnitude * scale + 0.5) as i64;
    if scaled as f64 / scale != magnitude {
        return false;
    }
    let unit = POWERS_OF_TEN_INT[MAX_DECIMALS] as i64;
    let (whole, fraction) = ((scaled / unit) as u64, (scaled % unit) as usize);
    let sign_length = usize::from(value.is_sign_negative());
    let (point_and_decimals, decimals_length) = point_and_decimals(fraction);
    out.reserve(SHORT_DECIMAL_CAPACITY);
    // SAFETY: `reserve` made room for the longest text (a sign, 11 digits, a point and an
    // 8-byte decimals word) after the string's end; every byte written is ASCII, and the length
    // set covers only bytes written: the sign (when negative), the whole digits, the point and
    // the kept decimals.
    unsafe {
        let bytes = out.as_mut_vec();
        let start = bytes.len();
        let text = bytes.as_mut_ptr().add(start);
        text.write(b'-');
        let whole_text = text.add(sign_length);
        let whole_length = if whole < 1000 {
            // Most values: up to three whole digits, the point and four decimals make one word.
            let (whole_digits, whole_length) = small_whole_digits(whole);
            whole_text.cast::<u64>().write_unaligned(whole_digits | point_and_decimals << (8 * whole_length));
            whole_length
        } else {
            let whole_length = decimal_length(whole);
            let point = whole_text.add(whole_length);
            write_digits_before(point, whole);
            point.cast::<u64>().write_unaligned(point_and_decimals);
            whole_length
        };
        bytes.set_len(start + sign_length + whole_length + 1 + decimals_length);
    }
    true
}

/// The digits of `whole` (below 1000) as the low bytes of a word, and how many there are, made
/// without a branch on the length: the three digits "007" shifted down to the last one.
#[inline(always)]
fn small_whole_digits(whole: u64) -> (u64, usize) {
    debug_assert!(whole < 1000);
    let (hundreds, rest) = (whole / 100, (whole % 100) as usize);
    let three_digits = (u64::from(b'0') + hundreds) | u64::from(u16::from_le_bytes(DIGIT_PAIRS[rest])) << 8;
    let length = 1 + usize::from(whole >= 10) + usize::from(whole >= 100);
    (three_digits >> (8 * (3 - length)), length)
}

/// Room [`write_short_decimal`] reserves: a sign, 11 whole digits and an 8-byte word holding the
/// point and the decimals.
const SHORT_DECIMAL_CAPACITY: usize = 32;

/// The number of decimal digits of `number` (1 for 0).
#[inline(always)]
fn decimal_length(number: u64) -> usize {
    number.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The point and the four decimals of `ten_thousandths` (below 10^4) as one little-endian word,
/// and how many decimals to keep: without trailing zeros, at least one ("5" for 5000, "0" for
/// 0), as Python's shortest text prints them.
///
/// Made in a register and stored whole, as the whole digits are stored straight into the
/// string: bytes stored one by one into a stack buffer and then loaded as a wider chunk cannot
/// be forwarded from the store buffer, and that stall held a quarter of the float writer's
/// profile samples in PCF's bench.
#[inline(always)]
fn point_and_decimals(ten_thousandths: usize) -> (u64, usize) {
    let (upper, lower) = (ten_thousandths / 100, ten_thousandths % 100);
    let pair = |index: usize| u32::from(u16::from_le_bytes(DIGIT_PAIRS[index]));
    let digits = pair(upper) | pair(lower) << 16;
    // The digits' values, the last decimal in the top byte: its zero bytes on top are the
    // trailing zeros, counted without a branch per digit.
    let values = digits - u32::from_le_bytes([b'0'; 4]);
    let kept = (4 - values.leading_zeros() as usize / 8).max(1);
    (u64::from(b'.') | u64::from(digits) << 8, kept)
}

/// Writes `number`'s decimal digits (at least one) so that they end just before `end`, two at a
/// time from the right.
///
/// # Safety
/// The digits' bytes before `end` must be writable.
#[inline(always)]
unsafe fn write_digits_before(end: *mut u8, mut number: u64) {
    let mut cursor = end;
    // SAFETY: the caller's promise covers every byte written, one per digit.
    unsafe {
        while number >= 100 {
            cursor = cursor.sub(2);
            cursor.cast::<[u8; 2]>().write_unaligned(DIGIT_PAIRS[(number % 100) as usize]);
            number /= 100;
        }
        if number >= 10 {
            cursor.sub(2).cast::<[u8; 2]>().write_unaligned(DIGIT_PAIRS[number as usize]);
        } else {
            cursor.sub(1).write(b'0' + number as u8);
        }
    }
}

/// Appends `number` in decimal, zero-padded to at least `width` digits.
///
/// Most numbers written are below 100 (rest days, ages, counts, a date's month and day), so
/// those are one table lookup and a two-byte copy, inlined into the caller, and only longer
/// numbers take the out-of-line path.
#[inline]
pub fn push_decimal_digits(out: &mut String, number: u64, width: usize) {
    if number < 100 && width <= 2 {
        let [tens, units] = DIGIT_PAIRS[number as usize];
        // A fixed two-byte chunk either way: one digit is the units, the tens byte after it
        // lands in spare capacity.
        let (chunk, length) =
            if number >= 10 || width == 2 { ([tens, units], 2) } else { ([units, tens], 1) };
        // SAFETY: `DIGIT_PAIRS` holds ASCII digits only.
        unsafe { append_ascii_prefix(out, &chunk, length) };
    } else {
        push_long_decimal_digits(out, number, width);
    }
}

/// Numbers of three or more digits, and zero-padded ones (a date's year), written in place like
/// [`write_short_decimal`]'s digits.
#[inline(never)]
fn push_long_decimal_digits(out: &mut String, number: u64, width: usize) {
    let digits = decimal_length(number);
    let padding = width.saturating_sub(digits);
    out.reserve(padding + digits);
    // SAFETY: `reserve` made room for the padding and the digits, all ASCII, and the length set
    // covers exactly those bytes.
    unsafe {
        let bytes = out.as_mut_vec();
        let start = bytes.len();
        let text = bytes.as_mut_ptr().add(start);
        text.write_bytes(b'0', padding);
        write_digits_before(text.add(padding + digits), number);
        bytes.set_len(start + padding + digits);
    }
}

/// The two ASCII digits of every number below 100, "00" to "99".
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut number = 0;
    while number < 100 {
        pairs[number] = [b'0' + (number / 10) as u8, b'0' + (number % 10) as u8];
        number += 1;
    }
    pairs
};

#[cfg(test)]
mod tests {
    use super::*;

    fn python_float_str(value: f64) -> String {
        let mut text = String::new();
        write_python_float(&mut text, value);
        text
    }

    /// Python's rounding by the standard library: `{:.N}` rounds the exact binary value
    /// half-to-even.
    fn round_by_formatting(value: f64, digits: u32) -> f64 {
        format!("{value:.prec$}", prec = digits as usize).parse().unwrap()
    }

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

    /// The doubles next to a decimal half, whose scaled product rounds onto the half: those go
    /// to the exact arithmetic, the others round by the product's side of the half.
    #[test]
    fn values_next_to_a_half_round_as_their_exact_binary_value() {
        let mut checked = 0;
        for digits in 0..=6 {
            for half in (0..20_000).map(|k| (f64::from(k) * 7.3).floor() + 0.5) {
                let mut below = half / 10f64.powi(digits);
                let mut above = below;
                for _ in 0..4 {
                    for value in [below, above, -below, -above] {
                        let expected = round_by_formatting(value, digits as u32);
                        let actual = round_half_even(value, digits as u32);
                        assert!(
                            actual == expected && actual.is_sign_negative() == expected.is_sign_negative(),
                            "round({value:e}, {digits}): {actual} != {expected}"
                        );
                        checked += 1;
                    }
                    (below, above) = (below.next_down(), above.next_up());
                }
            }
        }
        assert_eq!(checked, 7 * 20_000 * 4 * 4);
    }

    proptest::proptest! {
        #[test]
        fn exact_rounding_agrees_with_formatting(
            bits in proptest::num::u64::ANY,
            thousandths in -100_000_000i64..100_000_000,
            digits in 0u32..=15,
        ) {
            let from_bits = f64::from_bits(bits);
            let three_decimals = thousandths as f64 / 1000.0;
            let halves = (thousandths as f64 + 0.5) / 10f64.powi(digits as i32);
            for value in [from_bits, three_decimals, halves, three_decimals * 0.3] {
                // Beyond 2^52 after scaling the value is returned as it is (no fraction left to
                // round at that precision, as far as the reference's values go).
                if !(value.is_finite() && (value * 10f64.powi(digits as i32)).abs() < 2f64.powi(52)) {
                    continue;
                }
                let expected = round_by_formatting(value, digits);
                let actual = round_half_even(value, digits);
                proptest::prop_assert!(
                    actual == expected && actual.is_sign_negative() == expected.is_sign_negative(),
                    "round({:e}, {}): {} != {}", value, digits, actual, expected
                );
            }
        }
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

    /// Python's `str(float)` from the standard library's formatting alone: `{:?}` prints the
    /// shortest round-trip digits in plain decimal inside Python's fixed range, `{:e}` outside.
    fn reference_text(value: f64) -> String {
        if value.is_nan() {
            return "nan".into();
        }
        if value.is_infinite() {
            return if value > 0.0 { "inf".into() } else { "-inf".into() };
        }
        let magnitude = value.abs();
        if magnitude == 0.0 || (1e-4..1e16).contains(&magnitude) {
            return format!("{value:?}");
        }
        let text = format!("{value:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap();
        let exponent: i32 = exponent.parse().unwrap();
        format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
    }

    /// `text` is Python's `repr` of `value`: Rust's `{:?}` text, except where the exact binary
    /// value lies halfway between two shortest candidates. There Python rounds the last digit
    /// half to even and `{:?}` rounds it up, so the two texts differ by one in their last digit,
    /// parse to the same double, and Python's last digit is even.
    fn assert_python_text(text: &str, value: f64) {
        let reference = reference_text(value);
        if text == reference {
            return;
        }
        let (last, reference_last) =
            (text.as_bytes()[text.len() - 1], reference.as_bytes()[reference.len() - 1]);
        assert_eq!(text.len(), reference.len(), "{text} vs {reference}");
        assert_eq!(text[..text.len() - 1], reference[..reference.len() - 1], "{text} vs {reference}");
        assert_eq!(text.parse::<f64>().ok(), Some(value), "{text}");
        assert_eq!(reference.parse::<f64>().ok(), Some(value), "{reference}");
        assert_eq!((last % 2, reference_last.abs_diff(last)), (0, 1), "{text} vs {reference}");
    }

    #[test]
    fn short_decimals_next_to_powers_of_two_print_as_the_general_formatter_does() {
        // Below a power of two the neighbouring double is half as far as above it; the short
        // path's check (the text's value must parse back) holds there as anywhere.
        for exponent in -13..=36 {
            let power = 2f64.powi(exponent);
            let near = [0.0001, 0.001, 0.01, 0.1].map(|step| (power / step).round() * step);
            for value in [power, power.next_down(), power.next_up()].into_iter().chain(near) {
                for value in [value, value.next_down(), value.next_up()] {
                    assert_eq!(python_float_str(value), general_text(value), "{value:e}");
                }
            }
        }
    }

    /// Every length of whole part (the one-word path below 1000 and the digit loop above) with
    /// every count of kept decimals, both signs, appended after text already there.
    #[test]
    fn short_decimals_of_every_shape_print_as_the_standard_formatting_does() {
        let every_fraction = [0, 7, 42, 999, 1000, 123_456];
        let some_fractions = [0, 1, 5, 10, 12, 50, 100, 120, 500, 1000, 1200, 1234, 5000, 9999];
        let mut checked = 0;
        for whole in (0..1000).chain([1000, 9999, 10_000, 123_456, 99_999_999_999]) {
            let fractions: Vec<i64> =
                if every_fraction.contains(&whole) { (0..10_000).collect() } else { some_fractions.to_vec() };
            for fraction in fractions {
                let value = (whole * 10_000 + fraction) as f64 / 10_000.0;
                for value in [value, -value] {
                    let mut text = String::from("x");
                    write_python_float(&mut text, value);
                    assert_eq!(text, format!("x{}", reference_text(value)), "{whole} + {fraction}/10^4");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 2 * (6 * 10_000 + 999 * 14));
    }

    #[test]
    fn a_tie_between_two_shortest_texts_rounds_half_to_even_as_python() {
        // Exactly 1157208691260078.25; Python 3 prints repr() 1157208691260078.2, `{:?}` ...078.3.
        let value = f64::from_bits(4_832_487_635_306_212_025);
        assert_eq!(python_float_str(value), "1157208691260078.2");
        assert_eq!(format!("{value:?}"), "1157208691260078.3");
    }

    fn general_text(value: f64) -> String {
        let mut text = String::new();
        write_general_float(&mut text, value);
        text
    }

    #[test]
    fn fixed_range_edges_print_as_python_does() {
        // Python: repr of each value.
        let cases = [
            (1e-4, "0.0001"),
            (0.00012345678901234567, "0.00012345678901234567"),
            (9.999999999999999e-5, "9.999999999999999e-05"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e15, "1000000000000000.0"),
            (123456789012.25, "123456789012.25"),
            (-2.108, "-2.108"),
            (13.200000000000001, "13.200000000000001"),
            (0.1 * 3.0, "0.30000000000000004"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (value, python) in cases {
            assert_eq!(python_float_str(value), python, "{value:e}");
            assert_eq!(general_text(value), python, "{value:e}");
        }
        assert_eq!(general_text(0.0), "0.0");
        assert_eq!(general_text(-0.0), "-0.0");
    }

    #[test]
    fn decimal_digits_are_zero_padded() {
        let mut text = String::new();
        push_decimal_digits(&mut text, 0, 1);
        push_decimal_digits(&mut text, 7, 2);
        push_decimal_digits(&mut text, 2025, 4);
        push_decimal_digits(&mut text, u64::MAX, 1);
        assert_eq!(text, "007202518446744073709551615");
        let short = |number, width| {
            let mut text = String::new();
            push_decimal_digits(&mut text, number, width);
            text
        };
        assert_eq!([short(5, 0), short(5, 1), short(5, 2), short(5, 3)], ["5", "5", "05", "005"]);
        assert_eq!(
            [short(0, 2), short(10, 1), short(99, 2), short(100, 1), short(42, 4)],
            ["00", "10", "99", "100", "0042"]
        );
    }

    proptest::proptest! {
        #[test]
        fn both_fast_paths_agree_with_the_standard_formatting(
            value in proptest::num::f64::ANY,
            bits in proptest::num::u64::ANY,
            hundredths in -10_000_000i64..10_000_000,
            ten_thousandths in -1_000_000_000_000_000i64..1_000_000_000_000_000,
        ) {
            let from_bits = f64::from_bits(bits);
            let decimal = hundredths as f64 / 100.0;
            let product = hundredths as f64 * 0.3;
            let four_decimals = ten_thousandths as f64 / 10_000.0;
            for number in [value, from_bits, decimal, product, four_decimals, four_decimals * 1e-3] {
                assert_python_text(&python_float_str(number), number);
                assert_python_text(&general_text(number), number);
            }
        }

        #[test]
        fn decimal_digits_agree_with_the_standard_formatting(
            small in 0u64..1_000,
            any in proptest::num::u64::ANY,
            width in 0usize..22,
        ) {
            for number in [small, any] {
                let mut text = String::new();
                push_decimal_digits(&mut text, number, width);
                proptest::prop_assert_eq!(text, format!("{number:0width$}"));
            }
        }
    }
}
