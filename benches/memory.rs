//! Vector-memory speed: insert throughput, search latency at 10K and 100K vectors, open time (rebuild vs reload).
//!
//! cargo bench --bench memory
//! Criterion reports means; p50/p99 of single searches and the open times are printed as `memory:` lines, since
//! criterion has no percentiles. The 100K setups are built once per group.
//!
//! Data: variants of the corpus texts (`AIMDS_CORPUS`, default ../shared/corpus; each cut to its first 2 KB, the
//! size of a detection segment, and mutated by dropping, swapping and adding words) — what an attack memory holds.
//! Without a corpus, and always for the `random_vocab` rows, texts of random words from a 4000-word vocabulary: a
//! worst case for HNSW, since their embeddings are close to random vectors.
use std::hint::black_box;
use std::time::{Duration, Instant};

use aimds_memory::{Memory, MemoryOptions, NewPattern, PatternStatus, SearchFilter};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

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
    let dir = std::env::var("AIMDS_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
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

fn insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_insert");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    let n = 10_000;
    let (corpus, _, corpus_name) = realistic(n, 1);
    for (data, name) in [(corpus, corpus_name), (texts(n, 1), "random_vocab")] {
        group.throughput(Throughput::Elements(n as u64));
        // The acknowledged path: embed, SQLite commit (WAL, synchronous=FULL, one transaction per 5000), searchable
        // at once. The HNSW graph catches up in the background; its rate is printed separately.
        group.bench_function(BenchmarkId::new("patterns_add_10k_file", name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = tempfile::tempdir().unwrap();
                    let opts = MemoryOptions {
                        persist_index: false,
                        ..MemoryOptions::default()
                    };
                    let m = Memory::open_with(dir.path().join("b.db"), opts).unwrap();
                    let start = Instant::now();
                    fill(&m, &data);
                    total += start.elapsed();
                    m.wait_indexed();
                }
                total
            })
        });
        let m = Memory::open_in_memory().unwrap();
        let t = Instant::now();
        fill(&m, &data);
        let acked = t.elapsed();
        m.wait_indexed();
        let indexed = t.elapsed();
        println!(
            "memory: {name} 10K: acknowledged {:.0}/s, in the HNSW graph {:.0}/s",
            n as f64 / acked.as_secs_f64(),
            n as f64 / indexed.as_secs_f64()
        );
    }
    group.finish();
}

fn percentiles(m: &Memory, queries: &[String], label: &str) {
    let filter = SearchFilter::active_patterns();
    let mut times: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            black_box(m.search_text(q, 10, 0.5, &filter).unwrap());
            t.elapsed()
        })
        .collect();
    report(&mut times, &format!("{label} k=10 (embed + search)"));
    // The index alone, queries embedded beforehand: the budget of DESIGN §7.
    let vectors: Vec<Vec<f32>> = queries.iter().map(|q| m.embedder().embed(q)).collect();
    let mut times: Vec<Duration> = vectors
        .iter()
        .map(|v| {
            let t = Instant::now();
            black_box(m.search_vector(v, 10, 0.5, &filter).unwrap());
            t.elapsed()
        })
        .collect();
    report(&mut times, &format!("{label} k=10 (vector search only)"));
}

fn report(times: &mut [Duration], label: &str) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "memory: search {label} over {} queries: p50 {:?} p99 {:?} max {:?}",
        times.len(),
        at(0.50),
        at(0.99),
        at(1.0)
    );
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_search");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for (size, random) in [(10_000usize, true), (10_000, false), (100_000, false)] {
        let m = Memory::open_in_memory().unwrap();
        let (stored, queries, name) = if random {
            (texts(size, 11), texts(5000, 7), "random_vocab")
        } else {
            realistic(size, 11)
        };
        let t = Instant::now();
        fill(&m, &stored);
        let acked = t.elapsed();
        m.wait_indexed();
        let took = t.elapsed();
        println!(
            "memory: {name} {size}: acknowledged in {acked:?} ({:.0}/s), in the graph after {took:?} ({:.0}/s)",
            size as f64 / acked.as_secs_f64(),
            size as f64 / took.as_secs_f64()
        );
        // Half the queries are light edits of stored texts (a near-duplicate must be found), half are fresh texts
        // of the same kind that are not stored (what most scans look like).
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
        percentiles(&m, &mixed, &format!("{name} at {size}"));
        let mut i = 0;
        group.bench_with_input(
            BenchmarkId::new(format!("search_text_k10_{name}"), size),
            &size,
            |b, _| {
                b.iter(|| {
                    i = (i + 1) % mixed.len();
                    black_box(
                        m.search_text(&mixed[i], 10, 0.5, &SearchFilter::active_patterns())
                            .unwrap(),
                    )
                })
            },
        );
        if size == 100_000 {
            open_times(&stored);
        }
    }
    group.finish();
}

/// Open of a 100K-vector file: a full rebuild from SQLite versus a reload of the dumped index.
fn open_times(stored: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("open.db");
    let m = Memory::open(&db).unwrap();
    fill(&m, stored);
    m.wait_indexed();
    let t = Instant::now();
    m.close().unwrap();
    println!("memory: close with index dump at 100K: {:?}", t.elapsed());
    let t = Instant::now();
    let m = Memory::open(&db).unwrap();
    println!("memory: open at 100K, index reloaded from dump: {:?}", t.elapsed());
    let stats = m.stats().unwrap();
    assert_eq!(stats.index_live as i64, stats.vectors);
    drop(m);
    let t = Instant::now();
    let m = Memory::open_with(
        &db,
        MemoryOptions {
            persist_index: false,
            ..MemoryOptions::default()
        },
    )
    .unwrap();
    println!("memory: open at 100K, index rebuilt from SQLite: {:?}", t.elapsed());
    drop(m);
}

criterion_group!(benches, insert, search);
criterion_main!(benches);
