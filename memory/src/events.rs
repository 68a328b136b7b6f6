//! Per-session event traces: what happened, in order, so the analyzer can see multi-turn attacks and the validator
//! can evaluate temporal policies. Each session's events are numbered 1, 2, 3 … by the writer.
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::canonical_json;
use crate::error::{MemoryError, Result};
use crate::patterns::{check_label, now_ms};
use crate::store::Memory;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub session: String,
    /// Where the text came from (user, tool_output, …).
    pub source: String,
    /// What happened (scan, tool_call, feedback, …).
    pub kind: String,
    pub summary: String,
    pub verdict: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub session: String,
    pub seq: i64,
    pub source: String,
    pub kind: String,
    pub summary: String,
    pub verdict: Option<Value>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventReceipt {
    pub id: i64,
    pub seq: i64,
}

impl Memory {
    /// Appends an event to its session's trace, following the configured durability.
    pub fn append_event(&self, event: NewEvent) -> Result<EventReceipt> {
        let (event, verdict) = self.check_event(event)?;
        self.write(self.append_wait(), move |conn, _| insert_event(conn, &event, verdict))
    }

    /// [`Memory::append_event`] without blocking: returns once the event is queued, and `done` gets the receipt
    /// (after the commit in `sync` durability) on the writer thread. Errors at once on a bad event, a full queue
    /// ([`MemoryError::Busy`]) or a stopped writer; then `done` is never called.
    pub fn append_event_then(
        &self,
        event: NewEvent,
        done: impl FnOnce(Result<EventReceipt>) + Send + 'static,
    ) -> Result<()> {
        let (event, verdict) = self.check_event(event)?;
        self.write_then(
            self.append_wait(),
            move |conn, _| insert_event(conn, &event, verdict),
            done,
        )
    }

    fn check_event(&self, event: NewEvent) -> Result<(NewEvent, Option<String>)> {
        check_label("session", &event.session)?;
        check_label("source", &event.source)?;
        check_label("kind", &event.kind)?;
        let limits = *self.limits();
        limits.check("event summary", event.summary.len(), limits.max_text_bytes)?;
        let verdict = event.verdict.as_ref().map(canonical_json).transpose()?;
        if let Some(v) = &verdict {
            limits.check("event verdict", v.len(), limits.max_verdict_bytes)?;
        }
        Ok((event, verdict))
    }

    /// A session's events with `seq > after_seq`, in order, at most `limit` (≤ 10 000).
    pub fn session_events(&self, session: &str, after_seq: i64, limit: usize) -> Result<Vec<Event>> {
        let session = session.to_string();
        let limit = clamp_limit(limit);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, session, seq, source, kind, summary, verdict, created_at FROM events
                 WHERE session = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            collect(stmt.query_map(params![session, after_seq, limit], row)?)
        })
    }

    /// The newest `n` events of a session (≤ 10 000), oldest first: the analyzer's window.
    pub fn session_tail(&self, session: &str, n: usize) -> Result<Vec<Event>> {
        let session = session.to_string();
        let limit = clamp_limit(n);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, session, seq, source, kind, summary, verdict, created_at FROM events
                 WHERE session = ?1 ORDER BY seq DESC LIMIT ?2",
            )?;
            let mut out = collect(stmt.query_map(params![session, limit], row)?)?;
            out.reverse();
            Ok(out)
        })
    }

    /// The newest `n` events of one kind across all sessions (≤ 10 000), newest first: e.g. recent traffic the
    /// learning gate replays candidates against.
    pub fn recent_events(&self, kind: &str, n: usize) -> Result<Vec<Event>> {
        let kind = kind.to_string();
        let limit = clamp_limit(n);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, session, seq, source, kind, summary, verdict, created_at FROM events
                 WHERE kind = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            collect(stmt.query_map(params![kind, limit], row)?)
        })
    }
}

fn clamp_limit(n: usize) -> i64 {
    i64::try_from(n.min(10_000)).unwrap_or(10_000)
}

type Row = (i64, String, i64, String, String, String, Option<String>, i64);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn collect(rows: impl Iterator<Item = rusqlite::Result<Row>>) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    for r in rows {
        let (id, session, seq, source, kind, summary, verdict, created_at) = r?;
        let verdict = verdict
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(MemoryError::from)?;
        out.push(Event {
            id,
            session,
            seq,
            source,
            kind,
            summary,
            verdict,
            created_at,
        });
    }
    Ok(out)
}

fn insert_event(conn: &rusqlite::Connection, event: &NewEvent, verdict: Option<String>) -> Result<EventReceipt> {
    let seq: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM events WHERE session = ?1")?
        .query_row([&event.session], |r| r.get(0))?;
    conn.prepare_cached(
        "INSERT INTO events (session, seq, source, kind, summary, verdict, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        event.session,
        seq,
        event.source,
        event.kind,
        event.summary,
        verdict,
        now_ms()
    ])?;
    Ok(EventReceipt {
        id: conn.last_insert_rowid(),
        seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(session: &str, summary: &str) -> NewEvent {
        NewEvent {
            session: session.into(),
            source: "user".into(),
            kind: "scan".into(),
            summary: summary.into(),
            verdict: Some(json!({"action": "allow"})),
        }
    }

    #[test]
    fn sequences_are_per_session_and_ordered() {
        let m = Memory::open_in_memory().unwrap();
        assert_eq!(m.append_event(ev("s1", "a")).unwrap().seq, 1);
        assert_eq!(m.append_event(ev("s1", "b")).unwrap().seq, 2);
        assert_eq!(m.append_event(ev("s2", "c")).unwrap().seq, 1);
        let s1 = m.session_events("s1", 0, 100).unwrap();
        assert_eq!(
            s1.iter().map(|e| e.summary.as_str()).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(s1[0].verdict, Some(json!({"action": "allow"})));
        assert_eq!(m.session_events("s1", 1, 100).unwrap().len(), 1);
        assert!(m.session_events("nope", 0, 100).unwrap().is_empty());
        m.append_event(ev("s1", "c")).unwrap();
        let tail = m.session_tail("s1", 2).unwrap();
        assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
        let recent = m.recent_events("scan", 2).unwrap();
        assert_eq!(
            recent.iter().map(|e| e.summary.as_str()).collect::<Vec<_>>(),
            vec!["c", "c"]
        );
    }

    #[test]
    fn bad_events_are_refused() {
        let m = Memory::open_in_memory().unwrap();
        assert!(m.append_event(ev("", "a")).is_err());
        let big = "x".repeat(m.limits().max_text_bytes + 1);
        assert!(matches!(
            m.append_event(ev("s", &big)),
            Err(MemoryError::TooLarge { .. })
        ));
    }
}
