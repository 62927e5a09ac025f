//! Fixture files: CSV in and out of the warehouse (README §3.4).
//!
//! A fixture directory holds `<dataset>.<table>.csv` files whose header names a subset of the
//! table's columns. Empty fields are NULL, booleans `true`/`false`, dates `YYYY-MM-DD`,
//! timestamps RFC 3339, arrays JSON text. Loading replaces the partitions a file covers (the whole
//! table when it has no partition column) and keeps duplicate rows, as upstream BigQuery tables do.
//! Export writes every column in schema order, rows sorted by key, in the canonical form that
//! loading reads back: load → export is byte-for-byte stable.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::schema::{ColumnType, Table};
use crate::value::Value;
use crate::warehouse::{Query, ReplaceScope, Warehouse, WarehouseError};

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: file name is not <dataset>.<table>.csv of a known table")]
    UnknownTable { path: PathBuf },
    #[error("{path}: unknown column {column} for table {table}")]
    UnknownColumn { path: PathBuf, table: String, column: String },
    #[error("{path}: the header names column {column} twice")]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("{path} line {line}: column {column}: invalid value {value:?}: {expected}")]
    InvalidValue { path: PathBuf, line: u64, column: String, value: String, expected: &'static str },
    #[error(
        "{path} line {line}: column {column} is empty, but the table's rows are keyed or partitioned by it"
    )]
    MissingKey { path: PathBuf, line: u64, column: String },
    #[error("{path}: {source}")]
    Warehouse { path: PathBuf, source: WarehouseError },
    #[error("cannot write the export: {0}")]
    Write(String),
}

/// What loading one file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedFile {
    pub table: &'static Table,
    pub rows: usize,
}

/// Loads every `*.csv` file of `directory`, in file-name order.
///
/// # Errors
/// The first file that cannot be read, names an unknown table or column, holds a value of the
/// wrong type, or cannot be written; files before it stay loaded.
pub async fn load_directory(
    warehouse: &dyn Warehouse,
    directory: &Path,
) -> Result<Vec<LoadedFile>, FixtureError> {
    let read_error = |message: String| FixtureError::Read { path: directory.to_owned(), message };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(|error| read_error(error.to_string()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "csv"))
        .collect();
    paths.sort();
    let mut loaded = Vec::with_capacity(paths.len());
    for path in paths {
        loaded.push(load_file(warehouse, &path).await?);
    }
    Ok(loaded)
}

/// Loads one fixture file.
///
/// # Errors
/// As [`load_directory`], for this file.
pub async fn load_file(warehouse: &dyn Warehouse, path: &Path) -> Result<LoadedFile, FixtureError> {
    let table = table_of_file(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|error| FixtureError::Read { path: path.to_owned(), message: error.to_string() })?;
    let rows = parse_rows(path, table, &text)?;
    let scope = match table.partition {
        Some(partition) => {
            let index = table.column_index(partition).expect("partition columns exist (schema test)");
            let dates: BTreeSet<NaiveDate> = rows.iter().filter_map(|row| row[index].as_date()).collect();
            ReplaceScope::Partitions(dates.into_iter().collect())
        }
        None => ReplaceScope::WholeTable,
    };
    let count = rows.len();
    warehouse
        .replace(table, scope, rows, false)
        .await
        .map_err(|source| FixtureError::Warehouse { path: path.to_owned(), source })?;
    Ok(LoadedFile { table, rows: count })
}

fn table_of_file(path: &Path) -> Result<&'static Table, FixtureError> {
    path.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(".csv"))
        .and_then(Table::find)
        .ok_or_else(|| FixtureError::UnknownTable { path: path.to_owned() })
}

/// Parses CSV text into full-width rows in the table's column order (absent columns NULL).
///
/// # Errors
/// An unknown column or a value that does not parse as its column's type.
pub fn parse_rows(path: &Path, table: &'static Table, text: &str) -> Result<Vec<Vec<Value>>, FixtureError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let csv_error =
        |error: csv::Error| FixtureError::Read { path: path.to_owned(), message: error.to_string() };
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut positions = Vec::with_capacity(headers.len());
    for header in &headers {
        let index = table.column_index(header).ok_or_else(|| FixtureError::UnknownColumn {
            path: path.to_owned(),
            table: table.to_string(),
            column: header.to_owned(),
        })?;
        // A second field for one column would silently overwrite the first.
        if positions.contains(&index) {
            return Err(FixtureError::DuplicateColumn { path: path.to_owned(), column: header.to_owned() });
        }
        positions.push(index);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |position| position.line());
        let mut row = vec![Value::Null; table.columns.len()];
        for (field, &index) in record.iter().zip(&positions) {
            let column = &table.columns[index];
            row[index] =
                parse_cell(field, column.column_type).map_err(|expected| FixtureError::InvalidValue {
                    path: path.to_owned(),
                    line,
                    column: column.name.to_owned(),
                    value: field.to_owned(),
                    expected,
                })?;
        }
        if let Some(column) = empty_key_column(table, &row) {
            return Err(FixtureError::MissingKey { path: path.to_owned(), line, column: column.to_owned() });
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The first key or partition column `row` leaves NULL: the warehouse would refuse the key, and
/// a row without its partition would escape the delete of a reload and then be loaded twice.
fn empty_key_column(table: &Table, row: &[Value]) -> Option<&'static str> {
    table
        .key
        .iter()
        .chain(table.partition.as_ref())
        .copied()
        .find(|column| table.column_index(column).is_some_and(|index| row[index] == Value::Null))
}

/// Parses one field; the error says what was expected.
pub fn parse_cell(field: &str, column_type: ColumnType) -> Result<Value, &'static str> {
    if field.is_empty() {
        return Ok(Value::Null);
    }
    match column_type {
        ColumnType::String | ColumnType::Json => Ok(Value::String(field.to_owned())),
        ColumnType::Int64 => field.parse().map(Value::Int).map_err(|_| "expected a whole number"),
        ColumnType::Float64 | ColumnType::Numeric { .. } => {
            field.parse().map(Value::Float).map_err(|_| "expected a number")
        }
        ColumnType::Bool => match field {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("expected true or false"),
        },
        ColumnType::Date => parse_date(field).map(Value::Date).ok_or("expected a date YYYY-MM-DD"),
        ColumnType::Timestamp => DateTime::parse_from_rfc3339(field)
            .map(|timestamp| Value::Timestamp(timestamp.with_timezone(&Utc)))
            .map_err(|_| "expected an RFC 3339 timestamp"),
        ColumnType::Float64Array => {
            serde_json::from_str(field).map(Value::FloatArray).map_err(|_| "expected a JSON array of numbers")
        }
        ColumnType::StringArray => serde_json::from_str(field)
            .map(Value::StringArray)
            .map_err(|_| "expected a JSON array of strings"),
    }
}

/// A date written exactly `YYYY-MM-DD`, the form export writes: chrono's parser alone also takes
/// `2024-1-5`, which would load and then export differently.
fn parse_date(field: &str) -> Option<NaiveDate> {
    let bytes = field.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let canonical = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && digits_at(0..4)
        && digits_at(5..7)
        && digits_at(8..10);
    canonical.then(|| field.parse().ok()).flatten()
}

/// Formats one cell in the canonical fixture form.
pub fn format_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Float(number) => format!("{number:?}"),
        Value::String(text) => text.clone(),
        Value::Date(date) => date.format("%Y-%m-%d").to_string(),
        Value::Timestamp(timestamp) => timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        Value::FloatArray(numbers) => serde_json::to_string(numbers).expect("finite floats serialise"),
        Value::StringArray(texts) => serde_json::to_string(texts).expect("strings serialise"),
    }
}

/// Writes `table` (only `date`'s partition when given) as canonical CSV, sorted by key.
///
/// # Errors
/// The query fails, or `output` cannot be written.
pub async fn export_table(
    warehouse: &dyn Warehouse,
    table: &'static Table,
    date: Option<NaiveDate>,
    output: impl Write,
) -> Result<usize, FixtureError> {
    let columns: Vec<String> = table.column_names().map(|name| format!("\"{name}\"")).collect();
    // Key first, then every other orderable column, so that duplicate upstream rows still come
    // out in one order. BigQuery cannot sort by ARRAY or JSON columns, so those are left out.
    let orderable = table
        .columns
        .iter()
        .filter(|column| !column.column_type.is_array() && column.column_type != ColumnType::Json)
        .map(|column| format!("\"{}\"", column.name));
    let order: Vec<String> = table.key.iter().map(|key| format!("\"{key}\"")).chain(orderable).collect();
    let mut sql = format!("SELECT {} FROM {{{table}}}", columns.join(", "));
    let mut query_date = None;
    if let (Some(date), Some(partition)) = (date, table.partition) {
        sql.push_str(&format!(" WHERE \"{partition}\" = @date"));
        query_date = Some(date);
    }
    sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    let mut query = Query::new(sql);
    if let Some(date) = query_date {
        query = query.bind("date", date);
    }
    let result = warehouse
        .query(&query)
        .await
        .map_err(|source| FixtureError::Warehouse { path: PathBuf::from(table.to_string()), source })?;
    let mut writer = csv::Writer::from_writer(output);
    let write_error = |error: csv::Error| FixtureError::Write(error.to_string());
    writer.write_record(table.column_names()).map_err(write_error)?;
    for row in &result.rows {
        writer.write_record(row.iter().map(format_cell)).map_err(write_error)?;
    }
    writer.flush().map_err(|error| FixtureError::Write(error.to_string()))?;
    Ok(result.rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_and_format_canonically() {
        let cases = [
            ("12", ColumnType::Int64, Value::Int(12)),
            ("20.5", ColumnType::Numeric { precision: 5, scale: 1 }, Value::Float(20.5)),
            ("true", ColumnType::Bool, Value::Bool(true)),
            ("2024-01-15", ColumnType::Date, Value::Date("2024-01-15".parse().unwrap())),
            ("[1.0,2.5]", ColumnType::Float64Array, Value::FloatArray(vec![1.0, 2.5])),
            ("[\"a\",\"b\"]", ColumnType::StringArray, Value::StringArray(vec!["a".into(), "b".into()])),
            (
                "2024-01-15T03:04:05Z",
                ColumnType::Timestamp,
                Value::Timestamp("2024-01-15T03:04:05Z".parse().unwrap()),
            ),
            ("", ColumnType::Int64, Value::Null),
        ];
        for (text, column_type, expected) in cases {
            let parsed = parse_cell(text, column_type).unwrap();
            assert_eq!(parsed, expected);
            assert_eq!(format_cell(&parsed), text);
        }
    }

    #[test]
    fn bad_cells_say_what_was_expected() {
        assert_eq!(parse_cell("1.5", ColumnType::Int64), Err("expected a whole number"));
        assert_eq!(parse_cell("yes", ColumnType::Bool), Err("expected true or false"));
        assert_eq!(parse_cell("15/01/2024", ColumnType::Date), Err("expected a date YYYY-MM-DD"));
        for loose in ["2024-1-5", "2024-01-5", "+2024-01-05", "2024-02-30", "2024-01-05 "] {
            assert_eq!(parse_cell(loose, ColumnType::Date), Err("expected a date YYYY-MM-DD"), "{loose}");
        }
        assert_eq!(
            parse_cell("2024-02-29", ColumnType::Date),
            Ok(Value::Date("2024-02-29".parse().unwrap()))
        );
    }

    #[test]
    fn a_header_naming_a_column_twice_is_refused() {
        let table = Table::find("nba_raw.nbac_schedule").unwrap();
        let text = "game_id,game_date,season_year,game_date\n1,2025-01-15,2024,2025-01-16\n";
        let error = parse_rows(Path::new("x.csv"), table, text).unwrap_err();
        assert_eq!(error.to_string(), "x.csv: the header names column game_date twice");
    }

    #[test]
    fn a_row_without_a_key_or_partition_value_is_named_by_line_and_column() {
        let table = Table::find("nba_raw.nbac_schedule").unwrap();
        let header = "game_id,game_date,season_year\n";
        let error = parse_rows(Path::new("x.csv"), table, &format!("{header}1,2025-01-15,2024\n2,,2024\n"))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "x.csv line 3: column game_date is empty, but the table's rows are keyed or partitioned by it"
        );
        let without_id = parse_rows(Path::new("x.csv"), table, "game_date\n2025-01-15\n").unwrap_err();
        assert!(
            matches!(without_id, FixtureError::MissingKey { line: 2, ref column, .. } if column == "game_id")
        );
    }

    #[test]
    fn unknown_columns_are_named() {
        let table = Table::find("nba_raw.nbac_schedule").unwrap();
        let error = parse_rows(Path::new("x.csv"), table, "game_id,colour\n1,red\n").unwrap_err();
        assert_eq!(error.to_string(), "x.csv: unknown column colour for table nba_raw.nbac_schedule");
    }
}
