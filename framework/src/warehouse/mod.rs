//! The `Warehouse` seam: bulk reads with bound parameters and atomic keyed writes.
//!
//! Processors and the runner speak to [`Warehouse`] only, so a backend slots in without
//! touching them. SQL is written once in a dialect both backends accept: tables as
//! `{dataset.table}` placeholders (resolved with `DATASET_PREFIX` by the backend) and values as
//! `@name` parameters (README §4 item 8: no data is ever interpolated into SQL text).

pub mod bigquery;
pub mod duckdb;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::columns::ColumnSet;
use crate::config::{Settings, WarehouseUrl};
use crate::schema::Table;
use crate::value::{ToValue, Value};

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("cannot open warehouse {url}: {message}")]
    Open { url: String, message: String },
    #[error("query failed: {message} (query: {sql})")]
    Query { sql: String, message: String },
    #[error("write to {table} failed: {message}")]
    Write { table: String, message: String },
    /// The write was sent, but the warehouse stopped answering before anyone could learn whether
    /// it committed: its rows may or may not be written.
    #[error("write to {table} may have committed: {message}")]
    OutcomeUnknown { table: String, message: String },
    #[error("write to {table} would duplicate key {key}: nothing was written")]
    DuplicateKey { table: String, key: String },
    /// A write's [`ExpectedVersions`] no longer hold: another writer changed the rows it was
    /// built from. Read them again and rebuild the write.
    #[error("rows of {table} changed since they were read, by another writer: nothing was written")]
    ConcurrentUpdate { table: String },
    #[error("unknown table {0} in query")]
    UnknownTable(String),
    #[error("parameter @{0} is used in the query but not bound")]
    UnboundParameter(String),
    #[error("the {0} backend is not available in this build")]
    Unsupported(&'static str),
}

/// SQL text with `{dataset.table}` placeholders and `@name` parameters, plus the bound values.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub sql: String,
    pub parameters: Vec<(String, Value)>,
}

impl Query {
    pub fn new(sql: impl Into<String>) -> Self {
        Query { sql: sql.into(), parameters: Vec::new() }
    }

    /// Binds `@name` to a value.
    pub fn bind(mut self, name: &str, value: impl ToValue) -> Self {
        self.parameters.push((name.to_owned(), value.to_value()));
        self
    }

    /// Binds `@name` to a list, for `IN UNNEST(@name)`-free dialects: expands to `@name_0, @name_1, …`
    /// in place of the `@name` token.
    pub fn bind_list<T: ToValue>(mut self, name: &str, values: &[T]) -> Self {
        let names: Vec<String> = (0..values.len()).map(|index| format!("@{name}_{index}")).collect();
        let list = if names.is_empty() { "NULL".to_owned() } else { names.join(", ") };
        self.sql = replace_parameter_token(&self.sql, name, &list);
        for (index, value) in values.iter().enumerate() {
            self.parameters.push((format!("{name}_{index}"), value.to_value()));
        }
        self
    }
}

fn replace_parameter_token(sql: &str, name: &str, replacement: &str) -> String {
    let token = format!("@{name}");
    let mut result = String::with_capacity(sql.len() + replacement.len());
    let mut rest = sql;
    while let Some(position) = rest.find(&token) {
        let after = &rest[position + token.len()..];
        let continues =
            after.chars().next().is_some_and(|character| character.is_alphanumeric() || character == '_');
        result.push_str(&rest[..position]);
        if continues {
            result.push_str(&token);
        } else {
            result.push_str(replacement);
        }
        rest = after;
    }
    result.push_str(rest);
    result
}

/// Rows returned by a query, with the column names in select order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl ResultSet {
    /// Index of a column by name.
    ///
    /// # Errors
    /// The column is not in the result (a programming error in the query, reported by name).
    pub fn column(&self, name: &str) -> Result<usize, WarehouseError> {
        self.columns.iter().position(|column| column == name).ok_or_else(|| WarehouseError::Query {
            sql: String::new(),
            message: format!("column {name} is not in the result"),
        })
    }
}

/// Which existing rows a write replaces.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplaceScope {
    /// Every row whose partition column holds one of these dates (a processor's dates, or the
    /// dates a fixture file covers).
    Partitions(Vec<NaiveDate>),
    /// The whole table (fixture files of unpartitioned tables).
    WholeTable,
    /// Rows whose key equals the key of one of the new rows (an upsert).
    Keys,
}

/// What a write did, for run history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub rows_deleted: u64,
    pub rows_inserted: u64,
}

/// One table's part of a write that commits as a whole ([`Warehouse::write_together`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TableWrite {
    pub table: &'static Table,
    /// The rows replaced; `None` appends.
    pub scope: Option<ReplaceScope>,
    /// Cells in the table's column order.
    pub rows: Vec<Vec<Value>>,
    /// Refuse a result holding two rows with one key.
    pub unique_key: bool,
    /// What the stored rows must still be when the write commits (a read-modify-write).
    pub expected: Option<ExpectedVersions>,
}

impl TableWrite {
    pub fn replace(
        table: &'static Table,
        scope: ReplaceScope,
        rows: Vec<Vec<Value>>,
        unique_key: bool,
    ) -> Self {
        TableWrite { table, scope: Some(scope), rows, unique_key, expected: None }
    }

    pub fn append(table: &'static Table, rows: Vec<Vec<Value>>) -> Self {
        TableWrite { table, scope: None, rows, unique_key: false, expected: None }
    }

    /// The write, refused with [`WarehouseError::ConcurrentUpdate`] unless `expected` still
    /// holds inside its transaction. Only a keyed upsert ([`ReplaceScope::Keys`]) expects: the
    /// embedded warehouse checks the rows its delete returns.
    pub fn expecting(self, expected: ExpectedVersions) -> Self {
        TableWrite { expected: Some(expected), ..self }
    }
}

/// What a write built from stored rows (new rows combined with them) expects of them when it
/// commits: for each key it writes, the `column` of the key's stored row as it was read, NULL
/// for a key that had no row. A writer that changed one of those rows in between (another run of
/// the processor, on other dates) set that column to its own value, so the write is refused
/// instead of overwriting that change, and its rows are read and combined again.
///
/// `column` is one every writer of the table sets on each write (`processed_at`), never NULL, to
/// a value after the one it replaces ([`ExpectedVersions::advance_past`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedVersions {
    pub column: &'static str,
    /// One row per key, in the table's column order: the key's cells and the expected version,
    /// every other cell NULL.
    pub rows: Vec<Vec<Value>>,
}

impl ExpectedVersions {
    /// The versions `stored` holds for the keys of `written` (NULL for a key not stored).
    pub fn of(table: &Table, column: &'static str, stored: &[Vec<Value>], written: &[Vec<Value>]) -> Self {
        let version_index = table.column_index(column);
        let key_indices: Vec<usize> = table.key.iter().filter_map(|key| table.column_index(key)).collect();
        let stored_versions: HashMap<String, &Value> =
            stored.iter().filter_map(|row| Some((table.key_text(row), row.get(version_index?)?))).collect();
        let mut seen = HashSet::new();
        let rows = written
            .iter()
            .filter_map(|row| {
                let key = table.key_text(row);
                let version = stored_versions.get(&key).copied();
                seen.insert(key).then(|| {
                    let mut expected = vec![Value::Null; table.columns.len()];
                    for &index in &key_indices {
                        expected[index] = row[index].clone();
                    }
                    if let (Some(index), Some(version)) = (version_index, version) {
                        expected[index] = version.clone();
                    }
                    expected
                })
            })
            .collect();
        ExpectedVersions { column, rows }
    }

    /// Moves the version of each of `rows` (the rows written, one per key) past the version
    /// expected of its key: a microsecond after it when the row's own is not later.
    ///
    /// A writer's own version is its run's start, the same for every save of the run. Written as
    /// it is, a run's second save of a key would leave the version its first save left; a writer
    /// that read the row between the two would still find its expectation holding, and its write
    /// would overwrite the second save's change. With every write later than the version it
    /// replaces, a key's version never repeats, whatever the writers' clocks.
    pub fn advance_past(&self, table: &Table, rows: &mut [Vec<Value>]) {
        let Some(version_index) = table.column_index(self.column) else { return };
        let expected: HashMap<String, DateTime<Utc>> = self
            .rows
            .iter()
            .filter_map(|row| match row[version_index] {
                Value::Timestamp(version) => Some((table.key_text(row), version)),
                _ => None,
            })
            .collect();
        for row in rows {
            let Some(&replaced) = expected.get(&table.key_text(row)) else { continue };
            let after_replaced = replaced + TimeDelta::microseconds(1);
            match &mut row[version_index] {
                Value::Timestamp(own) if *own >= after_replaced => {}
                version => *version = Value::Timestamp(after_replaced),
            }
        }
    }

    /// The keys whose version differs in `current` (rows of the table, any superset of the
    /// keys), as key texts: empty when the expectation holds. A key held by several rows has
    /// their latest version, the one a writer reads for it (README §4 item 9b).
    pub fn changed_keys(&self, table: &Table, current: &[Vec<Value>]) -> Vec<String> {
        let Some(version_index) = table.column_index(self.column) else { return Vec::new() };
        let mut current_versions: HashMap<String, &Value> = HashMap::with_capacity(current.len());
        for row in current {
            let version = &row[version_index];
            current_versions
                .entry(table.key_text(row))
                .and_modify(|latest| {
                    if version.total_cmp(latest).is_gt() {
                        *latest = version;
                    }
                })
                .or_insert(version);
        }
        self.rows
            .iter()
            .filter_map(|row| {
                let key = table.key_text(row);
                let now = current_versions.get(&key).copied().unwrap_or(&Value::Null);
                (now != &row[version_index]).then_some(key)
            })
            .collect()
    }
}

/// A warehouse backend. Every method is one operation however many rows: a query or a
/// transaction on DuckDB; on BigQuery a write takes a few requests (staging, one transaction
/// script, the staging tables' drop) and lands as one transaction.
#[async_trait]
pub trait Warehouse: Send + Sync {
    /// Creates the datasets and tables that do not exist yet.
    async fn ensure_tables(&self, tables: &[&'static Table]) -> Result<(), WarehouseError>;

    async fn query(&self, query: &Query) -> Result<ResultSet, WarehouseError>;

    /// [`Warehouse::query`] with the result column by column, for large reads
    /// ([`crate::columns`]). Backends that decode rows turn them into columns.
    async fn query_columns(&self, query: &Query) -> Result<ColumnSet, WarehouseError> {
        Ok(ColumnSet::from_rows(self.query(query).await?))
    }

    /// Replaces the rows in `scope` by `rows` (cells in the table's column order) atomically:
    /// readers see the old rows or the new ones, never a mix, and a failure leaves the old rows.
    /// With `unique_key`, a result holding two rows with one key is refused (README §4 item 1).
    async fn replace(
        &self,
        table: &'static Table,
        scope: ReplaceScope,
        rows: Vec<Vec<Value>>,
        unique_key: bool,
    ) -> Result<WriteReport, WarehouseError>;

    /// Appends rows (run history, failures): one write however many rows.
    async fn append(&self, table: &'static Table, rows: Vec<Vec<Value>>) -> Result<(), WarehouseError>;

    /// Whether [`Warehouse::write_together`] commits its writes as one transaction (all or
    /// nothing), so a caller may put bookkeeping in the same write as the data it describes.
    fn writes_together_atomically(&self) -> bool {
        false
    }

    /// Applies `writes` in order, one report each. Both backends commit them as one transaction
    /// (a chunk's output with its side writes, a run's history with its checkpoints: all or
    /// nothing, and one commit instead of several); a backend that cannot says so through
    /// [`Warehouse::writes_together_atomically`] and applies them one by one
    /// ([`write_one_by_one`]).
    async fn write_together(&self, writes: Vec<TableWrite>) -> Result<Vec<WriteReport>, WarehouseError>;
}

/// [`Warehouse::write_together`] without a transaction across tables: each write through
/// `warehouse`'s own [`replace`](Warehouse::replace) or [`append`](Warehouse::append), in order,
/// stopping at the first failure. What a wrapper that intercepts single writes (the tests' fault
/// injection) passes a together-write through. Writes' [`ExpectedVersions`] are not checked.
///
/// # Errors
/// The first write that fails.
pub async fn write_one_by_one<W: Warehouse + ?Sized>(
    warehouse: &W,
    writes: Vec<TableWrite>,
) -> Result<Vec<WriteReport>, WarehouseError> {
    let mut reports = Vec::with_capacity(writes.len());
    // Without a transaction, nothing could check an expectation and the write atomically.
    for TableWrite { table, scope, rows, unique_key, expected: _ } in writes {
        reports.push(match scope {
            Some(scope) => warehouse.replace(table, scope, rows, unique_key).await?,
            None if rows.is_empty() => WriteReport::default(),
            None => {
                let rows_inserted = rows.len() as u64;
                warehouse.append(table, rows).await?;
                WriteReport { rows_deleted: 0, rows_inserted }
            }
        });
    }
    Ok(reports)
}

/// Opens the configured backend and creates any missing table.
///
/// # Errors
/// The warehouse cannot be opened, or its tables cannot be created.
pub async fn open(settings: &Settings) -> Result<Arc<dyn Warehouse>, WarehouseError> {
    let warehouse = open_as(settings, Access::ReadWrite).await?;
    warehouse.ensure_tables(&Table::all().collect::<Vec<_>>()).await?;
    Ok(warehouse)
}

/// Opens the configured backend to read only, for a dry run that must write nothing (README
/// §3.1): no table is created, and an embedded warehouse's file must exist and is opened
/// read-only.
///
/// # Errors
/// The warehouse cannot be opened.
pub async fn open_read_only(settings: &Settings) -> Result<Arc<dyn Warehouse>, WarehouseError> {
    open_as(settings, Access::ReadOnly).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

async fn open_as(settings: &Settings, access: Access) -> Result<Arc<dyn Warehouse>, WarehouseError> {
    Ok(match &settings.warehouse {
        WarehouseUrl::DuckDb { path } if access == Access::ReadOnly => {
            Arc::new(duckdb::DuckDbWarehouse::open_read_only(path, &settings.dataset_prefix)?)
        }
        WarehouseUrl::DuckDb { path } => {
            Arc::new(duckdb::DuckDbWarehouse::open(path, &settings.dataset_prefix)?)
        }
        // BigQuery has no read-only session: the run's own code paths keep a dry run's hands off.
        WarehouseUrl::BigQuery { project } => Arc::new(
            bigquery::BigQueryWarehouse::connect(
                project,
                &settings.dataset_prefix,
                settings.bigquery_emulator_host.as_deref(),
            )
            .await?,
        ),
    })
}

/// Splits SQL into text and `@name` parameter tokens, and `{dataset.table}` placeholders into
/// tables, outside quoted strings. Backends render each piece in their own syntax.
pub(crate) fn render_sql(
    sql: &str,
    mut render_table: impl FnMut(&'static Table) -> String,
    mut render_parameter: impl FnMut(&str) -> Result<String, WarehouseError>,
) -> Result<String, WarehouseError> {
    let mut output = String::with_capacity(sql.len() + 64);
    let mut characters = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((position, character)) = characters.next() {
        if let Some(open) = quote {
            output.push(character);
            if character == open {
                quote = None;
            }
            continue;
        }
        match character {
            '\'' | '"' => {
                quote = Some(character);
                output.push(character);
            }
            '{' => {
                let end = sql[position..].find('}').map(|offset| position + offset);
                let Some(end) = end else {
                    output.push(character);
                    continue;
                };
                let name = &sql[position + 1..end];
                let table = Table::find(name).ok_or_else(|| WarehouseError::UnknownTable(name.to_owned()))?;
                output.push_str(&render_table(table));
                while characters.peek().is_some_and(|(next, _)| *next <= end) {
                    characters.next();
                }
            }
            '@' => {
                let mut name = String::new();
                while let Some((_, next)) = characters.peek() {
                    if next.is_alphanumeric() || *next == '_' {
                        name.push(*next);
                        characters.next();
                    } else {
                        break;
                    }
                }
                output.push_str(&render_parameter(&name)?);
            }
            _ => output.push(character),
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_versions_hold_each_written_keys_stored_version_and_name_the_keys_that_changed() {
        let table = crate::schema::Table::find("nba_reference.unresolved_player_names").unwrap();
        let row = |lookup: &str, version: Option<i64>| {
            table.row(vec![
                ("source", Value::String("bdl".into())),
                ("normalized_lookup", Value::String(lookup.into())),
                ("occurrences", Value::Int(7)),
                ("processed_at", version.map_or(Value::Null, Value::Int)),
            ])
        };
        let stored = [row("amy", Some(1)), row("zed", Some(9))];
        let written = [row("amy", Some(5)), row("amy", Some(6)), row("bob", Some(5))];
        let expected = ExpectedVersions::of(table, "processed_at", &stored, &written);
        // One row per written key, holding only its key and the version read (none for bob).
        let key_and_version = |lookup: &str, version: Option<i64>| {
            table.row(vec![
                ("source", Value::String("bdl".into())),
                ("normalized_lookup", Value::String(lookup.into())),
                ("processed_at", version.map_or(Value::Null, Value::Int)),
            ])
        };
        assert_eq!(expected.rows, [key_and_version("amy", Some(1)), key_and_version("bob", None)]);

        assert!(expected.changed_keys(table, &stored).is_empty());
        assert_eq!(expected.changed_keys(table, &[row("amy", Some(2))]), ["bdl/amy"]);
        assert_eq!(expected.changed_keys(table, &[row("amy", Some(1)), row("bob", Some(3))]), ["bdl/bob"]);
        assert_eq!(expected.changed_keys(table, &[]), ["bdl/amy"]);
        // Rows sharing a key (left by another pipeline) stand for it with their latest version.
        assert!(expected.changed_keys(table, &[row("amy", Some(1)), row("amy", Some(0))]).is_empty());
        assert_eq!(expected.changed_keys(table, &[row("amy", Some(1)), row("amy", Some(2))]), ["bdl/amy"]);
    }

    #[test]
    fn a_written_version_moves_past_the_version_it_replaces() {
        let table = crate::schema::Table::find("nba_reference.unresolved_player_names").unwrap();
        let at = |text: &str| Value::Timestamp(text.parse().unwrap());
        let row = |lookup: &str, version: Value| {
            table.row(vec![
                ("source", Value::String("bdl".into())),
                ("normalized_lookup", Value::String(lookup.into())),
                ("processed_at", version),
            ])
        };
        let run_start = "2025-01-16T08:00:00Z";
        let stored = [
            row("amy", at(run_start)),
            row("bob", at("2025-01-16T07:00:00Z")),
            row("cat", at("2025-01-17T09:30:00.999999Z")),
        ];
        let mut written: Vec<Vec<Value>> =
            ["amy", "bob", "cat", "dan"].iter().map(|lookup| row(lookup, at(run_start))).collect();
        let expected = ExpectedVersions::of(table, "processed_at", &stored, &written);
        expected.advance_past(table, &mut written);
        let versions: Vec<&Value> =
            written.iter().map(|row| &row[table.column_index("processed_at").unwrap()]).collect();
        // amy: this run's earlier save left its own start, so this save leaves a microsecond
        // more; bob: an older version, the run's start stays; cat: a writer with a clock ahead,
        // a microsecond after its version; dan: no stored row, the run's start.
        assert_eq!(
            versions,
            [&at("2025-01-16T08:00:00.000001Z"), &at(run_start), &at("2025-01-17T09:30:01Z"), &at(run_start)]
        );
        assert_eq!(expected.changed_keys(table, &written), ["bdl/amy", "bdl/bob", "bdl/cat", "bdl/dan"]);
    }

    #[test]
    fn placeholders_and_parameters_are_rendered_outside_strings() {
        let mut parameters = Vec::new();
        let sql = render_sql(
            "SELECT '@x {a}' FROM {nba_raw.nbac_schedule} WHERE game_date = @date AND x = @date",
            |table| format!("\"p_{}\".\"{}\"", table.dataset.base_name(), table.name),
            |name| {
                parameters.push(name.to_owned());
                Ok("?".to_owned())
            },
        )
        .unwrap();
        assert_eq!(sql, "SELECT '@x {a}' FROM \"p_nba_raw\".\"nbac_schedule\" WHERE game_date = ? AND x = ?");
        assert_eq!(parameters, ["date", "date"]);
    }

    #[test]
    fn unknown_tables_are_named() {
        let error = render_sql("SELECT 1 FROM {nba_raw.nope}", |_| String::new(), |_| Ok(String::new()));
        assert_eq!(error.unwrap_err().to_string(), "unknown table nba_raw.nope in query");
    }

    #[test]
    fn lists_expand_to_one_parameter_each() {
        let query = Query::new("WHERE d IN (@dates) AND e = @dates_other").bind_list("dates", &[1i64, 2]);
        assert_eq!(query.sql, "WHERE d IN (@dates_0, @dates_1) AND e = @dates_other");
        assert_eq!(query.parameters.len(), 2);
        let empty = Query::new("WHERE d IN (@dates)").bind_list::<i64>("dates", &[]);
        assert_eq!(empty.sql, "WHERE d IN (NULL)");
    }
}
