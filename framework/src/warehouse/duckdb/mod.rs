//! The embedded warehouse: one DuckDB file, datasets as schemas.
//!
//! DuckDB's connection is not `Sync`, and its calls block: every call runs inside
//! `spawn_blocking`, a write on the write connection behind its mutex, a read on an idle
//! connection of the readers' pool, so async workers never stall on the database. Both go
//! through DuckDB's C API: reads copy the chunks of a streamed result (`chunks.rs`), writes
//! fill data chunks for DuckDB's appender (`appender.rs`).
//!
//! A write — one table or several together — is one transaction: per table, the rows in scope
//! are deleted, the new rows appended with DuckDB's appender (data chunks in the table's exact
//! types, no per-row SQL) and key uniqueness checked; then one commit, which syncs the
//! write-ahead log: a chunk's output, its side writes and a run's bookkeeping each commit once.

mod appender;
mod chunks;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use self::chunks::{Connection, Database};
use super::{
    ExpectedVersions, Query, ReplaceScope, ResultSet, TableWrite, Warehouse, WarehouseError, WriteReport,
    render_sql,
};
use crate::columns::ColumnSet;
use crate::fixtures::format_cell;
use crate::schema::{Column, ColumnType, Table};
use crate::value::Value;

/// Block size of a newly created database file (an existing file keeps its own).
///
/// A commit that appends rows to a checkpointed table starts one fresh, zeroed segment of a
/// whole block per column; with DuckDB's default 256 KiB blocks, committing a date's 300 rows to
/// a 60-column table took 1.5–2 times as long as with 16 KiB. Our tables hold tens of thousands
/// of rows per season, far below the sizes where larger blocks pay off in scans.
const NEW_FILE_BLOCK_SIZE: &str = "16384";

/// DuckDB's worker threads: none besides the one running each statement. The backend already
/// runs a chunk's reads side by side on pooled connections; with DuckDB's default (one worker
/// per core) the threads that issued those statements spun waiting for tasks that DuckDB's
/// workers held — a fifth of a date's CPU time in scheduler calls (`perf`), and on two cores the
/// three processors' one date took a median 99.8 ms against 109.9 ms (five alternating bench
/// runs each).
const STATEMENT_THREADS: &str = "1";

pub struct DuckDbWarehouse {
    /// Writes, DDL and the temporary key tables they stage.
    connection: Arc<Mutex<Connection>>,
    /// Idle connections for queries, so a processor's reads of one chunk run side by side:
    /// while DuckDB binds and scans one, the rows of another are decoded. All of them open
    /// the same database, and every write commits before it returns, so a read sees what any
    /// connection committed.
    readers: Arc<Mutex<Vec<Connection>>>,
    /// The database the writer and the readers connect to.
    database: Arc<Database>,
    /// One permit per core: queries beyond that wait their turn instead of running together.
    /// Each statement runs on its own thread, so the nine reads MLFS then made per chunk, issued
    /// at once, shared two cores nine ways, and the history read a date waits for got a ninth of
    /// a core until the small reads were done. Permits are granted in request order, so the read
    /// a processor issues first starts at once on a core of its own while the others take turns
    /// on the rest.
    running_queries: Arc<tokio::sync::Semaphore>,
    dataset_prefix: String,
}

impl DuckDbWarehouse {
    /// Opens (or creates) the database file; `:memory:` opens a private in-memory database.
    ///
    /// # Errors
    /// The file cannot be opened, e.g. another process holds DuckDB's write lock on it.
    pub fn open(path: &str, dataset_prefix: &str) -> Result<Self, WarehouseError> {
        DuckDbWarehouse::open_with(path, dataset_prefix, "READ_WRITE")
    }

    /// Opens an existing file for reading only (a dry run): nothing is created or changed, the
    /// write-ahead log of an unclean close is not replayed into the file, and a missing file is
    /// an error instead of a new empty warehouse.
    pub fn open_read_only(path: &str, dataset_prefix: &str) -> Result<Self, WarehouseError> {
        DuckDbWarehouse::open_with(path, dataset_prefix, "READ_ONLY")
    }

    /// `access_mode` is DuckDB's setting: `READ_WRITE` or `READ_ONLY`.
    fn open_with(path: &str, dataset_prefix: &str, access_mode: &str) -> Result<Self, WarehouseError> {
        let open_error = |message: String| WarehouseError::Open { url: format!("duckdb:{path}"), message };
        // Statements run on the thread that issues them (README, DuckDB section).
        let mut settings = vec![("threads", STATEMENT_THREADS), ("access_mode", access_mode)];
        if path != ":memory:" {
            settings.push(("default_block_size", NEW_FILE_BLOCK_SIZE));
        }
        let database = Database::open(path, &settings).map_err(open_error)?;
        let connection = Connection::connect(&database).map_err(open_error)?;
        Ok(DuckDbWarehouse {
            connection: Arc::new(Mutex::new(connection)),
            readers: Arc::new(Mutex::new(Vec::new())),
            database: Arc::new(database),
            running_queries: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            )),
            dataset_prefix: dataset_prefix.to_owned(),
        })
    }

    /// The schema holding `table`: its dataset's name after the prefix.
    fn schema_name(&self, table: &Table) -> String {
        table.dataset.prefixed_name(&self.dataset_prefix)
    }

    fn qualified_name(&self, table: &Table) -> String {
        format!("\"{}\".\"{}\"", self.schema_name(table), table.name)
    }

    async fn with_connection<T, F>(&self, work: F) -> Result<T, WarehouseError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, WarehouseError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-applied transaction behind
            // (DuckDB rolls back uncommitted work), so a poisoned mutex is still safe to use.
            let guard = connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&guard)
        })
        .await
        .map_err(|error| WarehouseError::Query { sql: String::new(), message: error.to_string() })?
    }

    /// Runs `work` on an idle read connection (a new one when all are busy), then returns the
    /// connection to the pool.
    async fn with_reader<T, F>(&self, work: F) -> Result<T, WarehouseError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, WarehouseError> + Send + 'static,
    {
        let database = Arc::clone(&self.database);
        let readers = Arc::clone(&self.readers);
        let permit = Arc::clone(&self.running_queries)
            .acquire_owned()
            .await
            .map_err(|error| WarehouseError::Query { sql: String::new(), message: error.to_string() })?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = readers.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
            let reader = match idle {
                Some(reader) => reader,
                None => Connection::connect(&database)
                    .map_err(|message| WarehouseError::Query { sql: String::new(), message })?,
            };
            let result = work(&reader);
            readers.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(reader);
            result
        })
        .await
        .map_err(|error| WarehouseError::Query { sql: String::new(), message: error.to_string() })?
    }

    fn create_table_sql(&self, table: &Table) -> String {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|column| {
                let not_null = if table.enforces_not_null(column) { " NOT NULL" } else { "" };
                format!("\"{}\" {}{not_null}", column.name, column_sql_type(column.column_type))
            })
            .collect();
        format!("CREATE TABLE IF NOT EXISTS {} ({})", self.qualified_name(table), columns.join(", "))
    }
}

pub(super) fn column_sql_type(column_type: ColumnType) -> String {
    match column_type {
        ColumnType::String | ColumnType::Json => "VARCHAR".to_owned(),
        ColumnType::Int64 => "BIGINT".to_owned(),
        ColumnType::Float64 => "DOUBLE".to_owned(),
        ColumnType::Numeric { precision, scale } => format!("DECIMAL({precision},{scale})"),
        ColumnType::Bool => "BOOLEAN".to_owned(),
        ColumnType::Date => "DATE".to_owned(),
        ColumnType::Timestamp => "TIMESTAMP".to_owned(),
        ColumnType::Float64Array => "DOUBLE[]".to_owned(),
        ColumnType::StringArray => "VARCHAR[]".to_owned(),
    }
}

#[async_trait]
impl Warehouse for DuckDbWarehouse {
    /// Lists the tables that exist and creates only the missing ones, as the BigQuery backend
    /// does. Every process opens the warehouse this way: `CREATE TABLE IF NOT EXISTS` of all
    /// 25 tables still parsed their 1,001 column definitions, 8–10 ms of each job's start,
    /// where the list takes 3.6–4.4 ms (release build, fresh processes).
    async fn ensure_tables(&self, tables: &[&'static Table]) -> Result<(), WarehouseError> {
        let existing = self
            .with_connection(|connection| {
                existing_tables(connection).map_err(|error| ddl_error(EXISTING_TABLES_SQL, error))
            })
            .await?;
        let missing: Vec<&Table> = tables
            .iter()
            .copied()
            .filter(|table| !existing.contains(&(self.schema_name(table), table.name.to_owned())))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut schemas: Vec<String> = missing.iter().map(|table| self.schema_name(table)).collect();
        schemas.sort();
        schemas.dedup();
        let statements: Vec<String> = schemas
            .iter()
            .map(|schema| format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .chain(missing.iter().map(|table| self.create_table_sql(table)))
            .collect();
        let sql = statements.join(";\n");
        self.with_connection(move |connection| {
            connection.execute(&sql).map(|_| ()).map_err(|error| ddl_error("CREATE TABLE …", error))
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<ResultSet, WarehouseError> {
        Ok(self.query_columns(query).await?.into_result_set())
    }

    async fn query_columns(&self, query: &Query) -> Result<ColumnSet, WarehouseError> {
        let sql = render_sql(
            &query.sql,
            |table| self.qualified_name(table),
            |name| {
                query
                    .parameters
                    .iter()
                    .find(|(parameter, _)| parameter == name)
                    .map(|(_, value)| sql_literal(value))
                    .ok_or_else(|| WarehouseError::UnboundParameter(name.to_owned()))
            },
        )?;
        self.with_reader(move |reader| {
            reader.query(&sql).map_err(|message| WarehouseError::Query { sql: sql.clone(), message })
        })
        .await
    }

    async fn replace(
        &self,
        table: &'static Table,
        scope: ReplaceScope,
        rows: Vec<Vec<Value>>,
        unique_key: bool,
    ) -> Result<WriteReport, WarehouseError> {
        let write = TableWrite::replace(table, scope, rows, unique_key);
        Ok(self.write_together(vec![write]).await?.pop().unwrap_or_default())
    }

    async fn append(&self, table: &'static Table, rows: Vec<Vec<Value>>) -> Result<(), WarehouseError> {
        self.write_together(vec![TableWrite::append(table, rows)]).await.map(|_| ())
    }

    fn writes_together_atomically(&self) -> bool {
        true
    }

    async fn write_together(&self, writes: Vec<TableWrite>) -> Result<Vec<WriteReport>, WarehouseError> {
        let targets: Vec<Target> = writes
            .iter()
            .map(|write| Target {
                qualified: self.qualified_name(write.table),
                schema: self.schema_name(write.table),
            })
            .collect();
        self.with_connection(move |connection| write_in_one_transaction(connection, writes, &targets)).await
    }
}

/// Where a write goes: the quoted name for SQL, the schema for the appender.
struct Target {
    qualified: String,
    schema: String,
}

fn write_error(table: &Table, error: impl std::fmt::Display) -> WarehouseError {
    WarehouseError::Write { table: table.to_string(), message: error.to_string() }
}

/// Applies every write in one transaction: all commit, or none does and the old rows stay.
fn write_in_one_transaction(
    connection: &Connection,
    writes: Vec<TableWrite>,
    targets: &[Target],
) -> Result<Vec<WriteReport>, WarehouseError> {
    // Checked before the transaction starts: a refused write costs no rollback.
    for write in &writes {
        if write.unique_key && new_rows_decide_uniqueness(write) {
            check_unique_rows(write.table, &write.rows)?;
        }
    }
    let transaction_error = |error: String| match writes.first() {
        Some(write) => write_error(write.table, error),
        None => WarehouseError::Write { table: String::new(), message: error.to_string() },
    };
    connection.execute("BEGIN TRANSACTION").map_err(transaction_error)?;
    let mut reports = Vec::with_capacity(writes.len());
    for (write, target) in writes.iter().zip(targets) {
        match write_one(connection, write, target) {
            Ok(report) => reports.push(report),
            Err(error) => {
                let _ = connection.execute("ROLLBACK");
                return Err(error);
            }
        }
    }
    connection.execute("COMMIT").map_err(transaction_error)?;
    Ok(reports)
}

/// Inside the open transaction: deletes the scope, appends the rows to the table itself, checks
/// keys. Only the key columns of the new rows are staged, when a key check against the kept rows
/// needs them: appending a few hundred rows allocates a fresh segment per
/// column, which for the wide output tables cost more than the rows, so staging whole rows in a
/// temporary table and copying them over paid that twice.
fn write_one(
    connection: &Connection,
    write: &TableWrite,
    target: &Target,
) -> Result<WriteReport, WarehouseError> {
    let table = write.table;
    if write.scope.is_none() && write.rows.is_empty() {
        return Ok(WriteReport::default());
    }
    if let Some(row) = write.rows.iter().find(|row| row.len() != table.columns.len()) {
        let message = format!("a row has {} cells for {} columns", row.len(), table.columns.len());
        return Err(write_error(table, message));
    }
    if write.expected.is_some() && write.scope != Some(ReplaceScope::Keys) {
        return Err(write_error(table, "only a keyed upsert can expect the stored rows it replaces"));
    }
    let check_kept_rows = write.unique_key && !new_rows_decide_uniqueness(write) && !table.key.is_empty();
    let keys_staging = check_kept_rows.then(|| stage_keys(connection, table, &write.rows)).transpose()?;
    let rows_deleted = match &write.scope {
        None => 0,
        Some(ReplaceScope::WholeTable) => {
            execute(connection, table, &format!("DELETE FROM {}", target.qualified))?
        }
        Some(ReplaceScope::Partitions(dates)) if dates.is_empty() => 0,
        Some(ReplaceScope::Partitions(dates)) => {
            let partition =
                table.partition.ok_or_else(|| write_error(table, "the table has no partition column"))?;
            let dates: Vec<String> = dates.iter().map(|date| sql_literal(&Value::Date(*date))).collect();
            execute(
                connection,
                table,
                &format!("DELETE FROM {} WHERE \"{partition}\" IN ({})", target.qualified, dates.join(", ")),
            )?
        }
        Some(ReplaceScope::Keys) => {
            delete_keys(connection, table, &target.qualified, &write.rows, write.expected.as_ref())?
        }
    };
    append_rows(connection, table, target, &write.rows)?;
    if let Some(staging) = &keys_staging {
        if check_kept_rows {
            check_unique_keys(connection, table, &target.qualified, Some(staging))?;
        }
        execute(connection, table, &format!("DELETE FROM {staging}"))?;
    }
    Ok(WriteReport { rows_deleted, rows_inserted: write.rows.len() as u64 })
}

/// Whether the new rows alone decide key uniqueness: they replace the whole table, every row of
/// their own keys, or whole partitions whose column is part of the key (a key can then only
/// repeat among them). Checking them in memory is exact and cheaper than a query on the table.
fn new_rows_decide_uniqueness(write: &TableWrite) -> bool {
    match write.scope {
        Some(ReplaceScope::WholeTable | ReplaceScope::Keys) => true,
        Some(ReplaceScope::Partitions(_)) => {
            write.table.partition.is_some_and(|partition| write.table.key.contains(&partition))
        }
        _ => false,
    }
}

/// Refuses rows holding one key twice.
fn check_unique_rows(table: &Table, rows: &[Vec<Value>]) -> Result<(), WarehouseError> {
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    for row in rows {
        let key = table.key_text(row);
        if seen.contains(&key) {
            return Err(WarehouseError::DuplicateKey { table: table.to_string(), key });
        }
        seen.insert(key);
    }
    Ok(())
}

/// The key columns of `table` with their positions in a row.
fn key_columns(table: &Table) -> Vec<(usize, &Column)> {
    table
        .key
        .iter()
        .filter_map(|key| table.column_index(key).map(|index| (index, &table.columns[index])))
        .collect()
}

/// Deletes the rows holding a key of one of `rows`, the keys listed in the statement itself:
/// upserts are small (checkpoints, unresolved names), and one statement costs less than staging
/// the keys in a temporary table first. A single key (a one-date job's checkpoint) is a plain
/// equality, which DuckDB applies in the scan: 0.37 ms against 0.78 ms for the `EXISTS` form.
///
/// With `expected`, the rows it deletes, the stored rows of those keys as they are inside the
/// write's transaction, must still be what the write was built from ([`ExpectedVersions`]):
/// checked on the rows the statement returns. Reading them in a query first took PGS's upsert of
/// its unresolved names 0.6 ms longer (medians of 3.9–4.6 ms against 3.2–3.9, three alternating
/// pairs of seven runs).
fn delete_keys(
    connection: &Connection,
    table: &Table,
    qualified: &str,
    rows: &[Vec<Value>],
    expected: Option<&ExpectedVersions>,
) -> Result<u64, WarehouseError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let key_columns = key_columns(table);
    // Each key cell cast to its column's type, as the `VALUES` list's columns take their types
    // from its first row.
    let key_cells = |row: &Vec<Value>| -> Vec<String> {
        key_columns
            .iter()
            .map(|(index, column)| {
                format!("CAST({} AS {})", sql_literal(&row[*index]), column_sql_type(column.column_type))
            })
            .collect()
    };
    let sql = if let [row] = rows {
        let equalities: Vec<String> = key_columns
            .iter()
            .zip(key_cells(row))
            .map(|((_, column), cell)| format!("\"{}\" = {cell}", column.name))
            .collect();
        format!("DELETE FROM {qualified} WHERE {}", equalities.join(" AND "))
    } else {
        let tuples: Vec<String> = rows.iter().map(|row| format!("({})", key_cells(row).join(", "))).collect();
        let names: Vec<String> =
            key_columns.iter().map(|(_, column)| format!("\"{}\"", column.name)).collect();
        let matches: Vec<String> =
            key_columns.iter().map(|(_, column)| format!("t.\"{0}\" = s.\"{0}\"", column.name)).collect();
        format!(
            "DELETE FROM {qualified} t WHERE EXISTS (SELECT 1 FROM (VALUES {}) AS s({}) WHERE {})",
            tuples.join(", "),
            names.join(", "),
            matches.join(" AND ")
        )
    };
    let Some(expected) = expected else { return execute(connection, table, &sql) };
    let columns: Vec<String> = table.column_names().map(|name| format!("\"{name}\"")).collect();
    let deleted = run_query(connection, &format!("{sql} RETURNING {}", columns.join(", ")))?;
    let deleted = deleted.into_result_set().rows;
    if !expected.changed_keys(table, &deleted).is_empty() {
        return Err(WarehouseError::ConcurrentUpdate { table: table.to_string() });
    }
    Ok(deleted.len() as u64)
}

/// Copies the key columns of `rows` into the table's temporary key table (created on first use,
/// emptied after every write) and returns its name.
fn stage_keys(connection: &Connection, table: &Table, rows: &[Vec<Value>]) -> Result<String, WarehouseError> {
    let staging = format!("keys_{}_{}", table.dataset.base_name(), table.name);
    let key_columns = key_columns(table);
    let definitions: Vec<String> = key_columns
        .iter()
        .map(|(_, column)| format!("\"{}\" {}", column.name, column_sql_type(column.column_type)))
        .collect();
    connection
        .execute(&format!("CREATE TEMP TABLE IF NOT EXISTS \"{staging}\" ({})", definitions.join(", ")))
        .map_err(|error| write_error(table, error))?;
    if !rows.is_empty() {
        appender::append(connection, (Some("temp"), "main", &staging), &key_columns, rows)
            .map_err(|message| write_error(table, message))?;
    }
    Ok(format!("temp.main.\"{staging}\""))
}

/// Appends `rows` to the target table through the appender, inside the open transaction.
fn append_rows(
    connection: &Connection,
    table: &Table,
    target: &Target,
    rows: &[Vec<Value>],
) -> Result<(), WarehouseError> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns: Vec<(usize, &Column)> = table.columns.iter().enumerate().collect();
    appender::append(connection, (None, &target.schema, table.name), &columns, rows)
        .map_err(|message| write_error(table, message))
}

/// Refuses the write when a key occurs twice in `rows_table`: the target after the insert (only
/// the keys also in `written`, the staging table), or the staged rows themselves.
fn check_unique_keys(
    connection: &Connection,
    table: &Table,
    rows_table: &str,
    written: Option<&str>,
) -> Result<(), WarehouseError> {
    let keys: Vec<String> = table.key.iter().map(|key| format!("t.\"{key}\"")).collect();
    let filter = match written {
        Some(staging_table) => {
            let matches: Vec<String> =
                table.key.iter().map(|key| format!("t.\"{key}\" = s.\"{key}\"")).collect();
            format!("WHERE EXISTS (SELECT 1 FROM {staging_table} s WHERE {})", matches.join(" AND "))
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT {keys}, count(*) FROM {rows_table} t {filter} GROUP BY {keys} HAVING count(*) > 1 LIMIT 1",
        keys = keys.join(", "),
    );
    let duplicates = run_query(connection, &sql)?.into_result_set();
    if let Some(row) = duplicates.rows.first() {
        let key: Vec<String> = row[..table.key.len()].iter().map(format_cell).collect();
        return Err(WarehouseError::DuplicateKey { table: table.to_string(), key: key.join("/") });
    }
    Ok(())
}

fn ddl_error(sql: &str, message: String) -> WarehouseError {
    WarehouseError::Query { sql: sql.to_owned(), message }
}

/// The `(schema, table)` pairs of the database's own tables.
const EXISTING_TABLES_SQL: &str =
    "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()";

fn existing_tables(connection: &Connection) -> Result<HashSet<(String, String)>, String> {
    let tables = connection.query(EXISTING_TABLES_SQL)?;
    let name = |column: usize, row: usize| {
        let cell = tables.columns[column].cell(row);
        cell.as_str().map(str::to_owned).ok_or_else(|| format!("a table name reads as {cell:?}"))
    };
    (0..tables.rows).map(|row| Ok((name(0, row)?, name(1, row)?))).collect()
}

fn execute(connection: &Connection, table: &Table, sql: &str) -> Result<u64, WarehouseError> {
    connection.execute(sql).map_err(|error| write_error(table, error))
}

/// Runs a query on the writer's connection, inside its transaction.
fn run_query(connection: &Connection, sql: &str) -> Result<ColumnSet, WarehouseError> {
    connection.query(sql).map_err(|message| WarehouseError::Query { sql: sql.to_owned(), message })
}

/// A [`Value`] as a typed SQL literal of the type a bound parameter of it would have.
///
/// Values are written into the statement instead of bound: DuckDB plans a statement that reads
/// a table only once it knows its parameters' values, so a prepared statement with parameters
/// was bound and planned twice, at `prepare` without the values and again at execution with them
/// — every read, delete and key check of a run. A statement without parameters is planned once,
/// at `prepare`. Text is quoted (a quote doubled; DuckDB reads no backslash escapes), numbers and
/// dates are cast from their exact text, so a literal reads back as the value itself.
fn sql_literal(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => format!("CAST({number} AS BIGINT)"),
        // `{:?}` is the shortest text that parses back to the same double.
        Value::Float(number) if number.is_finite() => format!("CAST('{number:?}' AS DOUBLE)"),
        Value::Float(_) => "NULL".to_owned(),
        Value::String(text) => quoted_varchar(text),
        Value::Date(date) => format!("DATE '{}'", date.format("%Y-%m-%d")),
        Value::Timestamp(timestamp) => {
            format!("TIMESTAMP '{}'", timestamp.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f"))
        }
        // An empty array is NULL, as the appender stores it (`appender::append`: BigQuery
        // cannot tell an empty array from a NULL one, so both backends keep NULL).
        Value::FloatArray(numbers) if numbers.is_empty() => "NULL".to_owned(),
        Value::StringArray(texts) if texts.is_empty() => "NULL".to_owned(),
        Value::FloatArray(numbers) => {
            quoted_varchar(&serde_json::to_string(numbers).expect("finite floats serialise to JSON"))
        }
        Value::StringArray(texts) => {
            quoted_varchar(&serde_json::to_string(texts).expect("strings serialise to JSON"))
        }
    }
}

/// The statement reaches DuckDB as a C string, so a NUL byte in the text is spelled `chr(0)`.
fn quoted_varchar(text: &str) -> String {
    let pieces: Vec<String> =
        text.split('\0').map(|piece| format!("'{}'", piece.replace('\'', "''"))).collect();
    format!("CAST({} AS VARCHAR)", pieces.join(" || chr(0) || "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, Utc};

    use crate::columns::Cells;
    use crate::schema::{analytics, predictions, processing, raw};
    use crate::value::CellRef;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// A `player_game_summary` row of game `g` (LAL against GSW) with its key and NOT NULL
    /// columns set, plus one more cell.
    fn summary_row(day: &str, player: &str, (column, value): (&str, Value)) -> Vec<Value> {
        analytics::PLAYER_GAME_SUMMARY.row(vec![
            ("player_lookup", Value::String(player.into())),
            ("game_id", Value::String("g".into())),
            ("game_date", Value::Date(date(day))),
            ("team_abbr", Value::String("LAL".into())),
            ("opponent_team_abbr", Value::String("GSW".into())),
            ("season_year", Value::Int(2024)),
            (column, value),
        ])
    }

    #[test]
    fn arrays_decimals_dates_and_timestamps_round_trip() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "t_").unwrap();
            warehouse.ensure_tables(&[&predictions::ML_FEATURE_STORE_V2]).await.unwrap();
            let table = &predictions::ML_FEATURE_STORE_V2;
            let created = DateTime::<Utc>::from_timestamp_micros(1_736_942_400_123_456).unwrap();
            let row = table.row(vec![
                ("player_lookup", Value::String("lebronjames".into())),
                ("game_date", Value::Date(date("2025-01-15"))),
                ("game_id", Value::String("20250115_LAL_GSW".into())),
                ("features", Value::FloatArray(vec![20.5, 0.1, -3.0])),
                ("feature_names", Value::StringArray(vec!["a,b".into(), "it's".into()])),
                ("feature_count", Value::Int(3)),
                ("feature_version", Value::String("v1_baseline_25".into())),
                ("feature_quality_score", Value::Float(97.35)),
                ("data_source", Value::String("phase4".into())),
                ("created_at", Value::Timestamp(created)),
            ]);
            let report = warehouse
                .replace(table, ReplaceScope::Partitions(vec![date("2025-01-15")]), vec![row.clone()], true)
                .await
                .unwrap();
            assert_eq!(report.rows_inserted, 1);
            let result = warehouse
                .query(
                    &Query::new("SELECT * FROM {nba_predictions.ml_feature_store_v2} WHERE game_date = @d")
                        .bind("d", date("2025-01-15")),
                )
                .await
                .unwrap();
            assert_eq!(result.rows, vec![row]);
        });
    }

    #[test]
    fn replacing_a_partition_leaves_other_dates_and_refuses_duplicate_keys() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let table = &analytics::PLAYER_GAME_SUMMARY;
            warehouse.ensure_tables(&[table]).await.unwrap();
            let summary =
                |day: &str, player: &str, points: i64| summary_row(day, player, ("points", Value::Int(points)));
            let day_one = ReplaceScope::Partitions(vec![date("2025-01-01")]);
            warehouse.replace(table, day_one.clone(), vec![summary("2025-01-01", "a", 1), summary("2025-01-01", "b", 2)], true).await.unwrap();
            warehouse.replace(table, ReplaceScope::Partitions(vec![date("2025-01-02")]), vec![summary("2025-01-02", "a", 3)], true).await.unwrap();
            let report = warehouse.replace(table, day_one.clone(), vec![summary("2025-01-01", "a", 5)], true).await.unwrap();
            assert_eq!(report, WriteReport { rows_deleted: 2, rows_inserted: 1 });

            let error = warehouse
                .replace(table, day_one, vec![summary("2025-01-01", "c", 7), summary("2025-01-01", "c", 8)], true)
                .await
                .unwrap_err();
            assert!(matches!(error, WarehouseError::DuplicateKey { .. }), "{error}");

            let points = warehouse
                .query(&Query::new("SELECT game_date, player_lookup, points FROM {nba_analytics.player_game_summary} ORDER BY 1, 2"))
                .await
                .unwrap();
            assert_eq!(
                points.rows,
                vec![
                    vec![Value::Date(date("2025-01-01")), Value::String("a".into()), Value::Int(5)],
                    vec![Value::Date(date("2025-01-02")), Value::String("a".into()), Value::Int(3)],
                ]
            );
        });
    }

    #[test]
    fn a_null_key_column_fails_the_write_and_keeps_the_previous_rows() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let table = &raw::NBAC_SCHEDULE;
            warehouse.ensure_tables(&[table]).await.unwrap();
            let row = table.row(vec![
                ("game_id", Value::String("0022400001".into())),
                ("game_date", Value::Date(date("2024-10-22"))),
            ]);
            warehouse.replace(table, ReplaceScope::WholeTable, vec![row.clone()], false).await.unwrap();
            let mut bad = row.clone();
            bad[table.column_index("game_id").unwrap()] = Value::Null;
            assert!(warehouse.replace(table, ReplaceScope::WholeTable, vec![bad], false).await.is_err());
            let count =
                warehouse.query(&Query::new("SELECT count(*) FROM {nba_raw.nbac_schedule}")).await.unwrap();
            assert_eq!(count.rows, vec![vec![Value::Int(1)]]);
        });
    }

    #[test]
    fn only_missing_tables_are_created_and_existing_rows_stay() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "t_").unwrap();
            let schedule = &raw::NBAC_SCHEDULE;
            let progress = &processing::BACKFILL_PROGRESS;
            warehouse.ensure_tables(&[schedule]).await.unwrap();
            let game = schedule.row(vec![
                ("game_id", Value::String("0022400001".into())),
                ("game_date", Value::Date(date("2024-10-22"))),
            ]);
            warehouse.replace(schedule, ReplaceScope::WholeTable, vec![game], false).await.unwrap();
            // The existing table again, and one of a dataset whose schema does not exist yet.
            warehouse.ensure_tables(&[schedule, progress]).await.unwrap();
            let rows = |sql: &'static str| {
                let warehouse = &warehouse;
                async move { warehouse.query(&Query::new(sql)).await.unwrap().rows }
            };
            assert_eq!(rows("SELECT count(*) FROM {nba_raw.nbac_schedule}").await, [[Value::Int(1)]]);
            assert_eq!(
                rows("SELECT count(*) FROM {nba_processing.backfill_progress}").await,
                [[Value::Int(0)]]
            );
            let tables =
                rows("SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1").await;
            let names = |name: &str| vec![Value::String(name.into())];
            assert_eq!(
                tables,
                [names("t_nba_processing.backfill_progress"), names("t_nba_raw.nbac_schedule")]
            );
        });
    }

    #[test]
    fn writes_together_commit_all_or_nothing() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let schedule = &raw::NBAC_SCHEDULE;
            let progress = &processing::BACKFILL_PROGRESS;
            warehouse.ensure_tables(&[schedule, progress]).await.unwrap();
            let game = |game_id: &str| {
                schedule.row(vec![
                    ("game_id", Value::String(game_id.into())),
                    ("game_date", Value::Date(date("2024-10-22"))),
                ])
            };
            let checkpoint = |day: &str, status: &str| {
                progress.row(vec![
                    ("processor", Value::String("p".into())),
                    ("date", Value::Date(date(day))),
                    ("status", Value::String(status.into())),
                ])
            };
            let reports = warehouse
                .write_together(vec![
                    TableWrite::replace(schedule, ReplaceScope::WholeTable, vec![game("first")], false),
                    TableWrite::replace(
                        progress,
                        ReplaceScope::Keys,
                        vec![checkpoint("2024-10-22", "success")],
                        true,
                    ),
                ])
                .await
                .unwrap();
            assert_eq!(reports, [WriteReport { rows_deleted: 0, rows_inserted: 1 }; 2]);

            // The second write lacks a key cell, which only the table refuses: the first write,
            // already applied inside the transaction, is rolled back with it.
            let mut keyless = checkpoint("2024-10-23", "success");
            keyless[progress.column_index("processor").unwrap()] = Value::Null;
            let error = warehouse
                .write_together(vec![
                    TableWrite::replace(schedule, ReplaceScope::WholeTable, vec![game("second")], false),
                    TableWrite::replace(progress, ReplaceScope::Keys, vec![keyless], true),
                ])
                .await
                .unwrap_err();
            assert!(matches!(error, WarehouseError::Write { .. }), "{error}");
            // A write repeating a key is refused before anything is applied.
            let repeated = vec![checkpoint("2024-10-23", "success"), checkpoint("2024-10-23", "failed")];
            let error = warehouse
                .write_together(vec![
                    TableWrite::replace(schedule, ReplaceScope::WholeTable, vec![game("second")], false),
                    TableWrite::replace(progress, ReplaceScope::Keys, repeated, true),
                ])
                .await
                .unwrap_err();
            assert!(matches!(error, WarehouseError::DuplicateKey { .. }), "{error}");
            let games =
                warehouse.query(&Query::new("SELECT game_id FROM {nba_raw.nbac_schedule}")).await.unwrap();
            assert_eq!(games.rows, vec![vec![Value::String("first".into())]]);
            let dates = warehouse
                .query(&Query::new("SELECT date, status FROM {nba_processing.backfill_progress}"))
                .await
                .unwrap();
            assert_eq!(
                dates.rows,
                vec![vec![Value::Date(date("2024-10-22")), Value::String("success".into())]]
            );
        });
    }

    #[test]
    fn an_upsert_replaces_the_rows_of_its_keys_and_keeps_the_others() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let progress = &processing::BACKFILL_PROGRESS;
            warehouse.ensure_tables(&[progress]).await.unwrap();
            let checkpoint = |processor: &str, day: &str, status: &str| {
                progress.row(vec![
                    ("processor", Value::String(processor.into())),
                    ("date", Value::Date(date(day))),
                    ("status", Value::String(status.into())),
                ])
            };
            let first = vec![
                checkpoint("p", "2024-10-22", "failed"),
                checkpoint("p", "2024-10-23", "success"),
                checkpoint("q", "2024-10-22", "success"),
            ];
            warehouse.replace(progress, ReplaceScope::Keys, first, true).await.unwrap();
            let report = warehouse
                .replace(progress, ReplaceScope::Keys, vec![checkpoint("p", "2024-10-22", "success")], true)
                .await
                .unwrap();
            assert_eq!(report, WriteReport { rows_deleted: 1, rows_inserted: 1 });
            let rows = warehouse
                .query(&Query::new(
                    "SELECT processor, date, status FROM {nba_processing.backfill_progress} ORDER BY processor, date",
                ))
                .await
                .unwrap();
            let expected: Vec<Vec<Value>> = [
                ("p", "2024-10-22", "success"),
                ("p", "2024-10-23", "success"),
                ("q", "2024-10-22", "success"),
            ]
            .into_iter()
            .map(|(processor, day, status)| {
                vec![Value::String(processor.into()), Value::Date(date(day)), Value::String(status.into())]
            })
            .collect();
            assert_eq!(rows.rows, expected);
            // Several keys at once (one key is a plain equality, several an `EXISTS` list).
            let second = vec![checkpoint("p", "2024-10-23", "failed"), checkpoint("q", "2024-10-22", "failed")];
            let report = warehouse.replace(progress, ReplaceScope::Keys, second, true).await.unwrap();
            assert_eq!(report, WriteReport { rows_deleted: 2, rows_inserted: 2 });
            let statuses = warehouse
                .query(&Query::new(
                    "SELECT status FROM {nba_processing.backfill_progress} ORDER BY processor, date",
                ))
                .await
                .unwrap();
            assert_eq!(statuses.rows, [["success"], ["failed"], ["failed"]].map(|[status]| vec![Value::String(status.into())]));
        });
    }

    #[test]
    fn a_cell_of_the_wrong_kind_names_its_column() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let table = &raw::NBAC_SCHEDULE;
            warehouse.ensure_tables(&[table]).await.unwrap();
            let row = table.row(vec![
                ("game_id", Value::String("0022400001".into())),
                ("game_date", Value::String("2024-10-22".into())),
            ]);
            let error = warehouse.append(table, vec![row]).await.unwrap_err();
            assert_eq!(
                error.to_string(),
                "write to nba_raw.nbac_schedule failed: column game_date (Date) cannot hold String(\"2024-10-22\")"
            );
        });
    }

    #[test]
    fn numeric_cells_round_like_duckdbs_own_cast_and_refuse_overflow() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let table = &analytics::PLAYER_GAME_SUMMARY;
            warehouse.ensure_tables(&[table]).await.unwrap();
            let line = |player: usize, points_line: f64| {
                summary_row("2025-01-15", &format!("p{player}"), ("points_line", Value::Float(points_line)))
            };
            // Ties of the binary value times ten round away from zero (0.25 -> 0.3); 0.35 is
            // 0.34999… in binary but 3.5 after the multiplication, as in DuckDB's cast.
            let lines = [0.25, 0.35, 0.45, 0.15, -0.25, 2.675, 999.94, -999.94];
            let rows = lines.iter().enumerate().map(|(player, value)| line(player, *value)).collect();
            let scope = ReplaceScope::Partitions(vec![date("2025-01-15")]);
            warehouse.replace(table, scope.clone(), rows, true).await.unwrap();
            let stored = warehouse
                .query(&Query::new(
                    "SELECT points_line::VARCHAR FROM {nba_analytics.player_game_summary} ORDER BY player_lookup",
                ))
                .await
                .unwrap();
            let texts: Vec<Value> = ["0.3", "0.4", "0.5", "0.2", "-0.3", "2.7", "999.9", "-999.9"]
                .into_iter()
                .map(|text| Value::String(text.into()))
                .collect();
            assert_eq!(stored.rows.concat(), texts);
            for value in lines {
                let cast = warehouse
                    .query(&Query::new("SELECT CAST(CAST(@v AS DOUBLE) AS DECIMAL(4,1))::VARCHAR").bind("v", value))
                    .await
                    .unwrap();
                let position = lines.iter().position(|line| *line == value).unwrap();
                assert_eq!(cast.rows[0][0], texts[position], "{value}");
            }

            let error = warehouse.replace(table, scope, vec![line(0, 999.96)], true).await.unwrap_err();
            assert!(error.to_string().contains("column points_line"), "{error}");
        });
    }

    #[test]
    fn a_value_written_into_a_statement_reads_back_as_itself_with_its_parameter_type() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let stamp = DateTime::<Utc>::from_timestamp_micros(1_736_942_400_123_456).unwrap();
            let values = [
                (Value::Int(i64::MIN), "BIGINT"),
                (Value::Int(i64::MAX), "BIGINT"),
                (Value::Float(0.1), "DOUBLE"),
                (Value::Float(-2.675e-300), "DOUBLE"),
                (Value::Float(f64::MAX), "DOUBLE"),
                (Value::Float(f64::NAN), "\"NULL\""),
                (Value::String("it's".into()), "VARCHAR"),
                (Value::String("'; DROP TABLE x; --".into()), "VARCHAR"),
                (Value::String("a\\b\\'".into()), "VARCHAR"),
                (Value::String("Nikola Jokić".into()), "VARCHAR"),
                (Value::String("\0nul\0'byte\0".into()), "VARCHAR"),
                (Value::Date(date("2025-04-11")), "DATE"),
                (Value::Timestamp(stamp), "TIMESTAMP"),
                (Value::Bool(true), "BOOLEAN"),
                (Value::Null, "\"NULL\""),
            ];
            for (value, type_name) in values {
                let read = warehouse
                    .query(&Query::new("SELECT @v AS v, typeof(@v) AS t").bind("v", value.clone()))
                    .await
                    .unwrap();
                let expected = if matches!(value, Value::Float(number) if number.is_nan()) {
                    Value::Null
                } else {
                    value
                };
                assert_eq!(read.rows, vec![vec![expected, Value::String(type_name.into())]]);
            }
        });
    }

    /// A database file of this test alone, removed (with its write-ahead log) when dropped.
    struct TempDatabase(std::path::PathBuf);

    impl TempDatabase {
        fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!("{name}-{}.duckdb", std::process::id()));
            TempDatabase(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempDatabase {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
            let _ = std::fs::remove_file(self.0.with_extension("duckdb.wal"));
        }
    }

    #[test]
    fn a_new_database_file_uses_small_blocks() {
        runtime().block_on(async {
            let file = TempDatabase::new("block-size");
            let warehouse = DuckDbWarehouse::open(file.path(), "").unwrap();
            let size =
                warehouse.query(&Query::new("SELECT block_size FROM pragma_database_size()")).await.unwrap();
            assert_eq!(size.rows, vec![vec![Value::Int(16_384)]]);
        });
    }

    #[test]
    fn statements_run_on_their_own_thread_in_files_and_in_memory() {
        runtime().block_on(async {
            let file = TempDatabase::new("threads");
            for warehouse in [
                DuckDbWarehouse::open(file.path(), "").unwrap(),
                DuckDbWarehouse::open(":memory:", "").unwrap(),
            ] {
                let threads =
                    warehouse.query(&Query::new("SELECT current_setting('threads')")).await.unwrap();
                assert_eq!(threads.rows, vec![vec![Value::Int(1)]]);
            }
        });
    }

    #[test]
    fn results_longer_than_a_batch_keep_every_cell_in_its_row_and_column() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            let query = Query::new(
                "SELECT range AS n, 'p' || range AS name, \
                 CASE WHEN range % 3 = 0 THEN NULL ELSE range * 0.5 END AS half, \
                 [range, range + 1]::DOUBLE[] AS pair \
                 FROM range(3000) ORDER BY range",
            );
            let result = warehouse.query(&query).await.unwrap();
            assert_eq!(result.rows.len(), 3000);
            for n in [0_i64, 127, 128, 129, 2047, 2048, 2999] {
                let half = if n % 3 == 0 { Value::Null } else { Value::Float(n as f64 * 0.5) };
                let pair = Value::FloatArray(vec![n as f64, n as f64 + 1.0]);
                assert_eq!(
                    result.rows[n as usize],
                    vec![Value::Int(n), Value::String(format!("p{n}")), half, pair]
                );
            }
            // Column by column, each column typed by its DuckDB type; the rows are these columns.
            let columns = warehouse.query_columns(&query).await.unwrap();
            assert_eq!(columns.rows, 3000);
            assert!(
                matches!(
                    columns.columns[..],
                    [Cells::Ints(_), Cells::Texts(_), Cells::Floats(_), Cells::Values(_)]
                ),
                "{:?}",
                columns.columns.iter().map(|column| column.cell(0)).collect::<Vec<_>>()
            );
            assert_eq!(columns.columns[1].cell(2999), CellRef::Text("p2999"));
            assert_eq!(columns.into_result_set(), result);
        });
    }

    #[test]
    fn a_query_failing_in_its_last_row_is_an_error_not_a_panic() {
        runtime().block_on(async {
            let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
            // The cast fails on the last row only, beyond the first batch of 2048 rows.
            let query = Query::new(
                "SELECT CAST(CASE WHEN range < 4999 THEN '1' ELSE 'x' END AS INTEGER) AS n FROM range(5000)",
            );
            let error = warehouse.query_columns(&query).await.unwrap_err();
            // Reported with its SQL, as DuckDB's error: a panic in the query's thread would come
            // back without it.
            assert!(
                matches!(&error, WarehouseError::Query { sql, message }
                    if sql.contains("range(5000)") && message.contains("Conversion Error")),
                "{error}"
            );
            // The connection goes back to the pool in working order.
            let one = warehouse.query(&Query::new("SELECT 1 AS one")).await.unwrap();
            assert_eq!(one.rows, vec![vec![Value::Int(1)]]);
        });
    }

    #[test]
    fn queries_side_by_side_all_see_every_committed_write() {
        runtime().block_on(async {
            let file = TempDatabase::new("side-by-side");
            let warehouse = DuckDbWarehouse::open(file.path(), "").unwrap();
            let table = &analytics::PLAYER_GAME_SUMMARY;
            warehouse.ensure_tables(&[table]).await.unwrap();
            let count_of = |player: usize| {
                Query::new(
                    "SELECT count(*) FROM {nba_analytics.player_game_summary} WHERE player_lookup = @p",
                )
                .bind("p", format!("p{player}"))
            };
            for round in 1..=3_i64 {
                let day = format!("2025-01-1{round}");
                let rows = (0..4)
                    .map(|player| summary_row(&day, &format!("p{player}"), ("points", Value::Int(round))))
                    .collect();
                warehouse.append(table, rows).await.unwrap();
                let queries: Vec<Query> = (0..4).map(count_of).collect();
                let results = tokio::try_join!(
                    warehouse.query(&queries[0]),
                    warehouse.query(&queries[1]),
                    warehouse.query(&queries[2]),
                    warehouse.query(&queries[3]),
                )
                .unwrap();
                for result in [results.0, results.1, results.2, results.3] {
                    assert_eq!(result.rows, vec![vec![Value::Int(round)]]);
                }
            }
        });
    }
}
