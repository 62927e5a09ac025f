//! The contract between the framework and a processor.

use std::fmt;

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
}

impl EntityFailure {
    pub fn new(entity_id: impl Into<String>, category: FailureCategory, reason: impl Into<String>) -> Self {
        let can_retry = !matches!(category, FailureCategory::ProcessingError);
        EntityFailure { entity_id: entity_id.into(), category, reason: reason.into(), can_retry }
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
    /// The `data_hash` of the most recently processed upstream row of the date.
    pub hash: Option<String>,
}

impl SourceUsage {
    /// Usage of a source that returned `rows_found` rows where `expected_rows` were expected
    /// (the dependency's `expected_count_min`); `None` when no row was found.
    pub fn found(
        rows_found: i64,
        expected_rows: i64,
        last_updated: Option<chrono::DateTime<chrono::Utc>>,
        hash: Option<String>,
    ) -> Self {
        if rows_found <= 0 {
            return SourceUsage::default();
        }
        let completeness = (rows_found as f64 / expected_rows.max(1) as f64 * 100.0).min(100.0);
        SourceUsage {
            last_updated,
            rows_found: Some(rows_found),
            completeness_pct: Some(crate::rounding::round_half_even(completeness, 2)),
            hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
