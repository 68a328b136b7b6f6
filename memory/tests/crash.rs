//! kill -9 in the middle of a write burst: the database opens, the audit chain verifies, and every write that was
//! acknowledged in `sync` durability is there.
//!
//! The writer child is this very test binary, re-executed with `AIMDS_CRASH_CHILD` set, so the test needs nothing
//! but the crate. The child prints one line per acknowledged write; the parent kills it with SIGKILL mid-burst.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aimds_memory::{Memory, NewPattern, PatternStatus, SearchFilter};
use serde_json::json;

const CHILD_ENV: &str = "AIMDS_CRASH_CHILD";

/// The child: four threads append as fast as they can and report each acknowledgement.
fn child(db: &str) {
    let m = Memory::open(db).expect("child open");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let receipt = m
                        .audit_append(&json!({"thread": t, "i": i, "action": "block"}))
                        .expect("append");
                    let key = format!("t{t}-{i}");
                    m.kv_put("crash", &key, &json!(i), None).expect("kv");
                    let text = format!("crash test attack text number {i} from writer {t}");
                    let p = m
                        .pattern_add(NewPattern {
                            text,
                            category: "crash".into(),
                            status: PatternStatus::Active,
                            provenance: "crash".into(),
                        })
                        .expect("pattern");
                    // One line per acknowledged group of writes; println! locks stdout, so lines never interleave.
                    println!("ACK {} {key} {}", receipt.id, p.pattern_id);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn sigkill_mid_burst_loses_nothing_acknowledged() {
    if let Ok(db) = std::env::var(CHILD_ENV) {
        child(&db);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut total_acked = 0;
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sigkill_mid_burst_loses_nothing_acknowledged",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut acked = Vec::new();
        let kill_after = 150 + round * 100;
        let started = Instant::now();
        while acked.len() < kill_after && started.elapsed() < Duration::from_secs(60) {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("ACK ") => acked.push(line),
                Some(_) => {}
                None => break,
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        // Lines already written before the kill were acknowledged too.
        for line in lines.map_while(Result::ok) {
            if line.starts_with("ACK ") {
                acked.push(line);
            }
        }
        child.wait().unwrap();
        assert!(
            acked.len() >= kill_after.min(50),
            "round {round}: the child wrote too little ({})",
            acked.len()
        );
        total_acked += acked.len();

        let m = Memory::open(&db).unwrap();
        let report = m.audit_verify().unwrap();
        assert!(report.intact(), "round {round}: {report:?}");
        let stats = m.stats().unwrap();
        for line in &acked {
            let mut parts = line.split_whitespace().skip(1);
            let audit_id: i64 = parts.next().unwrap().parse().unwrap();
            let key = parts.next().unwrap();
            let pattern_id: i64 = parts.next().unwrap().parse().unwrap();
            assert!(
                audit_id as u64 <= report.records,
                "round {round}: audit record {audit_id} lost"
            );
            assert!(
                m.kv_get("crash", key).unwrap().is_some(),
                "round {round}: kv {key} lost"
            );
            let p = m
                .pattern_get(pattern_id)
                .unwrap()
                .unwrap_or_else(|| panic!("pattern {pattern_id} lost"));
            let hits = m.search_text(&p.text, 1, 0.99, &SearchFilter::patterns()).unwrap();
            assert!(
                !hits.is_empty(),
                "round {round}: pattern {pattern_id} missing from the index"
            );
        }
        assert_eq!(
            stats.vectors, stats.patterns,
            "every pattern has its vector, atomically"
        );
        m.close().unwrap();
    }
    assert!(total_acked > 0);
}
