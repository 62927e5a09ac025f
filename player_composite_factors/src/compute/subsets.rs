//! Lists of fixed texts that rows choose from by their flags: the missing fields, the warnings
//! and the quality issues. Every row has these columns, so each possible list is made once,
//! and a row takes a reference to its own instead of allocating and joining it.

/// Every subset of `N` fixed texts, in their order, both as a list and joined by a separator.
pub struct Subsets<const N: usize> {
    /// By bit mask: bit `i` set when the `i`-th text is chosen.
    lists: Vec<Vec<&'static str>>,
    joined: Vec<Option<String>>,
}

impl<const N: usize> Subsets<N> {
    /// # Panics
    /// `N` above 8: 256 lists are plenty for a row's flags.
    pub fn new(texts: [&'static str; N], separator: &str) -> Subsets<N> {
        assert!(N <= 8, "at most 8 texts");
        let lists: Vec<Vec<&'static str>> = (0..1usize << N)
            .map(|mask| {
                texts
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| mask & 1 << bit != 0)
                    .map(|(_, text)| *text)
                    .collect()
            })
            .collect();
        let joined = lists.iter().map(|list| (!list.is_empty()).then(|| list.join(separator))).collect();
        Subsets { lists, joined }
    }

    /// The chosen texts, in their order.
    pub fn list(&self, chosen: [bool; N]) -> &[&'static str] {
        &self.lists[mask(chosen)]
    }

    /// The chosen texts joined, or `None` when none is chosen.
    pub fn joined(&self, chosen: [bool; N]) -> Option<&str> {
        self.joined[mask(chosen)].as_deref()
    }
}

fn mask<const N: usize>(chosen: [bool; N]) -> usize {
    chosen.iter().enumerate().fold(0, |mask, (bit, chosen)| mask | usize::from(*chosen) << bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subset_keeps_the_texts_order() {
        let subsets = Subsets::new(["a", "b", "c"], ", ");
        assert_eq!(subsets.joined([false, false, false]), None);
        assert!(subsets.list([false, false, false]).is_empty());
        assert_eq!(subsets.joined([true, false, true]), Some("a, c"));
        assert_eq!(subsets.list([false, true, true]), ["b", "c"]);
        assert_eq!(subsets.joined([true, true, true]), Some("a, b, c"));
        assert_eq!(subsets.joined([false, true, false]), Some("b"));
    }
}
