//! Combining evidence into one risk score.
//!
//! Each manipulation finding is treated as an independent, imperfect witness whose
//! confidence is the probability that it alone is right; the risk is the probability that
//! at least one is right (noisy-OR). One rule counts once however often it fires — a page
//! that repeats a phrase is not more dangerous than one that says it once — and so does one
//! witness written as several rules (`id/part`: parts exist so that each has literals to run
//! at, not to be counted twice). PII and secrets
//! are not manipulation: their action comes from the policy table, not from the risk.

use aimds_runtime::Finding;

/// Combine manipulation findings with the classifier's best-window probability.
/// `classifier_weight` 1 counts the classifier as one witness, 0 ignores it, 2 as two.
pub fn combine(findings: &[Finding], classifier: Option<f32>, classifier_weight: f32) -> f32 {
    let mut strongest: Vec<(&str, f32)> = Vec::new();
    for f in findings
        .iter()
        .filter(|f| f.category.is_manipulation() && f.rule_id != "classifier")
    {
        // A decoded payload's findings are prefixed with their scheme ("base64:rule"); they
        // are the same witness as the rule itself.
        let id = witness(&f.rule_id);
        match strongest.iter_mut().find(|(r, _)| *r == id) {
            Some(entry) => entry.1 = entry.1.max(f.confidence),
            None => strongest.push((id, f.confidence)),
        }
    }
    let mut clean = strongest
        .iter()
        .fold(1.0f32, |acc, (_, c)| acc * (1.0 - c.clamp(0.0, 1.0)));
    if let Some(p) = classifier {
        let p = p.clamp(0.0, 1.0);
        clean *= (1.0 - p).powf(classifier_weight.max(0.0));
    }
    (1.0 - clean).clamp(0.0, 1.0)
}

/// A finding's rule id without a decoded payload's scheme: `base64:pi.x` is `pi.x`.
pub fn without_scheme(rule_id: &str) -> &str {
    rule_id.rsplit(':').next().unwrap_or(rule_id)
}

/// The witness a finding speaks for: its rule id without a decoded payload's scheme
/// ([`without_scheme`]) or a part's name (`pi.x/label` is `pi.x`).
fn witness(rule_id: &str) -> &str {
    let id = without_scheme(rule_id);
    id.split('/').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimds_runtime::{Category, Severity, Span};

    fn finding(rule: &str, category: Category, confidence: f32) -> Finding {
        Finding {
            category,
            rule_id: rule.into(),
            span: Span::new(0, 1),
            severity: Severity::Medium,
            confidence,
            evidence: String::new(),
        }
    }

    #[test]
    fn no_evidence_is_no_risk() {
        assert_eq!(combine(&[], None, 1.0), 0.0);
        assert!(combine(&[], Some(0.1), 1.0) < 0.11);
    }

    #[test]
    fn independent_witnesses_add_up() {
        let f = [
            finding("a", Category::PromptInjection, 0.5),
            finding("b", Category::Jailbreak, 0.5),
        ];
        assert!((combine(&f, None, 1.0) - 0.75).abs() < 1e-6);
    }

    #[test]
    fn one_rule_counts_once_even_when_decoded() {
        let f = [
            finding("a", Category::PromptInjection, 0.5),
            finding("a", Category::PromptInjection, 0.5),
            finding("base64:a", Category::PromptInjection, 0.6),
        ];
        assert!((combine(&f, None, 1.0) - 0.6).abs() < 1e-6);
    }

    #[test]
    fn parts_of_one_witness_count_once() {
        let f = [
            finding("pi.w/label", Category::PromptInjection, 0.3),
            finding("pi.w/for-reader", Category::PromptInjection, 0.3),
            finding("base64:pi.w/label", Category::PromptInjection, 0.3),
        ];
        assert!((combine(&f, None, 1.0) - 0.3).abs() < 1e-6);
        let two = [
            finding("pi.w/label", Category::PromptInjection, 0.3),
            finding("pi.v/clause", Category::PromptInjection, 0.3),
        ];
        assert!((combine(&two, None, 1.0) - 0.51).abs() < 1e-6);
    }

    #[test]
    fn pii_and_secrets_do_not_raise_manipulation_risk() {
        let f = [
            finding("email", Category::Pii, 0.9),
            finding("aws", Category::Secret, 0.95),
        ];
        assert_eq!(combine(&f, None, 1.0), 0.0);
    }

    #[test]
    fn classifier_weight_scales_its_vote() {
        assert_eq!(combine(&[], Some(0.6), 0.0), 0.0);
        let one = combine(&[], Some(0.6), 1.0);
        let two = combine(&[], Some(0.6), 2.0);
        assert!((one - 0.6).abs() < 1e-6 && two > one);
    }
}
