//! Two runs of one processor and date at the same time.
//!
//! Guarantee: concurrent runs in one process must share one `Arc<dyn Warehouse>`, whose single
//! connection serialises every call; each date's replace is one transaction, so the last writer
//! wins whole and no key is written twice. DuckDB's file lock is per process: another process
//! is refused, but a second `framework::warehouse::open` of the same file in the same process
//! succeeds (a second, independent database instance on one file) — nothing in the framework
//! prevents it, so it is the caller's duty not to do it.

use framework::schema::analytics::TEAM_OFFENSE_GAME_SUMMARY;

use super::faults::toy_bench;
use super::*;
use crate::toy::ToyProcessor;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_runs_of_one_date_end_with_one_copy_of_each_row() {
    let (bench, _fixtures) = toy_bench("reliability-concurrent", "231.5").await;
    let (reference, _reference_fixtures) = toy_bench("reliability-concurrent-reference", "231.5").await;
    reference.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    let expected = reference.export(&TEAM_OFFENSE_GAME_SUMMARY).await;

    let force = |options: &mut RunOptions| options.force = true;
    let (first, second) = tokio::join!(
        bench.run_on(&ToyProcessor, bench.warehouse.as_ref(), &["2025-01-15"], force),
        bench.run_on(&ToyProcessor, bench.warehouse.as_ref(), &["2025-01-15"], force),
    );
    for summary in [first.unwrap(), second.unwrap()] {
        assert_eq!(
            summary.outcomes[0].status,
            framework::runner::DateStatus::Succeeded { rows: 2, failures: 1 }
        );
    }
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, expected);
    assert_eq!(
        duplicate_keys(bench.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY).await,
        Vec::<Vec<Value>>::new()
    );
    assert_eq!(bench.history().await.len(), 2, "one history row per run");
}

#[tokio::test]
async fn a_second_opener_of_the_same_file_in_one_process_is_not_refused_and_changes_nothing() {
    let (bench, _fixtures) = toy_bench("reliability-second-opener", "231.5").await;
    bench.run(&ToyProcessor, &["2025-01-15"], |_| {}).await;
    let before = bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await;
    let settings = bench.settings.clone();
    let second = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async { framework::warehouse::open(&settings).await.map(|_| ()) })
    })
    .join()
    .expect("the opener does not panic");
    assert!(second.is_ok(), "DuckDB's lock does not stop a second opener in the same process: {second:?}");
    assert_eq!(bench.export(&TEAM_OFFENSE_GAME_SUMMARY).await, before);
}
