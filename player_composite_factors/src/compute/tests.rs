//! Tests of the per-player computation: every worked example of reference-pcf.md §3.2–§3.12,
//! every unit and integration test of §6 with the values the reference code computes (where a
//! reference test asserted other arithmetic, the test name says so), the extra checks of §6.4,
//! and property tests of the clamps and the total.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use framework::dispatch::{Dispatched, in_batches};
use framework::rounding::round_half_even;
use framework::{FailureCategory, RunContext, SourceUsage};
use proptest::prelude::*;

use super::context_json::*;
use super::factors::*;
use super::*;
use crate::games_history::{GamesHistory, PlayerGameAppearanceRow, ScheduleGameRow};
use crate::inputs::{DateRows, LatestAttempt, ReprocessAttemptRow, SourceTracking};

// ---------------------------------------------------------------------------------------------
// Fixtures (reference-pcf.md §6.2 and §6.3)
// ---------------------------------------------------------------------------------------------

fn date(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}

fn timestamp(text: &str) -> DateTime<Utc> {
    text.parse().expect("test timestamps are valid")
}

const ANALYSIS_DATE: &str = "2025-11-01";

fn run_context(backfill: bool) -> RunContext {
    RunContext {
        date: date(ANALYSIS_DATE),
        run_id: "test-run".into(),
        backfill,
        processed_at: timestamp("2025-11-01T23:30:00Z"),
    }
}

/// A context row with the seven fatigue inputs set and the rest NULL.
fn fatigue_row(
    days_rest: i64,
    back_to_back: bool,
    games: i64,
    minutes: f64,
    avg_minutes: f64,
    back_to_backs: i64,
    age: i64,
) -> UpcomingPlayerGameContextRow {
    UpcomingPlayerGameContextRow {
        days_rest: Some(days_rest),
        back_to_back: Some(back_to_back),
        games_in_last_7_days: Some(games),
        minutes_in_last_7_days: Some(minutes),
        avg_minutes_per_game_last_7: Some(avg_minutes),
        back_to_backs_last_14_days: Some(back_to_backs),
        player_age: Some(age),
        game_date: date(ANALYSIS_DATE),
        ..Default::default()
    }
}

fn score_of(row: &UpcomingPlayerGameContextRow) -> i64 {
    fatigue_score(&FatigueInputs::for_score(row))
}

/// §6.2 "fresh": rest 2, no B2B, 3 games, 175 min, 29.2 mpg, 0 B2Bs, age 28, usage 26/25,
/// 0 stars, pace +3.5, opponent pace 101.5 (also the LeBron-type player of §3.12).
fn fresh_row() -> UpcomingPlayerGameContextRow {
    UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(26.0),
        avg_usage_rate_last_7_games: Some(25.0),
        star_teammates_out: Some(0),
        pace_differential: Some(3.5),
        opponent_pace_last_10: Some(101.5),
        ..fatigue_row(2, false, 3, 175.0, 29.2, 0, 28)
    }
}

/// §6.2 "tired": B2B, 4 games, 250 min, 36.5 mpg, 2 B2Bs, age 35, usage 28/27.5, pace −4.
fn tired_row() -> UpcomingPlayerGameContextRow {
    UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(28.0),
        avg_usage_rate_last_7_games: Some(27.5),
        star_teammates_out: Some(0),
        pace_differential: Some(-4.0),
        opponent_pace_last_10: Some(96.0),
        ..fatigue_row(0, true, 4, 250.0, 36.5, 2, 35)
    }
}

fn shot_row(
    player_lookup: &str,
    zone: Option<&str>,
    paint: f64,
    mid: f64,
    three: f64,
) -> PlayerShotZoneAnalysisRow {
    PlayerShotZoneAnalysisRow {
        player_lookup: player_lookup.into(),
        analysis_date: date(ANALYSIS_DATE),
        primary_scoring_zone: zone.map(str::to_owned),
        paint_rate_last_10: Some(paint),
        mid_range_rate_last_10: Some(mid),
        three_pt_rate_last_10: Some(three),
        ..Default::default()
    }
}

fn paint_shooter() -> PlayerShotZoneAnalysisRow {
    shot_row("lebronjames", Some("paint"), 65.0, 20.0, 15.0)
}

fn perimeter_shooter() -> PlayerShotZoneAnalysisRow {
    shot_row("stephencurry", Some("perimeter"), 15.0, 20.0, 65.0)
}

fn defense_row(
    team_abbr: &str,
    paint: f64,
    mid: f64,
    three: f64,
    weakest: &str,
) -> TeamDefenseZoneAnalysisRow {
    TeamDefenseZoneAnalysisRow {
        team_abbr: team_abbr.into(),
        analysis_date: date(ANALYSIS_DATE),
        paint_defense_vs_league_avg: Some(paint),
        mid_range_defense_vs_league_avg: Some(mid),
        three_pt_defense_vs_league_avg: Some(three),
        weakest_zone: Some(weakest.into()),
        ..Default::default()
    }
}

/// §6.2 weak paint defence (GSW).
fn weak_paint_defense() -> TeamDefenseZoneAnalysisRow {
    defense_row("GSW", 4.3, -1.2, 0.5, "paint")
}

/// §6.2 strong paint defence (BOS).
fn strong_paint_defense() -> TeamDefenseZoneAnalysisRow {
    defense_row("BOS", -3.8, 2.1, -0.5, "mid_range")
}

/// A paint-zone shot row and a defence row with only the paint rating set, for §3.3 examples.
fn paint_case(paint_rate: f64, paint_defense: f64) -> f64 {
    let shot = shot_row("p", Some("paint"), paint_rate, 20.0, 15.0);
    let defense =
        TeamDefenseZoneAnalysisRow { paint_defense_vs_league_avg: Some(paint_defense), ..Default::default() };
    shot_zone_mismatch_score(Some(&shot), Some(&defense))
}

fn integration_player(
    player_lookup: &str,
    universal_player_id: &str,
    game_id: &str,
    opponent: &str,
    base: UpcomingPlayerGameContextRow,
) -> UpcomingPlayerGameContextRow {
    UpcomingPlayerGameContextRow {
        player_lookup: player_lookup.into(),
        universal_player_id: Some(universal_player_id.into()),
        game_id: Some(game_id.into()),
        opponent_team_abbr: Some(opponent.into()),
        ..base
    }
}

/// §3.12 / §6.3 LeBron-type: the fresh row against GSW.
fn lebron() -> UpcomingPlayerGameContextRow {
    integration_player("lebronjames", "lebron_001", "20251101LAL_GSW", "GSW", fresh_row())
}

/// §3.12 / §6.3 Curry-type: rest 1, 3 games, 190 min, 31.7 mpg, age 32, usage 28.5/27.0, 1 star,
/// pace +4.0, against LAL.
fn curry() -> UpcomingPlayerGameContextRow {
    let base = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(28.5),
        avg_usage_rate_last_7_games: Some(27.0),
        star_teammates_out: Some(1),
        pace_differential: Some(4.0),
        opponent_pace_last_10: Some(102.0),
        ..fatigue_row(1, false, 3, 190.0, 31.7, 0, 32)
    };
    integration_player("stephencurry", "curry_001", "20251101GSW_LAL", "LAL", base)
}

/// §3.12 / §6.3 Durant-type: B2B, 4 games, 250 min, 36.5 mpg, 2 B2Bs, age 35, usage 30/28,
/// 2 stars, pace −2.0, against BOS.
fn durant() -> UpcomingPlayerGameContextRow {
    let base = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(30.0),
        avg_usage_rate_last_7_games: Some(28.0),
        star_teammates_out: Some(2),
        pace_differential: Some(-2.0),
        opponent_pace_last_10: Some(98.0),
        ..fatigue_row(0, true, 4, 250.0, 36.5, 2, 35)
    };
    integration_player("kevindurant", "durant_001", "20251101PHX_BOS", "BOS", base)
}

/// The §6.3 PSZA frame.
fn integration_shot_zones() -> Vec<PlayerShotZoneAnalysisRow> {
    vec![paint_shooter(), perimeter_shooter(), shot_row("kevindurant", Some("mid_range"), 30.0, 45.0, 25.0)]
}

/// The §6.3 TDZA frame.
fn integration_defense_zones() -> Vec<TeamDefenseZoneAnalysisRow> {
    vec![weak_paint_defense(), defense_row("LAL", -2.1, 1.5, -3.2, "mid_range"), strong_paint_defense()]
}

fn date_inputs(rows: DateRows, sources: SourceTracking) -> DateInputs {
    let history = GamesHistory::build(Vec::new(), &[]);
    DateInputs::build(date(ANALYSIS_DATE), date("2025-10-21"), rows, &history, sources).0
}

fn integration_inputs(with_zones: bool) -> DateInputs {
    let rows = DateRows {
        player_contexts: vec![lebron(), curry(), durant()],
        player_shot_zones: if with_zones { integration_shot_zones() } else { Vec::new() },
        team_defense_zones: if with_zones { integration_defense_zones() } else { Vec::new() },
        ..Default::default()
    };
    date_inputs(rows, SourceTracking::default())
}

fn process(player_lookup: &str, inputs: &DateInputs) -> PlayerCompositeFactorsRow {
    process_entity(player_lookup, inputs, &run_context(false)).expect("the player is processed")
}

// ---------------------------------------------------------------------------------------------
// §3.2 fatigue and §6.2 TestFatigueCalculation
// ---------------------------------------------------------------------------------------------

#[test]
fn fatigue_fresh_player_high_score() {
    assert_eq!(score_of(&fresh_row()), 100);
}

#[test]
fn fatigue_back_to_back_penalty_is_35_not_the_40_to_70_the_reference_test_asserts() {
    // 100 − 15 (B2B) − 10 (4 games) − 10 (250 > 240 min) − 8 (36.5 > 35 mpg) − 12 (2 B2Bs) − 10 (age 35).
    assert_eq!(score_of(&tired_row()), 35);
}

#[test]
fn fatigue_heavy_minutes_penalty_is_90_because_35_mpg_is_not_above_35() {
    // 100 − 10 (250 > 240 min); 35.0 mpg is not > 35. The reference test asserts ≤ 85.
    assert_eq!(score_of(&fatigue_row(1, false, 3, 250.0, 35.0, 0, 28)), 90);
}

#[test]
fn fatigue_age_penalty_30_plus() {
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 33.3, 0, 25)), 100);
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 33.3, 0, 35)), 90);
}

#[test]
fn fatigue_well_rested_bonus_is_clamped_so_rest_3_equals_rest_1() {
    // 100 + 5 clamps to 100; the reference test asserts extra > normal and fails.
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 33.3, 0, 28)), 100);
    assert_eq!(score_of(&fatigue_row(3, false, 3, 200.0, 33.3, 0, 28)), 100);
}

#[test]
fn fatigue_score_clamped_to_range() {
    // Exhausted: 100 − 15 − 10 − 10 − 8 − 12 − 10 = 35; perfect: 100 + 5 clamps to 100.
    assert_eq!(score_of(&fatigue_row(0, true, 5, 300.0, 40.0, 3, 38)), 35);
    assert_eq!(score_of(&fatigue_row(5, false, 2, 100.0, 20.0, 0, 22)), 100);
}

#[test]
fn fatigue_missing_fields_use_defaults() {
    let only_days_rest = UpcomingPlayerGameContextRow { days_rest: Some(1), ..Default::default() };
    assert_eq!(score_of(&only_days_rest), 100);
}

#[test]
fn fatigue_loosened_test_data_of_fc6180bd() {
    // 100 − 10 (4 games) − 5 (1 B2B) − 5 (age 30) = 80; rest 3 adds 5 → 85.
    assert_eq!(score_of(&fatigue_row(1, false, 4, 220.0, 34.0, 1, 30)), 80);
    assert_eq!(score_of(&fatigue_row(3, false, 4, 220.0, 34.0, 1, 30)), 85);
}

#[test]
fn fatigue_back_to_back_comes_from_the_flag_not_from_days_rest() {
    // days_rest 0 without the flag: no −15 (reference-pcf.md §3.2 step 1).
    assert_eq!(score_of(&fatigue_row(0, false, 3, 200.0, 30.0, 0, 25)), 100);
    // The rest bonus never applies together with a B2B: 100 − 15.
    assert_eq!(score_of(&fatigue_row(3, true, 3, 200.0, 30.0, 0, 25)), 85);
}

#[test]
fn fatigue_thresholds_are_strict_for_minutes_and_mpg_and_inclusive_for_counts_and_age() {
    // §3.2 steps 3–4: 240 minutes and 35.0 mpg are not above their thresholds → 100.
    assert_eq!(score_of(&fatigue_row(1, false, 3, 240.0, 35.0, 0, 29)), 100);
    // 240.5 > 240 → −10 and 35.1 > 35 → −8: 100 − 10 − 8 = 82.
    assert_eq!(score_of(&fatigue_row(1, false, 3, 240.5, 35.1, 0, 29)), 82);
    // Step 2: 4 games (≥ 4) → 100 − 10 = 90.
    assert_eq!(score_of(&fatigue_row(1, false, 4, 200.0, 30.0, 0, 29)), 90);
    // Step 5: one B2B in 14 days → 100 − 5 = 95; two → 100 − 12 = 88.
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 30.0, 1, 29)), 95);
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 30.0, 2, 29)), 88);
    // Step 6: ages 30 and 34 → 100 − 5 = 95; 35 → 100 − 10 = 90.
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 30.0, 0, 30)), 95);
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 30.0, 0, 34)), 95);
    assert_eq!(score_of(&fatigue_row(1, false, 3, 200.0, 30.0, 0, 35)), 90);
}

#[test]
fn fatigue_over_every_threshold_class_spans_exactly_35_to_100() {
    // §3.2: "the reachable range is 35..100". Every combination of each input's classes
    // (missing, NaN/infinite, each side of each threshold, the integer extremes) scores within
    // 35..=100, and both ends are reached: 100 − 15 − 10 − 10 − 8 − 12 − 10 = 35 and 105 → 100.
    let days_rest = [None, Some(i64::MIN), Some(0), Some(2), Some(3), Some(i64::MAX)];
    let back_to_back = [None, Some(false), Some(true)];
    let games = [None, Some(i64::MIN), Some(3), Some(4), Some(i64::MAX)];
    let minutes =
        [None, Some(f64::NEG_INFINITY), Some(240.0), Some(240.5), Some(f64::INFINITY), Some(f64::NAN)];
    let avg_minutes =
        [None, Some(f64::NEG_INFINITY), Some(35.0), Some(35.1), Some(f64::INFINITY), Some(f64::NAN)];
    let back_to_backs = [None, Some(i64::MIN), Some(0), Some(1), Some(2), Some(i64::MAX)];
    let ages = [None, Some(i64::MIN), Some(29), Some(30), Some(34), Some(35), Some(i64::MAX)];
    let (mut lowest, mut highest, mut combinations) = (i64::MAX, i64::MIN, 0);
    for days_rest in days_rest {
        for back_to_back in back_to_back {
            for games in games {
                for minutes in minutes {
                    for avg_minutes in avg_minutes {
                        for back_to_backs in back_to_backs {
                            for age in ages {
                                let context = UpcomingPlayerGameContextRow {
                                    days_rest,
                                    back_to_back,
                                    games_in_last_7_days: games,
                                    minutes_in_last_7_days: minutes,
                                    avg_minutes_per_game_last_7: avg_minutes,
                                    back_to_backs_last_14_days: back_to_backs,
                                    player_age: age,
                                    ..Default::default()
                                };
                                let score = score_of(&context);
                                assert!((35..=100).contains(&score), "{score} for {context:?}");
                                (lowest, highest) = (lowest.min(score), highest.max(score));
                                combinations += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(combinations, 6 * 3 * 5 * 6 * 6 * 6 * 7);
    assert_eq!((lowest, highest), (35, 100));
}

#[test]
fn fatigue_adjustment_conversions() {
    let expected = [
        (100, 0.0),
        (95, -0.25),
        (90, -0.5),
        (85, -0.75),
        (80, -1.0),
        (65, -1.75),
        (50, -2.5),
        (45, -2.75),
        (35, -3.25),
        (0, -5.0),
    ];
    for (score, adjustment) in expected {
        assert_eq!(fatigue_adjustment(score), adjustment, "score {score}");
    }
}

// ---------------------------------------------------------------------------------------------
// §3.3 shot-zone mismatch and §6.2 TestShotZoneMismatchCalculation
// ---------------------------------------------------------------------------------------------

#[test]
fn shot_zone_paint_vs_weak_defense() {
    assert_eq!(shot_zone_mismatch_score(Some(&paint_shooter()), Some(&weak_paint_defense())), 4.3);
}

#[test]
fn shot_zone_paint_vs_strong_defense() {
    assert_eq!(shot_zone_mismatch_score(Some(&paint_shooter()), Some(&strong_paint_defense())), -3.8);
}

#[test]
fn shot_zone_extreme_mismatch_gets_the_bonus() {
    // 6.0 × 1.0 > 5 → × 1.2.
    assert_eq!(paint_case(70.0, 6.0), 7.199999999999999);
}

#[test]
fn shot_zone_low_usage_reduces_impact() {
    // 4.0 × 25 / 50.
    assert_eq!(paint_case(25.0, 4.0), 2.0);
}

#[test]
fn shot_zone_perimeter_shooter_reads_the_three_point_fields() {
    let defense = TeamDefenseZoneAnalysisRow {
        three_pt_defense_vs_league_avg: Some(3.5),
        paint_defense_vs_league_avg: Some(-2.0),
        ..Default::default()
    };
    assert_eq!(shot_zone_mismatch_score(Some(&perimeter_shooter()), Some(&defense)), 3.5);
}

#[test]
fn shot_zone_missing_rows_score_zero() {
    assert_eq!(shot_zone_mismatch_score(None, Some(&weak_paint_defense())), 0.0);
    assert_eq!(shot_zone_mismatch_score(Some(&paint_shooter()), None), 0.0);
}

#[test]
fn shot_zone_clamped_to_ten() {
    // 15 × 1.0 × 1.2 = 18 → 10; −9 × 1.0 × 1.2 = −10.8 → −10.
    assert_eq!(paint_case(80.0, 15.0), 10.0);
    assert_eq!(paint_case(60.0, -9.0), -10.0);
}

#[test]
fn shot_zone_unknown_zone_reads_the_paint_fields() {
    // 'corner3' with paint rate 40 vs paint +5.0: 5.0 × 0.8 = 4.0.
    let shot = shot_row("p", Some("corner3"), 40.0, 20.0, 40.0);
    let defense = TeamDefenseZoneAnalysisRow {
        paint_defense_vs_league_avg: Some(5.0),
        three_pt_defense_vs_league_avg: Some(-7.0),
        ..Default::default()
    };
    assert_eq!(shot_zone_mismatch_score(Some(&shot), Some(&defense)), 4.0);
    let balanced = shot_row("p", Some("balanced"), 40.0, 20.0, 40.0);
    assert_eq!(shot_zone_mismatch_score(Some(&balanced), Some(&defense)), 4.0);
    let null_zone = shot_row("p", None, 40.0, 20.0, 40.0);
    assert_eq!(shot_zone_mismatch_score(Some(&null_zone), Some(&defense)), 4.0);
}

#[test]
fn shot_zone_missing_rate_defaults_to_fifty() {
    // mid_range with no rate → weight 1.0; −7.0 beyond 5 → × 1.2 = −8.4.
    let shot =
        PlayerShotZoneAnalysisRow { primary_scoring_zone: Some("mid_range".into()), ..Default::default() };
    let defense =
        TeamDefenseZoneAnalysisRow { mid_range_defense_vs_league_avg: Some(-7.0), ..Default::default() };
    assert_eq!(shot_zone_mismatch_score(Some(&shot), Some(&defense)), -8.4);
}

#[test]
fn shot_zone_exactly_five_gets_no_bonus_and_zero_rate_scores_zero() {
    assert_eq!(paint_case(50.0, 5.0), 5.0);
    assert_eq!(paint_case(0.0, 5.0), 0.0);
}

#[test]
fn shot_zone_mid_range_45_vs_2_1() {
    // 2.1 × 0.9.
    let shot = shot_row("kevindurant", Some("mid_range"), 30.0, 45.0, 25.0);
    assert_eq!(shot_zone_mismatch_score(Some(&shot), Some(&strong_paint_defense())), 1.8900000000000001);
}

#[test]
fn shot_zone_negative_rate_flips_the_sign() {
    // §3.3 step 5: no lower bound on the weight. Paint rate −25 → weight −25 / 50 = −0.5;
    // +4.0 × −0.5 = −2.0 (|−2.0| ≤ 5, no bonus).
    assert_eq!(paint_case(-25.0, 4.0), -2.0);
}

// ---------------------------------------------------------------------------------------------
// §3.4 pace and §6.2 TestPaceCalculation
// ---------------------------------------------------------------------------------------------

#[test]
fn pace_examples() {
    assert_eq!(pace_score(fresh_row().pace_differential), 1.75);
    assert_eq!(pace_score(tired_row().pace_differential), -2.0);
    assert_eq!(pace_score(Some(0.0)), 0.0);
    assert_eq!(pace_score(Some(10.0)), 3.0);
    assert_eq!(pace_score(Some(-10.0)), -3.0);
    assert_eq!(pace_score(None), 0.0);
    assert_eq!(pace_score(Some(f64::NAN)), 0.0, "NaN counts as missing (README §4 item 9)");
}

// ---------------------------------------------------------------------------------------------
// §3.5 usage spike and §6.2 TestUsageSpikeCalculation
// ---------------------------------------------------------------------------------------------

#[test]
fn usage_spike_examples() {
    let cases = [
        ((Some(26.0), Some(25.0), Some(0)), 0.3),
        ((Some(20.0), Some(25.0), Some(0)), -1.5),
        ((Some(30.0), Some(25.0), Some(1)), 1.7249999999999999),
        ((Some(30.0), Some(25.0), Some(2)), 1.9500000000000002),
        ((Some(20.0), Some(25.0), Some(2)), -1.5),
        ((Some(25.0), Some(0.0), Some(0)), 0.0),
        ((Some(50.0), Some(20.0), Some(0)), 3.0),
        ((Some(10.0), Some(40.0), Some(0)), -3.0),
        ((None, Some(22.0), Some(0)), 0.8999999999999999),
        ((Some(28.5), Some(24.2), Some(1)), 1.4835000000000003),
        ((Some(24.9), Some(25.0), Some(0)), -0.030000000000000426),
    ];
    for ((projected, baseline, stars), expected) in cases {
        assert_eq!(usage_spike_score(projected, baseline, stars), expected, "{projected:?} vs {baseline:?}");
    }
}

#[test]
fn usage_spike_missing_baseline_defaults_to_25_but_an_explicit_zero_returns_zero() {
    assert_eq!(usage_spike_score(Some(26.0), None, None), 0.3);
    assert_eq!(usage_spike_score(Some(26.0), Some(0.0), None), 0.0);
}

// ---------------------------------------------------------------------------------------------
// §3.7–§3.8 total and rounding, §6.4 acceptance checks
// ---------------------------------------------------------------------------------------------

fn factors_of(context: &UpcomingPlayerGameContextRow) -> CompositeFactors {
    CompositeFactors::compute(context, None, None)
}

#[test]
fn rounding_ties_follow_python() {
    // pace_diff 0.5 → 0.25 → 0.2; 0.3 → 0.15 → 0.1.
    assert_eq!(round_half_even(pace_score(Some(0.5)), 1), 0.2);
    assert_eq!(round_half_even(pace_score(Some(0.3)), 1), 0.1);
    // Fatigue 95 (age 30) with pace diff 0.75: −0.25 + 0.375 = 0.125 → 0.12.
    let context = UpcomingPlayerGameContextRow {
        pace_differential: Some(0.75),
        player_age: Some(30),
        ..Default::default()
    };
    let factors = factors_of(&context);
    assert_eq!(factors.fatigue_score, 95);
    assert_eq!(round_half_even(factors.total(), 2), 0.12);
}

#[test]
fn negative_zero_usage_is_stored_and_hashed_as_minus_zero() {
    let context = UpcomingPlayerGameContextRow {
        player_lookup: "p".into(),
        game_id: Some("g1".into()),
        game_date: date(ANALYSIS_DATE),
        projected_usage_rate: Some(24.9),
        avg_usage_rate_last_7_games: Some(25.0),
        ..Default::default()
    };
    let inputs = date_inputs(
        DateRows { player_contexts: vec![context], ..Default::default() },
        SourceTracking::default(),
    );
    let row = process("p", &inputs);
    assert_eq!(row.usage_spike_score, 0.0);
    assert!(row.usage_spike_score.is_sign_negative());
    let mut hashed = String::new();
    framework::rounding::write_python_float(&mut hashed, row.usage_spike_score);
    assert_eq!(hashed, "-0.0");
    // Total: 0.0 (fatigue 100 on defaults) + 0.0 + 0.0 − 0.030000000000000426 → −0.03. Only
    // projected usage of the five completeness checks passes → 20.0. The §4.4 recipe string,
    // hashed with Python's hashlib (the hash reads `usage_spike_score:-0.0`):
    // analysis_date:2025-11-01|calculation_version:v1_4factors|data_completeness_pct:20.0|
    // early_season_flag:False|fatigue_score:100|game_date:2025-11-01|game_id:g1|
    // has_warnings:False|insufficient_data_reason:NULL|look_ahead_pressure_score:0.0|
    // missing_data_fields:days_rest, pace_differential, player_shot_zone, team_defense_zone|
    // opponent_strength_score:0.0|pace_score:0.0|player_lookup:p|referee_favorability_score:0.0|
    // shot_zone_mismatch_score:0.0|total_composite_adjustment:-0.03|travel_impact_score:0.0|
    // universal_player_id:NULL|usage_spike_score:-0.0|warning_details:NULL → 47386b8fbd72e69c
    // (with `usage_spike_score:0.0` it would be 264de7518f625213).
    assert_eq!(row.total_composite_adjustment, -0.03);
    assert_eq!(row.data_completeness_pct, 20.0);
    assert_eq!(row.data_hash, "47386b8fbd72e69c");
}

#[test]
fn total_uses_unrounded_factors() {
    // LeBron: stored 4.3 + 1.8 + 0.3 = 6.4, but 0.0 + 4.3 + 1.75 + 0.3 = 6.35.
    let factors =
        CompositeFactors::compute(&fresh_row(), Some(&paint_shooter()), Some(&weak_paint_defense()));
    assert_eq!(round_half_even(factors.total(), 2), 6.35);
}

#[test]
fn data_flow_doc_example_recomputed_with_the_code_totals_5_13() {
    // B2B, 4 games, 245.5 min, 35.1 mpg, 2 B2Bs, age 40 → 35 (−3.25); usage 28.5 vs 24.2 with
    // 1 star → 1.4835; pace 5.2 → 2.6; paint 65% vs +4.3 → 4.3. Total 5.1335 → 5.13.
    let context = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(28.5),
        avg_usage_rate_last_7_games: Some(24.2),
        star_teammates_out: Some(1),
        pace_differential: Some(5.2),
        ..fatigue_row(0, true, 4, 245.5, 35.1, 2, 40)
    };
    let factors = CompositeFactors::compute(&context, Some(&paint_shooter()), Some(&weak_paint_defense()));
    assert_eq!(factors.fatigue_score, 35);
    assert_eq!(factors.usage_spike, 1.4835000000000003);
    assert_eq!(round_half_even(factors.usage_spike, 1), 1.5);
    assert_eq!(factors.pace, 2.6);
    assert_eq!(round_half_even(factors.total(), 2), 5.13);
}

/// One player against GSW with a paint shot row (rate 80) and GSW's paint defence.
fn single_player_row(context: UpcomingPlayerGameContextRow, paint_defense: f64) -> PlayerCompositeFactorsRow {
    let context = integration_player("p", "p_001", "20251101P_GSW", "GSW", context);
    let rows = DateRows {
        player_contexts: vec![context],
        player_shot_zones: vec![shot_row("p", Some("paint"), 80.0, 10.0, 10.0)],
        team_defense_zones: vec![defense_row("GSW", paint_defense, 0.0, 0.0, "paint")],
        ..Default::default()
    };
    process("p", &date_inputs(rows, SourceTracking::default()))
}

#[test]
fn total_reachable_range_is_minus_19_25_to_16_with_its_warnings() {
    // §3.7 lower end: fatigue 35 (B2B, 5 games, 300 min, 40 mpg, 3 B2Bs, age 38) → −3.25; paint
    // 80 vs −15 → −15 × 1.0 × 1.2 = −18 → −10; pace −10 / 2 = −5 → −3; usage (10 − 40) × 0.3 =
    // −9 → −3. Total −3.25 − 10 − 3 − 3 = −19.25: all three warnings (§3.10).
    let exhausted = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(10.0),
        avg_usage_rate_last_7_games: Some(40.0),
        pace_differential: Some(-10.0),
        ..fatigue_row(0, true, 5, 300.0, 40.0, 3, 38)
    };
    let row = single_player_row(exhausted, -15.0);
    let all_three = "EXTREME_FATIGUE: Player showing severe fatigue; EXTREME_MATCHUP: Unusual zone \
                     mismatch; EXTREME_ADJUSTMENT: Very large composite adjustment";
    assert_eq!(summary(&row), (35, -10.0, -3.0, -3.0, -19.25, 100.0, None, Some(all_three)));
    // Upper end: fatigue 100 (rest 3: 105 clamps to 100) → 0.0; paint 80 vs +15 → 18 → 10;
    // pace 10 / 2 = 5 → 3; usage (50 − 20) × 0.3 = 9 → 3. Total 16.0: matchup and adjustment.
    let rested = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(50.0),
        avg_usage_rate_last_7_games: Some(20.0),
        pace_differential: Some(10.0),
        ..fatigue_row(3, false, 2, 100.0, 20.0, 0, 22)
    };
    let row = single_player_row(rested, 15.0);
    let two = "EXTREME_MATCHUP: Unusual zone mismatch; EXTREME_ADJUSTMENT: Very large composite adjustment";
    assert_eq!(summary(&row), (100, 10.0, 3.0, 3.0, 16.0, 100.0, None, Some(two)));
}

// ---------------------------------------------------------------------------------------------
// §3.9–§3.10 and §6.2 TestDataQuality
// ---------------------------------------------------------------------------------------------

#[test]
fn data_completeness_examples() {
    assert_eq!(data_completeness(&fresh_row(), true, true), (100.0, None));
    assert_eq!(data_completeness(&fresh_row(), false, true), (80.0, Some("player_shot_zone")));
    assert_eq!(data_completeness(&fresh_row(), true, false), (80.0, Some("team_defense_zone")));
    let everything_missing =
        "days_rest, projected_usage_rate, pace_differential, player_shot_zone, team_defense_zone";
    assert_eq!(
        data_completeness(&UpcomingPlayerGameContextRow::default(), false, false),
        (0.0, Some(everything_missing))
    );
}

#[test]
fn data_completeness_counts_nan_as_missing() {
    // days_rest NULL (pandas NaN), projected 26.0, pace None; shot present, defence missing.
    let context = UpcomingPlayerGameContextRow { projected_usage_rate: Some(26.0), ..Default::default() };
    assert_eq!(
        data_completeness(&context, true, false),
        (40.0, Some("days_rest, pace_differential, team_defense_zone"))
    );
    let nan_pace = UpcomingPlayerGameContextRow { pace_differential: Some(f64::NAN), ..fresh_row() };
    assert_eq!(data_completeness(&nan_pace, true, true), (80.0, Some("pace_differential")));
}

#[test]
fn warning_examples() {
    let fatigue = "EXTREME_FATIGUE: Player showing severe fatigue";
    let matchup = "EXTREME_MATCHUP: Unusual zone mismatch";
    let adjustment = "EXTREME_ADJUSTMENT: Very large composite adjustment";
    assert_eq!(warnings(45, 2.0, -2.0), (true, Some(fatigue)));
    assert_eq!(warnings(80, 9.0, 5.0), (true, Some(matchup)));
    assert_eq!(warnings(80, 5.0, 13.5), (true, Some(adjustment)));
    assert_eq!(warnings(80, 4.0, 5.0), (false, None));
    assert_eq!(
        warnings(49, -8.5, -12.5),
        (true, Some(format!("{fatigue}; {matchup}; {adjustment}").as_str()))
    );
    assert_eq!(warnings(50, 8.0, 12.0), (false, None));
}

// ---------------------------------------------------------------------------------------------
// §3.11 context JSON and §6.2 TestContextBuilding
// ---------------------------------------------------------------------------------------------

#[test]
fn context_json_lebron_byte_exact() {
    let row = process("lebronjames", &integration_inputs(true));
    assert_eq!(
        row.fatigue_context_json,
        r#"{"days_rest": 2, "back_to_back": false, "games_last_7": 3, "minutes_last_7": 175.0, "avg_minutes_pg_last_7": 29.2, "back_to_backs_last_14": 0, "player_age": 28, "penalties_applied": [], "bonuses_applied": [], "final_score": 100}"#
    );
    assert_eq!(
        row.shot_zone_context_json,
        r#"{"player_primary_zone": "paint", "primary_zone_frequency": 65.0, "opponent_weak_zone": "paint", "opponent_defense_vs_league": 4.3, "mismatch_type": "favorable", "final_score": 4.3}"#
    );
    assert_eq!(
        row.pace_context_json,
        r#"{"pace_differential": 3.5, "opponent_pace_last_10": 101.5, "league_avg_pace": 100.0, "pace_environment": "fast", "final_score": 1.75}"#
    );
    assert_eq!(
        row.usage_context_json,
        r#"{"projected_usage_rate": 26.0, "avg_usage_last_7": 25.0, "usage_differential": 1.0, "star_teammates_out": 0, "usage_trend": "stable", "final_score": 0.3}"#
    );
}

#[test]
fn context_json_curry_unfavorable_perimeter_and_boosted_usage() {
    let row = process("stephencurry", &integration_inputs(true));
    assert_eq!(
        row.shot_zone_context_json,
        r#"{"player_primary_zone": "perimeter", "primary_zone_frequency": 65.0, "opponent_weak_zone": "mid_range", "opponent_defense_vs_league": -3.2, "mismatch_type": "unfavorable", "final_score": -3.2}"#
    );
    // 1.5 × 0.3 × 1.15 = 0.5175; a differential of 1.5 is "stable".
    assert_eq!(
        row.usage_context_json,
        r#"{"projected_usage_rate": 28.5, "avg_usage_last_7": 27.0, "usage_differential": 1.5, "star_teammates_out": 1, "usage_trend": "stable", "final_score": 0.5175}"#
    );
}

#[test]
fn context_json_durant_penalties_neutral_mid_range_and_normal_pace() {
    let row = process("kevindurant", &integration_inputs(true));
    assert_eq!(
        row.fatigue_context_json,
        r#"{"days_rest": 0, "back_to_back": true, "games_last_7": 4, "minutes_last_7": 250.0, "avg_minutes_pg_last_7": 36.5, "back_to_backs_last_14": 2, "player_age": 35, "penalties_applied": ["back_to_back: -15", "frequent_games: -10", "heavy_minutes: -10", "veteran_age: -10"], "bonuses_applied": [], "final_score": 35}"#
    );
    assert_eq!(
        row.shot_zone_context_json,
        r#"{"player_primary_zone": "mid_range", "primary_zone_frequency": 45.0, "opponent_weak_zone": "mid_range", "opponent_defense_vs_league": 2.1, "mismatch_type": "neutral", "final_score": 1.8900000000000001}"#
    );
    // −2.0 is not below −2.0.
    assert_eq!(
        row.pace_context_json,
        r#"{"pace_differential": -2.0, "opponent_pace_last_10": 98.0, "league_avg_pace": 100.0, "pace_environment": "normal", "final_score": -1.0}"#
    );
    assert!(row.usage_context_json.ends_with(r#""usage_trend": "stable", "final_score": 0.78}"#));
}

#[test]
fn context_json_tired_row_is_slow_and_lists_the_rest_bonus_even_on_a_back_to_back() {
    assert!(pace_context_json(&tired_row(), -2.0).contains(r#""pace_environment": "slow""#));
    let rested_back_to_back = fatigue_row(3, true, 3, 200.0, 30.0, 0, 25);
    let text = fatigue_context_json(&rested_back_to_back, score_of(&rested_back_to_back));
    assert!(text.ends_with(r#""penalties_applied": ["back_to_back: -15"], "bonuses_applied": ["extra_rest: +5"], "final_score": 85}"#));
}

#[test]
fn context_json_defaults_differ_from_score_defaults() {
    // §6.4: a row carrying only days_rest=1 scores fatigue 100 and usage 0.0; its contexts show
    // days_rest 1, 0 games, 0.0 minutes and usage 0.0 / 0.0.
    let only_days_rest = UpcomingPlayerGameContextRow { days_rest: Some(1), ..Default::default() };
    let factors = factors_of(&only_days_rest);
    assert_eq!((factors.fatigue_score, factors.usage_spike), (100, 0.0));
    assert_eq!(
        fatigue_context_json(&only_days_rest, factors.fatigue_score),
        r#"{"days_rest": 1, "back_to_back": false, "games_last_7": 0, "minutes_last_7": 0.0, "avg_minutes_pg_last_7": 0.0, "back_to_backs_last_14": 0, "player_age": 25, "penalties_applied": [], "bonuses_applied": [], "final_score": 100}"#
    );
    assert_eq!(
        usage_context_json(&only_days_rest, factors.usage_spike),
        r#"{"projected_usage_rate": 0.0, "avg_usage_last_7": 0.0, "usage_differential": 0.0, "star_teammates_out": 0, "usage_trend": "stable", "final_score": 0.0}"#
    );
    assert_eq!(
        pace_context_json(&only_days_rest, factors.pace),
        r#"{"pace_differential": 0.0, "opponent_pace_last_10": 100.0, "league_avg_pace": 100.0, "pace_environment": "normal", "final_score": 0.0}"#
    );
}

#[test]
fn context_json_null_zone_shows_unknown_but_uses_paint_maths() {
    let shot = shot_row("p", None, 65.0, 20.0, 15.0);
    let defense = TeamDefenseZoneAnalysisRow { paint_defense_vs_league_avg: Some(4.3), ..Default::default() };
    let score = shot_zone_mismatch_score(Some(&shot), Some(&defense));
    assert_eq!(
        shot_zone_context_json(Some(&shot), Some(&defense), score),
        r#"{"player_primary_zone": "unknown", "primary_zone_frequency": 65.0, "opponent_weak_zone": "unknown", "opponent_defense_vs_league": 4.3, "mismatch_type": "favorable", "final_score": 4.3}"#
    );
    assert_eq!(shot_zone_context_json(None, Some(&defense), 0.0), MISSING_SHOT_ZONE_CONTEXT);
}

#[test]
fn context_json_null_projected_usage_shows_zero_and_drop_while_the_score_used_25() {
    // §3.11: the score uses 25.0 for a NULL projection: (25 − 22) × 0.3 = 0.8999999999999999;
    // the context shows 0.0, a differential 0.0 − 22.0 = −22.0 and so "drop".
    let context =
        UpcomingPlayerGameContextRow { avg_usage_rate_last_7_games: Some(22.0), ..Default::default() };
    let score = usage_spike_score(context.projected_usage_rate, context.avg_usage_rate_last_7_games, None);
    assert_eq!(
        usage_context_json(&context, score),
        r#"{"projected_usage_rate": 0.0, "avg_usage_last_7": 22.0, "usage_differential": -22.0, "star_teammates_out": 0, "usage_trend": "drop", "final_score": 0.8999999999999999}"#
    );
}

#[test]
fn context_json_usage_trend_is_spike_above_a_differential_of_2() {
    // 30 vs 25: differential 5.0 > 2.0 → "spike"; score 5 × 0.3 = 1.5.
    let context = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(30.0),
        avg_usage_rate_last_7_games: Some(25.0),
        ..Default::default()
    };
    let score = usage_spike_score(context.projected_usage_rate, context.avg_usage_rate_last_7_games, None);
    assert_eq!(
        usage_context_json(&context, score),
        r#"{"projected_usage_rate": 30.0, "avg_usage_last_7": 25.0, "usage_differential": 5.0, "star_teammates_out": 0, "usage_trend": "spike", "final_score": 1.5}"#
    );
}

#[test]
fn context_json_missing_rate_and_weak_zone_show_zero_and_unknown() {
    // §3.11: the mapped rate defaults to 0.0 in the context (the score used 50.0: −7.0 × 1.0 ×
    // 1.2 = −8.4), a NULL weakest zone shows 'unknown', −8.4 < −2.0 is "unfavorable".
    let shot =
        PlayerShotZoneAnalysisRow { primary_scoring_zone: Some("mid_range".into()), ..Default::default() };
    let defense =
        TeamDefenseZoneAnalysisRow { mid_range_defense_vs_league_avg: Some(-7.0), ..Default::default() };
    let score = shot_zone_mismatch_score(Some(&shot), Some(&defense));
    assert_eq!(
        shot_zone_context_json(Some(&shot), Some(&defense), score),
        r#"{"player_primary_zone": "mid_range", "primary_zone_frequency": 0.0, "opponent_weak_zone": "unknown", "opponent_defense_vs_league": -7.0, "mismatch_type": "unfavorable", "final_score": -8.4}"#
    );
}

// ---------------------------------------------------------------------------------------------
// §3.12 worked examples and §6.3 integration tests, through process_entity
// ---------------------------------------------------------------------------------------------

/// The stored factor columns, total, completeness and warnings of a row.
fn summary(row: &PlayerCompositeFactorsRow) -> (i64, f64, f64, f64, f64, f64, Option<&str>, Option<&str>) {
    (
        row.fatigue_score,
        row.shot_zone_mismatch_score,
        row.pace_score,
        row.usage_spike_score,
        row.total_composite_adjustment,
        row.data_completeness_pct,
        row.missing_data_fields,
        row.warning_details,
    )
}

/// A batch as the dispatcher hands it over (`framework::dispatch::BATCH`), its rows hashed
/// together, gives each player the outcome he gets alone: LeBron's row keeps the check vector's
/// hash in every lane of a full batch, and a failure in the batch moves no hash to another row.
#[test]
fn a_batch_of_players_gives_the_rows_and_failures_each_player_gets_alone() {
    let mut contexts = vec![lebron(), curry(), durant()];
    for copy in 0..14 {
        let mut player = [lebron(), curry(), durant()][copy % 3].clone();
        player.player_lookup = format!("{}{copy}", player.player_lookup).into();
        player.minutes_in_last_7_days = Some(150.0 + copy as f64 * 10.5);
        contexts.push(player);
    }
    let mut without_game = curry();
    without_game.player_lookup = "nogame".into();
    without_game.game_id = None;
    contexts.insert(5, without_game);
    let rows = DateRows {
        player_contexts: contexts,
        player_shot_zones: integration_shot_zones(),
        team_defense_zones: integration_defense_zones(),
        ..Default::default()
    };
    let inputs = date_inputs(rows, SourceTracking::default());
    let mut players = entities(&inputs);
    players.retain(|player| player != "lebronjames");
    players.insert(9, "lebronjames".to_owned());
    assert_eq!(players.len(), 18);

    let context = run_context(false);
    let alone: Dispatched<_> =
        players.iter().map(|player| process_entity(player, &inputs, &context)).collect();
    let together =
        in_batches(&players, |batch, outcomes| process_players(batch, &inputs, &context, outcomes));
    assert_eq!(together, alone);
    let lebron = together.rows.iter().find(|row| row.player_lookup == "lebronjames");
    assert_eq!(lebron.map(|row| row.data_hash.as_str()), Some("9f4f882968dd5bdb"));
    let failed: Vec<_> = together.failures.iter().map(|failure| failure.entity_id.as_str()).collect();
    assert_eq!(failed, ["nogame"]);
    assert!(players[..16].contains(&"nogame".to_owned()), "a failure in the full batch");
}

#[test]
fn worked_example_lebron_type_with_data_hash_check_vector() {
    let row = process("lebronjames", &integration_inputs(true));
    assert_eq!(summary(&row), (100, 4.3, 1.8, 0.3, 6.35, 100.0, None, None));
    assert!(!row.has_warnings);
    assert_eq!(row.data_hash, "9f4f882968dd5bdb");
    // A row of another date than the prefix's is hashed from its own fields.
    let other_date = row_hash::DateHashPrefix::new(date(ANALYSIS_DATE) - chrono::Days::new(1));
    assert_eq!(row_hash_text(&row, &other_date).finish(), "9f4f882968dd5bdb");
    assert_eq!(
        (
            row.referee_favorability_score,
            row.look_ahead_pressure_score,
            row.travel_impact_score,
            row.opponent_strength_score
        ),
        (0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!(row.calculation_version, "v1_4factors");
    assert_eq!(
        (row.game_id.as_str(), row.universal_player_id.as_deref()),
        ("20251101LAL_GSW", Some("lebron_001"))
    );
}

#[test]
fn worked_example_curry_type() {
    let row = process("stephencurry", &integration_inputs(true));
    assert_eq!(summary(&row), (95, -3.2, 2.0, 0.5, -0.93, 100.0, None, None));
    assert_eq!(row.data_hash, "3fd7b5f148d66fd5");
}

#[test]
fn worked_example_durant_type() {
    let row = process("kevindurant", &integration_inputs(true));
    let warning = Some("EXTREME_FATIGUE: Player showing severe fatigue");
    assert_eq!(summary(&row), (35, 1.9, -1.0, 0.8, -1.58, 100.0, None, warning));
    assert!(row.has_warnings);
    assert_eq!(row.data_hash, "32152fd1363fa502");
}

#[test]
fn integration_successful_processing_three_players() {
    let inputs = integration_inputs(true);
    let context = run_context(false);
    let players = entities(&inputs);
    assert_eq!(players, vec!["kevindurant", "lebronjames", "stephencurry"]);
    let results: Vec<_> = players.iter().map(|player| process_entity(player, &inputs, &context)).collect();
    assert!(results.iter().all(Result::is_ok));
}

#[test]
fn integration_processing_with_partial_data_completeness() {
    // Empty PSZA and TDZA: shot zone 0.0, 60 % complete, both zones missing.
    let inputs = integration_inputs(false);
    let missing = Some("player_shot_zone, team_defense_zone");
    let expected = [
        ("lebronjames", (100, 0.0, 1.8, 0.3, 2.05, 60.0, missing, None), "c1b268ecd3a19608"),
        ("stephencurry", (95, 0.0, 2.0, 0.5, 2.27, 60.0, missing, None), "b8cfd31a6f5383b2"),
        (
            "kevindurant",
            (
                35,
                0.0,
                -1.0,
                0.8,
                -3.47,
                60.0,
                missing,
                Some("EXTREME_FATIGUE: Player showing severe fatigue"),
            ),
            "beee49a8142e8a77",
        ),
    ];
    for (player, values, hash) in expected {
        let row = process(player, &inputs);
        assert_eq!(summary(&row), values, "{player}");
        assert_eq!(row.data_hash, hash, "{player}");
        assert_eq!(row.shot_zone_context_json, r#"{"missing_data": true}"#);
    }
}

#[test]
fn integration_missing_critical_dependency_gives_no_entities() {
    let inputs = date_inputs(DateRows::default(), SourceTracking::default());
    assert!(entities(&inputs).is_empty());
}

#[test]
fn integration_single_player_failure_continues_processing() {
    // Curry's breaker is open until a week later: he fails, the two others are processed.
    let mut inputs = integration_inputs(true);
    let until = timestamp("2025-11-08T12:00:00Z");
    inputs.players.get_mut("stephencurry").expect("Curry plays").latest_attempt = Some(LatestAttempt {
        attempt_number: 3,
        circuit_breaker_tripped: true,
        circuit_breaker_until: Some(until),
    });
    let context = run_context(false);
    let results: Vec<_> =
        entities(&inputs).iter().map(|player| process_entity(player, &inputs, &context)).collect();
    assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 2);
    let failure = results.into_iter().find_map(Result::err).expect("one failure");
    assert_eq!(failure.entity_id, "stephencurry");
    assert_eq!(failure.category, FailureCategory::CircuitBreakerActive);
    assert_eq!(failure.reason, "Circuit breaker active until 2025-11-08 12:00:00+00:00");
}

#[test]
fn date_notes_count_the_rows_read_and_the_open_breakers() {
    let mut inputs = integration_inputs(true);
    let found = |rows, expected| SourceUsage::found(rows, expected, None, None);
    inputs.sources.player_context = found(4, 100);
    inputs.sources.team_context = found(2, 10);
    inputs.sources.player_shot = found(3, 100);
    inputs.sources.team_defense = found(3, 30);
    // Curry's breaker is open at the run's time (23:30), Durant's ended at midnight.
    let tripped_until = |until: &str| LatestAttempt {
        attempt_number: 3,
        circuit_breaker_tripped: true,
        circuit_breaker_until: Some(timestamp(until)),
    };
    let mut attempt_of = |player: &str, attempt| {
        inputs.players.get_mut(player).expect("the player plays").latest_attempt = Some(attempt);
    };
    attempt_of("stephencurry", tripped_until("2025-11-08T12:00:00Z"));
    attempt_of("kevindurant", tripped_until("2025-11-01T00:00:00Z"));
    // reference-pcf.md §5.4; 2025-11-01 is day 11 of the season starting 2025-10-21 (bootstrap
    // < 30 days) and in November (a boundary month). Four UPGC rows read, three players.
    assert_eq!(
        notes::date_notes(&inputs, &run_context(false)),
        vec![
            "Extracted 4 player context records",
            "Extracted 2 team context records",
            "Extracted 3 player shot zone records",
            "Extracted 3 team defense zone records",
            "Checking completeness for 3 players...",
            "Completeness check complete. Bootstrap mode: True, Season boundary: True",
            // No UTGC row of any opponent: no player has every upstream ready.
            "Upstream completeness check: 0/3 players have all upstreams ready",
            "Batch circuit breaker check: 2 players with history, 1 active breakers",
            "Calculating composite factors for 3 players",
        ]
    );
    // A backfill says the same (reference-pcf.md §2.11: the reference commit's backfill counts
    // as a live run does).
    assert_eq!(
        notes::date_notes(&inputs, &run_context(true)),
        notes::date_notes(&inputs, &run_context(false))
    );
}

#[test]
fn integration_source_tracking_fields_populated() {
    let usage = |last_updated: &str, rows_found: i64, completeness_pct: f64| SourceUsage {
        last_updated: Some(timestamp(last_updated)),
        rows_found: Some(rows_found),
        completeness_pct: Some(completeness_pct),
        hash: None,
    };
    let sources = SourceTracking {
        player_context: usage("2025-11-01T22:00:15Z", 150, 98.5),
        team_context: usage("2025-11-01T22:05:30Z", 30, 100.0),
        player_shot: SourceUsage {
            hash: Some("psza_hash".into()),
            ..usage("2025-11-01T23:15:45Z", 145, 96.7)
        },
        team_defense: usage("2025-11-01T23:10:20Z", 30, 100.0),
    };
    let rows = DateRows { player_contexts: vec![lebron()], ..Default::default() };
    let row = process("lebronjames", &date_inputs(rows, sources));
    assert_eq!(row.source_player_context_last_updated, Some(timestamp("2025-11-01T22:00:15Z")));
    assert_eq!(
        (row.source_player_context_rows_found, row.source_player_context_completeness_pct),
        (Some(150), Some(98.5))
    );
    assert_eq!(row.source_team_context_last_updated, Some(timestamp("2025-11-01T22:05:30Z")));
    assert_eq!(
        (row.source_team_context_rows_found, row.source_team_context_completeness_pct),
        (Some(30), Some(100.0))
    );
    assert_eq!(row.source_player_shot_last_updated, Some(timestamp("2025-11-01T23:15:45Z")));
    assert_eq!(
        (row.source_player_shot_rows_found, row.source_player_shot_completeness_pct),
        (Some(145), Some(96.7))
    );
    assert_eq!(row.source_team_defense_last_updated, Some(timestamp("2025-11-01T23:10:20Z")));
    assert_eq!(
        (row.source_team_defense_rows_found, row.source_team_defense_completeness_pct),
        (Some(30), Some(100.0))
    );
    assert_eq!(row.source_player_shot_hash.as_deref(), Some("psza_hash"));
    assert_eq!(row.source_player_context_hash, None);
}

#[test]
fn integration_extreme_fatigue_generates_warning() {
    let exhausted = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(25.0),
        avg_usage_rate_last_7_games: Some(25.0),
        pace_differential: Some(0.0),
        ..fatigue_row(0, true, 5, 300.0, 40.0, 3, 38)
    };
    let exhausted =
        integration_player("exhaustedplayer", "exhausted_001", "20251101TEST_TEST", "GSW", exhausted);
    let rows = DateRows {
        player_contexts: vec![exhausted],
        player_shot_zones: integration_shot_zones(),
        team_defense_zones: integration_defense_zones(),
        ..Default::default()
    };
    let row = process("exhaustedplayer", &date_inputs(rows, SourceTracking::default()));
    let warning = Some("EXTREME_FATIGUE: Player showing severe fatigue");
    assert_eq!(summary(&row), (35, 0.0, 0.0, 0.0, -3.25, 80.0, Some("player_shot_zone"), warning));
    assert_eq!(row.data_hash, "26032dfe62118c12");
    // With completeness and readiness absent (live mode, no history, no readiness flags).
    assert_eq!((row.expected_games_count, row.actual_games_count, row.missing_games_count), (0, 0, 0));
    assert_eq!(row.completeness_percentage, 0.0);
    assert!(!row.is_production_ready);
    assert_eq!(
        row.data_quality_issues,
        vec![
            "own_data_incomplete",
            "upstream_player_shot_zone_incomplete",
            "upstream_team_defense_zone_incomplete",
            "upstream_player_context_incomplete",
            "upstream_team_context_incomplete",
        ]
    );
    // The reference's INFO lines for the row (reference-pcf.md §5.4).
    assert_eq!(
        notes::reduced_quality_notes(&row),
        vec![
            "exhaustedplayer: Completeness 0.0% (0/0 games) - processing with reduced quality",
            "exhaustedplayer: Upstream not fully ready (shot_zone=False, team_defense=False, \
             player_context=False, team_context=False) - processing with reduced quality",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Failures, duplicates, live and backfill bookkeeping
// ---------------------------------------------------------------------------------------------

#[test]
fn a_player_without_context_is_missing_data() {
    let failure = process_entity("nobody", &integration_inputs(true), &run_context(false)).unwrap_err();
    assert_eq!(failure.category, FailureCategory::MissingData);
    assert_eq!(failure.reason, "Player not found in context data");
}

#[test]
fn duplicate_upgc_rows_give_one_row_from_the_latest_processed_at() {
    // §6.4 / README §4 item 14: the later row (usage 30 vs 25 → 1.5) wins over the earlier (0.3).
    let earlier =
        UpcomingPlayerGameContextRow { processed_at: Some(timestamp("2025-11-01T20:00:00Z")), ..lebron() };
    let later = UpcomingPlayerGameContextRow {
        projected_usage_rate: Some(30.0),
        processed_at: Some(timestamp("2025-11-01T21:00:00Z")),
        ..lebron()
    };
    let inputs = date_inputs(
        DateRows { player_contexts: vec![later, earlier], ..Default::default() },
        SourceTracking::default(),
    );
    assert_eq!(entities(&inputs), vec!["lebronjames"]);
    assert_eq!(process("lebronjames", &inputs).usage_spike_score, 1.5);
}

/// LeBron: 9 of the last 10 LAL games played; every upstream ready except the opponent's UTGC.
fn completeness_inputs() -> DateInputs {
    let schedule: Vec<_> = (21..=30)
        .map(|day| crate::games_history::ScheduleGameRow {
            game_id: format!("g{day}"),
            game_date: date(&format!("2025-10-{day}")),
            home_team_tricode: "LAL".into(),
            away_team_tricode: "BOS".into(),
            game_status: Some(3),
        })
        .collect();
    let appearances: Vec<_> = (22..=30)
        .map(|day| crate::games_history::PlayerGameAppearanceRow {
            player_lookup: "lebronjames".into(),
            game_date: date(&format!("2025-10-{day}")),
            team_abbr: "LAL".into(),
        })
        .collect();
    let ready = Some(true);
    let rows = DateRows {
        player_contexts: vec![UpcomingPlayerGameContextRow { is_production_ready: ready, ..lebron() }],
        player_shot_zones: vec![PlayerShotZoneAnalysisRow { is_production_ready: ready, ..paint_shooter() }],
        team_defense_zones: vec![TeamDefenseZoneAnalysisRow {
            is_production_ready: ready,
            ..weak_paint_defense()
        }],
        team_contexts: vec![crate::inputs::UpcomingTeamGameContextRow {
            team_abbr: "GSW".into(),
            game_date: date(ANALYSIS_DATE),
            is_production_ready: Some(false),
            ..Default::default()
        }],
        ..Default::default()
    };
    let history = GamesHistory::build(appearances, &schedule);
    DateInputs::build(date(ANALYSIS_DATE), date("2025-10-21"), rows, &history, SourceTracking::default()).0
}

#[test]
fn rows_carry_completeness_readiness_and_bookkeeping() {
    let row = process("lebronjames", &completeness_inputs());
    assert_eq!((row.expected_games_count, row.actual_games_count, row.missing_games_count), (10, 9, 1));
    assert_eq!(row.completeness_percentage, 90.0);
    assert_eq!(
        (row.upstream_player_shot_ready, row.upstream_team_defense_ready, row.upstream_player_context_ready),
        (true, true, true)
    );
    assert!(!row.upstream_team_context_ready && !row.all_upstreams_ready && !row.is_production_ready);
    assert_eq!(row.data_quality_issues, vec!["upstream_team_context_incomplete"]);
    // 90 % is ready: only the upstream line (reference-pcf.md §5.4).
    assert_eq!(
        notes::reduced_quality_notes(&row),
        vec![
            "lebronjames: Upstream not fully ready (shot_zone=True, team_defense=True, player_context=True, \
             team_context=False) - processing with reduced quality"
        ]
    );
    // 2025-11-01 is day 11 of the season (bootstrap < 30) and in November (boundary month).
    assert!(row.season_boundary_detected && row.backfill_bootstrap_mode);
    assert_eq!((row.analysis_date, row.game_date), (date(ANALYSIS_DATE), date(ANALYSIS_DATE)));
    assert_eq!(row.created_at, run_context(false).processed_at);
    assert_eq!(row.processing_decision_reason, "processed_successfully");
    assert!(!row.early_season_flag && row.insufficient_data_reason.is_none());
    assert!(!row.circuit_breaker_active && row.circuit_breaker_until.is_none());
    assert_eq!(row.reprocess_attempt_count, 0);
}

#[test]
fn the_upstream_completeness_line_counts_the_players_with_every_upstream_ready() {
    let mut inputs = completeness_inputs();
    let upstream_line = |inputs: &DateInputs| notes::date_notes(inputs, &run_context(false))[6].clone();
    // LeBron's opponent's UTGC row is not production ready (reference-pcf.md §5.4).
    assert_eq!(upstream_line(&inputs), "Upstream completeness check: 0/1 players have all upstreams ready");
    let gsw = inputs.teams.get_mut("GSW").and_then(|team| team.context.as_mut()).expect("GSW's row");
    gsw.is_production_ready = Some(true);
    assert_eq!(upstream_line(&inputs), "Upstream completeness check: 1/1 players have all upstreams ready");
    assert!(process("lebronjames", &inputs).all_upstreams_ready);
}

/// At the reference commit backfill changes nothing in a row (reference-pcf.md §2.11): its
/// completeness, readiness and season flags are counted as a live run's, not the later
/// variant's "complete and ready" (which would give a rookie 1/1 games and production ready).
#[test]
fn backfill_rows_are_assessed_as_live_rows_are() {
    // LeBron with 9 of 10 games and one upstream not ready; the §6.3 players with their zone
    // rows and without, and no history or readiness flags at all.
    for inputs in [completeness_inputs(), integration_inputs(true), integration_inputs(false)] {
        for player in entities(&inputs) {
            let backfill = process_entity(&player, &inputs, &run_context(true));
            assert_eq!(backfill, process_entity(&player, &inputs, &run_context(false)), "{player}");
        }
    }
    let rookie =
        process_entity("lebronjames", &integration_inputs(false), &run_context(true)).expect("processed");
    // What the later variant changed: 1/1 games and ready, the season flags false (2025-11-01 is
    // day 11 of the season, in November).
    assert_eq!((rookie.expected_games_count, rookie.actual_games_count), (0, 0));
    assert!(!rookie.is_production_ready);
    assert!(rookie.season_boundary_detected && rookie.backfill_bootstrap_mode);
}

#[test]
fn an_expired_breaker_processes_the_player_and_counts_attempts() {
    let mut inputs = integration_inputs(true);
    inputs.players.get_mut("lebronjames").expect("LeBron plays").latest_attempt = Some(LatestAttempt {
        attempt_number: 3,
        circuit_breaker_tripped: true,
        circuit_breaker_until: Some(Utc.with_ymd_and_hms(2025, 11, 1, 0, 0, 0).unwrap()),
    });
    let row = process("lebronjames", &inputs);
    assert_eq!(row.reprocess_attempt_count, 3);
    assert!(!row.circuit_breaker_active && row.circuit_breaker_until.is_none());
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

fn any_number() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(prop_oneof![-400.0..400.0f64, proptest::num::f64::ANY])
}

fn any_count() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(prop_oneof![-5i64..60, any::<i64>()])
}

/// The seven fatigue inputs of a context row, in §3.2 order.
type FatigueColumns =
    (Option<i64>, Option<bool>, Option<i64>, Option<f64>, Option<f64>, Option<i64>, Option<i64>);

/// Fatigue inputs drawn independently, or with all six penalties at once: independent draws
/// almost never combine them (about 1 in 4,000), so the floor of 35 would go untested.
fn any_fatigue_columns() -> impl Strategy<Value = FatigueColumns> {
    let independent = (
        any_count(),
        proptest::option::of(any::<bool>()),
        any_count(),
        any_number(),
        any_number(),
        any_count(),
        any_count(),
    );
    let above = |threshold: f64| prop_oneof![threshold + 0.001..threshold + 100.0, threshold + 100.0..1e300];
    let fully_penalised = (
        any_count(),
        Just(Some(true)),
        (4i64..=i64::MAX).prop_map(Some),
        above(240.0).prop_map(Some),
        above(35.0).prop_map(Some),
        (2i64..=i64::MAX).prop_map(Some),
        (35i64..=i64::MAX).prop_map(Some),
    );
    prop_oneof![3 => independent, 1 => fully_penalised]
}

fn any_context() -> impl Strategy<Value = UpcomingPlayerGameContextRow> {
    let fatigue = any_fatigue_columns();
    let others = (any_number(), any_number(), any_count(), any_number(), any_number());
    (fatigue, others).prop_map(
        |((rest, b2b, games, minutes, avg, b2bs, age), (projected, baseline, stars, pace, opp))| {
            UpcomingPlayerGameContextRow {
                player_lookup: "p".into(),
                game_id: Some("g1".into()),
                game_date: date(ANALYSIS_DATE),
                opponent_team_abbr: Some("OPP".into()),
                days_rest: rest,
                back_to_back: b2b,
                games_in_last_7_days: games,
                minutes_in_last_7_days: minutes,
                avg_minutes_per_game_last_7: avg,
                back_to_backs_last_14_days: b2bs,
                player_age: age,
                projected_usage_rate: projected,
                avg_usage_rate_last_7_games: baseline,
                star_teammates_out: stars,
                pace_differential: pace,
                opponent_pace_last_10: opp,
                ..Default::default()
            }
        },
    )
}

fn any_shot() -> impl Strategy<Value = Option<PlayerShotZoneAnalysisRow>> {
    let zone = proptest::option::of(prop_oneof![
        Just("paint".to_owned()),
        Just("mid_range".to_owned()),
        Just("perimeter".to_owned()),
        Just("balanced".to_owned()),
        "[a-z_]{0,8}",
    ]);
    proptest::option::of((zone, any_number(), any_number(), any_number()).prop_map(
        |(zone, paint, mid, three)| PlayerShotZoneAnalysisRow {
            player_lookup: "p".into(),
            analysis_date: date(ANALYSIS_DATE),
            primary_scoring_zone: zone,
            paint_rate_last_10: paint,
            mid_range_rate_last_10: mid,
            three_pt_rate_last_10: three,
            ..Default::default()
        },
    ))
}

fn any_defense() -> impl Strategy<Value = Option<TeamDefenseZoneAnalysisRow>> {
    proptest::option::of((any_number(), any_number(), any_number()).prop_map(|(paint, mid, three)| {
        TeamDefenseZoneAnalysisRow {
            team_abbr: "OPP".into(),
            analysis_date: date(ANALYSIS_DATE),
            paint_defense_vs_league_avg: paint,
            mid_range_defense_vs_league_avg: mid,
            three_pt_defense_vs_league_avg: three,
            ..Default::default()
        }
    }))
}

/// The hash through the recipe's own float and date normalisation, in the spec's field order,
/// to check that [`row_hash_text`]'s preformatted texts change nothing.
fn hash_with_typed_values(row: &PlayerCompositeFactorsRow) -> framework::SmolStr {
    use framework::digest::HashValue;
    framework::digest::data_hash(&[
        ("player_lookup", HashValue::from(&row.player_lookup)),
        ("universal_player_id", row.universal_player_id.as_deref().into()),
        ("game_date", row.game_date.into()),
        ("game_id", (&row.game_id).into()),
        ("analysis_date", row.analysis_date.into()),
        ("fatigue_score", row.fatigue_score.into()),
        ("shot_zone_mismatch_score", row.shot_zone_mismatch_score.into()),
        ("pace_score", row.pace_score.into()),
        ("usage_spike_score", row.usage_spike_score.into()),
        ("referee_favorability_score", row.referee_favorability_score.into()),
        ("look_ahead_pressure_score", row.look_ahead_pressure_score.into()),
        ("travel_impact_score", row.travel_impact_score.into()),
        ("opponent_strength_score", row.opponent_strength_score.into()),
        ("total_composite_adjustment", row.total_composite_adjustment.into()),
        ("calculation_version", row.calculation_version.into()),
        ("early_season_flag", row.early_season_flag.into()),
        ("insufficient_data_reason", row.insufficient_data_reason.as_deref().into()),
        ("data_completeness_pct", row.data_completeness_pct.into()),
        ("missing_data_fields", row.missing_data_fields.into()),
        ("has_warnings", row.has_warnings.into()),
        ("warning_details", row.warning_details.into()),
    ])
}

/// The unrounded `final_score` a context JSON reports (0.0 for the missing shot-zone context),
/// parsed from its text: Python's `repr` round-trips, so this is the factor's exact value.
fn final_score_in(json: &str) -> f64 {
    match json.rsplit_once(r#""final_score": "#) {
        Some((_, score)) => score.trim_end_matches('}').parse().expect("final_score is a number"),
        None => 0.0,
    }
}

#[test]
fn the_generated_inputs_reach_every_clamp() {
    // The property tests below would be vacuous at the clamps if no generated player reached
    // them: draw 512 players from the same strategies and count each clamp end that is hit.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let strategy = (any_context(), any_shot(), any_defense());
    let mut runner = TestRunner::deterministic();
    let mut hits = [0; 8];
    for _ in 0..512 {
        let (context, shot, defense) = strategy.new_tree(&mut runner).expect("a value").current();
        let factors = CompositeFactors::compute(&context, shot.as_ref(), defense.as_ref());
        let ends = [
            factors.fatigue_score == 35,
            factors.fatigue_score == 100,
            factors.shot_zone_mismatch == -10.0,
            factors.shot_zone_mismatch == 10.0,
            factors.pace == -3.0,
            factors.pace == 3.0,
            factors.usage_spike == -3.0,
            factors.usage_spike == 3.0,
        ];
        for (count, hit) in hits.iter_mut().zip(ends) {
            *count += usize::from(hit);
        }
    }
    assert!(
        hits.iter().all(|&count| count > 0),
        "clamp ends hit (fatigue 35/100, shot, pace, usage ∓): {hits:?}"
    );
}

proptest! {
    #[test]
    fn fatigue_is_always_between_35_and_100(context in any_context()) {
        let score = score_of(&context);
        prop_assert!((35..=100).contains(&score), "fatigue {score}");
        let adjustment = fatigue_adjustment(score);
        prop_assert!((-3.25..=0.0).contains(&adjustment));
    }

    #[test]
    fn every_factor_stays_within_its_clamp_and_the_total_sums_unrounded_factors(
        context in any_context(),
        shot in any_shot(),
        defense in any_defense(),
    ) {
        let rows = DateRows {
            player_contexts: vec![context.clone()],
            player_shot_zones: shot.clone().into_iter().collect(),
            team_defense_zones: defense.clone().into_iter().collect(),
            ..Default::default()
        };
        let row = process("p", &date_inputs(rows, SourceTracking::default()));
        let factors = CompositeFactors::compute(&context, shot.as_ref(), defense.as_ref());
        prop_assert!((-10.0..=10.0).contains(&factors.shot_zone_mismatch));
        prop_assert!((-3.0..=3.0).contains(&factors.pace));
        prop_assert!((-3.0..=3.0).contains(&factors.usage_spike));
        prop_assert!((-10.0..=10.0).contains(&row.shot_zone_mismatch_score));
        prop_assert!((-3.0..=3.0).contains(&row.pace_score) && (-3.0..=3.0).contains(&row.usage_spike_score));
        prop_assert!((35..=100).contains(&row.fatigue_score));
        let unrounded_sum =
            fatigue_adjustment(factors.fatigue_score) + factors.shot_zone_mismatch + factors.pace + factors.usage_spike;
        prop_assert_eq!(row.total_composite_adjustment, round_half_even(unrounded_sum, 2));
        prop_assert!((-19.25..=16.0).contains(&row.total_composite_adjustment));
        // The deferred factors are 0.0; each stored factor is its unrounded value to 1 decimal.
        let deferred = [
            row.referee_favorability_score,
            row.look_ahead_pressure_score,
            row.travel_impact_score,
            row.opponent_strength_score,
        ];
        prop_assert_eq!(deferred, [0.0; 4]);
        prop_assert_eq!(row.shot_zone_mismatch_score, round_half_even(factors.shot_zone_mismatch, 1));
        prop_assert_eq!(row.pace_score, round_half_even(factors.pace, 1));
        prop_assert_eq!(row.usage_spike_score, round_half_even(factors.usage_spike, 1));
        // The total is also the sum of the unrounded factors the row itself reports in its
        // context JSON, not of its rounded columns.
        let reported_sum = fatigue_adjustment(final_score_in(&row.fatigue_context_json) as i64)
            + final_score_in(&row.shot_zone_context_json)
            + final_score_in(&row.pace_context_json)
            + final_score_in(&row.usage_context_json);
        prop_assert_eq!(row.total_composite_adjustment, round_half_even(reported_sum, 2));
        prop_assert_eq!(&row.data_hash, &hash_with_typed_values(&row));
    }

    #[test]
    fn fatigue_of_any_fully_penalised_player_is_the_floor_35(
        days_rest in any::<Option<i64>>(),
        games in 4i64..=i64::MAX,
        minutes in 240.001f64..1e12,
        avg_minutes in 35.001f64..1e12,
        back_to_backs in 2i64..=i64::MAX,
        age in 35i64..=i64::MAX,
    ) {
        // §3.2: 100 − 15 − 10 − 10 − 8 − 12 − 10 = 35, whatever the rest.
        let context = UpcomingPlayerGameContextRow {
            days_rest,
            ..fatigue_row(0, true, games, minutes, avg_minutes, back_to_backs, age)
        };
        prop_assert_eq!(score_of(&context), 35);
    }

    #[test]
    fn fatigue_of_any_rested_unpenalised_player_is_the_ceiling_100(
        days_rest in 3i64..=i64::MAX,
        games in i64::MIN..4,
        minutes in -1e12f64..=240.0,
        avg_minutes in -1e12f64..=35.0,
        back_to_backs in i64::MIN..1,
        age in i64::MIN..30,
    ) {
        // §3.2: 100 + 5 clamps to 100.
        let context = fatigue_row(days_rest, false, games, minutes, avg_minutes, back_to_backs, age);
        prop_assert_eq!(score_of(&context), 100);
    }
}

// Whole-entity properties: any player, date, history, breaker state and mode.

fn any_timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    // About ±35,000 years around 1970: far beyond any real stamp, inside chrono's range.
    (-(1i64 << 40)..(1i64 << 40)).prop_map(|seconds| DateTime::from_timestamp(seconds, 0).expect("in range"))
}

/// A team name: one of the few that meet in games, or any text.
fn any_team() -> impl Strategy<Value = String> {
    prop_oneof![Just("OPP".to_owned()), Just("OWN".to_owned()), Just(String::new()), any::<String>()]
}

fn any_history(player_lookup: String, analysis_date: NaiveDate) -> impl Strategy<Value = GamesHistory> {
    let day = move |offset: i64| {
        analysis_date.checked_sub_signed(chrono::Duration::days(offset)).unwrap_or(analysis_date)
    };
    let appearances = proptest::collection::vec((-5i64..800, any_team()), 0..30);
    let games =
        proptest::collection::vec((-5i64..800, any_team(), any_team(), proptest::option::of(0i64..5)), 0..30);
    (appearances, games).prop_map(move |(appearances, games)| {
        let appearances: Vec<_> = appearances
            .into_iter()
            .map(|(offset, team_abbr)| PlayerGameAppearanceRow {
                player_lookup: player_lookup.clone().into(),
                game_date: day(offset),
                team_abbr: team_abbr.into(),
            })
            .collect();
        let games: Vec<_> = games
            .into_iter()
            .enumerate()
            .map(|(index, (offset, home, away, status))| ScheduleGameRow {
                game_id: format!("g{index}"),
                game_date: day(offset),
                home_team_tricode: home,
                away_team_tricode: away,
                game_status: status,
            })
            .collect();
        GamesHistory::build(appearances, &games)
    })
}

fn any_attempt(
    player_lookup: String,
    analysis_date: NaiveDate,
) -> impl Strategy<Value = Option<ReprocessAttemptRow>> {
    let attempt = (any::<i64>(), proptest::option::of(any::<bool>()), proptest::option::of(any_timestamp()));
    proptest::option::of(attempt.prop_map(move |(attempt_number, tripped, until)| ReprocessAttemptRow {
        processor_name: crate::inputs::REPROCESS_PROCESSOR_NAME.into(),
        entity_id: player_lookup.clone(),
        analysis_date,
        attempt_number,
        attempted_at: None,
        circuit_breaker_tripped: tripped,
        circuit_breaker_until: until,
    }))
}

/// One player's whole date: any lookup and game id (NULL included), any analysis date and
/// season start, any history, breaker, shot and defence rows, live or backfill.
fn any_player_date() -> impl Strategy<Value = (String, DateInputs, RunContext)> {
    let lookup = prop_oneof![Just("p".to_owned()), any::<String>()];
    let dates = (-40_000i64..40_000, -400i64..400);
    (lookup, dates, any::<bool>(), any_timestamp()).prop_flat_map(
        |(player_lookup, (date_offset, season_offset), backfill, processed_at)| {
            let analysis_date = date(ANALYSIS_DATE) + chrono::Duration::days(date_offset);
            let season_start = analysis_date - chrono::Duration::days(season_offset);
            let game_id = proptest::option::of(prop_oneof![
                Just("g1".to_owned()),
                Just(String::new()),
                any::<String>()
            ]);
            (
                any_context(),
                game_id,
                any_shot(),
                any_defense(),
                any_history(player_lookup.clone(), analysis_date),
                any_attempt(player_lookup.clone(), analysis_date),
            )
                .prop_map(move |(context, game_id, shot, defense, history, attempt)| {
                    let context = UpcomingPlayerGameContextRow {
                        player_lookup: player_lookup.as_str().into(),
                        game_id: game_id.map(Into::into),
                        game_date: analysis_date,
                        ..context
                    };
                    let rows = DateRows {
                        player_contexts: vec![context],
                        player_shot_zones: shot
                            .into_iter()
                            .map(|shot| PlayerShotZoneAnalysisRow {
                                player_lookup: player_lookup.clone(),
                                analysis_date,
                                ..shot
                            })
                            .collect(),
                        team_defense_zones: defense
                            .into_iter()
                            .map(|defense| TeamDefenseZoneAnalysisRow { analysis_date, ..defense })
                            .collect(),
                        reprocess_attempts: attempt.into_iter().collect(),
                        ..Default::default()
                    };
                    let inputs = DateInputs::build(
                        analysis_date,
                        season_start,
                        rows,
                        &history,
                        SourceTracking::default(),
                    )
                    .0;
                    let context =
                        RunContext { date: analysis_date, run_id: "prop".into(), backfill, processed_at };
                    (player_lookup.clone(), inputs, context)
                })
        },
    )
}

proptest! {
    #[test]
    fn any_player_date_gives_a_row_within_range_or_a_named_failure(
        (player_lookup, inputs, context) in any_player_date(),
    ) {
        match process_entity(&player_lookup, &inputs, &context) {
            Ok(row) => {
                prop_assert_eq!(&row.player_lookup, &player_lookup);
                prop_assert!(!row.game_id.trim().is_empty());
                prop_assert!((35..=100).contains(&row.fatigue_score));
                prop_assert!((-10.0..=10.0).contains(&row.shot_zone_mismatch_score));
                prop_assert!((-3.0..=3.0).contains(&row.pace_score));
                prop_assert!((-3.0..=3.0).contains(&row.usage_spike_score));
                prop_assert!((-19.25..=16.0).contains(&row.total_composite_adjustment));
                prop_assert!((0.0..=100.0).contains(&row.data_completeness_pct));
                prop_assert!(row.completeness_percentage.is_finite() && row.completeness_percentage >= 0.0);
                prop_assert!(row.expected_games_count >= 0 && row.actual_games_count >= 0);
                for json in [
                    &row.fatigue_context_json,
                    &row.shot_zone_context_json,
                    &row.pace_context_json,
                    &row.usage_context_json,
                ] {
                    prop_assert!(serde_json::from_str::<serde_json::Value>(json).is_ok(), "{}", json);
                }
                prop_assert_eq!(row.data_hash.len(), 16);
            }
            Err(failure) => {
                prop_assert_eq!(&failure.entity_id, &player_lookup);
                prop_assert!(
                    matches!(failure.category, FailureCategory::MissingData | FailureCategory::CircuitBreakerActive),
                    "{:?}",
                    failure
                );
                prop_assert!(!failure.reason.is_empty());
            }
        }
        // A player the date does not hold is a MISSING_DATA failure, never a panic.
        let stranger = format!("{player_lookup}-not-on-the-date");
        let failure = process_entity(&stranger, &inputs, &context).unwrap_err();
        prop_assert_eq!(failure.category, FailureCategory::MissingData);
    }
}
