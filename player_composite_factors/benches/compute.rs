//! Throughput of the pure per-player computation over a realistic synthetic date: 450 players
//! of 30 teams, most with a shot-zone row, every opponent with a defence row, completeness
//! history of 20 games each (README §6: PCF ≥ 1,000,000 players/s per core).

use std::hint::black_box;

use chrono::{Datelike as _, NaiveDate, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use framework::dispatch::in_batches;
use framework::{RunContext, SourceUsage};
use player_composite_factors::games_history::{GamesHistory, PlayerGameAppearanceRow, ScheduleGameRow};
use player_composite_factors::inputs::{
    DateInputs, DateRows, PlayerShotZoneAnalysisRow, SourceTracking, TeamDefenseZoneAnalysisRow,
    UpcomingPlayerGameContextRow, UpcomingTeamGameContextRow,
};
use player_composite_factors::{entities, process_players};

const PLAYERS: usize = 450;
const TEAMS: usize = 30;
const ZONES: [&str; 4] = ["paint", "mid_range", "perimeter", "balanced"];

fn analysis_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 15).expect("valid date")
}

fn team(index: usize) -> String {
    format!("T{:02}", index % TEAMS)
}

/// A value in [low, high) that varies with `seed`, with one decimal like the NUMERIC columns.
fn spread(seed: usize, low: f64, high: f64) -> f64 {
    spread_to(seed, low, high, 10.0)
}

/// Like [`spread`] with two decimals, as rates and percentages are written upstream (`24.26`):
/// differences of two such values are rarely short decimals (`1.4400000000000013`), so the
/// context JSON prints them with all their digits, as it does for real dates.
fn spread_2(seed: usize, low: f64, high: f64) -> f64 {
    spread_to(seed, low, high, 100.0)
}

fn spread_to(seed: usize, low: f64, high: f64, scale: f64) -> f64 {
    let unit = ((seed * 7919 + 104_729) % 1000) as f64 / 1000.0;
    ((low + unit * (high - low)) * scale).round() / scale
}

fn player_context(index: usize) -> UpcomingPlayerGameContextRow {
    UpcomingPlayerGameContextRow {
        player_lookup: format!("player{index:03}").into(),
        universal_player_id: Some(format!("player{index:03}_001").into()),
        game_id: Some(format!("20250115_{}_{}", team(index), team(index + 1)).into()),
        game_date: analysis_date(),
        opponent_team_abbr: Some(team(index + 1)),
        days_rest: Some((index % 4) as i64),
        back_to_back: Some(index.is_multiple_of(9)),
        games_in_last_7_days: Some((index % 5) as i64),
        minutes_in_last_7_days: Some(spread(index, 40.0, 260.0).round()),
        avg_minutes_per_game_last_7: Some(spread(index + 1, 10.0, 38.0)),
        back_to_backs_last_14_days: Some((index % 3) as i64),
        player_age: Some(20 + (index % 18) as i64),
        projected_usage_rate: (!index.is_multiple_of(3)).then(|| spread_2(index + 2, 12.0, 35.0)),
        avg_usage_rate_last_7_games: Some(spread_2(index + 3, 12.0, 35.0)),
        star_teammates_out: Some((index % 3) as i64),
        pace_differential: index.is_multiple_of(2).then(|| spread(index + 4, -6.0, 6.0)),
        opponent_pace_last_10: Some(spread(index + 5, 95.0, 105.0)),
        is_production_ready: Some(true),
        processed_at: Some(Utc.with_ymd_and_hms(2025, 1, 15, 8, 0, 0).unwrap()),
    }
}

fn shot_zone(index: usize) -> PlayerShotZoneAnalysisRow {
    PlayerShotZoneAnalysisRow {
        player_lookup: format!("player{index:03}"),
        analysis_date: analysis_date(),
        primary_scoring_zone: Some(ZONES[index % ZONES.len()].to_owned()),
        paint_rate_last_10: Some(spread_2(index, 10.0, 70.0)),
        mid_range_rate_last_10: Some(spread_2(index + 1, 5.0, 40.0)),
        three_pt_rate_last_10: Some(spread_2(index + 2, 10.0, 60.0)),
        is_production_ready: Some(true),
        ..Default::default()
    }
}

fn defense_zone(index: usize) -> TeamDefenseZoneAnalysisRow {
    TeamDefenseZoneAnalysisRow {
        team_abbr: team(index),
        analysis_date: analysis_date(),
        paint_defense_vs_league_avg: Some(spread_2(index, -6.0, 6.0)),
        mid_range_defense_vs_league_avg: Some(spread_2(index + 1, -6.0, 6.0)),
        three_pt_defense_vs_league_avg: Some(spread_2(index + 2, -6.0, 6.0)),
        weakest_zone: Some(ZONES[index % 3].to_owned()),
        is_production_ready: Some(true),
        ..Default::default()
    }
}

fn games_history() -> GamesHistory {
    let first_game = NaiveDate::from_ymd_opt(2024, 12, 20).expect("valid date");
    let days = || (0..20u64).map(move |day| first_game + chrono::Days::new(day));
    let schedule: Vec<ScheduleGameRow> = (0..TEAMS / 2)
        .flat_map(|pair| {
            days().map(move |game_date| ScheduleGameRow {
                game_id: format!("{game_date}_{pair}"),
                game_date,
                home_team_tricode: team(2 * pair),
                away_team_tricode: team(2 * pair + 1),
                game_status: Some(3),
            })
        })
        .collect();
    let appearances: Vec<PlayerGameAppearanceRow> = (0..PLAYERS)
        .flat_map(|index| {
            days().filter(move |game_date| !(game_date.ordinal() as usize + index).is_multiple_of(7)).map(
                move |game_date| PlayerGameAppearanceRow {
                    player_lookup: format!("player{index:03}").into(),
                    game_date,
                    team_abbr: team(index).into(),
                },
            )
        })
        .collect();
    GamesHistory::build(appearances, &schedule)
}

fn synthetic_date() -> DateInputs {
    let rows = DateRows {
        player_contexts: (0..PLAYERS).map(player_context).collect(),
        team_contexts: (0..TEAMS)
            .map(|index| UpcomingTeamGameContextRow {
                team_abbr: team(index),
                game_date: analysis_date(),
                is_production_ready: Some(true),
                ..Default::default()
            })
            .collect(),
        player_shot_zones: (0..PLAYERS).filter(|index| index % 10 != 0).map(shot_zone).collect(),
        team_defense_zones: (0..TEAMS).map(defense_zone).collect(),
        reprocess_attempts: Vec::new(),
    };
    // UPGC and UTGC have no `data_hash` column; the zone tables' newest hash is tracked.
    let updated = Some(Utc.with_ymd_and_hms(2025, 1, 15, 8, 0, 0).unwrap());
    let usage =
        |rows, hash: Option<&str>| SourceUsage::found(rows, 100, updated, hash.map(framework::SmolStr::new));
    let sources = SourceTracking {
        player_context: usage(450, None),
        team_context: usage(30, None),
        player_shot: usage(405, Some("5f0c2a9e41d7b3c8")),
        team_defense: usage(30, Some("c81e728d9d4c2f63")),
    };
    let season_start = NaiveDate::from_ymd_opt(2024, 10, 22).expect("valid date");
    DateInputs::build(analysis_date(), season_start, rows, &games_history(), sources).0
}

fn process_a_date(criterion: &mut Criterion) {
    let date_inputs = synthetic_date();
    let players = entities(&date_inputs);
    let context = RunContext {
        date: analysis_date(),
        run_id: "bench".into(),
        backfill: false,
        processed_at: Utc.with_ymd_and_hms(2025, 1, 15, 9, 0, 0).unwrap(),
    };
    let mut group = criterion.benchmark_group("player_composite_factors");
    group.throughput(Throughput::Elements(players.len() as u64));
    // In the dispatcher's batches, whose rows are hashed together.
    group.bench_function("process_players_450_players", |bencher| {
        bencher.iter(|| {
            black_box(in_batches(&players, |batch, outcomes| {
                process_players(black_box(batch), &date_inputs, &context, outcomes)
            }));
        })
    });
    group.finish();
}

criterion_group!(benches, process_a_date);
criterion_main!(benches);
