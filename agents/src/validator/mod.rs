//! The validator's building blocks (DESIGN §3): the atoms a session event contributes to temporal
//! policies ([`atoms`]), and checks of what a model says — canary tokens and system-prompt leaks
//! ([`output`]). The validator agent that runs them against the config's policies builds on these.

pub mod atoms;
pub mod output;
