//! aimds: the AI Manipulation Defense System.
pub use aimds_agents as agents;
pub use aimds_runtime as runtime;
