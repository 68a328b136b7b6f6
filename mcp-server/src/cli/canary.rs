//! `aimds canary create|list` and `aimds system-prompt set|show`: register what must never appear in a model's
//! output. The validator checks every `model_output` scan against the registered canary tokens and system
//! prompts (a leak is blocked).

use std::path::{Path, PathBuf};

use aimds_agents::validator::output::Canary;
use aimds_agents::validator::{GLOBAL_PROMPT, NS_CANARIES, NS_SYSTEM_PROMPTS};
use aimds_memory::Memory;
use serde_json::json;

use super::exit;

#[derive(Debug, clap::Subcommand)]
pub enum CanaryCommand {
    /// Create a canary token, store it, and print it (plant it in your system prompt or documents).
    Create {
        /// What the canary guards (kept with it).
        #[arg(long, default_value = "default")]
        label: String,
    },
    /// The registered canaries, one JSON line each.
    List,
}

#[derive(Debug, clap::Subcommand)]
pub enum SystemPromptCommand {
    /// Register the system prompt (from a file) whose leak in model outputs is blocked.
    Set {
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        /// Only for this session; default: every session.
        #[arg(long)]
        session: Option<String>,
    },
}

/// Longest system prompt accepted (the leak checker bounds its own work too).
const MAX_PROMPT_BYTES: u64 = 256 * 1024;

pub fn run_canary(cmd: CanaryCommand, db: &Path) -> anyhow::Result<i32> {
    let memory = match Memory::open(db) {
        Ok(m) => m,
        Err(e) => return Ok(super::memory::report_open_error(&e)),
    };
    match cmd {
        CanaryCommand::Create { label } => {
            if label.trim().is_empty() || label.len() > 200 {
                eprintln!("aimds: --label must be 1..200 bytes");
                return Ok(exit::USAGE);
            }
            let canary = Canary::generate(&label)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            memory.kv_put(
                NS_CANARIES,
                &canary.token,
                &json!({"label": canary.label, "created_ms": now}),
                None,
            )?;
            println!("{}", json!({"token": canary.token, "label": canary.label}));
        }
        CanaryCommand::List => {
            for e in memory.kv_list(NS_CANARIES, "", 10_000)? {
                println!("{}", json!({"token": e.key, "label": e.value.get("label")}));
            }
        }
    }
    memory.close()?;
    Ok(exit::OK)
}

pub fn run_system_prompt(cmd: SystemPromptCommand, db: &Path) -> anyhow::Result<i32> {
    let SystemPromptCommand::Set { file, session } = cmd;
    let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    if len > MAX_PROMPT_BYTES {
        eprintln!(
            "aimds: {} is {len} bytes; the limit is {MAX_PROMPT_BYTES}",
            file.display()
        );
        return Ok(exit::USAGE);
    }
    let text = match std::fs::read_to_string(&file) {
        Ok(t) if !t.trim().is_empty() => t,
        Ok(_) => {
            eprintln!("aimds: {} is empty", file.display());
            return Ok(exit::USAGE);
        }
        Err(e) => {
            eprintln!("aimds: cannot read {} as UTF-8 text: {e}", file.display());
            return Ok(exit::USAGE);
        }
    };
    let memory = match Memory::open(db) {
        Ok(m) => m,
        Err(e) => return Ok(super::memory::report_open_error(&e)),
    };
    let key = session.as_deref().unwrap_or(GLOBAL_PROMPT);
    memory.kv_put(NS_SYSTEM_PROMPTS, key, &json!({ "text": text }), None)?;
    println!("{}", json!({"registered": key, "bytes": text.len()}));
    memory.close()?;
    Ok(exit::OK)
}
