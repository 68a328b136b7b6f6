//! `POST /v1/tool-call`: check a tool call an agent proposes before it runs. Body: `{"tool_name": "Bash",
//! "tool_input": {...}, "session_id"?: "...", "meta"?: {...}}`. The detector reads the tool's name and every
//! string in its input; with a session, the temporal policies see the call (e.g. no egress after a secret was
//! read). A `block` verdict means: do not run it.

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
pub struct ToolCallBody {
    pub tool_name: String,
    #[serde(default)]
    pub tool_input: Value,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub meta: Map<String, Value>,
}

pub async fn handle(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    ApiJson(body): ApiJson<ToolCallBody>,
) -> Result<Response, ApiError> {
    let limits = &state.options.fields;
    check(limits.tool_name(&body.tool_name), &id)?;
    check(limits.json("tool_input", &body.tool_input), &id)?;
    check(limits.session_id(body.session_id.as_deref()), &id)?;
    check(limits.meta(&body.meta), &id)?;
    let input = match body.tool_input {
        Value::Null => Value::Object(Map::new()),
        v => v,
    };
    let text = crate::cli::scan::tool_call_text(Some(&body.tool_name), &input);
    let mut meta = body.meta;
    // The call itself wins over anything a client put under the same keys.
    meta.insert("tool_name".into(), Value::String(body.tool_name));
    meta.insert("tool_input".into(), input);
    let request = ScanRequest {
        text,
        source: Source::ToolCall,
        session_id: body.session_id,
        meta,
    };
    run_scan(&state, &id, request).await
}
