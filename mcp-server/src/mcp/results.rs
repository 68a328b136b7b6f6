//! Tool results: structured content with an output schema (`Json<T>`). Field docs are part of the schema.

use aimds_runtime::{Finding, Verdict};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// One piece of evidence.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FindingOut {
    /// prompt_injection, jailbreak, obfuscation, exfiltration, system_prompt_leak, canary_leak, pii, secret,
    /// policy_violation, anomaly or code_injection.
    pub category: String,
    /// The rule, model or policy that fired (e.g. `pi.ignore-previous`, `policy.no-egress-after-secret-read`).
    pub rule_id: String,
    /// Byte offset where the evidence starts in the scanned text.
    pub start: usize,
    /// Byte offset where it ends (exclusive).
    pub end: usize,
    /// low, medium, high or critical.
    pub severity: String,
    /// 0..1: how likely this finding alone is a true positive.
    pub confidence: f32,
    /// A short excerpt or explanation.
    pub evidence: String,
}

impl From<&Finding> for FindingOut {
    fn from(f: &Finding) -> Self {
        FindingOut {
            category: f.category.as_str().to_string(),
            rule_id: f.rule_id.clone(),
            start: f.span.start,
            end: f.span.end,
            severity: serde_json::to_value(f.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            confidence: f.confidence,
            evidence: f.evidence.clone(),
        }
    }
}

/// A verdict: what to do with the text and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScanResult {
    /// `true` when the action is anything but `allow`.
    pub flagged: bool,
    /// `allow` (pass it on), `sanitize` (use `sanitized` instead), `block` (refuse it) or `escalate` (a person
    /// decides).
    pub action: String,
    /// Calibrated probability (0..1) that the text is a manipulation attempt.
    pub risk: f32,
    /// Where the text came from: user, tool_output, document, model_output or tool_call.
    pub source: String,
    /// Distinct categories of the findings, most severe first.
    pub categories: Vec<String>,
    pub findings: Vec<FindingOut>,
    /// Why this action, in one line.
    pub reason: String,
    /// For `sanitize`: the text to use instead (hidden text removed, secrets redacted, untrusted spans marked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sanitized: Option<String>,
    /// The audit record of this verdict (`audit_query`, `audit_verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<u64>,
    /// Stages skipped (deadline, failure): the verdict stands without them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub degraded: Vec<String>,
    /// Microseconds the swarm spent on the scan.
    pub us: f64,
}

impl ScanResult {
    pub fn new(v: &Verdict, us: f64) -> ScanResult {
        ScanResult {
            flagged: v.flagged,
            action: v.action.as_str().to_string(),
            risk: v.risk,
            source: v.source.as_str().to_string(),
            categories: v.categories.iter().map(|c| c.as_str().to_string()).collect(),
            findings: v.findings.iter().map(FindingOut::from).collect(),
            reason: v.reason.clone(),
            sanitized: v.sanitized.clone(),
            audit_id: v.audit_id,
            degraded: v.degraded.clone(),
            us: (us * 10.0).round() / 10.0,
        }
    }
}

/// The verdict on a tool call.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ToolCallResult {
    /// `allow` (run it), `deny` (do not run it) or `ask` (a person must confirm it first).
    pub decision: String,
    #[serde(flatten)]
    pub verdict: ScanResult,
}

/// One recorded turn of a session.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TurnOut {
    /// Position in the session (1 = first).
    pub seq: i64,
    pub source: String,
    /// scan, tool_call, approval, …
    pub kind: String,
    /// The recorded excerpt (secrets and PII replaced by their category).
    pub excerpt: String,
    pub action: String,
    pub risk: f32,
    /// The tool, for tool calls and outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
}

/// A session's analysis.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SessionAnalysis {
    pub session_id: String,
    /// The turns read, oldest first.
    pub turns: Vec<TurnOut>,
    /// Turns in the window that were flagged / blocked.
    pub flagged_turns: usize,
    pub blocked_turns: usize,
    /// Events the temporal-policy monitors have seen in this session.
    pub policy_steps: u64,
    /// What judged the session: `candidate` (the `text` given) or `latest` (the newest recorded turn).
    pub judged: String,
    /// Findings of the session analysis (split payload, crescendo, probing, similar known attacks).
    pub findings: Vec<FindingOut>,
    /// The session-level risk when the analysis raised it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<f32>,
    /// The action the analysis requires, if any (e.g. `escalate` on probing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `true` when the analysis found anything.
    pub suspicious: bool,
}

/// What a sanitization did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SanitizeResult {
    /// The sanitized text.
    pub text: String,
    /// Whether it differs from the input.
    pub changed: bool,
    /// Redactions made: category, rule, byte range in the input, placeholder.
    pub redactions: Vec<Value>,
    /// Bytes of hidden text removed (invisible characters, hidden HTML, comments).
    pub hidden_removed: usize,
    /// Spans marked as suspected injection.
    pub spotlighted: usize,
    /// The detector's findings on the input.
    pub findings: Vec<FindingOut>,
    /// The detector's risk on the input.
    pub risk: f32,
}

/// A policy that was checked.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicyOut {
    pub name: String,
    pub formula: String,
    /// `invariant` (`always`/`never`: checked event by event) or `formula`.
    pub kind: String,
    /// The action on violation.
    pub action: String,
    pub message: String,
}

/// An event that violated a policy.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ViolationOut {
    /// 0-based index of the event in the trace.
    pub step: u64,
    pub policy: String,
    pub action: String,
    pub message: String,
}

/// The result of checking a trace.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VerifyPolicyResult {
    /// `true` when no event violates any checked policy.
    pub holds: bool,
    pub events: usize,
    pub policies: Vec<PolicyOut>,
    pub violations: Vec<ViolationOut>,
    /// Index of the first violating event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_violation: Option<u64>,
    /// The atoms of each event, when the trace was given as `events`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atoms: Option<Vec<Vec<String>>>,
}

/// A new canary.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CanaryCreated {
    /// The token: plant it where a leak would show (a system prompt, a confidential document).
    pub token: String,
    pub label: String,
    /// How to use it.
    pub usage: String,
}

/// A canary found in a text.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CanaryHitOut {
    pub token: String,
    pub start: usize,
    pub end: usize,
    /// exact, obfuscated, reversed, hex or base64.
    pub encoding: String,
}

/// The result of a canary check.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CanaryCheckResult {
    /// `true` when any canary appears.
    pub leaked: bool,
    /// How many tokens were looked for.
    pub checked: usize,
    pub hits: Vec<CanaryHitOut>,
}

/// A stored value.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryStored {
    pub namespace: String,
    pub key: String,
    /// Bytes stored (serialised JSON).
    pub bytes: usize,
    /// Unix milliseconds when it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
}

/// One search hit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryHit {
    /// For patterns: the pattern id; for kv: absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// For patterns: cosine similarity to the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// For patterns: candidate, active or retired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// For patterns: the pattern's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For kv: the key and value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// Search results, best first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemorySearchResult {
    pub kind: String,
    pub hits: Vec<MemoryHit>,
}

/// What became of a report or a pattern.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FeedbackResult {
    /// attack or benign.
    pub label: String,
    /// `active` (a promoted attack pattern), `allowlisted`, `refused` or `duplicate`.
    pub status: String,
    /// The pattern or allowlist id, when one was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub reason: String,
    /// Benign reference texts the candidate would have flagged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<i64>,
    /// For an attack the rules missed: the phrase derived from it, matched literally from then on once active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureResult>,
}

/// A signature derived from a reported attack.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SignatureResult {
    /// Its pattern id (kind `signature`).
    pub id: i64,
    /// The phrase, in normalised form (lower case, folded).
    pub literal: String,
    /// `active` or `refused` (a benign reference text holds every candidate phrase).
    pub status: String,
    pub reason: String,
}

/// Audit records, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AuditQueryResult {
    /// Records read before filtering.
    pub scanned: usize,
    pub records: Vec<AuditRecordOut>,
}

/// One audit record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AuditRecordOut {
    pub id: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// What was decided and why (the text itself is not kept: only its SHA-256 and length).
    pub record: Value,
    pub hash: String,
}

/// The audit chain's state.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AuditVerifyResult {
    /// `true` when every record verifies.
    pub intact: bool,
    /// Records checked.
    pub records: u64,
    /// Hash of the last record when intact: anchor it elsewhere to detect truncation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The first broken record and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_break: Option<Value>,
}

/// The swarm's live topology.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SwarmStatusResult {
    pub version: String,
    /// Every role is up.
    pub healthy: bool,
    /// Roles with their mode (inline or pool), instances, busy workers, queue depth, restarts, health.
    pub roles: Vec<Value>,
    /// The memory database, if the swarm runs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// sync or batched.
    pub durability: String,
    /// Rules compiled from the skills.
    pub rules: usize,
    pub skills: Vec<String>,
    pub temporal_policies: Vec<String>,
    pub uptime_ms: u64,
    /// Row counts of the memory's tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_stats: Option<Value>,
}

/// Coverage of one mutation family.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FamilyCoverage {
    pub family: String,
    pub mutants: usize,
    pub caught: usize,
    /// caught / mutants.
    pub coverage: f32,
    /// Some mutants that got through.
    pub missed_examples: Vec<String>,
}

/// The red-team report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RedteamResult {
    pub seeds: usize,
    pub mutants: usize,
    pub caught: usize,
    pub coverage: f32,
    /// Seeds the guard does not flag even unmutated (mutations of them are not counted).
    pub seeds_missed: Vec<String>,
    pub families: Vec<FamilyCoverage>,
}
