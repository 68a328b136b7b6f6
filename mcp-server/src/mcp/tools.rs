//! The tools: one function each, built on the swarm's and the memory's own APIs.
//!
//! Every tool checks its arguments first and answers bad ones with `invalid_params` naming the argument; work
//! that blocks (memory reads and commits, the audit walk, red-team scans) runs on the blocking pool so the
//! protocol task never stalls.

use std::time::{Duration, Instant};

use super::args::Parameters;
use aimds_agents::analyzer::session::{self, Current, Turn};
use aimds_agents::detector::Reading;
use aimds_agents::policy;
use aimds_agents::researcher::mutate::{Mutation, mutate};
use aimds_agents::researcher::seeds;
use aimds_agents::responder::sanitize::{SanitizeOptions, sanitize};
use aimds_agents::validator::atoms::TraceEvent;
use aimds_agents::validator::output::{Canary, CanaryScanner};
use aimds_agents::validator::{NS_CANARIES, NS_MONITORS};
use aimds_memory::{MemoryError, Owner, SearchFilter};
use aimds_runtime::ltl::{EventAtoms, SessionMonitor, SessionState, TemporalPolicy, compile_policies};
use aimds_runtime::{Action, Category, Feedback, FeedbackLabel, FeedbackReport, ScanRequest, Source, Verdict};
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::handler::server::wrapper::Json;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, ErrorCode};
use rmcp::{ErrorData, tool, tool_router};
use serde_json::{Value, json};

use super::AimdsMcp;
use super::params::*;
use super::results::*;
use crate::SwarmError;
use crate::cli::scan::tool_call_text;

/// The prefix of every namespace a client stores into: the swarm's own namespaces (`ltl`, `canary`,
/// `system_prompt`) stay out of reach.
pub const CLIENT_NS_PREFIX: &str = "mcp.";
/// Longest feedback text (the researcher's own limit).
const MAX_FEEDBACK_BYTES: usize = aimds_agents::researcher::MAX_FEEDBACK_BYTES;
/// Characters of a red-team miss shown.
const PREVIEW_CHARS: usize = 200;

pub(crate) fn bad(msg: impl Into<String>) -> ToolError {
    ToolError(ErrorData::invalid_params(msg.into(), None))
}

/// A tool's failure. Bad arguments (and a tool the config cannot serve) are answered as a tool result with
/// `isError: true` and a message naming what was wrong — the MCP spec's "tool execution error", which hosts show
/// to the model so it can correct the call, and the same form rmcp gives arguments that do not deserialize.
/// Internal failures stay JSON-RPC errors.
#[derive(Debug)]
pub struct ToolError(pub ErrorData);

impl From<ErrorData> for ToolError {
    fn from(e: ErrorData) -> Self {
        ToolError(e)
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let e = self.0;
        if e.code == ErrorCode::INVALID_PARAMS {
            Ok(CallToolResult::error(vec![ContentBlock::text(format!("invalid arguments: {}", e.message))]).into())
        } else if e.code == ErrorCode::INVALID_REQUEST {
            Ok(CallToolResult::error(vec![ContentBlock::text(e.message.into_owned())]).into())
        } else {
            Err(e)
        }
    }
}

fn internal(msg: impl std::fmt::Display) -> ToolError {
    ToolError(ErrorData::internal_error(msg.to_string(), None))
}

fn memory_err(e: MemoryError) -> ToolError {
    match e {
        MemoryError::Invalid { .. } | MemoryError::TooLarge { .. } | MemoryError::NotFound { .. } => bad(e.to_string()),
        e => internal(e),
    }
}

fn swarm_err(e: SwarmError) -> ToolError {
    match e {
        SwarmError::Detector(e) => bad(e.to_string()),
        SwarmError::RoleDisabled(_) => ToolError(ErrorData::invalid_request(e.to_string(), None)),
        e => internal(e),
    }
}

/// An id-like argument: 1..=256 bytes, not blank, no control characters.
pub(crate) fn check_id(field: &str, value: &str) -> Result<(), ToolError> {
    if value.trim().is_empty() {
        return Err(bad(format!("{field} must not be empty")));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(bad(format!(
            "{field} is {} bytes; the limit is {MAX_ID_BYTES}",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(format!("{field} must not contain control characters")));
    }
    Ok(())
}

fn check_opt_id(field: &str, value: Option<&str>) -> Result<(), ToolError> {
    value.map_or(Ok(()), |v| check_id(field, v))
}

fn check_bytes(field: &str, value: &str, min: usize, max: usize) -> Result<(), ToolError> {
    if value.trim().len() < min {
        return Err(bad(format!("{field} must not be empty")));
    }
    if value.len() > max {
        return Err(bad(format!("{field} is {} bytes; the limit is {max}", value.len())));
    }
    Ok(())
}

fn check_note(note: Option<&str>) -> Result<(), ToolError> {
    match note {
        Some(n) if n.len() > MAX_NOTE_BYTES => {
            Err(bad(format!("note is {} bytes; the limit is {MAX_NOTE_BYTES}", n.len())))
        }
        _ => Ok(()),
    }
}

/// Runs blocking work (memory, CPU-heavy loops) off the protocol's tasks.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| internal(format!("the tool's task failed: {e}")))?
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn preview(t: &str) -> String {
    let mut p: String = t.chars().take(PREVIEW_CHARS).collect();
    if p.len() < t.len() {
        p.push('…');
    }
    p
}

fn feedback_result(r: FeedbackReport) -> FeedbackResult {
    FeedbackResult {
        label: match r.label {
            FeedbackLabel::Attack => "attack".into(),
            FeedbackLabel::Benign => "benign".into(),
        },
        status: r.status,
        id: r.id,
        reason: r.reason,
        conflicts: r.conflicts,
        audit_id: r.audit_id,
        signature: r.signature.map(|s| SignatureResult {
            id: s.id,
            literal: s.literal,
            status: s.status,
            reason: s.reason,
        }),
    }
}

fn action_str(a: Action) -> String {
    a.as_str().to_string()
}

impl AimdsMcp {
    fn check_text(&self, field: &str, text: &str) -> Result<(), ToolError> {
        let max = self.shared.swarm.config().detector.max_input_bytes;
        if text.len() > max {
            return Err(bad(format!(
                "{field} is {} bytes; the limit is {max} (detector.max_input_bytes)",
                text.len()
            )));
        }
        Ok(())
    }

    async fn scan(&self, request: ScanRequest) -> Result<(Verdict, f64), ToolError> {
        let start = Instant::now();
        let verdict = self.shared.swarm.scan(request).await.map_err(swarm_err)?;
        Ok((verdict, start.elapsed().as_secs_f64() * 1e6))
    }

    async fn feedback(&self, feedback: Feedback) -> Result<FeedbackResult, ToolError> {
        check_bytes("text", &feedback.text, 1, MAX_FEEDBACK_BYTES)?;
        check_note(feedback.note.as_deref())?;
        self.shared.memory()?;
        let report = self.shared.swarm.feedback(feedback).await.map_err(swarm_err)?;
        Ok(feedback_result(report))
    }
}

#[tool_router(vis = "pub(crate)")]
impl AimdsMcp {
    #[tool(
        description = "Scan a prompt (text a user or an upstream agent sends to the model) for prompt injection, \
                       jailbreaks, obfuscated payloads, secrets and PII. Returns the verdict: flagged, action \
                       (allow/sanitize/block/escalate), risk, findings with byte spans, and the reason.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn scan_input(&self, Parameters(p): Parameters<ScanInputParams>) -> Result<Json<ScanResult>, ToolError> {
        self.check_text("text", &p.text)?;
        check_opt_id("session_id", p.session_id.as_deref())?;
        let (v, us) = self
            .scan(ScanRequest {
                text: p.text,
                source: Source::User,
                session_id: p.session_id,
                meta: Default::default(),
            })
            .await?;
        Ok(Json(ScanResult::new(&v, us)))
    }

    #[tool(
        description = "Scan a model's output before it reaches a user or another system: leaked system prompt \
                       (registered ones), canary tokens, secrets, PII, markdown-image/link exfiltration. Blocked \
                       or sanitized outputs come with the reason and, for sanitize, the text to use.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn scan_output(&self, Parameters(p): Parameters<ScanOutputParams>) -> Result<Json<ScanResult>, ToolError> {
        self.check_text("text", &p.text)?;
        check_opt_id("session_id", p.session_id.as_deref())?;
        let (v, us) = self
            .scan(ScanRequest {
                text: p.text,
                source: Source::ModelOutput,
                session_id: p.session_id,
                meta: Default::default(),
            })
            .await?;
        Ok(Json(ScanResult::new(&v, us)))
    }

    #[tool(
        description = "Scan content an agent read — a web page, file, e-mail, ticket, API result or retrieved \
                       document — for indirect prompt injection (also hidden in HTML, comments, invisible or \
                       encoded text). Suspicious content is usually sanitized rather than blocked: use \
                       `sanitized` (hidden text removed, secrets redacted, injected span marked) in its place.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn scan_tool_output(
        &self,
        Parameters(p): Parameters<ScanToolOutputParams>,
    ) -> Result<Json<ScanResult>, ToolError> {
        self.check_text("text", &p.text)?;
        check_opt_id("tool_name", p.tool_name.as_deref())?;
        check_opt_id("session_id", p.session_id.as_deref())?;
        let mut meta = serde_json::Map::new();
        if let Some(t) = &p.tool_name {
            meta.insert("tool_name".into(), json!(t));
        }
        let source = match p.source {
            ContentSource::ToolOutput => Source::ToolOutput,
            ContentSource::Document => Source::Document,
        };
        let (v, us) = self
            .scan(ScanRequest {
                text: p.text,
                source,
                session_id: p.session_id,
                meta,
            })
            .await?;
        Ok(Json(ScanResult::new(&v, us)))
    }

    #[tool(
        description = "Check a tool call before it runs: injected or exfiltrating arguments (URLs carrying data, \
                       secrets in commands) and the session's temporal policies (e.g. no network egress after a \
                       secret was read, no side effects after injected content was seen, unless a person \
                       approved). Answers decision allow, deny or ask (a person must confirm), with the verdict.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn check_tool_call(
        &self,
        Parameters(p): Parameters<CheckToolCallParams>,
    ) -> Result<Json<ToolCallResult>, ToolError> {
        check_id("tool_name", &p.tool_name)?;
        check_opt_id("session_id", p.session_id.as_deref())?;
        let input = Value::Object(p.tool_input);
        let text = tool_call_text(Some(&p.tool_name), &input);
        self.check_text("tool_input", &text)?;
        let mut meta = serde_json::Map::new();
        meta.insert("tool_name".into(), json!(p.tool_name));
        meta.insert("tool_input".into(), input);
        let (v, us) = self
            .scan(ScanRequest {
                text,
                source: Source::ToolCall,
                session_id: p.session_id,
                meta,
            })
            .await?;
        let decision = match v.action {
            Action::Block => "deny",
            Action::Escalate => "ask",
            Action::Allow | Action::Sanitize => "allow",
        };
        Ok(Json(ToolCallResult {
            decision: decision.into(),
            verdict: ScanResult::new(&v, us),
        }))
    }

    #[tool(
        description = "Analyse a session's recorded turns (prompts, tool calls and outputs recorded by scans and \
                       hooks with this session_id) for attacks no single message shows: a payload split across \
                       turns, a crescendo of rising risk, probing after blocks, resemblance to known multi-turn \
                       attacks. Give `text` to judge a candidate next turn without recording it.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn analyze_session(
        &self,
        Parameters(p): Parameters<AnalyzeSessionParams>,
    ) -> Result<Json<SessionAnalysis>, ToolError> {
        check_id("session_id", &p.session_id)?;
        if let Some(t) = &p.text {
            self.check_text("text", t)?;
        }
        if let Some(w) = p.window
            && !(1..=100).contains(&w)
        {
            return Err(bad(format!("window must be 1..=100, got {w}")));
        }
        self.shared.memory()?;
        let shared = self.shared.clone();
        blocking(move || {
            let memory = shared.memory()?;
            let config = shared.swarm.config();
            let cfg = &config.analyzer;
            let window = p.window.unwrap_or(cfg.window_turns).clamp(1, 100);
            let events = memory.session_tail(&p.session_id, window + 1).map_err(memory_err)?;
            if events.is_empty() && p.text.is_none() {
                return Err(bad(format!(
                    "session_id {:?} has no recorded events in this memory",
                    p.session_id
                )));
            }
            let shown = if p.text.is_some() && events.len() > window {
                &events[events.len() - window..]
            } else {
                &events[..]
            };
            let turns: Vec<TurnOut> = shown
                .iter()
                .map(|e| {
                    let t = Turn::from_event(e);
                    TurnOut {
                        seq: e.seq,
                        source: e.source.clone(),
                        kind: e.kind.clone(),
                        excerpt: preview(&e.summary),
                        action: action_str(t.action),
                        risk: t.risk,
                        tool: e
                            .verdict
                            .as_ref()
                            .and_then(|v| v.get("tool"))
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    }
                })
                .collect();
            let mut relevant: Vec<Turn> = shown
                .iter()
                .filter(|e| e.kind == "scan" || e.kind == "tool_call")
                .map(Turn::from_event)
                .collect();
            let detector = shared.swarm.detector();
            let (judged, current_turn) = match &p.text {
                Some(text) => {
                    // (a candidate prompt, read as a scan reads one: at the prompts' classifier point)
                    let risk = shared
                        .swarm
                        .detect(text, Source::User)
                        .map_err(|e| bad(e.to_string()))?
                        .risk;
                    (
                        "candidate",
                        Turn {
                            source: Source::User.as_str().into(),
                            text: text.clone(),
                            risk,
                            action: Action::Allow,
                        },
                    )
                }
                None => match relevant.pop() {
                    Some(t) => ("latest", t),
                    None => (
                        "latest",
                        Turn {
                            source: Source::User.as_str().into(),
                            text: String::new(),
                            risk: 0.0,
                            action: Action::Allow,
                        },
                    ),
                },
            };
            let source: Source = current_turn.source.parse().unwrap_or(Source::User);
            let policy = config.policy_for(source);
            let current = Current {
                text: &current_turn.text,
                source,
                risk: current_turn.risk,
                threshold: policy.threshold,
                classifier_threshold: policy.classifier_threshold,
            };
            let op = session::analyze(detector, Some(memory), &relevant, current, cfg);
            let policy_steps = memory
                .kv_get(NS_MONITORS, &p.session_id)
                .map_err(memory_err)?
                .and_then(|v| serde_json::from_value::<SessionState>(v).ok())
                .map_or(0, |s| s.steps);
            Ok(Json(SessionAnalysis {
                session_id: p.session_id.clone(),
                flagged_turns: turns.iter().filter(|t| t.action != "allow").count(),
                blocked_turns: turns.iter().filter(|t| t.action == "block").count(),
                turns,
                policy_steps,
                judged: judged.into(),
                suspicious: !op.findings.is_empty() || op.action.is_some(),
                findings: op.findings.iter().map(FindingOut::from).collect(),
                risk: op.risk,
                action: op.action.map(action_str),
                reason: op.reason,
            }))
        })
        .await
    }

    #[tool(
        description = "Sanitize a text without judging it: remove hidden text (invisible characters, hidden HTML, \
                       comments), redact secrets (and PII for model outputs or when asked), defang exfiltration \
                       links, and for tool outputs and documents frame the content as untrusted data with the \
                       suspicious spans marked. Returns the text to use and what was changed.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn sanitize(&self, Parameters(p): Parameters<SanitizeParams>) -> Result<Json<SanitizeResult>, ToolError> {
        self.check_text("text", &p.text)?;
        let source = match p.source {
            SanitizeSource::User => Source::User,
            SanitizeSource::ToolOutput => Source::ToolOutput,
            SanitizeSource::Document => Source::Document,
            SanitizeSource::ModelOutput => Source::ModelOutput,
        };
        let shared = self.shared.clone();
        blocking(move || {
            let detection = shared.swarm.detect(&p.text, source).map_err(|e| bad(e.to_string()))?;
            let mut opts = SanitizeOptions::for_source(source);
            if let Some(pii) = p.redact_pii {
                opts.redact_pii = pii;
            }
            let out = sanitize(&p.text, source, &detection.findings, &opts);
            Ok(Json(SanitizeResult {
                changed: out.text != p.text,
                redactions: out
                    .redactions
                    .iter()
                    .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
                    .collect(),
                hidden_removed: out.hidden_removed,
                spotlighted: out.spotlighted,
                findings: detection.findings.iter().map(FindingOut::from).collect(),
                risk: detection.risk,
                text: out.text,
            }))
        })
        .await
    }

    #[tool(
        description = "Evaluate a past-time LTL formula — or the configured temporal policies — over a trace of \
                       events and say at which events it is violated. Give the trace as atom sets (`trace`) or as \
                       tool calls/outputs/prompts (`events`, whose atoms are derived as the validator does). Use it \
                       to test a policy before putting it in a config, or to explain a block.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn verify_policy(
        &self,
        Parameters(p): Parameters<VerifyPolicyParams>,
    ) -> Result<Json<VerifyPolicyResult>, ToolError> {
        let compiled = match &p.formula {
            Some(f) => {
                let policy = TemporalPolicy {
                    name: "formula".into(),
                    formula: f.clone(),
                    action: Action::Block,
                    message: "the formula is false at this event".into(),
                };
                compile_policies(&[policy]).map_err(|e| bad(format!("formula: {e}")))?
            }
            None => self.shared.policies.clone(),
        };
        let (traces, derived): (Vec<EventAtoms>, bool) = match (p.trace, p.events) {
            (Some(_), Some(_)) => return Err(bad("give either trace or events, not both")),
            (None, None) => return Err(bad("give the trace: trace (atom sets) or events")),
            (Some(trace), None) => {
                if trace.len() > MAX_TRACE_EVENTS {
                    return Err(bad(format!(
                        "trace has {} events; the limit is {MAX_TRACE_EVENTS}",
                        trace.len()
                    )));
                }
                let mut out = Vec::with_capacity(trace.len());
                for (i, atoms) in trace.iter().enumerate() {
                    if atoms.len() > MAX_EVENT_ATOMS {
                        return Err(bad(format!(
                            "trace[{i}] has {} atoms; the limit is {MAX_EVENT_ATOMS}",
                            atoms.len()
                        )));
                    }
                    for a in atoms {
                        if a.is_empty() || a.len() > MAX_ATOM_BYTES || a.chars().any(|c| c.is_whitespace()) {
                            return Err(bad(format!(
                                "trace[{i}]: atom {:?} must be 1..={MAX_ATOM_BYTES} bytes without whitespace",
                                preview(a)
                            )));
                        }
                    }
                    out.push(atoms.iter().collect());
                }
                (out, false)
            }
            (None, Some(events)) => {
                if events.len() > MAX_TRACE_EVENTS {
                    return Err(bad(format!(
                        "events has {} entries; the limit is {MAX_TRACE_EVENTS}",
                        events.len()
                    )));
                }
                let mut out = Vec::with_capacity(events.len());
                for (i, e) in events.iter().enumerate() {
                    let source: Source = e.source.parse().map_err(|m| bad(format!("events[{i}].source: {m}")))?;
                    check_opt_id(&format!("events[{i}].tool_name"), e.tool_name.as_deref())?;
                    let (categories, flagged) = match &e.text {
                        Some(text) => {
                            self.check_text(&format!("events[{i}].text"), text)?;
                            let d = self
                                .shared
                                .swarm
                                .detect(text, source)
                                .map_err(|err| bad(format!("events[{i}].text: {err}")))?;
                            let v = policy::verdict(d, source, &self.shared.swarm.config().policy_for(source));
                            (v.categories, v.flagged)
                        }
                        None => (Vec::new(), false),
                    };
                    let ev = TraceEvent {
                        source,
                        tool_name: e.tool_name.as_deref(),
                        tool_input: e.tool_input.as_ref(),
                        text: e.text.as_deref(),
                        categories: &categories,
                        flagged,
                        approved: e.approved,
                    };
                    out.push(ev.atoms());
                }
                (out, true)
            }
        };
        let mut monitor = SessionMonitor::new(&compiled);
        let mut violations = Vec::new();
        for atoms in &traces {
            for v in monitor.step(atoms) {
                violations.push(ViolationOut {
                    step: v.step,
                    policy: v.policy,
                    action: action_str(v.action),
                    message: v.message,
                });
            }
        }
        let policies = compiled
            .iter()
            .map(|c| PolicyOut {
                name: c.name().to_string(),
                formula: match &p.formula {
                    Some(f) => f.clone(),
                    None => self
                        .shared
                        .swarm
                        .config()
                        .validator
                        .policies
                        .iter()
                        .find(|t| t.name == c.name())
                        .map(|t| t.formula.clone())
                        .unwrap_or_default(),
                },
                kind: serde_json::to_value(c.kind())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                action: action_str(c.action()),
                message: c.message().to_string(),
            })
            .collect();
        Ok(Json(VerifyPolicyResult {
            holds: violations.is_empty(),
            events: traces.len(),
            first_violation: violations.first().map(|v| v.step),
            violations,
            policies,
            atoms: derived.then(|| traces.iter().map(|a| a.iter().map(str::to_string).collect()).collect()),
        }))
    }

    #[tool(
        description = "Create a canary token and register it in the shared memory. Plant it in a system prompt or \
                       a confidential document: any model output that contains it (verbatim, spaced out, \
                       reversed, hex or base64) is then blocked by scan_output and the output hook.",
        annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false)
    )]
    async fn canary_create(
        &self,
        Parameters(p): Parameters<CanaryCreateParams>,
    ) -> Result<Json<CanaryCreated>, ToolError> {
        check_bytes("label", &p.label, 1, 200)?;
        if p.label.chars().any(char::is_control) {
            return Err(bad("label must not contain control characters"));
        }
        self.shared.memory()?;
        let shared = self.shared.clone();
        blocking(move || {
            let memory = shared.memory()?;
            let canary = Canary::generate(&p.label).map_err(internal)?;
            memory
                .kv_put(
                    NS_CANARIES,
                    &canary.token,
                    &json!({"label": canary.label, "created_ms": now_ms(), "by": "mcp"}),
                    None,
                )
                .map_err(memory_err)?;
            Ok(Json(CanaryCreated {
                usage: format!(
                    "Put {} somewhere only the model should see (e.g. the system prompt). If it ever appears \
                     in an output, scan_output blocks that output.",
                    canary.token
                ),
                token: canary.token,
                label: canary.label,
            }))
        })
        .await
    }

    #[tool(
        description = "Look for canary tokens in a text — the given ones, or every registered canary — also when \
                       spaced out, reversed, hex- or base64-encoded. Returns where each was found.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn canary_check(
        &self,
        Parameters(p): Parameters<CanaryCheckParams>,
    ) -> Result<Json<CanaryCheckResult>, ToolError> {
        self.check_text("text", &p.text)?;
        if let Some(tokens) = &p.tokens {
            if tokens.is_empty() || tokens.len() > MAX_TOKENS {
                return Err(bad(format!("tokens must hold 1..={MAX_TOKENS} tokens")));
            }
            for (i, t) in tokens.iter().enumerate() {
                if t.trim().len() < 8 || t.len() > MAX_ID_BYTES {
                    return Err(bad(format!("tokens[{i}] must be 8..={MAX_ID_BYTES} bytes")));
                }
            }
        } else {
            self.shared.memory()?;
        }
        let shared = self.shared.clone();
        blocking(move || {
            let tokens: Vec<String> = match p.tokens {
                Some(t) => t,
                None => shared
                    .memory()?
                    .kv_list(NS_CANARIES, "", MAX_TOKENS)
                    .map_err(memory_err)?
                    .into_iter()
                    .map(|e| e.key)
                    .collect(),
            };
            if tokens.is_empty() {
                return Ok(Json(CanaryCheckResult {
                    leaked: false,
                    checked: 0,
                    hits: Vec::new(),
                }));
            }
            let scanner = CanaryScanner::new(&tokens).map_err(|e| bad(format!("tokens: {e}")))?;
            let hits: Vec<CanaryHitOut> = scanner
                .scan(&p.text)
                .into_iter()
                .map(|h| CanaryHitOut {
                    token: h.token,
                    start: h.span.start,
                    end: h.span.end,
                    encoding: serde_json::to_value(h.encoding)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                })
                .collect();
            Ok(Json(CanaryCheckResult {
                leaked: !hits.is_empty(),
                checked: tokens.len(),
                hits,
            }))
        })
        .await
    }

    #[tool(
        description = "Store a JSON value in the swarm's shared memory (SQLite) under a client namespace and key, \
                       optionally with a time to live; replaces what was there. Client namespaces are kept apart \
                       from the swarm's own state.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn memory_store(
        &self,
        Parameters(p): Parameters<MemoryStoreParams>,
    ) -> Result<Json<MemoryStored>, ToolError> {
        check_namespace(&p.namespace)?;
        check_id("key", &p.key)?;
        let raw = serde_json::to_string(&p.value).map_err(|e| bad(format!("value: {e}")))?;
        if raw.len() > MAX_VALUE_BYTES {
            return Err(bad(format!(
                "value is {} bytes serialised; the limit is {MAX_VALUE_BYTES}",
                raw.len()
            )));
        }
        if let Some(t) = p.ttl_seconds
            && !(1..=MAX_TTL_SECONDS).contains(&t)
        {
            return Err(bad(format!("ttl_seconds must be 1..={MAX_TTL_SECONDS}, got {t}")));
        }
        self.shared.memory()?;
        let shared = self.shared.clone();
        blocking(move || {
            let ns = format!("{CLIENT_NS_PREFIX}{}", p.namespace);
            shared
                .memory()?
                .kv_put(&ns, &p.key, &p.value, p.ttl_seconds.map(Duration::from_secs))
                .map_err(memory_err)?;
            Ok(Json(MemoryStored {
                namespace: p.namespace,
                key: p.key,
                bytes: raw.len(),
                expires_at_ms: p.ttl_seconds.map(|t| now_ms().saturating_add(t.saturating_mul(1000))),
            }))
        })
        .await
    }

    #[tool(
        description = "Search the shared memory: `patterns` (default) finds known and learned attacks similar in \
                       meaning to the query (vector search); `kv` finds values stored with memory_store in a \
                       namespace whose key starts with, or whose value contains, the query.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn memory_search(
        &self,
        Parameters(p): Parameters<MemorySearchParams>,
    ) -> Result<Json<MemorySearchResult>, ToolError> {
        if !(1..=MAX_K).contains(&p.k) {
            return Err(bad(format!("k must be 1..={MAX_K}, got {}", p.k)));
        }
        if !(-1.0..=1.0).contains(&p.threshold) {
            return Err(bad(format!("threshold must be -1..=1, got {}", p.threshold)));
        }
        if p.query.len() > 64 * 1024 {
            return Err(bad(format!("query is {} bytes; the limit is 65536", p.query.len())));
        }
        match p.kind {
            MemoryKind::Patterns => check_bytes("query", &p.query, 1, 64 * 1024)?,
            MemoryKind::Kv => match &p.namespace {
                Some(ns) => check_namespace(ns)?,
                None => return Err(bad("kind kv needs namespace")),
            },
        }
        self.shared.memory()?;
        let shared = self.shared.clone();
        blocking(move || {
            let memory = shared.memory()?;
            let hits = match p.kind {
                MemoryKind::Patterns => {
                    let mut filter = if p.active_only {
                        SearchFilter::active_patterns()
                    } else {
                        SearchFilter::patterns()
                    };
                    filter.category = p.category.map(|c| Category::from(c).as_str().to_string());
                    let found = memory
                        .search_text(&p.query, p.k, p.threshold, &filter)
                        .map_err(memory_err)?;
                    let mut hits = Vec::with_capacity(found.len());
                    for h in found {
                        let (id, text) = match h.owner {
                            Owner::Pattern(id) => {
                                (Some(id), memory.pattern_get(id).map_err(memory_err)?.map(|p| p.text))
                            }
                            Owner::Allowlist(_) => (None, None),
                        };
                        hits.push(MemoryHit {
                            id,
                            similarity: Some(h.similarity),
                            category: h.category,
                            status: h.status.map(|s| s.as_str().to_string()),
                            text,
                            key: None,
                            value: None,
                        });
                    }
                    hits
                }
                MemoryKind::Kv => {
                    let ns = format!("{CLIENT_NS_PREFIX}{}", p.namespace.as_deref().unwrap_or_default());
                    let needle = p.query.to_lowercase();
                    memory
                        .kv_list(&ns, "", 10_000)
                        .map_err(memory_err)?
                        .into_iter()
                        .filter(|e| {
                            needle.is_empty()
                                || e.key.to_lowercase().starts_with(&needle)
                                || e.value.to_string().to_lowercase().contains(&needle)
                        })
                        .take(p.k)
                        .map(|e| MemoryHit {
                            id: None,
                            similarity: None,
                            category: None,
                            status: None,
                            text: None,
                            key: Some(e.key),
                            value: Some(e.value),
                        })
                        .collect()
                }
            };
            Ok(Json(MemorySearchResult {
                kind: match p.kind {
                    MemoryKind::Patterns => "patterns".into(),
                    MemoryKind::Kv => "kv".into(),
                },
                hits,
            }))
        })
        .await
    }

    #[tool(
        description = "Teach the swarm an attack pattern. It enters memory as a candidate; the learning gate \
                       replays it against benign reference text and promotes it to active only if it flags none \
                       (status active), else refuses it (status refused, with the conflicts). Active patterns \
                       catch near-duplicates from then on. When the rules missed the attack, a signature (its core \
                       phrase) is derived and, if no benign reference text holds it, matched literally from then on.",
        annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false)
    )]
    async fn learn_pattern(
        &self,
        Parameters(p): Parameters<LearnPatternParams>,
    ) -> Result<Json<FeedbackResult>, ToolError> {
        let feedback = Feedback {
            text: p.text,
            label: FeedbackLabel::Attack,
            category: Some(p.category.into()),
            reporter: "mcp:learn_pattern".into(),
            note: p.note,
        };
        Ok(Json(self.feedback(feedback).await?))
    }

    #[tool(
        description = "Report a wrong verdict: label `attack` for a missed attack (learned behind the validation \
                       gate) or `benign` for a false positive (allowlisted unless it matches a learned attack). \
                       Returns what became of the report.",
        annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false)
    )]
    async fn report_feedback(
        &self,
        Parameters(p): Parameters<ReportFeedbackParams>,
    ) -> Result<Json<FeedbackResult>, ToolError> {
        if p.label == FeedbackLabelParam::Benign && p.category.is_some() {
            return Err(bad("category applies to label attack only"));
        }
        let feedback = Feedback {
            text: p.text,
            label: match p.label {
                FeedbackLabelParam::Attack => FeedbackLabel::Attack,
                FeedbackLabelParam::Benign => FeedbackLabel::Benign,
            },
            category: p.category.map(Into::into),
            reporter: "mcp:report_feedback".into(),
            note: p.note,
        };
        Ok(Json(self.feedback(feedback).await?))
    }

    #[tool(
        description = "Read the newest records of the hash-chained audit log (every verdict and learning decision: \
                       action, risk, categories, rule ids, session; texts only as SHA-256), optionally filtered by \
                       session, action or id.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn audit_query(
        &self,
        Parameters(p): Parameters<AuditQueryParams>,
    ) -> Result<Json<AuditQueryResult>, ToolError> {
        if !(1..=MAX_AUDIT_RECORDS).contains(&p.limit) {
            return Err(bad(format!("limit must be 1..={MAX_AUDIT_RECORDS}, got {}", p.limit)));
        }
        check_opt_id("session_id", p.session_id.as_deref())?;
        self.shared.memory()?;
        let shared = self.shared.clone();
        blocking(move || {
            let records = shared.memory()?.audit_tail(p.limit).map_err(memory_err)?;
            let scanned = records.len();
            let records = records
                .into_iter()
                .filter(|r| p.after_id.is_none_or(|a| r.id > a))
                .filter(|r| {
                    p.session_id
                        .as_deref()
                        .is_none_or(|s| r.verdict.get("session").and_then(Value::as_str) == Some(s))
                })
                .filter(|r| {
                    p.action
                        .is_none_or(|a| r.verdict.get("action").and_then(Value::as_str) == Some(a.as_str()))
                })
                .map(|r| AuditRecordOut {
                    id: r.id,
                    created_at: r.created_at,
                    record: r.verdict,
                    hash: r.hash,
                })
                .collect();
            Ok(Json(AuditQueryResult { scanned, records }))
        })
        .await
    }

    #[tool(
        description = "Walk the audit log's hash chain and report whether it is intact, how many records it holds, \
                       its head hash (anchor it elsewhere to detect truncation) and the first broken record.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn audit_verify(&self, Parameters(_): Parameters<NoParams>) -> Result<Json<AuditVerifyResult>, ToolError> {
        self.shared.memory()?;
        let shared = self.shared.clone();
        blocking(move || {
            let report = shared.memory()?.audit_verify().map_err(memory_err)?;
            Ok(Json(AuditVerifyResult {
                intact: report.intact(),
                records: report.records,
                head: report.head,
                first_break: report
                    .first_break
                    .as_ref()
                    .map(|b| json!({"id": b.id, "reason": b.reason})),
            }))
        })
        .await
    }

    #[tool(
        description = "The swarm's live topology and health: roles (detector, analyzer, validator, responder, \
                       logger, researcher) with instances, busy workers, queue depths and restarts; memory and \
                       its row counts; skills, rules and temporal policies loaded; uptime.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn swarm_status(&self, Parameters(_): Parameters<NoParams>) -> Result<Json<SwarmStatusResult>, ToolError> {
        let shared = self.shared.clone();
        blocking(move || {
            let swarm = &shared.swarm;
            let status = swarm.status();
            let memory_stats = swarm
                .memory()
                .and_then(|m| m.stats().ok())
                .and_then(|s| serde_json::to_value(s).ok());
            Ok(Json(SwarmStatusResult {
                version: env!("CARGO_PKG_VERSION").into(),
                healthy: status.roles.iter().all(|r| r.healthy),
                roles: status
                    .roles
                    .iter()
                    .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
                    .collect(),
                memory: status.memory,
                durability: serde_json::to_value(status.durability)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                rules: status.rules,
                skills: shared.skills.iter().map(|s| s.name.clone()).collect(),
                temporal_policies: shared.policies.iter().map(|p| p.name().to_string()).collect(),
                uptime_ms: status.uptime_ms,
                memory_stats,
            }))
        })
        .await
    }

    #[tool(
        description = "Red-team the guard: mutate seed attacks (given, or the shipped set) with encodings, \
                       homoglyphs, invisible characters, splitting, paraphrase and document-wrapping families, \
                       scan every mutant as a tool output, and report per family how many are still caught, with \
                       examples of misses. Read-only: nothing is recorded or learned.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn redteam_probe(
        &self,
        Parameters(p): Parameters<RedteamProbeParams>,
    ) -> Result<Json<RedteamResult>, ToolError> {
        if !(1..=MAX_REDTEAM_VARIANTS).contains(&p.variants) {
            return Err(bad(format!(
                "variants must be 1..={MAX_REDTEAM_VARIANTS}, got {}",
                p.variants
            )));
        }
        if p.examples > 10 {
            return Err(bad(format!("examples must be 0..=10, got {}", p.examples)));
        }
        let seeds = match p.seeds {
            Some(s) => {
                if s.is_empty() || s.len() > MAX_REDTEAM_SEEDS {
                    return Err(bad(format!("seeds must hold 1..={MAX_REDTEAM_SEEDS} texts")));
                }
                for (i, seed) in s.iter().enumerate() {
                    check_bytes(&format!("seeds[{i}]"), seed, 1, 64 * 1024)?;
                }
                s
            }
            None => seeds::shipped(),
        };
        let families = match p.families {
            Some(names) => {
                if names.is_empty() {
                    return Err(bad("families must not be empty (leave it out for all)"));
                }
                let mut out: Vec<Mutation> = Vec::new();
                for n in &names {
                    let m: Mutation = n.parse().map_err(|e| bad(format!("families: {e}")))?;
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                out
            }
            None => Mutation::ALL.to_vec(),
        };
        let total = seeds.len() * families.len() * p.variants as usize;
        if total > MAX_REDTEAM_MUTANTS {
            return Err(bad(format!(
                "{} seeds x {} families x {} variants = {total} mutants; the limit is {MAX_REDTEAM_MUTANTS}",
                seeds.len(),
                families.len(),
                p.variants
            )));
        }
        let shared = self.shared.clone();
        blocking(move || {
            let detector = shared.swarm.detector();
            let config = shared.swarm.config();
            let source = Source::ToolOutput;
            let policy = config.policy_for(source);
            let flags = |text: &str| {
                detector
                    .detect_for(text, None, Reading::of(source, &policy))
                    .map(|d| policy::verdict(d, source, &policy).flagged)
                    .unwrap_or(false)
            };
            let (flagged, missed): (Vec<&String>, Vec<&String>) = seeds.iter().partition(|s| flags(s));
            let mut out = Vec::with_capacity(families.len());
            for &family in &families {
                let mut fc = FamilyCoverage {
                    family: family.name().into(),
                    mutants: 0,
                    caught: 0,
                    coverage: 0.0,
                    missed_examples: Vec::new(),
                };
                for seed in &flagged {
                    for variant in 0..u64::from(p.variants) {
                        let m = mutate(seed, family, variant);
                        let text = match &m.turns {
                            Some(turns) => turns.join("\n"),
                            None => m.text,
                        };
                        fc.mutants += 1;
                        if flags(&text) {
                            fc.caught += 1;
                        } else if fc.missed_examples.len() < p.examples {
                            fc.missed_examples.push(preview(&text));
                        }
                    }
                }
                fc.coverage = if fc.mutants == 0 {
                    0.0
                } else {
                    fc.caught as f32 / fc.mutants as f32
                };
                out.push(fc);
            }
            let (mutants, caught) = out.iter().fold((0, 0), |a, f| (a.0 + f.mutants, a.1 + f.caught));
            Ok(Json(RedteamResult {
                seeds: seeds.len(),
                mutants,
                caught,
                coverage: if mutants == 0 {
                    0.0
                } else {
                    caught as f32 / mutants as f32
                },
                seeds_missed: missed.iter().map(|s| preview(s)).collect(),
                families: out,
            }))
        })
        .await
    }
}

/// A client namespace: 1..=64 of `a-z 0-9 _ - .`.
fn check_namespace(ns: &str) -> Result<(), ToolError> {
    if ns.is_empty() || ns.len() > MAX_NAMESPACE_BYTES {
        return Err(bad(format!(
            "namespace must be 1..={MAX_NAMESPACE_BYTES} bytes, got {}",
            ns.len()
        )));
    }
    if !ns
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(bad(format!(
            "namespace {ns:?} may only hold a-z, 0-9, '_', '-' and '.'"
        )));
    }
    Ok(())
}
