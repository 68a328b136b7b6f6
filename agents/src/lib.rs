//! aimds-agents: the agents of the AIMDS swarm.
//!
//! The [`detector`] is the fast path every request goes through inline: normalise,
//! decode, match the skills' rules, score with the learned classifier, find PII and
//! secrets, and combine it all into one calibrated risk. The other agents (analyzer,
//! responder, validator, logger, researcher) build on its findings.

pub mod detector;
pub mod policy;
pub mod researcher;
pub mod responder;

pub use detector::{Detection, Detector, DetectorError};
