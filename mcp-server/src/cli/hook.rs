//! `aimds hook claude-code`: the Claude Code hook adapter (see [`crate::hook`] for the protocol and how verdicts
//! map onto it). One process per event: read the event on stdin, check it through the swarm with the event's
//! session, answer, exit.
//!
//! Exit codes here are Claude Code's, not the CLI's: 0 = answered (stdout may hold a JSON decision), 2 = blocked
//! (reason on stderr), 1 = could not check and let through (fails open; `--fail-closed` turns that into 2).

use std::io::{Read, Write};
use std::path::Path;

use crate::hook::{self, BlockWith, HookAnswer, HookInput, HookOptions};

#[derive(Debug, clap::Subcommand)]
pub enum HookCommand {
    /// Claude Code hook: reads one hook event (UserPromptSubmit, PreToolUse, PostToolUse) as JSON on stdin and
    /// answers in Claude Code's hook protocol. Register it with `aimds init`.
    ClaudeCode(ClaudeCodeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ClaudeCodeArgs {
    /// When the event cannot be checked (unreadable input, memory unavailable, oversize text, internal error):
    /// block it (exit 2; a tool result is withheld) instead of letting it through with a warning (exit 1).
    /// The environment variable takes 1/0, true/false, yes/no, on/off.
    #[arg(long, env = "AIMDS_HOOK_FAIL_CLOSED", value_parser = clap::builder::BoolishValueParser::new())]
    pub fail_closed: bool,
    /// How blocks are expressed: `json` (decision "block" / permissionDecision "deny", exit 0) or `exit-code`
    /// (exit 2 with the reason on stderr).
    #[arg(long, value_enum, default_value_t = BlockWith::Json)]
    pub block_with: BlockWith,
}

pub fn run(cmd: HookCommand, config: Option<&Path>, db: &Path) -> anyhow::Result<i32> {
    let HookCommand::ClaudeCode(args) = cmd;
    let opts = HookOptions {
        fail_closed: args.fail_closed,
        block_with: args.block_with,
    };
    if opts.fail_closed {
        // A panic must not turn into a non-blocking exit code.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default(info);
            eprintln!(
                "aimds could not check this event (internal error); it was blocked because the hook fails closed."
            );
            std::process::exit(2);
        }));
    }
    let answer = answer(config, db, opts);
    emit(&answer)?;
    Ok(answer.code)
}

fn answer(config: Option<&Path>, db: &Path, opts: HookOptions) -> HookAnswer {
    let mut raw = Vec::new();
    let read = std::io::stdin()
        .lock()
        .take(hook::MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut raw);
    if let Err(e) = read {
        return hook::failure(None, &format!("cannot read stdin: {e}"), opts);
    }
    if raw.len() > hook::MAX_INPUT_BYTES {
        return hook::failure(
            None,
            &format!("the hook input is larger than {} bytes", hook::MAX_INPUT_BYTES),
            opts,
        );
    }
    let input: HookInput = match hook::parse_input(&raw) {
        Ok(i) => i,
        Err(e) => return hook::failure(None, &e.to_string(), opts),
    };
    if !hook::is_checked(&input.hook_event_name) {
        return HookAnswer {
            code: 0,
            stdout: None,
            stderr: None,
        };
    }
    let result = (|| -> anyhow::Result<Result<HookAnswer, hook::HookError>> {
        let config = crate::load_config(config)?;
        let rt = crate::runtime()?;
        Ok(rt.block_on(async {
            let swarm = crate::start_swarm(config, db)?;
            let answer = hook::handle(&swarm, &input, opts).await;
            swarm.shutdown(std::time::Duration::from_secs(2)).await;
            Ok::<_, crate::GuardError>(answer)
        })?)
    })();
    match result {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => hook::failure(Some(&input), &e.to_string(), opts),
        Err(e) => hook::failure(Some(&input), &format!("{e:#}"), opts),
    }
}

fn emit(answer: &HookAnswer) -> std::io::Result<()> {
    if let Some(v) = &answer.stdout {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{v}")?;
        out.flush()?;
    }
    if let Some(s) = &answer.stderr {
        eprintln!("{s}");
    }
    Ok(())
}
