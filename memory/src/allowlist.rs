//! The allowlist: texts confirmed benign by feedback. Feedback adds an entry rather than deleting a rule.
//!
//! An `exact` entry matches the very same text (by SHA-256). A `near` entry also stores an embedding and matches
//! texts whose similarity reaches its threshold — for a benign document that keeps coming back slightly changed.
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{MemoryError, Result};
use crate::patterns::{MAX_PROVENANCE_BYTES, check_label, insert_vector, now_ms, text_hash, vector_ids_of};
use crate::store::Memory;
use crate::vector::{IndexOp, Owner, OwnerKind, SearchFilter};
use crate::writer::Wait;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllowKind {
    Exact,
    Near,
}

impl AllowKind {
    fn as_str(self) -> &'static str {
        match self {
            AllowKind::Exact => "exact",
            AllowKind::Near => "near",
        }
    }
}

/// Similarity a `near` entry needs when none is given.
pub const DEFAULT_NEAR_THRESHOLD: f32 = 0.92;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAllow {
    pub text: String,
    pub kind: AllowKind,
    /// For `near` entries; defaults to [`DEFAULT_NEAR_THRESHOLD`].
    pub threshold: Option<f32>,
    pub reason: String,
    pub provenance: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowEntry {
    pub id: i64,
    pub kind: AllowKind,
    pub text: Option<String>,
    pub threshold: Option<f32>,
    pub reason: String,
    pub provenance: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllowMatch {
    pub id: i64,
    pub kind: AllowKind,
    pub similarity: f32,
}

impl Memory {
    /// Adds an entry; the same text and kind again returns the existing id.
    pub fn allowlist_add(&self, entry: NewAllow) -> Result<i64> {
        if entry.text.is_empty() {
            return Err(MemoryError::invalid("allowlist text", "must not be empty"));
        }
        self.limits()
            .check("allowlist text", entry.text.len(), self.limits().max_text_bytes)?;
        check_label("reason", &entry.reason)?;
        if entry.provenance.len() > MAX_PROVENANCE_BYTES {
            return Err(MemoryError::TooLarge {
                what: "provenance",
                size: entry.provenance.len(),
                limit: MAX_PROVENANCE_BYTES,
            });
        }
        let threshold = match entry.kind {
            AllowKind::Exact => None,
            AllowKind::Near => {
                let t = entry.threshold.unwrap_or(DEFAULT_NEAR_THRESHOLD);
                if !(0.5..=1.0).contains(&t) {
                    return Err(MemoryError::invalid("threshold", format!("{t} is outside 0.5..=1.0")));
                }
                Some(t)
            }
        };
        let vector = (entry.kind == AllowKind::Near).then(|| self.embedder().embed(&entry.text));
        let hash = text_hash(&entry.text);
        let e = self.embedder().id().clone();
        self.write(Wait::Commit, move |conn, ops| {
            let existing: Option<i64> = conn
                .prepare_cached("SELECT id FROM allowlist WHERE kind = ?1 AND text_hash = ?2")?
                .query_row(params![entry.kind.as_str(), hash], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                return Ok(id);
            }
            let now = now_ms();
            conn.prepare_cached(
                "INSERT INTO allowlist (kind, text_hash, text, threshold, reason, provenance, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                entry.kind.as_str(),
                hash,
                entry.text,
                threshold.map(f64::from),
                entry.reason,
                entry.provenance,
                now
            ])?;
            let id = conn.last_insert_rowid();
            if let Some(vector) = vector {
                let vid = insert_vector(conn, &e, Owner::Allowlist(id), &vector, now)?;
                ops.push(IndexOp::Insert {
                    id: vid,
                    owner: Owner::Allowlist(id),
                    vector,
                });
            }
            Ok(id)
        })
    }

    /// Whether `text` is allowlisted: an exact entry first, then the most similar `near` entry over its threshold.
    pub fn allowlist_check(&self, text: &str) -> Result<Option<AllowMatch>> {
        let hash = text_hash(text);
        let exact: Option<i64> = self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id FROM allowlist WHERE text_hash = ?1 ORDER BY kind LIMIT 1")?
                .query_row([hash], |r| r.get(0))
                .optional()?)
        })?;
        if let Some(id) = exact {
            return Ok(Some(AllowMatch {
                id,
                kind: AllowKind::Exact,
                similarity: 1.0,
            }));
        }
        let filter = SearchFilter {
            owner: Some(OwnerKind::Allowlist),
            ..SearchFilter::default()
        };
        let hits = self.search_text(text, 8, 0.5, &filter)?;
        if hits.is_empty() {
            return Ok(None);
        }
        let candidates: Vec<(i64, f32)> = hits
            .iter()
            .filter_map(|h| match h.owner {
                Owner::Allowlist(id) => Some((id, h.similarity)),
                Owner::Pattern(_) => None,
            })
            .collect();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT threshold FROM allowlist WHERE id = ?1 AND kind = 'near'")?;
            for (id, similarity) in candidates {
                let threshold: Option<Option<f64>> = stmt.query_row([id], |r| r.get(0)).optional()?;
                let threshold = threshold.flatten().unwrap_or(f64::from(DEFAULT_NEAR_THRESHOLD));
                if f64::from(similarity) >= threshold {
                    return Ok(Some(AllowMatch {
                        id,
                        kind: AllowKind::Near,
                        similarity,
                    }));
                }
            }
            Ok(None)
        })
    }

    pub fn allowlist_list(&self, after_id: i64, limit: usize) -> Result<Vec<AllowEntry>> {
        let limit = i64::try_from(limit.min(100_000)).unwrap_or(100_000);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, text, threshold, reason, provenance, created_at FROM allowlist
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after_id, limit], |r| {
                let kind: String = r.get(1)?;
                Ok(AllowEntry {
                    id: r.get(0)?,
                    kind: if kind == "near" {
                        AllowKind::Near
                    } else {
                        AllowKind::Exact
                    },
                    text: r.get(2)?,
                    threshold: r.get::<_, Option<f64>>(3)?.map(|t| t as f32),
                    reason: r.get(4)?,
                    provenance: r.get(5)?,
                    created_at: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn allowlist_remove(&self, id: i64) -> Result<bool> {
        self.write(Wait::Commit, move |conn, ops| {
            for vid in vector_ids_of(conn, "allowlist_id", id)? {
                ops.push(IndexOp::Remove { id: vid });
            }
            Ok(conn.execute("DELETE FROM allowlist WHERE id = ?1", [id])? > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(text: &str, kind: AllowKind) -> NewAllow {
        NewAllow {
            text: text.into(),
            kind,
            threshold: None,
            reason: "feedback".into(),
            provenance: "test".into(),
        }
    }

    #[test]
    fn exact_and_near_entries_match_what_they_should() {
        let m = Memory::open_in_memory().unwrap();
        let exact = m
            .allowlist_add(allow(
                "Please ignore the previous draft, use this one.",
                AllowKind::Exact,
            ))
            .unwrap();
        assert_eq!(
            m.allowlist_add(allow(
                "Please ignore the previous draft, use this one.",
                AllowKind::Exact
            ))
            .unwrap(),
            exact
        );
        let near = m
            .allowlist_add(allow(
                "Weekly report: the build server restarts every Sunday night for maintenance",
                AllowKind::Near,
            ))
            .unwrap();
        let hit = m
            .allowlist_check("Please ignore the previous draft, use this one.")
            .unwrap()
            .unwrap();
        assert_eq!((hit.id, hit.kind), (exact, AllowKind::Exact));
        // An exact entry does not match a variant.
        assert!(
            m.allowlist_check("please ignore the previous draft; use this one")
                .unwrap()
                .is_none()
        );
        let hit = m
            .allowlist_check("weekly report:  The build server restarts every sunday night for maintenance!")
            .unwrap();
        assert_eq!(hit.map(|h| (h.id, h.kind)), Some((near, AllowKind::Near)));
        assert!(m.allowlist_check("What is the capital of France?").unwrap().is_none());
        assert_eq!(m.allowlist_list(0, 10).unwrap().len(), 2);
        assert!(m.allowlist_remove(near).unwrap());
        assert!(
            m.allowlist_check("Weekly report: the build server restarts every Sunday night for maintenance")
                .unwrap()
                .is_none()
        );
        // Allowlist vectors never show up as patterns.
        assert!(
            m.search_text("weekly report", 5, 0.0, &SearchFilter::patterns())
                .unwrap()
                .is_empty()
        );
        let bad = NewAllow {
            threshold: Some(0.1),
            ..allow("x", AllowKind::Near)
        };
        assert!(m.allowlist_add(bad).is_err());
    }
}
