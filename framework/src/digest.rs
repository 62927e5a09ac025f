//! Hashes: the reference's row `data_hash`, and order-independent digests of upstream inputs.
//!
//! `data_hash` follows the reference recipe (reference-pcf.md §4.4, reference-mlfs.md §5.3):
//! `field:value` strings with Python `str()` formatting, sorted, joined with `|`, SHA-256, first
//! 16 hex characters. Upstream change detection (README §4 item 7) needs a digest of *all* rows a
//! date read, independent of the order the warehouse returned them in: [`InputDigest`] adds the
//! rows' 64-bit hashes (wrapping), so equal multisets of rows give equal digests and digests of
//! consecutive dates can be summed into prefix digests.

use chrono::{Datelike as _, NaiveDate};
use smol_str::SmolStr;

use self::sha256::Midstate;

use crate::dispatch::Dispatched;
use crate::processor::EntityFailure;
use crate::rounding::{push_decimal_digits, write_python_float};
use crate::value::{CellRef, Value};

mod sha256;

/// A field value as the reference's `compute_data_hash` normalises it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HashValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Date(NaiveDate),
    FloatList(&'a [f64]),
    StrList(&'a [&'a str]),
}

impl HashValue<'_> {
    /// Always inlined, so that a caller's statically known variant writes without the match.
    #[inline(always)]
    fn write_normalized(&self, out: &mut String) {
        match self {
            HashValue::Null => out.push_str("NULL"),
            // One push per branch keeps each copy inline (see `rounding`'s zeros).
            HashValue::Bool(true) => out.push_str("True"),
            HashValue::Bool(false) => out.push_str("False"),
            HashValue::Int(number) => {
                if *number < 0 {
                    out.push('-');
                }
                push_decimal_digits(out, number.unsigned_abs(), 1);
            }
            HashValue::Float(number) => write_python_float(out, *number),
            HashValue::Str(text) => out.push_str(stripped(text)),
            HashValue::Date(date) => {
                push_decimal_digits(out, date.year().unsigned_abs().into(), 4);
                out.push('-');
                push_decimal_digits(out, date.month().into(), 2);
                out.push('-');
                push_decimal_digits(out, date.day().into(), 2);
            }
            HashValue::FloatList(numbers) => {
                out.push('[');
                for (position, number) in numbers.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    write_python_float(out, *number);
                }
                out.push(']');
            }
            HashValue::StrList(texts) => {
                out.push('[');
                for (position, text) in texts.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    out.push('\'');
                    out.push_str(text);
                    out.push('\'');
                }
                out.push(']');
            }
        }
    }
}

/// The reference's `str(value).strip()`. Keys and ids seldom have whitespace around them, so a
/// text that starts and ends with printable ASCII is taken whole, without decoding its ends to
/// look for Unicode whitespace (a few such texts per row).
fn stripped(text: &str) -> &str {
    let printable_ascii = |byte: Option<&u8>| matches!(byte, Some(b'!'..=b'~'));
    let bytes = text.as_bytes();
    if printable_ascii(bytes.first()) && printable_ascii(bytes.last()) {
        text
    } else {
        text.trim_matches(is_python_whitespace)
    }
}

/// Python's `str.isspace()`: Unicode's `White_Space` characters, which Rust's `trim` strips, and
/// the four ASCII separators U+001C–U+001F, which Python counts as whitespace and Rust does not
/// (an id ending in one would otherwise hash differently from the reference's).
fn is_python_whitespace(character: char) -> bool {
    character.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&character)
}

impl<'a, T> From<Option<T>> for HashValue<'a>
where
    T: Into<HashValue<'a>>,
{
    fn from(value: Option<T>) -> Self {
        value.map_or(HashValue::Null, Into::into)
    }
}

impl From<bool> for HashValue<'_> {
    fn from(flag: bool) -> Self {
        HashValue::Bool(flag)
    }
}

impl From<i64> for HashValue<'_> {
    fn from(number: i64) -> Self {
        HashValue::Int(number)
    }
}

impl From<f64> for HashValue<'_> {
    fn from(number: f64) -> Self {
        HashValue::Float(number)
    }
}

impl<'a> From<&'a str> for HashValue<'a> {
    fn from(text: &'a str) -> Self {
        HashValue::Str(text)
    }
}

impl<'a> From<&'a String> for HashValue<'a> {
    fn from(text: &'a String) -> Self {
        HashValue::Str(text)
    }
}

impl<'a> From<&'a SmolStr> for HashValue<'a> {
    fn from(text: &'a SmolStr) -> Self {
        HashValue::Str(text)
    }
}

impl From<NaiveDate> for HashValue<'_> {
    fn from(date: NaiveDate) -> Self {
        HashValue::Date(date)
    }
}

impl<'a> From<&'a [f64]> for HashValue<'a> {
    fn from(numbers: &'a [f64]) -> Self {
        HashValue::FloatList(numbers)
    }
}

impl<'a> From<&'a [&'a str]> for HashValue<'a> {
    fn from(texts: &'a [&'a str]) -> Self {
        HashValue::StrList(texts)
    }
}

/// The reference's `data_hash` of `(field, value)` pairs: 16 lowercase hex characters.
///
/// The reference sorts the `field:value` strings; with distinct field names that order is the
/// order of the `field:` prefixes ([`recipe_order`]), so the fields are put in that order and
/// streamed into the hash without building the strings. Fields already in that order are
/// confirmed by a linear check instead of being sorted.
pub fn data_hash(fields: &[(&str, HashValue<'_>)]) -> SmolStr {
    if fields.is_sorted_by(|left, right| recipe_order(left.0, right.0).is_le()) {
        return hash_in_order(fields.iter()).finish();
    }
    let mut order: Vec<&(&str, HashValue<'_>)> = fields.iter().collect();
    order.sort_unstable_by(|left, right| recipe_order(left.0, right.0));
    hash_in_order(order.into_iter()).finish()
}

/// The text of the [`data_hash`] of fields the caller lists in [`recipe_order`], to be
/// finished alone or with a batch of rows ([`hash_rows_together`]): no order check in release
/// builds (debug builds, and so the tests, still check it).
pub fn hash_text_in_recipe_order(fields: &[(&str, HashValue<'_>)]) -> UnfinishedHash {
    hash_in_order(fields.iter()).unfinished()
}

/// The order of the reference's sorted `field:value` strings, decided by the names alone: each
/// name compares as if followed by ':' (so `x1` sorts before `x`, because '1' < ':').
pub fn recipe_order(left: &str, right: &str) -> std::cmp::Ordering {
    let (left_bytes, right_bytes) = (left.as_bytes(), right.as_bytes());
    let common = left_bytes.len().min(right_bytes.len());
    let after_common = |name: &[u8]| name.get(common).copied().unwrap_or(b':');
    left_bytes[..common]
        .cmp(&right_bytes[..common])
        .then_with(|| after_common(left_bytes).cmp(&after_common(right_bytes)))
        .then_with(|| {
            // Only names that contain ':' get here undecided; compare the whole prefixes.
            let with_colon = |name: &str| name.bytes().chain(std::iter::once(b':')).collect::<Vec<u8>>();
            with_colon(left).cmp(&with_colon(right))
        })
}

/// The `field:value` strings of `fields`, in the order given, joined with `|`.
fn hash_in_order<'a, 'v: 'a>(fields: impl Iterator<Item = &'a (&'v str, HashValue<'v>)>) -> RecipeHasher<'v> {
    let mut hasher = RecipeHasher::new();
    for (name, value) in fields {
        hasher.field(*name, *value);
    }
    hasher
}

/// A field's name as [`RecipeHasher::field`] takes it: any text, or a literal from
/// [`recipe_field!`](crate::recipe_field), whose `|name:` is one text made at compile time,
/// copied whole instead of in three pushes (a row hashes some twenty fields).
#[derive(Clone, Copy, Debug)]
pub enum FieldName<'n> {
    Text(&'n str),
    /// The name, and `|name:` made from it. The name is kept beside its separated text, not
    /// sliced out of it: slicing it out per field cost some 350 more instructions per PCF row.
    Literal {
        name: &'n str,
        separated: &'n str,
    },
}

impl<'n> FieldName<'n> {
    fn text(self) -> &'n str {
        match self {
            FieldName::Text(name) | FieldName::Literal { name, .. } => name,
        }
    }
}

impl<'n> From<&'n str> for FieldName<'n> {
    fn from(name: &'n str) -> Self {
        FieldName::Text(name)
    }
}

/// A literal field name for [`RecipeHasher::field`]: `recipe_field!("game_id")`.
#[macro_export]
macro_rules! recipe_field {
    ($name:literal) => {
        $crate::digest::FieldName::Literal { name: $name, separated: concat!("|", $name, ":") }
    };
}

/// A `data_hash` written field by field, for rows whose code lists the fields in
/// [`recipe_order`] (PCF hashes every row this way).
///
/// Each [`field`](RecipeHasher::field) call is inlined into the caller, so a name from
/// [`recipe_field!`](crate::recipe_field) is copied, separators included, with fixed-size moves
/// and the value's variant is known at compile time; the `field:value` text goes into one buffer
/// that reaches SHA-256 when the row is finished, alone ([`finish`](RecipeHasher::finish)) or
/// with a batch of other rows ([`hash_rows_together`]). Debug builds, and so the tests, check that the
/// names come in recipe order.
pub struct RecipeHasher<'n> {
    /// The digest state after the whole blocks of a shared prefix, if any.
    state: Midstate,
    /// The text after `state`.
    text: String,
    previous_name: Option<&'n str>,
}

impl<'n> RecipeHasher<'n> {
    /// Room for a PCF row's text (~520 bytes) without growing.
    const TEXT_CAPACITY: usize = 640;

    pub fn new() -> RecipeHasher<'n> {
        RecipeHasher::continuing(Midstate::INITIAL, "", None)
    }

    /// A hasher whose digest state is `state`, followed by `text`, after a field named
    /// `previous_name` if any.
    fn continuing(state: Midstate, text: &str, previous_name: Option<&'n str>) -> RecipeHasher<'n> {
        let mut buffer = String::with_capacity(Self::TEXT_CAPACITY);
        buffer.push_str(text);
        RecipeHasher { state, text: buffer, previous_name }
    }

    /// Appends `name:value`, after a `|` unless it is the first field.
    #[inline(always)]
    pub fn field<'v>(
        &mut self,
        name: impl Into<FieldName<'n>>,
        value: impl Into<HashValue<'v>>,
    ) -> &mut RecipeHasher<'n> {
        self.name(name.into());
        value.into().write_normalized(&mut self.text);
        self
    }

    /// `name:`, after a `|` unless it is the first field.
    #[inline(always)]
    fn name(&mut self, name: FieldName<'n>) {
        let text = name.text();
        debug_assert!(
            self.previous_name.is_none_or(|previous| recipe_order(previous, text).is_le()),
            "data_hash fields are not in recipe order: {text} after {:?}",
            self.previous_name
        );
        let first = self.previous_name.is_none();
        self.previous_name = Some(text);
        match name {
            // One push per branch, each of a known length, keeps the copies inline.
            FieldName::Literal { separated, .. } if first => self.text.push_str(&separated[1..]),
            FieldName::Literal { separated, .. } => self.text.push_str(separated),
            FieldName::Text(text) => {
                if !first {
                    self.text.push('|');
                }
                self.text.push_str(text);
                self.text.push(':');
            }
        }
    }

    /// The first 16 lowercase hex characters of the SHA-256 digest, held inline (no allocation:
    /// every output row has one).
    pub fn finish(self) -> SmolStr {
        self.unfinished().finish()
    }

    /// The row's text, to be hashed with other rows' by [`hash_rows_together`].
    pub fn unfinished(self) -> UnfinishedHash {
        UnfinishedHash { state: self.state, text: self.text }
    }
}

/// A row's `data_hash` text whose digest is not computed yet.
#[derive(Debug)]
pub struct UnfinishedHash {
    state: Midstate,
    text: String,
}

impl UnfinishedHash {
    /// The `data_hash` of this row alone.
    pub fn finish(&self) -> SmolStr {
        data_hash_text(self.state.finish(self.text.as_bytes()))
    }
}

/// The `data_hash` of each of `hashes`, in their order: the same texts as
/// [`RecipeHasher::finish`] gives one by one, computed sixteen at a time where the CPU has
/// AVX-512 (see `sha256`), about half the time a row.
fn finish_all<'h>(hashes: impl IntoIterator<Item = &'h UnfinishedHash>) -> Vec<SmolStr> {
    let messages: Vec<(Midstate, &[u8])> =
        hashes.into_iter().map(|hash| (hash.state, hash.text.as_bytes())).collect();
    sha256::finish_many(&messages).into_iter().map(data_hash_text).collect()
}

/// Pushes each entity's outcome from `row_of` to `outcomes`, in their order, with the rows'
/// hashes computed together (`finish_all`) from their `hash_text_of` and given to them by
/// `set_hash`: how PCF and MLFS compute a batch of rows (`Processor::process_batch`).
///
/// A row's hash text is taken from the row where it was pushed, so that the ~800-byte row is
/// moved once, from `row_of`'s result into the date's vector; the texts are made once the
/// batch's rows are all there, as reading a row right after its copy waited for the copy's
/// stores (9 % of PCF's hash text time in `perf`).
pub fn hash_rows_together<E, R, F, T, S>(
    entities: &[E],
    mut row_of: F,
    hash_text_of: T,
    set_hash: S,
    outcomes: &mut Dispatched<R>,
) where
    F: FnMut(&E) -> Result<R, EntityFailure>,
    T: Fn(&R) -> UnfinishedHash,
    S: Fn(&mut R, SmolStr),
{
    let first_row = outcomes.rows.len();
    for entity in entities {
        outcomes.push(row_of(entity));
    }
    let texts: Vec<UnfinishedHash> = outcomes.rows[first_row..].iter().map(hash_text_of).collect();
    for (row, hash) in outcomes.rows[first_row..].iter_mut().zip(finish_all(&texts)) {
        set_hash(row, hash);
    }
}

/// The first 16 lowercase hex characters of `digest`, held inline: a byte's two characters
/// copied from a table at a time.
fn data_hash_text(digest: sha256::Digest) -> SmolStr {
    let mut hex = [0u8; 16];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.leading_bytes()) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
    }
    // SAFETY: `HEX_PAIRS` holds ASCII hex digits only (checked once for every byte by
    // `hex_pairs_are_every_bytes_lowercase_hex`), so `hex` is valid UTF-8.
    SmolStr::new_inline(unsafe { std::str::from_utf8_unchecked(&hex) })
}

/// The two lowercase hex digits of every byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0x0f]];
        byte += 1;
    }
    pairs
};

/// The leading fields every row of a set shares and the name of the field after them, hashed
/// once: each row's [`RecipeHasher`] resumes from a copy of the digest state with that field's
/// value. PCF's rows of a date all start with the same `analysis_date`, `calculation_version`
/// and `|data_completeness_pct:`, 79 bytes: the first of their nine SHA-256 blocks.
#[derive(Clone)]
pub struct RecipePrefix<'n> {
    state: Midstate,
    /// The prefix's text after `state`'s whole blocks.
    rest: String,
    next_name: &'n str,
}

impl<'n> RecipeHasher<'n> {
    /// The fields given so far and `next_name`, the field every row goes on with, as a prefix
    /// rows resume from.
    pub fn into_prefix(mut self, next_name: &'n str) -> RecipePrefix<'n> {
        self.name(FieldName::Text(next_name));
        // Whole blocks that end between two characters: the rest is kept as text.
        let mut whole = self.text.len() - self.text.len() % sha256::BLOCK;
        while !self.text.is_char_boundary(whole) {
            whole -= sha256::BLOCK;
        }
        let (blocks, rest) = self.text.split_at(whole);
        self.state.absorb(blocks.as_bytes());
        RecipePrefix { state: self.state, rest: rest.to_owned(), next_name }
    }

    /// A hasher that goes on after `prefix` with `next_value`, the value of the prefix's next
    /// field; the fields after it follow in [`recipe_order`].
    pub fn resume<'v>(prefix: &RecipePrefix<'n>, next_value: impl Into<HashValue<'v>>) -> RecipeHasher<'n> {
        let mut hasher = RecipeHasher::continuing(prefix.state, &prefix.rest, Some(prefix.next_name));
        next_value.into().write_normalized(&mut hasher.text);
        hasher
    }
}

impl Default for RecipeHasher<'_> {
    fn default() -> Self {
        RecipeHasher::new()
    }
}

/// An order-independent digest of a multiset of rows: the wrapping sum of their hashes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InputDigest {
    sum: u64,
    rows: u64,
}

impl InputDigest {
    /// Adds one row, cell by cell: a row of [`Value`]s (`row.iter().map(Value::cell)`) and the
    /// same row of a columnar read hash alike. `scratch` holds the row's encoding; a caller
    /// digesting many rows passes the same buffer each time instead of allocating one per row.
    pub fn add_cells<'a>(&mut self, cells: impl IntoIterator<Item = CellRef<'a>>, scratch: &mut Vec<u8>) {
        self.sum = self.sum.wrapping_add(hash_row(cells, scratch));
        self.rows += 1;
    }

    /// Combines two disjoint sets of rows.
    pub fn merge(&mut self, other: InputDigest) {
        self.sum = self.sum.wrapping_add(other.sum);
        self.rows += other.rows;
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Text form stored in run history: row count and sum, e.g. `412:9f3a…`.
    pub fn to_text(&self) -> String {
        format!("{}:{:016x}", self.rows, self.sum)
    }
}

/// A stable 64-bit hash of a row's cells: SeaHash, whose output is fixed across versions and
/// platforms, over a tagged encoding, so digests stored in run history compare equal across
/// processes, machines and releases. Every row a run reads is hashed (a season of PGS reads
/// ~250,000), so a fast non-cryptographic hash over one buffer replaced SHA-256 fed cell by cell,
/// which cost about three times as much per history row (166 against 60 ns, measured); the
/// digests only need to tell changed inputs apart, not resist forgery.
fn hash_row<'a>(cells: impl IntoIterator<Item = CellRef<'a>>, bytes: &mut Vec<u8>) -> u64 {
    bytes.clear();
    for cell in cells {
        encode_cell(cell, bytes);
    }
    seahash::hash(bytes)
}

/// The tagged encoding of one cell: a type byte, then fixed-width little-endian numbers, and
/// lengths before texts and lists, so no two different rows encode alike.
fn encode_cell(cell: CellRef<'_>, bytes: &mut Vec<u8>) {
    match cell {
        CellRef::Null => bytes.push(0),
        CellRef::Bool(flag) => bytes.extend([1, u8::from(flag)]),
        CellRef::Int(number) => {
            bytes.push(2);
            bytes.extend(number.to_le_bytes());
        }
        CellRef::Float(number) => {
            bytes.push(3);
            bytes.extend(number.to_bits().to_le_bytes());
        }
        CellRef::Text(text) => {
            bytes.push(4);
            bytes.extend((text.len() as u64).to_le_bytes());
            bytes.extend(text.as_bytes());
        }
        CellRef::Date(date) => {
            bytes.push(5);
            bytes.extend(date.num_days_from_ce().to_le_bytes());
        }
        CellRef::Timestamp(timestamp) => {
            bytes.push(6);
            bytes.extend(timestamp.timestamp_micros().to_le_bytes());
        }
        CellRef::List(Value::FloatArray(numbers)) => {
            bytes.push(7);
            bytes.extend((numbers.len() as u64).to_le_bytes());
            for number in numbers {
                bytes.extend(number.to_bits().to_le_bytes());
            }
        }
        CellRef::List(Value::StringArray(texts)) => {
            bytes.push(8);
            bytes.extend((texts.len() as u64).to_le_bytes());
            for text in texts {
                bytes.extend((text.len() as u64).to_le_bytes());
                bytes.extend(text.as_bytes());
            }
        }
        // `Value::cell` borrows only the two list kinds as lists.
        CellRef::List(scalar) => encode_cell(scalar.cell(), bytes),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;

    #[test]
    fn hex_pairs_are_every_bytes_lowercase_hex() {
        for byte in 0..=255u8 {
            assert_eq!(HEX_PAIRS[usize::from(byte)], format!("{byte:02x}").as_bytes(), "{byte}");
        }
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_row_hashes_its_tagged_encoding_with_seahash() {
        // Digests are stored in run history and compared by later releases: this pins the
        // encoding and the hash function.
        let row = [Value::String("ab".into()), Value::Int(-2), Value::Null, Value::Date(date("0001-01-02"))];
        let mut expected = vec![4];
        expected.extend(2u64.to_le_bytes());
        expected.extend(b"ab");
        expected.push(2);
        expected.extend((-2i64).to_le_bytes());
        expected.push(0);
        expected.push(5);
        expected.extend(2i32.to_le_bytes());
        assert_eq!(hash_row(row.iter().map(Value::cell), &mut Vec::new()), seahash::hash(&expected));
        assert_eq!(
            format!("{:016x}", hash_row(row.iter().map(Value::cell), &mut Vec::new())),
            "91268b0cabcd99a9"
        );
    }

    #[test]
    fn pcf_lebron_check_vector() {
        // reference-pcf.md §4.4.
        let fields: Vec<(&str, HashValue)> = vec![
            ("player_lookup", "lebronjames".into()),
            ("universal_player_id", "lebron_001".into()),
            ("game_date", date("2025-11-01").into()),
            ("game_id", "20251101LAL_GSW".into()),
            ("analysis_date", date("2025-11-01").into()),
            ("fatigue_score", 100i64.into()),
            ("shot_zone_mismatch_score", 4.3.into()),
            ("pace_score", 1.8.into()),
            ("usage_spike_score", 0.3.into()),
            ("referee_favorability_score", 0.0.into()),
            ("look_ahead_pressure_score", 0.0.into()),
            ("travel_impact_score", 0.0.into()),
            ("opponent_strength_score", 0.0.into()),
            ("total_composite_adjustment", 6.35.into()),
            ("calculation_version", "v1_4factors".into()),
            ("early_season_flag", false.into()),
            ("insufficient_data_reason", HashValue::Null),
            ("data_completeness_pct", 100.0.into()),
            ("missing_data_fields", HashValue::Null),
            ("has_warnings", false.into()),
            ("warning_details", HashValue::Null),
        ];
        assert_eq!(data_hash(&fields), "9f4f882968dd5bdb");
    }

    #[test]
    fn rows_resumed_from_a_prefix_hash_as_whole_rows() {
        // The LeBron check vector (reference-pcf.md §4.4), its first two fields as a prefix.
        let mut prefix = RecipeHasher::new();
        prefix.field("analysis_date", date("2025-11-01")).field("calculation_version", "v1_4factors");
        let prefix = prefix.into_prefix("data_completeness_pct");
        let rest_of_row = |hasher: &mut RecipeHasher<'_>, total: f64| {
            hasher
                .field("early_season_flag", false)
                .field("fatigue_score", 100i64)
                .field("game_date", date("2025-11-01"))
                .field("game_id", "20251101LAL_GSW")
                .field("has_warnings", false)
                .field("insufficient_data_reason", None::<&str>)
                .field("look_ahead_pressure_score", 0.0)
                .field("missing_data_fields", None::<&str>)
                .field("opponent_strength_score", 0.0)
                .field("pace_score", 1.8)
                .field("player_lookup", "lebronjames")
                .field("referee_favorability_score", 0.0)
                .field("shot_zone_mismatch_score", 4.3)
                .field("total_composite_adjustment", total)
                .field("travel_impact_score", 0.0)
                .field("universal_player_id", "lebron_001")
                .field("usage_spike_score", 0.3)
                .field("warning_details", None::<&str>);
        };
        let mut first = RecipeHasher::resume(&prefix, 100.0);
        rest_of_row(&mut first, 6.35);
        assert_eq!(first.finish(), "9f4f882968dd5bdb");
        // The prefix is reusable: a second row resumes from the same state.
        let mut second = RecipeHasher::resume(&prefix, 80.0);
        rest_of_row(&mut second, 6.4);
        let mut whole = RecipeHasher::new();
        whole
            .field("analysis_date", date("2025-11-01"))
            .field("calculation_version", "v1_4factors")
            .field("data_completeness_pct", 80.0);
        rest_of_row(&mut whole, 6.4);
        assert_eq!(second.finish(), whole.finish());
    }

    #[test]
    fn a_prefix_whose_block_ends_inside_a_character_keeps_that_character_as_text() {
        // `a:` and 61 `x` are 63 bytes: the 64th block byte is the first of `é`'s two.
        let leading = format!("{}é", "x".repeat(61));
        let mut prefix = RecipeHasher::new();
        prefix.field("a", leading.as_str()).field("b", "é");
        let prefix = prefix.into_prefix("c");
        assert_eq!(prefix.state, Midstate::INITIAL, "no whole block ends between two characters");
        let mut resumed = RecipeHasher::resume(&prefix, 1i64);
        resumed.field("d", "z");
        let text = format!("a:{leading}|b:é|c:1|d:z");
        let expected: String =
            Sha256::digest(text.as_bytes())[..8].iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(resumed.finish(), expected);

        // Past a character boundary at 64 bytes the first block is hashed once for all rows.
        let mut prefix = RecipeHasher::new();
        prefix.field("a", "x".repeat(62).as_str()).field("b", "y");
        let prefix = prefix.into_prefix("c");
        assert_ne!(prefix.state, Midstate::INITIAL);
        assert_eq!(prefix.rest, "|b:y|c:");
    }

    #[test]
    fn literal_field_names_hash_as_their_text() {
        let expected: String =
            Sha256::digest(b"a:1|b:x|c:2.5")[..8].iter().map(|byte| format!("{byte:02x}")).collect();
        let mut literal = RecipeHasher::new();
        literal.field(crate::recipe_field!("a"), 1i64).field(crate::recipe_field!("b"), "x").field("c", 2.5);
        assert_eq!(literal.finish(), expected);
        let mut mixed = RecipeHasher::new();
        mixed.field("a", 1i64).field(crate::recipe_field!("b"), "x").field(crate::recipe_field!("c"), 2.5);
        assert_eq!(mixed.finish(), expected);
    }

    #[test]
    fn strings_are_trimmed_and_lists_use_python_reprs() {
        let names = ["a", "b"];
        let mut normalized = String::new();
        HashValue::StrList(&names).write_normalized(&mut normalized);
        assert_eq!(normalized, "['a', 'b']");
        normalized.clear();
        HashValue::FloatList(&[20.5, 97.0, 1e-5]).write_normalized(&mut normalized);
        assert_eq!(normalized, "[20.5, 97.0, 1e-05]");
        assert_eq!(data_hash(&[("x", " a ".into())]), data_hash(&[("x", "a".into())]));
    }

    #[test]
    fn texts_are_stripped_at_either_end_of_any_whitespace() {
        for (text, expected) in [
            ("abc", "abc"),
            ("a b", "a b"),
            ("a\n", "a"),
            ("\ta", "a"),
            ("\u{3000}é\u{a0}", "é"),
            // Python: '\x1cab\x1f'.strip() == 'ab' (the file, group, record and unit
            // separators), while '\x1bab'.strip() keeps ESC.
            ("\u{1c}ab\u{1f}", "ab"),
            ("\u{1d}a\u{1e}", "a"),
            ("\u{1b}ab", "\u{1b}ab"),
            ("é", "é"),
            ("  ", ""),
            ("", ""),
        ] {
            assert_eq!(stripped(text), expected, "{text:?}");
        }
    }

    #[test]
    fn field_order_is_the_order_of_the_joined_strings() {
        // "x1:…" sorts before "x:…" because '1' < ':'; sorting by bare name would not.
        let reference_text = ["x1:2", "x:1"].join("|");
        let expected: String =
            Sha256::digest(reference_text.as_bytes())[..8].iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(data_hash(&[("x", 1i64.into()), ("x1", 2i64.into())]), expected);
        assert_eq!(data_hash(&[("x", HashValue::Int(-15)), ("d", date("2025-01-05").into())]), {
            let text = "d:2025-01-05|x:-15";
            Sha256::digest(text.as_bytes())[..8].iter().map(|byte| format!("{byte:02x}")).collect::<String>()
        });
    }

    #[test]
    fn recipe_order_sorts_names_as_if_followed_by_a_colon() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        assert_eq!(recipe_order("x1", "x"), Less);
        assert_eq!(recipe_order("x", "x1"), Greater);
        assert_eq!(recipe_order("x", "x"), Equal);
        assert_eq!(recipe_order("game_date", "game_id"), Less);
        assert_eq!(recipe_order("feature_count", "features"), Less, "'_' < 's'");
        assert_eq!(recipe_order("features", "feature_names"), Greater);
        assert_eq!(recipe_order("a:b", "a"), Greater, "\"a:b:\" sorts after \"a:\"");
        assert_eq!(recipe_order("a", "a:b"), Less);
    }

    #[test]
    fn fields_in_any_order_hash_like_fields_in_recipe_order() {
        let shuffled: Vec<(&str, HashValue)> =
            vec![("x", 1i64.into()), ("b", "text".into()), ("x1", 2.5.into()), ("a", HashValue::Null)];
        let mut sorted = shuffled.clone();
        sorted.sort_by(|left, right| recipe_order(left.0, right.0));
        assert_eq!(sorted.iter().map(|(name, _)| *name).collect::<Vec<_>>(), ["a", "b", "x1", "x"]);
        let expected: String = Sha256::digest(b"a:NULL|b:text|x1:2.5|x:1")[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(data_hash(&shuffled), expected);
        assert_eq!(data_hash(&sorted), expected);
        assert_eq!(hash_text_in_recipe_order(&sorted).finish(), expected);
    }

    /// Every row counts, not one representative row's hash (reference-framework.md §14 item 17):
    /// a change in the second row changes the digest.
    #[test]
    fn input_digest_ignores_row_order_but_not_content() {
        let add = |digest: &mut InputDigest, row: &[Value]| {
            digest.add_cells(row.iter().map(Value::cell), &mut Vec::new())
        };
        let first = [Value::String("a".into()), Value::Int(1)];
        let second = [Value::String("b".into()), Value::Float(2.5)];
        let mut forward = InputDigest::default();
        add(&mut forward, &first);
        add(&mut forward, &second);
        let mut backward = InputDigest::default();
        add(&mut backward, &second);
        add(&mut backward, &first);
        assert_eq!(forward, backward);
        assert_eq!(forward.rows(), 2);

        let mut changed = InputDigest::default();
        add(&mut changed, &first);
        add(&mut changed, &[Value::String("b".into()), Value::Float(2.6)]);
        assert_ne!(forward, changed);

        let mut duplicated = forward;
        add(&mut duplicated, &first);
        assert_ne!(forward, duplicated, "a duplicated upstream row changes the digest");
    }
}
