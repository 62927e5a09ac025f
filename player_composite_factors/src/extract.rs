//! Bulk reads for a chunk of dates: eight queries whatever the number of dates or players.
//!
//! UPGC and UTGC by `game_date`, PSZA, TDZA and reprocess attempts by `analysis_date`, each once
//! for the chunk; `player_game_summary` (of the chunk's players) and the schedule once as history
//! for the completeness counts, with a second `player_game_summary` read for the players without
//! a game in the history window. The eight queries run side by side, the appearances issued
//! first. The rows are split by date and indexed by [`DateInputs::build`]; duplicate upstream
//! keys are logged here (README §4 item 9b).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use framework::circuit_breaker::{REPROCESS_ATTEMPT_COLUMNS, ReprocessAttemptRow};
use framework::dates::{RunSchedule, season_year};
use framework::schema::Table;
use framework::schema::analytics::{
    PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT, UPCOMING_TEAM_GAME_CONTEXT,
};
use framework::schema::orchestration::REPROCESS_ATTEMPTS;
use framework::schema::precompute::{PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS};
use framework::schema::raw::NBAC_SCHEDULE;
use framework::{
    CellPosition, ColumnRow, DateFilter, ExtractError, InputReader, OfEntities, RowView, SourceUsage,
    TableColumns,
};

use crate::games_history::{GamesHistory, PlayerGameAppearanceRow, ScheduleGameRow};
use crate::inputs::{
    DateInputs, DateRows, PlayerShotZoneAnalysisRow, SourceTracking, TeamDefenseZoneAnalysisRow,
    UpcomingPlayerGameContextRow, UpcomingTeamGameContextRow, split_rows_by_date,
};

/// Rows each source is expected to hold for a date (the reference's `expected_count_min`).
pub const EXPECTED_PLAYER_CONTEXT_ROWS: i64 = 100;
pub const EXPECTED_TEAM_CONTEXT_ROWS: i64 = 10;
pub const EXPECTED_PLAYER_SHOT_ROWS: i64 = 100;
pub const EXPECTED_TEAM_DEFENSE_ROWS: i64 = 30;

/// History read for completeness: a player's latest team may come from the previous season. A
/// player without a game in it is back from a long absence: his latest game before it is read
/// on its own ([`latest_game_before`]).
const HISTORY_DAYS: u64 = 400;

const PLAYER_CONTEXT_COLUMNS: &[&str] = &[
    "player_lookup",
    "universal_player_id",
    "game_id",
    "game_date",
    "opponent_team_abbr",
    "days_rest",
    "back_to_back",
    "games_in_last_7_days",
    "minutes_in_last_7_days",
    "avg_minutes_per_game_last_7",
    "back_to_backs_last_14_days",
    "player_age",
    "projected_usage_rate",
    "avg_usage_rate_last_7_games",
    "star_teammates_out",
    "pace_differential",
    "opponent_pace_last_10",
    "is_production_ready",
    "processed_at",
];
/// UPGC and UTGC have no `data_hash` column (reference-framework.md §6): their source hashes stay NULL.
const TEAM_CONTEXT_COLUMNS: &[&str] =
    &["team_abbr", "game_id", "game_date", "is_production_ready", "processed_at"];
const PLAYER_SHOT_COLUMNS: &[&str] = &[
    "player_lookup",
    "analysis_date",
    "primary_scoring_zone",
    "paint_rate_last_10",
    "mid_range_rate_last_10",
    "three_pt_rate_last_10",
    "is_production_ready",
    "processed_at",
    "data_hash",
];
const TEAM_DEFENSE_COLUMNS: &[&str] = &[
    "team_abbr",
    "analysis_date",
    "paint_defense_vs_league_avg",
    "mid_range_defense_vs_league_avg",
    "three_pt_defense_vs_league_avg",
    "weakest_zone",
    "is_production_ready",
    "processed_at",
    "data_hash",
];
/// Who played for which team on which date (completeness history).
const APPEARANCE_COLUMNS: &[&str] = &["player_lookup", "game_date", "team_abbr"];
const SCHEDULE_COLUMNS: &[&str] =
    &["game_id", "game_date", "home_team_tricode", "away_team_tricode", "game_status"];

/// Every upstream table read and the columns read from it, in the order of the reads (the
/// reliability tests set each column to NULL in turn).
pub const COLUMNS_READ: [(&Table, &[&str]); 7] = [
    (&UPCOMING_PLAYER_GAME_CONTEXT, PLAYER_CONTEXT_COLUMNS),
    (&UPCOMING_TEAM_GAME_CONTEXT, TEAM_CONTEXT_COLUMNS),
    (&PLAYER_SHOT_ZONE_ANALYSIS, PLAYER_SHOT_COLUMNS),
    (&TEAM_DEFENSE_ZONE_ANALYSIS, TEAM_DEFENSE_COLUMNS),
    (&REPROCESS_ATTEMPTS, REPROCESS_ATTEMPT_COLUMNS),
    (&PLAYER_GAME_SUMMARY, APPEARANCE_COLUMNS),
    (&NBAC_SCHEDULE, SCHEDULE_COLUMNS),
];

/// Reads and indexes the inputs of every date of `dates`.
///
/// # Errors
/// A query fails, or a row lacks a key column.
pub async fn extract_dates(
    reader: &InputReader<'_>,
    dates: &[NaiveDate],
    schedule: &RunSchedule,
) -> Result<BTreeMap<NaiveDate, DateInputs>, ExtractError> {
    let (Some(&first), Some(&last)) = (dates.iter().min(), dates.iter().max()) else {
        return Ok(BTreeMap::new());
    };
    let on_dates = || DateFilter::On(dates.to_vec());
    let since = first.checked_sub_days(Days::new(HISTORY_DAYS)).unwrap_or(first);
    let history = DateFilter::Before { since, before: last.checked_add_days(Days::new(1)).unwrap_or(last) };
    let players_of_chunk = OfEntities::players_playing_on(dates);
    // The appearances first: the largest read, and what the date waits for (the warehouse may
    // run reads in the order they are issued).
    let (appearances, older_appearances, players, teams, shots, defenses, attempts, scheduled) = tokio::try_join!(
        reader.read_columns_of(
            &PLAYER_GAME_SUMMARY,
            APPEARANCE_COLUMNS,
            "game_date",
            history.clone(),
            &players_of_chunk
        ),
        reader.read_columns_of(
            &PLAYER_GAME_SUMMARY,
            APPEARANCE_COLUMNS,
            "game_date",
            latest_game_before(since, first),
            &players_of_chunk
        ),
        reader.read(&UPCOMING_PLAYER_GAME_CONTEXT, PLAYER_CONTEXT_COLUMNS, "game_date", on_dates()),
        reader.read(&UPCOMING_TEAM_GAME_CONTEXT, TEAM_CONTEXT_COLUMNS, "game_date", on_dates()),
        reader.read(&PLAYER_SHOT_ZONE_ANALYSIS, PLAYER_SHOT_COLUMNS, "analysis_date", on_dates()),
        reader.read(&TEAM_DEFENSE_ZONE_ANALYSIS, TEAM_DEFENSE_COLUMNS, "analysis_date", on_dates()),
        reader.read(&REPROCESS_ATTEMPTS, REPROCESS_ATTEMPT_COLUMNS, "analysis_date", on_dates()),
        reader.read(&NBAC_SCHEDULE, SCHEDULE_COLUMNS, "game_date", history),
    )?;

    let at = AppearancePositions::of(&appearances);
    let mut appearance_rows: Vec<PlayerGameAppearanceRow<'_>> =
        appearances.convert(|row| appearance_row(row, &at))?.into_iter().flatten().collect();
    let older_at = AppearancePositions::of(&older_appearances);
    appearance_rows
        .extend(older_appearances.convert(|row| appearance_row(row, &older_at))?.into_iter().flatten());
    let games_history = GamesHistory::build(appearance_rows, &scheduled.convert(schedule_row)?);
    let usage = [
        players.source_usage_by_date("game_date", EXPECTED_PLAYER_CONTEXT_ROWS),
        teams.source_usage_by_date("game_date", EXPECTED_TEAM_CONTEXT_ROWS),
        shots.source_usage_by_date("analysis_date", EXPECTED_PLAYER_SHOT_ROWS),
        defenses.source_usage_by_date("analysis_date", EXPECTED_TEAM_DEFENSE_ROWS),
    ];
    let rows = DateRows {
        player_contexts: players.convert(player_context_row)?,
        team_contexts: teams.convert(team_context_row)?,
        player_shot_zones: shots.convert(player_shot_row)?,
        team_defense_zones: defenses.convert(team_defense_row)?,
        reprocess_attempts: attempts.convert(ReprocessAttemptRow::from_row)?,
    };
    let mut rows_by_date = split_rows_by_date(rows);
    let schedule = schedule.get().await;
    let mut inputs = BTreeMap::new();
    for &date in dates {
        let usage_of = |source: usize| usage[source].get(&date).cloned().unwrap_or_else(SourceUsage::default);
        let sources = SourceTracking {
            player_context: usage_of(0),
            team_context: usage_of(1),
            player_shot: usage_of(2),
            team_defense: usage_of(3),
        };
        let season_start = schedule.season_start(season_year(date));
        let date_rows = rows_by_date.remove(&date).unwrap_or_default();
        let (date_inputs, duplicates) =
            DateInputs::build(date, season_start, date_rows, &games_history, sources);
        reader.log_duplicates(Some(date), &duplicates);
        inputs.insert(date, date_inputs);
    }
    Ok(inputs)
}

fn player_context_row(row: RowView<'_>) -> Result<UpcomingPlayerGameContextRow, ExtractError> {
    Ok(UpcomingPlayerGameContextRow {
        player_lookup: row.required_short_text("player_lookup")?,
        universal_player_id: row.short_text("universal_player_id"),
        game_id: row.short_text("game_id"),
        game_date: row.required_date("game_date")?,
        opponent_team_abbr: row.text("opponent_team_abbr"),
        days_rest: row.int("days_rest"),
        back_to_back: row.flag("back_to_back"),
        games_in_last_7_days: row.int("games_in_last_7_days"),
        minutes_in_last_7_days: row.float("minutes_in_last_7_days"),
        avg_minutes_per_game_last_7: row.float("avg_minutes_per_game_last_7"),
        back_to_backs_last_14_days: row.int("back_to_backs_last_14_days"),
        player_age: row.int("player_age"),
        projected_usage_rate: row.float("projected_usage_rate"),
        avg_usage_rate_last_7_games: row.float("avg_usage_rate_last_7_games"),
        star_teammates_out: row.int("star_teammates_out"),
        pace_differential: row.float("pace_differential"),
        opponent_pace_last_10: row.float("opponent_pace_last_10"),
        is_production_ready: row.flag("is_production_ready"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn team_context_row(row: RowView<'_>) -> Result<UpcomingTeamGameContextRow, ExtractError> {
    Ok(UpcomingTeamGameContextRow {
        team_abbr: row.required_text("team_abbr")?,
        game_id: row.text("game_id"),
        game_date: row.required_date("game_date")?,
        is_production_ready: row.flag("is_production_ready"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn player_shot_row(row: RowView<'_>) -> Result<PlayerShotZoneAnalysisRow, ExtractError> {
    Ok(PlayerShotZoneAnalysisRow {
        player_lookup: row.required_text("player_lookup")?,
        analysis_date: row.required_date("analysis_date")?,
        primary_scoring_zone: row.text("primary_scoring_zone"),
        paint_rate_last_10: row.float("paint_rate_last_10"),
        mid_range_rate_last_10: row.float("mid_range_rate_last_10"),
        three_pt_rate_last_10: row.float("three_pt_rate_last_10"),
        is_production_ready: row.flag("is_production_ready"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn team_defense_row(row: RowView<'_>) -> Result<TeamDefenseZoneAnalysisRow, ExtractError> {
    Ok(TeamDefenseZoneAnalysisRow {
        team_abbr: row.required_text("team_abbr")?,
        analysis_date: row.required_date("analysis_date")?,
        paint_defense_vs_league_avg: row.float("paint_defense_vs_league_avg"),
        mid_range_defense_vs_league_avg: row.float("mid_range_defense_vs_league_avg"),
        three_pt_defense_vs_league_avg: row.float("three_pt_defense_vs_league_avg"),
        weakest_zone: row.text("weakest_zone"),
        is_production_ready: row.flag("is_production_ready"),
        processed_at: row.timestamp("processed_at"),
    })
}

/// Where each column of an appearance row sits: the history is tens of thousands of rows.
struct AppearancePositions {
    player_lookup: CellPosition,
    game_date: CellPosition,
    team_abbr: CellPosition,
}

impl AppearancePositions {
    fn of(rows: &TableColumns) -> AppearancePositions {
        AppearancePositions {
            player_lookup: rows.position("player_lookup"),
            game_date: rows.position("game_date"),
            team_abbr: rows.position("team_abbr"),
        }
    }
}

/// The latest game before `first` of the chunk's players who have none from `since` on: their
/// latest team, which the reference took from their latest `player_game_summary` row of any
/// season (reference-pcf.md §2.7), is then older than the history window. One query for the
/// chunk, small because a player usually has a game in the window.
fn latest_game_before(since: NaiveDate, first: NaiveDate) -> DateFilter {
    DateFilter::players_latest_games(since, first, 1)
}

/// `None` for a row without `team_abbr` (NOT NULL in the reference DDL, not enforced locally):
/// it cannot say whose games the player was expected to play, so completeness leaves it out.
/// Failing the read instead failed every date of the chunk over one history row.
fn appearance_row<'a>(
    row: ColumnRow<'a>,
    at: &AppearancePositions,
) -> Result<Option<PlayerGameAppearanceRow<'a>>, ExtractError> {
    let Some(team_abbr) = row.text(at.team_abbr) else {
        return Ok(None);
    };
    Ok(Some(PlayerGameAppearanceRow {
        player_lookup: row.required_text(at.player_lookup)?.into(),
        game_date: row.required_date(at.game_date)?,
        team_abbr: team_abbr.into(),
    }))
}

fn schedule_row(row: RowView<'_>) -> Result<ScheduleGameRow, ExtractError> {
    Ok(ScheduleGameRow {
        game_id: row.required_text("game_id")?,
        game_date: row.required_date("game_date")?,
        home_team_tricode: row.text("home_team_tricode").unwrap_or_default(),
        away_team_tricode: row.text("away_team_tricode").unwrap_or_default(),
        game_status: row.int("game_status"),
    })
}
