//! The 25-feature vector `v1_baseline_25` (reference-mlfs.md §3): Phase 4 values with Phase 3
//! fallbacks and defaults, the six calculated features, and each feature's source label.
//!
//! Every function here is pure and total: missing inputs (NULL or NaN, README §4 item 9) take
//! the documented default, so every feature is a finite number (a property test checks it).
//! Gathering the inputs of one player from the date's tables is `compute`'s job.

use framework::rounding::write_python_float;

use crate::inputs::{
    PlayerCompositeFactorsRow, PlayerDailyCacheRow, PlayerGame, PlayerShotZoneAnalysisRow,
    TeamDefenseZoneAnalysisRow, TeamOffenseGameSummaryRow, UpcomingPlayerGameContextRow,
};

/// `feature_version` written on every row.
pub const FEATURE_VERSION: &str = "v1_baseline_25";

/// Length of the vector; `feature_count` on every row.
pub const FEATURE_COUNT: usize = 25;

/// `feature_names` in vector order (reference-mlfs.md §3; the code's names, not the README's).
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "games_in_last_7_days",
    "fatigue_score",
    "shot_zone_mismatch_score",
    "pace_score",
    "usage_spike_score",
    "rest_advantage",
    "injury_risk",
    "recent_trend",
    "minutes_change",
    "opponent_def_rating",
    "opponent_pace",
    "home_away",
    "back_to_back",
    "playoff_game",
    "pct_paint",
    "pct_mid_range",
    "pct_three",
    "pct_free_throw",
    "team_pace",
    "team_off_rating",
    "team_win_pct",
];

/// Where a feature's value came from; the quality score weighs these (reference-mlfs.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeatureSource {
    Phase4,
    Phase3,
    Default,
    Calculated,
}

impl FeatureSource {
    /// The label the reference used.
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureSource::Phase4 => "phase4",
            FeatureSource::Phase3 => "phase3",
            FeatureSource::Default => "default",
            FeatureSource::Calculated => "calculated",
        }
    }
}

/// The feature values with their source labels, index-aligned with [`FEATURE_NAMES`].
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureVector {
    pub values: [f64; FEATURE_COUNT],
    pub sources: [FeatureSource; FEATURE_COUNT],
}

/// The reference's merged "Phase 4 dict" of one player (reference-mlfs.md §2.4), every value
/// finite or `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Phase4Values {
    pub points_avg_last_5: Option<f64>,
    pub points_avg_last_10: Option<f64>,
    pub points_avg_season: Option<f64>,
    pub points_std_last_10: Option<f64>,
    pub games_in_last_7_days: Option<f64>,
    pub minutes_avg_last_10: Option<f64>,
    pub team_pace_last_10: Option<f64>,
    pub team_off_rating_last_10: Option<f64>,
    pub fatigue_score: Option<f64>,
    pub shot_zone_mismatch_score: Option<f64>,
    pub pace_score: Option<f64>,
    pub usage_spike_score: Option<f64>,
    pub paint_rate_last_10: Option<f64>,
    pub mid_range_rate_last_10: Option<f64>,
    pub three_pt_rate_last_10: Option<f64>,
    pub opponent_def_rating: Option<f64>,
    pub opponent_pace: Option<f64>,
}

/// A value that is usable: NULL, NaN and infinities are all missing (README §4 item 9).
fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|number| number.is_finite())
}

/// Merges the player's Phase 4 rows in the reference's order: daily cache, composite factors,
/// shot zones, then the opponent's team defense (reference-mlfs.md §2.4).
///
/// Only the shot-zone rates overlap (daily cache and shot zones both carry
/// `paint_rate_last_10` and `three_pt_rate_last_10`): the shot-zone value wins when present,
/// and a missing shot-zone value no longer erases the daily cache's (README §4 item 16; the
/// reference let a NULL overwrite it).
pub fn merge_phase4(
    daily_cache: Option<&PlayerDailyCacheRow>,
    composite: Option<&PlayerCompositeFactorsRow>,
    shot_zones: Option<&PlayerShotZoneAnalysisRow>,
    opponent_defense: Option<&TeamDefenseZoneAnalysisRow>,
) -> Phase4Values {
    let shot_zone_rate =
        |rate: fn(&PlayerShotZoneAnalysisRow) -> Option<f64>| finite(shot_zones.and_then(rate));
    let cache_value = |value: fn(&PlayerDailyCacheRow) -> Option<f64>| finite(daily_cache.and_then(value));
    let composite_value =
        |value: fn(&PlayerCompositeFactorsRow) -> Option<f64>| finite(composite.and_then(value));
    Phase4Values {
        points_avg_last_5: cache_value(|row| row.points_avg_last_5),
        points_avg_last_10: cache_value(|row| row.points_avg_last_10),
        points_avg_season: cache_value(|row| row.points_avg_season),
        points_std_last_10: cache_value(|row| row.points_std_last_10),
        games_in_last_7_days: daily_cache.and_then(|row| row.games_in_last_7_days).map(|games| games as f64),
        minutes_avg_last_10: cache_value(|row| row.minutes_avg_last_10),
        team_pace_last_10: cache_value(|row| row.team_pace_last_10),
        team_off_rating_last_10: cache_value(|row| row.team_off_rating_last_10),
        fatigue_score: composite.and_then(|row| row.fatigue_score).map(|score| score as f64),
        shot_zone_mismatch_score: composite_value(|row| row.shot_zone_mismatch_score),
        pace_score: composite_value(|row| row.pace_score),
        usage_spike_score: composite_value(|row| row.usage_spike_score),
        paint_rate_last_10: shot_zone_rate(|row| row.paint_rate_last_10)
            .or_else(|| cache_value(|row| row.paint_rate_last_10)),
        mid_range_rate_last_10: shot_zone_rate(|row| row.mid_range_rate_last_10),
        three_pt_rate_last_10: shot_zone_rate(|row| row.three_pt_rate_last_10)
            .or_else(|| cache_value(|row| row.three_pt_rate_last_10)),
        opponent_def_rating: finite(opponent_defense.and_then(|row| row.defensive_rating_last_15)),
        opponent_pace: finite(opponent_defense.and_then(|row| row.opponent_pace)),
    }
}

/// Most games the last-N window holds (README §4 item 17).
pub const LAST_N_GAMES: usize = 10;

/// The numbers of one recent game that the calculated features read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RecentGame {
    pub points: Option<i64>,
    pub minutes_played: Option<f64>,
    pub ft_makes: Option<i64>,
}

impl RecentGame {
    /// Points with NULL counted as 0 (README §4 item 17), as a float so that sums of any
    /// `INT64` values stay exact enough and never overflow.
    fn points_or_zero(&self) -> f64 {
        self.points.unwrap_or(0) as f64
    }

    fn minutes_or_zero(&self) -> f64 {
        finite(self.minutes_played).unwrap_or(0.0)
    }

    fn ft_makes_or_zero(&self) -> f64 {
        self.ft_makes.unwrap_or(0) as f64
    }
}

/// The player's last ≤ 10 games before `D`, newest first, kept on the stack.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RecentGames {
    games: [RecentGame; LAST_N_GAMES],
    len: usize,
}

impl RecentGames {
    /// The last 10 of a player's games before `D`, given oldest first as the history holds them
    /// (README §4 item 17: any season).
    pub fn from_history(games_before: &[PlayerGame]) -> RecentGames {
        RecentGames::from_newest_first(games_before.iter().rev().map(|game| RecentGame {
            points: game.points,
            minutes_played: game.minutes_played,
            ft_makes: game.ft_makes,
        }))
    }

    /// At most the first 10 games of `newest_first`.
    pub fn from_newest_first(newest_first: impl IntoIterator<Item = RecentGame>) -> RecentGames {
        let mut recent = RecentGames::default();
        for game in newest_first.into_iter().take(LAST_N_GAMES) {
            recent.games[recent.len] = game;
            recent.len += 1;
        }
        recent
    }

    /// Newest first.
    pub fn as_slice(&self) -> &[RecentGame] {
        &self.games[..self.len]
    }
}

/// Mean of `values` summed left to right, as Python's `sum(values) / len(values)`.
fn mean(values: impl ExactSizeIterator<Item = f64>) -> f64 {
    let count = values.len() as f64;
    values.sum::<f64>() / count
}

/// The player's season so far: `season_year = SY AND game_date < D` (README §4 item 17).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SeasonStats {
    /// `AVG(points)`, NULLs skipped; `None` when no game has points.
    pub points_avg_season: Option<f64>,
    /// `AVG(minutes_played)`, NULLs skipped.
    pub minutes_avg_season: Option<f64>,
    pub games_played_season: usize,
}

impl SeasonStats {
    /// The season aggregates of the player's games before `D` (oldest first) in `season_year`.
    pub fn from_history(games_before: &[PlayerGame], season_year: i64) -> SeasonStats {
        let mut points = Average::default();
        let mut minutes = Average::default();
        let mut games_played_season = 0;
        for game in games_before.iter().filter(|game| game.season_year == Some(season_year)) {
            games_played_season += 1;
            points.add(game.points.map(|value| value as f64));
            minutes.add(game.minutes_played);
        }
        SeasonStats {
            points_avg_season: points.value(),
            minutes_avg_season: minutes.value(),
            games_played_season,
        }
    }
}

/// SQL `AVG`: the mean of the non-missing values, `None` when there are none.
#[derive(Default)]
struct Average {
    sum: f64,
    count: usize,
}

impl Average {
    fn add(&mut self, value: Option<f64>) {
        if let Some(value) = finite(value) {
            self.sum += value;
            self.count += 1;
        }
    }

    fn value(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64).filter(|mean| mean.is_finite())
    }
}

/// Wins and games of the player's team this season before `D` (README §4 item 15).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeamSeasonRecord {
    pub games: usize,
    pub wins: usize,
}

impl TeamSeasonRecord {
    /// The record of a team's games before `D` (oldest first) in `season_year`; a NULL
    /// `win_flag` is a game but not a win, as the reference's truthiness test.
    pub fn from_history(
        team_games_before: &[TeamOffenseGameSummaryRow],
        season_year: i64,
    ) -> TeamSeasonRecord {
        let season_games = team_games_before.iter().filter(|game| game.season_year == Some(season_year));
        let mut record = TeamSeasonRecord::default();
        for game in season_games {
            record.games += 1;
            record.wins += usize::from(game.win_flag == Some(true));
        }
        record
    }
}

/// The reference's "Phase 3 dict" of one player (reference-mlfs.md §2.4): the game context,
/// the last-10 games, the season aggregates and the team's season record.
#[derive(Clone, Copy, Debug)]
pub struct Phase3Values<'a> {
    pub context: &'a UpcomingPlayerGameContextRow,
    pub recent_games: &'a [RecentGame],
    pub season: SeasonStats,
    pub team_record: TeamSeasonRecord,
}

impl Phase3Values<'_> {
    /// Mean points of the 5 newest games; needs at least 5.
    fn points_avg_last_5(&self) -> Option<f64> {
        let newest_five = self.recent_games.get(..5)?;
        Some(mean(newest_five.iter().map(RecentGame::points_or_zero)))
    }

    /// Mean points over the last-10 list; needs at least one game.
    fn points_avg_last_10(&self) -> Option<f64> {
        if self.recent_games.is_empty() {
            return None;
        }
        Some(mean(self.recent_games.iter().map(RecentGame::points_or_zero)))
    }
}

/// Defaults of the features that can fall back (reference-mlfs.md §3 table).
mod defaults {
    pub const POINTS_AVERAGE: f64 = 10.0;
    pub const POINTS_STD_LAST_10: f64 = 5.0;
    pub const GAMES_IN_LAST_7_DAYS: f64 = 3.0;
    pub const FATIGUE_SCORE: f64 = 50.0;
    pub const ZERO_ADJUSTMENT: f64 = 0.0;
    pub const OPPONENT_DEF_RATING: f64 = 112.0;
    pub const OPPONENT_PACE: f64 = 100.0;
    pub const PAINT_RATE_PERCENT: f64 = 30.0;
    pub const MID_RANGE_RATE_PERCENT: f64 = 20.0;
    pub const THREE_PT_RATE_PERCENT: f64 = 35.0;
    pub const TEAM_PACE: f64 = 100.0;
    pub const TEAM_OFF_RATING: f64 = 112.0;
}

/// The `with_fallback` rule: Phase 4, else Phase 3, else the default.
fn with_fallback(phase4: Option<f64>, phase3: Option<f64>, default: f64) -> (f64, FeatureSource) {
    match (finite(phase4), finite(phase3)) {
        (Some(value), _) => (value, FeatureSource::Phase4),
        (None, Some(value)) => (value, FeatureSource::Phase3),
        (None, None) => (default, FeatureSource::Default),
    }
}

/// Phase 4, else the default: the reference's Phase-4-only rule of features 5–8, and in effect
/// its fallback rule for features 3, 4, 13, 14, 18–20, 22 and 23, which have no Phase 3 value in
/// practice (reference-mlfs.md §0 item 4).
fn phase4_or_default(phase4: Option<f64>, default: f64) -> (f64, FeatureSource) {
    with_fallback(phase4, None, default)
}

/// Index of the first of the four composite factors in the vector (features 5–8).
const FIRST_COMPOSITE_FEATURE: usize = 5;

/// Features 5–8, the composite factors, as their Phase 4 values and defaults: the features the
/// reference took from Phase 4 alone (`_get_feature_phase4_only`, reference-mlfs.md §3).
fn composite_features(phase4: &Phase4Values) -> [(Option<f64>, f64); 4] {
    [
        (phase4.fatigue_score, defaults::FATIGUE_SCORE),
        (phase4.shot_zone_mismatch_score, defaults::ZERO_ADJUSTMENT),
        (phase4.pace_score, defaults::ZERO_ADJUSTMENT),
        (phase4.usage_spike_score, defaults::ZERO_ADJUSTMENT),
    ]
}

/// The reference's warning for each composite factor it had no Phase 4 value of (reference-mlfs.md
/// §3, the Phase-4-only rule): `Feature 5 (fatigue_score) missing from Phase 4, using
/// default=50.0`. Features 3, 4, 13, 14, 18–20, 22 and 23 also take their defaults without a
/// Phase 4 value, but the reference reached those through its fallback rule, which said nothing.
pub fn missing_composite_feature_lines(phase4: &Phase4Values) -> Vec<String> {
    composite_features(phase4)
        .into_iter()
        .enumerate()
        .filter(|(_, (value, _))| finite(*value).is_none())
        .map(|(offset, (_, default))| {
            let index = FIRST_COMPOSITE_FEATURE + offset;
            let mut line =
                format!("Feature {index} ({}) missing from Phase 4, using default=", FEATURE_NAMES[index]);
            write_python_float(&mut line, default);
            line
        })
        .collect()
}

/// A shot-zone rate in percent as the fraction the vector holds (features 18–20).
fn percent_as_fraction((percent, source): (f64, FeatureSource)) -> (f64, FeatureSource) {
    (percent / 100.0, source)
}

/// A game-context feature (15–17): labelled `phase3` even when the context lacks the value, as
/// the reference did and the models were trained on (README §4 item 18).
fn context_feature(value: f64) -> (f64, FeatureSource) {
    (value, FeatureSource::Phase3)
}

fn calculated(value: f64) -> (f64, FeatureSource) {
    (value, FeatureSource::Calculated)
}

/// The 25 features of one player (reference-mlfs.md §3), in [`FEATURE_NAMES`] order.
pub fn compute_features(phase4: &Phase4Values, phase3: &Phase3Values<'_>) -> FeatureVector {
    let context = phase3.context;
    let recent_games = phase3.recent_games;
    let [fatigue, shot_zone_mismatch, pace, usage_spike] =
        composite_features(phase4).map(|(value, default)| phase4_or_default(value, default));
    let features: [(f64, FeatureSource); FEATURE_COUNT] = [
        with_fallback(phase4.points_avg_last_5, phase3.points_avg_last_5(), defaults::POINTS_AVERAGE),
        with_fallback(phase4.points_avg_last_10, phase3.points_avg_last_10(), defaults::POINTS_AVERAGE),
        with_fallback(phase4.points_avg_season, phase3.season.points_avg_season, defaults::POINTS_AVERAGE),
        phase4_or_default(phase4.points_std_last_10, defaults::POINTS_STD_LAST_10),
        phase4_or_default(phase4.games_in_last_7_days, defaults::GAMES_IN_LAST_7_DAYS),
        fatigue,
        shot_zone_mismatch,
        pace,
        usage_spike,
        calculated(rest_advantage(context.days_rest, context.opponent_days_rest)),
        calculated(injury_risk(context.player_status.as_deref())),
        calculated(recent_trend(recent_games)),
        calculated(minutes_change(
            phase4.minutes_avg_last_10,
            recent_games,
            phase3.season.minutes_avg_season,
        )),
        phase4_or_default(phase4.opponent_def_rating, defaults::OPPONENT_DEF_RATING),
        phase4_or_default(phase4.opponent_pace, defaults::OPPONENT_PACE),
        context_feature(flag_as_number(context.home_game)),
        context_feature(flag_as_number(context.back_to_back)),
        context_feature(playoff_game(context.season_phase.as_deref())),
        percent_as_fraction(phase4_or_default(phase4.paint_rate_last_10, defaults::PAINT_RATE_PERCENT)),
        percent_as_fraction(phase4_or_default(
            phase4.mid_range_rate_last_10,
            defaults::MID_RANGE_RATE_PERCENT,
        )),
        percent_as_fraction(phase4_or_default(phase4.three_pt_rate_last_10, defaults::THREE_PT_RATE_PERCENT)),
        calculated(pct_free_throw(recent_games)),
        phase4_or_default(phase4.team_pace_last_10, defaults::TEAM_PACE),
        phase4_or_default(phase4.team_off_rating_last_10, defaults::TEAM_OFF_RATING),
        calculated(team_win_pct(phase3.team_record)),
    ];
    FeatureVector { values: features.map(|(value, _)| value), sources: features.map(|(_, source)| source) }
}

/// Features 15 and 16: `float(flag or 0)`.
fn flag_as_number(flag: Option<bool>) -> f64 {
    if flag == Some(true) { 1.0 } else { 0.0 }
}

/// Feature 17: 1.0 exactly when `lower(season_phase) == 'playoffs'`.
fn playoff_game(season_phase: Option<&str>) -> f64 {
    if season_phase.is_some_and(|phase| phase.eq_ignore_ascii_case("playoffs")) { 1.0 } else { 0.0 }
}

/// Feature 9 (reference-mlfs.md §3.1): the player's extra days of rest over the opponent,
/// clamped to [−2, 2]; 0.0 when either is unknown.
pub fn rest_advantage(days_rest: Option<i64>, opponent_days_rest: Option<i64>) -> f64 {
    match (days_rest, opponent_days_rest) {
        (Some(days_rest), Some(opponent_days_rest)) => {
            days_rest.saturating_sub(opponent_days_rest).clamp(-2, 2) as f64
        }
        _ => 0.0,
    }
}

/// Feature 10 (reference-mlfs.md §3.1): the injury-report status as a 0–3 risk; unknown
/// statuses are 0.0.
pub fn injury_risk(player_status: Option<&str>) -> f64 {
    match player_status.unwrap_or("").to_lowercase().as_str() {
        "probable" => 1.0,
        "questionable" => 2.0,
        "doubtful" | "out" => 3.0,
        _ => 0.0,
    }
}

/// Feature 11 (reference-mlfs.md §3.1): the mean of the 2 older of the 5 newest games minus the
/// mean of the 3 newest, bucketed at ±2 and ±5 (inclusive). Positive means the player is
/// *declining*: the reference's docstring says the opposite, but its tests and the trained
/// models use this sign, which is kept (README §4 item 18).
pub fn recent_trend(recent_games: &[RecentGame]) -> f64 {
    let Some(newest_five) = recent_games.get(..5) else {
        return 0.0;
    };
    let newest_three = mean(newest_five[..3].iter().map(RecentGame::points_or_zero));
    let older_two = mean(newest_five[3..].iter().map(RecentGame::points_or_zero));
    let difference = older_two - newest_three;
    if difference >= 5.0 {
        2.0
    } else if difference >= 2.0 {
        1.0
    } else if difference <= -5.0 {
        -2.0
    } else if difference <= -2.0 {
        -1.0
    } else {
        0.0
    }
}

/// Feature 12 (reference-mlfs.md §3.1): recent minutes against the season average, bucketed at
/// ±10 % and ±20 % (inclusive). Recent minutes are Phase 4's `minutes_avg_last_10`, else the
/// mean of the last-10 minutes (NULL as 0); 0.0 when either side is 0.
pub fn minutes_change(
    minutes_avg_last_10: Option<f64>,
    recent_games: &[RecentGame],
    minutes_avg_season: Option<f64>,
) -> f64 {
    let recent = finite(minutes_avg_last_10).unwrap_or_else(|| {
        if recent_games.is_empty() { 0.0 } else { mean(recent_games.iter().map(RecentGame::minutes_or_zero)) }
    });
    let season = finite(minutes_avg_season).unwrap_or(0.0);
    if season == 0.0 || recent == 0.0 {
        return 0.0;
    }
    let change = (recent - season) / season;
    if change >= 0.20 {
        2.0
    } else if change >= 0.10 {
        1.0
    } else if change <= -0.20 {
        -2.0
    } else if change <= -0.10 {
        -1.0
    } else {
        0.0
    }
}

/// Share of points scored from free throws used when the last-10 sample is too small.
const DEFAULT_FREE_THROW_SHARE: f64 = 0.15;

/// Feature 21 (reference-mlfs.md §3.1): free throws made over points across the last-10 games,
/// clamped to [0, 0.5]; 0.15 with fewer than 5 games or no points.
pub fn pct_free_throw(recent_games: &[RecentGame]) -> f64 {
    if recent_games.len() < 5 {
        return DEFAULT_FREE_THROW_SHARE;
    }
    let free_throws: f64 = recent_games.iter().map(RecentGame::ft_makes_or_zero).sum();
    let points: f64 = recent_games.iter().map(RecentGame::points_or_zero).sum();
    if points == 0.0 {
        return DEFAULT_FREE_THROW_SHARE;
    }
    (free_throws / points).clamp(0.0, 0.5)
}

/// Games a team must have played this season before its record counts.
const MIN_TEAM_GAMES_FOR_WIN_PCT: usize = 5;

/// Feature 24 (reference-mlfs.md §3.1, README §4 item 15): the team's share of wins this
/// season before `D`, unclamped; 0.5 with fewer than 5 games. The reference always wrote 0.5
/// because it never read the team's games.
pub fn team_win_pct(record: TeamSeasonRecord) -> f64 {
    if record.games < MIN_TEAM_GAMES_FOR_WIN_PCT {
        return 0.5;
    }
    record.wins as f64 / record.games as f64
}
