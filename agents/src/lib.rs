//! aimds-agents: the agents of the AIMDS swarm.
//!
//! The [`detector`] is the fast path every request goes through inline: normalise, decode, match the skills'
//! rules, score with the learned classifier, find PII and secrets, and combine it all into one calibrated risk.
//! [`fast_path`] adds what memory knows (learned attacks, the allowlist).
//!
//! The [`coordinator`] builds the [`Swarm`] from a config and walks each request through the roles:
//! the [`analyzer`] (attacks spread over a session, the optional LLM judge), the [`validator`] (temporal
//! policies, model-output checks, the learning gate), the [`responder`] (action and sanitized text, by the
//! [`policy`] table), the [`logger`] (audit chain, session events) and the [`researcher`] (learning from
//! feedback, red-teaming).

pub mod analyzer;
pub mod coordinator;
pub mod detector;
pub mod fast_path;
pub mod logger;
pub mod policy;
pub mod researcher;
pub mod responder;
pub mod tls;
pub mod validator;

pub use coordinator::{Swarm, SwarmBuilder, SwarmError, SwarmStatus};
pub use detector::{Detection, Detector, DetectorError};
