//! The detector role: the compiled [`Detector`] plus what the shared memory knows — texts confirmed benign
//! (the allowlist) and attacks learned from feedback (active patterns in vector memory). Runs inline on every
//! request, so it only touches memory when memory can change the answer.

use std::sync::Arc;

use aimds_memory::{Memory, MemoryError, Owner, PatternStatus, SearchFilter};
use aimds_runtime::{Agent, AgentError, Category, Finding, Opinion, Outcome, Role, Severity, Span, SwarmContext, Task};
use async_trait::async_trait;

use crate::detector::learned::{LearnedRule, LearnedRules, LearnedSignatures};
use crate::detector::{Detection, Detector, DetectorError, Reading, truncate};

/// Longest stretch of text embedded as one query: learned attacks are short, so a long document is searched
/// window by window (an injected paragraph must stand out from the page around it).
const RECALL_WINDOW: usize = 1024;
/// Windows searched per text: bounds the work on a 1 MB input.
const RECALL_MAX_WINDOWS: usize = 16;

/// What the fast path found, including memory's contribution.
#[derive(Debug, Clone)]
pub struct FastVerdict {
    pub detection: Detection,
    /// The allowlist entry that covers this text, if any.
    pub allowlisted: Option<(i64, f32)>,
}

#[derive(Debug)]
pub struct DetectorAgent {
    detector: Arc<Detector>,
    learned: Arc<LearnedSignatures>,
}

/// The active learned signatures stored in `memory`, compiled.
pub fn learned_rules(memory: &Memory) -> Result<LearnedRules, MemoryError> {
    let rules = memory
        .signatures(Some(PatternStatus::Active))?
        .into_iter()
        .map(|p| LearnedRule {
            id: p.id,
            category: p.category.parse().unwrap_or(Category::PromptInjection),
            literal: p.text,
        })
        .collect();
    Ok(LearnedRules::new(rules))
}

impl DetectorAgent {
    pub fn new(detector: Arc<Detector>, learned: Arc<LearnedSignatures>) -> Self {
        DetectorAgent { detector, learned }
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Detect (with the learned signatures, the classifier read at the source's operating point), then consult
    /// memory: a learned attack similar to the text adds a finding; an allowlist entry is reported (the responder
    /// decides what it excuses).
    pub fn scan(
        &self,
        text: &str,
        memory: Option<&Memory>,
        match_threshold: f32,
        reading: Reading,
    ) -> Result<FastVerdict, DetectorError> {
        let mut detection = self.detector.detect_for(text, Some(&self.learned.load()), reading)?;
        let mut allowlisted = None;
        if let Some(mem) = memory {
            if mem.vector_count() > 0
                && let Some((id, similarity, span)) = recall(mem, text, match_threshold)
            {
                let finding = Finding {
                    category: Category::PromptInjection,
                    rule_id: format!("memory.learned:{id}"),
                    span,
                    severity: Severity::High,
                    confidence: similarity,
                    evidence: format!(
                        "similar ({similarity:.2}) to learned attack #{id}: {}",
                        truncate(&text[span.start..span.end], 120)
                    ),
                };
                // A learned attack is confirmed by a person and validated: it counts like a strong rule.
                detection.risk = detection.risk.max(0.5 + 0.5 * similarity.min(1.0) * 0.9);
                detection.findings.push(finding);
            }
            // The allowlist only matters for texts that would otherwise be acted on.
            if !detection.findings.is_empty()
                && let Ok(Some(m)) = mem.allowlist_check(text)
            {
                allowlisted = Some((m.id, m.similarity));
            }
        }
        Ok(FastVerdict { detection, allowlisted })
    }
}

/// The most similar active learned pattern over the threshold, searching the text window by window.
fn recall(mem: &Memory, text: &str, threshold: f32) -> Option<(i64, f32, Span)> {
    let filter = SearchFilter::active_patterns();
    let mut best: Option<(i64, f32, Span)> = None;
    for span in windows(text).into_iter().take(RECALL_MAX_WINDOWS) {
        let Ok(hits) = mem.search_text(&text[span.start..span.end], 1, threshold, &filter) else {
            continue;
        };
        for h in hits {
            if let Owner::Pattern(id) = h.owner
                && best.is_none_or(|b| h.similarity > b.1)
            {
                best = Some((id, h.similarity, span));
            }
        }
    }
    best
}

/// The whole text when short; otherwise overlapping windows on char boundaries, cut at line or sentence ends
/// where one is near.
fn windows(text: &str) -> Vec<Span> {
    if text.len() <= RECALL_WINDOW {
        return vec![Span::new(0, text.len())];
    }
    let mut out = Vec::new();
    let step = RECALL_WINDOW / 2;
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + RECALL_WINDOW).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push(Span::new(start, end));
        if end == text.len() {
            break;
        }
        let mut next = start + step;
        while !text.is_char_boundary(next) {
            next += 1;
        }
        start = next;
    }
    out
}

#[async_trait]
impl Agent for DetectorAgent {
    fn role(&self) -> Role {
        Role::Detector
    }

    async fn handle(&self, task: Task, ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Review(t) = task else {
            return Err(AgentError::Unsupported {
                role: Role::Detector,
                task: task.kind(),
            });
        };
        let fast = self
            .scan(
                &t.request.text,
                ctx.memory.as_ref(),
                ctx.config.researcher.match_threshold,
                Reading::of(t.request.source, &ctx.config.policy_for(t.request.source)),
            )
            .map_err(|e| AgentError::failed(Role::Detector, e))?;
        Ok(Outcome::Opinion(Opinion {
            findings: fast.detection.findings,
            risk: Some(fast.detection.risk),
            ..Opinion::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_text_on_char_boundaries() {
        let text = "é".repeat(2000);
        let w = windows(&text);
        assert!(w.len() > 2);
        assert_eq!(w[0].start, 0);
        assert_eq!(w.last().unwrap().end, text.len());
        for s in w {
            assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        }
        assert_eq!(windows("short"), vec![Span::new(0, 5)]);
    }
}
