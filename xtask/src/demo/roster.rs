//! The league's people: 15 players per team with stable names, ages, positions and playing
//! profiles, and the few trades that move a player to another team mid-season.
//!
//! A player's depth rank (0 = best) decides his minutes slot and his scoring rate; his position
//! decides his shot mix, rebounds, assists and blocks. Trades swap two players of the same depth
//! rank between two teams on one date, so every roster keeps 15 players all season.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use rand_chacha::ChaCha8Rng;

use super::sampling::{chance, normal, uniform};

/// Players per team.
pub const ROSTER_SIZE: usize = 15;
/// Trades per season (each swaps two players).
const TRADES: usize = 4;
/// Players deliberately absent from the registry, so PGS exercises its unresolved-name path.
const PLAYERS_MISSING_FROM_REGISTRY: usize = 3;

const FIRST_NAMES: &[&str] = &[
    "Aaron", "Andre", "Anthony", "Ben", "Brandon", "Caleb", "Cam", "Chris", "Cole", "Darius", "DeMar",
    "D'Angelo", "Derrick", "Devin", "Dillon", "Donovan", "Dylan", "Elijah", "Evan", "Franz", "Gary", "Grant",
    "Isaiah", "Jalen", "Ja'Von", "Jaden", "Jamal", "Jarrett", "Jaylen", "Jonah", "Jordan", "Josh", "Julius",
    "Karl", "Keegan", "Kelly", "Kevin", "Kyle", "Lonzo", "Luka", "Malik", "Marcus", "Mikal", "Miles", "Naz",
    "Nikola", "Norman", "Obi", "Paolo", "Quentin", "RJ", "Reggie", "Scottie", "Shai", "Terry", "Trey",
    "Tyrese", "Victor", "Walker", "Zach",
];

const LAST_NAMES: &[&str] = &[
    "Adams",
    "Allen",
    "Anderson",
    "Bailey",
    "Banks",
    "Barnes",
    "Bell",
    "Brooks",
    "Brown",
    "Bryant",
    "Carter",
    "Clark",
    "Coleman",
    "Collins",
    "Cooper",
    "Davis",
    "Dixon",
    "Edwards",
    "Ellis",
    "Evans",
    "Fisher",
    "Ford",
    "Foster",
    "Gibson",
    "Gordon",
    "Graham",
    "Grant",
    "Green",
    "Griffin",
    "Hall",
    "Harris",
    "Hayes",
    "Hill",
    "Holmes",
    "Howard",
    "Hughes",
    "Jackson",
    "James",
    "Jenkins",
    "Johnson",
    "Jones",
    "Jordan",
    "Kelly",
    "King",
    "Lewis",
    "Lopez",
    "Marshall",
    "Martin",
    "Mason",
    "McDaniels",
    "Miller",
    "Mitchell",
    "Moore",
    "Morris",
    "Murphy",
    "Murray",
    "Nelson",
    "O'Neal",
    "Owens",
    "Parker",
    "Patterson",
    "Perry",
    "Porter",
    "Powell",
    "Price",
    "Reed",
    "Richardson",
    "Roberts",
    "Robinson",
    "Ross",
    "Russell",
    "Sanders",
    "Scott",
    "Simmons",
    "Smith",
    "Stewart",
    "Sullivan",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Walker",
    "Wallace",
    "Washington",
    "Watson",
    "White",
    "Williams",
    "Wilson",
    "Wright",
    "Young",
];

/// Generational suffixes, kept in the name and in the lookup (`Jr.` → `jr`), as the real data does.
const SUFFIXES: &[&str] = &[" Jr.", " II", " III"];

/// Listed positions by depth rank: the starting five are G, G, F, F, C.
const POSITION_BY_DEPTH: [Position; ROSTER_SIZE] = [
    Position::Guard,
    Position::Guard,
    Position::Forward,
    Position::Forward,
    Position::Center,
    Position::Guard,
    Position::Forward,
    Position::Center,
    Position::Guard,
    Position::Forward,
    Position::Forward,
    Position::Guard,
    Position::Center,
    Position::Forward,
    Position::Guard,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Guard,
    Forward,
    Center,
}

impl Position {
    /// The one-letter position of BDL and the registry.
    pub fn code(self) -> &'static str {
        match self {
            Position::Guard => "G",
            Position::Forward => "F",
            Position::Center => "C",
        }
    }
}

/// How a player plays: per-36-minute rates and shooting splits.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayingProfile {
    pub points_per_36: f64,
    /// Share of field-goal attempts that are threes.
    pub three_point_share: f64,
    /// Share of two-point attempts taken in the paint (the rest are mid-range).
    pub paint_share_of_twos: f64,
    /// Free-throw attempts per field-goal attempt.
    pub free_throw_rate: f64,
    pub paint_pct: f64,
    pub mid_range_pct: f64,
    pub three_pt_pct: f64,
    pub free_throw_pct: f64,
    pub rebounds_per_36: f64,
    pub offensive_rebound_share: f64,
    pub assists_per_36: f64,
    pub steals_per_36: f64,
    pub blocks_per_36: f64,
    pub turnovers_per_36: f64,
    pub fouls_per_36: f64,
    /// Share of made field goals that were assisted.
    pub assisted_share: f64,
    /// Multiplies the minutes of the player's slot (a coach's trust), around 1.
    pub minutes_factor: f64,
}

impl PlayingProfile {
    /// Expected points per field-goal attempt, free throws included.
    pub fn points_per_field_goal_attempt(&self) -> f64 {
        let two_point_pct =
            self.paint_share_of_twos * self.paint_pct + (1.0 - self.paint_share_of_twos) * self.mid_range_pct;
        2.0 * (1.0 - self.three_point_share) * two_point_pct
            + 3.0 * self.three_point_share * self.three_pt_pct
            + self.free_throw_rate * self.free_throw_pct
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Player {
    /// Index in [`Roster::players`].
    pub player_id: usize,
    pub full_name: String,
    /// Lowercase letters and digits of the full name (the pipeline's join key).
    pub player_lookup: String,
    pub birth_date: NaiveDate,
    pub position: Position,
    pub jersey_number: i64,
    pub bdl_player_id: i64,
    /// 0 = the team's best player; decides the minutes slot.
    pub depth_rank: usize,
    pub profile: PlayingProfile,
    pub in_registry: bool,
}

impl Player {
    /// Whole years of age on `date`.
    pub fn age_on(&self, date: NaiveDate) -> i64 {
        date.years_since(self.birth_date).map_or(0, i64::from)
    }

    /// The registry's id, `{player_lookup}_001` (reference-pgs.md §2.4), for registered players.
    pub fn universal_player_id(&self) -> Option<String> {
        self.in_registry.then(|| format!("{}_001", self.player_lookup))
    }
}

/// A player's time with one team: from `from` (inclusive) until `until` (exclusive, open-ended
/// when `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stint {
    pub player_id: usize,
    pub team_abbr: String,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Stint {
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.until.is_none_or(|until| date < until)
    }
}

/// How much a team's defence changes its opponents' shooting accuracy, by zone (added to the
/// shooter's probability: positive is a weak defence).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TeamDefense {
    pub paint: f64,
    pub mid_range: f64,
    pub three_pt: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Roster {
    /// Team tricodes, sorted.
    pub teams: Vec<String>,
    /// Each team's defence, by tricode.
    pub defenses: BTreeMap<String, TeamDefense>,
    pub players: Vec<Player>,
    /// Every stint, by player then date.
    pub stints: Vec<Stint>,
}

impl Roster {
    /// The players on `team_abbr` on `date`, best first (depth rank).
    pub fn team_players_on(&self, team_abbr: &str, date: NaiveDate) -> Vec<usize> {
        let mut players: Vec<usize> = self
            .stints
            .iter()
            .filter(|stint| stint.team_abbr == team_abbr && stint.covers(date))
            .map(|stint| stint.player_id)
            .collect();
        players.sort_by_key(|player_id| (self.players[*player_id].depth_rank, *player_id));
        players
    }
}

/// Builds the league: `ROSTER_SIZE` players for each team, then the trades within
/// `[season_start, trade_deadline]`.
pub fn build_roster(
    rng: &mut ChaCha8Rng,
    teams: &BTreeSet<String>,
    season_start: NaiveDate,
    trade_deadline: NaiveDate,
) -> Roster {
    let mut used_lookups = BTreeSet::new();
    let mut players = Vec::with_capacity(teams.len() * ROSTER_SIZE);
    let mut stints = Vec::with_capacity(teams.len() * ROSTER_SIZE + 2 * TRADES);
    for team_abbr in teams {
        for (depth_rank, position) in POSITION_BY_DEPTH.into_iter().enumerate() {
            let player_id = players.len();
            let (full_name, player_lookup) = draw_unique_name(rng, &mut used_lookups);
            players.push(Player {
                player_id,
                full_name,
                player_lookup,
                birth_date: draw_birth_date(rng, season_start),
                position,
                jersey_number: rng_index(rng, 100) as i64,
                bdl_player_id: 1_000 + player_id as i64,
                depth_rank,
                profile: draw_profile(rng, depth_rank, position),
                in_registry: true,
            });
            stints.push(Stint { player_id, team_abbr: team_abbr.clone(), from: season_start, until: None });
        }
    }
    leave_players_out_of_registry(rng, &mut players);
    let team_list: Vec<String> = teams.iter().cloned().collect();
    make_trades(rng, &team_list, &mut stints, &players, season_start, trade_deadline);
    stints.sort_by_key(|stint| (stint.player_id, stint.from));
    let defenses = team_list.iter().map(|team| (team.clone(), draw_defense(rng))).collect();
    Roster { teams: team_list, defenses, players, stints }
}

fn rng_index(rng: &mut ChaCha8Rng, length: usize) -> usize {
    (uniform(rng, 0.0, length as f64) as usize).min(length - 1)
}

fn draw_unique_name(rng: &mut ChaCha8Rng, used_lookups: &mut BTreeSet<String>) -> (String, String) {
    loop {
        let first = FIRST_NAMES[rng_index(rng, FIRST_NAMES.len())];
        let last = LAST_NAMES[rng_index(rng, LAST_NAMES.len())];
        let suffix = if chance(rng, 0.05) { SUFFIXES[rng_index(rng, SUFFIXES.len())] } else { "" };
        let full_name = format!("{first} {last}{suffix}");
        let player_lookup = player_lookup_of(&full_name);
        if used_lookups.insert(player_lookup.clone()) {
            return (full_name, player_lookup);
        }
    }
}

/// The pipeline's player key: the lowercase ASCII letters and digits of the name, in order.
pub fn player_lookup_of(full_name: &str) -> String {
    full_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|character| character.to_ascii_lowercase())
        .collect()
}

/// Ages 19–37 on opening night, skewed young as NBA rosters are.
fn draw_birth_date(rng: &mut ChaCha8Rng, season_start: NaiveDate) -> NaiveDate {
    let age_years = 19.0 + 18.0 * uniform(rng, 0.0, 1.0).powf(1.4);
    let age_days = (age_years * 365.25) as u64;
    season_start.checked_sub_days(Days::new(age_days)).unwrap_or(season_start)
}

/// Per-36 rates by depth (stars score more) and position (centers rebound and block, guards
/// pass and shoot threes).
fn draw_profile(rng: &mut ChaCha8Rng, depth_rank: usize, position: Position) -> PlayingProfile {
    let points_per_36 = match depth_rank {
        0 => uniform(rng, 24.0, 31.0),
        1 => uniform(rng, 19.0, 25.0),
        2..=4 => uniform(rng, 14.0, 20.0),
        5..=8 => uniform(rng, 12.0, 17.0),
        _ => uniform(rng, 8.0, 14.0),
    };
    let (three_point_share, paint_share_of_twos, rebounds, assists, blocks) = match position {
        Position::Guard => (uniform(rng, 0.42, 0.58), uniform(rng, 0.40, 0.60), 4.5, 6.5, 0.4),
        Position::Forward => (uniform(rng, 0.32, 0.50), uniform(rng, 0.50, 0.70), 7.0, 3.5, 0.8),
        Position::Center => (uniform(rng, 0.05, 0.28), uniform(rng, 0.75, 0.92), 11.0, 2.8, 1.8),
    };
    PlayingProfile {
        points_per_36,
        three_point_share,
        paint_share_of_twos,
        free_throw_rate: uniform(rng, 0.15, 0.35),
        paint_pct: uniform(rng, 0.58, 0.70),
        mid_range_pct: uniform(rng, 0.40, 0.50),
        three_pt_pct: uniform(rng, 0.32, 0.40),
        free_throw_pct: uniform(rng, 0.68, 0.90),
        rebounds_per_36: rebounds * uniform(rng, 0.8, 1.2),
        offensive_rebound_share: if position == Position::Center { 0.38 } else { 0.25 },
        assists_per_36: assists * uniform(rng, 0.7, 1.3),
        steals_per_36: uniform(rng, 0.7, 1.6),
        blocks_per_36: blocks * uniform(rng, 0.7, 1.3),
        turnovers_per_36: 1.2 + points_per_36 * 0.05,
        fouls_per_36: uniform(rng, 2.5, 4.0),
        assisted_share: if position == Position::Guard {
            uniform(rng, 0.35, 0.60)
        } else {
            uniform(rng, 0.55, 0.80)
        },
        minutes_factor: normal(rng, 1.0, 0.06).clamp(0.85, 1.15),
    }
}

/// Defences differ by a few points of accuracy allowed per zone.
fn draw_defense(rng: &mut ChaCha8Rng) -> TeamDefense {
    TeamDefense {
        paint: normal(rng, 0.0, 0.025),
        mid_range: normal(rng, 0.0, 0.025),
        three_pt: normal(rng, 0.0, 0.02),
    }
}

/// Deep-bench players (ranks 11–14) of random teams are left out of the registry.
fn leave_players_out_of_registry(rng: &mut ChaCha8Rng, players: &mut [Player]) {
    let teams = players.len() / ROSTER_SIZE;
    let mut left_out = 0;
    while left_out < PLAYERS_MISSING_FROM_REGISTRY && teams > 0 {
        let player_id = rng_index(rng, teams) * ROSTER_SIZE + 11 + rng_index(rng, 4);
        if players[player_id].in_registry {
            players[player_id].in_registry = false;
            left_out += 1;
        }
    }
}

/// Each trade swaps two players of one depth rank (3–9) between two teams on a date between
/// six weeks into the season and the deadline. A player is traded at most once.
fn make_trades(
    rng: &mut ChaCha8Rng,
    teams: &[String],
    stints: &mut Vec<Stint>,
    players: &[Player],
    season_start: NaiveDate,
    trade_deadline: NaiveDate,
) {
    if teams.len() < 2 {
        return;
    }
    let first_trade_day = season_start.checked_add_days(Days::new(42)).unwrap_or(season_start);
    let window_days = (trade_deadline - first_trade_day).num_days().max(1) as usize;
    let mut traded: BTreeMap<usize, ()> = BTreeMap::new();
    let mut trades_made = 0;
    while trades_made < TRADES {
        let first_team = rng_index(rng, teams.len());
        let second_team = rng_index(rng, teams.len());
        let depth_rank = 3 + rng_index(rng, 7);
        let trade_date = first_trade_day + Days::new(rng_index(rng, window_days) as u64);
        let first_player = first_team * ROSTER_SIZE + depth_rank;
        let second_player = second_team * ROSTER_SIZE + depth_rank;
        if first_team == second_team
            || traded.contains_key(&first_player)
            || traded.contains_key(&second_player)
        {
            continue;
        }
        debug_assert_eq!(players[first_player].depth_rank, players[second_player].depth_rank);
        for (player_id, new_team) in [(first_player, second_team), (second_player, first_team)] {
            let current = stints
                .iter_mut()
                .find(|stint| stint.player_id == player_id)
                .expect("every player has a stint");
            current.until = Some(trade_date);
            stints.push(Stint {
                player_id,
                team_abbr: teams[new_team].clone(),
                from: trade_date,
                until: None,
            });
            traded.insert(player_id, ());
        }
        trades_made += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::sampling::{Stream, stream};

    fn league() -> Roster {
        let teams: BTreeSet<String> =
            ["ATL", "BOS", "CHI", "DEN"].iter().map(|team| team.to_string()).collect();
        build_roster(
            &mut stream(11, Stream::Roster),
            &teams,
            "2024-10-22".parse().unwrap(),
            "2025-02-06".parse().unwrap(),
        )
    }

    #[test]
    fn lookups_are_lowercase_letters_and_digits() {
        assert_eq!(player_lookup_of("D'Angelo O'Neal Jr."), "dangeloonealjr");
        assert_eq!(player_lookup_of("RJ Barnes III"), "rjbarnesiii");
    }

    #[test]
    fn every_team_keeps_fifteen_players_through_the_trades() {
        let roster = league();
        let lookups: BTreeSet<&str> =
            roster.players.iter().map(|player| player.player_lookup.as_str()).collect();
        assert_eq!(lookups.len(), roster.players.len());
        assert_eq!(roster.stints.len(), roster.players.len() + 2 * TRADES);
        for day in ["2024-10-22", "2025-01-01", "2025-04-01"] {
            for team in &roster.teams {
                assert_eq!(
                    roster.team_players_on(team, day.parse().unwrap()).len(),
                    ROSTER_SIZE,
                    "{team} {day}"
                );
            }
        }
        let missing = roster.players.iter().filter(|player| !player.in_registry).count();
        assert_eq!(missing, PLAYERS_MISSING_FROM_REGISTRY);
    }

    #[test]
    fn ages_are_whole_years_on_the_date() {
        let mut player = league().players[0].clone();
        player.birth_date = "2000-03-15".parse().unwrap();
        assert_eq!(player.age_on("2025-03-14".parse().unwrap()), 24);
        assert_eq!(player.age_on("2025-03-15".parse().unwrap()), 25);
    }
}
