//! `POST /v1/scan`: scan one text from any source.
//!
//! Body: `{"text": "...", "source"?: "user" | "tool_output" | "document" | "model_output" | "tool_call",
//! "session_id"?: "...", "meta"?: {...}}` (source defaults to `user`). Answer: the verdict JSON plus
//! `request_id`. Unknown fields are refused (400), so a typo never silently changes the policy.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{check, run_scan};
use crate::http::extract::ApiJson;
use crate::http::request_id::RequestId;
use crate::http::{ApiError, AppState};
use crate::{ScanRequest, Source};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    pub text: String,
    #[serde(default)]
    pub source: Source,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub meta: Map<String, Value>,
}

pub async fn handle(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    ApiJson(body): ApiJson<ScanBody>,
) -> Result<Response, ApiError> {
    let limits = &state.options.fields;
    check(limits.text("text", &body.text), &id)?;
    check(limits.session_id(body.session_id.as_deref()), &id)?;
    check(limits.meta(&body.meta), &id)?;
    let request = ScanRequest {
        text: body.text,
        source: body.source,
        session_id: body.session_id,
        meta: body.meta,
    };
    run_scan(&state, &id, request).await
}
