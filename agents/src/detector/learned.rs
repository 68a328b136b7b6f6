//! Learned signatures: phrases derived from confirmed attacks, matched literally in normalised text.
//!
//! The shipped rules are compiled once from the skills; what the swarm learns at run time arrives here instead. A
//! signature is a short phrase in the normaliser's form ("paste the hidden setup notes"), derived by the researcher
//! from an attack a person reported and promoted by the learning gate only when no benign reference text contains
//! it. All active signatures run in one aho-corasick pass over the normalised text — the one the rules already
//! made — and a match counts only on word boundaries, so "notes" never matches inside "footnotes".
//!
//! The set is immutable: a promotion builds a new [`LearnedRules`] and swaps it in ([`LearnedSignatures`]), so a
//! scan never waits for a learner and never sees half a set.

use std::sync::{Arc, Mutex};

use aho_corasick::{AhoCorasick, MatchKind};
use aimds_runtime::Category;
use arc_swap::ArcSwap;

use super::normalize::is_word_char;

/// One active signature.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedRule {
    /// The pattern id in memory; findings are named `learned-sig.<id>`.
    pub id: i64,
    pub category: Category,
    /// The phrase in normalised form.
    pub literal: String,
}

impl LearnedRule {
    pub fn rule_id(&self) -> String {
        format!("learned-sig.{}", self.id)
    }
}

/// A compiled set of signatures.
#[derive(Debug, Default)]
pub struct LearnedRules {
    rules: Vec<LearnedRule>,
    automaton: Option<AhoCorasick>,
}

/// One word-bounded match in the normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearnedHit {
    /// Index into [`LearnedRules::rules`].
    pub rule: usize,
    pub start: usize,
    pub end: usize,
}

impl LearnedRules {
    /// Compiles `rules`; empty or duplicate literals are dropped. Literals are matched as given: they must already
    /// be in normalised form (the researcher derives them from [`super::normalize::Normalized::text`]).
    pub fn new(rules: Vec<LearnedRule>) -> LearnedRules {
        let mut kept: Vec<LearnedRule> = Vec::with_capacity(rules.len());
        for r in rules {
            let literal = r.literal.trim();
            if literal.is_empty() || kept.iter().any(|k| k.literal == literal) {
                continue;
            }
            kept.push(LearnedRule {
                literal: literal.to_string(),
                ..r
            });
        }
        let automaton = if kept.is_empty() {
            None
        } else {
            // Leftmost-longest: of two signatures starting at one place, the longer (more specific) names the hit.
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(kept.iter().map(|r| r.literal.as_str()))
                .ok()
        };
        LearnedRules { rules: kept, automaton }
    }

    pub fn rules(&self) -> &[LearnedRule] {
        &self.rules
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Word-bounded matches in `normalized`, at most one per signature (the first).
    pub fn find(&self, normalized: &str, out: &mut Vec<LearnedHit>) {
        let Some(ac) = &self.automaton else { return };
        for (start, end, rule) in leftmost_matches(ac, normalized) {
            if !word_bounded(normalized, start, end) || out.iter().any(|h| h.rule == rule) {
                continue;
            }
            out.push(LearnedHit { rule, start, end });
        }
    }

    /// Whether `normalized` holds `literal` on word boundaries (the learning gate's replay uses the same test as
    /// the detector).
    pub fn contains_phrase(normalized: &str, literal: &str) -> bool {
        if literal.is_empty() {
            return false;
        }
        let mut from = 0;
        while let Some(i) = normalized.get(from..).and_then(|rest| rest.find(literal)) {
            let start = from + i;
            if word_bounded(normalized, start, start + literal.len()) {
                return true;
            }
            // Step one char, not one byte, so the next search starts on a boundary.
            from = start
                + normalized
                    .get(start..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
        }
        false
    }
}

/// Leftmost-longest matches, restarting one char after a match that is not word-bounded: matches never overlap,
/// so a signature inside a longer unbounded match ("xpaste the hidden notes") would otherwise be lost.
fn leftmost_matches(ac: &AhoCorasick, hay: &str) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < hay.len() {
        let Some(m) = ac.find(aho_corasick::Input::new(hay).span(at..hay.len())) else {
            break;
        };
        out.push((m.start(), m.end(), m.pattern().as_usize()));
        let next = if word_bounded(hay, m.start(), m.end()) {
            m.end()
        } else {
            m.start()
                + hay
                    .get(m.start()..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8)
        };
        at = next.max(at + 1);
        while at < hay.len() && !hay.is_char_boundary(at) {
            at += 1;
        }
    }
    out
}

fn word_bounded(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).and_then(|s| s.chars().next_back());
    let after = text.get(end..).and_then(|s| s.chars().next());
    let first = text.get(start..).and_then(|s| s.chars().next());
    let last = text.get(..end).and_then(|s| s.chars().next_back());
    // A boundary is needed only where the signature itself starts or ends with a word char.
    let open = !first.is_some_and(is_word_char) || !before.is_some_and(is_word_char);
    let close = !last.is_some_and(is_word_char) || !after.is_some_and(is_word_char);
    open && close
}

/// The live set of learned signatures, shared by the detector stage (reads on every scan, lock-free) and the
/// researcher (swaps in a new set after a promotion).
#[derive(Debug, Default)]
pub struct LearnedSignatures {
    current: ArcSwap<LearnedRules>,
    /// Serialises reloads (never scans): two learners that each read the store and swap could otherwise leave
    /// the older read in place.
    reloading: Mutex<()>,
}

impl LearnedSignatures {
    pub fn new(rules: LearnedRules) -> LearnedSignatures {
        LearnedSignatures {
            current: ArcSwap::from_pointee(rules),
            reloading: Mutex::new(()),
        }
    }

    /// The current set; cheap (an atomic load), never blocks.
    pub fn load(&self) -> arc_swap::Guard<Arc<LearnedRules>> {
        self.current.load()
    }

    pub fn replace(&self, rules: LearnedRules) {
        self.current.store(Arc::new(rules));
    }

    /// Re-reads the set with `read` (after a change was committed) and swaps it in; reloads run one at a time,
    /// so the last one to finish read after every change committed before it.
    pub fn reload<E>(&self, read: impl FnOnce() -> Result<LearnedRules, E>) -> Result<usize, E> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let rules = read()?;
        let n = rules.len();
        self.replace(rules);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(literals: &[&str]) -> LearnedRules {
        LearnedRules::new(
            literals
                .iter()
                .enumerate()
                .map(|(i, l)| LearnedRule {
                    id: i as i64 + 1,
                    category: Category::PromptInjection,
                    literal: (*l).to_string(),
                })
                .collect(),
        )
    }

    fn found(r: &LearnedRules, text: &str) -> Vec<(i64, &'static str)> {
        let mut hits = Vec::new();
        r.find(text, &mut hits);
        hits.iter()
            .map(|h| (r.rules()[h.rule].id, if h.start == 0 { "start" } else { "inside" }))
            .collect()
    }

    #[test]
    fn matches_only_on_word_boundaries() {
        let r = rules(&["paste the hidden notes", "hidden notes"]);
        assert_eq!(found(&r, "paste the hidden notes now"), vec![(1, "start")]);
        assert_eq!(found(&r, "please paste the hidden notes."), vec![(1, "inside")]);
        assert!(found(&r, "copaste the hidden notesy").is_empty());
        // A longer non-bounded match does not hide a bounded shorter one.
        assert_eq!(found(&r, "xpaste the hidden notes"), vec![(2, "inside")]);
        assert!(found(&r, "the footnotes are hidden").is_empty());
        assert!(found(&LearnedRules::default(), "paste the hidden notes").is_empty());
    }

    #[test]
    fn contains_phrase_agrees_with_find() {
        assert!(LearnedRules::contains_phrase("so paste the notes", "paste the notes"));
        assert!(!LearnedRules::contains_phrase(
            "so copaste the notes",
            "paste the notes"
        ));
        assert!(LearnedRules::contains_phrase(
            "copaste the notes; paste the notes",
            "paste the notes"
        ));
        assert!(LearnedRules::contains_phrase("é paste the notes é", "paste the notes"));
        assert!(!LearnedRules::contains_phrase("anything", ""));
    }

    #[test]
    fn duplicates_and_blanks_are_dropped_and_swaps_are_seen() {
        let r = rules(&["a b c", "a b c", "  "]);
        assert_eq!(r.len(), 1);
        let live = LearnedSignatures::default();
        assert!(live.load().is_empty());
        live.replace(r);
        assert_eq!(live.load().len(), 1);
    }
}
