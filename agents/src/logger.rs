//! The logger role: every verdict goes to the hash-chained audit log, and every turn of a session to its event
//! trace (which the analyzer re-reads for multi-turn attacks). Durability follows the memory's configuration:
//! with `sync` the coordinator waits for this agent, so a verdict is answered only after its record committed.

use aimds_memory::{MemoryError, NewEvent};
use aimds_runtime::{Agent, AgentError, Category, Outcome, Role, ScanTask, SwarmContext, Task};
use async_trait::async_trait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::detector::truncate;

#[derive(Debug, Default)]
pub struct LoggerAgent;

/// The audit record of a verdict: what was decided and why, and a digest of the text (not the text itself:
/// the audit log outlives the data it judged and must not become a second copy of secrets).
pub fn audit_record(task: &ScanTask) -> Value {
    let v = &task.verdict;
    let r = &task.request;
    // (one `format!` per byte was 1.5 % of the HTTP service's CPU)
    let digest = format!("{:x}", Sha256::digest(r.text.as_bytes()));
    json!({
        "kind": "verdict",
        "source": r.source,
        "session": r.session_id,
        "text_sha256": digest,
        "text_bytes": r.text.len(),
        "action": v.action,
        "flagged": v.flagged,
        "risk": (f64::from(v.risk) * 1e4).round() / 1e4,
        "categories": v.categories,
        "findings": v.findings.iter().map(|f| json!({
            "rule_id": f.rule_id, "category": f.category, "severity": f.severity,
            "span": [f.span.start, f.span.end],
        })).collect::<Vec<_>>(),
        "reason": v.reason,
        "degraded": v.degraded,
    })
}

/// The session event of a turn: kind, a bounded excerpt of the text with secrets and PII replaced by their
/// category (the analyzer needs the words, not the credentials), and a compact verdict.
pub fn session_event(task: &ScanTask, session: &str, turn_bytes: usize) -> NewEvent {
    let r = &task.request;
    let v = &task.verdict;
    let kind = match r.meta.get("kind").and_then(Value::as_str) {
        Some(k) if !k.is_empty() && k.len() <= 64 => k.to_string(),
        _ => "scan".to_string(),
    };
    NewEvent {
        session: session.to_string(),
        source: r.source.as_str().to_string(),
        kind,
        summary: redacted_excerpt(&r.text, task, turn_bytes),
        verdict: Some(json!({
            "action": v.action,
            "flagged": v.flagged,
            "risk": (f64::from(v.risk) * 1e4).round() / 1e4,
            "categories": v.categories,
            "tool": r.meta.get("tool_name"),
        })),
    }
}

fn redacted_excerpt(text: &str, task: &ScanTask, max: usize) -> String {
    let head = truncate(text, max);
    let mut spans: Vec<(usize, usize, Category)> = task
        .verdict
        .findings
        .iter()
        .filter(|f| matches!(f.category, Category::Secret | Category::Pii))
        .filter(|f| {
            f.span.end <= head.len() && head.is_char_boundary(f.span.start) && head.is_char_boundary(f.span.end)
        })
        .map(|f| (f.span.start, f.span.end, f.category))
        .collect();
    spans.sort_unstable_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut out = String::with_capacity(head.len());
    let mut at = 0;
    for (start, end, cat) in spans {
        if start < at {
            continue;
        }
        out.push_str(&head[at..start]);
        out.push_str(&format!("[{cat}]"));
        at = end;
    }
    out.push_str(&head[at..]);
    out
}

#[async_trait]
impl Agent for LoggerAgent {
    fn role(&self) -> Role {
        Role::Logger
    }

    async fn handle(&self, task: Task, ctx: &SwarmContext) -> Result<Outcome, AgentError> {
        let Task::Record(t) = task else {
            return Err(AgentError::Unsupported {
                role: Role::Logger,
                task: task.kind(),
            });
        };
        let Some(memory) = ctx.memory.clone() else {
            return Err(AgentError::failed(Role::Logger, "no memory to log to"));
        };
        let turn_bytes = ctx.config.analyzer.turn_bytes;
        let fail = |what: &str, e: &dyn std::fmt::Display| AgentError::failed(Role::Logger, format!("{what}: {e}"));
        // Queue the writes and await their receipts: no runtime thread waits on a commit, and records of
        // concurrent verdicts (one per logger instance) share one commit and fsync.
        let record = audit_record(&t);
        let event = t
            .request
            .session_id
            .as_deref()
            .map(|session| session_event(&t, session, turn_bytes));
        let (audit_tx, audit_rx) = tokio::sync::oneshot::channel();
        let queued = memory.audit_append_then(&record, move |r| {
            let _ = audit_tx.send(r);
        });
        let audit_rx = match queued {
            Ok(()) => Some(audit_rx),
            // The writer's queue is full: wait for room on a blocking thread rather than on this one.
            Err(MemoryError::Busy) => None,
            Err(e) => return Err(fail("audit append failed", &e)),
        };
        let receipt = match audit_rx {
            Some(rx) => rx
                .await
                .map_err(|_| fail("audit append failed", &MemoryError::WriterGone))?
                .map_err(|e| fail("audit append failed", &e))?,
            None => {
                let m = memory.clone();
                tokio::task::spawn_blocking(move || m.audit_append(&record))
                    .await
                    .map_err(|e| fail("audit task failed", &e))?
                    .map_err(|e| fail("audit append failed", &e))?
            }
        };
        let event_seq = match event {
            None => None,
            Some(event) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let receipt = match memory.append_event_then(event.clone(), move |r| {
                    let _ = tx.send(r);
                }) {
                    Ok(()) => rx
                        .await
                        .map_err(|_| fail("session event failed", &MemoryError::WriterGone))?,
                    Err(MemoryError::Busy) => {
                        let m = memory.clone();
                        tokio::task::spawn_blocking(move || m.append_event(event))
                            .await
                            .map_err(|e| fail("session event task failed", &e))?
                    }
                    Err(e) => Err(e),
                };
                Some(receipt.map_err(|e| fail("session event failed", &e))?.seq)
            }
        };
        Ok(Outcome::Recorded {
            audit_id: Some(receipt.id),
            event_seq,
        })
    }
}
