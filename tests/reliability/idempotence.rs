//! Reruns: the same inputs give the same bytes, and an unchanged date is skipped.

use framework::runner::DateStatus;
use framework::schema::analytics::{PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY};
use player_game_summary::PlayerGameSummaryProcessor;

use super::faults::toy_bench;
use super::*;
use crate::toy::ToyProcessor;

#[tokio::test]
async fn a_forced_rerun_writes_byte_identical_rows_and_an_unforced_one_is_skipped() {
    let (bench, _fixtures) = toy_bench("reliability-rerun", "231.5").await;
    bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    let first = bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await;
    let forced = bench.run(&ToyProcessor, &["2025-01-15"], |options| options.force = true).await;
    assert_eq!(forced.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, first);
    let unforced = bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    assert_eq!(unforced.outcomes[0].status, DateStatus::Skipped { reason: "inputs_unchanged".into() });
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, first);
}

/// The unchanged-input skip of Player Game Summary, whose reference path crashed
/// (reference-framework.md §14 item 10).
#[tokio::test]
async fn a_range_run_twice_gives_the_same_export_and_a_live_rerun_skips_the_unchanged_date() {
    let bench = Bench::new("reliability-range").await;
    load_pgs_date(bench.warehouse.as_ref(), real_bdl_rows()).await;
    let range = ["2024-01-14", GAME_DATE, "2024-01-16"];
    let first = bench.run(&PlayerGameSummaryProcessor, &range, |options| options.backfill = true).await;
    assert_eq!(first.failed_dates(), vec![day("2024-01-14"), day("2024-01-16")], "no box scores those days");
    assert_eq!(first.outcomes[1].status, DateStatus::Succeeded { rows: 35, failures: 0 });
    let exported = export_without_run_stamps(bench.warehouse.as_ref(), &PLAYER_GAME_SUMMARY).await;
    assert_eq!(exported.lines().count(), 36);

    let forced = bench
        .run(&PlayerGameSummaryProcessor, &range, |options| {
            options.backfill = true;
            options.force = true;
        })
        .await;
    assert_eq!(forced.outcomes[1].status, DateStatus::Succeeded { rows: 35, failures: 0 });
    assert_eq!(export_without_run_stamps(bench.warehouse.as_ref(), &PLAYER_GAME_SUMMARY).await, exported);

    // A backfill recomputes unchanged dates (README §4 item 7); a live run skips them.
    let again = bench.run(&PlayerGameSummaryProcessor, &[GAME_DATE], |options| options.backfill = true).await;
    assert_eq!(again.outcomes[0].status, DateStatus::Succeeded { rows: 35, failures: 0 });
    let live =
        bench.run(&PlayerGameSummaryProcessor, &[GAME_DATE], |options| options.skip_preflight = true).await;
    assert_eq!(live.outcomes[0].status, DateStatus::Skipped { reason: "inputs_unchanged".into() });
    assert_eq!(export_without_run_stamps(bench.warehouse.as_ref(), &PLAYER_GAME_SUMMARY).await, exported);
}
