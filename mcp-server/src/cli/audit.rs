//! `aimds audit verify|tail`: prove the hash-chained audit log unbroken, and read its newest records.
use std::io::Write;
use std::path::Path;

use aimds_memory::Memory;

use super::exit;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first broken link (JSON). Exits 1 when the chain is broken.
    Verify,
    /// The newest records, oldest first, one JSON line each.
    Tail {
        /// How many records (≤ 10 000).
        #[arg(short, long, default_value_t = 10)]
        n: usize,
    },
}

pub fn run(cmd: AuditCommand, db: &Path) -> anyhow::Result<i32> {
    let memory = match Memory::open(db) {
        Ok(m) => m,
        Err(e) => return Ok(super::memory::report_open_error(&e)),
    };
    let code = match cmd {
        AuditCommand::Verify => {
            let report = memory.audit_verify()?;
            println!("{}", serde_json::to_string(&report)?);
            if let Some(b) = &report.first_break {
                eprintln!("aimds: audit chain broken at record {}: {}", b.id, b.reason);
                exit::FLAGGED
            } else {
                exit::OK
            }
        }
        AuditCommand::Tail { n } => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for record in memory.audit_tail(n)? {
                writeln!(out, "{}", serde_json::to_string(&record)?)?;
            }
            exit::OK
        }
    };
    memory.close()?;
    Ok(code)
}
