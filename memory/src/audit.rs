//! The audit log: every verdict, hash-chained, so nobody can edit or drop a record without `verify` noticing.
//!
//! Record `n` stores the canonical JSON of its verdict (object keys sorted, no whitespace), the hash of record
//! `n − 1` and its own hash: SHA-256 over a domain tag, its id, its timestamp, the previous hash and the verdict.
//! Ids are consecutive from 1, so a deleted middle record shows as a gap or a broken link. Truncating the newest
//! records cannot be seen from inside the file; keep the `head` hash that `verify` reports somewhere else to anchor
//! it. Appends follow the configured durability (see `Durability`).
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{MemoryError, Result};
use crate::patterns::now_ms;
use crate::store::Memory;

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Deepest nesting of a verdict: keeps canonicalisation's recursion bounded.
pub const MAX_JSON_DEPTH: usize = 128;

/// What an append gives back: enough to cite the record later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReceipt {
    pub id: i64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    pub verdict: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Records checked (up to and including the first broken one).
    pub records: u64,
    /// Hash of the last record when the chain is intact: anchor it elsewhere to detect truncation.
    pub head: Option<String>,
    pub first_break: Option<AuditBreak>,
}

impl AuditReport {
    pub fn intact(&self) -> bool {
        self.first_break.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    /// The first record that does not verify.
    pub id: i64,
    pub reason: String,
}

/// Serialises JSON with object keys sorted and no insignificant whitespace, independent of serde_json's
/// `preserve_order` feature (which another crate in the build could switch on).
pub fn canonical_json(value: &Value) -> Result<String> {
    let mut out = Vec::with_capacity(512);
    write_canonical(value, &mut out, 0)?;
    // (serde_json writes UTF-8 only)
    String::from_utf8(out).map_err(|e| MemoryError::invalid("verdict", e.to_string()))
}

/// Keys and scalars are written by serde_json straight into `out`, with no string per value.
fn write_canonical(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    if depth > MAX_JSON_DEPTH {
        return Err(MemoryError::invalid(
            "verdict",
            format!("nested deeper than {MAX_JSON_DEPTH} levels"),
        ));
    }
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key)?;
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out, depth + 1)?;
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out, depth + 1)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

pub(crate) fn record_hash(id: i64, created_at: i64, prev_hash: &str, verdict_json: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"aimds-audit-v1\n");
    h.update(id.to_string().as_bytes());
    h.update(b"\n");
    h.update(created_at.to_string().as_bytes());
    h.update(b"\n");
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(verdict_json.as_bytes());
    format!("{:x}", h.finalize())
}

impl Memory {
    /// Appends a verdict to the chain. In `sync` durability it returns after the commit.
    pub fn audit_append(&self, verdict: &Value) -> Result<AuditReceipt> {
        let json = canonical_json(verdict)?;
        self.limits()
            .check("verdict", json.len(), self.limits().max_verdict_bytes)?;
        self.write(self.append_wait(), move |conn, _| append(conn, &json))
    }

    /// [`Memory::audit_append`] without blocking: returns once the record is queued, and `done` gets the receipt
    /// (after the commit in `sync` durability) on the writer thread. Errors at once on a bad verdict, a full queue
    /// ([`MemoryError::Busy`]) or a stopped writer; then `done` is never called.
    pub fn audit_append_then(
        &self,
        verdict: &Value,
        done: impl FnOnce(Result<AuditReceipt>) + Send + 'static,
    ) -> Result<()> {
        let json = canonical_json(verdict)?;
        self.limits()
            .check("verdict", json.len(), self.limits().max_verdict_bytes)?;
        self.write_then(self.append_wait(), move |conn, _| append(conn, &json), done)
    }

    /// Walks the whole chain and reports the first broken link.
    pub fn audit_verify(&self) -> Result<AuditReport> {
        self.read(verify)
    }

    /// The newest `n` records (at most 10 000), oldest first.
    pub fn audit_tail(&self, n: usize) -> Result<Vec<AuditRecord>> {
        let n = i64::try_from(n.min(10_000)).unwrap_or(10_000);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, created_at, verdict, prev_hash, hash FROM
                 (SELECT * FROM audit ORDER BY id DESC LIMIT ?1) ORDER BY id",
            )?;
            let rows = stmt.query_map([n], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, created_at, verdict, prev_hash, hash) = row?;
                // A tampered row may not even be JSON; show it as a string rather than failing the listing.
                let verdict = serde_json::from_str(&verdict).unwrap_or(Value::String(verdict));
                out.push(AuditRecord {
                    id,
                    created_at,
                    verdict,
                    prev_hash,
                    hash,
                });
            }
            Ok(out)
        })
    }
}

fn append(conn: &Connection, verdict_json: &str) -> Result<AuditReceipt> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, prev_hash) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let created_at = now_ms();
    let hash = record_hash(id, created_at, &prev_hash, verdict_json);
    conn.prepare_cached("INSERT INTO audit (id, created_at, verdict, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![id, created_at, verdict_json, prev_hash, hash])?;
    Ok(AuditReceipt { id, hash })
}

pub(crate) fn verify(conn: &Connection) -> Result<AuditReport> {
    let mut stmt = conn.prepare("SELECT id, created_at, verdict, prev_hash, hash FROM audit ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut expected_id = 1i64;
    let mut records = 0u64;
    let broken = |id: i64, records: u64, reason: String| AuditReport {
        records,
        head: None,
        first_break: Some(AuditBreak { id, reason }),
    };
    while let Some(row) = rows.next()? {
        records += 1;
        let id: i64 = row.get(0)?;
        // A tampered row may hold any type: read loosely and report instead of failing.
        let created_at: i64 = row.get(1).unwrap_or(i64::MIN);
        let verdict: String = row.get(2).unwrap_or_default();
        let prev_hash: String = row.get(3).unwrap_or_default();
        let hash: String = row.get(4).unwrap_or_default();
        if id != expected_id {
            let reason = format!("expected record {expected_id} next, found {id}: records are missing");
            return Ok(broken(id, records, reason));
        }
        if prev_hash != expected_prev {
            return Ok(broken(
                id,
                records,
                "prev_hash does not match the hash of the record before".into(),
            ));
        }
        match serde_json::from_str::<Value>(&verdict)
            .map_err(MemoryError::from)
            .and_then(|v| canonical_json(&v))
        {
            Ok(canonical) if canonical == verdict => {}
            Ok(_) => return Ok(broken(id, records, "verdict is not in canonical form (edited)".into())),
            Err(e) => return Ok(broken(id, records, format!("verdict is not valid JSON: {e}"))),
        }
        if record_hash(id, created_at, &prev_hash, &verdict) != hash {
            return Ok(broken(
                id,
                records,
                "hash does not match the record's contents (edited)".into(),
            ));
        }
        expected_prev = hash;
        expected_id = id + 1;
    }
    let head = (records > 0).then_some(expected_prev);
    Ok(AuditReport {
        records,
        head,
        first_break: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_bounds_depth() {
        let v = json!({"b": 1, "a": {"d": [1, 2, {"z": null, "y": "é\n"}], "c": true}});
        assert_eq!(
            canonical_json(&v).unwrap(),
            r#"{"a":{"c":true,"d":[1,2,{"y":"é\n","z":null}]},"b":1}"#
        );
        let mut deep = json!(1);
        for _ in 0..=MAX_JSON_DEPTH + 1 {
            deep = json!([deep]);
        }
        assert!(canonical_json(&deep).is_err());
    }

    #[test]
    fn appends_that_answer_later_arrive_committed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let m = Memory::open(dir.path().join("m.db")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..50 {
            let tx = tx.clone();
            m.audit_append_then(&json!({"n": i}), move |r| {
                let _ = tx.send(r);
            })
            .unwrap();
        }
        drop(tx);
        let ids: Vec<i64> = rx.iter().map(|r| r.unwrap().id).collect();
        assert_eq!(ids, (1..=50).collect::<Vec<_>>());
        // Answered means committed: another connection sees every record.
        let report = Memory::open(dir.path().join("m.db")).unwrap().audit_verify().unwrap();
        assert!(report.intact());
        assert_eq!(report.records, 50);
        // Bad input fails at once and never calls back.
        let mut deep = json!(1);
        for _ in 0..=MAX_JSON_DEPTH + 1 {
            deep = json!([deep]);
        }
        assert!(m.audit_append_then(&deep, |_| panic!("must not be called")).is_err());
    }

    fn chain(n: usize) -> Memory {
        let m = Memory::open_in_memory().unwrap();
        for i in 0..n {
            m.audit_append(&json!({"action": "block", "risk": 0.9, "n": i}))
                .unwrap();
        }
        m
    }

    #[test]
    fn an_intact_chain_verifies_and_links() {
        let m = chain(5);
        let report = m.audit_verify().unwrap();
        assert!(report.intact(), "{report:?}");
        assert_eq!(report.records, 5);
        let tail = m.audit_tail(2).unwrap();
        assert_eq!(tail.iter().map(|r| r.id).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(tail[1].prev_hash, tail[0].hash);
        assert_eq!(report.head.as_deref(), Some(tail[1].hash.as_str()));
        assert!(Memory::open_in_memory().unwrap().audit_verify().unwrap().intact());
    }

    #[test]
    fn every_kind_of_tampering_names_the_record() {
        let cases: &[(&str, i64)] = &[
            (
                r#"UPDATE audit SET verdict = '{"action":"allow","n":2,"risk":0.9}' WHERE id = 3"#,
                3,
            ),
            (
                "UPDATE audit SET verdict = replace(verdict, '\"n\":1', '\"n\": 1') WHERE id = 2",
                2,
            ),
            ("UPDATE audit SET created_at = created_at + 1 WHERE id = 4", 4),
            ("UPDATE audit SET prev_hash = hash WHERE id = 2", 2),
            ("DELETE FROM audit WHERE id = 3", 4),
            ("UPDATE audit SET verdict = 'not json' WHERE id = 5", 5),
        ];
        for (sql, bad_id) in cases {
            let m = chain(6);
            let owned = sql.to_string();
            m.write(crate::writer::Wait::Commit, move |conn, _| {
                Ok(conn.execute_batch(&owned)?)
            })
            .unwrap();
            let report = m.audit_verify().unwrap();
            let first = report.first_break.unwrap_or_else(|| panic!("{sql} went unnoticed"));
            assert_eq!(first.id, *bad_id, "{sql}: {}", first.reason);
        }
    }

    #[test]
    fn oversize_verdicts_are_refused() {
        let m = Memory::open_in_memory().unwrap();
        let big = json!({"x": "a".repeat(m.limits().max_verdict_bytes)});
        assert!(matches!(m.audit_append(&big), Err(MemoryError::TooLarge { .. })));
        assert_eq!(m.audit_verify().unwrap().records, 0);
    }
}
