//! `GET /health`: liveness. 200 while the process serves HTTP at all; it checks nothing else, so a slow memory
//! never makes Kubernetes restart a pod that is only busy (readiness is `/ready`).

use axum::Json;
use serde_json::{Value, json};

pub async fn handle() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
