//! Cross-table checks of generated seasons: determinism, consistency between the tables, value
//! ranges the processors expect, unique non-NULL keys, and a load into an in-memory DuckDB.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::NaiveDate;
use framework::schema::Table;
use framework::value::Value;
use framework::warehouse::duckdb::DuckDbWarehouse;
use framework::warehouse::{Query, Warehouse};

use super::schedule::tests::real_schedule;
use super::*;

const SEED: u64 = 2024;

/// The playable games of the first `date_count` game dates of the real schedule.
fn schedule_slice(date_count: usize) -> Vec<ScheduleGame> {
    let games = schedule::playable_games(&real_schedule());
    let dates: BTreeSet<NaiveDate> = games.iter().map(|game| game.game_date).collect();
    let last_date = *dates.iter().nth(date_count - 1).expect("enough game dates");
    games.into_iter().filter(|game| game.game_date <= last_date).collect()
}

/// The whole real season with [`SEED`], generated once for every test that reads it.
fn full_season() -> &'static DemoSeason {
    static SEASON: OnceLock<DemoSeason> = OnceLock::new();
    SEASON.get_or_init(|| generate_season(&real_schedule(), SEED))
}

fn cell<'row>(table: &Table, row: &'row [Value], column: &str) -> &'row Value {
    &row[table.column_index(column).unwrap_or_else(|| panic!("{table} has no column {column}"))]
}

fn int(table: &Table, row: &[Value], column: &str) -> i64 {
    cell(table, row, column).as_i64().unwrap_or_else(|| panic!("{table}.{column} is not an integer"))
}

fn text<'row>(table: &Table, row: &'row [Value], column: &str) -> &'row str {
    cell(table, row, column).as_str().unwrap_or_else(|| panic!("{table}.{column} is not text"))
}

fn date(table: &Table, row: &[Value], column: &str) -> NaiveDate {
    cell(table, row, column).as_date().unwrap_or_else(|| panic!("{table}.{column} is not a date"))
}

/// Each player's BDL game dates and points (BDL holds exactly the games played), date order.
fn played_games_by_player(season: &DemoSeason) -> BTreeMap<String, Vec<(NaiveDate, i64)>> {
    let table = &framework::schema::raw::BDL_PLAYER_BOXSCORES;
    let mut games: BTreeMap<String, Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for row in &season.bdl_player_boxscores {
        games
            .entry(text(table, row, "player_lookup").to_owned())
            .or_default()
            .push((date(table, row, "game_date"), int(table, row, "points")));
    }
    games.values_mut().for_each(|dates| dates.sort());
    games
}

#[test]
fn the_same_seed_gives_identical_rows_and_another_seed_does_not() {
    let schedule = schedule_slice(20);
    let first = generate_season(&schedule, 7);
    assert_eq!(first, generate_season(&schedule, 7));
    assert_ne!(first.bdl_player_boxscores, generate_season(&schedule, 8).bdl_player_boxscores);
    assert_eq!(first.game_dates.len(), 20);
}

#[test]
fn every_table_has_rows_and_unique_non_null_keys() {
    for (table, rows) in full_season().tables() {
        assert!(!rows.is_empty(), "{table} is empty");
        let key_indexes: Vec<usize> =
            table.key.iter().map(|column| table.column_index(column).unwrap()).collect();
        let mut keys = BTreeSet::new();
        for row in rows {
            assert_eq!(row.len(), table.columns.len(), "{table}");
            let key: Vec<String> = key_indexes.iter().map(|index| format!("{:?}", row[*index])).collect();
            assert!(key_indexes.iter().all(|index| !row[*index].is_null()), "{table}: NULL key {key:?}");
            assert!(keys.insert(key.clone()), "{table}: duplicate key {key:?}");
        }
        if table.columns.iter().any(|column| column.name == "processed_at") {
            assert!(
                rows.iter().all(|row| !cell(table, row, "processed_at").is_null()),
                "{table}: processed_at"
            );
        }
    }
}

#[test]
fn points_are_twice_the_field_goals_plus_threes_plus_free_throws() {
    let season = full_season();
    let raw = [
        (&framework::schema::raw::BDL_PLAYER_BOXSCORES, &season.bdl_player_boxscores),
        (&framework::schema::raw::NBAC_GAMEBOOK_PLAYER_STATS, &season.gamebook_player_stats),
    ];
    for (table, rows) in raw {
        for row in rows.iter().filter(|row| !cell(table, row, "points").is_null()) {
            let made = int(table, row, "field_goals_made");
            let threes = int(table, row, "three_pointers_made");
            let free_throws = int(table, row, "free_throws_made");
            assert_eq!(int(table, row, "points"), 2 * made + threes + free_throws, "{table}");
            assert!(made <= int(table, row, "field_goals_attempted"), "{table}");
            assert!(threes <= int(table, row, "three_pointers_attempted").min(made), "{table}");
            assert!(free_throws <= int(table, row, "free_throws_attempted"), "{table}");
        }
    }
}

#[test]
fn team_points_equal_the_real_final_scores() {
    let season = full_season();
    let table = &framework::schema::raw::BDL_PLAYER_BOXSCORES;
    let mut team_points: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in &season.bdl_player_boxscores {
        let key = (text(table, row, "game_id").to_owned(), text(table, row, "team_abbr").to_owned());
        *team_points.entry(key).or_default() += int(table, row, "points");
    }
    let games = schedule::playable_games(&real_schedule());
    assert_eq!(team_points.len(), 2 * games.len());
    for game in &games {
        let (home, away) = game.final_score().expect("the 2024-25 schedule has every final score");
        let game_id = game.box_score_game_id();
        assert_eq!(team_points[&(game_id.clone(), game.home_team_abbr.clone())], home, "{game_id}");
        assert_eq!(team_points[&(game_id.clone(), game.away_team_abbr.clone())], away, "{game_id}");
    }
}

#[test]
fn player_context_days_rest_counts_the_days_since_the_previous_game() {
    let season = full_season();
    let played = played_games_by_player(season);
    let table = &framework::schema::analytics::UPCOMING_PLAYER_GAME_CONTEXT;
    let mut back_to_backs = 0;
    for row in &season.upcoming_player_game_context {
        let game_date = date(table, row, "game_date");
        let games = played.get(text(table, row, "player_lookup")).map_or(&[][..], Vec::as_slice);
        let previous = games.iter().rev().find(|(played_on, _)| *played_on < game_date);
        let expected = previous.map(|(played_on, _)| (game_date - *played_on).num_days() - 1);
        assert_eq!(cell(table, row, "days_rest").as_i64(), expected, "{row:?}");
        assert_eq!(cell(table, row, "back_to_back").as_bool(), Some(expected == Some(0)));
        back_to_backs += usize::from(expected == Some(0));
    }
    assert!(back_to_backs > 1000, "the real schedule has back-to-backs: {back_to_backs}");
}

#[test]
fn daily_cache_points_avg_last_5_is_the_mean_of_the_five_previous_games() {
    let season = full_season();
    let played = played_games_by_player(season);
    let table = &framework::schema::precompute::PLAYER_DAILY_CACHE;
    for row in &season.player_daily_cache {
        let cache_date = date(table, row, "cache_date");
        let games = &played[text(table, row, "player_lookup")];
        let before: Vec<i64> =
            games.iter().filter(|(day, _)| *day < cache_date).map(|(_, points)| *points).collect();
        let last_five = &before[before.len().saturating_sub(5)..];
        let expected = last_five.iter().sum::<i64>() as f64 / last_five.len() as f64;
        let value = cell(table, row, "points_avg_last_5").as_f64().unwrap();
        assert_eq!(value, framework::rounding::round_half_even(expected, 1));
    }
}

#[test]
fn daily_cache_points_avg_last_5_of_one_chosen_player() {
    let season = generate_season(&schedule_slice(20), 7);
    let table = &framework::schema::precompute::PLAYER_DAILY_CACHE;
    let bdl = &framework::schema::raw::BDL_PLAYER_BOXSCORES;
    let chosen = season
        .player_daily_cache
        .iter()
        .find(|row| int(table, row, "games_played_season") >= 8)
        .expect("a player with eight games in 20 dates");
    let player = text(table, chosen, "player_lookup");
    let cache_date = date(table, chosen, "cache_date");
    let mut previous: Vec<(NaiveDate, i64)> = season
        .bdl_player_boxscores
        .iter()
        .filter(|row| text(bdl, row, "player_lookup") == player && date(bdl, row, "game_date") < cache_date)
        .map(|row| (date(bdl, row, "game_date"), int(bdl, row, "points")))
        .collect();
    previous.sort();
    let five: Vec<i64> = previous.iter().rev().take(5).map(|(_, points)| *points).collect();
    println!(
        "{player} on {cache_date}: previous five {five:?}, {:?}",
        cell(table, chosen, "points_avg_last_5")
    );
    assert_eq!(five.len(), 5);
    let hand_computed = five.iter().sum::<i64>() as f64 / 5.0;
    assert_eq!(cell(table, chosen, "points_avg_last_5"), &Value::Float(hand_computed));
    // Seed 7, first 20 dates: (23 + 21 + 14 + 30 + 12) / 5 = 100 / 5 = 20.0. A generator change
    // that moves this example must bump `GENERATOR_VERSION`.
    assert_eq!((player, cache_date.to_string().as_str()), ("walkerfisher", "2024-11-06"));
    assert_eq!(five, [23, 21, 14, 30, 12]);
    assert_eq!(cell(table, chosen, "points_avg_last_5"), &Value::Float(20.0));
}

#[test]
fn values_stay_in_the_ranges_the_processors_expect() {
    let season = full_season();
    let zones = &framework::schema::precompute::PLAYER_SHOT_ZONE_ANALYSIS;
    for row in &season.player_shot_zone_analysis {
        for column in ["paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10"] {
            let rate = cell(zones, row, column).as_f64().unwrap_or(0.0);
            assert!((0.0..=100.0).contains(&rate), "{column} {rate}");
        }
        let zone = cell(zones, row, "primary_scoring_zone").as_str();
        assert!(zone.is_none_or(|zone| ["paint", "mid_range", "perimeter"].contains(&zone)), "{zone:?}");
    }
    let defense = &framework::schema::precompute::TEAM_DEFENSE_ZONE_ANALYSIS;
    for row in &season.team_defense_zone_analysis {
        let versus = cell(defense, row, "paint_defense_vs_league_avg").as_f64().unwrap();
        assert!((-25.0..=25.0).contains(&versus), "{versus}");
        let rating = cell(defense, row, "defensive_rating_last_15").as_f64().unwrap();
        assert!((80.0..=140.0).contains(&rating), "{rating}");
    }
    let context = &framework::schema::analytics::UPCOMING_PLAYER_GAME_CONTEXT;
    for row in &season.upcoming_player_game_context {
        assert!((19..=40).contains(&int(context, row, "player_age")));
        let usage = cell(context, row, "projected_usage_rate").as_f64().unwrap();
        assert!((0.0..=60.0).contains(&usage), "{usage}");
        let pace = cell(context, row, "opponent_pace_last_10").as_f64().unwrap_or(100.0);
        assert!((80.0..=125.0).contains(&pace), "{pace}");
        if let Some(line) = cell(context, row, "current_points_line").as_f64() {
            assert_eq!(line.fract(), 0.5);
        }
    }
    let props = &framework::schema::raw::ODDS_API_PLAYER_POINTS_PROPS;
    let bookmakers: BTreeSet<&str> =
        season.player_points_props.iter().map(|row| text(props, row, "bookmaker")).collect();
    assert!(bookmakers.len() >= 4, "{bookmakers:?}");
}

#[test]
fn trades_injuries_missing_gamebooks_and_unregistered_players_occur() {
    let season = full_season();
    let bdl = &framework::schema::raw::BDL_PLAYER_BOXSCORES;
    let mut teams_by_player: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for row in &season.bdl_player_boxscores {
        teams_by_player.entry(text(bdl, row, "player_lookup")).or_default().insert(text(
            bdl,
            row,
            "team_abbr",
        ));
    }
    let traded = teams_by_player.values().filter(|teams| teams.len() == 2).count();
    assert!((6..=8).contains(&traded), "{traded} players played for two teams");
    let registry = &framework::schema::reference::NBA_PLAYERS_REGISTRY;
    let registered: BTreeSet<&str> =
        season.players_registry.iter().map(|row| text(registry, row, "player_lookup")).collect();
    assert_eq!(teams_by_player.keys().filter(|player| !registered.contains(*player)).count(), 3);
    let gamebook = &framework::schema::raw::NBAC_GAMEBOOK_PLAYER_STATS;
    let statuses: BTreeSet<&str> =
        season.gamebook_player_stats.iter().map(|row| text(gamebook, row, "player_status")).collect();
    assert_eq!(statuses, BTreeSet::from(["active", "dnp", "inactive"]));
    let gamebook_games: BTreeSet<&str> =
        season.gamebook_player_stats.iter().map(|row| text(gamebook, row, "game_id")).collect();
    let bdl_games: BTreeSet<&str> =
        season.bdl_player_boxscores.iter().map(|row| text(bdl, row, "game_id")).collect();
    let coverage = gamebook_games.len() as f64 / bdl_games.len() as f64;
    assert!((0.8..0.9).contains(&coverage), "{coverage}");
}

#[test]
fn full_season_row_counts() {
    let started = std::time::Instant::now();
    let season = generate_season(&real_schedule(), SEED);
    println!("generated {} game dates in {:?}", season.game_dates.len(), started.elapsed());
    for (table, rows) in season.tables() {
        println!("{table}: {} rows", rows.len());
    }
    let offense = &framework::schema::analytics::TEAM_OFFENSE_GAME_SUMMARY;
    let games = season.team_offense_game_summary.len() as f64;
    for column in [
        "pace",
        "points_scored",
        "fg_attempts",
        "ft_attempts",
        "three_pt_attempts",
        "rebounds",
        "turnovers",
        "assists",
    ] {
        let total: f64 = season
            .team_offense_game_summary
            .iter()
            .map(|row| cell(offense, row, column).as_f64().unwrap())
            .sum();
        println!("mean {column} per team-game: {:.1}", total / games);
    }
    assert_eq!(season.game_dates.len(), full_season().game_dates.len());
}

#[tokio::test]
async fn loading_a_slice_writes_every_row_and_marks_the_seed() {
    let warehouse = DuckDbWarehouse::open(":memory:", "").unwrap();
    warehouse.ensure_tables(&Table::all().collect::<Vec<_>>()).await.unwrap();
    let season = generate_season(&schedule_slice(20), 11);
    assert!(!warehouse_holds_season(&warehouse, 11).await.unwrap());
    let report: load::LoadReport = load_season(&warehouse, &season).await.unwrap();
    // A second load replaces the same partitions and keys: the counts do not double.
    let report_again = load_season(&warehouse, &season).await.unwrap();
    assert_eq!(report, report_again);
    assert_eq!(report.rows_by_table.len(), 10);
    for ((table, loaded), (_, generated)) in report.rows_by_table.iter().zip(season.tables()) {
        assert_eq!(*loaded, generated.len());
        let count =
            warehouse.query(&Query::new(format!("SELECT COUNT(*) AS n FROM {{{table}}}"))).await.unwrap();
        assert_eq!(count.rows[0][0].as_i64(), Some(generated.len() as i64), "{table}");
    }
    assert!(report.total_rows() > 10_000, "{}", report.total_rows());
    assert!(warehouse_holds_season(&warehouse, 11).await.unwrap());
    assert!(!warehouse_holds_season(&warehouse, 12).await.unwrap());
}

#[test]
fn the_schedule_rows_decode_like_the_file() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/schedule/nba_raw.nbac_schedule.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let rows = framework::fixtures::parse_rows(&path, &framework::schema::raw::NBAC_SCHEDULE, &text).unwrap();
    assert_eq!(schedule::schedule_games_from_rows(&rows), read_schedule_file(&path).unwrap());
    assert_eq!(load::GENERATOR_VERSION, "1");
}
