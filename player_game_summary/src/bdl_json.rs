//! Conversion of a balldontlie box-score API response (`{"data": [game, …]}`, the shape of
//! `shared/data/real/2024-01-15/bdl_box_scores_2024-01-15.json`) into [`BdlBoxscoreRow`]s, as the
//! raw BDL processor would store them.
//!
//! Used by tests to feed real box scores through the computation, and by the lead's loader to
//! put that file into `nba_raw.bdl_player_boxscores`. The game id is built in the box-score form
//! `YYYYMMDD_AWAY_HOME`; `player_lookup` is [`normalize_player_lookup`] of the full name;
//! `processed_at` is left `None` for the loader to stamp.

use chrono::{DateTime, NaiveDate, Utc};
use framework::schema::raw::BDL_PLAYER_BOXSCORES;
use framework::{ToValue, Value};
use serde::Deserialize;

use crate::inputs::{BdlBoxscoreRow, normalize_player_lookup};

/// Why an API response could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum BdlJsonError {
    #[error("invalid balldontlie box-score json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid game date {value:?} in balldontlie box scores: expected YYYY-MM-DD")]
    GameDate { value: String },
}

#[derive(Deserialize)]
struct ApiResponse {
    data: Vec<ApiGame>,
}

#[derive(Deserialize)]
struct ApiGame {
    date: String,
    season: i64,
    status: Option<String>,
    home_team_score: Option<i64>,
    visitor_team_score: Option<i64>,
    home_team: ApiTeam,
    visitor_team: ApiTeam,
}

#[derive(Deserialize)]
struct ApiTeam {
    abbreviation: String,
    #[serde(default)]
    players: Vec<ApiPlayerLine>,
}

#[derive(Deserialize)]
struct ApiPlayerLine {
    min: Option<String>,
    fgm: Option<i64>,
    fga: Option<i64>,
    fg3m: Option<i64>,
    fg3a: Option<i64>,
    ftm: Option<i64>,
    fta: Option<i64>,
    oreb: Option<i64>,
    dreb: Option<i64>,
    reb: Option<i64>,
    ast: Option<i64>,
    stl: Option<i64>,
    blk: Option<i64>,
    turnover: Option<i64>,
    pf: Option<i64>,
    pts: Option<i64>,
    player: ApiPlayer,
}

#[derive(Deserialize)]
struct ApiPlayer {
    id: Option<i64>,
    first_name: String,
    last_name: String,
}

/// One row per player line of every game, home team's players first, in the file's order.
///
/// # Errors
/// When the text is not a box-score response, or a game date is not `YYYY-MM-DD` (a trailing
/// time, as later API versions send, is accepted).
pub fn bdl_rows_from_api_json(text: &str) -> Result<Vec<BdlBoxscoreRow>, BdlJsonError> {
    let response: ApiResponse = serde_json::from_str(text)?;
    let mut rows = Vec::new();
    for game in response.data {
        let game_date = parse_game_date(&game.date)?;
        for team in [&game.home_team, &game.visitor_team] {
            rows.extend(team.players.iter().map(|line| boxscore_row(&game, game_date, team, line)));
        }
    }
    Ok(rows)
}

/// The rows as cells of `nba_raw.bdl_player_boxscores`, stamped with the file they came from
/// and the time they were loaded (the raw processor's bookkeeping columns).
pub fn bdl_table_rows(
    rows: &[BdlBoxscoreRow],
    source_file_path: &str,
    loaded_at: DateTime<Utc>,
) -> Vec<Vec<Value>> {
    rows.iter()
        .map(|row| {
            BDL_PLAYER_BOXSCORES.row(vec![
                ("game_id", row.game_id.to_value()),
                ("game_date", row.game_date.to_value()),
                ("season_year", row.season_year.to_value()),
                ("game_status", row.game_status.to_value()),
                ("is_postseason", false.to_value()),
                ("home_team_abbr", row.home_team_abbr.to_value()),
                ("away_team_abbr", row.away_team_abbr.to_value()),
                ("home_team_score", row.home_team_score.to_value()),
                ("away_team_score", row.away_team_score.to_value()),
                ("team_abbr", row.team_abbr.to_value()),
                ("player_full_name", row.player_full_name.to_value()),
                ("player_lookup", row.player_lookup.to_value()),
                ("bdl_player_id", row.bdl_player_id.to_value()),
                ("minutes", row.minutes.to_value()),
                ("points", row.points.to_value()),
                ("assists", row.assists.to_value()),
                ("rebounds", row.rebounds.to_value()),
                ("offensive_rebounds", row.offensive_rebounds.to_value()),
                ("defensive_rebounds", row.defensive_rebounds.to_value()),
                ("steals", row.steals.to_value()),
                ("blocks", row.blocks.to_value()),
                ("turnovers", row.turnovers.to_value()),
                ("personal_fouls", row.personal_fouls.to_value()),
                ("field_goals_made", row.field_goals_made.to_value()),
                ("field_goals_attempted", row.field_goals_attempted.to_value()),
                ("three_pointers_made", row.three_pointers_made.to_value()),
                ("three_pointers_attempted", row.three_pointers_attempted.to_value()),
                ("free_throws_made", row.free_throws_made.to_value()),
                ("free_throws_attempted", row.free_throws_attempted.to_value()),
                ("source_file_path", source_file_path.to_value()),
                ("created_at", loaded_at.to_value()),
                ("processed_at", row.processed_at.unwrap_or(loaded_at).to_value()),
            ])
        })
        .collect()
}

fn parse_game_date(value: &str) -> Result<NaiveDate, BdlJsonError> {
    let day = value.get(..10).unwrap_or(value);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| BdlJsonError::GameDate { value: value.to_owned() })
}

fn boxscore_row(
    game: &ApiGame,
    game_date: NaiveDate,
    team: &ApiTeam,
    line: &ApiPlayerLine,
) -> BdlBoxscoreRow {
    let (home, away) = (&game.home_team.abbreviation, &game.visitor_team.abbreviation);
    let player_full_name = format!("{} {}", line.player.first_name.trim(), line.player.last_name.trim());
    BdlBoxscoreRow {
        game_id: format!("{}_{away}_{home}", game_date.format("%Y%m%d")),
        game_date,
        season_year: game.season,
        game_status: game.status.clone(),
        home_team_abbr: home.clone(),
        away_team_abbr: away.clone(),
        home_team_score: game.home_team_score,
        away_team_score: game.visitor_team_score,
        team_abbr: team.abbreviation.clone(),
        player_lookup: normalize_player_lookup(&player_full_name),
        player_full_name,
        bdl_player_id: line.player.id,
        minutes: line.min.clone(),
        points: line.pts,
        assists: line.ast,
        rebounds: line.reb,
        offensive_rebounds: line.oreb,
        defensive_rebounds: line.dreb,
        steals: line.stl,
        blocks: line.blk,
        turnovers: line.turnover,
        personal_fouls: line.pf,
        field_goals_made: line.fgm,
        field_goals_attempted: line.fga,
        three_pointers_made: line.fg3m,
        three_pointers_attempted: line.fg3a,
        free_throws_made: line.ftm,
        free_throws_attempted: line.fta,
        processed_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL_BOX_SCORES: &str =
        include_str!("../../../shared/data/real/2024-01-15/bdl_box_scores_2024-01-15.json");

    #[test]
    fn real_file_converts_to_384_lines_of_11_games() {
        let rows = bdl_rows_from_api_json(REAL_BOX_SCORES).unwrap();
        assert_eq!(rows.len(), 384);
        let mut game_ids: Vec<&str> = rows.iter().map(|row| row.game_id.as_str()).collect();
        game_ids.dedup();
        assert_eq!(game_ids.len(), 11);
        assert_eq!(game_ids[0], "20240115_HOU_PHI");
    }

    #[test]
    fn real_line_of_joel_embiid_keeps_every_value() {
        let rows = bdl_rows_from_api_json(REAL_BOX_SCORES).unwrap();
        let embiid = rows.iter().find(|row| row.player_lookup == "joelembiid").unwrap();
        assert_eq!(embiid.game_id, "20240115_HOU_PHI");
        assert_eq!(embiid.game_date, NaiveDate::from_ymd_opt(2024, 1, 15).unwrap());
        assert_eq!(embiid.season_year, 2023);
        assert_eq!((embiid.team_abbr.as_str(), embiid.home_team_abbr.as_str()), ("PHI", "PHI"));
        assert_eq!((embiid.home_team_score, embiid.away_team_score), (Some(124), Some(115)));
        assert_eq!(embiid.player_full_name, "Joel Embiid");
        assert_eq!(embiid.minutes.as_deref(), Some("31"));
        assert_eq!(
            (embiid.points, embiid.field_goals_made, embiid.field_goals_attempted),
            (Some(41), Some(12), Some(21))
        );
        assert_eq!((embiid.free_throws_made, embiid.free_throws_attempted), (Some(16), Some(17)));
        assert_eq!(
            (embiid.offensive_rebounds, embiid.defensive_rebounds, embiid.rebounds),
            (Some(2), Some(8), Some(10))
        );
        assert_eq!(embiid.bdl_player_id, Some(145));
    }

    #[test]
    fn malformed_input_is_a_typed_error() {
        assert!(matches!(bdl_rows_from_api_json("{\"data\": 3}"), Err(BdlJsonError::Json(_))));
        let bad_date = r#"{"data":[{"date":"15/01/2024","season":2023,"status":"Final","home_team_score":1,
            "visitor_team_score":0,"home_team":{"abbreviation":"PHI","players":[]},
            "visitor_team":{"abbreviation":"HOU","players":[]}}]}"#;
        assert!(matches!(bdl_rows_from_api_json(bad_date), Err(BdlJsonError::GameDate { .. })));
    }
}
