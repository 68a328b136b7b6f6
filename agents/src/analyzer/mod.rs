//! The analyzer role: the deep path. It re-reads the session's recent turns for attacks spread over several
//! messages ([`session`]) and, when configured, asks an LLM judge about texts in the gray zone. It runs as a
//! supervised pool with a deadline: when it is late or fails, the fast verdict stands.

pub mod judge;
pub mod session;

use std::sync::{Arc, OnceLock};

use aimds_runtime::{
    Agent, AgentError, Category, Finding, Opinion, Outcome, Role, ScanTask, Severity, Span, SwarmContext, Task,
};
use async_trait::async_trait;

use crate::detector::Detector;
use judge::Judge;
use session::{Current, Turn};

#[derive(Debug)]
pub struct AnalyzerAgent {
    detector: Arc<Detector>,
    /// Built on first use from the context's config (reads the API key from its env var).
    judge: OnceLock<Result<Judge, String>>,
}

impl AnalyzerAgent {
    pub fn new(detector: Arc<Detector>) -> Self {
        AnalyzerAgent {
            detector,
            judge: OnceLock::new(),
        }
    }

    /// Asks the LLM judge about a gray-zone text. Its failure is a note, never an error of the stage: the
    /// fast verdict stands.
    async fn ask_judge(&self, t: &ScanTask, ctx: &SwarmContext, op: &mut Opinion) {
        let cfg = &ctx.config.analyzer.judge;
        let judge = match self.judge.get_or_init(|| Judge::new(cfg).map_err(|e| e.to_string())) {
            Ok(j) => j,
            Err(e) => {
                ctx.metrics.judge_call("unavailable");
                op.notes.push(format!("judge unavailable: {e}"));
                return;
            }
        };
        match judge.assess(&t.request.text, t.request.source).await {
            Ok(v) => {
                ctx.metrics.judge_call("ok");
                if v.attack {
                    op.findings.push(Finding {
                        category: Category::PromptInjection,
                        rule_id: "judge".into(),
                        span: Span::new(0, t.request.text.len()),
                        severity: if v.confidence >= 0.8 {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                        confidence: v.confidence,
                        evidence: format!("LLM judge ({:.2}): {}", v.confidence, v.reason),
                    });
                    op.risk = Some(op.risk.unwrap_or(0.0).max(v.confidence));
                }
            }
            Err(e) => {
                ctx.metrics.judge_call("error");
                op.notes.push(format!("judge failed: {e}"));
            }
        }
    }
}

#[async_trait]
impl Agent for AnalyzerAgent {
    fn role(&self) -> Role {
        Role::Analyzer
    }

    async fn handle(&self, task: Task, ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Review(t) = task else {
            return Err(AgentError::Unsupported {
                role: Role::Analyzer,
                task: task.kind(),
            });
        };
        let mut opinion = match t.request.session_id.clone() {
            Some(session) => {
                let detector = self.detector.clone();
                let ctx = ctx.clone();
                let t = t.clone();
                // Reading the trace and re-scanning the joined window are blocking, CPU-bound work.
                tokio::task::spawn_blocking(move || -> Result<Opinion, AgentError> {
                    let cfg = &ctx.config.analyzer;
                    let window: Vec<Turn> = match &ctx.memory {
                        Some(m) => m
                            .session_tail(&session, cfg.window_turns)
                            .map_err(|e| {
                                AgentError::failed(Role::Analyzer, format!("cannot read session {session}: {e}"))
                            })?
                            .iter()
                            .filter(|e| e.kind == "scan" || e.kind == "tool_call")
                            .map(Turn::from_event)
                            .collect(),
                        None => Vec::new(),
                    };
                    let policy = ctx.config.policy_for(t.request.source);
                    let current = Current {
                        text: &t.request.text,
                        source: t.request.source,
                        risk: t.verdict.risk,
                        threshold: policy.threshold,
                        classifier_threshold: policy.classifier_threshold,
                    };
                    Ok(session::analyze(&detector, ctx.memory.as_ref(), &window, current, cfg))
                })
                .await
                .map_err(|e| AgentError::failed(Role::Analyzer, format!("analysis task failed: {e}")))??
            }
            None => Opinion::default(),
        };
        let judge = &ctx.config.analyzer.judge;
        if judge.enabled && judge.in_gray_zone(t.verdict.risk) {
            self.ask_judge(&t, ctx, &mut opinion).await;
        }
        Ok(Outcome::Opinion(opinion))
    }
}
