//! The researcher role: learns from feedback and attacks the guard to find its holes.
//!
//! Feedback that a text is an attack becomes a `candidate` pattern in vector memory; the learning gate
//! ([`crate::validator::gate`]) replays it against benign reference text and only then promotes it to `active`
//! — after which the detector stage flags near-duplicates of it. Feedback that a text is benign becomes an
//! allowlist entry, unless it matches a learned attack. Every decision is written to the audit chain.

pub mod mutate;
pub mod seeds;

use std::sync::Arc;

use aimds_memory::{AllowKind, Memory, NewAllow, NewPattern, Owner, PatternStatus, SearchFilter};
use aimds_runtime::{
    Agent, AgentError, Category, Feedback, FeedbackLabel, FeedbackReport, Outcome, Role, SwarmContext, Task,
};
use async_trait::async_trait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::detector::{Detector, truncate};
use crate::validator::gate::LearningGate;

/// Longest text accepted as feedback (learned patterns are sentences, not documents).
pub const MAX_FEEDBACK_BYTES: usize = 16 * 1024;

#[derive(Debug)]
pub struct ResearcherAgent {
    detector: Arc<Detector>,
}

impl ResearcherAgent {
    pub fn new(detector: Arc<Detector>) -> Self {
        ResearcherAgent { detector }
    }

    /// Handles one report (blocking: memory writes and the gate's embeddings).
    pub fn learn(&self, fb: &Feedback, memory: &Memory, ctx: &SwarmContext) -> Result<FeedbackReport, AgentError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| AgentError::failed(Role::Researcher, format!("{what}: {e}"));
        let text = fb.text.trim();
        if text.is_empty() {
            return Err(AgentError::failed(Role::Researcher, "feedback text is empty"));
        }
        if text.len() > MAX_FEEDBACK_BYTES {
            return Err(AgentError::failed(
                Role::Researcher,
                format!(
                    "feedback text is {} bytes; the limit is {MAX_FEEDBACK_BYTES}",
                    text.len()
                ),
            ));
        }
        let cfg = &ctx.config.researcher;
        let digest: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        match fb.label {
            FeedbackLabel::Attack => {
                let known = memory
                    .search_text(text, 1, 0.999, &SearchFilter::active_patterns())
                    .map_err(|e| fail("memory search", &e))?;
                if let Some(h) = known.first()
                    && let Owner::Pattern(id) = h.owner
                {
                    return Ok(report(
                        fb,
                        "duplicate",
                        Some(id),
                        format!("already learned as #{id}"),
                        vec![],
                        None,
                    ));
                }
                let category = fb
                    .category
                    .or_else(|| {
                        self.detector
                            .detect(text)
                            .ok()
                            .and_then(|d| d.categories().into_iter().find(|c| c.is_manipulation()))
                    })
                    .unwrap_or(Category::PromptInjection);
                let added = memory
                    .pattern_add(NewPattern {
                        text: text.to_string(),
                        category: category.as_str().to_string(),
                        status: PatternStatus::Candidate,
                        provenance: format!("feedback:{}", fb.reporter),
                    })
                    .map_err(|e| fail("storing the candidate", &e))?;
                let id = added.pattern_id;
                let recent = recent_allowed(memory, cfg.recent_allowed);
                let gate = LearningGate::new(memory.embedder(), recent);
                let conflicts = gate.conflicts(memory.embedder(), text, cfg.match_threshold, 3);
                let (status, new_status, reason) = if conflicts.is_empty() {
                    (
                        "active",
                        PatternStatus::Active,
                        format!(
                            "promoted: no false positive on {} benign reference texts at similarity {:.2}",
                            gate.len(),
                            cfg.match_threshold
                        ),
                    )
                } else {
                    (
                        "refused",
                        PatternStatus::Retired,
                        format!(
                            "refused: it would flag {} benign reference text(s), e.g. {:?} ({:.2})",
                            conflicts.len(),
                            truncate(&conflicts[0].text, 80),
                            conflicts[0].similarity
                        ),
                    )
                };
                memory
                    .pattern_set_status(id, new_status)
                    .map_err(|e| fail("updating the candidate", &e))?;
                let audit = memory
                    .audit_append(&json!({
                        "kind": if status == "active" { "promotion" } else { "refusal" },
                        "pattern_id": id,
                        "category": category,
                        "text_sha256": digest,
                        "reporter": fb.reporter,
                        "reason": reason,
                    }))
                    .map_err(|e| fail("audit", &e))?;
                let conflicts = conflicts.into_iter().map(|c| c.text).collect();
                Ok(report(fb, status, Some(id), reason, conflicts, Some(audit.id)))
            }
            FeedbackLabel::Benign => {
                let learned = memory
                    .search_text(text, 1, cfg.allowlist_threshold, &SearchFilter::active_patterns())
                    .map_err(|e| fail("memory search", &e))?;
                if let Some(h) = learned.first()
                    && let Owner::Pattern(id) = h.owner
                {
                    let reason = format!(
                        "refused: it matches learned attack #{id} ({:.2}); retire that pattern instead",
                        h.similarity
                    );
                    let audit = memory
                        .audit_append(&json!({"kind": "refusal", "label": "benign", "text_sha256": digest,
                                               "reporter": fb.reporter, "reason": reason}))
                        .map_err(|e| fail("audit", &e))?;
                    return Ok(report(fb, "refused", None, reason, vec![], Some(audit.id)));
                }
                // An exact entry excuses only this very text. A near-duplicate entry would also excuse variants,
                // so it is only added when the text is not a clear attack by the rules.
                let risk = self.detector.detect(text).map(|d| d.risk).unwrap_or(1.0);
                let reason_text = fb.note.clone().unwrap_or_else(|| "reported benign".to_string());
                let provenance = format!("feedback:{}", fb.reporter);
                let add = |kind: AllowKind, threshold: Option<f32>| {
                    memory.allowlist_add(NewAllow {
                        text: text.to_string(),
                        kind,
                        threshold,
                        reason: truncate(&reason_text, 200).to_string(),
                        provenance: provenance.clone(),
                    })
                };
                let id = add(AllowKind::Exact, None).map_err(|e| fail("allowlist", &e))?;
                let near = risk < 0.9;
                if near {
                    add(AllowKind::Near, Some(cfg.allowlist_threshold)).map_err(|e| fail("allowlist", &e))?;
                }
                let reason = if near {
                    format!(
                        "allowlisted (exact, and near-duplicates at {:.2})",
                        cfg.allowlist_threshold
                    )
                } else {
                    format!("allowlisted exactly (risk {risk:.2} is too high to excuse near-duplicates)")
                };
                let audit = memory
                    .audit_append(&json!({"kind": "allowlist", "allowlist_id": id, "near": near,
                                           "text_sha256": digest, "reporter": fb.reporter}))
                    .map_err(|e| fail("audit", &e))?;
                Ok(report(fb, "allowlisted", Some(id), reason, vec![], Some(audit.id)))
            }
        }
    }
}

/// Texts the swarm recently allowed, from the session traces.
fn recent_allowed(memory: &Memory, n: usize) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    memory
        .recent_events("scan", n)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.verdict.as_ref().and_then(|v| v.get("action")).and_then(Value::as_str) == Some("allow"))
        .map(|e| e.summary)
        .collect()
}

fn report(
    fb: &Feedback,
    status: &str,
    id: Option<i64>,
    reason: String,
    conflicts: Vec<String>,
    audit_id: Option<i64>,
) -> FeedbackReport {
    FeedbackReport {
        label: fb.label,
        status: status.to_string(),
        id,
        reason,
        conflicts,
        audit_id,
    }
}

#[async_trait]
impl Agent for ResearcherAgent {
    fn role(&self) -> Role {
        Role::Researcher
    }

    async fn handle(&self, task: Task, ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Learn(fb) = task else {
            return Err(AgentError::Unsupported {
                role: Role::Researcher,
                task: task.kind(),
            });
        };
        let Some(memory) = ctx.memory.clone() else {
            return Err(AgentError::failed(Role::Researcher, "learning needs a memory (--db)"));
        };
        let me = ResearcherAgent::new(self.detector.clone());
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || me.learn(&fb, &memory, &ctx).map(Outcome::Learned))
            .await
            .map_err(|e| AgentError::failed(Role::Researcher, format!("learning task failed: {e}")))?
    }
}
