//! Helpers shared by the topic modules: warehouses in temporary folders, fixture files, exports.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use framework::config::{Settings, WarehouseUrl};
use framework::dispatch::DispatchMode;
use framework::runner::RunOptions;
use framework::schema::Table;
use framework::warehouse::{ResultSet, TableWrite, WriteReport, write_one_by_one};
use framework::{Query, ReplaceScope, Value, Warehouse, WarehouseError};

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

/// A live, serial run of one date without preflight: the phase-4 scenarios store only the
/// upstream rows their test needs, and live mode keeps the completeness gates (a backfill
/// waives them).
pub fn live_run_without_preflight(day: &str) -> RunOptions {
    RunOptions {
        dates: vec![date(day)],
        backfill: false,
        skip_preflight: true,
        dry_run: false,
        force: false,
        dispatch: DispatchMode::Serial,
        chunk_dates: 16,
    }
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

/// Which call of an [`InterceptingWarehouse`] fails.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// The nth `query` (1-based): a read.
    Query(usize),
    /// Every `replace` of this table (the output's staged write).
    Replace(&'static Table),
    /// Every `append` to this table (run history).
    Append(&'static Table),
}

/// Delegates to a real warehouse, fails the calls its [`Fault`] names, and counts the reads and
/// records the writes (table, rows) it passes on.
pub struct InterceptingWarehouse {
    inner: Arc<dyn Warehouse>,
    fault: Option<Fault>,
    /// Whether writes together reach the real warehouse as its one transaction; otherwise they
    /// go write by write through `replace` and `append`, as on a backend without transactions,
    /// where a fault can fail one table's write.
    together: bool,
    queries: AtomicUsize,
    injected: AtomicUsize,
    writes: Mutex<Vec<(String, usize)>>,
}

impl InterceptingWarehouse {
    /// Writes go one by one, so that `fault` can fail a single table's.
    pub fn failing(inner: Arc<dyn Warehouse>, fault: Option<Fault>) -> Self {
        InterceptingWarehouse::with(inner, fault, false)
    }

    /// Nothing fails, and writes together commit as the real warehouse commits them.
    pub fn recording(inner: Arc<dyn Warehouse>) -> Self {
        InterceptingWarehouse::with(inner, None, true)
    }

    fn with(inner: Arc<dyn Warehouse>, fault: Option<Fault>, together: bool) -> Self {
        InterceptingWarehouse {
            inner,
            fault,
            together,
            queries: AtomicUsize::new(0),
            injected: AtomicUsize::new(0),
            writes: Mutex::new(Vec::new()),
        }
    }

    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }

    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// The row counts of the writes to `table`, in order.
    pub fn writes_to(&self, table: &Table) -> Vec<usize> {
        let name = table.to_string();
        let writes = self.writes.lock().unwrap();
        writes.iter().filter(|(written, _)| *written == name).map(|(_, rows)| *rows).collect()
    }

    fn record(&self, table: &Table, rows: usize) {
        self.writes.lock().unwrap().push((table.to_string(), rows));
    }

    fn inject(&self, table: &str) -> WarehouseError {
        self.injected.fetch_add(1, Ordering::SeqCst);
        WarehouseError::Write { table: table.to_owned(), message: "injected failure".into() }
    }
}

#[async_trait::async_trait]
impl Warehouse for InterceptingWarehouse {
    async fn ensure_tables(&self, tables: &[&'static Table]) -> Result<(), WarehouseError> {
        self.inner.ensure_tables(tables).await
    }

    async fn query(&self, query: &Query) -> Result<ResultSet, WarehouseError> {
        let number = self.queries.fetch_add(1, Ordering::SeqCst) + 1;
        if matches!(self.fault, Some(Fault::Query(failing)) if failing == number) {
            return Err(self.inject("(read)"));
        }
        self.inner.query(query).await
    }

    async fn replace(
        &self,
        table: &'static Table,
        scope: ReplaceScope,
        rows: Vec<Vec<Value>>,
        unique_key: bool,
    ) -> Result<WriteReport, WarehouseError> {
        if matches!(self.fault, Some(Fault::Replace(failing)) if failing == table) {
            return Err(self.inject(&table.to_string()));
        }
        self.record(table, rows.len());
        self.inner.replace(table, scope, rows, unique_key).await
    }

    async fn append(&self, table: &'static Table, rows: Vec<Vec<Value>>) -> Result<(), WarehouseError> {
        if matches!(self.fault, Some(Fault::Append(failing)) if failing == table) {
            return Err(self.inject(&table.to_string()));
        }
        self.record(table, rows.len());
        self.inner.append(table, rows).await
    }

    fn writes_together_atomically(&self) -> bool {
        self.together && self.inner.writes_together_atomically()
    }

    async fn write_together(&self, writes: Vec<TableWrite>) -> Result<Vec<WriteReport>, WarehouseError> {
        if !self.together {
            return write_one_by_one(self, writes).await;
        }
        for write in &writes {
            self.record(write.table, write.rows.len());
        }
        self.inner.write_together(writes).await
    }
}

/// The log lines `work` writes on this thread, without time, target or colours.
///
/// One subscriber, the test binary's global default, writes every thread's lines into that
/// thread's capture, if it has one. A subscriber of this test alone (`set_default`) lost lines:
/// while it is the only one registered, tracing works out whether a log statement is enabled
/// with the default of the thread that reaches the statement first, so a statement first reached
/// by another test's thread was disabled for good, and this test's line went missing (about one
/// workspace run in four).
pub async fn captured_log(work: impl Future<Output = ()>) -> String {
    static GLOBAL_SUBSCRIBER: std::sync::Once = std::sync::Once::new();
    GLOBAL_SUBSCRIBER.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadCapture)
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
    // Statements first reached while the global subscriber was being set may still hold the
    // verdict of the none before it.
    tracing::callsite::rebuild_interest_cache();
    THIS_THREADS_LOG.with(|log| *log.borrow_mut() = Some(Vec::new()));
    work.await;
    let bytes = THIS_THREADS_LOG.with(|log| log.borrow_mut().take()).unwrap_or_default();
    String::from_utf8(bytes).unwrap()
}

std::thread_local! {
    /// The lines of this thread while [`captured_log`] runs on it.
    static THIS_THREADS_LOG: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// Appends to this thread's capture, or drops the line when the thread captures nothing.
struct ThreadCapture;

impl std::io::Write for ThreadCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        THIS_THREADS_LOG.with(|log| {
            if let Some(captured) = log.borrow_mut().as_mut() {
                captured.extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
