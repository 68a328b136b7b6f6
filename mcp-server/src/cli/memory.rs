//! `aimds memory stats|search|export|import`: look into and move the shared memory store.
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use aimds_memory::{Memory, MemoryError, SearchFilter};

use super::exit;

#[derive(Debug, clap::Subcommand)]
pub enum MemoryCommand {
    /// Counts of patterns, vectors, events, audit records, kv entries, edges, allowlist entries (JSON).
    Stats,
    /// Stored patterns most similar to TEXT, one JSON line each, best first.
    Search {
        text: String,
        /// How many hits at most (≤ 1000).
        #[arg(long, short, default_value_t = 5)]
        k: usize,
        /// Least cosine similarity a hit needs (−1 … 1).
        #[arg(long, default_value_t = 0.5)]
        threshold: f32,
        /// Only patterns of this category.
        #[arg(long)]
        category: Option<String>,
        /// Only active patterns (what detection consults).
        #[arg(long)]
        active: bool,
    },
    /// Write patterns, allowlist, kv entries and edges as JSON lines (to stdout or --out).
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Read an export (a file, or `-` for stdin); patterns are re-embedded with the active embedder.
    Import { file: PathBuf },
}

pub fn run(cmd: MemoryCommand, db: &Path) -> anyhow::Result<i32> {
    let memory = match Memory::open(db) {
        Ok(m) => m,
        Err(e) => return Ok(report_open_error(&e)),
    };
    let code = match cmd {
        MemoryCommand::Stats => {
            println!("{}", serde_json::to_string_pretty(&memory.stats()?)?);
            exit::OK
        }
        MemoryCommand::Search {
            text,
            k,
            threshold,
            category,
            active,
        } => {
            let mut filter = if active {
                SearchFilter::active_patterns()
            } else {
                SearchFilter::patterns()
            };
            filter.category = category;
            let hits = match memory.search_text(&text, k, threshold, &filter) {
                Ok(h) => h,
                Err(e @ (MemoryError::Invalid { .. } | MemoryError::TooLarge { .. })) => {
                    eprintln!("aimds: {e}");
                    return Ok(exit::USAGE);
                }
                Err(e) => return Err(e.into()),
            };
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for hit in hits {
                let text = match hit.owner {
                    aimds_memory::Owner::Pattern(id) => memory.pattern_get(id)?.map(|p| p.text),
                    aimds_memory::Owner::Allowlist(_) => None,
                };
                let line = serde_json::json!({
                    "similarity": hit.similarity,
                    "owner": hit.owner,
                    "category": hit.category,
                    "status": hit.status,
                    "text": text,
                });
                writeln!(out, "{line}")?;
            }
            exit::OK
        }
        MemoryCommand::Export { out } => {
            let report = match out {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                    memory.export_jsonl(&mut std::io::BufWriter::new(file))?
                }
                None => memory.export_jsonl(&mut std::io::stdout().lock())?,
            };
            eprintln!("exported {}", serde_json::to_string(&report)?);
            exit::OK
        }
        MemoryCommand::Import { file } => {
            let result = if file.as_os_str() == "-" {
                memory.import_jsonl(&mut std::io::stdin().lock())
            } else {
                let f = std::fs::File::open(&file)
                    .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
                memory.import_jsonl(&mut BufReader::new(f))
            };
            match result {
                Ok(report) => {
                    println!("{}", serde_json::to_string(&report)?);
                    exit::OK
                }
                Err(e) => {
                    eprintln!("aimds: import: {e}");
                    exit::USAGE
                }
            }
        }
    };
    memory.close()?;
    Ok(code)
}

/// A database we must not touch (corrupt, foreign, newer schema) is bad input, not an internal error.
pub(crate) fn report_open_error(e: &MemoryError) -> i32 {
    eprintln!("aimds: {e}");
    match e {
        MemoryError::Corrupt { .. }
        | MemoryError::Foreign { .. }
        | MemoryError::SchemaTooNew { .. }
        | MemoryError::Open { .. }
        | MemoryError::Invalid { .. }
        | MemoryError::Io { .. } => exit::USAGE,
        _ => exit::INTERNAL,
    }
}
