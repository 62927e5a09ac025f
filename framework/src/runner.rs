//! The lifecycle of a run over one date or many (README §4).
//!
//! Per run: read the schedule once, skip early-season dates (PCF, MLFS), check that critical
//! upstream rows exist (preflight; the first chunk is extracted meanwhile), then per chunk of
//! dates extract in bulk, per date skip when the inputs are unchanged or dispatch the entities,
//! save the chunk's rows atomically, and buffer run history and failures, written once at the
//! end. One failed date never stops the next; the summary says which dates failed and how to
//! retry them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use tracing::{error, info, warn};

use crate::checkpoint::{Checkpoint, CheckpointBuffer, checkpoints_by_date, combined_digest};
use crate::config::Settings;
use crate::dates::{RunSchedule, Schedule};
use crate::dedupe::{DuplicateLog, keep_latest};
use crate::dispatch::{DispatchMode, Dispatcher};
use crate::history::{HistoryBuffer, RunRecord, RunStatus, new_run_id};
use crate::preflight::{DateDependencies, UpstreamCounts, count_upstream_rows};
use crate::processor::{CombineRows, Phase, Processor, ProcessorInfo, RunContext, SideWrite, StatsFields};
use crate::progress::{
    DateStats, PeriodicLine, Progress, Step, UpstreamCheck, backfill_skips_dependency_checks_line,
    closing_lines, completion_line, downstream_trigger_skipped_line, extracting_line,
    failure_breakdown_lines, log_lines, processing_start_line, stats_line, step_line,
};
use crate::reader::{ExtractError, InputReader};
use crate::schema::Table;
use crate::schema::raw::NBAC_SCHEDULE;
use crate::value::{TableRow, Value};
use crate::warehouse::{ExpectedVersions, Query, ReplaceScope, TableWrite, Warehouse, WarehouseError};

/// Dates extracted and saved together: each upstream table (history windows included) is read
/// once per chunk and the chunk commits once, so a season of 163 game dates costs six rounds of
/// fixed costs. Larger chunks save little more; a failed save fails the whole chunk's dates.
pub const DEFAULT_CHUNK_DATES: usize = 32;

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub dates: Vec<NaiveDate>,
    /// Historical mode: no freshness checks, critical upstreams need only exist, no
    /// unchanged-input skip.
    pub backfill: bool,
    pub skip_preflight: bool,
    /// Report the inputs per date; write nothing.
    pub dry_run: bool,
    /// Recompute even when the inputs are unchanged.
    pub force: bool,
    pub dispatch: DispatchMode,
    pub chunk_dates: usize,
}

/// Why a date was skipped.
pub mod skip_reason {
    pub const EARLY_SEASON: &str = "early_season";
    pub const INPUTS_UNCHANGED: &str = "inputs_unchanged";
    /// No game on the date in the schedule, and too few upstream rows to run it.
    pub const NO_GAMES: &str = "no_games";
    /// Every entity of the date was held back by the processor's own gates (circuit breaker,
    /// completeness, upstream readiness; `FailureCategory::holds_back`): no row to write, and the
    /// date's previous rows are kept.
    pub const ALL_ENTITIES_HELD_BACK: &str = "all_entities_held_back";
}

/// What happened to one date.
#[derive(Clone, Debug, PartialEq)]
pub enum DateStatus {
    Succeeded {
        rows: usize,
        failures: usize,
    },
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
    },
    /// `--dry-run`: per dependency, the rows found.
    WouldRun {
        upstream_rows: Vec<(String, i64)>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct DateOutcome {
    pub date: NaiveDate,
    pub status: DateStatus,
    pub entities: usize,
    pub seconds: f64,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub run_id: String,
    pub outcomes: Vec<DateOutcome>,
    /// Warehouse round trips for reads (schedule, preflight, checkpoint lookup, extraction, and
    /// the stored rows a side write combines with).
    pub read_queries: usize,
    pub wall_seconds: f64,
    /// Where the wall time went.
    pub phases: PhaseSeconds,
}

/// Seconds per stage of a run, summed over its dates, so a slow run says which stage to look at
/// (the bench reports them).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseSeconds {
    /// Schedule, preflight counts and the checkpoint lookup: once per run, until the last of
    /// the three reads is in.
    pub setup: f64,
    /// Bulk reads and typed-input building, per chunk. The first chunk's extraction overlaps
    /// setup (it starts with the schedule's read), so the stages can add up to more than the
    /// run's wall time.
    pub extract: f64,
    /// Dispatch of the entities: the pure computation.
    pub compute: f64,
    /// The atomic replaces of output partitions and side writes (on a warehouse that commits
    /// writes together, the last chunk's save includes the run's bookkeeping).
    pub save: f64,
    /// Run history, failures and checkpoints, when written on their own at the end.
    pub bookkeeping: f64,
}

impl RunSummary {
    pub fn failed_dates(&self) -> Vec<NaiveDate> {
        self.outcomes
            .iter()
            .filter(|outcome| matches!(outcome.status, DateStatus::Failed { .. }))
            .map(|outcome| outcome.date)
            .collect()
    }

    pub fn count(&self, matches: impl Fn(&DateStatus) -> bool) -> usize {
        self.outcomes.iter().filter(|outcome| matches(&outcome.status)).count()
    }

    pub fn rows_written(&self) -> usize {
        self.outcomes
            .iter()
            .map(|outcome| match outcome.status {
                DateStatus::Succeeded { rows, .. } => rows,
                _ => 0,
            })
            .sum()
    }

    pub fn entities(&self) -> usize {
        self.outcomes.iter().map(|outcome| outcome.entities).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read the schedule: {0}")]
    Schedule(WarehouseError),
    #[error("cannot check upstream tables: {0}")]
    Preflight(WarehouseError),
    #[error("cannot read previous run history: {0}")]
    History(WarehouseError),
    #[error("cannot write run history: {0}")]
    HistoryWrite(WarehouseError),
    #[error("cannot start {workers} worker threads: {message}")]
    Workers { workers: usize, message: String },
}

/// Runs `processor` over `options.dates`.
///
/// # Errors
/// Only what makes the whole run impossible or unrecorded (schedule, preflight, checkpoint or
/// history I/O, worker threads); a date's own failure is an outcome, not an error.
pub async fn run<P: Processor>(
    processor: &P,
    warehouse: &dyn Warehouse,
    settings: &Settings,
    options: &RunOptions,
) -> Result<RunSummary, RunError> {
    let wall = Instant::now();
    let info = processor.info();
    let mut book = RunBook::new(info, settings, options);
    let (Some(&first), Some(&last)) = (options.dates.iter().min(), options.dates.iter().max()) else {
        return Ok(book.summary);
    };
    info!("{}", step_line(info.phase, Step::Start));
    let chunk_dates = options.chunk_dates.max(1);
    let run_schedule = RunSchedule::default();
    let duplicates = DuplicateLog::default();
    let setup =
        SetupReads::issue(processor, warehouse, options, (first, last), &run_schedule, &duplicates, wall)
            .await?;
    book.summary.read_queries += setup.queries;
    book.summary.phases.setup = setup.seconds;
    let schedule = run_schedule.get().await;
    let pending = book.skip_early_season_dates(info, schedule, &options.dates);
    if options.dry_run {
        let summary = dry_run_summary(book.summary, info, pending, &setup.counts, wall);
        info!("{}", step_line(info.phase, Step::Completed { seconds: summary.wall_seconds }));
        return Ok(summary);
    }
    let (ready, upstream_checks) =
        book.refuse_missing_dependencies(info, schedule, pending, &setup.counts, options);
    if !options.skip_preflight && !ready.is_empty() {
        info!("{}", step_line(info.phase, Step::DependenciesValidated { seconds: setup.seconds }));
    }

    let dispatcher = Dispatcher::new(options.dispatch).map_err(|error| RunError::Workers {
        workers: options.dispatch.workers().unwrap_or(1),
        message: error.to_string(),
    })?;
    let session = DateSession {
        processor,
        warehouse,
        dispatcher: &dispatcher,
        upstream_checks,
        context_template: RunContext {
            date: first,
            run_id: book.run_id.clone(),
            backfill: options.backfill,
            processed_at: book.started_at,
        },
    };
    let chunks: Vec<&[NaiveDate]> = ready.chunks(chunk_dates).collect();
    let mut first_extraction = setup.first_extraction;
    if let Some(wasted) = first_extraction
        .take_if(|extraction| chunks.first().is_none_or(|chunk| *chunk != extraction.dates.as_slice()))
    {
        // Read for nothing: the schedule or preflight turned a date of the chunk away.
        book.summary.phases.extract += wasted.seconds;
        book.summary.read_queries += wasted.reader.queries();
    }
    let mut bookkeeping_written = false;
    for (index, chunk) in chunks.iter().copied().enumerate() {
        let extraction = match first_extraction.take() {
            Some(extraction) => extraction,
            None => extract_chunk(processor, warehouse, &duplicates, chunk.to_vec(), &run_schedule).await,
        };
        let computed = session.compute_chunk(extraction, &setup.previous, &mut book);
        if index + 1 == chunks.len() && warehouse.writes_together_atomically() {
            bookkeeping_written = session.save_last_chunk_with_bookkeeping(computed, &mut book).await;
        } else {
            session.save_chunk(computed, &mut book).await;
        }
    }
    book.summary.outcomes.sort_by_key(|outcome| outcome.date);
    if !bookkeeping_written {
        let bookkeeping = Instant::now();
        warehouse.write_together(book.bookkeeping_writes()).await.map_err(RunError::HistoryWrite)?;
        book.summary.phases.bookkeeping = bookkeeping.elapsed().as_secs_f64();
    }
    let mut summary = book.summary;
    summary.wall_seconds = wall.elapsed().as_secs_f64();
    info!("{}", step_line(info.phase, Step::Completed { seconds: summary.wall_seconds }));
    Ok(summary)
}

/// What the run reads before its dates: the schedule (into the run's [`RunSchedule`]), the
/// preflight counts, the last checkpoints, and the first chunk's extraction.
struct SetupReads<'w, P: Processor> {
    first_extraction: Option<ChunkExtraction<'w, P>>,
    counts: UpstreamCounts,
    previous: HashMap<NaiveDate, Checkpoint>,
    /// Round trips of the schedule, preflight and checkpoint reads.
    queries: usize,
    /// When the last of those three was in, since the run started.
    seconds: f64,
}

impl<'w, P: Processor> SetupReads<'w, P> {
    /// The schedule, the preflight counts and the last checkpoints are independent reads:
    /// issued together, their round trips overlap. Preflight and checkpoints cover every
    /// requested date; the dates skipped later leave theirs unused. The first chunk's extraction
    /// starts with them, before the schedule has told the early-season dates apart, so a
    /// one-date job (the daily case) waits for one round of reads instead of two; should the
    /// schedule or preflight turn one of its dates away, that read is dropped and the chunk read
    /// again.
    async fn issue(
        processor: &P,
        warehouse: &'w dyn Warehouse,
        options: &RunOptions,
        (first, last): (NaiveDate, NaiveDate),
        run_schedule: &RunSchedule,
        duplicates: &'w DuplicateLog,
        wall: Instant,
    ) -> Result<SetupReads<'w, P>, RunError> {
        let info = processor.info();
        let preflight = !options.skip_preflight || options.dry_run;
        // A backfill recomputes whatever its inputs (README §4 item 7); its checkpoints are still
        // written, so a later live run can skip.
        let read_checkpoints = !options.force && !options.backfill && !options.dry_run;
        let first_chunk: Vec<NaiveDate> = if options.dry_run {
            Vec::new()
        } else {
            options.dates.iter().copied().take(options.chunk_dates.max(1)).collect()
        };
        // When each setup read was in, in seconds since the run started.
        let since_start = || wall.elapsed().as_secs_f64();
        let (mut schedule_in, mut counts_in, mut checkpoints_in) = (0.0, 0.0, 0.0);
        let ((), first_extraction, counts, previous) = tokio::try_join!(
            async {
                let schedule = Schedule::load(warehouse, first, last).await.map_err(RunError::Schedule)?;
                schedule_in = since_start();
                run_schedule.set(schedule);
                Ok(())
            },
            async {
                let extraction = if first_chunk.is_empty() {
                    None
                } else {
                    Some(extract_chunk(processor, warehouse, duplicates, first_chunk, run_schedule).await)
                };
                Ok(extraction)
            },
            async {
                let counts = if preflight {
                    count_upstream_rows(warehouse, info.dependencies, &options.dates)
                        .await
                        .map_err(RunError::Preflight)?
                } else {
                    UpstreamCounts::new()
                };
                counts_in = since_start();
                Ok(counts)
            },
            async {
                let previous = if read_checkpoints {
                    checkpoints_by_date(warehouse, info.name, &options.dates)
                        .await
                        .map_err(RunError::History)?
                } else {
                    HashMap::new()
                };
                checkpoints_in = since_start();
                Ok(previous)
            },
        )?;
        Ok(SetupReads {
            first_extraction,
            counts,
            previous,
            queries: 1
                + usize::from(preflight && !info.dependencies.is_empty())
                + usize::from(read_checkpoints),
            seconds: schedule_in.max(counts_in).max(checkpoints_in),
        })
    }
}

/// A dry run's summary: each date the run would compute, with the upstream rows preflight found.
fn dry_run_summary(
    mut summary: RunSummary,
    info: &ProcessorInfo,
    dates: Vec<NaiveDate>,
    counts: &UpstreamCounts,
    wall: Instant,
) -> RunSummary {
    for date in dates {
        let upstream_rows = info
            .dependencies
            .iter()
            .map(|dependency| {
                let found = counts.get(&(dependency.table.to_string(), date)).map_or(0, |(rows, _)| *rows);
                (dependency.table.to_string(), found)
            })
            .collect();
        summary.outcomes.push(DateOutcome {
            date,
            status: DateStatus::WouldRun { upstream_rows },
            entities: 0,
            seconds: 0.0,
        });
    }
    summary.outcomes.sort_by_key(|outcome| outcome.date);
    summary.wall_seconds = wall.elapsed().as_secs_f64();
    summary
}

/// One chunk's bulk read: its dates, the reader that recorded their input digests, and the
/// processor's typed inputs or the reason there are none.
struct ChunkExtraction<'w, P: Processor> {
    dates: Vec<NaiveDate>,
    reader: InputReader<'w>,
    inputs: Result<BTreeMap<NaiveDate, P::DateInputs>, ExtractError>,
    seconds: f64,
}

/// Reads `dates` through a reader of their own, so that a dropped speculative read leaves no
/// digests behind.
async fn extract_chunk<'w, P: Processor>(
    processor: &P,
    warehouse: &'w dyn Warehouse,
    duplicates: &'w DuplicateLog,
    dates: Vec<NaiveDate>,
    schedule: &RunSchedule,
) -> ChunkExtraction<'w, P> {
    info!("{}", extracting_line(&dates));
    let reader = InputReader::new(warehouse, duplicates);
    let started = Instant::now();
    let inputs = processor.extract(&reader, &dates, schedule).await;
    ChunkExtraction { dates, reader, inputs, seconds: started.elapsed().as_secs_f64() }
}

/// What a date's bookkeeping rows say beyond its status.
#[derive(Clone, Debug, Default)]
struct DateRecord {
    entities: usize,
    failures: usize,
    seconds: f64,
    dependency_check_passed: Option<bool>,
    missing_dependencies: Vec<String>,
    /// The date's stats (with its per-table input digests) for run history.
    stats: serde_json::Value,
    /// The digest of all inputs, for the date's checkpoint; `None` leaves it without one, which no
    /// later run's digest matches (an `inputs_unchanged` skip keeps the checkpoint as it was).
    input_digest: Option<String>,
}

/// The outcomes and bookkeeping rows of a run, filled date by date.
#[derive(Clone)]
struct RunBook<'a> {
    summary: RunSummary,
    history: HistoryBuffer<'a>,
    checkpoints: CheckpointBuffer,
    run_id: String,
    started_at: DateTime<Utc>,
    /// Per date preflight checked, the upstreams it found stale (live mode), for run history.
    /// A checked date has an entry, stale upstreams or none: the dates without one were never
    /// checked (skipped as early season before it, or a run with `--skip-preflight`), and their
    /// `dependency_check_passed` is NULL.
    stale_dependencies: HashMap<NaiveDate, Vec<String>>,
    total_dates: usize,
    /// Records without logging: a copy of the book filled ahead of a commit.
    quiet: bool,
}

impl<'a> RunBook<'a> {
    fn new(info: &'static ProcessorInfo, settings: &'a Settings, options: &RunOptions) -> RunBook<'a> {
        let run_id = new_run_id();
        RunBook {
            summary: RunSummary { run_id: run_id.clone(), ..RunSummary::default() },
            history: HistoryBuffer::new(info, &run_id, settings, options.backfill, options.force),
            checkpoints: CheckpointBuffer::new(info.name),
            run_id,
            started_at: Utc::now(),
            stale_dependencies: HashMap::new(),
            total_dates: options.dates.len(),
            quiet: false,
        }
    }

    /// Records the early-season dates of a processor that skips them (README §4 item 6) and
    /// returns the others.
    fn skip_early_season_dates(
        &mut self,
        info: &ProcessorInfo,
        schedule: &Schedule,
        dates: &[NaiveDate],
    ) -> Vec<NaiveDate> {
        let mut pending = Vec::new();
        for &date in dates {
            if info.skips_as_early_season(schedule, date) {
                if let Some(line) = info.early_season.skip_line(date, crate::dates::season_year(date)) {
                    info!("{line}");
                }
                self.finish(
                    date,
                    DateStatus::Skipped { reason: skip_reason::EARLY_SEASON.to_owned() },
                    DateRecord::default(),
                );
            } else {
                pending.push(date);
            }
        }
        pending
    }

    /// Fails the dates whose critical upstream rows preflight did not find (README §4 item 5)
    /// and returns the others, with what preflight found for each date's stats line (nothing
    /// with `--skip-preflight`). Each date's check is logged in the reference's lines; a live
    /// run's stale upstreams are reported and kept for the dates' run history.
    ///
    /// A date the schedule has no game on is skipped (`no_games`) instead of failed: a daily
    /// job that runs on a day off finds no upstream rows because there was nothing to play,
    /// and failing it would have Cloud Run retry it and print a retry command for it. With the
    /// rows present, such a date runs (`--all-days` over data the schedule lacks).
    fn refuse_missing_dependencies(
        &mut self,
        info: &ProcessorInfo,
        schedule: &Schedule,
        dates: Vec<NaiveDate>,
        counts: &UpstreamCounts,
        options: &RunOptions,
    ) -> (Vec<NaiveDate>, HashMap<NaiveDate, UpstreamCheck>) {
        if options.skip_preflight {
            return (dates, HashMap::new());
        }
        if options.backfill && info.phase == Phase::Analytics && !dates.is_empty() {
            info!("{}", backfill_skips_dependency_checks_line());
        }
        let mut ready = Vec::new();
        let mut upstream_checks = HashMap::new();
        for date in dates {
            let check =
                DateDependencies::check(info.dependencies, counts, date, options.backfill, self.started_at);
            let lines = check.lines(info.phase, info.dependency_lines, options.backfill);
            // The reference's lines never name the date (it ran one per process); in a run of
            // several, a line before each date's lines says which date they are about.
            if self.total_dates > 1 && !lines.is_empty() {
                info!("{} {date}: dependency check", info.name);
            }
            log_lines(lines);
            upstream_checks.insert(date, check.upstream);
            self.stale_dependencies.insert(date, check.stale_tables());
            let missing = check.missing_critical();
            if missing.is_empty() {
                ready.push(date);
                continue;
            }
            let record = DateRecord {
                dependency_check_passed: Some(false),
                missing_dependencies: missing.clone(),
                ..DateRecord::default()
            };
            if schedule.is_day_without_games(date) {
                info!(
                    "{} {date}: skipped, no games in {NBAC_SCHEDULE} (missing: {})",
                    info.name,
                    record.missing_dependencies.join(", ")
                );
                self.finish(date, DateStatus::Skipped { reason: skip_reason::NO_GAMES.to_owned() }, record);
            } else {
                let error = format!("missing critical dependencies: {}", missing.join(", "));
                warn!("{} {date}: {error}", info.name);
                self.finish(date, DateStatus::Failed { error }, record);
            }
        }
        (ready, upstream_checks)
    }

    fn finish(&mut self, date: NaiveDate, status: DateStatus, record: DateRecord) {
        let (run_status, rows, error) = match &status {
            DateStatus::Succeeded { rows, .. } => (RunStatus::Success, *rows, None),
            DateStatus::Skipped { reason } => (RunStatus::Skipped { reason: reason.clone() }, 0, None),
            DateStatus::Failed { error } => {
                (RunStatus::Failed { error: error.clone() }, 0, Some(error.clone()))
            }
            DateStatus::WouldRun { .. } => unreachable!("dry runs record nothing"),
        };
        let keeps_checkpoint =
            matches!(&status, DateStatus::Skipped { reason } if reason == skip_reason::INPUTS_UNCHANGED);
        if !keeps_checkpoint {
            self.checkpoints.record(Checkpoint {
                date,
                status: run_status.as_str().to_owned(),
                error,
                rows: Some(rows as i64),
                run_id: Some(self.run_id.clone()),
                input_digest: record.input_digest.clone(),
                finished_at: Some(Utc::now()),
            });
        }
        self.history.record_run(RunRecord {
            data_date: date,
            status: run_status,
            started_at: self.started_at,
            finished_at: Utc::now(),
            duration_seconds: record.seconds,
            records_processed: rows as i64,
            records_failed: record.failures as i64,
            // A refused date says false itself; a checked date otherwise passed.
            dependency_check_passed: record
                .dependency_check_passed
                .or_else(|| self.stale_dependencies.contains_key(&date).then_some(true)),
            missing_dependencies: record.missing_dependencies,
            stale_dependencies: self.stale_dependencies.get(&date).cloned().unwrap_or_default(),
            summary: if record.stats.is_null() { json!({}) } else { record.stats },
        });
        self.summary.outcomes.push(DateOutcome {
            date,
            status,
            entities: record.entities,
            seconds: record.seconds,
        });
        if !self.quiet {
            self.log_range_progress();
        }
    }

    /// Run history, failures and checkpoints of every recorded date, as writes.
    fn bookkeeping_writes(&self) -> Vec<TableWrite> {
        let history = self.history.clone().into_writes();
        history.into_iter().chain(self.checkpoints.clone().into_write()).collect()
    }

    /// For runs over several dates: `Date progress: 12/163 | Rate: 4.1 dates/sec | ETA: 0.6min`.
    fn log_range_progress(&self) {
        let done = self.summary.outcomes.len();
        if self.total_dates > 1 {
            let elapsed = (Utc::now() - self.started_at).num_milliseconds().max(1) as f64 / 1000.0;
            let rate = done as f64 / elapsed;
            let eta_minutes = (self.total_dates - done.min(self.total_dates)) as f64 / rate / 60.0;
            info!(
                "Date progress: {done}/{} | Rate: {rate:.1} dates/sec | ETA: {eta_minutes:.1}min",
                self.total_dates
            );
        }
    }
}

/// What computing and saving a date needs that stays the same across the dates of a run.
struct DateSession<'a, P: Processor> {
    processor: &'a P,
    warehouse: &'a dyn Warehouse,
    dispatcher: &'a Dispatcher,
    /// Per date, what preflight found upstream, for the stats line; empty with
    /// `--skip-preflight`.
    upstream_checks: HashMap<NaiveDate, UpstreamCheck>,
    context_template: RunContext,
}

/// What computing a date gave: rows to save, no row because every entity was held back, or a
/// failure with its reason.
enum Computation {
    Rows(ComputedDate),
    Skipped { reason: String, record: DateRecord },
    Failed { error: String, record: DateRecord },
}

/// A computed date waiting for its chunk's save.
struct ComputedDate {
    date: NaiveDate,
    /// Cells sorted by the output key.
    rows: Vec<Vec<Value>>,
    side_writes: Vec<SideWrite>,
    failures: usize,
    /// The processor's stats of the date, for the stats line and run history.
    stats: StatsFields,
    digests: BTreeMap<String, String>,
    /// Its `seconds` so far: its share of the chunk's extraction and its own computation.
    record: DateRecord,
}

/// What a chunk saves: its table writes, each with the combination its rows still need with the
/// stored rows of their keys (read when the save commits, see [`DateSession::commit`]), and its
/// dates waiting for the outcome.
struct ChunkWrites {
    writes: Vec<(TableWrite, Option<CombineRows>)>,
    pending: Vec<PendingDate>,
}

/// How many times a save whose combined rows another writer changed in between is read,
/// combined and committed, the first time included ([`WarehouseError::ConcurrentUpdate`]).
const COMBINE_ATTEMPTS: usize = 5;

/// The column that tells whether a stored row changed since it was read: every write of a
/// table whose rows are combined sets it ([`ExpectedVersions`]).
const VERSION_COLUMN: &str = "processed_at";

/// A saved (or unsaved) date's bookkeeping, once its rows went into the chunk's writes.
#[derive(Clone)]
struct PendingDate {
    date: NaiveDate,
    written: usize,
    failures: usize,
    stats: StatsFields,
    digests: BTreeMap<String, String>,
    record: DateRecord,
}

impl<P: Processor> DateSession<'_, P> {
    /// Computes the dates of one chunk's extraction, skipping those whose inputs are unchanged
    /// since `previous` (README §4 item 7), and returns their rows for the chunk's save. A failed
    /// extraction fails every date of the chunk.
    fn compute_chunk(
        &self,
        extraction: ChunkExtraction<'_, P>,
        previous: &HashMap<NaiveDate, Checkpoint>,
        book: &mut RunBook<'_>,
    ) -> Vec<ComputedDate> {
        let info = self.processor.info();
        book.summary.phases.extract += extraction.seconds;
        book.summary.read_queries += extraction.reader.queries();
        let reader = extraction.reader;
        // Every date of the chunk was read by the one extraction, so each carries an equal share
        // of it, and the dates' durations add up to the run's time instead of each counting the
        // whole chunk.
        let extract_share = extraction.seconds / extraction.dates.len().max(1) as f64;
        let mut inputs_by_date = match extraction.inputs {
            Ok(inputs) => {
                info!("{}", step_line(info.phase, Step::DataExtracted { seconds: extraction.seconds }));
                inputs
            }
            Err(error) => {
                for &date in &extraction.dates {
                    let error = format!("extraction failed: {error}");
                    warn!("{} {date}: {error}", info.name);
                    let record = DateRecord { seconds: extract_share, ..DateRecord::default() };
                    book.finish(date, DateStatus::Failed { error }, record);
                }
                return Vec::new();
            }
        };
        let mut computed = Vec::new();
        for &date in &extraction.dates {
            let digests = reader.digests_for(date);
            let input_digest = combined_digest(&digests);
            if previous.get(&date).is_some_and(|checkpoint| checkpoint.covers(&input_digest)) {
                info!("{} {date}: skipped, inputs unchanged since the last successful run", info.name);
                // The digests that matched go to run history, as every computed date's do.
                let record = DateRecord {
                    input_digest: None,
                    seconds: extract_share,
                    stats: history_summary(StatsFields::new(), &digests),
                    ..DateRecord::default()
                };
                book.finish(
                    date,
                    DateStatus::Skipped { reason: skip_reason::INPUTS_UNCHANGED.to_owned() },
                    record,
                );
                continue;
            }
            let started = Instant::now();
            let Some(inputs) = inputs_by_date.remove(&date) else {
                let error = "extraction returned no inputs for the date".to_owned();
                let record = DateRecord {
                    input_digest: Some(input_digest),
                    seconds: extract_share,
                    ..DateRecord::default()
                };
                book.finish(date, DateStatus::Failed { error }, record);
                continue;
            };
            match self.compute_date(date, &inputs, &digests, book) {
                Computation::Rows(mut date_rows) => {
                    date_rows.record.input_digest = Some(input_digest);
                    date_rows.record.seconds = extract_share + started.elapsed().as_secs_f64();
                    computed.push(date_rows);
                }
                Computation::Skipped { reason, mut record } => {
                    record.seconds = extract_share + started.elapsed().as_secs_f64();
                    record.input_digest = Some(input_digest);
                    book.finish(date, DateStatus::Skipped { reason }, record);
                }
                Computation::Failed { error, mut record } => {
                    record.seconds = extract_share + started.elapsed().as_secs_f64();
                    record.input_digest = Some(input_digest);
                    book.finish(date, DateStatus::Failed { error }, record);
                }
            }
        }
        computed
    }

    /// Dispatches one date's entities and records its failures; the rows wait for the chunk's
    /// save. A date without any row keeps its previous rows: skipped when every entity was held
    /// back by the processor's gates (`FailureCategory::holds_back`), else a failure with its
    /// reason.
    fn compute_date(
        &self,
        date: NaiveDate,
        inputs: &P::DateInputs,
        digests: &BTreeMap<String, String>,
        book: &mut RunBook<'_>,
    ) -> Computation {
        let info = self.processor.info();
        let context = RunContext { date, ..self.context_template.clone() };
        let entities = self.processor.entities(inputs);
        let noun = info.phase.entity_noun();
        let (start_line, periodic_line) = match self.dispatcher.mode().workers() {
            Some(workers) => {
                (processing_start_line(noun, entities.len(), Some(workers)), PeriodicLine::Rate(noun))
            }
            None => (info.serial_lines.start_line(noun, entities.len()), info.serial_lines.periodic(noun)),
        };
        if book.total_dates > 1 {
            // As before its dependency check: the reference's lines below do not name the date.
            info!("{} {date}: computing", info.name);
        }
        for note in self.processor.date_notes(inputs, &context) {
            info!("{note}");
        }
        info!("{start_line}");
        let progress = Progress::start(periodic_line, entities.len(), &format!("{} {date}", info.name));
        let compute = Instant::now();
        let dispatched = self.dispatcher.run(
            &entities,
            &progress,
            |batch, outcomes| self.processor.process_batch(batch, inputs, &context, outcomes),
            |entity| self.processor.entity_id(entity),
        );
        progress.finish();
        let compute_seconds = compute.elapsed().as_secs_f64();
        book.summary.phases.compute += compute_seconds;
        info!("{}", completion_line(noun, dispatched.rows.len(), dispatched.failures.len(), compute_seconds));
        for row in &dispatched.rows {
            log_lines(self.processor.row_notes(row, inputs));
        }

        let mut failures = dispatched.failures;
        failures.extend(self.processor.date_failures(inputs, &context));
        for failure in &failures {
            let line = failure.log_line.clone().unwrap_or_else(|| {
                format!(
                    "{} {date}: {} {}: {}",
                    info.name, failure.category, failure.entity_id, failure.reason
                )
            });
            if failure.category.explained_by_data() {
                warn!("{line}");
            } else {
                error!("{line}");
            }
        }
        let stats = self.processor.stats(inputs);
        log_lines(closing_lines(info.closing_lines, dispatched.rows.len(), failures.len(), &stats));
        log_lines(failure_breakdown_lines(&failures));
        book.history.record_failures(date, &failures, context.processed_at);
        let attempts = self.processor.reprocess_attempts(inputs, &context, &failures);
        for tripped in attempts.iter().filter(|attempt| attempt.trips_the_breaker()) {
            error!(
                "{}: Circuit breaker TRIPPED after {} attempts",
                tripped.entity_id, tripped.attempt_number
            );
        }
        book.history.record_reprocess_attempts(date, &attempts, context.processed_at);
        let record =
            DateRecord { entities: entities.len(), failures: failures.len(), ..DateRecord::default() };
        if dispatched.rows.is_empty() {
            let record = DateRecord { stats: history_summary(stats, digests), ..record };
            if !entities.is_empty() && failures.iter().all(|failure| failure.category.holds_back()) {
                warn!(
                    "{} {date}: skipped, all {} entities were held back (circuit breaker, completeness \
                     or upstream readiness); the previous rows are kept",
                    info.name,
                    entities.len()
                );
                let reason = skip_reason::ALL_ENTITIES_HELD_BACK.to_owned();
                return Computation::Skipped { reason, record };
            }
            let error = if entities.is_empty() {
                "no entities to process for the date".to_owned()
            } else {
                format!("no rows produced: all {} entities failed", entities.len())
            };
            warn!("{} {date}: {error}; the previous rows are kept", info.name);
            return Computation::Failed { error, record };
        }
        Computation::Rows(ComputedDate {
            date,
            rows: sorted_rows(&dispatched.rows),
            side_writes: self.processor.side_writes(inputs, &context),
            failures: failures.len(),
            stats,
            digests: digests.clone(),
            record,
        })
    }

    /// Saves every computed date of a chunk in one transaction — the output partitions of all
    /// its dates and their side writes, one commit per chunk instead of several per date — and
    /// records each date: all succeed together or all keep their previous rows.
    async fn save_chunk(&self, computed: Vec<ComputedDate>, book: &mut RunBook<'_>) {
        if computed.is_empty() {
            return;
        }
        let save = Instant::now();
        let ChunkWrites { writes, pending } = self.chunk_writes(computed);
        let mut stored_reads = 0;
        let saved = self.commit(&pending, writes, Vec::new(), &mut stored_reads).await;
        book.summary.read_queries += stored_reads;
        let save_seconds = save.elapsed().as_secs_f64();
        book.summary.phases.save += save_seconds;
        self.settle(pending, &saved, save_seconds, book);
    }

    /// Commits the writes of a chunk's `pending` dates and `more` (its run's bookkeeping, if
    /// any) in one transaction. The processor's save lines say what the commit replaces and
    /// writes, and, once it committed, what the output's write (the first) deleted and wrote.
    ///
    /// Rows combined with stored ones are combined just before the commit, which refuses them if
    /// another writer (a run of other dates, on another shard) changed those stored rows in
    /// between; they are then read and combined again, up to [`COMBINE_ATTEMPTS`] times, so no
    /// writer's sightings are lost. A failed read of stored rows fails the save as a failed
    /// commit would. Its reads of stored rows are added to `stored_reads`, failed or not.
    async fn commit(
        &self,
        pending: &[PendingDate],
        mut writes: Vec<(TableWrite, Option<CombineRows>)>,
        mut more: Vec<TableWrite>,
        stored_reads: &mut usize,
    ) -> Result<(), String> {
        let info = self.processor.info();
        let dates: Vec<NaiveDate> = pending.iter().map(|date| date.date).collect();
        let rows = pending.iter().map(|date| date.written).sum();
        for line in info.save_lines.before_save(info.output, &dates, rows) {
            info!("{line}");
        }
        let combines = writes.iter().any(|(write, combine)| combine.is_some() && !write.rows.is_empty());
        // Kept for another attempt only when one can be needed: a copy of the output's rows
        // costs an allocation per text cell.
        let mut retry = combines.then(|| (writes.clone(), more.clone()));
        let mut attempt = 1;
        let reports = loop {
            let mut combined = Vec::with_capacity(writes.len() + more.len());
            for (write, combine) in writes {
                let write = self.combined_with_stored(write, combine, stored_reads).await;
                combined.push(write.map_err(|error| save_failure(&error))?);
            }
            combined.append(&mut more);
            match (self.warehouse.write_together(combined).await, retry.take()) {
                (Err(WarehouseError::ConcurrentUpdate { table }), Some((next_writes, next_more))) => {
                    attempt += 1;
                    warn!(
                        "Rows of {table} changed while this run combined them: reading them again \
                         ({attempt}/{COMBINE_ATTEMPTS})"
                    );
                    // The last attempt keeps no copy: its refusal ends the save.
                    retry = (attempt < COMBINE_ATTEMPTS).then(|| (next_writes.clone(), next_more.clone()));
                    (writes, more) = (next_writes, next_more);
                }
                (result, _) => break result.map_err(|error| save_failure(&error))?,
            }
        };
        let output = reports.first().copied().unwrap_or_default();
        for line in info.save_lines.after_save(output.rows_deleted, output.rows_inserted) {
            info!("{line}");
        }
        Ok(())
    }

    /// `write` with its rows combined with the stored rows of their keys (one read, counted in
    /// `stored_reads`) and expecting those rows unchanged; as it is without a combination.
    async fn combined_with_stored(
        &self,
        mut write: TableWrite,
        combine: Option<CombineRows>,
        stored_reads: &mut usize,
    ) -> Result<TableWrite, WarehouseError> {
        let Some(combine) = combine.filter(|_| !write.rows.is_empty()) else { return Ok(write) };
        *stored_reads += 1;
        let stored = stored_rows_of_keys(self.warehouse, write.table, &write.rows).await?;
        // The combined rows have the new rows' keys.
        let expected = write
            .table
            .column_index(VERSION_COLUMN)
            .map(|_| ExpectedVersions::of(write.table, VERSION_COLUMN, &stored, &write.rows));
        write.rows = combine_per_key(write.table, stored, write.rows, combine);
        Ok(match expected {
            Some(expected) => {
                expected.advance_past(write.table, &mut write.rows);
                write.expecting(expected)
            }
            None => write,
        })
    }

    /// The last chunk of a run commits together with the run's bookkeeping (run history,
    /// failures, checkpoints), written as if the save succeeded: one commit instead of two, and
    /// the history can never claim rows the output lacks. When that commit fails, nothing of it
    /// is written; the dates are recorded as failed and `false` tells the caller to write the
    /// bookkeeping alone.
    async fn save_last_chunk_with_bookkeeping(
        &self,
        computed: Vec<ComputedDate>,
        book: &mut RunBook<'_>,
    ) -> bool {
        if computed.is_empty() {
            return false;
        }
        let save = Instant::now();
        let ChunkWrites { writes, pending } = self.chunk_writes(computed);
        let mut saved_book = book.clone();
        saved_book.quiet = true;
        // The history rows commit with the output, so the dates' shares of the save are taken
        // here, before the commit: they leave out the commit itself.
        let date_lines = self.settle(pending.clone(), &Ok(()), save.elapsed().as_secs_f64(), &mut saved_book);
        saved_book.summary.outcomes.sort_by_key(|outcome| outcome.date);
        let bookkeeping = saved_book.bookkeeping_writes();
        let mut stored_reads = 0;
        let saved = self.commit(&pending, writes, bookkeeping, &mut stored_reads).await;
        book.summary.read_queries += stored_reads;
        saved_book.summary.read_queries += stored_reads;
        book.summary.phases.save += save.elapsed().as_secs_f64();
        if saved.is_ok() {
            let save_seconds = book.summary.phases.save;
            *book = saved_book;
            book.quiet = false;
            book.summary.phases.save = save_seconds;
            for line in date_lines {
                info!("{line}");
            }
            book.log_range_progress();
            return true;
        }
        self.settle(pending, &saved, save.elapsed().as_secs_f64(), book);
        false
    }

    /// A chunk's table writes and its dates waiting for the outcome.
    fn chunk_writes(&self, computed: Vec<ComputedDate>) -> ChunkWrites {
        let output = self.processor.info().output;
        let dates: Vec<NaiveDate> = computed.iter().map(|date_rows| date_rows.date).collect();
        let mut rows = Vec::with_capacity(computed.iter().map(|date_rows| date_rows.rows.len()).sum());
        let mut side_writes = Vec::new();
        let mut pending = Vec::with_capacity(computed.len());
        for mut date_rows in computed {
            pending.push(PendingDate {
                date: date_rows.date,
                written: date_rows.rows.len(),
                failures: date_rows.failures,
                stats: date_rows.stats,
                digests: date_rows.digests,
                record: date_rows.record,
            });
            rows.append(&mut date_rows.rows);
            side_writes.append(&mut date_rows.side_writes);
        }
        let mut writes =
            vec![(TableWrite::replace(output, ReplaceScope::Partitions(dates), rows, true), None)];
        writes.extend(merge_upserts(side_writes));
        ChunkWrites { writes, pending }
    }

    /// Records each date of a chunk after its save, which took `save_seconds` for all of them;
    /// returns the lines each saved date closes with (logged already unless the book is quiet):
    /// its stats line and, in backfill, the downstream trigger it skips.
    fn settle(
        &self,
        pending: Vec<PendingDate>,
        saved: &Result<(), String>,
        save_seconds: f64,
        book: &mut RunBook<'_>,
    ) -> Vec<String> {
        let info = self.processor.info();
        let save_share = save_seconds / pending.len().max(1) as f64;
        let mut date_lines = Vec::new();
        for PendingDate { date, written, failures, stats, digests, mut record } in pending {
            record.seconds += save_share;
            let mut closing = Vec::new();
            let status = match saved {
                Ok(()) => {
                    let date_stats = DateStats {
                        run_id: &self.context_template.run_id,
                        processor: info.name,
                        date,
                        timestamp_utc: Utc::now(),
                        total_runtime: record.seconds,
                        upstream: self.upstream_checks.get(&date).copied(),
                        succeeded: written,
                        failed: failures,
                        processor_fields: &stats,
                    };
                    closing.push(stats_line(info.phase, &date_stats));
                    if self.context_template.backfill {
                        closing.push(downstream_trigger_skipped_line(info.phase, info.output.name));
                    }
                    DateStatus::Succeeded { rows: written, failures }
                }
                Err(error) => {
                    warn!("{} {date}: {error}", info.name);
                    DateStatus::Failed { error: error.clone() }
                }
            };
            if !book.quiet {
                for line in &closing {
                    info!("{line}");
                }
            }
            date_lines.append(&mut closing);
            record.stats = history_summary(stats, &digests);
            book.finish(date, status, record);
        }
        date_lines
    }
}

/// The side writes of a chunk's dates as table writes, one upsert per table: the dates' `Keys`
/// writes to one table merge into one write, so a chunk pays one write per side table instead
/// of one per date. Without a combination, each key keeps the row of the latest date — what
/// applying them one by one would leave; with one, every row stays, in date order, for
/// [`combine_per_key`]. Other scopes stay as they are, in order.
fn merge_upserts(side_writes: Vec<SideWrite>) -> Vec<(TableWrite, Option<CombineRows>)> {
    let mut writes: Vec<(TableWrite, Option<CombineRows>)> = Vec::new();
    for SideWrite { table, scope, rows, combine } in side_writes {
        let upsert = scope == ReplaceScope::Keys;
        let same_upsert = |(write, _): &&mut (TableWrite, Option<CombineRows>)| {
            upsert && write.scope == Some(ReplaceScope::Keys) && write.table == table
        };
        match writes.iter_mut().find(same_upsert) {
            Some((merged, _)) => merged.rows.extend(rows),
            None => writes.push((TableWrite::replace(table, scope, rows, false), combine)),
        }
    }
    for (write, combine) in &mut writes {
        if write.scope == Some(ReplaceScope::Keys) && combine.is_none() {
            keep_last_row_per_key(write.table, &mut write.rows);
        }
    }
    writes
}

/// Drops every row whose key occurs again later, keeping the order of the rest.
fn keep_last_row_per_key(table: &Table, rows: &mut Vec<Vec<Value>>) {
    let mut seen = HashSet::with_capacity(rows.len());
    let mut kept: Vec<Vec<Value>> =
        rows.drain(..).rev().filter(|row| seen.insert(table.key_text(row))).collect();
    kept.reverse();
    *rows = kept;
}

/// The stored rows of `table` with the keys of `rows`, every column in the table's order: one
/// query, each key column matched against the distinct values of the new rows (a superset,
/// narrowed to the exact keys by [`combine_per_key`]). Rows that share a key (left by another
/// pipeline: ours never writes a key twice) give way to the latest `processed_at` (README §4
/// item 9b), which the write is then combined with and expects; the write replaces them all.
///
/// It runs just before the chunk's write transaction, not inside it. A writer that changes one of
/// these rows in between sets its `processed_at`, which the write expects unchanged
/// ([`ExpectedVersions`]), so the write is refused and built again; a person editing a row
/// without touching `processed_at` in that window of one save still loses the edit.
async fn stored_rows_of_keys(
    warehouse: &dyn Warehouse,
    table: &'static Table,
    rows: &[Vec<Value>],
) -> Result<Vec<Vec<Value>>, WarehouseError> {
    if rows.is_empty() || table.key.is_empty() {
        return Ok(Vec::new());
    }
    let columns: Vec<String> = table.column_names().map(|name| format!("\"{name}\"")).collect();
    let mut conditions = Vec::with_capacity(table.key.len());
    let mut values_by_key = Vec::with_capacity(table.key.len());
    for (position, key) in table.key.iter().enumerate() {
        let Some(index) = table.column_index(key) else { continue };
        let mut values: Vec<Value> = rows.iter().map(|row| row[index].clone()).collect();
        values.sort_by(Value::total_cmp);
        values.dedup();
        conditions.push(format!("\"{key}\" IN (@key{position})"));
        values_by_key.push((format!("key{position}"), values));
    }
    let sql = format!("SELECT {} FROM {{{table}}} WHERE {}", columns.join(", "), conditions.join(" AND "));
    let query =
        values_by_key.iter().fold(Query::new(sql), |query, (name, values)| query.bind_list(name, values));
    let stored = warehouse.query(&query).await?.rows;
    let version_index = table.column_index(VERSION_COLUMN);
    let version_of = |row: &Vec<Value>| match version_index.map(|index| &row[index]) {
        Some(Value::Timestamp(version)) => Some(*version),
        _ => None,
    };
    let (latest, duplicates) = keep_latest(stored, table, |row| table.key_text(row), version_of);
    for duplicate in duplicates {
        warn!("{duplicate}: the save combines with the latest processed_at and replaces them all");
    }
    Ok(latest)
}

/// The row written per key of `rows`: the key's stored row (if any) combined with each of its
/// new rows in turn, in date order. Stored rows of other keys are left alone.
fn combine_per_key(
    table: &Table,
    stored: Vec<Vec<Value>>,
    rows: Vec<Vec<Value>>,
    combine: CombineRows,
) -> Vec<Vec<Value>> {
    let mut stored_by_key: HashMap<String, Vec<Value>> =
        stored.into_iter().map(|row| (table.key_text(&row), row)).collect();
    let mut position_of_key: HashMap<String, usize> = HashMap::new();
    let mut combined: Vec<Vec<Value>> = Vec::new();
    for row in rows {
        let key = table.key_text(&row);
        match position_of_key.get(&key) {
            Some(&position) => {
                let earlier = std::mem::take(&mut combined[position]);
                combined[position] = combine(earlier, row);
            }
            None => {
                let first = match stored_by_key.remove(&key) {
                    Some(stored) => combine(stored, row),
                    None => row,
                };
                position_of_key.insert(key, combined.len());
                combined.push(first);
            }
        }
    }
    combined
}

/// Cells of every row, sorted by the output key (README §4 item 2).
fn sorted_rows<R: TableRow>(rows: &[R]) -> Vec<Vec<Value>> {
    let key_indices: Vec<usize> = R::TABLE
        .key
        .iter()
        .map(|key| R::TABLE.column_index(key).expect("key columns exist (schema test)"))
        .collect();
    let mut cells: Vec<Vec<Value>> = rows.iter().map(TableRow::values).collect();
    cells.sort_by(|left, right| {
        key_indices
            .iter()
            .map(|&index| left[index].total_cmp(&right[index]))
            .find(|ordering| ordering.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    cells
}

/// A date's run-history `summary`: the processor's stats and the input digests (README §4 item
/// 7; tables.md "Added").
fn history_summary(stats: StatsFields, digests: &BTreeMap<String, String>) -> serde_json::Value {
    let mut summary: serde_json::Map<String, serde_json::Value> =
        stats.into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
    summary.insert("input_digests".to_owned(), json!(digests));
    serde_json::Value::Object(summary)
}

/// A failed save as its dates' error: the previous rows are kept, unless the warehouse could not
/// tell whether the save committed, which an operator has to look up before rerunning.
fn save_failure(error: &WarehouseError) -> String {
    match error {
        WarehouseError::OutcomeUnknown { .. } => {
            format!("save's outcome unknown, the dates' rows may have been written: {error}")
        }
        _ => format!("save failed, the previous rows are kept: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::reference::UNRESOLVED_PLAYER_NAMES;
    use crate::value::ToValue;

    fn unresolved(lookup: &str, last_seen: &str) -> Vec<Value> {
        let date: NaiveDate = last_seen.parse().unwrap();
        UNRESOLVED_PLAYER_NAMES.row(vec![
            ("source", "player_game_summary".to_value()),
            ("normalized_lookup", lookup.to_value()),
            ("last_seen_date", date.to_value()),
        ])
    }

    #[test]
    fn a_failed_save_keeps_the_previous_rows_unless_its_outcome_is_unknown() {
        let failed = WarehouseError::Write { table: "t".into(), message: "refused".into() };
        assert_eq!(
            save_failure(&failed),
            "save failed, the previous rows are kept: write to t failed: refused"
        );
        let unknown = WarehouseError::OutcomeUnknown { table: "t".into(), message: "no answer".into() };
        assert_eq!(
            save_failure(&unknown),
            "save's outcome unknown, the dates' rows may have been written: write to t may have committed: no answer"
        );
    }

    #[test]
    fn a_chunks_upserts_merge_into_one_write_keeping_the_latest_row_per_key() {
        let side_write = |rows| SideWrite {
            table: &UNRESOLVED_PLAYER_NAMES,
            scope: ReplaceScope::Keys,
            rows,
            combine: None,
        };
        let writes = merge_upserts(vec![
            side_write(vec![unresolved("a", "2025-01-14"), unresolved("b", "2025-01-14")]),
            side_write(vec![unresolved("c", "2025-01-15"), unresolved("a", "2025-01-15")]),
        ]);
        assert_eq!(
            writes,
            [(
                TableWrite::replace(
                    &UNRESOLVED_PLAYER_NAMES,
                    ReplaceScope::Keys,
                    vec![
                        unresolved("b", "2025-01-14"),
                        unresolved("c", "2025-01-15"),
                        unresolved("a", "2025-01-15")
                    ],
                    false,
                ),
                None
            )]
        );
    }

    /// Keeps the earlier row's `last_seen_date` and adds up the `occurrences` of both.
    fn count_sightings(mut earlier: Vec<Value>, later: Vec<Value>) -> Vec<Value> {
        let occurrences = UNRESOLVED_PLAYER_NAMES.column_index("occurrences").unwrap();
        let total = earlier[occurrences].as_i64().unwrap_or(0) + later[occurrences].as_i64().unwrap_or(0);
        earlier[occurrences] = Value::Int(total);
        earlier
    }

    fn sighting(lookup: &str, last_seen: &str, occurrences: i64) -> Vec<Value> {
        let mut row = unresolved(lookup, last_seen);
        row[UNRESOLVED_PLAYER_NAMES.column_index("occurrences").unwrap()] = Value::Int(occurrences);
        row
    }

    #[test]
    fn combined_upserts_keep_every_dates_row_in_date_order() {
        let side_write = |rows| SideWrite {
            table: &UNRESOLVED_PLAYER_NAMES,
            scope: ReplaceScope::Keys,
            rows,
            combine: Some(count_sightings as CombineRows),
        };
        let writes = merge_upserts(vec![
            side_write(vec![sighting("a", "2025-01-14", 1)]),
            side_write(vec![sighting("a", "2025-01-15", 2)]),
        ]);
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].0.rows, [sighting("a", "2025-01-14", 1), sighting("a", "2025-01-15", 2)]);
        assert!(writes[0].1.is_some());
    }

    #[test]
    fn each_key_combines_its_stored_row_with_its_new_rows_in_order() {
        let stored = vec![sighting("a", "2025-01-10", 5), sighting("z", "2025-01-10", 9)];
        let rows = vec![
            sighting("a", "2025-01-14", 1),
            sighting("b", "2025-01-14", 3),
            sighting("a", "2025-01-15", 2),
        ];
        let combined = combine_per_key(&UNRESOLVED_PLAYER_NAMES, stored, rows, count_sightings);
        // "a": stored 5 + 1 + 2, keeping the stored row's date; "b" has no stored row; "z" has no
        // new row and is not rewritten.
        assert_eq!(combined, [sighting("a", "2025-01-10", 8), sighting("b", "2025-01-14", 3)]);
    }
}
