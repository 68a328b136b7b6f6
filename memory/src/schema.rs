//! The database schema, its versioned migrations, and the checks that run before anything is written.
//!
//! A file is ours when its `application_id` is [`APPLICATION_ID`]. A brand-new or empty file becomes ours; any
//! other SQLite file, a file that is not SQLite at all, or a schema newer than this build is refused with a clear
//! error before a single byte is written: we never "repair" a file we do not understand.
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::error::{MemoryError, Result};

/// `PRAGMA application_id` of an AIMDS memory database: "AIMD" in ASCII.
pub const APPLICATION_ID: i32 = 0x4149_4d44;

/// Migration `i` takes the schema from version `i` to `i + 1`. Never edit a shipped migration; append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE patterns (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    text       TEXT NOT NULL,
    text_hash  BLOB NOT NULL,
    category   TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('candidate', 'active', 'retired')),
    provenance TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    hit_count  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (text_hash, category)
) STRICT;
CREATE INDEX patterns_by_status ON patterns (status, category);

CREATE TABLE allowlist (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('exact', 'near')),
    text_hash  BLOB NOT NULL,
    text       TEXT,
    threshold  REAL,
    reason     TEXT NOT NULL,
    provenance TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, text_hash)
) STRICT;

-- The authoritative copy of every embedding. Exactly one owner per vector. Vectors are immutable: a new model
-- writes new rows, so an index dump can trust every id it already holds.
CREATE TABLE vectors (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern_id       INTEGER REFERENCES patterns (id) ON DELETE CASCADE,
    allowlist_id     INTEGER REFERENCES allowlist (id) ON DELETE CASCADE,
    embedder         TEXT NOT NULL,
    embedder_version TEXT NOT NULL,
    dim              INTEGER NOT NULL,
    embedding        BLOB NOT NULL,
    -- vector_hash() of the embedding: groups identical vectors without reading the blobs at open.
    vec_hash         INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    CHECK ((pattern_id IS NULL) <> (allowlist_id IS NULL)),
    CHECK (length(embedding) = dim * 4)
) STRICT;
CREATE INDEX vectors_by_pattern ON vectors (pattern_id);
CREATE INDEX vectors_by_allowlist ON vectors (allowlist_id);
CREATE INDEX vectors_by_embedder ON vectors (embedder, embedder_version, dim);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    source     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    summary    TEXT NOT NULL,
    verdict    TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (session, seq)
) STRICT;

-- Hash chain: hash = SHA-256 over (id, created_at, prev_hash, verdict); see audit.rs.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    verdict    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;

CREATE TABLE kv (
    namespace  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) STRICT;
CREATE INDEX kv_by_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE edges (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    from_node  TEXT NOT NULL,
    to_node    TEXT NOT NULL,
    relation   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (from_node, to_node, relation)
) STRICT;
CREATE INDEX edges_by_to ON edges (to_node);
"#,
    // 2: the learning gate replays recent traffic of one kind across sessions.
    r#"
CREATE INDEX events_by_kind ON events (kind, id);
"#,
    // 3: learned signatures (phrases derived from confirmed attacks, matched literally by the detector) live
    // beside the learned texts; a signature has no vector.
    r#"
ALTER TABLE patterns ADD COLUMN kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'signature'));
CREATE INDEX patterns_by_kind ON patterns (kind, status);
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Classifies an opened file without writing to it. Returns its current schema version (0 for a new file).
pub(crate) fn check_ours(conn: &Connection, path: &Path) -> Result<i64> {
    let corrupt = |e: rusqlite::Error| match e {
        // Another process holds a lock (e.g. it is migrating this new file): not corruption, try again.
        e if is_busy(&e) => MemoryError::Sqlite(e),
        e => MemoryError::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
    };
    // One snapshot for the three reads: a process migrating the file commits its tables, version and id together.
    conn.execute_batch("BEGIN DEFERRED").map_err(corrupt)?;
    let checked = check_snapshot(conn, path, &corrupt);
    let _ = conn.execute_batch("COMMIT");
    checked
}

/// Whether an error is another connection's lock (worth waiting for), not a fault.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn check_snapshot(conn: &Connection, path: &Path, corrupt: &dyn Fn(rusqlite::Error) -> MemoryError) -> Result<i64> {
    let application_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(corrupt)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(corrupt)?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
            [],
            |r| r.get(0),
        )
        .map_err(corrupt)?;
    if application_id != APPLICATION_ID {
        if application_id == 0 && tables == 0 && version == 0 {
            return Ok(0);
        }
        return Err(MemoryError::Foreign {
            path: path.to_path_buf(),
            application_id,
            tables,
        });
    }
    if version > SCHEMA_VERSION {
        return Err(MemoryError::SchemaTooNew {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}

/// Brings the schema from `from` to [`SCHEMA_VERSION`], all in one transaction.
///
/// Several processes may open a new file at once (one Claude Code hook per tool call): the version is read again
/// under the write lock, so a process that waited while another migrated finds the work done instead of
/// migrating twice.
pub(crate) fn migrate(conn: &mut Connection, from: i64) -> Result<()> {
    if from >= SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let from: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if from > SCHEMA_VERSION {
        return Err(MemoryError::SchemaTooNew {
            path: std::path::PathBuf::from(tx.path().unwrap_or("")),
            found: from,
            supported: SCHEMA_VERSION,
        });
    }
    if from == SCHEMA_VERSION {
        return Ok(());
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(from).unwrap_or(0)) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    let existing: Option<String> = tx
        .query_row("SELECT value FROM meta WHERE key = 'db_uuid'", [], |r| r.get(0))
        .optional()?;
    if existing.is_none() {
        tx.execute("INSERT INTO meta (key, value) VALUES ('db_uuid', ?1)", [new_uuid()])?;
    }
    tx.commit()?;
    Ok(())
}

/// An id for this database file, so an index dump of another file is never loaded for it.
fn new_uuid() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!("{:?}", std::time::SystemTime::now()));
    h.update(std::process::id().to_le_bytes());
    let local = 0u8;
    h.update(format!("{:p}", &local));
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn db_uuid(conn: &Connection) -> Result<String> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = 'db_uuid'", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_migrates_to_latest_and_is_recognised() {
        let mut conn = Connection::open_in_memory().unwrap();
        let p = Path::new(":memory:");
        assert_eq!(check_ours(&conn, p).unwrap(), 0);
        migrate(&mut conn, 0).unwrap();
        assert_eq!(check_ours(&conn, p).unwrap(), SCHEMA_VERSION);
        assert_eq!(db_uuid(&conn).unwrap().len(), 32);
        // Migrating again is a no-op.
        migrate(&mut conn, SCHEMA_VERSION).unwrap();
    }

    #[test]
    fn foreign_and_newer_databases_are_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(matches!(
            check_ours(&conn, Path::new("x")),
            Err(MemoryError::Foreign { .. })
        ));

        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 0).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = check_ours(&conn, Path::new("x")).unwrap_err();
        assert!(matches!(err, MemoryError::SchemaTooNew { .. }), "{err}");
    }
}
