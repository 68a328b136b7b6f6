//! The MCP server: every defense of the swarm as an MCP tool (`aimds mcp`).
//!
//! One started [`Swarm`] serves every client: over stdio (one client, the agent host that spawned us) or over
//! streamable HTTP under `/mcp` (any number of clients; the factory closure hands each session a clone of the same
//! [`Shared`] state, because clients on protocol 2026-07-28 are served statelessly).
//!
//! - [`tools`]: the tools, one function each, with their parameter structs in [`params`] (the doc comments become
//!   the JSON schema clients see) and their results in [`results`] (`Json<T>`: structured content plus an output
//!   schema).
//! - [`resources`]: the skills' SKILL.md, the temporal policies and the active config, and the prompts.
//!
//! Every argument is validated before any work (sizes, enums, ids); a bad call gets an MCP `invalid_params` error
//! that names the argument and what was wrong, and the server carries on. Logs go to stderr: stdout is the
//! protocol.

pub mod args;
pub mod params;
pub mod resources;
pub mod results;
pub mod tools;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aimds_agents::detector::skills::SkillSet;
use aimds_memory::Memory;
use aimds_runtime::SwarmConfig;
use aimds_runtime::ltl::{CompiledPolicy, compile_policies};
use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::{ErrorData, ServiceExt};

use crate::{GuardError, Swarm, SwarmError};

/// One skill as served to clients (`skill://<name>/SKILL.md`).
#[derive(Debug, Clone)]
pub struct SkillDoc {
    pub name: String,
    pub description: String,
    pub category: String,
    pub version: String,
    pub skill_md: String,
}

/// What every MCP session shares: the started swarm and what the resources serve.
#[derive(Debug)]
pub struct Shared {
    pub swarm: Swarm,
    pub skills: Vec<SkillDoc>,
    /// The active config as YAML.
    pub config_yaml: String,
    /// The config's temporal policies, compiled once (the config loaded, so they compile).
    pub policies: Vec<CompiledPolicy>,
}

impl Shared {
    /// Builds the shared state around a started swarm.
    pub fn new(swarm: Swarm) -> Result<Shared, GuardError> {
        let config = swarm.config().clone();
        let skills = skill_docs(&config)?;
        let config_yaml = serde_norway::to_string(&config).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
        let policies = compile_policies(&config.validator.policies).map_err(|e| {
            GuardError::Swarm(SwarmError::Agent(aimds_runtime::AgentError::failed(
                aimds_runtime::Role::Validator,
                e.to_string(),
            )))
        })?;
        Ok(Shared {
            swarm,
            skills,
            config_yaml,
            policies,
        })
    }

    /// The memory, or the error a memory tool answers when the config runs without one.
    pub fn memory(&self) -> Result<&Memory, ErrorData> {
        self.swarm.memory().ok_or_else(|| {
            ErrorData::invalid_request(
                "this swarm runs without memory (its config enables none of analyzer, validator, logger, \
                 researcher), so memory, canary and audit tools are unavailable",
                None,
            )
        })
    }
}

/// The skills the config loads, with their SKILL.md (the detector keeps only summaries).
fn skill_docs(config: &SwarmConfig) -> Result<Vec<SkillDoc>, GuardError> {
    let detector_err = |e| GuardError::Detector(aimds_agents::DetectorError::Skill(e));
    let mut set = match &config.detector.skills_dir {
        Some(dir) => SkillSet::from_dir(dir).map_err(detector_err)?,
        None => SkillSet::embedded().map_err(detector_err)?,
    };
    set.without(&config.detector.disabled_skills);
    Ok(set
        .skills
        .into_iter()
        .map(|s| SkillDoc {
            name: s.name,
            description: s.description,
            category: s.category,
            version: s.version,
            skill_md: s.skill_md,
        })
        .collect())
}

/// The MCP server handler. Cheap to clone: the state is shared.
#[derive(Clone)]
pub struct AimdsMcp {
    pub(crate) shared: Arc<Shared>,
    tool_router: ToolRouter<AimdsMcp>,
    prompt_router: PromptRouter<AimdsMcp>,
}

impl std::fmt::Debug for AimdsMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AimdsMcp").finish_non_exhaustive()
    }
}

impl AimdsMcp {
    pub fn new(shared: Arc<Shared>) -> AimdsMcp {
        AimdsMcp {
            shared,
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
        }
    }

    /// The names of the tools this server lists.
    pub fn tool_names() -> Vec<String> {
        Self::tool_router()
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect()
    }
}

/// Starts the swarm of `config` with its memory at `db` and wraps it for MCP. Call inside a tokio runtime.
pub fn start(config: SwarmConfig, db: &Path) -> Result<Arc<Shared>, GuardError> {
    let swarm = crate::start_swarm(config, db)?;
    Ok(Arc::new(Shared::new(swarm)?))
}

/// Stops the swarm once no session holds the state any more (flushing memory either way).
pub async fn stop(shared: Arc<Shared>) {
    match Arc::try_unwrap(shared) {
        Ok(shared) => shared.swarm.shutdown(Duration::from_secs(5)).await,
        Err(shared) => {
            if let Some(m) = shared.swarm.memory()
                && let Err(e) = m.flush()
            {
                tracing::error!(error = %e, "flushing memory at exit failed");
            }
        }
    }
}

/// Serves one client over stdin/stdout until it disconnects.
pub async fn serve_stdio(shared: Arc<Shared>) -> anyhow::Result<()> {
    let server = AimdsMcp::new(shared);
    let running = server.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}

/// Serves streamable HTTP under `/mcp` on `listener` until `shutdown` resolves.
pub async fn serve_http(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

    let addr = listener.local_addr()?;
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        hosts.push(addr.ip().to_string());
    }
    let config = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .with_allowed_hosts(hosts);
    let state = shared.clone();
    let service: StreamableHttpService<AimdsMcp, LocalSessionManager> = StreamableHttpService::new(
        move || Ok(AimdsMcp::new(state.clone())),
        LocalSessionManager::default().into(),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// Whether `addr` may be served without `--allow-remote`: the MCP endpoint has no authentication.
pub fn is_local(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
