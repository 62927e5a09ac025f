//! The contract between the framework and a processor.

use std::fmt;

use smol_str::SmolStr;

/// Why one entity produced no row (README §4 item 3). The names are the reference's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureCategory {
    MissingData,
    CircuitBreakerActive,
    IncompleteDataSkipped,
    UpstreamIncomplete,
    ProcessingError,
}

impl FailureCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCategory::MissingData => "MISSING_DATA",
            FailureCategory::CircuitBreakerActive => "CIRCUIT_BREAKER_ACTIVE",
            FailureCategory::IncompleteDataSkipped => "INCOMPLETE_DATA_SKIPPED",
            FailureCategory::UpstreamIncomplete => "UPSTREAM_INCOMPLETE",
            FailureCategory::ProcessingError => "PROCESSING_ERROR",
        }
    }

    /// Whether the data explains the failure: a skip that a rerun on new data may turn into a
    /// row, logged as a warning and counted "expected - data quality" in the failure breakdown.
    /// Only `PROCESSING_ERROR` is not: a bug, logged as an error and flagged to investigate.
    pub fn explained_by_data(self) -> bool {
        self != FailureCategory::ProcessingError
    }

    /// Whether the processor's own gates held the entity back on data that is there but not
    /// good enough yet: its circuit breaker, its completeness and upstream-readiness checks.
    /// A date whose every entity was held back is skipped, not failed (see the runner), since a
    /// retry on the same data cannot succeed and would only count more reprocess attempts.
    /// Missing data and errors are not such gates: a date of only those still fails.
    pub fn holds_back(self) -> bool {
        matches!(
            self,
            FailureCategory::CircuitBreakerActive
                | FailureCategory::IncompleteDataSkipped
                | FailureCategory::UpstreamIncomplete
        )
    }
}

impl fmt::Display for FailureCategory {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One entity that produced no row, with the reason written to the failures table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityFailure {
    /// The entity's id, e.g. the `player_lookup` (PGS: `game_id/player_lookup`).
    pub entity_id: String,
    pub category: FailureCategory,
    pub reason: String,
    /// Whether rerunning later may succeed (upstream data may still arrive).
    pub can_retry: bool,
    /// The reference's own line for this failure, where it had one (`jadenbell: Completeness
    /// 0.0% (0/10 games) - skipping`), which the runner logs instead of its generic line.
    pub log_line: Option<String>,
}

impl EntityFailure {
    pub fn new(entity_id: impl Into<String>, category: FailureCategory, reason: impl Into<String>) -> Self {
        let can_retry = category.explained_by_data();
        EntityFailure {
            entity_id: entity_id.into(),
            category,
            reason: reason.into(),
            can_retry,
            log_line: None,
        }
    }

    /// The failure, logged as the reference's `line` instead of the runner's generic line.
    pub fn logged_as(self, line: String) -> Self {
        EntityFailure { log_line: Some(line), ..self }
    }
}

/// What a per-entity computation may know about its run, passed in so that it stays pure (no
/// clock, no environment, no I/O inside `process_entity`).
#[derive(Clone, Debug, PartialEq)]
pub struct RunContext {
    /// The date processed: `game_date` for PGS, `analysis_date` (= `game_date`) for PCF and MLFS.
    pub date: chrono::NaiveDate,
    /// The run's id, written to failure rows and run history.
    pub run_id: String,
    /// Historical mode (`--backfill`): no freshness checks, relaxed completeness gates.
    pub backfill: bool,
    /// One timestamp per run, written to `created_at` / `processed_at` of every row.
    pub processed_at: chrono::DateTime<chrono::Utc>,
}

/// How much of one upstream source a date found: the reference's `source_<prefix>_*` columns
/// (reference-framework.md §3.3). A source that was not found has every field `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceUsage {
    pub last_updated: Option<chrono::DateTime<chrono::Utc>>,
    pub rows_found: Option<i64>,
    /// `min(rows / expected × 100, 100)`, rounded to 2 decimals.
    pub completeness_pct: Option<f64>,
    /// The `data_hash` of the most recently processed upstream row of the date that has one,
    /// which every output row of the date copies.
    pub hash: Option<SmolStr>,
}

impl SourceUsage {
    /// Usage of a source from the rows read for the date: the row count (duplicates included,
    /// as the references' `COUNT(*)`), the newest `processed_at`, and the `data_hash` of the
    /// most recently processed row that has one (the references' `data_hash IS NOT NULL ORDER
    /// BY processed_at DESC LIMIT 1`, reference-pcf.md §2.6, reference-mlfs.md §2.3).
    /// `stamp_of` gives a row's `processed_at` and `data_hash`.
    pub fn of_rows<Row>(
        rows: &[Row],
        expected_rows: i64,
        stamp_of: impl Fn(&Row) -> (Option<chrono::DateTime<chrono::Utc>>, Option<&str>),
    ) -> SourceUsage {
        let last_updated = rows.iter().filter_map(|row| stamp_of(row).0).max();
        let newest_hash = rows
            .iter()
            .filter_map(|row| {
                let (processed_at, hash) = stamp_of(row);
                hash.map(|hash| (processed_at, hash))
            })
            .max_by_key(|(processed_at, _)| *processed_at)
            .map(|(_, hash)| SmolStr::new(hash));
        let rows_found = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        SourceUsage::found(rows_found, expected_rows, last_updated, newest_hash)
    }

    /// Usage of a source that returned `rows_found` rows where `expected_rows` were expected
    /// (the dependency's `expected_count_min`); `None` when no row was found.
    pub fn found(
        rows_found: i64,
        expected_rows: i64,
        last_updated: Option<chrono::DateTime<chrono::Utc>>,
        hash: Option<SmolStr>,
    ) -> Self {
        if rows_found <= 0 {
            return SourceUsage::default();
        }
        SourceUsage {
            last_updated,
            rows_found: Some(rows_found),
            completeness_pct: Some(crate::rounding::round_half_even(
                completeness_pct(rows_found, expected_rows),
                2,
            )),
            hash,
        }
    }
}

/// `min(rows / expected × 100, 100)`, unrounded: a source's completeness (reference-framework.md
/// §3.3), also averaged into the stats line's `data_completeness_pct`.
pub fn completeness_pct(rows_found: i64, expected_rows: i64) -> f64 {
    (rows_found as f64 / expected_rows.max(1) as f64 * 100.0).min(100.0)
}

/// Which half of the pipeline a processor belongs to; decides its log words, stats-line prefix,
/// failures table and run-history `phase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Phase 3 (PGS): counts player-game records, writes `nba_processing.analytics_failures`.
    Analytics,
    /// Phase 4 (PCF, MLFS): counts players, writes `nba_processing.precompute_failures`.
    Precompute,
}

impl Phase {
    pub fn run_history_name(self) -> &'static str {
        match self {
            Phase::Analytics => "phase_3_analytics",
            Phase::Precompute => "phase_4_precompute",
        }
    }

    pub fn stats_prefix(self) -> &'static str {
        match self {
            Phase::Analytics => "ANALYTICS_STATS",
            Phase::Precompute => "PRECOMPUTE_STATS",
        }
    }

    pub fn entity_noun(self) -> crate::progress::EntityNoun {
        match self {
            Phase::Analytics => crate::progress::EntityNoun::Records,
            Phase::Precompute => crate::progress::EntityNoun::Players,
        }
    }

    pub fn failures_table(self) -> &'static crate::schema::Table {
        match self {
            Phase::Analytics => &crate::schema::processing::ANALYTICS_FAILURES,
            Phase::Precompute => &crate::schema::processing::PRECOMPUTE_FAILURES,
        }
    }
}

/// An upstream table a date needs (reference-framework.md §3.3, simplified to what the port
/// decisions keep: existence per date always, freshness only in live mode, README §4 item 5).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dependency {
    pub table: &'static crate::schema::Table,
    /// The column holding the processed date (`game_date`, `analysis_date`, `cache_date`).
    pub date_column: &'static str,
    /// Rows a live run expects (`expected_count_min`); a backfill needs one.
    pub expected_rows: i64,
    /// A missing critical dependency fails the date; a missing optional one is only reported.
    pub critical: bool,
    /// Live mode reports the dependency as stale, without failing the date, when its newest
    /// `processed_at` is older than this at the run's start or, for an earlier date, at the
    /// date's end.
    pub max_age_hours: i64,
}

/// A processor's own fields of a stats line, in order: the reference wrote a Python dict.
pub type StatsFields = Vec<(&'static str, serde_json::Value)>;

/// The static description of a processor.
#[derive(Debug)]
pub struct ProcessorInfo {
    /// The reference's class name, used in run history and failures (`PlayerCompositeFactorsProcessor`).
    pub name: &'static str,
    /// The binary that runs it, for printed retry commands and `--version`.
    pub binary: &'static str,
    /// What build this is: `--version` prints it and run history records it, so a date written
    /// by stale code can be told from one written by the deployed code (reference-framework.md
    /// §16, "deployment drift").
    pub build: Build,
    pub phase: Phase,
    pub output: &'static crate::schema::Table,
    /// The processor's own worker variable in the chain of README §3.2 (`PCF_WORKERS`).
    pub workers_variable: &'static str,
    /// PCF and MLFS skip the first 14 days of a season (README §4 item 6), each saying so in
    /// its reference's words; PGS does not.
    pub early_season: crate::progress::EarlySeason,
    /// The processor's own serial start and progress lines (`progress.rs`).
    pub serial_lines: crate::progress::SerialLines,
    /// What the processor logs after the completion line (`progress.rs`).
    pub closing_lines: crate::progress::ClosingLines,
    /// What the processor logs around a save (`progress.rs`).
    pub save_lines: crate::progress::SaveLines,
    /// What the processor adds to a live dependency check's lines (`progress.rs`).
    pub dependency_lines: crate::progress::DependencyLines,
    pub dependencies: &'static [Dependency],
}

/// A processor crate's version and the commit it was built from, when the build said (the
/// image build passes `BUILD_COMMIT`, deploy/README.md). Made by [`build!`](crate::build) in the
/// processor's crate, so the version is that crate's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Build {
    pub version: &'static str,
    pub commit: Option<&'static str>,
}

/// The calling crate's [`Build`]: its Cargo version and the `BUILD_COMMIT` of the compiling
/// environment (cargo rebuilds the crate when that variable changes).
#[macro_export]
macro_rules! build {
    () => {
        $crate::processor::Build { version: env!("CARGO_PKG_VERSION"), commit: option_env!("BUILD_COMMIT") }
    };
}

/// `0.1.0`, or `0.1.0 (commit 1f23574)` from a build that named its commit.
impl fmt::Display for Build {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.version)?;
        match self.commit.map(str::trim).filter(|commit| !commit.is_empty()) {
            Some(commit) => write!(formatter, " (commit {commit})"),
            None => Ok(()),
        }
    }
}

impl ProcessorInfo {
    /// Whether the processor skips `date` as too early in its season.
    pub fn skips_as_early_season(&self, schedule: &crate::dates::Schedule, date: chrono::NaiveDate) -> bool {
        self.early_season.skips() && schedule.is_early_season(date)
    }
}

/// Rows a processor writes besides its output, e.g. PGS's unresolved player names.
#[derive(Debug)]
pub struct SideWrite {
    pub table: &'static crate::schema::Table,
    pub scope: crate::warehouse::ReplaceScope,
    pub rows: Vec<Vec<crate::value::Value>>,
    /// For a `Keys` upsert: how the rows of one key combine, starting from the stored row, in
    /// date order. Without it a date's row replaces the key's stored row.
    pub combine: Option<CombineRows>,
}

/// The row written for a key from an `earlier` row (the stored one, or a combination so far)
/// and a `later` date's row, all in the table's column order: for rows that gather what several
/// runs saw, and hold fields people edit, which a replacing upsert would wipe.
pub type CombineRows =
    fn(earlier: Vec<crate::value::Value>, later: Vec<crate::value::Value>) -> Vec<crate::value::Value>;

/// A processor: bulk extraction, a pure per-entity computation, and what it writes.
///
/// The runner owns the lifecycle (preflight, early-season and unchanged-input skips, dispatch,
/// atomic keyed save, run history); a processor only says what to read and how to compute.
#[async_trait::async_trait]
pub trait Processor: Send + Sync + 'static {
    /// Everything one date needs, built from bulk reads.
    type DateInputs: Send + Sync;
    /// One unit of work (a player, a player-game).
    type Entity: Send + Sync;
    type Row: crate::value::TableRow;

    fn info(&self) -> &'static ProcessorInfo;

    /// Reads the inputs of every date of `dates` in a constant number of queries. The schedule
    /// (read once per run) gives season starts and scheduled games; for the first chunk it is
    /// still being read while the extraction starts, so wait for it only where it is needed.
    ///
    /// # Errors
    /// A query fails or returns rows the processor cannot use at all.
    async fn extract(
        &self,
        reader: &crate::reader::InputReader<'_>,
        dates: &[chrono::NaiveDate],
        schedule: &crate::dates::RunSchedule,
    ) -> Result<std::collections::BTreeMap<chrono::NaiveDate, Self::DateInputs>, crate::reader::ExtractError>;

    fn entities(&self, inputs: &Self::DateInputs) -> Vec<Self::Entity>;

    /// Names an entity in a failure row (e.g. its `player_lookup`).
    fn entity_id(&self, entity: &Self::Entity) -> String;

    /// The pure computation: no I/O, no clock, no environment.
    ///
    /// # Errors
    /// The entity cannot produce a row; the failure says why.
    fn process_entity(
        &self,
        entity: &Self::Entity,
        inputs: &Self::DateInputs,
        context: &RunContext,
    ) -> Result<Self::Row, EntityFailure>;

    /// Pushes the outcomes of a batch of consecutive entities of one date (at most
    /// [`dispatch::BATCH`](crate::dispatch::BATCH)) to `outcomes`, one per entity in their
    /// order: what the dispatcher calls. By default each entity's
    /// [`process_entity`](Processor::process_entity); a processor overrides it to do together
    /// what each row would do alone, with the same outcomes (PCF and MLFS hash the batch's rows
    /// together).
    fn process_batch(
        &self,
        entities: &[Self::Entity],
        inputs: &Self::DateInputs,
        context: &RunContext,
        outcomes: &mut crate::dispatch::Dispatched<Self::Row>,
    ) {
        for entity in entities {
            outcomes.push(self.process_entity(entity, inputs, context));
        }
    }

    /// Failures that belong to the date rather than an entity (e.g. a scheduled game with no box
    /// score at all).
    fn date_failures(&self, _inputs: &Self::DateInputs, _context: &RunContext) -> Vec<EntityFailure> {
        Vec::new()
    }

    /// Extra rows to write with the date's output: in the same write as its chunk's rows (one
    /// transaction on the embedded warehouse, right after the output's MERGE on BigQuery).
    fn side_writes(&self, _inputs: &Self::DateInputs, _context: &RunContext) -> Vec<SideWrite> {
        Vec::new()
    }

    /// The reprocess attempts the date's `failures` record (reference-framework.md §5): MLFS
    /// records one per player skipped for incomplete data
    /// ([`crate::circuit_breaker::ReprocessAttempt::after`]). The runner writes them to
    /// `nba_orchestration.reprocess_attempts` with the run's bookkeeping, so a date that failed
    /// as a whole records its skips too.
    fn reprocess_attempts(
        &self,
        _inputs: &Self::DateInputs,
        _context: &RunContext,
        _failures: &[EntityFailure],
    ) -> Vec<crate::circuit_breaker::ReprocessAttempt> {
        Vec::new()
    }

    /// The lines the reference logged about a date's inputs before its entities (PCF's
    /// `Extracted 450 player context records`, …); the runner logs them before the dispatch.
    fn date_notes(&self, _inputs: &Self::DateInputs, _context: &RunContext) -> Vec<String> {
        Vec::new()
    }

    /// The lines the reference logged for an entity it still processed, each with whether it is
    /// a warning (PCF's `<player>: Completeness 40.0% (4/10 games) - processing with reduced
    /// quality`, MLFS's `<player>: Feature 5 (fatigue_score) missing from Phase 4, using
    /// default=50.0`), made from its row and the date's inputs; the runner logs them after the
    /// date's dispatch.
    fn row_notes(&self, _row: &Self::Row, _inputs: &Self::DateInputs) -> Vec<(bool, String)> {
        Vec::new()
    }

    /// Processor-specific fields of the date's stats line, after the counts, in the reference's
    /// order ([`crate::progress::stats_line`]); run history keeps them in its `summary`.
    fn stats(&self, _inputs: &Self::DateInputs) -> StatsFields {
        StatsFields::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_prints_its_version_and_the_commit_it_named() {
        let build = |commit| Build { version: "0.1.0", commit };
        assert_eq!(build(None).to_string(), "0.1.0");
        assert_eq!(build(Some("1f23574")).to_string(), "0.1.0 (commit 1f23574)");
        assert_eq!(build(Some(" 1f23574\n")).to_string(), "0.1.0 (commit 1f23574)");
        // `--build-arg BUILD_COMMIT=` with nothing after it.
        assert_eq!(build(Some("")).to_string(), "0.1.0");
    }

    #[test]
    fn build_takes_the_calling_crates_version() {
        assert_eq!(crate::build!().version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn source_usage_caps_completeness_at_one_hundred() {
        let usage = SourceUsage::found(450, 100, None, Some("abc".into()));
        assert_eq!(usage.completeness_pct, Some(100.0));
        assert_eq!(usage.rows_found, Some(450));
        assert_eq!(SourceUsage::found(37, 200, None, None).completeness_pct, Some(18.5));
        assert_eq!(SourceUsage::found(0, 200, None, None), SourceUsage::default());
    }

    #[test]
    fn processing_errors_are_not_retried() {
        assert!(!EntityFailure::new("x", FailureCategory::ProcessingError, "panic").can_retry);
        assert!(EntityFailure::new("x", FailureCategory::MissingData, "no context").can_retry);
        assert_eq!(FailureCategory::UpstreamIncomplete.to_string(), "UPSTREAM_INCOMPLETE");
    }
}
