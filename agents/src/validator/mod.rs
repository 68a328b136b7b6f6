//! The validator role: checks every decision against the config's policies — temporal policies over the
//! session's event trace, model-output checks (canary tokens, system-prompt leaks) — and gatekeeps learning
//! ([`gate`]).

pub mod gate;

use std::sync::Arc;

use aimds_runtime::{Agent, AgentError, Opinion, Outcome, Role, SwarmContext, Task};
use async_trait::async_trait;

use crate::detector::Detector;

#[derive(Debug)]
pub struct ValidatorAgent {
    #[allow(dead_code)]
    detector: Arc<Detector>,
}

impl ValidatorAgent {
    pub fn new(detector: Arc<Detector>) -> Self {
        ValidatorAgent { detector }
    }
}

#[async_trait]
impl Agent for ValidatorAgent {
    fn role(&self) -> Role {
        Role::Validator
    }

    async fn handle(&self, task: Task, _ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Review(_t) = task else {
            return Err(AgentError::Unsupported {
                role: Role::Validator,
                task: task.kind(),
            });
        };
        Ok(Outcome::Opinion(Opinion::default())) // MERGE: temporal + output checks
    }
}
