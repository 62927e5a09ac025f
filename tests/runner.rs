//! The run lifecycle on a real warehouse: rows, failures, history, skips and atomic saves.

use std::sync::Arc;

use chrono::NaiveDate;

use framework::config::Settings;
use framework::dispatch::DispatchMode;
use framework::fixtures::load_directory;
use framework::runner::{DateStatus, RunOptions, RunSummary, run};
use framework::schema::analytics::{TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_TEAM_GAME_CONTEXT};
use framework::{Processor as _, Query, Value, Warehouse};

use crate::toy::ToyProcessor;
use crate::util::{
    Fault, InterceptingWarehouse, TempDir, captured_log, date, export, open, query_rows, schedule_directory,
    settings_in, write_fixture,
};

const HEADER: &str = "team_abbr,game_id,game_date,season_year,opponent_team_abbr,game_total,processed_at\n";

/// A warehouse in a temporary folder with the real schedule and the given team-context rows.
struct Scenario {
    _folder: TempDir,
    fixtures: TempDir,
    settings: Settings,
    warehouse: Arc<dyn Warehouse>,
}

impl Scenario {
    async fn new(team_context_rows: &str) -> Self {
        Scenario::with_settings(team_context_rows, |_| {}).await
    }

    async fn with_settings(team_context_rows: &str, adjust: impl FnOnce(&mut Settings)) -> Self {
        let folder = TempDir::new("runner");
        let mut settings = settings_in(folder.path());
        adjust(&mut settings);
        let warehouse = open(&settings).await;
        load_directory(warehouse.as_ref(), &schedule_directory()).await.unwrap();
        let scenario =
            Scenario { _folder: folder, fixtures: TempDir::new("runner-fixtures"), settings, warehouse };
        scenario.load_team_context(team_context_rows).await;
        scenario
    }

    async fn load_team_context(&self, rows: &str) {
        write_fixture(self.fixtures.path(), &UPCOMING_TEAM_GAME_CONTEXT, &format!("{HEADER}{rows}"));
        load_directory(self.warehouse.as_ref(), self.fixtures.path()).await.unwrap();
    }

    async fn run(&self, dates: &[&str], adjust: impl FnOnce(&mut RunOptions)) -> RunSummary {
        self.run_on(self.warehouse.as_ref(), dates, adjust).await
    }

    async fn run_on(
        &self,
        warehouse: &dyn Warehouse,
        dates: &[&str],
        adjust: impl FnOnce(&mut RunOptions),
    ) -> RunSummary {
        let mut options = RunOptions {
            dates: dates.iter().map(|text| date(text)).collect(),
            backfill: false,
            skip_preflight: false,
            dry_run: false,
            force: false,
            dispatch: DispatchMode::Parallel { workers: 4 },
            chunk_dates: 16,
        };
        adjust(&mut options);
        run(&ToyProcessor, warehouse, &self.settings, &options).await.expect("the run completes")
    }

    async fn history(&self) -> Vec<Vec<Value>> {
        query_rows(
            self.warehouse.as_ref(),
            "SELECT data_date, status, skip_reason, records_processed, records_skipped FROM \
             {nba_reference.processor_run_history} ORDER BY started_at, data_date, status",
        )
        .await
    }
}

const MID_SEASON: &str = "LAL,20250115_LAL_GSW,2025-01-15,2024,GSW,231.5,2025-01-15T10:00:00Z\n\
                          GSW,20250115_LAL_GSW,2025-01-15,2024,LAL,231.5,2025-01-15T10:00:00Z\n\
                          FAIL,20250115_FAIL_X,2025-01-15,2024,,200.0,2025-01-15T10:00:00Z\n";

fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

#[tokio::test]
async fn a_date_writes_sorted_rows_and_records_failures_and_history() {
    let scenario = Scenario::new(MID_SEASON).await;
    let summary = scenario.run(&["2025-01-15"], |_| {}).await;
    assert_eq!(summary.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });

    let rows = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT team_abbr, opponent_team_abbr, points_scored FROM {nba_analytics.team_offense_game_summary} ORDER BY team_abbr",
    )
    .await;
    // round(231.5 / 2) = round(115.75) = 116 for both teams.
    assert_eq!(
        rows,
        vec![
            vec![text("GSW"), text("LAL"), Value::Int(116)],
            vec![text("LAL"), text("GSW"), Value::Int(116)]
        ]
    );

    let failures = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT entity_id, failure_category, failure_reason, can_retry FROM {nba_processing.precompute_failures}",
    )
    .await;
    assert_eq!(
        failures,
        vec![vec![
            text("FAIL"),
            text("MISSING_DATA"),
            text("no opponent in the team context"),
            Value::Bool(true)
        ]]
    );
    assert_eq!(
        scenario.history().await,
        vec![vec![
            Value::Date(date("2025-01-15")),
            text("success"),
            Value::Null,
            Value::Int(2),
            Value::Int(1)
        ]]
    );
}

/// A daily job on a day off finds no upstream rows: skipped (`no_games`, exit 0), not failed and
/// retried. A game day without rows still fails, and so does a date of a season the schedule
/// lacks, which says nothing about its games. A day off with rows runs.
#[tokio::test]
async fn a_day_without_games_or_upstream_rows_is_skipped_not_failed() {
    let scenario = Scenario::new(MID_SEASON).await;
    let summary = scenario.run(&["2024-12-24", "2024-12-25", "2024-01-15"], |_| {}).await;
    let mut statuses: Vec<(NaiveDate, &DateStatus)> =
        summary.outcomes.iter().map(|outcome| (outcome.date, &outcome.status)).collect();
    statuses.sort_by_key(|(day, _)| *day);
    let missing = DateStatus::Failed {
        error: "missing critical dependencies: nba_analytics.upcoming_team_game_context (0 rows, 2 needed)"
            .into(),
    };
    let day_off = DateStatus::Skipped { reason: "no_games".into() };
    assert_eq!(
        statuses,
        vec![(date("2024-01-15"), &missing), (date("2024-12-24"), &day_off), (date("2024-12-25"), &missing)]
    );

    scenario
        .load_team_context(
            "LAL,20241224_LAL_GSW,2024-12-24,2024,GSW,220.0,2024-12-24T10:00:00Z\n\
             GSW,20241224_LAL_GSW,2024-12-24,2024,LAL,220.0,2024-12-24T10:00:00Z\n",
        )
        .await;
    let with_rows = scenario.run(&["2024-12-24"], |_| {}).await;
    assert_eq!(with_rows.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 0 });
}

#[tokio::test]
async fn a_serial_run_logs_the_reference_lines() {
    let scenario = Scenario::new(MID_SEASON).await;
    let log = captured_log(async {
        scenario.run(&["2025-01-15"], |options| options.dispatch = DispatchMode::Serial).await;
    })
    .await;
    let lines: Vec<&str> = log.lines().collect();
    let position = |text: &str| {
        lines.iter().position(|line| line.contains(text)).unwrap_or_else(|| panic!("no {text:?} in:\n{log}"))
    };
    // Three teams, FAIL without an opponent: the toy speaks as PCF does (reference-pcf.md §5.4),
    // and sums up its stale sources as MLFS does (reference-mlfs.md §1).
    // Its team context was processed at 10:00 on game day, 14 hours before the date ended,
    // which this later run measures to (12 allowed).
    // The save's lines around its one transaction, then the stats line and the run's end
    // (reference-pcf.md §5.4 "Base lines a port should keep").
    let expected = [
        " INFO PRECOMPUTE_STEP Precompute processor run starting",
        " INFO Checking dependency: nba_analytics.upcoming_team_game_context",
        " WARN Stale dependency: nba_analytics.upcoming_team_game_context: 14.0h old (max: 12h)",
        " INFO Dependency check complete: critical_present=True, fresh=False",
        " INFO Source tracking complete: completeness=100.0%, max_age=",
        " WARN Stale Phase 4 data detected: ['nba_analytics.upcoming_team_game_context']",
        " INFO PRECOMPUTE_STEP Dependencies validated in ",
        " INFO PRECOMPUTE_STEP Data extracted in ",
        " INFO Processing 3 players (serial mode)",
        " INFO Processing player 3/3 (100.0%)",
        " INFO Completed 2 players in ",
        " INFO Successfully processed 2 players",
        " WARN Failed to process 1 players",
        " INFO 📊 Failure breakdown (1 total):",
        " INFO    MISSING_DATA: 1 (expected - data quality)",
        " INFO ✅ No errors to investigate - all 1 skips are expected (data quality)",
        " INFO Deleting existing data for 2025-01-15",
        " INFO Inserting 2 rows to nba_analytics.team_offense_game_summary using batch INSERT",
        " INFO ✅ Deleted 0 existing rows",
        " INFO ✅ Successfully loaded 2 rows",
        " INFO PRECOMPUTE_STATS {",
        " INFO PRECOMPUTE_STEP Precompute processor completed in ",
    ];
    let positions: Vec<usize> = expected.iter().map(|text| position(text)).collect();
    assert!(positions.is_sorted(), "out of order: {positions:?} in:\n{log}");
    // The reads start beside the dependency check, so their line falls anywhere between the
    // start and the end of the extraction.
    let extracting = position(" INFO Extracting data for 2025-01-15");
    assert!(positions[0] < extracting && extracting < positions[7], "extracting at {extracting} in:\n{log}");

    // A live date publishes nothing and says nothing of it; a backfill date does (next test).
    assert!(!log.contains("Skipping downstream trigger"), "{log}");

    let stats_line = lines[positions[20]];
    let json_text = &stats_line[stats_line.find('{').unwrap()..];
    let keys = [
        "run_id",
        "processor",
        "timestamp_utc",
        "total_runtime",
        "dependency_check_passed",
        "data_completeness_pct",
        "upstream_data_age_hours",
        "players_processed",
        "players_failed",
        "date",
    ];
    let key_positions: Vec<usize> =
        keys.iter().map(|key| json_text.find(&format!("\"{key}\": ")).expect(key)).collect();
    assert!(key_positions.is_sorted(), "keys out of order: {json_text}");
    let stats: serde_json::Value = serde_json::from_str(json_text).unwrap();
    assert_eq!(stats["processor"], "ToyTeamProcessor");
    assert_eq!(stats["dependency_check_passed"], true);
    // 3 rows of the 2 expected: 100 %.
    assert_eq!(stats["data_completeness_pct"], 100.0);
    assert!(stats["upstream_data_age_hours"].as_f64().is_some_and(|hours| hours > 0.0));
    assert_eq!((stats["players_processed"].as_u64(), stats["players_failed"].as_u64()), (Some(2), Some(1)));
    assert_eq!(stats["date"], "2025-01-15");
    assert_eq!(stats.as_object().unwrap().len(), keys.len());

    // The run history keeps what the check found.
    let dependencies = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT dependency_check_passed, missing_dependencies, stale_dependencies FROM \
         {nba_reference.processor_run_history}",
    )
    .await;
    assert_eq!(
        dependencies,
        vec![vec![Value::Bool(true), text("[]"), text("[\"nba_analytics.upcoming_team_game_context\"]")]]
    );
}

/// A backfill never triggers the next phase, and each of its dates says so right after its stats
/// line, as the reference's did (reference-pcf.md §5.4 "Base lines a port should keep").
#[tokio::test]
async fn a_backfill_date_logs_the_downstream_trigger_it_skips() {
    let scenario = Scenario::new(MID_SEASON).await;
    let log = captured_log(async {
        scenario.run(&["2025-01-15"], |options| options.backfill = true).await;
    })
    .await;
    let lines: Vec<&str> = log.lines().collect();
    let stats =
        lines.iter().position(|line| line.contains(" INFO PRECOMPUTE_STATS {")).expect("a stats line");
    assert!(
        lines[stats + 1].ends_with(
            " INFO ⏸️  Skipping downstream trigger (backfill mode) - Phase 5 will not be auto-triggered for \
             team_offense_game_summary"
        ),
        "{log}"
    );
    assert_eq!(log.matches("Skipping downstream trigger").count(), 1, "{log}");
}

/// Skips are recorded in run history (reference-framework.md §14 item 6: the reference logged
/// them nowhere), and a change in any row read is detected (§14 item 17).
#[tokio::test]
async fn a_rerun_with_unchanged_inputs_is_skipped_and_recorded() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario.run(&["2025-01-15"], |_| {}).await;
    let before = export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await;

    let second = scenario.run(&["2025-01-15"], |_| {}).await;
    assert_eq!(second.outcomes[0].status, DateStatus::Skipped { reason: "inputs_unchanged".into() });
    let history = scenario.history().await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1][1..3], [text("skipped"), text("inputs_unchanged")]);
    let digests = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT json_extract_string(summary, '$.input_digests') FROM {nba_reference.processor_run_history} \
         ORDER BY started_at",
    )
    .await;
    assert!(matches!(&digests[0][0], Value::String(text) if text.contains("upcoming_team_game_context")));
    assert_eq!(digests[1], digests[0], "the skip records the digests that matched the last run");

    let forced = scenario.run(&["2025-01-15"], |options| options.force = true).await;
    assert_eq!(forced.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });
    assert_eq!(
        export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await,
        before,
        "no duplicates, same rows"
    );

    scenario.load_team_context(&MID_SEASON.replace("231.5", "240.0")).await;
    let changed = scenario.run(&["2025-01-15"], |_| {}).await;
    assert_eq!(changed.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });
    let points = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT DISTINCT points_scored FROM {nba_analytics.team_offense_game_summary}",
    )
    .await;
    assert_eq!(points, vec![vec![Value::Int(120)]]);
}

/// With `DATASET_PREFIX` every table lives in prefixed datasets, and run history names the one
/// the rows went to.
#[tokio::test]
async fn run_history_names_the_prefixed_dataset_the_rows_went_to() {
    let scenario =
        Scenario::with_settings(MID_SEASON, |settings| settings.dataset_prefix = "test_".into()).await;
    scenario.run(&["2025-01-15"], |_| {}).await;
    let written = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT output_dataset, output_table, status FROM {nba_reference.processor_run_history}",
    )
    .await;
    assert_eq!(
        written,
        vec![vec![text("test_nba_analytics"), text("team_offense_game_summary"), text("success")]]
    );
    let stored = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT count(*) FROM test_nba_analytics.team_offense_game_summary",
    )
    .await;
    assert_eq!(stored, vec![vec![Value::Int(2)]]);
}

/// A skip with its reason and a history row, not a failure (reference-framework.md §14 items 3
/// and 6), logged in the reference's words (the toy speaks as PCF, reference-pcf.md §5.4). The
/// skip comes before the dependency check, so the history says no check ran.
#[tokio::test]
async fn early_season_dates_are_skipped_with_their_reason() {
    // The 2024-25 regular season starts 2024-10-22; 2024-10-25 is day 3.
    let scenario =
        Scenario::new("LAL,20241025_LAL_PHX,2024-10-25,2024,PHX,220.0,2024-10-25T10:00:00Z\n").await;
    let log = captured_log(async {
        let summary = scenario.run(&["2024-10-25"], |_| {}).await;
        assert_eq!(summary.outcomes[0].status, DateStatus::Skipped { reason: "early_season".into() });
        assert!(summary.failed_dates().is_empty());
    })
    .await;
    assert!(
        log.contains(
            " INFO ⏭️  Skipping 2024-10-25: early season period (day 0-13 of season 2024). Regular processing \
             starts day 14.\n"
        ),
        "{log}"
    );
    let checked = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT dependency_check_passed FROM {nba_reference.processor_run_history}",
    )
    .await;
    assert_eq!(checked, vec![vec![Value::Null]]);
    let history = scenario.history().await;
    assert_eq!(
        history,
        vec![vec![
            Value::Date(date("2024-10-25")),
            text("skipped"),
            text("early_season"),
            Value::Int(0),
            Value::Int(0)
        ]]
    );
    let rows = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT count(*) FROM {nba_analytics.team_offense_game_summary}",
    )
    .await;
    assert_eq!(rows[0][0], Value::Int(0));
}

#[tokio::test]
async fn serial_and_parallel_runs_write_identical_rows() {
    let rows: String = (0..300)
        .map(|index| {
            format!(
                "T{index:03},20250115_T{index:03},2025-01-15,2024,O{index:03},{}.5,2025-01-15T10:00:00Z\n",
                200 + index
            )
        })
        .collect();
    let parallel = Scenario::new(&rows).await;
    parallel.run(&["2025-01-15"], |options| options.dispatch = DispatchMode::Parallel { workers: 7 }).await;
    let serial = Scenario::new(&rows).await;
    serial.run(&["2025-01-15"], |options| options.dispatch = DispatchMode::Serial).await;
    let parallel_rows = export(parallel.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await;
    assert_eq!(parallel_rows.lines().count(), 301);
    assert_eq!(parallel_rows, export(serial.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await);
}

#[tokio::test]
async fn a_panicking_entity_fails_alone() {
    let scenario = Scenario::new(&format!(
        "{MID_SEASON}BOOM,20250115_BOOM_X,2025-01-15,2024,X,1.0,2025-01-15T10:00:00Z\n"
    ))
    .await;
    let log = captured_log(async {
        let summary = scenario.run(&["2025-01-15"], |_| {}).await;
        assert_eq!(summary.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 2 });
    })
    .await;
    // An error, in the reference's parallel-path words; the other failure is a skip's warning.
    assert!(log.contains("ERROR Error processing BOOM: panic: the toy panics for BOOM"), "{log}");
    assert!(log.contains(" WARN ToyTeamProcessor 2025-01-15: "), "{log}");
    // The breakdown flags the panic to investigate, and so never calls every skip expected.
    assert!(log.contains(" WARN    PROCESSING_ERROR: 1 ⚠️ INVESTIGATE"), "{log}");
    assert!(!log.contains("No errors to investigate"), "{log}");
    let failures = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT entity_id, failure_category, failure_reason FROM {nba_processing.precompute_failures} ORDER BY entity_id",
    )
    .await;
    assert_eq!(
        failures[0],
        vec![text("BOOM"), text("PROCESSING_ERROR"), text("panic: the toy panics for BOOM")]
    );
}

#[tokio::test]
async fn missing_critical_upstream_rows_fail_the_date_loudly() {
    let scenario = Scenario::new(MID_SEASON).await;
    let summary = scenario.run(&["2025-01-16"], |options| options.backfill = true).await;
    let DateStatus::Failed { error } = &summary.outcomes[0].status else {
        panic!("expected a failure: {summary:?}")
    };
    assert_eq!(
        error,
        "missing critical dependencies: nba_analytics.upcoming_team_game_context (0 rows, 1 needed)"
    );
    assert_eq!(summary.failed_dates(), vec![date("2025-01-16")]);
    assert_eq!(scenario.history().await[0][1], text("failed"));

    // Live mode needs the expected minimum (2 rows); one row is not enough.
    scenario.load_team_context("LAL,20250117_LAL_GSW,2025-01-17,2024,GSW,231.5,2025-01-17T10:00:00Z\n").await;
    let live = scenario.run(&["2025-01-17"], |_| {}).await;
    assert!(matches!(live.outcomes[0].status, DateStatus::Failed { .. }));
    let backfill = scenario.run(&["2025-01-17"], |options| options.backfill = true).await;
    assert_eq!(backfill.outcomes[0].status, DateStatus::Succeeded { rows: 1, failures: 0 });
}

/// The first chunk is read while preflight runs: when preflight turns one of its dates away,
/// that read is dropped and the chunk's other dates are read again, so the refused date writes
/// nothing, the other its rows, and the dropped read still counts as a round trip.
#[tokio::test]
async fn a_date_refused_by_preflight_sends_the_rest_of_its_chunk_to_a_second_read() {
    let scenario = Scenario::new(MID_SEASON).await;
    let summary = scenario.run(&["2025-01-15", "2025-01-16"], |options| options.backfill = true).await;
    assert_eq!(summary.failed_dates(), vec![date("2025-01-16")]);
    assert_eq!(summary.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });
    // Schedule and preflight (a backfill reads no checkpoints), then the dropped read of both
    // dates and the re-read.
    assert_eq!(summary.read_queries, 4);
    let rows = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT game_date, team_abbr FROM {nba_analytics.team_offense_game_summary} ORDER BY team_abbr",
    )
    .await;
    let on_the_15th = |team: &str| vec![Value::Date(date("2025-01-15")), text(team)];
    assert_eq!(rows, vec![on_the_15th("GSW"), on_the_15th("LAL")]);
}

#[tokio::test]
async fn a_dry_run_reports_upstream_rows_and_writes_nothing() {
    let scenario = Scenario::new(MID_SEASON).await;
    let summary = scenario.run(&["2025-01-15"], |options| options.dry_run = true).await;
    assert_eq!(
        summary.outcomes[0].status,
        DateStatus::WouldRun { upstream_rows: vec![("nba_analytics.upcoming_team_game_context".into(), 3)] }
    );
    assert!(scenario.history().await.is_empty());
    let rows = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT count(*) FROM {nba_analytics.team_offense_game_summary}",
    )
    .await;
    assert_eq!(rows[0][0], Value::Int(0));
}

/// The reference deleted, then appended, and was left half written or duplicated when either
/// step failed (reference-framework.md §14 item 5).
#[tokio::test]
async fn a_failing_save_keeps_the_previous_rows_and_fails_the_date() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario.run(&["2025-01-15"], |_| {}).await;
    let before = export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await;

    scenario.load_team_context(&MID_SEASON.replace("231.5", "250.0")).await;
    let failing = InterceptingWarehouse::failing(
        Arc::clone(&scenario.warehouse),
        Some(Fault::Replace(&TEAM_OFFENSE_GAME_SUMMARY)),
    );
    let summary = scenario.run_on(&failing, &["2025-01-15"], |_| {}).await;
    let DateStatus::Failed { error } = &summary.outcomes[0].status else {
        panic!("expected a failure: {summary:?}")
    };
    assert!(error.contains("injected failure"), "{error}");
    assert_eq!(export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await, before);
    assert_eq!(scenario.history().await[1][1], text("failed"));
}

/// A date whose every entity is held back by the processor's own gates (here a completeness
/// gate) has no row to write: it is skipped with its reason (exit 0, no retry that could only
/// count more reprocess attempts) and keeps its previous rows, as the reference's run did
/// ("No transformed data to write"); its failures are recorded, and the next live run computes
/// it again. A date with one entity failing otherwise still fails.
#[tokio::test]
async fn a_date_whose_every_entity_is_held_back_is_skipped_and_keeps_its_rows() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario.run(&["2025-01-15"], |_| {}).await;
    let before = export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await;

    let held_back = MID_SEASON.replace("LAL,", "HOLD,").replace("GSW,", "HOLD,").replace("FAIL,", "HOLD,");
    scenario.load_team_context(&held_back).await;
    let skipped = scenario.run(&["2025-01-15"], |_| {}).await;
    let expected = DateStatus::Skipped { reason: "all_entities_held_back".into() };
    assert_eq!(skipped.outcomes[0].status, expected);
    assert!(skipped.failed_dates().is_empty());
    assert_eq!(export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await, before);
    assert_eq!(
        scenario.history().await[1],
        [
            Value::Date(date("2025-01-15")),
            text("skipped"),
            text("all_entities_held_back"),
            Value::Int(0),
            Value::Int(3)
        ]
    );
    let failures = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT failure_category, count(*) FROM {nba_processing.precompute_failures} \
         GROUP BY ALL ORDER BY ALL",
    )
    .await;
    assert_eq!(
        failures,
        vec![vec![text("INCOMPLETE_DATA_SKIPPED"), Value::Int(3)], vec![text("MISSING_DATA"), Value::Int(1)]]
    );

    let again = scenario.run(&["2025-01-15"], |_| {}).await;
    assert_eq!(again.outcomes[0].status, expected, "a skip is no success that unchanged inputs repeat");

    scenario.load_team_context(&MID_SEASON.replace("LAL,", "HOLD,").replace("GSW,", "HOLD,")).await;
    let failed = scenario.run(&["2025-01-15"], |_| {}).await;
    assert_eq!(
        failed.outcomes[0].status,
        DateStatus::Failed { error: "no rows produced: all 3 entities failed".into() }
    );
    assert_eq!(export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await, before);
}

/// The reference's change detection also ran in backfill (reference-framework.md §14 item 11).
#[tokio::test]
async fn a_backfill_recomputes_every_date_and_a_live_rerun_skips_the_unchanged_ones() {
    let scenario = Scenario::new(MID_SEASON).await;
    let first = scenario.run(&["2025-01-15", "2025-01-16"], |options| options.backfill = true).await;
    assert_eq!(first.failed_dates(), vec![date("2025-01-16")]);
    // README §4 item 7: unchanged inputs are skipped unless `--force` or `--backfill`.
    let backfill_again = scenario.run(&["2025-01-15"], |options| options.backfill = true).await;
    assert_eq!(backfill_again.outcomes[0].status, DateStatus::Succeeded { rows: 2, failures: 1 });

    // The backfill's digests serve a live run (without preflight, whose live minimum is a full
    // slate): the successful date is skipped, the failed one retried.
    scenario.load_team_context("LAL,20250116_LAL_GSW,2025-01-16,2024,GSW,210.0,2025-01-16T10:00:00Z\n").await;
    let second = scenario.run(&["2025-01-15", "2025-01-16"], |options| options.skip_preflight = true).await;
    assert_eq!(second.outcomes[0].status, DateStatus::Skipped { reason: "inputs_unchanged".into() });
    assert_eq!(second.outcomes[1].status, DateStatus::Succeeded { rows: 1, failures: 0 });

    let progress = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT processor, date, status, error, rows FROM {nba_processing.backfill_progress} ORDER BY date",
    )
    .await;
    assert_eq!(
        progress,
        vec![
            vec![
                text("ToyTeamProcessor"),
                Value::Date(date("2025-01-15")),
                text("success"),
                Value::Null,
                Value::Int(2)
            ],
            vec![
                text("ToyTeamProcessor"),
                Value::Date(date("2025-01-16")),
                text("success"),
                Value::Null,
                Value::Int(1)
            ],
        ]
    );
}

/// On the embedded warehouse a run's last chunk commits together with its history and
/// checkpoints; when that commit is refused, none of it lands, and the history written after it
/// says the date failed.
#[tokio::test]
async fn a_refused_last_save_is_recorded_as_failed_and_keeps_the_previous_rows() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario.run(&["2025-01-15"], |_| {}).await;
    let before = export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await;

    let lakers_twice = "LAL,20250115_LAL_GSW,2025-01-15,2024,GSW,240.0,2025-01-15T11:00:00Z\n";
    scenario.load_team_context(&format!("{MID_SEASON}{lakers_twice}")).await;
    let summary = scenario.run(&["2025-01-15"], |_| {}).await;
    let DateStatus::Failed { error } = &summary.outcomes[0].status else {
        panic!("expected a failure: {summary:?}")
    };
    assert!(error.contains("would duplicate key 2025-01-15/LAL"), "{error}");
    assert_eq!(export(scenario.warehouse.as_ref(), &TEAM_OFFENSE_GAME_SUMMARY, None).await, before);
    assert_eq!(scenario.history().await[1][1], text("failed"));
    let progress = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT status, rows FROM {nba_processing.backfill_progress} WHERE date = DATE '2025-01-15'",
    )
    .await;
    assert_eq!(progress, vec![vec![text("failed"), Value::Int(0)]]);
}

/// The first chunk is read before the schedule is in: when the schedule finds an early-season
/// date among its dates, that read is dropped and the chunk's other dates are read again.
#[tokio::test]
async fn an_early_season_date_sends_the_rest_of_its_chunk_to_a_second_read() {
    let early = "LAL,20241025_LAL_PHX,2024-10-25,2024,PHX,220.0,2024-10-25T10:00:00Z\n";
    let scenario = Scenario::new(&format!("{early}{MID_SEASON}")).await;
    let summary = scenario.run(&["2024-10-25", "2025-01-15"], |options| options.backfill = true).await;
    assert_eq!(summary.outcomes[0].status, DateStatus::Skipped { reason: "early_season".into() });
    assert_eq!(summary.outcomes[1].status, DateStatus::Succeeded { rows: 2, failures: 1 });
    // Schedule and preflight (a backfill reads no checkpoints), then the dropped read of both
    // dates and the re-read.
    assert_eq!(summary.read_queries, 4);
    let rows = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT game_date, count(*) FROM {nba_analytics.team_offense_game_summary} GROUP BY game_date",
    )
    .await;
    assert_eq!(rows, vec![vec![Value::Date(date("2025-01-15")), Value::Int(2)]]);
}

/// Schedule, preflight (one query for every dependency) and the toy's one extraction read:
/// three round trips for one date or for a range (a backfill reads no checkpoints).
#[tokio::test]
async fn read_queries_do_not_grow_with_the_number_of_dates() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario.load_team_context("LAL,20250116_LAL_GSW,2025-01-16,2024,GSW,210.0,2025-01-16T10:00:00Z\n").await;
    let one_date = scenario.run(&["2025-01-15"], |options| options.backfill = true).await;
    let two_dates = scenario.run(&["2025-01-15", "2025-01-16"], |options| options.backfill = true).await;
    assert_eq!(two_dates.failed_dates(), []);
    assert_eq!((one_date.read_queries, two_dates.read_queries), (3, 3));
}

/// The reference kept its timers in a class attribute, so after the first run in a process every
/// duration was measured from that first run and grew date after date (reference-framework.md
/// §14 item 1). A second run in the same process starts its clock after the first run ended,
/// and its date's duration fits inside its own wall time.
#[tokio::test]
async fn reference_framework_14_1_a_second_run_in_one_process_times_its_dates_from_its_own_start() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario.run(&["2025-01-15"], |_| {}).await;
    scenario.load_team_context("LAL,20250116_LAL_GSW,2025-01-16,2024,GSW,210.0,2025-01-16T10:00:00Z\n").await;
    let second = scenario.run(&["2025-01-16"], |options| options.backfill = true).await;
    assert_eq!(second.outcomes[0].status, DateStatus::Succeeded { rows: 1, failures: 0 });

    let runs = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT data_date, started_at, processed_at, duration_seconds FROM \
         {nba_reference.processor_run_history} ORDER BY data_date",
    )
    .await;
    assert_eq!(runs.len(), 2);
    let first_finished = runs[0][2].as_timestamp().unwrap();
    let second_started = runs[1][1].as_timestamp().unwrap();
    assert!(second_started >= first_finished, "{second_started} is before {first_finished}");
    let second_duration = runs[1][3].as_f64().unwrap();
    assert!(second_duration <= second.wall_seconds, "{second_duration}s > {}s", second.wall_seconds);
    assert!(second.outcomes[0].seconds <= second.wall_seconds);
}

/// The reference's dependency and processing lines do not name their date; a run of several
/// dates says which date each check and each computation is about before its lines.
#[tokio::test]
async fn each_dates_lines_are_introduced_by_its_date_in_a_run_of_several() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario
        .load_team_context(
            "LAL,20250116_LAL_GSW,2025-01-16,2024,GSW,210.0,2025-01-16T10:00:00Z\n\
             GSW,20250116_LAL_GSW,2025-01-16,2024,LAL,210.0,2025-01-16T10:00:00Z\n",
        )
        .await;
    let log = captured_log(async {
        scenario.run(&["2025-01-15", "2025-01-16"], |_| {}).await;
    })
    .await;
    let introduced: Vec<&str> = log
        .lines()
        .filter(|line| {
            ["dependency check", "Checking dependency", "computing", "Processing "]
                .iter()
                .any(|text| line.contains(text))
        })
        // The worker count is the test settings'.
        .map(|line| line.split(" with ").next().unwrap_or(line))
        .collect();
    assert_eq!(
        introduced,
        [
            " INFO ToyTeamProcessor 2025-01-15: dependency check",
            " INFO Checking dependency: nba_analytics.upcoming_team_game_context",
            " INFO ToyTeamProcessor 2025-01-16: dependency check",
            " INFO Checking dependency: nba_analytics.upcoming_team_game_context",
            " INFO ToyTeamProcessor 2025-01-15: computing",
            " INFO Processing 3 players",
            " INFO ToyTeamProcessor 2025-01-16: computing",
            " INFO Processing 2 players",
        ],
        "in:\n{log}"
    );
    let one_date = captured_log(async {
        scenario.run(&["2025-01-15"], |options| options.force = true).await;
    })
    .await;
    assert!(!one_date.contains(": dependency check") && !one_date.contains(": computing"), "{one_date}");
    assert!(one_date.contains(" INFO Checking dependency: nba_analytics.upcoming_team_game_context"));
    assert!(one_date.contains(" INFO Processing 3 players with "));
}

/// A chunk reads and saves its dates together. Each date's `duration_seconds` is its own
/// share: its part of the chunk's extraction and save and its computation, so the dates of a
/// range add up to no more than the run (the first date of a chunk used to be timed until the
/// chunk's save, counting every later date's computation), and a one-date run's duration counts
/// its extraction. `processed_at` is when the date was settled, within the run.
#[tokio::test]
async fn each_date_of_a_chunk_is_timed_by_its_own_share_of_the_chunk() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario
        .load_team_context(
            "LAL,20250116_LAL_GSW,2025-01-16,2024,GSW,210.0,2025-01-16T10:00:00Z\n\
             LAL,20250117_LAL_GSW,2025-01-17,2024,GSW,231.5,2025-01-17T10:00:00Z\n",
        )
        .await;
    let one = scenario.run(&["2025-01-15"], |options| options.backfill = true).await;
    assert_eq!(one.outcomes.len(), 1);
    let phases = one.phases;
    assert!(one.outcomes[0].seconds >= phases.extract + phases.compute, "{:?} {phases:?}", one.outcomes);
    assert!(one.outcomes[0].seconds <= one.wall_seconds);

    let range =
        scenario.run(&["2025-01-15", "2025-01-16", "2025-01-17"], |options| options.backfill = true).await;
    assert_eq!(range.failed_dates(), []);
    assert_eq!(range.outcomes.len(), 3);
    let total: f64 = range.outcomes.iter().map(|outcome| outcome.seconds).sum();
    assert!(total <= range.wall_seconds, "dates {total}s > run {}s", range.wall_seconds);
    assert!(range.outcomes.iter().all(|outcome| outcome.seconds > 0.0));

    let runs = scenario
        .warehouse
        .query(
            &Query::new(
                "SELECT started_at, processed_at, duration_seconds FROM \
                 {nba_reference.processor_run_history} WHERE run_id = @run_id ORDER BY data_date",
            )
            .bind("run_id", range.run_id.as_str()),
        )
        .await
        .unwrap()
        .rows;
    assert_eq!(runs.len(), 3);
    for (run, outcome) in runs.iter().zip(&range.outcomes) {
        let (started, settled) = (run[0].as_timestamp().unwrap(), run[1].as_timestamp().unwrap());
        assert!(settled >= started, "{settled} before {started}");
        assert!((settled - started).num_milliseconds() as f64 <= range.wall_seconds * 1000.0 + 1.0);
        assert_eq!(run[2].as_f64(), Some(outcome.seconds));
    }
}

/// Every run-history row names the build that wrote it, so a date written by an image that
/// lags the repository can be found (reference-framework.md §16, deployment drift).
#[tokio::test]
async fn run_history_records_the_build_that_wrote_each_date() {
    let scenario = Scenario::new(MID_SEASON).await;
    scenario.run(&["2025-01-15"], |_| {}).await;
    scenario.run(&["2024-10-25"], |_| {}).await;
    let summaries = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT status, summary FROM {nba_reference.processor_run_history} ORDER BY started_at",
    )
    .await;
    let build = ToyProcessor.info().build.to_string();
    assert!(build.starts_with(env!("CARGO_PKG_VERSION")), "{build}");
    let statuses: Vec<&str> = summaries.iter().map(|row| row[0].as_str().unwrap()).collect();
    assert_eq!(statuses, ["success", "skipped"]);
    for row in &summaries {
        let summary: serde_json::Value = serde_json::from_str(row[1].as_str().unwrap()).unwrap();
        assert_eq!(summary[framework::history::PROCESSOR_VERSION_KEY], build.as_str(), "{summary}");
    }
}

/// The reference always wrote `backfill_mode = False` and mostly `trigger_source = 'manual'`
/// (reference-framework.md §14 item 7; README §4 item 4). Here each run records its own mode,
/// and the trigger is the `TRIGGERED_BY` the job sets.
#[tokio::test]
async fn reference_framework_14_7_run_history_records_backfill_mode_and_the_trigger() {
    let mut scenario = Scenario::new(MID_SEASON).await;
    let job = Settings::from_map(vec![("TRIGGERED_BY".into(), "toy-daily".into())]).unwrap();
    scenario.settings.triggered_by = job.triggered_by;
    scenario.run(&["2025-01-15"], |_| {}).await;
    scenario.run(&["2025-01-15"], |options| options.backfill = true).await;
    let runs = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT status, backfill_mode, triggered_by, trigger_source FROM \
         {nba_reference.processor_run_history} ORDER BY started_at",
    )
    .await;
    let row =
        |backfill: bool| vec![text("success"), Value::Bool(backfill), text("toy-daily"), text("toy-daily")];
    assert_eq!(runs, vec![row(false), row(true)]);
}

/// The reference resumed a backfill after its last successful date, so a date that failed
/// before it was never revisited, and its `/tmp` checkpoints vanished with the container
/// (reference-framework.md §14 item 14). Here checkpoints live in the warehouse per date, and a
/// rerun retries every date that did not succeed on the same inputs, wherever it lies.
#[tokio::test]
async fn reference_framework_14_14_a_failed_date_before_the_last_success_is_retried() {
    let scenario = Scenario::new(MID_SEASON).await;
    let first = scenario.run(&["2025-01-14", "2025-01-15"], |options| options.backfill = true).await;
    assert_eq!(first.failed_dates(), vec![date("2025-01-14")]);
    assert_eq!(first.outcomes[1].status, DateStatus::Succeeded { rows: 2, failures: 1 });

    scenario.load_team_context("LAL,20250114_LAL_GSW,2025-01-14,2024,GSW,210.0,2025-01-14T10:00:00Z\n").await;
    let rerun = scenario.run(&["2025-01-14", "2025-01-15"], |options| options.skip_preflight = true).await;
    assert_eq!(rerun.outcomes[0].status, DateStatus::Succeeded { rows: 1, failures: 0 });
    assert_eq!(rerun.outcomes[1].status, DateStatus::Skipped { reason: "inputs_unchanged".into() });
    let progress = query_rows(
        scenario.warehouse.as_ref(),
        "SELECT date, status, rows FROM {nba_processing.backfill_progress} ORDER BY date",
    )
    .await;
    assert_eq!(
        progress,
        vec![
            vec![Value::Date(date("2025-01-14")), text("success"), Value::Int(1)],
            vec![Value::Date(date("2025-01-15")), text("success"), Value::Int(2)],
        ]
    );
}

/// The reference's pre-flight fell back to the dates present in `player_game_summary` itself,
/// so a missing date could never show as a gap (reference-framework.md §14 item 15). Here the
/// dates of a range come from the schedule alone (2024-11-28, Thanksgiving, had no game), and a
/// game date without upstream rows fails and is named, whatever the output tables hold.
#[tokio::test]
async fn reference_framework_14_15_range_dates_come_from_the_schedule_so_a_gap_fails_visibly() {
    let scenario =
        Scenario::new("LAL,20241127_LAL_PHX,2024-11-27,2024,PHX,220.0,2024-11-27T10:00:00Z\n").await;
    let (start, end) = (date("2024-11-26"), date("2024-11-30"));
    let schedule = framework::dates::Schedule::load(scenario.warehouse.as_ref(), start, end).await.unwrap();
    let dates = schedule.game_dates(start, end);
    let expected = [date("2024-11-26"), date("2024-11-27"), date("2024-11-29"), date("2024-11-30")];
    assert_eq!(dates, expected);

    let texts: Vec<String> = dates.iter().map(ToString::to_string).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let summary = scenario.run(&texts, |options| options.backfill = true).await;
    assert_eq!(summary.failed_dates(), vec![expected[0], expected[2], expected[3]]);
    assert_eq!(summary.outcomes[1].status, DateStatus::Succeeded { rows: 1, failures: 0 });
}

/// Monitoring writes of one row each exhausted BigQuery's 1,500 load jobs per table per day
/// (reference-framework.md §16 "BigQuery quota outages"; *Rust: buffer run-log rows and flush
/// once per run*, README §4 item 4). Three dates saved in three chunks still write run history,
/// failures and checkpoints once each, three rows apiece.
#[tokio::test]
async fn reference_framework_16_run_log_rows_are_buffered_and_written_once_per_run() {
    let next_day = |day: &str| {
        MID_SEASON
            .replace("2025-01-15", &format!("2025-01-{day}"))
            .replace("20250115", &format!("202501{day}"))
    };
    let scenario = Scenario::new(&format!("{MID_SEASON}{}{}", next_day("16"), next_day("17"))).await;
    let counting = InterceptingWarehouse::recording(Arc::clone(&scenario.warehouse));
    let summary = scenario
        .run_on(&counting, &["2025-01-15", "2025-01-16", "2025-01-17"], |options| options.chunk_dates = 1)
        .await;
    assert_eq!(summary.failed_dates(), []);
    assert_eq!(counting.writes_to(&TEAM_OFFENSE_GAME_SUMMARY), [2, 2, 2], "one save per chunk");
    assert_eq!(counting.writes_to(&framework::schema::reference::PROCESSOR_RUN_HISTORY), [3]);
    assert_eq!(counting.writes_to(&framework::schema::processing::PRECOMPUTE_FAILURES), [3]);
    assert_eq!(counting.writes_to(&framework::schema::processing::BACKFILL_PROGRESS), [3]);
}
