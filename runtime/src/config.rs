//! Swarm configuration (YAML). Every field has a default, and an unknown field is an
//! error that names the file and line, so a typo never silently weakens a policy.
//!
//! `swarm-configs/default.yaml` spells out the defaults; [`SwarmConfig::default`] is the
//! same configuration without a file (a test checks that the two agree).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::types::{Action, Source};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// The whole swarm configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwarmConfig {
    /// Schema version of this file; only 1 exists.
    pub version: u32,
    pub detector: DetectorConfig,
    /// The action table: for each source, at which risk which action is taken.
    pub policy: BTreeMap<Source, SourcePolicy>,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        SwarmConfig {
            version: 1,
            detector: DetectorConfig::default(),
            policy: Source::ALL
                .into_iter()
                .map(|s| (s, SourcePolicy::default_for(s)))
                .collect(),
        }
    }
}

/// Settings of the fast-path detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Longest text accepted, in bytes; longer input is refused with an error (never truncated:
    /// an attacker would hide the payload past the cut).
    pub max_input_bytes: usize,
    /// A folder of skills to load instead of the embedded ones.
    pub skills_dir: Option<PathBuf>,
    /// Skills to leave out (by name).
    pub disabled_skills: Vec<String>,
    /// Bounds on recursive decoding of encoded payloads.
    pub decode: DecodeConfig,
    /// Weight of the learned classifier in the risk score (0 disables it).
    pub classifier_weight: f32,
    /// Classifier probability that counts as risk 0.5 on its own. Above 0.5 makes the
    /// classifier more conservative on text unlike anything it was trained on (its raw
    /// probabilities run high there); rules and the classifier still add up.
    pub classifier_threshold: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            max_input_bytes: 1 << 20,
            skills_dir: None,
            disabled_skills: Vec::new(),
            decode: DecodeConfig::default(),
            classifier_weight: 1.0,
            classifier_threshold: 0.8,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// Layers of encoding unwrapped (base64 inside hex inside ... counts one per layer).
    pub max_depth: u8,
    /// Total bytes all decoders together may produce for one scan.
    pub max_decoded_bytes: usize,
    /// Encoded-looking candidates examined per scan.
    pub max_candidates: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            max_depth: 3,
            max_decoded_bytes: 256 * 1024,
            max_candidates: 64,
        }
    }
}

/// What happens to a text from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcePolicy {
    /// Risk (0..1) from which the text counts as manipulation.
    pub threshold: f32,
    /// Action taken at or above `threshold`.
    pub action: Action,
    /// Risk from which the text is blocked even where `action` is milder (e.g. sanitize).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_at: Option<f32>,
    /// Action when the text contains PII (and nothing worse).
    #[serde(default = "default_allow")]
    pub pii: Action,
    /// Action when the text contains a secret (API key, private key, token).
    #[serde(default = "default_sanitize")]
    pub secrets: Action,
}

fn default_allow() -> Action {
    Action::Allow
}
fn default_sanitize() -> Action {
    Action::Sanitize
}

impl SourcePolicy {
    /// DESIGN §3: manipulation acts by source; secrets are redacted everywhere; PII is
    /// redacted in model outputs and only reported elsewhere.
    pub fn default_for(source: Source) -> Self {
        let (action, block_at, pii) = match source {
            Source::User => (Action::Block, None, Action::Allow),
            Source::ToolOutput | Source::Document => (Action::Sanitize, None, Action::Allow),
            Source::ModelOutput => (Action::Block, None, Action::Sanitize),
            Source::ToolCall => (Action::Block, None, Action::Allow),
        };
        SourcePolicy {
            threshold: 0.5,
            action,
            block_at,
            pii,
            secrets: Action::Sanitize,
        }
    }
}

impl SwarmConfig {
    /// Read and validate a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    /// Parse and validate YAML; `file` names the origin in error messages.
    pub fn from_yaml(text: &str, file: &str) -> Result<Self, ConfigError> {
        let mut cfg: SwarmConfig = serde_norway::from_str(text).map_err(|e| {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
            ConfigError::Parse {
                file: file.to_string(),
                line,
                column,
                message: e.to_string(),
            }
        })?;
        // A policy table that names only some sources keeps the defaults for the others.
        for s in Source::ALL {
            cfg.policy.entry(s).or_insert_with(|| SourcePolicy::default_for(s));
        }
        cfg.validate(file)?;
        Ok(cfg)
    }

    /// The policy for a source.
    pub fn policy_for(&self, source: Source) -> SourcePolicy {
        self.policy
            .get(&source)
            .cloned()
            .unwrap_or_else(|| SourcePolicy::default_for(source))
    }

    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_string(),
            message,
        };
        if self.version != 1 {
            return Err(invalid(format!(
                "version {} is not supported (expected 1)",
                self.version
            )));
        }
        for (source, p) in &self.policy {
            let in_unit = |x: f32| (0.0..=1.0).contains(&x);
            if !in_unit(p.threshold) {
                return Err(invalid(format!(
                    "policy.{source}.threshold = {} is outside 0..1",
                    p.threshold
                )));
            }
            if let Some(b) = p.block_at
                && (!in_unit(b) || b < p.threshold)
            {
                return Err(invalid(format!(
                    "policy.{source}.block_at = {b} must lie in threshold..1 (threshold is {})",
                    p.threshold
                )));
            }
        }
        let d = &self.detector;
        if d.max_input_bytes == 0 || d.max_input_bytes > 64 << 20 {
            return Err(invalid(format!(
                "detector.max_input_bytes = {} must be between 1 and 67108864",
                d.max_input_bytes
            )));
        }
        if d.decode.max_depth > 8 {
            return Err(invalid(format!(
                "detector.decode.max_depth = {} is above the limit of 8",
                d.decode.max_depth
            )));
        }
        if !(0.01..=0.99).contains(&d.classifier_threshold) {
            return Err(invalid(format!(
                "detector.classifier_threshold = {} must be between 0.01 and 0.99",
                d.classifier_threshold
            )));
        }
        if !(0.0..=4.0).contains(&d.classifier_weight) {
            return Err(invalid(format!(
                "detector.classifier_weight = {} must be between 0 and 4",
                d.classifier_weight
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_yaml_matches_builtin_default() {
        let text = include_str!("../../swarm-configs/default.yaml");
        let cfg = SwarmConfig::from_yaml(text, "default.yaml").expect("default.yaml parses");
        assert_eq!(cfg, SwarmConfig::default());
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let err = SwarmConfig::from_yaml("version: 1\ndetector:\n  max_input_byte: 10\n", "x.yaml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.yaml:3:"), "{msg}");
        assert!(msg.contains("max_input_byte"), "{msg}");
    }

    #[test]
    fn bad_threshold_is_rejected() {
        let err = SwarmConfig::from_yaml("policy:\n  user: { threshold: 1.5, action: block }\n", "y.yaml").unwrap_err();
        assert!(err.to_string().contains("policy.user.threshold"), "{err}");
    }

    #[test]
    fn unknown_source_and_action_are_rejected() {
        assert!(SwarmConfig::from_yaml("policy:\n  usr: { threshold: 0.5, action: block }\n", "z").is_err());
        assert!(SwarmConfig::from_yaml("policy:\n  user: { threshold: 0.5, action: nuke }\n", "z").is_err());
    }

    #[test]
    fn partial_policy_keeps_defaults() {
        let cfg = SwarmConfig::from_yaml("policy:\n  user: { threshold: 0.7, action: escalate }\n", "p").unwrap();
        assert_eq!(cfg.policy_for(Source::User).action, Action::Escalate);
        assert_eq!(
            cfg.policy_for(Source::ToolOutput),
            SourcePolicy::default_for(Source::ToolOutput)
        );
    }
}
