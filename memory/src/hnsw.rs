//! A compact HNSW graph (Malkov & Yashunin, 2018) over unit vectors, distance 1 − dot product.
//!
//! Points live in flat arrays (vectors, their i8 codes, layer-0 links with a fixed stride); the walk ranks by the
//! codes, whose bytes are what a step waits for, and callers rescore what they keep with the f32 vectors. Searches
//! mark visited points in a reusable epoch-stamped array and allocate nothing per visited point, upper layers are
//! descended greedily to a local minimum, and every link list — the new point's and the reverse links it adds — is
//! chosen with the diversity heuristic of the paper (algorithm 4), which keeps clusters of near-duplicate texts
//! navigable.
//!
//! One writer at a time (the caller serialises inserts); readers are never blocked by the expensive part of an
//! insert: [`Graph::plan_batch`] does the neighbour searches and link selection under a shared borrow, on several
//! threads, and [`Graph::apply`] only copies each result in. Since no other insert runs in between, the plans stay
//! valid; a point also links to the earlier points of its own batch, found by brute force.
//!
//! This replaced `hnsw_rs` (see the memory section of the README for the measurements): its layer search keeps
//! visited points in a SipHash map of `Arc`s and allocates an `Arc` per candidate, crosses each upper layer with a
//! single hop, and truncates reverse links by distance alone.
use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::io::{Read, Write};
use std::path::Path;

use crate::error::{MemoryError, Result};

/// Highest layer a point can reach (as in hnsw_rs: 16 layers).
const MAX_LEVEL: usize = 15;
/// Most links a point can have on one layer: `2 m` with `m` ≤ 64.
const MAX_LINKS: usize = 128;
/// Points planned together against the same graph (in parallel), each also linking to the batch's earlier points.
pub(crate) const PLAN_BATCH: usize = 32;

/// A point and its distance to the query. Ordered by distance, then id, so heaps and sorts are deterministic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Near {
    pub dist: f32,
    pub node: u32,
}

impl Eq for Near {}

impl Ord for Near {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist.total_cmp(&other.dist).then(self.node.cmp(&other.node))
    }
}

impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Dot product of two vectors: cosine similarity for unit vectors.
///
/// Sixteen independent accumulators, so the compiler keeps four SIMD registers busy without reassociating a single
/// sum (which it may not do for floats): 36 ns at 256 dimensions here, against 208 ns for a plain `sum()`.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut sum = 0.0;
    for i in 0..8 {
        sum += acc[i] + acc[i + 8];
    }
    for (x, y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

/// Sum of products of two i8 codes (exact in i32 for any dimension we accept).
#[inline]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    let mut sum: i32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        sum += i32::from(*x) * i32::from(*y);
    }
    sum
}

/// A vector scaled per vector into i8, `x ≈ code × step`: a quarter of the bytes of the f32 vector, which is what a
/// graph walk pays for — at 100K points a distance costs ~130 ns from memory in i8 against ~260 ns in f32.
/// The walk ranks by these approximate distances; similarities reported to callers are recomputed in f32.
pub(crate) struct Code {
    pub code: Vec<i8>,
    pub step: f32,
}

impl Code {
    pub fn of(v: &[f32]) -> Self {
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        if max == 0.0 || !max.is_finite() {
            return Self {
                code: vec![0; v.len()],
                step: 0.0,
            };
        }
        let scale = 127.0 / max;
        Self {
            code: v
                .iter()
                .map(|x| (x * scale).round().clamp(-127.0, 127.0) as i8)
                .collect(),
            step: max / 127.0,
        }
    }

    fn view(&self) -> CodeRef<'_> {
        CodeRef {
            code: &self.code,
            step: self.step,
        }
    }
}

#[derive(Clone, Copy)]
struct CodeRef<'a> {
    code: &'a [i8],
    step: f32,
}

impl CodeRef<'_> {
    #[inline]
    fn distance(self, other: CodeRef<'_>) -> f32 {
        1.0 - dot_i8(self.code, other.code) as f32 * self.step * other.step
    }
}

/// Largest error of an approximate similarity against the exact one: each code is within half a step of its
/// value, and `Σ|x| ≤ √dim` for a unit vector, so the error is at most `(step_a + step_b) · √dim / 2` plus the
/// product of the two half-steps. With steps ≤ 1/127 that is ≤ 0.063 at 256 dimensions; typical errors are far
/// smaller since the signs of the rounding errors mix.
pub(crate) fn approx_error_bound(dim: usize, step_a: f32, step_b: f32) -> f32 {
    let root = (dim as f32).sqrt();
    (step_a + step_b) * root / 2.0 + step_a * step_b * dim as f32 / 4.0
}

/// Visited marks for one search: `marks[i] == epoch` means visited. One byte per point (100 KB at 100K points, so
/// the marks stay in cache), cleared once every 255 searches. Reused across searches on a thread.
#[derive(Default)]
struct Visited {
    epoch: u8,
    marks: Vec<u8>,
}

impl Visited {
    fn reset(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
    }

    /// True the first time a node is seen in this search.
    #[inline]
    fn insert(&mut self, node: u32) -> bool {
        match self.marks.get_mut(node as usize) {
            Some(m) if *m != self.epoch => {
                *m = self.epoch;
                true
            }
            _ => false,
        }
    }
}

thread_local! {
    static VISITED: RefCell<Visited> = RefCell::new(Visited::default());
}

/// What an insert will change, computed without mutating the graph.
pub(crate) struct Plan {
    /// The id the point gets: the plan is valid only when the graph has exactly this many points.
    id: u32,
    level: usize,
    code: Code,
    /// The new point's links, by layer.
    links: Vec<Vec<u32>>,
    /// Points that get a link back to the new one.
    updates: Vec<Update>,
}

/// A reverse link: `node`'s list on `layer` becomes `list` if it still is `seen`; otherwise (it changed since the
/// plan, or `node` is an earlier point of the same batch) the new point is merged into the list as it is then.
struct Update {
    node: u32,
    layer: usize,
    seen: Option<Vec<u32>>,
    list: Vec<u32>,
    /// Distance between `node` and the new point.
    dist: f32,
}

/// An earlier point of the batch being planned.
struct Sibling<'a> {
    id: u32,
    code: CodeRef<'a>,
    level: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Graph {
    dim: usize,
    /// Links per point on layers ≥ 1; layer 0 has `2 m`.
    m: usize,
    ef_construction: usize,
    /// Exact vectors, for reported similarities, dumps and rebuilds.
    vectors: Vec<f32>,
    /// i8 codes of the vectors and their steps, for the graph walk.
    codes: Vec<i8>,
    steps: Vec<f32>,
    origins: Vec<i64>,
    hashes: Vec<u64>,
    levels: Vec<u8>,
    /// Layer 0: point `i` owns `links0[i * (2m + 1)..]`: a count, then up to `2m` ids.
    links0: Vec<u32>,
    /// Layers 1..=level of the few points that reach them.
    upper: HashMap<u32, Vec<Vec<u32>>>,
    by_hash: HashMap<u64, u32>,
    entry: Option<u32>,
    max_level: usize,
}

impl Graph {
    pub fn new(dim: usize, m: usize, ef_construction: usize, capacity: usize) -> Self {
        let m = m.clamp(4, 64);
        let capacity = capacity.min(1 << 20);
        Self {
            dim,
            m,
            ef_construction: ef_construction.max(m),
            vectors: Vec::with_capacity(capacity * dim),
            codes: Vec::with_capacity(capacity * dim),
            steps: Vec::with_capacity(capacity),
            origins: Vec::with_capacity(capacity),
            hashes: Vec::with_capacity(capacity),
            levels: Vec::with_capacity(capacity),
            links0: Vec::with_capacity(capacity * (2 * m + 1)),
            upper: HashMap::new(),
            by_hash: HashMap::with_capacity(capacity),
            entry: None,
            max_level: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.origins.len()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    fn m0(&self) -> usize {
        2 * self.m
    }

    fn max_links(&self, layer: usize) -> usize {
        if layer == 0 { self.m0() } else { self.m }
    }

    /// The point that holds vectors with this hash, if any.
    pub fn node_of_hash(&self, hash: u64) -> Option<u32> {
        self.by_hash.get(&hash).copied()
    }

    pub fn hash_of(&self, node: u32) -> Option<u64> {
        self.hashes.get(node as usize).copied()
    }

    pub fn max_origin(&self) -> i64 {
        self.origins.iter().copied().max().unwrap_or(0)
    }

    fn vector(&self, node: u32) -> &[f32] {
        let start = node as usize * self.dim;
        self.vectors.get(start..start + self.dim).unwrap_or(&[])
    }

    /// Exact cosine similarity of a unit query with a point.
    pub fn similarity(&self, q: &[f32], node: u32) -> f32 {
        dot(q, self.vector(node))
    }

    /// The quantisation step of a point, for [`approx_error_bound`].
    pub fn step_of(&self, node: u32) -> f32 {
        self.steps.get(node as usize).copied().unwrap_or(0.0)
    }

    fn code(&self, node: u32) -> CodeRef<'_> {
        let start = node as usize * self.dim;
        CodeRef {
            code: self.codes.get(start..start + self.dim).unwrap_or(&[]),
            step: self.steps.get(node as usize).copied().unwrap_or(0.0),
        }
    }

    fn links(&self, node: u32, layer: usize) -> &[u32] {
        if layer == 0 {
            let base = node as usize * (self.m0() + 1);
            let count = self.links0.get(base).copied().unwrap_or(0) as usize;
            self.links0.get(base + 1..base + 1 + count).unwrap_or(&[])
        } else {
            self.upper
                .get(&node)
                .and_then(|layers| layers.get(layer - 1))
                .map(Vec::as_slice)
                .unwrap_or(&[])
        }
    }

    fn set_links(&mut self, node: u32, layer: usize, list: &[u32]) {
        if layer == 0 {
            let m0 = self.m0();
            let base = node as usize * (m0 + 1);
            let count = list.len().min(m0);
            if let Some(slot) = self.links0.get_mut(base..base + 1 + count) {
                slot[0] = count as u32;
                slot[1..].copy_from_slice(&list[..count]);
            }
        } else if let Some(l) = self.upper.get_mut(&node).and_then(|layers| layers.get_mut(layer - 1)) {
            l.clear();
            l.extend_from_slice(list);
        }
    }

    /// A point's top layer, drawn from the usual exponential distribution by a hash of its vector (unique per
    /// point): no state to share between readers and the writer, and the same rows always build the same graph.
    fn level_for(&self, hash: u64) -> usize {
        let mut x = hash ^ 0x9e37_79b9_7f4a_7c15;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        let u = ((x >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let level = -u.ln() / (self.m as f64).ln();
        (level as usize).min(MAX_LEVEL)
    }

    /// Loads one byte of every cache line of these points' codes before any distance is computed: the loads are
    /// independent, so the processor fetches them all at once instead of one point after another (a prefetch
    /// without `unsafe`). Roughly halves the cost of a layer-0 step when the codes are not in cache.
    #[inline]
    fn touch(&self, nodes: &[u32]) {
        let mut x = 0u8;
        for &n in nodes {
            let code = self.code(n).code;
            for line in code.iter().step_by(64) {
                x ^= *line as u8;
            }
        }
        std::hint::black_box(x);
    }

    /// Greedy descent within one layer to a local minimum.
    fn greedy(&self, q: CodeRef<'_>, mut at: Near, layer: usize) -> Near {
        loop {
            let mut moved = false;
            for &n in self.links(at.node, layer) {
                let d = q.distance(self.code(n));
                if d < at.dist {
                    at = Near { dist: d, node: n };
                    moved = true;
                }
            }
            if !moved {
                return at;
            }
        }
    }

    /// Beam search of one layer: the `ef` nearest points found, nearest first. `seen` gets every point whose
    /// distance was computed; `budget` caps how many are (bounded work per search).
    #[allow(clippy::too_many_arguments)]
    fn search_layer(
        &self,
        q: CodeRef<'_>,
        entries: &[Near],
        ef: usize,
        layer: usize,
        visited: &mut Visited,
        budget: &mut usize,
        seen: &mut dyn FnMut(Near),
    ) -> Vec<Near> {
        visited.reset(self.len());
        let mut candidates: BinaryHeap<Reverse<Near>> = BinaryHeap::with_capacity(ef * 2);
        let mut best: BinaryHeap<Near> = BinaryHeap::with_capacity(ef + 1);
        for e in entries {
            if visited.insert(e.node) {
                candidates.push(Reverse(*e));
                best.push(*e);
                seen(*e);
            }
        }
        while best.len() > ef {
            best.pop();
        }
        'search: while let Some(Reverse(c)) = candidates.pop() {
            if best.len() >= ef && best.peek().is_some_and(|w| c.dist > w.dist) {
                break;
            }
            let mut fresh = [0u32; MAX_LINKS];
            let mut count = 0;
            for &n in self.links(c.node, layer) {
                if count < MAX_LINKS && visited.insert(n) {
                    fresh[count] = n;
                    count += 1;
                }
            }
            let fresh = &fresh[..count];
            self.touch(fresh);
            for &n in fresh {
                if *budget == 0 {
                    break 'search;
                }
                *budget -= 1;
                let near = Near {
                    dist: q.distance(self.code(n)),
                    node: n,
                };
                seen(near);
                if best.len() < ef || best.peek().is_some_and(|w| near.dist < w.dist) {
                    candidates.push(Reverse(near));
                    best.push(near);
                    if best.len() > ef {
                        best.pop();
                    }
                }
            }
        }
        best.into_sorted_vec()
    }

    /// The `ef` nearest points to `q` found by approximate distance, nearest first; `seen` gets every point whose
    /// approximate distance was computed on layer 0, at most `budget` of them. `seeds` are extra starting points
    /// for layer 0 (a point known to be near, such as one with the query's very vector).
    pub fn search(&self, q: &Code, seeds: &[u32], ef: usize, budget: usize, seen: &mut dyn FnMut(Near)) -> Vec<Near> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        if q.code.len() != self.dim {
            return Vec::new();
        }
        let q = q.view();
        let mut at = Near {
            dist: q.distance(self.code(entry)),
            node: entry,
        };
        for layer in (1..=self.max_level).rev() {
            at = self.greedy(q, at, layer);
        }
        let mut entries = vec![at];
        entries.extend(seeds.iter().filter(|&&s| (s as usize) < self.len()).map(|&s| Near {
            dist: q.distance(self.code(s)),
            node: s,
        }));
        let mut budget = budget;
        VISITED.with(|v| {
            let mut visited = v.borrow_mut();
            self.search_layer(q, &entries, ef.max(1), 0, &mut visited, &mut budget, seen)
        })
    }

    /// The diversity heuristic: walk candidates nearest first and keep one only if it is nearer to the base point
    /// than to every point kept so far. `code_of` resolves ids, including one not in the graph yet.
    fn select<'a>(candidates: &[Near], max: usize, code_of: &dyn Fn(u32) -> CodeRef<'a>) -> Vec<Near> {
        let mut kept: Vec<(Near, CodeRef<'a>)> = Vec::with_capacity(max);
        for c in candidates {
            if kept.len() >= max {
                break;
            }
            let v = code_of(c.node);
            if kept.iter().all(|(_, k)| v.distance(*k) > c.dist) {
                kept.push((*c, v));
            }
        }
        kept.into_iter().map(|(n, _)| n).collect()
    }

    /// Plans the insert of `v` (with vector hash `hash`) as point number `len()`: its level, its links and the
    /// reverse links it adds. Reads only.
    pub fn plan(&self, v: &[f32], hash: u64) -> Plan {
        let code = Code::of(v);
        self.plan_with(code, hash, self.len() as u32, &[])
    }

    /// Plans the inserts of a batch as points `len()`, `len() + 1`, … on up to `threads` threads. Each point also
    /// considers the batch's earlier points as neighbours (by brute force: they are not in the graph yet), so a
    /// batch builds the same kind of graph as one insert after another. Apply the plans in order.
    pub fn plan_batch(&self, rows: &[(&[f32], u64)], threads: usize) -> Vec<Plan> {
        let base = self.len() as u32;
        let codes: Vec<Code> = rows.iter().map(|(v, _)| Code::of(v)).collect();
        let siblings: Vec<Sibling<'_>> = codes
            .iter()
            .zip(rows)
            .enumerate()
            .map(|(j, (c, (_, hash)))| Sibling {
                id: base + j as u32,
                code: c.view(),
                level: self.level_for(*hash),
            })
            .collect();
        let plan_one = |j: usize| {
            let code = Code {
                code: codes[j].code.clone(),
                step: codes[j].step,
            };
            self.plan_with(code, rows[j].1, base + j as u32, &siblings[..j])
        };
        let threads = threads.clamp(1, rows.len().max(1));
        if threads == 1 {
            return (0..rows.len()).map(plan_one).collect();
        }
        let mut plans: Vec<Option<Plan>> = (0..rows.len()).map(|_| None).collect();
        let share = |t: usize| {
            (t..rows.len())
                .step_by(threads)
                .map(|j| (j, plan_one(j)))
                .collect::<Vec<_>>()
        };
        std::thread::scope(|scope| {
            // This thread plans the first share itself: one thread fewer to start per batch.
            let workers: Vec<_> = (1..threads).map(|t| scope.spawn(move || share(t))).collect();
            for (j, p) in share(0) {
                plans[j] = Some(p);
            }
            for worker in workers {
                // A planner that panicked leaves its plans out; `apply_all` plans those again on this thread.
                if let Ok(done) = worker.join() {
                    for (j, p) in done {
                        plans[j] = Some(p);
                    }
                }
            }
        });
        plans
            .into_iter()
            .enumerate()
            .map(|(j, p)| p.unwrap_or_else(|| plan_one(j)))
            .collect()
    }

    fn plan_with(&self, code: Code, hash: u64, new_id: u32, siblings: &[Sibling<'_>]) -> Plan {
        let level = self.level_for(hash);
        let mut plan = Plan {
            id: new_id,
            level,
            code,
            links: vec![Vec::new(); level + 1],
            updates: Vec::new(),
        };
        let q = plan.code.view();
        let base = self.len() as u32;
        let code_of = |n: u32| {
            if n == new_id {
                q
            } else if n >= base {
                siblings.get((n - base) as usize).map_or(q, |s| s.code)
            } else {
                self.code(n)
            }
        };
        let mut entries: Vec<Near> = Vec::new();
        if let Some(entry) = self.entry {
            let mut at = Near {
                dist: q.distance(self.code(entry)),
                node: entry,
            };
            for layer in ((level + 1)..=self.max_level).rev() {
                at = self.greedy(q, at, layer);
            }
            entries.push(at);
        }
        let top = siblings.iter().map(|s| s.level).fold(self.max_level, usize::max);
        let mut links = std::mem::take(&mut plan.links);
        VISITED.with(|cell| {
            let mut visited = cell.borrow_mut();
            for layer in (0..=level.min(top)).rev() {
                let mut found = if layer <= self.max_level && !entries.is_empty() {
                    let mut budget = usize::MAX;
                    self.search_layer(
                        q,
                        &entries,
                        self.ef_construction,
                        layer,
                        &mut visited,
                        &mut budget,
                        &mut |_| {},
                    )
                } else {
                    Vec::new()
                };
                if !found.is_empty() {
                    entries.clone_from(&found);
                }
                let before = found.len();
                found.extend(siblings.iter().filter(|s| s.level >= layer).map(|s| Near {
                    dist: q.distance(s.code),
                    node: s.id,
                }));
                if found.len() > before {
                    found.sort_unstable();
                }
                let max = self.max_links(layer);
                let chosen = Self::select(&found, max, &code_of);
                for near in &chosen {
                    let c = near.node;
                    if c >= base {
                        // A sibling's links are known only when it is applied: merge then.
                        plan.updates.push(Update {
                            node: c,
                            layer,
                            seen: None,
                            list: Vec::new(),
                            dist: near.dist,
                        });
                        continue;
                    }
                    let existing = self.links(c, layer);
                    let list = if existing.len() < max {
                        let mut l = existing.to_vec();
                        l.push(new_id);
                        l
                    } else {
                        self.pruned(c, existing, new_id, near.dist, max, &code_of)
                    };
                    plan.updates.push(Update {
                        node: c,
                        layer,
                        seen: Some(existing.to_vec()),
                        list,
                        dist: near.dist,
                    });
                }
                if let Some(l) = links.get_mut(layer) {
                    *l = chosen.iter().map(|n| n.node).collect();
                }
            }
        });
        plan.links = links;
        plan
    }

    /// `existing` links of `c` plus `new` (at distance `dist` from `c`), cut back to `max` by the heuristic.
    fn pruned<'a>(
        &'a self,
        c: u32,
        existing: &[u32],
        new: u32,
        dist: f32,
        max: usize,
        code_of: &dyn Fn(u32) -> CodeRef<'a>,
    ) -> Vec<u32> {
        let base = code_of(c);
        let mut cands: Vec<Near> = existing
            .iter()
            .map(|&e| Near {
                dist: base.distance(code_of(e)),
                node: e,
            })
            .collect();
        cands.push(Near { dist, node: new });
        cands.sort_unstable();
        Self::select(&cands, max, code_of).iter().map(|n| n.node).collect()
    }

    /// Adds the planned point. A plan made for another position (the graph changed in between) is made again.
    pub fn apply(&mut self, plan: Plan, v: &[f32], origin: i64, hash: u64) {
        if v.len() != self.dim {
            return;
        }
        let plan = if plan.id as usize == self.len() {
            plan
        } else {
            self.plan(v, hash)
        };
        let id = self.len() as u32;
        self.vectors.extend_from_slice(v);
        self.codes.extend_from_slice(&plan.code.code);
        self.steps.push(plan.code.step);
        self.origins.push(origin);
        self.hashes.push(hash);
        self.levels.push(plan.level as u8);
        self.links0.push(0);
        self.links0.extend(std::iter::repeat_n(0, self.m0()));
        if plan.level > 0 {
            self.upper.insert(id, vec![Vec::new(); plan.level]);
        }
        for (layer, list) in plan.links.iter().enumerate() {
            self.set_links(id, layer, list);
        }
        for u in &plan.updates {
            let current = self.links(u.node, u.layer);
            if u.seen.as_deref() == Some(current) {
                self.set_links(u.node, u.layer, &u.list);
            } else if !current.contains(&id) {
                // The list changed since the plan (an earlier point of the same batch): merge into what is there.
                let max = self.max_links(u.layer);
                let list = if current.len() < max {
                    let mut l = current.to_vec();
                    l.push(id);
                    l
                } else {
                    let code_of = |n: u32| self.code(n);
                    self.pruned(u.node, current, id, u.dist, max, &code_of)
                };
                self.set_links(u.node, u.layer, &list);
            }
        }
        self.by_hash.entry(hash).or_insert(id);
        if self.entry.is_none() || plan.level > self.max_level {
            self.entry = Some(id);
            self.max_level = plan.level;
        }
    }

    /// Inserts rows `(vector, origin, hash)` into a graph nobody else reads yet, batches planned on `threads`
    /// threads. Rows whose hash already has a point are skipped.
    pub fn insert_all(&mut self, rows: &[(&[f32], i64, u64)], threads: usize) {
        let mut seen = std::collections::HashSet::new();
        let fresh: Vec<&(&[f32], i64, u64)> = rows
            .iter()
            .filter(|(v, _, h)| v.len() == self.dim && self.node_of_hash(*h).is_none() && seen.insert(*h))
            .collect();
        for chunk in fresh.chunks(PLAN_BATCH) {
            let batch: Vec<(&[f32], u64)> = chunk.iter().map(|(v, _, h)| (*v, *h)).collect();
            let plans = self.plan_batch(&batch, threads);
            for (plan, (v, origin, hash)) in plans.into_iter().zip(chunk) {
                self.apply(plan, v, *origin, *hash);
            }
        }
    }

    /// Writes the graph to `path` in a versioned little-endian format ending in a checksum.
    pub fn write_to(&self, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path).map_err(|e| MemoryError::io(format!("create {}", path.display()), e))?;
        let mut w = ChecksumWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        let io = |e| MemoryError::io(format!("write {}", path.display()), e);
        w.write_all(MAGIC).map_err(io)?;
        for x in [self.dim, self.m, self.ef_construction, self.len(), self.max_level] {
            w.write_all(&(x as u64).to_le_bytes()).map_err(io)?;
        }
        w.write_all(&self.entry.map_or(u64::MAX, u64::from).to_le_bytes())
            .map_err(io)?;
        for i in 0..self.len() {
            w.write_all(&self.origins[i].to_le_bytes()).map_err(io)?;
            w.write_all(&self.hashes[i].to_le_bytes()).map_err(io)?;
            w.write_all(&[self.levels[i]]).map_err(io)?;
        }
        let mut buf = Vec::with_capacity(64 * 1024);
        for chunk in self.vectors.chunks(16 * 1024) {
            buf.clear();
            chunk.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
            w.write_all(&buf).map_err(io)?;
        }
        for chunk in self.links0.chunks(16 * 1024) {
            buf.clear();
            chunk.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
            w.write_all(&buf).map_err(io)?;
        }
        for i in 0..self.len() as u32 {
            for layer in 1..=self.levels[i as usize] as usize {
                let l = self.links(i, layer);
                w.write_all(&(l.len() as u32).to_le_bytes()).map_err(io)?;
                for x in l {
                    w.write_all(&x.to_le_bytes()).map_err(io)?;
                }
            }
        }
        let sum = w.state.finish();
        let mut inner = w.inner;
        inner.write_all(&sum.to_le_bytes()).map_err(io)?;
        let file = inner.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Reads a graph written by [`write_to`](Self::write_to), checking its checksum and every id and count, so a
    /// damaged or foreign file is an error, never a panic or a wrong answer.
    pub fn read_from(path: &Path, dim: usize) -> Result<Self> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| MemoryError::io(format!("read {}", path.display()), e))?;
        let bad = |why: &str| MemoryError::Index(format!("index dump {}: {why}", path.display()));
        if bytes.len() < MAGIC.len() + 8 {
            return Err(bad("too short"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let stored = u64::from_le_bytes(tail.try_into().map_err(|_| bad("too short"))?);
        let mut sum = Checksum::default();
        sum.update(body);
        if sum.finish() != stored {
            return Err(bad("checksum mismatch"));
        }
        let mut r = Cursor { bytes: body, at: 0 };
        if r.take(MAGIC.len()) != Some(MAGIC) {
            return Err(bad("not an aimds index dump"));
        }
        let mut u = || r.u64().ok_or_else(|| bad("truncated header"));
        let (file_dim, m, ef_construction, n, max_level) = (u()?, u()?, u()?, u()?, u()?);
        let entry = u()?;
        if file_dim != dim as u64 || !(4..=64).contains(&m) || max_level > MAX_LEVEL as u64 {
            return Err(bad("header does not match"));
        }
        let (m, n) = (m as usize, usize::try_from(n).map_err(|_| bad("too many points"))?);
        let m0 = 2 * m;
        // Every size below is checked against the bytes actually present before anything is allocated.
        let fixed = n
            .checked_mul(17 + dim * 4 + (m0 + 1) * 4)
            .ok_or_else(|| bad("too many points"))?;
        if fixed > r.remaining() {
            return Err(bad("truncated"));
        }
        let mut g = Graph::new(dim, m, ef_construction as usize, 0);
        g.max_level = max_level as usize;
        g.origins.reserve(n);
        for _ in 0..n {
            let (origin, hash, level) = (r.u64(), r.u64(), r.take(1).and_then(|b| b.first().copied()));
            let (Some(origin), Some(hash), Some(level)) = (origin, hash, level) else {
                return Err(bad("truncated points"));
            };
            if level as u64 > max_level {
                return Err(bad("point above the top layer"));
            }
            g.origins.push(origin as i64);
            g.hashes.push(hash);
            g.levels.push(level);
        }
        let floats = r.take(n * dim * 4).ok_or_else(|| bad("truncated vectors"))?;
        g.vectors = floats
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if g.vectors.iter().any(|x| !x.is_finite()) {
            return Err(bad("non-finite vector"));
        }
        g.codes.reserve(n * dim);
        g.steps.reserve(n);
        for v in g.vectors.chunks_exact(dim.max(1)) {
            let c = Code::of(v);
            g.codes.extend_from_slice(&c.code);
            g.steps.push(c.step);
        }
        let links = r.take(n * (m0 + 1) * 4).ok_or_else(|| bad("truncated links"))?;
        g.links0 = links
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        for i in 0..n {
            let base = i * (m0 + 1);
            let count = g.links0[base] as usize;
            if count > m0 || g.links0[base + 1..base + 1 + count].iter().any(|&x| x as usize >= n) {
                return Err(bad("bad layer-0 links"));
            }
        }
        for i in 0..n {
            let level = g.levels[i] as usize;
            if level == 0 {
                continue;
            }
            let mut layers = Vec::with_capacity(level);
            for _ in 0..level {
                let count = r.u32().ok_or_else(|| bad("truncated upper links"))? as usize;
                if count > m {
                    return Err(bad("bad upper links"));
                }
                let mut l = Vec::with_capacity(count);
                for _ in 0..count {
                    let x = r.u32().ok_or_else(|| bad("truncated upper links"))?;
                    if x as usize >= n {
                        return Err(bad("bad upper links"));
                    }
                    l.push(x);
                }
                layers.push(l);
            }
            g.upper.insert(i as u32, layers);
        }
        if r.remaining() != 0 {
            return Err(bad("trailing bytes"));
        }
        g.entry = match entry {
            u64::MAX if n == 0 => None,
            e if (e as usize) < n && g.levels[e as usize] as usize == g.max_level => Some(e as u32),
            _ => return Err(bad("bad entry point")),
        };
        g.by_hash.reserve(n);
        for (i, h) in g.hashes.iter().enumerate() {
            g.by_hash.entry(*h).or_insert(i as u32);
        }
        Ok(g)
    }
}

const MAGIC: &[u8] = b"aimds-hnsw-v1\0\0\0";

/// A fast 64-bit checksum over whole words (four independent lanes): catches torn and damaged files, which is
/// all a dump needs; it is not a defence against a forger, who could as well edit the database.
#[derive(Default)]
struct Checksum {
    lanes: [u64; 4],
    pending: Vec<u8>,
    len: u64,
}

impl Checksum {
    fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if !self.pending.is_empty() {
            let need = 32 - self.pending.len();
            let take = need.min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() == 32 {
                let block = std::mem::take(&mut self.pending);
                self.block(&block);
            }
        }
        let mut blocks = bytes.chunks_exact(32);
        for b in &mut blocks {
            self.block(b);
        }
        self.pending.extend_from_slice(blocks.remainder());
    }

    fn block(&mut self, b: &[u8]) {
        for (lane, w) in self.lanes.iter_mut().zip(b.chunks_exact(8)) {
            let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            *lane = (*lane ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
        }
    }

    fn finish(&self) -> u64 {
        let mut h = self.len.wrapping_mul(0xff51_afd7_ed55_8ccd);
        for (i, lane) in self.lanes.iter().enumerate() {
            h = (h ^ lane.rotate_left(i as u32 * 16)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        }
        for b in &self.pending {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^ (h >> 33)
    }
}

struct ChecksumWriter<W: Write> {
    inner: W,
    state: Checksum,
}

impl<W: Write> ChecksumWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            state: Checksum::default(),
        }
    }
}

impl<W: Write> Write for ChecksumWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.state.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit vectors in `clusters` tight groups plus noise: the shape of a memory of attack texts and their variants.
    fn data(n: usize, dim: usize, clusters: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut x = seed | 1;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..clusters).map(|_| (0..dim).map(|_| rnd()).collect()).collect();
        (0..n)
            .map(|i| {
                let c = &centres[i % clusters];
                let mut v: Vec<f32> = c.iter().map(|x| x + 0.35 * rnd()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x *= (1.0 - 1e-5) / norm);
                v
            })
            .collect()
    }

    fn build(vectors: &[Vec<f32>], threads: usize) -> Graph {
        let mut g = Graph::new(vectors[0].len(), 16, 64, vectors.len());
        let rows: Vec<(&[f32], i64, u64)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (v.as_slice(), i as i64 + 1, crate::vector::vector_hash(v)))
            .collect();
        g.insert_all(&rows, threads);
        g
    }

    fn recall_at_10(g: &Graph, vectors: &[Vec<f32>], queries: &[Vec<f32>], ef: usize) -> f64 {
        let mut found = 0;
        for q in queries {
            let mut exact: Vec<(f32, usize)> = vectors.iter().enumerate().map(|(i, v)| (dot(q, v), i)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let want: std::collections::HashSet<usize> = exact.iter().take(10).map(|e| e.1).collect();
            let got = g.search(&Code::of(q), &[], ef, usize::MAX, &mut |_| {});
            found += got
                .iter()
                .take(10)
                .filter(|n| want.contains(&(g.origins[n.node as usize] as usize - 1)))
                .count();
        }
        found as f64 / (queries.len() * 10) as f64
    }

    #[test]
    fn recall_against_brute_force_sequential_and_batched() {
        let vectors = data(3000, 48, 150, 7);
        let queries: Vec<Vec<f32>> = data(200, 48, 150, 7)
            .into_iter()
            .zip(data(200, 48, 150, 99))
            .map(|(a, b)| {
                // Fresh points near the clusters.
                let mut v: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + 0.2 * y).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= norm * (1.0 + 1e-5));
                v
            })
            .collect();
        for threads in [1, 3] {
            let g = build(&vectors, threads);
            assert_eq!(g.len(), vectors.len());
            let r = recall_at_10(&g, &vectors, &queries, 64);
            assert!(r >= 0.95, "recall@10 {r} with {threads} planner threads");
            // Every point finds itself.
            let missed = vectors
                .iter()
                .enumerate()
                .filter(|(i, v)| {
                    let best = g.search(&Code::of(v), &[], 32, usize::MAX, &mut |_| {});
                    best.first().map(|n| g.origins[n.node as usize]) != Some(*i as i64 + 1)
                })
                .count();
            assert!(missed <= vectors.len() / 200, "{missed} points not found by themselves");
        }
    }

    #[test]
    fn links_stay_within_bounds_and_point_at_real_points() {
        let vectors = data(1500, 32, 40, 3);
        let g = build(&vectors, 2);
        for i in 0..g.len() as u32 {
            for layer in 0..=g.levels[i as usize] as usize {
                let l = g.links(i, layer);
                assert!(l.len() <= g.max_links(layer));
                assert!(
                    l.iter().all(|&n| (n as usize) < g.len() && n != i),
                    "point {i} layer {layer}: {l:?}"
                );
                let unique: std::collections::HashSet<_> = l.iter().collect();
                assert_eq!(unique.len(), l.len());
            }
        }
        // Duplicates (same hash) get no second point.
        let mut g2 = g.clone();
        let v = &vectors[0];
        g2.insert_all(&[(v.as_slice(), 99_999, crate::vector::vector_hash(v))], 1);
        assert_eq!(g2.len(), g.len());
    }

    #[test]
    fn a_stale_plan_is_made_again() {
        let vectors = data(300, 16, 10, 5);
        let mut g = build(&vectors[..200], 1);
        let a = &vectors[200];
        let b = &vectors[201];
        let stale = g.plan(a, crate::vector::vector_hash(a));
        g.apply(g.plan(b, 2), b, 1000, 2);
        g.apply(stale, a, 1001, 1);
        assert_eq!(g.len(), 202);
        let best = g.search(&Code::of(a), &[], 32, usize::MAX, &mut |_| {});
        assert_eq!(best.first().map(|n| g.origins[n.node as usize]), Some(1001));
    }

    #[test]
    fn approximate_distances_stay_within_their_bound() {
        let vectors = data(400, 256, 20, 11);
        let mut worst = 0.0f32;
        for (a, b) in vectors.iter().zip(vectors.iter().skip(1)) {
            let (ca, cb) = (Code::of(a), Code::of(b));
            let err = (1.0 - ca.view().distance(cb.view()) - dot(a, b)).abs();
            let bound = approx_error_bound(256, ca.step, cb.step);
            assert!(err <= bound, "error {err} above bound {bound}");
            worst = worst.max(err);
        }
        assert!(worst < 0.01, "typical error {worst} is far below the bound");
        assert_eq!(Code::of(&[0.0; 4]).step, 0.0);
    }

    #[test]
    fn dump_round_trip_and_damage() {
        let vectors = data(800, 24, 30, 13);
        let g = build(&vectors, 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.bin");
        g.write_to(&path).unwrap();
        let back = Graph::read_from(&path, 24).unwrap();
        assert_eq!(back.len(), g.len());
        for q in vectors.iter().step_by(37) {
            let a = g.search(&Code::of(q), &[], 32, usize::MAX, &mut |_| {});
            let b = back.search(&Code::of(q), &[], 32, usize::MAX, &mut |_| {});
            assert_eq!(a, b);
        }
        assert!(Graph::read_from(&path, 25).is_err(), "another dimension");
        let good = std::fs::read(&path).unwrap();
        for cut in [0, 10, good.len() / 3, good.len() - 1] {
            std::fs::write(&path, &good[..cut]).unwrap();
            assert!(Graph::read_from(&path, 24).is_err(), "cut at {cut}");
        }
        // A consistent checksum over bad content (a link to a point that does not exist) is still refused.
        let mut bad = good.clone();
        let links_at = MAGIC.len() + 6 * 8 + g.len() * 17 + g.len() * 24 * 4;
        bad[links_at..links_at + 4].copy_from_slice(&1u32.to_le_bytes());
        bad[links_at + 4..links_at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        let body = bad.len() - 8;
        let mut sum = Checksum::default();
        sum.update(&bad[..body]);
        let s = sum.finish().to_le_bytes();
        bad[body..].copy_from_slice(&s);
        std::fs::write(&path, &bad).unwrap();
        let err = Graph::read_from(&path, 24).unwrap_err().to_string();
        assert!(err.contains("links"), "{err}");
    }

    #[test]
    fn checksum_is_independent_of_write_boundaries() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut one = Checksum::default();
        one.update(&bytes);
        let mut pieces = Checksum::default();
        for chunk in bytes.chunks(13) {
            pieces.update(chunk);
        }
        assert_eq!(one.finish(), pieces.finish());
        let mut other = Checksum::default();
        other.update(&bytes[1..]);
        assert_ne!(one.finish(), other.finish());
    }
}
