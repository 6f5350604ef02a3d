//! "Did you mean ...?": the valid name closest to a misspelled one.

/// The name in `valid` closest to `given`, when it is close enough to be a typo: at most two
/// edits away, or a quarter of `given`'s length for long names.
pub(crate) fn closest<'a>(
    given: &str,
    valid: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = 2.max(given.chars().count() / 4);
    valid
        .into_iter()
        .map(|name| (strsim::levenshtein(name, given), name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn a_typo_finds_its_name_and_a_stranger_finds_none() {
        let names = ["policies", "include", "exclude"];
        assert_eq!(closest("polices", names), Some("policies"));
        assert_eq!(closest("exlude", names), Some("exclude"));
        assert_eq!(closest("settings", names), None);
    }
}
