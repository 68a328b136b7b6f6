//! `aimds serve`: the swarm behind an HTTP API, for platform teams that put a guard in front of an LLM API or
//! gateway (one call per request, Prometheus metrics, Kubernetes probes).
//!
//! The path of a request, outermost layer first:
//!
//! ```text
//! request id + trace span + HTTP metrics (every route)
//!   └─ rate limit (per peer IP, /v1/* only) ─▶ bearer auth (/v1/*, and /metrics unless public) ─▶ body limit
//!        └─ handler (one file per endpoint in `handlers/`) ─▶ Swarm::scan / feedback / memory
//! ```
//!
//! The server runs on the same tokio runtime as the swarm and shares its Prometheus registry. No endpoint reads
//! or writes a path named by a client; CORS headers are never sent, so browsers on other origins cannot read
//! the answers. Shutdown (SIGTERM, SIGINT) stops accepting, lets in-flight requests finish within a grace period,
//! then shuts the swarm down, which flushes the audit log.

pub mod auth;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod limits;
pub mod metrics;
pub mod rate;
pub mod request_id;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

use crate::Swarm;

pub use error::ApiError;
pub use limits::FieldLimits;
pub use rate::RateLimit;

/// How the server behaves; `aimds serve` fills it from its flags.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The bearer token clients must send (`Authorization: Bearer <token>`); `None` = no auth.
    pub token: Option<String>,
    /// Serve `/metrics` without the token (for scrapers inside a trusted network).
    pub public_metrics: bool,
    /// Largest request body accepted (bytes); larger bodies get 413.
    pub max_body_bytes: usize,
    pub fields: FieldLimits,
    /// Per-client token bucket; `None` = no rate limit.
    pub rate_limit: Option<RateLimit>,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            token: None,
            public_metrics: false,
            max_body_bytes: 2 * 1024 * 1024,
            fields: FieldLimits::default(),
            rate_limit: None,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// What every handler can reach: one `Arc`, since axum clones the state for every middleware and
/// handler of every request (cloning each field was a dozen contended reference counts).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Behind the one `Arc`: only what a task outside the state holds on to has an `Arc` of its own
/// (the swarm, the draining flag, the audit-walk permit).
pub struct Shared {
    pub swarm: Arc<Swarm>,
    pub options: ServeOptions,
    pub metrics: metrics::HttpMetrics,
    pub limiter: Option<rate::Limiter>,
    /// Set once a shutdown signal arrived: `/ready` answers 503 so load balancers stop routing here.
    pub draining: Arc<AtomicBool>,
    /// One audit-chain walk at a time: it reads the whole chain.
    pub audit_walk: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(swarm: Arc<Swarm>, options: ServeOptions) -> Result<AppState, prometheus::Error> {
        let metrics = metrics::HttpMetrics::register(swarm.metrics().registry())?;
        for role in swarm.status().roles.iter().filter(|r| r.mode != "inline") {
            swarm.metrics().declare_role(role.role);
        }
        let limiter = options.rate_limit.map(rate::Limiter::new);
        Ok(AppState(Arc::new(Shared {
            swarm,
            options,
            metrics,
            limiter,
            draining: Arc::new(AtomicBool::new(false)),
            audit_walk: Arc::new(tokio::sync::Semaphore::new(1)),
        })))
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

/// The whole API as an axum router (tests can drive it in process with `tower::ServiceExt::oneshot`).
pub fn router(state: AppState) -> Router {
    use handlers::*;
    let api = Router::new()
        .route("/v1/scan", post(scan::handle))
        .route("/v1/scan/output", post(scan_output::handle))
        .route("/v1/tool-call", post(tool_call::handle))
        .route("/v1/feedback", post(feedback::handle))
        .route("/v1/audit/verify", get(audit_verify::handle))
        .layer(DefaultBodyLimit::max(state.options.max_body_bytes))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_token))
        .route_layer(middleware::from_fn_with_state(state.clone(), rate::limit));
    let mut metrics_route = Router::new().route("/metrics", get(metrics::handle));
    if !state.options.public_metrics {
        metrics_route = metrics_route.route_layer(middleware::from_fn_with_state(state.clone(), auth::require_token));
    }
    Router::new()
        .merge(api)
        .merge(metrics_route)
        .route("/health", get(health::handle))
        .route("/ready", get(ready::handle))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), request_id::trace))
        .with_state(state)
}

async fn not_found(axum::Extension(id): axum::Extension<request_id::RequestId>) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no such endpoint: see `aimds serve --help` for the API",
    )
    .with_request_id(&id)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then lets in-flight requests finish (within
/// `shutdown_grace`). Returns once the server has stopped; the caller then shuts the swarm down.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.options.shutdown_grace;
    let draining = state.draining.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let mut server = tokio::spawn(server.into_future());
    tokio::select! {
        res = &mut server => return res.map_err(std::io::Error::other)?,
        () = shutdown => {}
    }
    draining.store(true, Ordering::Relaxed);
    tracing::info!(
        grace_s = grace.as_secs_f64(),
        "shutting down: no new connections, finishing in-flight requests"
    );
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, &mut server).await {
        Ok(res) => res.map_err(std::io::Error::other)?,
        Err(_) => {
            tracing::warn!(
                grace_s = grace.as_secs_f64(),
                "in-flight requests did not finish within the grace period; dropping them"
            );
            server.abort();
            Ok(())
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT"),
        () = term => tracing::info!("SIGTERM"),
    }
}
