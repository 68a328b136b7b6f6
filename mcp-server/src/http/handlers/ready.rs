//! `GET /ready`: readiness. 200 when the memory answers a read (if the config uses one), the skills' rules are
//! compiled, every agent pool is up, and the server is not draining for shutdown; otherwise 503 with the checks
//! that failed, so a load balancer routes around this replica.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::AppState;

pub async fn handle(State(state): State<AppState>) -> Response {
    let draining = state.is_draining();
    let swarm = state.swarm.clone();
    let checks = tokio::task::spawn_blocking(move || {
        let status = swarm.status();
        let memory = match swarm.memory() {
            Some(m) => m
                .audit_tail(1)
                .map(|_| "ok".to_string())
                .unwrap_or_else(|e| e.to_string()),
            None if crate::needs_memory(swarm.config()) => "no memory open".to_string(),
            None => "not used".to_string(),
        };
        let unhealthy: Vec<String> = status
            .roles
            .iter()
            .filter(|r| !r.healthy)
            .map(|r| r.role.to_string())
            .collect();
        (memory, status.rules, unhealthy)
    })
    .await;
    let Ok((memory, rules, unhealthy)) = checks else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "error": "readiness check failed"})),
        )
            .into_response();
    };
    let ready = !draining && (memory == "ok" || memory == "not used") && rules > 0 && unhealthy.is_empty();
    let body = json!({
        "ready": ready,
        "draining": draining,
        "memory": memory,
        "rules": rules,
        "unhealthy_roles": unhealthy,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
