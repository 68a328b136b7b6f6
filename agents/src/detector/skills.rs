//! Skills: folders of SKILL.md + rules.yaml (+ assets) that the detector compiles. (stub)
use std::collections::BTreeMap;
use std::path::Path;

use aimds_runtime::{Category, Severity};
use serde::{Deserialize, Serialize};

use super::validate::Validator;

#[derive(Debug, thiserror::Error)]
pub enum SkillError {
    #[error("{file}:{line}: {reason}")]
    Rule { file: String, line: usize, reason: String },
    #[error("{file}: {reason}")]
    Skill { file: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Which text a rule runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The normalised text: lowercase, NFKC, confusables/leetspeak folded, separators collapsed.
    #[default]
    Normalized,
    /// The original text as received (PII, secrets: case and digits matter).
    Raw,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern { Literal(String), Regex(String) }

#[derive(Debug, Clone)]
pub struct RuleDef {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub pattern: Pattern,
    pub target: Target,
    pub validate: Option<Validator>,
    pub confidence: Option<f32>,
    pub notes: String,
    pub examples: Vec<String>,
    pub counterexamples: Vec<String>,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Skill {
    pub name: String,
    pub description: String,
    pub category: String,
    pub version: String,
    pub skill_md: String,
    pub origin: String,
    pub rules: Vec<RuleDef>,
    pub assets: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct SkillSet { pub skills: Vec<Skill> }

impl SkillSet {
    pub fn embedded() -> Result<SkillSet, SkillError> { Ok(SkillSet::default()) }
    pub fn from_dir(_dir: &Path) -> Result<SkillSet, SkillError> { Ok(SkillSet::default()) }
    pub fn without(&mut self, names: &[String]) { self.skills.retain(|s| !names.contains(&s.name)); }
    pub fn rules(&self) -> impl Iterator<Item = &RuleDef> { self.skills.iter().flat_map(|s| s.rules.iter()) }
    pub fn asset(&self, skill: &str, name: &str) -> Option<&[u8]> {
        self.skills.iter().find(|s| s.name == skill).and_then(|s| s.assets.get(name)).map(|v| v.as_slice())
    }
}
