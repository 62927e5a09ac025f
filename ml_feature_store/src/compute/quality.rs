//! The quality of a feature vector from its source labels (reference-mlfs.md §4): the score,
//! the primary `data_source` and the `quality_tier`.

use super::features::{FEATURE_COUNT, FeatureSource};
use framework::rounding::round_half_even;

/// Weight of a label missing from the sources (and of `default`).
const MISSING_SOURCE_WEIGHT: u32 = 40;

/// `QualityScorer.SOURCE_WEIGHTS`: how much a feature from each source is trusted.
fn source_weight(source: FeatureSource) -> u32 {
    match source {
        FeatureSource::Phase4 | FeatureSource::Calculated => 100,
        FeatureSource::Phase3 => 75,
        FeatureSource::Default => MISSING_SOURCE_WEIGHT,
    }
}

/// `feature_quality_score`: the mean weight over the 25 feature slots, rounded to 2 decimals
/// (Python `round`). A slot beyond `sources` weighs 40; no sources at all score 0.0 (the
/// reference logged a warning there; this module logs nothing).
pub fn feature_quality_score(sources: &[FeatureSource]) -> f64 {
    if sources.is_empty() {
        return 0.0;
    }
    let total: u32 = (0..FEATURE_COUNT)
        .map(|index| sources.get(index).map_or(MISSING_SOURCE_WEIGHT, |source| source_weight(*source)))
        .sum();
    round_half_even(f64::from(total) / FEATURE_COUNT as f64, 2)
}

/// `data_source` (`determine_primary_source`): shares of `phase4` and `phase3` labels over the
/// labels given, thresholds inclusive: `phase4` ≥ 0.90, `phase4_partial` ≥ 0.50, `phase3`
/// ≥ 0.50, else `mixed`; `unknown` without labels.
pub fn primary_data_source(sources: &[FeatureSource]) -> &'static str {
    if sources.is_empty() {
        return "unknown";
    }
    let share_of = |wanted: FeatureSource| {
        sources.iter().filter(|source| **source == wanted).count() as f64 / sources.len() as f64
    };
    let phase4_share = share_of(FeatureSource::Phase4);
    if phase4_share >= 0.90 {
        "phase4"
    } else if phase4_share >= 0.50 {
        "phase4_partial"
    } else if share_of(FeatureSource::Phase3) >= 0.50 {
        "phase3"
    } else {
        "mixed"
    }
}

/// `quality_tier` (`get_tier_from_score`): gold ≥ 95, silver ≥ 75, bronze ≥ 50, poor ≥ 25,
/// else unusable.
pub fn quality_tier(score: f64) -> &'static str {
    if score >= 95.0 {
        "gold"
    } else if score >= 75.0 {
        "silver"
    } else if score >= 50.0 {
        "bronze"
    } else if score >= 25.0 {
        "poor"
    } else {
        "unusable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FeatureSource::{Calculated, Default, Phase3, Phase4};

    /// Labels given as (count, source) runs, in index order.
    fn labels(runs: &[(usize, FeatureSource)]) -> Vec<FeatureSource> {
        runs.iter().flat_map(|(count, source)| std::iter::repeat_n(*source, *count)).collect()
    }

    #[test]
    fn all_phase4_scores_100() {
        assert_eq!(feature_quality_score(&labels(&[(25, Phase4)])), 100.0);
        assert_eq!(primary_data_source(&labels(&[(25, Phase4)])), "phase4");
        assert_eq!(quality_tier(100.0), "gold");
    }

    #[test]
    fn all_phase3_scores_75() {
        assert_eq!(feature_quality_score(&labels(&[(25, Phase3)])), 75.0);
    }

    #[test]
    fn all_default_scores_40_low_and_mixed() {
        let all_default = labels(&[(25, Default)]);
        assert_eq!(feature_quality_score(&all_default), 40.0);
        assert_eq!(primary_data_source(&all_default), "mixed");
        assert_eq!(quality_tier(40.0), "poor");
    }

    #[test]
    fn ten_phase4_ten_phase3_five_calculated_scores_90() {
        // Indices 0–8 and 13 phase4; 14–20 and 22–24 phase3; 9–12 and 21 calculated.
        let mut sources = [Phase3; FEATURE_COUNT];
        for index in (0..=8).chain([13]) {
            sources[index] = Phase4;
        }
        for index in [9, 10, 11, 12, 21] {
            sources[index] = Calculated;
        }
        // (10 × 100 + 10 × 75 + 5 × 100) / 25 = 2250 / 25.
        assert_eq!(feature_quality_score(&sources), 90.0);
    }

    #[test]
    fn phase4_through_18_plus_calculated_scores_100() {
        assert_eq!(feature_quality_score(&labels(&[(19, Phase4), (6, Calculated)])), 100.0);
    }

    #[test]
    fn no_sources_score_zero_and_unknown() {
        assert_eq!(feature_quality_score(&[]), 0.0);
        assert_eq!(primary_data_source(&[]), "unknown");
    }

    #[test]
    fn missing_slots_weigh_as_default() {
        // Three phase4 labels and 22 missing slots: (300 + 22 × 40) / 25 = 47.2.
        assert_eq!(feature_quality_score(&labels(&[(3, Phase4)])), 47.2);
    }

    #[test]
    fn realistic_mix_scores_97_gold() {
        let sources = labels(&[(16, Phase4), (3, Phase3), (6, Calculated)]);
        // (1600 + 225 + 600) / 25 = 97.0.
        assert_eq!(feature_quality_score(&sources), 97.0);
        assert_eq!(quality_tier(97.0), "gold");
    }

    #[test]
    fn phase3_and_calculated_score_81_phase3() {
        let sources = labels(&[(19, Phase3), (6, Calculated)]);
        // (19 × 75 + 600) / 25 = 2025 / 25 = 81.0.
        assert_eq!(feature_quality_score(&sources), 81.0);
        assert_eq!(primary_data_source(&sources), "phase3");
        assert_eq!(quality_tier(81.0), "silver");
    }

    #[test]
    fn primary_source_examples() {
        assert_eq!(primary_data_source(&labels(&[(23, Phase4), (1, Phase3), (1, Calculated)])), "phase4");
        assert_eq!(primary_data_source(&labels(&[(15, Phase4), (10, Phase3)])), "phase4_partial");
        assert_eq!(primary_data_source(&labels(&[(15, Phase3), (10, Phase4)])), "phase3");
        assert_eq!(
            primary_data_source(&labels(&[(10, Phase4), (5, Phase3), (5, Default), (5, Calculated)])),
            "mixed"
        );
        // 19 of 25 = 76 % phase4 (test_performance.py's failing expectation, §7.4).
        assert_eq!(primary_data_source(&labels(&[(19, Phase4), (6, Calculated)])), "phase4_partial");
    }

    #[test]
    fn primary_source_thresholds_are_inclusive() {
        // §4: shares over the labels given, all thresholds ≥. Over 10 labels:
        // 9 / 10 = 0.90 → phase4; 8 / 10 = 0.80 → phase4_partial; 5 / 10 = 0.50 → phase4_partial.
        assert_eq!(primary_data_source(&labels(&[(9, Phase4), (1, Phase3)])), "phase4");
        assert_eq!(primary_data_source(&labels(&[(8, Phase4), (2, Phase3)])), "phase4_partial");
        assert_eq!(primary_data_source(&labels(&[(5, Phase4), (5, Phase3)])), "phase4_partial");
        // phase4 4 / 10 = 0.40, phase3 5 / 10 = 0.50 → phase3; phase3 4 / 10 → mixed.
        assert_eq!(primary_data_source(&labels(&[(4, Phase4), (5, Phase3), (1, Default)])), "phase3");
        assert_eq!(primary_data_source(&labels(&[(4, Phase4), (4, Phase3), (2, Default)])), "mixed");
        // Over 25 (§4 "≥13 phase4"): 23 / 25 = 0.92 → phase4; 22 / 25 = 0.88 → phase4_partial;
        // 13 / 25 = 0.52 → phase4_partial; 12 / 25 = 0.48 → mixed.
        assert_eq!(primary_data_source(&labels(&[(23, Phase4), (2, Default)])), "phase4");
        assert_eq!(primary_data_source(&labels(&[(22, Phase4), (3, Default)])), "phase4_partial");
        assert_eq!(primary_data_source(&labels(&[(13, Phase4), (12, Default)])), "phase4_partial");
        assert_eq!(primary_data_source(&labels(&[(12, Phase4), (13, Default)])), "mixed");
    }

    #[test]
    fn reachable_scores_span_58_6_to_97() {
        // §4 / takeaway 5: the least an MLFS row can score is 3 phase3 (15–17) + 6 calculated +
        // 16 default = (225 + 600 + 640) / 25 = 58.6; the most 16 phase4 + 3 phase3 + 6
        // calculated = (1600 + 225 + 600) / 25 = 97.0.
        let lowest = labels(&[(3, Phase3), (6, Calculated), (16, Default)]);
        assert_eq!(feature_quality_score(&lowest), 58.6);
        assert_eq!(quality_tier(58.6), "bronze");
        let highest = labels(&[(16, Phase4), (3, Phase3), (6, Calculated)]);
        assert_eq!(feature_quality_score(&highest), 97.0);
        assert_eq!(primary_data_source(&highest), "phase4_partial");
    }

    #[test]
    fn tier_boundaries_are_inclusive() {
        assert_eq!(quality_tier(95.0), "gold");
        assert_eq!(quality_tier(94.99), "silver");
        assert_eq!(quality_tier(75.0), "silver");
        assert_eq!(quality_tier(62.8), "bronze");
        assert_eq!(quality_tier(50.0), "bronze");
        assert_eq!(quality_tier(25.0), "poor");
        assert_eq!(quality_tier(24.99), "unusable");
        assert_eq!(quality_tier(0.0), "unusable");
    }
}
