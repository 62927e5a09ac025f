//! Typed upstream rows of one date and their assembly into [`DateInputs`].
//!
//! Extraction (the lead's step) fills one typed row per warehouse row; field names equal the
//! column names of `tables.md`, nullable columns are `Option`. [`build_date_inputs`] then resolves
//! duplicate rows (README §4 item 9b), merges gamebook and BDL lines per player (item 10), and
//! indexes what a `process_entity` call looks up (games, player lines, team totals, final scores,
//! selected prop lines, the registry), so that the per-player computation in `compute` only
//! reads maps. This module decides no output value.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use framework::{EntityFailure, FailureCategory, SourceUsage};

use crate::game::{self, FinalScore, GameTeams, ScheduleGame, TeamTotals};
use crate::props::{self, PropLine, PropLines};
use crate::registry::RegistryIndex;
use framework::dedupe::{DuplicateKey, keep_latest};
use framework::schema::Table;
use framework::schema::raw::{BDL_PLAYER_BOXSCORES, NBAC_GAMEBOOK_PLAYER_STATS, NBAC_SCHEDULE};

/// `player_status` of the gamebook lines that are summarised (reference-pgs.md §2.3).
pub const ACTIVE_STATUS: &str = "active";

/// One row of `nba_raw.nbac_gamebook_player_stats` (read: `game_date = D`, every status). Only
/// `active` lines are summarised, but extraction must not filter on `player_status`: a key's
/// latest row decides whether the player has an active line (README §4 items 9b and 10), and a
/// re-processed `inactive` row hidden by such a filter would let the stale `active` row win.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GamebookPlayerRow {
    pub game_id: String,
    pub game_date: NaiveDate,
    pub season_year: i64,
    pub player_name: Option<String>,
    pub player_lookup: Option<String>,
    pub team_abbr: Option<String>,
    pub player_status: String,
    /// `"MM:SS"` text.
    pub minutes: Option<String>,
    pub points: Option<i64>,
    pub field_goals_made: Option<i64>,
    pub field_goals_attempted: Option<i64>,
    pub three_pointers_made: Option<i64>,
    pub three_pointers_attempted: Option<i64>,
    pub free_throws_made: Option<i64>,
    pub free_throws_attempted: Option<i64>,
    pub offensive_rebounds: Option<i64>,
    pub defensive_rebounds: Option<i64>,
    pub assists: Option<i64>,
    pub steals: Option<i64>,
    pub blocks: Option<i64>,
    pub turnovers: Option<i64>,
    pub personal_fouls: Option<i64>,
    pub plus_minus: Option<i64>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One row of `nba_raw.bdl_player_boxscores` (read: `game_date = D`, every row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BdlBoxscoreRow {
    pub game_id: String,
    pub game_date: NaiveDate,
    pub season_year: i64,
    pub game_status: Option<String>,
    pub home_team_abbr: String,
    pub away_team_abbr: String,
    pub home_team_score: Option<i64>,
    pub away_team_score: Option<i64>,
    pub team_abbr: String,
    pub player_full_name: String,
    pub player_lookup: String,
    pub bdl_player_id: Option<i64>,
    /// Decimal text such as `"36"`.
    pub minutes: Option<String>,
    pub points: Option<i64>,
    pub assists: Option<i64>,
    pub rebounds: Option<i64>,
    pub offensive_rebounds: Option<i64>,
    pub defensive_rebounds: Option<i64>,
    pub steals: Option<i64>,
    pub blocks: Option<i64>,
    pub turnovers: Option<i64>,
    pub personal_fouls: Option<i64>,
    pub field_goals_made: Option<i64>,
    pub field_goals_attempted: Option<i64>,
    pub three_pointers_made: Option<i64>,
    pub three_pointers_attempted: Option<i64>,
    pub free_throws_made: Option<i64>,
    pub free_throws_attempted: Option<i64>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One row of `nba_raw.odds_api_player_points_props` (read: `game_date = D`, every snapshot).
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerPropRow {
    pub game_id: String,
    pub game_date: NaiveDate,
    pub bookmaker: String,
    pub player_lookup: Option<String>,
    /// NOT NULL upstream; a NaN is treated as missing (README §4 item 9).
    pub points_line: f64,
    pub snapshot_timestamp: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One row of `nba_reference.nba_players_registry` (read: the whole table, once per chunk of
/// dates, and indexed by `registry::index_registry`).
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryRow {
    pub player_lookup: String,
    pub universal_player_id: Option<String>,
    pub team_abbr: String,
    /// `"2023-24"` form.
    pub season: String,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One row of `nba_raw.nbac_schedule` (read: `game_date = D`).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleRow {
    /// Numeric NBA id (`0022300585`), unlike the box scores' `YYYYMMDD_AWAY_HOME`.
    pub game_id: String,
    pub game_date: NaiveDate,
    /// 3 = final.
    pub game_status: Option<i64>,
    pub home_team_tricode: String,
    pub away_team_tricode: String,
    pub home_team_score: Option<i64>,
    pub away_team_score: Option<i64>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// The run-level `source_<prefix>_*` columns, one [`SourceUsage`] per dependency, in the
/// reference's dependency order (reference-pgs.md §2.2). Filled by extraction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceUsages {
    pub nbac: SourceUsage,
    pub bdl: SourceUsage,
    pub bbd: SourceUsage,
    pub nbac_pbp: SourceUsage,
    pub odds: SourceUsage,
    pub bp: SourceUsage,
}

/// Everything extraction read for one date, before assembly.
#[derive(Clone, Debug, Default)]
pub struct RawInputs {
    pub gamebook_rows: Vec<GamebookPlayerRow>,
    pub bdl_rows: Vec<BdlBoxscoreRow>,
    pub prop_rows: Vec<PlayerPropRow>,
    /// The chunk's registry, shared by all its dates.
    pub registry: Arc<RegistryIndex>,
    pub schedule_rows: Vec<ScheduleRow>,
    pub source_usage: SourceUsages,
}

/// Which box score a player line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatSource {
    /// NBA.com gamebook, the primary source.
    Gamebook,
    /// BallDontLie box scores, the fallback (README §4 item 10).
    BdlBoxscores,
}

impl StatSource {
    /// The reference's `primary_source` literal.
    pub fn name(self) -> &'static str {
        match self {
            StatSource::Gamebook => "nbac_gamebook",
            StatSource::BdlBoxscores => "bdl_boxscores",
        }
    }
}

/// A player's counting stats, named after the raw columns. BDL lines keep their own attempts
/// and rebound split (README §4 item 11b); BDL has no plus/minus.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatLine {
    pub points: Option<i64>,
    pub assists: Option<i64>,
    pub offensive_rebounds: Option<i64>,
    pub defensive_rebounds: Option<i64>,
    pub steals: Option<i64>,
    pub blocks: Option<i64>,
    pub turnovers: Option<i64>,
    pub personal_fouls: Option<i64>,
    pub field_goals_made: Option<i64>,
    pub field_goals_attempted: Option<i64>,
    pub three_pointers_made: Option<i64>,
    pub three_pointers_attempted: Option<i64>,
    pub free_throws_made: Option<i64>,
    pub free_throws_attempted: Option<i64>,
    pub plus_minus: Option<i64>,
}

/// The one line summarised for a (game, player): the merge result of README §4 item 10.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerLine {
    pub source: StatSource,
    pub player_lookup: String,
    pub player_full_name: Option<String>,
    pub team_abbr: Option<String>,
    pub player_status: String,
    pub season_year: i64,
    /// Raw minutes text, parsed per row by `compute` (README §4 item 11).
    pub minutes: Option<String>,
    pub stats: StatLine,
}

/// One box-score game of the date with everything its players' rows need.
#[derive(Clone, Debug, PartialEq)]
pub struct GameInputs {
    pub game_id: String,
    pub game_date: NaiveDate,
    /// Away and home tricodes from the `YYYYMMDD_AWAY_HOME` id; `None` for a malformed id.
    pub teams: Option<GameTeams>,
    /// Lines by `player_lookup`, sorted.
    pub players: BTreeMap<String, PlayerLine>,
    pub away_totals: TeamTotals,
    pub home_totals: TeamTotals,
    /// From the schedule when it has the final score, else from summed team points.
    pub final_score: Option<FinalScore>,
    /// Selected line per `player_lookup` (README §4 item 12).
    pub prop_lines: HashMap<String, PropLine>,
}

impl GameInputs {
    /// The totals of `team_abbr`, when it is one of the game's two teams.
    pub fn totals_of(&self, team_abbr: &str) -> Option<&TeamTotals> {
        let teams = self.teams.as_ref()?;
        if team_abbr == teams.home_team_abbr {
            Some(&self.home_totals)
        } else if team_abbr == teams.away_team_abbr {
            Some(&self.away_totals)
        } else {
            None
        }
    }
}

/// Everything one date needs, indexed for `process_entity`. Plain data: `Send + Sync`.
#[derive(Clone, Debug, PartialEq)]
pub struct DateInputs {
    pub date: NaiveDate,
    /// Box-score games by `game_id`, sorted.
    pub games: BTreeMap<String, GameInputs>,
    pub registry: Arc<RegistryIndex>,
    /// The date's schedule games, for the missing-box-score check.
    pub schedule_games: Vec<ScheduleGame>,
    pub source_usage: SourceUsages,
    /// Raw lines that cannot become an entity (an active gamebook row without `player_lookup`,
    /// or a player whose latest rows of one `processed_at` name two teams); reported as failures
    /// by `compute::date_failures`.
    pub rejected_lines: Vec<EntityFailure>,
}

/// The assembled date plus the duplicate keys met on the way, to be logged once per run.
#[derive(Clone, Debug, PartialEq)]
pub struct AssembledDate {
    pub date_inputs: DateInputs,
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// The reference's name normalisation: lowercase, letters and digits only
/// (`"Kelly Oubre Jr."` → `kellyoubrejr`, `"De'Anthony Melton"` → `deanthonymelton`).
/// Latin letters with diacritics fold to their base letter (`"Jokić"` → `jokic`), as the
/// reference's NFD-then-ASCII step does.
pub fn normalize_player_lookup(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(fold_diacritic)
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The base letter of a lowercase Latin letter with a diacritic; other characters unchanged.
fn fold_diacritic(character: char) -> char {
    match character {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ğ' | 'ģ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ķ' => 'k',
        'ł' | 'ľ' | 'ļ' => 'l',
        'ñ' | 'ń' | 'ň' | 'ņ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' | 'ŕ' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    }
}

/// Assembles one date from its raw rows and the chunk's registry. Rows of other dates are ignored
/// (they belong to other runs of a range). Never fails: bad rows become `rejected_lines` or
/// per-entity failures later.
pub fn build_date_inputs(date: NaiveDate, raw: RawInputs) -> AssembledDate {
    let mut duplicate_keys = Vec::new();
    let mut rejected_lines = Vec::new();
    let gamebook_lines = gamebook_lines(date, raw.gamebook_rows, &mut duplicate_keys, &mut rejected_lines);
    let bdl_lines = bdl_lines(date, raw.bdl_rows, &mut duplicate_keys, &mut rejected_lines);
    let lines = merge_lines(gamebook_lines, bdl_lines, &rejected_lines);
    let schedule_games = schedule_games(date, raw.schedule_rows, &mut duplicate_keys);
    let prop_lines = prop_lines(date, &raw.prop_rows, &mut duplicate_keys);
    duplicate_keys.sort();
    let games = assemble_games(lines, prop_lines, &schedule_games);
    let date_inputs = DateInputs {
        date,
        games,
        registry: raw.registry,
        schedule_games,
        source_usage: raw.source_usage,
        rejected_lines,
    };
    AssembledDate { date_inputs, duplicate_keys }
}

/// A player line keyed by (game_id, player_lookup), with the game date it came with.
type KeyedLine = ((String, String), NaiveDate, PlayerLine);

/// The date's active gamebook lines, one per (game, player). Duplicates are resolved over all of
/// a key's rows, whatever their status, and only then is the surviving row's status looked at
/// (README §4 item 9b, then item 10): a re-processed `inactive` row replaces an earlier `active`
/// one, so the player has no active gamebook line and his BDL line, if any, is used.
fn gamebook_lines(
    date: NaiveDate,
    rows: Vec<GamebookPlayerRow>,
    duplicate_keys: &mut Vec<DuplicateKey>,
    rejected_lines: &mut Vec<EntityFailure>,
) -> Vec<KeyedLine> {
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows.into_iter().filter(|row| row.game_date == date) {
        match row.player_lookup.clone() {
            Some(player_lookup) if !player_lookup.is_empty() => keyed.push((player_lookup, row)),
            // A row without a key can be matched with no other row and become no entity: an
            // active one is reported as a lost line; one of another status would not have been
            // summarised anyway.
            _ if row.is_summarised() => rejected_lines.push(line_without_lookup(&row)),
            _ => {}
        }
    }
    latest_rows(keyed, &NBAC_GAMEBOOK_PLAYER_STATS, duplicate_keys, rejected_lines)
        .into_iter()
        .filter(|(_, row)| row.is_summarised())
        .map(|(lookup, row)| ((row.game_id.clone(), lookup), row.game_date, gamebook_line(row)))
        .collect()
}

fn line_without_lookup(row: &GamebookPlayerRow) -> EntityFailure {
    let name = row.player_name.as_deref().unwrap_or("unnamed player");
    EntityFailure::new(
        format!("{}/{name}", row.game_id),
        FailureCategory::ProcessingError,
        format!("gamebook row of {name:?} in game {} has no player_lookup", row.game_id),
    )
}

fn gamebook_line(row: GamebookPlayerRow) -> PlayerLine {
    PlayerLine {
        source: StatSource::Gamebook,
        player_lookup: row.player_lookup.unwrap_or_default(),
        player_full_name: row.player_name,
        team_abbr: row.team_abbr,
        player_status: row.player_status,
        season_year: row.season_year,
        minutes: row.minutes,
        stats: StatLine {
            points: row.points,
            assists: row.assists,
            offensive_rebounds: row.offensive_rebounds,
            defensive_rebounds: row.defensive_rebounds,
            steals: row.steals,
            blocks: row.blocks,
            turnovers: row.turnovers,
            personal_fouls: row.personal_fouls,
            field_goals_made: row.field_goals_made,
            field_goals_attempted: row.field_goals_attempted,
            three_pointers_made: row.three_pointers_made,
            three_pointers_attempted: row.three_pointers_attempted,
            free_throws_made: row.free_throws_made,
            free_throws_attempted: row.free_throws_attempted,
            plus_minus: row.plus_minus,
        },
    }
}

/// The date's BDL lines, one per (game, player) (README §4 item 9b).
fn bdl_lines(
    date: NaiveDate,
    rows: Vec<BdlBoxscoreRow>,
    duplicate_keys: &mut Vec<DuplicateKey>,
    rejected_lines: &mut Vec<EntityFailure>,
) -> Vec<KeyedLine> {
    let keyed: Vec<(String, BdlBoxscoreRow)> = rows
        .into_iter()
        .filter(|row| row.game_date == date)
        .map(|row| (row.player_lookup.clone(), row))
        .collect();
    latest_rows(keyed, &BDL_PLAYER_BOXSCORES, duplicate_keys, rejected_lines)
        .into_iter()
        .map(|(lookup, row)| ((row.game_id.clone(), lookup), row.game_date, bdl_line(row)))
        .collect()
}

fn bdl_line(row: BdlBoxscoreRow) -> PlayerLine {
    PlayerLine {
        source: StatSource::BdlBoxscores,
        player_lookup: row.player_lookup,
        player_full_name: Some(row.player_full_name),
        team_abbr: Some(row.team_abbr),
        // The reference's literal for every BDL row (reference-pgs.md §2.3).
        player_status: ACTIVE_STATUS.to_owned(),
        season_year: row.season_year,
        minutes: row.minutes,
        stats: StatLine {
            points: row.points,
            assists: row.assists,
            offensive_rebounds: row.offensive_rebounds,
            defensive_rebounds: row.defensive_rebounds,
            steals: row.steals,
            blocks: row.blocks,
            turnovers: row.turnovers,
            personal_fouls: row.personal_fouls,
            field_goals_made: row.field_goals_made,
            field_goals_attempted: row.field_goals_attempted,
            three_pointers_made: row.three_pointers_made,
            three_pointers_attempted: row.three_pointers_attempted,
            free_throws_made: row.free_throws_made,
            free_throws_attempted: row.free_throws_attempted,
            plus_minus: None,
        },
    }
}

/// What resolving a box score's duplicate rows needs to know of a row, gamebook or BDL.
trait BoxScoreRow {
    fn game_id(&self) -> &str;
    fn team_abbr(&self) -> Option<&str>;
    fn processed_at(&self) -> Option<DateTime<Utc>>;
    /// Whether the row, as its key's latest, gives a summarised line.
    fn is_summarised(&self) -> bool;
}

impl BoxScoreRow for GamebookPlayerRow {
    fn game_id(&self) -> &str {
        &self.game_id
    }

    fn team_abbr(&self) -> Option<&str> {
        self.team_abbr.as_deref()
    }

    fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.processed_at
    }

    fn is_summarised(&self) -> bool {
        self.player_status == ACTIVE_STATUS
    }
}

impl BoxScoreRow for BdlBoxscoreRow {
    fn game_id(&self) -> &str {
        &self.game_id
    }

    fn team_abbr(&self) -> Option<&str> {
        Some(&self.team_abbr)
    }

    fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.processed_at
    }

    /// BDL lists only players who played (`bdl_line` marks each one active).
    fn is_summarised(&self) -> bool {
        true
    }
}

/// One row per (game, player) of `table`, the one with the latest `processed_at`, rows of a key
/// for different teams included (README §4 item 9b): a re-processed row that moves a player to
/// the other side corrects the earlier one like any re-processed row, and the key is counted as
/// a duplicate. Keys whose latest rows contradict each other are rejected first (see
/// [`reject_unsettled_team_conflicts`]).
fn latest_rows<Row: BoxScoreRow>(
    keyed: Vec<(String, Row)>,
    table: &'static Table,
    duplicate_keys: &mut Vec<DuplicateKey>,
    rejected_lines: &mut Vec<EntityFailure>,
) -> Vec<(String, Row)> {
    let keyed = reject_unsettled_team_conflicts(keyed, rejected_lines);
    let (kept, duplicates) = keep_latest(
        keyed,
        table,
        |(lookup, row)| format!("{}/{lookup}", row.game_id()),
        |(_, row)| row.processed_at(),
    );
    duplicate_keys.extend(duplicates);
    kept
}

/// Removes every (game, player) whose rows of its latest `processed_at` name different teams
/// while one of them is summarised, and records one failure per such key. No timestamp settles
/// which side the player was on, and [`keep_latest`]'s tie rule (the row read later) would let
/// the read order decide; so neither side wins, and `merge_lines` does not fall back to BDL for
/// such a gamebook key either. A tie among rows none of which is summarised is left to
/// [`keep_latest`]: whichever wins, the key has no summarised line.
fn reject_unsettled_team_conflicts<Row: BoxScoreRow>(
    keyed: Vec<(String, Row)>,
    rejected_lines: &mut Vec<EntityFailure>,
) -> Vec<(String, Row)> {
    let mut latest_by_key: BTreeMap<(&str, &str), LatestRows<'_>> = BTreeMap::new();
    for (lookup, row) in &keyed {
        latest_by_key
            .entry((row.game_id(), lookup.as_str()))
            .and_modify(|latest| latest.add(row))
            .or_insert_with(|| LatestRows::of(row));
    }
    let unsettled: HashSet<(String, String)> = latest_by_key
        .into_iter()
        .filter(|(_, latest)| latest.is_unsettled())
        .map(|((game_id, lookup), mut latest)| {
            latest.teams.sort();
            let names: Vec<&str> = latest.teams.iter().map(|team| team.unwrap_or("NULL")).collect();
            rejected_lines.push(EntityFailure::new(
                format!("{game_id}/{lookup}"),
                FailureCategory::ProcessingError,
                format!(
                    "player {lookup} is listed for more than one team in game {game_id}: {}",
                    names.join(", ")
                ),
            ));
            (game_id.to_owned(), lookup.to_owned())
        })
        .collect();
    if unsettled.is_empty() {
        return keyed;
    }
    keyed
        .into_iter()
        .filter(|(lookup, row)| !unsettled.contains(&(row.game_id().to_owned(), lookup.clone())))
        .collect()
}

/// The rows of one key that share its latest `processed_at` (a missing one is older than any
/// timestamp, as in [`keep_latest`]).
struct LatestRows<'row> {
    processed_at: Option<DateTime<Utc>>,
    /// Distinct teams of those rows.
    teams: Vec<Option<&'row str>>,
    any_summarised: bool,
}

impl<'row> LatestRows<'row> {
    fn of<Row: BoxScoreRow>(row: &'row Row) -> Self {
        LatestRows {
            processed_at: row.processed_at(),
            teams: vec![row.team_abbr()],
            any_summarised: row.is_summarised(),
        }
    }

    fn add<Row: BoxScoreRow>(&mut self, row: &'row Row) {
        match row.processed_at().cmp(&self.processed_at) {
            Ordering::Less => {}
            Ordering::Greater => *self = LatestRows::of(row),
            Ordering::Equal => {
                if !self.teams.contains(&row.team_abbr()) {
                    self.teams.push(row.team_abbr());
                }
                self.any_summarised |= row.is_summarised();
            }
        }
    }

    fn is_unsettled(&self) -> bool {
        self.teams.len() > 1 && self.any_summarised
    }
}

/// README §4 item 10: per (game, player) the active gamebook line, else the BDL line. A key whose
/// latest gamebook rows were rejected as contradictory does not fall back to BDL: one of them is
/// active, so whether the player has an active gamebook line is unknown, and its failure stands.
fn merge_lines(
    gamebook: Vec<KeyedLine>,
    bdl: Vec<KeyedLine>,
    rejected_lines: &[EntityFailure],
) -> Vec<KeyedLine> {
    let gamebook_keys: HashSet<(String, String)> = gamebook.iter().map(|(key, _, _)| key.clone()).collect();
    let rejected_ids: HashSet<&str> =
        rejected_lines.iter().map(|failure| failure.entity_id.as_str()).collect();
    let mut merged = gamebook;
    for (key, game_date, line) in bdl {
        let entity_id = format!("{}/{}", key.0, key.1);
        if !gamebook_keys.contains(&key) && !rejected_ids.contains(entity_id.as_str()) {
            merged.push((key, game_date, line));
        }
    }
    merged
}

fn schedule_games(
    date: NaiveDate,
    rows: Vec<ScheduleRow>,
    duplicate_keys: &mut Vec<DuplicateKey>,
) -> Vec<ScheduleGame> {
    let rows: Vec<ScheduleRow> = rows.into_iter().filter(|row| row.game_date == date).collect();
    let (kept, duplicates) =
        keep_latest(rows, &NBAC_SCHEDULE, |row| row.game_id.clone(), |row| row.processed_at);
    duplicate_keys.extend(duplicates);
    let mut games: Vec<ScheduleGame> = kept.into_iter().map(ScheduleGame::from).collect();
    games.sort_by(|left, right| left.game_id.cmp(&right.game_id));
    games
}

fn prop_lines(date: NaiveDate, rows: &[PlayerPropRow], duplicate_keys: &mut Vec<DuplicateKey>) -> PropLines {
    let (lines, duplicates) = props::select_prop_lines(rows.iter().filter(|row| row.game_date == date));
    duplicate_keys.extend(duplicates);
    lines
}

/// Groups the merged lines by game and attaches each game's totals, final score and props.
fn assemble_games(
    lines: Vec<KeyedLine>,
    mut prop_lines: PropLines,
    schedule_games: &[ScheduleGame],
) -> BTreeMap<String, GameInputs> {
    let mut players_by_game: BTreeMap<String, (NaiveDate, BTreeMap<String, PlayerLine>)> = BTreeMap::new();
    for ((game_id, lookup), game_date, line) in lines {
        players_by_game.entry(game_id).or_insert_with(|| (game_date, BTreeMap::new())).1.insert(lookup, line);
    }
    players_by_game
        .into_iter()
        .map(|(game_id, (game_date, players))| {
            let teams = game::parse_game_teams(&game_id);
            let (away_totals, home_totals) = match &teams {
                Some(teams) => (
                    TeamTotals::sum(players.values(), &teams.away_team_abbr),
                    TeamTotals::sum(players.values(), &teams.home_team_abbr),
                ),
                None => (TeamTotals::default(), TeamTotals::default()),
            };
            let final_score = teams
                .as_ref()
                .and_then(|teams| game::final_score(teams, schedule_games, &away_totals, &home_totals));
            let game_props = prop_lines.remove(&game_id).unwrap_or_default();
            let game = GameInputs {
                game_id: game_id.clone(),
                game_date,
                teams,
                players,
                away_totals,
                home_totals,
                final_score,
                prop_lines: game_props,
            };
            (game_id, game)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn player_lookup_keeps_lowercase_letters_and_digits_only() {
        assert_eq!(normalize_player_lookup("LeBron James"), "lebronjames");
        assert_eq!(normalize_player_lookup("Kelly Oubre Jr."), "kellyoubrejr");
        assert_eq!(normalize_player_lookup("De'Anthony Melton"), "deanthonymelton");
        assert_eq!(normalize_player_lookup("Shai Gilgeous-Alexander"), "shaigilgeousalexander");
        assert_eq!(normalize_player_lookup("E.J. Liddell"), "ejliddell");
        assert_eq!(normalize_player_lookup("Nikola Jokić"), "nikolajokic");
        assert_eq!(normalize_player_lookup("Luka Dončić"), "lukadoncic");
        assert_eq!(normalize_player_lookup("Kristaps Porziņģis"), "kristapsporzingis");
    }
}
