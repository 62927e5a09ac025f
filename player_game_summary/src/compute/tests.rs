//! Tests of the per-player computation: the worked examples of reference-pgs.md §4.1, the test
//! cases of §9 under README §4's decisions, bad-input outcomes, and real 2024-01-15 box scores.
//!
//! Fixtures follow the reference's: season 2024, game `20250115_LAL_GSW` (LeBron James away for
//! LAL, Stephen Curry home for GSW).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use framework::{FailureCategory, RunContext, SourceUsage};

use super::*;
use crate::bdl_json::bdl_rows_from_api_json;
use crate::game::ScoreSource;
use crate::inputs::{
    BdlBoxscoreRow, GamebookPlayerRow, PlayerPropRow, RawInputs, RegistryRow, ScheduleRow, SourceUsages,
    build_date_inputs,
};
use crate::registry::{RegistryIndex, index_registry};
use crate::unresolved::{RegistryCounts, registry_counts, unresolved_player_names};
use framework::dedupe::DuplicateKey;

const GAME_ID: &str = "20250115_LAL_GSW";

fn game_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 15).unwrap()
}

fn hour(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 16, hour, 0, 0).unwrap()
}

fn context() -> RunContext {
    RunContext { date: game_date(), run_id: "run00001".into(), backfill: false, processed_at: hour(12) }
}

/// An active gamebook line of the fixture game.
fn gamebook_row(player_lookup: &str, player_name: &str, team_abbr: &str) -> GamebookPlayerRow {
    GamebookPlayerRow {
        game_id: GAME_ID.into(),
        game_date: game_date(),
        season_year: 2024,
        player_name: Some(player_name.into()),
        player_lookup: Some(player_lookup.into()),
        team_abbr: Some(team_abbr.into()),
        player_status: "active".into(),
        processed_at: Some(hour(3)),
        ..GamebookPlayerRow::default()
    }
}

/// Case A: PTS 25, FGM 10/FGA 20, 3PM 2/3PA 6, FTM 3/FTA 4, `36:30`, `+7`.
fn case_a_lebron() -> GamebookPlayerRow {
    GamebookPlayerRow {
        points: Some(25),
        field_goals_made: Some(10),
        field_goals_attempted: Some(20),
        three_pointers_made: Some(2),
        three_pointers_attempted: Some(6),
        free_throws_made: Some(3),
        free_throws_attempted: Some(4),
        offensive_rebounds: Some(1),
        defensive_rebounds: Some(7),
        assists: Some(8),
        steals: Some(1),
        blocks: Some(1),
        turnovers: Some(3),
        personal_fouls: Some(2),
        minutes: Some("36:30".into()),
        plus_minus: Some(7),
        ..gamebook_row("lebronjames", "LeBron James", "LAL")
    }
}

/// Case B: PTS 30, 12/25, 3PM 5/12, FT 1/2, `38:00`, `-7`.
fn case_b_curry() -> GamebookPlayerRow {
    GamebookPlayerRow {
        points: Some(30),
        field_goals_made: Some(12),
        field_goals_attempted: Some(25),
        three_pointers_made: Some(5),
        three_pointers_attempted: Some(12),
        free_throws_made: Some(1),
        free_throws_attempted: Some(2),
        turnovers: Some(2),
        minutes: Some("38:00".into()),
        plus_minus: Some(-7),
        ..gamebook_row("stephcurry", "Stephen Curry", "GSW")
    }
}

fn prop(player_lookup: &str, bookmaker: &str, points_line: f64) -> PlayerPropRow {
    PlayerPropRow {
        game_id: GAME_ID.into(),
        game_date: game_date(),
        bookmaker: bookmaker.into(),
        player_lookup: Some(player_lookup.into()),
        points_line,
        snapshot_timestamp: hour(0),
        processed_at: Some(hour(1)),
    }
}

fn registry_row(player_lookup: &str, team_abbr: &str) -> RegistryRow {
    RegistryRow {
        player_lookup: player_lookup.into(),
        universal_player_id: Some(format!("{player_lookup}_2024")),
        team_abbr: team_abbr.into(),
        season: "2024-25".into(),
        processed_at: Some(hour(0)),
    }
}

/// The shared registry index of `rows`, as extraction builds it once per chunk.
fn registry_of(rows: Vec<RegistryRow>) -> Arc<RegistryIndex> {
    Arc::new(index_registry(rows).0)
}

/// The reference's two-player fixture: cases A and B with their lines and registry ids.
fn two_player_inputs() -> RawInputs {
    RawInputs {
        gamebook_rows: vec![case_a_lebron(), case_b_curry()],
        prop_rows: vec![prop("lebronjames", "draftkings", 24.5), prop("stephcurry", "fanduel", 28.5)],
        registry: registry_of(vec![registry_row("lebronjames", "LAL"), registry_row("stephcurry", "GSW")]),
        ..RawInputs::default()
    }
}

/// Inputs with one gamebook line (plus the registry entry of its player).
fn one_line_inputs(row: GamebookPlayerRow, points_line: Option<f64>) -> RawInputs {
    let lookup = row.player_lookup.clone().unwrap();
    let team = row.team_abbr.clone().unwrap_or_default();
    RawInputs {
        prop_rows: points_line.map(|line| prop(&lookup, "draftkings", line)).into_iter().collect(),
        registry: registry_of(vec![registry_row(&lookup, &team)]),
        gamebook_rows: vec![row],
        ..RawInputs::default()
    }
}

fn run_all(raw: RawInputs) -> (DateInputs, Vec<Result<PlayerGameSummaryRow, EntityFailure>>) {
    let date_inputs = build_date_inputs(game_date(), raw).date_inputs;
    let results = entities(&date_inputs)
        .iter()
        .map(|entity| process_entity(entity, &date_inputs, &context()))
        .collect();
    (date_inputs, results)
}

fn rows_of(raw: RawInputs) -> Vec<PlayerGameSummaryRow> {
    run_all(raw).1.into_iter().collect::<Result<_, _>>().expect("every entity succeeds")
}

fn only_row(raw: RawInputs) -> PlayerGameSummaryRow {
    let mut rows = rows_of(raw);
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

/// The date's only row, on a date without any failure of its own (`date_failures`).
fn only_row_of_a_clean_date(raw: RawInputs) -> PlayerGameSummaryRow {
    let (date_inputs, results) = run_all(raw);
    assert!(date_failures(&date_inputs).is_empty());
    let mut rows: Vec<_> = results.into_iter().collect::<Result<_, _>>().expect("every entity succeeds");
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

fn only_failure(raw: RawInputs) -> EntityFailure {
    let (_, mut results) = run_all(raw);
    assert_eq!(results.len(), 1);
    results.remove(0).expect_err("the entity fails")
}

// Worked examples of reference-pgs.md §4.1.

#[test]
fn case_a_lebron_gamebook_row() {
    let row = only_row(one_line_inputs(case_a_lebron(), Some(24.5)));
    assert_eq!(row.universal_player_id.as_deref(), Some("lebronjames_2024"));
    assert_eq!((row.team_abbr.as_str(), row.opponent_team_abbr.as_str()), ("LAL", "GSW"));
    assert_eq!(row.season_year, 2024);
    assert_eq!(row.minutes_played, Some(36.0)); // 36:30 = 36.5 → 36 (half-even)
    assert_eq!(row.plus_minus, Some(7));
    assert_eq!(row.efg_pct, Some(0.55)); // (10 + 0.5·2) / 20 = 11/20
    assert_eq!(row.ts_pct, Some(0.574)); // 25 / (2·(20 + 0.44·4)) = 25/43.52 = 0.57445
    assert_eq!(row.over_under_result.as_deref(), Some("OVER"));
    assert_eq!(row.margin, Some(0.5));
    assert_eq!(row.points_line, Some(24.5));
    assert_eq!(row.points_line_source.as_deref(), Some("draftkings"));
    assert!(row.starter_flag);
    assert!(row.is_active);
    assert_eq!(row.quality_tier, "gold");
    assert_eq!(row.quality_score, 100.0);
    assert!(!row.quality_used_fallback);
    assert!(row.quality_issues.is_empty());
    assert_eq!(row.data_sources, vec!["nbac_gamebook".to_owned()]);
    assert_eq!(row.primary_source_used, "nbac_gamebook");
    assert_eq!(
        row.quality_metadata.as_deref(),
        Some(r#"{"sources_used": ["nbac_gamebook"], "early_season": false}"#)
    );
    assert_eq!(
        (row.fg_attempts, row.fg_makes, row.ft_attempts, row.ft_makes),
        (Some(20), Some(10), Some(4), Some(3))
    );
    assert_eq!((row.offensive_rebounds, row.defensive_rebounds), (Some(1), Some(7)));
    assert_eq!((row.paint_attempts, row.opening_line, row.shot_zones_estimated), (None, None, None));
    assert_eq!((row.processed_at, row.created_at, row.quality_calculated_at), (hour(12), hour(12), hour(12)));
}

#[test]
fn case_b_curry_fanduel_line() {
    let row = only_row(one_line_inputs(case_b_curry(), None));
    assert_eq!(row.minutes_played, Some(38.0));
    assert_eq!(row.plus_minus, Some(-7));
    assert_eq!(row.efg_pct, Some(0.58)); // 14.5 / 25
    assert_eq!(row.ts_pct, Some(0.58)); // 30 / 51.76 = 0.57960
    let rows = rows_of(two_player_inputs());
    let curry = rows.iter().find(|row| row.player_lookup == "stephcurry").unwrap();
    assert_eq!(curry.over_under_result.as_deref(), Some("OVER"));
    assert_eq!(curry.margin, Some(1.5));
    assert_eq!(curry.points_line_source.as_deref(), Some("fanduel"));
}

#[test]
fn case_b_prime_curry_under() {
    let curry = GamebookPlayerRow { points: Some(25), ..case_b_curry() };
    let row = only_row(one_line_inputs(curry, Some(28.5)));
    assert_eq!(row.over_under_result.as_deref(), Some("UNDER"));
    assert_eq!(row.margin, Some(-3.5));
    assert_eq!(row.ts_pct, Some(0.483)); // 25 / 51.76 = 0.48300
}

#[test]
fn case_c_overtime() {
    let overtime = GamebookPlayerRow {
        points: Some(35),
        field_goals_made: Some(14),
        field_goals_attempted: Some(28),
        three_pointers_made: Some(3),
        three_pointers_attempted: Some(8),
        free_throws_made: Some(4),
        free_throws_attempted: Some(5),
        minutes: Some("53:00".into()),
        ..gamebook_row("lebronjames", "LeBron James", "LAL")
    };
    let row = only_row(one_line_inputs(overtime, Some(30.5)));
    assert_eq!(row.minutes_played, Some(53.0));
    assert_eq!(row.efg_pct, Some(0.554)); // 15.5 / 28 = 0.55357
    assert_eq!(row.ts_pct, Some(0.579)); // 35 / 60.4 = 0.57947
    assert_eq!((row.over_under_result.as_deref(), row.margin), (Some("OVER"), Some(4.5)));
}

#[test]
fn case_d_perfect_shooting_and_twenty_minutes_is_not_a_starter() {
    let perfect = GamebookPlayerRow {
        points: Some(10),
        field_goals_made: Some(5),
        field_goals_attempted: Some(5),
        three_pointers_made: Some(0),
        three_pointers_attempted: Some(0),
        free_throws_made: Some(0),
        free_throws_attempted: Some(0),
        minutes: Some("20:00".into()),
        ..gamebook_row("lebronjames", "LeBron James", "LAL")
    };
    let row = only_row(one_line_inputs(perfect, None));
    assert_eq!((row.efg_pct, row.ts_pct), (Some(1.0), Some(1.0)));
    assert!(!row.starter_flag);
    let twenty_and_one_second = GamebookPlayerRow { minutes: Some("20:01".into()), ..case_a_lebron() };
    assert!(only_row(one_line_inputs(twenty_and_one_second, None)).starter_flag);
}

#[test]
fn case_e_zero_attempts_have_no_efficiency() {
    let idle = GamebookPlayerRow {
        points: Some(0),
        field_goals_made: Some(0),
        field_goals_attempted: Some(0),
        three_pointers_made: Some(0),
        free_throws_attempted: Some(0),
        minutes: Some("25:00".into()),
        ..gamebook_row("lebronjames", "LeBron James", "LAL")
    };
    let row = only_row(one_line_inputs(idle, None));
    assert_eq!((row.efg_pct, row.ts_pct), (None, None));
}

#[test]
fn case_f_dnp_gamebook_row_is_not_summarised_under_decision_10() {
    // The reference test fed a `dnp` row straight to the transform (is_active false); README §4
    // item 10 summarises only active gamebook lines, so such a row yields no entity, and a BDL
    // line of the same player is used instead.
    let dnp =
        GamebookPlayerRow { player_status: "dnp".into(), minutes: Some("0:00".into()), ..case_a_lebron() };
    let (date_inputs, results) = run_all(one_line_inputs(dnp.clone(), None));
    assert!(results.is_empty());
    assert!(date_failures(&date_inputs).is_empty());
    let mut raw = one_line_inputs(dnp, None);
    raw.bdl_rows = vec![bdl_row("lebronjames", "LeBron James", "LAL")];
    let row = only_row(raw);
    assert_eq!(row.primary_source_used, "bdl_boxscores");
    assert!(row.is_active);
}

#[test]
fn case_f_zero_minutes_are_null_and_plus_minus_zero_stays_zero_under_decision_11() {
    let zeros = GamebookPlayerRow {
        points: Some(0),
        field_goals_attempted: Some(0),
        minutes: Some("0:00".into()),
        plus_minus: Some(0),
        ..gamebook_row("lebronjames", "LeBron James", "LAL")
    };
    let row = only_row(one_line_inputs(zeros, None));
    assert_eq!(row.minutes_played, None);
    assert_eq!(row.plus_minus, Some(0)); // the reference's numeric 0 became NULL
    assert!(!row.starter_flag);
    assert_eq!((row.over_under_result, row.margin), (None, None));
}

#[test]
fn case_g_push_counts_as_over() {
    let push = GamebookPlayerRow { points: Some(24), ..case_a_lebron() };
    let row = only_row(one_line_inputs(push, Some(24.0)));
    assert_eq!((row.over_under_result.as_deref(), row.margin), (Some("OVER"), Some(0.0)));
}

/// A BDL line of the fixture game with case A's numbers and BDL's own attempts.
fn bdl_row(player_lookup: &str, player_full_name: &str, team_abbr: &str) -> BdlBoxscoreRow {
    BdlBoxscoreRow {
        game_id: GAME_ID.into(),
        game_date: game_date(),
        season_year: 2024,
        home_team_abbr: "GSW".into(),
        away_team_abbr: "LAL".into(),
        team_abbr: team_abbr.into(),
        player_full_name: player_full_name.into(),
        player_lookup: player_lookup.into(),
        minutes: Some("36".into()),
        points: Some(25),
        field_goals_made: Some(10),
        field_goals_attempted: Some(20),
        three_pointers_made: Some(2),
        three_pointers_attempted: Some(6),
        free_throws_made: Some(3),
        free_throws_attempted: Some(4),
        offensive_rebounds: Some(1),
        defensive_rebounds: Some(7),
        rebounds: Some(8),
        turnovers: Some(3),
        processed_at: Some(hour(2)),
        ..BdlBoxscoreRow::default()
    }
}

#[test]
fn case_h_bdl_row_is_silver_and_keeps_its_own_attempts_under_decision_11b() {
    // The reference selected NULL attempts for BDL, so TS/eFG were NULL; README §4 item 11b
    // keeps BDL's attempts and rebound split, so case A's values appear.
    let raw = RawInputs {
        bdl_rows: vec![bdl_row("lebronjames", "LeBron James", "LAL")],
        registry: registry_of(vec![registry_row("lebronjames", "LAL")]),
        ..RawInputs::default()
    };
    let row = only_row(raw);
    assert_eq!(row.quality_tier, "silver");
    assert_eq!(row.data_quality_tier, "silver");
    assert_eq!(row.quality_score, 85.0);
    assert_eq!(row.quality_issues, vec!["backup_source_used".to_owned()]);
    assert!(row.quality_used_fallback);
    assert!(!row.processed_with_issues);
    assert_eq!(row.primary_source_used, "bdl_boxscores");
    assert_eq!(
        row.quality_metadata.as_deref(),
        Some(r#"{"sources_used": ["bdl_boxscores"], "early_season": false}"#)
    );
    assert_eq!((row.fg_attempts, row.three_pt_attempts, row.ft_attempts), (Some(20), Some(6), Some(4)));
    assert_eq!((row.offensive_rebounds, row.defensive_rebounds), (Some(1), Some(7)));
    assert_eq!((row.efg_pct, row.ts_pct), (Some(0.55), Some(0.574)));
    assert_eq!(row.plus_minus, None);
    assert_eq!(row.minutes_played, Some(36.0));
}

#[test]
fn case_i_half_minutes_round_to_even() {
    let row = only_row(one_line_inputs(
        GamebookPlayerRow { minutes: Some("37:30".into()), ..case_a_lebron() },
        None,
    ));
    assert_eq!(row.minutes_played, Some(38.0)); // 37.5 → 38
    assert_eq!(minutes_played(Some(36.5)), Some(36.0));
}

// Test cases of reference-pgs.md §9.

#[test]
fn data_quality_tier_is_gold_and_silver_as_the_reference_code_writes_not_its_failing_high_medium_tests() {
    // §9.1: the two tier tests expected high/medium and failed; the code (and this port) write
    // gold/silver, the values the quality columns of every other processor use.
    assert_eq!(assess_quality(StatSource::Gamebook, MinutesText::Played(30.0)).tier, "gold");
    assert_eq!(assess_quality(StatSource::BdlBoxscores, MinutesText::Played(30.0)).tier, "silver");
    assert_eq!(only_row(one_line_inputs(case_a_lebron(), None)).data_quality_tier, "gold");
}

#[test]
fn calculate_analytics_lebron_with_20_points_is_under_by_4_5() {
    // §9.1 TestCalculateAnalytics: case A with points 20 against the 24.5 line.
    // margin = 20 − 24.5 = −4.5; TS = 20 / (2·(20 + 0.44·4)) = 20/43.52 = 0.45956 → 0.46.
    let row =
        only_row(one_line_inputs(GamebookPlayerRow { points: Some(20), ..case_a_lebron() }, Some(24.5)));
    assert_eq!((row.over_under_result.as_deref(), row.margin), (Some("UNDER"), Some(-4.5)));
    assert_eq!(row.ts_pct, Some(0.46));
}

#[test]
fn calculate_analytics_empty_registry_gives_no_record_and_one_skipped() {
    // §9.1 TestCalculateAnalytics: the one-record fixture with an empty id map → 0 records,
    // records_skipped = 1 (README §4 item 13: the line becomes a MISSING_DATA failure).
    let mut raw = one_line_inputs(case_a_lebron(), Some(24.5));
    raw.registry = Arc::default();
    let (date_inputs, results) = run_all(raw);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].as_ref().unwrap_err().category, FailureCategory::MissingData);
    assert_eq!(
        registry_counts(&date_inputs),
        RegistryCounts { players_found: 0, players_not_found: 1, records_skipped: 1 }
    );
}

#[test]
fn analytics_stats_of_reference_test_analytics_stats_and_b16_players_not_found() {
    // §9.1 TestAnalyticsStats: 3 records and 2 registry misses → registry_players_found 3,
    // registry_records_skipped 2 (records_processed is the framework's count of rows,
    // framework::progress::stats_line). B16: the backfill job read registry_players_not_found,
    // which the reference never wrote; here it is 2.
    use framework::Processor;
    let teammate = |player_lookup: &str, name: &str, team: &str| GamebookPlayerRow {
        points: Some(10),
        minutes: Some("20:00".into()),
        ..gamebook_row(player_lookup, name, team)
    };
    let mut raw = two_player_inputs();
    raw.gamebook_rows.push(teammate("anthonydavis", "Anthony Davis", "LAL"));
    raw.gamebook_rows.push(teammate("mysteryone", "Mystery One", "LAL"));
    raw.gamebook_rows.push(teammate("mysterytwo", "Mystery Two", "GSW"));
    raw.registry = registry_of(vec![
        registry_row("lebronjames", "LAL"),
        registry_row("stephcurry", "GSW"),
        registry_row("anthonydavis", "LAL"),
    ]);
    let (date_inputs, results) = run_all(raw);
    assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 3);
    let stats = crate::PlayerGameSummaryProcessor.stats(&date_inputs);
    let field = |name: &str| stats.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone());
    assert_eq!(field("registry_players_found"), Some(serde_json::json!(3)));
    assert_eq!(field("registry_records_skipped"), Some(serde_json::json!(2)));
    assert_eq!(field("registry_players_not_found"), Some(serde_json::json!(2)));
}

#[test]
fn full_etl_two_players_give_two_records_in_key_order() {
    let rows = rows_of(two_player_inputs());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].player_lookup, "lebronjames");
    assert_eq!((rows[0].over_under_result.as_deref(), rows[0].margin), (Some("OVER"), Some(0.5)));
    assert_eq!(rows[1].player_lookup, "stephcurry");
    let date_inputs = build_date_inputs(game_date(), two_player_inputs()).date_inputs;
    assert_eq!(
        registry_counts(&date_inputs),
        RegistryCounts { players_found: 2, players_not_found: 0, records_skipped: 0 }
    );
}

#[test]
fn full_etl_curry_with_25_points_is_under_by_3_5() {
    let mut raw = two_player_inputs();
    raw.gamebook_rows[1].points = Some(25);
    let rows = rows_of(raw);
    assert_eq!((rows[1].over_under_result.as_deref(), rows[1].margin), (Some("UNDER"), Some(-3.5)));
}

#[test]
fn full_etl_without_a_line_has_no_result_and_no_margin() {
    let row = only_row(one_line_inputs(case_a_lebron(), None));
    assert_eq!(
        (row.points_line, row.over_under_result, row.margin, row.points_line_source),
        (None, None, None, None)
    );
}

#[test]
fn empty_registry_drops_every_record_counts_and_records_them() {
    let mut raw = two_player_inputs();
    raw.registry = Arc::default();
    let (date_inputs, results) = run_all(raw);
    assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 0);
    let failure = results[0].clone().unwrap_err();
    assert_eq!(failure.entity_id, "20250115_LAL_GSW/lebronjames");
    assert_eq!(failure.category, FailureCategory::MissingData);
    assert_eq!(
        failure.reason,
        "no universal_player_id in nba_players_registry for season 2024-25 or earlier"
    );
    assert_eq!(
        registry_counts(&date_inputs),
        RegistryCounts { players_found: 0, players_not_found: 2, records_skipped: 2 }
    );
    let unresolved = unresolved_player_names(&date_inputs, &context());
    assert_eq!(unresolved.len(), 2);
    let lebron = &unresolved[0];
    assert_eq!(
        (lebron.source.as_str(), lebron.normalized_lookup.as_str()),
        ("player_game_summary", "lebronjames")
    );
    assert_eq!(lebron.original_name, "LeBron James");
    assert_eq!((lebron.team_abbr.as_deref(), lebron.season.as_deref()), (Some("LAL"), Some("2024-25")));
    assert_eq!(lebron.occurrences, 1);
    assert_eq!(lebron.example_games, Some(vec![GAME_ID.to_owned()]));
    assert_eq!((lebron.first_seen_date, lebron.status.as_str()), (game_date(), "pending"));
}

#[test]
fn source_tracking_fields_echo_the_run_level_usage() {
    // §9.1 TestSourceTrackingFields: nbac (ts, 200, 95.0), odds (ts, 120, 85.0), others None.
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.source_usage = SourceUsages {
        nbac: SourceUsage {
            last_updated: Some(hour(4)),
            rows_found: Some(200),
            completeness_pct: Some(95.0),
            hash: Some("a1".into()),
        },
        odds: SourceUsage {
            last_updated: Some(hour(5)),
            rows_found: Some(120),
            completeness_pct: Some(85.0),
            hash: None,
        },
        ..SourceUsages::default()
    };
    let row = only_row(raw);
    assert_eq!(row.source_nbac_last_updated, Some(hour(4)));
    assert_eq!((row.source_nbac_rows_found, row.source_nbac_completeness_pct), (Some(200), Some(95.0)));
    assert_eq!(row.source_nbac_hash.as_deref(), Some("a1"));
    assert_eq!((row.source_odds_rows_found, row.source_odds_completeness_pct), (Some(120), Some(85.0)));
    assert_eq!((row.source_bdl_last_updated, row.source_bdl_completeness_pct), (None, None));
    assert_eq!(
        (row.source_bbd_rows_found, row.source_nbac_pbp_hash, row.source_bp_rows_found),
        (None, None, None)
    );
}

// Beyond the reference: usage rate and win flag.

#[test]
fn usage_rate_example_of_reference_section_11_3() {
    // 100 · (20 + 0.44·4 + 3) · 48 / (36.5 · (88 + 0.44·22 + 14)) = 100·24.76·48 / (36.5·111.68) = 29.156
    let stats = StatLine {
        field_goals_attempted: Some(20),
        free_throws_attempted: Some(4),
        turnovers: Some(3),
        ..StatLine::default()
    };
    let team = TeamTotals {
        field_goals_attempted: Some(88),
        free_throws_attempted: Some(22),
        turnovers: Some(14),
        points: None,
    };
    assert_eq!(usage_rate(&stats, Some(36.5), &team), Some(29.2));
}

#[test]
fn usage_rate_is_null_when_an_input_is_missing_or_above_100() {
    let stats = StatLine {
        field_goals_attempted: Some(20),
        free_throws_attempted: Some(4),
        turnovers: Some(3),
        ..StatLine::default()
    };
    let team = TeamTotals {
        field_goals_attempted: Some(88),
        free_throws_attempted: Some(22),
        turnovers: Some(14),
        points: None,
    };
    assert_eq!(usage_rate(&stats, None, &team), None);
    assert_eq!(usage_rate(&stats, Some(0.0), &team), None);
    assert_eq!(usage_rate(&StatLine { turnovers: None, ..stats.clone() }, Some(36.5), &team), None);
    assert_eq!(
        usage_rate(&stats, Some(36.5), &TeamTotals { free_throws_attempted: None, ..team.clone() }),
        None
    );
    // 100·24.76·48 / (2 · 111.68) = 532.1 > 100
    assert_eq!(usage_rate(&stats, Some(2.0), &team), None);
    let zero_team = TeamTotals {
        field_goals_attempted: Some(0),
        free_throws_attempted: Some(0),
        turnovers: Some(0),
        points: None,
    };
    assert_eq!(usage_rate(&stats, Some(36.5), &zero_team), None);
}

#[test]
fn usage_rate_sums_team_totals_from_the_game_lines() {
    // LAL: LeBron 20/4/3 and a teammate 10/2/1 → team 30 FGA, 6 FTA, 4 TO.
    // 100 · (20 + 1.76 + 3) · 48 / (36.5 · (30 + 2.64 + 4)) = 118848 / 1337.36 = 88.867
    let teammate = GamebookPlayerRow {
        field_goals_attempted: Some(10),
        free_throws_attempted: Some(2),
        turnovers: Some(1),
        points: Some(6),
        minutes: Some("20:00".into()),
        ..gamebook_row("anthonydavis", "Anthony Davis", "LAL")
    };
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows.push(teammate);
    raw.registry = registry_of(vec![registry_row("lebronjames", "LAL"), registry_row("anthonydavis", "LAL")]);
    let rows = rows_of(raw);
    let lebron = rows.iter().find(|row| row.player_lookup == "lebronjames").unwrap();
    assert_eq!(lebron.usage_rate, Some(88.9));
}

fn schedule_row(game_status: i64, away_team_score: Option<i64>, home_team_score: Option<i64>) -> ScheduleRow {
    ScheduleRow {
        game_id: "0022400555".into(),
        game_date: game_date(),
        game_status: Some(game_status),
        home_team_tricode: "GSW".into(),
        away_team_tricode: "LAL".into(),
        home_team_score,
        away_team_score,
        processed_at: Some(hour(0)),
    }
}

#[test]
fn win_flag_comes_from_the_final_schedule_score() {
    let mut raw = two_player_inputs();
    raw.schedule_rows = vec![schedule_row(3, Some(118), Some(120))];
    let (date_inputs, _) = run_all(raw.clone());
    assert_eq!(date_inputs.games[GAME_ID].final_score.unwrap().source, ScoreSource::Schedule);
    let rows = rows_of(raw);
    assert_eq!((rows[0].win_flag, rows[1].win_flag), (Some(false), Some(true))); // LAL 118, GSW 120
}

#[test]
fn win_flag_falls_back_to_summed_team_points_without_a_final_schedule_score() {
    // Summed points: LAL 25 (LeBron) against GSW 30 (Curry).
    let mut raw = two_player_inputs();
    raw.schedule_rows = vec![schedule_row(2, Some(60), Some(50))];
    let (date_inputs, _) = run_all(raw.clone());
    assert_eq!(date_inputs.games[GAME_ID].final_score.unwrap().source, ScoreSource::SummedTeamPoints);
    let rows = rows_of(raw);
    assert_eq!((rows[0].win_flag, rows[1].win_flag), (Some(false), Some(true)));
    let mut one_team_only = two_player_inputs();
    one_team_only.gamebook_rows.truncate(1);
    assert_eq!(rows_of(one_team_only)[0].win_flag, None);
}

// Bad input: a clear outcome, never a crash, never a silent drop.

#[test]
fn malformed_minutes_give_null_minutes_and_a_flagged_row() {
    let row = only_row(one_line_inputs(
        GamebookPlayerRow { minutes: Some("36.5:00".into()), ..case_a_lebron() },
        None,
    ));
    assert_eq!(row.minutes_played, None);
    assert!(!row.starter_flag);
    assert_eq!(row.usage_rate, None);
    assert!(row.processed_with_issues);
    assert_eq!(row.quality_issues, vec!["malformed_minutes".to_owned()]);
    for blank in ["-", ""] {
        let row = only_row(one_line_inputs(
            GamebookPlayerRow { minutes: Some(blank.into()), ..case_a_lebron() },
            None,
        ));
        assert_eq!(row.minutes_played, None);
        assert!(!row.processed_with_issues, "{blank:?} is a DNP mark, not an error");
    }
}

#[test]
fn negative_or_absurd_stats_fail_the_entity() {
    let failure =
        only_failure(one_line_inputs(GamebookPlayerRow { points: Some(-5), ..case_a_lebron() }, None));
    assert_eq!(failure.category, FailureCategory::ProcessingError);
    assert_eq!(failure.reason, "negative points -5");
    assert!(!failure.can_retry);
    let failure = only_failure(one_line_inputs(
        GamebookPlayerRow { minutes: Some("480:00".into()), ..case_a_lebron() },
        None,
    ));
    assert_eq!(failure.reason, "minutes 480 exceed the plausible maximum of 70");
    let failure = only_failure(one_line_inputs(
        GamebookPlayerRow { field_goals_made: Some(25), ..case_a_lebron() },
        None,
    ));
    assert_eq!(failure.reason, "field_goals_made 25 > field_goals_attempted 20");
}

#[test]
fn a_row_whose_team_is_not_in_the_game_fails() {
    let stray = GamebookPlayerRow { team_abbr: Some("BOS".into()), ..case_a_lebron() };
    let failure = only_failure(one_line_inputs(stray, None));
    assert_eq!(failure.entity_id, "20250115_LAL_GSW/lebronjames");
    assert_eq!(failure.category, FailureCategory::ProcessingError);
    assert_eq!(failure.reason, "team BOS is not in game 20250115_LAL_GSW (LAL at GSW)");
    let no_team = GamebookPlayerRow { team_abbr: None, ..case_a_lebron() };
    assert_eq!(only_failure(one_line_inputs(no_team, None)).reason, "team_abbr is NULL");
}

#[test]
fn a_malformed_game_id_fails_each_of_its_lines() {
    let odd_game = GamebookPlayerRow { game_id: "0022400555".into(), ..case_a_lebron() };
    let failure = only_failure(one_line_inputs(odd_game, None));
    assert_eq!(failure.entity_id, "0022400555/lebronjames");
    assert_eq!(failure.reason, "game_id 0022400555 is not of the form YYYYMMDD_AWAY_HOME");
}

/// LeBron's inputs with `gamebook_rows` as his gamebook rows, which the date reports as one key
/// of two rows.
fn lebron_with_two_gamebook_rows(gamebook_rows: Vec<GamebookPlayerRow>) -> RawInputs {
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows = gamebook_rows;
    let assembled = build_date_inputs(game_date(), raw.clone());
    assert_eq!(
        assembled.duplicate_keys,
        vec![lebron_duplicate(&framework::schema::raw::NBAC_GAMEBOOK_PLAYER_STATS, 2)]
    );
    raw
}

/// LeBron's key reported as duplicated `rows` times in `table`.
fn lebron_duplicate(table: &'static framework::schema::Table, rows: usize) -> DuplicateKey {
    DuplicateKey { table, key: "20250115_LAL_GSW/lebronjames".into(), rows }
}

#[test]
fn a_player_listed_for_both_teams_at_one_processed_at_is_a_date_failure_not_an_entity() {
    // Both gamebook rows were processed at 03:00: no timestamp says which side he was on.
    let on_both_sides =
        vec![case_a_lebron(), GamebookPlayerRow { team_abbr: Some("GSW".into()), ..case_a_lebron() }];
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows = on_both_sides.clone();
    raw.bdl_rows.push(bdl_row("lebronjames", "LeBron James", "LAL"));
    let assembled = build_date_inputs(game_date(), raw.clone());
    assert!(assembled.duplicate_keys.is_empty(), "a rejected key is a failure, not a resolved duplicate");
    let (date_inputs, results) = run_all(raw);
    assert!(results.is_empty(), "no side wins and BDL does not paper over the contradiction");
    let failures = date_failures(&date_inputs);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].entity_id, "20250115_LAL_GSW/lebronjames");
    let reason = "player lebronjames is listed for more than one team in game 20250115_LAL_GSW: GSW, LAL";
    assert_eq!(failures[0].reason, reason);

    // The same tie among BDL rows (both processed at 02:00), with no gamebook row.
    let mut bdl_only = one_line_inputs(case_a_lebron(), None);
    bdl_only.gamebook_rows.clear();
    bdl_only.bdl_rows =
        vec![bdl_row("lebronjames", "LeBron James", "GSW"), bdl_row("lebronjames", "LeBron James", "LAL")];
    let (date_inputs, results) = run_all(bdl_only);
    assert!(results.is_empty());
    let failures = date_failures(&date_inputs);
    assert_eq!((failures.len(), failures[0].reason.as_str()), (1, reason));

    // A later row settles the tie: the LAL row processed at 09:00 is the key's latest.
    let mut settled = one_line_inputs(case_a_lebron(), None);
    settled.gamebook_rows = on_both_sides;
    settled.gamebook_rows.push(GamebookPlayerRow {
        points: Some(28),
        processed_at: Some(hour(9)),
        ..case_a_lebron()
    });
    let row = only_row_of_a_clean_date(settled);
    assert_eq!((row.team_abbr.as_str(), row.points), ("LAL", Some(28)));
}

#[test]
fn a_tie_of_two_teams_among_rows_that_are_not_active_rejects_nothing() {
    // Whichever of the 03:00 rows wins, LeBron has no active gamebook line: the BDL line is used.
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows = vec![
        GamebookPlayerRow { player_status: "inactive".into(), ..case_a_lebron() },
        GamebookPlayerRow { player_status: "dnp".into(), team_abbr: Some("GSW".into()), ..case_a_lebron() },
    ];
    raw.bdl_rows.push(BdlBoxscoreRow { points: Some(31), ..bdl_row("lebronjames", "LeBron James", "LAL") });
    let row = only_row_of_a_clean_date(raw);
    assert_eq!((row.primary_source_used.as_str(), row.points), ("bdl_boxscores", Some(31)));
}

#[test]
fn a_player_moved_to_the_other_team_by_a_later_row_keeps_the_later_line() {
    // README §4 item 9b: rows of one key for two teams are duplicates like any other; the GSW
    // row processed at 09:00 corrects the LAL row of 03:00, in either read order.
    let moved = GamebookPlayerRow {
        team_abbr: Some("GSW".into()),
        points: Some(27),
        processed_at: Some(hour(9)),
        ..case_a_lebron()
    };
    for gamebook_rows in [vec![case_a_lebron(), moved.clone()], vec![moved.clone(), case_a_lebron()]] {
        let raw = lebron_with_two_gamebook_rows(gamebook_rows);
        let row = only_row_of_a_clean_date(raw);
        assert_eq!((row.team_abbr.as_str(), row.opponent_team_abbr.as_str()), ("GSW", "LAL"));
        assert_eq!((row.primary_source_used.as_str(), row.points), ("nbac_gamebook", Some(27)));
    }

    // The same among BDL rows: the GSW row of 05:00 wins over the LAL row of 02:00.
    let mut bdl_only = one_line_inputs(case_a_lebron(), None);
    bdl_only.gamebook_rows.clear();
    bdl_only.bdl_rows = vec![
        BdlBoxscoreRow {
            points: Some(31),
            processed_at: Some(hour(5)),
            ..bdl_row("lebronjames", "LeBron James", "GSW")
        },
        bdl_row("lebronjames", "LeBron James", "LAL"),
    ];
    let assembled = build_date_inputs(game_date(), bdl_only.clone());
    assert_eq!(
        assembled.duplicate_keys,
        vec![lebron_duplicate(&framework::schema::raw::BDL_PLAYER_BOXSCORES, 2)]
    );
    let row = only_row_of_a_clean_date(bdl_only);
    assert_eq!((row.team_abbr.as_str(), row.points), ("GSW", Some(31)));
}

#[test]
fn a_latest_inactive_gamebook_row_outranks_an_earlier_active_one_so_the_bdl_line_is_used() {
    // README §4 item 9b, then item 10: the 12:00 re-processing marks LeBron inactive, so the
    // stale active row of 10:00 (20 points) is not his line; his BDL line (25 points) is. The
    // duplicates had been resolved among active rows only, and the stale row won.
    let stale_active =
        GamebookPlayerRow { points: Some(20), processed_at: Some(hour(10)), ..case_a_lebron() };
    let latest_inactive = GamebookPlayerRow {
        player_status: "inactive".into(),
        minutes: None,
        points: None,
        processed_at: Some(hour(12)),
        ..case_a_lebron()
    };
    let orders = [
        vec![stale_active.clone(), latest_inactive.clone()],
        vec![latest_inactive.clone(), stale_active.clone()],
    ];
    for gamebook_rows in orders {
        let mut raw = lebron_with_two_gamebook_rows(gamebook_rows);
        let (date_inputs, results) = run_all(raw.clone());
        assert!(results.is_empty(), "no active gamebook line and no BDL line: no entity");
        assert!(date_failures(&date_inputs).is_empty());

        raw.bdl_rows = vec![bdl_row("lebronjames", "LeBron James", "LAL")];
        let row = only_row(raw);
        assert_eq!((row.primary_source_used.as_str(), row.points), ("bdl_boxscores", Some(25)));
    }
}

#[test]
fn duplicate_raw_rows_keep_the_latest_processed_and_are_reported() {
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows.push(GamebookPlayerRow {
        points: Some(27),
        processed_at: Some(hour(8)),
        ..case_a_lebron()
    });
    raw.gamebook_rows.push(GamebookPlayerRow {
        points: Some(21),
        processed_at: Some(hour(1)),
        ..case_a_lebron()
    });
    let assembled = build_date_inputs(game_date(), raw.clone());
    assert_eq!(
        assembled.duplicate_keys,
        vec![DuplicateKey {
            table: &framework::schema::raw::NBAC_GAMEBOOK_PLAYER_STATS,
            key: "20250115_LAL_GSW/lebronjames".into(),
            rows: 3
        }]
    );
    assert_eq!(only_row(raw).points, Some(27));
}

#[test]
fn a_gamebook_row_without_player_lookup_is_a_date_failure() {
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows
        .push(GamebookPlayerRow { player_lookup: None, ..gamebook_row("x", "Mystery Man", "GSW") });
    let (date_inputs, results) = run_all(raw);
    assert_eq!(results.len(), 1);
    let failures = date_failures(&date_inputs);
    assert_eq!(failures[0].entity_id, "20250115_LAL_GSW/Mystery Man");
    assert_eq!(
        failures[0].reason,
        "gamebook row of \"Mystery Man\" in game 20250115_LAL_GSW has no player_lookup"
    );
}

#[test]
fn a_schedule_game_without_any_box_score_is_a_failure_of_that_game() {
    let mut raw = two_player_inputs();
    let other_game = |game_id: &str, status: i64| ScheduleRow {
        game_id: game_id.into(),
        away_team_tricode: "BOS".into(),
        home_team_tricode: "MIA".into(),
        ..schedule_row(status, Some(100), Some(99))
    };
    raw.schedule_rows = vec![schedule_row(3, Some(118), Some(120)), other_game("0022400556", 3)];
    let failures = date_failures(&build_date_inputs(game_date(), raw.clone()).date_inputs);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].entity_id, "20250115_BOS_MIA");
    assert_eq!(failures[0].category, FailureCategory::MissingData);
    assert_eq!(failures[0].reason, "schedule game 0022400556 (BOS at MIA) is final but has no box score");
    raw.schedule_rows = vec![other_game("0022400556", 1), other_game("0012400001", 3)];
    let failures = date_failures(&build_date_inputs(game_date(), raw).date_inputs);
    assert_eq!(failures.len(), 1, "a preseason game needs no box score");
    assert_eq!(failures[0].category, FailureCategory::UpstreamIncomplete);
}

// Port decisions.

#[test]
fn decision_10_player_level_merge_adds_bdl_players_missing_from_the_gamebook() {
    // The reference's game-level fallback dropped Anthony Davis: his game had gamebook rows.
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.bdl_rows = vec![
        BdlBoxscoreRow { points: Some(99), ..bdl_row("lebronjames", "LeBron James", "LAL") },
        BdlBoxscoreRow { points: Some(27), ..bdl_row("anthonydavis", "Anthony Davis", "LAL") },
    ];
    raw.registry = registry_of(vec![registry_row("lebronjames", "LAL"), registry_row("anthonydavis", "LAL")]);
    let rows = rows_of(raw);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].player_lookup.as_str(), rows[0].primary_source_used.as_str()),
        ("anthonydavis", "bdl_boxscores")
    );
    assert_eq!(rows[0].points, Some(27));
    assert_eq!(
        (rows[1].player_lookup.as_str(), rows[1].primary_source_used.as_str()),
        ("lebronjames", "nbac_gamebook")
    );
    assert_eq!(rows[1].points, Some(25));
}

#[test]
fn decision_12_latest_draftkings_snapshot_is_the_line_fixing_reference_b8() {
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.prop_rows = vec![
        PlayerPropRow { snapshot_timestamp: hour(1), ..prop("lebronjames", "draftkings", 23.5) },
        PlayerPropRow { snapshot_timestamp: hour(6), ..prop("lebronjames", "draftkings", 25.5) },
        PlayerPropRow { snapshot_timestamp: hour(9), ..prop("lebronjames", "betmgm", 24.5) },
    ];
    let row = only_row(raw);
    assert_eq!((row.points_line, row.points_line_source.as_deref()), (Some(25.5), Some("draftkings")));
    assert_eq!((row.over_under_result.as_deref(), row.margin), (Some("UNDER"), Some(-0.5)));
}

// Reference defects fixed by README §4 (reference-pgs.md §10).

#[test]
fn mm_ss_minutes_are_kept_fixing_reference_b1() {
    // B1: the batch's numeric cleaning turned every "MM:SS" into NULL (and starter_flag false).
    // Per-row parsing (README §4 item 11): 36:30 = 36 + 30/60 = 36.5 → 36 (half-even), 36.5 > 20
    // → starter; 14:21 = 14 + 21/60 = 14.35 → 14, not a starter. A BDL row in the same date
    // (decimal "36") does not disturb them.
    let bench = GamebookPlayerRow {
        minutes: Some("14:21".into()),
        ..gamebook_row("anthonydavis", "Anthony Davis", "LAL")
    };
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows.push(bench);
    raw.bdl_rows = vec![bdl_row("stephcurry", "Stephen Curry", "GSW")];
    raw.registry = registry_of(vec![
        registry_row("lebronjames", "LAL"),
        registry_row("anthonydavis", "LAL"),
        registry_row("stephcurry", "GSW"),
    ]);
    let rows = rows_of(raw);
    let minutes: Vec<(&str, Option<f64>, bool)> =
        rows.iter().map(|row| (row.player_lookup.as_str(), row.minutes_played, row.starter_flag)).collect();
    assert_eq!(
        minutes,
        vec![
            ("anthonydavis", Some(14.0), false),
            ("lebronjames", Some(36.0), true),
            ("stephcurry", Some(36.0), true),
        ]
    );
}

#[test]
fn plus_minus_of_a_mixed_batch_and_a_real_zero_fixing_reference_b2() {
    // B2a: any NULL plus/minus in the batch (every BDL row) made the column float and every
    // value NULL; B2b: a real 0 became NULL. Per row (README §4 item 11): LeBron +7 stays 7,
    // Davis 0 stays 0, and Curry's BDL row has no plus/minus (README §4 item 11b).
    let level = GamebookPlayerRow {
        plus_minus: Some(0),
        minutes: Some("20:00".into()),
        ..gamebook_row("anthonydavis", "Anthony Davis", "LAL")
    };
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.gamebook_rows.push(level);
    raw.bdl_rows = vec![bdl_row("stephcurry", "Stephen Curry", "GSW")];
    raw.registry = registry_of(vec![
        registry_row("lebronjames", "LAL"),
        registry_row("anthonydavis", "LAL"),
        registry_row("stephcurry", "GSW"),
    ]);
    let plus_minus: Vec<(String, Option<i64>)> =
        rows_of(raw).into_iter().map(|row| (row.player_lookup, row.plus_minus)).collect();
    assert_eq!(
        plus_minus,
        vec![("anthonydavis".into(), Some(0)), ("lebronjames".into(), Some(7)), ("stephcurry".into(), None)]
    );
}

#[test]
fn decision_11_zero_efficiency_stays_zero_and_null_inputs_give_null_fixing_reference_b3() {
    // B3: TS/eFG of exactly 0 became NULL, and NULL/NaN inputs could give NaN (invalid JSON).
    // 0 points on 5 FGA: eFG (0 + 0.5·0)/5 = 0.0, TS 0/(2·(5 + 0)) = 0.0 (README §4 item 11).
    let cold = GamebookPlayerRow {
        points: Some(0),
        field_goals_made: Some(0),
        field_goals_attempted: Some(5),
        three_pointers_made: Some(0),
        three_pointers_attempted: Some(2),
        free_throws_made: Some(0),
        free_throws_attempted: Some(0),
        ..case_a_lebron()
    };
    let row = only_row(one_line_inputs(cold, None));
    assert_eq!((row.efg_pct, row.ts_pct), (Some(0.0), Some(0.0)));
    // NULL 3PM (README §4 item 9: missing): eFG NULL, TS 25/43.52 = 0.57445 → 0.574 still known.
    let no_threes = GamebookPlayerRow { three_pointers_made: None, ..case_a_lebron() };
    let row = only_row(one_line_inputs(no_threes, None));
    assert_eq!((row.efg_pct, row.ts_pct), (None, Some(0.574)));
    // NULL points: TS NULL, eFG 11/20 = 0.55 still known.
    let no_points = GamebookPlayerRow { points: None, ..case_a_lebron() };
    let row = only_row(one_line_inputs(no_points, None));
    assert_eq!((row.efg_pct, row.ts_pct), (Some(0.55), None));
}

#[test]
fn bdl_fallback_keeps_gamebook_missing_players_with_their_attempts_fixing_reference_b9() {
    // B9: BDL attempts, rebound split and the gamebook-missing players of a gamebook game were
    // lost. README §4 items 10 and 11b: Davis (BDL only, in LeBron's gamebook game) gets a row
    // with BDL's own attempts: eFG (10 + 0.5·2)/20 = 0.55, TS 27/(2·(20 + 0.44·4)) = 27/43.52
    // = 0.62040 → 0.62; rebounds 1/7; no plus/minus in BDL.
    let mut raw = one_line_inputs(case_a_lebron(), None);
    raw.bdl_rows =
        vec![BdlBoxscoreRow { points: Some(27), ..bdl_row("anthonydavis", "Anthony Davis", "LAL") }];
    raw.registry = registry_of(vec![registry_row("lebronjames", "LAL"), registry_row("anthonydavis", "LAL")]);
    let rows = rows_of(raw);
    assert_eq!(rows.len(), 2);
    let davis = &rows[0];
    assert_eq!(
        (davis.player_lookup.as_str(), davis.primary_source_used.as_str()),
        ("anthonydavis", "bdl_boxscores")
    );
    assert_eq!((davis.fg_attempts, davis.three_pt_attempts, davis.ft_attempts), (Some(20), Some(6), Some(4)));
    assert_eq!((davis.offensive_rebounds, davis.defensive_rebounds), (Some(1), Some(7)));
    assert_eq!((davis.efg_pct, davis.ts_pct), (Some(0.55), Some(0.62)));
    assert_eq!(davis.plus_minus, None);
    assert_eq!(rows[1].primary_source_used, "nbac_gamebook");
}

#[test]
fn card_true_shooting_example_is_0_678_not_0_609_reference_d2() {
    // §10 D2: "28 pts on 18 FGA + 6 FTA": 28 / (2·(18 + 0.44·6)) = 28 / 41.28 = 0.67829 → 0.678.
    assert_eq!(true_shooting_pct(Some(28), Some(18), Some(6)), Some(0.678));
}

#[test]
fn entities_and_rows_are_in_key_order_whatever_the_read_order() {
    let mut reversed = two_player_inputs();
    reversed.gamebook_rows.reverse();
    reversed.prop_rows.reverse();
    let (date_inputs, _) = run_all(reversed.clone());
    let keys = entities(&date_inputs);
    let players: Vec<(&str, &str)> =
        keys.iter().map(|key| (key.game_id.as_str(), key.player_lookup.as_str())).collect();
    assert_eq!(players, vec![(GAME_ID, "lebronjames"), (GAME_ID, "stephcurry")]);
    assert_eq!(rows_of(reversed), rows_of(two_player_inputs()));
}

// Real box scores of 2024-01-15 (shared/data/real), BDL only: every row is silver.

const REAL_BOX_SCORES: &str =
    include_str!("../../../../shared/data/real/2024-01-15/bdl_box_scores_2024-01-15.json");

fn real_date_inputs() -> DateInputs {
    let bdl_rows = bdl_rows_from_api_json(REAL_BOX_SCORES).unwrap();
    let registry = registry_of(
        bdl_rows
            .iter()
            .map(|row| RegistryRow {
                player_lookup: row.player_lookup.clone(),
                universal_player_id: Some(format!("{}_001", row.player_lookup)),
                team_abbr: row.team_abbr.clone(),
                season: "2023-24".into(),
                processed_at: None,
            })
            .collect(),
    );
    let date = NaiveDate::from_ymd_opt(2024, 1, 15).unwrap();
    build_date_inputs(date, RawInputs { bdl_rows, registry, ..RawInputs::default() }).date_inputs
}

fn real_rows() -> Vec<PlayerGameSummaryRow> {
    let date_inputs = real_date_inputs();
    assert!(date_failures(&date_inputs).is_empty());
    let context = RunContext { date: date_inputs.date, ..context() };
    entities(&date_inputs)
        .iter()
        .map(|entity| process_entity(entity, &date_inputs, &context).unwrap())
        .collect()
}

fn real_player<'a>(rows: &'a [PlayerGameSummaryRow], player_lookup: &str) -> &'a PlayerGameSummaryRow {
    rows.iter().find(|row| row.player_lookup == player_lookup).unwrap()
}

#[test]
fn real_2024_01_15_notes_say_what_was_extracted_and_resolved() {
    // reference-pgs.md §9 TestDataExtraction: an INFO line with "Extracted" and "Source
    // distribution"; every one of the 384 players has a registry row of the 2023-24 season.
    assert_eq!(
        crate::notes::date_notes(&real_date_inputs()),
        vec![
            "✅ Extracted 384 player-game records",
            "Source distribution: {'bdl_boxscores': 384}",
            "Looking up universal player IDs...",
            "Registry context: 2023-24",
            "Batch lookup for 384 players",
            "Registry: 384 found, 0 not found",
        ]
    );
}

#[test]
fn real_2024_01_15_every_line_becomes_a_row() {
    let rows = real_rows();
    assert_eq!(rows.len(), 384);
    assert!(rows.iter().all(|row| row.quality_tier == "silver" && row.season_year == 2023));
}

#[test]
fn real_2024_01_15_lebron_james() {
    // LAL 112 – OKC 105. LeBron: 25 pts, 12/20 FG, 1/2 3P, 0/1 FT, 5 TO, 39 min.
    // LAL totals: 84 FGA, 18 FTA, 17 TO.
    let rows = real_rows();
    let lebron = real_player(&rows, "lebronjames");
    assert_eq!(lebron.game_id, "20240115_OKC_LAL");
    assert_eq!((lebron.team_abbr.as_str(), lebron.opponent_team_abbr.as_str()), ("LAL", "OKC"));
    assert_eq!(lebron.minutes_played, Some(39.0));
    assert_eq!(lebron.efg_pct, Some(0.625)); // (12 + 0.5) / 20
    assert_eq!(lebron.ts_pct, Some(0.612)); // 25 / (2 · 20.44) = 0.61155
    assert_eq!(lebron.usage_rate, Some(28.7)); // 100·25.44·48 / (39·108.92) = 28.747
    assert_eq!(lebron.win_flag, Some(true));
    assert!(lebron.starter_flag);
    assert_eq!(lebron.universal_player_id.as_deref(), Some("lebronjames_001"));
}

#[test]
fn real_2024_01_15_joel_embiid() {
    // PHI 124 – HOU 115. Embiid: 41 pts, 12/21 FG, 1/5 3P, 16/17 FT, 2 TO, 31 min.
    // PHI totals: 83 FGA, 34 FTA, 10 TO.
    let rows = real_rows();
    let embiid = real_player(&rows, "joelembiid");
    assert_eq!(embiid.efg_pct, Some(0.595)); // 12.5 / 21 = 0.59524
    assert_eq!(embiid.ts_pct, Some(0.72)); // 41 / (2 · 28.48) = 0.71980
    assert_eq!(embiid.usage_rate, Some(43.7)); // 100·30.48·48 / (31·107.96) = 43.715
    assert_eq!((embiid.offensive_rebounds, embiid.defensive_rebounds), (Some(2), Some(8)));
    assert_eq!(embiid.win_flag, Some(true));
}

#[test]
fn real_2024_01_15_shai_gilgeous_alexander_and_a_did_not_play_line() {
    // OKC lost. SGA: 24 pts, 9/19 FG, 1/6 3P, 5/5 FT, 3 TO, 34 min; OKC: 96 FGA, 11 FTA, 11 TO.
    let rows = real_rows();
    let shai = real_player(&rows, "shaigilgeousalexander");
    assert_eq!((shai.efg_pct, shai.ts_pct), (Some(0.5), Some(0.566))); // 9.5/19; 24/42.4 = 0.56604
    assert_eq!(shai.usage_rate, Some(30.5)); // 100·24.2·48 / (34·111.84) = 30.548
    assert_eq!(shai.win_flag, Some(false));
    // BDL lists players who did not play with "00" minutes: NULL minutes, no usage, not a starter.
    let idle = rows.iter().find(|row| row.team_abbr == "OKC" && row.minutes_played.is_none()).unwrap();
    assert_eq!((idle.usage_rate, idle.starter_flag), (None, false));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the stats and minutes text, a line gives a row or a failure, never a panic,
        /// and a row's efficiency values are finite and within their possible ranges.
        #[test]
        fn any_line_gives_a_row_or_a_failure(
            stats in proptest::collection::vec(proptest::option::of(-5i64..140), 15),
            minutes in proptest::option::of("[0-9:.+ -]{0,7}"),
        ) {
            let row = GamebookPlayerRow {
                points: stats[0], field_goals_made: stats[1], field_goals_attempted: stats[2],
                three_pointers_made: stats[3], three_pointers_attempted: stats[4],
                free_throws_made: stats[5], free_throws_attempted: stats[6],
                offensive_rebounds: stats[7], defensive_rebounds: stats[8], assists: stats[9],
                steals: stats[10], blocks: stats[11], turnovers: stats[12], personal_fouls: stats[13],
                plus_minus: stats[14], minutes,
                ..gamebook_row("lebronjames", "LeBron James", "LAL")
            };
            let (_, results) = run_all(one_line_inputs(row, Some(20.5)));
            prop_assert_eq!(results.len(), 1);
            if let Ok(row) = &results[0] {
                prop_assert!(row.efg_pct.is_none_or(|efg| (0.0..=1.5).contains(&efg)));
                prop_assert!(row.ts_pct.is_none_or(|ts| ts.is_finite() && ts >= 0.0));
                prop_assert!(row.usage_rate.is_none_or(|usage| (0.0..=100.0).contains(&usage)));
                prop_assert!(row.minutes_played.is_none_or(|minutes| (0.0..=70.0).contains(&minutes)));
            }
        }

        /// reference-pgs.md §9.3 test_validation, the checks on one row: every consistent line
        /// gives a row; makes ≤ attempts, 3PM ≤ FGM, the points identity, no negative counts;
        /// |ts − PTS/(2(FGA + 0.44·FTA))| ≤ 0.001; |efg − (FGM + 0.5·3PM)/FGA| ≤ 0.001; OVER iff
        /// points ≥ line; |margin − (points − line)| ≤ 0.01; team ≠ opponent; an id is present.
        /// Minutes stay within this port's 0–70 (the production check said 0–60; a 4-OT game
        /// lasts 68, validation::MAXIMUM_MINUTES).
        /// Lines stay under the 100-point plausibility cap: at most 15 threes and 15 twos
        /// (75) plus 20 free throws.
        #[test]
        fn reference_test_validation_business_rules_hold_for_every_row(
            field_goals_attempted in 0i64..=30,
            shares in (0i64..=100, 0i64..=50, 0i64..=100, 0i64..=100),
            free_throws_attempted in 0i64..=20,
            clock in (0i64..=69, 0i64..=59),
            half_points_line in 1i64..=121,
        ) {
            let (make_share, three_share, three_make_share, free_throw_share) = shares;
            let field_goals_made = field_goals_attempted * make_share / 100;
            let three_pointers_attempted = field_goals_attempted * three_share / 100;
            let three_pointers_made = three_pointers_attempted.min(field_goals_made) * three_make_share / 100;
            let free_throws_made = free_throws_attempted * free_throw_share / 100;
            let points = 2 * (field_goals_made - three_pointers_made) + 3 * three_pointers_made + free_throws_made;
            let points_line = half_points_line as f64 / 2.0;
            let line = GamebookPlayerRow {
                points: Some(points),
                field_goals_made: Some(field_goals_made),
                field_goals_attempted: Some(field_goals_attempted),
                three_pointers_made: Some(three_pointers_made),
                three_pointers_attempted: Some(three_pointers_attempted),
                free_throws_made: Some(free_throws_made),
                free_throws_attempted: Some(free_throws_attempted),
                assists: Some(3),
                steals: Some(1),
                blocks: Some(0),
                minutes: Some(format!("{}:{:02}", clock.0, clock.1)),
                ..gamebook_row("lebronjames", "LeBron James", "LAL")
            };
            let row = only_row(one_line_inputs(line, Some(points_line)));
            let known = |value: Option<i64>| value.expect("known in this line");
            let (fga, fgm) = (known(row.fg_attempts), known(row.fg_makes));
            let (tpa, tpm) = (known(row.three_pt_attempts), known(row.three_pt_makes));
            let (fta, ftm) = (known(row.ft_attempts), known(row.ft_makes));
            let written_points = known(row.points);
            prop_assert!(fgm <= fga && tpm <= tpa && ftm <= fta && tpm <= fgm);
            prop_assert!((written_points - (2 * (fgm - tpm) + 3 * tpm + ftm)).abs() <= 1);
            prop_assert!([row.points, row.assists, row.steals, row.blocks].iter().all(|value| known(*value) >= 0));
            prop_assert!(row.minutes_played.is_none_or(|minutes| (0.0..=70.0).contains(&minutes)));
            if fga > 0 {
                let true_shooting = written_points as f64 / (2.0 * (fga as f64 + 0.44 * fta as f64));
                let effective = (fgm as f64 + 0.5 * tpm as f64) / fga as f64;
                prop_assert!((row.ts_pct.expect("FGA > 0") - true_shooting).abs() <= 0.001);
                prop_assert!((row.efg_pct.expect("FGA > 0") - effective).abs() <= 0.001);
            } else {
                prop_assert_eq!((row.ts_pct, row.efg_pct), (None, None));
            }
            let over = written_points as f64 >= points_line;
            prop_assert_eq!(row.over_under_result.as_deref(), Some(if over { "OVER" } else { "UNDER" }));
            prop_assert!((row.margin.expect("line known") - (written_points as f64 - points_line)).abs() <= 0.01);
            prop_assert_ne!(&row.team_abbr, &row.opponent_team_abbr);
            prop_assert!(row.universal_player_id.is_some());
        }
    }
}
