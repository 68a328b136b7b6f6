//! The shipped seed attacks for self red-teaming (`seeds.txt`, compiled in).

/// The raw seed file: one attack per line, `#` comments, `\n` escapes.
pub const SEEDS_TXT: &str = include_str!("seeds.txt");

/// The shipped seeds, comments and blank lines skipped, `\n` turned into line breaks.
pub fn shipped() -> Vec<String> {
    parse_lines(SEEDS_TXT)
}

/// Seeds from a text in the `seeds.txt` format.
pub fn parse_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.replace("\\n", "\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn shipped_seeds_are_many_distinct_and_decoded() {
        let seeds = shipped();
        assert!((40..=60).contains(&seeds.len()), "{}", seeds.len());
        assert_eq!(seeds.iter().collect::<HashSet<_>>().len(), seeds.len(), "duplicates");
        assert!(seeds.iter().any(|s| s.contains("<|im_start|>system\n")));
        assert!(seeds.iter().all(|s| !s.contains("\\n")));
    }
}
