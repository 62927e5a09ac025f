//! `cargo xtask bench`: the project's performance figures, measured on the demo season.
//!
//! One run measures, per processor: compute throughput serial and parallel (entities per
//! second of dispatch time), two dates end to end (extract, compute, save: mid-season and the
//! busiest), the full 2024-25 regular season end to end, warehouse read queries per date, and the
//! process's peak memory.
//! The figures go to `target/bench/report.json` and a table beside the reference's. With
//! `--date`, it times one date alone, many runs, in the warehouse the last full run left (see
//! [`run_focused`]), in this process or, with `--fresh`, each in a new one as a job runs.
//! Timings are only meaningful in release builds, so a debug build re-runs itself with
//! `--release`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use framework::config::{Settings, WarehouseUrl};
use framework::dates::Schedule;
use framework::dispatch::DispatchMode;
use framework::runner::{PhaseSeconds, RunOptions, RunSummary};
use framework::{Processor, Warehouse};
use ml_feature_store::MlFeatureStoreProcessor;
use player_composite_factors::PlayerCompositeFactorsProcessor;
use player_game_summary::PlayerGameSummaryProcessor;
use serde_json::json;

use crate::demo::{self, DemoOptions};
use crate::project_root;

/// The demo season's warehouse, which a full bench generates and `bench --date` reuses.
const BENCH_WAREHOUSE: &str = "target/bench/warehouse.duckdb";
/// The regular season of the demo schedule (README §7).
const SEASON_START: &str = "2024-10-22";
const SEASON_END: &str = "2025-04-13";
/// The date measured alone, mid-season. The busiest date of the season (most players, the
/// longest history) is measured too: the README's per-date target is for about 450 players.
const SINGLE_DATE: &str = "2025-01-15";
/// Dates of the serial-versus-parallel comparison.
const THROUGHPUT_DATES: usize = 20;
/// Runs of the single date, each from a checkpointed file; the median is reported, so one
/// scheduling hiccup on a 2-core machine does not become the figure.
const SINGLE_DATE_RUNS: usize = 5;

/// The reference's measured figures (spec README §1, reference-framework.md §10).
const REFERENCE: [(&str, &str); 3] = [
    ("PlayerGameSummaryProcessor", "6,560 records/s; 241 records < 0.1 s"),
    ("PlayerCompositeFactorsProcessor", "621 players/s; 369 players 0.5 s"),
    ("MLFeatureStoreProcessor", "12.5 players/s; 389 players 30.8 s"),
];

pub fn run() -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        return run_in_release(&["bench".to_owned()]);
    }
    crate::block_on(measure())
}

/// The processors `--processor` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Pgs,
    Pcf,
    Mlfs,
}

impl Which {
    const ALL: [Which; 3] = [Which::Pgs, Which::Pcf, Which::Mlfs];

    /// The flag value, `pgs`.
    fn flag(self) -> &'static str {
        match self {
            Which::Pgs => "pgs",
            Which::Pcf => "pcf",
            Which::Mlfs => "mlfs",
        }
    }

    /// `which`, or every processor in run order when none is named.
    fn chosen(which: Option<Which>) -> impl Iterator<Item = Which> {
        Which::ALL.into_iter().filter(move |candidate| which.is_none_or(|which| which == *candidate))
    }
}

/// `bench --date`: each processor (or only `which`) on `date` alone, `runs` times, in the
/// warehouse the last full bench left, every run from a checkpointed file. This is how one
/// change is compared with the build before it (alternating builds in one period of the
/// machine, whose timings drift): the full bench takes the median of only five runs.
///
/// With `fresh`, every run is a new process, as a processor job is: the first reads of the
/// file, the first touch of memory and thread start-up are in every run, and the process's
/// own time (opening the file, and closing it, which checkpoints) is reported beside it.
///
/// # Errors
/// No full bench has left a warehouse (exit code 2), or a run fails.
pub fn run_focused(date: NaiveDate, which: Option<Which>, runs: u16, fresh: bool) -> anyhow::Result<()> {
    let database = bench_warehouse()?;
    if cfg!(debug_assertions) {
        let mut args = vec!["bench".to_owned(), "--date".to_owned(), date.to_string()];
        args.extend(["--runs".to_owned(), runs.to_string()]);
        if let Some(which) = which {
            args.extend(["--processor".to_owned(), which.flag().to_owned()]);
        }
        if fresh {
            args.push("--fresh".to_owned());
        }
        return run_in_release(&args);
    }
    if fresh {
        return measure_fresh(date, which, usize::from(runs));
    }
    crate::block_on(measure_focused(&database, date, which, usize::from(runs)))
}

/// One run of `date` by `which` in this process, from the file as it is; prints the run's
/// figures as one JSON line on stdout. The process `bench --date --fresh` starts for each run.
///
/// # Errors
/// No full bench has left a warehouse (exit code 2), or the run fails.
pub fn run_one_fresh(date: NaiveDate, which: Which) -> anyhow::Result<()> {
    let database = bench_warehouse()?;
    crate::block_on(async move {
        let settings = bench_settings(&database)?;
        let warehouse = framework::warehouse::open(&settings).await?;
        let warehouse = warehouse.as_ref();
        let run = match which {
            Which::Pgs => run_once(&PlayerGameSummaryProcessor, warehouse, &settings, date).await?,
            Which::Pcf => run_once(&PlayerCompositeFactorsProcessor, warehouse, &settings, date).await?,
            Which::Mlfs => run_once(&MlFeatureStoreProcessor, warehouse, &settings, date).await?,
        };
        println!("{}", RunFigures::of(&run).to_json());
        Ok(())
    })
}

/// The warehouse of the last full bench.
fn bench_warehouse() -> anyhow::Result<std::path::PathBuf> {
    let database = project_root().join(BENCH_WAREHOUSE);
    if !database.exists() {
        return Err(crate::bad_input(format!(
            "{} does not exist: run `cargo xtask bench` once first",
            database.display()
        )));
    }
    Ok(database)
}

/// The environment's settings on the bench warehouse, logging only errors.
fn bench_settings(database: &Path) -> anyhow::Result<Settings> {
    let mut settings = Settings::from_env().context("invalid environment")?;
    framework::cli::init_tracing(&settings, "error");
    settings.warehouse = WarehouseUrl::DuckDb { path: database.display().to_string() };
    Ok(settings)
}

/// One run of `date` alone, as a processor job runs it.
async fn run_once<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    date: NaiveDate,
) -> anyhow::Result<TimedRun> {
    TimedRun::of(run_dates(processor, warehouse, settings, &[date], job_dispatch(processor, settings))).await
}

/// A run's summary and the CPU time the process spent during it.
struct TimedRun {
    summary: RunSummary,
    cpu_ms: f64,
}

impl TimedRun {
    async fn of(run: impl Future<Output = anyhow::Result<RunSummary>>) -> anyhow::Result<TimedRun> {
        let cpu_before = process_cpu_ms();
        let summary = run.await?;
        Ok(TimedRun { summary, cpu_ms: process_cpu_ms() - cpu_before })
    }
}

/// User and system time of every thread of this process so far, in ms. On two cores a run's
/// wall time depends on how its work overlaps as much as on how much of it there is; the CPU
/// time counts the work alone, and tells a change that saves some from one that moves it.
fn process_cpu_ms() -> f64 {
    // SAFETY: `getrusage` only writes the `rusage` it is given, which is plain data.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let ms = |time: libc::timeval| time.tv_sec as f64 * 1000.0 + time.tv_usec as f64 / 1000.0;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

/// A job's dispatch: parallel, with the workers the environment gives the processor.
fn job_dispatch<P: Processor>(processor: &P, settings: &Settings) -> DispatchMode {
    DispatchMode::Parallel { workers: settings.workers_for(processor.info().workers_variable) }
}

/// `bench --date --fresh`: `runs` new processes per processor, each running the date once.
fn measure_fresh(date: NaiveDate, which: Option<Which>, runs: usize) -> anyhow::Result<()> {
    let program = std::env::current_exe().context("cannot find this program to start it again")?;
    for which in Which::chosen(which) {
        println!("{} {date}, each run in a new process (ms): process, {STAGES}", which.flag());
        let mut walls = Vec::with_capacity(runs);
        let mut cpus = Vec::with_capacity(runs);
        let mut processes = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let output = Command::new(&program)
                .args(["bench-one-run", "--date", &date.to_string(), "--processor", which.flag()])
                .stderr(Stdio::inherit())
                .output()
                .context("cannot start a run's process")?;
            let process_ms = started.elapsed().as_secs_f64() * 1000.0;
            if !output.status.success() {
                bail!("a run's process failed ({})", output.status);
            }
            let figures = RunFigures::from_json(&output.stdout)?;
            println!("{process_ms:8.2} {}", figures.line());
            walls.push(figures.wall_ms);
            cpus.push(figures.cpu_ms);
            processes.push(process_ms);
        }
        println!("{} {date}: run {}", which.flag(), Spread::of(&walls));
        println!("{} {date}: run's CPU time {}", which.flag(), Spread::of(&cpus));
        println!("{} {date}: process {}", which.flag(), Spread::of(&processes));
    }
    Ok(())
}

/// Timings are only meaningful in release builds: a debug build runs the task again in release.
fn run_in_release(task: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(project_root())
        .args(["run", "--quiet", "--release", "--package", "xtask", "--"])
        .args(task)
        .status()
        .context("cannot start the release build of the benchmark")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}

async fn measure_focused(
    database: &Path,
    date: NaiveDate,
    which: Option<Which>,
    runs: usize,
) -> anyhow::Result<()> {
    let settings = bench_settings(database)?;
    let warehouse = framework::warehouse::open(&settings).await?;
    let warehouse = warehouse.as_ref();
    for which in Which::chosen(which) {
        match which {
            Which::Pgs => {
                time_one_date(&PlayerGameSummaryProcessor, warehouse, &settings, date, runs).await?
            }
            Which::Pcf => {
                time_one_date(&PlayerCompositeFactorsProcessor, warehouse, &settings, date, runs).await?
            }
            Which::Mlfs => time_one_date(&MlFeatureStoreProcessor, warehouse, &settings, date, runs).await?,
        }
    }
    Ok(())
}

/// Prints the stages of `runs` runs of `date` and the spread of their wall times, after a
/// first run that is printed but not counted: it pays for what the process has not touched yet
/// (the database file's blocks, fresh memory), which varies with the machine's page cache.
async fn time_one_date<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    date: NaiveDate,
    runs: usize,
) -> anyhow::Result<()> {
    let name = processor.info().name;
    println!("{name} {date} (ms): {STAGES}");
    let dispatch = job_dispatch(processor, settings);
    let timed = single_date_runs(processor, warehouse, settings, date, dispatch, runs + 1).await?;
    let figures: Vec<RunFigures> = timed.iter().map(RunFigures::of).collect();
    for (run, figures) in figures.iter().enumerate() {
        let first = if run == 0 { ", first run of the process (not counted)" } else { "" };
        println!("{}{first}", figures.line());
    }
    let walls: Vec<f64> = figures[1..].iter().map(|figures| figures.wall_ms).collect();
    let cpus: Vec<f64> = figures[1..].iter().map(|figures| figures.cpu_ms).collect();
    println!("{name} {date}: {}", Spread::of(&walls));
    println!("{name} {date}: CPU time {}", Spread::of(&cpus));
    Ok(())
}

/// The columns of [`RunFigures::line`].
const STAGES: &str = "wall, CPU time, setup, extract, compute, save, bookkeeping";

/// What a focused run prints: its wall time, the process's CPU time during it and the run's
/// stages in ms, and its entities.
#[derive(Debug, PartialEq)]
struct RunFigures {
    wall_ms: f64,
    cpu_ms: f64,
    /// setup, extract, compute, save, bookkeeping.
    stages_ms: [f64; 5],
    entities: u64,
}

impl RunFigures {
    fn of(run: &TimedRun) -> RunFigures {
        let phases = &run.summary.phases;
        RunFigures {
            wall_ms: run.summary.wall_seconds * 1000.0,
            cpu_ms: run.cpu_ms,
            stages_ms: [phases.setup, phases.extract, phases.compute, phases.save, phases.bookkeeping]
                .map(|seconds| seconds * 1000.0),
            entities: run.summary.entities() as u64,
        }
    }

    fn line(&self) -> String {
        let stages: Vec<String> = self.stages_ms.iter().map(|ms| format!("{ms:8.2}")).collect();
        format!("{:8.2} {:8.2} {}   {} entities", self.wall_ms, self.cpu_ms, stages.join(" "), self.entities)
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "wall_ms": self.wall_ms,
            "cpu_ms": self.cpu_ms,
            "stages_ms": self.stages_ms,
            "entities": self.entities,
        })
    }

    /// The figures a run's process printed with [`RunFigures::to_json`].
    fn from_json(text: &[u8]) -> anyhow::Result<RunFigures> {
        let value: serde_json::Value =
            serde_json::from_slice(text).context("a run's process printed no figures")?;
        let number = |value: &serde_json::Value| value.as_f64().context("a run's figure is not a number");
        let stages: Vec<f64> = value["stages_ms"]
            .as_array()
            .context("a run's process printed no stages")?
            .iter()
            .map(number)
            .collect::<Result<_, _>>()?;
        Ok(RunFigures {
            wall_ms: number(&value["wall_ms"])?,
            cpu_ms: number(&value["cpu_ms"])?,
            stages_ms: stages.try_into().map_err(|_| anyhow::anyhow!("a run has five stages"))?,
            entities: value["entities"].as_u64().context("a run's entities are not a count")?,
        })
    }
}

/// How a set of timings spread: the median and the mean, the 90th percentile (nearest rank),
/// the fastest and the slowest. A fresh process's stalls show in the mean and the tail, not in
/// the median.
#[derive(Debug, PartialEq)]
struct Spread {
    median: f64,
    mean: f64,
    percentile_90: f64,
    fastest: f64,
    slowest: f64,
    runs: usize,
}

impl Spread {
    /// # Panics
    /// `timings` is empty (`--runs` is at least 1).
    fn of(timings: &[f64]) -> Spread {
        let mut sorted = timings.to_vec();
        sorted.sort_by(f64::total_cmp);
        let runs = sorted.len();
        Spread {
            median: sorted[runs / 2],
            mean: sorted.iter().sum::<f64>() / runs as f64,
            percentile_90: sorted[(runs * 9).div_ceil(10) - 1],
            fastest: sorted[0],
            slowest: sorted[runs - 1],
            runs,
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "median {:.2} ms, mean {:.2}, 90th percentile {:.2}, fastest {:.2}, slowest {:.2} over {} runs",
            self.median, self.mean, self.percentile_90, self.fastest, self.slowest, self.runs
        )
    }
}

async fn measure() -> anyhow::Result<()> {
    let database = project_root().join(BENCH_WAREHOUSE);
    let folder = database.parent().expect("the warehouse path names its folder").to_path_buf();
    std::fs::create_dir_all(&folder).context("cannot create target/bench")?;
    for stale in [database.clone(), database.with_extension("duckdb.wal")] {
        let _ = std::fs::remove_file(stale);
    }
    let mut settings = Settings::from_env().context("invalid environment")?;
    framework::cli::init_tracing(&settings, "error");
    settings.warehouse = WarehouseUrl::DuckDb { path: database.display().to_string() };
    let warehouse = framework::warehouse::open(&settings).await?;
    prepare_season(warehouse.as_ref()).await?;

    let start: NaiveDate = SEASON_START.parse().expect("a date constant");
    let end: NaiveDate = SEASON_END.parse().expect("a date constant");
    let season_dates = Schedule::load(warehouse.as_ref(), start, end).await?.game_dates(start, end);
    let single: NaiveDate = SINGLE_DATE.parse().expect("a date constant");
    let busiest = busiest_date(warehouse.as_ref(), start, end).await?;
    let one_dates = [single, busiest];
    let middle = season_dates.len() / 2;
    let throughput_dates = &season_dates[middle..(middle + THROUGHPUT_DATES).min(season_dates.len())];

    let season_started = Instant::now();
    let pgs = measure_processor(
        &PlayerGameSummaryProcessor,
        warehouse.as_ref(),
        &settings,
        &season_dates,
        one_dates,
        throughput_dates,
    )
    .await?;
    let pcf = measure_processor(
        &PlayerCompositeFactorsProcessor,
        warehouse.as_ref(),
        &settings,
        &season_dates,
        one_dates,
        throughput_dates,
    )
    .await?;
    let mlfs = measure_processor(
        &MlFeatureStoreProcessor,
        warehouse.as_ref(),
        &settings,
        &season_dates,
        one_dates,
        throughput_dates,
    )
    .await?;
    let measurements = [pgs, pcf, mlfs];
    let season_seconds: f64 = measurements.iter().map(|measured| measured.season_seconds).sum();
    let single_date_ms: f64 = measurements.iter().map(|measured| measured.one_date.wall_ms).sum();
    let busiest_date_ms: f64 = measurements.iter().map(|measured| measured.busiest_date.wall_ms).sum();
    let peak_memory_mib = peak_memory_mib();
    let report = json!({
        "season_game_dates": season_dates.len(),
        "season_end_to_end_seconds": season_seconds,
        "one_date_end_to_end_ms": single_date_ms,
        "busiest_date": busiest.to_string(),
        "busiest_date_end_to_end_ms": busiest_date_ms,
        "peak_memory_mib": peak_memory_mib,
        "bench_wall_seconds": season_started.elapsed().as_secs_f64(),
        "processors": measurements.iter().map(|measured| json!({
            "processor": measured.name,
            "serial_entities_per_second": measured.serial_rate,
            "parallel_entities_per_second": measured.parallel_rate,
            "parallel_workers": measured.workers,
            "one_date_ms": measured.one_date.wall_ms,
            "one_date_entities": measured.one_date.entities,
            "busiest_date_ms": measured.busiest_date.wall_ms,
            "busiest_date_entities": measured.busiest_date.entities,
            "season_seconds": measured.season_seconds,
            "season_rows": measured.season_rows,
            "read_queries_per_date": measured.queries_per_date,
            "one_date_phases_ms": phases_json(&measured.one_date.phases, 1000.0),
            "busiest_date_phases_ms": phases_json(&measured.busiest_date.phases, 1000.0),
            "season_phases_seconds": phases_json(&measured.season_phases, 1.0),
        })).collect::<Vec<_>>(),
    });
    let path = folder.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?).context("cannot write the report")?;
    println!(
        "{}",
        render_table(
            &measurements,
            season_dates.len(),
            season_seconds,
            [single_date_ms, busiest_date_ms],
            peak_memory_mib
        )
    );
    println!("report: {}", path.display());
    Ok(())
}

/// Generates and loads the demo season (the processors' inputs) into a fresh warehouse.
async fn prepare_season(warehouse: &dyn Warehouse) -> anyhow::Result<()> {
    let options = DemoOptions {
        seed: 2024,
        season_year: 2024,
        from: None,
        to: None,
        generate_through: None,
        data_directory: project_root().join("../shared/data"),
        progress_bars: false,
    };
    demo::prepare_warehouse(warehouse, &options).await?;
    Ok(())
}

/// The regular-season date with the most players in `upcoming_player_game_context` (the
/// earliest of a tie).
async fn busiest_date(
    warehouse: &dyn Warehouse,
    start: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<NaiveDate> {
    let query = framework::Query::new(
        "SELECT game_date, count(*) AS players FROM {nba_analytics.upcoming_player_game_context} \
         WHERE game_date BETWEEN @start AND @end GROUP BY game_date ORDER BY players DESC, game_date LIMIT 1",
    )
    .bind("start", start)
    .bind("end", end);
    let result = warehouse.query(&query).await?;
    result.rows.first().and_then(|row| row[0].as_date()).context("the demo season has no player context")
}

/// One processor's figures.
struct Measured {
    name: &'static str,
    serial_rate: f64,
    parallel_rate: f64,
    workers: usize,
    one_date: DateRun,
    busiest_date: DateRun,
    season_seconds: f64,
    season_phases: PhaseSeconds,
    season_rows: usize,
    queries_per_date: f64,
}

async fn measure_processor<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    season_dates: &[NaiveDate],
    [single, busiest]: [NaiveDate; 2],
    throughput_dates: &[NaiveDate],
) -> anyhow::Result<Measured> {
    let workers = settings.workers_for(processor.info().workers_variable);
    let parallel = DispatchMode::Parallel { workers };
    checkpoint(warehouse).await?;
    let season = run_dates(processor, warehouse, settings, season_dates, parallel).await?;
    let single_run = median_single_date_run(processor, warehouse, settings, single, parallel).await?;
    let busiest_run = median_single_date_run(processor, warehouse, settings, busiest, parallel).await?;
    let serial = run_dates(processor, warehouse, settings, throughput_dates, DispatchMode::Serial).await?;
    let parallel_run = run_dates(processor, warehouse, settings, throughput_dates, parallel).await?;
    let rate = |summary: &RunSummary| summary.entities() as f64 / summary.phases.compute.max(f64::EPSILON);
    Ok(Measured {
        name: processor.info().name,
        serial_rate: rate(&serial),
        parallel_rate: rate(&parallel_run),
        workers,
        one_date: DateRun::of(&single_run),
        busiest_date: DateRun::of(&busiest_run),
        season_seconds: season.wall_seconds,
        season_phases: season.phases,
        season_rows: season.rows_written(),
        queries_per_date: single_run.read_queries as f64,
    })
}

/// The figures of one date's run.
struct DateRun {
    wall_ms: f64,
    entities: usize,
    phases: PhaseSeconds,
}

impl DateRun {
    fn of(summary: &RunSummary) -> DateRun {
        DateRun {
            wall_ms: summary.wall_seconds * 1000.0,
            entities: summary.entities(),
            phases: summary.phases,
        }
    }
}

/// The median (by wall time) of [`SINGLE_DATE_RUNS`] runs of `date`.
async fn median_single_date_run<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    date: NaiveDate,
    dispatch: DispatchMode,
) -> anyhow::Result<RunSummary> {
    let mut runs: Vec<RunSummary> =
        single_date_runs(processor, warehouse, settings, date, dispatch, SINGLE_DATE_RUNS)
            .await?
            .into_iter()
            .map(|run| run.summary)
            .collect();
    runs.sort_by(|a, b| a.wall_seconds.total_cmp(&b.wall_seconds));
    Ok(runs.swap_remove(SINGLE_DATE_RUNS / 2))
}

/// `runs` runs of `date` alone, in the order run, each starting from a checkpointed file as a
/// job does.
async fn single_date_runs<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    date: NaiveDate,
    dispatch: DispatchMode,
    runs: usize,
) -> anyhow::Result<Vec<TimedRun>> {
    let mut timed = Vec::with_capacity(runs);
    for _ in 0..runs {
        checkpoint(warehouse).await?;
        timed.push(TimedRun::of(run_dates(processor, warehouse, settings, &[date], dispatch)).await?);
    }
    Ok(timed)
}

/// Merges DuckDB's write-ahead log into the database file, outside the timed runs. A processor
/// job starts from that state in production (the previous job checkpointed when it closed the
/// file); without it, a measured run would pay for the checkpoint of the runs before it.
async fn checkpoint(warehouse: &dyn Warehouse) -> anyhow::Result<()> {
    warehouse.query(&framework::Query::new("CHECKPOINT")).await.context("CHECKPOINT failed")?;
    Ok(())
}

/// One backfill run over `dates`, forced so every date is computed and saved.
async fn run_dates<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    dates: &[NaiveDate],
    dispatch: DispatchMode,
) -> anyhow::Result<RunSummary> {
    let options = RunOptions {
        dates: dates.to_vec(),
        backfill: true,
        skip_preflight: false,
        dry_run: false,
        force: true,
        dispatch,
        chunk_dates: framework::runner::DEFAULT_CHUNK_DATES,
    };
    let summary = framework::runner::run(processor, warehouse, settings, &options).await?;
    if !summary.failed_dates().is_empty() {
        bail!("{} failed on {:?}", processor.info().name, summary.failed_dates());
    }
    Ok(summary)
}

/// The stages of a run, scaled (1000 for milliseconds).
fn phases_json(phases: &PhaseSeconds, scale: f64) -> serde_json::Value {
    json!({
        "setup": phases.setup * scale,
        "extract": phases.extract * scale,
        "compute": phases.compute * scale,
        "save": phases.save * scale,
        "bookkeeping": phases.bookkeeping * scale,
    })
}

/// `VmHWM` of this process, in MiB (Linux).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string(Path::new("/proc/self/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn render_table(
    measurements: &[Measured],
    season_dates: usize,
    season_seconds: f64,
    [single_date_ms, busiest_date_ms]: [f64; 2],
    peak_memory_mib: Option<f64>,
) -> String {
    let mut lines = vec![format!(
        "{:<32} {:>12} {:>12} {:>10} {:>11} {:>10} {:>9}  {}",
        "processor",
        "serial e/s",
        "parallel e/s",
        "1 date ms",
        "busiest ms",
        "season s",
        "queries",
        "reference"
    )];
    for measured in measurements {
        let reference =
            REFERENCE.iter().find(|(name, _)| *name == measured.name).map_or("", |(_, figure)| figure);
        lines.push(format!(
            "{:<32} {:>12.0} {:>12.0} {:>10.1} {:>11.1} {:>10.2} {:>9.0}  {}",
            measured.name,
            measured.serial_rate,
            measured.parallel_rate,
            measured.one_date.wall_ms,
            measured.busiest_date.wall_ms,
            measured.season_seconds,
            measured.queries_per_date,
            reference
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "{:<32} {:>8} {:>8} {:>8} {:>8} {:>12}   (dates, ms; season, s)",
        "stage", "setup", "extract", "compute", "save", "bookkeeping"
    ));
    for measured in measurements {
        for (label, phases, scale) in [
            (format!("1 date ({})", measured.one_date.entities), &measured.one_date.phases, 1000.0),
            (format!("busiest ({})", measured.busiest_date.entities), &measured.busiest_date.phases, 1000.0),
            ("season".to_owned(), &measured.season_phases, 1.0),
        ] {
            lines.push(format!(
                "{:<40} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>12.2}",
                format!("{} {label}", measured.name),
                phases.setup * scale,
                phases.extract * scale,
                phases.compute * scale,
                phases.save * scale,
                phases.bookkeeping * scale
            ));
        }
    }
    lines.push(format!(
        "all three: one date {single_date_ms:.1} ms, busiest date {busiest_date_ms:.1} ms end to end (reference ~31 s); regular season ({season_dates} game dates) {season_seconds:.2} s; peak memory {} MiB",
        peak_memory_mib.map_or_else(|| "?".to_owned(), |mib| format!("{mib:.0}"))
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_shows_the_tail_the_median_hides() {
        // Ten runs, one stalled: the median stays with the nine, the mean and the slowest do not.
        let timings = [52.0, 50.0, 51.0, 390.0, 49.0, 53.0, 48.0, 55.0, 50.5, 54.0];
        let spread = Spread::of(&timings);
        assert_eq!(
            spread,
            Spread {
                median: 52.0,
                mean: 85.25,
                percentile_90: 55.0,
                fastest: 48.0,
                slowest: 390.0,
                runs: 10
            }
        );
        assert_eq!(
            spread.to_string(),
            "median 52.00 ms, mean 85.25, 90th percentile 55.00, fastest 48.00, slowest 390.00 over 10 runs"
        );
        // Nearest rank: of 15 runs the 90th percentile is the 14th fastest; one run is all of it.
        let fifteen: Vec<f64> = (1..=15).map(f64::from).collect();
        assert_eq!(Spread::of(&fifteen).percentile_90, 14.0);
        assert_eq!(
            Spread::of(&[7.5]),
            Spread { median: 7.5, mean: 7.5, percentile_90: 7.5, fastest: 7.5, slowest: 7.5, runs: 1 }
        );
    }

    #[test]
    fn the_flag_a_fresh_run_is_started_with_is_the_one_clap_parses() {
        for which in Which::ALL {
            let value = clap::ValueEnum::to_possible_value(&which).expect("no variant is skipped");
            assert_eq!(value.get_name(), which.flag());
        }
    }

    #[test]
    fn a_runs_figures_cross_from_its_process_as_json() {
        let figures = RunFigures {
            wall_ms: 35.5,
            cpu_ms: 48.75,
            stages_ms: [14.0, 20.25, 1.0, 13.5, 0.0],
            entities: 421,
        };
        let printed = figures.to_json().to_string();
        assert_eq!(RunFigures::from_json(printed.as_bytes()).unwrap(), figures);
        assert_eq!(
            figures.line(),
            "   35.50    48.75    14.00    20.25     1.00    13.50     0.00   421 entities"
        );
        assert!(RunFigures::from_json(b"").is_err());
        assert!(
            RunFigures::from_json(br#"{"wall_ms": 1.0, "cpu_ms": 1.0, "stages_ms": [1.0], "entities": 3}"#)
                .is_err()
        );
        assert!(
            RunFigures::from_json(
                br#"{"wall_ms": 1.0, "stages_ms": [1.0, 1.0, 1.0, 1.0, 1.0], "entities": 3}"#
            )
            .is_err()
        );
    }
}
