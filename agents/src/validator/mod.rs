//! The validator role: checks every decision against the config's policies.
//!
//! - **Temporal policies** over the session's event trace ([`aimds_runtime::ltl`]): each event becomes a set of
//!   atoms ([`atoms`]: `tool:<name>`, `egress:<host>`, `reads_secret`, `injection_detected`, `approved`, …), and
//!   every policy's monitor steps once per event in O(size of its formula). Monitor state lives in memory
//!   (kv namespace `ltl`, one entry per session), so separate processes — a Claude Code hook runs one per tool
//!   call — see one trace.
//! - **Model-output checks** ([`output`]): registered canary tokens (kv namespace `canary`) and system prompts
//!   (kv namespace `system_prompt`, per session or `global`) leaking in what the model says.
//! - **The learning gate** ([`gate`]) that the researcher runs before anything learned goes live.
//!
//! One validator instance serialises the monitor updates of a process; concurrent processes updating the same
//! session at the same instant may lose one step (last writer wins) — sessions of one agent are sequential.

pub mod atoms;
pub mod gate;
pub mod output;

use std::sync::{Arc, OnceLock};

use aimds_memory::Memory;
use aimds_runtime::ltl::{CompiledPolicy, SessionMonitor, SessionState, compile_policies};
use aimds_runtime::{
    Action, Agent, AgentError, Category, Finding, Opinion, Outcome, Role, ScanTask, Severity, Source, Span,
    SwarmContext, Task,
};
use async_trait::async_trait;
use serde_json::Value;

use crate::detector::{Detector, truncate};
use atoms::TraceEvent;
use output::{CanaryScanner, LeakThresholds, PromptLeakChecker};

/// kv namespaces the validator reads and writes.
pub const NS_MONITORS: &str = "ltl";
pub const NS_CANARIES: &str = "canary";
pub const NS_SYSTEM_PROMPTS: &str = "system_prompt";
/// Key of the system prompt that applies to every session.
pub const GLOBAL_PROMPT: &str = "global";
/// Canaries checked per output (the newest registered first).
const MAX_CANARIES: usize = 1000;

#[derive(Debug)]
pub struct ValidatorAgent {
    #[allow(dead_code)] // kept for checks that re-scan (e.g. decoded tool inputs) without recompiling
    detector: Arc<Detector>,
    /// Compiled on first use from the context's config; shared by the blocking tasks.
    policies: Arc<OnceLock<Result<Vec<CompiledPolicy>, String>>>,
}

impl ValidatorAgent {
    pub fn new(detector: Arc<Detector>) -> Self {
        ValidatorAgent {
            detector,
            policies: Arc::new(OnceLock::new()),
        }
    }

    /// All checks for one scan (blocking: memory reads and writes).
    pub fn validate(&self, t: &ScanTask, ctx: &SwarmContext) -> Result<Opinion, AgentError> {
        let mut op = Opinion::default();
        let Some(memory) = ctx.memory.as_ref() else {
            return Ok(op);
        };
        if let Some(session) = t.request.session_id.as_deref() {
            let policies = self
                .policies
                .get_or_init(|| compile_policies(&ctx.config.validator.policies).map_err(|e| e.to_string()))
                .as_ref()
                .map_err(|e| AgentError::failed(Role::Validator, e))?;
            if !policies.is_empty() {
                self.temporal(t, session, policies, memory, &mut op)?;
            }
        }
        if t.request.source == Source::ModelOutput {
            self.output_checks(t, memory, ctx, &mut op)?;
        }
        Ok(op)
    }

    fn temporal(
        &self,
        t: &ScanTask,
        session: &str,
        policies: &[CompiledPolicy],
        memory: &Memory,
        op: &mut Opinion,
    ) -> Result<(), AgentError> {
        let fail =
            |e: aimds_memory::MemoryError| AgentError::failed(Role::Validator, format!("session {session}: {e}"));
        let meta = &t.request.meta;
        let event = TraceEvent {
            source: t.request.source,
            tool_name: meta.get("tool_name").and_then(Value::as_str),
            tool_input: meta.get("tool_input"),
            text: Some(&t.request.text),
            categories: &t.verdict.categories,
            flagged: t.verdict.flagged,
            approved: meta.get("approved").and_then(Value::as_bool).unwrap_or(false),
        };
        let atoms = event.atoms();
        let state: Option<SessionState> = memory
            .kv_get(NS_MONITORS, session)
            .map_err(fail)?
            .and_then(|v| serde_json::from_value(v).ok());
        let (mut monitor, restarted) = match state {
            Some(s) => SessionMonitor::resume(policies, s),
            None => (SessionMonitor::new(policies), Vec::new()),
        };
        if !restarted.is_empty() {
            tracing::info!(session, policies = ?restarted, "policies changed since the session began; restarted");
        }
        let violations = monitor.step(&atoms);
        let state = serde_json::to_value(monitor.state())
            .map_err(|e| AgentError::failed(Role::Validator, format!("monitor state: {e}")))?;
        memory.kv_put(NS_MONITORS, session, &state, None).map_err(fail)?;
        for v in violations {
            op.findings.push(Finding {
                category: Category::PolicyViolation,
                rule_id: format!("policy.{}", v.policy),
                span: Span::new(0, t.request.text.len()),
                severity: if v.action == Action::Block {
                    Severity::Critical
                } else {
                    Severity::High
                },
                confidence: 1.0,
                evidence: format!("{} (event {} of the session)", v.message, v.step),
            });
            if op.action.is_none_or(|a| v.action.rank() > a.rank()) {
                op.action = Some(v.action);
                op.reason = Some(format!("policy {}: {}", v.policy, v.message));
            }
        }
        Ok(())
    }

    fn output_checks(
        &self,
        t: &ScanTask,
        memory: &Memory,
        ctx: &SwarmContext,
        op: &mut Opinion,
    ) -> Result<(), AgentError> {
        let text = &t.request.text;
        let fail = |e: aimds_memory::MemoryError| AgentError::failed(Role::Validator, e);
        if ctx.config.validator.canaries {
            let tokens: Vec<String> = memory
                .kv_list(NS_CANARIES, "", MAX_CANARIES)
                .map_err(fail)?
                .into_iter()
                .map(|e| e.key)
                .collect();
            if !tokens.is_empty() {
                let scanner = CanaryScanner::new(&tokens).map_err(|e| AgentError::failed(Role::Validator, e))?;
                for hit in scanner.scan(text) {
                    op.findings.push(Finding {
                        category: Category::CanaryLeak,
                        rule_id: "canary".into(),
                        span: hit.span,
                        severity: Severity::Critical,
                        confidence: 1.0,
                        evidence: format!("canary {} ({:?})", hit.token, hit.encoding),
                    });
                    op.action = Some(Action::Block);
                    op.reason = Some("a canary token leaked in the model's output".into());
                    op.risk = Some(1.0);
                }
            }
        }
        let keys = [t.request.session_id.as_deref(), Some(GLOBAL_PROMPT)];
        for key in keys.into_iter().flatten() {
            let Some(prompt) = memory.kv_get(NS_SYSTEM_PROMPTS, key).map_err(fail)? else {
                continue;
            };
            let Some(prompt) = prompt.as_str().or_else(|| prompt.get("text").and_then(Value::as_str)) else {
                continue;
            };
            let thresholds = LeakThresholds {
                min_overlap: ctx.config.validator.leak_overlap,
                min_run_words: ctx.config.validator.leak_run_words,
                ..LeakThresholds::default()
            };
            let checker = PromptLeakChecker::with_thresholds(prompt, thresholds)
                .map_err(|e| AgentError::failed(Role::Validator, e))?;
            if let Some(leak) = checker.check(text) {
                op.findings.push(Finding {
                    category: Category::SystemPromptLeak,
                    rule_id: format!("leak.system-prompt:{key}"),
                    span: leak.span,
                    severity: Severity::Critical,
                    confidence: leak.overlap.max(0.9),
                    evidence: format!(
                        "{:.0}% of the registered system prompt, longest verbatim run {} words: {}",
                        leak.overlap * 100.0,
                        leak.longest_run_words,
                        truncate(text.get(leak.span.start..leak.span.end).unwrap_or(""), 120)
                    ),
                });
                op.action = Some(Action::Block);
                op.reason = Some("the model's output reveals the system prompt".into());
                op.risk = Some(op.risk.unwrap_or(0.0).max(0.95));
                break;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Agent for ValidatorAgent {
    fn role(&self) -> Role {
        Role::Validator
    }

    async fn handle(&self, task: Task, ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Review(t) = task else {
            return Err(AgentError::Unsupported {
                role: Role::Validator,
                task: task.kind(),
            });
        };
        // Memory access blocks: do it on the blocking pool. The agent is shared, so hand it a cheap clone of
        // what it needs.
        let ctx = ctx.clone();
        let me = ValidatorAgent {
            detector: self.detector.clone(),
            policies: self.policies.clone(),
        };
        tokio::task::spawn_blocking(move || me.validate(&t, &ctx).map(Outcome::Opinion))
            .await
            .map_err(|e| AgentError::failed(Role::Validator, format!("validation task failed: {e}")))?
    }
}
