//! Shared processing framework of the three processors.
//!
//! # Layout
//! - [`processor`]: the contract a processor implements and its per-entity failure type.
//! - [`value`]: the backend-neutral cell and the typed output rows (`table_row!`).
//! - [`schema`]: every table's columns, keys and partition column.
//! - [`rounding`], [`digest`]: Python number semantics and hashes every processor shares.

pub mod digest;
pub mod processor;
pub mod rounding;
pub mod schema;
pub mod value;

pub use processor::{EntityFailure, FailureCategory, RunContext, SourceUsage};
pub use value::{TableRow, ToValue, Value};
pub mod config;
pub mod warehouse;
pub mod dates;
pub mod fixtures;
pub mod dispatch;
pub mod progress;
