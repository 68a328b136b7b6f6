//! Each regex rule's gate: the literals that decide where it runs, their placement and the
//! requirement, for tuning rules that run too often.
//! Usage: cargo run --release -p aimds-agents --example gate_dump -- [RULE_ID...]

use aimds_agents::detector::rules::RuleSet;
use aimds_agents::detector::skills::SkillSet;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let skills = SkillSet::embedded()?;
    let set = RuleSet::compile(skills.rules().cloned().collect())?;
    let want: Vec<String> = std::env::args().skip(1).collect();
    for (i, r) in set.rules().iter().enumerate() {
        if !want.is_empty() && !want.contains(&r.id) {
            continue;
        }
        if let Some(g) = set.gate_info(i) {
            let lits: Vec<String> = g
                .literals
                .iter()
                .take(12)
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            let req: Vec<Vec<String>> = g
                .require
                .iter()
                .map(|r| {
                    r.iter()
                        .take(8)
                        .map(|l| String::from_utf8_lossy(l).into_owned())
                        .collect()
                })
                .collect();
            println!(
                "{} anchored={} line_start={} before={:?} after={:?} ws={} n={} {:?} req={:?}",
                r.id,
                g.anchored,
                g.line_start,
                g.before,
                g.after,
                g.word_start,
                g.literals.len(),
                lits,
                req
            );
        }
    }
    Ok(())
}
