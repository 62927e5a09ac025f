//! ML Feature Store (MLFS, phase 4): one 25-feature vector per player per game date, written to
//! `nba_predictions.ml_feature_store_v2` (reference-mlfs.md, README §4 items 1–9 and 15–19).
//!
//! # Layout
//! - [`inputs`]: typed rows of the upstream tables, the per-range [`inputs::History`] and the
//!   per-date [`inputs::DateInputs`], with duplicate-key resolution (README §4 item 9b).
//! - [`compute`]: the pure `process_entity` and its formulas: [`compute::features`] (the
//!   `v1_baseline_25` vector), [`compute::quality`] (score, `data_source`, `quality_tier`) and
//!   [`compute::readiness`] (completeness, upstream readiness, circuit breaker).
//! - [`row`]: the output row and its `data_hash`.
//!
//! Extraction, saving and the binary belong to the framework wiring; nothing here does I/O.
//! `feature_generation_time_ms` is left NULL because the pure compute asks no clock; the
//! reference's integer milliseconds would be 0 at this speed.

pub mod compute;
pub mod inputs;
pub mod row;

pub use compute::{entities, process_entity};
pub use inputs::{DateInputs, DateRows, History, HistoryRows};
pub use row::MlFeatureStoreRow;
