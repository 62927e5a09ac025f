//! `nba_reference.nba_players_registry`: one row per player per team he was on this season
//! (a traded player has two), with his appearance counts there. A few players are deliberately
//! left out (`Player::in_registry`), so PGS meets unresolved names as it does in production.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use framework::schema::reference::NBA_PLAYERS_REGISTRY;
use framework::value::{ToValue, Value};

use super::calendar::morning_after;
use super::roster::Roster;
use super::simulation::{LineStatus, SimulatedGame};

/// A player's appearances for one team.
#[derive(Clone, Copy, Debug, Default)]
struct Appearances {
    first_game_date: Option<NaiveDate>,
    last_game_date: Option<NaiveDate>,
    games_played: i64,
    total: i64,
    inactive: i64,
    dnp: i64,
}

/// Rows for `season_label` (e.g. `2024-25`), by player then stint.
pub fn registry_rows(games: &[SimulatedGame], roster: &Roster, season_label: &str) -> Vec<Vec<Value>> {
    let appearances = count_appearances(games);
    let updated_at = games.last().map(|game| morning_after(game.game_date()));
    roster
        .stints
        .iter()
        .filter(|stint| roster.players[stint.player_id].in_registry)
        .map(|stint| {
            let player = &roster.players[stint.player_id];
            let counts =
                appearances.get(&(stint.player_id, stint.team_abbr.as_str())).copied().unwrap_or_default();
            NBA_PLAYERS_REGISTRY.row(vec![
                ("universal_player_id", player.universal_player_id().to_value()),
                ("player_name", player.full_name.to_value()),
                ("player_lookup", player.player_lookup.to_value()),
                ("team_abbr", stint.team_abbr.to_value()),
                ("season", season_label.to_value()),
                ("first_game_date", counts.first_game_date.to_value()),
                ("last_game_date", counts.last_game_date.to_value()),
                ("games_played", counts.games_played.to_value()),
                ("total_appearances", counts.total.to_value()),
                ("inactive_appearances", counts.inactive.to_value()),
                ("dnp_appearances", counts.dnp.to_value()),
                ("jersey_number", player.jersey_number.to_value()),
                ("position", player.position.code().to_value()),
                ("source_priority", "nbac_gamebook".to_value()),
                ("confidence_score", 1.0.to_value()),
                ("last_processor", "demo_season_generator".to_value()),
                ("last_gamebook_activity_date", counts.last_game_date.to_value()),
                ("created_by", "demo_season_generator".to_value()),
                ("created_at", updated_at.to_value()),
                ("processed_at", updated_at.to_value()),
            ])
        })
        .collect()
}

fn count_appearances(games: &[SimulatedGame]) -> BTreeMap<(usize, &str), Appearances> {
    let mut appearances: BTreeMap<(usize, &str), Appearances> = BTreeMap::new();
    for game in games {
        for (team, _, _) in game.sides() {
            for line in &team.lines {
                let counts = appearances.entry((line.player_id, team.team_abbr.as_str())).or_default();
                counts.total += 1;
                match line.status {
                    LineStatus::Played => {
                        counts.games_played += 1;
                        counts.first_game_date.get_or_insert(game.game_date());
                        counts.last_game_date = Some(game.game_date());
                    }
                    LineStatus::CoachDecision => counts.dnp += 1,
                    LineStatus::Injured => counts.inactive += 1,
                }
            }
        }
    }
    appearances
}
