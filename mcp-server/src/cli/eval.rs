//! `aimds eval`: TPR, FPR and latency of the guard on labelled JSONL files.
//!
//! What counts as a hit: an attack row is caught when the verdict is flagged; a row whose
//! attack is that it *contains* PII (`pii`, `pii_quasi`) is caught when a PII or secret
//! finding is reported (PII alone is reported, not flagged, by the default policy).
//! Content-moderation rows (`harmful_request`, `behavior_probe`) are not manipulation and
//! are left out unless `--all-categories` is given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::corpus::{self, CONTENT_MODERATION, PII_CATEGORIES, Row};
use super::scan::SourceArg;
use crate::{Category, Guard, ScanRequest, Source, Verdict};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Labelled JSONL files (fields `text`, `label` attack|benign, `category`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Source every text is scanned as.
    #[arg(long, value_enum, default_value_t = SourceArg::User)]
    pub source: SourceArg,
    /// Also count content-moderation rows (harmful_request, behavior_probe) as attacks.
    #[arg(long)]
    pub all_categories: bool,
    /// Print TPR per attack category too.
    #[arg(long)]
    pub by_category: bool,
    /// Only the first N rows of each file.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print the missed attacks and false positives (up to N each) to stderr.
    #[arg(long, value_name = "N")]
    pub show_errors: Option<usize>,
}

/// Scores of one file.
#[derive(Debug, Default, Clone)]
pub struct FileScore {
    pub attacks: usize,
    pub caught: usize,
    pub benign: usize,
    pub false_positives: usize,
    pub excluded: usize,
    pub errors: usize,
    pub us: Vec<f64>,
    pub by_category: BTreeMap<String, (usize, usize)>,
}

impl FileScore {
    pub fn tpr(&self) -> f64 {
        ratio(self.caught, self.attacks)
    }
    pub fn fpr(&self) -> f64 {
        ratio(self.false_positives, self.benign)
    }

    /// One line per attack category, under the file's line: its rows and the share caught.
    pub fn print_by_category(&self) {
        for (cat, (hit, n)) in &self.by_category {
            println!("    {:<24} {:>7} {:>7}", cat, n, pct(ratio(*hit, *n)));
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { f64::NAN } else { a as f64 / b as f64 }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[i]
}

/// Whether a row counts in the evaluation, and as what.
pub fn counts(row: &Row, all_categories: bool) -> bool {
    !row.is_attack() || all_categories || !CONTENT_MODERATION.contains(&row.category.as_str())
}

/// Whether the guard's verdict catches this attack row (see the module docs).
pub fn caught(row: &Row, verdict: &Verdict) -> bool {
    if PII_CATEGORIES.contains(&row.category.as_str()) {
        verdict
            .findings
            .iter()
            .any(|f| matches!(f.category, Category::Pii | Category::Secret))
    } else {
        verdict.flagged
    }
}

pub fn score_rows(
    guard: &Guard,
    rows: &[Row],
    source: Source,
    all_categories: bool,
    show_errors: Option<usize>,
    progress: &ProgressBar,
) -> FileScore {
    let mut s = FileScore::default();
    let (mut shown_fn, mut shown_fp) = (0usize, 0usize);
    for row in rows {
        progress.inc(1);
        if !counts(row, all_categories) {
            s.excluded += 1;
            continue;
        }
        let start = Instant::now();
        let verdict = match guard.scan(&ScanRequest::new(row.text.clone(), source)) {
            Ok(v) => v,
            Err(_) => {
                s.errors += 1;
                continue;
            }
        };
        s.us.push(start.elapsed().as_secs_f64() * 1e6);
        if row.is_attack() {
            s.attacks += 1;
            let hit = caught(row, &verdict);
            s.caught += usize::from(hit);
            let e = s.by_category.entry(row.category.clone()).or_default();
            e.0 += usize::from(hit);
            e.1 += 1;
            if !hit && show_errors.is_some_and(|n| shown_fn < n) {
                shown_fn += 1;
                eprintln!("MISS [{}] {:.2}: {}", row.category, verdict.risk, preview(&row.text));
            }
        } else {
            s.benign += 1;
            if verdict.flagged {
                s.false_positives += 1;
                if show_errors.is_some_and(|n| shown_fp < n) {
                    shown_fp += 1;
                    let rules: Vec<&str> = verdict.findings.iter().map(|f| f.rule_id.as_str()).collect();
                    eprintln!(
                        "FP   [{}] {:.2} {:?}: {}",
                        row.category,
                        verdict.risk,
                        rules,
                        preview(&row.text)
                    );
                }
            }
        }
    }
    s
}

fn preview(t: &str) -> String {
    t.chars().take(160).collect::<String>().replace('\n', "⏎")
}

pub fn run(args: EvalArgs, config: Option<&Path>) -> anyhow::Result<i32> {
    let guard = Guard::from_config_file(config)?;
    let source = Source::from(args.source);
    println!(
        "{:<28} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9}",
        "file", "attacks", "TPR", "benign", "FPR", "med_us", "p99_us"
    );
    for path in &args.files {
        let mut c = corpus::read(path)?;
        if let Some(n) = args.limit {
            c.rows.truncate(n);
        }
        let progress = if c.rows.len() > 2000 {
            ProgressBar::new(c.rows.len() as u64)
        } else {
            ProgressBar::hidden()
        };
        progress.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        progress.set_message(c.name.clone());
        let mut s = score_rows(
            &guard,
            &c.rows,
            source,
            args.all_categories,
            args.show_errors,
            &progress,
        );
        progress.finish_and_clear();
        s.us.sort_by(f64::total_cmp);
        println!(
            "{:<28} {:>7} {:>7} {:>7} {:>7} {:>9.1} {:>9.1}",
            c.name,
            s.attacks,
            pct(s.tpr()),
            s.benign,
            pct(s.fpr()),
            percentile(&s.us, 0.5),
            percentile(&s.us, 0.99)
        );
        if args.by_category {
            s.print_by_category();
        }
        if s.excluded > 0 || s.errors > 0 {
            println!(
                "    ({} content-moderation rows left out, {} scan errors)",
                s.excluded, s.errors
            );
        }
    }
    Ok(super::exit::OK)
}

/// A share as a percentage with one decimal, `-` when undefined (no rows).
pub fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}
