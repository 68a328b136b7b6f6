//! The analyzer role: the deep path. It re-reads the session's recent turns for attacks spread over several
//! messages ([`session`]) and, when configured, asks an LLM judge about texts in the gray zone. It runs as a
//! supervised pool with a deadline: when it is late or fails, the fast verdict stands.

pub mod judge;
pub mod session;

use std::sync::Arc;

use aimds_runtime::{Agent, AgentError, Opinion, Outcome, Role, SwarmContext, Task};
use async_trait::async_trait;

use crate::detector::Detector;
use session::{Current, Turn};

#[derive(Debug)]
pub struct AnalyzerAgent {
    detector: Arc<Detector>,
}

impl AnalyzerAgent {
    pub fn new(detector: Arc<Detector>) -> Self {
        AnalyzerAgent { detector }
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
        let Some(session) = t.request.session_id.clone() else {
            return Ok(Outcome::Opinion(Opinion::default()));
        };
        let detector = self.detector.clone();
        let ctx = ctx.clone();
        // Reading the trace and re-scanning the joined window are blocking, CPU-bound work.
        let opinion = tokio::task::spawn_blocking(move || -> Result<Opinion, AgentError> {
            let cfg = &ctx.config.analyzer;
            let window: Vec<Turn> = match &ctx.memory {
                Some(m) => m
                    .session_tail(&session, cfg.window_turns)
                    .map_err(|e| AgentError::failed(Role::Analyzer, format!("cannot read session {session}: {e}")))?
                    .iter()
                    .filter(|e| e.kind == "scan" || e.kind == "tool_call")
                    .map(Turn::from_event)
                    .collect(),
                None => Vec::new(),
            };
            let current = Current {
                text: &t.request.text,
                source: t.request.source,
                risk: t.verdict.risk,
                threshold: ctx.config.policy_for(t.request.source).threshold,
            };
            Ok(session::analyze(&detector, ctx.memory.as_ref(), &window, current, cfg))
        })
        .await
        .map_err(|e| AgentError::failed(Role::Analyzer, format!("analysis task failed: {e}")))??;
        Ok(Outcome::Opinion(opinion))
    }
}
