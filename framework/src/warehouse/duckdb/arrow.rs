//! The Arrow boundary of the embedded warehouse: rows to write encode into one Arrow record
//! batch for DuckDB's appender, and the writer's own reads inside its transaction (a keyed
//! upsert's `RETURNING`, the key check) decode into typed columns ([`Cells`]). Those go through
//! the `duckdb` crate's connection, the one its appender needs; every other read takes the
//! C API path of [`super::chunks`].
//!
//! Both directions work a column at a time: one type dispatch per column and batch instead of
//! one per cell. Per-cell appends cost about a microsecond each through the C API, which made a
//! season's output (millions of cells) take seconds to write; a record batch is copied into
//! DuckDB's vectors in bulk.

use std::sync::Arc;

use chrono::Datelike as _;
use duckdb::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float64Builder, Int64Builder, ListBuilder, PrimitiveArray, StringBuilder, TimestampMicrosecondBuilder,
};
use duckdb::arrow::buffer::NullBuffer;
use duckdb::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type,
};
use duckdb::arrow::record_batch::RecordBatch;

use super::chunks::{DAYS_FROM_CE_TO_UNIX_EPOCH, date_from_days, list_value, timestamp_from};
use crate::columns::{Cells, Texts};
use crate::schema::{Column, ColumnType};
use crate::value::Value;

/// The `columns` (with their index in each row) of `rows` as one record batch in the columns'
/// exact DuckDB types, column by column, ready for the appender (which does not cast).
///
/// Non-finite floats become NULL (no backend stores NaN or infinity), and so do empty arrays:
/// BigQuery cannot tell an empty array from a NULL one (the BigQuery backend reads both as
/// NULL), so storing them as NULL here keeps the two backends' rows identical. A NUMERIC cell is
/// rounded to its scale as DuckDB casts a DOUBLE: the value times 10^scale, half away from zero.
///
/// # Errors
/// A cell's kind does not fit its column, or a number exceeds its NUMERIC precision; the message
/// names the column.
pub(super) fn record_batch(columns: &[(usize, &Column)], rows: &[Vec<Value>]) -> Result<RecordBatch, String> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for &(index, column) in columns {
        let array = encode_column(column, rows.iter().map(|row| &row[index]))?;
        fields.push(Field::new(column.name, array.data_type().clone(), true));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|error| error.to_string())
}

/// One column's cells as an Arrow array of its DuckDB type.
fn encode_column<'a>(
    column: &Column,
    cells: impl ExactSizeIterator<Item = &'a Value>,
) -> Result<ArrayRef, String> {
    let mut builder = ColumnBuilder::new(column.column_type, cells.len());
    for cell in cells {
        if !builder.append(cell) {
            return Err(format!("column {} ({:?}) cannot hold {cell:?}", column.name, column.column_type));
        }
    }
    Ok(builder.finish())
}

/// An Arrow builder per column type.
enum ColumnBuilder {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    /// With 10^scale and 10^precision, the bounds of the scaled integer.
    Decimal(Decimal128Builder, f64, i128),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Floats(ListBuilder<Float64Builder>),
    Texts(ListBuilder<StringBuilder>),
}

impl ColumnBuilder {
    fn new(column_type: ColumnType, rows: usize) -> Self {
        match column_type {
            ColumnType::String | ColumnType::Json => {
                ColumnBuilder::Text(StringBuilder::with_capacity(rows, rows * 16))
            }
            ColumnType::Int64 => ColumnBuilder::Int(Int64Builder::with_capacity(rows)),
            ColumnType::Float64 => ColumnBuilder::Float(Float64Builder::with_capacity(rows)),
            ColumnType::Numeric { precision, scale } => ColumnBuilder::Decimal(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(precision, scale as i8)
                    .expect("NUMERIC precisions of the schema are within Arrow's 38 digits"),
                10f64.powi(i32::from(scale)),
                10i128.pow(u32::from(precision)),
            ),
            ColumnType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            ColumnType::Date => ColumnBuilder::Date(Date32Builder::with_capacity(rows)),
            ColumnType::Timestamp => {
                ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::with_capacity(rows))
            }
            ColumnType::Float64Array => {
                ColumnBuilder::Floats(ListBuilder::with_capacity(Float64Builder::new(), rows))
            }
            ColumnType::StringArray => {
                ColumnBuilder::Texts(ListBuilder::with_capacity(StringBuilder::new(), rows))
            }
        }
    }

    /// Appends one cell; `false` when its kind does not fit the column.
    fn append(&mut self, cell: &Value) -> bool {
        match (self, cell) {
            (ColumnBuilder::Text(builder), Value::String(text)) => builder.append_value(text),
            (ColumnBuilder::Int(builder), Value::Int(number)) => builder.append_value(*number),
            (ColumnBuilder::Float(builder), Value::Float(number)) => {
                builder.append_option(number.is_finite().then_some(*number))
            }
            (ColumnBuilder::Float(builder), Value::Int(number)) => builder.append_value(*number as f64),
            (ColumnBuilder::Decimal(builder, _, _), Value::Float(number)) if !number.is_finite() => {
                builder.append_null()
            }
            (ColumnBuilder::Decimal(builder, multiplier, limit), Value::Float(number)) => {
                let scaled = (number * *multiplier).round();
                if scaled.abs() >= *limit as f64 {
                    return false;
                }
                builder.append_value(scaled as i128);
            }
            (ColumnBuilder::Decimal(builder, multiplier, limit), Value::Int(number)) => {
                let scaled = i128::from(*number) * (*multiplier as i128);
                if scaled.abs() >= *limit {
                    return false;
                }
                builder.append_value(scaled);
            }
            (ColumnBuilder::Bool(builder), Value::Bool(flag)) => builder.append_value(*flag),
            (ColumnBuilder::Date(builder), Value::Date(date)) => {
                builder.append_value(date.num_days_from_ce() - DAYS_FROM_CE_TO_UNIX_EPOCH)
            }
            (ColumnBuilder::Timestamp(builder), Value::Timestamp(timestamp)) => {
                builder.append_value(timestamp.timestamp_micros())
            }
            (ColumnBuilder::Floats(builder), Value::FloatArray(numbers)) if !numbers.is_empty() => {
                for number in numbers {
                    builder.values().append_option(number.is_finite().then_some(*number));
                }
                builder.append(true);
            }
            (ColumnBuilder::Texts(builder), Value::StringArray(texts)) if !texts.is_empty() => {
                for text in texts {
                    builder.values().append_value(text);
                }
                builder.append(true);
            }
            (ColumnBuilder::Floats(builder), Value::FloatArray(_)) => builder.append_null(),
            (ColumnBuilder::Texts(builder), Value::StringArray(_)) => builder.append_null(),
            (builder, Value::Null) => builder.append_null(),
            _ => return false,
        }
        true
    }

    fn append_null(&mut self) {
        match self {
            ColumnBuilder::Text(builder) => builder.append_null(),
            ColumnBuilder::Int(builder) => builder.append_null(),
            ColumnBuilder::Float(builder) => builder.append_null(),
            ColumnBuilder::Decimal(builder, _, _) => builder.append_null(),
            ColumnBuilder::Bool(builder) => builder.append_null(),
            ColumnBuilder::Date(builder) => builder.append_null(),
            ColumnBuilder::Timestamp(builder) => builder.append_null(),
            ColumnBuilder::Floats(builder) => builder.append_null(),
            ColumnBuilder::Texts(builder) => builder.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Int(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Float(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Decimal(mut builder, _, _) => Arc::new(builder.finish()),
            ColumnBuilder::Bool(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Date(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Timestamp(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Floats(mut builder) => Arc::new(builder.finish()),
            ColumnBuilder::Texts(mut builder) => Arc::new(builder.finish()),
        }
    }
}

/// An empty column of the kind DuckDB returns as `data_type`, with room for `rows` cells.
///
/// # Errors
/// A type no table of ours holds.
pub(super) fn empty_cells(data_type: &DataType, rows: usize) -> Result<Cells, String> {
    Ok(match data_type {
        DataType::Boolean => Cells::Flags(Vec::with_capacity(rows)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => Cells::Ints(Vec::with_capacity(rows)),
        DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => {
            Cells::Floats(Vec::with_capacity(rows))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Cells::Texts(Texts::with_capacity(rows, rows * 16))
        }
        DataType::Date32 => Cells::Dates(Vec::with_capacity(rows)),
        DataType::Timestamp(..) => Cells::Timestamps(Vec::with_capacity(rows)),
        DataType::Null | DataType::List(_) => Cells::Values(Vec::with_capacity(rows)),
        other => return Err(format!("unsupported DuckDB result type {other}")),
    })
}

/// Appends the cells of `array` to `column`, made by [`empty_cells`] for the array's type: one
/// type dispatch per column and batch instead of one per cell.
///
/// # Errors
/// A date or timestamp out of chrono's range, or an array of another type than the column's.
pub(super) fn decode_column(array: &ArrayRef, column: &mut Cells) -> Result<(), String> {
    let nulls = Nulls::of(array);
    let rows = 0..array.len();
    match (array.data_type(), column) {
        (DataType::Boolean, Cells::Flags(flags)) => {
            let values = array.as_boolean();
            flags.extend(rows.map(|index| (!nulls.at(index)).then(|| values.value(index))));
        }
        (DataType::Int8, Cells::Ints(numbers)) => {
            extend_integers(numbers, array.as_primitive::<Int8Type>(), &nulls)
        }
        (DataType::Int16, Cells::Ints(numbers)) => {
            extend_integers(numbers, array.as_primitive::<Int16Type>(), &nulls)
        }
        (DataType::Int32, Cells::Ints(numbers)) => {
            extend_integers(numbers, array.as_primitive::<Int32Type>(), &nulls)
        }
        (DataType::Int64, Cells::Ints(numbers)) => {
            extend_integers(numbers, array.as_primitive::<Int64Type>(), &nulls)
        }
        (DataType::UInt8, Cells::Ints(numbers)) => {
            extend_integers(numbers, array.as_primitive::<UInt8Type>(), &nulls)
        }
        (DataType::UInt16, Cells::Ints(numbers)) => {
            extend_integers(numbers, array.as_primitive::<UInt16Type>(), &nulls)
        }
        (DataType::UInt32, Cells::Ints(numbers)) => {
            extend_integers(numbers, array.as_primitive::<UInt32Type>(), &nulls)
        }
        (DataType::Float32, Cells::Floats(numbers)) => {
            let values = array.as_primitive::<Float32Type>();
            numbers.extend(rows.map(|index| (!nulls.at(index)).then(|| values.value(index).into())));
        }
        (DataType::Float64, Cells::Floats(numbers)) => {
            let values = array.as_primitive::<Float64Type>();
            numbers.extend(rows.map(|index| (!nulls.at(index)).then(|| values.value(index))));
        }
        // The scaled integer divided by an exact power of ten: IEEE division rounds correctly,
        // so the double is the nearest to the decimal.
        (DataType::Decimal128(_, scale), Cells::Floats(numbers)) => {
            let values = array.as_primitive::<Decimal128Type>();
            let divisor = 10f64.powi(i32::from(*scale));
            numbers
                .extend(rows.map(|index| (!nulls.at(index)).then(|| values.value(index) as f64 / divisor)));
        }
        (DataType::Utf8, Cells::Texts(texts)) => {
            let values = array.as_string::<i32>();
            rows.for_each(|index| texts.push((!nulls.at(index)).then(|| values.value(index))));
        }
        (DataType::LargeUtf8, Cells::Texts(texts)) => {
            let values = array.as_string::<i64>();
            rows.for_each(|index| texts.push((!nulls.at(index)).then(|| values.value(index))));
        }
        (DataType::Utf8View, Cells::Texts(texts)) => {
            let values = array.as_string_view();
            rows.for_each(|index| texts.push((!nulls.at(index)).then(|| values.value(index))));
        }
        (DataType::Date32, Cells::Dates(dates)) => {
            let values = array.as_primitive::<Date32Type>();
            for index in rows {
                dates.push(if nulls.at(index) { None } else { Some(date_from_days(values.value(index))?) });
            }
        }
        (DataType::Timestamp(unit, _), Cells::Timestamps(timestamps)) => {
            let to_micros = match unit {
                TimeUnit::Second => 1_000_000,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1,
                TimeUnit::Nanosecond => 0,
            };
            for index in rows {
                timestamps.push(if nulls.at(index) {
                    None
                } else {
                    Some(timestamp_from(timestamp_raw(array, unit, index), to_micros)?)
                });
            }
        }
        (DataType::Null, Cells::Values(values)) => values.extend(rows.map(|_| Value::Null)),
        (DataType::List(_), Cells::Values(values)) => {
            let lists = array.as_list::<i32>();
            for index in rows {
                values.push(if nulls.at(index) { Value::Null } else { decode_list(&lists.value(index))? });
            }
        }
        (data_type, _) => return Err(format!("a column's type changed to {data_type} between batches")),
    }
    Ok(())
}

fn extend_integers<T>(numbers: &mut Vec<Option<i64>>, values: &PrimitiveArray<T>, nulls: &Nulls<'_>)
where
    T: ArrowPrimitiveType,
    T::Native: Into<i64>,
{
    numbers.extend((0..values.len()).map(|index| (!nulls.at(index)).then(|| values.value(index).into())));
}

/// The validity of a column's cells, fetched once: `Array::is_null` on an `ArrayRef` is a
/// virtual call per cell, and a history read asks it for a quarter of a million cells.
struct Nulls<'a>(Option<&'a NullBuffer>);

impl<'a> Nulls<'a> {
    fn of(array: &'a ArrayRef) -> Self {
        Nulls(array.nulls())
    }

    fn at(&self, index: usize) -> bool {
        self.0.is_some_and(|nulls| nulls.is_null(index))
    }
}

fn timestamp_raw(array: &ArrayRef, unit: &TimeUnit, index: usize) -> i64 {
    match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(index),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(index),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(index),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(index),
    }
}

/// A list cell: strings become a string array, numbers a float array.
fn decode_list(items: &ArrayRef) -> Result<Value, String> {
    let mut cells = empty_cells(items.data_type(), items.len())?;
    decode_column(items, &mut cells)?;
    list_value(&cells, 0..cells.len())
}
