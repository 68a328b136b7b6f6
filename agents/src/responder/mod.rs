//! The responder role: turns the merged evidence of a scan (risk, findings, the allowlist, what other agents
//! require) into the action the source's policy sets, and for `Sanitize` produces the text the agent may use
//! instead ([`sanitize`]). Runs inline: it is a pure function of its inputs.

pub mod sanitize;

use aimds_runtime::{Action, Agent, AgentError, Category, Opinion, Outcome, Role, ScanTask, SwarmContext, Task};
use async_trait::async_trait;

use crate::detector::Detection;
use crate::policy;

#[derive(Debug, Default)]
pub struct ResponderAgent;

/// What the earlier stages established, beyond the findings in the draft verdict.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// An allowlist entry covering the text: (id, similarity).
    pub allowlisted: Option<(i64, f32)>,
    /// The strongest action another agent requires (a temporal policy's block, the analyzer's escalation).
    pub required: Option<Action>,
    pub required_reason: Option<String>,
}

impl ResponderAgent {
    /// Decides the action of a scan in progress and fills in reason and sanitized text.
    pub fn respond(&self, task: &mut ScanTask, evidence: &Evidence, ctx: &SwarmContext) {
        let req = &task.request;
        let v = &mut task.verdict;
        let policy = ctx.config.policy_for(req.source);
        let detection = Detection {
            findings: std::mem::take(&mut v.findings),
            risk: v.risk,
            classifier: None,
        };
        let (mut action, mut reason) = policy::decide(&detection, req.source, &policy);
        let has_secret = detection.findings.iter().any(|f| f.category == Category::Secret);
        if let Some((id, similarity)) = evidence.allowlisted
            && action != Action::Allow
        {
            // Confirmed benign by feedback: excuse the manipulation evidence, never a secret.
            if has_secret {
                action = policy.secrets.max(Action::Sanitize);
                reason = format!("allowlisted (#{id}, {similarity:.2}) but contains a secret");
            } else {
                action = Action::Allow;
                reason = format!("allowlisted (#{id}, similarity {similarity:.2}); was: {reason}");
            }
        }
        if let Some(required) = evidence.required
            && required.rank() > action.rank()
        {
            action = required;
            if let Some(r) = &evidence.required_reason {
                reason = format!("{r}; {reason}");
            }
        }
        v.findings = detection.findings;
        v.categories = Detection {
            findings: v.findings.clone(),
            risk: v.risk,
            classifier: None,
        }
        .categories();
        v.action = action;
        v.flagged = action != Action::Allow;
        v.reason = reason;
        v.sanitized = if action == Action::Sanitize {
            Some(sanitized_text(&req.text, req.source, &v.findings))
        } else {
            None
        };
    }
}

fn sanitized_text(text: &str, source: aimds_runtime::Source, findings: &[aimds_runtime::Finding]) -> String {
    sanitize::sanitize(text, source, findings, &sanitize::SanitizeOptions::for_source(source)).text
}

#[async_trait]
impl Agent for ResponderAgent {
    fn role(&self) -> Role {
        Role::Responder
    }

    async fn handle(&self, task: Task, ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Review(mut t) = task else {
            return Err(AgentError::Unsupported {
                role: Role::Responder,
                task: task.kind(),
            });
        };
        self.respond(&mut t, &Evidence::default(), ctx);
        Ok(Outcome::Opinion(Opinion {
            findings: Vec::new(),
            risk: None,
            action: Some(t.verdict.action),
            reason: Some(t.verdict.reason),
            sanitized: t.verdict.sanitized,
            notes: Vec::new(),
        }))
    }
}
