//! Worked examples of reference-mlfs.md under the README's decisions: the golden vectors of
//! §3.2 (values and per-index source labels), the `data_hash` golden of §5.3, the calculator
//! thresholds of §3.1, the calculator and extractor tests of §7.1–§7.2, the gates of §6.1, and
//! NaN/infinite/NULL inputs: exhaustive cases plus a property test that every feature is finite.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use framework::dispatch::{Dispatched, in_batches};
use framework::{FailureCategory, RunContext};
use proptest::prelude::*;

use super::features::{
    FEATURE_NAMES, FeatureSource, RecentGame, TeamSeasonRecord, injury_risk, minutes_change, pct_free_throw,
    recent_trend, rest_advantage, team_win_pct,
};
use super::*;
use crate::inputs::{
    DateRows, History, HistoryRows, PlayerCompositeFactorsRow, PlayerDailyCacheRow, PlayerGameSummaryRow,
    PlayerShotZoneAnalysisRow, REPROCESS_PROCESSOR_NAME, ReprocessAttemptRow, TeamDefenseZoneAnalysisRow,
    TeamOffenseGameSummaryRow,
};

const PLAYER: &str = "test-player";
const TEAM: &str = "TST";
const OPPONENT: &str = "OPP";

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn game_date() -> NaiveDate {
    date("2025-01-15")
}

fn run_timestamp() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 15, 12, 0, 0).unwrap()
}

fn run_context(backfill: bool) -> RunContext {
    RunContext { date: game_date(), run_id: "abcd1234".into(), backfill, processed_at: run_timestamp() }
}

/// The `sample_phase3_data` context of test_integration.py.
fn example_context() -> UpcomingPlayerGameContextRow {
    UpcomingPlayerGameContextRow {
        player_lookup: PLAYER.into(),
        universal_player_id: Some("testplayer_001".into()),
        game_id: Some("20250115_TEST_OPP".into()),
        game_date: game_date(),
        team_abbr: Some(TEAM.into()),
        opponent_team_abbr: Some(OPPONENT.into()),
        home_game: Some(true),
        back_to_back: Some(false),
        season_phase: Some("regular".into()),
        days_rest: Some(1),
        opponent_days_rest: Some(0),
        player_status: Some("available".into()),
        processed_at: None,
    }
}

/// A context with nothing but its keys: the reference's empty Phase 3 dict.
fn bare_context() -> UpcomingPlayerGameContextRow {
    UpcomingPlayerGameContextRow {
        player_lookup: PLAYER.into(),
        game_id: Some("20250115_TEST_OPP".into()),
        game_date: game_date(),
        ..UpcomingPlayerGameContextRow::default()
    }
}

fn player_game(
    game_date: NaiveDate,
    season_year: i64,
    points: Option<i64>,
    minutes: f64,
    ft_makes: i64,
) -> PlayerGameSummaryRow<'static> {
    PlayerGameSummaryRow {
        player_lookup: PLAYER.into(),
        game_id: format!("{}_{TEAM}", game_date.format("%Y%m%d")).into(),
        game_date,
        team_abbr: Some(TEAM.into()),
        season_year: Some(season_year),
        points,
        minutes_played: Some(minutes),
        ft_makes: Some(ft_makes),
        processed_at: None,
    }
}

/// Games of `points` (newest first) on consecutive earlier days before `D`.
fn games_newest_first(points: &[Option<i64>]) -> Vec<PlayerGameSummaryRow<'static>> {
    points
        .iter()
        .enumerate()
        .map(|(index, points)| {
            player_game(game_date() - chrono::Days::new(index as u64 + 1), 2024, *points, 30.0, 0)
        })
        .collect()
}

/// Example A's history: the last-10 games of the fixture (points, free throws and minutes,
/// newest first) and 5 older games of the season, chosen so that the season averages are the
/// fixture's 19.8 points (297 / 15) and 31.5 minutes (472.5 / 15). A game on `D` itself must
/// not count.
fn example_player_games() -> Vec<PlayerGameSummaryRow<'static>> {
    let last_ten_points = [22, 19, 24, 18, 21, 20, 23, 17, 25, 19];
    let last_ten_free_throws = [6, 4, 7, 5, 6, 5, 8, 4, 9, 5];
    let last_ten_minutes = [33.0, 32.0, 34.0, 31.0, 33.0, 32.0, 33.0, 31.0, 32.0, 33.0];
    let older_points = [17, 18, 18, 18, 18];
    let older_minutes = [29.5, 30.0, 29.0, 30.0, 30.0];
    let mut games = vec![player_game(game_date(), 2024, Some(99), 48.0, 20)];
    for index in 0..10 {
        let played = game_date() - chrono::Days::new(2 * index as u64 + 1);
        games.push(player_game(
            played,
            2024,
            Some(last_ten_points[index]),
            last_ten_minutes[index],
            last_ten_free_throws[index],
        ));
    }
    for index in 0..5 {
        let played = game_date() - chrono::Days::new(2 * index as u64 + 21);
        games.push(player_game(played, 2024, Some(older_points[index]), older_minutes[index], 3));
    }
    games
}

fn team_game(game_date: NaiveDate, season_year: i64, win: Option<bool>) -> TeamOffenseGameSummaryRow {
    TeamOffenseGameSummaryRow {
        team_abbr: TEAM.into(),
        game_date,
        season_year: Some(season_year),
        win_flag: win,
        processed_at: None,
    }
}

/// 7 wins in 10 games this season before `D` (README §4 item 15), plus a loss on `D` and a
/// loss last season, neither of which may count.
fn example_team_games() -> Vec<TeamOffenseGameSummaryRow> {
    let wins = [true, true, false, true, true, false, true, true, false, true];
    let mut games: Vec<TeamOffenseGameSummaryRow> = wins
        .iter()
        .enumerate()
        .map(|(index, win)| {
            team_game(game_date() - chrono::Days::new(2 * index as u64 + 1), 2024, Some(*win))
        })
        .collect();
    games.push(team_game(game_date(), 2024, Some(false)));
    games.push(team_game(date("2024-04-01"), 2023, Some(false)));
    games
}

fn example_history() -> Arc<History> {
    let rows = HistoryRows {
        player_game_summary: example_player_games(),
        team_offense_game_summary: example_team_games(),
        nbac_schedule: Vec::new(),
    };
    Arc::new(History::build(rows).0)
}

/// The `sample_phase4_data` fixture of test_integration.py, split into its four tables.
fn example_phase4_rows() -> DateRows {
    DateRows {
        player_daily_cache: vec![PlayerDailyCacheRow {
            player_lookup: PLAYER.into(),
            cache_date: game_date(),
            points_avg_last_5: Some(20.5),
            points_avg_last_10: Some(20.2),
            points_avg_season: Some(19.8),
            points_std_last_10: Some(4.5),
            minutes_avg_last_10: Some(32.5),
            team_pace_last_10: Some(101.2),
            team_off_rating_last_10: Some(114.5),
            games_in_last_7_days: Some(3),
            paint_rate_last_10: Some(32.0),
            three_pt_rate_last_10: Some(35.0),
            is_production_ready: Some(true),
            data_hash: Some("cachehash".into()),
            processed_at: Some(run_timestamp()),
        }],
        player_composite_factors: vec![PlayerCompositeFactorsRow {
            player_lookup: PLAYER.into(),
            game_date: game_date(),
            fatigue_score: Some(65),
            shot_zone_mismatch_score: Some(2.5),
            pace_score: Some(1.2),
            usage_spike_score: Some(0.8),
            is_production_ready: Some(true),
            data_hash: None,
            processed_at: None,
        }],
        player_shot_zone_analysis: vec![PlayerShotZoneAnalysisRow {
            player_lookup: PLAYER.into(),
            analysis_date: game_date(),
            paint_rate_last_10: Some(32.0),
            mid_range_rate_last_10: Some(18.0),
            three_pt_rate_last_10: Some(35.0),
            is_production_ready: Some(true),
            data_hash: None,
            processed_at: None,
        }],
        team_defense_zone_analysis: vec![TeamDefenseZoneAnalysisRow {
            team_abbr: OPPONENT.into(),
            analysis_date: game_date(),
            defensive_rating_last_15: Some(112.5),
            opponent_pace: Some(99.8),
            is_production_ready: Some(true),
            data_hash: None,
            processed_at: None,
        }],
        ..DateRows::default()
    }
}

fn date_inputs(
    player: UpcomingPlayerGameContextRow,
    mut rows: DateRows,
    history: Arc<History>,
) -> DateInputs {
    rows.upcoming_player_game_context = vec![player];
    DateInputs::build(game_date(), rows, history).0
}

fn process(inputs: &DateInputs, backfill: bool) -> Result<MlFeatureStoreRow, framework::EntityFailure> {
    process_entity(&inputs.players[0], inputs, &run_context(backfill))
}

fn features_of(inputs: &DateInputs) -> FeatureVector {
    let player = &inputs.players[0];
    player_features(player, inputs.history.player_games(&player.player_lookup), inputs)
}

fn sources_of(row_features: &FeatureVector) -> Vec<&'static str> {
    row_features.sources.iter().map(|source| source.as_str()).collect()
}

const P4: &str = "phase4";
const P3: &str = "phase3";
const DEF: &str = "default";
const CALC: &str = "calculated";

/// The 25 source labels given as (index range, label) runs that must cover 0–24 in order.
fn labels_by_index(runs: &[(std::ops::RangeInclusive<usize>, &'static str)]) -> Vec<&'static str> {
    let mut labels = Vec::new();
    for (range, label) in runs {
        assert_eq!(*range.start(), labels.len(), "runs cover the indices in order");
        labels.extend(range.clone().map(|_| *label));
    }
    assert_eq!(labels.len(), 25);
    labels
}

fn count_sources(features: &FeatureVector, wanted: FeatureSource) -> usize {
    features.sources.iter().filter(|source| **source == wanted).count()
}

#[test]
fn golden_vector_a_full_data() {
    let inputs = date_inputs(example_context(), example_phase4_rows(), example_history());
    let row = process(&inputs, true).unwrap();
    let expected = [
        20.5,
        20.2,
        19.8,
        4.5,
        3.0,
        65.0,
        2.5,
        1.2,
        0.8,
        1.0,
        0.0,
        -1.0,
        0.0,
        112.5,
        99.8,
        1.0,
        0.0,
        0.0,
        0.32,
        0.18,
        0.35,
        0.28365384615384615,
        101.2,
        114.5,
        0.7,
    ];
    assert_eq!(row.features, expected);
    let features = features_of(&inputs);
    assert_eq!(count_sources(&features, FeatureSource::Phase4), 16);
    assert_eq!(count_sources(&features, FeatureSource::Phase3), 3);
    assert_eq!(count_sources(&features, FeatureSource::Calculated), 6);
    // §3.2: phase4 at 0–8, 13, 14, 18–20, 22, 23; phase3 at 15–17; calculated at 9–12, 21, 24.
    assert_eq!(
        sources_of(&features),
        labels_by_index(&[
            (0..=8, P4),
            (9..=12, CALC),
            (13..=14, P4),
            (15..=17, P3),
            (18..=20, P4),
            (21..=21, CALC),
            (22..=23, P4),
            (24..=24, CALC)
        ])
    );
    // (16 × 100 + 3 × 75 + 6 × 100) / 25 = 2425 / 25 = 97.0.
    assert_eq!(row.feature_quality_score, Some(97.0));
    assert_eq!(row.data_source, "phase4_partial");
    assert_eq!(row.quality_tier, Some("gold"));
}

#[test]
fn golden_vector_a_team_win_pct_is_seven_of_ten() {
    let inputs = date_inputs(example_context(), example_phase4_rows(), example_history());
    let features = features_of(&inputs);
    assert_eq!(features.values[24], 0.7);
    assert_eq!(features.sources[24], FeatureSource::Calculated);
}

#[test]
fn golden_vector_a_data_hash() {
    let inputs = date_inputs(example_context(), example_phase4_rows(), example_history());
    let row = process(&inputs, true).unwrap();
    assert_eq!(row.data_hash.as_deref(), Some("57f0501ae021407b"));
}

/// A batch as the dispatcher hands it over (`framework::dispatch::BATCH`), its rows hashed
/// together, gives each player the outcome he gets alone: golden vector A keeps its hash in a
/// full batch, and a failure in the batch moves no hash to another row.
#[test]
fn a_batch_of_players_gives_the_rows_and_failures_each_player_gets_alone() {
    let mut inputs = date_inputs(example_context(), example_phase4_rows(), example_history());
    let players: Vec<UpcomingPlayerGameContextRow> = (0..18)
        .map(|index| match index {
            9 => example_context(),
            4 => UpcomingPlayerGameContextRow {
                player_lookup: "nogame".into(),
                game_id: None,
                ..bare_context()
            },
            _ => UpcomingPlayerGameContextRow {
                player_lookup: format!("player{index:02}").into(),
                days_rest: Some(index % 4),
                ..example_context()
            },
        })
        .collect();
    inputs.players = players.clone();
    let context = run_context(true);
    let alone: Dispatched<_> =
        players.iter().map(|player| process_entity(player, &inputs, &context)).collect();
    let together =
        in_batches(&players, |batch, outcomes| process_players(batch, &inputs, &context, outcomes));
    assert_eq!(together, alone);
    let golden = together.rows.iter().find(|row| row.player_lookup == example_context().player_lookup);
    assert_eq!(golden.and_then(|row| row.data_hash.as_deref()), Some("57f0501ae021407b"));
    let failed: Vec<_> = together.failures.iter().map(|failure| failure.entity_id.as_str()).collect();
    assert_eq!(failed, ["nogame"], "a failure in the full batch");
}

/// Golden vector B of reference-mlfs.md §3.2 (no Phase 4), under README §4 item 15.
const GOLDEN_VECTOR_B: [f64; 25] = [
    20.8,
    20.8,
    19.8,
    5.0,
    3.0,
    50.0,
    0.0,
    0.0,
    0.0,
    1.0,
    0.0,
    -1.0,
    0.0,
    112.0,
    100.0,
    1.0,
    0.0,
    0.0,
    0.3,
    0.2,
    0.35,
    0.28365384615384615,
    100.0,
    112.0,
    0.7,
];

/// The source labels of golden vector B.
fn golden_vector_b_labels() -> Vec<&'static str> {
    labels_by_index(&[
        (0..=2, P3),
        (3..=8, DEF),
        (9..=12, CALC),
        (13..=14, DEF),
        (15..=17, P3),
        (18..=20, DEF),
        (21..=21, CALC),
        (22..=23, DEF),
        (24..=24, CALC),
    ])
}

#[test]
fn golden_vector_b_no_phase4() {
    let inputs = date_inputs(example_context(), DateRows::default(), example_history());
    let row = process(&inputs, true).unwrap();
    assert_eq!(row.features, GOLDEN_VECTOR_B);
    let features = features_of(&inputs);
    assert_eq!(count_sources(&features, FeatureSource::Phase3), 6);
    assert_eq!(count_sources(&features, FeatureSource::Calculated), 6);
    assert_eq!(count_sources(&features, FeatureSource::Default), 13);
    // §3.2: the extractor aggregates (0–2) and the context (15–17) are phase3, every Phase 4
    // feature takes its default, the six calculated features stay calculated.
    assert_eq!(sources_of(&features), golden_vector_b_labels());
    // (6 × 75 + 6 × 100 + 13 × 40) / 25 = (450 + 600 + 520) / 25 = 1570 / 25 = 62.8.
    assert_eq!(row.feature_quality_score, Some(62.8));
    assert_eq!(row.data_source, "mixed");
    assert_eq!(row.quality_tier, Some("bronze"));
}

#[test]
fn golden_vector_c_both_dicts_empty() {
    let inputs = date_inputs(bare_context(), DateRows::default(), Arc::default());
    let row = process(&inputs, true).unwrap();
    let expected = [
        10.0, 10.0, 10.0, 5.0, 3.0, 50.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 112.0, 100.0, 0.0, 0.0, 0.0,
        0.3, 0.2, 0.35, 0.15, 100.0, 112.0, 0.5,
    ];
    assert_eq!(row.features, expected);
    // Only the context features (15–17, always phase3) and the six calculated ones escape the
    // default: (3 × 75 + 6 × 100 + 16 × 40) / 25 = (225 + 600 + 640) / 25 = 1465 / 25 = 58.6.
    let features = features_of(&inputs);
    assert_eq!(
        sources_of(&features),
        labels_by_index(&[
            (0..=8, DEF),
            (9..=12, CALC),
            (13..=14, DEF),
            (15..=17, P3),
            (18..=20, DEF),
            (21..=21, CALC),
            (22..=23, DEF),
            (24..=24, CALC)
        ])
    );
    assert_eq!(row.feature_quality_score, Some(58.6));
    assert_eq!(row.data_source, "mixed");
    assert_eq!(row.quality_tier, Some("bronze"));
}

#[test]
fn golden_vector_a_worked_intermediates() {
    // §3.2, example A's note. Trend: newest five [22, 19, 24, 18, 21]; a = (22 + 19 + 24) / 3 =
    // 65 / 3 = 21.667, b = (18 + 21) / 2 = 19.5, b − a = −2.17 ≤ −2 → −1.0.
    assert_eq!(recent_trend(&recent_points(&[22, 19, 24, 18, 21, 20, 23, 17, 25, 19])), -1.0);
    // FT: (6 + 4 + 7 + 5 + 6 + 5 + 8 + 4 + 9 + 5) / (22 + 19 + 24 + 18 + 21 + 20 + 23 + 17 + 25 + 19)
    // = 59 / 208.
    let games = free_throw_games(&[6, 4, 7, 5, 6, 5, 8, 4, 9, 5], &[22, 19, 24, 18, 21, 20, 23, 17, 25, 19]);
    assert_eq!(pct_free_throw(&games), 0.28365384615384615);
    // Minutes: (32.5 − 31.5) / 31.5 = +3.2 % → 0.0.
    assert_eq!(minutes_change(Some(32.5), &[], Some(31.5)), 0.0);
}

#[test]
fn golden_vector_b_minutes_change_uses_the_last_ten_minutes() {
    // §3.2, example B's note: no Phase 4 minutes, so recent = mean of the last-10 minutes
    // (33 + 32 + 34 + 31 + 33 + 32 + 33 + 31 + 32 + 33) / 10 = 324 / 10 = 32.4 against 31.5:
    // +2.9 % → 0.0.
    let minutes = [33.0, 32.0, 34.0, 31.0, 33.0, 32.0, 33.0, 31.0, 32.0, 33.0];
    let games: Vec<RecentGame> = minutes
        .iter()
        .map(|minutes| RecentGame { minutes_played: Some(*minutes), ..RecentGame::default() })
        .collect();
    assert_eq!(minutes_change(None, &games, Some(31.5)), 0.0);
    // The aggregates of B: pts10 = 208 / 10 = 20.8, pts5 = (22 + 19 + 24 + 18 + 21) / 5 = 104 / 5
    // = 20.8, season = 297 / 15 = 19.8 (the history's 15 season games before D).
    let features = features_of(&date_inputs(example_context(), DateRows::default(), example_history()));
    assert_eq!(features.values[..3], [20.8, 20.8, 19.8]);
    assert_eq!(features.values[12], 0.0);
}

/// Example A's four Phase 4 rows with every FLOAT64 value replaced by `hostile` and every
/// INT64 value NULL (an INT64 cannot hold NaN).
fn hostile_phase4_rows(hostile: f64) -> DateRows {
    let mut rows = example_phase4_rows();
    let cache = &mut rows.player_daily_cache[0];
    for value in [
        &mut cache.points_avg_last_5,
        &mut cache.points_avg_last_10,
        &mut cache.points_avg_season,
        &mut cache.points_std_last_10,
        &mut cache.minutes_avg_last_10,
        &mut cache.team_pace_last_10,
        &mut cache.team_off_rating_last_10,
        &mut cache.paint_rate_last_10,
        &mut cache.three_pt_rate_last_10,
    ] {
        *value = Some(hostile);
    }
    cache.games_in_last_7_days = None;
    let composite = &mut rows.player_composite_factors[0];
    composite.fatigue_score = None;
    for value in
        [&mut composite.shot_zone_mismatch_score, &mut composite.pace_score, &mut composite.usage_spike_score]
    {
        *value = Some(hostile);
    }
    let shot_zones = &mut rows.player_shot_zone_analysis[0];
    for value in [
        &mut shot_zones.paint_rate_last_10,
        &mut shot_zones.mid_range_rate_last_10,
        &mut shot_zones.three_pt_rate_last_10,
    ] {
        *value = Some(hostile);
    }
    let defense = &mut rows.team_defense_zone_analysis[0];
    defense.defensive_rating_last_15 = Some(hostile);
    defense.opponent_pace = Some(hostile);
    rows
}

#[test]
fn nan_and_infinite_phase4_values_are_missing_and_give_golden_vector_b() {
    // README §4 item 9: NaN and ±inf are "missing", exactly as NULL, so rows full of them are
    // the reference's empty Phase 4 dict: vector B, labels and score included.
    for hostile in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let inputs = date_inputs(example_context(), hostile_phase4_rows(hostile), example_history());
        let row = process(&inputs, true).unwrap();
        assert_eq!(row.features, GOLDEN_VECTOR_B, "{hostile}");
        let features = features_of(&inputs);
        assert_eq!(sources_of(&features), golden_vector_b_labels(), "{hostile}");
        assert_eq!(row.feature_quality_score, Some(62.8), "{hostile}");
    }
}

#[test]
fn nan_infinite_minutes_and_null_points_in_history_are_missing() {
    // Five games this season, newest first: points [20, NULL, 20, 20, 20], minutes
    // [NaN, inf, 30, 30, 30].
    let points = [Some(20), None, Some(20), Some(20), Some(20)];
    let minutes = [f64::NAN, f64::INFINITY, 30.0, 30.0, 30.0];
    let games: Vec<PlayerGameSummaryRow<'static>> = (0..5)
        .map(|index| {
            player_game(
                game_date() - chrono::Days::new(index as u64 + 1),
                2024,
                points[index],
                minutes[index],
                2,
            )
        })
        .collect();
    let rows = HistoryRows { player_game_summary: games, ..HistoryRows::default() };
    let inputs = date_inputs(bare_context(), DateRows::default(), Arc::new(History::build(rows).0));
    let row = process(&inputs, true).unwrap();
    assert!(row.features.iter().all(|value| value.is_finite()), "{:?}", row.features);
    // Last-5 and last-10 count NULL points as 0: (20 + 0 + 20 + 20 + 20) / 5 = 16.0.
    assert_eq!(row.features[0], 16.0);
    assert_eq!(row.features[1], 16.0);
    // The season AVG skips the NULL: 80 / 4 = 20.0.
    assert_eq!(row.features[2], 20.0);
    // Trend: a = (20 + 0 + 20) / 3 = 13.33, b = 20, b − a = 6.67 ≥ 5 → 2.0.
    assert_eq!(row.features[11], 2.0);
    // Minutes: recent = (0 + 0 + 30 + 30 + 30) / 5 = 18 (missing as 0), season AVG = 90 / 3 = 30
    // (missing skipped): (18 − 30) / 30 = −0.4 ≤ −0.20 → −2.0.
    assert_eq!(row.features[12], -2.0);
    // FT: 5 × 2 / 80 = 0.125.
    assert_eq!(row.features[21], 0.125);
}

#[test]
fn every_row_names_its_25_features() {
    let inputs = date_inputs(bare_context(), DateRows::default(), Arc::default());
    let row = process(&inputs, true).unwrap();
    assert_eq!(row.feature_names, FEATURE_NAMES);
    assert_eq!(row.feature_names[4], "games_in_last_7_days");
    assert_eq!(row.feature_count, 25);
    assert_eq!(row.feature_version, "v1_baseline_25");
    assert_eq!(row.processing_decision_reason, Some("processed_successfully"));
    assert_eq!(row.early_season_flag, None);
    assert_eq!(row.created_at, run_timestamp());
}

// reference-mlfs.md §7.1, FeatureCalculator.

#[test]
fn rest_advantage_examples() {
    assert_eq!(rest_advantage(Some(2), Some(0)), 2.0);
    assert_eq!(rest_advantage(Some(0), Some(2)), -2.0);
    assert_eq!(rest_advantage(Some(1), Some(1)), 0.0);
    assert_eq!(rest_advantage(Some(5), Some(0)), 2.0, "clamped");
    assert_eq!(rest_advantage(None, None), 0.0);
    assert_eq!(rest_advantage(Some(i64::MIN), Some(i64::MAX)), -2.0);
}

#[test]
fn injury_risk_examples() {
    assert_eq!(injury_risk(Some("available")), 0.0);
    assert_eq!(injury_risk(Some("probable")), 1.0);
    assert_eq!(injury_risk(Some("questionable")), 2.0);
    assert_eq!(injury_risk(Some("doubtful")), 3.0);
    assert_eq!(injury_risk(Some("out")), 3.0);
    assert_eq!(injury_risk(Some("QUESTIONABLE")), 2.0);
    assert_eq!(injury_risk(None), 0.0);
    assert_eq!(injury_risk(Some("day-to-day")), 0.0);
}

fn recent_points(points: &[i64]) -> Vec<RecentGame> {
    points.iter().map(|points| RecentGame { points: Some(*points), ..RecentGame::default() }).collect()
}

#[test]
fn recent_trend_declining_example_is_minus_two() {
    // a = (25 + 24 + 26) / 3 = 25, b = (18 + 17) / 2 = 17.5, b − a = −7.5.
    assert_eq!(recent_trend(&recent_points(&[25, 24, 26, 18, 17])), -2.0);
}

#[test]
fn recent_trend_improving_example_is_plus_two() {
    // a = 17, b = 25.5, b − a = 8.5.
    assert_eq!(recent_trend(&recent_points(&[17, 18, 16, 25, 26])), 2.0);
}

#[test]
fn recent_trend_flat_and_short_examples_are_zero() {
    assert_eq!(recent_trend(&recent_points(&[22, 21, 23, 22, 21])), 0.0);
    assert_eq!(recent_trend(&recent_points(&[30, 10])), 0.0);
}

#[test]
fn minutes_change_examples() {
    // (36 − 28) / 28 = 0.286; (32 − 28) / 28 = 0.143; (24 − 32) / 32 = −0.25.
    assert_eq!(minutes_change(Some(36.0), &[], Some(28.0)), 2.0);
    assert_eq!(minutes_change(Some(32.0), &[], Some(28.0)), 1.0);
    assert_eq!(minutes_change(Some(30.0), &[], Some(30.0)), 0.0);
    assert_eq!(minutes_change(Some(24.0), &[], Some(32.0)), -2.0);
}

#[test]
fn minutes_change_falls_back_to_last_ten_minutes() {
    let minutes = [35.0, 36.0, 34.0, 37.0, 35.0, 36.0, 35.0, 34.0, 36.0, 35.0];
    let games: Vec<RecentGame> = minutes
        .iter()
        .map(|minutes| RecentGame { minutes_played: Some(*minutes), ..RecentGame::default() })
        .collect();
    // Mean 35.3 against a season of 30.0: +17.7 %.
    assert_eq!(minutes_change(None, &games, Some(30.0)), 1.0);
    assert_eq!(minutes_change(None, &[], Some(30.0)), 0.0, "no recent minutes");
    assert_eq!(minutes_change(Some(30.0), &games, None), 0.0, "no season minutes");
}

fn free_throw_games(free_throws: &[i64], points: &[i64]) -> Vec<RecentGame> {
    free_throws
        .iter()
        .zip(points)
        .map(|(ft_makes, points)| RecentGame {
            points: Some(*points),
            ft_makes: Some(*ft_makes),
            minutes_played: None,
        })
        .collect()
}

#[test]
fn pct_free_throw_ten_game_example() {
    let games = free_throw_games(&[8, 6, 10, 4, 7, 5, 9, 6, 8, 7], &[28, 24, 32, 20, 26, 22, 30, 25, 29, 27]);
    // 70 / 263.
    assert_eq!(pct_free_throw(&games), 0.2661596958174905);
}

#[test]
fn pct_free_throw_five_game_example() {
    let games = free_throw_games(&[12, 10, 11, 13, 12], &[30, 28, 29, 31, 30]);
    // 58 / 148.
    assert_eq!(pct_free_throw(&games), 0.3918918918918919);
}

#[test]
fn pct_free_throw_defaults_without_a_sample() {
    assert_eq!(pct_free_throw(&free_throw_games(&[5], &[20])), 0.15);
    assert_eq!(pct_free_throw(&free_throw_games(&[0; 5], &[0; 5])), 0.15);
    assert_eq!(pct_free_throw(&free_throw_games(&[30; 5], &[40; 5])), 0.5, "clamped");
}

fn record_of(wins: usize, games: usize) -> TeamSeasonRecord {
    let rows: Vec<TeamOffenseGameSummaryRow> = (0..games)
        .map(|index| team_game(game_date() - chrono::Days::new(index as u64 + 1), 2024, Some(index < wins)))
        .collect();
    TeamSeasonRecord::from_history(&rows, 2024)
}

#[test]
fn team_win_pct_examples() {
    assert_eq!(team_win_pct(record_of(6, 8)), 0.75);
    assert_eq!(team_win_pct(record_of(2, 8)), 0.25);
    assert_eq!(team_win_pct(record_of(3, 6)), 0.5);
    assert_eq!(team_win_pct(record_of(2, 2)), 0.5, "fewer than 5 games");
}

#[test]
fn team_win_pct_counts_a_null_win_flag_as_a_game_but_not_a_win() {
    let mut rows: Vec<TeamOffenseGameSummaryRow> =
        (0..4).map(|index| team_game(game_date() - chrono::Days::new(index + 1), 2024, Some(true))).collect();
    rows.push(team_game(date("2025-01-01"), 2024, None));
    assert_eq!(team_win_pct(TeamSeasonRecord::from_history(&rows, 2024)), 0.8);
}

#[test]
fn team_win_pct_three_of_five_is_0_6() {
    // test_performance.py's fixture (§7.4): exactly 5 games is enough; 3 / 5 = 0.6.
    assert_eq!(team_win_pct(record_of(3, 5)), 0.6);
    assert_eq!(team_win_pct(record_of(4, 4)), 0.5, "4 games are fewer than 5");
}

#[test]
fn rest_advantage_two_against_one_is_one() {
    // test_performance.py's fixture (§7.4): 2 − 1 = 1.
    assert_eq!(rest_advantage(Some(2), Some(1)), 1.0);
}

#[test]
fn rest_advantage_is_zero_when_either_side_is_unknown() {
    // §3.1: "If either is None: 0.0".
    assert_eq!(rest_advantage(Some(3), None), 0.0);
    assert_eq!(rest_advantage(None, Some(0)), 0.0);
}

#[test]
fn injury_risk_of_an_empty_status_is_zero() {
    // §3.1: '' → 0.0.
    assert_eq!(injury_risk(Some("")), 0.0);
}

#[test]
fn recent_trend_thresholds_are_inclusive() {
    // §3.1: a = mean of the 3 newest, b = mean of the 2 older, diff = b − a.
    // [10, 10, 10, 15, 15]: diff = 15 − 10 = 5 ≥ 5 → 2.0.
    assert_eq!(recent_trend(&recent_points(&[10, 10, 10, 15, 15])), 2.0);
    // [10, 10, 10, 12, 12]: diff = 2 ≥ 2 → 1.0.
    assert_eq!(recent_trend(&recent_points(&[10, 10, 10, 12, 12])), 1.0);
    // [10, 10, 10, 11, 12]: diff = 11.5 − 10 = 1.5 → 0.0.
    assert_eq!(recent_trend(&recent_points(&[10, 10, 10, 11, 12])), 0.0);
    // [12, 12, 12, 10, 10]: diff = −2 ≤ −2 → −1.0.
    assert_eq!(recent_trend(&recent_points(&[12, 12, 12, 10, 10])), -1.0);
    // [15, 15, 15, 10, 10]: diff = −5 ≤ −5 → −2.0.
    assert_eq!(recent_trend(&recent_points(&[15, 15, 15, 10, 10])), -2.0);
    // Only the 5 newest count: the 6th game (100) changes nothing.
    assert_eq!(recent_trend(&recent_points(&[10, 10, 10, 12, 12, 100])), 1.0);
}

#[test]
fn recent_trend_counts_null_points_as_zero() {
    // [NULL, NULL, NULL, 3, 3]: a = 0, b = 3, diff = 3 ≥ 2 → 1.0.
    let mut games = recent_points(&[0, 0, 0, 3, 3]);
    for game in &mut games[..3] {
        game.points = None;
    }
    assert_eq!(recent_trend(&games), 1.0);
}

#[test]
fn minutes_change_thresholds_are_inclusive() {
    // §3.1: the ±0.10 and ±0.20 boundaries are inclusive. Against a season of 30:
    // (33 − 30) / 30 = 0.10 → 1.0; (36 − 30) / 30 = 0.20 → 2.0;
    // (27 − 30) / 30 = −0.10 → −1.0; (24 − 30) / 30 = −0.20 → −2.0; (32 − 30) / 30 = 0.067 → 0.0.
    assert_eq!(minutes_change(Some(33.0), &[], Some(30.0)), 1.0);
    assert_eq!(minutes_change(Some(36.0), &[], Some(30.0)), 2.0);
    assert_eq!(minutes_change(Some(27.0), &[], Some(30.0)), -1.0);
    assert_eq!(minutes_change(Some(24.0), &[], Some(30.0)), -2.0);
    assert_eq!(minutes_change(Some(32.0), &[], Some(30.0)), 0.0);
}

// reference-mlfs.md §7.2, extract_phase3_data, through the history slices of README §4 item 17.

fn phase3_only(points_newest_first: &[Option<i64>]) -> FeatureVector {
    let rows = HistoryRows {
        player_game_summary: games_newest_first(points_newest_first),
        ..HistoryRows::default()
    };
    let inputs = date_inputs(bare_context(), DateRows::default(), Arc::new(History::build(rows).0));
    features_of(&inputs)
}

#[test]
fn ten_games_give_points_avg_last_10_of_21_4_and_last_5_of_21_0() {
    let points = [20, 22, 24, 18, 21, 23, 19, 25, 20, 22].map(Some);
    let features = phase3_only(&points);
    assert_eq!(features.values[0], 21.0);
    assert_eq!(features.values[1], 21.4);
    assert_eq!(&sources_of(&features)[..2], ["phase3", "phase3"]);
}

#[test]
fn three_games_give_points_avg_last_10_of_15_and_no_last_5() {
    let features = phase3_only(&[Some(15), Some(18), Some(12)]);
    assert_eq!(features.values[1], 15.0);
    assert_eq!((features.values[0], features.sources[0]), (10.0, FeatureSource::Default));
}

#[test]
fn no_games_leave_the_defaults() {
    let features = phase3_only(&[]);
    assert_eq!((features.values[1], features.sources[1]), (10.0, FeatureSource::Default));
}

#[test]
fn null_points_count_as_zero_in_the_last_ten() {
    // (20 + 0 + 25 + 15 + 10) / 5 = 14.0.
    let features = phase3_only(&[Some(20), None, Some(25), Some(15), Some(10)]);
    assert_eq!(features.values[0], 14.0);
    assert_eq!(features.values[1], 14.0);
}

#[test]
fn only_the_ten_newest_games_count() {
    // Twelve games: the two oldest (100 points each) fall outside the window.
    let mut points = vec![Some(10); 10];
    points.extend([Some(100), Some(100)]);
    assert_eq!(phase3_only(&points).values[1], 10.0);
}

#[test]
fn last_ten_spans_seasons_but_season_average_does_not() {
    // README §4 item 17: 2 games this season (20, 30), 3 last season (10 each).
    let mut games = games_newest_first(&[Some(20), Some(30), Some(10), Some(10), Some(10)]);
    for game in &mut games[2..] {
        game.season_year = Some(2023);
    }
    let rows = HistoryRows { player_game_summary: games, ..HistoryRows::default() };
    let inputs = date_inputs(bare_context(), DateRows::default(), Arc::new(History::build(rows).0));
    let features = features_of(&inputs);
    assert_eq!(features.values[0], 16.0, "(20 + 30 + 10 + 10 + 10) / 5");
    assert_eq!(features.values[2], 25.0, "(20 + 30) / 2");
}

#[test]
fn season_average_of_null_points_is_missing() {
    let games = games_newest_first(&[None, None]);
    let rows = HistoryRows { player_game_summary: games, ..HistoryRows::default() };
    let inputs = date_inputs(bare_context(), DateRows::default(), Arc::new(History::build(rows).0));
    let features = features_of(&inputs);
    assert_eq!((features.values[2], features.sources[2]), (10.0, FeatureSource::Default));
}

#[test]
fn extract_phase3_data_passes_the_context_values_through() {
    // §7.2: home_game True, days_rest 1, status available reach the row and the features.
    let inputs = date_inputs(example_context(), DateRows::default(), example_history());
    let row = process(&inputs, true).unwrap();
    assert_eq!(row.is_home, Some(true));
    assert_eq!(row.days_rest, Some(1));
    assert_eq!(row.opponent_team_abbr.as_deref(), Some(OPPONENT));
    // rest 1 − 0 = 1 → 1.0; available → 0.0; home → 1.0; not back to back → 0.0; regular → 0.0.
    assert_eq!(row.features[9], 1.0);
    assert_eq!(row.features[10], 0.0);
    assert_eq!(row.features[15..18], [1.0, 0.0, 0.0]);
}

#[test]
fn extract_phase4_data_with_an_empty_cache_keeps_composite_shot_zone_and_defense() {
    // §7.2 "an empty cache": no daily-cache row, the other three Phase 4 rows of example A.
    let mut rows = example_phase4_rows();
    rows.player_daily_cache.clear();
    let inputs = date_inputs(example_context(), rows, example_history());
    let row = process(&inputs, true).unwrap();
    let expected = [
        20.8, // Phase 3: 208 / 10 … the 5 newest: 104 / 5.
        20.8,
        19.8, // Phase 3 season AVG 297 / 15.
        5.0,  // default
        3.0,  // default
        65.0, // composite
        2.5,
        1.2,
        0.8,
        1.0,
        0.0,
        -1.0,
        0.0,   // last-10 minutes 32.4 against 31.5: +2.9 %.
        112.5, // team defense of OPP
        99.8,
        1.0,
        0.0,
        0.0,
        0.32, // shot zones 32.0 / 100
        0.18,
        0.35,
        0.28365384615384615,
        100.0, // default
        112.0, // default
        0.7,
    ];
    assert_eq!(row.features, expected);
    let features = features_of(&inputs);
    assert_eq!(
        sources_of(&features),
        labels_by_index(&[
            (0..=2, P3),
            (3..=4, DEF),
            (5..=8, P4),
            (9..=12, CALC),
            (13..=14, P4),
            (15..=17, P3),
            (18..=20, P4),
            (21..=21, CALC),
            (22..=23, DEF),
            (24..=24, CALC),
        ])
    );
    // 9 phase4, 6 phase3, 4 default, 6 calculated: (900 + 450 + 160 + 600) / 25 = 2110 / 25 = 84.4;
    // phase4 share 9 / 25 = 0.36, phase3 share 6 / 25 = 0.24 → mixed.
    assert_eq!(row.feature_quality_score, Some(84.4));
    assert_eq!(row.data_source, "mixed");
    assert_eq!(row.quality_tier, Some("silver"));
}

#[test]
fn extract_phase4_data_without_an_opponent_has_no_opponent_def_rating() {
    // §7.2 "no opponent": the OPP team-defense row exists, but a player with no (or an empty)
    // opponent never reads it, so 13 and 14 take their defaults 112.0 and 100.0.
    for opponent in [None, Some("")] {
        let mut context = example_context();
        context.opponent_team_abbr = opponent.map(Into::into);
        let inputs = date_inputs(context, example_phase4_rows(), example_history());
        let row = process(&inputs, true).unwrap();
        assert_eq!(row.features[13..15], [112.0, 100.0], "{opponent:?}");
        let features = features_of(&inputs);
        assert_eq!(features.sources[13..15], [FeatureSource::Default, FeatureSource::Default]);
        // 14 phase4, 3 phase3, 2 default, 6 calculated: (1400 + 225 + 80 + 600) / 25 = 2305 / 25
        // = 92.2; phase4 share 14 / 25 = 0.56 → phase4_partial.
        assert_eq!(row.feature_quality_score, Some(92.2));
        assert_eq!(row.data_source, "phase4_partial");
    }
}

// README §4 item 16: a NULL never overwrites an earlier source's value.

fn shot_zone_merge(cache_paint: Option<f64>, shot_zone_paint: Option<f64>) -> (f64, FeatureSource) {
    let mut rows = example_phase4_rows();
    rows.player_daily_cache[0].paint_rate_last_10 = cache_paint;
    rows.player_shot_zone_analysis[0].paint_rate_last_10 = shot_zone_paint;
    let inputs = date_inputs(example_context(), rows, example_history());
    let features = features_of(&inputs);
    (features.values[18], features.sources[18])
}

#[test]
fn shot_zone_rate_wins_over_daily_cache() {
    assert_eq!(shot_zone_merge(Some(40.0), Some(32.0)), (0.32, FeatureSource::Phase4));
}

#[test]
fn null_shot_zone_rate_keeps_the_daily_cache_rate() {
    assert_eq!(shot_zone_merge(Some(40.0), None), (0.4, FeatureSource::Phase4));
    assert_eq!(shot_zone_merge(Some(40.0), Some(f64::NAN)), (0.4, FeatureSource::Phase4));
    assert_eq!(shot_zone_merge(None, None), (0.3, FeatureSource::Default));
}

#[test]
fn playoff_game_reads_the_season_phase_case_insensitively() {
    let mut context = bare_context();
    context.season_phase = Some("Playoffs".into());
    let inputs = date_inputs(context, DateRows::default(), Arc::default());
    assert_eq!(features_of(&inputs).values[17], 1.0);
}

// reference-mlfs.md §6.1: the gates, and the failure categories of README §4 item 3.

fn tripped_attempt(until: DateTime<Utc>) -> ReprocessAttemptRow {
    ReprocessAttemptRow {
        processor_name: REPROCESS_PROCESSOR_NAME.into(),
        entity_id: PLAYER.into(),
        analysis_date: game_date(),
        attempt_number: 3,
        attempted_at: None,
        circuit_breaker_tripped: Some(true),
        circuit_breaker_until: Some(until),
    }
}

#[test]
fn an_active_circuit_breaker_skips_the_player_even_in_backfill() {
    let mut rows = example_phase4_rows();
    rows.reprocess_attempts = vec![tripped_attempt(Utc.with_ymd_and_hms(2025, 1, 22, 10, 0, 0).unwrap())];
    let inputs = date_inputs(example_context(), rows, example_history());
    let failure = process(&inputs, true).unwrap_err();
    assert_eq!(failure.category, FailureCategory::CircuitBreakerActive);
    assert_eq!(failure.entity_id, PLAYER);
    assert_eq!(failure.reason, "Circuit breaker active until 2025-01-22 10:00:00+00:00");
    assert_eq!(
        failure.log_line.as_deref(),
        Some("test-player: Circuit breaker active until 2025-01-22 10:00:00+00:00 - skipping")
    );
}

#[test]
fn an_expired_circuit_breaker_only_counts_the_attempts() {
    let mut rows = example_phase4_rows();
    rows.reprocess_attempts = vec![tripped_attempt(Utc.with_ymd_and_hms(2025, 1, 15, 11, 0, 0).unwrap())];
    let inputs = date_inputs(example_context(), rows, example_history());
    let row = process(&inputs, true).unwrap();
    assert_eq!(row.reprocess_attempt_count, Some(3));
    assert_eq!(row.circuit_breaker_active, Some(false));
    assert_eq!(row.circuit_breaker_until, None);
}

#[test]
fn date_notes_say_the_players_checked_and_the_season_flags() {
    // reference-mlfs.md §1 steps 6 and 9, §2.4, §2.7 and §6.1 steps 3–5: 2025-01-15 is past the
    // bootstrap window of the 2024 season and in January, not a boundary month; the player has
    // a row in each Phase 4 table, all production ready, and games before the date.
    let inputs = date_inputs(example_context(), example_phase4_rows(), example_history());
    assert_eq!(
        date_notes(&inputs),
        vec![
            "Found 1 players with games on 2025-01-15",
            "Batch extraction complete: 1 daily_cache, 1 composite, 1 shot_zone, 1 team_defense, \
             1 player_context, 1 last_10_games",
            "Checking completeness for 1 players...",
            "Completeness check complete. Bootstrap mode: False, Season boundary: False",
            "Upstream completeness check: 1/1 players have all upstreams ready",
        ]
    );

    // Without his shot-zone row and without any earlier game.
    let mut rows = example_phase4_rows();
    rows.player_shot_zone_analysis.clear();
    let no_history = HistoryRows {
        player_game_summary: Vec::new(),
        team_offense_game_summary: Vec::new(),
        nbac_schedule: Vec::new(),
    };
    let inputs = date_inputs(example_context(), rows, Arc::new(History::build(no_history).0));
    let notes = date_notes(&inputs);
    assert_eq!(
        notes[1],
        "Batch extraction complete: 1 daily_cache, 1 composite, 0 shot_zone, 1 team_defense, 1 player_context, \
         0 last_10_games"
    );
    assert_eq!(notes[4], "Upstream completeness check: 0/1 players have all upstreams ready");
}

#[test]
fn row_notes_warn_of_each_composite_factor_that_took_its_default() {
    // reference-mlfs.md §3, the Phase-4-only rule: one warning per missing feature of 5–8, with
    // its default as Python prints it. Example A has all four.
    let complete = date_inputs(example_context(), example_phase4_rows(), example_history());
    assert!(row_notes(&process(&complete, true).unwrap(), &complete).is_empty());

    let mut rows = example_phase4_rows();
    rows.player_composite_factors[0].pace_score = Some(f64::NAN);
    rows.player_composite_factors[0].usage_spike_score = None;
    let some_missing = date_inputs(example_context(), rows, example_history());
    assert_eq!(
        row_notes(&process(&some_missing, true).unwrap(), &some_missing),
        [
            "test-player: Feature 7 (pace_score) missing from Phase 4, using default=0.0",
            "test-player: Feature 8 (usage_spike_score) missing from Phase 4, using default=0.0",
        ]
    );

    // No composite row, and no daily-cache row either: only the composite factors warn (3 and 4
    // took their defaults through the fallback rule, which said nothing).
    let mut rows = example_phase4_rows();
    rows.player_composite_factors.clear();
    rows.player_daily_cache.clear();
    let no_composite = date_inputs(example_context(), rows, example_history());
    let row = process(&no_composite, true).unwrap();
    assert_eq!(row.features[5..9], [50.0, 0.0, 0.0, 0.0]);
    assert_eq!(
        row_notes(&row, &no_composite),
        [
            "test-player: Feature 5 (fatigue_score) missing from Phase 4, using default=50.0",
            "test-player: Feature 6 (shot_zone_mismatch_score) missing from Phase 4, using default=0.0",
            "test-player: Feature 7 (pace_score) missing from Phase 4, using default=0.0",
            "test-player: Feature 8 (usage_spike_score) missing from Phase 4, using default=0.0",
        ]
    );
}

#[test]
fn live_mode_skips_a_player_with_incomplete_own_data() {
    // No schedule: nothing expected, so 0.0 % complete, as a debuting rookie.
    let inputs = date_inputs(example_context(), example_phase4_rows(), example_history());
    let failure = process(&inputs, false).unwrap_err();
    assert_eq!(failure.category, FailureCategory::IncompleteDataSkipped);
    assert_eq!(failure.reason, "Incomplete own data: 0.0%");
    // The reference's warning (reference-mlfs.md §6.1 step 3), logged instead of the generic
    // line: the 16 season games of the example history, none expected.
    assert_eq!(failure.log_line.as_deref(), Some("test-player: Completeness 0.0% (16/0 games) - skipping"));
}

/// Example A's history plus a schedule with the team's last 10 games all final, so that own
/// data is complete (11 season dates through `D` against 10 expected).
fn complete_history() -> Arc<History> {
    let schedule = (0..10)
        .map(|index| crate::inputs::NbacScheduleRow {
            game_id: format!("g{index}"),
            game_date: game_date() - chrono::Days::new(2 * index + 1),
            game_status: Some(3),
            home_team_tricode: Some(TEAM.into()),
            away_team_tricode: Some(OPPONENT.into()),
            processed_at: None,
        })
        .collect();
    let rows = HistoryRows {
        player_game_summary: example_player_games(),
        team_offense_game_summary: example_team_games(),
        nbac_schedule: schedule,
    };
    Arc::new(History::build(rows).0)
}

#[test]
fn live_mode_skips_a_player_whose_upstream_is_not_ready() {
    let mut rows = example_phase4_rows();
    rows.team_defense_zone_analysis[0].is_production_ready = Some(false);
    let inputs = date_inputs(example_context(), rows, complete_history());
    let failure = process(&inputs, false).unwrap_err();
    assert_eq!(failure.category, FailureCategory::UpstreamIncomplete);
    assert_eq!(failure.reason, "Upstream Phase 4 dependencies not ready");
    assert_eq!(
        failure.log_line.as_deref(),
        Some(
            "test-player: Upstream not ready (daily_cache=True, composite=True, shot_zone=True, \
             team_defense=False) - skipping"
        )
    );
}

/// The player's earlier attempt for the date, untripped.
fn earlier_attempt(attempt_number: i64) -> ReprocessAttemptRow {
    ReprocessAttemptRow {
        attempt_number,
        circuit_breaker_tripped: Some(false),
        circuit_breaker_until: None,
        ..tripped_attempt(run_timestamp())
    }
}

/// reference-mlfs.md §2.8: a skip for incomplete data records the attempt after the player's
/// latest, with his own-data completeness for either gate; the third trips the breaker for 7
/// days from the run.
#[test]
fn a_player_skipped_for_incomplete_data_records_his_next_attempt() {
    let mut rows = example_phase4_rows();
    rows.reprocess_attempts = vec![earlier_attempt(1)];
    let own_gate = date_inputs(example_context(), rows, example_history());
    let failure = process(&own_gate, false).unwrap_err();
    let attempts = reprocess_attempts(&own_gate, &run_context(false), &[failure]);
    assert_eq!(
        attempts,
        vec![ReprocessAttempt {
            entity_id: PLAYER.to_owned(),
            attempt_number: 2,
            completeness_pct: 0.0,
            skip_reason: "incomplete_own_data",
            circuit_breaker_until: None,
        }]
    );

    let mut rows = example_phase4_rows();
    rows.team_defense_zone_analysis[0].is_production_ready = Some(false);
    rows.reprocess_attempts = vec![earlier_attempt(1), earlier_attempt(2)];
    let upstream_gate = date_inputs(example_context(), rows, complete_history());
    let failure = process(&upstream_gate, false).unwrap_err();
    let attempts = reprocess_attempts(&upstream_gate, &run_context(false), &[failure]);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].attempt_number, 3);
    assert_eq!(attempts[0].skip_reason, "incomplete_upstream_dependencies");
    assert_eq!(attempts[0].completeness_pct, 160.0, "own data: 16 games against 10 expected");
    assert_eq!(attempts[0].circuit_breaker_until, Some(Utc.with_ymd_and_hms(2025, 1, 22, 12, 0, 0).unwrap()));
    assert_eq!(attempts[0].notes(), "Attempt 3: 160.0% complete");
}

#[test]
fn other_failures_and_backfill_record_no_attempt() {
    let mut rows = example_phase4_rows();
    rows.reprocess_attempts = vec![tripped_attempt(Utc.with_ymd_and_hms(2025, 1, 22, 10, 0, 0).unwrap())];
    let open_breaker = date_inputs(example_context(), rows, example_history());
    let failure = process(&open_breaker, false).unwrap_err();
    assert_eq!(failure.category, FailureCategory::CircuitBreakerActive);
    assert!(reprocess_attempts(&open_breaker, &run_context(false), &[failure]).is_empty());

    // Backfill waives the gates: the incomplete player gets his row and records nothing.
    let incomplete = date_inputs(example_context(), example_phase4_rows(), example_history());
    assert!(process(&incomplete, true).is_ok());
}

#[test]
fn live_mode_writes_a_complete_and_ready_player() {
    let inputs = date_inputs(example_context(), example_phase4_rows(), complete_history());
    let row = process(&inputs, false).unwrap();
    assert_eq!(row.expected_games_count, Some(10));
    assert_eq!(row.actual_games_count, Some(16), "15 season games before D and the game on D");
    assert_eq!(row.completeness_percentage, Some(160.0));
    assert_eq!(row.missing_games_count, Some(0));
    assert_eq!(row.is_production_ready, Some(true));
    assert!(row.data_quality_issues.is_empty());
}

#[test]
fn backfill_writes_an_unready_player_and_lists_the_issues() {
    let mut rows = example_phase4_rows();
    rows.player_composite_factors[0].is_production_ready = None;
    rows.team_defense_zone_analysis.clear();
    let inputs = date_inputs(example_context(), rows, complete_history());
    let row = process(&inputs, true).unwrap();
    assert_eq!(row.is_production_ready, Some(false));
    assert_eq!(
        row.data_quality_issues,
        ["upstream_player_composite_factors_incomplete", "upstream_team_defense_zone_incomplete"]
    );
}

#[test]
fn bootstrap_dates_waive_the_gates_in_live_mode() {
    let mut context = example_context();
    context.game_date = date("2024-10-25");
    let rows = DateRows { upcoming_player_game_context: vec![context], ..DateRows::default() };
    let inputs = DateInputs::build(date("2024-10-25"), rows, Arc::default()).0;
    let row = process_entity(&inputs.players[0], &inputs, &run_context(false)).unwrap();
    assert_eq!(row.backfill_bootstrap_mode, Some(true));
    assert_eq!(row.season_boundary_detected, Some(true));
    assert_eq!(row.is_production_ready, Some(false));
}

#[test]
fn a_context_without_game_id_is_missing_data() {
    let mut context = example_context();
    context.game_id = None;
    let inputs = date_inputs(context, DateRows::default(), Arc::default());
    let failure = process(&inputs, true).unwrap_err();
    assert_eq!(failure.category, FailureCategory::MissingData);
}

#[test]
fn row_carries_the_source_usage_of_the_date() {
    let inputs = date_inputs(example_context(), example_phase4_rows(), example_history());
    let row = process(&inputs, true).unwrap();
    // One daily-cache row of the expected 100: 1.0 %.
    assert_eq!(row.source_daily_cache_rows_found, Some(1));
    assert_eq!(row.source_daily_cache_completeness_pct, Some(1.0));
    assert_eq!(row.source_daily_cache_hash.as_deref(), Some("cachehash"));
    assert_eq!(row.source_daily_cache_last_updated, Some(run_timestamp()));
    // One team-defense row of the expected 20: 5.0 %.
    assert_eq!(row.source_team_defense_completeness_pct, Some(5.0));
    assert_eq!(row.source_composite_hash, None);
}

#[test]
fn entities_are_the_players_in_lookup_order() {
    let mut second = example_context();
    second.player_lookup = "aaron".into();
    let rows =
        DateRows { upcoming_player_game_context: vec![example_context(), second], ..DateRows::default() };
    let inputs = DateInputs::build(game_date(), rows, Arc::default()).0;
    let lookups: Vec<SmolStr> = entities(&inputs).into_iter().map(|player| player.player_lookup).collect();
    assert_eq!(lookups, ["aaron", PLAYER]);
}

#[test]
fn get_players_with_games_of_a_date_without_context_rows_is_empty() {
    // §7.2: an empty player list gives no players (and so no rows).
    let inputs = DateInputs::build(game_date(), DateRows::default(), Arc::default()).0;
    assert!(entities(&inputs).is_empty());
}

// Features are never NaN or NULL (README §4 item 9), whatever the inputs.

fn any_number() -> BoxedStrategy<Option<f64>> {
    prop_oneof![
        Just(None),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        Just(Some(f64::NEG_INFINITY)),
        Just(Some(f64::MAX)),
        any::<f64>().prop_map(Some),
        (-200.0..200.0f64).prop_map(Some),
    ]
    .boxed()
}

/// `count` independent [`any_number`]s.
fn any_numbers(count: usize) -> BoxedStrategy<Vec<Option<f64>>> {
    proptest::collection::vec(any_number(), count).boxed()
}

fn any_count() -> BoxedStrategy<Option<i64>> {
    prop_oneof![Just(None), any::<i64>().prop_map(Some), (-5i64..60).prop_map(Some)].boxed()
}

fn any_daily_cache() -> BoxedStrategy<PlayerDailyCacheRow> {
    (any_numbers(7), any_numbers(2), any_count())
        .prop_map(|(numbers, rates, games)| PlayerDailyCacheRow {
            player_lookup: PLAYER.into(),
            cache_date: game_date(),
            points_avg_last_5: numbers[0],
            points_avg_last_10: numbers[1],
            points_avg_season: numbers[2],
            points_std_last_10: numbers[3],
            minutes_avg_last_10: numbers[4],
            team_pace_last_10: numbers[5],
            team_off_rating_last_10: numbers[6],
            games_in_last_7_days: games,
            paint_rate_last_10: rates[0],
            three_pt_rate_last_10: rates[1],
            ..PlayerDailyCacheRow::default()
        })
        .boxed()
}

fn any_phase4_rows() -> BoxedStrategy<DateRows> {
    (
        proptest::option::of(any_daily_cache()),
        proptest::option::of((any_count(), any_numbers(3))),
        proptest::option::of(any_numbers(3)),
        proptest::option::of(any_numbers(2)),
    )
        .prop_map(|(daily_cache, composite, shot_zones, defense)| DateRows {
            player_daily_cache: daily_cache.into_iter().collect(),
            player_composite_factors: composite
                .into_iter()
                .map(|(fatigue_score, scores)| PlayerCompositeFactorsRow {
                    player_lookup: PLAYER.into(),
                    game_date: game_date(),
                    fatigue_score,
                    shot_zone_mismatch_score: scores[0],
                    pace_score: scores[1],
                    usage_spike_score: scores[2],
                    ..PlayerCompositeFactorsRow::default()
                })
                .collect(),
            player_shot_zone_analysis: shot_zones
                .into_iter()
                .map(|rates| PlayerShotZoneAnalysisRow {
                    player_lookup: PLAYER.into(),
                    analysis_date: game_date(),
                    paint_rate_last_10: rates[0],
                    mid_range_rate_last_10: rates[1],
                    three_pt_rate_last_10: rates[2],
                    ..PlayerShotZoneAnalysisRow::default()
                })
                .collect(),
            team_defense_zone_analysis: defense
                .into_iter()
                .map(|ratings| TeamDefenseZoneAnalysisRow {
                    team_abbr: OPPONENT.into(),
                    analysis_date: game_date(),
                    defensive_rating_last_15: ratings[0],
                    opponent_pace: ratings[1],
                    ..TeamDefenseZoneAnalysisRow::default()
                })
                .collect(),
            ..DateRows::default()
        })
        .boxed()
}

fn any_history() -> BoxedStrategy<Arc<History>> {
    let player_games =
        proptest::collection::vec((1u64..400, any_count(), any_number(), any_count(), 2022i64..2026), 0..25);
    let team_games =
        proptest::collection::vec((1u64..400, proptest::option::of(any::<bool>()), 2022i64..2026), 0..25);
    (player_games, team_games)
        .prop_map(|(player_games, team_games)| {
            let player_game_summary = player_games
                .into_iter()
                .map(|(days_before, points, minutes_played, ft_makes, season_year)| PlayerGameSummaryRow {
                    player_lookup: PLAYER.into(),
                    game_id: format!("g{days_before}").into(),
                    game_date: game_date() - chrono::Days::new(days_before),
                    team_abbr: Some(TEAM.into()),
                    season_year: Some(season_year),
                    points,
                    minutes_played,
                    ft_makes,
                    processed_at: None,
                })
                .collect();
            let team_offense_game_summary = team_games
                .into_iter()
                .map(|(days_before, win, season_year)| {
                    team_game(game_date() - chrono::Days::new(days_before), season_year, win)
                })
                .collect();
            let rows =
                HistoryRows { player_game_summary, team_offense_game_summary, nbac_schedule: Vec::new() };
            Arc::new(History::build(rows).0)
        })
        .boxed()
}

fn any_context() -> BoxedStrategy<UpcomingPlayerGameContextRow> {
    (
        any_count(),
        any_count(),
        proptest::option::of(prop_oneof![
            Just("out".to_owned()),
            Just("QUESTIONABLE".to_owned()),
            any::<String>()
        ]),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop_oneof![Just("playoffs".to_owned()), any::<String>()]),
    )
        .prop_map(|(days_rest, opponent_days_rest, player_status, home_game, back_to_back, season_phase)| {
            UpcomingPlayerGameContextRow {
                days_rest,
                opponent_days_rest,
                player_status,
                home_game,
                back_to_back,
                season_phase,
                ..example_context()
            }
        })
        .boxed()
}

proptest! {
    #[test]
    fn every_feature_is_finite_whatever_the_inputs(
        context in any_context(),
        rows in any_phase4_rows(),
        history in any_history(),
    ) {
        let inputs = date_inputs(context, rows, history);
        let row = process(&inputs, true).expect("backfill writes every player with a game_id");
        prop_assert_eq!(row.features.len(), 25);
        prop_assert!(row.features.iter().all(|value| value.is_finite()), "{:?}", row.features);
        let score = row.feature_quality_score.unwrap();
        prop_assert!((40.0..=100.0).contains(&score));
    }
}

// Whole-entity property: any mode, breaker state, game id and run time.

fn any_timestamp() -> BoxedStrategy<DateTime<Utc>> {
    // About ±35,000 years around 1970: far beyond any real stamp, inside chrono's range.
    (-(1i64 << 40)..(1i64 << 40))
        .prop_map(|seconds| DateTime::from_timestamp(seconds, 0).expect("in range"))
        .boxed()
}

fn any_attempt() -> BoxedStrategy<Option<ReprocessAttemptRow>> {
    let attempt = (
        any::<i64>(),
        proptest::option::of(any_timestamp()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any_timestamp()),
    );
    proptest::option::of(attempt.prop_map(|(attempt_number, attempted_at, tripped, until)| {
        ReprocessAttemptRow {
            processor_name: REPROCESS_PROCESSOR_NAME.into(),
            entity_id: PLAYER.into(),
            analysis_date: game_date(),
            attempt_number,
            attempted_at,
            circuit_breaker_tripped: tripped,
            circuit_breaker_until: until,
        }
    }))
    .boxed()
}

proptest! {
    #[test]
    fn any_player_gives_25_finite_features_and_a_score_in_range_or_a_named_failure(
        context in any_context(),
        game_id in proptest::option::of(prop_oneof![Just("g1".to_owned()), Just(" ".to_owned()), any::<String>()]),
        rows in any_phase4_rows(),
        history in any_history(),
        attempt in any_attempt(),
        backfill in any::<bool>(),
        processed_at in any_timestamp(),
    ) {
        let mut rows = rows;
        rows.reprocess_attempts = attempt.into_iter().collect();
        let inputs = date_inputs(UpcomingPlayerGameContextRow { game_id: game_id.map(Into::into), ..context }, rows, history);
        let run = RunContext { date: game_date(), run_id: "prop".into(), backfill, processed_at };
        match process_entity(&inputs.players[0], &inputs, &run) {
            Ok(row) => {
                prop_assert!(!row.game_id.trim().is_empty());
                prop_assert_eq!(row.features.len(), 25);
                prop_assert!(row.features.iter().all(|value| value.is_finite()), "{:?}", row.features);
                let score = row.feature_quality_score.expect("every row has a score");
                prop_assert!((0.0..=100.0).contains(&score), "{}", score);
                let tier = row.quality_tier.expect("every row has a tier");
                prop_assert!(["gold", "silver", "bronze", "poor", "unusable"].contains(&tier), "{}", tier);
            }
            Err(failure) => {
                prop_assert_eq!(failure.entity_id.as_str(), PLAYER);
                prop_assert!(failure.category != FailureCategory::ProcessingError, "{:?}", failure);
                prop_assert!(!failure.reason.is_empty());
            }
        }
    }
}
