//! Bad upstream rows on one real game (OKC at LAL, 2024-01-15, 35 box-score lines): every case
//! runs Player Game Summary to completion, and every player line read becomes either an output
//! row or a failure with a category — none is lost, none written twice, no NaN or ±inf stored.

use chrono::TimeZone as _;
use framework::runner::DateStatus;
use framework::schema::raw::{BDL_PLAYER_BOXSCORES, ODDS_API_PLAYER_POINTS_PROPS};
use framework::{ReplaceScope, ToValue, Value, Warehouse};
use player_game_summary::PlayerGameSummaryProcessor;

use super::*;

/// The player lines of [`GAME`].
const LINES: usize = 35;

/// Stores `bdl` as the date's box scores (and `props` as its prop lines), runs PGS in backfill
/// mode with `force` on `bench`, and checks what every case must hold.
async fn run_case(bench: &Bench, bdl: Vec<Vec<Value>>, props: Vec<Vec<Value>>) -> Outcome {
    let warehouse = bench.warehouse.as_ref();
    load_pgs_date(warehouse, bdl).await;
    warehouse
        .replace(&ODDS_API_PLAYER_POINTS_PROPS, ReplaceScope::Partitions(vec![day(GAME_DATE)]), props, false)
        .await
        .unwrap();
    let summary = bench
        .run(&PlayerGameSummaryProcessor, &[GAME_DATE], |options| {
            options.backfill = true;
            options.force = true;
        })
        .await;
    Outcome::read(&PlayerGameSummaryProcessor, warehouse, &summary).await
}

fn lebron_index(rows: &[Vec<Value>]) -> usize {
    rows.iter().position(|row| cell(row, "player_lookup") == &text("lebronjames")).expect("LeBron played")
}

async fn lebron(warehouse: &dyn Warehouse, columns: &str) -> Vec<Vec<Value>> {
    query_rows(
        warehouse,
        &format!(
            "SELECT {columns} FROM {{nba_analytics.player_game_summary}} WHERE player_lookup = 'lebronjames'"
        ),
    )
    .await
}

#[tokio::test]
async fn a_null_in_any_column_read_defaults_or_fails_one_player_and_loses_no_line() {
    let bench = Bench::new("null-columns").await;
    let mut tried = 0;
    for column in player_game_summary::extract::BDL_COLUMNS {
        let mut rows = real_bdl_rows();
        assert_eq!(rows.len(), LINES);
        let index = lebron_index(&rows);
        set(&mut rows[index], column, Value::Null);
        if matches!(*column, "game_id" | "player_lookup") {
            // Key columns are NOT NULL in the warehouse: the bad row never gets in.
            let refused = bench
                .warehouse
                .replace(&BDL_PLAYER_BOXSCORES, ReplaceScope::Partitions(vec![day(GAME_DATE)]), rows, false)
                .await
                .unwrap_err();
            assert!(refused.to_string().contains("NOT NULL constraint failed"), "{column}: {refused}");
            tried += 1;
            continue;
        }
        let outcome = run_case(&bench, rows, Vec::new()).await;
        outcome.assert_accounted();
        match *column {
            // Without a date the line is not on the date: 34 players read, 34 written.
            "game_date" => assert_eq!((outcome.entities, outcome.rows), (LINES - 1, (LINES - 1) as i64)),
            "season_year" => assert_eq!(
                outcome.only_failure(),
                ("MISSING_DATA", "no universal_player_id in nba_players_registry for season 0-01 or earlier")
            ),
            "team_abbr" => assert_eq!(
                outcome.only_failure(),
                ("PROCESSING_ERROR", "team  is not in game 20240115_OKC_LAL (OKC at LAL)")
            ),
            _ => {
                assert_eq!(
                    (outcome.entities, outcome.rows, outcome.failures.len()),
                    (LINES, LINES as i64, 0)
                );
            }
        }
        tried += 1;
    }
    assert_eq!(tried, player_game_summary::extract::BDL_COLUMNS.len());
    assert_eq!(tried, 30);
}

#[tokio::test]
async fn a_null_stat_is_written_as_null_not_as_zero() {
    let bench = Bench::new("null-points").await;
    let mut rows = real_bdl_rows();
    let index = lebron_index(&rows);
    set(&mut rows[index], "points", Value::Null);
    run_case(&bench, rows, Vec::new()).await.assert_accounted();
    assert_eq!(
        lebron(bench.warehouse.as_ref(), "points, ts_pct").await,
        vec![vec![Value::Null, Value::Null]]
    );
}

fn prop(lookup: &str, line: f64, hour: u32) -> Vec<Value> {
    let snapshot = chrono::Utc.with_ymd_and_hms(2024, 1, 15, hour, 0, 0).unwrap();
    ODDS_API_PLAYER_POINTS_PROPS.row(vec![
        ("game_id", GAME.to_value()),
        ("odds_api_event_id", "event".to_value()),
        ("game_date", day(GAME_DATE).to_value()),
        ("home_team_abbr", "LAL".to_value()),
        ("away_team_abbr", "OKC".to_value()),
        ("snapshot_timestamp", snapshot.to_value()),
        ("bookmaker", "draftkings".to_value()),
        ("player_name", lookup.to_value()),
        ("player_lookup", lookup.to_value()),
        ("points_line", line.to_value()),
        ("processed_at", snapshot.to_value()),
    ])
}

#[tokio::test]
async fn nan_and_infinite_inputs_are_dropped_or_fail_one_player() {
    let bench = Bench::new("non-finite").await;
    let warehouse = bench.warehouse.as_ref();
    for minutes in ["NaN", "inf", "-inf", "-5:00", "abc"] {
        let mut rows = real_bdl_rows();
        let index = lebron_index(&rows);
        set(&mut rows[index], "minutes", text(minutes));
        run_case(&bench, rows, Vec::new()).await.assert_accounted();
        // Unparseable minutes are unknown minutes: no rate is derived from them.
        assert_eq!(
            lebron(warehouse, "minutes_played, usage_rate").await,
            vec![vec![Value::Null, Value::Null]]
        );
    }
    let mut rows = real_bdl_rows();
    let index = lebron_index(&rows);
    set(&mut rows[index], "minutes", text("1e308"));
    let outcome = run_case(&bench, rows, Vec::new()).await;
    outcome.assert_accounted();
    assert_eq!(outcome.only_failure().0, "PROCESSING_ERROR");
    assert!(outcome.only_failure().1.ends_with(" exceed the plausible maximum of 70"), "{outcome:?}");

    // A 1000.0 line (beyond NUMERIC(4,1)) once failed the whole date's save; now, like a
    // non-finite or negative line, it is no line.
    for line in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1000.0, f64::MAX, -3.5] {
        run_case(&bench, real_bdl_rows(), vec![prop("lebronjames", line, 18)]).await.assert_accounted();
        assert_eq!(
            lebron(warehouse, "points_line, over_under_result").await,
            vec![vec![Value::Null, Value::Null]],
            "an implausible line ({line}) is no line"
        );
    }
    run_case(&bench, real_bdl_rows(), vec![prop("lebronjames", 24.5, 18)]).await.assert_accounted();
    assert_eq!(
        lebron(warehouse, "points_line, over_under_result").await,
        vec![vec![Value::Float(24.5), text("OVER")]]
    );
}

#[tokio::test]
async fn odd_names_and_lookups_are_kept_byte_for_byte() {
    let bench = Bench::new("encodings").await;
    let warehouse = bench.warehouse.as_ref();
    for name in ["Nikola Jokić", "🏀 Bron", "", "名前", "O'Neal, \"Shaq\""] {
        let mut rows = real_bdl_rows();
        let index = lebron_index(&rows);
        set(&mut rows[index], "player_full_name", text(name));
        run_case(&bench, rows, Vec::new()).await.assert_accounted();
        assert_eq!(lebron(warehouse, "player_full_name").await, vec![vec![text(name)]]);
    }
    for lookup in ["jokić", "🏀", ""] {
        let mut rows = real_bdl_rows();
        let index = lebron_index(&rows);
        set(&mut rows[index], "player_lookup", text(lookup));
        let outcome = run_case(&bench, rows, Vec::new()).await;
        outcome.assert_accounted();
        assert_eq!(outcome.failures[0].0, format!("{GAME}/{lookup}"));
        assert_eq!(
            outcome.only_failure(),
            ("MISSING_DATA", "no universal_player_id in nba_players_registry for season 2023-24 or earlier")
        );
    }
    assert_eq!(
        query_rows(
            warehouse,
            "SELECT normalized_lookup, original_name FROM {nba_reference.unresolved_player_names} ORDER BY 1"
        )
        .await,
        vec![
            vec![text(""), text("LeBron James")],
            vec![text("jokić"), text("LeBron James")],
            vec![text("🏀"), text("LeBron James")],
        ]
    );
}

#[tokio::test]
async fn extremely_large_values_fail_one_player_with_the_reason() {
    let bench = Bench::new("large").await;
    let max = i64::MAX;
    let cases = [
        ("points", Value::Int(max), format!("points {max} exceeds the plausible maximum of 100")),
        (
            "field_goals_attempted",
            Value::Int(max),
            format!("field_goals_attempted {max} exceeds the plausible maximum of 100"),
        ),
        ("field_goals_made", Value::Int(i64::MIN), format!("negative field_goals_made {}", i64::MIN)),
        ("turnovers", Value::Int(max), format!("turnovers {max} exceeds the plausible maximum of 100")),
        (
            "minutes",
            text("99999999999:00"),
            "minutes 99999999999 exceed the plausible maximum of 70".to_owned(),
        ),
    ];
    for (column, value, reason) in cases {
        let mut rows = real_bdl_rows();
        let index = lebron_index(&rows);
        set(&mut rows[index], column, value);
        let outcome = run_case(&bench, rows, Vec::new()).await;
        outcome.assert_accounted();
        assert_eq!(outcome.only_failure(), ("PROCESSING_ERROR", reason.as_str()), "{column}");
    }
    // A team score is not a player stat: the line is still computed.
    let mut rows = real_bdl_rows();
    let index = lebron_index(&rows);
    set(&mut rows[index], "home_team_score", Value::Int(max));
    let outcome = run_case(&bench, rows, Vec::new()).await;
    outcome.assert_accounted();
    assert_eq!(outcome.rows, LINES as i64);
}

#[tokio::test]
async fn of_duplicate_box_score_lines_the_latest_processed_at_wins_in_either_order() {
    let bench = Bench::new("duplicates").await;
    for later_first in [false, true] {
        let mut rows = real_bdl_rows();
        let index = lebron_index(&rows);
        let mut newer = rows[index].clone();
        set(&mut newer, "points", Value::Int(40));
        set(&mut newer, "processed_at", (loaded_at() + chrono::Duration::hours(1)).to_value());
        if later_first {
            rows.insert(0, newer);
        } else {
            rows.push(newer);
        }
        let outcome = run_case(&bench, rows, Vec::new()).await;
        outcome.assert_accounted();
        assert_eq!((outcome.entities, outcome.rows), (LINES, LINES as i64), "one line per player");
        assert_eq!(lebron(bench.warehouse.as_ref(), "points").await, vec![vec![Value::Int(40)]]);
    }
}

#[tokio::test]
async fn a_date_without_box_scores_fails_and_says_which_table_is_missing() {
    let bench = Bench::new("partial").await;
    // Only prop lines: the critical box scores are missing.
    let outcome_of = |summary: &framework::runner::RunSummary| summary.outcomes[0].status.clone();
    load_pgs_date(bench.warehouse.as_ref(), Vec::new()).await;
    bench
        .warehouse
        .replace(
            &ODDS_API_PLAYER_POINTS_PROPS,
            ReplaceScope::Partitions(vec![day(GAME_DATE)]),
            vec![prop("lebronjames", 24.5, 18)],
            false,
        )
        .await
        .unwrap();
    let partial =
        bench.run(&PlayerGameSummaryProcessor, &[GAME_DATE], |options| options.backfill = true).await;
    let missing = "missing critical dependencies: nba_raw.bdl_player_boxscores (0 rows, 1 needed)";
    assert_eq!(outcome_of(&partial), DateStatus::Failed { error: missing.to_owned() });
    // An empty date past the preflight: nothing to process, nothing written, said so.
    let empty = bench
        .run(&PlayerGameSummaryProcessor, &["2024-01-16"], |options| {
            options.backfill = true;
            options.skip_preflight = true;
        })
        .await;
    assert_eq!(
        outcome_of(&empty),
        DateStatus::Failed { error: "no entities to process for the date".to_owned() }
    );
    let history = bench.history().await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0][..4], [Value::Date(day(GAME_DATE)), text("failed"), Value::Null, Value::Int(0)]);
    assert!(history[0][5].as_str().unwrap().contains(missing));
    assert_eq!(history[1][..4], [Value::Date(day("2024-01-16")), text("failed"), Value::Null, Value::Int(0)]);
    let rows =
        query_rows(bench.warehouse.as_ref(), "SELECT count(*) FROM {nba_analytics.player_game_summary}")
            .await;
    assert_eq!(rows[0][0], Value::Int(0));
}
