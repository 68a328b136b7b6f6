//! What an agent host pays to use AIMDS:
//!
//! - `mcp/scan_input_stdio_1kb`: one `scan_input` tool call on a 1 KB prompt, round trip over stdio to a running
//!   `aimds mcp` (the real binary as a child process, rmcp's client), with the default swarm on a temp memory;
//! - `hook/user_prompt_process`: one Claude Code hook event, the whole `aimds hook claude-code` process (start,
//!   load skills, open memory, scan, answer, exit), as Claude Code runs it for every prompt and tool call.
//!
//! Criterion reports means; the issue asks for p50 and p99, so each group also times a fixed number of calls
//! itself and prints their percentiles. Run: `cargo bench --bench mcp` (it needs the release binary, which
//! cargo builds for benches); `AIMDS_BENCH_CONFIG=swarm-configs/agent-guard.yaml` serves another config.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_aimds");

const PROMPT: &str = "Thanks for the update on the quarterly report. The revenue numbers look good, \
and the team did a great job shipping the new onboarding flow. Could you send me the slides before \
Thursday's meeting? I'd also like to review the customer feedback summary and the list of open \
support tickets. Let me know if the budget review moved to next week. ";

const HOOK_EVENT: &str = r#"{"session_id":"bench","transcript_path":"/tmp/t.jsonl","cwd":"/tmp","permission_mode":"default","hook_event_name":"UserPromptSubmit","prompt":"Can you add a unit test for the cart total with a discount code?"}"#;

fn prompt_1k() -> String {
    let mut s = String::new();
    while s.len() < 1000 {
        s.push_str(PROMPT);
    }
    s.truncate(1000);
    s
}

/// Prints p50 and p99 of `samples`.
fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    eprintln!(
        "{name}: n={} p50={:.1} µs p99={:.1} µs",
        samples.len(),
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6
    );
}

fn bench_mcp(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let client = rt.block_on(async {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.env_remove("AIMDS_LOG")
            .arg("--db")
            .arg(dir.path().join("memory.db"));
        if let Some(config) = std::env::var_os("AIMDS_BENCH_CONFIG") {
            cmd.arg("--config").arg(config);
        }
        cmd.arg("mcp").stderr(Stdio::null());
        ().serve(TokioChildProcess::new(cmd).expect("spawn aimds mcp"))
            .await
            .expect("MCP handshake")
    });
    let args = json!({"text": prompt_1k()});
    let call = || {
        let params = CallToolRequestParams::new("scan_input").with_arguments(args.as_object().expect("object").clone());
        rt.block_on(client.call_tool(params)).expect("scan_input")
    };
    let first = call();
    assert_ne!(first.is_error, Some(true), "{first:?}");
    let mut group = c.benchmark_group("mcp");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("scan_input_stdio_1kb", |b| b.iter(|| black_box(call())));
    group.finish();
    let samples = (0..2000)
        .map(|_| {
            let t = Instant::now();
            black_box(call());
            t.elapsed()
        })
        .collect();
    report("mcp scan_input stdio round trip (1 KB)", samples);
    let _ = rt.block_on(client.cancel());
}

fn hook_once(db: &Path) {
    let mut child = Command::new(BIN)
        .env_remove("AIMDS_LOG")
        .arg("--db")
        .arg(db)
        .args(["hook", "claude-code"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn aimds hook");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(HOOK_EVENT.as_bytes()).expect("write the event");
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

fn bench_hook(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("memory.db");
    hook_once(&db);
    let mut group = c.benchmark_group("hook");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("user_prompt_process", |b| b.iter(|| hook_once(&db)));
    group.finish();
    let samples = (0..100)
        .map(|_| {
            let t = Instant::now();
            hook_once(&db);
            t.elapsed()
        })
        .collect();
    report("hook whole process (UserPromptSubmit)", samples);
}

criterion_group!(benches, bench_mcp, bench_hook);
criterion_main!(benches);
