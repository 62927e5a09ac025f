//! Rows grouped by a text key, the way history tables are indexed by player or team.

use rustc_hash::FxHashMap;

/// `items` grouped by `key_of`, each group in input order. The key text is copied once per
/// group, not once per item: a season of history is tens of thousands of rows of a few hundred
/// players.
pub fn group_by_text<T>(
    items: impl IntoIterator<Item = T>,
    key_of: impl Fn(&T) -> &str,
) -> FxHashMap<String, Vec<T>> {
    let mut groups: FxHashMap<String, Vec<T>> = FxHashMap::default();
    for item in items {
        match groups.get_mut(key_of(&item)) {
            Some(group) => group.push(item),
            None => {
                let key = key_of(&item).to_owned();
                groups.insert(key, vec![item]);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_the_input_order_of_their_items() {
        let groups = group_by_text([("b", 1), ("a", 2), ("b", 3), ("b", 4)], |item| item.0);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups["a"], [("a", 2)]);
        assert_eq!(groups["b"], [("b", 1), ("b", 3), ("b", 4)]);
    }
}
