//! The ML Feature Store end to end: a player back from a long injury, whose last 10 games reach
//! two seasons back, behind the 400-day history window (README §4 item 17). The scenario is
//! loaded and run here; `bigquery` runs it on the emulator too.

use chrono::{NaiveDate, TimeZone, Utc};
use framework::config::Settings;
use framework::dispatch::DispatchMode;
use framework::fixtures::load_directory;
use framework::runner::{DateStatus, RunOptions, RunSummary, run};
use framework::schema::analytics::{PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT};
use framework::{ToValue, Value, Warehouse};
use ml_feature_store::MlFeatureStoreProcessor;

use crate::util::{
    TempDir, captured_log, date, live_run_without_preflight, open, query_rows, schedule_directory,
    settings_in,
};

/// The player back from injury, LAL at home to GSW on both dates of the run.
const PLAYER: &str = "returningplayer";
const FIRST_DATE: &str = "2025-01-15";
const SECOND_DATE: &str = "2025-01-17";

/// Features 0–2, 11, 12 and 21 (reference-mlfs.md §3): `points_avg_last_5`,
/// `points_avg_last_10`, `points_avg_season`, `recent_trend`, `minutes_change` and
/// `pct_free_throw`, which the player's games decide when he has no daily-cache row.
const GAME_FEATURES: [usize; 6] = [0, 1, 2, 11, 12, 21];

/// A game of [`PLAYER`], processed at noon the day after.
fn game(game_date: &str, season_year: i64, points: Option<i64>, minutes: f64, ft_makes: i64) -> GameRow {
    GameRow { game_date: date(game_date), season_year, points, minutes, ft_makes, processed_hour: 12 }
}

/// The numbers of one `player_game_summary` row of [`PLAYER`] that his features read.
struct GameRow {
    game_date: NaiveDate,
    season_year: i64,
    points: Option<i64>,
    minutes: f64,
    ft_makes: i64,
    /// The hour of `processed_at`, on the day after the game.
    processed_hour: u32,
}

impl GameRow {
    fn cells(&self) -> Vec<Value> {
        let processed_at = Utc.from_utc_datetime(
            &(self.game_date + chrono::Days::new(1)).and_hms_opt(self.processed_hour, 0, 0).unwrap(),
        );
        PLAYER_GAME_SUMMARY.row(vec![
            ("player_lookup", PLAYER.to_value()),
            ("game_id", format!("{}_LAL_BOS", self.game_date.format("%Y%m%d")).to_value()),
            ("game_date", self.game_date.to_value()),
            ("team_abbr", "LAL".to_value()),
            ("opponent_team_abbr", "BOS".to_value()),
            ("season_year", self.season_year.to_value()),
            ("points", self.points.map_or(Value::Null, Value::Int)),
            ("minutes_played", self.minutes.to_value()),
            ("ft_makes", self.ft_makes.to_value()),
            ("processed_at", processed_at.to_value()),
        ])
    }
}

/// The player's games: 12 in the 2022-23 season (2023-02-01 to 02-12, game `i` on day `i`:
/// `3·i` points, NULL in game 10, `15 + i` minutes, 3 free throws), more than 400 days before
/// [`FIRST_DATE`], then 3 this season (18, 24 and 30 points) and one on [`FIRST_DATE`] itself
/// (40 points), which only [`SECOND_DATE`] sees. With `stale_copies`, every old game also has
/// an earlier-processed copy scoring 99 in 99 minutes with 99 free throws.
fn games(stale_copies: bool) -> Vec<GameRow> {
    let mut games: Vec<GameRow> = (1..=12)
        .map(|day| {
            let points = (day != 10).then_some(3 * day);
            game(&format!("2023-02-{day:02}"), 2022, points, 15.0 + day as f64, 3)
        })
        .collect();
    if stale_copies {
        let copies: Vec<GameRow> = games
            .iter()
            .map(|old| GameRow { points: Some(99), minutes: 99.0, ft_makes: 99, processed_hour: 6, ..*old })
            .collect();
        games.extend(copies);
    }
    games.extend([
        game("2024-12-20", 2024, Some(18), 30.0, 4),
        game("2025-01-05", 2024, Some(24), 32.0, 6),
        game("2025-01-10", 2024, Some(30), 34.0, 8),
        game(FIRST_DATE, 2024, Some(40), 36.0, 10),
    ]);
    games
}

/// Loads the real schedule, the player's games and his context rows on both dates. He has no
/// phase-4 rows, so his game features come from his games.
pub(crate) async fn load_returning_player(warehouse: &dyn Warehouse, stale_copies: bool) {
    load_directory(warehouse, &schedule_directory()).await.expect("the schedule loads");
    let rows = games(stale_copies).iter().map(GameRow::cells).collect();
    warehouse.append(&PLAYER_GAME_SUMMARY, rows).await.expect("the games are stored");
    let contexts = [FIRST_DATE, SECOND_DATE]
        .into_iter()
        .map(|day| {
            UPCOMING_PLAYER_GAME_CONTEXT.row(vec![
                ("player_lookup", PLAYER.to_value()),
                ("game_id", format!("{}_GSW_LAL", date(day).format("%Y%m%d")).to_value()),
                ("game_date", date(day).to_value()),
                ("team_abbr", "LAL".to_value()),
                ("opponent_team_abbr", "GSW".to_value()),
                ("processed_at", Utc.with_ymd_and_hms(2025, 1, 14, 10, 0, 0).unwrap().to_value()),
            ])
        })
        .collect();
    warehouse.append(&UPCOMING_PLAYER_GAME_CONTEXT, contexts).await.expect("the contexts are stored");
}

/// MLFS over both dates in one chunk, in backfill mode without preflight (no phase-4 rows).
pub(crate) async fn run_both_dates(warehouse: &dyn Warehouse, settings: &Settings) -> RunSummary {
    let options = RunOptions {
        dates: vec![date(FIRST_DATE), date(SECOND_DATE)],
        backfill: true,
        skip_preflight: true,
        dry_run: false,
        force: false,
        dispatch: DispatchMode::Serial,
        chunk_dates: 16,
    };
    let summary = run(&MlFeatureStoreProcessor, warehouse, settings, &options).await.expect("MLFS runs");
    assert!(summary.failed_dates().is_empty(), "{:?}", summary.outcomes);
    summary
}

/// The [`GAME_FEATURES`] of the player's row on each date, in date order.
pub(crate) async fn game_features(warehouse: &dyn Warehouse) -> Vec<Vec<f64>> {
    let rows = query_rows(
        warehouse,
        "SELECT features FROM {nba_predictions.ml_feature_store_v2} \
         WHERE player_lookup = 'returningplayer' ORDER BY game_date",
    )
    .await;
    rows.into_iter()
        .map(|row| match &row[0] {
            Value::FloatArray(features) => GAME_FEATURES.iter().map(|&index| features[index]).collect(),
            other => panic!("features are an array of floats: {other:?}"),
        })
        .collect()
}

/// The hand-computed [`GAME_FEATURES`] of both dates, whatever copies the old games have.
///
/// 2025-01-15: the last 10 are, newest first, this season's 30, 24, 18 and the old games 12 to
/// 6: 36, 33, NULL (0), 27, 24, 21, 18. Last 5: 141 / 5 = 28.2; last 10: 231 / 10 = 23.1;
/// season: (18 + 24 + 30) / 3 = 24.0 (the old season left out); trend: (36 + 33) / 2 − (30 +
/// 24 + 18) / 3 = 10.5 → 2.0; minutes: last 10 (34 + 32 + 30 + 27 + … + 21) / 10 = 26.4 against
/// the season's 32.0, −17.5 % → −1.0; free throws (8 + 6 + 4 + 7·3) / 231 = 39 / 231.
///
/// 2025-01-17: the game of the 15th (40) comes first and old game 6 drops out. Last 5: 148 / 5
/// = 29.6; last 10: 253 / 10 = 25.3; season: 112 / 4 = 28.0; trend: (18 + 36) / 2 − (40 + 30 +
/// 24) / 3 = −4.33 → −1.0; minutes 279 / 10 = 27.9 against 33.0, −15.5 % → −1.0; free throws
/// (10 + 8 + 6 + 4 + 6·3) / 253 = 46 / 253.
///
/// Without the older games, the 15th would see 3 games: last 5 the default 10.0, last 10 24.0,
/// trend 0.0, minutes 0.0 and free throws the default 0.15.
pub(crate) fn expected_game_features() -> Vec<Vec<f64>> {
    vec![vec![28.2, 23.1, 24.0, 2.0, -1.0, 39.0 / 231.0], vec![29.6, 25.3, 28.0, -1.0, -1.0, 46.0 / 253.0]]
}

#[tokio::test]
async fn last_10_of_a_player_back_from_a_long_injury_reach_two_seasons_back() {
    let folder = TempDir::new("mlfs-returning");
    let settings = settings_in(folder.path());
    let warehouse = open(&settings).await;
    load_returning_player(warehouse.as_ref(), false).await;
    let mut read_queries = 0;
    let log = captured_log(async {
        read_queries = run_both_dates(warehouse.as_ref(), &settings).await.read_queries;
    })
    .await;
    assert_eq!(game_features(warehouse.as_ref()).await, expected_game_features());
    // The schedule read (a backfill reads no checkpoints), then MLFS's ten reads for the chunk
    // of both dates: the older games are one query, not one per player.
    assert_eq!(read_queries, 11);
    // No Phase 4 rows: each date's row took the composite factors' defaults, and says so.
    let missing_fatigue =
        format!(" WARN {PLAYER}: Feature 5 (fatigue_score) missing from Phase 4, using default=50.0");
    assert_eq!(log.matches(&missing_fatigue).count(), 2, "{log}");
    assert_eq!(log.matches("missing from Phase 4").count(), 8, "{log}");
}

#[tokio::test]
async fn stale_copies_of_an_old_game_count_as_one_game() {
    let folder = TempDir::new("mlfs-returning-copies");
    let settings = settings_in(folder.path());
    let warehouse = open(&settings).await;
    load_returning_player(warehouse.as_ref(), true).await;
    run_both_dates(warehouse.as_ref(), &settings).await;
    // Ranked by rows, the copies would push old games 6 to 8 out of the read; each copy's 99s
    // would show in every feature.
    assert_eq!(game_features(warehouse.as_ref()).await, expected_game_features());
}

/// In daily mode the reference's dependency check failed before its early-season placeholder
/// code could run, so the first weeks of a season were failures (reference-framework.md §14
/// item 4). Here an early-season date is skipped with its reason before any upstream is
/// checked, on a warehouse holding nothing but the schedule; the first date after the window
/// reaches the check and fails it, naming what is missing.
#[tokio::test]
async fn reference_framework_14_4_an_early_season_date_in_daily_mode_is_skipped_before_the_dependency_check()
{
    let folder = TempDir::new("mlfs-early-season");
    let settings = settings_in(folder.path());
    let warehouse = open(&settings).await;
    load_directory(warehouse.as_ref(), &schedule_directory()).await.unwrap();
    let options = |day: &str| RunOptions {
        dates: vec![date(day)],
        backfill: false,
        skip_preflight: false,
        dry_run: false,
        force: false,
        dispatch: DispatchMode::Parallel { workers: 2 },
        chunk_dates: 16,
    };
    // The 2024-25 season starts 2024-10-22: the 25th is day 3, 2024-11-06 day 15.
    let early =
        run(&MlFeatureStoreProcessor, warehouse.as_ref(), &settings, &options("2024-10-25")).await.unwrap();
    assert_eq!(early.outcomes[0].status, DateStatus::Skipped { reason: "early_season".into() });
    assert!(early.failed_dates().is_empty());
    let after =
        run(&MlFeatureStoreProcessor, warehouse.as_ref(), &settings, &options("2024-11-06")).await.unwrap();
    let DateStatus::Failed { error } = &after.outcomes[0].status else {
        panic!("expected a failure: {after:?}")
    };
    assert!(error.starts_with("missing critical dependencies: "), "{error}");

    let history = query_rows(
        warehouse.as_ref(),
        "SELECT data_date, status, skip_reason, backfill_mode FROM {nba_reference.processor_run_history} \
         ORDER BY data_date",
    )
    .await;
    assert_eq!(
        history,
        vec![
            vec![
                Value::Date(date("2024-10-25")),
                "skipped".to_value(),
                "early_season".to_value(),
                Value::Bool(false)
            ],
            vec![Value::Date(date("2024-11-06")), "failed".to_value(), Value::Null, Value::Bool(false)],
        ]
    );
}

/// reference-mlfs.md §2.8: each live run that skips a player for incomplete data records an
/// attempt, the third trips his breaker for 7 days, and the next run skips him as
/// `CIRCUIT_BREAKER_ACTIVE` without recording more. The returning player has 4 games since
/// October 1 against LAL's last 10 final games: 40.0 % of his own data. He is the date's only
/// player, so each run skips the date as held back (exit 0, no retry), and its attempts are
/// written all the same.
#[tokio::test]
async fn three_skips_for_incomplete_data_trip_the_players_circuit_breaker() {
    let folder = TempDir::new("mlfs-reprocess-attempts");
    let settings = settings_in(folder.path());
    let warehouse = open(&settings).await;
    load_returning_player(warehouse.as_ref(), false).await;
    let options = live_run_without_preflight(FIRST_DATE);
    let mut logs = Vec::new();
    for _ in 0..4 {
        let log = captured_log(async {
            let summary =
                run(&MlFeatureStoreProcessor, warehouse.as_ref(), &settings, &options).await.unwrap();
            assert_eq!(
                summary.outcomes[0].status,
                DateStatus::Skipped { reason: "all_entities_held_back".into() },
                "all of the date's players were held back"
            );
        })
        .await;
        logs.push(log);
    }
    // The reference's warnings for each skip (reference-mlfs.md §6.1), not the generic line.
    let skipped = format!(" WARN {PLAYER}: Completeness 40.0% (4/10 games) - skipping");
    assert!(logs[..3].iter().all(|log| log.contains(&skipped)), "{logs:#?}");
    assert!(!logs.iter().any(|log| log.contains(&format!("INCOMPLETE_DATA_SKIPPED {PLAYER}"))), "{logs:#?}");
    // Counted in the date's failure breakdown as a skip the data explains.
    assert!(logs[0].contains(" INFO    INCOMPLETE_DATA_SKIPPED: 1 (expected - data quality)"), "{}", logs[0]);
    assert!(
        logs[2].contains(&format!("ERROR {PLAYER}: Circuit breaker TRIPPED after 3 attempts")),
        "{}",
        logs[2]
    );
    assert!(
        logs[3].contains(&format!(" WARN {PLAYER}: Circuit breaker active until "))
            && logs[3].contains(" - skipping"),
        "{}",
        logs[3]
    );

    let attempts = query_rows(
        warehouse.as_ref(),
        "SELECT processor_name, entity_id, analysis_date, attempt_number, completeness_pct, skip_reason, \
         circuit_breaker_tripped, circuit_breaker_until, manual_override_applied, notes, attempted_at \
         FROM {nba_orchestration.reprocess_attempts} ORDER BY attempt_number",
    )
    .await;
    let Value::Timestamp(third_run) = attempts[2][10] else { panic!("attempted_at: {:?}", attempts[2][10]) };
    let attempts: Vec<Vec<Value>> = attempts.into_iter().map(|row| row[..10].to_vec()).collect();
    let attempt = |number: i64, until: Value| {
        vec![
            "ml_feature_store_v2".to_value(),
            PLAYER.to_value(),
            Value::Date(date(FIRST_DATE)),
            Value::Int(number),
            Value::Float(40.0),
            "incomplete_own_data".to_value(),
            Value::Bool(until != Value::Null),
            until,
            Value::Bool(false),
            format!("Attempt {number}: 40.0% complete").to_value(),
        ]
    };
    let tripped_until = (third_run + chrono::TimeDelta::days(7)).to_value();
    assert_eq!(attempts, vec![attempt(1, Value::Null), attempt(2, Value::Null), attempt(3, tripped_until)]);

    let failures = query_rows(
        warehouse.as_ref(),
        "SELECT failure_category, failure_reason FROM {nba_processing.precompute_failures} \
         ORDER BY created_at",
    )
    .await;
    assert_eq!(failures.len(), 4);
    assert_eq!(
        failures[2],
        vec!["INCOMPLETE_DATA_SKIPPED".to_value(), "Incomplete own data: 40.0%".to_value()]
    );
    assert_eq!(failures[3][0], "CIRCUIT_BREAKER_ACTIVE".to_value());
}
