//! `aimds serve`: the swarm as an HTTP service (see `crate::http` for the API). Prints
//! `aimds serve: listening on http://ADDR` on stdout once it accepts connections (with `--listen 127.0.0.1:0`,
//! ADDR is the port the OS chose), serves until SIGTERM or SIGINT, then drains and flushes the audit log.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::exit;
use crate::http::{self, FieldLimits, RateLimit, ServeOptions};

const API: &str = "\
Endpoints:
  POST /v1/scan          {\"text\", \"source\"?, \"session_id\"?, \"meta\"?}  -> verdict + request_id
  POST /v1/scan/output   {\"text\", \"session_id\"?, \"meta\"?}            -> verdict (source model_output)
  POST /v1/tool-call     {\"tool_name\", \"tool_input\", \"session_id\"?}   -> verdict (source tool_call)
  POST /v1/feedback      {\"text\", \"label\": attack|benign, \"category\"?, \"note\"?} -> report
  GET  /v1/audit/verify  the audit chain: 200 intact, 409 broken
  GET  /metrics          Prometheus text format
  GET  /health           liveness (process up)
  GET  /ready            readiness (memory, skills, agents; 503 while draining)
Errors are JSON {\"error\", \"status\", \"request_id\"}: 400 bad body or field, 401 token, 413 body too large,
415 not JSON, 429 rate limit (Retry-After), 501 role not running, 503 verdict could not be audited.
Every response carries x-request-id (the client's, when it sends a valid one).
Logs go to stderr; AIMDS_LOG sets the filter (e.g. info, aimds=debug), AIMDS_LOG_FORMAT=json makes them JSON.";

#[derive(Debug, clap::Args)]
#[command(after_help = API)]
pub struct ServeArgs {
    /// Address to listen on. Loopback by default; port 0 picks a free port (printed on stdout).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Environment variable holding the bearer token. When it is set and not empty, /v1/* and /metrics require
    /// `Authorization: Bearer <token>`.
    #[arg(long, value_name = "VAR", default_value = "AIMDS_TOKEN")]
    pub token_env: String,
    /// Serve /metrics without the token (for a scraper inside a trusted network).
    #[arg(long)]
    pub public_metrics: bool,
    /// Largest request body (bytes); larger ones get 413.
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Requests per second per client IP on /v1/* (token bucket); 0 turns rate limiting off.
    #[arg(long, value_name = "N", default_value_t = 0.0)]
    pub rate_limit: f64,
    /// Burst a client may send at once (default: one second's worth, at least 1).
    #[arg(long, value_name = "N")]
    pub rate_burst: Option<f64>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub shutdown_grace: f64,
    /// Runtime worker threads (default: the CPUs this process may use, cgroup limits included).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

pub fn run(args: ServeArgs, config: Option<&Path>, db: &Path) -> anyhow::Result<i32> {
    let config = crate::load_config(config)?;
    let options = match options(&args, &config) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("aimds serve: {msg}");
            return Ok(exit::USAGE);
        }
    };
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("aimds")
        .enable_all()
        .build()?;
    rt.block_on(async {
        let swarm = Arc::new(crate::start_swarm(config, db)?);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() && options.token.is_none() {
            tracing::warn!(%addr, token_env = %args.token_env, "listening beyond loopback without a bearer token");
        }
        let state = http::AppState::new(swarm.clone(), options).context("registering HTTP metrics")?;
        println!("aimds serve: listening on http://{addr}");
        tracing::info!(%addr, workers, memory = ?swarm.memory().map(|m| m.path().to_path_buf()), "serving");
        let served = http::serve(listener, state, http::shutdown_signal()).await;
        shutdown_swarm(swarm).await;
        served?;
        tracing::info!("stopped");
        Ok(exit::OK)
    })
}

fn options(args: &ServeArgs, config: &crate::SwarmConfig) -> Result<ServeOptions, String> {
    let token = std::env::var(&args.token_env).ok().filter(|t| !t.trim().is_empty());
    if args.max_body_bytes < 1024 {
        return Err("--max-body-bytes must be at least 1024".into());
    }
    if !(args.rate_limit.is_finite() && args.rate_limit >= 0.0) {
        return Err("--rate-limit must be a number ≥ 0".into());
    }
    let rate_limit = (args.rate_limit > 0.0).then(|| RateLimit {
        rate: args.rate_limit,
        burst: args.rate_burst.unwrap_or(args.rate_limit).max(1.0),
    });
    if !(args.shutdown_grace.is_finite() && args.shutdown_grace >= 0.0) {
        return Err("--shutdown-grace must be a number of seconds ≥ 0".into());
    }
    Ok(ServeOptions {
        token: token.map(|t| t.trim().to_string()),
        public_metrics: args.public_metrics,
        max_body_bytes: args.max_body_bytes,
        fields: FieldLimits {
            text_bytes: config.detector.max_input_bytes,
            ..FieldLimits::default()
        },
        rate_limit,
        shutdown_grace: Duration::from_secs_f64(args.shutdown_grace),
    })
}

/// Stops the swarm's pools (finishing queued work) and flushes the memory: with `batched` durability this is what
/// commits the last window of audit records. The server's clones of the swarm are gone once it has stopped; if a
/// request outlived the grace period and still holds one, the memory is flushed directly instead.
async fn shutdown_swarm(mut swarm: Arc<crate::Swarm>) {
    for _ in 0..100 {
        match Arc::try_unwrap(swarm) {
            Ok(s) => {
                s.shutdown(Duration::from_secs(5)).await;
                return;
            }
            Err(shared) => {
                swarm = shared;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    tracing::warn!("requests still hold the swarm after the grace period; flushing the memory without stopping it");
    if let Some(m) = swarm.memory()
        && let Err(e) = m.flush()
    {
        tracing::error!(error = %e, "flushing memory at shutdown failed");
    }
}
