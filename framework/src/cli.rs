//! The command line every processor binary shares (README §3.1), and its `main`.
//!
//! A binary is one call: `framework::cli::main(MyProcessor::default())`. Exit codes: 0 when every
//! date succeeded or was skipped for a stated reason, 1 when a date or the run failed, 2 for a bad
//! flag or environment value (one line naming it).

use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{ArgGroup, CommandFactory as _, FromArgMatches as _, Parser};
use tracing::{error, info, warn};

use crate::checkpoint::read_checkpoints;
use crate::config::{Settings, WarehouseUrl, parse_workers};
use crate::dates::{Schedule, calendar_dates, without_repeats};
use crate::dispatch::DispatchMode;
use crate::processor::{Processor, ProcessorInfo};
use crate::runner::{DEFAULT_CHUNK_DATES, DateStatus, RunOptions, RunSummary, run};
use crate::warehouse::{self, Warehouse};

#[derive(Debug, Parser)]
#[command(about = "Runs one processor over dates of the warehouse")]
#[command(group(ArgGroup::new("which_dates").args(["date", "start_date", "dates"])))]
#[command(group(ArgGroup::new("what_to_do").required(true).multiple(true).args(["date", "start_date", "dates", "status"])))]
pub struct ProcessorArgs {
    /// Process exactly this date (YYYY-MM-DD).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// First date of a range; ranges run only game dates of the schedule unless --all-days.
    #[arg(long, requires = "end_date")]
    pub start_date: Option<NaiveDate>,
    /// Last date of a range (inclusive).
    #[arg(long, requires = "start_date")]
    pub end_date: Option<NaiveDate>,
    /// Process exactly these dates, comma-separated (retry lists).
    #[arg(long, value_delimiter = ',')]
    pub dates: Vec<NaiveDate>,
    /// With a range: every calendar day, not only game dates.
    #[arg(long, requires = "start_date")]
    pub all_days: bool,
    /// Historical mode: no freshness checks, critical upstreams need only exist, and dates are
    /// recomputed even when their inputs are unchanged.
    #[arg(long)]
    pub backfill: bool,
    /// Skip the upstream existence check.
    #[arg(long)]
    pub skip_preflight: bool,
    /// Report upstream rows per date and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Recompute dates whose inputs are unchanged.
    #[arg(long)]
    pub force: bool,
    /// Worker threads, in parallel mode (overrides the worker variables and
    /// ENABLE_PLAYER_PARALLELIZATION=false). A negative count reaches the value parser, which
    /// names `--workers`, instead of being taken for an unknown short flag.
    #[arg(long, value_parser = parse_workers_flag, allow_negative_numbers = true, conflicts_with = "serial")]
    pub workers: Option<usize>,
    /// Process entities serially (as ENABLE_PLAYER_PARALLELIZATION=false).
    #[arg(long)]
    pub serial: bool,
    /// duckdb:PATH or bigquery:PROJECT (overrides WAREHOUSE).
    #[arg(long)]
    pub warehouse: Option<WarehouseUrl>,
    /// Print the per-date checkpoints of this processor (nba_processing.backfill_progress), within
    /// the given dates if any, and exit.
    #[arg(long)]
    pub status: bool,
}

fn parse_workers_flag(value: &str) -> Result<usize, String> {
    parse_workers("--workers", value).map_err(|_| "expected a whole number from 1 to 256".to_owned())
}

/// A combination of flags that clap cannot check on its own.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArgsError {
    /// The range would hold no date; the run would do nothing and exit 0 (it did, before).
    #[error("invalid --end-date {end}: expected a date on or after --start-date {start}")]
    RangeEndsBeforeStart { start: NaiveDate, end: NaiveDate },
}

impl ProcessorArgs {
    /// Parses `arguments` (the program's name first) as the command line of `info`'s binary:
    /// its help and `--version` name that binary and its [`Build`](crate::processor::Build).
    ///
    /// # Errors
    /// A bad flag, or `--help` / `--version`, whose text the error carries.
    pub fn parse_for<I, T>(info: &ProcessorInfo, arguments: I) -> Result<ProcessorArgs, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = ProcessorArgs::command().name(info.binary).version(info.build.to_string());
        let matches = command.try_get_matches_from_mut(arguments)?;
        ProcessorArgs::from_arg_matches(&matches).map_err(|error| error.format(&mut command))
    }

    /// Checks what clap's declarations cannot express.
    ///
    /// # Errors
    /// `--end-date` is before `--start-date`.
    pub fn validate(&self) -> Result<(), ArgsError> {
        match (self.start_date, self.end_date) {
            (Some(start), Some(end)) if end < start => Err(ArgsError::RangeEndsBeforeStart { start, end }),
            _ => Ok(()),
        }
    }

    /// The environment variables this command line's flags replace: `--warehouse` replaces
    /// `WAREHOUSE`; `--serial` and `--workers` replace the parallelization flag and the worker
    /// chain.
    pub fn overridden_variables(&self) -> Vec<&'static str> {
        let mut overridden = Vec::new();
        if self.warehouse.is_some() {
            overridden.push("WAREHOUSE");
        }
        if self.serial || self.workers.is_some() {
            overridden.extend(["ENABLE_PLAYER_PARALLELIZATION", "PARALLELIZATION_WORKERS"]);
            overridden.extend(crate::config::PROCESSOR_WORKER_VARIABLES);
        }
        overridden
    }

    /// Applies the flags that override the environment.
    pub fn apply_to(&self, settings: &mut Settings) {
        if let Some(url) = &self.warehouse {
            settings.warehouse = url.clone();
        }
    }

    /// The dispatch mode: `--serial` or the flag variable, workers from `--workers` or the chain.
    pub fn dispatch_mode(&self, settings: &Settings, workers_variable: &str) -> DispatchMode {
        if let (Some(workers), false) = (self.workers, settings.parallel) {
            tracing::warn!(
                "--workers {workers} overrides ENABLE_PLAYER_PARALLELIZATION=false: running in parallel mode"
            );
        }
        DispatchMode::configured(settings, workers_variable, self.serial, self.workers)
    }

    /// The dates to run, before sharding: given dates as they are, ranges filtered to game dates.
    ///
    /// # Errors
    /// A range needs the schedule and it cannot be read.
    pub async fn resolve_dates(
        &self,
        warehouse: &dyn Warehouse,
    ) -> Result<Vec<NaiveDate>, warehouse::WarehouseError> {
        if let Some(date) = self.date {
            return Ok(vec![date]);
        }
        if !self.dates.is_empty() {
            return Ok(without_repeats(&self.dates));
        }
        let (Some(start), Some(end)) = (self.start_date, self.end_date) else { return Ok(Vec::new()) };
        if self.all_days {
            return Ok(calendar_dates(start, end));
        }
        Ok(Schedule::load(warehouse, start, end).await?.game_dates(start, end))
    }
}

/// Why a run has no dates, when it has none: a range without game dates (which exits 0 —
/// off-season days are nothing to do, not a failure — but says so instead of a bare "0 dates"),
/// or a task whose shard is empty because the job has more tasks than dates.
fn nothing_to_run_line(
    processor: &str,
    args: &ProcessorArgs,
    resolved_dates: usize,
    (task_index, task_count): (usize, usize),
) -> Option<String> {
    if resolved_dates == 0 {
        let (start, end) = (args.start_date?, args.end_date?);
        return Some(format!(
            "{processor}: no game dates from {start} to {end} in nba_raw.nbac_schedule; nothing to run \
             (--all-days runs every calendar day)"
        ));
    }
    (resolved_dates <= task_index).then(|| {
        format!(
            "{processor}: task {task_index} of {task_count} (CLOUD_RUN_TASK_INDEX) has no date: the run's \
             {resolved_dates} date(s) went to tasks 0-{}",
            resolved_dates - 1
        )
    })
}

/// Date `i` of the list goes to Cloud Run task `i mod count` (README §3.2).
pub fn shard_dates(dates: &[NaiveDate], task_index: usize, task_count: usize) -> Vec<NaiveDate> {
    dates
        .iter()
        .enumerate()
        .filter(|(index, _)| index % task_count == task_index)
        .map(|(_, date)| *date)
        .collect()
}

/// The `main` of a processor binary.
pub fn main<P: Processor>(processor: P) -> ExitCode {
    crate::allocator::configure();
    let args = match ProcessorArgs::parse_for(processor.info(), std::env::args_os()) {
        Ok(args) => args,
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => return bad_input(&clap_error_line(&error)),
    };
    if let Err(error) = args.validate() {
        return bad_input(&error.to_string());
    }
    let mut settings = match Settings::from_env_except(&args.overridden_variables()) {
        Ok(settings) => settings,
        Err(error) => return bad_input(&error.to_string()),
    };
    args.apply_to(&mut settings);
    init_tracing(&settings, "info");
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run_binary(&processor, &args, &settings));
    if let Err(message) = &outcome {
        error!("{message}");
        eprintln!("error: {message}");
    }
    ExitCode::from(exit_code(&outcome))
}

/// 0 when every date succeeded or was skipped for a stated reason, 1 when a date or the whole
/// run failed: a scheduler retries a non-zero exit (the reference's services answered 200 on a
/// failed run, so Pub/Sub never retried, reference-framework.md §14 item 13).
pub fn exit_code(outcome: &Result<RunSummary, String>) -> u8 {
    match outcome {
        Ok(summary) if summary.failed_dates().is_empty() => 0,
        Ok(_) | Err(_) => 1,
    }
}

/// A clap error on one line, with its `error: ` prefix: the message and its indented details
/// (the missing arguments of "the following required arguments were not provided:", or a value
/// holding a line break), without the tips and usage that follow the first blank line.
pub fn clap_error_line(error: &clap::Error) -> String {
    let rendered = error.to_string();
    let message: Vec<&str> =
        rendered.lines().take_while(|line| !line.trim().is_empty()).map(str::trim).collect();
    if message.is_empty() { "error: invalid arguments".to_owned() } else { message.join(" ") }
}

fn bad_input(message: &str) -> ExitCode {
    let message = message.trim_start_matches("error: ");
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Logs to stderr, filtered by `RUST_LOG` (`settings.log_filter`, checked by `config`), else by
/// `default_filter` (`info` for the binaries; quieter for xtask's progress-bar tasks).
///
/// Colours only on a terminal: tracing's formatter colours whenever `NO_COLOR` is unset, and
/// Cloud Logging stores the escape codes in every line's text, around the timestamp and level
/// people search by.
pub fn init_tracing(settings: &Settings, default_filter: &str) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::new(settings.log_filter.as_deref().unwrap_or(default_filter));
    let colours =
        std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colours)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run_binary<P: Processor>(
    processor: &P,
    args: &ProcessorArgs,
    settings: &Settings,
) -> Result<RunSummary, String> {
    let info = processor.info();
    let opened = if args.dry_run {
        warehouse::open_read_only(settings).await
    } else {
        warehouse::open(settings).await
    };
    let warehouse = opened.map_err(|error| error.to_string())?;
    if args.status {
        print_status(warehouse.as_ref(), info.name, args).await.map_err(|error| error.to_string())?;
        return Ok(RunSummary::default());
    }
    let all_dates = args.resolve_dates(warehouse.as_ref()).await.map_err(|error| error.to_string())?;
    let dates = shard_dates(&all_dates, settings.task_index, settings.task_count);
    if let Some(line) =
        nothing_to_run_line(info.name, args, all_dates.len(), (settings.task_index, settings.task_count))
    {
        warn!("{line}");
    }
    let dispatch = args.dispatch_mode(settings, info.workers_variable);
    match dispatch {
        DispatchMode::Serial => info!("{}: serial dispatch", info.name),
        DispatchMode::Parallel { workers } => {
            info!("{}: parallel dispatch with {workers} workers", info.name)
        }
    }
    let options = RunOptions {
        dates,
        backfill: args.backfill,
        skip_preflight: args.skip_preflight,
        dry_run: args.dry_run,
        force: args.force,
        dispatch,
        chunk_dates: DEFAULT_CHUNK_DATES,
    };
    let summary =
        run(processor, warehouse.as_ref(), settings, &options).await.map_err(|error| error.to_string())?;
    print_summary(info, args, &summary);
    Ok(summary)
}

/// `--status`: one line per checkpointed date (to stdout), then the counts by status.
async fn print_status(
    warehouse: &dyn Warehouse,
    processor: &str,
    args: &ProcessorArgs,
) -> Result<(), warehouse::WarehouseError> {
    let given = args.date.is_some() || !args.dates.is_empty() || args.start_date.is_some();
    let dates = if given { Some(args.resolve_dates(warehouse).await?) } else { None };
    let checkpoints = read_checkpoints(warehouse, processor, dates.as_deref()).await?;
    println!("{:<10}  {:<8}  {:>6}  {:<8}  {:<25}  error", "date", "status", "rows", "run_id", "finished_at");
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for checkpoint in &checkpoints {
        *counts.entry(checkpoint.status.as_str()).or_default() += 1;
        println!(
            "{:<10}  {:<8}  {:>6}  {:<8}  {:<25}  {}",
            checkpoint.date,
            checkpoint.status,
            checkpoint.rows.unwrap_or_default(),
            checkpoint.run_id.as_deref().unwrap_or(""),
            checkpoint.finished_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
            checkpoint.error.as_deref().unwrap_or("")
        );
    }
    let totals: Vec<String> = counts.iter().map(|(status, count)| format!("{count} {status}")).collect();
    if totals.is_empty() {
        println!("{processor}: 0 dates checkpointed");
    } else {
        println!("{processor}: {} dates checkpointed ({})", checkpoints.len(), totals.join(", "));
    }
    Ok(())
}

/// One line per date, then the totals, and the retry command when a date failed.
pub fn print_summary(info: &ProcessorInfo, args: &ProcessorArgs, summary: &RunSummary) {
    let processor = info.name;
    for outcome in &summary.outcomes {
        let what = match &outcome.status {
            DateStatus::Succeeded { rows, failures } => {
                format!("succeeded: {rows} rows, {failures} entity failures")
            }
            DateStatus::Skipped { reason } => format!("skipped: {reason}"),
            DateStatus::Failed { error } => format!("failed: {error}"),
            DateStatus::WouldRun { upstream_rows } => {
                let counts: Vec<String> =
                    upstream_rows.iter().map(|(table, rows)| format!("{table}={rows}")).collect();
                format!("would run (upstream rows: {})", counts.join(", "))
            }
        };
        info!("{processor} {}: {what} ({:.1} ms)", outcome.date, outcome.seconds * 1000.0);
    }
    let succeeded = summary.count(|status| matches!(status, DateStatus::Succeeded { .. }));
    let skipped = summary.count(|status| matches!(status, DateStatus::Skipped { .. }));
    let failed = summary.failed_dates();
    info!(
        "{processor} run {}: {} dates, {succeeded} succeeded, {skipped} skipped, {} failed; {} rows in {:.2}s ({} read queries)",
        summary.run_id,
        summary.outcomes.len(),
        failed.len(),
        summary.rows_written(),
        summary.wall_seconds,
        summary.read_queries
    );
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(NaiveDate::to_string).collect();
        let backfill = if args.backfill { " --backfill" } else { "" };
        error!(
            "{processor}: {} dates failed; retry with: {} --dates {}{backfill}",
            failed.len(),
            info.binary,
            list.join(",")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<ProcessorArgs, clap::Error> {
        ProcessorArgs::try_parse_from(std::iter::once("processor").chain(arguments.iter().copied()))
    }

    #[test]
    fn a_run_without_dates_says_why() {
        let range = parse(&["--start-date", "2025-07-01", "--end-date", "2025-07-10"]).unwrap();
        assert_eq!(
            nothing_to_run_line("PCF", &range, 0, (0, 1)).as_deref(),
            Some(
                "PCF: no game dates from 2025-07-01 to 2025-07-10 in nba_raw.nbac_schedule; nothing to \
                 run (--all-days runs every calendar day)"
            )
        );
        assert_eq!(nothing_to_run_line("PCF", &range, 3, (0, 1)), None);
        assert_eq!(
            nothing_to_run_line("PCF", &range, 3, (3, 5)).as_deref(),
            Some(
                "PCF: task 3 of 5 (CLOUD_RUN_TASK_INDEX) has no date: the run's 3 date(s) went to tasks 0-2"
            )
        );
        assert_eq!(nothing_to_run_line("PCF", &range, 3, (2, 5)), None);
    }

    static BUILT: ProcessorInfo = ProcessorInfo {
        name: "ToyProcessor",
        binary: "toy_processor",
        build: crate::processor::Build { version: "1.2.3", commit: Some("abc1234") },
        phase: crate::processor::Phase::Precompute,
        output: &crate::schema::analytics::TEAM_OFFENSE_GAME_SUMMARY,
        workers_variable: "PCF_WORKERS",
        early_season: crate::progress::EarlySeason::Runs,
        serial_lines: crate::progress::SerialLines::ProcessingPlayerPercent,
        closing_lines: crate::progress::ClosingLines::SuccessfullyProcessed,
        save_lines: crate::progress::SaveLines::BatchInsert,
        dependency_lines: crate::progress::DependencyLines::Base,
        dependencies: &[],
    };

    /// `--version` used to print the framework crate's name and version ("framework 0.1.0")
    /// from every binary.
    #[test]
    fn version_names_the_binary_and_its_build() {
        let version = ProcessorArgs::parse_for(&BUILT, ["/app/bin/toy_processor", "--version"]).unwrap_err();
        assert_eq!(version.kind(), clap::error::ErrorKind::DisplayVersion);
        assert_eq!(version.to_string(), "toy_processor 1.2.3 (commit abc1234)\n");
        let args = ProcessorArgs::parse_for(&BUILT, ["toy_processor", "--date", "2025-01-15"]).unwrap();
        assert_eq!(args.date, NaiveDate::from_ymd_opt(2025, 1, 15));
        let bad = ProcessorArgs::parse_for(&BUILT, ["toy_processor", "--date", "2025-13-01"]).unwrap_err();
        assert_eq!(bad.kind(), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn status_needs_no_dates_and_takes_any_one_kind_of_them() {
        let args = parse(&["--status"]).unwrap();
        assert!(args.status && args.date.is_none());
        let args = parse(&["--status", "--date", "2025-01-15"]).unwrap();
        assert_eq!(args.date, Some("2025-01-15".parse().unwrap()));
        let args = parse(&["--status", "--start-date", "2025-01-15", "--end-date", "2025-01-17"]).unwrap();
        assert!(args.status && args.start_date.is_some());
        assert!(parse(&["--status", "--date", "2025-01-15", "--dates", "2025-01-16"]).is_err());
        assert!(
            parse(&["--date", "2025-01-15", "--start-date", "2025-01-15", "--end-date", "2025-01-16"])
                .is_err()
        );
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn one_way_of_choosing_dates_is_required() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--date", "2024-01-15", "--dates", "2024-01-16"]).is_err());
        assert!(parse(&["--start-date", "2024-01-15"]).is_err());
        let args = parse(&["--dates", "2024-01-15,2024-01-17"]).unwrap();
        assert_eq!(args.dates.len(), 2);
    }

    #[test]
    fn bad_values_name_the_flag() {
        let error = parse(&["--date", "2024-13-01"]).unwrap_err().to_string();
        assert!(error.lines().next().unwrap().contains("--date"), "{error}");
        let error = parse(&["--date", "2024-01-15", "--workers", "0"]).unwrap_err().to_string();
        assert!(error.lines().next().unwrap().contains("--workers"), "{error}");
        let error = parse(&["--date", "2024-01-15", "--warehouse", "sqlite:x"]).unwrap_err().to_string();
        assert!(error.lines().next().unwrap().contains("--warehouse"), "{error}");
    }

    /// Clap spreads some errors over several lines; only the first was printed, and for a
    /// missing argument it named nothing ("the following required arguments were not provided:").
    #[test]
    fn a_clap_error_becomes_one_line_naming_the_flag() {
        let line = clap_error_line(&parse(&["--start-date", "2024-01-15"]).unwrap_err());
        assert_eq!(line, "error: the following required arguments were not provided: --end-date <END_DATE>");
        let line = clap_error_line(&parse(&["--date", "2024-01-15", "--frobnicate"]).unwrap_err());
        assert_eq!(line, "error: unexpected argument '--frobnicate' found");
    }

    #[test]
    fn a_range_ending_before_it_starts_is_refused() {
        let args = parse(&["--start-date", "2024-01-20", "--end-date", "2024-01-10"]).unwrap();
        assert_eq!(
            args.validate().unwrap_err().to_string(),
            "invalid --end-date 2024-01-10: expected a date on or after --start-date 2024-01-20"
        );
        assert!(
            parse(&["--start-date", "2024-01-20", "--end-date", "2024-01-20"]).unwrap().validate().is_ok()
        );
    }

    #[test]
    fn serial_flag_and_worker_override() {
        let settings = Settings::from_map(Vec::new()).unwrap();
        let args = parse(&["--date", "2024-01-15", "--workers", "3"]).unwrap();
        assert_eq!(args.dispatch_mode(&settings, "PCF_WORKERS"), DispatchMode::Parallel { workers: 3 });
        let args = parse(&["--date", "2024-01-15", "--serial"]).unwrap();
        assert_eq!(args.dispatch_mode(&settings, "PCF_WORKERS"), DispatchMode::Serial);
        let serial_env =
            Settings::from_map(vec![("ENABLE_PLAYER_PARALLELIZATION".into(), "false".into())]).unwrap();
        let args = parse(&["--date", "2024-01-15"]).unwrap();
        assert_eq!(args.dispatch_mode(&serial_env, "PCF_WORKERS"), DispatchMode::Serial);
        // Flags override the environment; asking for both modes is refused.
        let args = parse(&["--date", "2024-01-15", "--workers", "2"]).unwrap();
        assert_eq!(args.dispatch_mode(&serial_env, "PCF_WORKERS"), DispatchMode::Parallel { workers: 2 });
        let error = parse(&["--date", "2024-01-15", "--serial", "--workers", "2"]).unwrap_err();
        assert_eq!(
            clap_error_line(&error),
            "error: the argument '--serial' cannot be used with '--workers <WORKERS>'"
        );
    }

    /// The reference's services answered HTTP 200 when the processor failed, so Pub/Sub never
    /// retried (reference-framework.md §14 item 13): here a failed date, or a run that could not
    /// start, exits 1, and only succeeded or skipped dates exit 0.
    #[test]
    fn reference_framework_14_13_a_failed_date_exits_non_zero() {
        let outcome = |status: DateStatus| crate::runner::DateOutcome {
            date: "2025-01-15".parse().unwrap(),
            status,
            entities: 0,
            seconds: 0.0,
        };
        let summary = |statuses: Vec<DateStatus>| RunSummary {
            outcomes: statuses.into_iter().map(outcome).collect(),
            ..RunSummary::default()
        };
        let succeeded = DateStatus::Succeeded { rows: 369, failures: 2 };
        let skipped = DateStatus::Skipped { reason: "early_season".into() };
        let failed = DateStatus::Failed { error: "missing critical dependencies".into() };
        assert_eq!(exit_code(&Ok(summary(vec![succeeded.clone(), skipped.clone()]))), 0);
        assert_eq!(exit_code(&Ok(summary(vec![succeeded, failed, skipped]))), 1);
        assert_eq!(exit_code(&Err("cannot read the schedule: connection refused".into())), 1);
    }

    /// The reference passed `analysis_date` as a string from `/process-date`, and its date
    /// arithmetic failed on it (reference-framework.md §14 item 2): here every way of naming
    /// dates parses into `NaiveDate` at the edge, and text that is not a date is refused there,
    /// naming the flag.
    #[test]
    fn reference_framework_14_2_dates_are_typed_at_the_command_line() {
        let args = parse(&["--dates", "2024-10-25,2024-11-06"]).unwrap();
        let first: NaiveDate = args.dates[0];
        assert_eq!(args.dates[1] - first, chrono::Duration::days(12));
        let args = parse(&["--start-date", "2024-11-26", "--end-date", "2024-11-30", "--all-days"]).unwrap();
        assert_eq!(args.end_date.unwrap() - args.start_date.unwrap(), chrono::Duration::days(4));
        for bad in ["20241025", "2024-10-25T00:00:00", "'2024-10-25'"] {
            let error = clap_error_line(&parse(&["--date", bad]).unwrap_err());
            assert!(error.contains("--date"), "{bad}: {error}");
        }
    }

    #[test]
    fn sharding_deals_dates_round_robin() {
        let dates: Vec<NaiveDate> =
            calendar_dates("2024-01-01".parse().unwrap(), "2024-01-07".parse().unwrap());
        assert_eq!(shard_dates(&dates, 1, 3), vec![dates[1], dates[4]]);
        assert_eq!(shard_dates(&dates, 0, 1), dates);
    }
}
