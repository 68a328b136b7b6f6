//! Vector-memory speed and quality: insert throughput (committed, and in the HNSW graph), search latency and
//! recall@10 against exact brute force, open time (rebuild vs reload).
//!
//! cargo bench -p aimds-memory --bench memory
//! AIMDS_BENCH_SIZES=10000,100000,1000000 cargo bench -p aimds-memory --bench memory   # sizes to search at
//! AIMDS_BENCH_EF=128 …                                                                  # ef_search of those
//!
//! Criterion reports means; percentiles, recall and open times are printed as `memory:` lines, since criterion has
//! no percentiles. Each size's memory is filled once.
//!
//! Data: variants of the corpus texts (`AIMDS_CORPUS`, default ../shared/corpus; each cut to its first 2 KB, the
//! size of a detection segment, and mutated by dropping, swapping and adding words) — what an attack memory holds.
//! Without a corpus, and always for the `random_vocab` rows, texts of random words from a 4000-word vocabulary: a
//! worst case for HNSW, since their embeddings are close to random vectors.
//!
//! Queries: half are light edits of stored texts (upper-cased, a word appended: the near-duplicate that must be
//! found), half are texts of the same kind that are not stored (what most scans look like).
use std::hint::black_box;
use std::time::{Duration, Instant};

use aimds_memory::embed::cosine;
use aimds_memory::{Memory, MemoryOptions, NewPattern, PatternStatus, SearchFilter};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const K: usize = 10;
const THRESHOLD: f32 = 0.5;
/// Queries checked against brute force per size (each costs a full scan): 1000, fewer above 300K vectors.
fn recall_queries(size: usize) -> usize {
    (300_000_000 / size.max(1)).clamp(100, 1000)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Texts of 6–40 words from a 4000-word vocabulary with a skewed (Zipf-like) choice, like real prompts.
fn texts(n: usize, seed: u64) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "tra", "ven", "so", "ri", "pel", "qua", "dor", "ex", "ni", "bu", "sta",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vocab: Vec<String> = (0..4000)
        .map(|_| {
            (0..2 + rng.below(3))
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect();
    let mut rng = Rng(seed | 1);
    (0..n)
        .map(|_| {
            let words = 6 + rng.below(35);
            (0..words)
                .map(|_| {
                    let r = rng.below(1 << 16) as f64 / 65536.0;
                    vocab[((r * r) * vocab.len() as f64) as usize].as_str()
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn corpus_texts() -> Option<Vec<String>> {
    let dir = std::env::var("AIMDS_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").into());
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files {
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(&path).ok()?.lines() {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            if let Some(t) = v.get("text").and_then(|t| t.as_str()) {
                let mut end = t.len().min(2048);
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                out.push(t[..end].to_string());
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `n` texts to store (corpus texts and mutated variants of them) and fresh queries (held-out corpus texts, every
/// 8th), or random-vocabulary texts for both without a corpus.
fn realistic(n: usize, seed: u64) -> (Vec<String>, Vec<String>, &'static str) {
    let Some(all) = corpus_texts() else {
        return (texts(n, seed), texts(5000, seed ^ 7), "random_vocab");
    };
    let held_out: Vec<String> = all.iter().step_by(8).cloned().collect();
    let base: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 8 != 0)
        .map(|(_, t)| t.clone())
        .collect();
    let mut rng = Rng(seed | 1);
    let extra = texts(256, seed ^ 0xabc);
    let out = (0..n)
        .map(|i| {
            let t = &base[i % base.len()];
            if i < base.len() {
                return t.clone();
            }
            let mut words: Vec<&str> = t.split_whitespace().collect();
            for _ in 0..1 + rng.below(3) {
                match rng.below(3) {
                    0 if words.len() > 3 => {
                        let at = rng.below(words.len());
                        words.remove(at);
                    }
                    1 if words.len() > 3 => {
                        let (a, b) = (rng.below(words.len()), rng.below(words.len()));
                        words.swap(a, b);
                    }
                    _ => {
                        let w = extra[rng.below(extra.len())].split(' ').next().unwrap_or("x");
                        let at = rng.below(words.len() + 1);
                        words.insert(at, w);
                    }
                }
            }
            format!("{} v{i}", words.join(" "))
        })
        .collect();
    (out, held_out, "corpus_variants")
}

fn patterns(texts: &[String]) -> Vec<NewPattern> {
    texts
        .iter()
        .map(|t| NewPattern {
            text: t.clone(),
            category: "bench".into(),
            status: PatternStatus::Active,
            provenance: "bench".into(),
        })
        .collect()
}

fn fill(m: &Memory, texts: &[String]) {
    for chunk in texts.chunks(5000) {
        m.patterns_add(patterns(chunk)).unwrap();
    }
}

fn no_dump() -> MemoryOptions {
    MemoryOptions {
        persist_index: false,
        ..MemoryOptions::default()
    }
}

/// Fills `m`, printing how fast rows were acknowledged (committed, searchable) and how fast they reached the graph.
fn fill_and_report(m: &Memory, stored: &[String], label: &str) -> (Duration, Duration) {
    let t = Instant::now();
    fill(m, stored);
    let acked = t.elapsed();
    m.wait_indexed();
    let indexed = t.elapsed();
    let n = stored.len() as f64;
    println!(
        "memory: insert {label}: acknowledged {:.0}/s ({acked:.2?}), in the HNSW graph {:.0}/s ({indexed:.2?})",
        n / acked.as_secs_f64(),
        n / indexed.as_secs_f64()
    );
    (acked, indexed)
}

fn insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_insert");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1));
    let n = 10_000;
    let (corpus, _, corpus_name) = realistic(n, 1);
    for (data, name) in [(corpus, corpus_name), (texts(n, 1), "random_vocab")] {
        group.throughput(Throughput::Elements(n as u64));
        // Embed, SQLite commit (WAL, synchronous=FULL, one transaction per 5000 rows) and every row in the HNSW
        // graph: the whole cost of a bulk load, not just the acknowledgement.
        group.bench_function(BenchmarkId::new("patterns_add_10k_file_indexed", name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = tempfile::tempdir().unwrap();
                    let m = Memory::open_with(dir.path().join("b.db"), no_dump()).unwrap();
                    total += fill_and_report(&m, &data, &format!("{name} 10K file")).1;
                }
                total
            })
        });
    }
    group.finish();
}

fn sizes() -> Vec<usize> {
    std::env::var("AIMDS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() as f64 * p) as usize).min(times.len() - 1)]
}

fn report_latency(times: &mut [Duration], label: &str) {
    println!(
        "memory: search {label} over {} queries: p50 {:.1?} p99 {:.1?} max {:.1?}",
        times.len(),
        percentile(times, 0.50),
        percentile(times, 0.99),
        percentile(times, 1.0)
    );
}

/// recall@K against exact brute force over every stored vector: for each query, the share of its exact top K (with
/// similarity ≥ THRESHOLD) that the index returned, counting ties (identical similarity) as equal.
fn recall(m: &Memory, stored: &[Vec<f32>], queries: &[Vec<f32>], label: &str) {
    let filter = SearchFilter::active_patterns();
    let (mut sum, mut counted, mut top1, mut top1_n) = (0.0f64, 0usize, 0usize, 0usize);
    for q in queries {
        let mut exact: Vec<f32> = stored
            .iter()
            .map(|v| cosine(q, v))
            .filter(|s| *s >= THRESHOLD)
            .collect();
        if exact.is_empty() {
            continue;
        }
        exact.sort_by(|a, b| b.total_cmp(a));
        exact.truncate(K);
        let kth = exact[exact.len() - 1];
        let hits = m.search_vector(q, K, THRESHOLD, &filter).unwrap();
        let good = hits
            .iter()
            .filter(|h| h.similarity >= kth - 1e-5)
            .count()
            .min(exact.len());
        sum += good as f64 / exact.len() as f64;
        counted += 1;
        top1_n += 1;
        if hits.first().is_some_and(|h| h.similarity >= exact[0] - 1e-5) {
            top1 += 1;
        }
    }
    println!(
        "memory: recall@{K} {label}: {:.4} over {counted} queries with a true neighbour ≥ {THRESHOLD} \
         (of {}); top-1 found {top1}/{top1_n}",
        sum / counted.max(1) as f64,
        queries.len()
    );
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_search");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    let mut cases: Vec<(usize, bool)> = vec![(10_000, true)];
    cases.extend(sizes().into_iter().map(|s| (s, false)));
    let mut options = MemoryOptions::default();
    if let Some(ef) = std::env::var("AIMDS_BENCH_EF").ok().and_then(|s| s.parse().ok()) {
        options.index.ef_search = ef;
    }
    for (size, random) in cases {
        let m = Memory::open_with(aimds_memory::IN_MEMORY, options.clone()).unwrap();
        let (stored, queries, name) = if random {
            (texts(size, 11), texts(5000, 7), "random_vocab")
        } else {
            realistic(size, 11)
        };
        fill_and_report(&m, &stored, &format!("{name} {size} in RAM"));
        let mixed: Vec<String> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                if i % 2 == 0 {
                    format!("{}  PLEASE", stored[(i * 7919) % size].to_uppercase())
                } else {
                    q.clone()
                }
            })
            .collect();
        let filter = SearchFilter::active_patterns();
        let vectors: Vec<Vec<f32>> = mixed.iter().map(|q| m.embedder().embed(q)).collect();
        let label = format!("{name} at {size} k={K} ef={}", options.index.ef_search);
        // Twice: the second pass shows whether the first was disturbed by other work on the machine.
        for _ in 0..2 {
            let mut times: Vec<Duration> = vectors
                .iter()
                .map(|v| {
                    let t = Instant::now();
                    black_box(m.search_vector(v, K, THRESHOLD, &filter).unwrap());
                    t.elapsed()
                })
                .collect();
            report_latency(&mut times, &format!("{label} (vector search only)"));
        }
        let mut times: Vec<Duration> = mixed
            .iter()
            .map(|q| {
                let t = Instant::now();
                black_box(m.search_text(q, K, THRESHOLD, &filter).unwrap());
                t.elapsed()
            })
            .collect();
        report_latency(&mut times, &format!("{label} (embed + search)"));
        // The same text is stored once (patterns are unique per text and category), so brute force sees it once.
        let unique: std::collections::HashSet<&String> = stored.iter().collect();
        let stored_vectors: Vec<Vec<f32>> = unique.iter().map(|t| m.embedder().embed(t)).collect();
        let sample: Vec<Vec<f32>> = vectors.iter().take(recall_queries(size)).cloned().collect();
        recall(&m, &stored_vectors, &sample, &label);
        drop(stored_vectors);

        let mut i = 0;
        group.bench_with_input(
            BenchmarkId::new(format!("search_vector_k10_{name}"), size),
            &size,
            |b, _| {
                b.iter(|| {
                    i = (i + 1) % vectors.len();
                    black_box(m.search_vector(&vectors[i], K, THRESHOLD, &filter).unwrap())
                })
            },
        );
        drop(m);
        if size == 100_000 {
            open_times(&stored);
        }
    }
    group.finish();
}

/// Open of a 100K-vector file: a full rebuild from SQLite versus a reload of the dumped index, three times each.
fn open_times(stored: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("open.db");
    let m = Memory::open(&db).unwrap();
    fill(&m, stored);
    m.wait_indexed();
    let t = Instant::now();
    m.close().unwrap();
    println!("memory: close with index dump at 100K: {:.2?}", t.elapsed());
    for _ in 0..3 {
        let t = Instant::now();
        let m = Memory::open(&db).unwrap();
        println!("memory: open at 100K, index reloaded from dump: {:.2?}", t.elapsed());
        let stats = m.stats().unwrap();
        assert_eq!(stats.index_live as i64, stats.vectors);
        assert_eq!(stats.index_pending, 0);
        drop(m);
    }
    for _ in 0..3 {
        let t = Instant::now();
        let m = Memory::open_with(&db, no_dump()).unwrap();
        println!("memory: open at 100K, index rebuilt from SQLite: {:.2?}", t.elapsed());
        drop(m);
    }
}

criterion_group!(benches, insert, search);
criterion_main!(benches);
