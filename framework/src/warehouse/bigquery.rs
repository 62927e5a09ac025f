//! The BigQuery backend, on `gcp-bigquery-client`: bound parameters, paged reads, keyed atomic
//! writes through a staging table, bounded retries.
//!
//! This module owns the translation between the shared SQL dialect and BigQuery's, the REST calls
//! and their retry policy, and the mapping between [`Value`] and BigQuery cells. What a write
//! means (which rows a scope replaces, the uniqueness rule) is the [`Warehouse`] contract, whose
//! reference implementation is the DuckDB backend.
//!
//! # How a write stays atomic
//! Rows go to a staging table of this run (`_staging_<table>_<run>_<n>`, in the target's dataset,
//! expiring after a day if a crash leaves it behind) through `insertAll` in chunks (the targets
//! never hold streamed rows, which would block later DML on BigQuery), and the dates of every
//! replaced scope go to one more (`write_scopes`: a script takes no query parameters on the
//! emulator, and values never become SQL text). The script declares each scope's dates as an array
//! variable from that table, so that its statements compare the partition column with values known
//! before they run, which partition pruning needs (a subquery there defeats it; not measured on
//! real BigQuery). Then the script applies every table's write inside `BEGIN TRANSACTION … COMMIT
//! TRANSACTION`: per replaced scope a `MERGE … ON FALSE` that deletes the scope's rows (`WHEN NOT
//! MATCHED BY SOURCE AND <scope>`) and inserts every staged row (`WHEN NOT MATCHED`), or a `DELETE`
//! when no rows replace them; per append an `INSERT … SELECT`; per keyed upsert a `DELETE` of its
//! keys and an `INSERT … SELECT`. A chunk's output and side tables, or a run's history and
//! checkpoints, thus commit together or not at all, as on the embedded warehouse
//! ([`Warehouse::writes_together_atomically`]). The script first checks that every staging table
//! holds the rows streamed into it (`staged_rows_check_sql`: streamed rows become queryable
//! within seconds, not at once) and runs again after a wait while one does not; one holding more
//! rows than were streamed (a retried chunk's copy) fails the write. Finally the staging tables are
//! dropped, whatever happened. A failure before or during the script leaves the previous rows. The
//! requests of different tables do not depend on each other, so they run side by side: the stagings
//! (creation, then `insertAll`), then the key checks, the script, and the drops, about five round
//! trips for a write set of any size instead of about three per table. With `unique_key`, one query
//! before the script refuses a write whose staged rows repeat a key, or share one with a row
//! outside the scope (the rows the MERGE keeps); it is the same rule as the DuckDB backend's check
//! inside its transaction, and it assumes one writer per table and date, as the processors'
//! scheduling guarantees. A write built from stored rows carries what it read of them
//! ([`ExpectedVersions`], staged too), and its script checks them first, inside the transaction
//! (`version_check_sql`): rows that another writer changed fail the script as a
//! [`WarehouseError::ConcurrentUpdate`]. A retried script keeps its request id, so BigQuery runs it
//! once. A script the client loses track of once submitted (its polling keeps failing, or it
//! outlives `job_timeout`) may still commit: it is cancelled and its job's final state decides
//! whether the write succeeded or failed; when that state cannot be read either, the write fails as
//! of unknown outcome, naming the job (`BigQueryWarehouse::settle_lost_script`).
//!
//! # SQL dialect
//! Shared SQL quotes identifiers with double quotes (ANSI, DuckDB); BigQuery reads those as
//! strings, so identifiers are re-quoted with backticks. `{dataset.table}` becomes
//! `` `PROJECT.PREFIXdataset.table` `` and `@name` stays a BigQuery named parameter typed from its
//! [`Value`]: no data is ever interpolated into SQL text (README §4 item 8).
//!
//! # Emulator
//! With `BIGQUERY_EMULATOR_HOST=host:port` the client talks plain HTTP to
//! `http://host:port/bigquery/v2` with a dummy token. The emulator used by the tests (bqemulator)
//! answers a failed query with HTTP 200 and an `errors` array (always treated as a failure here),
//! returns TIMESTAMP cells as int64 microseconds (real BigQuery: float seconds unless
//! `useInt64Timestamp`; both are decoded) and does not validate `insertAll` rows (the MERGE into
//! the typed target does).

use std::collections::BTreeSet;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::{join_all, try_join_all};
use gcp_bigquery_client::Client;
use gcp_bigquery_client::auth::Authenticator;
use gcp_bigquery_client::client_builder::ClientBuilder;
use gcp_bigquery_client::error::BQError;
use gcp_bigquery_client::model::data_format_options::DataFormatOptions;
use gcp_bigquery_client::model::error_proto::ErrorProto;
use gcp_bigquery_client::model::field_type::FieldType;
use gcp_bigquery_client::model::get_query_results_parameters::GetQueryResultsParameters;
use gcp_bigquery_client::model::job::Job;
use gcp_bigquery_client::model::job_reference::JobReference;
use gcp_bigquery_client::model::query_parameter::QueryParameter;
use gcp_bigquery_client::model::query_parameter_type::QueryParameterType;
use gcp_bigquery_client::model::query_parameter_value::QueryParameterValue;
use gcp_bigquery_client::model::query_request::QueryRequest;
use gcp_bigquery_client::model::query_response::QueryResponse;
use gcp_bigquery_client::model::table_data_insert_all_request::TableDataInsertAllRequest;
use gcp_bigquery_client::model::table_field_schema::TableFieldSchema;
use gcp_bigquery_client::model::table_row::TableRow;
use gcp_bigquery_client::table::ListOptions;
use serde_json::{Map, Value as Json};

use super::{
    ExpectedVersions, Query, ReplaceScope, ResultSet, TableWrite, Warehouse, WarehouseError, WriteReport,
    render_sql,
};
use crate::schema::{ColumnType, Dataset, Table};
use crate::value::Value;

/// Rows per `insertAll` request: BigQuery's recommended maximum (larger requests risk the 10 MB
/// request limit with wide rows such as the feature store's).
const INSERT_CHUNK_ROWS: usize = 500;

/// BigQuery allows at most four clustering columns.
const MAX_CLUSTERING_COLUMNS: usize = 4;

/// Retry, timeout and paging settings of one warehouse.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; it doubles per attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Client-side limit on one HTTP request, token fetch included.
    pub request_timeout: Duration,
    /// How long the server holds a `jobs.query`/`getQueryResults` call waiting for the job; kept
    /// below `request_timeout` so the server answers "not complete yet" before the client gives up.
    pub server_wait: Duration,
    /// Limit on one query job, polling included.
    pub job_timeout: Duration,
    /// How long a write script the client lost track of is given to reach its final state after
    /// it was asked to cancel (see `BigQueryWarehouse::settle_lost_script`).
    pub cancel_grace: Duration,
    /// Rows per result page; `None` lets BigQuery pick (about 10 MB per page).
    pub page_rows: Option<u32>,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            request_timeout: Duration::from_secs(60),
            server_wait: Duration::from_secs(30),
            job_timeout: Duration::from_secs(15 * 60),
            cancel_grace: Duration::from_secs(2 * 60),
            page_rows: None,
        }
    }
}

/// Called for each table of a write once every table's rows are staged, just before the script
/// that applies them; an error aborts the whole write (the staging tables are still dropped).
/// Tests inject failures here; production warehouses have none.
pub type BeforeMergeHook = Arc<dyn Fn(&'static Table) -> Result<(), WarehouseError> + Send + Sync>;

pub struct BigQueryWarehouse {
    client: Client,
    project: String,
    dataset_prefix: String,
    policy: RequestPolicy,
    /// Distinguishes this process's staging tables and request ids from other runs'.
    run_tag: String,
    staging_counter: AtomicU64,
    before_merge: Option<BeforeMergeHook>,
}

/// The emulator accepts any bearer token; this one never expires and needs no network.
#[derive(Clone)]
struct EmulatorToken;

#[async_trait]
impl Authenticator for EmulatorToken {
    async fn access_token(&self) -> Result<String, BQError> {
        Ok("emulator".to_owned())
    }
}

impl BigQueryWarehouse {
    /// Connects to `project`: to the emulator at `emulator_host` (`host:port`, no OAuth) when
    /// given, else to BigQuery with Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
    /// else the metadata server on Cloud Run).
    ///
    /// # Errors
    /// No credentials can be found or read.
    pub async fn connect(
        project: &str,
        dataset_prefix: &str,
        emulator_host: Option<&str>,
    ) -> Result<Self, WarehouseError> {
        let open_error = |error: BQError| WarehouseError::Open {
            url: format!("bigquery:{project}"),
            message: error.to_string(),
        };
        let client = match emulator_host {
            Some(host) => ClientBuilder::new()
                .with_v2_base_url(format!("http://{host}/bigquery/v2"))
                .build_from_authenticator(Arc::new(EmulatorToken))
                .await
                .map_err(open_error)?,
            None => {
                ClientBuilder::new().build_from_application_default_credentials().await.map_err(open_error)?
            }
        };
        Ok(BigQueryWarehouse {
            client,
            project: project.to_owned(),
            dataset_prefix: dataset_prefix.to_owned(),
            policy: RequestPolicy::default(),
            run_tag: run_tag(),
            staging_counter: AtomicU64::new(0),
            before_merge: None,
        })
    }

    /// Replaces the retry, timeout and paging settings.
    pub fn with_policy(mut self, policy: RequestPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Installs a hook run between staging and the write's script (see [`BeforeMergeHook`]).
    pub fn with_before_merge_hook(mut self, hook: BeforeMergeHook) -> Self {
        self.before_merge = Some(hook);
        self
    }

    fn dataset_name(&self, dataset: Dataset) -> String {
        dataset.prefixed_name(&self.dataset_prefix)
    }

    fn qualified_name(&self, table: &Table) -> String {
        format!("`{}.{}.{}`", self.project, self.dataset_name(table.dataset), table.name)
    }

    fn staging_name(&self, table: &Table) -> String {
        let counter = self.staging_counter.fetch_add(1, Ordering::Relaxed);
        format!("_staging_{}_{}_{counter}", table.name, self.run_tag)
    }

    fn staging_qualified_name(&self, table: &Table, staging: &str) -> String {
        format!("`{}.{}.{staging}`", self.project, self.dataset_name(table.dataset))
    }

    /// Renders shared SQL for BigQuery and types its parameters.
    fn render(&self, query: &Query) -> Result<(String, Vec<QueryParameter>), WarehouseError> {
        render_for_bigquery(query, |table| self.qualified_name(table))
    }
}

/// A tag unique to this process and moment, for staging-table names and request ids.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    format!("{:x}{:x}", std::process::id(), nanos & 0xffff_ffff_ffff)
}

/// Renders `{dataset.table}` with `render_table`, keeps `@name` as a named parameter, re-quotes
/// `"identifiers"` with backticks, and returns the parameters the SQL uses, each typed from its
/// value.
///
/// # Errors
/// An unknown table, or a parameter used in the SQL but not bound.
fn render_for_bigquery(
    query: &Query,
    render_table: impl FnMut(&'static Table) -> String,
) -> Result<(String, Vec<QueryParameter>), WarehouseError> {
    let mut used = BTreeSet::new();
    let sql = render_sql(&query.sql, render_table, |name| {
        if !query.parameters.iter().any(|(bound, _)| bound == name) {
            return Err(WarehouseError::UnboundParameter(name.to_owned()));
        }
        used.insert(name.to_owned());
        Ok(format!("@{name}"))
    })?;
    let parameters = query
        .parameters
        .iter()
        .filter(|(name, _)| used.contains(name))
        .map(|(name, value)| query_parameter(name, value))
        .collect();
    Ok((backtick_identifiers(&sql), parameters))
}

/// Turns `"name"` into `` `name` `` outside single-quoted strings and backtick-quoted names:
/// in BigQuery a double-quoted token is a string literal, in the shared dialect an identifier.
fn backtick_identifiers(sql: &str) -> String {
    let mut output = String::with_capacity(sql.len());
    let mut open: Option<char> = None;
    let mut previous = '\0';
    for character in sql.chars() {
        match open {
            Some(quote) => {
                if character == quote && !(quote == '\'' && previous == '\\') {
                    open = None;
                    output.push(if quote == '"' { '`' } else { character });
                } else {
                    output.push(character);
                }
            }
            None => match character {
                '"' => {
                    open = Some('"');
                    output.push('`');
                }
                '\'' | '`' => {
                    open = Some(character);
                    output.push(character);
                }
                _ => output.push(character),
            },
        }
        previous = character;
    }
    output
}

/// A named parameter typed from its value. NULL has no type of its own; it is sent as a NULL
/// STRING, which BigQuery coerces where a date or timestamp is expected.
fn query_parameter(name: &str, value: &Value) -> QueryParameter {
    QueryParameter {
        name: Some(name.to_owned()),
        parameter_type: Some(parameter_type(value)),
        parameter_value: Some(parameter_value(value)),
    }
}

fn scalar_type(name: &str) -> QueryParameterType {
    QueryParameterType { array_type: None, struct_types: None, r#type: name.to_owned() }
}

fn parameter_type(value: &Value) -> QueryParameterType {
    match value {
        Value::Null | Value::String(_) => scalar_type("STRING"),
        Value::Bool(_) => scalar_type("BOOL"),
        Value::Int(_) => scalar_type("INT64"),
        Value::Float(_) => scalar_type("FLOAT64"),
        Value::Date(_) => scalar_type("DATE"),
        Value::Timestamp(_) => scalar_type("TIMESTAMP"),
        Value::FloatArray(_) => QueryParameterType {
            array_type: Some(Box::new(scalar_type("FLOAT64"))),
            struct_types: None,
            r#type: "ARRAY".to_owned(),
        },
        Value::StringArray(_) => QueryParameterType {
            array_type: Some(Box::new(scalar_type("STRING"))),
            struct_types: None,
            r#type: "ARRAY".to_owned(),
        },
    }
}

fn scalar_value(text: Option<String>) -> QueryParameterValue {
    QueryParameterValue { array_values: None, struct_values: None, value: text }
}

/// The parameter's text; a non-finite float is sent as NULL (README §4 item 9).
fn parameter_value(value: &Value) -> QueryParameterValue {
    match value {
        Value::Null => scalar_value(None),
        Value::Bool(flag) => scalar_value(Some(flag.to_string())),
        Value::Int(number) => scalar_value(Some(number.to_string())),
        Value::Float(number) => scalar_value(number.is_finite().then(|| format!("{number:?}"))),
        Value::String(text) => scalar_value(Some(text.clone())),
        Value::Date(date) => scalar_value(Some(date.format("%Y-%m-%d").to_string())),
        Value::Timestamp(timestamp) => scalar_value(Some(timestamp_text(timestamp))),
        Value::FloatArray(numbers) => QueryParameterValue {
            array_values: Some(
                numbers
                    .iter()
                    .map(|number| scalar_value(number.is_finite().then(|| format!("{number:?}"))))
                    .collect(),
            ),
            struct_values: None,
            value: None,
        },
        Value::StringArray(texts) => QueryParameterValue {
            array_values: Some(texts.iter().map(|text| scalar_value(Some(text.clone()))).collect()),
            struct_values: None,
            value: None,
        },
    }
}

/// BigQuery's canonical timestamp text, microsecond precision, UTC.
fn timestamp_text(timestamp: &DateTime<Utc>) -> String {
    timestamp.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
}

/// The BigQuery column type of a schema type.
fn bigquery_type(column_type: ColumnType) -> String {
    match column_type {
        ColumnType::String => "STRING".to_owned(),
        ColumnType::Int64 => "INT64".to_owned(),
        ColumnType::Float64 => "FLOAT64".to_owned(),
        ColumnType::Numeric { precision, scale } => format!("NUMERIC({precision}, {scale})"),
        ColumnType::Bool => "BOOL".to_owned(),
        ColumnType::Date => "DATE".to_owned(),
        ColumnType::Timestamp => "TIMESTAMP".to_owned(),
        ColumnType::Json => "JSON".to_owned(),
        ColumnType::Float64Array => "ARRAY<FLOAT64>".to_owned(),
        ColumnType::StringArray => "ARRAY<STRING>".to_owned(),
    }
}

/// Column definitions; NOT NULL only where the schema enforces it (key columns, README §3.4),
/// never on arrays, which BigQuery cannot make REQUIRED.
fn column_definitions(table: &Table, enforce_not_null: bool) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|column| {
            let not_null =
                enforce_not_null && table.enforces_not_null(column) && !column.column_type.is_array();
            format!(
                "`{}` {}{}",
                column.name,
                bigquery_type(column.column_type),
                if not_null { " NOT NULL" } else { "" }
            )
        })
        .collect();
    columns.join(", ")
}

/// The key columns BigQuery can cluster by (no FLOAT64, no arrays), at most four.
fn clustering_columns(table: &Table) -> Vec<&'static str> {
    table
        .key
        .iter()
        .copied()
        .filter(|name| {
            table.column(name).is_some_and(|column| {
                !column.column_type.is_array()
                    && !matches!(column.column_type, ColumnType::Float64 | ColumnType::Json)
            })
        })
        .take(MAX_CLUSTERING_COLUMNS)
        .collect()
}

/// `CREATE TABLE IF NOT EXISTS`, partitioned by the partition date and clustered like the key.
fn create_table_sql(qualified_name: &str, table: &Table) -> String {
    let mut sql =
        format!("CREATE TABLE IF NOT EXISTS {qualified_name} ({})", column_definitions(table, true));
    if let Some(partition) = table.partition {
        sql.push_str(&format!(" PARTITION BY `{partition}`"));
    }
    let clustering = clustering_columns(table);
    if !clustering.is_empty() {
        let names: Vec<String> = clustering.iter().map(|name| format!("`{name}`")).collect();
        sql.push_str(&format!(" CLUSTER BY {}", names.join(", ")));
    }
    sql
}

/// The staging table: the target's columns without constraints (the MERGE into the target
/// enforces them), dropped after the write and expiring after a day if a crash leaves it.
fn create_staging_sql(qualified_name: &str, table: &Table) -> String {
    format!(
        "CREATE TABLE {qualified_name} ({}) OPTIONS (expiration_timestamp = \
         TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))",
        column_definitions(table, false)
    )
}

/// The staged scopes of a write set: per partition-scoped write, its index and each date it
/// replaces. A script takes no query parameters on the emulator, and values never become SQL
/// text (README §4 item 8), so the dates reach the script as rows, like the rows they replace.
const WRITE_SCOPE_COLUMNS: [crate::schema::Column; 2] = [
    crate::schema::Column::new("write_index", ColumnType::Int64, true),
    crate::schema::Column::new("scope_date", ColumnType::Date, true),
];

/// The staging table of a write set's scopes, in `dataset` (any dataset of the write set).
fn write_scope_table(dataset: Dataset) -> Table {
    Table { dataset, name: "write_scopes", partition: None, key: &[], columns: &WRITE_SCOPE_COLUMNS }
}

/// The rows of [`write_scope_table`] for `writes`: none when no write is scoped by dates.
fn write_scope_rows(writes: &[TableWrite]) -> Vec<Vec<Value>> {
    writes
        .iter()
        .enumerate()
        .flat_map(|(index, write)| {
            let dates = match &write.scope {
                Some(ReplaceScope::Partitions(dates)) => dates.as_slice(),
                _ => &[],
            };
            dates.iter().map(move |date| vec![Value::Int(index as i64), Value::Date(*date)])
        })
        .collect()
}

/// The `index`th write's dates as a query of the staged `scopes` table.
fn staged_scope_dates(scopes: &str, index: usize) -> String {
    format!("(SELECT `scope_date` FROM {scopes} WHERE `write_index` = {index})")
}

/// The condition selecting the target rows (alias `T`) a scope replaces, its dates given by
/// `dates`, an expression `IN` takes (`None`: the scope has no dates); `None`: the scope is
/// every row. Keys are handled by [`upsert_sql`] instead.
fn scope_condition(
    table: &Table,
    scope: &ReplaceScope,
    dates: Option<&str>,
) -> Result<Option<String>, String> {
    match scope {
        ReplaceScope::WholeTable => Ok(None),
        ReplaceScope::Partitions(_) => {
            let partition = table.partition.ok_or("the table has no partition column")?;
            Ok(Some(match dates {
                Some(dates) => format!("T.`{partition}` IN {dates}"),
                None => "FALSE".to_owned(),
            }))
        }
        ReplaceScope::Keys => Err("the keys scope is written by an upsert".to_owned()),
    }
}

fn quoted_columns(table: &Table, alias: &str) -> String {
    let names: Vec<String> = table.columns.iter().map(|column| format!("{alias}`{}`", column.name)).collect();
    names.join(", ")
}

/// The table's key columns, quoted and prefixed with `alias` (`T.` or none), comma-separated.
fn quoted_keys(table: &Table, alias: &str) -> String {
    let names: Vec<String> = table.key.iter().map(|key| format!("{alias}`{key}`")).collect();
    names.join(", ")
}

/// Rows of `left` and `right` (aliases) holding the same key: `left.k = right.k AND …`.
fn same_key(table: &Table, left: &str, right: &str) -> String {
    let equalities: Vec<String> =
        table.key.iter().map(|key| format!("{left}.`{key}` = {right}.`{key}`")).collect();
    equalities.join(" AND ")
}

/// One MERGE replacing the scope's rows by every staged row: `ON FALSE` matches nothing, so each
/// staged row is inserted (duplicates included, as fixtures need) and each target row of the
/// scope is deleted, in one atomic statement.
fn replace_merge_sql(target: &str, staging: &str, table: &Table, condition: Option<&str>) -> String {
    let delete = match condition {
        Some(condition) => format!("WHEN NOT MATCHED BY SOURCE AND {condition} THEN DELETE "),
        None => "WHEN NOT MATCHED BY SOURCE THEN DELETE ".to_owned(),
    };
    format!(
        "MERGE {target} T USING (SELECT {columns} FROM {staging}) S ON FALSE {delete}\
         WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})",
        columns = quoted_columns(table, ""),
        values = quoted_columns(table, "S."),
    )
}

/// What a script's failed version check says, so that its error is told from any other.
const CONCURRENT_UPDATE: &str = "concurrent update of";

/// Inside the transaction, before any write: fails the script (rolling it back) when a key's
/// stored version differs from the staged [`ExpectedVersions`] row (`E`), a stored row that was
/// absent included (its expected version is NULL). A key several stored rows share has their
/// latest version, as [`ExpectedVersions::changed_keys`] reads it. `ERROR()` rather than
/// `RAISE`: both fail the script with the message on BigQuery, and the emulator answers a
/// `RAISE` with HTTP 500.
fn version_check_sql(target: &str, expected: &str, table: &Table, versions: &ExpectedVersions) -> String {
    let keys = quoted_keys(table, "");
    let column = versions.column;
    format!(
        "IF EXISTS (SELECT 1 FROM {expected} E LEFT JOIN \
         (SELECT {keys}, MAX(`{column}`) AS `{column}` FROM {target} GROUP BY {keys}) T ON {on} \
         WHERE NOT ((T.`{column}` IS NULL AND E.`{column}` IS NULL) OR T.`{column}` = E.`{column}`)) THEN \
         SELECT ERROR('{CONCURRENT_UPDATE} {table}'); END IF",
        on = same_key(table, "T", "E"),
    )
}

/// What a script's failed staging check says, so that its error is told from any other.
const STAGING_INCOMPLETE: &str = "staged rows not yet visible";

/// What a script's staging check says of a staging table holding more rows than were streamed.
const STAGING_DUPLICATED: &str = "staged rows duplicated by a retried insertAll";

/// The waits before running a script again whose staged rows were not all visible yet.
const STAGING_WAITS: [Duration; 4] =
    [Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4), Duration::from_secs(8)];

/// Inside the transaction, first: fails the script when a staging table (qualified name, rows
/// streamed into it) holds another number of rows. BigQuery makes streamed rows queryable within
/// seconds of the first insertion into a table, and every staging table is new: a script that
/// read one too early would replace a scope by part of its rows, or by none, without an error
/// ([`STAGING_INCOMPLETE`], which the script is run again for). BigQuery drops a retried
/// `insertAll` chunk's copy by its insert ids only on a best-effort basis: more rows than were
/// streamed fail at once ([`STAGING_DUPLICATED`]; no wait makes them fewer). The counts are the
/// writer's own, not data, so they are written into the script (which takes no parameters on the
/// emulator).
fn staged_rows_check_sql(staged: &[(&str, usize)]) -> Vec<String> {
    if staged.is_empty() {
        return Vec::new();
    }
    let compared = |comparison: &str| {
        let tables: Vec<String> = staged
            .iter()
            .map(|(staging, rows)| format!("(SELECT COUNT(*) FROM {staging}) {comparison} {rows}"))
            .collect();
        tables.join(" OR ")
    };
    [(">", STAGING_DUPLICATED), ("<", STAGING_INCOMPLETE)]
        .into_iter()
        .map(|(comparison, error)| {
            format!("IF {} THEN SELECT ERROR('{error}'); END IF", compared(comparison))
        })
        .collect()
}

/// A script's failure as [`WarehouseError::ConcurrentUpdate`] when a version check raised it.
fn concurrent_update(error: WarehouseError) -> WarehouseError {
    let WarehouseError::Write { message, .. } = &error else { return error };
    let Some((_, rest)) = message.split_once(CONCURRENT_UPDATE) else { return error };
    let table = rest.split_whitespace().next().unwrap_or_default().trim_matches(|character: char| {
        !(character.is_ascii_alphanumeric() || character == '_' || character == '.')
    });
    WarehouseError::ConcurrentUpdate { table: table.to_owned() }
}

/// A keyed upsert as two statements of the script: every target row holding a staged row's key
/// is deleted, then the staged rows are inserted. Both run inside the script's transaction, so
/// the keys' rows are replaced all at once or not at all (unlike the reference's delete job
/// followed by a load job), as the DuckDB backend's keyed upsert does in its transaction. As
/// there, a key stored twice (another pipeline's row beside ours) is then held once; a `MERGE`
/// on the key updated both rows alike, and refused two staged rows of one key even without
/// `unique_key`.
fn upsert_sql(target: &str, staging: &str, table: &Table) -> String {
    format!(
        "DELETE FROM {target} T WHERE EXISTS (SELECT 1 FROM {staging} S WHERE {matches});\n\
         INSERT INTO {target} ({columns}) SELECT {columns} FROM {staging}",
        matches = same_key(table, "T", "S"),
        columns = quoted_columns(table, ""),
    )
}

/// The first key the write would hold twice: among the staged rows, or shared by a staged row and
/// a target row outside the scope (one the MERGE keeps). Selects the key columns and a count.
fn duplicate_key_sql(target: &str, staging: &str, table: &Table, condition: Option<&str>) -> String {
    let keys = quoted_keys(table, "");
    let kept = match condition {
        None => String::new(),
        Some(condition) => format!(
            " UNION ALL SELECT {target_keys} FROM {target} T JOIN (SELECT DISTINCT {keys} FROM {staging}) W \
             ON {join} WHERE NOT COALESCE({condition}, FALSE)",
            target_keys = quoted_keys(table, "T."),
            join = same_key(table, "T", "W"),
        ),
    };
    format!(
        "SELECT {keys}, COUNT(*) AS copies FROM (SELECT {keys} FROM {staging}{kept}) \
         GROUP BY {keys} HAVING COUNT(*) > 1 LIMIT 1"
    )
}

/// One staged row as `insertAll` JSON. NULL cells are left out; integers travel as strings (no
/// JSON precision loss); NUMERIC as text rounded to the column's scale; non-finite floats as NULL.
fn row_json(table: &Table, row: &[Value]) -> Result<Map<String, Json>, String> {
    if row.len() != table.columns.len() {
        return Err(format!("a row has {} cells for {} columns", row.len(), table.columns.len()));
    }
    let mut object = Map::with_capacity(row.len());
    for (column, value) in table.columns.iter().zip(row) {
        let json = cell_json(column.column_type, value);
        if !json.is_null() {
            object.insert(column.name.to_owned(), json);
        }
    }
    Ok(object)
}

fn float_json(number: f64) -> Json {
    serde_json::Number::from_f64(number).map_or(Json::Null, Json::Number)
}

fn cell_json(column_type: ColumnType, value: &Value) -> Json {
    match (column_type, value) {
        (_, Value::Null) => Json::Null,
        (ColumnType::Numeric { scale, .. }, Value::Float(number)) if number.is_finite() => {
            Json::String(format!("{number:.0$}", usize::from(scale)))
        }
        (_, Value::Bool(flag)) => Json::Bool(*flag),
        (_, Value::Int(number)) => Json::String(number.to_string()),
        (_, Value::Float(number)) => float_json(*number),
        (_, Value::String(text)) => Json::String(text.clone()),
        (_, Value::Date(date)) => Json::String(date.format("%Y-%m-%d").to_string()),
        (_, Value::Timestamp(timestamp)) => Json::String(timestamp_text(timestamp)),
        (_, Value::FloatArray(numbers)) => {
            Json::Array(numbers.iter().map(|number| float_json(*number)).collect())
        }
        (_, Value::StringArray(texts)) => Json::Array(texts.iter().cloned().map(Json::String).collect()),
    }
}

/// Decodes one result row by the result schema.
fn decode_row(fields: &[TableFieldSchema], row: TableRow) -> Result<Vec<Value>, String> {
    let cells = row.columns.unwrap_or_default();
    if cells.len() != fields.len() {
        return Err(format!("a row has {} cells for {} columns", cells.len(), fields.len()));
    }
    fields
        .iter()
        .zip(cells)
        .map(|(field, cell)| decode_cell(field, cell.value.unwrap_or(Json::Null)))
        .collect()
}

/// One cell: `REPEATED` fields are `[{"v": …}, …]`, scalars a string (or, from some emulators, a
/// JSON number or boolean). BigQuery cannot hold a NULL array (it stores an empty one), so an
/// empty array reads back as NULL, the fixtures' form of a missing value: a NULL written to an
/// array column reads back as on DuckDB, a written `[]` reads back as NULL.
fn decode_cell(field: &TableFieldSchema, cell: Json) -> Result<Value, String> {
    let repeated = field.mode.as_deref() == Some("REPEATED");
    if !repeated {
        return decode_scalar(&field.r#type, &cell)
            .map_err(|message| format!("column {}: {message}", field.name));
    }
    let items = match cell {
        Json::Null => return Ok(Value::Null),
        Json::Array(items) if items.is_empty() => return Ok(Value::Null),
        Json::Array(items) => items,
        other => return Err(format!("column {}: expected an array, got {other}", field.name)),
    };
    let elements: Vec<Json> = items
        .into_iter()
        .map(|item| match item {
            Json::Object(mut object) => object.remove("v").unwrap_or(Json::Null),
            other => other,
        })
        .collect();
    match field.r#type {
        FieldType::String => elements
            .iter()
            .map(|element| {
                element
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("column {}: {element} is not text", field.name))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::StringArray),
        FieldType::Float
        | FieldType::Float64
        | FieldType::Numeric
        | FieldType::Integer
        | FieldType::Int64 => elements
            .iter()
            .map(|element| number_of(element).map_err(|message| format!("column {}: {message}", field.name)))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::FloatArray),
        ref other => Err(format!("column {}: unsupported array type {other:?}", field.name)),
    }
}

fn text_of(cell: &Json) -> Result<String, String> {
    match cell {
        Json::String(text) => Ok(text.clone()),
        Json::Number(number) => Ok(number.to_string()),
        Json::Bool(flag) => Ok(flag.to_string()),
        other => Err(format!("unexpected cell {other}")),
    }
}

/// A FLOAT64/NUMERIC cell; BigQuery writes non-finite floats as `NaN`, `Infinity`, `-Infinity`.
fn number_of(cell: &Json) -> Result<f64, String> {
    let text = text_of(cell)?;
    match text.as_str() {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => text.parse().map_err(|_| format!("{text:?} is not a number")),
    }
}

fn decode_scalar(field_type: &FieldType, cell: &Json) -> Result<Value, String> {
    if cell.is_null() {
        return Ok(Value::Null);
    }
    Ok(match field_type {
        FieldType::String | FieldType::Json => Value::String(text_of(cell)?),
        FieldType::Integer | FieldType::Int64 => {
            let text = text_of(cell)?;
            Value::Int(text.parse().map_err(|_| format!("{text:?} is not an integer"))?)
        }
        // NUMERIC becomes the nearest double: the decimal text parsed once, correctly rounded.
        FieldType::Float | FieldType::Float64 | FieldType::Numeric | FieldType::Bignumeric => {
            Value::Float(number_of(cell)?)
        }
        FieldType::Boolean | FieldType::Bool => match text_of(cell)?.as_str() {
            "true" | "TRUE" => Value::Bool(true),
            "false" | "FALSE" => Value::Bool(false),
            other => return Err(format!("{other:?} is not a boolean")),
        },
        FieldType::Date => {
            let text = text_of(cell)?;
            Value::Date(
                NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map_err(|_| format!("{text:?} is not a date"))?,
            )
        }
        FieldType::Timestamp => Value::Timestamp(decode_timestamp(cell)?),
        other => return Err(format!("unsupported type {other:?}")),
    })
}

/// A TIMESTAMP cell: integer microseconds since the epoch (the emulator, or `useInt64Timestamp`),
/// or decimal seconds such as `1.736942400123456E9` (BigQuery's default), decoded exactly.
fn decode_timestamp(cell: &Json) -> Result<DateTime<Utc>, String> {
    let text = text_of(cell)?;
    let micros = if text.contains(['.', 'e', 'E']) {
        decimal_seconds_to_micros(&text)?
    } else {
        text.parse::<i64>().map_err(|_| format!("{text:?} is not a timestamp"))?
    };
    DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(|| format!("timestamp {text} is out of range"))
}

/// `[-]digits[.digits][E[+-]exponent]` seconds → microseconds, in integers (a double cannot hold
/// 16 significant digits exactly); digits beyond the microsecond are truncated.
fn decimal_seconds_to_micros(text: &str) -> Result<i64, String> {
    let invalid = || format!("{text:?} is not a timestamp");
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().map_err(|_| invalid())?),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) || digits.len() > 30 {
        return Err(invalid());
    }
    let mut value: i128 = digits.parse().map_err(|_| invalid())?;
    let shift = exponent + 6 - fraction.len() as i32;
    if shift >= 0 {
        value =
            value.checked_mul(10i128.checked_pow(shift as u32).ok_or_else(invalid)?).ok_or_else(invalid)?;
    } else {
        value /= 10i128.checked_pow(shift.unsigned_abs()).unwrap_or(i128::MAX);
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| invalid())
}

/// Why one request failed, as the retry loop sees it.
#[derive(Clone, Debug, PartialEq)]
struct RequestFailure {
    http_status: Option<u16>,
    /// BigQuery's error reasons (`rateLimitExceeded`, `backendError`, `invalidQuery`, …).
    reasons: Vec<String>,
    message: String,
    /// No answer: the client-side timeout, or the connection failed.
    no_answer: bool,
}

/// Error reasons BigQuery documents as worth retrying.
const TRANSIENT_REASONS: [&str; 3] = ["rateLimitExceeded", "backendError", "internalError"];

/// HTTP statuses of an overloaded or restarting service.
const TRANSIENT_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

impl RequestFailure {
    fn is_transient(&self) -> bool {
        self.no_answer
            || self.http_status.is_some_and(|status| TRANSIENT_STATUSES.contains(&status))
            || self.reasons.iter().any(|reason| TRANSIENT_REASONS.contains(&reason.as_str()))
    }

    fn timed_out(limit: Duration) -> Self {
        RequestFailure {
            http_status: None,
            reasons: Vec::new(),
            message: format!("no answer within {}s", limit.as_secs_f64()),
            no_answer: true,
        }
    }

    /// A job that ran and failed: the `errors` of a query response, even under HTTP 200.
    fn from_job_errors(errors: &[ErrorProto]) -> Self {
        let messages: Vec<String> = errors
            .iter()
            .map(|error| match (&error.reason, &error.message) {
                (Some(reason), Some(message)) => format!("{reason}: {message}"),
                (None, Some(message)) => message.clone(),
                (reason, None) => reason.clone().unwrap_or_else(|| "unknown error".to_owned()),
            })
            .collect();
        RequestFailure {
            http_status: None,
            reasons: errors.iter().filter_map(|error| error.reason.clone()).collect(),
            message: messages.join("; "),
            no_answer: false,
        }
    }
}

impl From<BQError> for RequestFailure {
    fn from(error: BQError) -> Self {
        match error {
            BQError::ResponseError { error } => RequestFailure {
                http_status: u16::try_from(error.error.code).ok(),
                reasons: error.error.errors.iter().filter_map(|entry| entry.get("reason").cloned()).collect(),
                message: format!("HTTP {}: {}", error.error.code, error.error.message),
                no_answer: false,
            },
            BQError::RequestError(request) => RequestFailure {
                http_status: request.status().map(|status| status.as_u16()),
                reasons: Vec::new(),
                // No answer, or part of one: the connection failed, timed out, or closed while the
                // request or its answer was in flight (a reset pooled connection). Every request
                // here may be sent again (request ids, insert ids, reads).
                no_answer: request.is_timeout()
                    || request.is_connect()
                    || request.is_request()
                    || request.is_body(),
                message: request.to_string(),
            },
            other => RequestFailure {
                http_status: None,
                reasons: Vec::new(),
                message: other.to_string(),
                no_answer: false,
            },
        }
    }
}

/// The wait before attempt `attempt + 1` (`attempt` counts from 0): `initial · 2^attempt`, capped
/// at `max_backoff`, of which the upper half is jittered by `jitter` ∈ [0, 1) so that parallel
/// writers hitting one rate limit do not retry in lockstep. Always within [cap/2, cap].
fn backoff_delay(policy: &RequestPolicy, attempt: u32, jitter: f64) -> Duration {
    let exponential = policy.initial_backoff.saturating_mul(2u32.saturating_pow(attempt.min(30)));
    let capped = exponential.min(policy.max_backoff);
    capped.div_f64(2.0) + capped.div_f64(2.0).mul_f64(jitter.clamp(0.0, 1.0))
}

/// A number in [0, 1) that differs per call: each `RandomState` is freshly keyed.
fn jitter() -> f64 {
    let hash = std::collections::hash_map::RandomState::new().build_hasher().finish();
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// What a finished query returned.
struct QueryOutcome {
    fields: Vec<TableFieldSchema>,
    rows: Vec<TableRow>,
}

impl BigQueryWarehouse {
    /// Runs `attempt` until it succeeds, fails permanently, or `max_attempts` are spent, each
    /// attempt under `request_timeout`.
    async fn with_retries<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, RequestFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RequestFailure>>,
    {
        let mut attempts_made = 0;
        loop {
            let outcome = match tokio::time::timeout(self.policy.request_timeout, attempt()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(RequestFailure::timed_out(self.policy.request_timeout)),
            };
            attempts_made += 1;
            match outcome {
                Ok(value) => return Ok(value),
                Err(failure) if failure.is_transient() && attempts_made < self.policy.max_attempts => {
                    let delay = backoff_delay(&self.policy, attempts_made - 1, jitter());
                    tracing::warn!(
                        "BigQuery {what} failed ({}), retry {attempts_made}/{} in {:.1}s",
                        failure.message,
                        self.policy.max_attempts - 1,
                        delay.as_secs_f64()
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(mut failure) => {
                    if failure.is_transient() {
                        failure.message = format!("{} (after {attempts_made} attempts)", failure.message);
                    }
                    return Err(failure);
                }
            }
        }
    }

    /// Runs one statement to completion and reads every result page.
    async fn run_statement(
        &self,
        sql: &str,
        parameters: Vec<QueryParameter>,
    ) -> Result<QueryOutcome, RequestFailure> {
        let response = self.submit(sql, parameters).await?;
        self.complete(response).await
    }

    /// Submits one statement (`jobs.query`) and returns BigQuery's first answer, which names the
    /// job and holds its first page when it finished within `server_wait`.
    async fn submit(
        &self,
        sql: &str,
        parameters: Vec<QueryParameter>,
    ) -> Result<QueryResponse, RequestFailure> {
        let request_base =
            format!("{}-{}", self.run_tag, self.staging_counter.fetch_add(1, Ordering::Relaxed));
        // The request id makes a retried DML statement run once on BigQuery (jobs.query dedupes
        // it); a job that answered with errors is resubmitted under a new id.
        let resubmissions = AtomicU64::new(0);
        self.with_retries("query", || {
            let mut request = QueryRequest::new(sql);
            request.parameter_mode = Some("NAMED".to_owned());
            request.query_parameters = Some(parameters.clone());
            request.timeout_ms = Some(self.policy.server_wait.as_millis() as i32);
            request.max_results = self.policy.page_rows.map(|rows| rows as i32);
            request.format_options = Some(DataFormatOptions { use_int64_timestamp: Some(true) });
            request.request_id = Some(format!("{request_base}-{}", resubmissions.load(Ordering::Relaxed)));
            let resubmissions = &resubmissions;
            async move {
                let response = self.client.job().query(&self.project, request).await?;
                job_errors(&response.errors).inspect_err(|_| {
                    resubmissions.fetch_add(1, Ordering::Relaxed);
                })?;
                Ok(response)
            }
        })
        .await
    }

    /// Polls an unfinished job, then reads the remaining pages.
    async fn complete(&self, mut response: QueryResponse) -> Result<QueryOutcome, RequestFailure> {
        let job = response.job_reference.clone().unwrap_or_default();
        let deadline = Instant::now() + self.policy.job_timeout;
        while !response.job_complete.unwrap_or(false) {
            if Instant::now() > deadline {
                return Err(RequestFailure {
                    message: format!(
                        "job {:?} did not finish within {}s",
                        job.job_id,
                        self.policy.job_timeout.as_secs()
                    ),
                    ..RequestFailure::timed_out(self.policy.job_timeout)
                });
            }
            response = self.results_page(&job, None).await?;
        }
        let fields = response.schema.as_ref().and_then(|schema| schema.fields.clone()).unwrap_or_default();
        let mut rows = response.rows.take().unwrap_or_default();
        let mut page_token = response.page_token.take();
        while let Some(token) = page_token {
            let mut page = self.results_page(&job, Some(token)).await?;
            rows.extend(page.rows.take().unwrap_or_default());
            page_token = page.page_token.take();
        }
        Ok(QueryOutcome { fields, rows })
    }

    /// One `getQueryResults` call (a wait for completion, or the page after `page_token`).
    async fn results_page(
        &self,
        job: &JobReference,
        page_token: Option<String>,
    ) -> Result<QueryResponse, RequestFailure> {
        let job_id = job.job_id.clone().ok_or_else(|| RequestFailure {
            http_status: None,
            reasons: Vec::new(),
            message: "the query response names no job".to_owned(),
            no_answer: false,
        })?;
        self.with_retries("getQueryResults", || {
            let parameters = GetQueryResultsParameters {
                format_options: None,
                location: job.location.clone(),
                max_results: self.policy.page_rows.map(|rows| rows as i32),
                page_token: page_token.clone(),
                start_index: None,
                timeout_ms: Some(self.policy.server_wait.as_millis() as i32),
            };
            let job_id = job_id.clone();
            async move {
                let page = self.client.job().get_query_results(&self.project, &job_id, parameters).await?;
                job_errors(&page.errors)?;
                Ok(QueryResponse::from(page))
            }
        })
        .await
    }

    /// Runs a write script to its end. When the client loses track of it after submitting it
    /// (polling keeps failing, or it outlives `job_timeout`), the script may still commit, so its
    /// end is settled from the job itself ([`BigQueryWarehouse::settle_lost_script`]) instead of
    /// being reported as a failure. `None`: the script committed, but its results could not be
    /// read.
    async fn run_script(&self, sql: &str) -> Result<Option<QueryOutcome>, ScriptFailure> {
        let response = self.submit(sql, Vec::new()).await.map_err(|mut failure| {
            if !failure.no_answer {
                return ScriptFailure::Failed(failure);
            }
            // The request may have reached BigQuery, and its job may still commit.
            failure.message =
                format!("{}; the script may have been received and may still commit", failure.message);
            ScriptFailure::OutcomeUnknown(failure)
        })?;
        let job = response.job_reference.clone();
        match (self.complete(response).await, job) {
            (Ok(outcome), _) => Ok(Some(outcome)),
            (Err(lost), Some(job)) => self.settle_lost_script(&job, lost).await,
            (Err(lost), None) => Err(ScriptFailure::OutcomeUnknown(lost)),
        }
    }

    /// Asks a lost script's job to cancel (a finished job ignores it) and waits up to
    /// `cancel_grace` for its final state, which decides what the write did: no error result, it
    /// committed, and its results are read; an error result, it rolled back (with that error, so
    /// a version check or the staging check is still recognised). Reporting a committed script as
    /// failed would record a run as failed whose output was written, and its rerun would then
    /// append its history twice. When the state cannot be read either, the outcome is unknown and
    /// the error says so, naming the job.
    async fn settle_lost_script(
        &self,
        job: &JobReference,
        lost: RequestFailure,
    ) -> Result<Option<QueryOutcome>, ScriptFailure> {
        let Some(job_id) = job.job_id.as_deref() else { return Err(ScriptFailure::OutcomeUnknown(lost)) };
        let location = job.location.as_deref();
        tracing::warn!(
            "BigQuery write script {job_id}: its end was not read ({}); cancelling it to read its state",
            lost.message
        );
        let cancelled = self
            .with_retries("jobs.cancel", || async {
                Ok(self.client.job().cancel_job(&self.project, job_id, location).await?)
            })
            .await;
        if let Err(failure) = cancelled {
            tracing::warn!(
                "BigQuery jobs.cancel of {job_id} failed ({}); reading its state",
                failure.message
            );
        }
        let unknown = |why: String| {
            ScriptFailure::OutcomeUnknown(RequestFailure {
                message: format!(
                    "the outcome of write script {job_id} is unknown ({}; then {why}): it may still commit, \
                     so read the job's state before running its dates again",
                    lost.message
                ),
                ..lost.clone()
            })
        };
        let deadline = Instant::now() + self.policy.cancel_grace;
        let mut polls = 0;
        loop {
            let state = self
                .with_retries("jobs.get", || async {
                    Ok(self.client.job().get_job(&self.project, job_id, location).await?)
                })
                .await
                .map_err(|failure| unknown(format!("its state could not be read: {}", failure.message)))?;
            match job_end(&state) {
                JobEnd::RolledBack(mut failure) => {
                    // A job this cancelled fails as "cancelled": the message says why it was asked.
                    failure.message = format!(
                        "{} (from the job's state: its end was not read, {}, and it was asked to cancel)",
                        failure.message, lost.message
                    );
                    return Err(ScriptFailure::Failed(failure));
                }
                JobEnd::Committed => break,
                JobEnd::Running if Instant::now() < deadline => {
                    tokio::time::sleep(backoff_delay(&self.policy, polls, jitter())).await;
                    polls += 1;
                }
                JobEnd::Running => {
                    let grace = self.policy.cancel_grace.as_secs();
                    return Err(unknown(format!("it was still running {grace}s after it was cancelled")));
                }
            }
        }
        tracing::warn!("BigQuery write script {job_id} committed; reading its results");
        let finished = QueryResponse { job_reference: Some(job.clone()), ..QueryResponse::default() };
        match self.complete(finished).await {
            Ok(outcome) => Ok(Some(outcome)),
            Err(failure) => {
                tracing::warn!(
                    "BigQuery write script {job_id} committed, but its results cannot be read: {}",
                    failure.message
                );
                Ok(None)
            }
        }
    }

    /// Runs a statement the backend built itself, reporting failures against `table`.
    async fn execute_for(
        &self,
        table: &Table,
        sql: &str,
        parameters: &[(String, Value)],
    ) -> Result<QueryOutcome, WarehouseError> {
        let parameters = parameters.iter().map(|(name, value)| query_parameter(name, value)).collect();
        self.run_statement(sql, parameters)
            .await
            .map_err(|failure| WarehouseError::Write { table: table.to_string(), message: failure.message })
    }

    /// Streams rows into the staging table in chunks of [`INSERT_CHUNK_ROWS`]. Each row carries an
    /// insert id, so BigQuery drops the copy a retried chunk would add.
    async fn stage_rows(
        &self,
        table: &Table,
        staging: &str,
        rows: &[Vec<Value>],
    ) -> Result<(), WarehouseError> {
        let write_error = |message: String| WarehouseError::Write { table: table.to_string(), message };
        let dataset = self.dataset_name(table.dataset);
        for (chunk_index, chunk) in rows.chunks(INSERT_CHUNK_ROWS).enumerate() {
            let mut request = TableDataInsertAllRequest::new();
            for (offset, row) in chunk.iter().enumerate() {
                let insert_id = format!("{staging}-{}", chunk_index * INSERT_CHUNK_ROWS + offset);
                request
                    .add_row(Some(insert_id), Json::Object(row_json(table, row).map_err(write_error)?))
                    .map_err(|error| write_error(error.to_string()))?;
            }
            let response = self
                .with_retries("insertAll", || {
                    let request = request.clone();
                    let dataset = &dataset;
                    async move {
                        Ok(self
                            .client
                            .tabledata()
                            .insert_all(&self.project, dataset, staging, request)
                            .await?)
                    }
                })
                .await
                .map_err(|failure| write_error(failure.message))?;
            if let Some(first) = response.insert_errors.as_deref().and_then(<[_]>::first) {
                let detail =
                    first.errors.as_deref().map(|errors| RequestFailure::from_job_errors(errors).message);
                return Err(write_error(format!(
                    "staging row {} was refused: {}",
                    first.index.unwrap_or(-1),
                    detail.unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    /// Refuses the write when it would leave a key twice in the target (see [`duplicate_key_sql`]).
    async fn check_unique_keys(
        &self,
        table: &Table,
        staging: &str,
        condition: Option<&str>,
    ) -> Result<(), WarehouseError> {
        let target = self.qualified_name(table);
        let sql = duplicate_key_sql(&target, staging, table, condition);
        let outcome = self.execute_for(table, &sql, &[]).await?;
        let Some(row) = outcome.rows.into_iter().next() else {
            return Ok(());
        };
        let cells = decode_row(&outcome.fields, row)
            .map_err(|message| WarehouseError::Write { table: table.to_string(), message })?;
        let key: Vec<String> = cells[..table.key.len()].iter().map(crate::fixtures::format_cell).collect();
        Err(WarehouseError::DuplicateKey { table: table.to_string(), key: key.join("/") })
    }

    /// Stages every write's rows, checks their keys, then applies them all in one script (see
    /// the module's "How a write stays atomic"). The staging tables are dropped whatever
    /// happened.
    async fn write_in_one_transaction(
        &self,
        writes: &[TableWrite],
    ) -> Result<Vec<WriteReport>, WarehouseError> {
        let Some(first) = writes.first() else {
            return Ok(Vec::new());
        };
        let scope_rows = write_scope_rows(writes);
        let scope_table = write_scope_table(first.table.dataset);
        let staging = Staging {
            writes: writes
                .iter()
                .map(|write| (!write.rows.is_empty()).then(|| self.staging_name(write.table)))
                .collect(),
            expectations: writes
                .iter()
                .map(|write| {
                    let expects = write.expected.as_ref().is_some_and(|expected| !expected.rows.is_empty());
                    expects.then(|| self.staging_name(write.table))
                })
                .collect(),
            scopes: (!scope_rows.is_empty()).then(|| self.staging_name(&scope_table)),
            scope_table,
            scope_rows,
        };
        let outcome = self.stage_and_apply(first.table, writes, &staging).await;
        let tables = || writes.iter().map(|write| write.table);
        let staged = tables().zip(&staging.writes).chain(tables().zip(&staging.expectations));
        let drops = staged.chain([(&staging.scope_table, &staging.scopes)]).filter_map(|(table, name)| {
            let qualified = self.staging_qualified_name(table, name.as_deref()?);
            Some(async move {
                let drop = format!("DROP TABLE IF EXISTS {qualified}");
                if let Err(error) = self.execute_for(table, &drop, &[]).await {
                    tracing::warn!(
                        "cannot drop staging table {qualified} (it expires within a day): {error}"
                    );
                }
            })
        });
        join_all(drops).await;
        outcome
    }

    /// Creates a staging table for `table` named `name` and streams `rows` into it; returns its
    /// qualified name.
    async fn stage(&self, table: &Table, name: &str, rows: &[Vec<Value>]) -> Result<String, WarehouseError> {
        let qualified = self.staging_qualified_name(table, name);
        self.execute_for(table, &create_staging_sql(&qualified, table), &[]).await?;
        self.stage_rows(table, name, rows).await?;
        Ok(qualified)
    }

    /// [`BigQueryWarehouse::stage`] for a staging table the plan named; nothing without a name.
    async fn stage_if_named(
        &self,
        table: &Table,
        name: Option<&str>,
        rows: &[Vec<Value>],
    ) -> Result<Option<String>, WarehouseError> {
        match name {
            Some(name) => self.stage(table, name, rows).await.map(Some),
            None => Ok(None),
        }
    }

    /// The body of [`BigQueryWarehouse::write_in_one_transaction`]; a failed script is reported
    /// against `first`, the set's first table (as the embedded warehouse reports a failed commit).
    async fn stage_and_apply(
        &self,
        first: &Table,
        writes: &[TableWrite],
        staging: &Staging,
    ) -> Result<Vec<WriteReport>, WarehouseError> {
        let stage_scopes =
            self.stage_if_named(&staging.scope_table, staging.scopes.as_deref(), &staging.scope_rows);
        let stage_writes = try_join_all(
            writes
                .iter()
                .zip(&staging.writes)
                .map(|(write, name)| self.stage_if_named(write.table, name.as_deref(), &write.rows)),
        );
        let stage_expectations =
            try_join_all(writes.iter().zip(&staging.expectations).map(|(write, name)| {
                let rows = write.expected.as_ref().map_or(&[][..], |expected| expected.rows.as_slice());
                self.stage_if_named(write.table, name.as_deref(), rows)
            }));
        let (scopes, staged, expectations) =
            tokio::try_join!(stage_scopes, stage_writes, stage_expectations)?;
        let statements =
            try_join_all(writes.iter().zip(&staged).enumerate().map(|(index, (write, staged))| {
                self.write_statement(index, write, staged.as_deref(), scopes.as_deref())
            }))
            .await?;
        let staged_rows: Vec<(&str, usize)> = writes
            .iter()
            .zip(&staged)
            .map(|(write, staging)| (staging, write.rows.len()))
            .chain(writes.iter().zip(&expectations).map(|(write, staging)| {
                (staging, write.expected.as_ref().map_or(0, |expected| expected.rows.len()))
            }))
            .chain([(&scopes, staging.scope_rows.len())])
            .filter_map(|(staging, rows)| Some((staging.as_deref()?, rows)))
            .collect();
        let version_checks = writes.iter().zip(&expectations).filter_map(|(write, staged)| {
            let expected = write.expected.as_ref()?;
            let target = self.qualified_name(write.table);
            Some(version_check_sql(&target, staged.as_deref()?, write.table, expected))
        });
        let preconditions: Vec<String> =
            staged_rows_check_sql(&staged_rows).into_iter().chain(version_checks).collect();
        if let Some(hook) = &self.before_merge {
            for write in writes {
                hook(write.table)?;
            }
        }
        let write_error = |message: String| WarehouseError::Write { table: first.to_string(), message };
        let deleted = match transaction_script(&preconditions, &statements) {
            Some(script) => match self.execute_script(first, &script.sql).await.map_err(concurrent_update)? {
                Some(outcome) => script.deleted_counts(&outcome).map_err(write_error)?,
                None => vec![0; statements.len()],
            },
            None => vec![0; statements.len()],
        };
        Ok(statements
            .iter()
            .zip(deleted)
            .map(|(statement, rows_deleted)| WriteReport {
                rows_deleted,
                rows_inserted: statement.rows_inserted,
            })
            .collect())
    }

    /// Runs a write script ([`BigQueryWarehouse::run_script`]), and again after each of
    /// [`STAGING_WAITS`] while its staging check finds streamed rows not yet visible
    /// ([`staged_rows_check_sql`]; the failed script rolled back): BigQuery promises them within
    /// seconds, so the waits add up to fifteen.
    async fn execute_script(&self, first: &Table, sql: &str) -> Result<Option<QueryOutcome>, WarehouseError> {
        let mut waits = STAGING_WAITS.iter();
        loop {
            let table = first.to_string();
            let outcome = self.run_script(sql).await.map_err(|failure| match failure {
                ScriptFailure::Failed(failure) => WarehouseError::Write { table, message: failure.message },
                ScriptFailure::OutcomeUnknown(failure) => {
                    WarehouseError::OutcomeUnknown { table, message: failure.message }
                }
            });
            let not_yet_visible = matches!(
                &outcome,
                Err(WarehouseError::Write { message, .. }) if message.contains(STAGING_INCOMPLETE)
            );
            match waits.next() {
                Some(wait) if not_yet_visible => {
                    tracing::warn!(
                        "BigQuery write to {first}: {STAGING_INCOMPLETE}, running its script again in {}s",
                        wait.as_secs()
                    );
                    tokio::time::sleep(*wait).await;
                }
                _ => return outcome,
            }
        }
    }

    /// The statement that applies `write` (the `index`th of its script) from its staging table,
    /// after checking its keys; `scopes` is the staged [`write_scope_table`].
    async fn write_statement(
        &self,
        index: usize,
        write: &TableWrite,
        staging: Option<&str>,
        scopes: Option<&str>,
    ) -> Result<WriteStatement, WarehouseError> {
        let TableWrite { table, scope, rows, unique_key, expected: _ } = write;
        let write_error = |message: String| WarehouseError::Write { table: table.to_string(), message };
        let target = self.qualified_name(table);
        let rows_inserted = rows.len() as u64;
        let check_keys = *unique_key && !table.key.is_empty();
        let unchanged = WriteStatement { declaration: None, sql: None, counted_scope: None, rows_inserted };
        let statement = match (scope, staging) {
            (None | Some(ReplaceScope::Keys), None) => unchanged,
            (None, Some(staging)) => {
                let columns = quoted_columns(table, "");
                WriteStatement {
                    sql: Some(format!("INSERT INTO {target} ({columns}) SELECT {columns} FROM {staging}")),
                    ..unchanged
                }
            }
            (Some(ReplaceScope::Keys), Some(staging)) => {
                if check_keys {
                    self.check_unique_keys(table, staging, None).await?;
                }
                WriteStatement { sql: Some(upsert_sql(&target, staging, table)), ..unchanged }
            }
            (Some(scope), staging) => {
                let staged_dates = match (scope, scopes) {
                    (ReplaceScope::Partitions(dates), Some(scopes)) if !dates.is_empty() => {
                        Some(staged_scope_dates(scopes, index))
                    }
                    _ => None,
                };
                if let Some(staging) = staging.filter(|_| check_keys) {
                    let condition =
                        scope_condition(table, scope, staged_dates.as_deref()).map_err(write_error)?;
                    self.check_unique_keys(table, staging, condition.as_deref()).await?;
                }
                // The script's statements read the dates from a variable declared before them,
                // not from a subquery (partition pruning; see the module's doc).
                let variable = format!("scope_{index}");
                let declaration =
                    staged_dates.map(|dates| format!("DECLARE {variable} ARRAY<DATE> DEFAULT ARRAY{dates}"));
                let in_script = declaration.as_ref().map(|_| format!("UNNEST({variable})"));
                let condition = scope_condition(table, scope, in_script.as_deref())
                    .map_err(write_error)?
                    .unwrap_or_else(|| "TRUE".to_owned());
                let sql = match staging {
                    Some(staging) => replace_merge_sql(&target, staging, table, Some(&condition)),
                    None => format!("DELETE FROM {target} T WHERE {condition}"),
                };
                WriteStatement {
                    declaration,
                    sql: Some(sql),
                    counted_scope: Some(format!("SELECT COUNT(*) FROM {target} T WHERE {condition}")),
                    rows_inserted,
                }
            }
        };
        Ok(statement)
    }

    /// Table names of one dataset; `None` when the dataset does not exist.
    async fn existing_tables(&self, dataset: &str) -> Result<Option<BTreeSet<String>>, RequestFailure> {
        let mut names = BTreeSet::new();
        let mut page_token: Option<String> = None;
        loop {
            let listed = self
                .with_retries("tables.list", || {
                    let options = match page_token.clone() {
                        Some(token) => ListOptions::default().page_token(token),
                        None => ListOptions::default(),
                    };
                    async move { Ok(self.client.table().list(&self.project, dataset, options).await?) }
                })
                .await;
            let list = match listed {
                Ok(list) => list,
                Err(failure) if failure.http_status == Some(404) => return Ok(None),
                Err(failure) => return Err(failure),
            };
            names.extend(
                list.tables.unwrap_or_default().into_iter().map(|table| table.table_reference.table_id),
            );
            page_token = list.next_page_token.filter(|token| !token.is_empty());
            if page_token.is_none() {
                return Ok(Some(names));
            }
        }
    }
}

/// Why a write script did not succeed.
enum ScriptFailure {
    /// It did not commit.
    Failed(RequestFailure),
    /// Nobody can tell whether it committed: it was sent, and then neither its answer nor its
    /// job's state could be read.
    OutcomeUnknown(RequestFailure),
}

/// Where a job is, read from its state (`jobs.get`).
#[derive(Debug, PartialEq)]
enum JobEnd {
    Running,
    Committed,
    /// Finished with an error result: a script's transaction rolled back.
    RolledBack(RequestFailure),
}

fn job_end(job: &Job) -> JobEnd {
    let Some(status) = &job.status else { return JobEnd::Running };
    if status.state.as_deref() != Some("DONE") {
        return JobEnd::Running;
    }
    match &status.error_result {
        Some(error) => JobEnd::RolledBack(RequestFailure::from_job_errors(std::slice::from_ref(error))),
        None => JobEnd::Committed,
    }
}

/// A query response's `errors` array is a failure even under HTTP 200.
fn job_errors(errors: &Option<Vec<ErrorProto>>) -> Result<(), RequestFailure> {
    match errors.as_deref() {
        Some(errors) if !errors.is_empty() => Err(RequestFailure::from_job_errors(errors)),
        _ => Ok(()),
    }
}

#[async_trait]
impl Warehouse for BigQueryWarehouse {
    /// Lists each dataset's tables (one call per dataset) and creates only what is missing, so
    /// opening an existing warehouse costs no DDL.
    async fn ensure_tables(&self, tables: &[&'static Table]) -> Result<(), WarehouseError> {
        let datasets: BTreeSet<Dataset> = tables.iter().map(|table| table.dataset).collect();
        for dataset in datasets {
            let name = self.dataset_name(dataset);
            let ddl_error = |sql: &str, failure: RequestFailure| WarehouseError::Query {
                sql: sql.to_owned(),
                message: failure.message,
            };
            let existing = self
                .existing_tables(&name)
                .await
                .map_err(|failure| ddl_error(&format!("list tables of {name}"), failure))?;
            // BigQuery answers 404 for a missing dataset; the emulator lists it as empty. Both
            // get the (idempotent) CREATE SCHEMA.
            let existing = existing.unwrap_or_default();
            if existing.is_empty() {
                let sql = format!("CREATE SCHEMA IF NOT EXISTS `{}.{name}`", self.project);
                self.run_statement(&sql, Vec::new()).await.map_err(|failure| ddl_error(&sql, failure))?;
            }
            for table in
                tables.iter().filter(|table| table.dataset == dataset && !existing.contains(table.name))
            {
                let sql = create_table_sql(&self.qualified_name(table), table);
                self.run_statement(&sql, Vec::new()).await.map_err(|failure| ddl_error(&sql, failure))?;
            }
        }
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<ResultSet, WarehouseError> {
        let (sql, parameters) = self.render(query)?;
        let query_error = |message: String| WarehouseError::Query { sql: sql.clone(), message };
        let outcome =
            self.run_statement(&sql, parameters).await.map_err(|failure| query_error(failure.message))?;
        let columns = outcome.fields.iter().map(|field| field.name.clone()).collect();
        let rows = outcome
            .rows
            .into_iter()
            .map(|row| decode_row(&outcome.fields, row))
            .collect::<Result<Vec<_>, _>>()
            .map_err(query_error)?;
        Ok(ResultSet { columns, rows })
    }

    async fn replace(
        &self,
        table: &'static Table,
        scope: ReplaceScope,
        rows: Vec<Vec<Value>>,
        unique_key: bool,
    ) -> Result<WriteReport, WarehouseError> {
        let write = TableWrite::replace(table, scope, rows, unique_key);
        Ok(self.write_in_one_transaction(&[write]).await?.pop().unwrap_or_default())
    }

    async fn append(&self, table: &'static Table, rows: Vec<Vec<Value>>) -> Result<(), WarehouseError> {
        self.write_in_one_transaction(&[TableWrite::append(table, rows)]).await.map(|_| ())
    }

    fn writes_together_atomically(&self) -> bool {
        true
    }

    async fn write_together(&self, writes: Vec<TableWrite>) -> Result<Vec<WriteReport>, WarehouseError> {
        self.write_in_one_transaction(&writes).await
    }
}

/// The staging tables of a write set, named before any is created so that every one is dropped
/// afterwards: per write, its rows' table (none when it has no rows) and its expected versions'
/// (none without an expectation, see [`version_check_sql`]); and the table of the
/// scopes' dates ([`write_scope_table`], none when no write is scoped by dates) with its rows.
struct Staging {
    writes: Vec<Option<String>>,
    /// Per write, the table of its [`ExpectedVersions`] rows (none without an expectation).
    expectations: Vec<Option<String>>,
    scopes: Option<String>,
    scope_table: Table,
    scope_rows: Vec<Vec<Value>>,
}

/// One write's part of a script: the declaration of the variable holding its scope's dates
/// (scopes of dates only), its statement (`None` when it changes nothing: no rows to append or
/// upsert) and, for a scope it replaces, the query counting that scope's rows, which the
/// statement deletes.
struct WriteStatement {
    declaration: Option<String>,
    sql: Option<String>,
    counted_scope: Option<String>,
    rows_inserted: u64,
}

/// A multi-statement transaction applying writes, and which of them count deleted rows.
struct TransactionScript {
    sql: String,
    /// Per write, whether the script's final row has its `deleted_<index>` column.
    counted: Vec<bool>,
}

/// The writes' statements in one BigQuery transaction: each scope's rows are counted just before
/// the statement that deletes them (a MERGE or DELETE reports only its total of affected rows,
/// and a script reports none per statement), and the script's last statement selects the counts.
/// The preconditions (the staging check, the writes' version checks) come first, inside the
/// transaction. A failing statement rolls every write back. `None` when no write changes
/// anything.
fn transaction_script(preconditions: &[String], statements: &[WriteStatement]) -> Option<TransactionScript> {
    if statements.iter().all(|statement| statement.sql.is_none()) {
        return None;
    }
    let counted: Vec<bool> = statements.iter().map(|statement| statement.counted_scope.is_some()).collect();
    let mut sql = String::new();
    let counters: Vec<String> = (0..statements.len())
        .filter(|&index| counted[index])
        .map(|index| format!("deleted_{index}"))
        .collect();
    for declaration in statements.iter().filter_map(|statement| statement.declaration.as_ref()) {
        sql.push_str(declaration);
        sql.push_str(";\n");
    }
    for counter in &counters {
        sql.push_str(&format!("DECLARE {counter} INT64 DEFAULT 0;\n"));
    }
    sql.push_str("BEGIN TRANSACTION;\n");
    for precondition in preconditions {
        sql.push_str(precondition);
        sql.push_str(";\n");
    }
    for (index, statement) in statements.iter().enumerate() {
        if let Some(count) = &statement.counted_scope {
            sql.push_str(&format!("SET deleted_{index} = ({count});\n"));
        }
        if let Some(write) = &statement.sql {
            sql.push_str(write);
            sql.push_str(";\n");
        }
    }
    sql.push_str("COMMIT TRANSACTION;\n");
    if !counters.is_empty() {
        sql.push_str(&format!("SELECT {};", counters.join(", ")));
    }
    Some(TransactionScript { sql, counted })
}

impl TransactionScript {
    /// Each write's deleted rows, read from the script's final row (0 for writes it did not
    /// count).
    fn deleted_counts(&self, outcome: &QueryOutcome) -> Result<Vec<u64>, String> {
        let cells = match outcome.rows.first() {
            Some(row) => decode_row(&outcome.fields, row.clone())?,
            None if !self.counted.contains(&true) => Vec::new(),
            None => return Err("the write script returned no counts".to_owned()),
        };
        let mut counts = cells.into_iter();
        self.counted
            .iter()
            .map(|&counted| {
                if !counted {
                    return Ok(0);
                }
                match counts.next() {
                    Some(Value::Int(count)) => u64::try_from(count).map_err(|error| error.to_string()),
                    other => Err(format!("the write script returned {other:?} as a count")),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::analytics::PLAYER_GAME_SUMMARY;
    use crate::schema::predictions::ML_FEATURE_STORE_V2;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn render(query: &Query) -> (String, Vec<QueryParameter>) {
        render_for_bigquery(query, |table| format!("`p.test_{}.{}`", table.dataset.base_name(), table.name))
            .unwrap()
    }

    #[test]
    fn tables_become_qualified_names_and_identifiers_backticks() {
        let query = Query::new(
            "SELECT \"game_date\", count(*) FROM {nba_analytics.player_game_summary} \
             WHERE \"game_date\" IN (@dates) AND status = 'it''s \"x\"' GROUP BY 1",
        )
        .bind_list("dates", &[date("2025-01-15"), date("2025-01-16")]);
        let (sql, parameters) = render(&query);
        assert_eq!(
            sql,
            "SELECT `game_date`, count(*) FROM `p.test_nba_analytics.player_game_summary` \
             WHERE `game_date` IN (@dates_0, @dates_1) AND status = 'it''s \"x\"' GROUP BY 1"
        );
        let names: Vec<_> = parameters.iter().map(|parameter| parameter.name.clone().unwrap()).collect();
        assert_eq!(names, ["dates_0", "dates_1"]);
        assert_eq!(parameters[1].parameter_type.as_ref().unwrap().r#type, "DATE");
        assert_eq!(parameters[1].parameter_value.as_ref().unwrap().value.as_deref(), Some("2025-01-16"));
    }

    #[test]
    fn unbound_parameters_are_named_and_unused_ones_dropped() {
        let error = render_for_bigquery(&Query::new("SELECT @missing"), |_| String::new()).unwrap_err();
        assert_eq!(error.to_string(), "parameter @missing is used in the query but not bound");
        let (_, parameters) = render(&Query::new("SELECT @a").bind("a", 1i64).bind("unused", 2i64));
        assert_eq!(parameters.len(), 1);
    }

    #[test]
    fn parameters_are_typed_from_their_values() {
        let typed = |value: Value| {
            let parameter = query_parameter("x", &value);
            (parameter.parameter_type.unwrap(), parameter.parameter_value.unwrap())
        };
        let (kind, value) = typed(Value::Int(-42));
        assert_eq!((kind.r#type.as_str(), value.value.as_deref()), ("INT64", Some("-42")));
        let (kind, value) = typed(Value::Float(0.1));
        assert_eq!((kind.r#type.as_str(), value.value.as_deref()), ("FLOAT64", Some("0.1")));
        let (_, value) = typed(Value::Float(f64::NAN));
        assert_eq!(value.value, None);
        let (kind, value) = typed(Value::Bool(true));
        assert_eq!((kind.r#type.as_str(), value.value.as_deref()), ("BOOL", Some("true")));
        let instant = DateTime::<Utc>::from_timestamp_micros(1_736_942_400_123_456).unwrap();
        let (kind, value) = typed(Value::Timestamp(instant));
        assert_eq!(
            (kind.r#type.as_str(), value.value.as_deref()),
            ("TIMESTAMP", Some("2025-01-15 12:00:00.123456+00:00"))
        );
        let (kind, value) = typed(Value::Null);
        assert_eq!((kind.r#type.as_str(), value.value), ("STRING", None));
        let (kind, value) = typed(Value::FloatArray(vec![1.5, -2.0]));
        assert_eq!(kind.r#type, "ARRAY");
        assert_eq!(kind.array_type.unwrap().r#type, "FLOAT64");
        let elements: Vec<_> =
            value.array_values.unwrap().into_iter().map(|element| element.value.unwrap()).collect();
        assert_eq!(elements, ["1.5", "-2.0"]);
        let (kind, _) = typed(Value::StringArray(vec!["a".into()]));
        assert_eq!(kind.array_type.unwrap().r#type, "STRING");
    }

    fn field(name: &str, field_type: FieldType, mode: &str) -> TableFieldSchema {
        let mut field = TableFieldSchema::new(name, field_type);
        field.mode = Some(mode.to_owned());
        field
    }

    #[test]
    fn cells_decode_by_the_result_schema() {
        let nullable =
            |field_type: FieldType, cell: Json| decode_cell(&field("c", field_type, "NULLABLE"), cell);
        assert_eq!(nullable(FieldType::String, Json::from("LAL")), Ok(Value::String("LAL".into())));
        assert_eq!(nullable(FieldType::Json, Json::from("{\"a\":1}")), Ok(Value::String("{\"a\":1}".into())));
        assert_eq!(
            nullable(FieldType::Integer, Json::from("9007199254740993")),
            Ok(Value::Int(9_007_199_254_740_993))
        );
        assert_eq!(nullable(FieldType::Float, Json::from("231.5")), Ok(Value::Float(231.5)));
        assert_eq!(nullable(FieldType::Numeric, Json::from("20.5")), Ok(Value::Float(20.5)));
        assert_eq!(nullable(FieldType::Boolean, Json::from("true")), Ok(Value::Bool(true)));
        assert_eq!(nullable(FieldType::Date, Json::from("2025-01-15")), Ok(Value::Date(date("2025-01-15"))));
        assert_eq!(nullable(FieldType::Integer, Json::Null), Ok(Value::Null));
        assert!(nullable(FieldType::Float, Json::from("NaN")).unwrap().as_f64().is_none());
        assert_eq!(
            nullable(FieldType::Integer, Json::from("x")),
            Err("column c: \"x\" is not an integer".to_owned())
        );
        let floats = serde_json::json!([{"v": "1.5"}, {"v": "2.0"}]);
        assert_eq!(
            decode_cell(&field("f", FieldType::Float, "REPEATED"), floats),
            Ok(Value::FloatArray(vec![1.5, 2.0]))
        );
        let texts = serde_json::json!([{"v": "a,b"}, {"v": "it's"}]);
        assert_eq!(
            decode_cell(&field("s", FieldType::String, "REPEATED"), texts),
            Ok(Value::StringArray(vec!["a,b".into(), "it's".into()]))
        );
        assert_eq!(
            decode_cell(&field("s", FieldType::String, "REPEATED"), serde_json::json!([])),
            Ok(Value::Null),
            "BigQuery stores a NULL array as empty"
        );
    }

    #[test]
    fn timestamps_decode_from_emulator_micros_and_bigquery_seconds() {
        let expected = DateTime::<Utc>::from_timestamp_micros(1_736_942_400_123_456).unwrap();
        assert_eq!(decode_timestamp(&Json::from("1736942400123456")), Ok(expected));
        assert_eq!(decode_timestamp(&Json::from(1_736_942_400_123_456i64)), Ok(expected));
        assert_eq!(decode_timestamp(&Json::from("1.736942400123456E9")), Ok(expected));
        assert_eq!(decode_timestamp(&Json::from("1736942400.123456")), Ok(expected));
        let whole = DateTime::<Utc>::from_timestamp_micros(1_736_942_400_000_000).unwrap();
        assert_eq!(decode_timestamp(&Json::from("1.7369424E9")), Ok(whole));
        let before_epoch = DateTime::<Utc>::from_timestamp_micros(-1_500_000).unwrap();
        assert_eq!(decode_timestamp(&Json::from("-1.5E0")), Ok(before_epoch));
        assert!(decode_timestamp(&Json::from("1.2.3")).is_err());
    }

    #[test]
    fn schema_types_map_to_bigquery_types() {
        assert_eq!(bigquery_type(ColumnType::Numeric { precision: 5, scale: 1 }), "NUMERIC(5, 1)");
        assert_eq!(bigquery_type(ColumnType::Float64Array), "ARRAY<FLOAT64>");
        assert_eq!(bigquery_type(ColumnType::StringArray), "ARRAY<STRING>");
        assert_eq!(bigquery_type(ColumnType::Json), "JSON");
        let ddl = create_table_sql("`p.d.player_game_summary`", &PLAYER_GAME_SUMMARY);
        assert!(
            ddl.starts_with(
                "CREATE TABLE IF NOT EXISTS `p.d.player_game_summary` (`player_lookup` STRING NOT NULL"
            ),
            "{ddl}"
        );
        assert!(
            ddl.ends_with(" PARTITION BY `game_date` CLUSTER BY `game_date`, `game_id`, `player_lookup`"),
            "{ddl}"
        );
        let staging = create_staging_sql("`p.d.s`", &ML_FEATURE_STORE_V2);
        assert!(!staging.contains("NOT NULL") && staging.contains("`features` ARRAY<FLOAT64>"), "{staging}");
    }

    #[test]
    fn staged_rows_are_typed_json_without_nulls() {
        let table = &ML_FEATURE_STORE_V2;
        let row = table.row(vec![
            ("player_lookup", Value::String("lebronjames".into())),
            ("game_date", Value::Date(date("2025-01-15"))),
            ("features", Value::FloatArray(vec![20.5, 0.1])),
            ("feature_count", Value::Int(2)),
            ("feature_quality_score", Value::Float(f64::INFINITY)),
        ]);
        let json = row_json(table, &row).unwrap();
        assert_eq!(json["player_lookup"], "lebronjames");
        assert_eq!(json["game_date"], "2025-01-15");
        assert_eq!(json["features"], serde_json::json!([20.5, 0.1]));
        assert_eq!(json["feature_count"], "2");
        assert!(!json.contains_key("feature_quality_score"));
        assert_eq!(json.len(), 4);
        assert_eq!(cell_json(ColumnType::Numeric { precision: 5, scale: 1 }, &Value::Float(97.35)), "97.3");
        assert!(row_json(table, &row[1..]).unwrap_err().contains("cells for 50 columns"));
    }

    #[test]
    fn an_upsert_deletes_the_rows_of_its_staged_keys_then_inserts_the_staged_rows() {
        let table = &crate::schema::reference::UNRESOLVED_PLAYER_NAMES;
        let sql = upsert_sql("`t`", "`s`", table);
        let (delete, insert) = sql.split_once(";\n").expect("two statements");
        assert_eq!(
            delete,
            "DELETE FROM `t` T WHERE EXISTS (SELECT 1 FROM `s` S WHERE T.`source` = S.`source` \
             AND T.`normalized_lookup` = S.`normalized_lookup`)"
        );
        let columns = quoted_columns(table, "");
        assert!(columns.starts_with("`source`, `original_name`, "), "{columns}");
        assert_eq!(insert, format!("INSERT INTO `t` ({columns}) SELECT {columns} FROM `s`"));
    }

    #[test]
    fn a_partition_replace_is_one_merge_on_false_over_its_staged_dates() {
        let table = &PLAYER_GAME_SUMMARY;
        let scope = ReplaceScope::Partitions(vec![date("2025-01-15"), date("2025-01-16")]);
        let staged = staged_scope_dates("`scopes`", 2);
        assert_eq!(staged, "(SELECT `scope_date` FROM `scopes` WHERE `write_index` = 2)");
        let condition = scope_condition(table, &scope, Some(&staged)).unwrap().unwrap();
        assert_eq!(condition, format!("T.`game_date` IN {staged}"));
        let in_script = scope_condition(table, &scope, Some("UNNEST(scope_2)")).unwrap().unwrap();
        let merge = replace_merge_sql("`t`", "`s`", table, Some(&in_script));
        assert!(merge.starts_with("MERGE `t` T USING (SELECT `player_lookup`, "), "{merge}");
        assert!(
            merge.contains(" FROM `s`) S ON FALSE WHEN NOT MATCHED BY SOURCE AND T.`game_date` IN UNNEST(scope_2) THEN DELETE WHEN NOT MATCHED THEN INSERT ("),
            "{merge}"
        );
        let no_dates = ReplaceScope::Partitions(Vec::new());
        assert_eq!(scope_condition(table, &no_dates, None), Ok(Some("FALSE".to_owned())));
        assert!(scope_condition(&crate::schema::reference::NBA_PLAYERS_REGISTRY, &scope, None).is_err());
        assert_eq!(scope_condition(table, &ReplaceScope::WholeTable, None), Ok(None));
    }

    #[test]
    fn a_write_set_stages_each_scoped_date_with_its_write() {
        let (first, second) = (date("2025-01-15"), date("2025-01-16"));
        let writes = [
            TableWrite::append(&ML_FEATURE_STORE_V2, Vec::new()),
            TableWrite::replace(
                &PLAYER_GAME_SUMMARY,
                ReplaceScope::Partitions(vec![first, second]),
                Vec::new(),
                true,
            ),
            TableWrite::replace(&PLAYER_GAME_SUMMARY, ReplaceScope::WholeTable, Vec::new(), false),
        ];
        assert_eq!(
            write_scope_rows(&writes),
            [vec![Value::Int(1), Value::Date(first)], vec![Value::Int(1), Value::Date(second)],]
        );
    }

    #[test]
    fn a_transaction_script_counts_each_replaced_scope_before_its_statement() {
        let unchanged =
            || WriteStatement { declaration: None, sql: None, counted_scope: None, rows_inserted: 0 };
        let statements = [
            WriteStatement {
                sql: Some("MERGE a".to_owned()),
                counted_scope: Some("SELECT COUNT(*) FROM a".to_owned()),
                rows_inserted: 3,
                ..unchanged()
            },
            unchanged(),
            WriteStatement { sql: Some("INSERT INTO b".to_owned()), rows_inserted: 1, ..unchanged() },
            WriteStatement {
                declaration: Some("DECLARE scope_3 ARRAY<DATE> DEFAULT ARRAY(SELECT 1)".to_owned()),
                sql: Some("DELETE FROM c".to_owned()),
                counted_scope: Some("SELECT COUNT(*) FROM c".to_owned()),
                rows_inserted: 0,
            },
        ];
        let script = transaction_script(&["IF check THEN RAISE; END IF".to_owned()], &statements).unwrap();
        assert_eq!(
            script.sql,
            "DECLARE scope_3 ARRAY<DATE> DEFAULT ARRAY(SELECT 1);\n\
             DECLARE deleted_0 INT64 DEFAULT 0;\nDECLARE deleted_3 INT64 DEFAULT 0;\nBEGIN TRANSACTION;\n\
             IF check THEN RAISE; END IF;\nSET deleted_0 = (SELECT COUNT(*) FROM a);\nMERGE a;\nINSERT INTO b;\n\
             SET deleted_3 = (SELECT COUNT(*) FROM c);\nDELETE FROM c;\nCOMMIT TRANSACTION;\n\
             SELECT deleted_0, deleted_3;"
        );
        let outcome = QueryOutcome {
            fields: vec![
                field("deleted_0", FieldType::Integer, "NULLABLE"),
                field("deleted_3", FieldType::Integer, "NULLABLE"),
            ],
            rows: vec![serde_json::from_value(serde_json::json!({"f": [{"v": "7"}, {"v": "2"}]})).unwrap()],
        };
        assert_eq!(script.deleted_counts(&outcome), Ok(vec![7, 0, 0, 2]));
        assert!(transaction_script(&[], &[unchanged()]).is_none());
    }

    #[test]
    fn the_staging_check_compares_every_staging_table_with_the_rows_streamed_into_it() {
        assert!(staged_rows_check_sql(&[]).is_empty());
        assert_eq!(
            staged_rows_check_sql(&[("`p.d._staging_a_r_0`", 421), ("`p.d._staging_b_r_1`", 1)]),
            [
                "IF (SELECT COUNT(*) FROM `p.d._staging_a_r_0`) > 421 OR (SELECT COUNT(*) FROM \
                 `p.d._staging_b_r_1`) > 1 THEN SELECT ERROR('staged rows duplicated by a retried \
                 insertAll'); END IF",
                "IF (SELECT COUNT(*) FROM `p.d._staging_a_r_0`) < 421 OR (SELECT COUNT(*) FROM \
                 `p.d._staging_b_r_1`) < 1 THEN SELECT ERROR('staged rows not yet visible'); END IF"
            ]
        );
    }

    #[test]
    fn a_version_check_raises_for_a_changed_or_appeared_row_and_is_told_from_other_failures() {
        let table = crate::schema::Table::find("nba_reference.unresolved_player_names").unwrap();
        let versions = ExpectedVersions { column: "processed_at", rows: Vec::new() };
        assert_eq!(
            version_check_sql("`t`", "`e`", table, &versions),
            "IF EXISTS (SELECT 1 FROM `e` E LEFT JOIN (SELECT `source`, `normalized_lookup`, \
             MAX(`processed_at`) AS `processed_at` FROM `t` GROUP BY `source`, `normalized_lookup`) T ON \
             T.`source` = E.`source` AND T.`normalized_lookup` = E.`normalized_lookup` WHERE NOT \
             ((T.`processed_at` IS NULL AND E.`processed_at` IS NULL) OR T.`processed_at` = \
             E.`processed_at`)) THEN SELECT \
             ERROR('concurrent update of nba_reference.unresolved_player_names'); END IF"
        );
        let raised = WarehouseError::Write {
            table: "nba_analytics.player_game_summary".to_owned(),
            message: "Query error: concurrent update of nba_reference.unresolved_player_names at [4:1]"
                .to_owned(),
        };
        assert!(matches!(
            concurrent_update(raised),
            WarehouseError::ConcurrentUpdate { table } if table == "nba_reference.unresolved_player_names"
        ));
        let other = WarehouseError::Write { table: "t".to_owned(), message: "syntax error".to_owned() };
        assert!(
            matches!(concurrent_update(other), WarehouseError::Write { message, .. } if message == "syntax error")
        );
    }

    #[test]
    fn the_duplicate_check_covers_staged_rows_and_kept_target_rows() {
        let sql = duplicate_key_sql("`t`", "`s`", &PLAYER_GAME_SUMMARY, Some("T.`game_date` IN (@scope_0)"));
        assert_eq!(
            sql,
            "SELECT `game_date`, `game_id`, `player_lookup`, COUNT(*) AS copies FROM (SELECT `game_date`, `game_id`, \
             `player_lookup` FROM `s` UNION ALL SELECT T.`game_date`, T.`game_id`, T.`player_lookup` FROM `t` T JOIN \
             (SELECT DISTINCT `game_date`, `game_id`, `player_lookup` FROM `s`) W ON T.`game_date` = W.`game_date` AND \
             T.`game_id` = W.`game_id` AND T.`player_lookup` = W.`player_lookup` WHERE NOT COALESCE(T.`game_date` IN \
             (@scope_0), FALSE)) GROUP BY `game_date`, `game_id`, `player_lookup` HAVING COUNT(*) > 1 LIMIT 1"
        );
    }

    fn failure(status: Option<u16>, reasons: &[&str]) -> RequestFailure {
        RequestFailure {
            http_status: status,
            reasons: reasons.iter().map(|reason| reason.to_string()).collect(),
            message: String::new(),
            no_answer: false,
        }
    }

    #[test]
    fn overload_and_backend_errors_are_retried_others_are_not() {
        for status in [429, 500, 502, 503, 504] {
            assert!(failure(Some(status), &[]).is_transient(), "{status}");
        }
        assert!(failure(Some(403), &["rateLimitExceeded"]).is_transient());
        assert!(failure(None, &["backendError"]).is_transient());
        assert!(RequestFailure::timed_out(Duration::from_secs(60)).is_transient());
        assert!(!failure(Some(400), &["invalidQuery"]).is_transient());
        assert!(!failure(Some(404), &["notFound"]).is_transient());
        assert!(!failure(None, &["invalidQuery"]).is_transient());
        assert!(!failure(Some(403), &["accessDenied"]).is_transient());
    }

    fn job(state: &str, error_result: Option<ErrorProto>) -> Job {
        Job {
            status: Some(gcp_bigquery_client::model::job_status::JobStatus {
                state: Some(state.to_owned()),
                error_result,
                errors: None,
            }),
            ..Job::default()
        }
    }

    #[test]
    fn a_jobs_state_tells_a_commit_from_a_rollback_and_from_a_job_still_running() {
        assert_eq!(job_end(&job("DONE", None)), JobEnd::Committed);
        assert_eq!(job_end(&job("RUNNING", None)), JobEnd::Running);
        assert_eq!(job_end(&job("PENDING", None)), JobEnd::Running);
        assert_eq!(job_end(&Job::default()), JobEnd::Running);
        let raised = ErrorProto {
            reason: Some("invalidQuery".to_owned()),
            message: Some(format!("{CONCURRENT_UPDATE} nba_reference.unresolved_player_names")),
            ..ErrorProto::default()
        };
        let JobEnd::RolledBack(failure) = job_end(&job("DONE", Some(raised))) else {
            panic!("an error result is a rollback")
        };
        assert_eq!(failure.reasons, ["invalidQuery"]);
        let error =
            concurrent_update(WarehouseError::Write { table: String::new(), message: failure.message });
        assert!(
            matches!(&error, WarehouseError::ConcurrentUpdate { table } if table == "nba_reference.unresolved_player_names"),
            "{error}"
        );
    }

    #[test]
    fn job_errors_under_http_200_are_failures() {
        let errors = vec![ErrorProto {
            debug_info: None,
            location: Some("query".into()),
            message: Some("Binder Error: column nope not found".into()),
            reason: Some("invalidQuery".into()),
        }];
        let failure = job_errors(&Some(errors)).unwrap_err();
        assert_eq!(failure.message, "invalidQuery: Binder Error: column nope not found");
        assert!(!failure.is_transient());
        assert_eq!(job_errors(&Some(Vec::new())), Ok(()));
        assert_eq!(job_errors(&None), Ok(()));
    }

    #[test]
    fn backoff_doubles_within_jitter_bounds_and_is_capped() {
        let policy = RequestPolicy::default();
        assert_eq!(backoff_delay(&policy, 0, 0.0), Duration::from_millis(125));
        assert_eq!(
            backoff_delay(&policy, 0, 0.999_999),
            Duration::from_micros(249_999) + Duration::from_nanos(875)
        );
        assert_eq!(backoff_delay(&policy, 2, 0.5), Duration::from_millis(750));
        assert_eq!(backoff_delay(&policy, 10, 0.0), Duration::from_secs(4));
        assert_eq!(backoff_delay(&policy, 40, 1.0), Duration::from_secs(8));
        for _ in 0..100 {
            let random = jitter();
            assert!((0.0..1.0).contains(&random));
            let delay = backoff_delay(&policy, 3, random);
            assert!(delay >= Duration::from_secs(1) && delay <= Duration::from_secs(2), "{delay:?}");
        }
    }
}
