//! Bulk reads for a chunk of dates: five queries, side by side, whatever the number of dates or
//! players.
//!
//! Each upstream table is read once for all dates of the chunk (gamebook, BDL, props and
//! schedule by `game_date`, the registry whole), then split by date into [`RawInputs`] and
//! assembled by [`build_date_inputs`]; the registry is indexed once and shared by every date.
//! Duplicate upstream keys are logged here: per date, the registry's once per chunk.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use framework::schema::raw::{
    BDL_PLAYER_BOXSCORES, NBAC_GAMEBOOK_PLAYER_STATS, NBAC_SCHEDULE, ODDS_API_PLAYER_POINTS_PROPS,
};
use framework::schema::reference::NBA_PLAYERS_REGISTRY;
use framework::{DateFilter, ExtractError, InputReader, RowView};

use crate::inputs::{
    BdlBoxscoreRow, DateInputs, GamebookPlayerRow, PlayerPropRow, RawInputs, RegistryRow, ScheduleRow,
    SourceUsages, build_date_inputs,
};
use crate::registry::index_registry;

/// Rows each source is expected to hold for a date (the reference's `expected_count_min`).
pub const EXPECTED_GAMEBOOK_ROWS: i64 = 200;
pub const EXPECTED_BDL_ROWS: i64 = 200;
pub const EXPECTED_PROP_ROWS: i64 = 100;

const GAMEBOOK_COLUMNS: &[&str] = &[
    "game_id",
    "game_date",
    "season_year",
    "player_name",
    "player_lookup",
    "team_abbr",
    "player_status",
    "minutes",
    "points",
    "field_goals_made",
    "field_goals_attempted",
    "three_pointers_made",
    "three_pointers_attempted",
    "free_throws_made",
    "free_throws_attempted",
    "offensive_rebounds",
    "defensive_rebounds",
    "assists",
    "steals",
    "blocks",
    "turnovers",
    "personal_fouls",
    "plus_minus",
    "processed_at",
    "data_hash",
];

/// The BDL columns read (the reliability tests set each to NULL in turn).
pub const BDL_COLUMNS: &[&str] = &[
    "game_id",
    "game_date",
    "season_year",
    "game_status",
    "home_team_abbr",
    "away_team_abbr",
    "home_team_score",
    "away_team_score",
    "team_abbr",
    "player_full_name",
    "player_lookup",
    "bdl_player_id",
    "minutes",
    "points",
    "assists",
    "rebounds",
    "offensive_rebounds",
    "defensive_rebounds",
    "steals",
    "blocks",
    "turnovers",
    "personal_fouls",
    "field_goals_made",
    "field_goals_attempted",
    "three_pointers_made",
    "three_pointers_attempted",
    "free_throws_made",
    "free_throws_attempted",
    "processed_at",
    "data_hash",
];

const PROP_COLUMNS: &[&str] = &[
    "game_id",
    "game_date",
    "bookmaker",
    "player_lookup",
    "points_line",
    "snapshot_timestamp",
    "processed_at",
    "data_hash",
];

const SCHEDULE_COLUMNS: &[&str] = &[
    "game_id",
    "game_date",
    "game_status",
    "home_team_tricode",
    "away_team_tricode",
    "home_team_score",
    "away_team_score",
    "processed_at",
];

const REGISTRY_COLUMNS: &[&str] =
    &["player_lookup", "universal_player_id", "team_abbr", "season", "processed_at"];

/// Reads and assembles the inputs of every date of `dates`.
///
/// # Errors
/// A query fails, or a row lacks a key column the table declares NOT NULL.
pub async fn extract_dates(
    reader: &InputReader<'_>,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, DateInputs>, ExtractError> {
    let on_dates = || DateFilter::On(dates.to_vec());
    let (gamebook, bdl, props, schedule, registry) = tokio::try_join!(
        reader.read(&NBAC_GAMEBOOK_PLAYER_STATS, GAMEBOOK_COLUMNS, "game_date", on_dates()),
        reader.read(&BDL_PLAYER_BOXSCORES, BDL_COLUMNS, "game_date", on_dates()),
        reader.read(&ODDS_API_PLAYER_POINTS_PROPS, PROP_COLUMNS, "game_date", on_dates()),
        reader.read(&NBAC_SCHEDULE, SCHEDULE_COLUMNS, "game_date", on_dates()),
        reader.read_whole(&NBA_PLAYERS_REGISTRY, REGISTRY_COLUMNS),
    )?;

    let registry_rows: Vec<RegistryRow> = registry.convert(registry_row)?;
    let (registry, registry_duplicates) = index_registry(registry_rows);
    reader.log_duplicates(None, &registry_duplicates);
    let registry = Arc::new(registry);
    let gamebook_usage = gamebook.source_usage_by_date("game_date", EXPECTED_GAMEBOOK_ROWS);
    let bdl_usage = bdl.source_usage_by_date("game_date", EXPECTED_BDL_ROWS);
    let prop_usage = props.source_usage_by_date("game_date", EXPECTED_PROP_ROWS);
    let mut gamebook_by_date = gamebook.by_date("game_date");
    let mut bdl_by_date = bdl.by_date("game_date");
    let mut props_by_date = props.by_date("game_date");
    let mut schedule_by_date = schedule.by_date("game_date");

    let mut inputs = BTreeMap::new();
    for &date in dates {
        let raw = RawInputs {
            gamebook_rows: convert(gamebook_by_date.remove(&date), gamebook_row)?,
            bdl_rows: convert(bdl_by_date.remove(&date), bdl_row)?,
            prop_rows: convert(props_by_date.remove(&date), prop_row)?,
            registry: Arc::clone(&registry),
            schedule_rows: convert(schedule_by_date.remove(&date), schedule_row)?,
            source_usage: SourceUsages {
                nbac: gamebook_usage.get(&date).cloned().unwrap_or_default(),
                bdl: bdl_usage.get(&date).cloned().unwrap_or_default(),
                odds: prop_usage.get(&date).cloned().unwrap_or_default(),
                ..SourceUsages::default()
            },
        };
        let assembled = build_date_inputs(date, raw);
        reader.log_duplicates(Some(date), &assembled.duplicate_keys);
        inputs.insert(date, assembled.date_inputs);
    }
    Ok(inputs)
}

fn convert<T>(
    rows: Option<Vec<RowView<'_>>>,
    to_typed: impl Fn(RowView<'_>) -> Result<T, ExtractError>,
) -> Result<Vec<T>, ExtractError> {
    rows.unwrap_or_default().into_iter().map(to_typed).collect()
}

fn gamebook_row(row: RowView<'_>) -> Result<GamebookPlayerRow, ExtractError> {
    Ok(GamebookPlayerRow {
        game_id: row.required_text("game_id")?,
        game_date: row.required_date("game_date")?,
        season_year: row.int("season_year").unwrap_or_default(),
        player_name: row.text("player_name"),
        player_lookup: row.text("player_lookup"),
        team_abbr: row.text("team_abbr"),
        player_status: row.text("player_status").unwrap_or_default(),
        minutes: row.text("minutes"),
        points: row.int("points"),
        field_goals_made: row.int("field_goals_made"),
        field_goals_attempted: row.int("field_goals_attempted"),
        three_pointers_made: row.int("three_pointers_made"),
        three_pointers_attempted: row.int("three_pointers_attempted"),
        free_throws_made: row.int("free_throws_made"),
        free_throws_attempted: row.int("free_throws_attempted"),
        offensive_rebounds: row.int("offensive_rebounds"),
        defensive_rebounds: row.int("defensive_rebounds"),
        assists: row.int("assists"),
        steals: row.int("steals"),
        blocks: row.int("blocks"),
        turnovers: row.int("turnovers"),
        personal_fouls: row.int("personal_fouls"),
        plus_minus: row.int("plus_minus"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn bdl_row(row: RowView<'_>) -> Result<BdlBoxscoreRow, ExtractError> {
    Ok(BdlBoxscoreRow {
        game_id: row.required_text("game_id")?,
        game_date: row.required_date("game_date")?,
        season_year: row.int("season_year").unwrap_or_default(),
        game_status: row.text("game_status"),
        home_team_abbr: row.text("home_team_abbr").unwrap_or_default(),
        away_team_abbr: row.text("away_team_abbr").unwrap_or_default(),
        home_team_score: row.int("home_team_score"),
        away_team_score: row.int("away_team_score"),
        team_abbr: row.text("team_abbr").unwrap_or_default(),
        player_full_name: row.text("player_full_name").unwrap_or_default(),
        player_lookup: row.required_text("player_lookup")?,
        bdl_player_id: row.int("bdl_player_id"),
        minutes: row.text("minutes"),
        points: row.int("points"),
        assists: row.int("assists"),
        rebounds: row.int("rebounds"),
        offensive_rebounds: row.int("offensive_rebounds"),
        defensive_rebounds: row.int("defensive_rebounds"),
        steals: row.int("steals"),
        blocks: row.int("blocks"),
        turnovers: row.int("turnovers"),
        personal_fouls: row.int("personal_fouls"),
        field_goals_made: row.int("field_goals_made"),
        field_goals_attempted: row.int("field_goals_attempted"),
        three_pointers_made: row.int("three_pointers_made"),
        three_pointers_attempted: row.int("three_pointers_attempted"),
        free_throws_made: row.int("free_throws_made"),
        free_throws_attempted: row.int("free_throws_attempted"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn prop_row(row: RowView<'_>) -> Result<PlayerPropRow, ExtractError> {
    Ok(PlayerPropRow {
        game_id: row.required_text("game_id")?,
        game_date: row.required_date("game_date")?,
        bookmaker: row.text("bookmaker").unwrap_or_default(),
        player_lookup: row.text("player_lookup"),
        points_line: row.float("points_line").unwrap_or(f64::NAN),
        snapshot_timestamp: row.timestamp("snapshot_timestamp").unwrap_or_default(),
        processed_at: row.timestamp("processed_at"),
    })
}

fn schedule_row(row: RowView<'_>) -> Result<ScheduleRow, ExtractError> {
    Ok(ScheduleRow {
        game_id: row.required_text("game_id")?,
        game_date: row.required_date("game_date")?,
        game_status: row.int("game_status"),
        home_team_tricode: row.text("home_team_tricode").unwrap_or_default(),
        away_team_tricode: row.text("away_team_tricode").unwrap_or_default(),
        home_team_score: row.int("home_team_score"),
        away_team_score: row.int("away_team_score"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn registry_row(row: RowView<'_>) -> Result<RegistryRow, ExtractError> {
    Ok(RegistryRow {
        player_lookup: row.required_text("player_lookup")?,
        universal_player_id: row.text("universal_player_id"),
        team_abbr: row.text("team_abbr").unwrap_or_default(),
        season: row.text("season").unwrap_or_default(),
        processed_at: row.timestamp("processed_at"),
    })
}
