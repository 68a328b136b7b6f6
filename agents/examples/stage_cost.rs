//! Cost of each fast-path stage on one text, to see where a scan's time goes.
//! Usage: cargo run --release -p aimds-agents --example stage_cost [BYTES] [FILE]
//! (FILE: use its contents, repeated or cut to BYTES, instead of the benign paragraph)

use std::hint::black_box;
use std::time::{Duration, Instant};

use aimds_agents::detector::decode::{DecodeLimits, decode_layers};
use aimds_agents::detector::normalize::Normalized;
use aimds_agents::detector::rules::RuleSet;
use aimds_agents::detector::skills::{SkillSet, Target};
use aimds_agents::detector::{CLASSIFIER_ASSET, CLASSIFIER_SKILL, Detector, classifier::Model};
use aimds_runtime::SwarmConfig;

const UNIT: &str = "Thanks for the update on the quarterly report. The revenue numbers look good, \
and the team did a great job shipping the new onboarding flow. Could you send me the slides before \
Thursday's meeting? I'd also like to review the customer feedback summary and the list of open \
support tickets. Let me know if the budget review moved to next week. ";

fn time<T>(name: &str, bytes: usize, mut f: impl FnMut() -> T) {
    // about 20 MB of text per stage, 2000 runs at most
    let n = (20_000_000 / bytes.max(1)).clamp(20, 2000);
    for _ in 0..n / 40 + 1 {
        black_box(f());
    }
    let t = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("{name:<12} {per:8.2} µs  ({:.1} µs/KB)", per / (bytes as f64 / 1000.0));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let len: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let unit = match std::env::args().nth(2) {
        Some(path) => std::fs::read_to_string(path)?,
        None => UNIT.to_string(),
    };
    let mut text = unit.repeat(len / unit.len().max(1) + 1);
    let mut end = len.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    let skills = SkillSet::embedded()?;
    let rules = RuleSet::compile(skills.rules().cloned().collect())?;
    let model = Model::from_bytes(skills.asset(CLASSIFIER_SKILL, CLASSIFIER_ASSET).ok_or("no model")?)?;
    let detector = Detector::new(&SwarmConfig::default())?;
    let norm = Normalized::new(&text);
    let limits = DecodeLimits {
        max_depth: 3,
        max_decoded_bytes: 256 * 1024,
        max_candidates: 64,
        deadline: Duration::from_millis(4),
    };
    time("normalize", len, || Normalized::new(&text));
    let mut hits = Vec::new();
    time("rules", len, || {
        hits.clear();
        rules.scan(&norm.text, &text, &mut hits);
        hits.len()
    });
    for (name, target) in [("rules/norm", Target::Normalized), ("rules/raw", Target::Raw)] {
        let only = RuleSet::compile(skills.rules().filter(|r| r.target == target).cloned().collect())?;
        time(name, len, || {
            hits.clear();
            only.scan(&norm.text, &text, &mut hits);
            hits.len()
        });
    }
    if std::env::var_os("PER_RULE").is_some() {
        // Each rule alone in a rule set, warm: which rules make this text slow.
        let mut costs = Vec::new();
        for rule in skills.rules() {
            let one = RuleSet::compile(vec![rule.clone()])?;
            let mut out = Vec::new();
            let n = (2_000_000 / len.max(1)).clamp(20, 2000);
            one.scan(&norm.text, &text, &mut out);
            let t = Instant::now();
            for _ in 0..n {
                out.clear();
                one.scan(&norm.text, &text, &mut out);
            }
            costs.push((t.elapsed().as_secs_f64() * 1e6 / n as f64, rule.id.clone(), out.len()));
        }
        costs.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (us, id, hits) in costs.iter().take(20) {
            println!("  {us:8.2} µs  {hits:3} hits  {id}");
        }
    }
    time("decode", len, || decode_layers(&text, &limits));
    time("classifier", len, || model.best_window(&norm.text));
    time("detect", len, || detector.detect(&text));
    Ok(())
}
