//! Throughput of the pure per-player computation over a realistic synthetic date: 450 players
//! on 30 teams, each with a season and a half of game history, every Phase 4 source present.
//! README §6 asks for at least 200,000 players/s per core.
//!
//! Also the history build of such a chunk (`History::build`: grouping, sorting and
//! deduplicating 54,000 player games), which runs once per chunk between its reads and its
//! first player, on one core.

use std::hint::black_box;
use std::sync::Arc;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use framework::RunContext;
use framework::dispatch::in_batches;
use ml_feature_store::inputs::{
    DateRows, History, HistoryRows, NbacScheduleRow, PlayerCompositeFactorsRow, PlayerDailyCacheRow,
    PlayerGameSummaryRow, PlayerShotZoneAnalysisRow, TeamDefenseZoneAnalysisRow, TeamOffenseGameSummaryRow,
    UpcomingPlayerGameContextRow, season_year_of,
};
use ml_feature_store::{DateInputs, entities, process_entity, process_players};

const PLAYERS: usize = 450;
const TEAMS: usize = 30;
const HISTORY_GAMES: u64 = 120;

fn game_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 15).expect("a valid date")
}

fn team_abbr(team: usize) -> String {
    format!("T{team:02}")
}

/// A small deterministic number generator, so the inputs vary without a `rand` dependency.
fn varied(seed: usize, modulus: usize) -> usize {
    seed.wrapping_mul(2_654_435_761) % modulus
}

/// The texts of the history's player games, which a read's rows borrow from its result as
/// these borrow from here.
struct HistoryTexts {
    player_lookups: Vec<String>,
    team_abbrs: Vec<String>,
    /// Per game (1-based, back from the game date) and team.
    game_ids: Vec<Vec<String>>,
}

impl HistoryTexts {
    fn new() -> HistoryTexts {
        let team_abbrs: Vec<String> = (0..TEAMS).map(team_abbr).collect();
        let game_ids = (0..=HISTORY_GAMES)
            .map(|game| {
                let played = game_date() - Days::new(game * 2);
                team_abbrs.iter().map(|team| format!("{}_{team}", played.format("%Y%m%d"))).collect()
            })
            .collect();
        HistoryTexts {
            player_lookups: (0..PLAYERS).map(|player| format!("player{player:03}")).collect(),
            team_abbrs,
            game_ids,
        }
    }
}

fn history_rows(texts: &HistoryTexts) -> HistoryRows<'_> {
    let mut rows = HistoryRows::default();
    // Oldest game first, every player's game of a date together: the order the embedded
    // warehouse returns rows it stored date by date.
    for game in (1..=HISTORY_GAMES).rev() {
        for player in 0..PLAYERS {
            let team = player % TEAMS;
            let played = game_date() - Days::new(game * 2);
            rows.player_game_summary.push(PlayerGameSummaryRow {
                player_lookup: texts.player_lookups[player].as_str().into(),
                game_id: texts.game_ids[game as usize][team].as_str().into(),
                game_date: played,
                team_abbr: Some(texts.team_abbrs[team].as_str().into()),
                season_year: Some(season_year_of(played)),
                points: Some(varied(player * 1000 + game as usize, 40) as i64),
                minutes_played: Some(varied(player + game as usize, 40) as f64 + 0.5),
                ft_makes: Some(varied(player * 7 + game as usize, 9) as i64),
                processed_at: None,
            });
        }
    }
    for team in 0..TEAMS {
        for game in 1..=HISTORY_GAMES {
            let played = game_date() - Days::new(game * 2);
            rows.team_offense_game_summary.push(TeamOffenseGameSummaryRow {
                team_abbr: team_abbr(team),
                game_date: played,
                season_year: Some(season_year_of(played)),
                win_flag: Some(varied(team * 31 + game as usize, 2) == 1),
                processed_at: None,
            });
            rows.nbac_schedule.push(NbacScheduleRow {
                game_id: format!("{team}-{game}"),
                game_date: played,
                game_status: Some(3),
                home_team_tricode: Some(team_abbr(team)),
                away_team_tricode: Some(team_abbr((team + 1) % TEAMS)),
                processed_at: None,
            });
        }
    }
    rows
}

fn date_rows() -> DateRows {
    let mut rows = DateRows::default();
    for player in 0..PLAYERS {
        let player_lookup = format!("player{player:03}");
        let number = |salt: usize, modulus: usize| varied(player * 13 + salt, modulus) as f64;
        rows.upcoming_player_game_context.push(UpcomingPlayerGameContextRow {
            player_lookup: player_lookup.as_str().into(),
            universal_player_id: Some(format!("{player_lookup}_001").into()),
            game_id: Some(format!("20250115_{}", team_abbr(player % TEAMS)).into()),
            game_date: game_date(),
            team_abbr: Some(team_abbr(player % TEAMS)),
            opponent_team_abbr: Some(team_abbr((player + 1) % TEAMS).into()),
            home_game: Some(player % 2 == 0),
            back_to_back: Some(player % 5 == 0),
            season_phase: Some("regular".into()),
            days_rest: Some(number(1, 4) as i64),
            opponent_days_rest: Some(number(2, 4) as i64),
            player_status: Some(["available", "probable", "questionable"][player % 3].into()),
            processed_at: None,
        });
        rows.player_daily_cache.push(PlayerDailyCacheRow {
            player_lookup: player_lookup.clone(),
            cache_date: game_date(),
            points_avg_last_5: Some(number(3, 300) / 10.0),
            points_avg_last_10: Some(number(4, 300) / 10.0),
            points_avg_season: Some(number(5, 300) / 10.0),
            points_std_last_10: Some(number(6, 80) / 10.0),
            minutes_avg_last_10: Some(number(7, 380) / 10.0),
            team_pace_last_10: Some(95.0 + number(8, 100) / 10.0),
            team_off_rating_last_10: Some(105.0 + number(9, 150) / 10.0),
            games_in_last_7_days: Some(number(10, 5) as i64),
            paint_rate_last_10: Some(number(11, 600) / 10.0),
            three_pt_rate_last_10: Some(number(12, 500) / 10.0),
            is_production_ready: Some(true),
            data_hash: Some("0123456789abcdef".into()),
            processed_at: None,
        });
        rows.player_composite_factors.push(PlayerCompositeFactorsRow {
            player_lookup: player_lookup.clone(),
            game_date: game_date(),
            fatigue_score: Some(number(13, 100) as i64),
            shot_zone_mismatch_score: Some(number(14, 100) / 10.0 - 5.0),
            pace_score: Some(number(15, 60) / 10.0 - 3.0),
            usage_spike_score: Some(number(16, 60) / 10.0 - 3.0),
            is_production_ready: Some(true),
            data_hash: None,
            processed_at: None,
        });
        rows.player_shot_zone_analysis.push(PlayerShotZoneAnalysisRow {
            player_lookup,
            analysis_date: game_date(),
            paint_rate_last_10: Some(number(17, 600) / 10.0),
            mid_range_rate_last_10: Some(number(18, 300) / 10.0),
            three_pt_rate_last_10: Some(number(19, 500) / 10.0),
            is_production_ready: Some(true),
            data_hash: None,
            processed_at: None,
        });
    }
    for team in 0..TEAMS {
        rows.team_defense_zone_analysis.push(TeamDefenseZoneAnalysisRow {
            team_abbr: team_abbr(team),
            analysis_date: game_date(),
            defensive_rating_last_15: Some(105.0 + varied(team, 150) as f64 / 10.0),
            opponent_pace: Some(95.0 + varied(team * 3, 100) as f64 / 10.0),
            is_production_ready: Some(true),
            data_hash: None,
            processed_at: None,
        });
    }
    rows
}

fn bench_process_players(criterion: &mut Criterion) {
    let history = Arc::new(History::build(history_rows(&HistoryTexts::new())).0);
    let (date_inputs, _) = DateInputs::build(game_date(), date_rows(), history);
    let players = entities(&date_inputs);
    let context = RunContext {
        date: game_date(),
        run_id: "bench".into(),
        backfill: false,
        processed_at: Utc.with_ymd_and_hms(2025, 1, 15, 12, 0, 0).unwrap(),
    };
    let written =
        players.iter().filter(|player| process_entity(player, &date_inputs, &context).is_ok()).count();
    assert_eq!(written, players.len(), "the synthetic date must exercise the full row path");
    let mut group = criterion.benchmark_group("ml_feature_store");
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

fn bench_history_build(criterion: &mut Criterion) {
    let texts = HistoryTexts::new();
    let rows = history_rows(&texts);
    let mut group = criterion.benchmark_group("ml_feature_store");
    group.throughput(Throughput::Elements(rows.player_game_summary.len() as u64));
    group.bench_function("history_build_54000_games", |bencher| {
        bencher.iter_batched(|| rows.clone(), History::build, BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, bench_process_players, bench_history_build);
criterion_main!(benches);
