//! Player Game Summary end to end on the embedded warehouse, with the real 2024-01-15 box scores.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use framework::config::Settings;
use framework::dispatch::DispatchMode;
use framework::runner::{DateStatus, RunOptions, run};
use framework::schema::raw::BDL_PLAYER_BOXSCORES;
use framework::schema::reference::{NBA_PLAYERS_REGISTRY, UNRESOLVED_PLAYER_NAMES};
use framework::{Query, ReplaceScope, ToValue, Value, Warehouse};
use player_game_summary::PlayerGameSummaryProcessor;
use player_game_summary::bdl_json::{bdl_rows_from_api_json, bdl_table_rows};

use crate::util::{TempDir, date, open, query_rows, settings_in, shared_data};

/// Loads the real box scores and a registry holding every player but `missing_player`.
pub(crate) async fn load_real_date(warehouse: &dyn Warehouse, missing_player: &str) -> usize {
    let path = shared_data().join("real/2024-01-15/bdl_box_scores_2024-01-15.json");
    let rows = bdl_rows_from_api_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let loaded_at = Utc.with_ymd_and_hms(2024, 1, 16, 6, 0, 0).unwrap();
    let cells = bdl_table_rows(&rows, "bdl_box_scores_2024-01-15.json", loaded_at);
    warehouse
        .replace(&BDL_PLAYER_BOXSCORES, ReplaceScope::Partitions(vec![date("2024-01-15")]), cells, false)
        .await
        .unwrap();
    let registry: Vec<Vec<Value>> = rows
        .iter()
        .filter(|row| row.player_lookup != missing_player)
        .map(|row| {
            NBA_PLAYERS_REGISTRY.row(vec![
                ("universal_player_id", format!("{}_001", row.player_lookup).to_value()),
                ("player_name", row.player_full_name.to_value()),
                ("player_lookup", row.player_lookup.to_value()),
                ("team_abbr", row.team_abbr.to_value()),
                ("season", "2023-24".to_value()),
                ("processed_at", loaded_at.to_value()),
            ])
        })
        .collect();
    warehouse.replace(&NBA_PLAYERS_REGISTRY, ReplaceScope::WholeTable, registry, false).await.unwrap();
    rows.len()
}

#[tokio::test]
async fn real_box_scores_become_summaries_with_hand_computed_values() {
    let folder = TempDir::new("pgs-real");
    let settings = settings_in(folder.path());
    let warehouse = open(&settings).await;
    let lines = load_real_date(warehouse.as_ref(), "victorwembanyama").await;
    assert_eq!(lines, 384);

    let options = RunOptions {
        dates: vec![date("2024-01-15")],
        backfill: true,
        skip_preflight: false,
        dry_run: false,
        force: false,
        dispatch: DispatchMode::Parallel { workers: 4 },
        chunk_dates: 16,
    };
    let summary = run(&PlayerGameSummaryProcessor, warehouse.as_ref(), &settings, &options).await.unwrap();
    assert_eq!(summary.outcomes[0].status, DateStatus::Succeeded { rows: 383, failures: 1 });

    let lebron = query_rows(
        warehouse.as_ref(),
        "SELECT game_id, team_abbr, opponent_team_abbr, points, minutes_played, efg_pct, ts_pct, usage_rate, win_flag, \
         universal_player_id, quality_tier FROM {nba_analytics.player_game_summary} WHERE player_lookup = 'lebronjames'",
    )
    .await;
    // LeBron, 2024-01-15 at home to OKC: 25 points, 12/20 FG with 1 three, 1 FTA, 39 minutes.
    // eFG (12 + 0.5·1)/20 = 0.625; TS 25/(2·(20 + 0.44·1)) = 0.6115 → 0.612;
    // usage 100·25.44·48/(39·108.92) = 28.747 → 28.7 (25.44 = FGA + 0.44·FTA + TO; 108.92 the
    // Lakers' FGA + 0.44·FTA + TO); the Lakers won.
    assert_eq!(
        lebron,
        vec![vec![
            Value::String("20240115_OKC_LAL".into()),
            Value::String("LAL".into()),
            Value::String("OKC".into()),
            Value::Int(25),
            Value::Float(39.0),
            Value::Float(0.625),
            Value::Float(0.612),
            Value::Float(28.7),
            Value::Bool(true),
            Value::String("lebronjames_001".into()),
            Value::String("silver".into()),
        ]]
    );

    let failures = query_rows(
        warehouse.as_ref(),
        "SELECT entity_id, failure_category FROM {nba_processing.analytics_failures}",
    )
    .await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0][1], Value::String("MISSING_DATA".into()));
    assert!(failures[0][0].as_str().unwrap().ends_with("/victorwembanyama"));
    let unresolved = query_rows(
        warehouse.as_ref(),
        "SELECT normalized_lookup, original_name, occurrences, status FROM {nba_reference.unresolved_player_names}",
    )
    .await;
    assert_eq!(
        unresolved,
        vec![vec![
            Value::String("victorwembanyama".into()),
            Value::String("Victor Wembanyama".into()),
            Value::Int(1),
            Value::String("pending".into()),
        ]]
    );
    let keys = query_rows(
        warehouse.as_ref(),
        "SELECT count(*), count(DISTINCT (game_date, game_id, player_lookup)) FROM {nba_analytics.player_game_summary}",
    )
    .await;
    assert_eq!(keys[0][0], keys[0][1]);
}

/// A warehouse in a folder of its own holding the real date without Victor Wembanyama in the
/// registry ([`load_real_date`]), and its settings.
async fn real_date_without_wembanyama(folder_name: &str) -> (TempDir, Settings, Arc<dyn Warehouse>) {
    let folder = TempDir::new(folder_name);
    let settings = settings_in(folder.path());
    let warehouse = open(&settings).await;
    load_real_date(warehouse.as_ref(), "victorwembanyama").await;
    (folder, settings, warehouse)
}

/// [`real_date_without_wembanyama`] after a first backfill of the date, with the unresolved-name
/// rows it stored (his).
async fn real_date_run_once(folder_name: &str) -> (TempDir, Settings, Arc<dyn Warehouse>, Vec<Vec<Value>>) {
    let (folder, settings, warehouse) = real_date_without_wembanyama(folder_name).await;
    run(&PlayerGameSummaryProcessor, warehouse.as_ref(), &settings, &backfill_of_the_real_date(false))
        .await
        .unwrap();
    let names = stored_unresolved_names(warehouse.as_ref()).await;
    (folder, settings, warehouse, names)
}

/// A forced rerun of the real date on `warehouse` that saves (383 rows, his name the one
/// failure), with the log it wrote.
async fn forced_rerun_that_saves(warehouse: &dyn Warehouse, settings: &Settings) -> String {
    crate::util::captured_log(async {
        let rerun = run(&PlayerGameSummaryProcessor, warehouse, settings, &backfill_of_the_real_date(true))
            .await
            .unwrap();
        assert_eq!(rerun.outcomes[0].status, DateStatus::Succeeded { rows: 383, failures: 1 });
    })
    .await
}

/// Every row of `unresolved_player_names`, every column.
async fn stored_unresolved_names(warehouse: &dyn Warehouse) -> Vec<Vec<Value>> {
    warehouse.query(&Query::new("SELECT * FROM {nba_reference.unresolved_player_names}")).await.unwrap().rows
}

/// A backfill of the real date, forced or not.
fn backfill_of_the_real_date(force: bool) -> RunOptions {
    RunOptions {
        dates: vec![date("2024-01-15")],
        backfill: true,
        skip_preflight: false,
        dry_run: false,
        force,
        dispatch: DispatchMode::Parallel { workers: 2 },
        chunk_dates: 16,
    }
}

#[tokio::test]
async fn a_rerun_keeps_what_a_reviewer_wrote_about_an_unresolved_name_and_counts_its_date_once() {
    let (_folder, settings, warehouse) = real_date_without_wembanyama("pgs-review").await;
    review_and_rerun(warehouse.as_ref(), &settings).await;
}

/// Runs 2024-01-15 (loaded by [`load_real_date`] without Victor Wembanyama), snoozes his
/// unresolved name as a reviewer would, reruns the date and checks the review, the count and the
/// first run's `created_at` survived.
pub(crate) async fn review_and_rerun(warehouse: &dyn Warehouse, settings: &Settings) {
    run(&PlayerGameSummaryProcessor, warehouse, settings, &backfill_of_the_real_date(false)).await.unwrap();

    let mut stored = stored_unresolved_names(warehouse).await;
    assert_eq!(stored.len(), 1);
    let cell = |column: &str| UNRESOLVED_PLAYER_NAMES.column_index(column).unwrap();
    let created_at = stored[0][cell("created_at")].clone();
    stored[0][cell("status")] = "snoozed".to_value();
    stored[0][cell("notes")] = "rookie, registry catches up next week".to_value();
    stored[0][cell("reviewed_by")] = "analyst@example.com".to_value();
    warehouse.replace(&UNRESOLVED_PLAYER_NAMES, ReplaceScope::Keys, stored, false).await.unwrap();

    forced_rerun_that_saves(warehouse, settings).await;
    let after = query_rows(
        warehouse,
        "SELECT normalized_lookup, status, notes, reviewed_by, occurrences, first_seen_date, last_seen_date, \
         created_at FROM {nba_reference.unresolved_player_names}",
    )
    .await;
    assert_eq!(
        after,
        vec![vec![
            "victorwembanyama".to_value(),
            "snoozed".to_value(),
            "rookie, registry catches up next week".to_value(),
            "analyst@example.com".to_value(),
            Value::Int(1),
            Value::Date(date("2024-01-15")),
            Value::Date(date("2024-01-15")),
            created_at,
        ]]
    );
}

/// An incremental Phase 3 run of the reference replaced the date with the changed players'
/// rows only, deleting everyone else's (reference-framework.md §14 item 9). Here a date whose
/// inputs changed for one player is recomputed whole and replaced keyed: the other 34 players
/// keep their rows and values, the changed player gets his new points.
#[tokio::test]
async fn reference_framework_14_9_a_rerun_after_one_player_changed_keeps_every_other_players_row() {
    use crate::reliability::{Bench, GAME_DATE, cell, load_pgs_date, real_bdl_rows, set};
    let bench = Bench::new("pgs-one-player-changed").await;
    load_pgs_date(bench.warehouse.as_ref(), real_bdl_rows()).await;
    let first = bench.run(&PlayerGameSummaryProcessor, &[GAME_DATE], |options| options.backfill = true).await;
    assert_eq!(first.outcomes[0].status, DateStatus::Succeeded { rows: 35, failures: 0 });
    let points_by_player =
        "SELECT player_lookup, points FROM {nba_analytics.player_game_summary} ORDER BY player_lookup";
    let before = query_rows(bench.warehouse.as_ref(), points_by_player).await;
    assert_eq!(before.len(), 35);

    let mut bdl = real_bdl_rows();
    let changed = cell(&bdl[0], "player_lookup").clone();
    let old_points = cell(&bdl[0], "points").as_i64().unwrap();
    set(&mut bdl[0], "points", Value::Int(old_points + 10));
    load_pgs_date(bench.warehouse.as_ref(), bdl).await;
    let rerun =
        bench.run(&PlayerGameSummaryProcessor, &[GAME_DATE], |options| options.skip_preflight = true).await;
    assert_eq!(rerun.outcomes[0].status, DateStatus::Succeeded { rows: 35, failures: 0 });

    let expected: Vec<Vec<Value>> = before
        .into_iter()
        .map(|row| if row[0] == changed { vec![row[0].clone(), Value::Int(old_points + 10)] } else { row })
        .collect();
    assert_eq!(query_rows(bench.warehouse.as_ref(), points_by_player).await, expected);
}

/// A warehouse where another writer (a shard running other dates) commits to the unresolved
/// names between a run's read of their stored rows and its write: it adds 100 sightings and
/// stamps its own `processed_at`, once.
struct AnotherShardInBetween {
    inner: Arc<dyn Warehouse>,
    /// How many of the reads of stored names the other shard follows with a write of its own.
    interferences: usize,
    stored_reads: std::sync::atomic::AtomicUsize,
}

impl AnotherShardInBetween {
    fn interfering(inner: &Arc<dyn Warehouse>, interferences: usize) -> Self {
        AnotherShardInBetween {
            inner: Arc::clone(inner),
            interferences,
            stored_reads: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

#[async_trait::async_trait]
impl Warehouse for AnotherShardInBetween {
    async fn ensure_tables(
        &self,
        tables: &[&'static framework::schema::Table],
    ) -> Result<(), framework::WarehouseError> {
        self.inner.ensure_tables(tables).await
    }

    async fn query(
        &self,
        query: &Query,
    ) -> Result<framework::warehouse::ResultSet, framework::WarehouseError> {
        let result = self.inner.query(query).await?;
        let reads_stored_names = query.sql.contains("unresolved_player_names") && query.sql.contains(" IN (");
        if !reads_stored_names {
            return Ok(result);
        }
        let reads_before = self.stored_reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if reads_before < self.interferences {
            let cell = |column: &str| UNRESOLVED_PLAYER_NAMES.column_index(column).unwrap();
            // Each of the other shard's writes sets a newer `processed_at`, as a run does.
            let processed_at = Utc.with_ymd_and_hms(2024, 1, 20, 7, 0, 0).unwrap()
                + chrono::Duration::minutes(reads_before as i64);
            let mut theirs = result.rows.clone();
            for row in &mut theirs {
                row[cell("occurrences")] = Value::Int(row[cell("occurrences")].as_i64().unwrap() + 100);
                row[cell("processed_at")] = processed_at.to_value();
            }
            self.inner.replace(&UNRESOLVED_PLAYER_NAMES, ReplaceScope::Keys, theirs, false).await?;
        }
        Ok(result)
    }

    async fn replace(
        &self,
        table: &'static framework::schema::Table,
        scope: ReplaceScope,
        rows: Vec<Vec<Value>>,
        unique_key: bool,
    ) -> Result<framework::warehouse::WriteReport, framework::WarehouseError> {
        self.inner.replace(table, scope, rows, unique_key).await
    }

    async fn append(
        &self,
        table: &'static framework::schema::Table,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), framework::WarehouseError> {
        self.inner.append(table, rows).await
    }

    fn writes_together_atomically(&self) -> bool {
        self.inner.writes_together_atomically()
    }

    async fn write_together(
        &self,
        writes: Vec<framework::warehouse::TableWrite>,
    ) -> Result<Vec<framework::warehouse::WriteReport>, framework::WarehouseError> {
        self.inner.write_together(writes).await
    }
}

/// Two shards that see one unresolved name: the one that read its row before the other wrote it
/// is refused when it commits, reads the row again, combines its sightings with the other's and
/// commits. Without the check its write would have put back the row it read, losing the other
/// shard's 100 sightings.
#[tokio::test]
async fn a_name_another_shard_updated_after_it_was_read_is_combined_again_not_overwritten() {
    let (_folder, settings, warehouse, _) = real_date_run_once("pgs-shards").await;

    let shards = AnotherShardInBetween::interfering(&warehouse, 1);
    let log = forced_rerun_that_saves(&shards, &settings).await;
    assert!(
        log.contains(
            " WARN Rows of nba_reference.unresolved_player_names changed while this run combined them: reading \
             them again (2/5)"
        ),
        "{log}"
    );
    assert_eq!(shards.stored_reads.load(std::sync::atomic::Ordering::SeqCst), 2);
    // The other shard's 100 sightings and this date's one, counted once: the rerun adds nothing.
    let after = query_rows(
        warehouse.as_ref(),
        "SELECT normalized_lookup, occurrences, processed_at > TIMESTAMP '2024-01-20 07:00:00' \
         FROM {nba_reference.unresolved_player_names}",
    )
    .await;
    assert_eq!(after, vec![vec!["victorwembanyama".to_value(), Value::Int(101), Value::Bool(true)]]);
}

/// A save leaves a name's row a version later than the one it read, even when its own is not:
/// here the stored row was written by a shard whose clock runs ahead. A run's saves all carry
/// its start as `processed_at`; without the move, its second save of a name would leave the
/// version its first left, and a shard that read the row in between would overwrite the second
/// save's sightings with its expectation still holding.
#[tokio::test]
async fn a_saved_name_is_a_version_later_than_the_row_it_read() {
    let (_folder, settings, warehouse, mut stored) = real_date_run_once("pgs-versions").await;
    let ahead = Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap();
    stored[0][UNRESOLVED_PLAYER_NAMES.column_index("processed_at").unwrap()] = ahead.to_value();
    warehouse.replace(&UNRESOLVED_PLAYER_NAMES, ReplaceScope::Keys, stored, false).await.unwrap();

    forced_rerun_that_saves(warehouse.as_ref(), &settings).await;
    let after = query_rows(
        warehouse.as_ref(),
        "SELECT normalized_lookup, occurrences, processed_at FROM {nba_reference.unresolved_player_names}",
    )
    .await;
    let one_microsecond_later = ahead + chrono::Duration::microseconds(1);
    assert_eq!(
        after,
        vec![vec!["victorwembanyama".to_value(), Value::Int(1), one_microsecond_later.to_value()]]
    );
}

/// A name stored twice (a row another pipeline left beside ours, with an older `processed_at`):
/// the rerun combines its sighting with the latest row, keeping what the reviewer wrote on it,
/// expects that row's version, and replaces both rows with one.
#[tokio::test]
async fn a_name_stored_twice_is_combined_with_its_latest_row_and_written_once() {
    let (_folder, settings, warehouse, mut stored) = real_date_run_once("pgs-stored-twice").await;
    let cell = |column: &str| UNRESOLVED_PLAYER_NAMES.column_index(column).unwrap();
    stored[0][cell("notes")] = "rookie, registry catches up next week".to_value();
    warehouse.replace(&UNRESOLVED_PLAYER_NAMES, ReplaceScope::Keys, stored.clone(), false).await.unwrap();
    let mut older = stored[0].clone();
    older[cell("notes")] = "imported from the old pipeline".to_value();
    older[cell("occurrences")] = Value::Int(50);
    older[cell("processed_at")] = Utc.with_ymd_and_hms(2024, 1, 2, 3, 0, 0).unwrap().to_value();
    warehouse.append(&UNRESOLVED_PLAYER_NAMES, vec![older]).await.unwrap();

    let log = forced_rerun_that_saves(warehouse.as_ref(), &settings).await;
    assert!(
        log.contains(
            " WARN 2 rows share the key player_game_summary/victorwembanyama in nba_reference.unresolved_player_names: \
             the save combines with the latest processed_at and replaces them all"
        ),
        "{log}"
    );
    let after = query_rows(
        warehouse.as_ref(),
        "SELECT normalized_lookup, occurrences, notes FROM {nba_reference.unresolved_player_names}",
    )
    .await;
    assert_eq!(
        after,
        vec![vec![
            "victorwembanyama".to_value(),
            Value::Int(1),
            "rookie, registry catches up next week".to_value()
        ]]
    );
}

/// A name the other shard keeps updating between every read and write: the save is read,
/// combined and refused five times, then the date fails and the other shard's last row stays.
#[tokio::test]
async fn a_name_another_shard_keeps_updating_fails_the_date_after_five_attempts_and_keeps_their_row() {
    let (_folder, settings, warehouse, _) = real_date_run_once("pgs-busy-shards").await;

    let shards = AnotherShardInBetween::interfering(&warehouse, usize::MAX);
    let log = crate::util::captured_log(async {
        let rerun = run(&PlayerGameSummaryProcessor, &shards, &settings, &backfill_of_the_real_date(true))
            .await
            .unwrap();
        let DateStatus::Failed { error } = &rerun.outcomes[0].status else {
            panic!("the date saved: {:?}", rerun.outcomes[0].status)
        };
        assert!(error.contains("nba_reference.unresolved_player_names"), "{error}");
    })
    .await;
    for attempt in 2..=5 {
        let warning = format!(
            " WARN Rows of nba_reference.unresolved_player_names changed while this run combined them: \
             reading them again ({attempt}/5)"
        );
        assert!(log.contains(&warning), "{log}");
    }
    assert!(!log.contains("reading them again (6/5)"), "{log}");
    assert_eq!(shards.stored_reads.load(std::sync::atomic::Ordering::SeqCst), 5);
    // Five writes of the other shard, each 100 sightings on top of the row it read; none of ours.
    let after = query_rows(
        warehouse.as_ref(),
        "SELECT normalized_lookup, occurrences, processed_at FROM {nba_reference.unresolved_player_names}",
    )
    .await;
    let last_theirs = Utc.with_ymd_and_hms(2024, 1, 20, 7, 4, 0).unwrap();
    assert_eq!(after, vec![vec!["victorwembanyama".to_value(), Value::Int(501), last_theirs.to_value()]]);
}
