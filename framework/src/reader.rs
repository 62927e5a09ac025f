//! Bulk reads of upstream tables for a chunk of dates, recording what each date read.
//!
//! A processor's `extract` reads each upstream table once per chunk of dates through
//! [`InputReader`] (README §6: no per-player query). The reader counts round trips and keeps, per
//! table and date, an order-independent digest of every row read (README §4 item 7), so the
//! runner can skip a date whose inputs did not change. Rows read "before D" (history, and the
//! older games of [`DateFilter::LatestBefore`]) count towards every later date of the chunk.
//! Reads come back as rows ([`TableRows`]) or, for the history reads of tens of thousands of
//! rows, column by column ([`TableColumns`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};
use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use crate::columns::ColumnSet;
use crate::dedupe::{DuplicateKey, DuplicateLog};
use crate::digest::InputDigest;
use crate::processor::SourceUsage;
use crate::schema::Table;
use crate::value::{CellRef, Value};
use crate::warehouse::{Query, ResultSet, Warehouse, WarehouseError};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("{table}: column {column} is missing in a row that needs it")]
    MissingValue { table: String, column: String },
    #[error("{table} has no column {column}")]
    UnknownColumn { table: String, column: String },
}

/// Rows of one table with named columns.
#[derive(Debug, Default)]
pub struct TableRows {
    columns: RowColumns,
    rows: Vec<Vec<Value>>,
}

/// The table of read rows and where each column sits in a row.
#[derive(Debug, Default)]
struct RowColumns {
    table: String,
    /// Column name → cell index. Every cell a processor reads looks its column up here, so the
    /// map hashes with FxHash: the names are short and ours, SipHash's DoS resistance buys
    /// nothing, and it cost a fifth of a history read's conversion.
    positions: FxHashMap<String, usize>,
}

impl RowColumns {
    fn new(table: &Table, names: &[String]) -> Self {
        let positions = names.iter().enumerate().map(|(index, name)| (name.clone(), index)).collect();
        RowColumns { table: table.to_string(), positions }
    }

    /// Where `column` sits; `None` when the query did not select it.
    fn position(&self, column: &'static str) -> CellPosition {
        CellPosition { index: self.positions.get(column).copied(), column }
    }

    fn missing(&self, column: &str) -> ExtractError {
        ExtractError::MissingValue { table: self.table.clone(), column: column.to_owned() }
    }
}

impl TableRows {
    fn new(table: &Table, result: ResultSet) -> Self {
        TableRows { columns: RowColumns::new(table, &result.columns), rows: result.rows }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = RowView<'_>> {
        self.rows.iter().map(|cells| RowView { columns: &self.columns, cells })
    }

    /// Every row converted by `convert`, or its first error. The vector is allocated once:
    /// collecting fallible conversions grows it by doubling, which for a history read of tens
    /// of thousands of rows copied it a dozen times.
    ///
    /// # Errors
    /// The first error of `convert`.
    pub fn convert<T, E>(&self, mut convert: impl FnMut(RowView<'_>) -> Result<T, E>) -> Result<Vec<T>, E> {
        let mut converted = Vec::with_capacity(self.len());
        for row in self.iter() {
            converted.push(convert(row)?);
        }
        Ok(converted)
    }

    /// The rows grouped by the date in `date_column` (rows without a date are dropped).
    pub fn by_date(&self, date_column: &str) -> BTreeMap<NaiveDate, Vec<RowView<'_>>> {
        let mut groups: BTreeMap<NaiveDate, Vec<RowView<'_>>> = BTreeMap::new();
        for row in self.iter() {
            if let Some(date) = row.date(date_column) {
                groups.entry(date).or_default().push(row);
            }
        }
        groups
    }

    /// Per date, the reference's source tracking of this table (reference-framework.md §3.3,
    /// [`SourceUsage::of_rows`]). Reads `processed_at` and `data_hash` where the read selected
    /// them.
    pub fn source_usage_by_date(
        &self,
        date_column: &str,
        expected_rows: i64,
    ) -> BTreeMap<NaiveDate, SourceUsage> {
        self.by_date(date_column)
            .into_iter()
            .map(|(date, rows)| {
                let usage = SourceUsage::of_rows(&rows, expected_rows, |row| {
                    (row.timestamp("processed_at"), row.get("data_hash").as_str())
                });
                (date, usage)
            })
            .collect()
    }
}

/// One row, read by column name with the NULL/NaN-as-missing rules of README §4 item 9.
#[derive(Clone, Copy)]
pub struct RowView<'a> {
    columns: &'a RowColumns,
    cells: &'a [Value],
}

impl<'a> RowView<'a> {
    /// The cell of `column`; NULL when the query did not select it.
    pub fn get(&self, column: &str) -> &'a Value {
        const NULL: &Value = &Value::Null;
        self.columns.positions.get(column).map_or(NULL, |&index| &self.cells[index])
    }

    pub fn text(&self, column: &str) -> Option<String> {
        self.get(column).as_str().map(str::to_owned)
    }

    /// A text that rows copy, such as an id or a hash, as a [`SmolStr`] made from the cell
    /// directly, without the `String` that [`text`](Self::text) allocates.
    pub fn short_text(&self, column: &str) -> Option<SmolStr> {
        self.get(column).as_str().map(SmolStr::new)
    }

    pub fn int(&self, column: &str) -> Option<i64> {
        self.get(column).as_i64()
    }

    pub fn float(&self, column: &str) -> Option<f64> {
        self.get(column).as_f64()
    }

    pub fn flag(&self, column: &str) -> Option<bool> {
        self.get(column).as_bool()
    }

    pub fn date(&self, column: &str) -> Option<NaiveDate> {
        self.get(column).as_date()
    }

    pub fn timestamp(&self, column: &str) -> Option<DateTime<Utc>> {
        self.get(column).as_timestamp()
    }

    /// A column the row cannot do without (a key column).
    ///
    /// # Errors
    /// The cell is NULL or not text.
    pub fn required_text(&self, column: &str) -> Result<String, ExtractError> {
        self.text(column).ok_or_else(|| self.columns.missing(column))
    }

    /// [`short_text`](Self::short_text) of a column the row cannot do without.
    ///
    /// # Errors
    /// The cell is NULL or not text.
    pub fn required_short_text(&self, column: &str) -> Result<SmolStr, ExtractError> {
        self.short_text(column).ok_or_else(|| self.columns.missing(column))
    }

    /// # Errors
    /// The cell is NULL or not a date.
    pub fn required_date(&self, column: &str) -> Result<NaiveDate, ExtractError> {
        self.date(column).ok_or_else(|| self.columns.missing(column))
    }
}

/// Where one column sits in every row of a read ([`TableColumns::position`]), found once per
/// read: converting MLFS's busiest date's 25,516 history rows took 2.9–3.0 ms looking each
/// cell's column up by name, 1.8 ms by position.
#[derive(Clone, Copy, Debug)]
pub struct CellPosition {
    /// `None` when the query did not select the column.
    index: Option<usize>,
    column: &'static str,
}

/// A read kept column by column ([`crate::columns`]), for large reads whose rows a processor
/// groups and compares by text: read by [`CellPosition`] and row index, texts borrowed.
#[derive(Debug, Default)]
pub struct TableColumns {
    columns: RowColumns,
    /// Shared with the thread that digests the read ([`InputReader::read_columns_of`]).
    cells: Arc<ColumnSet>,
}

impl TableColumns {
    fn new(table: &Table, cells: ColumnSet) -> Self {
        TableColumns { columns: RowColumns::new(table, &cells.names), cells: Arc::new(cells) }
    }

    pub fn len(&self) -> usize {
        self.cells.rows
    }

    pub fn is_empty(&self) -> bool {
        self.cells.rows == 0
    }

    /// Where `column` sits; a column the query did not select reads as NULL.
    pub fn position(&self, column: &'static str) -> CellPosition {
        self.columns.position(column)
    }

    /// Every row converted by `convert`, or its first error; the vector is allocated once, as
    /// in [`TableRows::convert`].
    ///
    /// # Errors
    /// The first error of `convert`.
    pub fn convert<'a, T, E>(
        &'a self,
        mut convert: impl FnMut(ColumnRow<'a>) -> Result<T, E>,
    ) -> Result<Vec<T>, E> {
        let mut converted = Vec::with_capacity(self.len());
        for row in 0..self.len() {
            converted.push(convert(ColumnRow { table: self, row })?);
        }
        Ok(converted)
    }
}

/// One row of [`TableColumns`], read by [`CellPosition`] with the rules of [`CellRef`]'s
/// accessors; texts are borrowed from the read.
#[derive(Clone, Copy)]
pub struct ColumnRow<'a> {
    table: &'a TableColumns,
    row: usize,
}

impl<'a> ColumnRow<'a> {
    /// The cell at `at`; NULL when the query did not select its column.
    pub fn cell(&self, at: CellPosition) -> CellRef<'a> {
        at.index.map_or(CellRef::Null, |index| self.table.cells.columns[index].cell(self.row))
    }

    /// The text at `at`; `None` when NULL or not text.
    pub fn text(&self, at: CellPosition) -> Option<&'a str> {
        self.cell(at).as_str()
    }

    /// A text column the row cannot do without (a key column).
    ///
    /// # Errors
    /// The cell is NULL or not text.
    pub fn required_text(&self, at: CellPosition) -> Result<&'a str, ExtractError> {
        self.text(at).ok_or_else(|| self.table.columns.missing(at.column))
    }

    /// # Errors
    /// The cell is NULL or not a date.
    pub fn required_date(&self, at: CellPosition) -> Result<NaiveDate, ExtractError> {
        self.cell(at).as_date().ok_or_else(|| self.table.columns.missing(at.column))
    }
}

/// How rows of a table are selected by their date column.
#[derive(Clone, Debug, PartialEq)]
pub enum DateFilter {
    /// Rows of exactly these dates (the dates being processed).
    On(Vec<NaiveDate>),
    /// History: rows with `since <= date < before`; date D of the chunk depends on the rows
    /// dated D or earlier.
    Before { since: NaiveDate, before: NaiveDate },
    /// Older history, what a [`DateFilter::Before`] window starting at `since` misses of each
    /// entity's latest games: per value of `per_column`, the rows of its `count` most recent
    /// games dated before `before`, kept only when dated before `since`. A game is one (date,
    /// `game_column`) pair, so copies of one game (README §4 item 9b) rank as one game and all
    /// come back, for the processor to resolve.
    ///
    /// With this and the window `since..=D`, an entity's `count` most recent games before any
    /// `D >= before` are all read, however old: one dated before `since` has fewer than `count`
    /// newer games before `D`, so fewer before `before` too, and is read here. An entity with
    /// `count` games in `since..before` gets no row, so the read is small when the window
    /// usually suffices.
    LatestBefore {
        since: NaiveDate,
        before: NaiveDate,
        count: usize,
        per_column: &'static str,
        game_column: &'static str,
    },
}

impl DateFilter {
    /// [`DateFilter::LatestBefore`] of each player's (`player_lookup`) `count` latest games
    /// (`game_id`): what the phase-4 processors' history windows miss of a player back from a
    /// long absence.
    pub fn players_latest_games(since: NaiveDate, before: NaiveDate, count: usize) -> DateFilter {
        DateFilter::LatestBefore { since, before, count, per_column: "player_lookup", game_column: "game_id" }
    }
}

/// Narrows a read to the rows of the entities a chunk processes: the row's `column` must appear
/// in `entity_column` of the `entities` table's rows dated (by `entity_date_column`) on `dates`.
///
/// A history read for one date otherwise brings a season of every player's games, most of them
/// of players who do not play that date; the semi-join runs in the warehouse, in the same query.
/// The digest of a date then covers the history rows of its own entities, which is exactly what
/// its output depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct OfEntities {
    pub column: &'static str,
    pub entities: &'static Table,
    pub entity_column: &'static str,
    pub entity_date_column: &'static str,
    pub dates: Vec<NaiveDate>,
}

impl OfEntities {
    /// The players with a game on `dates` (`upcoming_player_game_context`): the entities of the
    /// phase-4 processors, whose history reads need no one else's games.
    pub fn players_playing_on(dates: &[NaiveDate]) -> Self {
        OfEntities {
            column: "player_lookup",
            entities: &crate::schema::analytics::UPCOMING_PLAYER_GAME_CONTEXT,
            entity_column: "player_lookup",
            entity_date_column: "game_date",
            dates: dates.to_vec(),
        }
    }
}

/// The per-date digests of a read's rows, given as (date of the row, its cells): each row counts
/// under its date (rows without one are left out), and every date a `DateFilter::On` read asked
/// for has a digest, rows or not ("empty" is an input state too). One encoding buffer serves
/// every row.
fn digests_by_date<'a, Cells>(
    filter: &DateFilter,
    rows: impl Iterator<Item = (Option<NaiveDate>, Cells)>,
) -> BTreeMap<NaiveDate, InputDigest>
where
    Cells: IntoIterator<Item = CellRef<'a>>,
{
    let mut by_date: BTreeMap<NaiveDate, InputDigest> = BTreeMap::new();
    if let DateFilter::On(dates) = filter {
        by_date.extend(dates.iter().map(|date| (*date, InputDigest::default())));
    }
    let mut scratch = Vec::new();
    for (date, cells) in rows {
        if let Some(date) = date {
            by_date.entry(date).or_default().add_cells(cells, &mut scratch);
        }
    }
    by_date
}

/// A lock of the reader's maps; a panic elsewhere while holding one leaves a usable map.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `SELECT` of `columns` (and `date_column`) of `table` for the rows `filter` and `of`
/// select.
///
/// # Errors
/// A column is not in the schema.
fn select_query(
    table: &'static Table,
    columns: &[&str],
    date_column: &str,
    filter: &DateFilter,
    of: Option<&OfEntities>,
) -> Result<Query, ExtractError> {
    check_columns(table, columns)?;
    if let Some(of) = of {
        check_columns(table, &[of.column])?;
        check_columns(of.entities, &[of.entity_column, of.entity_date_column])?;
    }
    let mut selected: Vec<&str> = columns.to_vec();
    if !selected.contains(&date_column) {
        selected.push(date_column);
    }
    let column_list = selected.iter().map(|column| format!("\"{column}\"")).collect::<Vec<_>>().join(", ");
    let base = format!("SELECT {column_list} FROM {{{table}}} WHERE \"{date_column}\"");
    let restriction = of.map_or_else(String::new, |of| {
        let OfEntities { column, entities, entity_column, entity_date_column, .. } = of;
        format!(
            " AND \"{column}\" IN (SELECT \"{entity_column}\" FROM {{{entities}}} WHERE \"{entity_date_column}\" IN (@entity_dates))"
        )
    });
    let mut query = match filter {
        DateFilter::On(dates) => {
            Query::new(format!("{base} IN (@dates){restriction}")).bind_list("dates", dates)
        }
        DateFilter::Before { since, before } => {
            Query::new(format!("{base} >= @since AND \"{date_column}\" < @before{restriction}"))
                .bind("since", *since)
                .bind("before", *before)
        }
        &DateFilter::LatestBefore { since, before, count, per_column, game_column } => {
            check_columns(table, &[per_column, game_column])?;
            let sql =
                latest_games_sql(table, &column_list, date_column, per_column, game_column, &restriction);
            Query::new(sql)
                .bind("since", since)
                .bind("before", before)
                .bind("count", i64::try_from(count).unwrap_or(i64::MAX))
        }
    };
    if let Some(of) = of {
        query = query.bind_list("entity_dates", &of.dates);
    }
    Ok(query)
}

/// The SQL of [`DateFilter::LatestBefore`] (parameters `@since`, `@before`, `@count`): rows of
/// one `entity` with one `date` and `game` are copies of one game; `columns` come quoted and
/// `restriction` is the entities' semi-join, if any.
///
/// The games are ranked over every row before `@before` and only then cut at `@since`, so the
/// rank is taken in a subquery (a QUALIFY would be cut by the WHERE too); DENSE_RANK gives the
/// copies of one game one rank. Entities with `@count` games from `@since` on have no older
/// game to read, and are left out before the ranking, which otherwise sorts every game of every
/// entity: on the bench's busiest date (421 players) with `@since` moved to January 1, ten
/// weeks of games before it and most players with 10 after it, that took the query from 28 to
/// 11 ms (DuckDB, one thread; the 400-day history read of the same players takes 8). Rows
/// without an entity belong to no one's games. Both dialects accept the SQL as it is.
fn latest_games_sql(
    table: &Table,
    columns: &str,
    date: &str,
    entity: &str,
    game: &str,
    restriction: &str,
) -> String {
    let covered = format!(
        "SELECT \"{entity}\" FROM (SELECT DISTINCT \"{entity}\", \"{date}\", \"{game}\" FROM {{{table}}} \
         WHERE \"{date}\" >= @since AND \"{date}\" < @before AND \"{entity}\" IS NOT NULL{restriction}) \
         AS recent_games GROUP BY \"{entity}\" HAVING COUNT(*) >= @count"
    );
    let ranked = format!(
        "SELECT {columns}, DENSE_RANK() OVER (PARTITION BY \"{entity}\" ORDER BY \"{date}\" DESC, \
         \"{game}\" DESC) AS recency FROM {{{table}}} WHERE \"{date}\" < @before \
         AND \"{entity}\" IS NOT NULL AND \"{entity}\" NOT IN ({covered}){restriction}"
    );
    format!(
        "SELECT {columns} FROM ({ranked}) AS ranked_games WHERE recency <= @count AND \"{date}\" < @since"
    )
}

/// Every column a read names exists in the schema: a typo fails with the column's name before
/// any SQL runs, on both backends alike.
fn check_columns(table: &Table, columns: &[&str]) -> Result<(), ExtractError> {
    match columns.iter().find(|column| table.column(column).is_none()) {
        Some(column) => {
            Err(ExtractError::UnknownColumn { table: table.to_string(), column: (*column).to_owned() })
        }
        None => Ok(()),
    }
}

/// Reads upstream tables for one chunk of dates and remembers what each date read.
pub struct InputReader<'a> {
    warehouse: &'a dyn Warehouse,
    /// The run's, shared by its chunks' readers.
    duplicates: &'a DuplicateLog,
    queries: AtomicUsize,
    /// (table, date of the rows) → digest, for `DateFilter::On` reads.
    exact: Mutex<BTreeMap<(String, NaiveDate), InputDigest>>,
    /// (table, date of the rows) → digest, for history reads: date D sees every row dated <= D.
    history: Mutex<BTreeMap<(String, NaiveDate), InputDigest>>,
    /// table → digest, for whole-table reads (reference tables without a date): every date sees them.
    whole: Mutex<BTreeMap<String, InputDigest>>,
    /// Digests of columnar reads still being computed beside the processor's conversion.
    pending: Mutex<Vec<PendingDigests>>,
}

/// The per-date digests of one read, computed on a thread of their own.
struct PendingDigests {
    table: String,
    filter: DateFilter,
    by_date: std::thread::JoinHandle<BTreeMap<NaiveDate, InputDigest>>,
}

impl<'a> InputReader<'a> {
    pub fn new(warehouse: &'a dyn Warehouse, duplicates: &'a DuplicateLog) -> Self {
        InputReader {
            warehouse,
            duplicates,
            queries: AtomicUsize::new(0),
            exact: Mutex::new(BTreeMap::new()),
            history: Mutex::new(BTreeMap::new()),
            whole: Mutex::new(BTreeMap::new()),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// Logs the duplicated keys the processor found, each once per run (README §4 item 9b), with
    /// the date they were found for (none for tables every date reads).
    pub fn log_duplicates(&self, date: Option<NaiveDate>, duplicates: &[DuplicateKey]) {
        self.duplicates.log(date, duplicates);
    }

    /// Reads `columns` of every row of a table without a date column (e.g. the players
    /// registry); every date of the chunk depends on all of them.
    ///
    /// # Errors
    /// The query fails.
    pub async fn read_whole(
        &self,
        table: &'static Table,
        columns: &[&str],
    ) -> Result<TableRows, ExtractError> {
        let column_list: Vec<String> = columns.iter().map(|column| format!("\"{column}\"")).collect();
        let query = Query::new(format!("SELECT {} FROM {{{table}}}", column_list.join(", ")));
        let rows = TableRows::new(table, self.query(&query).await?);
        let mut digest = InputDigest::default();
        let mut scratch = Vec::new();
        for row in &rows.rows {
            digest.add_cells(row.iter().map(Value::cell), &mut scratch);
        }
        lock(&self.whole).insert(table.to_string(), digest);
        Ok(rows)
    }

    /// Reads `columns` of `table` for the rows `date_column` selects (one query).
    ///
    /// # Errors
    /// The query fails.
    pub async fn read(
        &self,
        table: &'static Table,
        columns: &[&str],
        date_column: &str,
        filter: DateFilter,
    ) -> Result<TableRows, ExtractError> {
        let query = select_query(table, columns, date_column, &filter, None)?;
        let rows = TableRows::new(table, self.query(&query).await?);
        let Some(&date_index) = rows.columns.positions.get(date_column) else { return Ok(rows) };
        let dated_rows = rows.rows.iter().map(|row| (row[date_index].as_date(), row.iter().map(Value::cell)));
        let by_date = digests_by_date(&filter, dated_rows);
        self.keep_digests(&table.to_string(), &filter, by_date);
        Ok(rows)
    }

    /// As [`InputReader::read`], keeping only the rows of the chunk's entities (one query), the
    /// result kept column by column ([`TableColumns`]): the history reads of tens of thousands of
    /// rows. Its digests are those of the same rows read by [`InputReader::read`].
    ///
    /// # Errors
    /// The query fails.
    pub async fn read_columns_of(
        &self,
        table: &'static Table,
        columns: &[&str],
        date_column: &str,
        filter: DateFilter,
        of: &OfEntities,
    ) -> Result<TableColumns, ExtractError> {
        let query = select_query(table, columns, date_column, &filter, Some(of))?;
        self.queries.fetch_add(1, Ordering::Relaxed);
        let read = TableColumns::new(table, self.warehouse.query_columns(&query).await?);
        let Some(&date_index) = read.columns.positions.get(date_column) else { return Ok(read) };
        let cells = Arc::clone(&read.cells);
        let digest_filter = filter.clone();
        let digest = move || {
            let dated_rows = (0..cells.rows).map(|row| {
                let date = cells.columns[date_index].cell(row).as_date();
                (date, cells.columns.iter().map(move |column| column.cell(row)))
            });
            digests_by_date(&digest_filter, dated_rows)
        };
        // Digesting tens of thousands of rows took 2–2.5 ms that the processor's conversion of
        // the same read can overlap on the other core; `digests_for` waits for it.
        match std::thread::Builder::new().name("read-digest".into()).spawn(digest.clone()) {
            Ok(by_date) => {
                lock(&self.pending).push(PendingDigests { table: table.to_string(), filter, by_date })
            }
            Err(_) => self.keep_digests(&table.to_string(), &filter, digest()),
        }
        Ok(read)
    }

    /// Any other query (aggregates, lookups); counted, not digested.
    ///
    /// # Errors
    /// The query fails.
    pub async fn query(&self, query: &Query) -> Result<ResultSet, WarehouseError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.warehouse.query(query).await
    }

    /// Adds a read's per-date digests to what the reader keeps.
    fn keep_digests(&self, table: &str, filter: &DateFilter, by_date: BTreeMap<NaiveDate, InputDigest>) {
        let target = match filter {
            DateFilter::On(_) => &self.exact,
            DateFilter::Before { .. } | DateFilter::LatestBefore { .. } => &self.history,
        };
        // Merged under the lock once per date: the shared map's key owns the table name, which
        // per row would be an allocation.
        let mut digests = lock(target);
        for (date, digest) in by_date {
            digests.entry((table.to_owned(), date)).or_default().merge(digest);
        }
    }

    /// Waits for the digests still being computed and keeps them.
    fn keep_pending_digests(&self) {
        let pending = std::mem::take(&mut *lock(&self.pending));
        for PendingDigests { table, filter, by_date } in pending {
            match by_date.join() {
                Ok(by_date) => self.keep_digests(&table, &filter, by_date),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    }

    /// Round trips so far.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// The digest of every input `date` read, by table: its own rows, plus all history rows
    /// dated on or before it.
    pub fn digests_for(&self, date: NaiveDate) -> BTreeMap<String, String> {
        self.keep_pending_digests();
        let mut digests: BTreeMap<String, InputDigest> = BTreeMap::new();
        let exact = lock(&self.exact);
        for ((table, _), digest) in exact.iter().filter(|((_, day), _)| *day == date) {
            digests.entry(table.clone()).or_default().merge(*digest);
        }
        let history = lock(&self.history);
        for ((table, day), digest) in history.iter() {
            if *day <= date {
                digests.entry(format!("{table} (history)")).or_default().merge(*digest);
            }
        }
        let whole = lock(&self.whole);
        for (table, digest) in whole.iter() {
            digests.insert(table.clone(), *digest);
        }
        digests.into_iter().map(|(table, digest)| (table, digest.to_text())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::analytics::{PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT};
    use crate::warehouse::duckdb::DuckDbWarehouse;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn text(value: &str) -> Value {
        Value::String(value.to_owned())
    }

    #[test]
    fn source_usage_takes_the_newest_hash_that_is_not_null() {
        use crate::schema::precompute::PLAYER_SHOT_ZONE_ANALYSIS;
        let at = |hour: u32| {
            Value::Timestamp(
                chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 1, 15, hour, 0, 0).unwrap(),
            )
        };
        let day = Value::Date(date("2025-01-15"));
        let result = ResultSet {
            columns: vec!["analysis_date".into(), "processed_at".into(), "data_hash".into()],
            rows: vec![
                vec![day.clone(), at(10), text("older")],
                vec![day.clone(), at(12), Value::Null],
                vec![day.clone(), at(11), text("newer")],
                vec![day, Value::Null, text("unstamped")],
            ],
        };
        let usage =
            TableRows::new(&PLAYER_SHOT_ZONE_ANALYSIS, result).source_usage_by_date("analysis_date", 2);
        let usage = &usage[&date("2025-01-15")];
        assert_eq!(usage.rows_found, Some(4));
        assert_eq!(
            usage.last_updated,
            Some(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 1, 15, 12, 0, 0).unwrap())
        );
        assert_eq!(usage.hash.as_deref(), Some("newer"));
    }

    #[test]
    fn column_rows_read_cells_by_position() {
        let result = ResultSet {
            columns: vec!["player_lookup".into(), "team_abbr".into(), "points".into(), "game_date".into()],
            rows: vec![
                vec![text("a"), text("GSW"), Value::Int(30), Value::Date(date("2025-01-15"))],
                vec![Value::Null, Value::Int(7), Value::Float(f64::NAN), text("2025-01-15")],
            ],
        };
        let read = TableColumns::new(&PLAYER_GAME_SUMMARY, ColumnSet::from_rows(result));
        let [player_lookup, team_abbr, points, game_date, minutes] =
            ["player_lookup", "team_abbr", "points", "game_date", "minutes_played"]
                .map(|column| read.position(column));
        let seen = read
            .convert(|row| {
                Ok::<_, ExtractError>((
                    row.required_text(player_lookup).map_err(|error| error.to_string()),
                    row.text(team_abbr),
                    row.cell(team_abbr).as_i64(),
                    row.cell(points).as_f64(),
                    row.required_date(game_date).map_err(|error| error.to_string()),
                    row.cell(minutes),
                ))
            })
            .unwrap();
        let missing = |column: &str| {
            format!("nba_analytics.player_game_summary: column {column} is missing in a row that needs it")
        };
        assert_eq!(
            seen,
            [
                // A column the query did not select reads NULL.
                (Ok("a"), Some("GSW"), None, Some(30.0), Ok(date("2025-01-15")), CellRef::Null),
                // A number is not text; NaN reads as missing; a text is not a date.
                (
                    Err(missing("player_lookup")),
                    None,
                    Some(7),
                    None,
                    Err(missing("game_date")),
                    CellRef::Null
                ),
            ]
        );
    }

    #[test]
    fn conversions_keep_the_row_order_and_stop_at_the_first_error() {
        let result = || ResultSet {
            columns: vec!["player_lookup".into(), "points".into()],
            rows: vec![
                vec![text("a"), Value::Int(30)],
                vec![text("b"), Value::Null],
                vec![Value::Null, Value::Int(7)],
                vec![Value::Null, Value::Int(9)],
            ],
        };
        let rows = TableRows::new(&PLAYER_GAME_SUMMARY, result());
        let points = rows.convert(|row| Ok::<_, ExtractError>(row.int("points"))).unwrap();
        assert_eq!(points, [Some(30), None, Some(7), Some(9)]);
        let ids = rows.convert(|row| Ok::<_, ExtractError>(row.short_text("player_lookup"))).unwrap();
        assert_eq!(ids, [Some("a".into()), Some("b".into()), None, None]);
        let error = rows.convert(|row| row.required_short_text("player_lookup")).unwrap_err();
        assert!(error.to_string().contains("column player_lookup is missing"), "{error}");
        let mut converted = 0;
        let error = rows
            .convert(|row| {
                converted += 1;
                row.required_text("player_lookup")
            })
            .unwrap_err();
        assert_eq!(converted, 3, "the fourth row is never converted");
        assert!(error.to_string().contains("column player_lookup is missing"), "{error}");
        let read = TableColumns::new(&PLAYER_GAME_SUMMARY, ColumnSet::from_rows(result()));
        let player_lookup = read.position("player_lookup");
        let players = read.convert(|row| Ok::<_, ExtractError>(row.text(player_lookup))).unwrap();
        assert_eq!(players, [Some("a"), Some("b"), None, None]);
        let mut converted = 0;
        let error = read
            .convert(|row| {
                converted += 1;
                row.required_text(player_lookup)
            })
            .unwrap_err();
        assert_eq!(converted, 3, "the fourth row is never converted");
        assert!(error.to_string().contains("column player_lookup is missing"), "{error}");
    }

    /// A runtime with one worker, and an in-memory warehouse with the context and game tables.
    fn runtime_and_warehouse() -> (tokio::runtime::Runtime, DuckDbWarehouse) {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
        runtime
            .block_on(warehouse.ensure_tables(&[&UPCOMING_PLAYER_GAME_CONTEXT, &PLAYER_GAME_SUMMARY]))
            .unwrap();
        (runtime, warehouse)
    }

    fn context(player: &str, day: &str) -> Vec<Value> {
        UPCOMING_PLAYER_GAME_CONTEXT.row(vec![
            ("player_lookup", text(player)),
            ("game_id", text(&format!("{day}_LAL_GSW"))),
            ("game_date", Value::Date(date(day))),
            ("team_abbr", text("LAL")),
        ])
    }

    fn game(player: &str, day: &str) -> Vec<Value> {
        PLAYER_GAME_SUMMARY.row(vec![
            ("player_lookup", text(player)),
            ("game_id", text(&format!("{day}_LAL_GSW"))),
            ("game_date", Value::Date(date(day))),
            ("team_abbr", text("LAL")),
            ("opponent_team_abbr", text("GSW")),
            ("season_year", Value::Int(2024)),
        ])
    }

    /// The order-independent digest of `rows`, as the reader keeps it.
    fn digest_of(rows: &[Vec<Value>]) -> String {
        let mut digest = InputDigest::default();
        rows.iter().for_each(|row| digest.add_cells(row.iter().map(Value::cell), &mut Vec::new()));
        digest.to_text()
    }

    #[test]
    fn a_read_of_entities_keeps_the_history_of_the_chunks_players_only() {
        let (runtime, warehouse) = runtime_and_warehouse();
        runtime.block_on(async {
            // amy plays on the 15th and bob on the 16th; cy only has history.
            let contexts = vec![context("amy", "2025-01-15"), context("bob", "2025-01-16")];
            warehouse.append(&UPCOMING_PLAYER_GAME_CONTEXT, contexts).await.unwrap();
            let games = ["amy", "bob", "cy"]
                .into_iter()
                .flat_map(|player| [game(player, "2025-01-10"), game(player, "2025-01-12")])
                .collect();
            warehouse.append(&PLAYER_GAME_SUMMARY, games).await.unwrap();

            let duplicates = DuplicateLog::default();
            let reader = InputReader::new(&warehouse, &duplicates);
            let window = DateFilter::Before { since: date("2024-12-01"), before: date("2025-01-16") };
            let players_on_the_15th = OfEntities::players_playing_on(&[date("2025-01-15")]);
            let columns = ["player_lookup", "game_date"];
            let history = reader
                .read_columns_of(&PLAYER_GAME_SUMMARY, &columns, "game_date", window, &players_on_the_15th)
                .await
                .unwrap();
            let (player_lookup, game_date) =
                (history.position("player_lookup"), history.position("game_date"));
            let mut read = history
                .convert(|row| {
                    Ok::<_, ExtractError>((row.required_text(player_lookup)?, row.required_date(game_date)?))
                })
                .unwrap();
            read.sort();
            assert_eq!(read, [("amy", date("2025-01-10")), ("amy", date("2025-01-12"))]);
            assert_eq!(reader.queries(), 1);

            // The digests are those of the same rows read as rows: a date sees the rows before it.
            let amys_games = warehouse
                .query(&Query::new(
                    "SELECT player_lookup, game_date FROM {nba_analytics.player_game_summary} \
                     WHERE player_lookup = 'amy' ORDER BY game_date",
                ))
                .await
                .unwrap();
            let history_digest = |day: &str| {
                reader.digests_for(date(day)).get("nba_analytics.player_game_summary (history)").cloned()
            };
            assert_eq!(history_digest("2025-01-15"), Some(digest_of(&amys_games.rows)));
            assert_eq!(history_digest("2025-01-11"), Some(digest_of(&amys_games.rows[..1])));
            assert_eq!(history_digest("2025-01-09"), None);

            let misspelt = OfEntities { entity_column: "player", ..players_on_the_15th };
            let window = DateFilter::Before { since: date("2024-12-01"), before: date("2025-01-16") };
            let error =
                reader.read_columns_of(&PLAYER_GAME_SUMMARY, &columns, "game_date", window, &misspelt).await;
            assert!(
                matches!(&error, Err(ExtractError::UnknownColumn { column, .. }) if column == "player"),
                "{:?}",
                error.err()
            );
        });
    }
    #[test]
    fn a_read_of_the_latest_games_brings_what_the_window_misses_copies_included() {
        let (runtime, warehouse) = runtime_and_warehouse();
        runtime.block_on(async {
            // amy and bob play on the 15th; cy only has history.
            let contexts = vec![context("amy", "2025-01-15"), context("bob", "2025-01-15")];
            warehouse.append(&UPCOMING_PLAYER_GAME_CONTEXT, contexts).await.unwrap();
            // amy: two games in the window, three older ones, one of them twice (a copy scoring
            // 99), and a game on the 15th itself. bob: four games in the window, one older.
            let mut copy = game("amy", "2023-02-03");
            copy[PLAYER_GAME_SUMMARY.column_index("points").unwrap()] = Value::Int(99);
            let mut games = vec![copy];
            for day in ["2023-02-01", "2023-02-02", "2023-02-03", "2025-01-10", "2025-01-12", "2025-01-15"] {
                games.push(game("amy", day));
            }
            for day in ["2023-02-03", "2024-12-10", "2024-12-20", "2025-01-10", "2025-01-12"] {
                games.push(game("bob", day));
            }
            games.push(game("cy", "2023-02-03"));
            warehouse.append(&PLAYER_GAME_SUMMARY, games).await.unwrap();

            let duplicates = DuplicateLog::default();
            let reader = InputReader::new(&warehouse, &duplicates);
            let latest_four = DateFilter::LatestBefore {
                since: date("2024-12-01"),
                before: date("2025-01-15"),
                count: 4,
                per_column: "player_lookup",
                game_column: "game_id",
            };
            let players_on_the_15th = OfEntities::players_playing_on(&[date("2025-01-15")]);
            let columns = ["player_lookup", "game_date", "points"];
            let older = reader
                .read_columns_of(
                    &PLAYER_GAME_SUMMARY,
                    &columns,
                    "game_date",
                    latest_four,
                    &players_on_the_15th,
                )
                .await
                .unwrap();
            let [player_lookup, game_date, points] = columns.map(|column| older.position(column));
            let mut read = older
                .convert(|row| {
                    Ok::<_, ExtractError>((
                        row.required_text(player_lookup)?,
                        row.required_date(game_date)?,
                        row.cell(points).as_i64(),
                    ))
                })
                .unwrap();
            read.sort();
            // amy's four latest games before the 15th are those of the 12th, the 10th, February 3
            // (both rows) and February 2; bob's four are all in the window.
            assert_eq!(
                read,
                [
                    ("amy", date("2023-02-02"), None),
                    ("amy", date("2023-02-03"), None),
                    ("amy", date("2023-02-03"), Some(99)),
                ]
            );
            assert_eq!(reader.queries(), 1);

            // The rows count in the history digest of every date after them.
            let amys_older_games = warehouse
                .query(&Query::new(
                    "SELECT player_lookup, game_date, points FROM {nba_analytics.player_game_summary} \
                     WHERE player_lookup = 'amy' AND game_date BETWEEN '2023-02-02' AND '2023-02-03'",
                ))
                .await
                .unwrap();
            assert_eq!(
                reader.digests_for(date("2025-01-15")).get("nba_analytics.player_game_summary (history)"),
                Some(&digest_of(&amys_older_games.rows))
            );
        });
    }
}
