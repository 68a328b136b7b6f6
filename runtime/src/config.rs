//! Swarm configuration (YAML). Every field has a default, and an unknown field is an
//! error that names the file and line, so a typo never silently weakens a policy.
//!
//! `swarm-configs/default.yaml` spells out the defaults; [`SwarmConfig::default`] is the
//! same configuration without a file (a test checks that the two agree).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::agent::Role;
use crate::judge::JudgeConfig;
use crate::ltl::{TemporalPolicy, compile_policies, default_policies};
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
    /// Which roles run, how many instances, their deadlines and mailboxes.
    pub roles: BTreeMap<Role, RoleConfig>,
    /// How the shared memory commits (its path comes from `--db` / `AIMDS_DB`).
    pub memory: MemoryConfig,
    pub analyzer: AnalyzerConfig,
    pub validator: ValidatorConfig,
    pub researcher: ResearcherConfig,
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
            roles: Role::ALL.into_iter().map(|r| (r, RoleConfig::default_for(r))).collect(),
            memory: MemoryConfig::default(),
            analyzer: AnalyzerConfig::default(),
            validator: ValidatorConfig::default(),
            researcher: ResearcherConfig::default(),
        }
    }
}

/// One role of the swarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Whether the role runs. The detector and the responder always run.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Worker instances sharing the role's mailbox (supervised roles only).
    #[serde(default = "one")]
    pub instances: usize,
    /// How long a scan waits for this stage before it goes on without it (the fast verdict stands).
    #[serde(default = "default_deadline_ms")]
    pub deadline_ms: u64,
    /// Tasks that may wait in the mailbox; a full mailbox makes callers wait (backpressure).
    #[serde(default = "default_mailbox")]
    pub mailbox: usize,
    /// How many instances review each request (analyzer only; 1..=instances). With more than one, the request
    /// goes to that many instances at once and their opinions combine by `aggregate` before they meet the
    /// verdict: an ensemble, e.g. several calls to a sampling LLM judge. Stateful roles (validator: one temporal
    /// monitor step per event; logger, researcher: writes) always use one.
    #[serde(default = "one")]
    pub fanout: usize,
    /// How opinions combine — the fanned-out instances' with each other, and the stage's with the verdict so
    /// far: `max` keeps the highest risk, `weighted` averages the instances and then weighs the stage by
    /// `weight` against the verdict (never below the detector's floor).
    #[serde(default)]
    pub aggregate: Aggregate,
    /// Weight of this stage's risk under `weighted` aggregation.
    #[serde(default = "unit_weight")]
    pub weight: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    #[default]
    Max,
    Weighted,
}

fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}
fn default_deadline_ms() -> u64 {
    250
}
fn default_mailbox() -> usize {
    1024
}
fn unit_weight() -> f32 {
    1.0
}

impl RoleConfig {
    pub fn default_for(role: Role) -> Self {
        let deadline_ms = match role {
            Role::Detector | Role::Responder => 1_000,
            Role::Analyzer => 250,
            Role::Validator => 250,
            Role::Logger => 5_000,
            Role::Researcher => 30_000,
        };
        RoleConfig {
            enabled: true,
            instances: match role {
                Role::Analyzer => 2,
                // A logger instance waits for its record's commit without holding a thread; records of as many
                // concurrent verdicts as there are instances share one commit (and one fsync under `sync`).
                Role::Logger => 32,
                _ => 1,
            },
            deadline_ms,
            mailbox: default_mailbox(),
            fanout: 1,
            aggregate: Aggregate::Max,
            weight: 1.0,
        }
    }
}

/// Durability of audit records and session events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// `sync`: a verdict is returned only after its audit record is committed. `batched`: group commit off the
    /// request path within `batch_max_delay_ms`, flushed on clean shutdown.
    pub durability: DurabilityMode,
    pub batch_max_delay_ms: u64,
    pub batch_max_size: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            durability: DurabilityMode::Sync,
            batch_max_delay_ms: 20,
            batch_max_size: 256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurabilityMode {
    Sync,
    Batched,
}

/// Session analysis (multi-turn attacks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyzerConfig {
    /// Earlier turns of the session looked at together with the current one.
    pub window_turns: usize,
    /// Session risk from which the session counts as under attack.
    pub session_threshold: f32,
    /// Blocked turns within the window that count as probing.
    pub probe_blocks: usize,
    /// Similarity (cosine) of the recent window to a known multi-turn attack in vector memory.
    pub similarity_threshold: f32,
    /// Bytes of each turn kept in the session trace (redacted) for the analyzer to re-read.
    pub turn_bytes: usize,
    /// The optional LLM judge for texts in the gray zone (off by default).
    pub judge: JudgeConfig,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            window_turns: 8,
            session_threshold: 0.5,
            probe_blocks: 3,
            similarity_threshold: 0.8,
            turn_bytes: 4096,
            judge: JudgeConfig::default(),
        }
    }
}

/// Model-output checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidatorConfig {
    /// Look for registered canary tokens in model outputs.
    pub canaries: bool,
    /// Fraction of a registered system prompt's word shingles found in an output that counts as a leak.
    pub leak_overlap: f32,
    /// A verbatim run of this many words of the system prompt counts as a leak.
    pub leak_run_words: usize,
    /// Temporal policies over each session's event trace (past-time LTL; see `ltl`).
    pub policies: Vec<TemporalPolicy>,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        ValidatorConfig {
            canaries: true,
            leak_overlap: 0.3,
            leak_run_words: 12,
            policies: default_policies(),
        }
    }
}

/// The learning loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResearcherConfig {
    /// Cosine similarity at which a scanned text matches a learned attack (and at which a candidate conflicts
    /// with a benign reference text in the gate).
    pub match_threshold: f32,
    /// Cosine similarity at which a text counts as a near-duplicate of an allowlisted one.
    pub allowlist_threshold: f32,
    /// Recent allowed texts (from the session traces) the gate replays besides the shipped benign reference set.
    pub recent_allowed: usize,
}

impl Default for ResearcherConfig {
    fn default() -> Self {
        ResearcherConfig {
            match_threshold: 0.8,
            allowlist_threshold: 0.9,
            recent_allowed: 500,
        }
    }
}

/// The second weights' default point (the first's is 0.8): where a tool output's point is 0.94
/// they read at 0.92, where a prompt's is 0.91 at 0.88. 0.7 at stop 47; 0.75 since the weights
/// learned the training sets t1-t10 (stop 48), which read ordinary text in other languages higher.
pub const OTHER_LANGUAGES_THRESHOLD: f32 = 0.75;

/// The default point of the weights for English tool outputs and documents (stop 49): where those
/// sources' point is 0.94 they read at 0.96, where no clean tool-output file of the harness was
/// flagged more often than with `model.bin` at 0.94 (role prompts read as documents: one more of
/// 641; README, "Multilingual attacks, hand-written", stop 49).
pub const TOOL_OUTPUTS_THRESHOLD: f32 = 0.86;

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
    /// The operating point of the classifier's second weights, the ones that read text not in
    /// English (what `classifier_threshold` is for the first). It does not follow
    /// `classifier_threshold`: set each to move each. A source's own point
    /// (`policy.<source>.classifier_threshold`) moves all the weights' points by the same shift of
    /// the logit.
    /// Lower than `classifier_threshold` by default because those weights read ordinary text in
    /// other languages lower than the first read English (README, "Multilingual attacks,
    /// hand-written", stops 47 and 48).
    pub other_languages_threshold: f32,
    /// The operating point of the classifier's weights for English tool outputs and documents
    /// (`model-tool-outputs.bin`), what `classifier_threshold` is for the first; a source's own
    /// point moves it by the same shift of the logit. Higher than `classifier_threshold` by
    /// default because those weights learned orders hidden in what agents read and read clean
    /// tool outputs a little higher (README, "Multilingual attacks, hand-written", stop 49).
    /// Since stop 52 the same weights give an English prompt under 16 KB a second reading at this
    /// point, moved by the prompts' (0.91 -> 0.94), and the stronger reading counts.
    pub tool_outputs_threshold: f32,
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
            other_languages_threshold: OTHER_LANGUAGES_THRESHOLD,
            tool_outputs_threshold: TOOL_OUTPUTS_THRESHOLD,
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
    /// The classifier's operating point for this source — the probability that counts as risk
    /// 0.5 on its own — where it differs from `detector.classifier_threshold`. The model learned
    /// attacks mostly from prompts; a document or a tool's output is a genre it knows less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier_threshold: Option<f32>,
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
        // Documents and tool outputs: the classifier alone flagged 2.8 % of an agent's clean
        // office files and e-mails at 0.8 (imperative bullet lists read like orders); at 0.94,
        // 0.7 %, while the injections in them are caught by the rules that address the reader
        // (README, "Clean tool outputs").
        // Prompts: at 0.8 the classifier alone flagged 1.4 % and 1.7 % of the studied halves of two
        // sets of users' English chat that nothing was trained on; 0.9 is the point where both are
        // under 1 % (0.9 %), at a cost of 4-7 points of Tensor Trust's attacks on the same halves
        // (README, "The prompts' operating point"). Since stop 51 prompts are read by weights that
        // also learned the hand-written sets; 0.91 keeps those chat sets where 0.9 had them (README,
        // "Multilingual attacks, hand-written", stop 51). `strict.yaml` keeps 0.8.
        let classifier_threshold = match source {
            Source::ToolOutput | Source::Document => Some(0.94),
            Source::User => Some(0.91),
            _ => None,
        };
        SourcePolicy {
            threshold: 0.5,
            action,
            block_at,
            pii,
            secrets: Action::Sanitize,
            classifier_threshold,
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
        for r in Role::ALL {
            cfg.roles.entry(r).or_insert_with(|| RoleConfig::default_for(r));
        }
        cfg.validate().map_err(|(path, message)| match locate(text, &path) {
            Some(line) => ConfigError::Parse {
                file: file.to_string(),
                line,
                column: 1,
                message,
            },
            None => ConfigError::Invalid {
                file: file.to_string(),
                message,
            },
        })?;
        Ok(cfg)
    }

    /// The policy for a source.
    pub fn policy_for(&self, source: Source) -> SourcePolicy {
        self.policy
            .get(&source)
            .cloned()
            .unwrap_or_else(|| SourcePolicy::default_for(source))
    }

    /// Checks what the types cannot; the error names the YAML path and, where the file has it, its line.
    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |path: String, message: String| Err((path, message));
        if self.version != 1 {
            return bad(
                "version".into(),
                format!("version {} is not supported (expected 1)", self.version),
            );
        }
        let in_unit = |x: f32| (0.0..=1.0).contains(&x);
        for (source, p) in &self.policy {
            if !in_unit(p.threshold) {
                return bad(
                    format!("policy.{source}.threshold"),
                    format!("policy.{source}.threshold = {} is outside 0..1", p.threshold),
                );
            }
            if let Some(t) = p.classifier_threshold
                && !(0.01..=0.99).contains(&t)
            {
                return bad(
                    format!("policy.{source}.classifier_threshold"),
                    format!("policy.{source}.classifier_threshold = {t} must be between 0.01 and 0.99"),
                );
            }
            if let Some(b) = p.block_at
                && (!in_unit(b) || b < p.threshold)
            {
                return bad(
                    format!("policy.{source}.block_at"),
                    format!(
                        "policy.{source}.block_at = {b} must lie in threshold..1 (threshold is {})",
                        p.threshold
                    ),
                );
            }
        }
        let d = &self.detector;
        if d.max_input_bytes == 0 || d.max_input_bytes > 64 << 20 {
            return bad(
                "detector.max_input_bytes".into(),
                format!(
                    "detector.max_input_bytes = {} must be between 1 and 67108864",
                    d.max_input_bytes
                ),
            );
        }
        if d.decode.max_depth > 8 {
            return bad(
                "detector.decode.max_depth".into(),
                format!(
                    "detector.decode.max_depth = {} is above the limit of 8",
                    d.decode.max_depth
                ),
            );
        }
        // the classifier weights' operating points
        for (field, t) in [
            ("classifier_threshold", d.classifier_threshold),
            ("other_languages_threshold", d.other_languages_threshold),
            ("tool_outputs_threshold", d.tool_outputs_threshold),
        ] {
            if !(0.01..=0.99).contains(&t) {
                return bad(
                    format!("detector.{field}"),
                    format!("detector.{field} = {t} must be between 0.01 and 0.99"),
                );
            }
        }
        if !(0.0..=4.0).contains(&d.classifier_weight) {
            return bad(
                "detector.classifier_weight".into(),
                format!(
                    "detector.classifier_weight = {} must be between 0 and 4",
                    d.classifier_weight
                ),
            );
        }
        for (role, r) in &self.roles {
            let at = |field: &str| format!("roles.{role}.{field}");
            if !r.enabled && matches!(role, Role::Detector | Role::Responder) {
                return bad(
                    at("enabled"),
                    format!("roles.{role} cannot be disabled: every scan needs it"),
                );
            }
            if !(1..=64).contains(&r.instances) {
                return bad(
                    at("instances"),
                    format!("roles.{role}.instances = {} must be between 1 and 64", r.instances),
                );
            }
            if r.fanout != 1 && *role != Role::Analyzer {
                return bad(
                    at("fanout"),
                    format!(
                        "roles.{role}.fanout = {}: only the analyzer fans out (the {role} keeps state or writes, once per request)",
                        r.fanout
                    ),
                );
            }
            if !(1..=r.instances).contains(&r.fanout) {
                return bad(
                    at("fanout"),
                    format!(
                        "roles.{role}.fanout = {} must be between 1 and its instances ({})",
                        r.fanout, r.instances
                    ),
                );
            }
            if !(1..=600_000).contains(&r.deadline_ms) {
                return bad(
                    at("deadline_ms"),
                    format!(
                        "roles.{role}.deadline_ms = {} must be between 1 and 600000",
                        r.deadline_ms
                    ),
                );
            }
            if !(1..=1 << 20).contains(&r.mailbox) {
                return bad(
                    at("mailbox"),
                    format!("roles.{role}.mailbox = {} must be between 1 and 1048576", r.mailbox),
                );
            }
            if !(0.0..=100.0).contains(&r.weight) {
                return bad(
                    at("weight"),
                    format!("roles.{role}.weight = {} must be between 0 and 100", r.weight),
                );
            }
        }
        let a = &self.analyzer;
        if !(1..=256).contains(&a.window_turns) {
            return bad(
                "analyzer.window_turns".into(),
                format!("analyzer.window_turns = {} must be between 1 and 256", a.window_turns),
            );
        }
        for (name, x) in [
            ("analyzer.session_threshold", a.session_threshold),
            ("analyzer.similarity_threshold", a.similarity_threshold),
            ("validator.leak_overlap", self.validator.leak_overlap),
            ("researcher.match_threshold", self.researcher.match_threshold),
            ("researcher.allowlist_threshold", self.researcher.allowlist_threshold),
        ] {
            if !in_unit(x) || x == 0.0 {
                return bad(name.into(), format!("{name} = {x} must be in (0, 1]"));
            }
        }
        if !(64..=65_536).contains(&a.turn_bytes) {
            return bad(
                "analyzer.turn_bytes".into(),
                format!("analyzer.turn_bytes = {} must be between 64 and 65536", a.turn_bytes),
            );
        }
        if self.validator.leak_run_words < 3 {
            return bad(
                "validator.leak_run_words".into(),
                format!(
                    "validator.leak_run_words = {} must be at least 3",
                    self.validator.leak_run_words
                ),
            );
        }
        if self.researcher.recent_allowed > 10_000 {
            return bad(
                "researcher.recent_allowed".into(),
                format!(
                    "researcher.recent_allowed = {} is above 10000",
                    self.researcher.recent_allowed
                ),
            );
        }
        if let Err(e) = a.judge.validate() {
            return bad("analyzer.judge".into(), format!("analyzer.{}", e.0));
        }
        if let Err(e) = compile_policies(&self.validator.policies) {
            return bad("validator.policies".into(), format!("validator.policies: {e}"));
        }
        let m = &self.memory;
        if !(1..=10_000).contains(&m.batch_max_delay_ms) || !(1..=100_000).contains(&m.batch_max_size) {
            return bad(
                "memory.batch_max_delay_ms".into(),
                "memory.batch_max_delay_ms must be 1..10000 and memory.batch_max_size 1..100000".into(),
            );
        }
        Ok(())
    }

    /// Whether a role runs.
    pub fn runs(&self, role: Role) -> bool {
        self.roles.get(&role).is_none_or(|r| r.enabled)
    }

    pub fn role(&self, role: Role) -> RoleConfig {
        self.roles
            .get(&role)
            .cloned()
            .unwrap_or_else(|| RoleConfig::default_for(role))
    }
}

/// The 1-based line of a dotted YAML path (`policy.user.threshold`) in `text`: each segment is searched as a
/// key after the previous one's line. Good enough to point a person at the right place; `None` when the path
/// comes from defaults rather than the file.
fn locate(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0usize;
    let mut found = None;
    for seg in path.split('.') {
        let key = format!("{seg}:");
        let hit = lines.iter().enumerate().skip(from).find(|(_, l)| {
            let l = l.split('#').next().unwrap_or("");
            l.trim_start().starts_with(&key) || l.contains(&format!("{{ {key}")) || l.contains(&format!(", {key}"))
        })?;
        found = Some(hit.0 + 1);
        from = hit.0;
    }
    found
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
    fn shipped_configs_load() {
        for (name, text) in [
            ("strict.yaml", include_str!("../../swarm-configs/strict.yaml")),
            ("low-latency.yaml", include_str!("../../swarm-configs/low-latency.yaml")),
            ("agent-guard.yaml", include_str!("../../swarm-configs/agent-guard.yaml")),
        ] {
            let cfg = SwarmConfig::from_yaml(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(cfg.runs(Role::Detector) && cfg.runs(Role::Responder), "{name}");
        }
        let low = SwarmConfig::from_yaml(include_str!("../../swarm-configs/low-latency.yaml"), "l").unwrap();
        assert!(!low.runs(Role::Logger) && !low.runs(Role::Analyzer));
    }

    #[test]
    fn unknown_role_and_bad_role_settings_name_the_line() {
        let err = SwarmConfig::from_yaml("version: 1\nroles:\n  judge: { enabled: true }\n", "r.yaml").unwrap_err();
        assert!(err.to_string().starts_with("r.yaml:3:"), "{err}");
        assert!(err.to_string().contains("judge"), "{err}");
        let err = SwarmConfig::from_yaml("roles:\n  analyzer:\n    instances: 0\n", "r.yaml").unwrap_err();
        assert!(err.to_string().starts_with("r.yaml:3:"), "{err}");
        assert!(err.to_string().contains("instances"), "{err}");
        let err = SwarmConfig::from_yaml("roles:\n  detector: { enabled: false }\n", "r.yaml").unwrap_err();
        assert!(err.to_string().contains("cannot be disabled"), "{err}");
        let err = SwarmConfig::from_yaml("policy:\n  user: { threshold: 1.5, action: block }\n", "t.yaml").unwrap_err();
        assert!(err.to_string().starts_with("t.yaml:2:"), "{err}");
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
    fn a_source_classifier_threshold_is_checked_and_optional() {
        let err = SwarmConfig::from_yaml(
            "policy:\n  document: { threshold: 0.5, action: sanitize, classifier_threshold: 1.2 }\n",
            "c.yaml",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("policy.document.classifier_threshold"),
            "{err}"
        );
        assert!(err.to_string().starts_with("c.yaml:2:"), "{err}");
        // a line without it reads the classifier at the detector's point
        let cfg = SwarmConfig::from_yaml("policy:\n  document: { threshold: 0.5, action: sanitize }\n", "c").unwrap();
        assert_eq!(cfg.policy_for(Source::Document).classifier_threshold, None);
        // the built-in table reads documents, tool outputs and prompts at their own points, the
        // other sources at the detector's
        let d = SwarmConfig::default();
        assert_eq!(d.policy_for(Source::ToolOutput).classifier_threshold, Some(0.94));
        assert_eq!(d.policy_for(Source::Document).classifier_threshold, Some(0.94));
        assert_eq!(d.policy_for(Source::User).classifier_threshold, Some(0.91));
        assert_eq!(d.policy_for(Source::ModelOutput).classifier_threshold, None);
        // and the shipped default.yaml says the same
        let shipped = SwarmConfig::from_yaml(include_str!("../../swarm-configs/default.yaml"), "default.yaml").unwrap();
        for s in Source::ALL {
            assert_eq!(
                shipped.policy_for(s).classifier_threshold,
                d.policy_for(s).classifier_threshold,
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_other_weights_points_are_checked_and_shipped_as_the_defaults() {
        type Point = fn(&DetectorConfig) -> f32;
        let points: [(&str, f32, Point); 2] = [
            ("other_languages_threshold", OTHER_LANGUAGES_THRESHOLD, |d| {
                d.other_languages_threshold
            }),
            ("tool_outputs_threshold", TOOL_OUTPUTS_THRESHOLD, |d| {
                d.tool_outputs_threshold
            }),
        ];
        let shipped = SwarmConfig::from_yaml(include_str!("../../swarm-configs/default.yaml"), "default.yaml").unwrap();
        for (field, default, point) in points {
            for bad in ["0", "1"] {
                let err = SwarmConfig::from_yaml(&format!("detector:\n  {field}: {bad}\n"), "p.yaml").unwrap_err();
                assert!(err.to_string().contains(&format!("detector.{field}")), "{err}");
            }
            let cfg = SwarmConfig::from_yaml(&format!("detector:\n  {field}: 0.85\n"), "p.yaml").unwrap();
            assert_eq!(point(&cfg.detector), 0.85);
            assert_eq!(point(&shipped.detector), default, "{field}");
            assert_eq!(point(&SwarmConfig::default().detector), default, "{field}");
        }
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

    #[test]
    fn fanout_is_for_the_analyzer_and_within_its_instances() {
        let ok = SwarmConfig::from_yaml(
            "roles:\n  analyzer: { instances: 3, fanout: 3, aggregate: weighted }\n",
            "f.yaml",
        )
        .unwrap();
        assert_eq!(ok.role(Role::Analyzer).fanout, 3);
        assert_eq!(SwarmConfig::default().role(Role::Analyzer).fanout, 1);
        let err = SwarmConfig::from_yaml("roles:\n  analyzer: { instances: 2, fanout: 3 }\n", "f.yaml").unwrap_err();
        assert!(
            err.to_string()
                .contains("fanout = 3 must be between 1 and its instances (2)"),
            "{err}"
        );
        let err = SwarmConfig::from_yaml("roles:\n  validator: { instances: 2, fanout: 2 }\n", "f.yaml").unwrap_err();
        assert!(err.to_string().contains("only the analyzer fans out"), "{err}");
        assert!(err.to_string().contains("f.yaml"), "{err}");
    }
}
