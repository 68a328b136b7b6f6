//! Per-rule hit counts over labelled JSONL corpora: which rules fire on attacks, and which on benign text.
//!
//! ```text
//! cargo run --release -p aimds-agents --example rule_hits -- /work/shared/corpus/*.jsonl
//! SHOW=pi.override.from-now-on cargo run ... # also print the benign rows that rule hits
//! ```
//! Each line is `{"text": ..., "label": "attack"|"benign", "category": ...}`. Attack rows of categories
//! `harmful_request` and `behavior_probe` are skipped (no manipulation technique to detect), as are `pii*`
//! rows for the per-file attack rate (other skills detect those).

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::time::Instant;

use aimds_agents::detector::normalize::Normalized;
use aimds_agents::detector::rules::{RuleHit, RuleSet};
use aimds_agents::detector::skills::SkillSet;

#[derive(Default)]
struct FileStats {
    attack_rows: usize,
    attack_hit: usize,
    benign_rows: usize,
    benign_hit: usize,
    /// Benign rows hit by a rule of severity medium or above.
    benign_hit_medium: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let show = std::env::var("SHOW").ok();
    let started = Instant::now();
    let skills = SkillSet::embedded()?;
    let loaded = started.elapsed();
    let set = RuleSet::compile(skills.rules().cloned().collect())?;
    eprintln!(
        "loaded {} rules in {loaded:?}, compiled in {:?}",
        set.rules().len(),
        started.elapsed() - loaded
    );

    let unanchored: Vec<&str> = set.unanchored_rules().collect();
    eprintln!("{} unanchored regex rules: {}", unanchored.len(), unanchored.join(" "));
    let n = set.rules().len();
    let mut attack_hits = vec![0usize; n];
    let mut benign_hits = vec![0usize; n];
    let mut benign_by_file: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); n];
    let mut files: BTreeMap<String, FileStats> = BTreeMap::new();
    let mut out: Vec<RuleHit> = Vec::new();
    let mut scan_time = std::time::Duration::ZERO;
    let mut bytes = 0usize;

    for path in std::env::args().skip(1) {
        let name = std::path::Path::new(&path)
            .file_name()
            .map_or(path.clone(), |f| f.to_string_lossy().into_owned());
        let stats = files.entry(name.clone()).or_default();
        let reader = std::io::BufReader::new(std::fs::File::open(&path)?);
        for line in reader.lines() {
            let row: serde_json::Value = serde_json::from_str(&line?)?;
            let text = row["text"].as_str().unwrap_or_default();
            let label = row["label"].as_str().unwrap_or_default();
            let category = row["category"].as_str().unwrap_or_default();
            let attack = label == "attack";
            if attack && (category == "harmful_request" || category == "behavior_probe" || category.starts_with("pii"))
            {
                continue;
            }
            let t = Instant::now();
            let normalized = Normalized::new(text);
            out.clear();
            set.scan(&normalized.text, text, &mut out);
            scan_time += t.elapsed();
            bytes += text.len();
            let hit: BTreeSet<usize> = out.iter().map(|h| h.rule).collect();
            if attack {
                stats.attack_rows += 1;
                stats.attack_hit += usize::from(!hit.is_empty());
            } else {
                stats.benign_rows += 1;
                stats.benign_hit += usize::from(!hit.is_empty());
                let medium = hit
                    .iter()
                    .any(|&r| set.rules()[r].severity >= aimds_runtime::Severity::Medium);
                stats.benign_hit_medium += usize::from(medium);
            }
            for &r in &hit {
                if attack {
                    attack_hits[r] += 1;
                } else {
                    benign_hits[r] += 1;
                    *benign_by_file[r].entry(name.clone()).or_default() += 1;
                    if show.as_deref() == Some(set.rules()[r].id.as_str()) {
                        let h = out.iter().find(|h| h.rule == r).copied();
                        let snippet = h.map_or(String::new(), |h| {
                            let t = if h.target == aimds_agents::detector::skills::Target::Raw {
                                text
                            } else {
                                &normalized.text
                            };
                            t.get(h.start.saturating_sub(60)..(h.end + 60).min(t.len()))
                                .unwrap_or("")
                                .to_owned()
                        });
                        println!(
                            "BENIGN HIT {} [{name}]: ...{}...",
                            set.rules()[r].id,
                            snippet.replace('\n', "⏎")
                        );
                    }
                }
            }
        }
    }

    println!(
        "{:<44} {:>8} {:>7} {:>8}  benign rows by file",
        "rule", "severity", "attack", "benign"
    );
    for (i, rule) in set.rules().iter().enumerate() {
        let by_file: Vec<String> = benign_by_file[i].iter().map(|(f, c)| format!("{f}:{c}")).collect();
        println!(
            "{:<44} {:>8} {:>7} {:>8}  {}",
            rule.id,
            format!("{:?}", rule.severity).to_lowercase(),
            attack_hits[i],
            benign_hits[i],
            by_file.join(" ")
        );
    }
    println!();
    println!(
        "{:<28} {:>12} {:>12} {:>12} {:>14}",
        "file", "attack rows", "attack hit%", "benign rows", "benign hit% (>=medium)"
    );
    for (name, s) in &files {
        let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
        println!(
            "{:<28} {:>12} {:>11.1}% {:>12} {:>7.2}% ({:.2}%)",
            name,
            s.attack_rows,
            pct(s.attack_hit, s.attack_rows),
            s.benign_rows,
            pct(s.benign_hit, s.benign_rows),
            pct(s.benign_hit_medium, s.benign_rows)
        );
    }
    if bytes > 0 {
        eprintln!(
            "normalise+scan: {:?} for {} KB ({:.2} µs/KB)",
            scan_time,
            bytes / 1024,
            scan_time.as_secs_f64() * 1e6 / (bytes as f64 / 1024.0)
        );
    }
    Ok(())
}
