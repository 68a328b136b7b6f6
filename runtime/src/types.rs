//! Domain types of DESIGN §2. Everything here is serde-serialisable with
//! snake_case names, because these values are the JSON that users see.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a text comes from. The source decides the policy: an injection inside a
/// web page an agent read is sanitised, the same text typed as a prompt is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A prompt typed by a user.
    #[default]
    User,
    /// A web page, file, ticket or API result that an agent read (indirect injection lives here).
    ToolOutput,
    /// A retrieved document (RAG).
    Document,
    /// What the model says (leaks live here).
    ModelOutput,
    /// A call an agent wants to make: tool name plus arguments.
    ToolCall,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::User,
        Source::ToolOutput,
        Source::Document,
        Source::ModelOutput,
        Source::ToolCall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::User => "user",
            Source::ToolOutput => "tool_output",
            Source::Document => "document",
            Source::ModelOutput => "model_output",
            Source::ToolCall => "tool_call",
        }
    }

    /// Text that arrives from outside the conversation (pages, files, documents):
    /// such text is spotlighted and sanitised rather than blocked.
    pub fn is_untrusted_content(self) -> bool {
        matches!(self, Source::ToolOutput | Source::Document)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::ALL.into_iter().find(|src| src.as_str() == s).ok_or_else(|| {
            format!("unknown source {s:?}: expected one of user, tool_output, document, model_output, tool_call")
        })
    }
}

/// What kind of manipulation or leak a finding is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    PromptInjection,
    Jailbreak,
    /// Encoded, hidden or disguised payloads (base64, zero-width, Unicode tags, hidden HTML).
    Obfuscation,
    /// Data smuggled out: markdown images / links with data in the URL, egress to unknown hosts.
    Exfiltration,
    SystemPromptLeak,
    CanaryLeak,
    Pii,
    Secret,
    PolicyViolation,
    Anomaly,
    /// Payloads aimed at the tools behind the model: SQL, shell and template injection, requests
    /// to internal or cloud-metadata addresses.
    CodeInjection,
}

impl Category {
    pub const ALL: [Category; 11] = [
        Category::PromptInjection,
        Category::Jailbreak,
        Category::Obfuscation,
        Category::Exfiltration,
        Category::SystemPromptLeak,
        Category::CanaryLeak,
        Category::Pii,
        Category::Secret,
        Category::PolicyViolation,
        Category::Anomaly,
        Category::CodeInjection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::PromptInjection => "prompt_injection",
            Category::Jailbreak => "jailbreak",
            Category::Obfuscation => "obfuscation",
            Category::Exfiltration => "exfiltration",
            Category::SystemPromptLeak => "system_prompt_leak",
            Category::CanaryLeak => "canary_leak",
            Category::Pii => "pii",
            Category::Secret => "secret",
            Category::PolicyViolation => "policy_violation",
            Category::Anomaly => "anomaly",
            Category::CodeInjection => "code_injection",
        }
    }

    /// Manipulation of the model (as opposed to sensitive data in the text).
    /// These categories feed the risk score; PII and secrets have their own policy.
    pub fn is_manipulation(self) -> bool {
        matches!(
            self,
            Category::PromptInjection
                | Category::Jailbreak
                | Category::Obfuscation
                | Category::Exfiltration
                | Category::SystemPromptLeak
                | Category::CanaryLeak
                | Category::PolicyViolation
                | Category::Anomaly
                | Category::CodeInjection
        )
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown category {s:?}"))
    }
}

/// How bad a finding is if it is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Prior probability that a single finding of this severity is a real attack.
    /// Used by the risk combiner; rules refine it with their own `confidence`.
    pub fn weight(self) -> f32 {
        match self {
            Severity::Low => 0.25,
            Severity::Medium => 0.5,
            Severity::High => 0.8,
            Severity::Critical => 0.95,
        }
    }
}

/// A byte range `[start, end)` in the ORIGINAL text; both ends are char boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One piece of evidence: which rule or model fired, where, and how sure it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    pub rule_id: String,
    pub span: Span,
    pub severity: Severity,
    /// 0..1: how likely this finding alone is a true positive.
    pub confidence: f32,
    /// A short excerpt or explanation (never more than a few hundred bytes).
    pub evidence: String,
}

/// What to do with the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Pass it on unchanged.
    #[default]
    Allow,
    /// Redact / neutralise the dangerous parts and pass the rest on.
    Sanitize,
    /// Refuse the text.
    Block,
    /// Hold for human review.
    Escalate,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Sanitize => "sanitize",
            Action::Block => "block",
            Action::Escalate => "escalate",
        }
    }

    /// How severe an action is, for taking the strongest of several.
    pub fn rank(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Sanitize => 1,
            Action::Escalate => 2,
            Action::Block => 3,
        }
    }

    pub fn max(self, other: Action) -> Action {
        if other.rank() > self.rank() { other } else { self }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to scan one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ScanRequest {
    pub text: String,
    #[serde(default)]
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

impl ScanRequest {
    pub fn new(text: impl Into<String>, source: Source) -> Self {
        ScanRequest {
            text: text.into(),
            source,
            ..Default::default()
        }
    }
}

/// Time spent in one stage of the scan (detector, analyzer, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: String,
    pub us: f64,
}

/// The answer to a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub action: Action,
    /// `action != Allow`.
    pub flagged: bool,
    /// Calibrated probability (0..1) that the text is a manipulation attempt.
    pub risk: f32,
    pub source: Source,
    /// Distinct categories of the findings, most severe first.
    pub categories: Vec<Category>,
    pub findings: Vec<Finding>,
    /// Why this action (one line, for people and logs).
    pub reason: String,
    /// The text with hidden characters removed, secrets/PII redacted and untrusted
    /// spans spotlighted, when the action is Sanitize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanitized: Option<String>,
    #[serde(default)]
    pub stages: Vec<StageTiming>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<u64>,
    /// Stages that were skipped or failed (deadline, panic, error): the verdict stands without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degraded: Vec<String>,
}
