//! Injected warehouse faults: after each, the output table holds exactly the previous
//! successful export or the new one, never a mix, and the run reports the failure.

use framework::schema::analytics::{TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_TEAM_GAME_CONTEXT};
use framework::schema::reference::PROCESSOR_RUN_HISTORY;

use super::*;
use crate::toy::ToyProcessor;
use crate::util::{Fault, InterceptingWarehouse};

const HEADER: &str = "team_abbr,game_id,game_date,season_year,opponent_team_abbr,game_total,processed_at\n";

pub fn toy_context(total: &str) -> String {
    format!(
        "{HEADER}LAL,20250115_LAL_GSW,2025-01-15,2024,GSW,{total},2025-01-15T10:00:00Z\n\
         GSW,20250115_LAL_GSW,2025-01-15,2024,LAL,{total},2025-01-15T10:00:00Z\n\
         FAIL,20250115_FAIL_X,2025-01-15,2024,,200.0,2025-01-15T10:00:00Z\n"
    )
}

/// A bench with the toy's team context for 2025-01-15 at `total` points.
pub async fn toy_bench(name: &str, total: &str) -> (Bench, TempDir) {
    let bench = Bench::new(name).await;
    let fixtures = TempDir::new("reliability-fixtures");
    load_toy_context(&bench, &fixtures, total).await;
    (bench, fixtures)
}

pub async fn load_toy_context(bench: &Bench, fixtures: &TempDir, total: &str) {
    crate::util::write_fixture(fixtures.path(), &UPCOMING_TEAM_GAME_CONTEXT, &toy_context(total));
    load_directory(bench.warehouse.as_ref(), fixtures.path()).await.unwrap();
}

/// The export after a clean run of `total`: what "the new rows" look like.
async fn clean_export(total: &str) -> String {
    let (bench, _fixtures) = toy_bench("reliability-clean", total).await;
    bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await
}

/// Runs the toy once cleanly at 231.5, then at 250.0 through `fault`; returns the faults
/// injected after checking the output is exactly the old or the new export and the run failed.
async fn after_fault(fault: Fault, old: &str, new: &str) -> usize {
    let (bench, fixtures) = toy_bench("reliability-fault", "231.5").await;
    bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, old);
    load_toy_context(&bench, &fixtures, "250.0").await;
    let faulty = InterceptingWarehouse::failing(Arc::clone(&bench.warehouse), Some(fault));
    let result = bench.run_on(&ToyProcessor, &faulty, &["2025-01-15"], |_| {}).await;
    let reported = match &result {
        Err(_) => true,
        Ok(summary) => !summary.failed_dates().is_empty(),
    };
    assert!(reported, "{fault:?}: the run must report the failure: {result:?}");
    let after = bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await;
    assert!(after == old || after == new, "{fault:?}: a mix of old and new rows:\n{after}");
    assert_eq!(
        duplicate_keys(bench.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY).await,
        Vec::<Vec<Value>>::new()
    );
    faulty.injected()
}

#[tokio::test]
async fn every_read_fault_keeps_the_old_rows_or_writes_the_new_ones_whole() {
    let old = clean_export("231.5").await;
    let new = clean_export("250.0").await;
    assert_ne!(old, new);
    // How many reads a clean run of the changed date makes.
    let (bench, fixtures) = toy_bench("reliability-count", "231.5").await;
    bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    load_toy_context(&bench, &fixtures, "250.0").await;
    let counting = InterceptingWarehouse::failing(Arc::clone(&bench.warehouse), None);
    bench.run_on(&ToyProcessor, &counting, &["2025-01-15"], |_| {}).await.unwrap();
    let reads = counting.queries();
    assert_eq!(reads, 4, "schedule, preflight, checkpoints, extraction");
    let mut injected = 0;
    for number in 1..=reads {
        injected += after_fault(Fault::Query(number), &old, &new).await;
    }
    assert_eq!(injected, reads);
}

#[tokio::test]
async fn a_failed_output_write_keeps_the_previous_export_byte_for_byte() {
    let old = clean_export("231.5").await;
    let new = clean_export("250.0").await;
    assert_eq!(after_fault(Fault::Replace(&TEAM_OFFENSE_GAME_SUMMARY), &old, &new).await, 1);
    let (bench, fixtures) = toy_bench("reliability-write", "231.5").await;
    bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    load_toy_context(&bench, &fixtures, "250.0").await;
    let faulty = InterceptingWarehouse::failing(
        Arc::clone(&bench.warehouse),
        Some(Fault::Replace(&TEAM_OFFENSE_GAME_SUMMARY)),
    );
    bench.run_on(&ToyProcessor, &faulty, &["2025-01-15"], |_| {}).await.unwrap();
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, old);
    assert_eq!(bench.history().await[1][1], text("failed"));
}

#[tokio::test]
async fn a_failed_history_append_is_an_error_and_the_next_run_recomputes() {
    let old = clean_export("231.5").await;
    let new = clean_export("250.0").await;
    assert_eq!(after_fault(Fault::Append(&PROCESSOR_RUN_HISTORY), &old, &new).await, 1);
    // The rows were saved but the run is unrecorded: the next run does not skip the date.
    let (bench, fixtures) = toy_bench("reliability-history", "231.5").await;
    bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    load_toy_context(&bench, &fixtures, "250.0").await;
    let faulty = InterceptingWarehouse::failing(
        Arc::clone(&bench.warehouse),
        Some(Fault::Append(&PROCESSOR_RUN_HISTORY)),
    );
    let error = bench.run_on(&ToyProcessor, &faulty, &["2025-01-15"], |_| {}).await.unwrap_err();
    assert!(error.to_string().starts_with("cannot write run history: "), "{error}");
    let rerun = bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    assert_eq!(rerun.outcomes[0].status, framework::runner::DateStatus::Succeeded { rows: 2, failures: 1 });
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, new);
}

#[tokio::test]
async fn a_panicking_entity_is_one_failure_and_the_other_rows_are_saved() {
    let (bench, fixtures) = toy_bench("reliability-panic", "231.5").await;
    let boom =
        format!("{}BOOM,20250115_BOOM_X,2025-01-15,2024,X,1.0,2025-01-15T10:00:00Z\n", toy_context("231.5"));
    crate::util::write_fixture(fixtures.path(), &UPCOMING_TEAM_GAME_CONTEXT, &boom);
    load_directory(bench.warehouse.as_ref(), fixtures.path()).await.unwrap();
    let summary = bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    assert_eq!(summary.outcomes[0].status, framework::runner::DateStatus::Succeeded { rows: 2, failures: 2 });
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, clean_export("231.5").await);
}
