//! Namespaced key/value memory for agents and MCP clients, with optional time to live.
//!
//! Expired entries are invisible at once (every read filters on `expires_at`) and are removed for good by
//! `kv_purge_expired`, which a scheduler may call now and then.
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use crate::audit::canonical_json;
use crate::error::{MemoryError, Result};
use crate::patterns::{check_label, now_ms};
use crate::store::Memory;
use crate::writer::Wait;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KvEntry {
    pub key: String,
    pub value: Value,
    /// Unix milliseconds; `None` never expires.
    pub expires_at: Option<i64>,
}

impl Memory {
    /// Stores `value` under `namespace`/`key`, replacing what was there.
    pub fn kv_put(&self, namespace: &str, key: &str, value: &Value, ttl: Option<Duration>) -> Result<()> {
        check_label("namespace", namespace)?;
        if key.is_empty() {
            return Err(MemoryError::invalid("key", "must not be empty"));
        }
        let limits = *self.limits();
        limits.check("key", key.len(), limits.max_key_bytes)?;
        let json = canonical_json(value)?;
        limits.check("value", json.len(), limits.max_value_bytes)?;
        let now = now_ms();
        let expires_at = ttl.map(|t| now.saturating_add(i64::try_from(t.as_millis()).unwrap_or(i64::MAX)));
        let (ns, key) = (namespace.to_string(), key.to_string());
        self.write(Wait::Commit, move |conn, _| {
            conn.prepare_cached(
                "INSERT INTO kv (namespace, key, value, expires_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = ?3, expires_at = ?4, updated_at = ?5",
            )?
            .execute(params![ns, key, json, expires_at, now])?;
            Ok(())
        })
    }

    pub fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Value>> {
        let (ns, key) = (namespace.to_string(), key.to_string());
        self.read(move |conn| {
            let raw: Option<String> = conn
                .prepare_cached(
                    "SELECT value FROM kv WHERE namespace = ?1 AND key = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
                )?
                .query_row(params![ns, key, now_ms()], |r| r.get(0))
                .optional()?;
            Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
        })
    }

    /// Returns whether the key existed (expired or not).
    pub fn kv_delete(&self, namespace: &str, key: &str) -> Result<bool> {
        let (ns, key) = (namespace.to_string(), key.to_string());
        self.write(Wait::Commit, move |conn, _| {
            Ok(conn
                .prepare_cached("DELETE FROM kv WHERE namespace = ?1 AND key = ?2")?
                .execute(params![ns, key])?
                > 0)
        })
    }

    /// Live entries of a namespace whose key starts with `prefix`, by key, at most `limit` (≤ 10 000).
    pub fn kv_list(&self, namespace: &str, prefix: &str, limit: usize) -> Result<Vec<KvEntry>> {
        let (ns, prefix) = (namespace.to_string(), prefix.to_string());
        let limit = i64::try_from(limit.min(10_000)).unwrap_or(10_000);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT key, value, expires_at FROM kv
                 WHERE namespace = ?1 AND substr(key, 1, length(?2)) = ?2 AND (expires_at IS NULL OR expires_at > ?3)
                 ORDER BY key LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![ns, prefix, now_ms(), limit], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (key, value, expires_at) = row?;
                out.push(KvEntry {
                    key,
                    value: serde_json::from_str(&value)?,
                    expires_at,
                });
            }
            Ok(out)
        })
    }

    /// Deletes expired entries; returns how many.
    pub fn kv_purge_expired(&self) -> Result<usize> {
        self.write(Wait::Commit, |conn, _| {
            Ok(conn
                .prepare_cached("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?1")?
                .execute([now_ms()])?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn put_get_list_delete() {
        let m = Memory::open_in_memory().unwrap();
        m.kv_put("agent", "a/1", &json!({"x": 1}), None).unwrap();
        m.kv_put("agent", "a/2", &json!([1, 2]), None).unwrap();
        m.kv_put("agent", "b/1", &json!("s"), None).unwrap();
        m.kv_put("other", "a/1", &json!(null), None).unwrap();
        assert_eq!(m.kv_get("agent", "a/1").unwrap(), Some(json!({"x": 1})));
        m.kv_put("agent", "a/1", &json!(2), None).unwrap();
        assert_eq!(m.kv_get("agent", "a/1").unwrap(), Some(json!(2)));
        let keys: Vec<String> = m
            .kv_list("agent", "a/", 10)
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(keys, vec!["a/1", "a/2"]);
        assert!(m.kv_delete("agent", "a/1").unwrap());
        assert!(!m.kv_delete("agent", "a/1").unwrap());
        assert_eq!(m.kv_get("agent", "a/1").unwrap(), None);
        assert_eq!(m.kv_get("other", "a/1").unwrap(), Some(json!(null)));
    }

    #[test]
    fn entries_expire() {
        let m = Memory::open_in_memory().unwrap();
        m.kv_put("n", "short", &json!(1), Some(Duration::from_millis(30)))
            .unwrap();
        m.kv_put("n", "long", &json!(2), Some(Duration::from_secs(3600)))
            .unwrap();
        assert_eq!(m.kv_get("n", "short").unwrap(), Some(json!(1)));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(m.kv_get("n", "short").unwrap(), None);
        assert_eq!(m.kv_list("n", "", 10).unwrap().len(), 1);
        assert_eq!(m.kv_purge_expired().unwrap(), 1);
        assert_eq!(m.kv_get("n", "long").unwrap(), Some(json!(2)));
    }

    #[test]
    fn oversize_and_empty_are_refused() {
        let m = Memory::open_in_memory().unwrap();
        let big = json!("x".repeat(m.limits().max_value_bytes));
        assert!(matches!(
            m.kv_put("n", "k", &big, None),
            Err(MemoryError::TooLarge { what: "value", .. })
        ));
        let long_key = "k".repeat(m.limits().max_key_bytes + 1);
        assert!(matches!(
            m.kv_put("n", &long_key, &json!(1), None),
            Err(MemoryError::TooLarge { what: "key", .. })
        ));
        assert!(m.kv_put("", "k", &json!(1), None).is_err());
        assert!(m.kv_put("n", "", &json!(1), None).is_err());
        assert_eq!(m.kv_get("n", "k").unwrap(), None);
    }
}
