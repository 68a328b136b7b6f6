//! `aimds hook claude-code` end to end: recorded Claude Code hook events (tests/fixtures/hooks/*.json) are fed to
//! the real binary, one process per event as Claude Code runs it, sharing one memory file; each answer (exit
//! code, stdout JSON, stderr) must equal the recorded answer in tests/fixtures/hooks/expected/. Run with
//! `AIMDS_BLESS=1` to re-record the answers after an intended change (then read the diff).
//!
//! Besides the exact answers, each scenario asserts what must hold whatever the wording: the hidden injection is
//! gone from what the model sees, the egress call after a secret read is denied by the temporal policy.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hooks")
}

struct Answer {
    code: i32,
    stdout: Option<Value>,
    stderr: String,
}

impl Answer {
    fn recorded(&self) -> Value {
        json!({
            "exit": self.code,
            "stdout": self.stdout,
            "stderr": if self.stderr.is_empty() { Value::Null } else { json!(self.stderr) },
        })
    }
}

fn hook_raw(db: &Path, input: &[u8], extra: &[&str]) -> Answer {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aimds"))
        .env_remove("AIMDS_LOG")
        .env_remove("AIMDS_HOOK_FAIL_CLOSED")
        .arg("--db")
        .arg(db)
        .args(["hook", "claude-code"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stdout = stdout.trim();
    assert!(
        stdout.lines().count() <= 1,
        "stdout must be one JSON line or nothing: {stdout}"
    );
    Answer {
        code: out.status.code().unwrap_or(-1),
        stdout: (!stdout.is_empty()).then(|| serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))),
        stderr: String::from_utf8(out.stderr).unwrap().trim().to_string(),
    }
}

/// Feeds a recorded event and checks the answer against the recorded one (or records it with AIMDS_BLESS=1).
fn hook(db: &Path, fixture: &str, extra: &[&str], expected: &str) -> Answer {
    let input = std::fs::read(fixtures().join(format!("{fixture}.json"))).unwrap();
    let answer = hook_raw(db, &input, extra);
    let path = fixtures().join("expected").join(format!("{expected}.json"));
    let got = answer.recorded();
    if std::env::var_os("AIMDS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    } else {
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (record it with AIMDS_BLESS=1)", path.display())),
        )
        .unwrap();
        assert_eq!(
            got,
            want,
            "{fixture}: the answer differs from {}\n got: {}",
            path.display(),
            serde_json::to_string_pretty(&got).unwrap()
        );
    }
    answer
}

fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memory.db");
    (dir, path)
}

#[test]
fn user_prompts_pass_or_are_blocked() {
    let (_d, db) = db();
    let a = hook(&db, "user_prompt_plain", &[], "user_prompt_plain");
    assert_eq!((a.code, &a.stdout), (0, &None));
    let a = hook(&db, "user_prompt_injection", &[], "user_prompt_injection");
    assert_eq!(a.code, 0);
    let out = a.stdout.unwrap();
    assert_eq!(out["decision"], "block");
    assert!(out["reason"].as_str().unwrap().contains("prompt injection"));
    // The exit-code form: exit 2, reason on stderr, nothing on stdout.
    let a = hook(
        &db,
        "user_prompt_injection",
        &["--block-with", "exit-code"],
        "user_prompt_injection.exit_code",
    );
    assert_eq!(a.code, 2);
    assert!(a.stdout.is_none());
    assert!(a.stderr.starts_with("aimds blocked this prompt"), "{}", a.stderr);
}

#[test]
fn a_web_page_with_a_hidden_injection_reaches_the_model_sanitized_and_side_effects_then_need_approval() {
    let (_d, db) = db();
    let a = hook(&db, "pre_tool_use_bash_plain", &[], "pre_tool_use_bash_plain");
    assert_eq!((a.code, &a.stdout), (0, &None));
    let a = hook(&db, "post_tool_use_bash_plain", &[], "post_tool_use_bash_plain");
    assert_eq!((a.code, &a.stdout), (0, &None));

    let a = hook(
        &db,
        "post_tool_use_webfetch_hidden_injection",
        &[],
        "post_tool_use_webfetch_hidden_injection",
    );
    assert_eq!(a.code, 0);
    let out = a.stdout.unwrap();
    let specific = &out["hookSpecificOutput"];
    assert_eq!(specific["hookEventName"], "PostToolUse");
    assert!(
        specific["additionalContext"]
            .as_str()
            .unwrap()
            .contains("prompt injection"),
        "{out}"
    );
    // Same shape as WebFetch's tool_response; the hidden div is gone, the visible tips remain, framed.
    let updated = &specific["updatedToolOutput"];
    assert_eq!(updated["code"], 200);
    assert_eq!(updated["url"], "https://blog.example.com/rust-tips");
    let page = updated["result"].as_str().unwrap();
    assert!(
        !page.contains("id_rsa") && !page.contains("ignore all previous"),
        "{page}"
    );
    assert!(page.contains("Prefer iterators over index loops."), "{page}");
    assert!(page.starts_with("⟪untrusted tool_output"), "{page}");

    // The injection is in the session's trace now: a side-effecting call is denied until a person approves.
    let a = hook(
        &db,
        "pre_tool_use_bash_after_injection",
        &[],
        "pre_tool_use_bash_after_injection",
    );
    assert_eq!(a.code, 0);
    let out = a.stdout.unwrap();
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny", "{out}");
    assert!(
        out["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("no-side-effects-after-injection"),
        "{out}"
    );
}

#[test]
fn an_egress_call_after_a_secret_was_read_in_the_session_is_denied() {
    let (_d, db) = db();
    // Reading .env is allowed ...
    let a = hook(&db, "pre_tool_use_read_env", &[], "pre_tool_use_read_env");
    assert_eq!((a.code, &a.stdout), (0, &None));
    // ... its content reaches the model with the key redacted ...
    let a = hook(&db, "post_tool_use_read_env", &[], "post_tool_use_read_env");
    let out = a.stdout.unwrap();
    let content = out["hookSpecificOutput"]["updatedToolOutput"]["file"]["content"]
        .as_str()
        .unwrap();
    assert!(!content.contains("AKIAIOSFODNN7EXAMPLE"), "{content}");
    assert!(content.contains("[REDACTED:secret"), "{content}");
    assert_eq!(out["hookSpecificOutput"]["updatedToolOutput"]["type"], "text");
    // ... and a later call that sends data out, in another hook process, is denied by the temporal policy.
    let a = hook(&db, "pre_tool_use_webfetch_egress", &[], "pre_tool_use_webfetch_egress");
    assert_eq!(a.code, 0);
    let out = a.stdout.unwrap();
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    let reason = out["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap();
    assert!(reason.contains("no-egress-after-secret-read"), "{reason}");
    // The same call in another session is allowed: the policy is per session.
    let other = std::fs::read_to_string(fixtures().join("pre_tool_use_webfetch_egress.json"))
        .unwrap()
        .replace("9b2e4f60-1c3d-4a5b-8e7f-0a1b2c3d4e5f", "another-session");
    let a = hook_raw(&db, other.as_bytes(), &[]);
    assert_eq!((a.code, &a.stdout), (0, &None), "{}", a.stderr);
    // The exit-code form of the denial.
    let a = hook(
        &db,
        "pre_tool_use_webfetch_egress",
        &["--block-with", "exit-code"],
        "pre_tool_use_webfetch_egress.exit_code",
    );
    assert_eq!(a.code, 2);
    assert!(a.stderr.contains("no-egress-after-secret-read"));
}

#[test]
fn other_events_are_ignored() {
    let (_d, db) = db();
    let a = hook(&db, "session_start", &[], "session_start");
    assert_eq!((a.code, &a.stdout, a.stderr.as_str()), (0, &None, ""));
}

#[test]
fn an_event_that_cannot_be_checked_fails_open_or_closed_as_configured() {
    let (_d, db) = db();
    // Not a hook event at all.
    let a = hook_raw(&db, b"{not json", &[]);
    assert_eq!(a.code, 1, "fails open by default");
    assert!(a.stderr.contains("fails open"), "{}", a.stderr);
    let a = hook_raw(&db, b"{not json", &["--fail-closed"]);
    assert_eq!(a.code, 2);
    assert!(a.stderr.contains("fails closed"), "{}", a.stderr);
    // The memory is not a database: the prompt cannot be checked.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.db");
    std::fs::write(
        &broken,
        b"this is not a SQLite file, it is a broken one ................",
    )
    .unwrap();
    let prompt = std::fs::read(fixtures().join("user_prompt_plain.json")).unwrap();
    let a = hook_raw(&broken, &prompt, &[]);
    assert_eq!(a.code, 1, "{}", a.stderr);
    let a = hook_raw(&broken, &prompt, &["--fail-closed"]);
    assert_eq!(a.code, 2, "{}", a.stderr);
    // A tool result that cannot be checked is withheld when failing closed.
    let page = std::fs::read(fixtures().join("post_tool_use_webfetch_hidden_injection.json")).unwrap();
    let a = hook_raw(&broken, &page, &["--fail-closed"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    let out = a.stdout.unwrap();
    assert_eq!(out["decision"], "block");
    let result = out["hookSpecificOutput"]["updatedToolOutput"]["result"]
        .as_str()
        .unwrap();
    assert!(result.starts_with("[aimds withheld this content"), "{result}");
    assert_eq!(out["hookSpecificOutput"]["updatedToolOutput"]["code"], 200);
    // The environment variable turns failing closed on as well.
    let mut child = Command::new(env!("CARGO_BIN_EXE_aimds"))
        .env("AIMDS_HOOK_FAIL_CLOSED", "1")
        .args(["hook", "claude-code"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may answer before reading everything: a closed pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(b"[]");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fails closed"));
}

/// The whole-process time of one hook event (start, open memory, compile the skills, scan, commit, exit). Printed,
/// not asserted: debug builds and a busy CI machine say little; the release number is in the README.
#[test]
fn one_hook_event_takes_a_fraction_of_a_second() {
    let (_d, db) = db();
    let input = std::fs::read(fixtures().join("pre_tool_use_bash_plain.json")).unwrap();
    hook_raw(&db, &input, &[]);
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let a = hook_raw(&db, &input, &[]);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(a.code, 0);
    }
    times.sort_by(f64::total_cmp);
    eprintln!("hook PreToolUse whole process: median {:.0} ms (this build)", times[2]);
}
