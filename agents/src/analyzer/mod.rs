//! The analyzer's building blocks (DESIGN §3): the deep path for gray-zone texts and sessions.
//! [`judge`] is the optional LLM judge client (off by default, bounded by a deadline, never
//! blocking the fast verdict); the analyzer agent that decides when to ask it builds on this.

pub mod judge;
