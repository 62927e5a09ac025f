//! Throughput of `process_entity` over a realistic synthetic date: 15 games of 30 gamebook lines
//! (450 player-games), every player with a registry id and two bookmakers' lines, and run-level
//! source usage on every row. README §6 asks ≥ 1,000,000 records/s per core.

use std::hint::black_box;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use framework::{RunContext, SourceUsage};
use player_game_summary::compute::{entities, process_entity};
use player_game_summary::inputs::{
    DateInputs, GamebookPlayerRow, PlayerPropRow, RawInputs, RegistryRow, SourceUsages, build_date_inputs,
};
use player_game_summary::registry::index_registry;

const TEAMS: [&str; 30] = [
    "ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW", "HOU", "IND", "LAC", "LAL", "MEM",
    "MIA", "MIL", "MIN", "NOP", "NYK", "OKC", "ORL", "PHI", "PHX", "POR", "SAC", "SAS", "TOR", "UTA", "WAS",
];
const PLAYERS_PER_TEAM: usize = 15;

fn synthetic_date() -> (DateInputs, RunContext) {
    let date = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
    let processed_at = Utc.with_ymd_and_hms(2025, 1, 16, 6, 0, 0).unwrap();
    let mut raw = RawInputs::default();
    let mut registry_rows = Vec::new();
    for (game_number, pair) in TEAMS.chunks(2).enumerate() {
        let game_id = format!("20250115_{}_{}", pair[0], pair[1]);
        for (side, team) in pair.iter().enumerate() {
            for slot in 0..PLAYERS_PER_TEAM {
                let lookup = format!("player{game_number}x{side}x{slot}");
                let seed = (game_number * 31 + side * 17 + slot * 7) as i64;
                raw.gamebook_rows.push(gamebook_line(&game_id, date, &lookup, team, seed));
                registry_rows.push(RegistryRow {
                    player_lookup: lookup.clone(),
                    universal_player_id: Some(format!("{lookup}_001")),
                    team_abbr: (*team).to_owned(),
                    season: "2024-25".into(),
                    processed_at: Some(processed_at),
                });
                for (bookmaker, offset) in [("draftkings", 0.5), ("fanduel", 1.0)] {
                    raw.prop_rows.push(PlayerPropRow {
                        game_id: game_id.clone(),
                        game_date: date,
                        bookmaker: bookmaker.into(),
                        player_lookup: Some(lookup.clone()),
                        points_line: (seed % 30) as f64 + offset,
                        snapshot_timestamp: processed_at,
                        processed_at: Some(processed_at),
                    });
                }
            }
        }
    }
    raw.registry = Arc::new(index_registry(registry_rows).0);
    let usage = SourceUsage::found(450, 200, Some(processed_at), Some("0123456789abcdef".into()));
    raw.source_usage =
        SourceUsages { nbac: usage.clone(), bdl: usage.clone(), odds: usage, ..SourceUsages::default() };
    let context = RunContext { date, run_id: "bench001".into(), backfill: true, processed_at };
    (build_date_inputs(date, raw).date_inputs, context)
}

fn gamebook_line(game_id: &str, date: NaiveDate, lookup: &str, team: &str, seed: i64) -> GamebookPlayerRow {
    let attempts = 4 + seed % 16;
    let makes = attempts / 2;
    let threes = makes / 3;
    GamebookPlayerRow {
        game_id: game_id.to_owned(),
        game_date: date,
        season_year: 2024,
        player_name: Some(format!("Player {lookup}")),
        player_lookup: Some(lookup.to_owned()),
        team_abbr: Some(team.to_owned()),
        player_status: "active".into(),
        minutes: Some(format!("{}:{:02}", 8 + seed % 30, seed % 60)),
        points: Some(2 * makes + threes + seed % 5),
        field_goals_made: Some(makes),
        field_goals_attempted: Some(attempts),
        three_pointers_made: Some(threes),
        three_pointers_attempted: Some(threes + 2),
        free_throws_made: Some(seed % 5),
        free_throws_attempted: Some(seed % 5 + 1),
        offensive_rebounds: Some(seed % 3),
        defensive_rebounds: Some(seed % 7),
        assists: Some(seed % 9),
        steals: Some(seed % 2),
        blocks: Some(seed % 2),
        turnovers: Some(seed % 4),
        personal_fouls: Some(seed % 5),
        plus_minus: Some(seed % 21 - 10),
        processed_at: None,
    }
}

fn bench_process_entity(criterion: &mut Criterion) {
    let (date_inputs, context) = synthetic_date();
    let keys = entities(&date_inputs);
    assert_eq!(keys.len(), 450);
    let mut group = criterion.benchmark_group("player_game_summary");
    group.throughput(Throughput::Elements(keys.len() as u64));
    group.bench_function("process_entity_450_records", |bencher| {
        bencher.iter(|| {
            for key in &keys {
                let row = process_entity(key, &date_inputs, &context).expect("synthetic lines are valid");
                black_box(row);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_process_entity);
criterion_main!(benches);
