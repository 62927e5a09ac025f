//! Rows into a table through DuckDB's appender: the cells are written column by column straight
//! into the vectors of DuckDB data chunks, in the table's exact types (the appender does not
//! cast), and each chunk is handed over whole.
//!
//! Per-cell appends (`duckdb_append_int64` and the like) cost about a microsecond each, which made
//! a season's output (millions of cells) take seconds to write. Filling the vectors directly also
//! skips the Arrow record batch the `duckdb` crate's appender takes, which DuckDB then copied into
//! its own vectors: MLFS's busiest date (421 rows of 50 columns) built that batch in ~1 ms and
//! converted it in ~1 ms more, on the save's one core.

use std::ptr;

use chrono::Datelike as _;

use super::chunks::{Chunk, Connection, DAYS_FROM_CE_TO_UNIX_EPOCH, LogicalType, borrowed_message, c_string};
use crate::schema::{Column, ColumnType};
use crate::value::Value;
use libduckdb_sys as ffi;

/// Appends the `columns` (with their index in each row) of `rows` to `catalog.schema.table`
/// (`catalog` `None`: the database's own), inside whatever transaction is open on `connection`.
///
/// Non-finite floats become NULL (no backend stores NaN or infinity), and so do empty arrays:
/// BigQuery cannot tell an empty array from a NULL one (the BigQuery backend reads both as
/// NULL), so storing them as NULL here keeps the two backends' rows identical. A NUMERIC cell is
/// rounded to its scale as DuckDB casts a DOUBLE: the value times 10^scale, half away from zero.
///
/// # Errors
/// A cell's kind does not fit its column, or a number exceeds its NUMERIC precision (the message
/// names the column); DuckDB refuses the table or the rows.
pub(super) fn append(
    connection: &Connection,
    (catalog, schema, table): (Option<&str>, &str, &str),
    columns: &[(usize, &Column)],
    rows: &[Vec<Value>],
) -> Result<(), String> {
    let layouts: Vec<Layout> = columns.iter().map(|(_, column)| Layout::of(column.column_type)).collect();
    let mut types: Vec<ffi::duckdb_logical_type> =
        layouts.iter().map(|layout| layout.logical_type.0).collect();
    let appender = Appender::create(connection, catalog, schema, table)?;
    // SAFETY: a constant of the library.
    let chunk_rows = unsafe { ffi::duckdb_vector_size() } as usize;
    for slice in rows.chunks(chunk_rows) {
        // SAFETY: `types` holds one valid logical type per column, alive through the call (the
        // chunk copies them).
        let chunk = Chunk(unsafe { ffi::duckdb_create_data_chunk(types.as_mut_ptr(), types.len() as u64) });
        for (position, (&(index, column), layout)) in columns.iter().zip(&layouts).enumerate() {
            let vector = chunk.vector(position);
            let cells = slice.iter().map(|row| &row[index]);
            // SAFETY: the chunk has a vector per column, of the layout's type, with room for
            // `chunk_rows` cells; `slice` holds at most `chunk_rows` rows.
            unsafe { write_column(vector, &layout.storage, cells) }.map_err(|cell| {
                format!("column {} ({:?}) cannot hold {cell:?}", column.name, column.column_type)
            })?;
        }
        // SAFETY: every vector holds `slice.len()` cells, within the chunk's capacity.
        unsafe { ffi::duckdb_data_chunk_set_size(chunk.0, slice.len() as u64) };
        // SAFETY: the chunk is complete; DuckDB refuses it unless its types are the table's.
        if unsafe { ffi::duckdb_append_data_chunk(appender.0, chunk.0) } != ffi::DuckDBSuccess {
            return Err(appender.error());
        }
    }
    appender.close()
}

/// A column's DuckDB type and how its cells are stored in a vector.
struct Layout {
    logical_type: LogicalType,
    storage: Storage,
}

enum Storage {
    Text,
    Int,
    Float,
    /// The scaled integer's width in bytes, 10^scale, and 10^precision (its bound).
    Decimal {
        width: usize,
        multiplier: f64,
        limit: i128,
    },
    Flag,
    Date,
    Timestamp,
    Floats,
    Texts,
}

impl Layout {
    fn of(column_type: ColumnType) -> Layout {
        let plain = |type_id| LogicalType(unsafe { ffi::duckdb_create_logical_type(type_id) });
        let list_of = |type_id| {
            let items = plain(type_id);
            // SAFETY: the item type is valid; the list type copies it.
            LogicalType(unsafe { ffi::duckdb_create_list_type(items.0) })
        };
        let (logical_type, storage) = match column_type {
            ColumnType::String | ColumnType::Json => {
                (plain(ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR), Storage::Text)
            }
            ColumnType::Int64 => (plain(ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT), Storage::Int),
            ColumnType::Float64 => (plain(ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE), Storage::Float),
            ColumnType::Numeric { precision, scale } => {
                // SAFETY: the schema's precisions and scales are valid DECIMAL ones (at most 38).
                let logical_type = LogicalType(unsafe { ffi::duckdb_create_decimal_type(precision, scale) });
                let storage = Storage::Decimal {
                    width: logical_type.decimal_width(),
                    multiplier: 10f64.powi(i32::from(scale)),
                    limit: 10i128.pow(u32::from(precision)),
                };
                (logical_type, storage)
            }
            ColumnType::Bool => (plain(ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN), Storage::Flag),
            ColumnType::Date => (plain(ffi::DUCKDB_TYPE_DUCKDB_TYPE_DATE), Storage::Date),
            ColumnType::Timestamp => (plain(ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP), Storage::Timestamp),
            ColumnType::Float64Array => (list_of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE), Storage::Floats),
            ColumnType::StringArray => (list_of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR), Storage::Texts),
        };
        Layout { logical_type, storage }
    }
}

/// Writes `cells` into the first cells of `vector`, one type dispatch per column and chunk;
/// on a cell that does not fit, returns it.
///
/// # Safety
/// `vector` is a flat vector of a fresh data chunk, of the type `storage` describes, with room
/// for every cell of `cells`.
unsafe fn write_column<'a>(
    vector: ffi::duckdb_vector,
    storage: &Storage,
    cells: impl Iterator<Item = &'a Value> + Clone,
) -> Result<(), &'a Value> {
    if matches!(storage, Storage::Texts | Storage::Floats) {
        return unsafe { write_lists(vector, storage, cells) };
    }
    // SAFETY (all writes below): the data has room for a cell of the storage's width at every
    // row written.
    let data = unsafe { ffi::duckdb_vector_get_data(vector) };
    let mut validity: *mut u64 = ptr::null_mut();
    let mut set_null = |row: usize| unsafe { set_invalid(vector, &mut validity, row) };
    /// # Safety
    /// `data` has room for more than `row` cells of `T`.
    unsafe fn put<T>(data: *mut std::ffi::c_void, row: usize, value: T) {
        unsafe { data.cast::<T>().add(row).write(value) }
    }
    for (row, cell) in cells.enumerate() {
        match (storage, cell) {
            (_, Value::Null) => set_null(row),
            (Storage::Text, Value::String(text)) => unsafe {
                ffi::duckdb_vector_assign_string_element_len(
                    vector,
                    row as u64,
                    text.as_ptr().cast(),
                    text.len() as u64,
                )
            },
            (Storage::Int, Value::Int(number)) => unsafe { put(data, row, *number) },
            (Storage::Float, Value::Float(number)) if !number.is_finite() => set_null(row),
            (Storage::Float, Value::Float(number)) => unsafe { put(data, row, *number) },
            (Storage::Float, Value::Int(number)) => unsafe { put(data, row, *number as f64) },
            (Storage::Decimal { .. }, Value::Float(number)) if !number.is_finite() => set_null(row),
            (Storage::Decimal { width, multiplier, limit }, Value::Float(number)) => {
                let scaled = (number * multiplier).round();
                if scaled.abs() >= *limit as f64 {
                    return Err(cell);
                }
                unsafe { put_decimal(data, row, *width, scaled as i128) }
            }
            (Storage::Decimal { width, multiplier, limit }, Value::Int(number)) => {
                let scaled = i128::from(*number) * (*multiplier as i128);
                if scaled.abs() >= *limit {
                    return Err(cell);
                }
                unsafe { put_decimal(data, row, *width, scaled) }
            }
            (Storage::Flag, Value::Bool(flag)) => unsafe { put(data, row, *flag) },
            (Storage::Date, Value::Date(date)) => unsafe {
                put(data, row, date.num_days_from_ce() - DAYS_FROM_CE_TO_UNIX_EPOCH)
            },
            (Storage::Timestamp, Value::Timestamp(timestamp)) => unsafe {
                put(data, row, timestamp.timestamp_micros())
            },
            _ => return Err(cell),
        }
    }
    Ok(())
}

/// A decimal's scaled integer, within its precision, at the width DuckDB stores it in.
///
/// # Safety
/// `data` has room for more than `row` cells of `width` bytes.
unsafe fn put_decimal(data: *mut std::ffi::c_void, row: usize, width: usize, scaled: i128) {
    // The casts keep the value: its precision fits the width (`Layout::of`).
    unsafe {
        match width {
            2 => data.cast::<i16>().add(row).write(scaled as i16),
            4 => data.cast::<i32>().add(row).write(scaled as i32),
            8 => data.cast::<i64>().add(row).write(scaled as i64),
            _ => data
                .cast::<ffi::duckdb_hugeint>()
                .add(row)
                .write(ffi::duckdb_hugeint { lower: scaled as u64, upper: (scaled >> 64) as i64 }),
        }
    }
}

/// Writes array cells into a list `vector`: every item into its child vector, then each row's
/// offset and length. An empty array is NULL (see [`append`]), as is a non-finite float item.
///
/// # Safety
/// As [`write_column`], `storage` being [`Storage::Floats`] or [`Storage::Texts`].
unsafe fn write_lists<'a>(
    vector: ffi::duckdb_vector,
    storage: &Storage,
    cells: impl Iterator<Item = &'a Value> + Clone,
) -> Result<(), &'a Value> {
    // Two passes over the cells: the items are counted first, so the child grows once.
    let mut items = 0usize;
    for cell in cells.clone() {
        items += match (storage, cell) {
            (Storage::Floats, Value::FloatArray(numbers)) => numbers.len(),
            (Storage::Texts, Value::StringArray(texts)) => texts.len(),
            (_, Value::Null) => 0,
            _ => return Err(cell),
        };
    }
    // SAFETY: a list vector; its child grows to hold `items` cells before any is written.
    // Reserving fails only for a NULL vector.
    let child = unsafe {
        let reserved = ffi::duckdb_list_vector_reserve(vector, items as u64);
        assert_eq!(reserved, ffi::DuckDBSuccess, "a list vector's child reserves room");
        ffi::duckdb_list_vector_set_size(vector, items as u64);
        ffi::duckdb_list_vector_get_child(vector)
    };
    // SAFETY (all writes below): the entries have room for every row, the child for `items`.
    let (entries, child_data) = unsafe {
        (
            ffi::duckdb_vector_get_data(vector).cast::<ffi::duckdb_list_entry>(),
            ffi::duckdb_vector_get_data(child),
        )
    };
    let mut validity: *mut u64 = ptr::null_mut();
    let mut child_validity: *mut u64 = ptr::null_mut();
    let mut offset = 0usize;
    for (row, cell) in cells.enumerate() {
        let length = match cell {
            Value::FloatArray(numbers) => {
                for (item, number) in numbers.iter().enumerate() {
                    let at = offset + item;
                    if number.is_finite() {
                        unsafe { child_data.cast::<f64>().add(at).write(*number) }
                    } else {
                        unsafe { set_invalid(child, &mut child_validity, at) }
                    }
                }
                numbers.len()
            }
            Value::StringArray(texts) => {
                for (item, text) in texts.iter().enumerate() {
                    unsafe {
                        ffi::duckdb_vector_assign_string_element_len(
                            child,
                            (offset + item) as u64,
                            text.as_ptr().cast(),
                            text.len() as u64,
                        )
                    }
                }
                texts.len()
            }
            _ => 0,
        };
        if length == 0 {
            unsafe { set_invalid(vector, &mut validity, row) }
        }
        unsafe {
            entries.add(row).write(ffi::duckdb_list_entry { offset: offset as u64, length: length as u64 })
        }
        offset += length;
    }
    Ok(())
}

/// Marks `row` of `vector` NULL, making its validity mask writable (into `validity`) on first use.
///
/// # Safety
/// `vector` is valid with more than `row` cells; `validity` is NULL or its writable mask.
unsafe fn set_invalid(vector: ffi::duckdb_vector, validity: &mut *mut u64, row: usize) {
    unsafe {
        if validity.is_null() {
            ffi::duckdb_vector_ensure_validity_writable(vector);
            *validity = ffi::duckdb_vector_get_validity(vector);
        }
        ffi::duckdb_validity_set_row_invalid(*validity, row as u64);
    }
}

/// A DuckDB appender to one table. [`Appender::close`] hands its rows to the table; dropping it
/// discards what it still holds, so a write that fails half-way appends nothing. (DuckDB also
/// flushes by itself every 204,800 rows; the rollback of the write's transaction undoes those.)
struct Appender(ffi::duckdb_appender);

impl Appender {
    fn create(
        connection: &Connection,
        catalog: Option<&str>,
        schema: &str,
        table: &str,
    ) -> Result<Appender, String> {
        let catalog = catalog.map(c_string).transpose()?;
        let (schema, table) = (c_string(schema)?, c_string(table)?);
        let mut appender = Appender(ptr::null_mut());
        // SAFETY: the names live through the call; the appender is destroyed on drop, made or
        // not (DuckDB asks for both).
        let state = unsafe {
            ffi::duckdb_appender_create_ext(
                connection.0,
                catalog.as_ref().map_or(ptr::null(), |catalog| catalog.as_ptr()),
                schema.as_ptr(),
                table.as_ptr(),
                &mut appender.0,
            )
        };
        if state != ffi::DuckDBSuccess {
            return Err(appender.error());
        }
        Ok(appender)
    }

    /// Flushes the appended rows into the table (DuckDB checks them here: NOT NULL among
    /// others) and closes the appender.
    fn close(self) -> Result<(), String> {
        // SAFETY: the appender is valid.
        if unsafe { ffi::duckdb_appender_close(self.0) } != ffi::DuckDBSuccess {
            return Err(self.error());
        }
        Ok(())
    }

    fn error(&self) -> String {
        // SAFETY: the error data is the appender's latest error, destroyed after its message is
        // copied.
        unsafe {
            let mut error = ffi::duckdb_appender_error_data(self.0);
            let message = borrowed_message(ffi::duckdb_error_data_message(error));
            ffi::duckdb_destroy_error_data(&mut error);
            message
                .filter(|message| !message.is_empty())
                .unwrap_or_else(|| "DuckDB's appender failed".to_owned())
        }
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        // DuckDB's destroy flushes whatever the appender still holds, so that is cleared first
        // (nothing, after a close).
        // SAFETY: created by `Appender::create`, cleared and destroyed only here.
        unsafe {
            ffi::duckdb_appender_clear(self.0);
            ffi::duckdb_appender_destroy(&mut self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::*;
    use crate::schema::{Dataset, Table};
    use crate::warehouse::duckdb::chunks::Database;
    use crate::warehouse::duckdb::column_sql_type;

    /// A column of every type, decimals at each of DuckDB's four widths.
    static CELLS: Table = Table {
        dataset: Dataset::Processing,
        name: "cells",
        partition: None,
        key: &[],
        columns: &[
            Column::new("id", ColumnType::Int64, false),
            Column::new("text", ColumnType::String, false),
            Column::new("number", ColumnType::Float64, false),
            Column::new("dec16", ColumnType::Numeric { precision: 4, scale: 1 }, false),
            Column::new("dec32", ColumnType::Numeric { precision: 9, scale: 3 }, false),
            Column::new("dec64", ColumnType::Numeric { precision: 18, scale: 2 }, false),
            Column::new("dec128", ColumnType::Numeric { precision: 38, scale: 2 }, false),
            Column::new("flag", ColumnType::Bool, false),
            Column::new("day", ColumnType::Date, false),
            Column::new("stamp", ColumnType::Timestamp, false),
            Column::new("floats", ColumnType::Float64Array, false),
            Column::new("texts", ColumnType::StringArray, false),
        ],
    };

    fn connection_with_table() -> (Database, Connection) {
        let database = Database::open(":memory:", &[("threads", "1")]).unwrap();
        let connection = Connection::connect(&database).unwrap();
        let columns: Vec<String> = CELLS
            .columns
            .iter()
            .map(|column| format!("{} {}", column.name, column_sql_type(column.column_type)))
            .collect();
        connection.execute(&format!("CREATE TABLE cells ({})", columns.join(", "))).unwrap();
        (database, connection)
    }

    fn all_columns() -> Vec<(usize, &'static Column)> {
        CELLS.columns.iter().enumerate().collect()
    }

    /// Row `id` as written and as it reads back: NULLs, a NaN, empty arrays, texts inline (up to
    /// 12 bytes) and not, dates and timestamps that change from row to row.
    fn row(id: i64) -> (Vec<Value>, Vec<Value>) {
        let text = match id % 3 {
            0 => Value::String(format!("twelve{id:06}")),
            1 => Value::String(format!("thirteen{id:05}")),
            _ => Value::Null,
        };
        let number = if id % 5 == 0 { Value::Float(f64::NAN) } else { Value::Float(id as f64 / 4.0) };
        let day = NaiveDate::from_ymd_opt(2024, 10, 22).unwrap() + chrono::Days::new(id as u64 % 200);
        let stamp = DateTime::<Utc>::from_timestamp_micros(1_736_942_400_000_000 + id * 1_000_003).unwrap();
        let floats = match id % 4 {
            0 => vec![],
            _ => (0..id % 4).map(|item| id as f64 + item as f64 / 2.0).collect(),
        };
        // Scaled by 100, up to ±2^67: both words of the 128-bit integer, negative ones too.
        let beyond_64_bits = (id - 1000) as f64 * 2f64.powi(60);
        let texts: Vec<String> = (0..id % 3).map(|item| format!("name {item} of row {id}")).collect();
        let written = vec![
            Value::Int(id),
            text.clone(),
            number.clone(),
            Value::Float((id % 999) as f64 / 2.0),
            Value::Float(id as f64 / 8.0 - 100.0),
            Value::Int(id * 1_000_000_000),
            Value::Float(beyond_64_bits),
            if id % 7 == 0 { Value::Null } else { Value::Bool(id % 2 == 0) },
            Value::Date(day),
            Value::Timestamp(stamp),
            Value::FloatArray(floats.clone()),
            Value::StringArray(texts.clone()),
        ];
        let read_back = vec![
            Value::Int(id),
            text,
            if id % 5 == 0 { Value::Null } else { number },
            // NUMERIC(4,1): x.5 rounds to itself.
            Value::Float((id % 999) as f64 / 2.0),
            Value::Float(id as f64 / 8.0 - 100.0),
            Value::Float(id as f64 * 1e9),
            Value::Float(beyond_64_bits),
            written[7].clone(),
            Value::Date(day),
            Value::Timestamp(stamp),
            if floats.is_empty() { Value::Null } else { Value::FloatArray(floats) },
            if texts.is_empty() { Value::Null } else { Value::StringArray(texts) },
        ];
        (written, read_back)
    }

    #[test]
    fn rows_of_several_chunks_read_back_cell_for_cell() {
        let (_database, connection) = connection_with_table();
        // SAFETY: a constant of the library.
        let chunk_rows = unsafe { ffi::duckdb_vector_size() } as i64;
        let (written, expected): (Vec<_>, Vec<_>) = (0..2 * chunk_rows + 5).map(row).unzip();
        append(&connection, (None, "main", "cells"), &all_columns(), &written).unwrap();
        let stored = connection.query("SELECT * FROM cells ORDER BY id").unwrap().into_result_set();
        assert_eq!(stored.rows.len(), expected.len());
        for (stored, expected) in stored.rows.iter().zip(&expected) {
            assert_eq!(stored, expected);
        }
    }

    #[test]
    fn a_non_finite_float_in_an_array_is_a_null_item() {
        let (_database, connection) = connection_with_table();
        let mut cells = row(1).0;
        cells[10] = Value::FloatArray(vec![1.5, f64::INFINITY, f64::NAN]);
        append(&connection, (None, "main", "cells"), &all_columns(), &[cells]).unwrap();
        let stored = connection.query("SELECT floats::VARCHAR FROM cells").unwrap().into_result_set();
        assert_eq!(stored.rows, vec![vec![Value::String("[1.5, NULL, NULL]".into())]]);
    }

    #[test]
    fn an_array_of_the_other_kind_names_its_column_and_nothing_is_appended() {
        let (_database, connection) = connection_with_table();
        // The bad cell is in the second chunk: the first was handed to the appender already.
        // SAFETY: a constant of the library.
        let chunk_rows = unsafe { ffi::duckdb_vector_size() } as i64;
        let mut rows: Vec<Vec<Value>> = (0..=chunk_rows).map(|id| row(id).0).collect();
        rows[chunk_rows as usize][11] = Value::FloatArray(vec![1.0]);
        let error = append(&connection, (None, "main", "cells"), &all_columns(), &rows).unwrap_err();
        assert_eq!(error, "column texts (StringArray) cannot hold FloatArray([1.0])");
        let stored = connection.query("SELECT count(*) FROM cells").unwrap().into_result_set();
        assert_eq!(stored.rows, vec![vec![Value::Int(0)]]);
    }

    #[test]
    fn a_missing_table_or_a_refused_row_gives_duckdbs_message() {
        let (_database, connection) = connection_with_table();
        let missing =
            append(&connection, (None, "main", "no_such_table"), &all_columns(), &[row(1).0]).unwrap_err();
        assert!(missing.contains("no_such_table"), "{missing}");
        connection.execute("CREATE TABLE keyed (id BIGINT NOT NULL)").unwrap();
        let id = [(0, &CELLS.columns[0])];
        let refused = append(&connection, (None, "main", "keyed"), &id, &[vec![Value::Null]]).unwrap_err();
        assert!(refused.contains("NOT NULL"), "{refused}");
    }
}
