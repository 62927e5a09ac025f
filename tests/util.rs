//! Helpers shared by the topic modules: warehouses in temporary folders, fixture files, exports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use framework::config::{Settings, WarehouseUrl};
use framework::schema::Table;
use framework::{Query, Value, Warehouse};

/// A folder under the target directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("nba-tests-{name}-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&path).expect("temporary folder");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Settings for a DuckDB file in `folder`, with defaults for everything else.
pub fn settings_in(folder: &Path) -> Settings {
    let mut settings = Settings::from_map(Vec::new()).expect("default settings are valid");
    settings.warehouse = WarehouseUrl::DuckDb { path: folder.join("warehouse.duckdb").display().to_string() };
    settings
}

pub async fn open(settings: &Settings) -> Arc<dyn Warehouse> {
    framework::warehouse::open(settings).await.expect("warehouse opens")
}

/// The real 2024-25 schedule shipped in `shared/data`.
pub fn schedule_directory() -> PathBuf {
    shared_data().join("schedule")
}

pub fn shared_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

pub fn date(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}

/// Writes `<dataset>.<table>.csv` with `content` into `folder`.
pub fn write_fixture(folder: &Path, table: &Table, content: &str) {
    std::fs::write(folder.join(format!("{table}.csv")), content).expect("fixture written");
}

/// The canonical export of a table.
pub async fn export(warehouse: &dyn Warehouse, table: &'static Table, date: Option<NaiveDate>) -> String {
    let mut bytes = Vec::new();
    framework::fixtures::export_table(warehouse, table, date, &mut bytes).await.expect("export succeeds");
    String::from_utf8(bytes).expect("exports are UTF-8")
}

/// Runs a query returning one row of cells.
pub async fn query_rows(warehouse: &dyn Warehouse, sql: &str) -> Vec<Vec<Value>> {
    warehouse.query(&Query::new(sql)).await.expect("query succeeds").rows
}

/// The export of `table` with every value found in `columns` replaced by `<stamp>` wherever it
/// occurs: run timestamps differ between two runs over the same inputs, nothing else may.
pub async fn export_masking(warehouse: &dyn Warehouse, table: &'static Table, columns: &[&str]) -> String {
    let mut exported = export(warehouse, table, None).await;
    for column in columns.iter().filter(|column| table.column(column).is_some()) {
        let stamps = query_rows(
            warehouse,
            &format!("SELECT DISTINCT \"{column}\" FROM {{{table}}} WHERE \"{column}\" IS NOT NULL"),
        )
        .await;
        for stamp in stamps {
            exported = exported.replace(&framework::fixtures::format_cell(&stamp[0]), "<stamp>");
        }
    }
    exported
}
