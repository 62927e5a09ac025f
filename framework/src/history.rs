//! Run history and failure rows, buffered and written once per run (README §4 item 4).
//!
//! The reference streamed two run-history rows per run and one row per failure, which exhausted
//! BigQuery's 1,500 load jobs per table per day; skipped runs left no trace at all
//! (reference-framework.md §14 item 6). Here every date of a run, skipped ones included, gets one
//! row, and the run writes all of them in one append, its failures in one more, and the
//! reprocess attempts its skips record in one upsert.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::circuit_breaker::ReprocessAttempt;
use crate::config::Settings;
use crate::processor::{EntityFailure, ProcessorInfo};
use crate::schema::Table;
use crate::schema::orchestration::REPROCESS_ATTEMPTS;
use crate::schema::reference::PROCESSOR_RUN_HISTORY;
use crate::value::{ToValue, Value};
use crate::warehouse::{ReplaceScope, TableWrite};

/// The outcome of one date, as run history records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Success,
    Skipped { reason: String },
    Failed { error: String },
}

impl RunStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Success => "success",
            RunStatus::Skipped { .. } => "skipped",
            RunStatus::Failed { .. } => "failed",
        }
    }
}

/// The `summary` key of the build that wrote the row (`0.1.0 (commit 1f23574)`): the history
/// table has no version column (the reference's per-run tables had a `processor_version` it
/// left empty, reference-framework.md §7.2).
pub const PROCESSOR_VERSION_KEY: &str = "processor_version";

/// One row of `nba_reference.processor_run_history`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub data_date: NaiveDate,
    pub status: RunStatus,
    /// The run's start, the same on every date of the run.
    pub started_at: DateTime<Utc>,
    /// When the date's outcome was settled (`processed_at`): its chunk's save, or its skip or
    /// failure. A date whose history row commits with its output is settled just before that
    /// commit.
    pub finished_at: DateTime<Utc>,
    /// The date's own time: its share of its chunk's extraction and save (a chunk reads and
    /// commits all its dates at once) and its computation. The dates of a run add up to the
    /// run's time spent on them.
    pub duration_seconds: f64,
    pub records_processed: i64,
    pub records_failed: i64,
    pub dependency_check_passed: Option<bool>,
    pub missing_dependencies: Vec<String>,
    /// Live mode: the upstream tables whose newest rows were too old (reported, not fatal).
    pub stale_dependencies: Vec<String>,
    /// Stats of the date, including `input_digests` (README §4 item 7; tables.md "Added").
    pub summary: serde_json::Value,
}

/// Collects a run's bookkeeping rows and writes them in one append per table.
#[derive(Clone)]
pub struct HistoryBuffer<'a> {
    info: &'static ProcessorInfo,
    run_id: String,
    settings: &'a Settings,
    backfill: bool,
    force: bool,
    runs: Vec<Vec<Value>>,
    failures: Vec<Vec<Value>>,
    reprocess_attempts: Vec<Vec<Value>>,
}

impl<'a> HistoryBuffer<'a> {
    pub fn new(
        info: &'static ProcessorInfo,
        run_id: &str,
        settings: &'a Settings,
        backfill: bool,
        force: bool,
    ) -> Self {
        HistoryBuffer {
            info,
            run_id: run_id.to_owned(),
            settings,
            backfill,
            force,
            runs: Vec::new(),
            failures: Vec::new(),
            reprocess_attempts: Vec::new(),
        }
    }

    pub fn record_run(&mut self, mut record: RunRecord) {
        if let serde_json::Value::Object(summary) = &mut record.summary {
            summary.insert(PROCESSOR_VERSION_KEY.to_owned(), self.info.build.to_string().into());
        }
        let (skip_reason, errors) = match &record.status {
            RunStatus::Success => (None, None),
            RunStatus::Skipped { reason } => (Some(reason.clone()), None),
            RunStatus::Failed { error } => (
                None,
                Some(json!([{ "error_type": "RunFailed", "error_message": error, "timestamp": record.started_at.to_rfc3339() }]).to_string()),
            ),
        };
        let output = self.info.output;
        self.runs.push(PROCESSOR_RUN_HISTORY.row(vec![
            ("processor_name", self.info.name.to_value()),
            ("run_id", self.run_id.to_value()),
            ("season_year", i64::from(crate::dates::season_year(record.data_date)).to_value()),
            ("status", record.status.as_str().to_value()),
            ("duration_seconds", record.duration_seconds.to_value()),
            ("records_processed", record.records_processed.to_value()),
            ("records_skipped", record.records_failed.to_value()),
            ("backfill_mode", self.backfill.to_value()),
            ("force_reprocess", self.force.to_value()),
            ("test_mode", false.to_value()),
            ("execution_host", self.settings.execution_host.to_value()),
            ("triggered_by", self.settings.triggered_by.to_value()),
            ("errors", errors.to_value()),
            ("summary", record.summary.to_string().to_value()),
            ("data_date", record.data_date.to_value()),
            ("started_at", record.started_at.to_value()),
            ("processed_at", record.finished_at.to_value()),
            ("phase", self.info.phase.run_history_name().to_value()),
            ("output_table", output.name.to_value()),
            // The dataset the rows went to, prefix included: where a reader of the history
            // would look for them.
            ("output_dataset", output.dataset.prefixed_name(&self.settings.dataset_prefix).to_value()),
            ("trigger_source", self.settings.triggered_by.to_value()),
            ("dependency_check_passed", record.dependency_check_passed.to_value()),
            (
                "missing_dependencies",
                serde_json::to_string(&record.missing_dependencies).expect("strings serialise").to_value(),
            ),
            (
                "stale_dependencies",
                serde_json::to_string(&record.stale_dependencies).expect("strings serialise").to_value(),
            ),
            ("cloud_run_service", self.settings.cloud_run_service.to_value()),
            ("cloud_run_revision", self.settings.cloud_run_revision.to_value()),
            ("skipped", matches!(record.status, RunStatus::Skipped { .. }).to_value()),
            ("skip_reason", skip_reason.to_value()),
        ]));
    }

    pub fn record_failures(
        &mut self,
        date: NaiveDate,
        failures: &[EntityFailure],
        created_at: DateTime<Utc>,
    ) {
        let table: &Table = self.info.phase.failures_table();
        for failure in failures {
            self.failures.push(table.row(vec![
                ("processor_name", self.info.name.to_value()),
                ("run_id", self.run_id.to_value()),
                ("analysis_date", date.to_value()),
                ("entity_id", failure.entity_id.to_value()),
                ("failure_category", failure.category.as_str().to_value()),
                ("failure_reason", failure.reason.to_value()),
                ("can_retry", failure.can_retry.to_value()),
                ("created_at", created_at.to_value()),
            ]));
        }
    }

    /// Buffers the reprocess attempts of `date`'s skipped entities, made at `attempted_at` (the
    /// run's timestamp, the reference's `CURRENT_TIMESTAMP()`). Their `processor_name` is the
    /// output table's name, as the references wrote and read it.
    pub fn record_reprocess_attempts(
        &mut self,
        date: NaiveDate,
        attempts: &[ReprocessAttempt],
        attempted_at: DateTime<Utc>,
    ) {
        for attempt in attempts {
            self.reprocess_attempts.push(REPROCESS_ATTEMPTS.row(vec![
                ("processor_name", self.info.output.name.to_value()),
                ("entity_id", attempt.entity_id.to_value()),
                ("analysis_date", date.to_value()),
                ("attempt_number", attempt.attempt_number.to_value()),
                ("attempted_at", attempted_at.to_value()),
                ("completeness_pct", attempt.completeness_pct.to_value()),
                ("skip_reason", attempt.skip_reason.to_value()),
                ("circuit_breaker_tripped", attempt.trips_the_breaker().to_value()),
                ("circuit_breaker_until", attempt.circuit_breaker_until.to_value()),
                ("manual_override_applied", false.to_value()),
                ("notes", attempt.notes().to_value()),
                ("created_at", attempted_at.to_value()),
            ]));
        }
    }

    /// The buffered rows as writes: one append for run history, one for failures, and the
    /// reprocess attempts as an upsert by their key, so that two runs numbering an entity's
    /// attempt alike leave one row, never a duplicate key.
    pub fn into_writes(self) -> [TableWrite; 3] {
        [
            TableWrite::append(&PROCESSOR_RUN_HISTORY, self.runs),
            TableWrite::append(self.info.phase.failures_table(), self.failures),
            TableWrite::replace(&REPROCESS_ATTEMPTS, ReplaceScope::Keys, self.reprocess_attempts, true),
        ]
    }
}

/// A run id: 8 hex characters, unique enough to tell runs of one date apart.
pub fn new_run_id() -> String {
    use sha2::{Digest as _, Sha256};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seed = format!(
        "{}:{}:{}",
        Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    Sha256::digest(seed.as_bytes())[..4].iter().map(|byte| format!("{byte:02x}")).collect()
}
