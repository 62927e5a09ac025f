//! Bad upstream rows for the ML Feature Store on the demo date 2024-11-06 (331 players), after
//! PGS and PCF have run on the fixture: every case edits one player's (or his team's or
//! opponent's) upstream rows, runs MLFS to completion and checks that each player became a row
//! of 25 finite features with a quality score in 0..=100, or a failure with a reason.

use chrono::{NaiveDate, TimeZone as _, Utc};
use framework::schema::analytics::{
    PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT,
};
use framework::schema::orchestration::REPROCESS_ATTEMPTS;
use framework::schema::precompute::{
    PLAYER_COMPOSITE_FACTORS, PLAYER_DAILY_CACHE, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
};
use framework::schema::raw::NBAC_SCHEDULE;
use framework::schema::{ColumnType, Table};
use framework::{Query, ToValue, Value};
use ml_feature_store::MlFeatureStoreProcessor;
use ml_feature_store::extract::COLUMNS_READ;
use player_composite_factors::PlayerCompositeFactorsProcessor;

use super::*;

/// UPGC players of [`DEMO_DATE`].
const PLAYERS: usize = 331;
/// The player every case spoils: GSW at BOS on [`DEMO_DATE`].
const PLAYER: &str = "aaronrobinson";
const TEAM: &str = "GSW";
const OPPONENT: &str = "BOS";
/// GSW's game before [`DEMO_DATE`]: the player's history row and his team's result.
const EARLIER_DATE: &str = "2024-11-04";
const EARLIER_GAME_ID: &str = "20241104_GSW_WAS";
const EARLIER_SCHEDULE_ID: &str = "0022400155";

/// The demo bench with PCF's rows of both dates and one earlier game of [`PLAYER`] in
/// `player_game_summary` (the fixture's box scores start on the demo date, so without it the
/// player would have no history to spoil).
async fn mlfs_bench(name: &str) -> DemoBench {
    let bench = DemoBench::new(name).await;
    let summary = bench
        .bench
        .run(&PlayerCompositeFactorsProcessor, &[DEMO_DATE, DEMO_NEXT_DATE], |options| {
            options.backfill = true
        })
        .await;
    assert!(summary.failed_dates().is_empty(), "{summary:?}");
    let mut earlier = bench.rows(&PLAYER_GAME_SUMMARY, DEMO_DATE).await;
    earlier.retain(|row| cell_of(&PLAYER_GAME_SUMMARY, row, "player_lookup").as_str() == Some(PLAYER));
    assert_eq!(earlier.len(), 1);
    set_cell(&PLAYER_GAME_SUMMARY, &mut earlier[0], "game_date", day(EARLIER_DATE).to_value());
    set_cell(&PLAYER_GAME_SUMMARY, &mut earlier[0], "game_id", EARLIER_GAME_ID.to_value());
    bench.store(&PLAYER_GAME_SUMMARY, day(EARLIER_DATE), earlier).await.expect("the history row is stored");
    bench
}

/// The date and (column, value) of the row a case spoils in `table`.
fn target_row(table: &Table) -> (&'static str, &'static str, &'static str) {
    if [
        &UPCOMING_PLAYER_GAME_CONTEXT,
        &PLAYER_DAILY_CACHE,
        &PLAYER_COMPOSITE_FACTORS,
        &PLAYER_SHOT_ZONE_ANALYSIS,
    ]
    .contains(&table)
    {
        (DEMO_DATE, "player_lookup", PLAYER)
    } else if table == &TEAM_DEFENSE_ZONE_ANALYSIS {
        (DEMO_DATE, "team_abbr", OPPONENT)
    } else if table == &REPROCESS_ATTEMPTS {
        (DEMO_DATE, "entity_id", PLAYER)
    } else if table == &PLAYER_GAME_SUMMARY {
        (EARLIER_DATE, "player_lookup", PLAYER)
    } else if table == &TEAM_OFFENSE_GAME_SUMMARY {
        (EARLIER_DATE, "team_abbr", TEAM)
    } else if table == &NBAC_SCHEDULE {
        (EARLIER_DATE, "game_id", EARLIER_SCHEDULE_ID)
    } else {
        panic!("MLFS does not read {table}")
    }
}

/// A tripped circuit breaker for [`PLAYER`] that ends long after any run of this suite.
fn tripped_attempt() -> Vec<Value> {
    let attempted = Utc.with_ymd_and_hms(2024, 11, 6, 12, 0, 0).unwrap();
    REPROCESS_ATTEMPTS.row(vec![
        ("processor_name", "ml_feature_store_v2".to_value()),
        ("entity_id", PLAYER.to_value()),
        ("analysis_date", day(DEMO_DATE).to_value()),
        ("attempt_number", Value::Int(3)),
        ("attempted_at", attempted.to_value()),
        ("circuit_breaker_tripped", Value::Bool(true)),
        ("circuit_breaker_until", Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap().to_value()),
        ("created_at", attempted.to_value()),
    ])
}

async fn rows_to_spoil(bench: &DemoBench, table: &'static Table) -> (NaiveDate, Vec<Vec<Value>>, usize) {
    let (date, column, value) = target_row(table);
    let mut rows = bench.rows(table, date).await;
    if table == &REPROCESS_ATTEMPTS {
        rows.push(tripped_attempt());
    }
    let index = position(table, &rows, column, value);
    (day(date), rows, index)
}

async fn run(bench: &DemoBench, edits: Vec<Edit>) -> Outcome {
    bench.run_case(&MlFeatureStoreProcessor, DEMO_DATE, edits, |_| {}).await
}

/// Output rows of the date that break the documented shape (reference-mlfs.md §5, README §4
/// item 9): 25 features and 25 names, a quality score in 0..=100 and a tier. NULL or non-finite
/// elements are caught by [`non_finite_cells`] in every case.
async fn rows_out_of_range(bench: &DemoBench) -> Vec<Vec<Value>> {
    query_rows(
        bench.warehouse(),
        "SELECT player_lookup FROM {nba_predictions.ml_feature_store_v2} WHERE game_date = '2024-11-06' \
         AND NOT coalesce(len(features) = 25 AND len(feature_names) = 25 AND feature_count = 25 \
         AND feature_quality_score BETWEEN 0 AND 100 AND quality_tier IS NOT NULL, false) ORDER BY 1",
    )
    .await
}

async fn player_row(bench: &DemoBench, player: &str, columns: &str) -> Vec<Vec<Value>> {
    bench
        .warehouse()
        .query(
            &Query::new(format!(
                "SELECT {columns} FROM {{nba_predictions.ml_feature_store_v2}} \
                 WHERE game_date = '2024-11-06' AND player_lookup = @player"
            ))
            .bind("player", player),
        )
        .await
        .expect("the row reads")
        .rows
}

fn all_computed(outcome: &Outcome) {
    outcome.assert_accounted();
    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{outcome:?}");
}

#[tokio::test]
async fn the_unspoiled_date_computes_every_player_within_range() {
    let bench = mlfs_bench("mlfs-baseline").await;
    all_computed(&run(&bench, Vec::new()).await);
    assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new());
}

#[tokio::test]
async fn a_null_in_any_column_read_defaults_or_fails_one_player() {
    let bench = mlfs_bench("mlfs-null-columns").await;
    let mut tried = 0;
    for (table, columns) in COLUMNS_READ {
        for column in columns {
            let (date, mut rows, index) = rows_to_spoil(&bench, table).await;
            set_cell(table, &mut rows[index], column, Value::Null);
            let definition = table.column(column).expect("MLFS reads columns of the schema");
            tried += 1;
            if table.enforces_not_null(definition) {
                let refused = bench.store(table, date, rows).await.unwrap_err().to_string();
                assert!(refused.contains("NOT NULL constraint failed"), "{table}.{column}: {refused}");
                continue;
            }
            let outcome = run(&bench, vec![Edit { table, date, rows }]).await;
            outcome.assert_accounted();
            let case = format!("{table}.{column}: {outcome:?}");
            match (table.name, *column) {
                ("upcoming_player_game_context", "game_id") => assert_eq!(
                    outcome.only_failure(),
                    ("MISSING_DATA", "No game_id in upcoming_player_game_context"),
                    "{case}"
                ),
                ("reprocess_attempts", "circuit_breaker_tripped" | "circuit_breaker_until") => {
                    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{case}")
                }
                ("reprocess_attempts", _) => {
                    assert_eq!(outcome.failures[0].0, PLAYER, "{case}");
                    assert_eq!(
                        outcome.only_failure(),
                        ("CIRCUIT_BREAKER_ACTIVE", "Circuit breaker active until 2099-01-01 00:00:00+00:00"),
                        "{case}"
                    );
                }
                _ => assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{case}"),
            }
            assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new(), "{case}");
        }
    }
    assert_eq!(tried, COLUMNS_READ.iter().map(|(_, columns)| columns.len()).sum::<usize>());
    assert_eq!(tried, 79);
}

#[tokio::test]
async fn extremely_large_numbers_in_any_column_read_keep_every_feature_finite() {
    let bench = mlfs_bench("mlfs-large").await;
    let mut tried = 0;
    for (table, columns) in COLUMNS_READ {
        for column in columns.iter().filter(|column| !table.key.contains(*column)) {
            let column_type = table.column(column).expect("MLFS reads columns of the schema").column_type;
            for value in extremes(column_type) {
                let (date, mut rows, index) = rows_to_spoil(&bench, table).await;
                set_cell(table, &mut rows[index], column, value.clone());
                let outcome = run(&bench, vec![Edit { table, date, rows }]).await;
                outcome.assert_accounted();
                let case = format!("{table}.{column} = {value:?}: {outcome:?}");
                if table == &REPROCESS_ATTEMPTS {
                    assert_eq!(outcome.only_failure().0, "CIRCUIT_BREAKER_ACTIVE", "{case}");
                } else {
                    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{case}");
                }
                assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new(), "{case}");
                tried += 1;
            }
        }
    }
    assert_eq!(tried, 54);
}

#[tokio::test]
async fn nan_and_infinities_in_any_number_read_give_the_row_of_a_null() {
    // The warehouse stores a non-finite float as NULL (README §4 item 9), so MLFS meets NaN and
    // ±inf as missing values: the player's row must be exactly his row with a NULL there.
    let bench = mlfs_bench("mlfs-non-finite").await;
    let mut tried = 0;
    for (table, columns) in COLUMNS_READ {
        for column in columns.iter().filter(|column| !table.key.contains(*column)) {
            let column_type = table.column(column).expect("MLFS reads columns of the schema").column_type;
            if !matches!(column_type, ColumnType::Numeric { .. } | ColumnType::Float64) {
                continue;
            }
            let mut rows_by_value = Vec::new();
            for value in [
                Value::Null,
                Value::Float(f64::NAN),
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
            ] {
                let (date, mut rows, index) = rows_to_spoil(&bench, table).await;
                set_cell(table, &mut rows[index], column, value.clone());
                let outcome = run(&bench, vec![Edit { table, date, rows }]).await;
                all_computed(&outcome);
                let row = player_row(&bench, PLAYER, "* EXCLUDE (created_at, updated_at)").await;
                rows_by_value.push((value, row));
                tried += 1;
            }
            let (_, null_row) = &rows_by_value[0];
            for (value, row) in &rows_by_value[1..] {
                assert_eq!(row, null_row, "{table}.{column} = {value:?}");
            }
        }
    }
    assert_eq!(tried, 72);
}

#[tokio::test]
async fn odd_lookups_and_labels_are_kept_byte_for_byte_or_fall_back_to_defaults() {
    let bench = mlfs_bench("mlfs-strings").await;
    for odd in odd_texts() {
        let case = format!("{odd:?}");
        let (date, mut rows, index) = rows_to_spoil(&bench, &UPCOMING_PLAYER_GAME_CONTEXT).await;
        set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "player_lookup", text(&odd));
        all_computed(&run(&bench, vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await);
        assert_eq!(player_row(&bench, &odd, "player_lookup").await, vec![vec![text(&odd)]], "{case}");
        assert_eq!(player_row(&bench, PLAYER, "player_lookup").await, Vec::<Vec<Value>>::new(), "{case}");

        // An unknown team, opponent, status and phase: the defaults, the label kept as given.
        let (date, mut rows, index) = rows_to_spoil(&bench, &UPCOMING_PLAYER_GAME_CONTEXT).await;
        for column in ["team_abbr", "opponent_team_abbr", "player_status", "season_phase"] {
            set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], column, text(&odd));
        }
        all_computed(&run(&bench, vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await);
        // team_win_pct defaults to 0.5 without five team games (README §4 item 15).
        assert_eq!(
            player_row(&bench, PLAYER, "opponent_team_abbr, features[25]").await,
            vec![vec![text(&odd), Value::Float(0.5)]],
            "{case}"
        );
        assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new(), "{case}");
    }
}

#[tokio::test]
async fn of_duplicate_upstream_keys_the_latest_processed_at_wins_in_either_order() {
    let bench = mlfs_bench("mlfs-duplicates").await;
    let later = Utc.with_ymd_and_hms(2024, 11, 6, 11, 0, 0).unwrap().to_value();
    // (table, changed column, newer value, the output column showing which row won, its value)
    let cases: [(&'static Table, &str, Value, &str, Value); 4] = [
        (
            &UPCOMING_PLAYER_GAME_CONTEXT,
            "universal_player_id",
            text("newer_001"),
            "universal_player_id",
            text("newer_001"),
        ),
        (&PLAYER_DAILY_CACHE, "points_avg_last_5", Value::Float(42.5), "features[1]", Value::Float(42.5)),
        (&PLAYER_COMPOSITE_FACTORS, "fatigue_score", Value::Int(41), "features[6]", Value::Float(41.0)),
        (
            &TEAM_DEFENSE_ZONE_ANALYSIS,
            "defensive_rating_last_15",
            Value::Float(123.45),
            "features[14]",
            Value::Float(123.45),
        ),
    ];
    for (table, column, newer_value, shown_by, shown) in cases {
        // The processed_at of a PCF row is the run's stamp: the newer copy must be later still.
        let later = if table == &PLAYER_COMPOSITE_FACTORS {
            Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap().to_value()
        } else {
            later.clone()
        };
        for (newer_first, older_stamp) in [(false, None), (true, None), (false, Some(Value::Null))] {
            let (date, mut rows, index) = rows_to_spoil(&bench, table).await;
            let mut newer = rows[index].clone();
            set_cell(table, &mut newer, column, newer_value.clone());
            set_cell(table, &mut newer, "processed_at", later.clone());
            if let Some(stamp) = older_stamp {
                set_cell(table, &mut rows[index], "processed_at", stamp);
            }
            if newer_first {
                rows.insert(0, newer);
            } else {
                rows.push(newer);
            }
            all_computed(&run(&bench, vec![Edit { table, date, rows }]).await);
            assert_eq!(player_row(&bench, PLAYER, shown_by).await, vec![vec![shown.clone()]], "{table}");
        }
    }
    let rows = bench.rows(&UPCOMING_PLAYER_GAME_CONTEXT, DEMO_DATE).await;
    let doubled = rows.iter().chain(&rows).cloned().collect();
    let edits = vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date: day(DEMO_DATE), rows: doubled }];
    all_computed(&run(&bench, edits).await);
}

/// The demo date's rows of MLFS's five per-date tables, moved to `date`.
async fn demo_rows_moved_to(bench: &DemoBench, date: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for table in [
        &UPCOMING_PLAYER_GAME_CONTEXT,
        &PLAYER_DAILY_CACHE,
        &PLAYER_COMPOSITE_FACTORS,
        &PLAYER_SHOT_ZONE_ANALYSIS,
        &TEAM_DEFENSE_ZONE_ANALYSIS,
    ] {
        let partition = table.partition.expect("partitioned");
        let mut rows = bench.rows(table, DEMO_DATE).await;
        for row in &mut rows {
            set_cell(table, row, partition, day(date).to_value());
        }
        edits.push(Edit { table, date: day(date), rows });
    }
    edits
}

#[tokio::test]
async fn dates_out_of_season_are_computed_from_their_rows_or_skipped_early() {
    let bench = mlfs_bench("mlfs-out-of-season").await;
    for date in ["2024-08-15", "1950-01-02", "2999-12-31"] {
        let edits = demo_rows_moved_to(&bench, date).await;
        all_computed(&bench.run_case(&MlFeatureStoreProcessor, date, edits, |_| {}).await);
    }
    let edits = demo_rows_moved_to(&bench, "2024-10-25").await;
    let outcome = bench.run_case(&MlFeatureStoreProcessor, "2024-10-25", edits, |_| {}).await;
    assert_eq!(outcome.status, DateStatus::Skipped { reason: "early_season".to_owned() });
    assert_eq!(
        (outcome.history.status.as_str(), outcome.history.skip_reason.as_deref(), outcome.rows),
        ("skipped", Some("early_season"), 0)
    );
}

#[tokio::test]
async fn an_empty_date_and_a_date_with_some_tables_fail_or_compute_with_defaults() {
    let bench = mlfs_bench("mlfs-partial").await;
    let empty_date = "2024-11-08";
    let outcome = bench.run_case(&MlFeatureStoreProcessor, empty_date, Vec::new(), |_| {}).await;
    outcome.assert_failed(
        "missing critical dependencies: nba_precompute.player_daily_cache (0 rows, 1 needed), \
         nba_precompute.player_composite_factors (0 rows, 1 needed), \
         nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
         nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)",
    );
    assert_eq!(outcome.rows, 0);
    let outcome = bench
        .run_case(&MlFeatureStoreProcessor, empty_date, Vec::new(), |options| options.skip_preflight = true)
        .await;
    outcome.assert_failed("no entities to process for the date");

    // UPGC and the daily cache only: the preflight names the three missing tables; past it,
    // every player is computed with the defaults.
    let some_tables = || -> Vec<Edit> {
        [&PLAYER_COMPOSITE_FACTORS, &PLAYER_SHOT_ZONE_ANALYSIS, &TEAM_DEFENSE_ZONE_ANALYSIS]
            .into_iter()
            .map(|table| Edit { table, date: day(DEMO_DATE), rows: Vec::new() })
            .collect()
    };
    run(&bench, some_tables()).await.assert_failed(
        "missing critical dependencies: nba_precompute.player_composite_factors (0 rows, 1 needed), \
         nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
         nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)",
    );
    let outcome = bench
        .run_case(&MlFeatureStoreProcessor, DEMO_DATE, some_tables(), |options| options.skip_preflight = true)
        .await;
    all_computed(&outcome);
    assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new());

    // Everything but UPGC: no player to compute, and the rows of the previous run stay.
    let edits = vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date: day(DEMO_DATE), rows: Vec::new() }];
    let outcome = bench
        .run_case(&MlFeatureStoreProcessor, DEMO_DATE, edits, |options| options.skip_preflight = true)
        .await;
    outcome.assert_failed("no entities to process for the date");
    assert_eq!(outcome.rows, PLAYERS as i64);
}
