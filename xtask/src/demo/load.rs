//! Writing a [`DemoSeason`] into a warehouse, and the marker that says which seed it holds.
//!
//! Partitioned tables are replaced month by month: each call replaces every game date of the
//! month (dates without rows included, so a reload with another seed leaves nothing stale) and
//! asks the backend to refuse duplicate keys. The registry is upserted by key, so other seasons'
//! registry rows survive. The marker is a `nba_reference.processor_run_history` row of processor
//! `DemoSeasonGenerator` on the first game date: written `failed` before the tables and `success`
//! after them, so an interrupted load never reads as complete.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Datelike, NaiveDate, Utc};
use framework::schema::Table;
use framework::schema::reference::PROCESSOR_RUN_HISTORY;
use framework::value::{ToValue, Value};
use framework::warehouse::{Query, ReplaceScope, Warehouse};

use super::{DemoError, DemoSeason};

/// Bumped whenever the generator's output for a seed changes, so an old warehouse is regenerated.
pub const GENERATOR_VERSION: &str = "1";
/// `processor_name` of the marker row.
const MARKER_PROCESSOR_NAME: &str = "DemoSeasonGenerator";
/// `run_id` of the marker row: one marker per first game date, replaced by every load.
const MARKER_RUN_ID: &str = "demo-season";

/// Rows written per table, in load order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub rows_by_table: Vec<(&'static Table, usize)>,
}

impl LoadReport {
    pub fn total_rows(&self) -> usize {
        self.rows_by_table.iter().map(|(_, rows)| rows).sum()
    }
}

/// Writes every table of `season`, then marks the warehouse as holding its seed.
///
/// # Errors
/// A write fails; tables written before it stay written and the marker stays `failed`.
pub async fn load_season(warehouse: &dyn Warehouse, season: &DemoSeason) -> Result<LoadReport, DemoError> {
    let started = Instant::now();
    let tables: Vec<&'static Table> =
        season.tables().iter().map(|(table, _)| *table).chain([&PROCESSOR_RUN_HISTORY]).collect();
    warehouse.ensure_tables(&tables).await.map_err(|source| load_error(&PROCESSOR_RUN_HISTORY, source))?;
    write_marker(warehouse, season, "failed", 0.0).await?;
    let mut report = LoadReport::default();
    for (table, rows) in season.tables() {
        write_table(warehouse, table, rows, &season.game_dates).await?;
        report.rows_by_table.push((table, rows.len()));
    }
    write_marker(warehouse, season, "success", started.elapsed().as_secs_f64()).await?;
    Ok(report)
}

/// Whether the warehouse holds a completed load of `seed` by this generator version.
///
/// # Errors
/// The run-history table cannot be queried.
pub async fn warehouse_holds_season(warehouse: &dyn Warehouse, seed: u64) -> Result<bool, DemoError> {
    let query = Query::new(
        "SELECT summary FROM {nba_reference.processor_run_history} \
         WHERE processor_name = @processor_name AND run_id = @run_id AND status = 'success'",
    )
    .bind("processor_name", MARKER_PROCESSOR_NAME)
    .bind("run_id", MARKER_RUN_ID);
    let result = warehouse.query(&query).await.map_err(DemoError::Marker)?;
    Ok(result
        .rows
        .iter()
        .any(|row| row.first().and_then(Value::as_str).is_some_and(|summary| summary_matches(summary, seed))))
}

fn summary_matches(summary: &str, seed: u64) -> bool {
    serde_json::from_str::<serde_json::Value>(summary).is_ok_and(|json| {
        json["seed"].as_u64() == Some(seed) && json["generator_version"].as_str() == Some(GENERATOR_VERSION)
    })
}

fn load_error(table: &Table, source: framework::warehouse::WarehouseError) -> DemoError {
    DemoError::Load { table: table.to_string(), source }
}

/// A month's game dates and rows of one table.
type MonthChunk = (Vec<NaiveDate>, Vec<Vec<Value>>);

/// One replace per month of game dates for partitioned tables; one keyed upsert otherwise.
async fn write_table(
    warehouse: &dyn Warehouse,
    table: &'static Table,
    rows: &[Vec<Value>],
    game_dates: &[NaiveDate],
) -> Result<(), DemoError> {
    let Some(partition) = table.partition else {
        return warehouse
            .replace(table, ReplaceScope::Keys, rows.to_vec(), true)
            .await
            .map(drop)
            .map_err(|source| load_error(table, source));
    };
    let partition_index = table.column_index(partition).expect("partition columns exist (schema test)");
    let mut months: BTreeMap<(i32, u32), MonthChunk> = BTreeMap::new();
    for date in game_dates {
        months.entry((date.year(), date.month())).or_default().0.push(*date);
    }
    for row in rows {
        if let Some(date) = row[partition_index].as_date() {
            months.entry((date.year(), date.month())).or_default().1.push(row.clone());
        }
    }
    for (mut dates, month_rows) in months.into_values() {
        let row_dates = month_rows.iter().filter_map(|row| row[partition_index].as_date());
        dates.extend(row_dates);
        dates.sort();
        dates.dedup();
        warehouse
            .replace(table, ReplaceScope::Partitions(dates), month_rows, true)
            .await
            .map_err(|source| load_error(table, source))?;
    }
    Ok(())
}

async fn write_marker(
    warehouse: &dyn Warehouse,
    season: &DemoSeason,
    status: &str,
    duration_seconds: f64,
) -> Result<(), DemoError> {
    let Some(first_game_date) = season.first_game_date() else {
        return Ok(());
    };
    let summary = serde_json::json!({
        "seed": season.seed,
        "generator_version": GENERATOR_VERSION,
        "game_dates": season.game_dates.len(),
        "last_game_date": season.game_dates.last().map(ToString::to_string),
    });
    let now = Utc::now();
    let mut cells = vec![
        ("processor_name", MARKER_PROCESSOR_NAME.to_value()),
        ("run_id", MARKER_RUN_ID.to_value()),
        ("season_year", i64::from(framework::dates::season_year(first_game_date)).to_value()),
        ("status", status.to_value()),
        ("duration_seconds", duration_seconds.to_value()),
        ("summary", summary.to_string().to_value()),
        ("data_date", first_game_date.to_value()),
        ("started_at", now.to_value()),
        ("processed_at", now.to_value()),
        ("phase", "demo".to_value()),
        ("triggered_by", "cargo xtask demo".to_value()),
    ];
    if status != "success" {
        cells.push(("errors", serde_json::json!(["load in progress or interrupted"]).to_string().to_value()));
    }
    let rows = season.tables().iter().map(|(_, rows)| rows.len() as i64).sum::<i64>();
    cells.push(("records_created", rows.to_value()));
    warehouse
        .replace(&PROCESSOR_RUN_HISTORY, ReplaceScope::Keys, vec![PROCESSOR_RUN_HISTORY.row(cells)], true)
        .await
        .map(drop)
        .map_err(|source| load_error(&PROCESSOR_RUN_HISTORY, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_summary_names_seed_and_version() {
        assert!(summary_matches(r#"{"seed": 7, "generator_version": "1"}"#, 7));
        assert!(!summary_matches(r#"{"seed": 8, "generator_version": "1"}"#, 7));
        assert!(!summary_matches(r#"{"seed": 7, "generator_version": "0"}"#, 7));
        assert!(!summary_matches("not json", 7));
    }
}
