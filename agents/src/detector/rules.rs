//! Multi-pattern matching of all skill rules at once.
//!
//! Per target text (normalised, raw) the rules compile into:
//! - one aho-corasick automaton for the literal rules;
//! - one aho-corasick automaton of *anchors*: for a regex every match of which begins with one of a
//!   finite set of strings (`(?:ignore|disregard|forget)\s+...`; regex-syntax's prefix extraction),
//!   those strings. A regex rule runs only when one of its anchors occurs in the text;
//! - the regexes without anchors, each run alone on every text (single regexes keep the regex
//!   crate's inner-literal optimisations, which a `RegexSet` loses).
//!
//! Why not one `RegexSet` for everything: measured on our ~180 phrase rules with bounded gaps, the
//! set's lazy DFA explodes (one state per combination of partial matches), thrashes its cache and
//! falls back to the PikeVM: ~9 ms per KB, and 150+ ms to compile. Per-rule passes cost ~2 µs/KB
//! each, which is too slow for 180 rules, so the anchor prefilter decides which rules to run at all.
//! The individual `Regex` of an anchored rule is compiled lazily, the first time its anchor says
//! it may match: the Claude Code hook starts one `aimds` process per tool call, so start-up counts,
//! and most rules never match in a given process. Every regex is *parsed* at compile time (a
//! pattern that does not parse has no anchors, so it is built eagerly with the ungated ones and
//! fails with its `file:line`); [`RuleSet::compile_checked`] also builds every regex up
//! front, which additionally catches size-limit failures (use it for skills loaded at run time; the
//! embedded skills are built by this crate's tests).

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{Regex, RegexBuilder};

use super::skills::{Pattern, RuleDef, SkillError, Target};

/// Most hits one rule reports on one text: enough evidence for scoring and spans, and a bound on
/// the work a text full of repetitions can cause.
pub const MAX_HITS_PER_RULE: usize = 16;

/// Compiled-program size limit for the regex sets (and each lazily built regex). The defaults
/// (10 MiB program, 2 MiB lazy-DFA cache) are sized for one regex; a set of a few hundred
/// bounded-gap phrase patterns exceeds the program limit (seen: `CompiledTooBig`), and a lazy DFA
/// whose cache is too small keeps clearing it and falls back to the much slower PikeVM. Rules are
/// our own or a trusted operator's, and the limits are per process, so 64 MiB is safe.
const REGEX_SIZE_LIMIT: usize = 64 << 20;
const DFA_SIZE_LIMIT: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleHit {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    /// Which text `start..end` is a byte range of.
    pub target: Target,
    pub start: usize,
    pub end: usize,
}

/// The matchers for one target text.
#[derive(Debug, Default)]
struct TargetMatcher {
    literals: Option<AhoCorasick>,
    /// Literal pattern index → rule index.
    literal_rules: Vec<usize>,
    /// Anchor words of anchored regex rules.
    anchors: Option<AhoCorasick>,
    /// Anchor pattern index → rule index.
    anchor_rules: Vec<usize>,
    /// Regex rules without anchors: each runs alone on every text. Not a `RegexSet`: a set
    /// loses the single-regex literal optimisations (e.g. `@` inside an e-mail pattern) and
    /// pays a fixed per-call cost, measured at ~13 µs per short chat line for 27 patterns.
    ungated: Vec<usize>,
}

#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<RuleDef>,
    normalized: TargetMatcher,
    raw: TargetMatcher,
    /// One slot per rule; filled the first time a regex rule's set member matches.
    lazy_regex: Vec<OnceLock<Option<Regex>>>,
}

impl RuleSet {
    /// Compiles every regex once more, alone, so that an invalid one fails here with its `file:line`
    /// instead of disabling its rule at the first scan. Costs start-up time (every regex is built).
    pub fn compile_checked(rules: Vec<RuleDef>) -> Result<RuleSet, SkillError> {
        let set = RuleSet::compile(rules)?;
        for (i, rule) in set.rules.iter().enumerate() {
            if let Pattern::Regex(p) = &rule.pattern {
                let re = build_regex(p).map_err(|e| SkillError::Rule {
                    file: rule.file.clone(),
                    line: rule.line,
                    reason: format!("rule {}: invalid regex: {e}", rule.id),
                })?;
                if let Some(slot) = set.lazy_regex.get(i) {
                    let _ = slot.set(Some(re));
                }
            }
        }
        Ok(set)
    }

    /// Builds the matchers. Syntax errors fail here with the rule's `file:line`; anchored regexes
    /// are built on first use (see [`RuleSet::compile_checked`]).
    pub fn compile(rules: Vec<RuleDef>) -> Result<RuleSet, SkillError> {
        let normalized = TargetMatcher::build(&rules, Target::Normalized)?;
        let raw = TargetMatcher::build(&rules, Target::Raw)?;
        let lazy_regex: Vec<OnceLock<Option<Regex>>> = rules.iter().map(|_| OnceLock::new()).collect();
        // Ungated regexes run on every text, so they are built now: an invalid one fails the
        // load with its file:line, and the first scan pays no compile time.
        for &i in normalized.ungated.iter().chain(&raw.ungated) {
            let (Some(rule), Some(slot)) = (rules.get(i), lazy_regex.get(i)) else {
                continue;
            };
            if let Pattern::Regex(p) = &rule.pattern {
                let re = build_regex(p).map_err(|e| SkillError::Rule {
                    file: rule.file.clone(),
                    line: rule.line,
                    reason: format!("rule {}: invalid regex: {e}", rule.id),
                })?;
                let _ = slot.set(Some(re));
            }
        }
        Ok(RuleSet {
            rules,
            normalized,
            raw,
            lazy_regex,
        })
    }

    pub fn rules(&self) -> &[RuleDef] {
        &self.rules
    }

    /// Ids of the regex rules that have no anchor and so run on every text
    /// (the expensive kind; for tuning rules).
    pub fn unanchored_rules(&self) -> impl Iterator<Item = &str> {
        self.normalized
            .ungated
            .iter()
            .chain(&self.raw.ungated)
            .filter_map(|&i| self.rules.get(i))
            .map(|r| r.id.as_str())
    }

    /// Appends every hit of every rule: `normalized` is the normalised text, `raw` the original.
    pub fn scan(&self, normalized: &str, raw: &str, out: &mut Vec<RuleHit>) {
        self.scan_target(&self.normalized, Target::Normalized, normalized, out);
        self.scan_target(&self.raw, Target::Raw, raw, out);
    }

    fn scan_target(&self, m: &TargetMatcher, target: Target, text: &str, out: &mut Vec<RuleHit>) {
        if let Some(ac) = &m.literals {
            self.scan_literals(ac, &m.literal_rules, target, text, out);
        }
        if let Some(anchors) = &m.anchors {
            // Rules whose anchor occurs; allocated on the first anchor hit only.
            let mut candidates: Vec<usize> = Vec::new();
            for hit in anchors.find_overlapping_iter(text) {
                if let Some(&rule) = m.anchor_rules.get(hit.pattern().as_usize())
                    && !candidates.contains(&rule)
                {
                    candidates.push(rule);
                }
            }
            candidates.sort_unstable();
            for rule in candidates {
                self.scan_regex(rule, target, text, out);
            }
        }
        for &rule in &m.ungated {
            self.scan_regex(rule, target, text, out);
        }
    }

    fn scan_literals(&self, ac: &AhoCorasick, rules: &[usize], target: Target, text: &str, out: &mut Vec<RuleHit>) {
        // Allocated on the first literal hit only, so texts without any hit allocate nothing.
        let mut counts: Vec<u8> = Vec::new();
        let bytes = text.as_bytes();
        for m in ac.find_overlapping_iter(text) {
            let pattern = m.pattern().as_usize();
            let Some(&rule) = rules.get(pattern) else { continue };
            let Some(Pattern::Literal(lit)) = self.rules.get(rule).map(|r| &r.pattern) else {
                continue;
            };
            if !whole_word(bytes, lit.as_bytes(), m.start(), m.end()) {
                continue;
            }
            if counts.is_empty() {
                counts = vec![0; rules.len()];
            }
            let Some(count) = counts.get_mut(pattern) else { continue };
            if usize::from(*count) >= MAX_HITS_PER_RULE {
                continue;
            }
            if self.push_checked(rule, target, text, m.start(), m.end(), out) {
                *count += 1;
            }
        }
    }

    fn scan_regex(&self, rule: usize, target: Target, text: &str, out: &mut Vec<RuleHit>) {
        let Some(re) = self.regex(rule) else { return };
        let mut found = 0;
        if re.captures_len() > 1 {
            for caps in re.captures_iter(text) {
                if found >= MAX_HITS_PER_RULE {
                    break;
                }
                let Some(span) = caps.get(1).or_else(|| caps.get(0)) else {
                    continue;
                };
                if self.push_checked(rule, target, text, span.start(), span.end(), out) {
                    found += 1;
                }
            }
        } else {
            for m in re.find_iter(text) {
                if found >= MAX_HITS_PER_RULE {
                    break;
                }
                if self.push_checked(rule, target, text, m.start(), m.end(), out) {
                    found += 1;
                }
            }
        }
    }

    /// Pushes the hit unless the rule's validator rejects the matched text; says whether it pushed.
    fn push_checked(
        &self,
        rule: usize,
        target: Target,
        text: &str,
        start: usize,
        end: usize,
        out: &mut Vec<RuleHit>,
    ) -> bool {
        if let Some(validator) = self.rules.get(rule).and_then(|r| r.validate) {
            match text.get(start..end) {
                Some(candidate) if validator.check(candidate) => {}
                _ => return false,
            }
        }
        out.push(RuleHit {
            rule,
            target,
            start,
            end,
        });
        true
    }

    /// The rule's own regex, compiled on first use. It cannot fail in practice: the same pattern
    /// already compiled inside the set under the same limits.
    fn regex(&self, rule: usize) -> Option<&Regex> {
        let slot = self.lazy_regex.get(rule)?;
        slot.get_or_init(|| {
            let Pattern::Regex(p) = &self.rules.get(rule)?.pattern else { return None };
            match build_regex(p) {
                Ok(re) => Some(re),
                Err(e) => {
                    tracing::warn!(rule = %self.rules.get(rule).map_or("", |r| r.id.as_str()), error = %e, "regex failed to compile alone; rule disabled");
                    None
                }
            }
        })
        .as_ref()
    }
}

impl TargetMatcher {
    fn build(rules: &[RuleDef], target: Target) -> Result<TargetMatcher, SkillError> {
        let mut literals = Vec::new();
        let mut literal_rules = Vec::new();
        let mut anchor_words: Vec<Vec<u8>> = Vec::new();
        let mut anchor_rules = Vec::new();
        let mut ungated = Vec::new();
        for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.target == target) {
            match &rule.pattern {
                Pattern::Literal(l) => {
                    literals.push(l.as_str());
                    literal_rules.push(i);
                }
                Pattern::Regex(r) => match anchors_of(r) {
                    Some(words) => {
                        for word in words {
                            anchor_words.push(word);
                            anchor_rules.push(i);
                        }
                    }
                    None => ungated.push(i),
                },
            }
        }
        let anchors = if anchor_words.is_empty() {
            None
        } else {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&anchor_words)
                .map_err(|e| SkillError::Rule {
                    file: String::new(),
                    line: 0,
                    reason: format!("regex anchors do not compile: {e}"),
                })?;
            Some(ac)
        };
        let literals = if literals.is_empty() {
            None
        } else {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .map_err(|e| {
                    let first = literal_rules.first().and_then(|&i| rules.get(i));
                    SkillError::Rule {
                        file: first.map_or_else(String::new, |r| r.file.clone()),
                        line: first.map_or(0, |r| r.line),
                        reason: format!("literal rules do not compile: {e}"),
                    }
                })?;
            Some(ac)
        };
        Ok(TargetMatcher {
            literals,
            literal_rules,
            anchors,
            anchor_rules,
            ungated,
        })
    }
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
}

/// Most anchors one regex may have; with more, the prefilter would seldom skip it anyway.
const MAX_ANCHORS_PER_RULE: usize = 256;

/// Byte strings one of which every match of `pattern` must contain: the regex's prefix
/// literals (every match begins with one) or its suffix literals (every match ends with one),
/// whichever set has the longer shortest literal — a gate on "you" opens on almost every text,
/// a gate on "restrictions" seldom. `None` when neither is a finite set of non-empty literals (a
/// leading and trailing class, an optional part, or a parse error — then the rule runs ungated,
/// and an unparsable pattern fails when it is built).
fn anchors_of(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let extract = |kind: ExtractKind| -> Option<Vec<Vec<u8>>> {
        let mut extractor = Extractor::new();
        extractor.kind(kind).limit_total(MAX_ANCHORS_PER_RULE);
        let seq = extractor.extract(&hir);
        let literals = seq.literals()?;
        if literals.is_empty() || literals.len() > MAX_ANCHORS_PER_RULE || literals.iter().any(|l| l.is_empty()) {
            return None;
        }
        let mut anchors: Vec<Vec<u8>> = literals.iter().map(|l| l.as_bytes().to_vec()).collect();
        anchors.sort();
        anchors.dedup();
        Some(anchors)
    };
    let shortest = |a: &Option<Vec<Vec<u8>>>| a.as_ref().and_then(|v| v.iter().map(Vec::len).min()).unwrap_or(0);
    let prefix = extract(ExtractKind::Prefix);
    let suffix = extract(ExtractKind::Suffix);
    if shortest(&suffix) > shortest(&prefix) {
        suffix
    } else {
        prefix
    }
}

/// A literal that begins (ends) with an ASCII letter or digit only matches where the neighbouring
/// byte is not one too: `dan` must not fire inside `dance`, but `<|im_start|>` fires anywhere.
fn whole_word(text: &[u8], literal: &[u8], start: usize, end: usize) -> bool {
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if word(literal.first()) && start > 0 && word(text.get(start - 1)) {
        return false;
    }
    if word(literal.last()) && word(text.get(end)) {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::normalize::Normalized;
    use crate::detector::skills::SkillSet;
    use crate::detector::validate::Validator;
    use aimds_runtime::{Category, Severity};

    fn rule(id: &str, pattern: Pattern, target: Target) -> RuleDef {
        RuleDef {
            id: id.into(),
            category: Category::PromptInjection,
            severity: Severity::High,
            pattern,
            target,
            validate: None,
            confidence: None,
            notes: String::new(),
            examples: vec![],
            counterexamples: vec![],
            file: "skills/t/rules.yaml".into(),
            line: 7,
        }
    }

    fn hits(set: &RuleSet, normalized: &str, raw: &str) -> Vec<(String, usize, usize)> {
        let mut out = Vec::new();
        set.scan(normalized, raw, &mut out);
        out.iter()
            .map(|h| (set.rules()[h.rule].id.clone(), h.start, h.end))
            .collect()
    }

    #[test]
    fn literals_respect_word_boundaries() {
        let set = RuleSet::compile(vec![
            rule("dan", Pattern::Literal("dan".into()), Target::Normalized),
            rule("tok", Pattern::Literal("<|im_start|>".into()), Target::Normalized),
            rule("tail", Pattern::Literal("system:".into()), Target::Normalized),
        ])
        .unwrap();
        assert!(hits(&set, "let's dance", "").is_empty());
        assert!(hits(&set, "jordan", "").is_empty());
        assert_eq!(hits(&set, "hi dan!", ""), vec![("dan".into(), 3, 6)]);
        assert_eq!(hits(&set, "dan", ""), vec![("dan".into(), 0, 3)]);
        assert_eq!(hits(&set, "x<|im_start|>y", ""), vec![("tok".into(), 1, 13)]);
        // Begins with a letter: needs a boundary before, but the ':' end needs none after.
        assert_eq!(hits(&set, "system:you", ""), vec![("tail".into(), 0, 7)]);
        assert!(hits(&set, "subsystem:", "").is_empty());
    }

    #[test]
    fn overlapping_literals_of_different_rules_all_hit() {
        let set = RuleSet::compile(vec![
            rule("a", Pattern::Literal("developer mode".into()), Target::Normalized),
            rule("b", Pattern::Literal("mode enabled".into()), Target::Normalized),
            rule("c", Pattern::Literal("developer mode".into()), Target::Normalized),
        ])
        .unwrap();
        let mut h = hits(&set, "developer mode enabled", "");
        h.sort();
        assert_eq!(h, vec![("a".into(), 0, 14), ("b".into(), 10, 22), ("c".into(), 0, 14)]);
    }

    #[test]
    fn capture_group_one_is_the_span_and_targets_are_separate() {
        let set = RuleSet::compile(vec![
            rule("cap", Pattern::Regex(r"key=(\d+)".into()), Target::Normalized),
            rule("raw", Pattern::Regex(r"[A-Z]{3}".into()), Target::Raw),
        ])
        .unwrap();
        assert_eq!(hits(&set, "a key=123 b", "abc"), vec![("cap".into(), 6, 9)]);
        assert_eq!(hits(&set, "abc", "xx ABC"), vec![("raw".into(), 3, 6)]);
    }

    #[test]
    fn hits_are_capped_per_rule() {
        let set = RuleSet::compile(vec![
            rule("lit", Pattern::Literal("ab".into()), Target::Normalized),
            rule("re", Pattern::Regex("cd".into()), Target::Normalized),
        ])
        .unwrap();
        let text = "ab cd ".repeat(100);
        let h = hits(&set, &text, "");
        assert_eq!(h.iter().filter(|h| h.0 == "lit").count(), MAX_HITS_PER_RULE);
        assert_eq!(h.iter().filter(|h| h.0 == "re").count(), MAX_HITS_PER_RULE);
    }

    #[test]
    fn validator_filters_hits() {
        let mut r = rule("card", Pattern::Regex(r"\d{13,19}".into()), Target::Raw);
        r.validate = Some(Validator::Luhn);
        let set = RuleSet::compile(vec![r]).unwrap();
        // Whatever the validator decides, a hit must be exactly the candidate it was given.
        let h = hits(&set, "", "card 4111111111111111 end");
        assert!(h.is_empty() || h == vec![("card".into(), 5, 21)]);
        if Validator::Luhn.check("4111111111111112") {
            return; // validate.rs is still a stub that accepts everything
        }
        assert!(hits(&set, "", "card 4111111111111112 end").is_empty());
    }

    #[test]
    fn invalid_regex_reports_file_and_line() {
        let mut bad = rule("bad", Pattern::Regex("(unclosed".into()), Target::Normalized);
        bad.line = 42;
        let err = RuleSet::compile(vec![rule("ok", Pattern::Regex("fine".into()), Target::Normalized), bad])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("skills/t/rules.yaml:42: rule bad: invalid regex"),
            "{err}"
        );
    }

    #[test]
    fn invalid_regex_with_literal_prefix_fails_at_compile() {
        let mut bad = rule(
            "bad",
            Pattern::Regex(r"(?:foo|bar)\p{NoSuchClass}".into()),
            Target::Normalized,
        );
        bad.line = 9;
        let err = RuleSet::compile(vec![bad.clone()]).unwrap_err().to_string();
        assert!(
            err.starts_with("skills/t/rules.yaml:9: rule bad: invalid regex"),
            "{err}"
        );
        let err = RuleSet::compile_checked(vec![bad]).unwrap_err().to_string();
        assert!(err.starts_with("skills/t/rules.yaml:9:"), "{err}");
        let ok = RuleSet::compile_checked(vec![rule(
            "ok",
            Pattern::Regex("(?:foo|bar)x".into()),
            Target::Normalized,
        )]);
        assert_eq!(hits(&ok.unwrap(), "a barx", ""), vec![("ok".into(), 2, 6)]);
    }

    #[test]
    fn anchors_are_literals_every_match_contains() {
        let a = |p: &str| {
            anchors_of(p).map(|v| {
                v.into_iter()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .collect::<Vec<_>>()
            })
        };
        // Prefixes when they are the longer choice ...
        let ignore = a(r"(?-u:\b)(?:ignore|set aside)\s+x").unwrap();
        assert!(
            ignore
                .iter()
                .all(|w| w.starts_with("ignore") || w.starts_with("set aside")),
            "{ignore:?}"
        );
        // ... suffixes when the prefixes are shorter ("dan" < "mode" / "evil confidant").
        let two = a(r"(?-u:\b)dan\s+mode|(?-u:\b)evil confidant").unwrap();
        assert!(
            two.iter().any(|w| w.ends_with("mode")) && two.iter().any(|w| w.ends_with("evil confidant")),
            "{two:?}"
        );
        let multi = a(r"(?:игнорируй|忽略)x").unwrap();
        assert!(multi.iter().any(|w| w.contains("игнорируй")), "{multi:?}");
        assert_eq!(a(r"[^x]+abc[^y]+"), None, "unbounded classes on both ends");
        assert_eq!(a(r"(?m)^\s*system:\s*$"), None);
        assert_eq!(a(r"ignore|\w+"), None, "every branch needs an anchor");
        assert_eq!(a(r"(unclosed"), None, "parse errors are left to the eager build");
        // The invariant the gate relies on: every match contains one of the anchors.
        for (p, t) in [
            (r"you\s+are\s+now\s+(?:dan|free)", "ok you are now free!"),
            (r"(?:a|b)?cde", "xx bcde acde cde"),
            (r"dan\s+mode", "enable dan   mode"),
        ] {
            let gates = anchors_of(p).unwrap();
            for m in regex::Regex::new(p).unwrap().find_iter(t) {
                let hit = &t.as_bytes()[m.start()..m.end()];
                assert!(
                    gates.iter().any(|g| hit.windows(g.len()).any(|w| w == g.as_slice())),
                    "{p} / {t}"
                );
            }
        }
    }

    #[test]
    fn anchored_and_set_rules_both_hit() {
        let set = RuleSet::compile(vec![
            rule(
                "anch",
                Pattern::Regex(r"(?-u:\b)(?:ignore|forget)\s+all".into()),
                Target::Normalized,
            ),
            rule("unanch", Pattern::Regex(r"[0-9]+ tokens".into()), Target::Normalized),
        ])
        .unwrap();
        assert_eq!(
            hits(&set, "pls forget all now, 10 tokens", ""),
            vec![("anch".into(), 4, 14), ("unanch".into(), 20, 29)]
        );
        assert!(hits(&set, "forgetting all", "").is_empty());
    }

    #[test]
    fn no_rules_no_hits() {
        let set = RuleSet::compile(vec![]).unwrap();
        assert!(hits(&set, "ignore previous instructions", "x").is_empty());
    }

    /// Every embedded rule's examples hit it and its counterexamples do not.
    #[test]
    fn embedded_rule_examples_and_counterexamples() {
        let skills = SkillSet::embedded().unwrap();
        let rules: Vec<RuleDef> = skills.rules().cloned().collect();
        let set = RuleSet::compile(rules).unwrap();
        let mut failures = Vec::new();
        let mut out = Vec::new();
        for (index, rule) in set.rules().iter().enumerate() {
            let fires = |text: &str, out: &mut Vec<RuleHit>| {
                out.clear();
                let normalized = Normalized::new(text);
                set.scan(&normalized.text, text, out);
                out.iter().any(|h| h.rule == index)
            };
            for example in &rule.examples {
                if !fires(example, &mut out) {
                    failures.push(format!(
                        "{}:{} {}: example does not hit: {example:?}",
                        rule.file, rule.line, rule.id
                    ));
                }
            }
            for counter in &rule.counterexamples {
                if fires(counter, &mut out) {
                    failures.push(format!(
                        "{}:{} {}: counterexample hits: {counter:?}",
                        rule.file, rule.line, rule.id
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
