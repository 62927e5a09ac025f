//! The reference's INFO lines about a date's inputs before its records (reference-pgs.md §7):
//! what the extraction found and what the registry lookup resolved. Made from the inputs, so
//! the computation stays silent and the runner logs them.

use std::collections::BTreeMap;

use framework::dates::{season_label, season_year};

use crate::inputs::DateInputs;
use crate::unresolved::registry_counts;

/// `✅ Extracted 241 player-game records`, `Source distribution: {'nbac_gamebook': 240,
/// 'bdl_boxscores': 1}`, then the registry lookup's lines.
pub fn date_notes(date_inputs: &DateInputs) -> Vec<String> {
    let mut per_source: BTreeMap<&str, usize> = BTreeMap::new();
    for line in date_inputs.games.values().flat_map(|game| game.players.values()) {
        *per_source.entry(line.source.name()).or_default() += 1;
    }
    let records: usize = per_source.values().sum();
    let counts = registry_counts(date_inputs);
    vec![
        format!("✅ Extracted {records} player-game records"),
        format!("Source distribution: {}", python_counts(per_source)),
        "Looking up universal player IDs...".to_owned(),
        format!("Registry context: {}", season_label(i64::from(season_year(date_inputs.date)))),
        format!("Batch lookup for {} players", counts.players_found + counts.players_not_found),
        format!("Registry: {} found, {} not found", counts.players_found, counts.players_not_found),
    ]
}

/// pandas' `value_counts()` printed as a Python dict: the most frequent first (ties by name),
/// `{}` when there is nothing.
fn python_counts(counts: BTreeMap<&str, usize>) -> String {
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|left, right| right.1.cmp(&left.1).then(left.0.cmp(right.0)));
    let entries: Vec<String> = counts.iter().map(|(name, count)| format!("'{name}': {count}")).collect();
    format!("{{{}}}", entries.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_print_as_a_python_dict_most_frequent_first() {
        let counts = BTreeMap::from([("bdl_boxscores", 26), ("nbac_gamebook", 240)]);
        assert_eq!(python_counts(counts), "{'nbac_gamebook': 240, 'bdl_boxscores': 26}");
        let tied = BTreeMap::from([("nbac_gamebook", 3), ("bdl_boxscores", 3)]);
        assert_eq!(python_counts(tied), "{'bdl_boxscores': 3, 'nbac_gamebook': 3}");
        assert_eq!(python_counts(BTreeMap::new()), "{}");
    }
}
