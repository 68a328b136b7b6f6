//! `POST /v1/scan/output`: scan what a model said before it reaches the user or a tool (system-prompt and canary
//! leaks, secrets, PII, exfiltration links). Body: `{"text": "...", "session_id"?: "...", "meta"?: {...}}`; the
//! source is always `model_output`.

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
pub struct OutputBody {
    pub text: String,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub meta: Map<String, Value>,
}

pub async fn handle(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    ApiJson(body): ApiJson<OutputBody>,
) -> Result<Response, ApiError> {
    let limits = &state.options.fields;
    check(limits.text("text", &body.text), &id)?;
    check(limits.session_id(body.session_id.as_deref()), &id)?;
    check(limits.meta(&body.meta), &id)?;
    let request = ScanRequest {
        text: body.text,
        source: Source::ModelOutput,
        session_id: body.session_id,
        meta: body.meta,
    };
    run_scan(&state, &id, request).await
}
