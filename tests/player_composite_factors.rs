//! Player Composite Factors end to end: a player back from a long absence, whose latest team
//! (the team whose games his own completeness expects) comes from a game behind the 400-day
//! history window (reference-pcf.md §2.7).

use chrono::{TimeZone, Utc};
use framework::fixtures::load_directory;
use framework::runner::run;
use framework::schema::analytics::{PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT};
use framework::{ToValue, Value};
use player_composite_factors::PlayerCompositeFactorsProcessor;

use crate::util::{
    TempDir, captured_log, date, live_run_without_preflight, open, query_rows, schedule_directory,
    settings_in,
};

/// He last played for LAL on 2023-02-01 (more than 400 days before the 15th) and plays LAL's
/// game of 2025-01-15. His latest team is LAL, so he is expected to have played LAL's last 10
/// final games before the 15th (the real schedule has more than 10), and has played none this
/// season: 10 expected, 0 actual. Without his old game, he had no team: 0 expected.
#[tokio::test]
async fn own_completeness_takes_the_latest_team_from_a_game_before_the_history_window() {
    let folder = TempDir::new("pcf-returning");
    let settings = settings_in(folder.path());
    let warehouse = open(&settings).await;
    load_directory(warehouse.as_ref(), &schedule_directory()).await.expect("the schedule loads");
    let old_game = PLAYER_GAME_SUMMARY.row(vec![
        ("player_lookup", "returningplayer".to_value()),
        ("game_id", "20230201_LAL_BOS".to_value()),
        ("game_date", date("2023-02-01").to_value()),
        ("team_abbr", "LAL".to_value()),
        ("season_year", 2022_i64.to_value()),
        ("processed_at", Utc.with_ymd_and_hms(2023, 2, 2, 12, 0, 0).unwrap().to_value()),
    ]);
    warehouse.append(&PLAYER_GAME_SUMMARY, vec![old_game]).await.expect("the game is stored");
    let context = UPCOMING_PLAYER_GAME_CONTEXT.row(vec![
        ("player_lookup", "returningplayer".to_value()),
        ("game_id", "20250115_GSW_LAL".to_value()),
        ("game_date", date("2025-01-15").to_value()),
        ("team_abbr", "LAL".to_value()),
        ("opponent_team_abbr", "GSW".to_value()),
        ("processed_at", Utc.with_ymd_and_hms(2025, 1, 14, 10, 0, 0).unwrap().to_value()),
    ]);
    warehouse.append(&UPCOMING_PLAYER_GAME_CONTEXT, vec![context]).await.expect("the context is stored");

    // A backfill counts the same (reference-pcf.md §2.11); live mode is the daily job's.
    let options = live_run_without_preflight("2025-01-15");
    let log = captured_log(async {
        let summary = run(&PlayerCompositeFactorsProcessor, warehouse.as_ref(), &settings, &options)
            .await
            .expect("PCF runs");
        assert!(summary.failed_dates().is_empty(), "{:?}", summary.outcomes);
    })
    .await;
    // Said before the players and for him (reference-pcf.md §5.4): he is written with no
    // shot-zone, defence or team-context rows.
    for note in [
        " INFO Extracted 1 player context records",
        " INFO Extracted 0 team context records",
        " INFO Checking completeness for 1 players...",
        " INFO Completeness check complete. Bootstrap mode: False, Season boundary: False",
        " INFO Upstream completeness check: 0/1 players have all upstreams ready",
        " INFO Batch circuit breaker check: 0 players with history, 0 active breakers",
        " INFO Calculating composite factors for 1 players",
        " INFO returningplayer: Completeness 0.0% (0/10 games) - processing with reduced quality",
        " INFO returningplayer: Upstream not fully ready (shot_zone=False, team_defense=False, \
         player_context=False, team_context=False) - processing with reduced quality",
    ] {
        assert!(log.contains(note), "no {note:?} in:\n{log}");
    }
    let counts = query_rows(
        warehouse.as_ref(),
        "SELECT expected_games_count, actual_games_count FROM {nba_precompute.player_composite_factors} \
         WHERE player_lookup = 'returningplayer'",
    )
    .await;
    assert_eq!(counts, vec![vec![Value::Int(10), Value::Int(0)]]);
}
