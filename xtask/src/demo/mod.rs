//! The synthetic season of `cargo xtask demo` (README §5): a deterministic, seeded season played
//! over the real 2024-25 schedule, written as the raw and upstream tables the three processors read.
//!
//! # Layout
//! - `schedule`: the real schedule's games ([`ScheduleGame`]) and which of them get box scores.
//! - `roster`, `simulation`: the league's players and trades; availability, minutes and box score
//!   lines game by game, team points equal to the real final scores.
//! - `history`, `player_windows`: the played season indexed for rolling windows before a date.
//! - one module per generated table family: `boxscores` (gamebook, BDL), `props`, `registry`,
//!   `team_offense`, `team_context`, `player_context`, `shot_zones` (PSZA, TDZA), `daily_cache`.
//! - `load`: writing a [`DemoSeason`] into a warehouse, and the seed marker that tells whether a
//!   warehouse already holds it. `main_job`: the whole demo (load, generate, run, report).
//! - `sampling`, `calendar`, `cells`, `geography`: random streams, times of day, NUMERIC cells,
//!   arena distances.
//!
//! [`generate_season`] is pure: the same schedule and seed give byte-identical rows. Every
//! upstream row describing a date D is derived from the generated games strictly before D.

mod boxscores;
mod calendar;
mod cells;
mod daily_cache;
mod geography;
mod history;
mod load;
mod main_job;
mod player_context;
mod player_windows;
mod props;
mod registry;
mod roster;
mod sampling;
mod schedule;
mod shot_zones;
mod simulation;
mod team_context;
mod team_offense;

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use framework::schema::Table;
use framework::schema::analytics::{
    TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT, UPCOMING_TEAM_GAME_CONTEXT,
};
use framework::schema::precompute::{
    PLAYER_DAILY_CACHE, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
};
use framework::schema::raw::{
    BDL_PLAYER_BOXSCORES, NBAC_GAMEBOOK_PLAYER_STATS, ODDS_API_PLAYER_POINTS_PROPS,
};
use framework::schema::reference::NBA_PLAYERS_REGISTRY;
use framework::value::Value;
use framework::warehouse::WarehouseError;

pub use load::{load_season, warehouse_holds_season};
pub use main_job::{DemoOptions, prepare_warehouse, render_report, run_demo};
pub use schedule::{ScheduleGame, read_schedule_file};

use history::SeasonIndex;
use sampling::{Stream, stream};

/// Days from opening night to the trade deadline (2024-10-22 → 2025-02-06).
const TRADE_DEADLINE_AFTER_OPENING_DAYS: u64 = 107;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot read the schedule {path}: {message}")]
    Schedule { path: PathBuf, message: String },
    #[error("cannot write the demo season to {table}: {source}")]
    Load { table: String, source: WarehouseError },
    #[error("cannot read the demo season marker: {0}")]
    Marker(WarehouseError),
}

/// Everything generated, table by table: full-width rows in each table's column order.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoSeason {
    pub seed: u64,
    /// The dates with generated games, ascending: the dates the processors should run.
    pub game_dates: Vec<NaiveDate>,
    pub gamebook_player_stats: Vec<Vec<Value>>,
    pub bdl_player_boxscores: Vec<Vec<Value>>,
    pub player_points_props: Vec<Vec<Value>>,
    pub players_registry: Vec<Vec<Value>>,
    pub upcoming_player_game_context: Vec<Vec<Value>>,
    pub upcoming_team_game_context: Vec<Vec<Value>>,
    pub team_offense_game_summary: Vec<Vec<Value>>,
    pub player_shot_zone_analysis: Vec<Vec<Value>>,
    pub team_defense_zone_analysis: Vec<Vec<Value>>,
    pub player_daily_cache: Vec<Vec<Value>>,
}

impl DemoSeason {
    /// Each generated table with its rows, raw tables first.
    pub fn tables(&self) -> [(&'static Table, &[Vec<Value>]); 10] {
        [
            (&NBAC_GAMEBOOK_PLAYER_STATS, &self.gamebook_player_stats),
            (&BDL_PLAYER_BOXSCORES, &self.bdl_player_boxscores),
            (&ODDS_API_PLAYER_POINTS_PROPS, &self.player_points_props),
            (&NBA_PLAYERS_REGISTRY, &self.players_registry),
            (&TEAM_OFFENSE_GAME_SUMMARY, &self.team_offense_game_summary),
            (&UPCOMING_TEAM_GAME_CONTEXT, &self.upcoming_team_game_context),
            (&UPCOMING_PLAYER_GAME_CONTEXT, &self.upcoming_player_game_context),
            (&PLAYER_SHOT_ZONE_ANALYSIS, &self.player_shot_zone_analysis),
            (&TEAM_DEFENSE_ZONE_ANALYSIS, &self.team_defense_zone_analysis),
            (&PLAYER_DAILY_CACHE, &self.player_daily_cache),
        ]
    }

    pub fn first_game_date(&self) -> Option<NaiveDate> {
        self.game_dates.first().copied()
    }
}

/// Generates the season over the regular-season, play-in and playoff games of `schedule`.
pub fn generate_season(schedule: &[ScheduleGame], seed: u64) -> DemoSeason {
    let games = schedule::playable_games(schedule);
    let teams: BTreeSet<String> =
        games.iter().flat_map(|game| [game.home_team_abbr.clone(), game.away_team_abbr.clone()]).collect();
    let opening_night = games.first().map_or(NaiveDate::MIN, |game| game.game_date);
    let trade_deadline =
        opening_night.checked_add_days(Days::new(TRADE_DEADLINE_AFTER_OPENING_DAYS)).unwrap_or(opening_night);
    let roster =
        roster::build_roster(&mut stream(seed, Stream::Roster), &teams, opening_night, trade_deadline);
    let played = simulation::simulate_season(&mut stream(seed, Stream::Games), &roster, &games);
    let gamebook_coverage =
        boxscores::draw_gamebook_coverage(&mut stream(seed, Stream::SourceCoverage), played.len());
    let index = SeasonIndex::build(&played, roster.players.len());
    let markets = props::generate_props(&mut stream(seed, Stream::PropLines), &index, &roster);
    let team_contexts = team_context::team_context_rows(&index);
    let context_sources = player_context::ContextSources {
        roster: &roster,
        selected_lines: &markets.selected,
        outlooks: &team_contexts.outlooks,
    };
    let season_label = framework::dates::season_label(games.first().map_or(2024, |game| game.season_year));
    let mut game_dates: Vec<NaiveDate> = games.iter().map(|game| game.game_date).collect();
    game_dates.dedup();
    DemoSeason {
        seed,
        gamebook_player_stats: boxscores::gamebook_rows(&played, &gamebook_coverage, &roster),
        bdl_player_boxscores: boxscores::bdl_rows(&played, &roster),
        players_registry: registry::registry_rows(&played, &roster, &season_label),
        upcoming_player_game_context: player_context::player_context_rows(&index, &context_sources),
        team_offense_game_summary: team_offense::team_offense_rows(&index),
        player_shot_zone_analysis: shot_zones::player_shot_zone_rows(&index, &roster),
        team_defense_zone_analysis: shot_zones::team_defense_zone_rows(&index, &roster),
        player_daily_cache: daily_cache::daily_cache_rows(&index, &roster),
        upcoming_team_game_context: team_contexts.rows,
        player_points_props: markets.rows,
        game_dates,
    }
}

#[cfg(test)]
mod tests;
