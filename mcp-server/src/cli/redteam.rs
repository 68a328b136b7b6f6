//! `aimds redteam`: mutate known attacks and measure how many variants the guard still
//! catches, per mutation family (DESIGN §3, Researcher).
//!
//! Only seeds the guard flags in plain form are mutated: a miss then means the mutation
//! hid the attack, not that the seed was never caught. Each mutant is scanned once with
//! the chosen source (default `tool_output`: indirect injection is where mutated attacks
//! arrive). Multi-turn splits are scanned as one text, their turns joined by newlines;
//! real session analysis belongs to the swarm's analyzer.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use aimds_agents::researcher::mutate::{Mutation, mutate};
use aimds_agents::researcher::seeds;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::scan::Format;
use crate::{Guard, ScanRequest, Source};

/// Largest `--seeds` file read.
const MAX_SEEDS_FILE_BYTES: u64 = 16 << 20;
/// Most seeds taken from a file; more would only make the run long, not the report better.
const MAX_SEEDS: usize = 10_000;
/// Longest seed taken from a file (the mutator cuts longer ones anyway).
const MAX_SEED_BYTES: usize = 16 * 1024;
/// Characters of a missed mutant shown in the report.
const PREVIEW_CHARS: usize = 200;
const MULTI_TURN_NOTE: &str = "payload_split multi-turn variants are scanned as one text (turns joined by newlines); \
true session analysis comes with the swarm's analyzer";

#[derive(Debug, clap::Args)]
pub struct RedteamArgs {
    /// Seed attacks: JSONL with a `text` field per line, or one attack per line (`#` comments,
    /// `\n` escapes). Default: the shipped seed set.
    #[arg(long, value_name = "FILE")]
    pub seeds: Option<PathBuf>,
    /// Mutation families, comma-separated (default: all): base64, hex, url_encoding, rot13, reversed,
    /// unicode_escapes, homoglyphs, zero_width_split, letter_spacing, leetspeak, tag_characters,
    /// payload_split, paraphrase, document_wrap, stacked, base32, invisible_bytes, word_game.
    #[arg(long, value_delimiter = ',', value_parser = parse_family, value_name = "LIST")]
    pub families: Vec<Mutation>,
    /// Variants per seed and family.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub variants: u64,
    /// Source every mutant is scanned as: user, tool_output, document, model_output, tool_call.
    #[arg(long, default_value = "tool_output", value_parser = parse_source)]
    pub source: Source,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Show up to N missed mutants per family.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub show_misses: usize,
}

fn parse_family(s: &str) -> Result<Mutation, String> {
    s.parse::<Mutation>().map_err(|e| e.to_string())
}

/// `tool_output` or `tool-output`, as `scan --source` spells it.
fn parse_source(s: &str) -> Result<Source, String> {
    s.replace('-', "_").parse::<Source>()
}

/// Coverage of one family.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyScore {
    pub family: Mutation,
    pub mutants: usize,
    pub caught: usize,
    /// caught / mutants (0..1); `null` in JSON when there were no mutants.
    pub coverage: Option<f64>,
    pub median_us: Option<f64>,
    pub errors: usize,
    #[serde(skip)]
    us: Vec<f64>,
}

/// A mutant the guard let through.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub family: Mutation,
    /// Index of the seed in the seed list (0-based).
    pub seed: usize,
    pub variant: u64,
    pub risk: f32,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: Source,
    pub variants: u64,
    pub seeds: usize,
    pub seeds_flagged: usize,
    /// Seeds the guard does not flag in plain form (indexes), left out of the mutation run.
    pub seeds_unflagged: Vec<usize>,
    pub families: Vec<FamilyScore>,
    pub total: FamilyTotal,
    pub misses: Vec<Miss>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyTotal {
    pub mutants: usize,
    pub caught: usize,
    pub coverage: Option<f64>,
}

pub fn run(args: RedteamArgs, config: Option<&Path>) -> anyhow::Result<i32> {
    let seeds = match &args.seeds {
        Some(path) => match read_seeds(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("aimds: {e:#}");
                return Ok(super::exit::USAGE);
            }
        },
        None => seeds::shipped(),
    };
    if seeds.is_empty() {
        eprintln!("aimds: no seeds to mutate");
        return Ok(super::exit::USAGE);
    }
    let families = if args.families.is_empty() {
        Mutation::ALL.to_vec()
    } else {
        let mut f: Vec<Mutation> = Vec::new();
        for m in &args.families {
            if !f.contains(m) {
                f.push(*m);
            }
        }
        f
    };
    let guard = Guard::from_config_file(config)?;
    let report = redteam(&guard, &seeds, &families, &args);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string(&report)?)?,
        Format::Text => write_text(&mut out, &report)?,
    }
    Ok(super::exit::OK)
}

/// Mutate every seed the guard flags in plain form with every family and variant, and
/// count how many mutants it still flags.
pub fn redteam(guard: &Guard, seeds: &[String], families: &[Mutation], args: &RedteamArgs) -> Report {
    let progress = progress_bar((seeds.len() + seeds.len() * families.len() * args.variants as usize) as u64);
    let mut flagged = Vec::new();
    let mut unflagged = Vec::new();
    for (i, seed) in seeds.iter().enumerate() {
        progress.inc(1);
        match guard.scan(&ScanRequest::new(seed.clone(), args.source)) {
            Ok(v) if v.flagged => flagged.push(i),
            _ => unflagged.push(i),
        }
    }
    progress.set_length((seeds.len() + flagged.len() * families.len() * args.variants as usize) as u64);
    let mut scores = Vec::with_capacity(families.len());
    let mut misses = Vec::new();
    for &family in families {
        progress.set_message(family.name());
        let mut s = FamilyScore {
            family,
            mutants: 0,
            caught: 0,
            coverage: None,
            median_us: None,
            errors: 0,
            us: Vec::new(),
        };
        let mut shown = 0;
        for &i in &flagged {
            let Some(seed) = seeds.get(i) else { continue };
            for variant in 0..args.variants {
                progress.inc(1);
                let m = mutate(seed, family, variant);
                let text = match &m.turns {
                    Some(turns) => turns.join("\n"),
                    None => m.text,
                };
                let start = Instant::now();
                let verdict = match guard.scan(&ScanRequest::new(text.clone(), args.source)) {
                    Ok(v) => v,
                    Err(_) => {
                        s.errors += 1;
                        continue;
                    }
                };
                s.us.push(start.elapsed().as_secs_f64() * 1e6);
                s.mutants += 1;
                if verdict.flagged {
                    s.caught += 1;
                } else if shown < args.show_misses {
                    shown += 1;
                    misses.push(Miss {
                        family,
                        seed: i,
                        variant,
                        risk: verdict.risk,
                        text: preview(&text),
                    });
                }
            }
        }
        s.us.sort_by(f64::total_cmp);
        s.median_us = s.us.get(s.us.len() / 2).map(|x| (x * 10.0).round() / 10.0);
        s.coverage = ratio(s.caught, s.mutants);
        scores.push(s);
    }
    progress.finish_and_clear();
    let (mutants, caught) = scores.iter().fold((0, 0), |a, s| (a.0 + s.mutants, a.1 + s.caught));
    let mut notes = Vec::new();
    if families.contains(&Mutation::PayloadSplit) || families.contains(&Mutation::Stacked) {
        notes.push(MULTI_TURN_NOTE.to_string());
    }
    Report {
        source: args.source,
        variants: args.variants,
        seeds: seeds.len(),
        seeds_flagged: flagged.len(),
        seeds_unflagged: unflagged,
        families: scores,
        total: FamilyTotal {
            mutants,
            caught,
            coverage: ratio(caught, mutants),
        },
        misses,
        notes,
    }
}

fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn preview(t: &str) -> String {
    let mut p: String = t.chars().take(PREVIEW_CHARS).collect();
    if p.len() < t.len() {
        p.push('…');
    }
    p
}

/// Seeds from a file: a line that is a JSON object takes its `text`; any other non-empty
/// line (not starting with `#`) is a seed itself, with `\n` escapes as in `seeds.txt`.
fn read_seeds(path: &Path) -> anyhow::Result<Vec<String>> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_SEEDS_FILE_BYTES {
        anyhow::bail!(
            "{} is {} bytes, above the limit of {MAX_SEEDS_FILE_BYTES} bytes for a seeds file",
            path.display(),
            meta.len()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not valid UTF-8 (first bad byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let seed = if line.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a JSON object", path.display(), n + 1))?;
            match v.get("text").and_then(|t| t.as_str()) {
                Some(t) => t.to_string(),
                None => anyhow::bail!("{}:{}: no string field \"text\"", path.display(), n + 1),
            }
        } else {
            seeds::parse_lines(line).into_iter().next().unwrap_or_default()
        };
        if seed.trim().is_empty() || seed.len() > MAX_SEED_BYTES {
            continue;
        }
        if out.len() == MAX_SEEDS {
            anyhow::bail!("{} has more than {MAX_SEEDS} seeds", path.display());
        }
        out.push(seed);
    }
    Ok(out)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{:.1}%", x * 100.0))
}

fn write_text(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "{} seeds, {} flagged in plain form as {} (only those are mutated); {} variant(s) per family",
        r.seeds, r.seeds_flagged, r.source, r.variants
    )?;
    if !r.seeds_unflagged.is_empty() {
        let list: Vec<String> = r.seeds_unflagged.iter().map(|i| format!("#{i}")).collect();
        writeln!(out, "not flagged in plain form: {}", list.join(" "))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<18} {:>8} {:>8} {:>8} {:>10}",
        "family", "mutants", "caught", "coverage", "median_us"
    )?;
    for s in &r.families {
        writeln!(
            out,
            "{:<18} {:>8} {:>8} {:>8} {:>10}",
            s.family.name(),
            s.mutants,
            s.caught,
            pct(s.coverage),
            s.median_us.map_or_else(|| "-".to_string(), |u| format!("{u:.1}"))
        )?;
    }
    writeln!(
        out,
        "{:<18} {:>8} {:>8} {:>8}",
        "total",
        r.total.mutants,
        r.total.caught,
        pct(r.total.coverage)
    )?;
    let errors: usize = r.families.iter().map(|s| s.errors).sum();
    if errors > 0 {
        writeln!(
            out,
            "({errors} mutants could not be scanned, e.g. above the size limit)"
        )?;
    }
    for note in &r.notes {
        writeln!(out, "note: {note}")?;
    }
    if !r.misses.is_empty() {
        writeln!(out, "\nmissed:")?;
        for m in &r.misses {
            writeln!(
                out,
                "MISS [{} v{}] seed #{} risk {:.2}: {}",
                m.family,
                m.variant,
                m.seed,
                m.risk,
                m.text.replace('\n', "⏎")
            )?;
        }
    }
    Ok(())
}
