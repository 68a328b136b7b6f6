//! One file per endpoint. The scanning endpoints share `run_scan`: the swarm's verdict as the CLI prints it
//! (`score`, `us`, …) plus the request id.

pub mod audit_verify;
pub mod feedback;
pub mod health;
pub mod ready;
pub mod scan;
pub mod scan_output;
pub mod tool_call;

use std::time::Instant;

use axum::Json;
use axum::response::{IntoResponse, Response};

use super::request_id::RequestId;
use super::{ApiError, AppState};
use crate::ScanRequest;
use crate::cli::scan::VerdictAnswer;

/// Scans `request` through the swarm and answers the verdict (200), or the error that says why there is none.
pub(crate) async fn run_scan(state: &AppState, id: &RequestId, request: ScanRequest) -> Result<Response, ApiError> {
    let started = Instant::now();
    match state.swarm.scan(request).await {
        Ok(verdict) => {
            let mut answer = VerdictAnswer::new(&verdict, started.elapsed().as_secs_f64() * 1e6);
            answer.request_id = Some(id.as_str());
            Ok(Json(answer).into_response())
        }
        Err(e) => {
            tracing::debug!(error = %e, "scan refused");
            Err(ApiError::from_swarm(&e).with_request_id(id))
        }
    }
}

/// Attaches the request id to an error from a field check.
pub(crate) fn check(res: Result<(), ApiError>, id: &RequestId) -> Result<(), ApiError> {
    res.map_err(|e| e.with_request_id(id))
}
