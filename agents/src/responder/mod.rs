//! The responder (DESIGN §3): turns risk, source and policy into an action and carries it
//! out. [`sanitize`] is the Sanitize action: strip hidden text, redact secrets and PII,
//! spotlight untrusted content.

pub mod sanitize;
