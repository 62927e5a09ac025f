//! Table and column definitions of every table the processors read or write.
//!
//! Each dataset has one file, transcribed from the specification's `tables.md` (types are the
//! BigQuery types; each backend maps them). Table and column names are written here once and used
//! from here: the DDL, the loader, the exporter and the processors' row types all check
//! against these definitions.

pub mod analytics;
pub mod orchestration;
pub mod precompute;
pub mod predictions;
pub mod processing;
pub mod raw;
pub mod reference;

use std::fmt;

/// A BigQuery dataset; its warehouse name is `DATASET_PREFIX` + [`Dataset::base_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dataset {
    Raw,
    Analytics,
    Precompute,
    Predictions,
    Reference,
    Orchestration,
    Processing,
}

impl Dataset {
    pub const ALL: [Dataset; 7] = [
        Dataset::Raw,
        Dataset::Analytics,
        Dataset::Precompute,
        Dataset::Predictions,
        Dataset::Reference,
        Dataset::Orchestration,
        Dataset::Processing,
    ];

    /// The dataset's name without any `DATASET_PREFIX`.
    pub fn base_name(self) -> &'static str {
        match self {
            Dataset::Raw => "nba_raw",
            Dataset::Analytics => "nba_analytics",
            Dataset::Precompute => "nba_precompute",
            Dataset::Predictions => "nba_predictions",
            Dataset::Reference => "nba_reference",
            Dataset::Orchestration => "nba_orchestration",
            Dataset::Processing => "nba_processing",
        }
    }

    /// The dataset's name in a warehouse whose datasets carry `prefix` (`DATASET_PREFIX`,
    /// `test_nba_raw`): what both backends address and run history names.
    pub fn prefixed_name(self, prefix: &str) -> String {
        format!("{prefix}{}", self.base_name())
    }

    fn tables(self) -> &'static [&'static Table] {
        match self {
            Dataset::Raw => raw::TABLES,
            Dataset::Analytics => analytics::TABLES,
            Dataset::Precompute => precompute::TABLES,
            Dataset::Predictions => predictions::TABLES,
            Dataset::Reference => reference::TABLES,
            Dataset::Orchestration => orchestration::TABLES,
            Dataset::Processing => processing::TABLES,
        }
    }
}

/// Column types as BigQuery names them; `Numeric` keeps its precision and scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int64,
    Float64,
    Numeric { precision: u8, scale: u8 },
    Bool,
    Date,
    Timestamp,
    Json,
    Float64Array,
    StringArray,
}

impl ColumnType {
    pub fn is_array(self) -> bool {
        matches!(self, ColumnType::Float64Array | ColumnType::StringArray)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub column_type: ColumnType,
    /// NOT NULL in the reference DDL. Backends enforce it on key columns only (fixtures may
    /// carry a subset of columns, README §3.4).
    pub not_null: bool,
}

impl Column {
    pub const fn new(name: &'static str, column_type: ColumnType, not_null: bool) -> Self {
        Column { name, column_type, not_null }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    pub dataset: Dataset,
    pub name: &'static str,
    /// The date column the table is partitioned by, if any.
    pub partition: Option<&'static str>,
    /// The columns this project keys the table by (empty: append-only bookkeeping).
    pub key: &'static [&'static str],
    pub columns: &'static [Column],
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name == name)
    }

    /// The key of a full row as text: its key cells in the fixture form joined by `/` (e.g.
    /// `amy/g1/2025-01-15`). Finding a repeated key in memory and naming it in an error use this
    /// one form, whatever the backend.
    pub fn key_text(&self, row: &[crate::value::Value]) -> String {
        let cells: Vec<String> = self
            .key
            .iter()
            .filter_map(|key| self.column_index(key))
            .map(|index| crate::fixtures::format_cell(&row[index]))
            .collect();
        cells.join("/")
    }

    pub fn column_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|column| column.name)
    }

    /// Whether NOT NULL is enforced locally: key columns only.
    pub fn enforces_not_null(&self, column: &Column) -> bool {
        column.not_null && self.key.contains(&column.name)
    }

    /// A full-width row from `(column, value)` pairs; unnamed columns are NULL.
    ///
    /// # Panics
    /// A name that is not a column of the table: a programming error caught by any test that
    /// builds the row.
    pub fn row(&self, cells: Vec<(&str, crate::value::Value)>) -> Vec<crate::value::Value> {
        let mut row = vec![crate::value::Value::Null; self.columns.len()];
        for (name, value) in cells {
            let index = self.column_index(name).unwrap_or_else(|| panic!("{self} has no column {name}"));
            row[index] = value;
        }
        row
    }

    /// Looks a table up by `dataset.table` (without prefix), as fixture files name them.
    pub fn find(qualified_name: &str) -> Option<&'static Table> {
        let (dataset, table) = qualified_name.split_once('.')?;
        Dataset::ALL
            .iter()
            .find(|candidate| candidate.base_name() == dataset)?
            .tables()
            .iter()
            .copied()
            .find(|candidate| candidate.name == table)
    }

    /// Every table of every dataset.
    pub fn all() -> impl Iterator<Item = &'static Table> {
        Dataset::ALL.into_iter().flat_map(|dataset| dataset.tables().iter().copied())
    }
}

impl fmt::Display for Table {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.dataset.base_name(), self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn a_key_text_joins_the_key_cells_in_fixture_form() {
        let table = &analytics::PLAYER_GAME_SUMMARY;
        let row = table.row(vec![
            ("player_lookup", Value::String("amy".into())),
            ("game_id", Value::String("g1".into())),
            ("game_date", Value::Date("2025-01-15".parse().unwrap())),
            ("points", Value::Int(31)),
        ]);
        // The key is (game_date, game_id, player_lookup); `points` is not part of it.
        assert_eq!(table.key_text(&row), "2025-01-15/g1/amy");
    }

    #[test]
    fn every_key_and_partition_column_exists() {
        for table in Table::all() {
            for key in table.key {
                assert!(table.column(key).is_some(), "{table}: key column {key} missing");
            }
            if let Some(partition) = table.partition {
                let column = table.column(partition).expect("partition column");
                assert_eq!(column.column_type, ColumnType::Date, "{table}");
            }
        }
    }

    #[test]
    fn tables_are_found_by_qualified_name() {
        let table = Table::find("nba_analytics.player_game_summary").unwrap();
        assert_eq!(table.key, ["game_date", "game_id", "player_lookup"]);
        assert_eq!(table.columns.len(), 87);
        assert!(Table::find("nba_analytics.nope").is_none());
        assert!(Table::find("nope").is_none());
        assert_eq!(Table::all().count(), 25);
    }

    #[test]
    fn feature_store_gains_quality_tier() {
        let table = Table::find("nba_predictions.ml_feature_store_v2").unwrap();
        assert_eq!(table.columns.len(), 50);
        assert!(table.column("quality_tier").is_some());
    }
}
