//! The BigQuery backend against a local BigQuery emulator: each scenario runs on DuckDB and on the
//! emulator, and the exported rows must be identical.
//!
//! The emulator's address comes from `BIGQUERY_EMULATOR_HOST` (`cargo xtask test` installs and
//! starts one through `scripts/bigquery-emulator.sh`). Without it these tests print why and pass
//! without running: `BIGQUERY_EMULATOR_UNAVAILABLE` carries the reason the emulator could not
//! start, when `cargo xtask test` tried. Each test opens the emulator under its own dataset
//! prefix, so tests run in parallel without sharing a table.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use framework::config::{Settings, WarehouseUrl};
use framework::dispatch::DispatchMode;
use framework::fixtures::load_directory;
use framework::runner::{DateStatus, RunOptions, RunSummary, run};
use framework::schema::Table;
use framework::schema::analytics::{
    PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_TEAM_GAME_CONTEXT,
};
use framework::schema::precompute::PLAYER_COMPOSITE_FACTORS;
use framework::schema::predictions::ML_FEATURE_STORE_V2;
use framework::schema::raw::NBAC_SCHEDULE;
use framework::schema::reference::UNRESOLVED_PLAYER_NAMES;
use framework::warehouse::bigquery::{BigQueryWarehouse, RequestPolicy};
use framework::warehouse::{ExpectedVersions, ReplaceScope, TableWrite};
use framework::{Query, Value, Warehouse, WarehouseError};

use ml_feature_store::MlFeatureStoreProcessor;
use player_composite_factors::PlayerCompositeFactorsProcessor;
use player_game_summary::PlayerGameSummaryProcessor;

use crate::toy::ToyProcessor;
use crate::util::{TempDir, date, export, export_masking, schedule_directory, settings_in, write_fixture};

mod lost_scripts;

const PROJECT: &str = "test-project";

/// The emulator's `host:port`, or `None` after printing why the emulator tests are skipped.
fn emulator_host() -> Option<String> {
    let settings = Settings::from_env().expect("the test environment is valid");
    if settings.bigquery_emulator_host.is_none() {
        let reason = std::env::var("BIGQUERY_EMULATOR_UNAVAILABLE").unwrap_or_else(|_| {
            "BIGQUERY_EMULATOR_HOST is not set (cargo xtask test starts the emulator)".to_owned()
        });
        eprintln!("skipping the BigQuery emulator test: {reason}");
    }
    settings.bigquery_emulator_host
}

/// A dataset prefix no other test or run uses on the shared emulator.
fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("t{}_{}_", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// One backend of a comparison: its settings and an open warehouse with every table created.
pub struct Backend {
    pub name: &'static str,
    pub settings: Settings,
    pub warehouse: Arc<dyn Warehouse>,
    _folder: Option<TempDir>,
}

impl Backend {
    async fn duckdb() -> Self {
        let folder = TempDir::new("bigquery-compare");
        let settings = settings_in(folder.path());
        let warehouse = framework::warehouse::open(&settings).await.expect("DuckDB opens");
        Backend { name: "duckdb", settings, warehouse, _folder: Some(folder) }
    }

    /// The emulator through `framework::warehouse::open`, as a processor binary would open it.
    async fn emulator(host: &str) -> Self {
        let settings = emulator_settings(host);
        let warehouse = framework::warehouse::open(&settings).await.expect("the emulator warehouse opens");
        Backend { name: "emulator", settings, warehouse, _folder: None }
    }
}

fn emulator_settings(host: &str) -> Settings {
    let mut settings = Settings::from_map(Vec::new()).expect("default settings are valid");
    settings.warehouse = WarehouseUrl::BigQuery { project: PROJECT.to_owned() };
    settings.dataset_prefix = unique_prefix();
    settings.bigquery_emulator_host = Some(host.to_owned());
    settings
}

/// Runs `scenario` on a fresh DuckDB warehouse and on a fresh emulator warehouse, then asserts
/// that every table of `compared` exports identically on both. Returns the exports (DuckDB's),
/// or `None` when the emulator is not available.
pub async fn assert_same_rows_on_both_backends(
    compared: &[&'static Table],
    scenario: impl AsyncFn(&Backend),
) -> Option<Vec<String>> {
    let host = emulator_host()?;
    let mut exports: Vec<Vec<String>> = Vec::new();
    for backend in [Backend::duckdb().await, Backend::emulator(&host).await] {
        scenario(&backend).await;
        let mut tables = Vec::new();
        for table in compared {
            tables.push(export(backend.warehouse.as_ref(), table, None).await);
        }
        exports.push(tables);
    }
    for (index, table) in compared.iter().enumerate() {
        assert_same_export(table, &exports[0][index], &exports[1][index]);
    }
    exports.into_iter().next()
}

/// Fails on the first line where the emulator's export differs from DuckDB's, showing both.
fn assert_same_export(table: &Table, duckdb: &str, emulator: &str) {
    let differing = duckdb.lines().zip(emulator.lines()).enumerate().find(|(_, (left, right))| left != right);
    if let Some((line, (left, right))) = differing {
        let fields = |text: &str| -> Vec<String> {
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
            reader
                .records()
                .next()
                .and_then(Result::ok)
                .map(|record| record.iter().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let (left_fields, right_fields) = (fields(left), fields(right));
        let column =
            left_fields.iter().zip(&right_fields).position(|(left, right)| left != right).unwrap_or(0);
        panic!(
            "{table}: line {} differs in column {}\n  duckdb:   {:?}\n  emulator: {:?}",
            line + 1,
            table.columns.get(column).map_or("?", |column| column.name),
            left_fields.get(column),
            right_fields.get(column)
        );
    }
    assert_eq!(duckdb.lines().count(), emulator.lines().count(), "{table}: row counts differ");
}

const HEADER: &str = "team_abbr,game_id,game_date,season_year,opponent_team_abbr,game_total,processed_at\n";

const TWO_DATES: &str = "LAL,20250115_LAL_GSW,2025-01-15,2024,GSW,231.5,2025-01-15T10:00:00Z\n\
                         GSW,20250115_LAL_GSW,2025-01-15,2024,LAL,231.5,2025-01-15T10:00:00Z\n\
                         FAIL,20250115_FAIL_X,2025-01-15,2024,,200.0,2025-01-15T10:00:00Z\n\
                         BOS,20250116_BOS_NYK,2025-01-16,2024,NYK,219.0,2025-01-16T09:30:00.250Z\n\
                         NYK,20250116_BOS_NYK,2025-01-16,2024,BOS,219.0,2025-01-16T09:30:00.250Z\n";

/// Loads the real schedule and `team_context_rows` into `warehouse`.
async fn load_inputs(warehouse: &dyn Warehouse, team_context_rows: &str) {
    load_directory(warehouse, &schedule_directory()).await.expect("the schedule loads");
    let fixtures = TempDir::new("bigquery-fixtures");
    write_fixture(fixtures.path(), &UPCOMING_TEAM_GAME_CONTEXT, &format!("{HEADER}{team_context_rows}"));
    load_directory(warehouse, fixtures.path()).await.expect("the team context loads");
}

async fn run_toy(warehouse: &dyn Warehouse, settings: &Settings, dates: &[&str], force: bool) -> RunSummary {
    let options = RunOptions {
        dates: dates.iter().map(|text| date(text)).collect(),
        backfill: false,
        skip_preflight: false,
        dry_run: false,
        force,
        dispatch: DispatchMode::Parallel { workers: 4 },
        chunk_dates: 16,
    };
    run(&ToyProcessor, warehouse, settings, &options).await.expect("the run completes")
}

/// Rows of the toy's output minus distinct keys: 0 when no key is duplicated.
async fn duplicate_output_keys(warehouse: &dyn Warehouse) -> Value {
    let result = warehouse
        .query(&Query::new(
            "SELECT count(*) - count(DISTINCT concat(CAST(game_date AS STRING), '/', team_abbr)) AS duplicates \
             FROM {nba_analytics.team_offense_game_summary}",
        ))
        .await
        .expect("the duplicate count runs");
    result.rows[0][0].clone()
}

#[tokio::test]
async fn two_dates_and_a_rerun_export_identically_on_duckdb_and_the_emulator() {
    let compared = [&UPCOMING_TEAM_GAME_CONTEXT, &TEAM_OFFENSE_GAME_SUMMARY];
    let exports = assert_same_rows_on_both_backends(&compared, async |backend: &Backend| {
        let warehouse = backend.warehouse.as_ref();
        load_inputs(warehouse, TWO_DATES).await;
        let first = run_toy(warehouse, &backend.settings, &["2025-01-15", "2025-01-16"], false).await;
        let statuses: Vec<_> = first.outcomes.iter().map(|outcome| outcome.status.clone()).collect();
        assert_eq!(
            statuses,
            [DateStatus::Succeeded { rows: 2, failures: 1 }, DateStatus::Succeeded { rows: 2, failures: 0 }],
            "{}",
            backend.name
        );
        let rerun = run_toy(warehouse, &backend.settings, &["2025-01-15", "2025-01-16"], true).await;
        assert!(rerun.failed_dates().is_empty(), "{}: {rerun:?}", backend.name);
        assert_eq!(
            duplicate_output_keys(warehouse).await,
            Value::Int(0),
            "{}: duplicated keys",
            backend.name
        );
    })
    .await;
    let Some(exports) = exports else { return };
    // round(231.5 / 2) = 116 and round(219.0 / 2) = 110 (half away from zero): four teams, sorted by key.
    assert_eq!(exports[1].lines().count(), 5, "{}", exports[1]);
    assert!(
        exports[1].lines().nth(1).unwrap().starts_with("20250115_LAL_GSW,,2025-01-15,GSW,LAL,2024,116"),
        "{}",
        exports[1]
    );
}

#[tokio::test]
async fn the_real_schedule_reads_back_identically_across_result_pages() {
    let Some(host) = emulator_host() else { return };
    let duckdb = Backend::duckdb().await;
    load_directory(duckdb.warehouse.as_ref(), &schedule_directory()).await.unwrap();
    // 1,400 games in pages of 300 rows: five getQueryResults pages after the first.
    let settings = emulator_settings(&host);
    let paged = BigQueryWarehouse::connect(PROJECT, &settings.dataset_prefix, Some(&host))
        .await
        .unwrap()
        .with_policy(RequestPolicy { page_rows: Some(300), ..RequestPolicy::default() });
    paged.ensure_tables(&[&NBAC_SCHEDULE]).await.unwrap();
    load_directory(&paged, &schedule_directory()).await.unwrap();
    let emulator_export = export(&paged, &NBAC_SCHEDULE, None).await;
    assert_eq!(emulator_export.lines().count(), 1_401);
    assert_eq!(emulator_export, export(duckdb.warehouse.as_ref(), &NBAC_SCHEDULE, None).await);
}

#[tokio::test]
async fn a_failure_between_staging_and_merge_keeps_the_previous_rows() {
    let Some(host) = emulator_host() else { return };
    let backend = Backend::emulator(&host).await;
    let warehouse = backend.warehouse.as_ref();
    load_inputs(warehouse, TWO_DATES).await;
    run_toy(warehouse, &backend.settings, &["2025-01-15"], false).await;
    let before = export(warehouse, &TEAM_OFFENSE_GAME_SUMMARY, None).await;
    assert_eq!(before.lines().count(), 3);

    let failing = BigQueryWarehouse::connect(PROJECT, &backend.settings.dataset_prefix, Some(&host))
        .await
        .unwrap()
        .with_before_merge_hook(Arc::new(|table: &'static Table| {
            if table == &TEAM_OFFENSE_GAME_SUMMARY {
                return Err(WarehouseError::Write {
                    table: table.to_string(),
                    message: "injected failure".into(),
                });
            }
            Ok(())
        }));
    load_inputs(&failing, &TWO_DATES.replace("231.5", "250.0")).await;
    let summary = run_toy(&failing, &backend.settings, &["2025-01-15"], false).await;
    let DateStatus::Failed { error } = &summary.outcomes[0].status else {
        panic!("expected the injected failure: {summary:?}")
    };
    assert!(error.contains("injected failure"), "{error}");
    assert_eq!(export(warehouse, &TEAM_OFFENSE_GAME_SUMMARY, None).await, before);

    let retried = run_toy(warehouse, &backend.settings, &["2025-01-15"], false).await;
    assert_eq!(retried.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });
    assert!(export(warehouse, &TEAM_OFFENSE_GAME_SUMMARY, None).await.contains(",125,"), "250 / 2 = 125");
}

/// A feature-store row with every column type: arrays, NUMERIC, TIMESTAMP, INT64, STRING.
fn feature_row(player: &str, quality: f64) -> Vec<Value> {
    ML_FEATURE_STORE_V2.row(vec![
        ("player_lookup", Value::String(player.into())),
        ("game_date", Value::Date(date("2025-01-15"))),
        ("game_id", Value::String("20250115_LAL_GSW".into())),
        ("features", Value::FloatArray(vec![20.5, 0.1, -3.0])),
        ("feature_names", Value::StringArray(vec!["a,b".into(), "it's \"quoted\"".into()])),
        ("feature_count", Value::Int(3)),
        ("feature_version", Value::String("v1_baseline_25".into())),
        ("feature_quality_score", Value::Float(quality)),
        ("data_source", Value::String("phase4".into())),
        ("created_at", Value::Timestamp("2025-01-15T12:00:00.123456Z".parse().unwrap())),
    ])
}

#[tokio::test]
async fn every_column_type_round_trips_and_duplicate_keys_are_refused() {
    let compared = [&ML_FEATURE_STORE_V2];
    let exports = assert_same_rows_on_both_backends(&compared, async |backend: &Backend| {
        let warehouse = backend.warehouse.as_ref();
        let scope = ReplaceScope::Partitions(vec![date("2025-01-15")]);
        let rows = vec![feature_row("lebronjames", 97.35), feature_row("stephcurry", 88.0)];
        let report =
            warehouse.replace(&ML_FEATURE_STORE_V2, scope.clone(), rows.clone(), true).await.unwrap();
        assert_eq!(report.rows_inserted, 2, "{}", backend.name);

        let result = warehouse
            .query(
                &Query::new(
                    "SELECT * FROM {nba_predictions.ml_feature_store_v2} WHERE player_lookup = @player",
                )
                .bind("player", "stephcurry"),
            )
            .await
            .unwrap();
        assert_eq!(result.rows, vec![rows[1].clone()], "{}", backend.name);

        let duplicated = vec![feature_row("kevindurant", 50.0), feature_row("kevindurant", 51.0)];
        let error = warehouse.replace(&ML_FEATURE_STORE_V2, scope, duplicated, true).await.unwrap_err();
        assert!(matches!(error, WarehouseError::DuplicateKey { .. }), "{}: {error}", backend.name);

        // A replace by no rows deletes its scope and nothing else.
        let next_day = ReplaceScope::Partitions(vec![date("2025-01-16")]);
        let mut late_row = feature_row("kevindurant", 60.0);
        late_row[ML_FEATURE_STORE_V2.column_index("game_date").unwrap()] = Value::Date(date("2025-01-16"));
        warehouse.replace(&ML_FEATURE_STORE_V2, next_day.clone(), vec![late_row], true).await.unwrap();
        let report = warehouse.replace(&ML_FEATURE_STORE_V2, next_day, Vec::new(), true).await.unwrap();
        assert_eq!((report.rows_deleted, report.rows_inserted), (1, 0), "{}", backend.name);
    })
    .await;
    let Some(exports) = exports else { return };
    assert_eq!(exports[0].lines().count(), 3, "the refused write left the two earlier rows");
}

/// A write set (a chunk's output with its side writes, a run's history with its checkpoints) is
/// one transaction on both backends: a table refusing its rows inside it (a NULL key) rolls back
/// the tables written before it in the set, and a set that succeeds reports each table's rows.
#[tokio::test]
async fn a_write_set_commits_all_or_nothing_on_both_backends() {
    let compared = [&ML_FEATURE_STORE_V2];
    let exports = assert_same_rows_on_both_backends(&compared, async |backend: &Backend| {
        let warehouse = backend.warehouse.as_ref();
        let (first, second) = (date("2025-01-15"), date("2025-01-16"));
        let day = |date| ReplaceScope::Partitions(vec![date]);
        let rows = vec![feature_row("lebronjames", 97.35), feature_row("stephcurry", 88.0)];
        warehouse.replace(&ML_FEATURE_STORE_V2, day(first), rows, true).await.unwrap();

        let replace_first_day = || {
            TableWrite::replace(
                &ML_FEATURE_STORE_V2,
                day(first),
                vec![feature_row("kevindurant", 60.0)],
                true,
            )
        };
        let mut keyless = feature_row("kevindurant", 50.0);
        keyless[ML_FEATURE_STORE_V2.column_index("player_lookup").unwrap()] = Value::Null;
        let refused = vec![
            replace_first_day(),
            TableWrite::replace(&ML_FEATURE_STORE_V2, day(second), vec![keyless], false),
        ];
        let error = warehouse.write_together(refused).await.unwrap_err();
        assert!(matches!(error, WarehouseError::Write { .. }), "{}: {error}", backend.name);
        let kept = export(warehouse, &ML_FEATURE_STORE_V2, None).await;
        assert!(kept.contains("stephcurry") && !kept.contains("kevindurant"), "{}: {kept}", backend.name);

        let applied = vec![
            replace_first_day(),
            TableWrite::replace(&ML_FEATURE_STORE_V2, day(second), Vec::new(), true),
        ];
        let reports = warehouse.write_together(applied).await.unwrap();
        let counts: Vec<(u64, u64)> =
            reports.iter().map(|report| (report.rows_deleted, report.rows_inserted)).collect();
        assert_eq!(counts, [(2, 1), (0, 0)], "{}", backend.name);
    })
    .await;
    let Some(exports) = exports else { return };
    assert_eq!(exports[0].lines().count(), 2, "one row left after the header: {}", exports[0]);
}

fn unresolved_name_row(occurrences: i64, processed_at: &str) -> Vec<Value> {
    UNRESOLVED_PLAYER_NAMES.row(vec![
        ("source", Value::String("bdl".into())),
        ("original_name", Value::String("Victor Wembanyama".into())),
        ("normalized_lookup", Value::String("victorwembanyama".into())),
        ("first_seen_date", Value::Date(date("2024-01-15"))),
        ("last_seen_date", Value::Date(date("2024-01-15"))),
        ("occurrences", Value::Int(occurrences)),
        ("example_games", Value::StringArray(vec!["20240115_SAS_MIL".into()])),
        ("status", Value::String("pending".into())),
        ("created_at", Value::Timestamp("2024-01-16T06:00:00Z".parse().unwrap())),
        ("processed_at", Value::Timestamp(processed_at.parse().unwrap())),
    ])
}

/// A write built from stored rows commits only if they are still as read: expecting another
/// `processed_at` than the stored one, or no row where one is stored, is refused as a concurrent
/// update and writes nothing, on both backends; expecting what is stored applies.
#[tokio::test]
async fn a_write_expecting_stored_rows_that_changed_is_refused_on_both_backends() {
    let compared = [&UNRESOLVED_PLAYER_NAMES];
    let exports = assert_same_rows_on_both_backends(&compared, async |backend: &Backend| {
        let warehouse = backend.warehouse.as_ref();
        let stored = vec![unresolved_name_row(3, "2024-01-16T06:00:00.123456Z")];
        warehouse.replace(&UNRESOLVED_PLAYER_NAMES, ReplaceScope::Keys, stored.clone(), false).await.unwrap();
        let upsert = |occurrences| {
            let rows = vec![unresolved_name_row(occurrences, "2024-01-17T06:00:00Z")];
            TableWrite::replace(&UNRESOLVED_PLAYER_NAMES, ReplaceScope::Keys, rows, true)
        };
        let expecting = |read: &[Vec<Value>], written: &TableWrite| {
            ExpectedVersions::of(&UNRESOLVED_PLAYER_NAMES, "processed_at", read, &written.rows)
        };
        let earlier = vec![unresolved_name_row(2, "2024-01-16T05:00:00Z")];
        for read in [earlier, Vec::new()] {
            let write = upsert(4);
            let expected = expecting(&read, &write);
            let error = warehouse.write_together(vec![write.expecting(expected)]).await.unwrap_err();
            assert!(
                matches!(&error, WarehouseError::ConcurrentUpdate { table } if table == "nba_reference.unresolved_player_names"),
                "{}: {error}",
                backend.name
            );
            let kept = export(warehouse, &UNRESOLVED_PLAYER_NAMES, None).await;
            assert!(kept.contains(",3,"), "{}: {kept}", backend.name);
        }
        // What a run reads back (microseconds included) is what it expects.
        let read = warehouse
            .query(&Query::new("SELECT * FROM {nba_reference.unresolved_player_names}"))
            .await
            .unwrap()
            .rows;
        assert_eq!(read, stored, "{}", backend.name);
        let write = upsert(4);
        let expected = expecting(&read, &write);
        let reports = warehouse.write_together(vec![write.expecting(expected)]).await.unwrap();
        assert_eq!(reports[0].rows_inserted, 1, "{}", backend.name);
    })
    .await;
    let Some(exports) = exports else { return };
    assert!(exports[0].contains(",4,"), "{}", exports[0]);
}

/// A key stored twice (another pipeline's older row beside ours) stands with its latest version
/// in the version check, on both backends: expecting the older row's version is refused,
/// expecting the latest applies, and both backends then hold the key once.
#[tokio::test]
async fn a_key_stored_twice_is_checked_against_its_latest_version_on_both_backends() {
    let compared = [&UNRESOLVED_PLAYER_NAMES];
    let exports = assert_same_rows_on_both_backends(&compared, async |backend: &Backend| {
        let warehouse = backend.warehouse.as_ref();
        let latest = unresolved_name_row(3, "2024-01-16T06:00:00.123456Z");
        let older = unresolved_name_row(2, "2024-01-15T06:00:00Z");
        warehouse.append(&UNRESOLVED_PLAYER_NAMES, vec![latest.clone(), older.clone()]).await.unwrap();
        let write_expecting = |read: &Vec<Value>| {
            let rows = vec![unresolved_name_row(4, "2024-01-17T06:00:00Z")];
            let expected = ExpectedVersions::of(
                &UNRESOLVED_PLAYER_NAMES,
                "processed_at",
                std::slice::from_ref(read),
                &rows,
            );
            TableWrite::replace(&UNRESOLVED_PLAYER_NAMES, ReplaceScope::Keys, rows, false).expecting(expected)
        };
        let error = warehouse.write_together(vec![write_expecting(&older)]).await.unwrap_err();
        assert!(matches!(error, WarehouseError::ConcurrentUpdate { .. }), "{}: {error}", backend.name);
        let reports = warehouse.write_together(vec![write_expecting(&latest)]).await.unwrap();
        assert_eq!(reports[0].rows_inserted, 1, "{}", backend.name);
        let kept = export(warehouse, &UNRESOLVED_PLAYER_NAMES, None).await;
        assert!(
            kept.contains(",4,") && !kept.contains(",3,") && !kept.contains(",2,"),
            "{}: {kept}",
            backend.name
        );
    })
    .await;
    let Some(exports) = exports else { return };
    assert_eq!(exports[0].lines().count(), 2, "the header and the key's one row: {}", exports[0]);
}

/// A TCP relay to the emulator that records the most connections open through it at once. The
/// client speaks HTTP/1.1 to the emulator, one request per connection at a time, so requests in
/// flight together need a connection each, and requests made one after another reuse one.
struct ConnectionRelay {
    address: String,
    open: Arc<AtomicU64>,
    most_open: Arc<AtomicU64>,
}

impl ConnectionRelay {
    async fn start(target: &str) -> ConnectionRelay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free local port");
        let address = listener.local_addr().expect("a bound port").to_string();
        let (open, most_open) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (counter, peak, target) = (Arc::clone(&open), Arc::clone(&most_open), target.to_owned());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (counter, peak, target) = (Arc::clone(&counter), Arc::clone(&peak), target.clone());
                tokio::spawn(async move {
                    let now_open = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now_open, Ordering::SeqCst);
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                    counter.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        ConnectionRelay { address, open, most_open }
    }

    /// Starts a new peak from the connections open now (the client's idle ones).
    fn restart_peak(&self) -> u64 {
        let open = self.open.load(Ordering::SeqCst);
        self.most_open.store(open, Ordering::SeqCst);
        open
    }

    fn peak(&self) -> u64 {
        self.most_open.load(Ordering::SeqCst)
    }
}

/// The tables of a write set are staged side by side, not one after another: a write set of
/// two tables and their staged scopes has its requests in flight together, so the client holds more connections at
/// once than it did idle before the write. (One after another, the write reused one connection.)
fn team_game_row() -> Vec<Value> {
    TEAM_OFFENSE_GAME_SUMMARY.row(vec![
        ("game_id", Value::String("20250115_LAL_GSW".into())),
        ("game_date", Value::Date(date("2025-01-15"))),
        ("team_abbr", Value::String("LAL".into())),
        ("opponent_team_abbr", Value::String("GSW".into())),
        ("season_year", Value::Int(2024)),
    ])
}

#[tokio::test]
async fn the_tables_of_a_write_set_are_staged_side_by_side() {
    let Some(host) = emulator_host() else { return };
    let relay = ConnectionRelay::start(&host).await;
    let backend = Backend::emulator(&relay.address).await;
    let idle = relay.restart_peak();
    let day = ReplaceScope::Partitions(vec![date("2025-01-15")]);
    let writes = vec![
        TableWrite::replace(&ML_FEATURE_STORE_V2, day.clone(), vec![feature_row("lebronjames", 97.35)], true),
        TableWrite::replace(&TEAM_OFFENSE_GAME_SUMMARY, day, vec![team_game_row()], true),
    ];
    backend.warehouse.write_together(writes).await.expect("the write set commits");
    assert!(relay.peak() >= idle + 2, "{} connections at most, {idle} idle before the write", relay.peak());
    let written = export(backend.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await;
    assert!(written.contains("LAL"), "{written}");
}

/// The three real processors over two demo dates (2024-11-06 and 2024-11-07, the first after the
/// early-season window), then a forced rerun: DuckDB and the emulator must write the same rows,
/// apart from the run timestamps, and no key twice.
#[tokio::test]
async fn the_three_processors_write_identical_rows_on_duckdb_and_the_emulator() {
    let Some(host) = emulator_host() else { return };
    let outputs = [&PLAYER_GAME_SUMMARY, &PLAYER_COMPOSITE_FACTORS, &ML_FEATURE_STORE_V2];
    let mut exports: Vec<Vec<String>> = Vec::new();
    for backend in [Backend::duckdb().await, Backend::emulator(&host).await] {
        let warehouse = backend.warehouse.as_ref();
        load_directory(warehouse, &schedule_directory()).await.expect("the schedule loads");
        load_directory(warehouse, &two_dates_fixture()).await.expect("the fixture loads");
        for force in [false, true] {
            run_real_processors(warehouse, &backend.settings, force, backend.name).await;
        }
        let mut tables = Vec::new();
        for table in outputs {
            // The run stamps of this run and of the upstream runs it read.
            let stamps = ["processed_at", "created_at", "source_composite_last_updated"];
            tables.push(export_masking(warehouse, table, &stamps).await);
        }
        exports.push(tables);
    }
    for (index, table) in outputs.iter().enumerate() {
        assert_same_export(table, &exports[0][index], &exports[1][index]);
        assert!(exports[0][index].lines().count() > 100, "{table} has rows");
    }
}

/// The read of a returning player's older games ranks them in the warehouse
/// (`crate::ml_feature_store`): on both backends it must bring the same games, copies included.
#[tokio::test]
async fn a_returning_players_last_10_reach_two_seasons_back_on_the_emulator_too() {
    let Some(host) = emulator_host() else { return };
    for backend in [Backend::duckdb().await, Backend::emulator(&host).await] {
        let warehouse = backend.warehouse.as_ref();
        crate::ml_feature_store::load_returning_player(warehouse, true).await;
        crate::ml_feature_store::run_both_dates(warehouse, &backend.settings).await;
        assert_eq!(
            crate::ml_feature_store::game_features(warehouse).await,
            crate::ml_feature_store::expected_game_features(),
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn an_unresolved_names_review_survives_a_rerun_on_the_emulator_too() {
    let Some(host) = emulator_host() else { return };
    let backend = Backend::emulator(&host).await;
    crate::player_game_summary::load_real_date(backend.warehouse.as_ref(), "victorwembanyama").await;
    crate::player_game_summary::review_and_rerun(backend.warehouse.as_ref(), &backend.settings).await;
}

fn two_dates_fixture() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/two_dates")
}

/// PGS, PCF and MLFS in dependency order over the fixture's two dates.
async fn run_real_processors(warehouse: &dyn Warehouse, settings: &Settings, force: bool, backend: &str) {
    let options = RunOptions {
        dates: vec![date("2024-11-06"), date("2024-11-07")],
        backfill: true,
        skip_preflight: false,
        dry_run: false,
        force,
        dispatch: DispatchMode::Parallel { workers: 4 },
        chunk_dates: 16,
    };
    let summaries = [
        run(&PlayerGameSummaryProcessor, warehouse, settings, &options).await.expect("PGS runs"),
        run(&PlayerCompositeFactorsProcessor, warehouse, settings, &options).await.expect("PCF runs"),
        run(&MlFeatureStoreProcessor, warehouse, settings, &options).await.expect("MLFS runs"),
    ];
    for summary in summaries {
        assert!(summary.failed_dates().is_empty(), "{backend}: {:?}", summary.outcomes);
    }
}
