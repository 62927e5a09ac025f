//! The composite factors of one player (reference-pcf.md §3.1–§3.10): the four active scores, the
//! four deferred ones, the total, the row's data completeness and its warnings.
//!
//! Every function here is a formula over already-looked-up inputs; missing values (NULL, and NaN
//! or infinities, README §4 item 9) take the reference's per-use defaults. Rounding for storage
//! happens where the row is assembled, because the total and the warnings use unrounded values.

use std::sync::LazyLock;

use framework::rounding::round_half_even;

use super::subsets::Subsets;
use crate::inputs::{PlayerShotZoneAnalysisRow, TeamDefenseZoneAnalysisRow, UpcomingPlayerGameContextRow};

/// Written to `calculation_version` and hashed.
pub const CALCULATION_VERSION: &str = "v1_4factors";

/// The league's average pace; only shown in the pace context (reference-pcf.md §3.4).
pub const LEAGUE_AVERAGE_PACE: f64 = 100.0;

/// The value of each deferred factor (referee, look-ahead, travel, opponent strength; §3.6).
pub const DEFERRED_FACTOR_SCORE: f64 = 0.0;

/// A present, finite number: the reference's `safe_float` test for "missing" (§3.1).
pub fn present(value: Option<f64>) -> Option<f64> {
    value.filter(|number| number.is_finite())
}

/// The fatigue inputs after defaults. The score and its context JSON use different defaults
/// (reference-pcf.md §3.2 and §3.11, §7 item 14), so both sets are built from the same row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FatigueInputs {
    pub days_rest: i64,
    pub back_to_back: bool,
    pub games_last_7: i64,
    pub minutes_last_7: f64,
    pub avg_minutes_last_7: f64,
    pub back_to_backs_last_14: i64,
    pub player_age: i64,
}

impl FatigueInputs {
    /// The score's defaults: rest 1, no B2B, 3 games, 200 minutes, 30 mpg, 0 B2Bs, age 25.
    pub fn for_score(context: &UpcomingPlayerGameContextRow) -> FatigueInputs {
        FatigueInputs::with_defaults(context, [1, 3], [200.0, 30.0])
    }

    /// The context JSON's defaults: rest 0, 0 games, 0.0 minutes, 0.0 mpg (B2Bs 0, age 25).
    pub fn for_context(context: &UpcomingPlayerGameContextRow) -> FatigueInputs {
        FatigueInputs::with_defaults(context, [0, 0], [0.0, 0.0])
    }

    fn with_defaults(
        context: &UpcomingPlayerGameContextRow,
        [days_rest_default, games_default]: [i64; 2],
        [minutes_default, avg_minutes_default]: [f64; 2],
    ) -> FatigueInputs {
        FatigueInputs {
            days_rest: context.days_rest.unwrap_or(days_rest_default),
            back_to_back: context.back_to_back.unwrap_or(false),
            games_last_7: context.games_in_last_7_days.unwrap_or(games_default),
            minutes_last_7: present(context.minutes_in_last_7_days).unwrap_or(minutes_default),
            avg_minutes_last_7: present(context.avg_minutes_per_game_last_7).unwrap_or(avg_minutes_default),
            back_to_backs_last_14: context.back_to_backs_last_14_days.unwrap_or(0),
            player_age: context.player_age.unwrap_or(25),
        }
    }
}

/// Fatigue score, 0–100, higher = fresher (reference-pcf.md §3.2). Reachable range 35..=100.
pub fn fatigue_score(inputs: &FatigueInputs) -> i64 {
    let mut score = 100;
    if inputs.back_to_back {
        score -= 15;
    } else if inputs.days_rest >= 3 {
        score += 5;
    }
    if inputs.games_last_7 >= 4 {
        score -= 10;
    }
    if inputs.minutes_last_7 > 240.0 {
        score -= 10;
    }
    if inputs.avg_minutes_last_7 > 35.0 {
        score -= 8;
    }
    score -= match inputs.back_to_backs_last_14 {
        count if count >= 2 => 12,
        1 => 5,
        _ => 0,
    };
    score -= match inputs.player_age {
        age if age >= 35 => 10,
        age if age >= 30 => 5,
        _ => 0,
    };
    score.clamp(0, 100)
}

/// The fatigue score as a points adjustment: `(score − 100) / 20`, in [−3.25, 0.0] (§3.2).
pub fn fatigue_adjustment(fatigue_score: i64) -> f64 {
    (fatigue_score as f64 - 100.0) / 20.0
}

/// The zone a player's primary scoring zone maps to. Anything other than the three named zones
/// ('balanced', NULL, unknown text) reads the paint fields (reference-pcf.md §3.3 step 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappedZone {
    Paint,
    MidRange,
    Perimeter,
}

impl MappedZone {
    pub fn of(primary_scoring_zone: Option<&str>) -> MappedZone {
        match primary_scoring_zone {
            Some("mid_range") => MappedZone::MidRange,
            Some("perimeter") => MappedZone::Perimeter,
            _ => MappedZone::Paint,
        }
    }

    /// The player's share of shots in this zone over the last 10 games (a percentage).
    pub fn usage_rate(self, shot: &PlayerShotZoneAnalysisRow) -> Option<f64> {
        present(match self {
            MappedZone::Paint => shot.paint_rate_last_10,
            MappedZone::MidRange => shot.mid_range_rate_last_10,
            MappedZone::Perimeter => shot.three_pt_rate_last_10,
        })
    }

    /// The opponent's defence in this zone versus league average (positive = weak defence).
    pub fn defense_vs_league(self, defense: &TeamDefenseZoneAnalysisRow) -> Option<f64> {
        present(match self {
            MappedZone::Paint => defense.paint_defense_vs_league_avg,
            MappedZone::MidRange => defense.mid_range_defense_vs_league_avg,
            MappedZone::Perimeter => defense.three_pt_defense_vs_league_avg,
        })
    }
}

/// Shot-zone mismatch, [−10, 10] (reference-pcf.md §3.3); 0.0 without both rows. The usage
/// weight has no lower bound, so a negative rate flips the sign, as in the reference.
pub fn shot_zone_mismatch_score(
    shot: Option<&PlayerShotZoneAnalysisRow>,
    defense: Option<&TeamDefenseZoneAnalysisRow>,
) -> f64 {
    let (Some(shot), Some(defense)) = (shot, defense) else {
        return 0.0;
    };
    let zone = MappedZone::of(shot.primary_scoring_zone.as_deref());
    let zone_usage_pct = zone.usage_rate(shot).unwrap_or(50.0);
    let defense_rating = zone.defense_vs_league(defense).unwrap_or(0.0);
    let usage_weight = (zone_usage_pct / 50.0).min(1.0);
    let mut weighted = defense_rating * usage_weight;
    if weighted.abs() > 5.0 {
        weighted *= 1.2;
    }
    weighted.clamp(-10.0, 10.0)
}

/// Pace score, [−3, 3]: half the pace differential (reference-pcf.md §3.4).
pub fn pace_score(pace_differential: Option<f64>) -> f64 {
    (present(pace_differential).unwrap_or(0.0) / 2.0).clamp(-3.0, 3.0)
}

/// Usage-spike score, [−3, 3] (reference-pcf.md §3.5). Only an explicit zero baseline returns
/// 0.0; a missing one defaults to 25. Star absences boost positive spikes only, before the clamp.
pub fn usage_spike_score(
    projected_usage_rate: Option<f64>,
    avg_usage_rate_last_7_games: Option<f64>,
    star_teammates_out: Option<i64>,
) -> f64 {
    let projected = present(projected_usage_rate).unwrap_or(25.0);
    let baseline = present(avg_usage_rate_last_7_games).unwrap_or(25.0);
    let stars_out = star_teammates_out.unwrap_or(0);
    if baseline == 0.0 {
        return 0.0;
    }
    let mut score = (projected - baseline) * 0.3;
    if stars_out > 0 && score > 0.0 {
        score *= if stars_out >= 2 { 1.30 } else { 1.15 };
    }
    score.clamp(-3.0, 3.0)
}

/// The unrounded factors of one player; stored columns round them, the total and warnings do not.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompositeFactors {
    pub fatigue_score: i64,
    pub shot_zone_mismatch: f64,
    pub pace: f64,
    pub usage_spike: f64,
}

impl CompositeFactors {
    pub fn compute(
        context: &UpcomingPlayerGameContextRow,
        shot: Option<&PlayerShotZoneAnalysisRow>,
        defense: Option<&TeamDefenseZoneAnalysisRow>,
    ) -> CompositeFactors {
        CompositeFactors {
            fatigue_score: fatigue_score(&FatigueInputs::for_score(context)),
            shot_zone_mismatch: shot_zone_mismatch_score(shot, defense),
            pace: pace_score(context.pace_differential),
            usage_spike: usage_spike_score(
                context.projected_usage_rate,
                context.avg_usage_rate_last_7_games,
                context.star_teammates_out,
            ),
        }
    }

    /// The unrounded total (reference-pcf.md §3.7), summed in the reference's order, deferred
    /// factors included, so that the float result is bit-identical.
    pub fn total(&self) -> f64 {
        fatigue_adjustment(self.fatigue_score)
            + self.shot_zone_mismatch
            + self.pace
            + self.usage_spike
            + DEFERRED_FACTOR_SCORE
            + DEFERRED_FACTOR_SCORE
            + DEFERRED_FACTOR_SCORE
            + DEFERRED_FACTOR_SCORE
    }
}

/// `data_completeness_pct` and `missing_data_fields` (reference-pcf.md §3.9): five checks, the
/// failing names joined with ", " in check order, or `None` when all pass.
pub fn data_completeness(
    context: &UpcomingPlayerGameContextRow,
    shot_found: bool,
    defense_found: bool,
) -> (f64, Option<&'static str>) {
    static MISSING_FIELDS: LazyLock<Subsets<5>> = LazyLock::new(|| {
        Subsets::new(
            [
                "days_rest",
                "projected_usage_rate",
                "pace_differential",
                "player_shot_zone",
                "team_defense_zone",
            ],
            ", ",
        )
    });
    let passed = [
        context.days_rest.is_some(),
        present(context.projected_usage_rate).is_some(),
        present(context.pace_differential).is_some(),
        shot_found,
        defense_found,
    ];
    let passed_count = passed.iter().filter(|passed| **passed).count();
    let percentage = round_half_even(passed_count as f64 / passed.len() as f64 * 100.0, 1);
    (percentage, MISSING_FIELDS.joined(passed.map(|passed| !passed)))
}

/// `has_warnings` and `warning_details` (reference-pcf.md §3.10), strict thresholds, joined
/// with "; ".
pub fn warnings(fatigue_score: i64, shot_zone_mismatch: f64, total: f64) -> (bool, Option<&'static str>) {
    static WARNINGS: LazyLock<Subsets<3>> = LazyLock::new(|| {
        Subsets::new(
            [
                "EXTREME_FATIGUE: Player showing severe fatigue",
                "EXTREME_MATCHUP: Unusual zone mismatch",
                "EXTREME_ADJUSTMENT: Very large composite adjustment",
            ],
            "; ",
        )
    });
    let details = WARNINGS.joined([fatigue_score < 50, shot_zone_mismatch.abs() > 8.0, total.abs() > 12.0]);
    (details.is_some(), details)
}
