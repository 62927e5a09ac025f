//! `cargo xtask <task>`: the project's developer and operator tasks (the cargo-xtask convention).
//!
//! Every task and flag is declared here; each task lives in its own module. Exit codes follow the
//! binaries: 0 done, 1 failed, 2 bad input.

mod bench;
mod demo;
mod export;
mod load;
mod pipeline;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use framework::config::{Settings, WarehouseUrl};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project tasks")]
struct Flags {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Load every DATASET.TABLE.csv of DIR into the warehouse.
    Load {
        directory: PathBuf,
        /// duckdb:PATH or bigquery:PROJECT (default: WAREHOUSE, else duckdb:warehouse.duckdb).
        #[arg(long)]
        warehouse: Option<WarehouseUrl>,
    },
    /// Write DATASET.TABLE as CSV to stdout, columns in schema order, rows sorted by key.
    Export {
        table: String,
        /// Only this partition date.
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long)]
        warehouse: Option<WarehouseUrl>,
    },
    /// The main job: a realistic season in the embedded warehouse, all three processors.
    Demo {
        /// The season, e.g. 2024-25.
        #[arg(long, default_value = "2024-25", value_parser = parse_season)]
        season: i32,
        /// First date to process (default: the season's first game).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last date to process (default: the season's last game).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Seed of the synthetic season.
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        #[arg(long)]
        warehouse: Option<WarehouseUrl>,
    },
    /// PGS, PCF and MLFS over the game dates of a range, in dependency order.
    Pipeline {
        #[arg(long)]
        start_date: NaiveDate,
        #[arg(long)]
        end_date: NaiveDate,
        /// Historical mode (no freshness checks; critical upstreams need only exist).
        #[arg(long)]
        backfill: bool,
        /// Recompute dates whose inputs are unchanged.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        serial: bool,
        #[arg(long)]
        warehouse: Option<WarehouseUrl>,
    },
    /// Measure the processors on the demo season; writes target/bench/report.json.
    ///
    /// With --date, times each processor (or --processor) on that date alone, --runs times, in
    /// the warehouse a previous full bench left, and prints every run's stages.
    Bench {
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long, value_enum, requires = "date")]
        processor: Option<bench::Which>,
        #[arg(long, default_value_t = 15, requires = "date", value_parser = clap::value_parser!(u16).range(1..))]
        runs: u16,
        /// Each run in a new process, as a processor job runs.
        #[arg(long, requires = "date")]
        fresh: bool,
    },
    /// One run of `bench --date --fresh`: the date once in this process, its figures as JSON.
    #[command(hide = true)]
    BenchOneRun {
        #[arg(long)]
        date: NaiveDate,
        #[arg(long, value_enum)]
        processor: bench::Which,
    },
    /// Run the test suite (`cargo test --workspace`), with what the tests need.
    Test {
        /// Arguments passed on to `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        cargo_args: Vec<String>,
    },
}

fn main() -> ExitCode {
    framework::allocator::configure();
    let flags = match Flags::try_parse() {
        Ok(flags) => flags,
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{}", framework::cli::clap_error_line(&error));
            return ExitCode::from(2);
        }
    };
    match run(flags.task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<BadInput>().is_some() { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}

/// An error in what the user gave (a flag, a variable, an input file): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// Marks an error as the user's input being wrong.
fn bad_input(error: impl std::fmt::Display) -> anyhow::Error {
    BadInput(error.to_string()).into()
}

fn run(task: Task) -> anyhow::Result<()> {
    match task {
        Task::Load { directory, warehouse } => block_on(load::run(&directory, settings(warehouse)?)),
        Task::Export { table, date, warehouse } => block_on(export::run(&table, date, settings(warehouse)?)),
        Task::Demo { season, from, to, seed, warehouse } => {
            if let (Some(from), Some(to)) = (from, to) {
                check_range("--from", from, "--to", to)?;
            }
            block_on(run_demo(season, from, to, seed, settings(warehouse)?))
        }
        Task::Pipeline { start_date, end_date, backfill, force, serial, warehouse } => {
            check_range("--start-date", start_date, "--end-date", end_date)?;
            let options = pipeline::PipelineOptions {
                backfill,
                force,
                serial,
                progress_bars: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            block_on(run_pipeline_task(start_date, end_date, options, settings(warehouse)?))
        }
        Task::Bench { date: None, .. } => bench::run(),
        Task::Bench { date: Some(date), processor, runs, fresh } => {
            bench::run_focused(date, processor, runs, fresh)
        }
        Task::BenchOneRun { date, processor } => bench::run_one_fresh(date, processor),
        Task::Test { cargo_args } => test::run(&cargo_args),
    }
}

/// A range whose last date is before its first would run nothing and report success.
fn check_range(first_flag: &str, first: NaiveDate, last_flag: &str, last: NaiveDate) -> anyhow::Result<()> {
    if last < first {
        return Err(bad_input(format!(
            "invalid {last_flag} {last}: expected a date on or after {first_flag} {first}"
        )));
    }
    Ok(())
}

/// `2024-25` → 2024.
fn parse_season(text: &str) -> Result<i32, String> {
    let (start, end) = text.split_once('-').ok_or("expected a season like 2024-25")?;
    let start: i32 = start.parse().map_err(|_| "expected a season like 2024-25")?;
    if end != format!("{:02}", (start + 1) % 100) {
        return Err("expected a season like 2024-25".to_owned());
    }
    Ok(start)
}

async fn run_demo(
    season_year: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    seed: u64,
    settings: Settings,
) -> anyhow::Result<()> {
    framework::cli::init_tracing(&settings, "warn");
    let warehouse = framework::warehouse::open(&settings).await.context("cannot open the warehouse")?;
    let options = demo::DemoOptions {
        seed,
        season_year,
        from,
        to,
        generate_through: None,
        data_directory: project_root().join("../shared/data"),
        progress_bars: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let report = demo::run_demo(warehouse.as_ref(), &settings, &options).await?;
    println!("{}", demo::render_report(&report));
    if report.pipeline.failed() {
        anyhow::bail!("some dates failed (see above)");
    }
    Ok(())
}

async fn run_pipeline_task(
    start: NaiveDate,
    end: NaiveDate,
    options: pipeline::PipelineOptions,
    settings: Settings,
) -> anyhow::Result<()> {
    framework::cli::init_tracing(&settings, "warn");
    let warehouse = framework::warehouse::open(&settings).await.context("cannot open the warehouse")?;
    let dates =
        framework::dates::Schedule::load(warehouse.as_ref(), start, end).await?.game_dates(start, end);
    let report = pipeline::run_pipeline(warehouse.as_ref(), &settings, &dates, &dates, &options).await?;
    for totals in &report.processors {
        println!(
            "{}: {} succeeded, {} skipped, {} failed, {} rows in {:.2}s",
            totals.name,
            totals.succeeded,
            totals.skipped(),
            totals.failed_dates.len(),
            totals.rows_written,
            totals.seconds
        );
    }
    if report.failed() {
        anyhow::bail!("some dates failed (see above)");
    }
    Ok(())
}

/// Settings from the environment, with `--warehouse` taking precedence.
/// The environment's settings, `--warehouse` replacing `WAREHOUSE` (whose value is then not read).
fn settings(warehouse: Option<WarehouseUrl>) -> anyhow::Result<Settings> {
    let overridden: &[&str] = if warehouse.is_some() { &["WAREHOUSE"] } else { &[] };
    let mut settings = Settings::from_env_except(overridden).map_err(bad_input)?;
    if let Some(url) = warehouse {
        settings.warehouse = url;
    }
    Ok(settings)
}

fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(future: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?
        .block_on(future)
}

/// The workspace root, from this crate's manifest directory.
fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(args: &[&str]) -> Result<Task, clap::Error> {
        Flags::try_parse_from(["cargo xtask"].iter().chain(args)).map(|flags| flags.task)
    }

    #[test]
    fn bench_times_one_date_only_when_given_one() {
        let Ok(Task::Bench { date, processor, runs, fresh }) =
            task(&["bench", "--date", "2025-04-11", "--processor", "mlfs", "--runs", "3", "--fresh"])
        else {
            panic!("a focused bench parses")
        };
        assert_eq!(
            (date, processor, runs, fresh),
            ("2025-04-11".parse().ok(), Some(bench::Which::Mlfs), 3, true)
        );
        assert!(matches!(
            task(&["bench"]),
            Ok(Task::Bench { date: None, processor: None, runs: 15, fresh: false })
        ));
        assert!(task(&["bench", "--fresh"]).is_err(), "--fresh needs --date");
        let Ok(Task::BenchOneRun { date, processor }) =
            task(&["bench-one-run", "--date", "2025-04-11", "--processor", "pcf"])
        else {
            panic!("a fresh run's process parses its task")
        };
        assert_eq!((date, processor), ("2025-04-11".parse().unwrap(), bench::Which::Pcf));
        assert!(task(&["bench", "--runs", "3"]).is_err(), "--runs needs --date");
        assert!(task(&["bench", "--date", "2025-04-11", "--runs", "0"]).is_err(), "at least one run");
    }
}
