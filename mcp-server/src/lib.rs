//! aimds: the AI Manipulation Defense System.
//!
//! The story of a scan: a [`ScanRequest`] (text + where it came from) goes to the
//! [`Guard`], which runs the fast-path [`Detector`] (normalise, decode, match the skills'
//! rules, score with the learned classifier, find PII and secrets) and turns the
//! detection into a [`Verdict`] with the action the swarm config's policy table sets for
//! that source. The CLI (`cli`), the MCP server ([`mcp`]), the Claude Code hook adapter
//! ([`hook`]) and later the HTTP service are thin layers over the swarm.
//!
//! Crates: [`runtime`](mod@runtime) (domain types, config), [`agents`] (the detector and agents),
//! [`memory`] (SQLite + vector memory, audit chain).

pub mod cli;
pub mod hook;
pub mod http;
pub mod init;
pub mod mcp;

use std::path::Path;
use std::time::Instant;

pub use aimds_agents as agents;
pub use aimds_memory as memory;
pub use aimds_runtime as runtime;

pub use aimds_agents::detector::{Detection, Detector, DetectorError, Reading};
pub use aimds_agents::{Swarm, SwarmBuilder, SwarmError, SwarmStatus};
pub use aimds_runtime::{Action, Category, ScanRequest, Source, StageTiming, SwarmConfig, Verdict};

/// The guard: a configuration plus the detector compiled from it. Cheap to share (`Arc`):
/// scanning takes `&self`.
#[derive(Debug)]
pub struct Guard {
    config: SwarmConfig,
    detector: Detector,
}

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(transparent)]
    Config(#[from] aimds_runtime::ConfigError),
    #[error(transparent)]
    Detector(#[from] DetectorError),
    #[error("cannot open memory {path}: {source}")]
    Memory {
        path: String,
        source: aimds_memory::MemoryError,
    },
    #[error(transparent)]
    Swarm(#[from] SwarmError),
}

/// The config at `path`, or the embedded default.
pub fn load_config(path: Option<&Path>) -> Result<SwarmConfig, GuardError> {
    Ok(match path {
        Some(p) => SwarmConfig::from_file(p)?,
        None => SwarmConfig::default(),
    })
}

/// Whether a config runs any role that reads or writes the shared memory.
pub fn needs_memory(config: &SwarmConfig) -> bool {
    use aimds_runtime::Role;
    [Role::Analyzer, Role::Validator, Role::Logger, Role::Researcher]
        .into_iter()
        .any(|r| config.runs(r))
}

/// Opens the memory at `db` with the durability the config asks for.
pub fn open_memory(config: &SwarmConfig, db: &Path) -> Result<memory::Memory, GuardError> {
    use aimds_runtime::config::DurabilityMode;
    let durability = match config.memory.durability {
        DurabilityMode::Sync => memory::Durability::Sync,
        DurabilityMode::Batched => memory::Durability::Batched {
            max_delay: std::time::Duration::from_millis(config.memory.batch_max_delay_ms),
            max_batch: config.memory.batch_max_size,
        },
    };
    let options = memory::MemoryOptions {
        durability,
        ..memory::MemoryOptions::default()
    };
    memory::Memory::open_with(db, options).map_err(|source| GuardError::Memory {
        path: db.display().to_string(),
        source,
    })
}

/// The swarm a config describes, with its memory at `db` when one of its roles needs it. Call inside a tokio
/// runtime (the supervised pools are tasks on it).
pub fn start_swarm(config: SwarmConfig, db: &Path) -> Result<Swarm, GuardError> {
    let memory = if needs_memory(&config) {
        Some(open_memory(&config, db)?)
    } else {
        None
    };
    Ok(Swarm::start(config, memory)?)
}

/// The runtime the CLI runs the swarm on: two workers (the target machine has two cores), timers and I/O.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("aimds")
        .enable_all()
        .build()
}

impl Guard {
    pub fn new(config: SwarmConfig) -> Result<Guard, GuardError> {
        let detector = Detector::new(&config)?;
        Ok(Guard { config, detector })
    }

    /// The guard for a config file, or the embedded default config when `None`.
    pub fn from_config_file(path: Option<&Path>) -> Result<Guard, GuardError> {
        let config = match path {
            Some(p) => SwarmConfig::from_file(p)?,
            None => SwarmConfig::default(),
        };
        Guard::new(config)
    }

    /// A guard whose classifier is replaced (used by `aimds train --loso`).
    pub fn with_detector(config: SwarmConfig, detector: Detector) -> Guard {
        Guard { config, detector }
    }

    pub fn config(&self) -> &SwarmConfig {
        &self.config
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Scan one text and decide what to do with it.
    pub fn scan(&self, req: &ScanRequest) -> Result<Verdict, DetectorError> {
        let start = Instant::now();
        let policy = self.config.policy_for(req.source);
        let detection = self
            .detector
            .detect_for(&req.text, None, Reading::of(req.source, &policy))?;
        let mut verdict = aimds_agents::policy::verdict(detection, req.source, &policy);
        verdict.stages.push(StageTiming {
            stage: "detector".into(),
            us: start.elapsed().as_secs_f64() * 1e6,
        });
        Ok(verdict)
    }
}
