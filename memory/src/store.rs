//! The `Memory` handle: opening a database, the writer thread, the reader pool, the vector index's life cycle.
//!
//! `Memory` is cheap to clone and `Send + Sync`; every clone talks to the same writer thread and index. Its methods
//! block (microseconds for reads, one commit for durable writes), hold no connection across an `.await`, and can be
//! called from async code directly or through `spawn_blocking` for the durable writes.
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::embed::{Embedder, HashedNgramEmbedder, validate_and_normalise};
use crate::error::{MemoryError, Result};
use crate::patterns::PatternStatus;
use crate::schema;
use crate::vector::{IndexOp, IndexParams, IndexState, Owner, PatternMeta, VectorIndex, decode, vector_hash};
use crate::writer::{self, Msg, Wait, WriterConfig};

/// When `audit_append` and `append_event` return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After their commit: nothing acknowledged is ever lost. Concurrent writers share commits.
    Sync,
    /// At once; commits follow in groups of at most `max_batch` within `max_delay`, and on close or drop.
    /// A crash of the process or machine may lose that window.
    Batched { max_delay: Duration, max_batch: usize },
}

/// Bounds on what callers may store; oversize input is an error, never truncated silently.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_text_bytes: usize,
    pub max_key_bytes: usize,
    pub max_value_bytes: usize,
    pub max_verdict_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_bytes: 64 * 1024,
            max_key_bytes: 1024,
            max_value_bytes: 1024 * 1024,
            max_verdict_bytes: 1024 * 1024,
        }
    }
}

impl Limits {
    pub(crate) fn check(&self, what: &'static str, size: usize, limit: usize) -> Result<()> {
        if size > limit {
            Err(MemoryError::TooLarge { what, size, limit })
        } else {
            Ok(())
        }
    }
}

#[derive(Clone)]
pub struct MemoryOptions {
    pub durability: Durability,
    pub embedder: Arc<dyn Embedder>,
    pub index: IndexParams,
    /// Dump the vector index next to the database (`<db>.hnsw/`) on close, and reload it at open.
    pub persist_index: bool,
    /// Idle read connections kept open.
    pub max_readers: usize,
    pub limits: Limits,
}

impl Default for MemoryOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Sync,
            embedder: Arc::new(HashedNgramEmbedder::default()),
            index: IndexParams::default(),
            persist_index: true,
            max_readers: 8,
            limits: Limits::default(),
        }
    }
}

impl std::fmt::Debug for MemoryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryOptions")
            .field("durability", &self.durability)
            .field("embedder", self.embedder.id())
            .field("index", &self.index)
            .field("persist_index", &self.persist_index)
            .finish()
    }
}

/// The shared memory. See the crate documentation for the tour.
#[derive(Clone)]
pub struct Memory {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    path: PathBuf,
    in_memory: bool,
    jobs: SyncSender<Msg>,
    writer: Mutex<Option<JoinHandle<()>>>,
    indexer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    pub(crate) index: Arc<VectorIndex>,
    pub(crate) embedder: Arc<dyn Embedder>,
    pub(crate) options: MemoryOptions,
    db_uuid: String,
    dump_dir: Option<PathBuf>,
}

/// Where the database lives when neither `--db` nor `AIMDS_DB` says: `<data dir>/aimds/memory.db`
/// (`~/.local/share/aimds/memory.db` on Linux), or `./aimds-memory.db` where the platform has no data dir.
pub fn default_db_path() -> PathBuf {
    match dirs::data_dir() {
        Some(dir) => dir.join("aimds").join("memory.db"),
        None => PathBuf::from("aimds-memory.db"),
    }
}

/// The path that means "a private database in RAM".
pub const IN_MEMORY: &str = ":memory:";

impl Memory {
    /// Opens (or creates) the database at `path` with default options. `":memory:"` gives a private in-RAM one.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, MemoryOptions::default())
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::open_with(IN_MEMORY, MemoryOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: MemoryOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let in_memory = path.as_os_str() == IN_MEMORY;
        let mut conn = if in_memory {
            Connection::open_in_memory().map_err(|source| MemoryError::Open {
                path: path.clone(),
                source,
            })?
        } else {
            if path.is_dir() {
                return Err(MemoryError::invalid(
                    "database path",
                    format!("{} is a directory", path.display()),
                ));
            }
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| MemoryError::io(format!("create directory {}", parent.display()), e))?;
            }
            let flags =
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            Connection::open_with_flags(&path, flags).map_err(|source| MemoryError::Open {
                path: path.clone(),
                source,
            })?
        };
        // Wait for other processes' locks from the first read on (a parallel first open may be switching the file
        // to WAL or migrating it); setting the timeout writes nothing to the file.
        conn.busy_timeout(Duration::from_secs(10))?;
        // Every statement the writer runs stays prepared (the default cache of 16 is smaller than their number).
        conn.set_prepared_statement_cache_capacity(64);
        // Classify the file before the first write: a foreign, corrupt or newer file must stay byte-for-byte as is.
        // Parallel first opens of one file contend for it; SQLite does not always wait for such locks itself
        // (switching to WAL, a reader racing a migration), so each step is retried while another holds it.
        let version = retry_while_busy(|| schema::check_ours(&conn, &path))?;
        retry_while_busy(|| configure(&conn, in_memory, &path))?;
        retry_while_busy(|| schema::migrate(&mut conn, version))?;
        let db_uuid = schema::db_uuid(&conn)?;

        let embedder = Arc::clone(&options.embedder);
        let expected: i64 = conn.query_row("SELECT count(*) FROM vectors", [], |r| r.get(0))?;
        let index = Arc::new(VectorIndex::new(
            embedder.id().clone(),
            options.index,
            usize::try_from(expected).unwrap_or(0),
        ));
        let dump_dir = (!in_memory && options.persist_index).then(|| dump_dir_for(&path));
        load_index(&conn, &index, dump_dir.as_deref(), &db_uuid)?;

        let (wait_delay, max_batch) = match options.durability {
            Durability::Sync => (Duration::ZERO, 512),
            Durability::Batched { max_delay, max_batch } => (max_delay, max_batch.max(1)),
        };
        let (jobs, rx) = sync_channel(4096);
        let writer_index = Arc::clone(&index);
        let writer = std::thread::Builder::new()
            .name("aimds-memory-writer".into())
            .spawn(move || {
                writer::run(
                    conn,
                    rx,
                    writer_index,
                    WriterConfig {
                        max_delay: wait_delay,
                        max_batch,
                    },
                )
            })
            .map_err(|e| MemoryError::io("spawn the memory writer thread", e))?;
        let (wake, woken) = std::sync::mpsc::channel();
        index.set_waker(Some(wake));
        let indexer_index = Arc::clone(&index);
        let indexer = std::thread::Builder::new()
            .name("aimds-memory-indexer".into())
            .spawn(move || run_indexer(&indexer_index, &woken))
            .map_err(|e| MemoryError::io("spawn the memory indexer thread", e))?;
        Ok(Memory {
            inner: Arc::new(Inner {
                path,
                in_memory,
                jobs,
                writer: Mutex::new(Some(writer)),
                indexer: Mutex::new(Some(indexer)),
                readers: Mutex::new(Vec::new()),
                index,
                embedder,
                options,
                db_uuid,
                dump_dir,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn embedder(&self) -> &dyn Embedder {
        self.inner.embedder.as_ref()
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.options.limits
    }

    /// Commits everything written so far (the pending batch in `batched` mode) and waits for it.
    pub fn flush(&self) -> Result<()> {
        self.write(Wait::Commit, |_, _| Ok(()))
    }

    /// Flushes, stops the writer, and dumps the vector index if enabled. Dropping the last handle does the same,
    /// but cannot report errors.
    pub fn close(self) -> Result<()> {
        self.inner.shutdown()
    }

    /// Waits until every committed vector is in the HNSW graph. Never needed for correctness (pending vectors are
    /// searched exactly); useful before measuring search speed.
    pub fn wait_indexed(&self) {
        self.inner.index.index_all_pending();
    }

    /// Rebuilds the vector index from SQLite, dropping tombstones. Returns the number of points now indexed.
    pub fn compact_index(&self) -> Result<usize> {
        let (tx, rx) = sync_channel(1);
        self.inner
            .jobs
            .send(Msg::Compact(tx))
            .map_err(|_| MemoryError::WriterGone)?;
        rx.recv().map_err(|_| MemoryError::WriterGone)?
    }

    /// Runs `f` on the writer thread inside the current batch's transaction.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        wait: Wait,
        f: impl FnOnce(&Connection, &mut Vec<IndexOp>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = sync_channel(1);
        self.inner
            .jobs
            .send(writer::job(wait, tx, f))
            .map_err(|_| MemoryError::WriterGone)?;
        rx.recv().map_err(|_| MemoryError::WriterGone)?
    }

    /// Like [`Memory::write`], but returns at once: `done` gets the result on the writer thread (for async callers,
    /// which must not block a runtime thread on the commit). Fails at once with [`MemoryError::Busy`] when the
    /// writer's queue is full, and with [`MemoryError::WriterGone`] when it stopped.
    pub(crate) fn write_then<T: Send + 'static>(
        &self,
        wait: Wait,
        f: impl FnOnce(&Connection, &mut Vec<IndexOp>) -> Result<T> + Send + 'static,
        done: impl FnOnce(Result<T>) + Send + 'static,
    ) -> Result<()> {
        self.inner
            .jobs
            .try_send(writer::job_then(wait, done, f))
            .map_err(|e| match e {
                std::sync::mpsc::TrySendError::Full(_) => MemoryError::Busy,
                std::sync::mpsc::TrySendError::Disconnected(_) => MemoryError::WriterGone,
            })
    }

    /// How appends wait, by the configured durability.
    pub(crate) fn append_wait(&self) -> Wait {
        match self.inner.options.durability {
            Durability::Sync => Wait::Commit,
            Durability::Batched { .. } => Wait::Applied,
        }
    }

    /// Runs `f` on a pooled read-only connection (a snapshot of committed data). An in-RAM database has a single
    /// connection, so there reads go to the writer thread.
    pub(crate) fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if self.inner.in_memory {
            let (tx, rx) = sync_channel(1);
            let read: Box<dyn FnOnce(&Connection) + Send> = Box::new(move |conn| {
                let _ = tx.send(f(conn));
            });
            self.inner
                .jobs
                .send(Msg::Read(read))
                .map_err(|_| MemoryError::WriterGone)?;
            return rx.recv().map_err(|_| MemoryError::WriterGone)?;
        }
        let pooled = self.inner.readers.lock().ok().and_then(|mut pool| pool.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_reader(&self.inner.path)?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.inner.readers.lock()
            && pool.len() < self.inner.options.max_readers
        {
            pool.push(conn);
        }
        out
    }

    /// Counts of everything, for `aimds memory stats` and health checks.
    /// Live vectors in the index (patterns and allowlist entries): a lock-free-ish check callers on the fast path
    /// use to skip a search when there is nothing to find.
    pub fn vector_count(&self) -> usize {
        self.inner.index.live_count()
    }

    pub fn stats(&self) -> Result<Stats> {
        let embedder = self.inner.embedder.id().to_string();
        let live = self.inner.index.live_count();
        let tombstones = self.inner.index.tombstones();
        let pending = self.inner.index.pending_count();
        let path = self.inner.path.display().to_string();
        self.read(move |conn| {
            let count = |table: &str| -> Result<i64> {
                Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
            };
            let mut by_status = Vec::new();
            let mut stmt = conn.prepare("SELECT status, count(*) FROM patterns GROUP BY status ORDER BY status")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                by_status.push(row?);
            }
            let mut by_embedder = Vec::new();
            let mut stmt = conn.prepare(
                "SELECT embedder || '@' || embedder_version || '/' || dim, count(*) FROM vectors GROUP BY 1 ORDER BY 1",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                by_embedder.push(row?);
            }
            Ok(Stats {
                path,
                schema_version: schema::SCHEMA_VERSION,
                embedder,
                patterns: count("patterns")?,
                patterns_by_status: by_status,
                vectors: count("vectors")?,
                vectors_by_embedder: by_embedder,
                index_live: live,
                index_tombstones: tombstones,
                index_pending: pending,
                events: count("events")?,
                audit_records: count("audit")?,
                kv_entries: count("kv")?,
                edges: count("edges")?,
                allowlist: count("allowlist")?,
            })
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub path: String,
    pub schema_version: i64,
    pub embedder: String,
    pub patterns: i64,
    pub patterns_by_status: Vec<(String, i64)>,
    pub vectors: i64,
    pub vectors_by_embedder: Vec<(String, i64)>,
    pub index_live: usize,
    pub index_tombstones: usize,
    /// Committed vectors the background indexer has not put into the graph yet (searched exactly meanwhile).
    pub index_pending: usize,
    pub events: i64,
    pub audit_records: i64,
    pub kv_entries: i64,
    pub edges: i64,
    pub allowlist: i64,
}

impl Inner {
    fn shutdown(&self) -> Result<()> {
        let Some(handle) = self.writer.lock().ok().and_then(|mut w| w.take()) else {
            return Ok(());
        };
        let (tx, rx) = sync_channel(1);
        let stopped = self.jobs.send(Msg::Shutdown(tx)).is_ok() && rx.recv().is_ok();
        let _ = handle.join();
        self.index.set_waker(None);
        if let Some(indexer) = self.indexer.lock().ok().and_then(|mut i| i.take()) {
            let _ = indexer.join();
        }
        if !stopped {
            return Err(MemoryError::WriterGone);
        }
        if let Some(dir) = &self.dump_dir {
            self.index.dump(dir, &self.db_uuid)?;
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!(error = %e, "closing the memory failed");
        }
    }
}

fn run_indexer(index: &VectorIndex, woken: &std::sync::mpsc::Receiver<()>) {
    while woken.recv().is_ok() {
        while woken.try_recv().is_ok() {}
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || while index.index_pending_batch() > 0 {},
        ));
        if step.is_err() {
            tracing::error!("the vector indexer failed; pending vectors stay searchable by exact scan");
        }
    }
}

/// Runs `step` again while it fails on another connection's lock, for up to [`OPEN_BUSY_TIMEOUT`].
fn retry_while_busy<T>(mut step: impl FnMut() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match step() {
            Err(MemoryError::Sqlite(e)) if schema::is_busy(&e) && started.elapsed() < OPEN_BUSY_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// How long opening waits for other connections' locks.
const OPEN_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn configure(conn: &Connection, in_memory: bool, path: &Path) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    if !in_memory {
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(MemoryError::invalid(
                "database",
                format!(
                    "{} cannot use write-ahead logging (journal_mode is {mode})",
                    path.display()
                ),
            ));
        }
    }
    // FULL makes every commit durable against power loss too, not only against a crash of the process; group commit
    // keeps its cost per write small.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| MemoryError::Open {
        path: path.into(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

pub(crate) fn dump_dir_for(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".hnsw");
    db.with_file_name(name)
}

/// Fills the index at open: from a matching dump plus newer rows, else by a full rebuild.
fn load_index(conn: &Connection, index: &VectorIndex, dump_dir: Option<&Path>, db_uuid: &str) -> Result<()> {
    let state = index_state(conn, index)?;
    let db_max: i64 = conn
        .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'vectors'", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0);
    index.set_state(state);
    let loaded = dump_dir.and_then(|dir| index.load_dump(dir, db_uuid, db_max));
    match loaded {
        Some(max_in_dump) => {
            let newer = read_vectors(conn, index, max_in_dump)?;
            index.insert_points(&newer);
            // A dump full of tombstones costs search time; compact instead.
            if index.tombstones() > index.points_in_graph() / 4 + 1024 {
                rebuild_index(conn, index)?;
            }
        }
        None => {
            rebuild_index(conn, index)?;
        }
    }
    Ok(())
}

fn index_state(conn: &Connection, index: &VectorIndex) -> Result<IndexState> {
    let e = index.embedder();
    let mut state = IndexState::default();
    let mut stmt = conn.prepare(
        "SELECT id, pattern_id, allowlist_id, vec_hash FROM vectors
         WHERE embedder = ?1 AND embedder_version = ?2 AND dim = ?3",
    )?;
    let rows = stmt.query_map(params![e.name, e.version, e.dim as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (id, pattern, allow, hash) = row?;
        let owner = match (pattern, allow) {
            (Some(p), _) => Owner::Pattern(p),
            (None, Some(a)) => Owner::Allowlist(a),
            (None, None) => continue,
        };
        state.add_live(id, owner, hash as u64);
    }
    let mut stmt = conn.prepare("SELECT id, category, status FROM patterns")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    for row in rows {
        let (id, category, status) = row?;
        let status = status.parse::<PatternStatus>().unwrap_or(PatternStatus::Retired);
        state.patterns.insert(id, PatternMeta { category, status });
    }
    Ok(state)
}

/// The active embedder's vectors with id > `after`, checked and normalised, with their vector hashes. A damaged row
/// is skipped (and logged), so one bad blob never keeps the memory from opening.
fn read_vectors(conn: &Connection, index: &VectorIndex, after: i64) -> Result<Vec<(i64, u64, Vec<f32>)>> {
    let e = index.embedder();
    let mut stmt = conn.prepare(
        "SELECT id, embedding FROM vectors
         WHERE embedder = ?1 AND embedder_version = ?2 AND dim = ?3 AND id > ?4 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![e.name, e.version, e.dim as i64, after], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, blob) = row?;
        match decode(&blob, e.dim).map(|v| validate_and_normalise(e, v)) {
            Some(Ok(v)) => out.push((id, vector_hash(&v), v)),
            _ => tracing::warn!(vector_id = id, "skipping a damaged embedding"),
        }
    }
    Ok(out)
}

pub(crate) fn rebuild_index(conn: &Connection, index: &VectorIndex) -> Result<usize> {
    let rows = read_vectors(conn, index, 0)?;
    index.rebuild(&rows);
    Ok(rows.len())
}
