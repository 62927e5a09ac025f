//! `cargo xtask pipeline`: the three processors over a range of dates, in dependency order.
//!
//! PGS → PCF → MLFS: PCF reads PGS rows before the date, MLFS reads PCF rows of the date and PGS
//! rows before it, so running each processor over every date of the range, chunk by chunk,
//! before the next keeps every date's inputs complete while each upstream table is still read
//! once per chunk.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use framework::config::Settings;
use framework::dispatch::DispatchMode;
use framework::runner::{DEFAULT_CHUNK_DATES, DateStatus, RunOptions, RunSummary, run};
use framework::{Processor, Query, Warehouse};
use indicatif::{ProgressBar, ProgressStyle};
use ml_feature_store::MlFeatureStoreProcessor;
use player_composite_factors::PlayerCompositeFactorsProcessor;
use player_game_summary::PlayerGameSummaryProcessor;

/// How the pipeline runs its dates.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    pub backfill: bool,
    pub force: bool,
    /// Serial dispatch (`ENABLE_PLAYER_PARALLELIZATION=false` or `--serial`).
    pub serial: bool,
    /// Show progress bars (a terminal) instead of nothing.
    pub progress_bars: bool,
}

/// One processor's totals over the pipeline run.
#[derive(Clone, Debug)]
pub struct ProcessorTotals {
    pub name: &'static str,
    pub output_table: &'static framework::schema::Table,
    pub failures_table: &'static framework::schema::Table,
    pub succeeded: usize,
    pub skipped_by_reason: BTreeMap<String, usize>,
    pub failed_dates: Vec<NaiveDate>,
    pub rows_written: usize,
    pub entities: usize,
    pub seconds: f64,
    pub compute_seconds: f64,
    pub read_queries: usize,
    pub run_ids: Vec<String>,
}

impl ProcessorTotals {
    fn absorb(&mut self, summary: &RunSummary) {
        for outcome in &summary.outcomes {
            match &outcome.status {
                DateStatus::Succeeded { .. } => self.succeeded += 1,
                DateStatus::Skipped { reason } => {
                    *self.skipped_by_reason.entry(reason.clone()).or_default() += 1
                }
                DateStatus::Failed { .. } => self.failed_dates.push(outcome.date),
                DateStatus::WouldRun { .. } => {}
            }
        }
        self.rows_written += summary.rows_written();
        self.entities += summary.entities();
        self.seconds += summary.wall_seconds;
        self.compute_seconds += summary.phases.compute;
        self.read_queries += summary.read_queries;
        self.run_ids.push(summary.run_id.clone());
    }

    pub fn skipped(&self) -> usize {
        self.skipped_by_reason.values().sum()
    }
}

/// The three processors' totals, in run order.
#[derive(Clone, Debug, Default)]
pub struct PipelineReport {
    pub processors: Vec<ProcessorTotals>,
    pub wall_seconds: f64,
}

impl PipelineReport {
    pub fn failed(&self) -> bool {
        self.processors.iter().any(|totals| !totals.failed_dates.is_empty())
    }
}

/// Runs PGS on `analytics_dates` and PCF then MLFS on `precompute_dates`, chunk by chunk.
///
/// # Errors
/// A run cannot start or cannot record its history (a date's own failure is in the report).
pub async fn run_pipeline(
    warehouse: &dyn Warehouse,
    settings: &Settings,
    analytics_dates: &[NaiveDate],
    precompute_dates: &[NaiveDate],
    options: &PipelineOptions,
) -> anyhow::Result<PipelineReport> {
    let started = Instant::now();
    let mut report = PipelineReport::default();
    let pgs =
        run_processor(&PlayerGameSummaryProcessor, warehouse, settings, analytics_dates, options).await?;
    report.processors.push(pgs);
    let pcf = run_processor(&PlayerCompositeFactorsProcessor, warehouse, settings, precompute_dates, options)
        .await?;
    report.processors.push(pcf);
    let mlfs =
        run_processor(&MlFeatureStoreProcessor, warehouse, settings, precompute_dates, options).await?;
    report.processors.push(mlfs);
    report.wall_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn run_processor<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    dates: &[NaiveDate],
    options: &PipelineOptions,
) -> anyhow::Result<ProcessorTotals> {
    let info = processor.info();
    let mut totals = ProcessorTotals {
        name: info.name,
        output_table: info.output,
        failures_table: info.phase.failures_table(),
        succeeded: 0,
        skipped_by_reason: BTreeMap::new(),
        failed_dates: Vec::new(),
        rows_written: 0,
        entities: 0,
        seconds: 0.0,
        compute_seconds: 0.0,
        read_queries: 0,
        run_ids: Vec::new(),
    };
    let bar = options.progress_bars.then(|| {
        let bar = ProgressBar::new(dates.len() as u64);
        let style =
            ProgressStyle::with_template("{prefix:32} [{bar:30}] {pos}/{len} dates {per_sec} ETA {eta}")
                .expect("the template is valid")
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(info.name);
        bar
    });
    let dispatch = DispatchMode::configured(settings, info.workers_variable, options.serial, None);
    for chunk in dates.chunks(DEFAULT_CHUNK_DATES) {
        let run_options = RunOptions {
            dates: chunk.to_vec(),
            backfill: options.backfill,
            skip_preflight: false,
            dry_run: false,
            force: options.force,
            dispatch,
            chunk_dates: DEFAULT_CHUNK_DATES,
        };
        let summary = run(processor, warehouse, settings, &run_options).await?;
        totals.absorb(&summary);
        if let Some(bar) = &bar {
            bar.inc(chunk.len() as u64);
        }
    }
    if let Some(bar) = &bar {
        bar.finish();
    }
    Ok(totals)
}

/// Entity failures of the given runs, by category (one query).
///
/// # Errors
/// The query fails.
pub async fn failures_by_category(
    warehouse: &dyn Warehouse,
    totals: &ProcessorTotals,
) -> anyhow::Result<Vec<(String, i64)>> {
    let (failures_table, run_ids) = (totals.failures_table, &totals.run_ids);
    if run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = Query::new(format!(
        "SELECT failure_category, count(*) FROM {{{failures_table}}} WHERE run_id IN (@runs) GROUP BY 1 ORDER BY 1"
    ))
    .bind_list("runs", run_ids.as_slice());
    let result = warehouse.query(&query).await?;
    Ok(result.rows.iter().filter_map(|row| Some((row[0].as_str()?.to_owned(), row[1].as_i64()?))).collect())
}
