//! aimds-runtime: the vocabulary every other AIMDS crate speaks, and the machinery the swarm runs on.
//!
//! A scan starts as a [`ScanRequest`] (text plus the [`Source`] it came from), the
//! agents turn it into [`Finding`]s, and the swarm answers with a [`Verdict`] whose
//! [`Action`] the [`config::SwarmConfig`]'s policy table chose for that source.
//!
//! The swarm's roles are [`Agent`]s ([`agent`]); they share a [`SwarmContext`] (config, memory, metrics, clock;
//! [`context`]); slow or stateful ones run in supervised, bounded pools ([`supervisor`]); everything they do is
//! counted in [`metrics`]. The agents themselves live in `aimds-agents`.

pub mod agent;
pub mod config;
pub mod context;
pub mod judge;
pub mod ltl;
pub mod metrics;
pub mod supervisor;
pub mod types;

pub use agent::{
    Agent, AgentError, Feedback, FeedbackLabel, FeedbackReport, Opinion, Outcome, Role, ScanTask, SignatureReport, Task,
};
pub use config::{ConfigError, RoleConfig, SourcePolicy, SwarmConfig};
pub use context::{Clock, SwarmContext, SystemClock};
pub use metrics::Metrics;
pub use supervisor::{AgentFactory, AgentPool, PoolConfig, Priority, RoleStatus};
pub use types::{Action, Category, Finding, ScanRequest, Severity, Source, Span, StageTiming, Verdict};
