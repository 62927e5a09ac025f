//! Bad upstream rows for Player Composite Factors on the demo date 2024-11-06 (331 players):
//! every case edits one player's (or his opponent's) upstream rows, runs PCF to completion and
//! checks that each player became a row within the documented ranges or a failure with a reason.

use chrono::{NaiveDate, TimeZone as _, Utc};
use framework::schema::analytics::{
    PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT, UPCOMING_TEAM_GAME_CONTEXT,
};
use framework::schema::orchestration::REPROCESS_ATTEMPTS;
use framework::schema::precompute::{PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS};
use framework::schema::raw::NBAC_SCHEDULE;
use framework::schema::{ColumnType, Table};
use framework::{Query, ToValue, Value};
use player_composite_factors::PlayerCompositeFactorsProcessor;
use player_composite_factors::extract::COLUMNS_READ;

use super::*;

/// UPGC players of [`DEMO_DATE`].
const PLAYERS: usize = 331;
/// The player every case spoils: GSW at BOS, age 35, production ready.
const PLAYER: &str = "aaronrobinson";
const OPPONENT: &str = "BOS";
/// A final GSW game before [`DEMO_DATE`], in the schedule PCF reads for completeness.
const EARLIER_GAME: (&str, &str) = ("2024-11-04", "0022400155");

/// The date and (column, value) of the row a case spoils in `table`.
fn target_row(table: &Table) -> (&'static str, &'static str, &'static str) {
    if table == &UPCOMING_PLAYER_GAME_CONTEXT
        || table == &PLAYER_SHOT_ZONE_ANALYSIS
        || table == &PLAYER_GAME_SUMMARY
    {
        (DEMO_DATE, "player_lookup", PLAYER)
    } else if table == &UPCOMING_TEAM_GAME_CONTEXT || table == &TEAM_DEFENSE_ZONE_ANALYSIS {
        (DEMO_DATE, "team_abbr", OPPONENT)
    } else if table == &REPROCESS_ATTEMPTS {
        (DEMO_DATE, "entity_id", PLAYER)
    } else if table == &NBAC_SCHEDULE {
        (EARLIER_GAME.0, "game_id", EARLIER_GAME.1)
    } else {
        panic!("PCF does not read {table}")
    }
}

/// A tripped circuit breaker for [`PLAYER`] that ends long after any run of this suite: the
/// fixture has no reprocess attempts, so the NULL cases of that table start from this one.
fn tripped_attempt() -> Vec<Value> {
    let attempted = Utc.with_ymd_and_hms(2024, 11, 6, 12, 0, 0).unwrap();
    REPROCESS_ATTEMPTS.row(vec![
        ("processor_name", "player_composite_factors".to_value()),
        ("entity_id", PLAYER.to_value()),
        ("analysis_date", day(DEMO_DATE).to_value()),
        ("attempt_number", Value::Int(3)),
        ("attempted_at", attempted.to_value()),
        ("circuit_breaker_tripped", Value::Bool(true)),
        ("circuit_breaker_until", Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap().to_value()),
        ("created_at", attempted.to_value()),
    ])
}

/// The rows of `table` a case starts from, and the index of the row it spoils.
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
    bench.run_case(&PlayerCompositeFactorsProcessor, DEMO_DATE, edits, |_| {}).await
}

/// Output rows of the date outside the documented ranges (reference-pcf.md §3): fatigue
/// 35..=100, shot zone ±10, pace and usage ±3, total −19.25..=16, deferred factors 0, context
/// JSON valid. A NULL score counts as outside.
async fn rows_out_of_range(bench: &DemoBench) -> Vec<Vec<Value>> {
    query_rows(
        bench.warehouse(),
        "SELECT player_lookup FROM {nba_precompute.player_composite_factors} WHERE game_date = '2024-11-06' \
         AND NOT coalesce(fatigue_score BETWEEN 35 AND 100 AND shot_zone_mismatch_score BETWEEN -10 AND 10 \
         AND pace_score BETWEEN -3 AND 3 AND usage_spike_score BETWEEN -3 AND 3 \
         AND total_composite_adjustment BETWEEN -19.25 AND 16 AND referee_favorability_score = 0 \
         AND look_ahead_pressure_score = 0 AND travel_impact_score = 0 AND opponent_strength_score = 0 \
         AND json_valid(fatigue_context_json) AND json_valid(shot_zone_context_json) \
         AND json_valid(pace_context_json) AND json_valid(usage_context_json) \
         AND data_completeness_pct BETWEEN 0 AND 100, false) ORDER BY 1",
    )
    .await
}

/// `columns` of the output row of `player` on [`DEMO_DATE`] (none when the player failed).
async fn player_row(bench: &DemoBench, player: &str, columns: &str) -> Vec<Vec<Value>> {
    bench
        .warehouse()
        .query(
            &Query::new(format!(
                "SELECT {columns} FROM {{nba_precompute.player_composite_factors}} \
                 WHERE game_date = '2024-11-06' AND player_lookup = @player"
            ))
            .bind("player", player),
        )
        .await
        .expect("the row reads")
        .rows
}

/// The whole output row of `player`, without the run stamps, to compare two runs.
async fn player_row_without_stamps(bench: &DemoBench, player: &str) -> Vec<Vec<Value>> {
    player_row(bench, player, "* EXCLUDE (processed_at, created_at)").await
}

fn all_computed(outcome: &Outcome) {
    outcome.assert_accounted();
    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64, 0), "{outcome:?}");
}

#[tokio::test]
async fn the_unspoiled_date_computes_every_player_within_range() {
    let bench = DemoBench::new("pcf-baseline").await;
    let outcome = run(&bench, Vec::new()).await;
    all_computed(&outcome);
    assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new());
    // The player every case spoils has every input: no default is hiding a missing row.
    assert_eq!(
        player_row(&bench, PLAYER, "data_completeness_pct, missing_data_fields").await,
        vec![vec![Value::Float(100.0), Value::Null]]
    );
}

#[tokio::test]
async fn a_null_in_any_column_read_defaults_or_fails_one_player() {
    let bench = DemoBench::new("pcf-null-columns").await;
    let mut tried = 0;
    for (table, columns) in COLUMNS_READ {
        for column in columns {
            let (date, mut rows, index) = rows_to_spoil(&bench, table).await;
            set_cell(table, &mut rows[index], column, Value::Null);
            let definition = table.column(column).expect("PCF reads columns of the schema");
            tried += 1;
            if table.enforces_not_null(definition) {
                // Key columns are NOT NULL in the warehouse: the bad row never gets in.
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
                // Without an end or a tripped flag the breaker is closed; otherwise it holds.
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
    assert_eq!(tried, 57);
}

/// Regression: a NULL `game_id` in one UPGC row failed the whole date's extraction ("column
/// game_id is missing in a row that needs it"), so no player of the date got a row; now that
/// player alone fails with `MISSING_DATA`, as in MLFS.
#[tokio::test]
async fn a_null_upgc_game_id_fails_one_player_not_the_date() {
    let bench = DemoBench::new("pcf-null-game-id").await;
    let (date, mut rows, index) = rows_to_spoil(&bench, &UPCOMING_PLAYER_GAME_CONTEXT).await;
    set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "game_id", Value::Null);
    let outcome = run(&bench, vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await;
    outcome.assert_accounted();
    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64 - 1, 1));
    assert_eq!(outcome.failures[0].0, PLAYER);
    assert_eq!(player_row(&bench, PLAYER, "game_id").await, Vec::<Vec<Value>>::new());
}

/// Regression: a NULL `game_id` in one UTGC row, a column PCF reads but never uses
/// (reference-pcf.md §2.1), failed the whole date's extraction.
#[tokio::test]
async fn a_null_utgc_game_id_fails_nothing() {
    let bench = DemoBench::new("pcf-null-team-game-id").await;
    let (date, mut rows, index) = rows_to_spoil(&bench, &UPCOMING_TEAM_GAME_CONTEXT).await;
    set_cell(&UPCOMING_TEAM_GAME_CONTEXT, &mut rows[index], "game_id", Value::Null);
    all_computed(&run(&bench, vec![Edit { table: &UPCOMING_TEAM_GAME_CONTEXT, date, rows }]).await);
}

/// Regression: one `player_game_summary` row without `team_abbr`, anywhere in the 400-day
/// completeness history, failed every date of the chunk; the appearance is now left out of the
/// completeness counts instead.
#[tokio::test]
async fn a_null_team_in_the_completeness_history_fails_nothing() {
    let bench = DemoBench::new("pcf-null-history-team").await;
    let (date, mut rows, index) = rows_to_spoil(&bench, &PLAYER_GAME_SUMMARY).await;
    set_cell(&PLAYER_GAME_SUMMARY, &mut rows[index], "team_abbr", Value::Null);
    for live in [false, true] {
        let edits = vec![Edit { table: &PLAYER_GAME_SUMMARY, date, rows: rows.clone() }];
        let outcome = bench
            .run_case(&PlayerCompositeFactorsProcessor, DEMO_DATE, edits, |options| {
                options.backfill = !live;
                options.skip_preflight = live;
            })
            .await;
        all_computed(&outcome);
    }
}

#[tokio::test]
async fn extremely_large_numbers_in_any_column_read_stay_within_the_clamps() {
    let bench = DemoBench::new("pcf-large").await;
    let mut tried = 0;
    for (table, columns) in COLUMNS_READ {
        for column in columns.iter().filter(|column| !table.key.contains(*column)) {
            let column_type = table.column(column).expect("PCF reads columns of the schema").column_type;
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
    assert_eq!(tried, 36);
}

#[tokio::test]
async fn nan_and_infinities_in_any_number_read_give_the_row_of_a_null() {
    // The warehouse stores a non-finite float as NULL (README §4 item 9), so PCF meets NaN and
    // ±inf as missing values: the player's row must be exactly his row with a NULL there.
    let bench = DemoBench::new("pcf-non-finite").await;
    let mut tried = 0;
    for (table, columns) in COLUMNS_READ {
        for column in columns.iter().filter(|column| !table.key.contains(*column)) {
            let column_type = table.column(column).expect("PCF reads columns of the schema").column_type;
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
                rows_by_value.push((value, player_row_without_stamps(&bench, PLAYER).await));
                tried += 1;
            }
            let (_, null_row) = &rows_by_value[0];
            for (value, row) in &rows_by_value[1..] {
                assert_eq!(row, null_row, "{table}.{column} = {value:?}");
            }
        }
    }
    assert_eq!(tried, 44);
}

#[tokio::test]
async fn odd_player_lookups_are_kept_byte_for_byte() {
    let bench = DemoBench::new("pcf-lookups").await;
    for lookup in odd_texts() {
        let (date, mut rows, index) = rows_to_spoil(&bench, &UPCOMING_PLAYER_GAME_CONTEXT).await;
        set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "player_lookup", text(&lookup));
        let outcome = run(&bench, vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await;
        all_computed(&outcome);
        // The renamed player has no shot-zone row under the new name: its completeness drops.
        assert_eq!(
            player_row(&bench, &lookup, "player_lookup, data_completeness_pct").await,
            vec![vec![text(&lookup), Value::Float(80.0)]],
            "{lookup:?}"
        );
        assert_eq!(player_row(&bench, PLAYER, "player_lookup").await, Vec::<Vec<Value>>::new());
        assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new(), "{lookup:?}");
    }
}

#[tokio::test]
async fn odd_labels_fall_back_to_the_defaults_and_stay_valid_json() {
    let bench = DemoBench::new("pcf-labels").await;
    let zone_json = "json_extract_string(shot_zone_context_json, '$.player_primary_zone'), \
                     json_extract_string(shot_zone_context_json, '$.opponent_weak_zone')";
    for label in odd_texts() {
        let case = format!("{label:?}");
        // An unknown opponent: no defence row, so no shot-zone mismatch.
        let (date, mut rows, index) = rows_to_spoil(&bench, &UPCOMING_PLAYER_GAME_CONTEXT).await;
        set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "opponent_team_abbr", text(&label));
        all_computed(&run(&bench, vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await);
        assert_eq!(
            player_row(&bench, PLAYER, "shot_zone_mismatch_score, data_completeness_pct").await,
            vec![vec![Value::Float(0.0), Value::Float(80.0)]],
            "{case}"
        );
        // An unknown zone or weakest zone is carried into the context JSON as text.
        let (date, mut shots, index) = rows_to_spoil(&bench, &PLAYER_SHOT_ZONE_ANALYSIS).await;
        set_cell(&PLAYER_SHOT_ZONE_ANALYSIS, &mut shots[index], "primary_scoring_zone", text(&label));
        let (_, mut defenses, index) = rows_to_spoil(&bench, &TEAM_DEFENSE_ZONE_ANALYSIS).await;
        set_cell(&TEAM_DEFENSE_ZONE_ANALYSIS, &mut defenses[index], "weakest_zone", text(&label));
        let edits = vec![
            Edit { table: &PLAYER_SHOT_ZONE_ANALYSIS, date, rows: shots },
            Edit { table: &TEAM_DEFENSE_ZONE_ANALYSIS, date, rows: defenses },
        ];
        all_computed(&run(&bench, edits).await);
        assert_eq!(
            player_row(&bench, PLAYER, zone_json).await,
            vec![vec![text(&label), text(&label)]],
            "{case}"
        );
        assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new(), "{case}");
    }
}

#[tokio::test]
async fn of_duplicate_upstream_keys_the_latest_processed_at_wins_in_either_order() {
    let bench = DemoBench::new("pcf-duplicates").await;
    let later = Utc.with_ymd_and_hms(2024, 11, 6, 11, 0, 0).unwrap().to_value();
    // (table, changed column, newer value, the output column showing which row won)
    let cases: [(&'static Table, &str, Value, &str); 3] = [
        (&UPCOMING_PLAYER_GAME_CONTEXT, "universal_player_id", text("newer_001"), "universal_player_id"),
        (
            &PLAYER_SHOT_ZONE_ANALYSIS,
            "primary_scoring_zone",
            text("newer"),
            "json_extract_string(shot_zone_context_json, '$.player_primary_zone')",
        ),
        (
            &TEAM_DEFENSE_ZONE_ANALYSIS,
            "weakest_zone",
            text("newer"),
            "json_extract_string(shot_zone_context_json, '$.opponent_weak_zone')",
        ),
    ];
    for (table, column, newer_value, shown_by) in cases {
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
            let outcome = run(&bench, vec![Edit { table, date, rows }]).await;
            all_computed(&outcome);
            assert_eq!(
                player_row(&bench, PLAYER, shown_by).await,
                vec![vec![newer_value.clone()]],
                "{table}"
            );
        }
    }
    // Every UPGC row twice: still one row per player.
    let rows = bench.rows(&UPCOMING_PLAYER_GAME_CONTEXT, DEMO_DATE).await;
    let doubled = rows.iter().chain(&rows).cloned().collect();
    let edits = vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date: day(DEMO_DATE), rows: doubled }];
    all_computed(&run(&bench, edits).await);
}

/// The demo date's rows of PCF's four per-date tables, moved to `date`.
async fn demo_rows_moved_to(bench: &DemoBench, date: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for table in [
        &UPCOMING_PLAYER_GAME_CONTEXT,
        &UPCOMING_TEAM_GAME_CONTEXT,
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
    let bench = DemoBench::new("pcf-out-of-season").await;
    // The off-season, and dates far from any schedule: computed from the rows found.
    for date in ["2024-08-15", "1950-01-02", "2999-12-31"] {
        let edits = demo_rows_moved_to(&bench, date).await;
        let outcome = bench.run_case(&PlayerCompositeFactorsProcessor, date, edits, |_| {}).await;
        all_computed(&outcome);
    }
    // Inside the first 14 days of the season: skipped, and said so.
    let edits = demo_rows_moved_to(&bench, "2024-10-25").await;
    let outcome = bench.run_case(&PlayerCompositeFactorsProcessor, "2024-10-25", edits, |_| {}).await;
    assert_eq!(outcome.status, DateStatus::Skipped { reason: "early_season".to_owned() });
    assert_eq!(
        (outcome.history.status.as_str(), outcome.history.skip_reason.as_deref(), outcome.rows),
        ("skipped", Some("early_season"), 0)
    );
}

#[tokio::test]
async fn an_empty_date_and_a_date_with_some_tables_fail_or_compute_with_defaults() {
    let bench = DemoBench::new("pcf-partial").await;
    let missing_all = "missing critical dependencies: nba_analytics.upcoming_player_game_context (0 rows, 1 \
                       needed), nba_analytics.upcoming_team_game_context (0 rows, 1 needed), \
                       nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
                       nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)";
    let empty_date = "2024-11-08";
    let outcome = bench.run_case(&PlayerCompositeFactorsProcessor, empty_date, Vec::new(), |_| {}).await;
    outcome.assert_failed(missing_all);
    let outcome = bench
        .run_case(&PlayerCompositeFactorsProcessor, empty_date, Vec::new(), |options| {
            options.skip_preflight = true
        })
        .await;
    outcome.assert_failed("no entities to process for the date");

    // Only UPGC: the preflight names the three missing tables; past it, every player is
    // computed with the defaults (no shot zone, no defence) and says what was missing.
    let only_players: Vec<Edit> =
        [&UPCOMING_TEAM_GAME_CONTEXT, &PLAYER_SHOT_ZONE_ANALYSIS, &TEAM_DEFENSE_ZONE_ANALYSIS]
            .into_iter()
            .map(|table| Edit { table, date: day(DEMO_DATE), rows: Vec::new() })
            .collect();
    let clone_edits = |edits: &[Edit]| -> Vec<Edit> {
        edits
            .iter()
            .map(|edit| Edit { table: edit.table, date: edit.date, rows: edit.rows.clone() })
            .collect()
    };
    let outcome = run(&bench, clone_edits(&only_players)).await;
    outcome.assert_failed(
        "missing critical dependencies: nba_analytics.upcoming_team_game_context (0 rows, 1 needed), \
         nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
         nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)",
    );
    let outcome = bench
        .run_case(&PlayerCompositeFactorsProcessor, DEMO_DATE, only_players, |options| {
            options.skip_preflight = true
        })
        .await;
    all_computed(&outcome);
    let defaults = query_rows(
        bench.warehouse(),
        "SELECT count(*) FILTER (WHERE shot_zone_mismatch_score = 0 \
         AND missing_data_fields LIKE '%player_shot_zone, team_defense_zone') \
         FROM {nba_precompute.player_composite_factors} WHERE game_date = '2024-11-06'",
    )
    .await;
    assert_eq!(defaults, vec![vec![Value::Int(PLAYERS as i64)]]);
    assert_eq!(rows_out_of_range(&bench).await, Vec::<Vec<Value>>::new());

    // Everything but UPGC: past the preflight there is no player to compute, and the rows of
    // the previous run stay.
    let edits = vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date: day(DEMO_DATE), rows: Vec::new() }];
    let outcome = bench
        .run_case(&PlayerCompositeFactorsProcessor, DEMO_DATE, edits, |options| options.skip_preflight = true)
        .await;
    outcome.assert_failed("no entities to process for the date");
    assert_eq!(outcome.rows, PLAYERS as i64);
}
