//! Bad upstream rows for Player Composite Factors on the demo date 2024-11-06 (331 players):
//! every case edits one player's (or his opponent's) upstream rows, runs PCF to completion and
//! checks that each player became a row within the documented ranges or a failure with a reason.
//! The loops PCF shares with MLFS are in [`super::precompute_cases`]; this file says what PCF
//! reads and expects, and holds the cases only PCF has.

use framework::Value;
use framework::schema::Table;
use framework::schema::analytics::{
    PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT, UPCOMING_TEAM_GAME_CONTEXT,
};
use framework::schema::orchestration::REPROCESS_ATTEMPTS;
use framework::schema::precompute::{PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS};
use framework::schema::raw::NBAC_SCHEDULE;
use player_composite_factors::PlayerCompositeFactorsProcessor;
use player_composite_factors::{extract, inputs};

use super::precompute_cases::{
    self, EARLIER_DATE, EARLIER_SCHEDULE_ID, NewerCopy, OPPONENT, PLAYER, PLAYERS, PrecomputeBench,
    PrecomputeCase, all_computed,
};
use super::*;

impl PrecomputeCase for PlayerCompositeFactorsProcessor {
    const COLUMNS_READ: &'static [(&'static Table, &'static [&'static str])] = &extract::COLUMNS_READ;
    /// PCF's four per-date tables.
    const DATED_TABLES: &'static [&'static Table] = &[
        &UPCOMING_PLAYER_GAME_CONTEXT,
        &UPCOMING_TEAM_GAME_CONTEXT,
        &PLAYER_SHOT_ZONE_ANALYSIS,
        &TEAM_DEFENSE_ZONE_ANALYSIS,
    ];
    const REPROCESS_NAME: &'static str = inputs::REPROCESS_PROCESSOR_NAME;
    const COLUMNS_WITHOUT_STAMPS: &'static str = "* EXCLUDE (processed_at, created_at)";
    /// The documented ranges (reference-pcf.md §3): fatigue 35..=100, shot zone ±10, pace and
    /// usage ±3, total −19.25..=16, deferred factors 0, context JSON valid. A NULL score counts
    /// as outside.
    const ROWS_OUT_OF_RANGE: &'static str = "SELECT player_lookup FROM {nba_precompute.player_composite_factors} \
         WHERE game_date = '2024-11-06' \
         AND NOT coalesce(fatigue_score BETWEEN 35 AND 100 AND shot_zone_mismatch_score BETWEEN -10 AND 10 \
         AND pace_score BETWEEN -3 AND 3 AND usage_spike_score BETWEEN -3 AND 3 \
         AND total_composite_adjustment BETWEEN -19.25 AND 16 AND referee_favorability_score = 0 \
         AND look_ahead_pressure_score = 0 AND travel_impact_score = 0 AND opponent_strength_score = 0 \
         AND json_valid(fatigue_context_json) AND json_valid(shot_zone_context_json) \
         AND json_valid(pace_context_json) AND json_valid(usage_context_json) \
         AND data_completeness_pct BETWEEN 0 AND 100, false) ORDER BY 1";

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
            (EARLIER_DATE, "game_id", EARLIER_SCHEDULE_ID)
        } else {
            panic!("PCF does not read {table}")
        }
    }
}

async fn pcf_bench(name: &str) -> PrecomputeBench<PlayerCompositeFactorsProcessor> {
    PrecomputeBench::new(PlayerCompositeFactorsProcessor, name).await
}

#[tokio::test]
async fn the_unspoiled_date_computes_every_player_within_range() {
    let bench = pcf_bench("pcf-baseline").await;
    precompute_cases::the_unspoiled_date_computes_every_player_within_range(&bench).await;
    // The player every case spoils has every input: no default is hiding a missing row.
    assert_eq!(
        bench.player_row(PLAYER, "data_completeness_pct, missing_data_fields").await,
        vec![vec![Value::Float(100.0), Value::Null]]
    );
}

#[tokio::test]
async fn a_null_in_any_column_read_defaults_or_fails_one_player() {
    let bench = pcf_bench("pcf-null-columns").await;
    precompute_cases::a_null_in_any_column_read_defaults_or_fails_one_player(&bench, 57).await;
}

/// Regression: a NULL `game_id` in one UPGC row failed the whole date's extraction ("column
/// game_id is missing in a row that needs it"), so no player of the date got a row; now that
/// player alone fails with `MISSING_DATA`, as in MLFS.
#[tokio::test]
async fn a_null_upgc_game_id_fails_one_player_not_the_date() {
    let bench = pcf_bench("pcf-null-game-id").await;
    let (date, mut rows, index) = bench.rows_to_spoil(&UPCOMING_PLAYER_GAME_CONTEXT).await;
    set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "game_id", Value::Null);
    let outcome = bench.run(vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await;
    outcome.assert_accounted();
    assert_eq!(outcome.counts(), (PLAYERS, PLAYERS as i64 - 1, 1));
    assert_eq!(outcome.failures[0].0, PLAYER);
    assert_eq!(bench.player_row(PLAYER, "game_id").await, Vec::<Vec<Value>>::new());
}

/// Regression: a NULL `game_id` in one UTGC row, a column PCF reads but never uses
/// (reference-pcf.md §2.1), failed the whole date's extraction.
#[tokio::test]
async fn a_null_utgc_game_id_fails_nothing() {
    let bench = pcf_bench("pcf-null-team-game-id").await;
    let (date, mut rows, index) = bench.rows_to_spoil(&UPCOMING_TEAM_GAME_CONTEXT).await;
    set_cell(&UPCOMING_TEAM_GAME_CONTEXT, &mut rows[index], "game_id", Value::Null);
    all_computed(&bench.run(vec![Edit { table: &UPCOMING_TEAM_GAME_CONTEXT, date, rows }]).await);
}

/// Regression: one `player_game_summary` row without `team_abbr`, anywhere in the 400-day
/// completeness history, failed every date of the chunk; the appearance is now left out of the
/// completeness counts instead.
#[tokio::test]
async fn a_null_team_in_the_completeness_history_fails_nothing() {
    let bench = pcf_bench("pcf-null-history-team").await;
    let (date, mut rows, index) = bench.rows_to_spoil(&PLAYER_GAME_SUMMARY).await;
    set_cell(&PLAYER_GAME_SUMMARY, &mut rows[index], "team_abbr", Value::Null);
    for live in [false, true] {
        let edits = vec![Edit { table: &PLAYER_GAME_SUMMARY, date, rows: rows.clone() }];
        let outcome = bench
            .run_case(DEMO_DATE, edits, |options| {
                options.backfill = !live;
                options.skip_preflight = live;
            })
            .await;
        all_computed(&outcome);
    }
}

#[tokio::test]
async fn extremely_large_numbers_in_any_column_read_stay_within_the_clamps() {
    let bench = pcf_bench("pcf-large").await;
    precompute_cases::extremely_large_numbers_in_any_column_read_stay_in_range(&bench, 36).await;
}

#[tokio::test]
async fn nan_and_infinities_in_any_number_read_give_the_row_of_a_null() {
    let bench = pcf_bench("pcf-non-finite").await;
    precompute_cases::nan_and_infinities_in_any_number_read_give_the_row_of_a_null(&bench, 44).await;
}

#[tokio::test]
async fn odd_player_lookups_are_kept_byte_for_byte() {
    let bench = pcf_bench("pcf-lookups").await;
    for lookup in odd_texts() {
        let (date, mut rows, index) = bench.rows_to_spoil(&UPCOMING_PLAYER_GAME_CONTEXT).await;
        set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "player_lookup", text(&lookup));
        let outcome = bench.run(vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await;
        all_computed(&outcome);
        // The renamed player has no shot-zone row under the new name: its completeness drops.
        assert_eq!(
            bench.player_row(&lookup, "player_lookup, data_completeness_pct").await,
            vec![vec![text(&lookup), Value::Float(80.0)]],
            "{lookup:?}"
        );
        assert_eq!(bench.player_row(PLAYER, "player_lookup").await, Vec::<Vec<Value>>::new());
        assert_eq!(bench.rows_out_of_range().await, Vec::<Vec<Value>>::new(), "{lookup:?}");
    }
}

#[tokio::test]
async fn odd_labels_fall_back_to_the_defaults_and_stay_valid_json() {
    let bench = pcf_bench("pcf-labels").await;
    let zone_json = "json_extract_string(shot_zone_context_json, '$.player_primary_zone'), \
                     json_extract_string(shot_zone_context_json, '$.opponent_weak_zone')";
    for label in odd_texts() {
        let case = format!("{label:?}");
        // An unknown opponent: no defence row, so no shot-zone mismatch.
        let (date, mut rows, index) = bench.rows_to_spoil(&UPCOMING_PLAYER_GAME_CONTEXT).await;
        set_cell(&UPCOMING_PLAYER_GAME_CONTEXT, &mut rows[index], "opponent_team_abbr", text(&label));
        all_computed(&bench.run(vec![Edit { table: &UPCOMING_PLAYER_GAME_CONTEXT, date, rows }]).await);
        assert_eq!(
            bench.player_row(PLAYER, "shot_zone_mismatch_score, data_completeness_pct").await,
            vec![vec![Value::Float(0.0), Value::Float(80.0)]],
            "{case}"
        );
        // An unknown zone or weakest zone is carried into the context JSON as text.
        let (date, mut shots, index) = bench.rows_to_spoil(&PLAYER_SHOT_ZONE_ANALYSIS).await;
        set_cell(&PLAYER_SHOT_ZONE_ANALYSIS, &mut shots[index], "primary_scoring_zone", text(&label));
        let (_, mut defenses, index) = bench.rows_to_spoil(&TEAM_DEFENSE_ZONE_ANALYSIS).await;
        set_cell(&TEAM_DEFENSE_ZONE_ANALYSIS, &mut defenses[index], "weakest_zone", text(&label));
        let edits = vec![
            Edit { table: &PLAYER_SHOT_ZONE_ANALYSIS, date, rows: shots },
            Edit { table: &TEAM_DEFENSE_ZONE_ANALYSIS, date, rows: defenses },
        ];
        all_computed(&bench.run(edits).await);
        assert_eq!(
            bench.player_row(PLAYER, zone_json).await,
            vec![vec![text(&label), text(&label)]],
            "{case}"
        );
        assert_eq!(bench.rows_out_of_range().await, Vec::<Vec<Value>>::new(), "{case}");
    }
}

#[tokio::test]
async fn of_duplicate_upstream_keys_the_latest_processed_at_wins_in_either_order() {
    let bench = pcf_bench("pcf-duplicates").await;
    let copies = vec![
        NewerCopy {
            table: &PLAYER_SHOT_ZONE_ANALYSIS,
            column: "primary_scoring_zone",
            newer_value: text("newer"),
            shown_by: "json_extract_string(shot_zone_context_json, '$.player_primary_zone')",
            shown: text("newer"),
        },
        NewerCopy {
            table: &TEAM_DEFENSE_ZONE_ANALYSIS,
            column: "weakest_zone",
            newer_value: text("newer"),
            shown_by: "json_extract_string(shot_zone_context_json, '$.opponent_weak_zone')",
            shown: text("newer"),
        },
    ];
    precompute_cases::of_duplicate_upstream_keys_the_latest_processed_at_wins_in_either_order(&bench, copies)
        .await;
}

#[tokio::test]
async fn dates_out_of_season_are_computed_from_their_rows_or_skipped_early() {
    let bench = pcf_bench("pcf-out-of-season").await;
    precompute_cases::dates_out_of_season_are_computed_from_their_rows_or_skipped_early(&bench).await;
}

#[tokio::test]
async fn an_empty_date_and_a_date_with_some_tables_fail_or_compute_with_defaults() {
    let bench = pcf_bench("pcf-partial").await;
    // Only UPGC: the preflight names the three missing tables; past it, every player is
    // computed with the defaults (no shot zone, no defence) and says what was missing.
    precompute_cases::an_empty_date_and_a_date_with_some_tables_fail_or_compute_with_defaults(
        &bench,
        "missing critical dependencies: nba_analytics.upcoming_player_game_context (0 rows, 1 \
         needed), nba_analytics.upcoming_team_game_context (0 rows, 1 needed), \
         nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
         nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)",
        &[&UPCOMING_TEAM_GAME_CONTEXT, &PLAYER_SHOT_ZONE_ANALYSIS, &TEAM_DEFENSE_ZONE_ANALYSIS],
        "missing critical dependencies: nba_analytics.upcoming_team_game_context (0 rows, 1 needed), \
         nba_precompute.player_shot_zone_analysis (0 rows, 1 needed), \
         nba_precompute.team_defense_zone_analysis (0 rows, 1 needed)",
    )
    .await;
    let defaults = query_rows(
        bench.demo.warehouse(),
        "SELECT count(*) FILTER (WHERE shot_zone_mismatch_score = 0 \
         AND missing_data_fields LIKE '%player_shot_zone, team_defense_zone') \
         FROM {nba_precompute.player_composite_factors} WHERE game_date = '2024-11-06'",
    )
    .await;
    assert_eq!(defaults, vec![vec![Value::Int(PLAYERS as i64)]]);
    precompute_cases::a_date_without_players_fails_and_keeps_the_earlier_rows(&bench).await;
}
