//! Reliability: bad input, injected faults, concurrent runs and reruns on the embedded warehouse.
//! Every test checks that no row is lost or duplicated: outputs are compared as canonical
//! exports, keys are counted, and each date's run-history row is read back.
//!
//! Player Game Summary runs on real 2024-01-15 box scores, Player Composite Factors and the ML
//! Feature Store on the two-date demo fixture (`fixtures/two_dates`), the toy team processor on
//! rows built here.

mod bad_input;
mod concurrency;
mod faults;
mod idempotence;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use framework::config::Settings;
use framework::dispatch::DispatchMode;
use framework::fixtures::load_directory;
use framework::runner::{RunError, RunOptions, RunSummary, run};
use framework::schema::raw::BDL_PLAYER_BOXSCORES;
use framework::schema::reference::NBA_PLAYERS_REGISTRY;
use framework::schema::{ColumnType, Table};
use framework::{Processor, ReplaceScope, ToValue, Value, Warehouse};
use player_game_summary::bdl_json::{bdl_rows_from_api_json, bdl_table_rows};

use crate::util::{TempDir, date, export, export_masking, open, query_rows, schedule_directory, settings_in};

/// The real game every PGS case starts from: OKC at LAL on 2024-01-15.
pub const GAME: &str = "20240115_OKC_LAL";
pub const GAME_DATE: &str = "2024-01-15";

/// A warehouse in a temporary folder with the real schedule loaded.
pub struct Bench {
    _folder: TempDir,
    pub settings: Settings,
    pub warehouse: Arc<dyn Warehouse>,
}

impl Bench {
    pub async fn new(name: &str) -> Self {
        let folder = TempDir::new(name);
        let settings = settings_in(folder.path());
        let warehouse = open(&settings).await;
        load_directory(warehouse.as_ref(), &schedule_directory()).await.expect("schedule loads");
        Bench { _folder: folder, settings, warehouse }
    }

    /// Runs `processor` over `dates` on `warehouse` (the bench's own one, or a wrapper of it).
    pub async fn run_on<P: Processor>(
        &self,
        processor: &P,
        warehouse: &dyn Warehouse,
        dates: &[&str],
        adjust: impl FnOnce(&mut RunOptions),
    ) -> Result<RunSummary, RunError> {
        let mut options = options(dates);
        adjust(&mut options);
        run(processor, warehouse, &self.settings, &options).await
    }

    pub async fn run<P: Processor>(
        &self,
        processor: &P,
        dates: &[&str],
        adjust: impl FnOnce(&mut RunOptions),
    ) -> RunSummary {
        self.run_on(processor, self.warehouse.as_ref(), dates, adjust).await.expect("the run completes")
    }

    pub async fn export(&self, table: &'static Table) -> String {
        export(self.warehouse.as_ref(), table, None).await
    }

    /// (data_date, status, skip_reason, records_processed, records_skipped, errors) per history row.
    pub async fn history(&self) -> Vec<Vec<Value>> {
        query_rows(
            self.warehouse.as_ref(),
            "SELECT data_date, status, skip_reason, records_processed, records_skipped, errors FROM \
             {nba_reference.processor_run_history} ORDER BY started_at, data_date, status",
        )
        .await
    }
}

/// Live-mode options for `dates`, four workers.
pub fn options(dates: &[&str]) -> RunOptions {
    RunOptions {
        dates: dates.iter().map(|text| date(text)).collect(),
        backfill: false,
        skip_preflight: false,
        dry_run: false,
        force: false,
        dispatch: DispatchMode::Parallel { workers: 4 },
        chunk_dates: 16,
    }
}

pub fn loaded_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 16, 6, 0, 0).unwrap()
}

/// The BDL rows of [`GAME`] as warehouse cells, in the file's order.
pub fn real_bdl_rows() -> Vec<Vec<Value>> {
    let path = crate::util::shared_data().join("real/2024-01-15/bdl_box_scores_2024-01-15.json");
    let rows = bdl_rows_from_api_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let game: Vec<_> = rows.into_iter().filter(|row| row.game_id == GAME).collect();
    bdl_table_rows(&game, "bdl_box_scores_2024-01-15.json", loaded_at())
}

/// Sets one cell of a BDL row by column name.
pub fn set(row: &mut [Value], column: &str, value: Value) {
    let index = BDL_PLAYER_BOXSCORES.column_index(column).unwrap_or_else(|| panic!("no column {column}"));
    row[index] = value;
}

pub fn cell<'a>(row: &'a [Value], column: &str) -> &'a Value {
    &row[BDL_PLAYER_BOXSCORES.column_index(column).unwrap_or_else(|| panic!("no column {column}"))]
}

/// Replaces the BDL partition of [`GAME_DATE`] by `bdl` and the registry by one row per
/// distinct non-NULL `player_lookup` of the unmodified game (so registry misses come only
/// from the case itself).
pub async fn load_pgs_date(warehouse: &dyn Warehouse, bdl: Vec<Vec<Value>>) {
    let registry: Vec<Vec<Value>> = real_bdl_rows()
        .iter()
        .map(|row| {
            let lookup = cell(row, "player_lookup").as_str().unwrap().to_owned();
            NBA_PLAYERS_REGISTRY.row(vec![
                ("universal_player_id", format!("{lookup}_001").to_value()),
                ("player_name", cell(row, "player_full_name").clone()),
                ("player_lookup", lookup.to_value()),
                ("team_abbr", cell(row, "team_abbr").clone()),
                ("season", "2023-24".to_value()),
                ("processed_at", loaded_at().to_value()),
            ])
        })
        .collect();
    warehouse.replace(&NBA_PLAYERS_REGISTRY, ReplaceScope::WholeTable, registry, false).await.unwrap();
    warehouse
        .replace(&BDL_PLAYER_BOXSCORES, ReplaceScope::Partitions(vec![date(GAME_DATE)]), bdl, false)
        .await
        .expect("the bad row is stored as given");
}

/// Rows of `table` holding NaN or ±inf in a DOUBLE/DECIMAL column, or NaN, ±inf or NULL inside
/// a DOUBLE[] column, as (column, count) for every offending column.
pub async fn non_finite_cells(warehouse: &dyn Warehouse, table: &'static Table) -> Vec<(String, i64)> {
    let checks: Vec<(String, String)> = table
        .columns
        .iter()
        .filter_map(|column| {
            let name = column.name;
            let test = match column.column_type {
                ColumnType::Float64 | ColumnType::Numeric { .. } => {
                    format!("isnan(CAST(\"{name}\" AS DOUBLE)) OR isinf(CAST(\"{name}\" AS DOUBLE))")
                }
                ColumnType::Float64Array => {
                    format!("len(list_filter(\"{name}\", x -> x IS NULL OR isnan(x) OR isinf(x))) > 0")
                }
                _ => return None,
            };
            Some((name.to_owned(), test))
        })
        .collect();
    let counts: Vec<String> =
        checks.iter().map(|(_, test)| format!("count(*) FILTER (WHERE {test})")).collect();
    let rows = query_rows(warehouse, &format!("SELECT {} FROM {{{table}}}", counts.join(", "))).await;
    checks
        .into_iter()
        .zip(&rows[0])
        .filter_map(|((name, _), count)| {
            let count = count.as_i64().expect("counts are integers");
            (count > 0).then_some((name, count))
        })
        .collect()
}

/// Keys of `table` held by more than one row.
pub async fn duplicate_keys(warehouse: &dyn Warehouse, table: &'static Table) -> Vec<Vec<Value>> {
    let key: Vec<String> = table.key.iter().map(|column| format!("\"{column}\"")).collect();
    let key = key.join(", ");
    query_rows(
        warehouse,
        &format!("SELECT {key}, count(*) FROM {{{table}}} GROUP BY {key} HAVING count(*) > 1 ORDER BY {key}"),
    )
    .await
}

/// The export of `table` with every value of the columns a run stamps (`processed_at`,
/// `created_at`) replaced by `<stamp>`: two runs over the same inputs must agree on every other
/// byte.
pub async fn export_without_run_stamps(warehouse: &dyn Warehouse, table: &'static Table) -> String {
    export_masking(warehouse, table, &["processed_at", "created_at"]).await
}

pub fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

pub fn day(text: &str) -> NaiveDate {
    date(text)
}
