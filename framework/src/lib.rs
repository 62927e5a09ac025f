//! Shared processing framework of the three processors.
//!
//! A processor implements [`Processor`]: what to read in bulk, a pure per-entity computation,
//! and its output row. The framework owns everything around it, once for all three.
//!
//! # Layout
//! - [`processor`]: the contract a processor implements, per-entity failures, run context.
//! - [`runner`]: the lifecycle of a run over dates: preflight, skips, dispatch, atomic save,
//!   run history. `preflight`: the upstream rows each date needs, and the reference's
//!   dependency-check lines. [`cli`]: the shared command line and `main` of every binary.
//! - [`dispatch`]: serial and parallel dispatch with panic isolation. [`progress`]: the
//!   reference's log lines and a terminal progress bar.
//! - [`config`]: environment → validated settings.
//! - [`warehouse`]: the backend seam and its two backends, embedded DuckDB and BigQuery.
//!   [`reader`]: bulk reads with input digests, as rows or as [`columns`]. [`schema`]: every
//!   table's columns and keys. [`fixtures`]: CSV load and export. [`history`]: run history and
//!   failure rows. [`checkpoint`]: per-date status for resumable backfills.
//! - [`allocator`]: the allocator of every binary and the process's memory settings.
//! - [`value`]: cells and typed output rows. [`rounding`], [`digest`], [`dates`], [`dedupe`],
//!   [`completeness`], [`circuit_breaker`], [`grouping`]:
//!   helpers every processor shares (Python rounding, hashes, seasons and the schedule,
//!   duplicate upstream rows, own-data completeness, the phase-4 per-player circuit breaker,
//!   rows grouped by player or team).

pub mod allocator;
pub mod checkpoint;
pub mod circuit_breaker;
pub mod cli;
pub mod columns;
pub mod completeness;
pub mod config;
pub mod dates;
pub mod dedupe;
pub mod digest;
pub mod dispatch;
pub mod fixtures;
pub mod grouping;
pub mod history;
mod preflight;
pub mod processor;
pub mod progress;
pub mod reader;
pub mod rounding;
pub mod runner;
pub mod schema;
pub mod value;
pub mod warehouse;

pub use processor::{
    CombineRows, Dependency, EntityFailure, FailureCategory, Phase, Processor, ProcessorInfo, RunContext,
    SideWrite, SourceUsage, StatsFields,
};
pub use reader::{
    CellPosition, ColumnRow, DateFilter, ExtractError, InputReader, OfEntities, RowView, TableColumns,
    TableRows,
};
/// Short texts copied into every row of a date (hash texts: 16 hex characters) are held inline
/// in a [`SmolStr`], so that a row takes its copy without allocating; longer texts are shared.
pub use smol_str::SmolStr;
pub use value::{CellRef, TableRow, ToValue, Value};
pub use warehouse::{Query, ReplaceScope, Warehouse, WarehouseError};
