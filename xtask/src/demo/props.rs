//! `nba_raw.odds_api_player_points_props`: points lines of the main players of every game, from
//! several bookmakers at two or three snapshots before tip-off.
//!
//! The main players are the seven best available (not injured) players of each team. A line sits
//! near the player's recent scoring: the mean of his last 10 games shrunk toward his profile's
//! expectation (two pseudo-games), plus noise, always at x.5. Bookmakers differ by a point at
//! most, and each later snapshot may move the line by a point.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use framework::schema::raw::ODDS_API_PLAYER_POINTS_PROPS;
use framework::value::{ToValue, Value};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{at_hour, tipoff};
use super::history::{SeasonIndex, last};
use super::roster::Roster;
use super::sampling::{chance, normal};
use super::simulation::SimulatedGame;

/// Bookmakers (Odds API keys) and the chance each prices a given player.
const BOOKMAKERS: [(&str, f64); 5] =
    [("draftkings", 0.97), ("fanduel", 0.95), ("betmgm", 0.8), ("williamhill_us", 0.6), ("betrivers", 0.4)];
/// Players per team with a market.
const MAIN_PLAYERS_PER_TEAM: usize = 7;
/// Snapshot hours (UTC) on the game date: three snapshots, or the first and last of them.
const SNAPSHOT_HOURS: [u32; 3] = [16, 20, 23];

/// The line a consumer selects for one player and game: draftkings, then fanduel, then the
/// alphabetically first bookmaker (README §4 item 12); current = that bookmaker's latest snapshot,
/// opening = its earliest.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedLine {
    pub bookmaker: String,
    pub current_line: f64,
    pub opening_line: f64,
}

/// The props table and the selected line per (game index, player id).
pub struct PropMarkets {
    pub rows: Vec<Vec<Value>>,
    pub selected: BTreeMap<(usize, usize), SelectedLine>,
}

/// One bookmaker's line for one player at one snapshot.
struct Quote<'name> {
    bookmaker: &'name str,
    snapshot: DateTime<Utc>,
    line: f64,
}

pub fn generate_props(rng: &mut ChaCha8Rng, index: &SeasonIndex, roster: &Roster) -> PropMarkets {
    let mut markets = PropMarkets { rows: Vec::new(), selected: BTreeMap::new() };
    for (game_index, game) in index.games.iter().enumerate() {
        let event_id = format!("{:032x}", rng.random::<u128>());
        let snapshot_count = if chance(rng, 0.5) { 3 } else { 2 };
        let snapshots = snapshot_times(game.game_date(), snapshot_count);
        for (team, _, _) in game.sides() {
            let main_players = team.lines.iter().filter(|line| line.available()).take(MAIN_PLAYERS_PER_TEAM);
            for line in main_players {
                let baseline = recent_scoring(index, roster, line.player_id, game.game_date(), line.starter);
                let quotes = quote_player(rng, baseline, &snapshots);
                for quote in &quotes {
                    markets.rows.push(prop_row(game, &event_id, roster, line.player_id, quote));
                }
                if let Some(selected) = select_line(&quotes) {
                    markets.selected.insert((game_index, line.player_id), selected);
                }
            }
        }
    }
    markets
}

/// Mean points of the last 10 games before the date, shrunk toward the profile's expectation
/// (starter 32 minutes, bench 20) by two pseudo-games.
fn recent_scoring(
    index: &SeasonIndex,
    roster: &Roster,
    player_id: usize,
    game_date: NaiveDate,
    starter: bool,
) -> f64 {
    let profile = &roster.players[player_id].profile;
    let expected_minutes = if starter { 32.0 } else { 20.0 };
    let prior = profile.points_per_36 * expected_minutes / 36.0;
    let recent = last(index.player_games_before(player_id, game_date), 10);
    let recent_points: i64 = recent.iter().map(|game| game.line.points()).sum();
    (recent_points as f64 + 2.0 * prior) / (recent.len() as f64 + 2.0)
}

fn snapshot_times(game_date: NaiveDate, count: usize) -> Vec<DateTime<Utc>> {
    let hours: &[u32] = if count == 3 { &SNAPSHOT_HOURS } else { &[SNAPSHOT_HOURS[0], SNAPSHOT_HOURS[2]] };
    hours.iter().map(|hour| at_hour(game_date, *hour)).collect()
}

/// Every bookmaker's x.5 line at every snapshot.
fn quote_player<'name>(
    rng: &mut ChaCha8Rng,
    baseline: f64,
    snapshots: &[DateTime<Utc>],
) -> Vec<Quote<'name>> {
    let consensus = normal(rng, baseline, 0.8).floor().max(0.0) + 0.5;
    let mut quotes = Vec::new();
    for (bookmaker, coverage) in BOOKMAKERS {
        if !chance(rng, coverage) {
            continue;
        }
        let offset = if chance(rng, 0.3) { f64::from(rng.random_range(-1i32..=1)) } else { 0.0 };
        let mut line = (consensus + offset).max(0.5);
        for snapshot in snapshots {
            quotes.push(Quote { bookmaker, snapshot: *snapshot, line });
            if chance(rng, 0.25) {
                line = (line + if chance(rng, 0.5) { 1.0 } else { -1.0 }).max(0.5);
            }
        }
    }
    quotes
}

/// The selection rule of README §4 item 12 over one player's quotes.
fn select_line(quotes: &[Quote]) -> Option<SelectedLine> {
    let priority = |bookmaker: &str| match bookmaker {
        "draftkings" => (0, String::new()),
        "fanduel" => (1, String::new()),
        other => (2, other.to_owned()),
    };
    let bookmaker = quotes.iter().map(|quote| quote.bookmaker).min_by_key(|bookmaker| priority(bookmaker))?;
    let own: Vec<&Quote> = quotes.iter().filter(|quote| quote.bookmaker == bookmaker).collect();
    let latest = own.iter().max_by_key(|quote| quote.snapshot)?;
    let earliest = own.iter().min_by_key(|quote| quote.snapshot)?;
    Some(SelectedLine {
        bookmaker: bookmaker.to_owned(),
        current_line: latest.line,
        opening_line: earliest.line,
    })
}

/// The American prices of the over and the under, picked by `line_hash` from opposite ends of
/// one list (`decimal_price` gives their decimal form).
fn prices(line_hash: u64) -> (i64, i64) {
    const AMERICAN: [i64; 6] = [-125, -120, -115, -110, -105, 100];
    let over = AMERICAN[(line_hash % 6) as usize];
    let under = AMERICAN[5 - (line_hash % 6) as usize];
    (over, under)
}

fn decimal_price(american: i64) -> f64 {
    let decimal = if american < 0 { 1.0 + 100.0 / (-american) as f64 } else { 1.0 + american as f64 / 100.0 };
    framework::rounding::round_half_even(decimal, 2)
}

fn prop_row(
    game: &SimulatedGame,
    event_id: &str,
    roster: &Roster,
    player_id: usize,
    quote: &Quote,
) -> Vec<Value> {
    let player = &roster.players[player_id];
    let schedule = &game.schedule;
    let start = tipoff(schedule.game_date);
    let (over, under) =
        prices((player_id as u64).wrapping_mul(31).wrapping_add(quote.snapshot.timestamp() as u64 / 3600));
    ODDS_API_PLAYER_POINTS_PROPS.row(vec![
        ("game_id", game.game_id.to_value()),
        ("odds_api_event_id", event_id.to_value()),
        ("game_date", schedule.game_date.to_value()),
        ("game_start_time", start.to_value()),
        ("home_team_abbr", schedule.home_team_abbr.to_value()),
        ("away_team_abbr", schedule.away_team_abbr.to_value()),
        ("snapshot_timestamp", quote.snapshot.to_value()),
        ("snapshot_tag", format!("snap-{}", quote.snapshot.format("%H%M")).to_value()),
        ("capture_timestamp", quote.snapshot.to_value()),
        ("minutes_before_tipoff", (start - quote.snapshot).num_minutes().to_value()),
        ("bookmaker", quote.bookmaker.to_value()),
        ("player_name", player.full_name.to_value()),
        ("player_lookup", player.player_lookup.to_value()),
        ("points_line", quote.line.to_value()),
        ("over_price", decimal_price(over).to_value()),
        ("over_price_american", over.to_value()),
        ("under_price", decimal_price(under).to_value()),
        ("under_price_american", under.to_value()),
        ("bookmaker_last_update", (quote.snapshot - Duration::minutes(3)).to_value()),
        (
            "source_file_path",
            format!("demo/odds-api/player-props/{}/{event_id}.json", schedule.game_date).to_value(),
        ),
        ("data_source", "demo".to_value()),
        ("processed_at", quote.snapshot.to_value()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(bookmaker: &'static str, hour: u32, line: f64) -> Quote<'static> {
        Quote { bookmaker, snapshot: at_hour("2024-11-01".parse().unwrap(), hour), line }
    }

    #[test]
    fn selection_prefers_draftkings_then_fanduel_then_alphabetical_and_the_latest_snapshot() {
        let quotes = [quote("betmgm", 23, 20.5), quote("fanduel", 16, 18.5), quote("fanduel", 23, 19.5)];
        let selected = select_line(&quotes).unwrap();
        assert_eq!(
            selected,
            SelectedLine { bookmaker: "fanduel".into(), current_line: 19.5, opening_line: 18.5 }
        );
        let quotes = [quote("williamhill_us", 23, 20.5), quote("betmgm", 16, 21.5)];
        assert_eq!(select_line(&quotes).unwrap().bookmaker, "betmgm");
        assert_eq!(select_line(&[]), None);
    }

    #[test]
    fn american_prices_convert_to_decimal() {
        assert_eq!(decimal_price(-110), 1.91);
        assert_eq!(decimal_price(100), 2.0);
        assert_eq!(decimal_price(-125), 1.8);
    }
}
