//! The main job: build the demo warehouse and run the whole pipeline over the season.
//!
//! Loads the real 2024-25 schedule, generates and loads the seeded season unless the warehouse
//! already holds it, loads the real box scores of 2024-01-15 (with registry rows for their
//! 2023-24 players), then runs PGS, PCF and MLFS over the game dates in dependency order and
//! reports what happened, table by table.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use chrono::{NaiveDate, TimeZone as _, Utc};
use framework::config::Settings;
use framework::dates::{Schedule, season_label};
use framework::fixtures::load_directory;
use framework::schema::raw::BDL_PLAYER_BOXSCORES;
use framework::schema::reference::NBA_PLAYERS_REGISTRY;
use framework::{Query, ReplaceScope, ToValue, Value, Warehouse};
use player_game_summary::bdl_json::{bdl_rows_from_api_json, bdl_table_rows};

use super::{ScheduleGame, generate_season, load_season, read_schedule_file, warehouse_holds_season};
use crate::pipeline::{PipelineOptions, PipelineReport, failures_by_category, run_pipeline};

/// The date of the real box scores shipped in `shared/data/real`.
pub const REAL_BOX_SCORE_DATE: &str = "2024-01-15";

/// What the demo runs on.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub seed: u64,
    /// The season, by its starting year (2024 for 2024-25).
    pub season_year: i32,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Generate games only up to this date (tests); `None` generates the whole season.
    pub generate_through: Option<NaiveDate>,
    /// `shared/data`, holding `schedule/` and `real/`.
    pub data_directory: PathBuf,
    pub progress_bars: bool,
}

/// What the demo did.
#[derive(Debug)]
pub struct DemoReport {
    /// Rows written by the generator; `None` when the warehouse already held the season.
    pub generated_rows: Option<usize>,
    pub generation_seconds: f64,
    pub pipeline: PipelineReport,
    /// Rows per output table after the run.
    pub output_rows: Vec<(String, i64)>,
    /// Failure counts by category, per processor.
    pub failures: Vec<(&'static str, Vec<(String, i64)>)>,
}

/// Runs the main job on `warehouse`.
///
/// # Errors
/// The schedule or the real box scores cannot be read, the season cannot be written, or a
/// processor run cannot start or record its history.
pub async fn run_demo(
    warehouse: &dyn Warehouse,
    settings: &Settings,
    options: &DemoOptions,
) -> anyhow::Result<DemoReport> {
    let generation = Instant::now();
    let generated_rows = prepare_warehouse(warehouse, options).await?;
    let generation_seconds = generation.elapsed().as_secs_f64();
    let pipeline = run_season(warehouse, settings, options).await?;
    let mut output_rows = Vec::new();
    let mut failures = Vec::new();
    for totals in &pipeline.processors {
        let count =
            warehouse.query(&Query::new(format!("SELECT count(*) FROM {{{}}}", totals.output_table))).await?;
        output_rows.push((totals.output_table.to_string(), count.rows[0][0].as_i64().unwrap_or_default()));
        failures.push((totals.name, failures_by_category(warehouse, totals).await?));
    }
    Ok(DemoReport { generated_rows, generation_seconds, pipeline, output_rows, failures })
}

/// Loads the schedule, the generated season (unless the warehouse holds it already) and the real
/// box scores; returns the rows generated, `None` when the season was already there.
///
/// # Errors
/// A file cannot be read or a table cannot be written.
pub async fn prepare_warehouse(
    warehouse: &dyn Warehouse,
    options: &DemoOptions,
) -> anyhow::Result<Option<usize>> {
    load_directory(warehouse, &options.data_directory.join("schedule"))
        .await
        .context("cannot load the schedule")?;
    let schedule_games =
        read_schedule_file(&options.data_directory.join("schedule/nba_raw.nbac_schedule.csv"))?;
    let mut generated_rows = None;
    if !warehouse_holds_season(warehouse, options.seed).await? {
        let games: Vec<ScheduleGame> = schedule_games
            .iter()
            .filter(|game| options.generate_through.is_none_or(|last| game.game_date <= last))
            .cloned()
            .collect();
        let season = generate_season(&games, options.seed);
        generated_rows = Some(load_season(warehouse, &season).await?.total_rows());
    }
    load_real_box_scores(warehouse, &options.data_directory).await?;
    Ok(generated_rows)
}

/// PGS, PCF and MLFS over the demo's dates (the regular season and playoffs, plus the real
/// 2024-01-15 box scores for PGS when no range is given or the range holds that date).
async fn run_season(
    warehouse: &dyn Warehouse,
    settings: &Settings,
    options: &DemoOptions,
) -> anyhow::Result<PipelineReport> {
    let (season_start, season_end) = season_bounds(options.season_year);
    let from = options.from.unwrap_or(season_start);
    let to = options.to.unwrap_or(season_end);
    let schedule = Schedule::load(warehouse, from, to).await?;
    let precompute_dates = schedule.game_dates(from, to);
    let mut analytics_dates = precompute_dates.clone();
    let real_date: NaiveDate = REAL_BOX_SCORE_DATE.parse().expect("the constant is a date");
    if (from..=to).contains(&real_date) || (options.from.is_none() && options.to.is_none()) {
        analytics_dates.insert(0, real_date);
    }
    let pipeline_options =
        PipelineOptions { backfill: true, force: false, serial: false, progress_bars: options.progress_bars };
    run_pipeline(warehouse, settings, &analytics_dates, &precompute_dates, &pipeline_options).await
}

/// July 1st to June 30th of the season.
fn season_bounds(season_year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(season_year, 7, 1).expect("July 1st exists"),
        NaiveDate::from_ymd_opt(season_year + 1, 6, 30).expect("June 30th exists"),
    )
}

/// The real 2024-01-15 box scores as that date's BDL rows, and 2023-24 registry rows for their
/// players (the generated registry covers 2024-25 only, README §4 item 13).
async fn load_real_box_scores(warehouse: &dyn Warehouse, data_directory: &Path) -> anyhow::Result<()> {
    let file = data_directory.join("real/2024-01-15/bdl_box_scores_2024-01-15.json");
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let rows = bdl_rows_from_api_json(&text)?;
    let loaded_at = Utc.with_ymd_and_hms(2024, 1, 16, 6, 0, 0).single().expect("a valid instant");
    let date: NaiveDate = REAL_BOX_SCORE_DATE.parse().expect("the constant is a date");
    let cells = bdl_table_rows(&rows, &file.display().to_string(), loaded_at);
    warehouse.replace(&BDL_PLAYER_BOXSCORES, ReplaceScope::Partitions(vec![date]), cells, false).await?;
    let mut registry: Vec<Vec<Value>> = rows
        .iter()
        .map(|row| {
            NBA_PLAYERS_REGISTRY.row(vec![
                ("universal_player_id", format!("{}_001", row.player_lookup).to_value()),
                ("player_name", row.player_full_name.to_value()),
                ("player_lookup", row.player_lookup.to_value()),
                ("team_abbr", row.team_abbr.to_value()),
                ("season", season_label(2023).to_value()),
                ("created_by", "demo".to_value()),
                ("created_at", loaded_at.to_value()),
                ("processed_at", loaded_at.to_value()),
            ])
        })
        .collect();
    registry.sort_by(|left, right| left[2].total_cmp(&right[2]).then(left[3].total_cmp(&right[3])));
    registry.dedup_by(|left, right| left[2] == right[2] && left[3] == right[3]);
    warehouse.replace(&NBA_PLAYERS_REGISTRY, ReplaceScope::Keys, registry, true).await?;
    Ok(())
}

/// The summary table the demo prints.
pub fn render_report(report: &DemoReport) -> String {
    let mut lines = Vec::new();
    lines.push(format!(
        "warehouse prepared in {:.1}s ({})",
        report.generation_seconds,
        match report.generated_rows {
            Some(rows) => format!("season generated, {rows} rows loaded"),
            None => "season already loaded".to_owned(),
        }
    ));
    lines.push(format!(
        "{:<34} {:>6} {:>8} {:>7} {:>9} {:>9} {:>10} {:>8}",
        "processor", "dates", "skipped", "failed", "rows", "entities", "entities/s", "wall s"
    ));
    for totals in &report.pipeline.processors {
        let rate =
            if totals.compute_seconds > 0.0 { totals.entities as f64 / totals.compute_seconds } else { 0.0 };
        lines.push(format!(
            "{:<34} {:>6} {:>8} {:>7} {:>9} {:>9} {:>10.0} {:>8.2}",
            totals.name,
            totals.succeeded + totals.skipped() + totals.failed_dates.len(),
            totals.skipped(),
            totals.failed_dates.len(),
            totals.rows_written,
            totals.entities,
            rate,
            totals.seconds
        ));
    }
    for totals in &report.pipeline.processors {
        let reasons: Vec<String> =
            totals.skipped_by_reason.iter().map(|(reason, count)| format!("{reason} {count}")).collect();
        if !reasons.is_empty() {
            lines.push(format!("{} skipped: {}", totals.name, reasons.join(", ")));
        }
        if !totals.failed_dates.is_empty() {
            let dates: Vec<String> = totals.failed_dates.iter().map(NaiveDate::to_string).collect();
            lines.push(format!("{} failed dates: {}", totals.name, dates.join(",")));
        }
    }
    for (name, categories) in &report.failures {
        let counts: Vec<String> =
            categories.iter().map(|(category, count)| format!("{category} {count}")).collect();
        lines.push(format!(
            "{name} entity failures: {}",
            if counts.is_empty() { "none".to_owned() } else { counts.join(", ") }
        ));
    }
    for (table, rows) in &report.output_rows {
        lines.push(format!("{table}: {rows} rows"));
    }
    lines.push(format!("pipeline wall time {:.2}s", report.pipeline.wall_seconds));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use framework::Value;
    use framework::warehouse::duckdb::DuckDbWarehouse;

    use super::*;
    use crate::project_root;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    async fn count(warehouse: &dyn Warehouse, sql: &str) -> Vec<Vec<Value>> {
        warehouse.query(&Query::new(sql)).await.unwrap().rows
    }

    /// The demo over ten days across the end of the early-season window (2024-10-22 + 14 days
    /// = 2024-11-05): nine game dates (none on Election Day, 2024-11-05); PGS runs all nine, PCF
    /// and MLFS skip the six of 2024-10-30 … 2024-11-04 and process 11-06, 11-07 and 11-08.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_ten_day_demo_writes_unique_keys_and_skips_the_early_season() {
        let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
        let settings = Settings::from_map(Vec::new()).unwrap();
        framework::Warehouse::ensure_tables(&warehouse, &framework::schema::Table::all().collect::<Vec<_>>())
            .await
            .unwrap();
        let options = DemoOptions {
            seed: 7,
            season_year: 2024,
            from: Some(date("2024-10-30")),
            to: Some(date("2024-11-08")),
            generate_through: Some(date("2024-11-08")),
            data_directory: project_root().join("../shared/data"),
            progress_bars: false,
        };
        let report = run_demo(&warehouse, &settings, &options).await.unwrap();
        assert!(!report.pipeline.failed(), "{}", render_report(&report));
        let [pgs, pcf, mlfs] = &report.pipeline.processors[..] else { panic!("three processors") };
        assert_eq!(pgs.succeeded, 9, "nine game dates, no skip");
        for totals in [pcf, mlfs] {
            assert_eq!(totals.skipped_by_reason.get("early_season"), Some(&6), "{}", totals.name);
            assert_eq!(totals.succeeded, 3, "{}", totals.name);
        }
        for (table, key) in [
            ("nba_analytics.player_game_summary", "game_date, game_id, player_lookup"),
            ("nba_precompute.player_composite_factors", "game_date, player_lookup"),
            ("nba_predictions.ml_feature_store_v2", "game_date, player_lookup"),
        ] {
            let rows =
                count(&warehouse, &format!("SELECT count(*), count(DISTINCT ({key})) FROM {{{table}}}"))
                    .await;
            assert!(rows[0][0].as_i64().unwrap() > 100, "{table} has rows");
            assert_eq!(rows[0][0], rows[0][1], "{table} keys are unique");
        }
        assert_eq!(report.output_rows[1].1, pcf.rows_written as i64);
        assert_eq!(pcf.rows_written, mlfs.rows_written, "one feature vector per composite-factor row");
        let skips = count(
            &warehouse,
            "SELECT count(*) FROM {nba_reference.processor_run_history} \
             WHERE status = 'skipped' AND skip_reason = 'early_season' AND data_date < DATE '2024-11-05'",
        )
        .await;
        assert_eq!(skips[0][0], Value::Int(12), "six dates each for PCF and MLFS");
    }
}
