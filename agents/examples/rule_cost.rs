//! Per-rule matching cost on ordinary text, to find the rules that make scanning slow.
//! Usage: cargo run --release -p aimds-agents --example rule_cost -- FILE.jsonl...
//! Prints the 25 costliest rules alone (µs per KB over the benign rows), and whether
//! each is gated by a literal prefix or runs ungated.

use std::io::BufRead;
use std::time::Instant;

use aimds_agents::detector::normalize::Normalized;
use aimds_agents::detector::rules::RuleSet;
use aimds_agents::detector::skills::{Pattern, SkillSet, Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut norm = String::new();
    let mut raw = String::new();
    for path in std::env::args().skip(1) {
        for line in std::io::BufReader::new(std::fs::File::open(&path)?).lines() {
            let v: serde_json::Value = serde_json::from_str(&line?)?;
            if v["label"] == "benign"
                && let Some(t) = v["text"].as_str()
            {
                raw.push_str(t);
                raw.push('\n');
                norm.push_str(&Normalized::new(t).text);
                norm.push('\n');
            }
        }
    }
    let skills = SkillSet::embedded()?;
    let rules: Vec<_> = skills.rules().cloned().collect();
    let set = RuleSet::compile(rules.clone())?;
    let ungated: Vec<String> = set.unanchored_rules().map(str::to_string).collect();
    let mut costs = Vec::new();
    let mut compile: Vec<(f64, String)> = Vec::new();
    for r in &rules {
        let Pattern::Regex(p) = &r.pattern else { continue };
        let t = Instant::now();
        let re = regex::Regex::new(p)?;
        compile.push((t.elapsed().as_secs_f64() * 1e3, r.id.clone()));
        let text = if r.target == Target::Raw { &raw } else { &norm };
        let t = Instant::now();
        let n = re.find_iter(text).count();
        let us = t.elapsed().as_secs_f64() * 1e6 / (text.len() as f64 / 1000.0);
        costs.push((us, r.id.clone(), n, ungated.contains(&r.id)));
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = costs.iter().map(|c| c.0).sum();
    println!(
        "{} KB normalised, {} KB raw; sum of per-rule costs {total:.1} µs/KB",
        norm.len() / 1000,
        raw.len() / 1000
    );
    for (us, id, n, ung) in costs.iter().take(25) {
        println!(
            "{us:8.2} µs/KB {:>6} hits {} {id}",
            n,
            if *ung { "UNGATED" } else { "       " }
        );
    }
    compile.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total_ms: f64 = compile.iter().map(|c| c.0).sum();
    println!("compile: {total_ms:.1} ms for all regexes; slowest:");
    for (ms, id) in compile.iter().take(12) {
        println!("{ms:8.2} ms  {id}");
    }
    let t = Instant::now();
    let mut hits = Vec::new();
    for (l_norm, l_raw) in norm.lines().zip(raw.lines()) {
        set.scan(l_norm, l_raw, &mut hits);
    }
    println!(
        "whole RuleSet per line: {:.1} µs/KB",
        t.elapsed().as_secs_f64() * 1e6 / (norm.len() as f64 / 1000.0)
    );
    Ok(())
}
