//! From a detection to an action, by the policy table of the swarm config (DESIGN §3).
//!
//! Manipulation acts by source (prompts blocked, tool outputs and documents sanitised);
//! secrets are redacted wherever they appear; PII is reported and, by default, redacted
//! only in model outputs. `flagged` is simply `action != Allow`.

use aimds_runtime::{Action, Category, Source, SourcePolicy, Verdict};

use crate::detector::Detection;

/// The action for a detection and a one-line reason.
pub fn decide(detection: &Detection, source: Source, policy: &SourcePolicy) -> (Action, String) {
    let mut action = Action::Allow;
    let mut reasons: Vec<String> = Vec::new();
    if detection.risk >= policy.threshold {
        action = policy.action;
        if policy.block_at.is_some_and(|b| detection.risk >= b) {
            action = Action::Block;
        }
        let cats: Vec<&str> = detection
            .categories()
            .into_iter()
            .filter(|c| c.is_manipulation())
            .map(Category::as_str)
            .collect();
        let what = if cats.is_empty() {
            "manipulation".to_string()
        } else {
            cats.join(", ")
        };
        reasons.push(format!(
            "risk {:.2} >= {:.2} for {source}: {what}",
            detection.risk, policy.threshold
        ));
    }
    let has = |c: Category| detection.findings.iter().any(|f| f.category == c);
    if has(Category::Secret) && policy.secrets != Action::Allow {
        action = action.max(policy.secrets);
        reasons.push("contains a secret".into());
    }
    if has(Category::Pii) && policy.pii != Action::Allow {
        action = action.max(policy.pii);
        reasons.push(format!("contains PII ({source})"));
    }
    if reasons.is_empty() {
        reasons.push(if detection.findings.is_empty() {
            "no findings".into()
        } else {
            format!("risk {:.2} below {:.2}", detection.risk, policy.threshold)
        });
    }
    (action, reasons.join("; "))
}

/// Build the verdict for a detection under a policy.
pub fn verdict(detection: Detection, source: Source, policy: &SourcePolicy) -> Verdict {
    let (action, reason) = decide(&detection, source, policy);
    let categories = detection.categories();
    Verdict {
        action,
        flagged: action != Action::Allow,
        risk: detection.risk,
        source,
        categories,
        findings: detection.findings,
        reason,
        sanitized: None,
        stages: Vec::new(),
        audit_id: None,
        degraded: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimds_runtime::{Finding, Severity, Span};

    fn det(risk: f32, cats: &[Category]) -> Detection {
        Detection {
            findings: cats
                .iter()
                .map(|&category| Finding {
                    category,
                    rule_id: "r".into(),
                    span: Span::new(0, 1),
                    severity: Severity::High,
                    confidence: 0.9,
                    evidence: String::new(),
                })
                .collect(),
            risk,
            classifier: None,
        }
    }

    #[test]
    fn manipulation_acts_by_source() {
        let d = det(0.9, &[Category::PromptInjection]);
        let user = decide(&d, Source::User, &SourcePolicy::default_for(Source::User)).0;
        let tool = decide(&d, Source::ToolOutput, &SourcePolicy::default_for(Source::ToolOutput)).0;
        assert_eq!((user, tool), (Action::Block, Action::Sanitize));
    }

    #[test]
    fn block_at_escalates_a_sanitize_policy() {
        let mut p = SourcePolicy::default_for(Source::ToolOutput);
        p.block_at = Some(0.95);
        assert_eq!(
            decide(&det(0.97, &[Category::Jailbreak]), Source::ToolOutput, &p).0,
            Action::Block
        );
        assert_eq!(
            decide(&det(0.9, &[Category::Jailbreak]), Source::ToolOutput, &p).0,
            Action::Sanitize
        );
    }

    #[test]
    fn pii_is_reported_not_flagged_except_in_model_output() {
        let d = det(0.0, &[Category::Pii]);
        assert_eq!(
            decide(&d, Source::User, &SourcePolicy::default_for(Source::User)).0,
            Action::Allow
        );
        let mo = SourcePolicy::default_for(Source::ModelOutput);
        assert_eq!(decide(&d, Source::ModelOutput, &mo).0, Action::Sanitize);
    }

    #[test]
    fn secrets_are_sanitized_everywhere() {
        let d = det(0.0, &[Category::Secret]);
        for s in Source::ALL {
            assert_eq!(decide(&d, s, &SourcePolicy::default_for(s)).0, Action::Sanitize, "{s}");
        }
    }
}
