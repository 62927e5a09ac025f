//! Progress reporting: the reference's log lines, word for word, and a bar on a terminal.
//!
//! People reading Cloud Run logs know the reference's lines (README §3.3), so each line is a named
//! function here, tested for its exact text. Periodic progress lines go out every
//! [`PROGRESS_EVERY`] entities in logs; when stderr is a terminal an indicatif bar replaces them.
//!
//! The three processors shared the parallel lines (reference-framework.md §10) but each kept
//! its own serial loop, closing and save lines; a processor picks its own with [`SerialLines`],
//! [`ClosingLines`], [`SaveLines`] and [`DependencyLines`] in its `ProcessorInfo`, and the runner
//! writes them.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serializer as _;
use serde_json::json;

use crate::processor::{EntityFailure, FailureCategory, Phase};

/// Entities between two progress lines (the reference's 50).
pub const PROGRESS_EVERY: usize = 50;

/// What a processor counts: PCF and MLFS count players, PGS player-game records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityNoun {
    Players,
    Records,
}

/// `Processing 369 players with 10 workers (parallel mode)` and its serial and PGS variants.
pub fn processing_start_line(noun: EntityNoun, count: usize, parallel_workers: Option<usize>) -> String {
    let what = match noun {
        EntityNoun::Players => "players",
        EntityNoun::Records => "player-game records",
    };
    match parallel_workers {
        Some(workers) => format!("Processing {count} {what} with {workers} workers (parallel mode)"),
        None => format!("Processing {count} {what} (serial mode)"),
    }
}

/// MLFS's serial start: `Calculating features for 389 players (serial mode)` (reference-mlfs.md
/// §6.3).
pub fn calculating_features_line(count: usize) -> String {
    format!("Calculating features for {count} players (serial mode)")
}

/// `Player processing progress: 50/369 | Rate: 621.1 players/sec | ETA: 0.0min`.
pub fn progress_line(noun: EntityNoun, done: usize, total: usize, elapsed_seconds: f64) -> String {
    let rate = if elapsed_seconds > 0.0 { done as f64 / elapsed_seconds } else { 0.0 };
    let eta_minutes = if rate > 0.0 { (total - done.min(total)) as f64 / rate / 60.0 } else { 0.0 };
    match noun {
        EntityNoun::Players => format!(
            "Player processing progress: {done}/{total} | Rate: {rate:.1} players/sec | ETA: {eta_minutes:.1}min"
        ),
        EntityNoun::Records => format!(
            "Player-game processing progress: {done}/{total} | Rate: {rate:.1} records/sec | ETA: {eta_minutes:.1}min"
        ),
    }
}

/// PCF's serial progress: `Processing player 50/369 (13.6%)` (reference-pcf.md §5.4).
pub fn processing_player_line(done: usize, total: usize) -> String {
    let percent = if total > 0 { 100.0 * done as f64 / total as f64 } else { 0.0 };
    format!("Processing player {done}/{total} ({percent:.1}%)")
}

/// MLFS's serial progress: `Processed 50/389 players` (reference-mlfs.md §6.2).
pub fn processed_players_line(done: usize, total: usize) -> String {
    format!("Processed {done}/{total} players")
}

/// `Completed 369 players in 0.5s (avg 0.00s/player) | 0 failed`; PGS:
/// `Completed 241 records in 0.1s (avg 0.00s/record)`. The reference wrote it after its parallel
/// pool only; it is written after a serial dispatch too, so that a rollback run still says how
/// long each date's computation took.
pub fn completion_line(noun: EntityNoun, succeeded: usize, failed: usize, elapsed_seconds: f64) -> String {
    let average = if succeeded > 0 { elapsed_seconds / succeeded as f64 } else { 0.0 };
    match noun {
        EntityNoun::Players => {
            format!(
                "Completed {succeeded} players in {elapsed_seconds:.1}s (avg {average:.2}s/player) | {failed} failed"
            )
        }
        EntityNoun::Records => {
            format!("Completed {succeeded} records in {elapsed_seconds:.1}s (avg {average:.2}s/record)")
        }
    }
}

/// PGS's closing line: `✅ Processed 241 records`.
pub fn processed_records_line(records: usize) -> String {
    format!("✅ Processed {records} records")
}

/// PGS's closing warning when player lines had no registry id: `⚠️ Skipped 3 (no registry match)`.
pub fn skipped_without_registry_match_line(skipped: u64) -> String {
    format!("⚠️ Skipped {skipped} (no registry match)")
}

/// PCF's closing line: `Successfully processed 367 players`.
pub fn successfully_processed_line(succeeded: usize) -> String {
    format!("Successfully processed {succeeded} players")
}

/// PCF's closing warning when players failed: `Failed to process 2 players`.
pub fn failed_to_process_line(failed: usize) -> String {
    format!("Failed to process {failed} players")
}

/// MLFS's closing line: `Feature generation complete: 3 success, 1 failed (75.0% success rate)`,
/// the rate 0 when there was no player (reference-mlfs.md §6.1).
pub fn feature_generation_complete_line(succeeded: usize, failed: usize) -> String {
    let attempted = succeeded + failed;
    let rate = if attempted > 0 { succeeded as f64 / attempted as f64 * 100.0 } else { 0.0 };
    format!("Feature generation complete: {succeeded} success, {failed} failed ({rate:.1}% success rate)")
}

/// The dependency check's line per dependency: `Checking dependency:
/// nba_analytics.upcoming_player_game_context`.
pub fn checking_dependency_line(table: &str) -> String {
    format!("Checking dependency: {table}")
}

/// A dependency without its rows: `Missing critical dependency: nba_raw.bdl_player_boxscores`,
/// or `Missing optional dependency: …` (PGS's gamebook and props).
pub fn missing_dependency_line(table: &str, critical: bool) -> String {
    let kind = if critical { "critical" } else { "optional" };
    format!("Missing {kind} dependency: {table}")
}

/// `Stale dependency: nba_precompute.player_daily_cache: 3.5h old (max: 2h)`, the phase-4 base's
/// line. PGS's reference had a warn and a fail threshold and a line for each, and failed the
/// run past the latter; here a stale upstream is reported and never fails a date (a date whose
/// rows change upstream runs again, README §4 item 7), so both phases have the one threshold
/// and this line.
pub fn stale_dependency_line(table: &str, age_hours: f64, max_age_hours: i64) -> String {
    format!("Stale dependency: {table}: {age_hours:.1}h old (max: {max_age_hours}h)")
}

/// What a processor logs after the bases' dependency-check lines of a live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyLines {
    /// PGS and PCF: the bases' lines alone.
    Base,
    /// MLFS (reference-mlfs.md §1, `extract_raw_data` step 5) also warns when any of its
    /// sources is stale: [`stale_phase4_data_line`].
    StaleSummary,
}

/// `Stale Phase 4 data detected: ['nba_precompute.player_daily_cache']`: MLFS's summary of the
/// stale tables, as a Python list.
pub fn stale_phase4_data_line(tables: &[String]) -> String {
    let quoted: Vec<String> = tables.iter().map(|table| format!("'{table}'")).collect();
    format!("Stale Phase 4 data detected: [{}]", quoted.join(", "))
}

/// `Dependency check complete: critical_present=True, fresh=False` (Python's booleans).
pub fn dependency_check_complete_line(critical_present: bool, fresh: bool) -> String {
    format!(
        "Dependency check complete: critical_present={}, fresh={}",
        python_bool(critical_present),
        python_bool(fresh)
    )
}

/// The source-tracking summary after the dependency check: phase 4's
/// `Source tracking complete: completeness=100.0%, max_age=3.25h` (`None` without an age),
/// phase 3's `Source tracking complete: 3 sources tracked`.
pub fn source_tracking_complete_line(phase: Phase, upstream: &UpstreamCheck, sources: usize) -> String {
    match phase {
        Phase::Analytics => format!("Source tracking complete: {sources} sources tracked"),
        Phase::Precompute => {
            let age = upstream.upstream_data_age_hours.map_or_else(|| "None".to_owned(), python_float_repr);
            format!(
                "Source tracking complete: completeness={}%, max_age={age}h",
                python_float_repr(upstream.data_completeness_pct)
            )
        }
    }
}

/// PGS's line in backfill mode, where the reference skipped its dependency check: here the
/// run's preflight has checked that the critical rows exist.
pub fn backfill_skips_dependency_checks_line() -> &'static str {
    "⏭️  BACKFILL MODE: Skipping dependency BQ checks (pre-flight already verified)"
}

/// `⏸️  Skipping downstream trigger (backfill mode) - Phase 5 will not be auto-triggered for
/// player_composite_factors`: the reference's line after a backfill date's stats line, where a
/// live date published its completion for the next phase (reference-pgs.md §7, reference-pcf.md
/// §5.4). A backfill never triggers the next phase (README §3.1).
pub fn downstream_trigger_skipped_line(phase: Phase, output_table: &str) -> String {
    let next_phase = match phase {
        Phase::Analytics => 4,
        Phase::Precompute => 5,
    };
    format!(
        "⏸️  Skipping downstream trigger (backfill mode) - Phase {next_phase} will not be auto-triggered for \
         {output_table}"
    )
}

/// A step of the reference's structured step lines (reference-framework.md §3.1): the run's
/// start, its dependency check, an extraction and its end, the last three with their seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    Start,
    DependenciesValidated { seconds: f64 },
    DataExtracted { seconds: f64 },
    Completed { seconds: f64 },
}

/// `PRECOMPUTE_STEP Dependencies validated in 0.1s`, `ANALYTICS_STEP Analytics processor run
/// starting`, … (reference-pgs.md §7, reference-pcf.md §5.4 "Base lines a port should keep").
/// Phase 4's start and end lines name the precompute processor as phase 3's name the analytics
/// one.
pub fn step_line(phase: Phase, step: Step) -> String {
    let (tag, kind) = match phase {
        Phase::Analytics => ("ANALYTICS_STEP", "Analytics"),
        Phase::Precompute => ("PRECOMPUTE_STEP", "Precompute"),
    };
    match step {
        Step::Start => format!("{tag} {kind} processor run starting"),
        Step::DependenciesValidated { seconds } => format!("{tag} Dependencies validated in {seconds:.1}s"),
        Step::DataExtracted { seconds } => format!("{tag} Data extracted in {seconds:.1}s"),
        Step::Completed { seconds } => format!("{tag} {kind} processor completed in {seconds:.1}s"),
    }
}

/// How a processor's save spoke at the reference (reference-framework.md §4): the bases'
/// delete-then-load lines, or MLFS's own writer's.
///
/// Here a save replaces the dates' rows in one transaction (README §4 item 1), so the lines
/// before it say what it will replace and write, and the lines after it, logged only once it
/// committed, what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveLines {
    /// PGS and PCF: `Deleting existing data for …`, `Inserting 421 rows to
    /// nba_precompute.player_composite_factors using batch INSERT`; then `✅ Deleted 421
    /// existing rows`, `✅ Successfully loaded 421 rows`.
    BatchInsert,
    /// MLFS (reference-mlfs.md §5.4): `Writing 421 feature records to
    /// nba_predictions.ml_feature_store_v2`, `Deleting existing records for …`; then `✅ Deleted
    /// 421 existing rows`, `Write complete: 421/421 rows (100.0% success)`. Its batches of 100
    /// are gone: the rows go in one write.
    FeatureRecords,
}

impl SaveLines {
    /// The lines before a save of `rows` rows replacing the rows of `dates` in `table`.
    pub fn before_save(self, table: &crate::schema::Table, dates: &[NaiveDate], rows: usize) -> Vec<String> {
        let dates = dates_text(dates);
        match self {
            SaveLines::BatchInsert => vec![
                format!("Deleting existing data for {dates}"),
                format!("Inserting {rows} rows to {table} using batch INSERT"),
            ],
            SaveLines::FeatureRecords => vec![
                format!("Writing {rows} feature records to {table}"),
                format!("Deleting existing records for {dates}"),
            ],
        }
    }

    /// The lines once the save committed: the rows it deleted and those it wrote.
    pub fn after_save(self, rows_deleted: u64, rows_written: u64) -> Vec<String> {
        let deleted = format!("✅ Deleted {rows_deleted} existing rows");
        match self {
            SaveLines::BatchInsert => vec![deleted, format!("✅ Successfully loaded {rows_written} rows")],
            SaveLines::FeatureRecords => {
                // One write that committed wrote every row.
                let percent = if rows_written > 0 { 100.0 } else { 0.0 };
                vec![
                    deleted,
                    format!("Write complete: {rows_written}/{rows_written} rows ({percent:.1}% success)"),
                ]
            }
        }
    }
}

/// The line before a chunk's reads: `Extracting data for 2025-01-15` (reference-pcf.md §5.4), a
/// backfill chunk's `Extracting data for 2025-01-13 to 2025-01-19` (PGS's form, reference-pgs.md
/// §7). Said by every processor: what a run is reading is worth a line in any of them.
pub fn extracting_line(dates: &[NaiveDate]) -> String {
    format!("Extracting data for {}", dates_text(dates))
}

/// The dates a save or a read covers: `2025-01-15`; a chunk's `2025-01-15 to 2025-01-21` (PGS's
/// reference form), with their count when they skip days (`2025-01-15 to 2025-01-21, 5
/// dates`).
fn dates_text(dates: &[NaiveDate]) -> String {
    match (dates.iter().min(), dates.iter().max()) {
        (Some(first), Some(last)) if first != last => {
            let days = (*last - *first).num_days() + 1;
            if usize::try_from(days).is_ok_and(|days| days == dates.len()) {
                format!("{first} to {last}")
            } else {
                format!("{first} to {last}, {} dates", dates.len())
            }
        }
        (Some(first), _) => first.to_string(),
        _ => "no dates".to_owned(),
    }
}

/// Phase 4's line before its batch completeness check: `Checking completeness for 421
/// players...` (reference-pcf.md §5.4, reference-mlfs.md §6.1).
pub fn checking_completeness_line(players: usize) -> String {
    format!("Checking completeness for {players} players...")
}

/// Phase 4's line after it: `Completeness check complete. Bootstrap mode: False, Season
/// boundary: True`.
pub fn completeness_check_complete_line(bootstrap: bool, season_boundary: bool) -> String {
    format!(
        "Completeness check complete. Bootstrap mode: {}, Season boundary: {}",
        python_bool(bootstrap),
        python_bool(season_boundary)
    )
}

/// Phase 4's line after its upstream readiness check: `Upstream completeness check: 352/369
/// players have all upstreams ready` (reference-pcf.md §5.4, reference-mlfs.md §2.7).
pub fn upstream_completeness_line(ready: usize, players: usize) -> String {
    format!("Upstream completeness check: {ready}/{players} players have all upstreams ready")
}

/// A boolean as Python prints it: `True`, `False`.
pub fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// Whether a processor skips the first 14 days of a season (README §4 item 6), and the line its
/// reference logged on such a date, the one line a person searching the logs for the skip
/// knows (the runner's own line follows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlySeason {
    /// PGS: every date runs.
    Runs,
    /// PCF (reference-pcf.md §5.4): `⏭️  Skipping 2024-10-25: early season period (day 0-13 of
    /// season 2024). Regular processing starts day 14.`
    SkippingPeriod,
    /// MLFS (reference-mlfs.md §2.11): `Early season detected for 2024-10-25 (season 2024): within
    /// first 14 days of regular season`. Its second line announced placeholder rows, which this
    /// port does not write.
    Detected,
}

impl EarlySeason {
    pub fn skips(self) -> bool {
        self != EarlySeason::Runs
    }

    /// The reference's line for skipping `date`, of the season starting in `season_year`.
    pub fn skip_line(self, date: NaiveDate, season_year: i32) -> Option<String> {
        match self {
            EarlySeason::Runs => None,
            EarlySeason::SkippingPeriod => Some(format!(
                "⏭️  Skipping {date}: early season period (day 0-13 of season {season_year}). \
                 Regular processing starts day 14."
            )),
            EarlySeason::Detected => Some(format!(
                "Early season detected for {date} (season {season_year}): within first 14 days of regular season"
            )),
        }
    }
}

/// How a processor's serial loop spoke at the reference: the parallel path was shared, but
/// each processor kept the serial loop it had before (reference-framework.md §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SerialLines {
    /// PGS: the parallel path's start line in its serial form, then the rate line every
    /// [`PROGRESS_EVERY`]. The reference's serial PGS loop logged no progress at all; README §3.3
    /// keeps lines every 50 entities in logs, so the one the parallel path had stays.
    Processing,
    /// PCF: `Processing 369 players (serial mode)`, then [`processing_player_line`] every
    /// [`PROGRESS_EVERY`] players and at the last one, the reference's cadence (reference-pcf.md
    /// §5.4) — never per player, so a log holds as few lines as the parallel path's.
    ProcessingPlayerPercent,
    /// MLFS: [`calculating_features_line`], then [`processed_players_line`] every
    /// [`PROGRESS_EVERY`] players. The reference skipped the line when the 50th player was
    /// skipped or failed; here it counts every player done, like the other lines.
    CalculatingFeatures,
}

impl SerialLines {
    /// The start line of a serial dispatch of `count` entities.
    pub fn start_line(self, noun: EntityNoun, count: usize) -> String {
        match self {
            SerialLines::Processing | SerialLines::ProcessingPlayerPercent => {
                processing_start_line(noun, count, None)
            }
            SerialLines::CalculatingFeatures => calculating_features_line(count),
        }
    }

    /// The periodic line of a serial dispatch.
    pub fn periodic(self, noun: EntityNoun) -> PeriodicLine {
        match self {
            SerialLines::Processing => PeriodicLine::Rate(noun),
            SerialLines::ProcessingPlayerPercent => PeriodicLine::PlayerPercent,
            SerialLines::CalculatingFeatures => PeriodicLine::ProcessedPlayers,
        }
    }
}

/// What a processor logs after the completion line (reference-framework.md §10 "After the
/// pool"), whether the entities ran in parallel or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosingLines {
    /// PGS: [`processed_records_line`], then [`skipped_without_registry_match_line`] as a
    /// warning with the date's stats field `skipped_stat` when it counts any record (the
    /// reference-pgs.md §4 lines after its loop).
    ProcessedRecords { skipped_stat: &'static str },
    /// PCF: [`successfully_processed_line`], then [`failed_to_process_line`] as a warning when a
    /// player failed.
    SuccessfullyProcessed,
    /// MLFS: [`feature_generation_complete_line`].
    FeatureGenerationComplete,
}

/// The closing lines of a dispatch, each with whether it is a warning; `stats` are the
/// processor's fields of the date's stats line.
pub fn closing_lines(
    closing: ClosingLines,
    succeeded: usize,
    failed: usize,
    stats: &[(&'static str, serde_json::Value)],
) -> Vec<(bool, String)> {
    match closing {
        ClosingLines::ProcessedRecords { skipped_stat } => {
            let mut lines = vec![(false, processed_records_line(succeeded))];
            let skipped =
                stats.iter().find(|(key, _)| *key == skipped_stat).and_then(|(_, value)| value.as_u64());
            if let Some(skipped) = skipped.filter(|skipped| *skipped > 0) {
                lines.push((true, skipped_without_registry_match_line(skipped)));
            }
            lines
        }
        ClosingLines::SuccessfullyProcessed => {
            let mut lines = vec![(false, successfully_processed_line(succeeded))];
            if failed > 0 {
                lines.push((true, failed_to_process_line(failed)));
            }
            lines
        }
        ClosingLines::FeatureGenerationComplete => {
            vec![(false, feature_generation_complete_line(succeeded, failed))]
        }
    }
}

/// The later reference's failure breakdown after a date's closing lines (reference-pcf.md §5.2,
/// §5.4), each line with whether it is a warning: the failures per category, in the order each
/// category first failed, the skips the data explains as expected and processing errors (bugs)
/// flagged to investigate; with none of those, a line saying every skip was expected. Nothing
/// for a date without failures.
pub fn failure_breakdown_lines(failures: &[EntityFailure]) -> Vec<(bool, String)> {
    if failures.is_empty() {
        return Vec::new();
    }
    let mut counts: Vec<(FailureCategory, usize)> = Vec::new();
    for failure in failures {
        match counts.iter_mut().find(|(category, _)| *category == failure.category) {
            Some((_, count)) => *count += 1,
            None => counts.push((failure.category, 1)),
        }
    }
    let mut lines = vec![(false, format!("📊 Failure breakdown ({} total):", failures.len()))];
    for &(category, count) in &counts {
        lines.push(if category.explained_by_data() {
            (false, format!("   {category}: {count} (expected - data quality)"))
        } else {
            (true, format!("   {category}: {count} ⚠️ INVESTIGATE"))
        });
    }
    if counts.iter().all(|(category, _)| category.explained_by_data()) {
        lines.push((
            false,
            format!("✅ No errors to investigate - all {} skips are expected (data quality)", failures.len()),
        ));
    }
    lines
}

/// Logs lines made with whether each is a warning ([`closing_lines`], the dependency check's).
pub fn log_lines(lines: Vec<(bool, String)>) {
    for (warning, line) in lines {
        if warning {
            tracing::warn!("{line}");
        } else {
            tracing::info!("{line}");
        }
    }
}

/// The line logged as entities complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodicLine {
    /// [`progress_line`]: every parallel dispatch, and PGS's serial one.
    Rate(EntityNoun),
    /// [`processing_player_line`]: PCF's serial dispatch.
    PlayerPercent,
    /// [`processed_players_line`]: MLFS's serial dispatch.
    ProcessedPlayers,
}

impl PeriodicLine {
    /// The line due once `done` of `total` entities are done, if one is.
    pub fn line_at(self, done: usize, total: usize, elapsed_seconds: f64) -> Option<String> {
        let every = done.is_multiple_of(PROGRESS_EVERY);
        match self {
            PeriodicLine::Rate(noun) if every => Some(progress_line(noun, done, total, elapsed_seconds)),
            PeriodicLine::PlayerPercent if every || done == total => {
                Some(processing_player_line(done, total))
            }
            PeriodicLine::ProcessedPlayers if every => Some(processed_players_line(done, total)),
            _ => None,
        }
    }
}

/// What the phase-4 stats line says of the date's upstream check (reference-framework.md §7.2,
/// the reference's `track_source_usage`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpstreamCheck {
    /// Every critical dependency had its rows (preflight passed for the date).
    pub dependency_check_passed: bool,
    /// The mean over the dependencies that have rows for the date of `min(rows / expected × 100,
    /// 100)`, 2 decimals; 0.0 when none has any.
    pub data_completeness_pct: f64,
    /// Hours from the newest upstream `processed_at` to the run's start, the largest over the
    /// dependencies, 2 decimals; `None` (null) when no dependency has a `processed_at`.
    pub upstream_data_age_hours: Option<f64>,
}

/// The values of a saved date's stats line.
#[derive(Clone, Debug)]
pub struct DateStats<'a> {
    pub run_id: &'a str,
    pub processor: &'a str,
    pub date: NaiveDate,
    pub timestamp_utc: DateTime<Utc>,
    /// The date's own seconds, as run history's `duration_seconds`: its computation and its
    /// share of its chunk's extraction and save (for a run's last chunk, whose save commits with
    /// the run's bookkeeping, the save up to that commit).
    pub total_runtime: f64,
    /// Phase 4 only; `None` when preflight was skipped, which writes the three fields as null.
    pub upstream: Option<UpstreamCheck>,
    pub succeeded: usize,
    pub failed: usize,
    /// The processor's own fields, in the reference's order.
    pub processor_fields: &'a [(&'static str, serde_json::Value)],
}

/// The date's last line, `PRECOMPUTE_STATS {…}` / `ANALYTICS_STATS {…}`, as the reference's
/// `post_process` wrote it (reference-framework.md §7.2): `json.dumps` text (`", "` and `": "`
/// separators, Python float and timestamp forms) with `run_id, processor, timestamp_utc,
/// total_runtime`, phase 4's `dependency_check_passed, data_completeness_pct,
/// upstream_data_age_hours`, then the processor's stats: the counts (`players_processed,
/// players_failed`; PGS `records_processed` alone, as at the reference) and its own fields.
///
/// One addition ends the line: `date`. A reference run covered one date and its `run_id` named
/// it; one run here covers a range, so each date's line says which it is.
pub fn stats_line(phase: Phase, stats: &DateStats<'_>) -> String {
    let mut fields: Vec<(&str, serde_json::Value)> = vec![
        ("run_id", json!(stats.run_id)),
        ("processor", json!(stats.processor)),
        ("timestamp_utc", json!(crate::dates::python_isoformat(stats.timestamp_utc, 'T'))),
        ("total_runtime", json!(stats.total_runtime)),
    ];
    if phase == Phase::Precompute {
        let check = stats.upstream;
        fields.extend([
            ("dependency_check_passed", json!(check.map(|check| check.dependency_check_passed))),
            ("data_completeness_pct", json!(check.map(|check| check.data_completeness_pct))),
            ("upstream_data_age_hours", json!(check.and_then(|check| check.upstream_data_age_hours))),
        ]);
    }
    match phase.entity_noun() {
        EntityNoun::Players => fields
            .extend([("players_processed", json!(stats.succeeded)), ("players_failed", json!(stats.failed))]),
        EntityNoun::Records => fields.push(("records_processed", json!(stats.succeeded))),
    }
    fields.extend(stats.processor_fields.iter().map(|(key, value)| (*key, value.clone())));
    fields.push(("date", json!(stats.date)));
    format!("{} {}", phase.stats_prefix(), python_json_object(&fields))
}

/// `fields` as `json.dumps` writes a dict: in the given order, with its separators and floats.
fn python_json_object(fields: &[(&str, serde_json::Value)]) -> String {
    let mut text = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut text, PythonJson);
    // The keys are strings and the writer a Vec: serializing cannot fail.
    serializer.collect_map(fields.iter().map(|(key, value)| (key, value))).expect("writes to a Vec");
    // serde_json writes UTF-8 only.
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// The text differences between serde_json's compact output and Python's `json.dumps`.
struct PythonJson;

impl serde_json::ser::Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, value: f64) -> std::io::Result<()> {
        writer.write_all(python_float_repr(value).as_bytes())
    }
}

/// Python's `repr` of a finite float, which `json.dumps` writes (`100.0`, `0.0001`, `1e-05`):
/// the rounding module's text, shared with the row hashes. serde_json never passes a NaN or an
/// infinity: it writes those as null.
fn python_float_repr(value: f64) -> String {
    let mut text = String::new();
    crate::rounding::write_python_float(&mut text, value);
    text
}

/// Counts completions from any worker thread and reports every [`PROGRESS_EVERY`].
pub struct Progress {
    line: PeriodicLine,
    total: usize,
    done: AtomicUsize,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar when stderr is a terminal, `line` in logs otherwise.
    pub fn start(line: PeriodicLine, total: usize, label: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
                .expect("the template is valid")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_owned());
            bar
        });
        Progress { line, total, done: AtomicUsize::new(0), started: Instant::now(), bar }
    }

    pub fn entity_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                if let Some(line) = self.line.line_at(done, self.total, self.elapsed_seconds()) {
                    tracing::info!("{line}");
                }
            }
        }
    }

    pub fn elapsed_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_season_skips_are_said_as_each_reference_said_them() {
        let date = NaiveDate::from_ymd_opt(2024, 10, 25).expect("a valid date");
        assert_eq!(EarlySeason::Runs.skip_line(date, 2024), None);
        assert!(!EarlySeason::Runs.skips() && EarlySeason::Detected.skips());
        assert_eq!(
            EarlySeason::SkippingPeriod.skip_line(date, 2024).as_deref(),
            Some(
                "⏭️  Skipping 2024-10-25: early season period (day 0-13 of season 2024). Regular processing \
                 starts day 14."
            )
        );
        assert_eq!(
            EarlySeason::Detected.skip_line(date, 2024).as_deref(),
            Some(
                "Early season detected for 2024-10-25 (season 2024): within first 14 days of regular season"
            )
        );
    }

    #[test]
    fn start_lines_match_the_reference() {
        assert_eq!(
            processing_start_line(EntityNoun::Players, 369, Some(10)),
            "Processing 369 players with 10 workers (parallel mode)"
        );
        assert_eq!(
            processing_start_line(EntityNoun::Records, 241, Some(10)),
            "Processing 241 player-game records with 10 workers (parallel mode)"
        );
        assert_eq!(
            SerialLines::ProcessingPlayerPercent.start_line(EntityNoun::Players, 369),
            "Processing 369 players (serial mode)"
        );
        assert_eq!(
            SerialLines::Processing.start_line(EntityNoun::Records, 241),
            "Processing 241 player-game records (serial mode)"
        );
        assert_eq!(
            SerialLines::CalculatingFeatures.start_line(EntityNoun::Players, 389),
            "Calculating features for 389 players (serial mode)"
        );
    }

    #[test]
    fn progress_lines_match_the_reference() {
        // 50 players in 0.0805 s: 621.1 players/s, 319 left → 0.0086 min.
        assert_eq!(
            progress_line(EntityNoun::Players, 50, 369, 0.0805),
            "Player processing progress: 50/369 | Rate: 621.1 players/sec | ETA: 0.0min"
        );
        assert_eq!(
            progress_line(EntityNoun::Records, 100, 200, 10.0),
            "Player-game processing progress: 100/200 | Rate: 10.0 records/sec | ETA: 0.2min"
        );
        // 100 × 50 / 369 = 13.55…%.
        assert_eq!(processing_player_line(50, 369), "Processing player 50/369 (13.6%)");
        assert_eq!(processing_player_line(369, 369), "Processing player 369/369 (100.0%)");
        assert_eq!(processed_players_line(50, 389), "Processed 50/389 players");
    }

    #[test]
    fn serial_pcf_reports_every_fiftieth_player_and_the_last() {
        let due: Vec<usize> =
            (1..=120).filter(|&done| PeriodicLine::PlayerPercent.line_at(done, 120, 1.0).is_some()).collect();
        assert_eq!(due, [50, 100, 120]);
        let due: Vec<usize> = (1..=120)
            .filter(|&done| PeriodicLine::Rate(EntityNoun::Players).line_at(done, 120, 1.0).is_some())
            .collect();
        assert_eq!(due, [50, 100]);
        assert_eq!(
            PeriodicLine::ProcessedPlayers.line_at(100, 120, 1.0).as_deref(),
            Some("Processed 100/120 players")
        );
        assert_eq!(PeriodicLine::ProcessedPlayers.line_at(120, 120, 1.0), None);
    }

    #[test]
    fn completion_lines_match_the_reference() {
        assert_eq!(
            completion_line(EntityNoun::Players, 369, 0, 0.5),
            "Completed 369 players in 0.5s (avg 0.00s/player) | 0 failed"
        );
        assert_eq!(
            completion_line(EntityNoun::Records, 241, 0, 0.06),
            "Completed 241 records in 0.1s (avg 0.00s/record)"
        );
        assert_eq!(
            completion_line(EntityNoun::Players, 0, 3, 0.2),
            "Completed 0 players in 0.2s (avg 0.00s/player) | 3 failed"
        );
    }

    #[test]
    fn dependency_check_lines_match_the_reference() {
        let table = "nba_precompute.player_daily_cache";
        assert_eq!(checking_dependency_line(table), "Checking dependency: nba_precompute.player_daily_cache");
        assert_eq!(
            missing_dependency_line("nba_raw.bdl_player_boxscores", true),
            "Missing critical dependency: nba_raw.bdl_player_boxscores"
        );
        assert_eq!(
            missing_dependency_line("nba_raw.odds_api_player_points_props", false),
            "Missing optional dependency: nba_raw.odds_api_player_points_props"
        );
        assert_eq!(
            stale_dependency_line(table, 3.46, 2),
            "Stale dependency: nba_precompute.player_daily_cache: 3.5h old (max: 2h)"
        );
        assert_eq!(
            stale_phase4_data_line(&[table.to_owned(), "nba_precompute.player_composite_factors".to_owned()]),
            "Stale Phase 4 data detected: ['nba_precompute.player_daily_cache', \
             'nba_precompute.player_composite_factors']"
        );
        assert_eq!(stale_phase4_data_line(&[]), "Stale Phase 4 data detected: []");
        assert_eq!(
            dependency_check_complete_line(true, false),
            "Dependency check complete: critical_present=True, fresh=False"
        );
        assert_eq!(
            backfill_skips_dependency_checks_line(),
            "⏭️  BACKFILL MODE: Skipping dependency BQ checks (pre-flight already verified)"
        );
    }

    #[test]
    fn source_tracking_lines_match_the_reference() {
        let upstream = UpstreamCheck {
            dependency_check_passed: true,
            data_completeness_pct: 100.0,
            upstream_data_age_hours: Some(3.25),
        };
        assert_eq!(
            source_tracking_complete_line(Phase::Precompute, &upstream, 4),
            "Source tracking complete: completeness=100.0%, max_age=3.25h"
        );
        let unaged = UpstreamCheck { data_completeness_pct: 87.5, upstream_data_age_hours: None, ..upstream };
        assert_eq!(
            source_tracking_complete_line(Phase::Precompute, &unaged, 4),
            "Source tracking complete: completeness=87.5%, max_age=Noneh"
        );
        assert_eq!(
            source_tracking_complete_line(Phase::Analytics, &upstream, 3),
            "Source tracking complete: 3 sources tracked"
        );
    }

    #[test]
    fn failures_break_down_by_category_in_the_order_they_first_failed() {
        let failure = |player: &str, category| EntityFailure::new(player, category, "reason");
        assert!(failure_breakdown_lines(&[]).is_empty());
        let skips = [
            failure("amy", FailureCategory::CircuitBreakerActive),
            failure("bob", FailureCategory::MissingData),
            failure("cal", FailureCategory::CircuitBreakerActive),
        ];
        assert_eq!(
            failure_breakdown_lines(&skips),
            [
                (false, "📊 Failure breakdown (3 total):".to_owned()),
                (false, "   CIRCUIT_BREAKER_ACTIVE: 2 (expected - data quality)".to_owned()),
                (false, "   MISSING_DATA: 1 (expected - data quality)".to_owned()),
                (false, "✅ No errors to investigate - all 3 skips are expected (data quality)".to_owned()),
            ]
        );
        let with_a_bug = [
            failure("amy", FailureCategory::IncompleteDataSkipped),
            failure("bob", FailureCategory::ProcessingError),
        ];
        assert_eq!(
            failure_breakdown_lines(&with_a_bug),
            [
                (false, "📊 Failure breakdown (2 total):".to_owned()),
                (false, "   INCOMPLETE_DATA_SKIPPED: 1 (expected - data quality)".to_owned()),
                (true, "   PROCESSING_ERROR: 1 ⚠️ INVESTIGATE".to_owned()),
            ]
        );
    }

    #[test]
    fn downstream_trigger_lines_name_the_next_phase_and_the_output_table() {
        assert_eq!(
            downstream_trigger_skipped_line(Phase::Analytics, "player_game_summary"),
            "⏸️  Skipping downstream trigger (backfill mode) - Phase 4 will not be auto-triggered for \
             player_game_summary"
        );
        assert_eq!(
            downstream_trigger_skipped_line(Phase::Precompute, "player_composite_factors"),
            "⏸️  Skipping downstream trigger (backfill mode) - Phase 5 will not be auto-triggered for \
             player_composite_factors"
        );
    }

    #[test]
    fn closing_lines_match_the_reference() {
        assert_eq!(
            closing_lines(ClosingLines::SuccessfullyProcessed, 367, 2, &[]),
            [
                (false, "Successfully processed 367 players".to_owned()),
                (true, "Failed to process 2 players".to_owned())
            ]
        );
        assert_eq!(
            closing_lines(ClosingLines::SuccessfullyProcessed, 369, 0, &[]),
            [(false, "Successfully processed 369 players".to_owned())]
        );
        // 385 / 389 = 98.97…%.
        assert_eq!(
            closing_lines(ClosingLines::FeatureGenerationComplete, 385, 4, &[]),
            [(false, "Feature generation complete: 385 success, 4 failed (99.0% success rate)".to_owned())]
        );
        assert_eq!(
            feature_generation_complete_line(0, 0),
            "Feature generation complete: 0 success, 0 failed (0.0% success rate)"
        );
        // PGS: 241 records written and 3 player lines without a registry id among the failures.
        let pgs = ClosingLines::ProcessedRecords { skipped_stat: "registry_records_skipped" };
        let stats = [("registry_players_found", json!(238)), ("registry_records_skipped", json!(3))];
        assert_eq!(
            closing_lines(pgs, 241, 4, &stats),
            [
                (false, "✅ Processed 241 records".to_owned()),
                (true, "⚠️ Skipped 3 (no registry match)".to_owned())
            ]
        );
        let none_skipped = [("registry_records_skipped", json!(0))];
        assert_eq!(
            closing_lines(pgs, 241, 0, &none_skipped),
            [(false, "✅ Processed 241 records".to_owned())]
        );
    }

    fn timestamp(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn precompute_stats_line_matches_the_reference() {
        let processor_fields =
            [("early_season", json!(false)), ("calculation_version", json!("v1_4factors"))];
        let stats = DateStats {
            run_id: "3f2a9c1e",
            processor: "PlayerCompositeFactorsProcessor",
            date: NaiveDate::from_ymd_opt(2025, 1, 15).unwrap(),
            timestamp_utc: timestamp("2025-01-16T06:30:05.123456Z"),
            total_runtime: 0.523,
            upstream: Some(UpstreamCheck {
                dependency_check_passed: true,
                data_completeness_pct: 100.0,
                upstream_data_age_hours: Some(5.25),
            }),
            succeeded: 367,
            failed: 2,
            processor_fields: &processor_fields,
        };
        assert_eq!(
            stats_line(Phase::Precompute, &stats),
            "PRECOMPUTE_STATS {\"run_id\": \"3f2a9c1e\", \"processor\": \"PlayerCompositeFactorsProcessor\", \
             \"timestamp_utc\": \"2025-01-16T06:30:05.123456+00:00\", \"total_runtime\": 0.523, \
             \"dependency_check_passed\": true, \"data_completeness_pct\": 100.0, \
             \"upstream_data_age_hours\": 5.25, \"players_processed\": 367, \"players_failed\": 2, \
             \"early_season\": false, \"calculation_version\": \"v1_4factors\", \"date\": \"2025-01-15\"}"
        );
        let unchecked = DateStats { upstream: None, processor_fields: &[], ..stats };
        assert!(stats_line(Phase::Precompute, &unchecked).contains(
            "\"dependency_check_passed\": null, \"data_completeness_pct\": null, \"upstream_data_age_hours\": null"
        ));
    }

    #[test]
    fn analytics_stats_line_has_no_upstream_fields_and_counts_records() {
        let processor_fields =
            [("registry_players_found", json!(240)), ("source_odds_completeness", json!(null))];
        let stats = DateStats {
            run_id: "3f2a9c1e",
            processor: "PlayerGameSummaryProcessor",
            date: NaiveDate::from_ymd_opt(2025, 1, 15).unwrap(),
            timestamp_utc: timestamp("2025-01-16T06:30:05Z"),
            total_runtime: 2.0,
            upstream: None,
            succeeded: 241,
            failed: 1,
            processor_fields: &processor_fields,
        };
        assert_eq!(
            stats_line(Phase::Analytics, &stats),
            "ANALYTICS_STATS {\"run_id\": \"3f2a9c1e\", \"processor\": \"PlayerGameSummaryProcessor\", \
             \"timestamp_utc\": \"2025-01-16T06:30:05+00:00\", \"total_runtime\": 2.0, \
             \"records_processed\": 241, \"registry_players_found\": 240, \
             \"source_odds_completeness\": null, \"date\": \"2025-01-15\"}"
        );
    }

    #[test]
    fn floats_are_written_as_python_writes_them() {
        assert_eq!(python_float_repr(100.0), "100.0");
        assert_eq!(python_float_repr(0.0), "0.0");
        assert_eq!(python_float_repr(0.0001), "0.0001");
        assert_eq!(python_float_repr(0.000015), "1.5e-05");
        assert_eq!(python_float_repr(1e15), "1000000000000000.0");
        assert_eq!(python_float_repr(1e16), "1e+16");
        assert_eq!(python_float_repr(-2.5e-7), "-2.5e-07");
        assert_eq!(python_json_object(&[("values", json!([1.5, 2]))]), "{\"values\": [1.5, 2]}");
    }

    #[test]
    fn completeness_check_lines_use_python_booleans() {
        assert_eq!(checking_completeness_line(421), "Checking completeness for 421 players...");
        assert_eq!(
            completeness_check_complete_line(true, false),
            "Completeness check complete. Bootstrap mode: True, Season boundary: False"
        );
    }

    #[test]
    fn step_lines_name_the_phase_and_round_seconds_to_tenths() {
        assert_eq!(
            step_line(Phase::Analytics, Step::Start),
            "ANALYTICS_STEP Analytics processor run starting"
        );
        assert_eq!(
            step_line(Phase::Precompute, Step::Start),
            "PRECOMPUTE_STEP Precompute processor run starting"
        );
        assert_eq!(
            step_line(Phase::Analytics, Step::DependenciesValidated { seconds: 0.26 }),
            "ANALYTICS_STEP Dependencies validated in 0.3s"
        );
        assert_eq!(
            step_line(Phase::Precompute, Step::DataExtracted { seconds: 0.031 }),
            "PRECOMPUTE_STEP Data extracted in 0.0s"
        );
        assert_eq!(
            step_line(Phase::Precompute, Step::Completed { seconds: 12.96 }),
            "PRECOMPUTE_STEP Precompute processor completed in 13.0s"
        );
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    #[test]
    fn save_lines_say_what_the_save_replaces_and_then_what_it_did() {
        use crate::schema::precompute::PLAYER_COMPOSITE_FACTORS;
        use crate::schema::predictions::ML_FEATURE_STORE_V2;
        assert_eq!(
            SaveLines::BatchInsert.before_save(&PLAYER_COMPOSITE_FACTORS, &[day("2025-04-11")], 421),
            [
                "Deleting existing data for 2025-04-11",
                "Inserting 421 rows to nba_precompute.player_composite_factors using batch INSERT",
            ]
        );
        assert_eq!(
            SaveLines::BatchInsert.after_save(389, 421),
            ["✅ Deleted 389 existing rows", "✅ Successfully loaded 421 rows"]
        );
        assert_eq!(
            SaveLines::FeatureRecords.before_save(&ML_FEATURE_STORE_V2, &[day("2025-04-11")], 418),
            [
                "Writing 418 feature records to nba_predictions.ml_feature_store_v2",
                "Deleting existing records for 2025-04-11",
            ]
        );
        assert_eq!(
            SaveLines::FeatureRecords.after_save(421, 418),
            ["✅ Deleted 421 existing rows", "Write complete: 418/418 rows (100.0% success)"]
        );
        assert_eq!(SaveLines::FeatureRecords.after_save(0, 0)[1], "Write complete: 0/0 rows (0.0% success)");
    }

    #[test]
    fn a_chunks_dates_read_as_a_range_counted_when_days_are_skipped() {
        let consecutive = [day("2025-01-17"), day("2025-01-15"), day("2025-01-16")];
        assert_eq!(dates_text(&consecutive), "2025-01-15 to 2025-01-17");
        let game_days = [day("2025-01-15"), day("2025-01-17"), day("2025-01-20")];
        assert_eq!(dates_text(&game_days), "2025-01-15 to 2025-01-20, 3 dates");
        assert_eq!(dates_text(&[]), "no dates");
        assert_eq!(extracting_line(&[day("2025-01-15")]), "Extracting data for 2025-01-15");
        assert_eq!(extracting_line(&game_days), "Extracting data for 2025-01-15 to 2025-01-20, 3 dates");
    }
}
