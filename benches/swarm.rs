//! Whole in-process swarm scans of a 1 KB prompt, without a judge, and what each configuration adds:
//!
//! - `low_latency`: detector + responder only (no memory);
//! - `default_batched`: every role, audit records group-committed off the request path;
//! - `default_sync`: every role, each verdict waits for its audit record's commit (an fsync);
//! - `session_batched`: with a session id, so the analyzer re-reads the trace and the validator steps the
//!   temporal policies.
//!
//! Run: `cargo bench --bench swarm`. Per-stage costs are in each verdict's `stages`; `stage_report` prints
//! their medians after the timing runs.

use std::hint::black_box;
use std::time::Duration;

use aimds::{ScanRequest, Source, Swarm, SwarmConfig};
use aimds_runtime::Role;
use aimds_runtime::config::DurabilityMode;
use criterion::{Criterion, criterion_group, criterion_main};

const PROMPT: &str = "Thanks for the update on the quarterly report. The revenue numbers look good, \
and the team did a great job shipping the new onboarding flow. Could you send me the slides before \
Thursday's meeting? I'd also like to review the customer feedback summary and the list of open \
support tickets. Let me know if the budget review moved to next week. ";

fn prompt_1k() -> String {
    let mut s = String::new();
    while s.len() < 1000 {
        s.push_str(PROMPT);
    }
    s.truncate(1000);
    s
}

fn swarm(rt: &tokio::runtime::Runtime, config: SwarmConfig, dir: &std::path::Path) -> Swarm {
    let _g = rt.enter();
    aimds::start_swarm(config, &dir.join("memory.db")).expect("swarm starts")
}

fn config(durability: DurabilityMode) -> SwarmConfig {
    let mut c = SwarmConfig::default();
    c.memory.durability = durability;
    c
}

fn low_latency() -> SwarmConfig {
    let mut c = SwarmConfig::default();
    for r in [Role::Analyzer, Role::Validator, Role::Logger, Role::Researcher] {
        c.roles.get_mut(&r).expect("role").enabled = false;
    }
    c
}

fn bench_swarm(c: &mut Criterion) {
    let rt = aimds::runtime().expect("runtime");
    let text = prompt_1k();
    let plain = ScanRequest::new(text.clone(), Source::User);
    let with_session = ScanRequest {
        session_id: Some("bench".into()),
        ..plain.clone()
    };
    let mut group = c.benchmark_group("swarm_1k");
    group.measurement_time(Duration::from_secs(5));
    let setups: [(&str, SwarmConfig, &ScanRequest); 4] = [
        ("low_latency", low_latency(), &plain),
        ("default_batched", config(DurabilityMode::Batched), &plain),
        ("default_sync", config(DurabilityMode::Sync), &plain),
        ("session_batched", config(DurabilityMode::Batched), &with_session),
    ];
    let mut stage_samples: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    for (name, cfg, req) in setups {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = swarm(&rt, cfg, dir.path());
        group.bench_function(name, |b| {
            b.iter(|| black_box(rt.block_on(s.scan(black_box(req.clone()))).expect("scan")))
        });
        let mut samples = Vec::new();
        for _ in 0..200 {
            let v = rt.block_on(s.scan(req.clone())).expect("scan");
            samples.extend(v.stages.into_iter().map(|st| (st.stage, st.us)));
        }
        stage_samples.push((name.to_string(), samples));
        rt.block_on(s.shutdown(Duration::from_secs(5)));
    }
    group.finish();
    for (name, samples) in stage_samples {
        let mut stages: Vec<String> = samples.iter().map(|s| s.0.clone()).collect();
        stages.dedup();
        stages.sort();
        stages.dedup();
        let medians: Vec<String> = stages
            .iter()
            .map(|st| {
                let mut v: Vec<f64> = samples.iter().filter(|s| &s.0 == st).map(|s| s.1).collect();
                v.sort_by(f64::total_cmp);
                format!("{st} {:.1} µs", v[v.len() / 2])
            })
            .collect();
        println!("stage medians {name}: {}", medians.join(", "));
    }
}

criterion_group!(benches, bench_swarm);
criterion_main!(benches);
