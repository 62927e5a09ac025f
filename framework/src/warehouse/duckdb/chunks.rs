//! DuckDB's C API: the database, its connections and their reads, whose streamed results' data
//! chunks are copied straight from DuckDB's vectors into typed columns ([`Cells`]). Writes fill
//! data chunks the same way (`appender.rs`).
//!
//! The `duckdb` crate, which the backend used before, hands a query's result over as Arrow record
//! batches of a materialised result: DuckDB first copies every row into its result collection,
//! then converts that to Arrow, and the batches are decoded again. Reading MLFS's busiest-date
//! history (25,516 rows, the read a date waits for) took medians of 7.2–11.1 ms that way against
//! 4.7–6.0 ms fetching the chunks of a streamed result and copying their vectors (a process's
//! later reads; its first 14–21 ms against 12–18).

use std::ffi::{CStr, CString, c_char, c_void};
use std::ops::Range;
use std::ptr;

use chrono::{DateTime, NaiveDate, Utc};
use libduckdb_sys as ffi;

use crate::columns::{Cells, ColumnSet, Texts};
use crate::value::Value;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01 (DuckDB's day 0).
pub(super) const DAYS_FROM_CE_TO_UNIX_EPOCH: i32 = 719_163;

/// A DuckDB database handle, which the writer and the readers ([`Connection`]) connect to.
/// Closed on drop; a connection still open keeps DuckDB's instance alive by itself, so the order
/// in which they and the handle go does not matter.
pub(super) struct Database(ffi::duckdb_database);

// SAFETY: DuckDB synchronises its database instance; the handle only connects and closes.
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Database {
    /// Opens `path` (`:memory:` for a private in-memory database) with DuckDB `settings`.
    ///
    /// # Errors
    /// A setting DuckDB refuses, or the file cannot be opened (DuckDB's message).
    pub(super) fn open(path: &str, settings: &[(&str, &str)]) -> Result<Database, String> {
        let config = Config::new(settings)?;
        let path = c_string(path)?;
        let mut database = ptr::null_mut();
        let mut error = ptr::null_mut();
        // SAFETY: the path and config are valid for the call; `error` is freed below.
        let state = unsafe { ffi::duckdb_open_ext(path.as_ptr(), &mut database, config.0, &mut error) };
        if state != ffi::DuckDBSuccess {
            return Err(take_message(error).unwrap_or_else(|| "DuckDB cannot open the database".to_owned()));
        }
        Ok(Database(database))
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: opened by `Database::open`, closed only here.
        unsafe { ffi::duckdb_close(&mut self.0) }
    }
}

/// A `duckdb_config` holding the settings a database opens with, destroyed after the opening.
struct Config(ffi::duckdb_config);

impl Config {
    fn new(settings: &[(&str, &str)]) -> Result<Config, String> {
        let mut config = ptr::null_mut();
        // SAFETY: `config` receives a new configuration, destroyed on drop.
        if unsafe { ffi::duckdb_create_config(&mut config) } != ffi::DuckDBSuccess {
            return Err("DuckDB cannot create a configuration".to_owned());
        }
        let config = Config(config);
        for (name, value) in settings {
            let (c_name, c_value) = (c_string(name)?, c_string(value)?);
            // SAFETY: both strings live through the call, which copies them.
            let state = unsafe { ffi::duckdb_set_config(config.0, c_name.as_ptr(), c_value.as_ptr()) };
            if state != ffi::DuckDBSuccess {
                return Err(format!("DuckDB refuses the setting {name} = {value}"));
            }
        }
        Ok(config)
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: created by `Config::new`, destroyed only here.
        unsafe { ffi::duckdb_destroy_config(&mut self.0) }
    }
}

/// A connection: one statement at a time, from whichever thread holds it.
pub(super) struct Connection(pub(super) ffi::duckdb_connection);

// SAFETY: a DuckDB connection may move between threads; it is never used by two at once (the
// pool hands each to one reader, the writer's sits behind a mutex, and every use takes it by
// reference for the whole statement).
unsafe impl Send for Connection {}

impl Connection {
    /// # Errors
    /// DuckDB cannot connect.
    pub(super) fn connect(database: &Database) -> Result<Connection, String> {
        let mut connection = ptr::null_mut();
        // SAFETY: the database is open; the connection is closed on drop.
        if unsafe { ffi::duckdb_connect(database.0, &mut connection) } != ffi::DuckDBSuccess {
            return Err("DuckDB cannot open a connection".to_owned());
        }
        Ok(Connection(connection))
    }

    /// Runs `sql`, one statement or several separated by `;`, and returns how many rows the
    /// last one changed (0 for one that changes none: DDL, `BEGIN`, `COMMIT`).
    ///
    /// # Errors
    /// DuckDB's message, when a statement fails.
    pub(super) fn execute(&self, sql: &str) -> Result<u64, String> {
        let sql = c_string(sql)?;
        // SAFETY: an all-zero `duckdb_result` is the empty state the call fills in.
        let mut result = QueryResult(unsafe { std::mem::zeroed() });
        // SAFETY: the connection is open; the result is destroyed on drop, failed or not.
        let state = unsafe { ffi::duckdb_query(self.0, sql.as_ptr(), &mut result.0) };
        if state != ffi::DuckDBSuccess {
            return Err(result.error().unwrap_or_else(|| "DuckDB cannot run the statement".to_owned()));
        }
        // SAFETY: a materialised result, as `duckdb_query` makes.
        Ok(unsafe { ffi::duckdb_rows_changed(&mut result.0) })
    }

    /// Runs `sql` (no parameters: values are written into it as literals) and copies its
    /// result chunk by chunk as DuckDB produces them.
    ///
    /// # Errors
    /// DuckDB's message, when the statement fails to prepare or to run (also in a later chunk),
    /// or a result column of a type no table of ours holds.
    pub(super) fn query(&self, sql: &str) -> Result<ColumnSet, String> {
        let statement = Statement::prepare(self, &c_string(sql)?)?;
        let mut result = statement.execute_streaming()?;
        let column_count = result.column_count();
        let kinds: Vec<Kind> =
            (0..column_count).map(|column| result.column_kind(column)).collect::<Result<_, _>>()?;
        // Every chunk is fetched before any is copied, so that each column is allocated once at
        // its final size: growing it chunk by chunk moved it again and again, and in a fresh
        // process every page it moves to faults in anew (~800 more page faults in MLFS's fresh
        // run). Holding them is safe: each fetched chunk is DuckDB's own copy of the rows (its
        // buffered collectors copy every chunk they pass on into a new one).
        let mut chunks = Vec::new();
        while let Some(chunk) = result.next_chunk() {
            chunks.push(chunk);
        }
        if let Some(message) = result.error() {
            return Err(message);
        }
        let rows = chunks.iter().map(Chunk::rows).sum();
        let mut set = ColumnSet {
            names: (0..column_count).map(|column| result.column_name(column)).collect(),
            columns: kinds.iter().map(|kind| kind.empty_cells(rows)).collect(),
            rows,
        };
        for chunk in &chunks {
            for (index, (kind, cells)) in kinds.iter().zip(&mut set.columns).enumerate() {
                // SAFETY: the vector belongs to the chunk, alive for the call, with its rows.
                unsafe { decode_vector(kind, chunk.vector(index), 0..chunk.rows(), cells)? };
            }
        }
        Ok(set)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // SAFETY: connected by `Connection::connect`, disconnected only here.
        unsafe { ffi::duckdb_disconnect(&mut self.0) }
    }
}

struct Statement(ffi::duckdb_prepared_statement);

impl Statement {
    fn prepare(connection: &Connection, sql: &CStr) -> Result<Statement, String> {
        let mut statement = Statement(ptr::null_mut());
        // SAFETY: the statement is destroyed on drop, failed or not (DuckDB asks for both).
        let state = unsafe { ffi::duckdb_prepare(connection.0, sql.as_ptr(), &mut statement.0) };
        if state != ffi::DuckDBSuccess {
            // SAFETY: the message belongs to the statement, copied before it is destroyed.
            let message = unsafe { borrowed_message(ffi::duckdb_prepare_error(statement.0)) };
            return Err(message.unwrap_or_else(|| "DuckDB cannot prepare the statement".to_owned()));
        }
        Ok(statement)
    }

    /// A result whose rows DuckDB produces chunk by chunk as they are fetched, instead of first
    /// copying them all into a result collection.
    fn execute_streaming(&self) -> Result<QueryResult, String> {
        // SAFETY: an all-zero `duckdb_result` is the empty state the call fills in.
        let mut result = QueryResult(unsafe { std::mem::zeroed() });
        // SAFETY: the statement is prepared; the result is destroyed on drop, failed or not.
        let state = unsafe { ffi::duckdb_execute_prepared_streaming(self.0, &mut result.0) };
        if state != ffi::DuckDBSuccess {
            return Err(result.error().unwrap_or_else(|| "DuckDB cannot run the statement".to_owned()));
        }
        Ok(result)
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: prepared by `Statement::prepare`, destroyed only here.
        unsafe { ffi::duckdb_destroy_prepare(&mut self.0) }
    }
}

struct QueryResult(ffi::duckdb_result);

impl QueryResult {
    fn column_count(&mut self) -> usize {
        // SAFETY: the result is valid.
        unsafe { ffi::duckdb_column_count(&mut self.0) as usize }
    }

    fn column_name(&mut self, column: usize) -> String {
        // SAFETY: the name belongs to the result, copied at once.
        unsafe { borrowed_message(ffi::duckdb_column_name(&mut self.0, column as u64)) }.unwrap_or_default()
    }

    fn column_kind(&mut self, column: usize) -> Result<Kind, String> {
        // SAFETY: the result is valid and `column` one of its columns.
        let logical_type =
            LogicalType(unsafe { ffi::duckdb_column_logical_type(&mut self.0, column as u64) });
        Kind::of(&logical_type)
    }

    /// The next chunk, `None` at the end or on an error ([`QueryResult::error`] tells them
    /// apart).
    fn next_chunk(&mut self) -> Option<Chunk> {
        // SAFETY: the result is a streamed one; the chunk is destroyed on drop.
        let chunk = Chunk(unsafe { ffi::duckdb_fetch_chunk(self.0) });
        (!chunk.0.is_null() && chunk.rows() > 0).then_some(chunk)
    }

    fn error(&mut self) -> Option<String> {
        // SAFETY: the message belongs to the result, copied at once.
        unsafe { borrowed_message(ffi::duckdb_result_error(&mut self.0)) }
    }
}

impl Drop for QueryResult {
    fn drop(&mut self) {
        // SAFETY: filled by `duckdb_execute_prepared_streaming` or `duckdb_query`, destroyed
        // only here.
        unsafe { ffi::duckdb_destroy_result(&mut self.0) }
    }
}

/// A data chunk: one fetched from a result, or one made for the appender. Destroyed on drop.
pub(super) struct Chunk(pub(super) ffi::duckdb_data_chunk);

impl Chunk {
    fn rows(&self) -> usize {
        // SAFETY: the chunk is valid.
        unsafe { ffi::duckdb_data_chunk_get_size(self.0) as usize }
    }

    pub(super) fn vector(&self, column: usize) -> ffi::duckdb_vector {
        // SAFETY: the chunk is valid and `column` one of its columns.
        unsafe { ffi::duckdb_data_chunk_get_vector(self.0, column as u64) }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: fetched by `QueryResult::next_chunk` or created by the appender, destroyed
            // only here.
            unsafe { ffi::duckdb_destroy_data_chunk(&mut self.0) }
        }
    }
}

pub(super) struct LogicalType(pub(super) ffi::duckdb_logical_type);

impl LogicalType {
    /// The bytes a DECIMAL type's scaled integer takes in a vector: 2, 4, 8 or 16, by precision.
    pub(super) fn decimal_width(&self) -> usize {
        // SAFETY: the type is valid (and a DECIMAL, which the callers check).
        match unsafe { ffi::duckdb_decimal_internal_type(self.0) } {
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => 2,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => 4,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => 8,
            _ => 16,
        }
    }
}

impl Drop for LogicalType {
    fn drop(&mut self) {
        // SAFETY: each `LogicalType` owns its handle.
        unsafe { ffi::duckdb_destroy_logical_type(&mut self.0) }
    }
}

/// How a result column's cells are stored in DuckDB's vectors, and the [`Cells`] they become.
#[derive(Debug)]
enum Kind {
    Flag,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    Float32,
    Float64,
    /// A decimal's scaled integer (of `width` bytes) and 10^scale; a HUGEINT is one of scale 0.
    Decimal {
        width: usize,
        divisor: f64,
    },
    Text,
    Date,
    /// Microseconds per unit, or 0 for nanoseconds.
    Timestamp {
        to_micros: i64,
    },
    List(Box<Kind>),
}

impl Kind {
    fn of(logical_type: &LogicalType) -> Result<Kind, String> {
        // SAFETY: the logical type is valid for every call below.
        let type_id = unsafe { ffi::duckdb_get_type_id(logical_type.0) };
        Ok(match type_id {
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN => Kind::Flag,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_TINYINT => Kind::Int8,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => Kind::Int16,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => Kind::Int32,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => Kind::Int64,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_UTINYINT => Kind::UInt8,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_USMALLINT => Kind::UInt16,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_UINTEGER => Kind::UInt32,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_FLOAT => Kind::Float32,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE => Kind::Float64,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_HUGEINT => Kind::Decimal { width: 16, divisor: 1.0 },
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_DECIMAL => {
                let scale = unsafe { ffi::duckdb_decimal_scale(logical_type.0) };
                Kind::Decimal { width: logical_type.decimal_width(), divisor: 10f64.powi(i32::from(scale)) }
            }
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR => Kind::Text,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_DATE => Kind::Date,
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_S => Kind::Timestamp { to_micros: 1_000_000 },
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_MS => Kind::Timestamp { to_micros: 1_000 },
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP | ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ => {
                Kind::Timestamp { to_micros: 1 }
            }
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_NS => Kind::Timestamp { to_micros: 0 },
            ffi::DUCKDB_TYPE_DUCKDB_TYPE_LIST => {
                let items = LogicalType(unsafe { ffi::duckdb_list_type_child_type(logical_type.0) });
                Kind::List(Box::new(Kind::of(&items)?))
            }
            other => return Err(format!("unsupported DuckDB result type (type id {other})")),
        })
    }

    /// No cells yet, with room for `rows`.
    fn empty_cells(&self, rows: usize) -> Cells {
        match self {
            Kind::Flag => Cells::Flags(Vec::with_capacity(rows)),
            Kind::Int8
            | Kind::Int16
            | Kind::Int32
            | Kind::Int64
            | Kind::UInt8
            | Kind::UInt16
            | Kind::UInt32 => Cells::Ints(Vec::with_capacity(rows)),
            Kind::Float32 | Kind::Float64 | Kind::Decimal { .. } => Cells::Floats(Vec::with_capacity(rows)),
            Kind::Text => Cells::Texts(Texts::with_capacity(rows, rows * 16)),
            Kind::Date => Cells::Dates(Vec::with_capacity(rows)),
            Kind::Timestamp { .. } => Cells::Timestamps(Vec::with_capacity(rows)),
            Kind::List(_) => Cells::Values(Vec::with_capacity(rows)),
        }
    }
}

/// Appends the cells `rows` of a flat `vector` of `kind` to `cells` (made by
/// [`Kind::empty_cells`]): one type dispatch per column and chunk.
///
/// # Safety
/// `vector` is a valid flat vector of `kind` holding at least `rows.end` cells (the chunks of a
/// fetched result are flat, list children included).
unsafe fn decode_vector(
    kind: &Kind,
    vector: ffi::duckdb_vector,
    rows: Range<usize>,
    cells: &mut Cells,
) -> Result<(), String> {
    // SAFETY (all reads below): the data holds `rows.end` cells of the kind's width, and the
    // validity mask, when present, a bit for each.
    let (data, validity) =
        unsafe { (ffi::duckdb_vector_get_data(vector), ffi::duckdb_vector_get_validity(vector)) };
    let valid = |row: usize| validity.is_null() || unsafe { *validity.add(row / 64) } >> (row % 64) & 1 == 1;
    /// # Safety
    /// `data` holds more than `row` cells of `T`.
    unsafe fn read<T: Copy>(data: *mut c_void, row: usize) -> T {
        unsafe { *data.cast::<T>().add(row) }
    }
    /// # Safety
    /// `data` holds at least `rows.end` cells of `T`.
    unsafe fn extend<T: Copy, U>(
        target: &mut Vec<Option<U>>,
        rows: Range<usize>,
        valid: impl Fn(usize) -> bool,
        data: *mut c_void,
        convert: impl Fn(T) -> U,
    ) {
        target.extend(rows.map(|row| valid(row).then(|| convert(unsafe { read::<T>(data, row) }))));
    }
    match (kind, cells) {
        (Kind::Flag, Cells::Flags(flags)) => unsafe {
            extend(flags, rows, valid, data, |flag: u8| flag != 0)
        },
        (Kind::Int8, Cells::Ints(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: i8| number.into())
        },
        (Kind::Int16, Cells::Ints(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: i16| number.into())
        },
        (Kind::Int32, Cells::Ints(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: i32| number.into())
        },
        (Kind::Int64, Cells::Ints(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: i64| number)
        },
        (Kind::UInt8, Cells::Ints(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: u8| number.into())
        },
        (Kind::UInt16, Cells::Ints(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: u16| number.into())
        },
        (Kind::UInt32, Cells::Ints(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: u32| number.into())
        },
        (Kind::Float32, Cells::Floats(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: f32| number.into())
        },
        (Kind::Float64, Cells::Floats(numbers)) => unsafe {
            extend(numbers, rows, valid, data, |number: f64| number)
        },
        // The scaled integer divided by an exact power of ten: IEEE division rounds correctly,
        // so the double is the nearest to the decimal.
        (Kind::Decimal { width, divisor }, Cells::Floats(numbers)) => {
            let divisor = *divisor;
            match width {
                2 => unsafe { extend(numbers, rows, valid, data, |raw: i16| f64::from(raw) / divisor) },
                4 => unsafe { extend(numbers, rows, valid, data, |raw: i32| f64::from(raw) / divisor) },
                8 => unsafe { extend(numbers, rows, valid, data, |raw: i64| raw as f64 / divisor) },
                _ => unsafe { extend(numbers, rows, valid, data, |raw: i128| raw as f64 / divisor) },
            }
        }
        (Kind::Text, Cells::Texts(texts)) => texts.extend_from_utf8(rows.map(|row| {
            valid(row).then(|| {
                // SAFETY: the text is read in place, where the chunk keeps it: one of up to 12
                // bytes inline in the vector's own cell, a longer one in memory its pointer
                // names. Both live as long as the chunk, and are `length` bytes long.
                unsafe {
                    let text = &*data.cast::<ffi::duckdb_string_t>().add(row);
                    let length = text.value.inlined.length as usize;
                    let start = if length <= 12 {
                        text.value.inlined.inlined.as_ptr().cast::<u8>()
                    } else {
                        text.value.pointer.ptr.cast_const().cast::<u8>()
                    };
                    std::slice::from_raw_parts(start, length)
                }
            })
        }))?,
        // A read's rows come in runs of one date (and one `processed_at`: a save stamps its rows
        // alike), so each run is converted once.
        (Kind::Date, Cells::Dates(dates)) => {
            let mut last: Option<(i32, NaiveDate)> = None;
            for row in rows {
                if !valid(row) {
                    dates.push(None);
                    continue;
                }
                let days = unsafe { read::<i32>(data, row) };
                let date = match last {
                    Some((last_days, date)) if last_days == days => date,
                    _ => date_from_days(days)?,
                };
                last = Some((days, date));
                dates.push(Some(date));
            }
        }
        (Kind::Timestamp { to_micros }, Cells::Timestamps(timestamps)) => {
            let mut last: Option<(i64, DateTime<Utc>)> = None;
            for row in rows {
                if !valid(row) {
                    timestamps.push(None);
                    continue;
                }
                let raw = unsafe { read::<i64>(data, row) };
                let timestamp = match last {
                    Some((last_raw, timestamp)) if last_raw == raw => timestamp,
                    _ => timestamp_from(raw, *to_micros)?,
                };
                last = Some((raw, timestamp));
                timestamps.push(Some(timestamp));
            }
        }
        (Kind::List(item_kind), Cells::Values(values)) => {
            // SAFETY: a list vector's child holds the items of all its lists.
            let (items_vector, item_count) = unsafe {
                (ffi::duckdb_list_vector_get_child(vector), ffi::duckdb_list_vector_get_size(vector) as usize)
            };
            let mut items = item_kind.empty_cells(item_count);
            unsafe { decode_vector(item_kind, items_vector, 0..item_count, &mut items)? };
            for row in rows {
                values.push(if valid(row) {
                    let entry = unsafe { read::<ffi::duckdb_list_entry>(data, row) };
                    let start = entry.offset as usize;
                    list_value(&items, start..start + entry.length as usize)?
                } else {
                    Value::Null
                });
            }
        }
        (kind, _) => return Err(format!("a column of {kind:?} cells changed type between chunks")),
    }
    Ok(())
}

/// A DuckDB date: days since 1970-01-01.
///
/// # Errors
/// A date outside chrono's range (DuckDB's `infinity` dates among them).
pub(super) fn date_from_days(days: i32) -> Result<NaiveDate, String> {
    NaiveDate::from_num_days_from_ce_opt(days + DAYS_FROM_CE_TO_UNIX_EPOCH)
        .ok_or_else(|| format!("date {days} out of range"))
}

/// A DuckDB timestamp: `raw` units since 1970-01-01 UTC, `to_micros` microseconds
/// a unit, or 0 for nanoseconds (cut to the microseconds every timestamp of ours holds).
///
/// # Errors
/// A timestamp outside chrono's range, or one whose microseconds overflow.
pub(super) fn timestamp_from(raw: i64, to_micros: i64) -> Result<DateTime<Utc>, String> {
    let micros = if to_micros == 0 { Some(raw / 1_000) } else { raw.checked_mul(to_micros) };
    micros
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .ok_or_else(|| format!("timestamp {raw} out of range"))
}

/// A list cell from its `items`: texts become a string array (a NULL item an empty text),
/// numbers a float array.
///
/// # Errors
/// An item that is neither a text nor a number (NULL included).
pub(super) fn list_value(items: &Cells, range: Range<usize>) -> Result<Value, String> {
    if let Cells::Texts(texts) = items {
        return Ok(Value::StringArray(
            range.map(|index| texts.get(index).unwrap_or_default().to_owned()).collect(),
        ));
    }
    range
        .map(|index| {
            let cell = items.cell(index);
            cell.as_f64().ok_or_else(|| format!("unsupported list element {cell:?}"))
        })
        .collect::<Result<Vec<f64>, String>>()
        .map(Value::FloatArray)
}

pub(super) fn c_string(text: &str) -> Result<CString, String> {
    CString::new(text).map_err(|_| format!("a NUL byte in {text:?}"))
}

/// A C string DuckDB owns, copied.
///
/// # Safety
/// `message` is NULL or a NUL-terminated string alive for the call.
pub(super) unsafe fn borrowed_message(message: *const c_char) -> Option<String> {
    (!message.is_null()).then(|| unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned())
}

/// A C string DuckDB allocated for us, copied and freed.
fn take_message(message: *mut c_char) -> Option<String> {
    if message.is_null() {
        return None;
    }
    // SAFETY: DuckDB's error message, NUL-terminated; freed once, here.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    unsafe { ffi::duckdb_free(message.cast()) };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Result<ColumnSet, String> {
        let database = Database::open(":memory:", &[("threads", "1")]).unwrap();
        let connection = Connection::connect(&database).unwrap();
        connection.query(sql)
    }

    fn timestamp(text: &str) -> Value {
        Value::Timestamp(text.parse::<DateTime<Utc>>().unwrap())
    }

    #[test]
    fn each_duckdb_type_reads_as_the_cells_of_its_kind() {
        let set = read(
            "SELECT -1::TINYINT AS tiny, -2::SMALLINT AS small, 3::INTEGER AS int, 4::BIGINT AS big, \
             255::UTINYINT AS utiny, 65535::USMALLINT AS usmall, 4294967295::UINTEGER AS uint, \
             0.5::FLOAT AS float, 0.1::DOUBLE AS double, 12.5::DECIMAL(4,1) AS dec16, \
             -123.456::DECIMAL(9,3) AS dec32, 1234567890.12::DECIMAL(18,2) AS dec64, \
             2.5::DECIMAL(38,1) AS dec128, 12345678901234567890123::HUGEINT AS huge, true AS flag, \
             DATE '2025-04-11' AS day, TIMESTAMP '2025-01-15 12:00:00.123456' AS us, \
             TIMESTAMP_S '2025-01-15 12:00:01' AS s, TIMESTAMP_MS '2025-01-15 12:00:00.123' AS ms, \
             TIMESTAMP_NS '2025-01-15 12:00:00.123456789' AS ns, \
             TIMESTAMPTZ '2025-01-15 12:00:00.5+00' AS tz, NULL AS nothing, 'LAL' AS short, \
             'twelve bytes' AS twelve, 'thirteen bytes' AS thirteen, NULL::VARCHAR AS no_text, \
             'Nikola Jokić' AS accent, [1.5, 2]::DOUBLE[] AS floats, [1, 2]::INTEGER[] AS ints, \
             ['a', NULL] AS texts, NULL::DOUBLE[] AS no_list",
        )
        .unwrap();
        assert_eq!(set.rows, 1);
        assert_eq!(set.names[..3], ["tiny", "small", "int"]);
        let kinds: Vec<&str> = set
            .columns
            .iter()
            .map(|cells| match cells {
                Cells::Texts(_) => "texts",
                Cells::Ints(_) => "ints",
                Cells::Floats(_) => "floats",
                Cells::Flags(_) => "flags",
                Cells::Dates(_) => "dates",
                Cells::Timestamps(_) => "timestamps",
                Cells::Values(_) => "values",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ["ints"; 7].as_slice(),
                &["floats"; 7],
                &["flags", "dates"],
                &["timestamps"; 5],
                // DuckDB types an untyped NULL as INTEGER.
                &["ints"],
                &["texts"; 5],
                &["values"; 4],
            ]
            .concat()
        );
        let row = set.into_result_set().rows.remove(0);
        let expected = vec![
            Value::Int(-1),
            Value::Int(-2),
            Value::Int(3),
            Value::Int(4),
            Value::Int(255),
            Value::Int(65_535),
            Value::Int(4_294_967_295),
            Value::Float(0.5),
            Value::Float(0.1),
            Value::Float(12.5),
            Value::Float(-123.456),
            Value::Float(1_234_567_890.12),
            Value::Float(2.5),
            Value::Float(12_345_678_901_234_567_890_123.0),
            Value::Bool(true),
            Value::Date(NaiveDate::from_ymd_opt(2025, 4, 11).unwrap()),
            timestamp("2025-01-15T12:00:00.123456Z"),
            timestamp("2025-01-15T12:00:01Z"),
            timestamp("2025-01-15T12:00:00.123Z"),
            // Nanoseconds are cut to the microseconds every other timestamp holds.
            timestamp("2025-01-15T12:00:00.123456Z"),
            timestamp("2025-01-15T12:00:00.5Z"),
            Value::Null,
            Value::String("LAL".into()),
            Value::String("twelve bytes".into()),
            Value::String("thirteen bytes".into()),
            Value::Null,
            Value::String("Nikola Jokić".into()),
            Value::FloatArray(vec![1.5, 2.0]),
            Value::FloatArray(vec![1.0, 2.0]),
            Value::StringArray(vec!["a".into(), String::new()]),
            Value::Null,
        ];
        assert_eq!(row, expected);
    }

    #[test]
    fn timestamps_of_every_unit_become_microseconds_or_an_error_when_they_overflow() {
        // Nanoseconds are cut, not rounded: 999 of them are no microsecond.
        let second = timestamp("1970-01-01T00:00:01Z");
        assert_eq!(timestamp_from(1, 1_000_000).map(Value::Timestamp), Ok(second.clone()));
        assert_eq!(timestamp_from(1_000, 1_000).map(Value::Timestamp), Ok(second.clone()));
        assert_eq!(timestamp_from(1_000_000_999, 0).map(Value::Timestamp), Ok(second));
        assert_eq!(timestamp_from(i64::MAX, 1_000), Err(format!("timestamp {} out of range", i64::MAX)));
    }

    #[test]
    fn a_type_no_table_holds_is_an_error_naming_it() {
        let error = read("SELECT 1::UBIGINT AS n").unwrap_err();
        assert_eq!(
            error,
            format!("unsupported DuckDB result type (type id {})", ffi::DUCKDB_TYPE_DUCKDB_TYPE_UBIGINT)
        );
    }

    #[test]
    fn statements_that_do_not_prepare_or_do_not_run_give_duckdbs_message() {
        let error = read("SELEC 1").unwrap_err();
        assert!(error.contains("syntax error"), "{error}");
        let error = read("SELECT * FROM no_such_table").unwrap_err();
        assert!(error.contains("no_such_table") && error.contains("does not exist"), "{error}");
    }

    #[test]
    fn a_database_refuses_an_unknown_setting_and_a_missing_read_only_file() {
        let refused = Database::open(":memory:", &[("no_such_setting", "1")]).err().unwrap();
        assert!(refused.contains("not recognized: no_such_setting"), "{refused}");
        let path = std::env::temp_dir().join(format!("missing-{}.duckdb", std::process::id()));
        let missing = Database::open(path.to_str().unwrap(), &[("access_mode", "READ_ONLY")]).err().unwrap();
        assert!(missing.contains("missing-"), "{missing}");
    }
}
