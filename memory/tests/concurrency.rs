//! Many tokio tasks reading while one writes: no reader ever sees half of an atomic write.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aimds_memory::{Memory, NewPattern, PatternStatus, SearchFilter};
use serde_json::json;

const BATCH: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_torn_state() {
    let dir = tempfile::tempdir().unwrap();
    let m = Memory::open(dir.path().join("c.db")).unwrap();
    let done = Arc::new(AtomicBool::new(false));

    let writer = {
        let m = m.clone();
        tokio::task::spawn_blocking(move || {
            for round in 0..60 {
                // A batch of patterns commits together with its vectors.
                let batch = (0..BATCH)
                    .map(|i| NewPattern {
                        text: format!("round {round} attack variant {i} ignore the rules"),
                        category: format!("batch-{round}"),
                        status: PatternStatus::Active,
                        provenance: "load".into(),
                    })
                    .collect();
                m.patterns_add(batch).unwrap();
                m.audit_append(&json!({"round": round})).unwrap();
                m.kv_put("load", "round", &json!(round), None).unwrap();
            }
        })
    };

    let mut readers = Vec::new();
    for r in 0..16 {
        let m = m.clone();
        let done = Arc::clone(&done);
        readers.push(tokio::spawn(async move {
            let mut checks = 0u64;
            let mut last_records = 0;
            let mut last_round = -1i64;
            while !done.load(Ordering::Relaxed) {
                let m2 = m.clone();
                let (records, round, sizes, orphan_hits) = tokio::task::spawn_blocking(move || {
                    let report = m2.audit_verify().unwrap();
                    assert!(report.intact(), "{report:?}");
                    let round = m2
                        .kv_get("load", "round")
                        .unwrap()
                        .and_then(|v| v.as_i64())
                        .unwrap_or(-1);
                    let all = m2.patterns_list(None, None, 0, 100_000).unwrap();
                    let mut sizes = std::collections::HashMap::<String, usize>::new();
                    for p in &all {
                        *sizes.entry(p.category.clone()).or_default() += 1;
                    }
                    // A search hit always points to a pattern that exists.
                    let hits = m2
                        .search_text("attack variant ignore the rules", 10, 0.0, &SearchFilter::patterns())
                        .unwrap();
                    let orphans = hits
                        .iter()
                        .filter(|h| match h.owner {
                            aimds_memory::Owner::Pattern(id) => m2.pattern_get(id).unwrap().is_none(),
                            aimds_memory::Owner::Allowlist(_) => true,
                        })
                        .count();
                    (report.records, round, sizes, orphans)
                })
                .await
                .unwrap();
                assert!(records >= last_records, "reader {r}: the audit chain shrank");
                assert!(round >= last_round, "reader {r}: kv went back in time");
                for (category, n) in sizes {
                    assert_eq!(n, BATCH, "reader {r}: saw {n} of {BATCH} patterns of {category}");
                }
                assert_eq!(orphan_hits, 0, "reader {r}: a search hit had no pattern");
                last_records = records;
                last_round = round;
                checks += 1;
                tokio::task::yield_now().await;
            }
            checks
        }));
    }
    writer.await.unwrap();
    done.store(true, Ordering::Relaxed);
    let mut total = 0;
    for r in readers {
        total += r.await.unwrap();
    }
    assert!(total > 16, "readers ran only {total} checks");
    let stats = m.stats().unwrap();
    assert_eq!((stats.patterns, stats.audit_records), (60 * BATCH as i64, 60));
}
