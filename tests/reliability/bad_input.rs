//! Bad upstream rows, per processor: every case runs the processor to completion and checks that
//! every entity read became an output row or a failure with a category and a reason, that no
//! key is written twice, that no NaN, ±inf or NULL array element is stored, and that the date's
//! run-history row says what happened.
//!
//! Player Game Summary starts from one real game ([`pgs`]); Player Composite Factors ([`pcf`])
//! and the ML Feature Store ([`mlfs`]) start from the two-date demo fixture (`fixtures/two_dates`,
//! [`DemoBench`]), whose upstream partitions each case edits and then puts back; the cases those
//! two share are written once, in [`precompute_cases`].

mod mlfs;
mod pcf;
mod pgs;
mod precompute_cases;

use chrono::NaiveDate;
use framework::runner::{DateStatus, RunOptions, RunSummary};
use framework::schema::processing::{ANALYTICS_FAILURES, PRECOMPUTE_FAILURES};
use framework::schema::{ColumnType, Table};
use framework::{Phase, Processor, Query, ReplaceScope, Value, Warehouse};
use player_game_summary::PlayerGameSummaryProcessor;

use super::*;

/// What one run of a case did to its only date, read back from the warehouse by its run id.
#[derive(Debug)]
pub struct Outcome {
    pub status: DateStatus,
    pub entities: usize,
    /// (entity_id, failure_category, failure_reason) of the run, by entity.
    pub failures: Vec<(String, String, String)>,
    pub history: HistoryRow,
    /// Output rows of the date.
    pub rows: i64,
}

/// The run's `processor_run_history` row for the date.
#[derive(Debug, PartialEq)]
pub struct HistoryRow {
    pub status: String,
    pub skip_reason: Option<String>,
    pub records_processed: i64,
    pub records_skipped: i64,
    pub errors: Option<String>,
}

impl Outcome {
    /// Reads what `summary` (one date) left in the warehouse and checks what every case must
    /// hold, whatever its status: one history row, no NaN or ±inf cell, no NULL, NaN or ±inf
    /// array element and no duplicate key in the output table.
    pub async fn read<P: Processor>(
        processor: &P,
        warehouse: &dyn Warehouse,
        summary: &RunSummary,
    ) -> Outcome {
        assert_eq!(summary.outcomes.len(), 1, "one date per case: {summary:?}");
        let outcome = &summary.outcomes[0];
        let output = processor.info().output;
        let failures_table = match processor.info().phase {
            Phase::Analytics => &ANALYTICS_FAILURES,
            Phase::Precompute => &PRECOMPUTE_FAILURES,
        };
        let failures = by_run(
            warehouse,
            &format!(
                "SELECT entity_id, failure_category, failure_reason FROM {{{failures_table}}} \
                 WHERE run_id = @run ORDER BY entity_id, failure_category"
            ),
            &summary.run_id,
        )
        .await
        .into_iter()
        .map(|row| (string(&row[0]), string(&row[1]), string(&row[2])))
        .collect();
        let history = by_run(
            warehouse,
            "SELECT status, skip_reason, records_processed, records_skipped, errors \
             FROM {nba_reference.processor_run_history} WHERE run_id = @run",
            &summary.run_id,
        )
        .await;
        assert_eq!(history.len(), 1, "one history row per date and run");
        let history = HistoryRow {
            status: string(&history[0][0]),
            skip_reason: history[0][1].as_str().map(str::to_owned),
            records_processed: history[0][2].as_i64().expect("records_processed is set"),
            records_skipped: history[0][3].as_i64().expect("records_skipped is set"),
            errors: history[0][4].as_str().map(str::to_owned),
        };
        let partition = output.partition.expect("outputs are partitioned by date");
        let rows = warehouse
            .query(
                &Query::new(format!("SELECT count(*) FROM {{{output}}} WHERE \"{partition}\" = @date"))
                    .bind("date", outcome.date),
            )
            .await
            .expect("the count runs")
            .rows[0][0]
            .as_i64()
            .expect("counts are integers");
        assert_eq!(non_finite_cells(warehouse, output).await, vec![], "no NaN or ±inf stored");
        assert_eq!(duplicate_keys(warehouse, output).await, Vec::<Vec<Value>>::new(), "no key twice");
        Outcome { status: outcome.status.clone(), entities: outcome.entities, failures, history, rows }
    }

    /// The date succeeded, every entity is an output row or a failure, and history agrees.
    pub fn assert_accounted(&self) {
        let DateStatus::Succeeded { rows, failures } = self.status else {
            panic!("expected a successful date: {self:?}")
        };
        assert_eq!(rows + failures, self.entities, "{self:?}");
        assert_eq!(failures, self.failures.len(), "{self:?}");
        assert_eq!(self.rows, rows as i64, "{self:?}");
        let expected = HistoryRow {
            status: "success".to_owned(),
            skip_reason: None,
            records_processed: rows as i64,
            records_skipped: failures as i64,
            errors: None,
        };
        assert_eq!(self.history, expected, "{self:?}");
    }

    /// The date failed with `error`, wrote nothing, and history says why (the rows of an earlier
    /// run of the date stay: a failed date never touches them).
    pub fn assert_failed(&self, error: &str) {
        assert_eq!(self.status, DateStatus::Failed { error: error.to_owned() }, "{self:?}");
        assert_eq!((self.history.status.as_str(), self.history.records_processed), ("failed", 0));
        let errors = self.history.errors.as_deref().unwrap_or_default();
        assert!(errors.contains(error), "the history row names the error: {errors}");
    }

    /// The single failure's (category, reason).
    pub fn only_failure(&self) -> (&str, &str) {
        assert_eq!(self.failures.len(), 1, "{self:?}");
        (&self.failures[0].1, &self.failures[0].2)
    }

    /// (entities, output rows, failures).
    pub fn counts(&self) -> (usize, i64, usize) {
        (self.entities, self.rows, self.failures.len())
    }
}

pub async fn by_run(warehouse: &dyn Warehouse, sql: &str, run_id: &str) -> Vec<Vec<Value>> {
    warehouse.query(&Query::new(sql).bind("run", run_id)).await.expect("query succeeds").rows
}

pub fn string(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Sets one cell of a `table` row by column name.
pub fn set_cell(table: &Table, row: &mut [Value], column: &str, value: Value) {
    let index = table.column_index(column).unwrap_or_else(|| panic!("{table} has no column {column}"));
    row[index] = value;
}

pub fn cell_of<'a>(table: &Table, row: &'a [Value], column: &str) -> &'a Value {
    &row[table.column_index(column).unwrap_or_else(|| panic!("{table} has no column {column}"))]
}

/// The index of the first row of `rows` whose `column` holds the text `value`.
pub fn position(table: &Table, rows: &[Vec<Value>], column: &str, value: &str) -> usize {
    rows.iter()
        .position(|row| cell_of(table, row, column).as_str() == Some(value))
        .unwrap_or_else(|| panic!("{table}: no row with {column} = {value}"))
}

/// The largest magnitude a column can hold locally: `i64` bounds for INT64, the precision's
/// bound for NUMERIC (DECIMAL on DuckDB), `f64` bounds for FLOAT64.
pub fn extremes(column_type: ColumnType) -> Vec<Value> {
    match column_type {
        ColumnType::Int64 => vec![Value::Int(i64::MAX), Value::Int(i64::MIN)],
        ColumnType::Numeric { precision, scale } => {
            let largest = 10f64.powi(i32::from(precision - scale)) - 10f64.powi(-i32::from(scale));
            vec![Value::Float(largest), Value::Float(-largest)]
        }
        ColumnType::Float64 => vec![Value::Float(f64::MAX), Value::Float(f64::MIN)],
        _ => Vec::new(),
    }
}

/// Texts a lookup or a label may arrive in: composed and decomposed accents, mojibake, emoji,
/// empty, invisible and direction characters, JSON and SQL quoting, a NUL byte, and 10 kB.
pub fn odd_texts() -> Vec<String> {
    vec![
        "jokić".to_owned(),
        "jokic\u{301}".to_owned(),
        "jokiÄ‡".to_owned(),
        "🏀".to_owned(),
        String::new(),
        "\u{200b}".to_owned(),
        "\u{feff}aaronrobinson".to_owned(),
        "\u{202e}nosnibor".to_owned(),
        "o'neal \"shaq\" \\ '); DROP TABLE x; --".to_owned(),
        "nul\0byte".to_owned(),
        "x".repeat(10_000),
    ]
}

/// One upstream partition as a case wants it: `rows` replace every row of `table` dated `date`.
pub struct Edit {
    pub table: &'static Table,
    pub date: NaiveDate,
    pub rows: Vec<Vec<Value>>,
}

/// The two demo dates, 2024-11-06 (the first date after the early-season window) and 2024-11-07.
pub const DEMO_DATE: &str = "2024-11-06";
pub const DEMO_NEXT_DATE: &str = "2024-11-07";

/// A warehouse with the real schedule, the two-date demo fixture and the Player Game Summary
/// rows of both dates: every upstream table of PCF (and, after PCF has run, of MLFS).
pub struct DemoBench {
    pub bench: Bench,
}

impl DemoBench {
    pub async fn new(name: &str) -> Self {
        let bench = Bench::new(name).await;
        let fixture = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/two_dates");
        load_directory(bench.warehouse.as_ref(), &fixture).await.expect("the demo fixture loads");
        let summary = bench
            .run(&PlayerGameSummaryProcessor, &[DEMO_DATE, DEMO_NEXT_DATE], |options| options.backfill = true)
            .await;
        assert!(summary.failed_dates().is_empty(), "{summary:?}");
        DemoBench { bench }
    }

    pub fn warehouse(&self) -> &dyn Warehouse {
        self.bench.warehouse.as_ref()
    }

    /// Every row of `table` dated `date` (its partition column), cells in column order.
    pub async fn rows(&self, table: &'static Table, date: &str) -> Vec<Vec<Value>> {
        let partition = table.partition.expect("upstream tables are partitioned by date");
        let columns: Vec<String> = table.column_names().map(|name| format!("\"{name}\"")).collect();
        self.warehouse()
            .query(
                &Query::new(format!(
                    "SELECT {} FROM {{{table}}} WHERE \"{partition}\" = @date",
                    columns.join(", ")
                ))
                .bind("date", day(date)),
            )
            .await
            .expect("the partition reads")
            .rows
    }

    /// Stores `rows` as the partition `date` of `table`, as given: duplicates and NULLs included,
    /// as the fixture loader stores upstream rows.
    pub async fn store(
        &self,
        table: &'static Table,
        date: NaiveDate,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), framework::WarehouseError> {
        self.warehouse().replace(table, ReplaceScope::Partitions(vec![date]), rows, false).await.map(|_| ())
    }

    /// Stores `edits`, runs `processor` on `date` in backfill mode with `--force` (then
    /// `adjust`), reads the outcome and puts every edited partition back as it was.
    pub async fn run_case<P: Processor>(
        &self,
        processor: &P,
        date: &str,
        edits: Vec<Edit>,
        adjust: impl FnOnce(&mut RunOptions),
    ) -> Outcome {
        let mut originals: Vec<(&'static Table, NaiveDate, Vec<Vec<Value>>)> = Vec::new();
        for edit in &edits {
            if !originals.iter().any(|(table, date, _)| *table == edit.table && *date == edit.date) {
                let rows = self.rows(edit.table, &edit.date.to_string()).await;
                originals.push((edit.table, edit.date, rows));
            }
        }
        for edit in edits {
            self.store(edit.table, edit.date, edit.rows).await.expect("the edited rows are stored as given");
        }
        let summary = self
            .bench
            .run(processor, &[date], |options| {
                options.backfill = true;
                options.force = true;
                adjust(options);
            })
            .await;
        let outcome = Outcome::read(processor, self.warehouse(), &summary).await;
        for (table, date, rows) in originals {
            self.store(table, date, rows).await.expect("the original rows go back");
        }
        outcome
    }
}
