//! Bad upstream rows for the ML Feature Store on the demo date 2024-11-06 (331 players), after
//! PGS and PCF have run on the fixture: every case edits one player's (or his team's or
//! opponent's) upstream rows, runs MLFS to completion and checks that each player became a row
//! of 25 finite features with a quality score in 0..=100, or a failure with a reason. The loops
//! MLFS shares with PCF are in [`super::precompute_cases`]; this file says what MLFS reads and
//! expects, and holds the cases only MLFS has.

use framework::schema::Table;
use framework::schema::analytics::{
    PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT,
};
use framework::schema::orchestration::REPROCESS_ATTEMPTS;
use framework::schema::precompute::{
    PLAYER_COMPOSITE_FACTORS, PLAYER_DAILY_CACHE, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
};
use framework::schema::raw::NBAC_SCHEDULE;
use framework::{ToValue, Value};
use ml_feature_store::MlFeatureStoreProcessor;
use ml_feature_store::{extract, inputs};
use player_composite_factors::PlayerCompositeFactorsProcessor;

use super::precompute_cases::{
    self, EARLIER_DATE, EARLIER_SCHEDULE_ID, NewerCopy, OPPONENT, PLAYER, PrecomputeBench, PrecomputeCase,
    all_computed,
};
use super::*;

const TEAM: &str = "GSW";
/// The `game_id` of GSW's game on [`EARLIER_DATE`] in `player_game_summary`.
const EARLIER_GAME_ID: &str = "20241104_GSW_WAS";

impl PrecomputeCase for MlFeatureStoreProcessor {
    const COLUMNS_READ: &'static [(&'static Table, &'static [&'static str])] = &extract::COLUMNS_READ;
    /// MLFS's five per-date tables.
    const DATED_TABLES: &'static [&'static Table] = &[
        &UPCOMING_PLAYER_GAME_CONTEXT,
        &PLAYER_DAILY_CACHE,
        &PLAYER_COMPOSITE_FACTORS,
        &PLAYER_SHOT_ZONE_ANALYSIS,
        &TEAM_DEFENSE_ZONE_ANALYSIS,
    ];
    const REPROCESS_NAME: &'static str = inputs::REPROCESS_PROCESSOR_NAME;
    const COLUMNS_WITHOUT_STAMPS: &'static str = "* EXCLUDE (created_at, updated_at)";
    /// The documented shape (reference-mlfs.md §5, README §4 item 9): 25 features and 25 names,
    /// a quality score in 0..=100 and a tier. NULL or non-finite elements are caught by
    /// [`non_finite_cells`] in every case.
    const ROWS_OUT_OF_RANGE: &'static str = "SELECT player_lookup FROM {nba_predictions.ml_feature_store_v2} \
         WHERE game_date = '2024-11-06' \
         AND NOT coalesce(len(features) = 25 AND len(feature_names) = 25 AND feature_count = 25 \
         AND feature_quality_score BETWEEN 0 AND 100 AND quality_tier IS NOT NULL, false) ORDER BY 1";

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

    /// PCF's rows of both dates, and one earlier game of [`PLAYER`] in `player_game_summary`
    /// (the fixture's box scores start on the demo date, so without it the player would have no
    /// history to spoil).
    async fn prepare(bench: &DemoBench) {
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
        bench
            .store(&PLAYER_GAME_SUMMARY, day(EARLIER_DATE), earlier)
            .await
            .expect("the history row is stored");
    }
}

async fn mlfs_bench(name: &str) -> PrecomputeBench<MlFeatureStoreProcessor> {
    PrecomputeBench::new(MlFeatureStoreProcessor, name).await
}

#[tokio::test]
async fn the_unspoiled_date_computes_every_player_within_range() {
    let bench = mlfs_bench("mlfs-baseline").await;
    precompute_cases::the_unspoiled_date_computes_every_player_within_range(&bench).await;
}

#[tokio::test]
async fn a_null_in_any_column_read_defaults_or_fails_one_player() {
    let bench = mlfs_bench("mlfs-null-columns").await;
    precompute_cases::a_null_in_any_column_read_defaults_or_fails_one_player(&bench, 79).await;
}

#[tokio::test]
async fn extremely_large_numbers_in_any_column_read_keep_every_feature_finite() {
    let bench = mlfs_bench("mlfs-large").await;
    precompute_cases::extremely_large_numbers_in_any_column_read_stay_in_range(&bench, 54).await;
}

#[tokio::test]
async fn nan_and_infinities_in_any_number_read_give_the_row_of_a_null() {
    let bench = mlfs_bench("mlfs-non-finite").await;
    precompute_cases::nan_and_infinities_in_any_number_read_give_the_row_of_a_null(&bench, 72).await;
}

#[tokio::test]
async fn odd_lookups_and_labels_are_kept_byte_for_byte_or_fall_back_to_defaults() {
    let bench = mlfs_bench("mlfs-strings").await;
    for odd in odd_texts() {
        let case = format!("{odd:?}");
        let (date, mut rows, index) = bench.rows_to_spoil(&UPCOMING_PLAYER_GAME_CONTEXT).await;
        set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "player_lookup", text(&odd));
        all_computed(&bench.run(vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await);
        assert_eq!(bench.player_row(&odd, "player_lookup").await, vec![vec![text(&odd)]], "{case}");
        assert_eq!(bench.player_row(PLAYER, "player_lookup").await, Vec::<Vec<Value>>::new(), "{case}");

        // An unknown team, opponent, status and phase: the defaults, the label kept as given.
        let (date, mut rows, index) = bench.rows_to_spoil(&UPCOMING_PLAYER_GAME_CONTEXT).await;
        for column in ["team_abbr", "opponent_team_abbr", "player_status", "season_phase"] {
            set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], column, text(&odd));
        }
        all_computed(&bench.run(vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await);
        // team_win_pct defaults to 0.5 without five team games (README §4 item 15).
        assert_eq!(
            bench.player_row(PLAYER, "opponent_team_abbr, features[25]").await,
            vec![vec![text(&odd), Value::Float(0.5)]],
            "{case}"
        );
        assert_eq!(bench.rows_out_of_range().await, Vec::<Vec<Value>>::new(), "{case}");
    }
}

#[tokio::test]
async fn of_duplicate_upstream_keys_the_latest_processed_at_wins_in_either_order() {
    let bench = mlfs_bench("mlfs-duplicates").await;
    let copies = vec![
        NewerCopy {
            table: &PLAYER_DAILY_CACHE,
            column: "points_avg_last_5",
            newer_value: Value::Float(42.5),
            shown_by: "features[1]",
            shown: Value::Float(42.5),
        },
        NewerCopy {
            table: &PLAYER_COMPOSITE_FACTORS,
            column: "fatigue_score",
            newer_value: Value::Int(41),
            shown_by: "features[6]",
            shown: Value::Float(41.0),
        },
        NewerCopy {
            table: &TEAM_DEFENSE_ZONE_ANALYSIS,
            column: "defensive_rating_last_15",
            newer_value: Value::Float(123.45),
            shown_by: "features[14]",
            shown: Value::Float(123.45),
        },
    ];
    precompute_cases::of_duplicate_upstream_keys_the_latest_processed_at_wins_in_either_order(&bench, copies)
        .await;
}

#[tokio::test]
async fn dates_out_of_season_are_computed_from_their_rows_or_skipped_early() {
    let bench = mlfs_bench("mlfs-out-of-season").await;
    precompute_cases::dates_out_of_season_are_computed_from_their_rows_or_skipped_early(&bench).await;
}

#[tokio::test]
async fn an_empty_date_and_a_date_with_some_tables_fail_or_compute_with_defaults() {
    let bench = mlfs_bench("mlfs-partial").await;
    // UPGC and the daily cache only: the preflight names the three missing tables; past it,
    // every player is computed with the defaults.
    precompute_cases::an_empty_date_and_a_date_with_some_tables_fail_or_compute_with_defaults(
        &bench,
        "missing critical dependencies: nba_precompute.player_daily_cache (0 rows, 1 needed), \
         nba_precompute.player_composite_factors (0 rows, 1 needed), \
         nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
         nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)",
        &[&PLAYER_COMPOSITE_FACTORS, &PLAYER_SHOT_ZONE_ANALYSIS, &TEAM_DEFENSE_ZONE_ANALYSIS],
        "missing critical dependencies: nba_precompute.player_composite_factors (0 rows, 1 needed), \
         nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
         nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)",
    )
    .await;
    precompute_cases::a_date_without_players_fails_and_keeps_the_earlier_rows(&bench).await;
}
