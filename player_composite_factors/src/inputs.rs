//! Typed inputs of Player Composite Factors for one date, and the pure builders that index them.
//!
//! Extraction (written by the lead, in `extract.rs`) reads each upstream table once per range
//! chunk into the row structs below, whose field names are the tables' column names. This module
//! groups those rows by date ([`split_rows_by_date`]), resolves duplicate keys (README §4 item
//! 9b: the latest `processed_at` wins) and indexes everything one date needs into [`DateInputs`],
//! so that `compute::process_entity` only looks values up. Games-based completeness history lives
//! in [`crate::games_history`]; this module only stores its per-player answer.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use framework::circuit_breaker::latest_attempts;
pub use framework::circuit_breaker::{LatestAttempt, ReprocessAttemptRow};
pub use framework::dedupe::DuplicateKey;
use framework::dedupe::keep_latest_by_key;
use framework::schema::{Table, analytics, precompute};
use framework::{SmolStr, SourceUsage};
use rustc_hash::FxHashMap;

use crate::compute::row_hash::DateHashPrefix;
use crate::games_history::{GamesCompleteness, GamesHistory};

/// The processor name under which `nba_orchestration.reprocess_attempts` records this
/// processor's attempts (the output table's name, reference-framework.md §5).
pub const REPROCESS_PROCESSOR_NAME: &str = "player_composite_factors";

/// One `nba_analytics.upcoming_player_game_context` row (reference-pcf.md §2.1), filtered on
/// `game_date`. It drives the processor: one output row per distinct `player_lookup`.
///
/// Every factor input is `Option` because the reference treats NULL (and NaN, README §4 item 9)
/// as "use the default". `minutes_in_last_7_days` is INT64 upstream but read as a float, as the
/// reference's `safe_float` does, so that its context JSON prints `175.0`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpcomingPlayerGameContextRow {
    /// The ids are copied into the player's output row: held inline, they copy without
    /// allocating.
    pub player_lookup: SmolStr,
    pub universal_player_id: Option<SmolStr>,
    /// NOT NULL in the reference DDL, but the local warehouse enforces only key columns: a NULL
    /// (or blank) id fails this player as `MISSING_DATA` in `process_entity`, where a required
    /// read used to fail the whole date's extraction.
    pub game_id: Option<SmolStr>,
    pub game_date: NaiveDate,
    pub opponent_team_abbr: Option<String>,
    pub days_rest: Option<i64>,
    pub back_to_back: Option<bool>,
    pub games_in_last_7_days: Option<i64>,
    pub minutes_in_last_7_days: Option<f64>,
    pub avg_minutes_per_game_last_7: Option<f64>,
    pub back_to_backs_last_14_days: Option<i64>,
    pub player_age: Option<i64>,
    pub projected_usage_rate: Option<f64>,
    pub avg_usage_rate_last_7_games: Option<f64>,
    pub star_teammates_out: Option<i64>,
    pub pace_differential: Option<f64>,
    pub opponent_pace_last_10: Option<f64>,
    /// Upstream readiness of the player's context (reference-pcf.md §2.8); NULL counts as false.
    pub is_production_ready: Option<bool>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One `nba_analytics.upcoming_team_game_context` row, filtered on `game_date`. The reference
/// extracts it but uses it in no formula; only the opponent's readiness flag is read (§2.8).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpcomingTeamGameContextRow {
    pub team_abbr: String,
    /// Unused, so a NULL is kept as `None` rather than failing the date's extraction.
    pub game_id: Option<String>,
    pub game_date: NaiveDate,
    pub is_production_ready: Option<bool>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One `nba_precompute.player_shot_zone_analysis` row, filtered on `analysis_date`. Rates are
/// percentages 0–100 (reference-pcf.md §2.1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerShotZoneAnalysisRow {
    pub player_lookup: String,
    pub analysis_date: NaiveDate,
    /// 'paint', 'mid_range', 'perimeter', 'balanced' or NULL.
    pub primary_scoring_zone: Option<String>,
    pub paint_rate_last_10: Option<f64>,
    pub mid_range_rate_last_10: Option<f64>,
    pub three_pt_rate_last_10: Option<f64>,
    pub is_production_ready: Option<bool>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One `nba_precompute.team_defense_zone_analysis` row, filtered on `analysis_date`. The
/// `*_vs_league_avg` columns are percentage points; positive means a weak defence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamDefenseZoneAnalysisRow {
    pub team_abbr: String,
    pub analysis_date: NaiveDate,
    pub paint_defense_vs_league_avg: Option<f64>,
    pub mid_range_defense_vs_league_avg: Option<f64>,
    pub three_pt_defense_vs_league_avg: Option<f64>,
    pub weakest_zone: Option<String>,
    pub is_production_ready: Option<bool>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// The `source_<prefix>_*` columns of the four dependencies (reference-pcf.md §4.3), identical
/// on every row of a date; filled by extraction from its dependency check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceTracking {
    pub player_context: SourceUsage,
    pub team_context: SourceUsage,
    pub player_shot: SourceUsage,
    pub team_defense: SourceUsage,
}

/// The upstream rows of one date (or of a range chunk, before [`split_rows_by_date`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DateRows {
    pub player_contexts: Vec<UpcomingPlayerGameContextRow>,
    pub team_contexts: Vec<UpcomingTeamGameContextRow>,
    pub player_shot_zones: Vec<PlayerShotZoneAnalysisRow>,
    pub team_defense_zones: Vec<TeamDefenseZoneAnalysisRow>,
    pub reprocess_attempts: Vec<ReprocessAttemptRow>,
}

/// Everything one date needs, indexed for lookups: plain data, shared read-only by all workers.
///
/// Each player's rows are joined once, when the date is indexed, so that a row looks up its
/// player and his opponent once each instead of six maps. The maps hash with FxHash rather than
/// the standard SipHash: the keys are short names from our own warehouse, which need no
/// protection against chosen colliding keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DateInputs {
    pub analysis_date: NaiveDate,
    /// First regular-season game of the date's season (the framework's season calendar); the
    /// lower bound of actual games and the origin of the 30-day bootstrap flag.
    pub season_start_date: NaiveDate,
    /// Every UPGC player by `player_lookup`, one per player (README §4 item 14).
    pub players: FxHashMap<String, PlayerInputs>,
    /// UTGC and TDZA rows by `team_abbr`.
    pub teams: FxHashMap<String, TeamInputs>,
    pub sources: SourceTracking,
    /// The `data_hash` fields every row of the date shares, hashed once.
    pub row_hash_prefix: DateHashPrefix,
}

/// One UPGC player's rows of the date.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerInputs {
    pub context: UpcomingPlayerGameContextRow,
    /// His PSZA row.
    pub shot_zone: Option<PlayerShotZoneAnalysisRow>,
    /// His expected and actual games (reference-pcf.md §2.7).
    pub games: GamesCompleteness,
    /// This processor's latest reprocess attempt for him (`entity_id` = `player_lookup`).
    pub latest_attempt: Option<LatestAttempt>,
}

/// One team's rows of the date.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamInputs {
    pub context: Option<UpcomingTeamGameContextRow>,
    pub defense_zone: Option<TeamDefenseZoneAnalysisRow>,
}

impl DateInputs {
    /// Indexes one date's rows. Rows of other dates, reprocess attempts of other processors and
    /// shot zones and attempts of players without a UPGC row are ignored; duplicate keys keep the
    /// latest `processed_at` (of reprocess attempts, the latest `attempted_at`) and are returned,
    /// once each, sorted by table and key.
    pub fn build(
        analysis_date: NaiveDate,
        season_start_date: NaiveDate,
        rows: DateRows,
        games_history: &GamesHistory,
        sources: SourceTracking,
    ) -> (DateInputs, Vec<DuplicateKey>) {
        let mut duplicates = Vec::new();
        let contexts = keep_latest(rows.player_contexts, analysis_date, &mut duplicates);
        let mut shot_zones = keep_latest(rows.player_shot_zones, analysis_date, &mut duplicates);
        let mut attempts = latest_attempts(
            rows.reprocess_attempts,
            REPROCESS_PROCESSOR_NAME,
            analysis_date,
            &mut duplicates,
        );
        let players = contexts
            .into_iter()
            .map(|(player_lookup, context)| {
                let player = PlayerInputs {
                    shot_zone: shot_zones.remove(&player_lookup),
                    games: games_history.games_completeness(&player_lookup, analysis_date, season_start_date),
                    latest_attempt: attempts.remove(&player_lookup),
                    context,
                };
                (player_lookup, player)
            })
            .collect();
        let mut teams: FxHashMap<String, TeamInputs> = FxHashMap::default();
        for (team_abbr, context) in keep_latest(rows.team_contexts, analysis_date, &mut duplicates) {
            teams.entry(team_abbr).or_default().context = Some(context);
        }
        for (team_abbr, defense_zone) in keep_latest(rows.team_defense_zones, analysis_date, &mut duplicates)
        {
            teams.entry(team_abbr).or_default().defense_zone = Some(defense_zone);
        }
        duplicates.sort();
        let date_inputs = DateInputs {
            analysis_date,
            season_start_date,
            players,
            teams,
            sources,
            row_hash_prefix: DateHashPrefix::new(analysis_date),
        };
        (date_inputs, duplicates)
    }

    /// The player's row for `player_lookup`, if he has one.
    pub fn player(&self, player_lookup: &str) -> Option<&PlayerInputs> {
        self.players.get(player_lookup)
    }
}

/// Groups a range chunk's rows by their date column (`game_date` for UPGC/UTGC, `analysis_date`
/// for the others), so that a range reads each upstream table once (README §6).
pub fn split_rows_by_date(rows: DateRows) -> BTreeMap<NaiveDate, DateRows> {
    let mut by_date: BTreeMap<NaiveDate, DateRows> = BTreeMap::new();
    for row in rows.player_contexts {
        by_date.entry(row.game_date).or_default().player_contexts.push(row);
    }
    for row in rows.team_contexts {
        by_date.entry(row.game_date).or_default().team_contexts.push(row);
    }
    for row in rows.player_shot_zones {
        by_date.entry(row.analysis_date).or_default().player_shot_zones.push(row);
    }
    for row in rows.team_defense_zones {
        by_date.entry(row.analysis_date).or_default().team_defense_zones.push(row);
    }
    for row in rows.reprocess_attempts {
        by_date.entry(row.analysis_date).or_default().reprocess_attempts.push(row);
    }
    by_date
}

/// An upstream row keyed by (date, one name) whose duplicates resolve by `processed_at`.
trait KeyedUpstreamRow {
    const TABLE: &'static Table;
    fn date(&self) -> NaiveDate;
    fn name(&self) -> &str;
    fn processed_at(&self) -> Option<DateTime<Utc>>;
}

impl KeyedUpstreamRow for UpcomingPlayerGameContextRow {
    const TABLE: &'static Table = &analytics::UPCOMING_PLAYER_GAME_CONTEXT;
    fn date(&self) -> NaiveDate {
        self.game_date
    }
    fn name(&self) -> &str {
        &self.player_lookup
    }
    fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.processed_at
    }
}

impl KeyedUpstreamRow for UpcomingTeamGameContextRow {
    const TABLE: &'static Table = &analytics::UPCOMING_TEAM_GAME_CONTEXT;
    fn date(&self) -> NaiveDate {
        self.game_date
    }
    fn name(&self) -> &str {
        &self.team_abbr
    }
    fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.processed_at
    }
}

impl KeyedUpstreamRow for PlayerShotZoneAnalysisRow {
    const TABLE: &'static Table = &precompute::PLAYER_SHOT_ZONE_ANALYSIS;
    fn date(&self) -> NaiveDate {
        self.analysis_date
    }
    fn name(&self) -> &str {
        &self.player_lookup
    }
    fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.processed_at
    }
}

impl KeyedUpstreamRow for TeamDefenseZoneAnalysisRow {
    const TABLE: &'static Table = &precompute::TEAM_DEFENSE_ZONE_ANALYSIS;
    fn date(&self) -> NaiveDate {
        self.analysis_date
    }
    fn name(&self) -> &str {
        &self.team_abbr
    }
    fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.processed_at
    }
}

/// One row per key for `date`: the latest `processed_at` wins (README §4 item 9b,
/// [`keep_latest_by_key`]); on an exact tie the row read later wins, as in the reference, and the
/// reads set no order, so which one that is follows the order the warehouse returns.
fn keep_latest<R: KeyedUpstreamRow>(
    rows: Vec<R>,
    date: NaiveDate,
    duplicates: &mut Vec<DuplicateKey>,
) -> FxHashMap<String, R> {
    let rows: Vec<R> = rows.into_iter().filter(|row| row.date() == date).collect();
    keep_latest_by_key(rows, R::TABLE, |row| row.name().to_owned(), R::processed_at, duplicates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    fn at_hour(hour: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2025, 11, 1, hour, 0, 0).unwrap())
    }

    fn context_row(
        player_lookup: &str,
        game_date: &str,
        processed_hour: u32,
    ) -> UpcomingPlayerGameContextRow {
        UpcomingPlayerGameContextRow {
            player_lookup: player_lookup.into(),
            game_id: Some(format!("game_{processed_hour}").into()),
            game_date: date(game_date),
            processed_at: at_hour(processed_hour),
            ..Default::default()
        }
    }

    fn build(rows: DateRows) -> (DateInputs, Vec<DuplicateKey>) {
        let history = GamesHistory::build(Vec::new(), &[]);
        DateInputs::build(date("2025-11-01"), date("2025-10-21"), rows, &history, SourceTracking::default())
    }

    #[test]
    fn duplicate_upgc_rows_keep_the_latest_processed_at_and_are_reported_once() {
        let rows = DateRows {
            player_contexts: vec![
                context_row("lebronjames", "2025-11-01", 22),
                context_row("lebronjames", "2025-11-01", 23),
                context_row("lebronjames", "2025-11-01", 21),
                context_row("stephencurry", "2025-11-01", 22),
            ],
            ..Default::default()
        };
        let (inputs, duplicates) = build(rows);
        assert_eq!(inputs.players.len(), 2);
        assert_eq!(inputs.players["lebronjames"].context.game_id.as_deref(), Some("game_23"));
        assert_eq!(
            duplicates,
            vec![DuplicateKey {
                table: &analytics::UPCOMING_PLAYER_GAME_CONTEXT,
                key: "lebronjames".into(),
                rows: 3
            }]
        );
    }

    #[test]
    fn rows_of_other_dates_are_ignored() {
        let rows = DateRows {
            player_contexts: vec![context_row("a", "2025-11-01", 1), context_row("b", "2025-11-02", 1)],
            ..Default::default()
        };
        let (inputs, duplicates) = build(rows);
        assert_eq!(inputs.players.keys().collect::<Vec<_>>(), vec!["a"]);
        assert!(duplicates.is_empty());
    }

    #[test]
    fn latest_reprocess_attempt_wins_and_other_processors_are_ignored() {
        let attempt = |player: &str, processor: &str, number: i64, tripped: bool| ReprocessAttemptRow {
            processor_name: processor.into(),
            entity_id: player.into(),
            analysis_date: date("2025-11-01"),
            attempt_number: number,
            circuit_breaker_tripped: Some(tripped),
            ..Default::default()
        };
        let rows = DateRows {
            player_contexts: vec![context_row("lebronjames", "2025-11-01", 1)],
            reprocess_attempts: vec![
                attempt("lebronjames", REPROCESS_PROCESSOR_NAME, 3, true),
                attempt("lebronjames", REPROCESS_PROCESSOR_NAME, 2, false),
                attempt("lebronjames", "ml_feature_store_v2", 9, false),
                attempt("notplaying", REPROCESS_PROCESSOR_NAME, 1, false),
            ],
            ..Default::default()
        };
        let (inputs, _) = build(rows);
        let latest = inputs.players["lebronjames"].latest_attempt.as_ref().expect("his attempt");
        assert_eq!(latest.attempt_number, 3);
        assert!(latest.circuit_breaker_tripped);
        assert_eq!(inputs.players.keys().collect::<Vec<_>>(), ["lebronjames"]);
    }

    #[test]
    fn a_players_shot_zone_and_a_teams_two_rows_are_joined_when_the_date_is_indexed() {
        let shot_zone = |player: &str| PlayerShotZoneAnalysisRow {
            player_lookup: player.into(),
            analysis_date: date("2025-11-01"),
            ..Default::default()
        };
        let rows = DateRows {
            player_contexts: vec![context_row("a", "2025-11-01", 1), context_row("b", "2025-11-01", 1)],
            player_shot_zones: vec![shot_zone("a"), shot_zone("notplaying")],
            team_contexts: vec![UpcomingTeamGameContextRow {
                team_abbr: "LAL".into(),
                game_date: date("2025-11-01"),
                ..Default::default()
            }],
            team_defense_zones: vec![
                TeamDefenseZoneAnalysisRow {
                    team_abbr: "LAL".into(),
                    analysis_date: date("2025-11-01"),
                    ..Default::default()
                },
                TeamDefenseZoneAnalysisRow {
                    team_abbr: "GSW".into(),
                    analysis_date: date("2025-11-01"),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let (inputs, duplicates) = build(rows);
        assert!(duplicates.is_empty());
        assert_eq!(inputs.players["a"].shot_zone, Some(shot_zone("a")));
        assert_eq!(inputs.players["b"].shot_zone, None);
        assert!(inputs.teams["LAL"].context.is_some() && inputs.teams["LAL"].defense_zone.is_some());
        assert!(inputs.teams["GSW"].context.is_none() && inputs.teams["GSW"].defense_zone.is_some());
    }

    #[test]
    fn range_rows_split_by_their_date_column() {
        let rows = DateRows {
            player_contexts: vec![context_row("a", "2025-11-01", 1), context_row("b", "2025-11-02", 1)],
            player_shot_zones: vec![PlayerShotZoneAnalysisRow {
                player_lookup: "a".into(),
                analysis_date: date("2025-11-02"),
                ..Default::default()
            }],
            ..Default::default()
        };
        let by_date = split_rows_by_date(rows);
        assert_eq!(by_date.len(), 2);
        assert_eq!(by_date[&date("2025-11-01")].player_contexts.len(), 1);
        assert_eq!(by_date[&date("2025-11-02")].player_shot_zones.len(), 1);
    }
}
