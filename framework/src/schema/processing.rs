//! Tables of the `nba_processing` dataset, transcribed from the specification's `tables.md`.

use super::{Column, ColumnType, Dataset, Table};

/// `nba_processing.analytics_processor_runs`.
pub const ANALYTICS_PROCESSOR_RUNS: Table = Table {
    dataset: Dataset::Processing,
    name: "analytics_processor_runs",
    partition: None,
    key: &[],
    columns: &[
        Column::new("processor_name", ColumnType::String, true),
        Column::new("run_id", ColumnType::String, true),
        Column::new("run_date", ColumnType::Timestamp, true),
        Column::new("success", ColumnType::Bool, false),
        Column::new("duration_seconds", ColumnType::Float64, false),
        Column::new("date_range_start", ColumnType::Date, false),
        Column::new("date_range_end", ColumnType::Date, false),
        Column::new("records_processed", ColumnType::Int64, false),
        Column::new("records_inserted", ColumnType::Int64, false),
        Column::new("records_updated", ColumnType::Int64, false),
        Column::new("records_skipped", ColumnType::Int64, false),
        Column::new("errors_json", ColumnType::String, false),
        Column::new("warning_count", ColumnType::Int64, false),
        Column::new("bytes_processed", ColumnType::Int64, false),
        Column::new("slot_ms", ColumnType::Int64, false),
        Column::new("source_files_count", ColumnType::Int64, false),
        Column::new("source_data_freshness_hours", ColumnType::Float64, false),
        Column::new("processor_version", ColumnType::String, false),
        Column::new("config_hash", ColumnType::String, false),
        Column::new("skip_reason", ColumnType::String, false),
        Column::new("created_at", ColumnType::Timestamp, false),
    ],
};

/// `nba_processing.analytics_data_issues`.
pub const ANALYTICS_DATA_ISSUES: Table = Table {
    dataset: Dataset::Processing,
    name: "analytics_data_issues",
    partition: None,
    key: &[],
    columns: &[
        Column::new("issue_id", ColumnType::String, true),
        Column::new("processor_name", ColumnType::String, true),
        Column::new("run_id", ColumnType::String, false),
        Column::new("issue_type", ColumnType::String, true),
        Column::new("severity", ColumnType::String, true),
        Column::new("category", ColumnType::String, false),
        Column::new("identifier", ColumnType::String, false),
        Column::new("table_name", ColumnType::String, false),
        Column::new("field_name", ColumnType::String, false),
        Column::new("issue_description", ColumnType::String, false),
        Column::new("expected_value", ColumnType::String, false),
        Column::new("actual_value", ColumnType::String, false),
        Column::new("game_date", ColumnType::Date, false),
        Column::new("season_year", ColumnType::Int64, false),
        Column::new("team_abbr", ColumnType::String, false),
        Column::new("player_lookup", ColumnType::String, false),
        Column::new("resolved", ColumnType::Bool, false),
        Column::new("resolution_notes", ColumnType::String, false),
        Column::new("auto_resolved", ColumnType::Bool, false),
        Column::new("created_at", ColumnType::Timestamp, false),
        Column::new("resolved_at", ColumnType::Timestamp, false),
    ],
};

/// `nba_processing.precompute_processor_runs`.
pub const PRECOMPUTE_PROCESSOR_RUNS: Table = Table {
    dataset: Dataset::Processing,
    name: "precompute_processor_runs",
    partition: None,
    key: &[],
    columns: &[
        Column::new("processor_name", ColumnType::String, true),
        Column::new("run_id", ColumnType::String, true),
        Column::new("run_date", ColumnType::Timestamp, true),
        Column::new("success", ColumnType::Bool, false),
        Column::new("duration_seconds", ColumnType::Float64, false),
        Column::new("analysis_date", ColumnType::Date, false),
        Column::new("records_processed", ColumnType::Int64, false),
        Column::new("records_inserted", ColumnType::Int64, false),
        Column::new("records_updated", ColumnType::Int64, false),
        Column::new("records_skipped", ColumnType::Int64, false),
        Column::new("dependency_check_passed", ColumnType::Bool, false),
        Column::new("data_completeness_pct", ColumnType::Float64, false),
        Column::new("upstream_data_age_hours", ColumnType::Float64, false),
        Column::new("errors_json", ColumnType::String, false),
        Column::new("warning_count", ColumnType::Int64, false),
        Column::new("bytes_processed", ColumnType::Int64, false),
        Column::new("slot_ms", ColumnType::Int64, false),
        Column::new("processor_version", ColumnType::String, false),
        Column::new("config_hash", ColumnType::String, false),
        Column::new("skip_reason", ColumnType::String, false),
        Column::new("created_at", ColumnType::Timestamp, false),
    ],
};

/// `nba_processing.analytics_source_freshness`.
pub const ANALYTICS_SOURCE_FRESHNESS: Table = Table {
    dataset: Dataset::Processing,
    name: "analytics_source_freshness",
    partition: None,
    key: &[],
    columns: &[
        Column::new("source_name", ColumnType::String, true),
        Column::new("source_type", ColumnType::String, true),
        Column::new("table_name", ColumnType::String, false),
        Column::new("data_date", ColumnType::Date, true),
        Column::new("expected_arrival_time", ColumnType::Timestamp, false),
        Column::new("actual_arrival_time", ColumnType::Timestamp, false),
        Column::new("processing_time", ColumnType::Timestamp, false),
        Column::new("record_count", ColumnType::Int64, false),
        Column::new("completeness_score", ColumnType::Float64, false),
        Column::new("quality_score", ColumnType::Float64, false),
        Column::new("arrival_delay_minutes", ColumnType::Int64, false),
        Column::new("processing_delay_minutes", ColumnType::Int64, false),
        Column::new("status", ColumnType::String, true),
        Column::new("issues_detected", ColumnType::Int64, false),
        Column::new("created_at", ColumnType::Timestamp, false),
        Column::new("updated_at", ColumnType::Timestamp, false),
    ],
};

/// `nba_processing.precompute_failures`.
pub const PRECOMPUTE_FAILURES: Table = Table {
    dataset: Dataset::Processing,
    name: "precompute_failures",
    partition: None,
    key: &[],
    columns: &[
        Column::new("processor_name", ColumnType::String, true),
        Column::new("run_id", ColumnType::String, true),
        Column::new("analysis_date", ColumnType::Date, true),
        Column::new("entity_id", ColumnType::String, true),
        Column::new("failure_category", ColumnType::String, true),
        Column::new("failure_reason", ColumnType::String, false),
        Column::new("can_retry", ColumnType::Bool, false),
        Column::new("created_at", ColumnType::Timestamp, true),
    ],
};

/// `nba_processing.analytics_failures`.
pub const ANALYTICS_FAILURES: Table = Table {
    dataset: Dataset::Processing,
    name: "analytics_failures",
    partition: None,
    key: &[],
    columns: &[
        Column::new("processor_name", ColumnType::String, true),
        Column::new("run_id", ColumnType::String, true),
        Column::new("analysis_date", ColumnType::Date, true),
        Column::new("entity_id", ColumnType::String, true),
        Column::new("failure_category", ColumnType::String, true),
        Column::new("failure_reason", ColumnType::String, false),
        Column::new("can_retry", ColumnType::Bool, false),
        Column::new("created_at", ColumnType::Timestamp, true),
    ],
};

/// `nba_processing.backfill_progress`.
pub const BACKFILL_PROGRESS: Table = Table {
    dataset: Dataset::Processing,
    name: "backfill_progress",
    partition: None,
    key: &["processor", "date"],
    columns: &[
        Column::new("processor", ColumnType::String, true),
        Column::new("date", ColumnType::Date, true),
        Column::new("status", ColumnType::String, true),
        Column::new("error", ColumnType::String, false),
        Column::new("rows", ColumnType::Int64, false),
        Column::new("run_id", ColumnType::String, false),
        Column::new("input_digest", ColumnType::String, false),
        Column::new("finished_at", ColumnType::Timestamp, false),
    ],
};

/// Every table of the dataset, in specification order.
pub const TABLES: &[&Table] = &[
    &ANALYTICS_PROCESSOR_RUNS,
    &ANALYTICS_DATA_ISSUES,
    &PRECOMPUTE_PROCESSOR_RUNS,
    &ANALYTICS_SOURCE_FRESHNESS,
    &PRECOMPUTE_FAILURES,
    &ANALYTICS_FAILURES,
    &BACKFILL_PROGRESS,
];
