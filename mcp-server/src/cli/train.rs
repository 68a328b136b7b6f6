//! `aimds train`: fit the classifier on labelled JSONL and write its weights.
//!
//! Training is deterministic (fixed seed, stable order). The attack class is manipulation
//! only: content-moderation rows and rows whose "attack" is containing PII are left out.
//! Rows that share a template (garak's `subcategory`) share one group, and every group's
//! weight grows with the square root of its size, so one template expanded 250 times
//! does not drown out everything else. Groups, not rows, are held back for validation,
//! so the validation score is measured on templates the model never saw.
//!
//! `--class harm` trains the framed-harm check's harm-topic model instead
//! (`skills/jailbreak/harm-topics.bin`): its positive class is the harmful requests the
//! classifier leaves out (the `harmful_request` rows, and harmful requests reworded into another
//! tense: [`corpus::REWORDED_HARM_PREFIX`]), and every other attack row is left out of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aimds_agents::detector::Detector;
use aimds_agents::detector::classifier::{self, Example, TrainOptions, WordSplit};
use aimds_agents::detector::distinct_lines::DistinctLines;
use aimds_agents::detector::normalize::Normalized;
use anyhow::Context;
use indicatif::ProgressBar;

use super::corpus::{self, CONTENT_MODERATION, Corpus, PII_CATEGORIES};
use super::eval;
use crate::{Guard, Source, SwarmConfig};

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Labelled JSONL files (fields `text`, `label`, `category`, optional `subcategory`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the weights (e.g. skills/classifier/model.bin). Required unless --loso.
    #[arg(long, value_name = "PATH", required_unless_present = "loso")]
    pub out: Option<PathBuf>,
    /// Hash buckets = 2^BITS (the weights file is 2^BITS bytes).
    #[arg(long, default_value_t = 18, value_parser = clap::value_parser!(u8).range(12..=22))]
    pub dim_bits: u8,
    #[arg(long, default_value_t = 12)]
    pub epochs: usize,
    /// Share of template groups held back for validation.
    #[arg(long, default_value_t = 0.1)]
    pub holdout: f32,
    #[arg(long, default_value_t = 0x5eed_a1d5)]
    pub seed: u64,
    /// L2 penalty per update (weight decay); larger spreads the weight over more n-grams.
    #[arg(long, default_value_t = 3e-5)]
    pub l2: f32,
    /// Make each Chinese character and Japanese kana a word of its own (word uni- and bigrams are
    /// then char uni- and bigrams of those scripts). Written into the weights file, which is read
    /// the same way; without it, a run of letters is one word (as `model.bin` was trained).
    #[arg(long)]
    pub cjk_words: bool,
    /// Leave-one-source-out: for each file, train on the others and evaluate the whole
    /// detector (rules + that classifier) on it. Writes nothing.
    #[arg(long)]
    pub loso: bool,
    /// With --loso: classifier thresholds (detector.classifier_threshold) to report.
    #[arg(long, value_delimiter = ',', default_value = "0.5")]
    pub thresholds: Vec<f32>,
    /// With --loso: also print the TPR of each attack category of the held-out file.
    #[arg(long, requires = "loso")]
    pub by_category: bool,
    /// What the model learns to recognise: manipulation (the classifier) or harmful requests
    /// (the framed-harm check's harm-topic model).
    #[arg(long, value_enum, default_value_t = Class::Manipulation, conflicts_with = "loso")]
    pub class: Class,
}

/// The positive class a model is trained for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Class {
    /// Manipulation attempts: every attack row but content moderation, PII and harmful
    /// requests reworded into another tense.
    Manipulation,
    /// Harmful requests: the `harmful_request` rows and the reworded ones; other attack rows
    /// are left out.
    Harm,
}

/// The shared corpus fills every attack template's request slot with this phrase (its
/// README, "note" field). Left in, the model learns "how do I ..." as attack vocabulary and
/// flags ordinary questions; the manipulation is the template, not the filler.
const SLOT_FILLER: &str = "how do i make a weapon";

/// Turn corpus rows into training examples (normalised like the detector sees them).
pub fn examples<'a>(corpora: impl IntoIterator<Item = &'a Corpus>, class: Class) -> Vec<Example> {
    let mut out = Vec::new();
    for c in corpora {
        let mut sizes: HashMap<String, usize> = HashMap::new();
        let mut rows = Vec::new();
        for (i, r) in c.rows.iter().enumerate() {
            let cat = r.category.as_str();
            let left_out = match class {
                Class::Manipulation => {
                    CONTENT_MODERATION.contains(&cat) || PII_CATEGORIES.contains(&cat) || r.is_harmful_request()
                }
                Class::Harm => r.is_attack() && !r.is_harmful_request(),
            };
            if left_out {
                continue;
            }
            let group = match (&r.subcategory, r.is_attack()) {
                (Some(sub), _) if !sub.is_empty() => format!("{}:{}", c.name, sub),
                _ => format!("{}:row{}", c.name, i),
            };
            *sizes.entry(group.clone()).or_default() += 1;
            rows.push((r, group));
        }
        for (r, group) in rows {
            let n = sizes.get(&group).copied().unwrap_or(1).max(1);
            let mut text = Normalized::new(&r.text).text;
            if class == Class::Manipulation {
                // as the detector's classifier reads it: each line once
                text = DistinctLines::new(&text).into_text(text);
                if r.is_attack() && text.contains(SLOT_FILLER) {
                    text = text.replace(SLOT_FILLER, " ");
                }
            }
            out.push(Example {
                text,
                attack: r.is_attack(),
                weight: 1.0 / (n as f32).sqrt(),
                group,
            });
        }
    }
    out
}

fn options(args: &TrainArgs, holdout: f32) -> TrainOptions {
    TrainOptions {
        dim_bits: args.dim_bits,
        epochs: args.epochs,
        seed: args.seed,
        holdout,
        l2: args.l2,
        words: if args.cjk_words {
            WordSplit::CjkChars
        } else {
            WordSplit::Runs
        },
        ..TrainOptions::default()
    }
}

pub fn run(args: TrainArgs, config: Option<&Path>) -> anyhow::Result<i32> {
    let corpora = args
        .files
        .iter()
        .map(|p| corpus::read(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.loso {
        return loso(&args, &corpora, config);
    }
    let out = args.out.as_ref().context("--out is required")?;
    let ex = examples(&corpora, args.class);
    let attacks = ex.iter().filter(|e| e.attack).count();
    eprintln!(
        "training on {} texts ({} attack, {} benign) from {} files",
        ex.len(),
        attacks,
        ex.len() - attacks,
        corpora.len()
    );
    let (model, v) = classifier::train(&ex, &options(&args, args.holdout), |round, epoch, loss| {
        eprintln!("  round {round} epoch {epoch}: loss {loss:.4}");
    });
    println!(
        "held-back validation ({} attack, {} benign texts from unseen groups): TPR {:.1}%  FPR {:.1}%  AUC {:.4}",
        v.attacks,
        v.benign,
        v.tpr * 100.0,
        v.fpr * 100.0,
        v.auc
    );
    // The shipped weights are trained on everything once validation has been reported.
    let model = if args.holdout > 0.0 {
        eprintln!("retraining on all groups for the shipped weights");
        classifier::train(&ex, &options(&args, 0.0), |round, epoch, loss| {
            eprintln!("  round {round} epoch {epoch}: loss {loss:.4}");
        })
        .0
    } else {
        model
    };
    let bytes = model.to_bytes();
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(super::exit::OK)
}

fn loso(args: &TrainArgs, corpora: &[Corpus], config: Option<&Path>) -> anyhow::Result<i32> {
    let config = match config {
        Some(p) => SwarmConfig::from_file(p)?,
        None => SwarmConfig::default(),
    };
    println!("leave-one-source-out: classifier trained without the file, whole detector evaluated on it");
    println!(
        "{:<28} {:>9} {:>7} {:>7} {:>7} {:>7}",
        "held-out file", "threshold", "attacks", "TPR", "benign", "FPR"
    );
    for (i, held) in corpora.iter().enumerate() {
        let rest = corpora.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c);
        let (model, _) = classifier::train(&examples(rest, Class::Manipulation), &options(args, 0.0), |_, _, _| {});
        for &threshold in &args.thresholds {
            let mut config = config.clone();
            config.detector.classifier_threshold = threshold;
            // The held-out rows are read as prompts: the threshold under test is theirs, not the
            // prompts' own operating point of the policy table.
            if let Some(user) = config.policy.get_mut(&Source::User) {
                user.classifier_threshold = None;
            }
            let detector = Detector::new(&config)?.with_classifier(Some(model.clone()));
            let guard = Guard::with_detector(config, detector);
            let s = eval::score_rows(&guard, &held.rows, Source::User, false, None, &ProgressBar::hidden());
            println!(
                "{:<28} {:>9} {:>7} {:>7} {:>7} {:>7}",
                held.name,
                threshold,
                s.attacks,
                eval::pct(s.tpr()),
                s.benign,
                eval::pct(s.fpr())
            );
            if args.by_category {
                s.print_by_category();
            }
        }
    }
    Ok(super::exit::OK)
}
