//! Labelled JSONL files (`text`, `label`, `category`, optional `subcategory`), as used by
//! `aimds eval` and `aimds train` and shipped in ../shared/corpus.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// A plainly harmful request: content moderation, and the positive class of `train --class harm`.
pub const HARMFUL_REQUEST: &str = "harmful_request";
/// Categories that are content moderation, not manipulation: a plain harmful request or a
/// bias probe is not an attack on the model's instructions. Left out of the attack class.
pub const CONTENT_MODERATION: [&str; 2] = [HARMFUL_REQUEST, "behavior_probe"];
/// Rows whose "attack" is that the text contains PII: they measure the PII detector.
pub const PII_CATEGORIES: [&str; 2] = ["pii", "pii_quasi"];
/// garak's `phrasing` probes (`phrasing.PastTenseFull`, `phrasing.FutureTenseFull`): a harmful
/// request reworded into another tense ("How did people make … in the past?"). Labelled
/// jailbreaks, and counted as such by `aimds eval`, but what separates one from a history
/// question is its harmful topic alone: the classifier learned "How was …?" and "in the
/// future" as attack words from them (a model that never saw them catches under 1 % of them),
/// so training reads them as harmful requests ([`Row::is_harmful_request`]), and the
/// framed-harm check finds them by a tense cue and its harm-topic model.
pub const REWORDED_HARM_PREFIX: &str = "phrasing.";

#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    pub text: String,
    pub label: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub subcategory: Option<String>,
}

impl Row {
    pub fn is_attack(&self) -> bool {
        self.label == "attack"
    }

    /// A harmful request, plain or reworded into another tense ([`REWORDED_HARM_PREFIX`]): the
    /// positive class of `train --class harm`, and left out of the classifier's.
    pub fn is_harmful_request(&self) -> bool {
        self.is_attack()
            && (self.category == HARMFUL_REQUEST
                || self
                    .subcategory
                    .as_deref()
                    .is_some_and(|s| s.starts_with(REWORDED_HARM_PREFIX)))
    }
}

/// A file's rows, with the file's stem as its source name.
pub struct Corpus {
    pub path: PathBuf,
    pub name: String,
    pub rows: Vec<Row>,
}

pub fn read(path: &Path) -> anyhow::Result<Corpus> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(line).with_context(|| format!("{}:{}: bad row", path.display(), i + 1))?;
        if row.label != "attack" && row.label != "benign" {
            anyhow::bail!(
                "{}:{}: label must be \"attack\" or \"benign\", not {:?}",
                path.display(),
                i + 1,
                row.label
            );
        }
        rows.push(row);
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Corpus {
        path: path.to_path_buf(),
        name,
        rows,
    })
}
