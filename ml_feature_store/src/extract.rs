//! Bulk reads for a chunk of dates: ten queries whatever the number of dates or players.
//!
//! The six per-date tables (UPGC, daily cache, composite factors, shot zones, team defense,
//! reprocess attempts) are read once for the chunk, and the history (`player_game_summary` of the
//! chunk's players, `team_offense_game_summary`, the schedule) once as rows dated up to the
//! chunk's last date, so the reference's per-player queries (12.5 players/s) are gone (README §4
//! item 19). The tenth query brings the older games of the players whose last 10 reach behind
//! that window. The ten queries run side by side, the two player-history reads issued first.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use framework::circuit_breaker::{REPROCESS_ATTEMPT_COLUMNS, ReprocessAttemptRow};
use framework::schema::Table;
use framework::schema::analytics::{
    PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT,
};
use framework::schema::orchestration::REPROCESS_ATTEMPTS;
use framework::schema::precompute::{
    PLAYER_COMPOSITE_FACTORS, PLAYER_DAILY_CACHE, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
};
use framework::schema::raw::NBAC_SCHEDULE;
use framework::{
    CellPosition, ColumnRow, DateFilter, ExtractError, InputReader, OfEntities, RowView, TableColumns,
};

use crate::compute::features::LAST_N_GAMES;
use crate::inputs::{
    DateInputs, DateRows, History, HistoryRows, NbacScheduleRow, PlayerCompositeFactorsRow,
    PlayerDailyCacheRow, PlayerGameSummaryRow, PlayerShotZoneAnalysisRow, TeamDefenseZoneAnalysisRow,
    TeamOffenseGameSummaryRow, UpcomingPlayerGameContextRow,
};

/// History read per chunk before its first date. It covers the season stats and completeness
/// counts of every date of the chunk (a season starts less than a year before any of its
/// dates) and, for a player who played at least 10 games in it, his last 10 games (README §4
/// item 17). The last 10 of a player with fewer games in it, back from a long injury, reach
/// further back, into any season: [`older_games`] reads those.
const HISTORY_DAYS: u64 = 400;

const PLAYER_CONTEXT_COLUMNS: &[&str] = &[
    "player_lookup",
    "universal_player_id",
    "game_id",
    "game_date",
    "team_abbr",
    "opponent_team_abbr",
    "home_game",
    "back_to_back",
    "season_phase",
    "days_rest",
    "opponent_days_rest",
    "player_status",
    "processed_at",
];
const DAILY_CACHE_COLUMNS: &[&str] = &[
    "player_lookup",
    "cache_date",
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "minutes_avg_last_10",
    "team_pace_last_10",
    "team_off_rating_last_10",
    "games_in_last_7_days",
    "paint_rate_last_10",
    "three_pt_rate_last_10",
    "is_production_ready",
    "data_hash",
    "processed_at",
];
const COMPOSITE_COLUMNS: &[&str] = &[
    "player_lookup",
    "game_date",
    "fatigue_score",
    "shot_zone_mismatch_score",
    "pace_score",
    "usage_spike_score",
    "is_production_ready",
    "data_hash",
    "processed_at",
];
const SHOT_ZONE_COLUMNS: &[&str] = &[
    "player_lookup",
    "analysis_date",
    "paint_rate_last_10",
    "mid_range_rate_last_10",
    "three_pt_rate_last_10",
    "is_production_ready",
    "data_hash",
    "processed_at",
];
const TEAM_DEFENSE_COLUMNS: &[&str] = &[
    "team_abbr",
    "analysis_date",
    "defensive_rating_last_15",
    "opponent_pace",
    "is_production_ready",
    "data_hash",
    "processed_at",
];
const GAME_SUMMARY_COLUMNS: &[&str] = &[
    "player_lookup",
    "game_id",
    "game_date",
    "team_abbr",
    "season_year",
    "points",
    "minutes_played",
    "ft_makes",
    "processed_at",
];
const TEAM_OFFENSE_COLUMNS: &[&str] = &["team_abbr", "game_date", "season_year", "win_flag", "processed_at"];
const SCHEDULE_COLUMNS: &[&str] =
    &["game_id", "game_date", "game_status", "home_team_tricode", "away_team_tricode", "processed_at"];

/// Every table read and the columns read from it, in the order of the reads (the reliability
/// tests set each column to NULL in turn). The older games are `player_game_summary` rows read
/// with the same columns as its history, so the table is listed once.
pub const COLUMNS_READ: [(&Table, &[&str]); 9] = [
    (&UPCOMING_PLAYER_GAME_CONTEXT, PLAYER_CONTEXT_COLUMNS),
    (&PLAYER_DAILY_CACHE, DAILY_CACHE_COLUMNS),
    (&PLAYER_COMPOSITE_FACTORS, COMPOSITE_COLUMNS),
    (&PLAYER_SHOT_ZONE_ANALYSIS, SHOT_ZONE_COLUMNS),
    (&TEAM_DEFENSE_ZONE_ANALYSIS, TEAM_DEFENSE_COLUMNS),
    (&REPROCESS_ATTEMPTS, REPROCESS_ATTEMPT_COLUMNS),
    (&PLAYER_GAME_SUMMARY, GAME_SUMMARY_COLUMNS),
    (&TEAM_OFFENSE_GAME_SUMMARY, TEAM_OFFENSE_COLUMNS),
    (&NBAC_SCHEDULE, SCHEDULE_COLUMNS),
];

/// Reads and indexes the inputs of every date of `dates`.
///
/// # Errors
/// A query fails, or a row lacks a key column.
pub async fn extract_dates(
    reader: &InputReader<'_>,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, DateInputs>, ExtractError> {
    let (Some(&first), Some(&last)) = (dates.iter().min(), dates.iter().max()) else {
        return Ok(BTreeMap::new());
    };
    let on_dates = || DateFilter::On(dates.to_vec());
    let since = first.checked_sub_days(Days::new(HISTORY_DAYS)).unwrap_or(first);
    let history_window =
        DateFilter::Before { since, before: last.checked_add_days(Days::new(1)).unwrap_or(last) };
    let players_of_chunk = OfEntities::players_playing_on(dates);
    // The player history first: the largest read, and what the date waits for (the warehouse
    // may run reads in the order they are issued); its older games with it, on the other core.
    let (games, older, players, caches, composites, shot_zones, defenses, attempts, team_games, schedule) = tokio::try_join!(
        reader.read_columns_of(
            &PLAYER_GAME_SUMMARY,
            GAME_SUMMARY_COLUMNS,
            "game_date",
            history_window.clone(),
            &players_of_chunk
        ),
        reader.read_columns_of(
            &PLAYER_GAME_SUMMARY,
            GAME_SUMMARY_COLUMNS,
            "game_date",
            older_games(since, first),
            &players_of_chunk
        ),
        reader.read(&UPCOMING_PLAYER_GAME_CONTEXT, PLAYER_CONTEXT_COLUMNS, "game_date", on_dates()),
        reader.read(&PLAYER_DAILY_CACHE, DAILY_CACHE_COLUMNS, "cache_date", on_dates()),
        reader.read(&PLAYER_COMPOSITE_FACTORS, COMPOSITE_COLUMNS, "game_date", on_dates()),
        reader.read(&PLAYER_SHOT_ZONE_ANALYSIS, SHOT_ZONE_COLUMNS, "analysis_date", on_dates()),
        reader.read(&TEAM_DEFENSE_ZONE_ANALYSIS, TEAM_DEFENSE_COLUMNS, "analysis_date", on_dates()),
        reader.read(&REPROCESS_ATTEMPTS, REPROCESS_ATTEMPT_COLUMNS, "analysis_date", on_dates()),
        reader.read(&TEAM_OFFENSE_GAME_SUMMARY, TEAM_OFFENSE_COLUMNS, "game_date", history_window.clone()),
        reader.read(&NBAC_SCHEDULE, SCHEDULE_COLUMNS, "game_date", history_window.clone()),
    )?;

    let at = GameSummaryPositions::of(&games);
    let mut player_games = games.convert(|row| game_summary_row(row, &at))?;
    // After the window's rows: only the players they belong to (none on most dates) then need
    // their games sorted by `History::build`, which also resolves copies across both reads.
    let older_at = GameSummaryPositions::of(&older);
    player_games.extend(older.convert(|row| game_summary_row(row, &older_at))?);
    let (history, history_duplicates) = History::build(HistoryRows {
        player_game_summary: player_games,
        team_offense_game_summary: team_games.convert(team_offense_row)?,
        nbac_schedule: schedule.convert(schedule_row)?,
    });
    reader.log_duplicates(None, &history_duplicates);
    let history = Arc::new(history);
    let mut rows_by_date: BTreeMap<NaiveDate, DateRows> = BTreeMap::new();
    for row in players.iter().map(player_context_row) {
        let row = row?;
        rows_by_date.entry(row.game_date).or_default().upcoming_player_game_context.push(row);
    }
    for row in caches.iter().map(daily_cache_row) {
        let row = row?;
        rows_by_date.entry(row.cache_date).or_default().player_daily_cache.push(row);
    }
    for row in composites.iter().map(composite_row) {
        let row = row?;
        rows_by_date.entry(row.game_date).or_default().player_composite_factors.push(row);
    }
    for row in shot_zones.iter().map(shot_zone_row) {
        let row = row?;
        rows_by_date.entry(row.analysis_date).or_default().player_shot_zone_analysis.push(row);
    }
    for row in defenses.iter().map(team_defense_row) {
        let row = row?;
        rows_by_date.entry(row.analysis_date).or_default().team_defense_zone_analysis.push(row);
    }
    for row in attempts.iter().map(ReprocessAttemptRow::from_row) {
        let row = row?;
        rows_by_date.entry(row.analysis_date).or_default().reprocess_attempts.push(row);
    }
    let mut inputs = BTreeMap::new();
    for &date in dates {
        let rows = rows_by_date.remove(&date).unwrap_or_default();
        let (date_inputs, duplicates) = DateInputs::build(date, rows, Arc::clone(&history));
        reader.log_duplicates(Some(date), &duplicates);
        inputs.insert(date, date_inputs);
    }
    Ok(inputs)
}

/// The games before `since` that the last 10 of a date of the chunk may need: per player, those
/// of his 10 most recent games before the chunk's `first` date that `since` leaves out of the
/// history window (README §4 item 17: any season). Their rows count in the
/// `player_game_summary (history)` digest of every date of the chunk, as the window's do
/// (README §4 item 7), so a change to an old game a date read makes the date run again.
///
/// A player with 10 games in `since..first` gets none, and is left out before the warehouse
/// ranks games, so on most dates the read returns nothing or a returning player's few rows.
/// Reading every player's 10 latest games before `since` instead would be simpler SQL but, in a
/// warehouse holding earlier seasons, return 10 rows for each of the ~450 players of a date,
/// nearly a fifth of the history read, to be converted, digested and thrown away, and rank
/// every player's older seasons to find them.
///
/// Season stats keep to `season_year` = the date's season (`SeasonStats::from_history`), which
/// no row before `since` has (its `season_year` being that of its date): `since` is 400 days
/// before the chunk's first date and a season is shorter than a year. The completeness counts
/// (`readiness`) count dates from October 1 of the season on, also after `since`, and take the
/// team of the player's latest game: for a player without a game in the window that is now his
/// last team, as the reference's query across seasons found it (reference-mlfs.md §2.6).
fn older_games(since: NaiveDate, first: NaiveDate) -> DateFilter {
    DateFilter::players_latest_games(since, first, LAST_N_GAMES)
}

fn player_context_row(row: RowView<'_>) -> Result<UpcomingPlayerGameContextRow, ExtractError> {
    Ok(UpcomingPlayerGameContextRow {
        player_lookup: row.required_short_text("player_lookup")?,
        universal_player_id: row.short_text("universal_player_id"),
        game_id: row.short_text("game_id"),
        game_date: row.required_date("game_date")?,
        team_abbr: row.text("team_abbr"),
        opponent_team_abbr: row.short_text("opponent_team_abbr"),
        home_game: row.flag("home_game"),
        back_to_back: row.flag("back_to_back"),
        season_phase: row.text("season_phase"),
        days_rest: row.int("days_rest"),
        opponent_days_rest: row.int("opponent_days_rest"),
        player_status: row.text("player_status"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn daily_cache_row(row: RowView<'_>) -> Result<PlayerDailyCacheRow, ExtractError> {
    Ok(PlayerDailyCacheRow {
        player_lookup: row.required_text("player_lookup")?,
        cache_date: row.required_date("cache_date")?,
        points_avg_last_5: row.float("points_avg_last_5"),
        points_avg_last_10: row.float("points_avg_last_10"),
        points_avg_season: row.float("points_avg_season"),
        points_std_last_10: row.float("points_std_last_10"),
        minutes_avg_last_10: row.float("minutes_avg_last_10"),
        team_pace_last_10: row.float("team_pace_last_10"),
        team_off_rating_last_10: row.float("team_off_rating_last_10"),
        games_in_last_7_days: row.int("games_in_last_7_days"),
        paint_rate_last_10: row.float("paint_rate_last_10"),
        three_pt_rate_last_10: row.float("three_pt_rate_last_10"),
        is_production_ready: row.flag("is_production_ready"),
        data_hash: row.text("data_hash"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn composite_row(row: RowView<'_>) -> Result<PlayerCompositeFactorsRow, ExtractError> {
    Ok(PlayerCompositeFactorsRow {
        player_lookup: row.required_text("player_lookup")?,
        game_date: row.required_date("game_date")?,
        fatigue_score: row.int("fatigue_score"),
        shot_zone_mismatch_score: row.float("shot_zone_mismatch_score"),
        pace_score: row.float("pace_score"),
        usage_spike_score: row.float("usage_spike_score"),
        is_production_ready: row.flag("is_production_ready"),
        data_hash: row.text("data_hash"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn shot_zone_row(row: RowView<'_>) -> Result<PlayerShotZoneAnalysisRow, ExtractError> {
    Ok(PlayerShotZoneAnalysisRow {
        player_lookup: row.required_text("player_lookup")?,
        analysis_date: row.required_date("analysis_date")?,
        paint_rate_last_10: row.float("paint_rate_last_10"),
        mid_range_rate_last_10: row.float("mid_range_rate_last_10"),
        three_pt_rate_last_10: row.float("three_pt_rate_last_10"),
        is_production_ready: row.flag("is_production_ready"),
        data_hash: row.text("data_hash"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn team_defense_row(row: RowView<'_>) -> Result<TeamDefenseZoneAnalysisRow, ExtractError> {
    Ok(TeamDefenseZoneAnalysisRow {
        team_abbr: row.required_text("team_abbr")?,
        analysis_date: row.required_date("analysis_date")?,
        defensive_rating_last_15: row.float("defensive_rating_last_15"),
        opponent_pace: row.float("opponent_pace"),
        is_production_ready: row.flag("is_production_ready"),
        data_hash: row.text("data_hash"),
        processed_at: row.timestamp("processed_at"),
    })
}

/// Where each column of a history row sits: the history is tens of thousands of rows.
struct GameSummaryPositions {
    player_lookup: CellPosition,
    game_id: CellPosition,
    game_date: CellPosition,
    team_abbr: CellPosition,
    season_year: CellPosition,
    points: CellPosition,
    minutes_played: CellPosition,
    ft_makes: CellPosition,
    processed_at: CellPosition,
}

impl GameSummaryPositions {
    fn of(rows: &TableColumns) -> GameSummaryPositions {
        GameSummaryPositions {
            player_lookup: rows.position("player_lookup"),
            game_id: rows.position("game_id"),
            game_date: rows.position("game_date"),
            team_abbr: rows.position("team_abbr"),
            season_year: rows.position("season_year"),
            points: rows.position("points"),
            minutes_played: rows.position("minutes_played"),
            ft_makes: rows.position("ft_makes"),
            processed_at: rows.position("processed_at"),
        }
    }
}

fn game_summary_row<'a>(
    row: ColumnRow<'a>,
    at: &GameSummaryPositions,
) -> Result<PlayerGameSummaryRow<'a>, ExtractError> {
    Ok(PlayerGameSummaryRow {
        player_lookup: row.required_text(at.player_lookup)?.into(),
        game_id: row.required_text(at.game_id)?.into(),
        game_date: row.required_date(at.game_date)?,
        team_abbr: row.text(at.team_abbr).map(Cow::Borrowed),
        season_year: row.cell(at.season_year).as_i64(),
        points: row.cell(at.points).as_i64(),
        minutes_played: row.cell(at.minutes_played).as_f64(),
        ft_makes: row.cell(at.ft_makes).as_i64(),
        processed_at: row.cell(at.processed_at).as_timestamp(),
    })
}

fn team_offense_row(row: RowView<'_>) -> Result<TeamOffenseGameSummaryRow, ExtractError> {
    Ok(TeamOffenseGameSummaryRow {
        team_abbr: row.required_text("team_abbr")?,
        game_date: row.required_date("game_date")?,
        season_year: row.int("season_year"),
        win_flag: row.flag("win_flag"),
        processed_at: row.timestamp("processed_at"),
    })
}

fn schedule_row(row: RowView<'_>) -> Result<NbacScheduleRow, ExtractError> {
    Ok(NbacScheduleRow {
        game_id: row.required_text("game_id")?,
        game_date: row.required_date("game_date")?,
        game_status: row.int("game_status"),
        home_team_tricode: row.text("home_team_tricode"),
        away_team_tricode: row.text("away_team_tricode"),
        processed_at: row.timestamp("processed_at"),
    })
}
