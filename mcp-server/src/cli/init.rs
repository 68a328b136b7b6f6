//! `aimds init [--dry-run]`: register aimds for Claude Code in the current project (see [`crate::init`]).

use std::path::{Path, PathBuf};

use crate::init::{self, InitError, InitOptions};

use super::exit;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Print the changes as a diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The project folder (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How Claude Code should run aimds (default: `aimds` when this binary is the one on PATH, else its absolute
    /// path).
    #[arg(long, value_name = "PATH")]
    pub command: Option<String>,
    /// Let events through when the hook cannot check them (default: block them: the hook runs with
    /// --fail-closed and `onFailure: "block"`).
    #[arg(long)]
    pub fail_open: bool,
}

pub fn run(args: InitArgs, config: Option<&Path>, db: Option<&Path>) -> anyhow::Result<i32> {
    let dir = match args.dir {
        Some(d) => d,
        None => std::env::current_dir()?,
    };
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let opts = InitOptions {
        dir: dir.clone(),
        command: args.command.unwrap_or_else(default_command),
        // Paths in the files must not depend on the directory Claude Code starts the server or hook in.
        db: db.map(absolute),
        config: config.map(absolute),
        fail_closed: !args.fail_open,
    };
    let changes = match init::plan(&opts) {
        Ok(c) => c,
        Err(e @ InitError::Refused { .. }) => {
            eprintln!("aimds init: {e}");
            return Ok(exit::USAGE);
        }
        Err(e) => return Err(e.into()),
    };
    if args.dry_run {
        for c in &changes {
            if c.changed() {
                print!("{}", init::diff(&c.path, c.before.as_deref(), &c.after));
            } else {
                println!("# {}: unchanged", c.path.display());
            }
        }
        return Ok(exit::OK);
    }
    init::apply(&changes)?;
    for c in &changes {
        let what = match (&c.before, c.changed()) {
            (_, false) => "unchanged".to_string(),
            (None, true) => format!("created ({})", c.notes.join(", ")),
            (Some(_), true) => format!("updated ({})", c.notes.join(", ")),
        };
        println!("{}: {what}", c.path.display());
    }
    if changes.iter().any(|c| c.changed()) {
        println!(
            "Restart Claude Code in {} to load the aimds MCP server and hooks (`claude mcp list` shows the server).",
            dir.display()
        );
    }
    Ok(exit::OK)
}

/// `aimds` when the binary found on PATH is this one, else this binary's absolute path.
fn default_command() -> String {
    let me = std::env::current_exe().and_then(|p| p.canonicalize());
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("aimds"))
            .find(|p| p.is_file())
            .and_then(|p| p.canonicalize().ok())
    });
    match (me, on_path) {
        (Ok(me), Some(found)) if me == found => "aimds".to_string(),
        (Ok(me), _) => me.display().to_string(),
        (Err(_), _) => "aimds".to_string(),
    }
}
