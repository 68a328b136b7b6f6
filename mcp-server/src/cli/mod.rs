//! The `aimds` command line. Flags and their parsing live here; each subcommand is one
//! file, and the work itself is done by the library (`Guard`, `Detector`, `train`).

pub mod approve;
pub mod audit;
pub mod canary;
pub mod corpus;
pub mod eval;
pub mod feedback;
pub mod hook;
pub mod init;
pub mod mcp;
pub mod memory;
pub mod redteam;
pub mod scan;
pub mod serve;
pub mod skills;
pub mod swarm;
pub mod train;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes, shared by every subcommand (documented in `--help` and the README).
pub mod exit {
    /// Success; for `scan TEXT|--file`: the text was allowed.
    pub const OK: i32 = 0;
    /// `scan TEXT|--file`: the text was flagged (action sanitize, block or escalate).
    pub const FLAGGED: i32 = 1;
    /// Bad usage or bad input (unreadable file, oversize text, invalid config or skill).
    pub const USAGE: i32 = 2;
    /// Internal error.
    pub const INTERNAL: i32 = 3;
}

const AFTER_HELP: &str = "\
Exit codes:
  0  success; for `scan TEXT` / `scan --file`: the text was allowed
  1  `scan TEXT` / `scan --file`: the text was flagged (sanitize, block or escalate)
  2  bad usage or bad input (unreadable file, oversize text, invalid config, bad skill rule)
  3  internal error
`scan --jsonl` exits 0 once the whole stream is processed, flagged or not; a bad line
gets {\"error\": \"...\"} on stdout and the stream goes on.";

#[derive(Debug, Parser)]
#[command(name = "aimds", version, about = "AI Manipulation Defense System: scan text for prompt injection, \
jailbreaks, obfuscated attacks, secrets and PII before it reaches or leaves an LLM agent", after_help = AFTER_HELP)]
pub struct Cli {
    /// Swarm config (YAML); the embedded swarm-configs/default.yaml when absent.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Memory database (SQLite); `:memory:` for a throw-away one. Default: under the user's data dir.
    #[arg(long, global = true, value_name = "PATH", env = "AIMDS_DB")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a text, a file, or a JSONL stream on stdin.
    Scan(scan::ScanArgs),
    /// Measure TPR, FPR and latency on labelled JSONL files.
    Eval(eval::EvalArgs),
    /// Train the classifier on labelled JSONL files.
    Train(train::TrainArgs),
    /// The loaded skills.
    #[command(subcommand)]
    Skills(skills::SkillsCommand),
    /// The shared memory store.
    #[command(subcommand)]
    Memory(memory::MemoryCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Report a text as an attack or as benign: the swarm learns from it (behind its validation gate).
    Feedback(feedback::FeedbackArgs),
    /// The swarm's live topology.
    #[command(subcommand)]
    Swarm(swarm::SwarmCommand),
    /// Record that a person approved what a session does next (temporal policies honour it).
    Approve(approve::ApproveArgs),
    /// Serve the HTTP API (scan, tool-call, feedback, audit, metrics, health and readiness probes).
    Serve(serve::ServeArgs),
    /// Canary tokens whose appearance in a model output is blocked.
    #[command(subcommand)]
    Canary(canary::CanaryCommand),
    /// The system prompt whose leak in model outputs is blocked.
    #[command(subcommand, name = "system-prompt")]
    SystemPrompt(canary::SystemPromptCommand),
    /// Serve every defense as an MCP tool (stdio, or streamable HTTP with --http).
    Mcp(mcp::McpArgs),
    /// Agent-host hook adapters (Claude Code): check prompts, tool calls and tool results.
    #[command(subcommand)]
    Hook(hook::HookCommand),
    /// Register aimds in this project for Claude Code: .mcp.json and .claude/settings.json hooks.
    Init(init::InitArgs),
    /// Mutate known attacks and measure how many variants are still caught, per family.
    Redteam(redteam::RedteamArgs),
}

/// Run the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Scan(args) => scan::run(args, config, &db_path(cli.db)),
        Command::Eval(args) => eval::run(args, config),
        Command::Train(args) => train::run(args, config),
        Command::Skills(cmd) => skills::run(cmd, config),
        Command::Memory(cmd) => memory::run(cmd, &db_path(cli.db)),
        Command::Audit(cmd) => audit::run(cmd, &db_path(cli.db)),
        Command::Feedback(args) => feedback::run(args, config, &db_path(cli.db)),
        Command::Swarm(cmd) => swarm::run(cmd, config, &db_path(cli.db)),
        Command::Approve(args) => approve::run(args, config, &db_path(cli.db)),
        Command::Serve(args) => serve::run(args, config, &db_path(cli.db)),
        Command::Canary(cmd) => canary::run_canary(cmd, &db_path(cli.db)),
        Command::SystemPrompt(cmd) => canary::run_system_prompt(cmd, &db_path(cli.db)),
        Command::Mcp(args) => mcp::run(args, config, &db_path(cli.db)),
        Command::Hook(cmd) => hook::run(cmd, config, &db_path(cli.db)),
        Command::Init(args) => init::run(args, config, cli.db.as_deref()),
        Command::Redteam(args) => redteam::run(args, config),
    }
}

fn db_path(db: Option<PathBuf>) -> PathBuf {
    db.unwrap_or_else(aimds_memory::default_db_path)
}
