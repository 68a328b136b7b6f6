//! `GET /v1/audit/verify`: walk the hash-chained audit log and report the first broken link. Answers 200 with
//! `intact: true` (plus `records` and the chain's `head` hash, to anchor elsewhere), or 409 with `intact: false`
//! and `first_break`. The walk reads the whole chain, so one runs at a time (503 while another is running), and
//! it runs off the runtime's worker threads. 501 when the config opens no memory.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use crate::http::request_id::RequestId;
use crate::http::{ApiError, AppState};

pub async fn handle(State(state): State<AppState>, Extension(id): Extension<RequestId>) -> Result<Response, ApiError> {
    let Some(memory) = state.swarm.memory().cloned() else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this swarm config opens no memory, so there is no audit log",
        )
        .with_request_id(&id));
    };
    let Ok(_permit) = state.audit_walk.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "an audit verification is already running; retry when it is done",
        )
        .with_retry_after(1)
        .with_request_id(&id));
    };
    let report = tokio::task::spawn_blocking(move || memory.audit_verify())
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).with_request_id(&id))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the audit log: {e}"),
            )
            .with_request_id(&id)
        })?;
    let status = if report.intact() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let body = json!({
        "intact": report.intact(),
        "records": report.records,
        "head": report.head,
        "first_break": report.first_break,
        "request_id": id.as_str(),
    });
    Ok((status, Json(body)).into_response())
}
