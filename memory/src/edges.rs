//! Causal links between things the memory knows: attack → response → outcome, and attack chains across sessions.
//! Nodes are free-form references such as `pattern:12`, `event:session-7/3` or `audit:44`; the graph does not own
//! them, so an edge may outlive its nodes.
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::Result;
use crate::patterns::{check_label, now_ms};
use crate::store::Memory;
use crate::writer::Wait;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub id: i64,
    pub from: String,
    pub to: String,
    pub relation: String,
    pub created_at: i64,
}

impl Memory {
    /// Links `from` to `to`; adding an existing link returns its id.
    pub fn edge_add(&self, from: &str, to: &str, relation: &str) -> Result<i64> {
        check_label("edge from", from)?;
        check_label("edge to", to)?;
        check_label("relation", relation)?;
        let (from, to, relation) = (from.to_string(), to.to_string(), relation.to_string());
        self.write(Wait::Commit, move |conn, _| {
            let existing: Option<i64> = conn
                .prepare_cached("SELECT id FROM edges WHERE from_node = ?1 AND to_node = ?2 AND relation = ?3")?
                .query_row(params![from, to, relation], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                return Ok(id);
            }
            conn.prepare_cached(
                "INSERT INTO edges (from_node, to_node, relation, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![from, to, relation, now_ms()])?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Links leaving `node`.
    pub fn edges_from(&self, node: &str) -> Result<Vec<Edge>> {
        self.edges_where("from_node", node)
    }

    /// Links arriving at `node`.
    pub fn edges_to(&self, node: &str) -> Result<Vec<Edge>> {
        self.edges_where("to_node", node)
    }

    fn edges_where(&self, column: &'static str, node: &str) -> Result<Vec<Edge>> {
        let node = node.to_string();
        self.read(move |conn| {
            let sql = format!(
                "SELECT id, from_node, to_node, relation, created_at FROM edges WHERE {column} = ?1 ORDER BY id LIMIT 10000"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map([node], |r| {
                Ok(Edge { id: r.get(0)?, from: r.get(1)?, to: r.get(2)?, relation: r.get(3)?, created_at: r.get(4)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn edge_remove(&self, id: i64) -> Result<bool> {
        self.write(Wait::Commit, move |conn, _| {
            Ok(conn.execute("DELETE FROM edges WHERE id = ?1", [id])? > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_unique_and_walkable_both_ways() {
        let m = Memory::open_in_memory().unwrap();
        let a = m.edge_add("pattern:1", "event:s/1", "matched").unwrap();
        assert_eq!(m.edge_add("pattern:1", "event:s/1", "matched").unwrap(), a);
        m.edge_add("event:s/1", "audit:7", "decided").unwrap();
        m.edge_add("pattern:1", "event:s/9", "matched").unwrap();
        assert_eq!(m.edges_from("pattern:1").unwrap().len(), 2);
        let into = m.edges_to("event:s/1").unwrap();
        assert_eq!((into.len(), into[0].relation.as_str()), (1, "matched"));
        assert!(m.edge_remove(a).unwrap());
        assert_eq!(m.edges_from("pattern:1").unwrap().len(), 1);
        assert!(m.edge_add("", "x", "r").is_err());
    }
}
