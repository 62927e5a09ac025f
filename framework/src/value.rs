//! The backend-neutral cell value, and the typed output rows built on it.
//!
//! Warehouse backends decode their native cells into [`Value`] and encode [`Value`]s back; the
//! processors see nothing else. Output rows are plain structs declared with
//! [`table_row!`](crate::table_row), whose fields carry the table's column names in schema order
//! (a test per row type checks it).

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use smol_str::SmolStr;

use crate::schema::Table;

/// One cell. DECIMAL/NUMERIC columns travel as `Float`; JSON columns as `String`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    FloatArray(Vec<f64>),
    StringArray(Vec<String>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        self.cell().as_str()
    }

    /// Integers; a float column holding an integral value also answers.
    pub fn as_i64(&self) -> Option<i64> {
        self.cell().as_i64()
    }

    /// Floats and integers; NaN and infinities count as missing (README §4 item 9).
    pub fn as_f64(&self) -> Option<f64> {
        self.cell().as_f64()
    }

    pub fn as_bool(&self) -> Option<bool> {
        self.cell().as_bool()
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        self.cell().as_date()
    }

    pub fn as_timestamp(&self) -> Option<DateTime<Utc>> {
        self.cell().as_timestamp()
    }

    /// The cell borrowed, as a column of a read holds it.
    #[inline]
    pub fn cell(&self) -> CellRef<'_> {
        match self {
            Value::Null => CellRef::Null,
            Value::Bool(flag) => CellRef::Bool(*flag),
            Value::Int(number) => CellRef::Int(*number),
            Value::Float(number) => CellRef::Float(*number),
            Value::String(text) => CellRef::Text(text),
            Value::Date(date) => CellRef::Date(*date),
            Value::Timestamp(timestamp) => CellRef::Timestamp(*timestamp),
            Value::FloatArray(_) | Value::StringArray(_) => CellRef::List(self),
        }
    }

    /// A total order for sorting rows by key: NULL first, then by variant, then by value.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        fn rank(value: &Value) -> u8 {
            match value {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Int(_) => 2,
                Value::Float(_) => 3,
                Value::String(_) => 4,
                Value::Date(_) => 5,
                Value::Timestamp(_) => 6,
                Value::FloatArray(_) => 7,
                Value::StringArray(_) => 8,
            }
        }
        match (self, other) {
            (Value::Bool(left), Value::Bool(right)) => left.cmp(right),
            (Value::Int(left), Value::Int(right)) => left.cmp(right),
            (Value::Float(left), Value::Float(right)) => left.total_cmp(right),
            (Value::String(left), Value::String(right)) => left.cmp(right),
            (Value::Date(left), Value::Date(right)) => left.cmp(right),
            (Value::Timestamp(left), Value::Timestamp(right)) => left.cmp(right),
            (Value::FloatArray(left), Value::FloatArray(right)) => left
                .iter()
                .zip(right)
                .map(|(left, right)| left.total_cmp(right))
                .find(|ordering| ordering.is_ne())
                .unwrap_or_else(|| left.len().cmp(&right.len())),
            (Value::StringArray(left), Value::StringArray(right)) => left.cmp(right),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

/// A cell borrowed from a row ([`Value::cell`]) or from a column of a columnar read
/// (`crate::columns`), read with the same rules whichever holds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellRef<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    /// A `FloatArray` or `StringArray` cell.
    List(&'a Value),
}

impl<'a> CellRef<'a> {
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            CellRef::Text(text) => Some(text),
            _ => None,
        }
    }

    /// Integers; a float column holding an integral value also answers.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            CellRef::Int(number) => Some(number),
            CellRef::Float(number) if number.is_finite() && number.fract() == 0.0 => Some(number as i64),
            _ => None,
        }
    }

    /// Floats and integers; NaN and infinities count as missing (README §4 item 9).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            CellRef::Float(number) if number.is_finite() => Some(number),
            CellRef::Int(number) => Some(number as f64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            CellRef::Bool(flag) => Some(flag),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match *self {
            CellRef::Date(date) => Some(date),
            _ => None,
        }
    }

    pub fn as_timestamp(&self) -> Option<DateTime<Utc>> {
        match *self {
            CellRef::Timestamp(timestamp) => Some(timestamp),
            _ => None,
        }
    }

    /// The cell as an owned [`Value`].
    pub fn to_value(&self) -> Value {
        match *self {
            CellRef::Null => Value::Null,
            CellRef::Bool(flag) => Value::Bool(flag),
            CellRef::Int(number) => Value::Int(number),
            CellRef::Float(number) => Value::Float(number),
            CellRef::Text(text) => Value::String(text.to_owned()),
            CellRef::Date(date) => Value::Date(date),
            CellRef::Timestamp(timestamp) => Value::Timestamp(timestamp),
            CellRef::List(list) => list.clone(),
        }
    }
}

/// Conversion of a row field into a cell. Non-finite floats become NULL: NaN and infinities are
/// never written (README §4 item 9).
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToValue for SmolStr {
    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
}

impl ToValue for &str {
    fn to_value(&self) -> Value {
        Value::String((*self).to_owned())
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        if self.is_finite() { Value::Float(*self) } else { Value::Null }
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToValue for NaiveDate {
    fn to_value(&self) -> Value {
        Value::Date(*self)
    }
}

impl ToValue for DateTime<Utc> {
    fn to_value(&self) -> Value {
        Value::Timestamp(*self)
    }
}

impl ToValue for Vec<f64> {
    /// An array with a non-finite element is not written at all: a feature vector with a hole
    /// would be read as a valid vector by the models.
    fn to_value(&self) -> Value {
        if self.iter().all(|number| number.is_finite()) {
            Value::FloatArray(self.clone())
        } else {
            Value::Null
        }
    }
}

impl ToValue for Vec<String> {
    fn to_value(&self) -> Value {
        Value::StringArray(self.clone())
    }
}

/// Lists of fixed texts (quality issues, feature names) are written like owned ones; rows keep
/// them borrowed so that building a row allocates no copy of a constant.
impl ToValue for Vec<&str> {
    fn to_value(&self) -> Value {
        self.as_slice().to_value()
    }
}

impl ToValue for &[&str] {
    fn to_value(&self) -> Value {
        Value::StringArray(self.iter().map(|text| (*text).to_owned()).collect())
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// An output row of a processor: its table and its cells in the table's column order.
pub trait TableRow: Send + Sync + 'static {
    const TABLE: &'static Table;
    /// Field names in declaration order; equal to the table's columns (checked by
    /// [`assert_row_matches_table`]).
    const COLUMNS: &'static [&'static str];

    fn values(&self) -> Vec<Value>;
}

/// Test helper: the row type declares exactly the table's columns, in order.
///
/// # Panics
/// When a column is missing, extra or out of order, naming the first difference.
pub fn assert_row_matches_table<R: TableRow>() {
    let table_columns: Vec<&str> = R::TABLE.column_names().collect();
    for (position, (row_column, table_column)) in R::COLUMNS.iter().zip(&table_columns).enumerate() {
        assert_eq!(row_column, table_column, "{}: column {position} differs", R::TABLE);
    }
    assert_eq!(R::COLUMNS.len(), table_columns.len(), "{}: column count differs", R::TABLE);
}

/// Declares an output row struct whose fields are the table's columns, in schema order.
///
/// ```text
/// framework::table_row! {
///     /// One summary per player per game.
///     pub struct SummaryRow for framework::schema::analytics::PLAYER_GAME_SUMMARY {
///         player_lookup: String,
///         points: Option<i64>,
///     }
/// }
/// ```
#[macro_export]
macro_rules! table_row {
    (
        $(#[$meta:meta])*
        pub struct $name:ident for $table:path {
            $( $(#[$field_meta:meta])* $field:ident : $field_type:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $field_type, )*
        }

        impl $crate::value::TableRow for $name {
            const TABLE: &'static $crate::schema::Table = &$table;
            const COLUMNS: &'static [&'static str] = &[ $( stringify!($field) ),* ];

            fn values(&self) -> Vec<$crate::value::Value> {
                use $crate::value::ToValue as _;
                vec![ $( self.$field.to_value() ),* ]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_floats_are_written_as_null() {
        assert_eq!(f64::NAN.to_value(), Value::Null);
        assert_eq!(f64::INFINITY.to_value(), Value::Null);
        assert_eq!(Some(f64::NEG_INFINITY).to_value(), Value::Null);
        assert_eq!(vec![1.0, f64::NAN].to_value(), Value::Null);
        assert_eq!(vec![1.0, 2.5].to_value(), Value::FloatArray(vec![1.0, 2.5]));
    }

    #[test]
    fn borrowed_texts_are_written_like_owned_ones() {
        let owned = vec!["a".to_owned(), "b c".to_owned()];
        assert_eq!(vec!["a", "b c"].to_value(), owned.to_value());
        assert_eq!((&["a", "b c"][..]).to_value(), owned.to_value());
        assert_eq!(Some("x").to_value(), Some("x".to_owned()).to_value());
        // Inline (up to 23 bytes) and shared texts alike.
        assert_eq!(SmolStr::new("0123456789abcdef").to_value(), Value::String("0123456789abcdef".into()));
        let long = "a_text_longer_than_twenty_three_bytes";
        assert_eq!(Some(SmolStr::new(long)).to_value(), Value::String(long.into()));
    }

    #[test]
    fn missing_numbers_read_as_none() {
        assert_eq!(Value::Float(f64::NAN).as_f64(), None);
        assert_eq!(Value::Int(3).as_f64(), Some(3.0));
        assert_eq!(Value::Float(3.0).as_i64(), Some(3));
        assert_eq!(Value::Float(3.5).as_i64(), None);
        assert_eq!(Value::Null.as_str(), None);
    }

    #[test]
    fn keys_sort_with_nulls_first() {
        let mut values = vec![Value::String("b".into()), Value::Null, Value::String("a".into())];
        values.sort_by(Value::total_cmp);
        assert_eq!(values, vec![Value::Null, Value::String("a".into()), Value::String("b".into())]);
    }
}
