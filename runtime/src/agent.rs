//! The agent model: every role of the swarm is an [`Agent`] that handles a [`Task`] and answers with an
//! [`Outcome`]. The coordinator decides which agent sees which task; an agent only knows its own job and the
//! shared [`SwarmContext`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::context::SwarmContext;
use crate::types::{Action, Category, Finding, ScanRequest, Verdict};

/// The roles of the hierarchy. The coordinator is its root and is not itself a configurable role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Fast path: normalise, decode, match, classify, recall known attacks. Runs inline.
    Detector,
    /// Deep path: session analysis (multi-turn attacks) and the optional LLM judge.
    Analyzer,
    /// Turns risk + source + policy into an action and sanitizes text.
    Responder,
    /// Temporal policies over session traces, model-output checks, the learning gate.
    Validator,
    /// Audit chain, session events, metrics.
    Logger,
    /// Learning from feedback, self red-teaming.
    Researcher,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Detector,
        Role::Analyzer,
        Role::Responder,
        Role::Validator,
        Role::Logger,
        Role::Researcher,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Detector => "detector",
            Role::Analyzer => "analyzer",
            Role::Responder => "responder",
            Role::Validator => "validator",
            Role::Logger => "logger",
            Role::Researcher => "researcher",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            format!("unknown role {s:?}: expected one of detector, analyzer, responder, validator, logger, researcher")
        })
    }
}

/// A scan in progress: the request and the verdict the earlier stages have built so far.
#[derive(Debug, Clone)]
pub struct ScanTask {
    pub request: Arc<ScanRequest>,
    pub verdict: Verdict,
}

/// What a user says about a text after the fact (`aimds feedback`, MCP `report_feedback`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub text: String,
    pub label: FeedbackLabel,
    /// For attacks: the category to file it under (default: the detector's strongest, else prompt_injection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Who or what reported it (cli, mcp, http, …), kept as provenance.
    #[serde(default = "default_reporter")]
    pub reporter: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn default_reporter() -> String {
    "unknown".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackLabel {
    Attack,
    Benign,
}

/// What became of a feedback report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackReport {
    pub label: FeedbackLabel,
    /// `active` (a promoted attack pattern), `allowlisted`, `refused` or `duplicate`.
    pub status: String,
    /// The pattern or allowlist id, when one was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub reason: String,
    /// Benign reference texts the candidate would have flagged (at most a few, for the reason).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// The audit record of the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<i64>,
    /// For an attack the rules missed: the signature derived from it and what the gate made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureReport>,
}

/// A phrase derived from a reported attack, matched literally by the detector once it is active.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureReport {
    /// The pattern id (kind `signature`).
    pub id: i64,
    /// The phrase, in normalised form.
    pub literal: String,
    /// `active` or `refused`.
    pub status: String,
    pub reason: String,
}

/// The work an agent can be given.
#[derive(Debug, Clone)]
pub enum Task {
    /// Look at a scan in progress and give an opinion (analyzer, responder, validator, detector).
    Review(ScanTask),
    /// Record a decided verdict (logger).
    Record(ScanTask),
    /// Learn from a feedback report (researcher).
    Learn(Feedback),
}

impl Task {
    pub fn kind(&self) -> &'static str {
        match self {
            Task::Review(_) => "review",
            Task::Record(_) => "record",
            Task::Learn(_) => "learn",
        }
    }
}

/// One agent's view of a scan. The coordinator merges opinions: findings are added, risk and action only go up,
/// and the latest `sanitized` text wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Opinion {
    pub findings: Vec<Finding>,
    /// The agent's estimate of the risk (0..1), when it has one.
    pub risk: Option<f32>,
    /// An action the agent requires at least (e.g. a temporal policy's block).
    pub action: Option<Action>,
    /// Why, in one line, when the agent changed something.
    pub reason: Option<String>,
    pub sanitized: Option<String>,
    /// Parts of the agent's work that failed without failing the stage (e.g. the LLM judge timed out).
    pub notes: Vec<String>,
}

/// An agent's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Opinion(Opinion),
    /// The logger's receipt: the audit record id and the session event sequence number.
    Recorded {
        audit_id: Option<i64>,
        event_seq: Option<i64>,
    },
    Learned(FeedbackReport),
}

/// Why an agent could not answer.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{role} cannot handle a {task} task")]
    Unsupported { role: Role, task: &'static str },
    #[error("{role} panicked: {message}")]
    Panicked { role: Role, message: String },
    #[error("{role} missed its deadline of {deadline_ms} ms")]
    Deadline { role: Role, deadline_ms: u64 },
    #[error("{role} is not running (its mailbox is closed)")]
    Stopped { role: Role },
    #[error("{role}: {message}")]
    Failed { role: Role, message: String },
}

impl AgentError {
    pub fn failed(role: Role, message: impl fmt::Display) -> Self {
        AgentError::Failed {
            role,
            message: message.to_string(),
        }
    }
}

/// One role of the swarm. Implementations are shared across worker tasks, so `handle` takes `&self`; an agent
/// that keeps state between tasks keeps it in the shared memory (which survives restarts) or behind its own lock.
#[async_trait]
pub trait Agent: Send + Sync + 'static {
    fn role(&self) -> Role;
    async fn handle(&self, task: Task, ctx: &SwarmContext) -> Result<Outcome, AgentError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("coordinator".parse::<Role>().unwrap_err().contains("unknown role"));
    }
}
