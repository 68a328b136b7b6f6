//! Every row's detection, one line each, to diff the detector's output before and after a change.
//! Usage: cargo run --release -p aimds-agents --example scan_dump -- FILE.jsonl... > dump.txt
//!
//! Each line: `file:row risk=R cls=P rule@start..end ...` (findings sorted, risk and classifier
//! rounded to 1e-4). Decoding has a wall-clock budget, so a loaded machine can differ on very long
//! rows; everything else is deterministic.

use std::io::{BufRead, Write};

use aimds_agents::detector::Detector;
use aimds_runtime::SwarmConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let detector = Detector::new(&SwarmConfig::default())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for path in std::env::args().skip(1) {
        let name = std::path::Path::new(&path)
            .file_name()
            .map_or(path.clone(), |f| f.to_string_lossy().into_owned());
        for (row, line) in std::io::BufReader::new(std::fs::File::open(&path)?).lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(&line?)?;
            let text = v["text"].as_str().unwrap_or_default();
            let d = match detector.detect(text) {
                Ok(d) => d,
                Err(e) => {
                    writeln!(out, "{name}:{row} error {e}")?;
                    continue;
                }
            };
            let mut findings: Vec<String> = d
                .findings
                .iter()
                .map(|f| format!("{}@{}..{}", f.rule_id, f.span.start, f.span.end))
                .collect();
            findings.sort();
            let cls = d.classifier.map_or(String::from("-"), |p| format!("{p:.4}"));
            writeln!(out, "{name}:{row} risk={:.4} cls={cls} {}", d.risk, findings.join(" "))?;
        }
    }
    Ok(())
}
