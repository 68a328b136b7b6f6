//! aimds-runtime: the vocabulary every other AIMDS crate speaks.
//!
//! A scan starts as a [`ScanRequest`] (text plus the [`Source`] it came from), the
//! agents turn it into [`Finding`]s, and the swarm answers with a [`Verdict`] whose
//! [`Action`] the [`config::SwarmConfig`]'s policy table chose for that source.
//!
//! This crate holds no detection logic; it is the shared contract between the
//! detector, the agents, the memory and the interfaces (CLI, MCP, HTTP).

pub mod config;
pub mod judge;
pub mod ltl;
pub mod types;

pub use config::{ConfigError, SourcePolicy, SwarmConfig};
pub use types::{Action, Category, Finding, ScanRequest, Severity, Source, Span, StageTiming, Verdict};
