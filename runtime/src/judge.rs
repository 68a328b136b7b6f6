//! Configuration of the analyzer's optional LLM judge (DESIGN §3): a second opinion from a
//! language model over an OpenAI-compatible or Anthropic endpoint, asked only for texts whose
//! risk falls in the gray zone, and only within a deadline.
//!
//! Off by default: a judge sends the scanned text to a third party and costs latency and money,
//! so it must be chosen knowingly. The API key itself is never part of the config (configs are
//! committed and logged); the config names the environment variable that holds it.
//!
//! ```yaml
//! judge:
//!   enabled: true
//!   provider: anthropic
//!   url: https://api.anthropic.com/v1/messages
//!   model: claude-haiku-4-5
//!   api_key_env: ANTHROPIC_API_KEY
//!   deadline_ms: 2000
//! ```

use serde::{Deserialize, Serialize};

/// Longest text the judge may be sent, in bytes (a bound on cost and on request size).
pub const MAX_JUDGE_INPUT_BYTES: usize = 1 << 20;
/// Longest deadline accepted: the judge runs while a verdict waits.
pub const MAX_JUDGE_DEADLINE_MS: u64 = 60_000;

/// The wire protocol of the judge's endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum JudgeProvider {
    /// OpenAI chat completions, or any server speaking it (vLLM, Ollama, LiteLLM, ...).
    #[default]
    Openai,
    /// Anthropic messages API.
    Anthropic,
}

impl JudgeProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            JudgeProvider::Openai => "openai",
            JudgeProvider::Anthropic => "anthropic",
        }
    }
}

impl std::fmt::Display for JudgeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A judge config that cannot work; the message names the field (`judge.url ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JudgeConfigError(pub String);

/// Settings of the LLM judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JudgeConfig {
    pub enabled: bool,
    pub provider: JudgeProvider,
    /// Full endpoint, e.g. `https://api.openai.com/v1/chat/completions` or
    /// `https://api.anthropic.com/v1/messages`.
    pub url: String,
    pub model: String,
    /// Name of the environment variable holding the API key; none for keyless local servers.
    pub api_key_env: Option<String>,
    /// The judge's whole answer must arrive within this many milliseconds; otherwise the fast
    /// verdict stands.
    pub deadline_ms: u64,
    /// Longest part of a text sent to the judge, in bytes (cut at a char boundary).
    pub max_input_bytes: usize,
    /// Risk range `[low, high]` in which the analyzer asks the judge: below it the fast path is
    /// sure enough the text is benign, above it sure enough it is an attack.
    pub gray_zone: [f32; 2],
}

impl Default for JudgeConfig {
    fn default() -> Self {
        JudgeConfig {
            enabled: false,
            provider: JudgeProvider::Openai,
            url: String::new(),
            model: String::new(),
            api_key_env: None,
            deadline_ms: 2000,
            max_input_bytes: 8192,
            gray_zone: [0.3, 0.8],
        }
    }
}

impl JudgeConfig {
    /// Check the config. A disabled judge is checked too, except for the fields only an enabled
    /// judge needs (url, model), so a config can keep a judge section switched off.
    pub fn validate(&self) -> Result<(), JudgeConfigError> {
        let bad = |m: String| Err(JudgeConfigError(m));
        let [lo, hi] = self.gray_zone;
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo >= hi {
            return bad(format!(
                "judge.gray_zone = [{lo}, {hi}] must be two risks in 0..1 with low < high"
            ));
        }
        if self.deadline_ms == 0 || self.deadline_ms > MAX_JUDGE_DEADLINE_MS {
            return bad(format!(
                "judge.deadline_ms = {} must be between 1 and {MAX_JUDGE_DEADLINE_MS}",
                self.deadline_ms
            ));
        }
        if self.max_input_bytes == 0 || self.max_input_bytes > MAX_JUDGE_INPUT_BYTES {
            return bad(format!(
                "judge.max_input_bytes = {} must be between 1 and {MAX_JUDGE_INPUT_BYTES}",
                self.max_input_bytes
            ));
        }
        if let Some(var) = &self.api_key_env {
            let valid = var.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return bad(format!(
                    "judge.api_key_env = {var:?} must be the NAME of an environment variable (letters, digits, _), not the key itself"
                ));
            }
        }
        if !self.enabled {
            return Ok(());
        }
        let url = self.url.trim();
        if url.is_empty() {
            return bad(format!(
                "judge.url is empty: an enabled judge needs its full endpoint, e.g. {}",
                match self.provider {
                    JudgeProvider::Openai => "https://api.openai.com/v1/chat/completions",
                    JudgeProvider::Anthropic => "https://api.anthropic.com/v1/messages",
                }
            ));
        }
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) || url.len() <= "https://".len() {
            return bad(format!("judge.url = {url:?} must be an http:// or https:// URL"));
        }
        if self.model.trim().is_empty() {
            return bad("judge.model is empty: an enabled judge needs a model name".into());
        }
        Ok(())
    }

    /// Whether a risk falls in the gray zone (both ends included).
    pub fn in_gray_zone(&self, risk: f32) -> bool {
        risk >= self.gray_zone[0] && risk <= self.gray_zone[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> JudgeConfig {
        JudgeConfig {
            enabled: true,
            url: "https://api.openai.com/v1/chat/completions".into(),
            model: "gpt-4o-mini".into(),
            api_key_env: Some("OPENAI_API_KEY".into()),
            ..JudgeConfig::default()
        }
    }

    #[test]
    fn defaults_are_off_and_valid() {
        let d = JudgeConfig::default();
        assert!(!d.enabled);
        assert_eq!(
            (d.deadline_ms, d.max_input_bytes, d.gray_zone),
            (2000, 8192, [0.3, 0.8])
        );
        assert!(d.validate().is_ok());
        assert!(enabled().validate().is_ok());
    }

    #[test]
    fn yaml_with_defaults_and_unknown_fields() {
        let c: JudgeConfig = serde_norway::from_str(
            "enabled: true\nprovider: anthropic\nurl: https://api.anthropic.com/v1/messages\nmodel: m\n",
        )
        .unwrap();
        assert_eq!(c.provider, JudgeProvider::Anthropic);
        assert_eq!(c.deadline_ms, 2000);
        assert!(c.validate().is_ok());
        let err = serde_norway::from_str::<JudgeConfig>("enabled: true\napi_key: sk-123\n").unwrap_err();
        assert!(err.to_string().contains("api_key"), "{err}");
        assert!(serde_norway::from_str::<JudgeConfig>("provider: gemini\n").is_err());
    }

    #[test]
    fn invalid_configs_say_what_is_wrong() {
        let cases: Vec<(JudgeConfig, &str)> = vec![
            (
                JudgeConfig {
                    url: String::new(),
                    ..enabled()
                },
                "judge.url is empty",
            ),
            (
                JudgeConfig {
                    url: "api.openai.com".into(),
                    ..enabled()
                },
                "judge.url",
            ),
            (
                JudgeConfig {
                    model: " ".into(),
                    ..enabled()
                },
                "judge.model is empty",
            ),
            (
                JudgeConfig {
                    deadline_ms: 0,
                    ..enabled()
                },
                "judge.deadline_ms = 0",
            ),
            (
                JudgeConfig {
                    gray_zone: [0.8, 0.3],
                    ..enabled()
                },
                "judge.gray_zone",
            ),
            (
                JudgeConfig {
                    gray_zone: [0.5, 0.5],
                    ..enabled()
                },
                "judge.gray_zone",
            ),
            (
                JudgeConfig {
                    gray_zone: [-0.1, 0.5],
                    ..enabled()
                },
                "judge.gray_zone",
            ),
            (
                JudgeConfig {
                    gray_zone: [f32::NAN, 0.5],
                    ..enabled()
                },
                "judge.gray_zone",
            ),
            (
                JudgeConfig {
                    max_input_bytes: 0,
                    ..enabled()
                },
                "judge.max_input_bytes",
            ),
            (
                JudgeConfig {
                    api_key_env: Some("sk-abc123".into()),
                    ..enabled()
                },
                "NAME of an environment variable",
            ),
        ];
        for (cfg, want) in cases {
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(want), "{err} should mention {want}");
        }
        // A disabled judge may leave url and model empty, but not break the bounds.
        assert!(
            JudgeConfig {
                enabled: false,
                url: String::new(),
                ..enabled()
            }
            .validate()
            .is_ok()
        );
        assert!(
            JudgeConfig {
                enabled: false,
                deadline_ms: 0,
                ..enabled()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn gray_zone_membership() {
        let c = JudgeConfig::default();
        assert!(!c.in_gray_zone(0.29) && c.in_gray_zone(0.3) && c.in_gray_zone(0.8) && !c.in_gray_zone(0.81));
    }
}
