//! The coordinator: the root of the hierarchy. It builds the swarm a config describes and walks every request
//! through it:
//!
//! ```text
//! detector (inline) ─▶ analyzer (pool, deadline) ─▶ validator (pool, deadline) ─▶ responder (inline) ─▶ logger
//! ```
//!
//! The detector's verdict is the floor: later stages can only add findings and raise risk or action, and a
//! stage that is late, panics or fails is skipped with a note in `verdict.degraded` — a request always gets the
//! fast verdict or better, within the sum of its deadlines, never a hang. Only the logger can fail a request:
//! with `sync` durability an answer must not exist without its audit record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aimds_memory::Memory;
use aimds_runtime::config::{Aggregate, DurabilityMode};
use aimds_runtime::{
    Action, Agent, AgentError, AgentFactory, AgentPool, Feedback, FeedbackReport, Metrics, Opinion, Outcome,
    PoolConfig, Priority, Role, RoleStatus, ScanRequest, ScanTask, Source, StageTiming, SwarmConfig, SwarmContext,
    Task, Verdict,
};
use serde::Serialize;
use tracing::Instrument;

use crate::analyzer::AnalyzerAgent;
use crate::detector::learned::LearnedSignatures;
use crate::detector::{Detection, Detector, DetectorError, Reading};
use crate::fast_path::{DetectorAgent, learned_rules};
use crate::logger::LoggerAgent;
use crate::policy;
use crate::researcher::ResearcherAgent;
use crate::responder::{Evidence, ResponderAgent};
use crate::validator::ValidatorAgent;

#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    #[error(transparent)]
    Detector(#[from] DetectorError),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("memory: {0}")]
    Memory(String),
    #[error("roles {roles} need a memory, but none was opened")]
    NoMemory { roles: String },
    #[error("the verdict could not be audited, so it is not answered: {0}")]
    Audit(AgentError),
    #[error("{0}")]
    Agent(AgentError),
    #[error("role {0} is not running in this swarm's config")]
    RoleDisabled(Role),
}

/// Builds a [`Swarm`]; tests use it to swap in their own agents (a panicking analyzer, a hung validator).
pub struct SwarmBuilder {
    config: SwarmConfig,
    memory: Option<Memory>,
    detector: Option<Arc<Detector>>,
    overrides: BTreeMap<Role, AgentFactory>,
}

impl SwarmBuilder {
    pub fn new(config: SwarmConfig) -> Self {
        SwarmBuilder {
            config,
            memory: None,
            detector: None,
            overrides: BTreeMap::new(),
        }
    }

    pub fn memory(mut self, memory: Option<Memory>) -> Self {
        self.memory = memory;
        self
    }

    /// Use an already compiled detector (compiling one costs milliseconds).
    pub fn detector(mut self, detector: Arc<Detector>) -> Self {
        self.detector = Some(detector);
        self
    }

    /// Run `factory`'s agents for a supervised role instead of the built-in one.
    pub fn agent(mut self, role: Role, factory: AgentFactory) -> Self {
        self.overrides.insert(role, factory);
        self
    }

    /// Starts the supervised pools on the current tokio runtime.
    pub fn start(self) -> Result<Swarm, SwarmError> {
        let SwarmBuilder {
            config,
            memory,
            detector,
            mut overrides,
        } = self;
        let needs_memory: Vec<&str> = [Role::Logger, Role::Researcher]
            .into_iter()
            .filter(|r| config.runs(*r))
            .map(Role::as_str)
            .collect();
        if memory.is_none() && !needs_memory.is_empty() {
            return Err(SwarmError::NoMemory {
                roles: needs_memory.join(", "),
            });
        }
        let detector = match detector {
            Some(d) => d,
            None => Arc::new(Detector::new(&config)?),
        };
        // Signatures learned earlier (in this or another process) are live from the first scan.
        let learned = Arc::new(LearnedSignatures::default());
        if let Some(m) = &memory {
            learned
                .reload(|| learned_rules(m))
                .map_err(|e| SwarmError::Memory(e.to_string()))?;
        }
        let metrics = Arc::new(Metrics::new().map_err(|e| SwarmError::Metrics(e.to_string()))?);
        let ctx = SwarmContext::new(config, memory, metrics);
        let pool = |role: Role, builtin: AgentFactory, overrides: &mut BTreeMap<Role, AgentFactory>| {
            if !ctx.config.runs(role) {
                return None;
            }
            let rc = ctx.config.role(role);
            let factory = overrides.remove(&role).unwrap_or(builtin);
            Some(AgentPool::spawn(
                role,
                factory,
                PoolConfig {
                    instances: rc.instances,
                    mailbox: rc.mailbox,
                    // A task running four deadlines long is stuck, not slow.
                    hang_after: Duration::from_millis(rc.deadline_ms.saturating_mul(4).max(100)),
                },
                ctx.clone(),
            ))
        };
        let d = detector.clone();
        let analyzer = pool(
            Role::Analyzer,
            Arc::new(move || Arc::new(AnalyzerAgent::new(d.clone())) as Arc<dyn Agent>),
            &mut overrides,
        );
        let d = detector.clone();
        let validator = pool(
            Role::Validator,
            Arc::new(move || Arc::new(ValidatorAgent::new(d.clone())) as Arc<dyn Agent>),
            &mut overrides,
        );
        let logger = pool(
            Role::Logger,
            Arc::new(|| Arc::new(LoggerAgent) as Arc<dyn Agent>),
            &mut overrides,
        );
        let (d, l) = (detector.clone(), learned.clone());
        let researcher = pool(
            Role::Researcher,
            Arc::new(move || Arc::new(ResearcherAgent::new(d.clone(), l.clone())) as Arc<dyn Agent>),
            &mut overrides,
        );
        Ok(Swarm {
            detector: DetectorAgent::new(detector, learned),
            responder: ResponderAgent,
            analyzer,
            validator,
            logger,
            researcher,
            ctx,
            started: Instant::now(),
        })
    }
}

/// A running swarm. Share it behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct Swarm {
    ctx: SwarmContext,
    detector: DetectorAgent,
    responder: ResponderAgent,
    analyzer: Option<AgentPool>,
    validator: Option<AgentPool>,
    logger: Option<AgentPool>,
    researcher: Option<AgentPool>,
    started: Instant,
}

/// The live topology, for `aimds swarm status` and the MCP `swarm_status` tool.
#[derive(Debug, Clone, Serialize)]
pub struct SwarmStatus {
    pub roles: Vec<RoleStatus>,
    pub memory: Option<String>,
    pub durability: DurabilityMode,
    pub rules: usize,
    pub uptime_ms: u64,
}

impl Swarm {
    /// The swarm of a config with its memory (required when the logger or researcher runs).
    pub fn start(config: SwarmConfig, memory: Option<Memory>) -> Result<Swarm, SwarmError> {
        SwarmBuilder::new(config).memory(memory).start()
    }

    pub fn context(&self) -> &SwarmContext {
        &self.ctx
    }

    pub fn config(&self) -> &SwarmConfig {
        &self.ctx.config
    }

    pub fn memory(&self) -> Option<&Memory> {
        self.ctx.memory.as_ref()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.ctx.metrics
    }

    pub fn detector(&self) -> &Detector {
        self.detector.detector()
    }

    /// The fast path alone on one text from `source`: the skills' rules and the classifier read at
    /// that source's operating point (`policy.<source>.classifier_threshold`), no memory, no stages.
    pub fn detect(&self, text: &str, source: Source) -> Result<Detection, DetectorError> {
        let reading = Reading::of(source, &self.config().policy_for(source));
        self.detector().detect_for(text, None, reading)
    }

    /// Scan one request through every stage the config runs.
    pub async fn scan(&self, request: ScanRequest) -> Result<Verdict, SwarmError> {
        let span = tracing::info_span!("scan", source = %request.source, session = request.session_id.as_deref());
        self.scan_inner(request).instrument(span).await
    }

    async fn scan_inner(&self, request: ScanRequest) -> Result<Verdict, SwarmError> {
        let started = Instant::now();
        let cfg = &self.ctx.config;
        let metrics = &self.ctx.metrics;
        metrics.request(request.source);
        let request = Arc::new(request);

        // 1. Detector, inline.
        let t = Instant::now();
        let source_policy = cfg.policy_for(request.source);
        let fast = {
            let _s = tracing::debug_span!("detector").entered();
            self.detector.scan(
                &request.text,
                self.ctx.memory.as_ref(),
                cfg.researcher.match_threshold,
                Reading::of(request.source, &source_policy),
            )?
        };
        let mut stages = vec![stage("detector", t, metrics)];
        let draft = policy::verdict(fast.detection, request.source, &source_policy);
        let mut task = ScanTask {
            request: request.clone(),
            verdict: draft,
        };
        let mut evidence = Evidence {
            allowlisted: fast.allowlisted,
            ..Evidence::default()
        };
        let mut degraded = Vec::new();

        // 2. Analyzer: sessions (multi-turn attacks).
        let judge = &cfg.analyzer.judge;
        if let Some(pool) = &self.analyzer
            && (request.session_id.is_some() || (judge.enabled && judge.in_gray_zone(task.verdict.risk)))
        {
            let t = Instant::now();
            let r = self.review(pool, &task).await;
            stages.push(stage("analyzer", t, metrics));
            self.merge(Role::Analyzer, r, &mut task, &mut evidence, &mut degraded);
        }

        // 3. Validator: temporal policies over the session, model-output checks.
        if let Some(pool) = &self.validator
            && (request.session_id.is_some() || request.source == aimds_runtime::Source::ModelOutput)
        {
            let t = Instant::now();
            let r = self.review(pool, &task).await;
            stages.push(stage("validator", t, metrics));
            self.merge(Role::Validator, r, &mut task, &mut evidence, &mut degraded);
        }

        // 4. Responder, inline: the action and the sanitized text.
        let t = Instant::now();
        {
            let _s = tracing::debug_span!("responder").entered();
            self.responder.respond(&mut task, &evidence, &self.ctx);
        }
        stages.push(stage("responder", t, metrics));
        task.verdict.degraded = degraded;

        // 5. Logger: the audit chain and the session trace.
        if let Some(pool) = &self.logger {
            let t = Instant::now();
            let priority = priority_of(&task.verdict);
            match cfg.memory.durability {
                DurabilityMode::Sync => {
                    let deadline = Duration::from_millis(cfg.role(Role::Logger).deadline_ms);
                    match pool.call(Task::Record(task.clone()), priority, deadline).await {
                        Ok(Outcome::Recorded { audit_id, .. }) => {
                            task.verdict.audit_id = audit_id.and_then(|id| u64::try_from(id).ok());
                        }
                        Ok(other) => {
                            return Err(SwarmError::Audit(AgentError::failed(
                                Role::Logger,
                                format!("unexpected answer {other:?}"),
                            )));
                        }
                        Err(e) => {
                            metrics.agent_error(Role::Logger, error_kind(&e));
                            return Err(SwarmError::Audit(e));
                        }
                    }
                }
                DurabilityMode::Batched => {
                    if let Err(e) = pool.cast(Task::Record(task.clone()), priority).await {
                        metrics.agent_error(Role::Logger, error_kind(&e));
                        task.verdict.degraded.push(format!("logger: {e}"));
                    }
                }
            }
            stages.push(stage("logger", t, metrics));
        }

        let mut verdict = task.verdict;
        stages.push(StageTiming {
            stage: "total".into(),
            us: started.elapsed().as_secs_f64() * 1e6,
        });
        verdict.stages = stages;
        metrics.verdict(&verdict);
        Ok(verdict)
    }

    async fn review(&self, pool: &AgentPool, task: &ScanTask) -> Result<Outcome, AgentError> {
        let mut deadline_ms = self.ctx.config.role(pool.role()).deadline_ms;
        let judge = &self.ctx.config.analyzer.judge;
        if pool.role() == Role::Analyzer && judge.enabled {
            // The judge has its own deadline; the stage must not cut it short.
            deadline_ms = deadline_ms.max(judge.deadline_ms + 100);
        }
        let deadline = Duration::from_millis(deadline_ms);
        let rc = self.ctx.config.role(pool.role());
        let priority = priority_of(&task.verdict);
        if rc.fanout <= 1 {
            return pool.call(Task::Review(task.clone()), priority, deadline).await;
        }
        // An ensemble: the same review by `fanout` instances at once, their opinions combined.
        let calls = (0..rc.fanout).map(|_| pool.call(Task::Review(task.clone()), priority, deadline));
        combine_opinions(futures::future::join_all(calls).await, rc.aggregate)
    }

    /// Folds one stage's answer into the scan: findings add up, risk and action only go up.
    fn merge(
        &self,
        role: Role,
        result: Result<Outcome, AgentError>,
        task: &mut ScanTask,
        evidence: &mut Evidence,
        degraded: &mut Vec<String>,
    ) {
        let op: Opinion = match result {
            Ok(Outcome::Opinion(op)) => op,
            Ok(other) => {
                degraded.push(format!("{role}: unexpected answer {other:?}"));
                return;
            }
            Err(e) => {
                tracing::warn!(%role, error = %e, "stage skipped; the verdict so far stands");
                self.ctx.metrics.agent_error(role, error_kind(&e));
                degraded.push(e.to_string());
                return;
            }
        };
        let rc = self.ctx.config.role(role);
        if let Some(r) = op.risk {
            let v = &mut task.verdict;
            v.risk = match rc.aggregate {
                Aggregate::Max => v.risk.max(r),
                // Weighted: the detector weighs 1; the stage pulls the risk towards its own, never below the
                // detector's floor.
                Aggregate::Weighted => v.risk.max((v.risk + rc.weight * r) / (1.0 + rc.weight)),
            }
            .clamp(0.0, 1.0);
        }
        task.verdict.findings.extend(op.findings);
        degraded.extend(op.notes);
        if let Some(a) = op.action
            && evidence.required.is_none_or(|r| a.rank() > r.rank())
        {
            evidence.required = Some(a);
            evidence.required_reason = op.reason.or_else(|| Some(format!("{role} requires {a}")));
        }
    }

    /// Feedback: the researcher learns (behind the validator's gate) and answers what became of it.
    pub async fn feedback(&self, feedback: Feedback) -> Result<FeedbackReport, SwarmError> {
        let pool = self
            .researcher
            .as_ref()
            .ok_or(SwarmError::RoleDisabled(Role::Researcher))?;
        let deadline = Duration::from_millis(self.ctx.config.role(Role::Researcher).deadline_ms);
        match pool.call(Task::Learn(feedback), Priority::Normal, deadline).await {
            Ok(Outcome::Learned(report)) => Ok(report),
            Ok(other) => Err(SwarmError::Agent(AgentError::failed(
                Role::Researcher,
                format!("unexpected answer {other:?}"),
            ))),
            Err(e) => Err(SwarmError::Agent(e)),
        }
    }

    pub fn status(&self) -> SwarmStatus {
        let mut roles = Vec::new();
        let inline = |role: Role| RoleStatus {
            role,
            mode: "inline",
            instances: 1,
            busy: 0,
            queue_depth: 0,
            restarts: 0,
            healthy: true,
        };
        roles.push(inline(Role::Detector));
        for pool in [&self.analyzer, &self.validator].into_iter().flatten() {
            roles.push(pool.status());
        }
        roles.push(inline(Role::Responder));
        for pool in [&self.logger, &self.researcher].into_iter().flatten() {
            roles.push(pool.status());
        }
        for s in &roles {
            self.ctx.metrics.mailbox_depth(s.role, s.queue_depth);
        }
        if let Some(m) = &self.ctx.memory
            && let Ok(stats) = m.stats()
        {
            for (table, rows) in [
                ("patterns", stats.patterns),
                ("vectors", stats.vectors),
                ("events", stats.events),
                ("audit", stats.audit_records),
                ("allowlist", stats.allowlist),
            ] {
                self.ctx.metrics.memory_rows(table, u64::try_from(rows).unwrap_or(0));
            }
        }
        SwarmStatus {
            roles,
            memory: self.ctx.memory.as_ref().map(|m| m.path().display().to_string()),
            durability: self.ctx.config.memory.durability,
            rules: self.detector().skills().iter().map(|s| s.rules).sum(),
            uptime_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Whether every role is up (for readiness probes).
    pub fn healthy(&self) -> bool {
        self.status().roles.iter().all(|r| r.healthy)
    }

    /// Stops the pools (finishing queued work, up to `grace` each) and flushes the memory.
    pub async fn shutdown(self, grace: Duration) {
        for pool in [self.analyzer, self.validator, self.researcher, self.logger]
            .into_iter()
            .flatten()
        {
            pool.shutdown(grace).await;
        }
        if let Some(m) = &self.ctx.memory
            && let Err(e) = m.flush()
        {
            tracing::error!(error = %e, "flushing memory at shutdown failed");
        }
    }
}

/// Combines the opinions of a fanned-out stage into one. Findings are pooled (each rule and span once); the
/// strongest required action stands, with its reason; risk is the highest (`max`) or the mean (`weighted`) of the
/// instances that gave one. Instances that failed are named in the notes; only when all failed does the stage fail.
fn combine_opinions(results: Vec<Result<Outcome, AgentError>>, aggregate: Aggregate) -> Result<Outcome, AgentError> {
    let mut combined = Opinion::default();
    let mut risks = Vec::new();
    let mut first_error = None;
    let mut failed = 0usize;
    let total = results.len();
    for r in results {
        let op = match r {
            Ok(Outcome::Opinion(op)) => op,
            Ok(other) => {
                failed += 1;
                combined.notes.push(format!("unexpected answer {other:?}"));
                continue;
            }
            Err(e) => {
                failed += 1;
                combined.notes.push(e.to_string());
                first_error.get_or_insert(e);
                continue;
            }
        };
        risks.extend(op.risk);
        for f in op.findings {
            if !combined
                .findings
                .iter()
                .any(|g| g.rule_id == f.rule_id && g.span == f.span)
            {
                combined.findings.push(f);
            }
        }
        if let Some(a) = op.action
            && combined.action.is_none_or(|b| a.rank() > b.rank())
        {
            combined.action = Some(a);
            combined.reason = op.reason;
        }
        combined.sanitized = combined.sanitized.or(op.sanitized);
        combined.notes.extend(op.notes);
    }
    if failed == total {
        return Err(first_error.unwrap_or_else(|| AgentError::failed(Role::Analyzer, "no instance answered")));
    }
    if failed > 0 {
        combined
            .notes
            .push(format!("{failed} of {total} fanned-out reviews failed"));
    }
    combined.risk = match aggregate {
        _ if risks.is_empty() => None,
        Aggregate::Max => risks.iter().copied().reduce(f32::max),
        Aggregate::Weighted => Some(risks.iter().sum::<f32>() / risks.len() as f32),
    };
    Ok(Outcome::Opinion(combined))
}

fn stage(name: &str, since: Instant, metrics: &Metrics) -> StageTiming {
    let took = since.elapsed();
    metrics.stage(name, took);
    StageTiming {
        stage: name.into(),
        us: took.as_secs_f64() * 1e6,
    }
}

/// Verdicts that already block or escalate are served first by every pool.
fn priority_of(v: &Verdict) -> Priority {
    if matches!(v.action, Action::Block | Action::Escalate) {
        Priority::Critical
    } else {
        Priority::Normal
    }
}

fn error_kind(e: &AgentError) -> &'static str {
    match e {
        AgentError::Deadline { .. } => "deadline",
        AgentError::Panicked { .. } => "panic",
        AgentError::Stopped { .. } => "stopped",
        AgentError::Unsupported { .. } => "unsupported",
        AgentError::Failed { .. } => "error",
    }
}
