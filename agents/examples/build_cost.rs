//! What each regex rule costs to build: the price a fresh process pays the first time a text
//! wakes the rule (the Claude Code hook starts one process per event; `cold_start` shows what a
//! given text pays).
//! Usage: cargo run --release -p aimds-agents --example build_cost [N]
//!
//! Prints the total for every regex rule and the N (default 25) costliest.

use std::time::Instant;

use aimds_agents::detector::skills::{Pattern, SkillSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shown: usize = std::env::args().nth(1).map_or(Ok(25), |n| n.parse())?;
    let skills = SkillSet::embedded()?;
    let mut costs: Vec<(f64, String)> = Vec::new();
    for rule in skills.rules() {
        let Pattern::Regex(p) = &rule.pattern else { continue };
        let t = Instant::now();
        // the limits the rule set builds with
        let re = regex::RegexBuilder::new(p)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()?;
        costs.push((t.elapsed().as_secs_f64() * 1e3, rule.id.clone()));
        drop(re);
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = costs.iter().map(|c| c.0).sum();
    println!("{} regex rules, {total:.1} ms to build them all", costs.len());
    for (ms, id) in costs.iter().take(shown) {
        println!("{ms:7.2} ms  {id}");
    }
    Ok(())
}
