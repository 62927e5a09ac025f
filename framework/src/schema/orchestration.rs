//! Tables of the `nba_orchestration` dataset, transcribed from the specification's `tables.md`.

use super::{Column, ColumnType, Dataset, Table};

/// `nba_orchestration.reprocess_attempts`.
pub const REPROCESS_ATTEMPTS: Table = Table {
    dataset: Dataset::Orchestration,
    name: "reprocess_attempts",
    partition: Some("analysis_date"),
    key: &["processor_name", "entity_id", "analysis_date", "attempt_number"],
    columns: &[
        Column::new("processor_name", ColumnType::String, true),
        Column::new("entity_id", ColumnType::String, true),
        Column::new("analysis_date", ColumnType::Date, true),
        Column::new("attempt_number", ColumnType::Int64, true),
        Column::new("attempted_at", ColumnType::Timestamp, true),
        Column::new("completeness_pct", ColumnType::Float64, false),
        Column::new("skip_reason", ColumnType::String, false),
        Column::new("circuit_breaker_tripped", ColumnType::Bool, false),
        Column::new("circuit_breaker_until", ColumnType::Timestamp, false),
        Column::new("manual_override_applied", ColumnType::Bool, false),
        Column::new("notes", ColumnType::String, false),
        Column::new("created_at", ColumnType::Timestamp, false),
    ],
};

/// `nba_orchestration.circuit_breaker_state`.
pub const CIRCUIT_BREAKER_STATE: Table = Table {
    dataset: Dataset::Orchestration,
    name: "circuit_breaker_state",
    partition: None,
    key: &["processor_name"],
    columns: &[
        Column::new("processor_name", ColumnType::String, true),
        Column::new("state", ColumnType::String, true),
        Column::new("failure_count", ColumnType::Int64, true),
        Column::new("success_count", ColumnType::Int64, true),
        Column::new("last_failure", ColumnType::Timestamp, false),
        Column::new("last_success", ColumnType::Timestamp, false),
        Column::new("opened_at", ColumnType::Timestamp, false),
        Column::new("half_opened_at", ColumnType::Timestamp, false),
        Column::new("updated_at", ColumnType::Timestamp, true),
        Column::new("last_error_message", ColumnType::String, false),
        Column::new("last_error_type", ColumnType::String, false),
        Column::new("failed_at", ColumnType::Timestamp, false),
        Column::new("error_message", ColumnType::String, false),
        Column::new("error_type", ColumnType::String, false),
        Column::new("threshold", ColumnType::Int64, false),
        Column::new("timeout_seconds", ColumnType::Int64, false),
        Column::new("half_open_max_calls", ColumnType::Int64, false),
    ],
};

/// Every table of the dataset, in specification order.
pub const TABLES: &[&Table] = &[&REPROCESS_ATTEMPTS, &CIRCUIT_BREAKER_STATE];
